#!/usr/bin/python3
"""One training step of the FULL linear transformer in PyTorch (CPU), against attnlab.

Same model and step as attnlab's `icl.step_speed` claim (experiments/icl/speed.cpp):
  d = 10, n = 20, L = 4 layers, one head, P and Q (11 x 11) per layer, residual, keys and values
  from the n context tokens only, every token updated, no normalisation, y_hat = -y of the query;
  loss 1/2 mean (y_hat - y_t)^2; global-norm clip 10; Adam lr 1e-4; batch 2048; data generated
  every step (w ~ N(0, I), x ~ N(0, I), sigma ~ U(0, 5), y = <w, x> + sigma xi).

Usage: /usr/bin/python3 bench/torch_icl_step.py [--attnlab build/attnlab] [--threads 1,2]
Prints seconds per step (median of reps) for every thread count, and when --attnlab is given
runs `attnlab run icl.step_speed --profile default --threads T` for the same thread counts and
prints the ratio torch_best / attnlab_best.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import torch

D_FEAT, N_CTX, LAYERS, BATCH, SIGMA_MAX = 10, 20, 4, 2048, 5.0
# Nominal flops of one step: forward and backward of every per-sequence product (C = Z_ctx
# Z_ctx^T, P C Q, G Z and their gradients) for all L layers, ~174 kFLOP per sequence; the issue
# quotes about 370 MFLOP per step. Used only to print effective GFLOP/s.
STEP_MFLOP = 370.0


class Full(torch.nn.Module):
    def __init__(self, layers, dim):
        super().__init__()
        self.P = torch.nn.Parameter(0.02 * torch.randn(layers, dim, dim))
        self.Q = torch.nn.Parameter(0.02 * torch.randn(layers, dim, dim))

    def forward(self, Z):  # Z: (B, N, D) rows are tokens
        for l in range(self.P.shape[0]):
            ctx = Z[:, :N_CTX, :]                           # keys/values: context only
            C = ctx.transpose(1, 2) @ ctx                   # (B, D, D)
            G = self.P[l] @ C @ self.Q[l]                   # (B, D, D)
            Z = Z + Z @ G.transpose(1, 2)                   # every token updated
        return -Z[:, -1, -1]


def make_batch(gen):
    w = torch.randn(BATCH, D_FEAT, generator=gen)
    x = torch.randn(BATCH, N_CTX + 1, D_FEAT, generator=gen)
    sigma = SIGMA_MAX * torch.rand(BATCH, 1, generator=gen)
    y = torch.einsum("bnd,bd->bn", x, w)
    target = y[:, -1].clone()
    y = y + sigma * torch.randn(BATCH, N_CTX + 1, generator=gen)
    y[:, -1] = 0.0
    return torch.cat([x, y.unsqueeze(-1)], dim=-1), target


def time_torch(threads, reps=7, steps_per_rep=5, warmup=3):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = Full(LAYERS, D_FEAT + 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        Z, target = make_batch(gen)
        loss = 0.5 * ((model(Z) - target) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        return float(loss)

    for _ in range(warmup):
        step()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(steps_per_rep):
            step()
        times.append((time.perf_counter() - t0) / steps_per_rep)
    return statistics.median(times)


def time_attnlab(exe, threads):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([exe, "run", "icl.step_speed", "--profile", "default", "--threads",
                        str(threads), "--out", out], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "default", "icl.step_speed", "result.json")) as f:
            return json.load(f)["timings"]["seconds_per_step"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attnlab", default=None, help="path to the attnlab executable")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3, help="alternating torch/attnlab rounds")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    torch_t = {t: [] for t in threads}
    ours_t = {t: [] for t in threads}
    for _ in range(args.rounds):
        for t in threads:
            torch_t[t].append(time_torch(t))
            if args.attnlab:
                ours_t[t].append(time_attnlab(args.attnlab, t))
    result = {"torch_version": torch.__version__, "torch_seconds_per_step": {}, "attnlab_seconds_per_step": {}}
    for t in threads:
        result["torch_seconds_per_step"][t] = statistics.median(torch_t[t])
        tt = statistics.median(torch_t[t])
        print(f"torch   threads={t}: {tt:.5f} s/step, {STEP_MFLOP / 1e3 / tt:.1f} GFLOP/s"
              f"  (rounds {torch_t[t]})")
        if args.attnlab:
            ot = statistics.median(ours_t[t])
            result["attnlab_seconds_per_step"][t] = ot
            print(f"attnlab threads={t}: {ot:.5f} s/step, {STEP_MFLOP / 1e3 / ot:.1f} GFLOP/s"
                  f"  (rounds {ours_t[t]})")
    if args.attnlab:
        best_torch = min(result["torch_seconds_per_step"].values())
        best_ours = min(result["attnlab_seconds_per_step"].values())
        result["ratio_torch_best_over_attnlab_best"] = best_torch / best_ours
        print(f"ratio torch_best / attnlab_best = {best_torch / best_ours:.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
