#!/usr/bin/python3
"""torch.bmm peer for `attnlab bench`: one JSON line per (shape, dtype, threads) on stdout.

C_b = A_b @ B_b for b in [0, batch), A: (batch, m, k), B: (batch, k, n), out= a preallocated C.
Repetitions repeat the batch until at least --min-seconds; the median over --reps repetitions of
wall-clock GFLOP/s is reported (same protocol as bench/bgemm_bench.cpp). Exits 3 with one line
on stderr when torch is not importable.
"""
import argparse
import json
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--shapes", required=True, help="comma-separated MxNxK")
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--dtypes", default="float,double")
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--min-seconds", type=float, default=0.02)
    return p.parse_args()


def time_one(torch, a, b, c, iters):
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(iters):
        torch.bmm(a, b, out=c)
    return time.perf_counter() - w0, time.process_time() - c0


def bench(torch, shape, batch, dtype_name, threads, reps, min_seconds):
    m, n, k = (int(v) for v in shape.split("x"))
    dtype = {"float": torch.float32, "double": torch.float64}[dtype_name]
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(20261123)
    a = torch.randn(batch, m, k, dtype=dtype, generator=gen)
    b = torch.randn(batch, k, n, dtype=dtype, generator=gen)
    c = torch.empty(batch, m, n, dtype=dtype)
    flops = 2.0 * m * n * k * batch
    time_one(torch, a, b, c, 1)
    dt, _ = time_one(torch, a, b, c, 1)
    iters = max(1, int(min_seconds / max(dt, 1e-7) + 0.5))
    wall, cpu = [], []
    for _ in range(reps):
        w, cp = time_one(torch, a, b, c, iters)
        wall.append(flops * iters / w * 1e-9)
        cpu.append(flops * iters / max(cp, 1e-9) * 1e-9)
    return {"shape": shape, "batch": batch, "dtype": dtype_name, "threads": threads,
            "gflops": statistics.median(wall), "gflops_cpu": statistics.median(cpu),
            "samples": wall, "torch": torch.__version__}


def main():
    args = parse_args()
    try:
        import torch
    except ImportError as e:
        print(f"torch not available: {e}", file=sys.stderr)
        return 3
    for shape in args.shapes.split(","):
        for dtype in args.dtypes.split(","):
            for threads in (int(t) for t in args.threads.split(",")):
                row = bench(torch, shape, args.batch, dtype, threads, args.reps, args.min_seconds)
                print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
