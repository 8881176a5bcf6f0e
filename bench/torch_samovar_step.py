#!/usr/bin/python3
"""One training step of SAMoVAR in PyTorch (CPU), against attnlab.

Same model and step as attnlab's `var.step_speed` claim (experiments/samovar/trained.cpp,
models/samovar/samovar.cpp), at its default profile:
  C = 2 channels, L = 32 input steps, patch s = 1 (P = 32 patches, T = 64 ARX tokens per
  channel), D = 16, h = 2 heads, 3 pre-norm MLP blocks then 3 aligned linear-attention layers
  (q, v from x~ with per-head RMSNorm, keys = previous layer's output, W_k = I, no residuals),
  LU-parameterised block-diagonal W_o, key shortcut, readout at En tokens, RevIN as the authors
  implement it; dropout 0.1; random channel drop; loss = forecast MSE + auxiliary next-patch MSE;
  AdamW (betas 0.9/0.95, eps 1e-8, weight decay 0.1 on every parameter), lr 1e-3; batch 32;
  one fixed batch of the authors' synthetic VAR data (shape only matters for timing).
attnlab computes in double precision, so the default here is float64 (--dtype float32 to compare
against torch's faster single precision).

Usage: /usr/bin/python3 bench/torch_samovar_step.py [--attnlab build/attnlab] [--threads 1,2]
       [--rounds 3] [--dtype float64|float32]
Alternates torch and attnlab rounds per thread count, prints medians, the ratio
torch_best / attnlab_best (> 1: attnlab is faster), and a final JSON line.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import tempfile
import time

import torch

C, L, S, D, H, LAYERS, BATCH, DROPOUT, LR = 2, 32, 1, 16, 2, 3, 32, 0.1, 1e-3
P = math.ceil(L / S)
T = 2 * P


class RMSNorm(torch.nn.Module):
    def __init__(self, dim, eps=1e-5, heads=1):
        super().__init__()
        self.g = torch.nn.Parameter(torch.ones(dim))
        self.eps, self.heads = eps, heads

    def forward(self, x):
        shape = x.shape
        xh = x.reshape(*shape[:-1], self.heads, shape[-1] // self.heads)
        xh = xh * torch.rsqrt(xh.pow(2).mean(-1, keepdim=True) + self.eps)
        return xh.reshape(shape) * self.g


def linear(i, o, std=0.02):
    lin = torch.nn.Linear(i, o)
    torch.nn.init.normal_(lin.weight, std=std)
    torch.nn.init.zeros_(lin.bias)
    return lin


class Samovar(torch.nn.Module):
    def __init__(self):
        super().__init__()
        d = D // H
        self.G = linear(C, C)
        self.W_ex, self.W_en = linear(S, D), linear(S, D)
        self.n_ex, self.n_en, self.n_pre, self.n_var, self.n_fin = (RMSNorm(D) for _ in range(5))
        self.E_pos = torch.nn.Parameter(0.02 * torch.randn(P, D))
        self.E_ch = torch.nn.Parameter(0.02 * torch.randn(C, T, D))
        self.E_type = torch.nn.Parameter(0.02 * torch.randn(2, D))
        self.E_chtype = torch.nn.Parameter(0.02 * torch.randn(C, 2, D))
        proj = 0.02 / math.sqrt(2 * LAYERS)
        self.mlp = torch.nn.ModuleList(
            torch.nn.ModuleList([RMSNorm(D), linear(D, 4 * D), linear(4 * D, D, proj)])
            for _ in range(LAYERS))
        self.Wq = torch.nn.ModuleList(linear(D, D) for _ in range(LAYERS))
        self.Wv = torch.nn.ModuleList(linear(D, D) for _ in range(LAYERS))
        self.nq = torch.nn.ModuleList(RMSNorm(D, 1e-8, H) for _ in range(LAYERS))
        self.nv = torch.nn.ModuleList(RMSNorm(D, 1e-8, H) for _ in range(LAYERS))
        self.theta = torch.nn.Parameter(math.sqrt(0.02 / math.sqrt(d)) * torch.randn(H, d, d))
        self.out = linear(D, S)
        self.drop = torch.nn.Dropout(DROPOUT)
        tau = torch.arange(T)
        self.register_buffer("pos_idx", tau // 2, persistent=False)
        self.register_buffer("type_idx", tau % 2, persistent=False)
        self.register_buffer("mask", torch.tril(torch.ones(T, T)), persistent=False)

    def lu(self):
        th = self.theta
        lower = torch.tril(th, -1) + torch.eye(th.shape[-1], dtype=th.dtype)
        upper = torch.triu(th, 1) + torch.diag_embed(torch.nn.functional.softplus(
            torch.diagonal(th, dim1=-2, dim2=-1)))
        return lower @ upper  # (H, d, d)

    def forward(self, x):  # x: (B, L, C)
        B = x.shape[0]
        mu = x[:, -S:, :].mean(1, keepdim=True)
        sigma = x.std(1, keepdim=True) + 1e-8
        z = (x - mu) / sigma
        z = torch.nn.functional.pad(z, (0, 0, P * S - L, 0))            # (B, P s, C)
        mix = self.G(z)                                                 # G z + g per step
        zc = z.permute(0, 2, 1).reshape(B, C, P, S)
        mc = mix.permute(0, 2, 1).reshape(B, C, P, S)
        u, e = self.n_ex(self.W_ex(mc)), self.n_en(self.W_en(zc))       # (B, C, P, D)
        tok = torch.stack([u, e], dim=3).reshape(B, C, T, D)
        X = self.drop(tok) + self.E_pos[self.pos_idx] + self.E_ch + self.E_type[self.type_idx] \
            + self.E_chtype[:, self.type_idx]
        X = self.n_pre(X).reshape(B * C, T, D)
        for norm, w1, w2 in self.mlp:
            X = X + self.drop(w2(torch.nn.functional.gelu(w1(norm(X)))))
        xt = self.n_var(X)
        k, mixsum = xt, 0
        for l in range(LAYERS):
            q = self.nq[l](self.Wq[l](xt)).reshape(B * C, T, H, -1).transpose(1, 2)
            v = self.nv[l](self.Wv[l](xt)).reshape(B * C, T, H, -1).transpose(1, 2)
            kh = k.reshape(B * C, T, H, -1).transpose(1, 2)
            o = ((q @ kh.transpose(-1, -2)) * self.mask) @ v            # (BC, H, T, d)
            o = self.drop(o.transpose(1, 2).reshape(B * C, T, D))
            mixsum = mixsum + o
            k = o
        mh = mixsum.reshape(B * C, T, H, -1)
        y = xt + torch.einsum("bthi,hij->bthj", mh, self.lu()).reshape(B * C, T, D)
        pred = self.out(self.n_fin(y[:, 1::2])).reshape(B, C, P, S)     # at En tokens
        forecast = pred[:, :, -1, :].permute(0, 2, 1) * sigma + mu       # (B, S, C)
        return forecast, pred, zc


def time_torch(threads, dtype, reps=7, steps_per_rep=5, warmup=3):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    torch.set_default_dtype(dtype)
    model = Samovar()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.95), eps=1e-8,
                            weight_decay=0.1)
    gen = torch.Generator().manual_seed(0)
    window = 0.1 * torch.randn(BATCH, L, C, generator=gen)
    target = 0.1 * torch.randn(BATCH, S, C, generator=gen)
    model.train()

    def step():
        r = torch.rand(1, generator=gen)
        keep = (torch.rand(1, 1, C, generator=gen) < r).to(dtype)  # random channel drop
        forecast, pred, zc = model(window * keep)
        loss = ((forecast - target * keep) ** 2).mean() + \
            ((pred[:, :, :-1, :] - zc[:, :, 1:, :]) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
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
    torch.set_default_dtype(torch.float32)
    return statistics.median(times)


def time_attnlab(exe, threads):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([exe, "run", "var.step_speed", "--profile", "default", "--threads",
                        str(threads), "--out", out], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "default", "var.step_speed", "result.json")) as f:
            return json.load(f)["timings"]["seconds_per_step"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attnlab", default=None, help="path to the attnlab executable")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3, help="alternating torch/attnlab rounds")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = ap.parse_args()
    dtype = {"float64": torch.float64, "float32": torch.float32}[args.dtype]
    threads = [int(t) for t in args.threads.split(",")]
    torch_t = {t: [] for t in threads}
    ours_t = {t: [] for t in threads}
    for _ in range(args.rounds):
        for t in threads:
            torch_t[t].append(time_torch(t, dtype))
            if args.attnlab:
                ours_t[t].append(time_attnlab(args.attnlab, t))
    n_params = sum(p.numel() for p in Samovar().parameters())
    result = {"torch_version": torch.__version__, "dtype": args.dtype, "parameters": n_params,
              "torch_seconds_per_step": {}, "attnlab_seconds_per_step": {}}
    for t in threads:
        result["torch_seconds_per_step"][t] = statistics.median(torch_t[t])
        print(f"torch   threads={t}: {statistics.median(torch_t[t]):.5f} s/step  "
              f"(rounds {torch_t[t]})")
        if args.attnlab:
            result["attnlab_seconds_per_step"][t] = statistics.median(ours_t[t])
            print(f"attnlab threads={t}: {statistics.median(ours_t[t]):.5f} s/step  "
                  f"(rounds {ours_t[t]})")
    if args.attnlab:
        best_torch = min(result["torch_seconds_per_step"].values())
        best_ours = min(result["attnlab_seconds_per_step"].values())
        result["ratio_torch_best_over_attnlab_best"] = best_torch / best_ours
        print(f"ratio torch_best / attnlab_best = {best_torch / best_ours:.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
