#!/usr/bin/python3
"""One training step of SAMoVAR (or LinTrans) in PyTorch (CPU), against attnlab.

Same model and step as attnlab's `var.step_speed` claim (experiments/var/trained_kinds.cpp,
models/samovar/samovar.cpp, models/samovar/lintrans.cpp):
  per channel, ARX tokens [u_0, e_0, u_1, e_1, ...] (T = 2P tokens, P = ceil(L / s) patches of
  length s = horizon); RevIN as the authors implement it; dropout(tokens) + embeddings; pre-norm;
  --model samovar: 3 pre-norm MLP blocks then 3 aligned linear-attention layers (q, v from x~ with
    per-head RMSNorm, keys = previous layer's output, W_k = I, no residuals), LU-parameterised
    block-diagonal W_o, key shortcut;
  --model lintrans: the standard pre-norm stack of models/samovar/lintrans.h (per block
    x += dropout(LinAttn(q, k = W_k dropout(xn), v) W_c + b_c), x += dropout(MLP(RMSNorm(x))));
  readout at the En tokens; dropout 0.1; random channel drop; loss = forecast MSE + auxiliary
  next-patch MSE; AdamW (betas 0.9/0.95, eps 1e-8, weight decay 0.1 on every parameter), lr 1e-3;
  one fixed batch of random data (shape only matters for timing).

Configurations (--config):
  small      C = 2, L = 32, s = 1 (P = 32, T = 64), D = 16, 2 heads, 3 + 3 layers, batch 32
             (the default profile of var.step_speed; the default of this script)
  synthetic  the authors' synthetic scale (spec §3.2): C = 2, L = 64, s = 1 (T = 128), D = 32,
             2 heads, 3 + 3 layers, batch 256
  ett        the authors' ETT scale (spec §1.6, §2): C = 7, L = 1024, s = 96 (P = 11, T = 22),
             D = 64, 8 heads, 3 + 3 layers, batch 32
attnlab computes in double precision by default, so the default here is float64 (--dtype float32
to compare against torch's faster single precision; attnlab then gets --set precision=float32).

Parameter counts: the torch model's count is checked against attnlab's by formula (the layout of
samovar.cpp init_params / lintrans.cpp init_lin_block; the script stops if they differ) and,
with --attnlab, against attnlab's metrics.parameters. The authors' count (their code has a few
parameters that are never used, see authors_params below) is printed beside it.

FLOPs: forward matmul FLOPs of one step (2 m n k per product; element-wise work, norms, GELU and
AdamW not counted) x 3 for forward + backward (see forward_flops). Each side's GFLOP/s uses the
attention form it computes: torch the quadratic form with full T x T scores, attnlab's batched path
the state form (its models/samovar/batched.h train_step_flops convention); the two totals differ
only in the attention term. Compare implementations by seconds per step (the ratio), not GFLOP/s.

Usage: /usr/bin/python3 bench/torch_samovar_step.py [--attnlab build/attnlab] [--threads 1,2]
       [--rounds 3] [--dtype float64|float32] [--config small|synthetic|ett]
       [--model samovar|lintrans] [--warmup 3] [--reps 7] [--steps-per-rep 5]
Alternates torch and attnlab rounds per thread count, prints medians per thread count, the best
thread count of each, the ratio torch_best / attnlab_best (> 1: attnlab is faster), and a final
JSON line. Each torch measurement runs in a fresh process with OMP/OPENBLAS/MKL/BLIS_NUM_THREADS
set to its thread count. Debian's torch (BLAS_INFO=generic) calls libblas.so.3, the reference BLAS
unless OpenBLAS is installed (several times slower at the ETT config): the BLAS in use is printed.
With the defaults (small, samovar, float64, 3/7/5) attnlab runs exactly
`attnlab run var.step_speed --profile default --threads T`; any other choice passes the whole
configuration with --set (channels, patch, input_len, width, heads, layers, batch, precision,
model, and warmup/reps/steps_per_rep when changed).
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import torch

DROPOUT, LR = 0.1, 1e-3


@dataclass(frozen=True)
class Cfg:
    C: int       # channels
    L: int       # input length
    S: int       # patch length s (= horizon)
    D: int       # width
    H: int       # heads
    LAYERS: int  # MLP blocks = attention layers (SAMoVAR); blocks (LinTrans)
    BATCH: int

    @property
    def P(self):
        return math.ceil(self.L / self.S)

    @property
    def T(self):
        return 2 * self.P

    @property
    def d(self):
        return self.D // self.H


CONFIGS = {
    "small": Cfg(C=2, L=32, S=1, D=16, H=2, LAYERS=3, BATCH=32),
    "synthetic": Cfg(C=2, L=64, S=1, D=32, H=2, LAYERS=3, BATCH=256),
    "ett": Cfg(C=7, L=1024, S=96, D=64, H=8, LAYERS=3, BATCH=32),
}
DEFAULT_SCHEDULE = {"warmup": 3, "reps": 7, "steps_per_rep": 5}  # var.step_speed default profile


# ---- parameter counts by formula ----------------------------------------------------------------

def attnlab_params(c, model):
    """attnlab's parameter count (samovar.cpp init_params, lintrans.cpp init_lin_block)."""
    C, s, D, P, T, d, M = c.C, c.S, c.D, c.P, c.T, c.d, c.LAYERS
    n = C * C + C                      # G, g
    n += 2 * (s * D + D + D)           # W_ex, b_ex, gain_ex; W_en, b_en, gain_en
    n += D * s + s + D                 # W_out, b_out, gain_final
    n += C * T * D + D                 # E_ch, gain_pre
    mlp = D + D * 4 * D + 4 * D + 4 * D * D + D  # gain, W1, b1, W2, b2
    if model == "lintrans":
        n += T * D                     # E_pos per token
        attn = D + 4 * (D * D + D)     # gain_attn, W_q/k/v/c with biases
        n += M * (attn + mlp)
    else:
        n += P * D + 2 * D + 2 * C * D  # E_pos per patch, E_type, E_chtype
        n += M * mlp + D                # MLP blocks, gain_var
        n += M * 2 * (D * D + D + D)    # W_q, b_q, g_q, W_v, b_v, g_v
        n += D * d                      # theta (h, d, d)
    return n


def authors_params(c, model):
    """The authors' count (models/AutoregressiveAlignment.py, models/Autoregressive.py): attnlab's
    plus parameters their forward never reads. SAMoVAR: pos_emb has 2P rows of which only P are
    indexed, and 3 RMSNorms `pns` are unused in aligned mode. LinTrans: `layer_attn`
    Linear(D, 2 layers) is never called."""
    extra = (c.P * c.D + c.LAYERS * c.D) if model == "samovar" else (c.D * 2 * c.LAYERS
                                                                     + 2 * c.LAYERS)
    return attnlab_params(c, model) + extra


def forward_flops(c, model, attention="quadratic"):
    """Forward matmul FLOPs of one step (2 m n k per product): tokenisers, MLPs, projections,
    attention, output matrix, readout; not the channel mixing G z (2 B P s C^2), the LU product
    (2 h d^3) or any element-wise work (norms, GELU, masks, AdamW). attention = "quadratic":
    ((Q K^T) .* M) V with the full T x T scores, as this script (and attnlab's per-sequence path)
    computes it, 4 T^2 D per layer and sequence; "state": S_t = S_{t-1} + k_t^T v_t, o_t = q_t S_t,
    4 T D d, the convention of attnlab's models/samovar/batched.h train_step_flops."""
    C, s, D, P, T, d, M = c.C, c.S, c.D, c.P, c.T, c.d, c.LAYERS
    f = 2 * (2 * P * s * D) + 2 * P * D * s                      # tokenisers W_ex, W_en; readout
    attn = 4 * T * T * D if attention == "quadratic" else 4 * T * D * d
    if model == "lintrans":
        f += M * (8 * T * D * D + 16 * T * D * D + attn)         # W_q, W_k, W_v, W_c; MLP; attn
    else:
        f += M * 16 * T * D * D + M * (4 * T * D * D + attn)     # MLPs; W_q, W_v; attention
        f += 2 * T * D * d                                       # mixture x W_o
    return f * C * c.BATCH


# ---- the models -------------------------------------------------------------------------------

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


def causal_linear_attention(q, k, v, heads, mask):
    """o_t = sum_{i <= t} (q_t . k_i) v_i per head; q, k, v: (N, T, D)."""
    N, T, D = q.shape
    qh, kh, vh = (x.reshape(N, T, heads, -1).transpose(1, 2) for x in (q, k, v))
    o = ((qh @ kh.transpose(-1, -2)) * mask) @ vh                  # (N, H, T, d)
    return o.transpose(1, 2).reshape(N, T, D)


class ArxModel(torch.nn.Module):
    """Tokeniser, embeddings, pre-norm, readout and RevIN shared by both architectures."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        D = c.D
        self.G = linear(c.C, c.C)
        self.W_ex, self.W_en = linear(c.S, D), linear(c.S, D)
        self.n_ex, self.n_en, self.n_pre, self.n_fin = (RMSNorm(D) for _ in range(4))
        self.out = linear(D, c.S)
        self.drop = torch.nn.Dropout(DROPOUT)
        self.register_buffer("mask", torch.tril(torch.ones(c.T, c.T)), persistent=False)

    def embeddings(self):
        raise NotImplementedError

    def stack(self, X):  # (B C, T, D) -> (B C, T, D)
        raise NotImplementedError

    def forward(self, x):  # x: (B, L, C)
        c = self.c
        B, C, P, S, T, D = x.shape[0], c.C, c.P, c.S, c.T, c.D
        mu = x[:, -S:, :].mean(1, keepdim=True)
        sigma = x.std(1, keepdim=True) + 1e-8
        z = (x - mu) / sigma
        z = torch.nn.functional.pad(z, (0, 0, P * S - c.L, 0))         # (B, P s, C)
        mix = self.G(z)                                                 # G z + g per step
        zc = z.permute(0, 2, 1).reshape(B, C, P, S)
        mc = mix.permute(0, 2, 1).reshape(B, C, P, S)
        u, e = self.n_ex(self.W_ex(mc)), self.n_en(self.W_en(zc))       # (B, C, P, D)
        tok = torch.stack([u, e], dim=3).reshape(B, C, T, D)
        X = self.n_pre(self.drop(tok) + self.embeddings()).reshape(B * C, T, D)
        y = self.stack(X)
        pred = self.out(self.n_fin(y[:, 1::2])).reshape(B, C, P, S)     # at En tokens
        forecast = pred[:, :, -1, :].permute(0, 2, 1) * sigma + mu       # (B, S, C)
        return forecast, pred, zc


class Samovar(ArxModel):
    def __init__(self, c):
        super().__init__(c)
        D, M = c.D, c.LAYERS
        self.n_var = RMSNorm(D)
        self.E_pos = torch.nn.Parameter(0.02 * torch.randn(c.P, D))
        self.E_ch = torch.nn.Parameter(0.02 * torch.randn(c.C, c.T, D))
        self.E_type = torch.nn.Parameter(0.02 * torch.randn(2, D))
        self.E_chtype = torch.nn.Parameter(0.02 * torch.randn(c.C, 2, D))
        proj = 0.02 / math.sqrt(2 * M)
        self.mlp = torch.nn.ModuleList(
            torch.nn.ModuleList([RMSNorm(D), linear(D, 4 * D), linear(4 * D, D, proj)])
            for _ in range(M))
        self.Wq = torch.nn.ModuleList(linear(D, D) for _ in range(M))
        self.Wv = torch.nn.ModuleList(linear(D, D) for _ in range(M))
        self.nq = torch.nn.ModuleList(RMSNorm(D, 1e-8, c.H) for _ in range(M))
        self.nv = torch.nn.ModuleList(RMSNorm(D, 1e-8, c.H) for _ in range(M))
        self.theta = torch.nn.Parameter(math.sqrt(0.02 / math.sqrt(c.d)) * torch.randn(c.H, c.d,
                                                                                        c.d))
        tau = torch.arange(c.T)
        self.register_buffer("pos_idx", tau // 2, persistent=False)
        self.register_buffer("type_idx", tau % 2, persistent=False)

    def embeddings(self):  # (C, T, D)
        return self.E_pos[self.pos_idx] + self.E_ch + self.E_type[self.type_idx] \
            + self.E_chtype[:, self.type_idx]

    def lu(self):
        th = self.theta
        lower = torch.tril(th, -1) + torch.eye(th.shape[-1], dtype=th.dtype)
        upper = torch.triu(th, 1) + torch.diag_embed(torch.nn.functional.softplus(
            torch.diagonal(th, dim1=-2, dim2=-1)))
        return lower @ upper  # (H, d, d)

    def stack(self, X):
        N, T, D = X.shape
        for norm, w1, w2 in self.mlp:
            X = X + self.drop(w2(torch.nn.functional.gelu(w1(norm(X)))))
        xt = self.n_var(X)
        k, mixsum = xt, 0
        for l in range(self.c.LAYERS):
            q = self.nq[l](self.Wq[l](xt))
            v = self.nv[l](self.Wv[l](xt))
            o = self.drop(causal_linear_attention(q, k, v, self.c.H, self.mask))
            mixsum = mixsum + o
            k = o
        mh = mixsum.reshape(N, T, self.c.H, -1)
        return xt + torch.einsum("bthi,hij->bthj", mh, self.lu()).reshape(N, T, D)


class LinBlock(torch.nn.Module):
    """models/samovar/lintrans.cpp lin_block_forward."""

    def __init__(self, D, layers, heads):
        super().__init__()
        proj = 0.02 / math.sqrt(2 * layers)
        self.heads = heads
        self.drop = torch.nn.Dropout(DROPOUT)
        self.n_attn = RMSNorm(D)
        self.Wq, self.Wk, self.Wv = linear(D, D), linear(D, D), linear(D, D)
        self.Wc = linear(D, D, proj)
        self.n_mlp = RMSNorm(D)
        self.W1, self.W2 = linear(D, 4 * D), linear(4 * D, D, proj)

    def forward(self, X, mask):
        xn = self.n_attn(X)
        q, k, v = self.Wq(xn), self.Wk(self.drop(xn)), self.Wv(xn)     # k from dropout(xn)
        X = X + self.drop(self.Wc(causal_linear_attention(q, k, v, self.heads, mask)))
        return X + self.drop(self.W2(torch.nn.functional.gelu(self.W1(self.n_mlp(X)))))


class LinTrans(ArxModel):
    def __init__(self, c):
        super().__init__(c)
        self.E_pos = torch.nn.Parameter(0.02 * torch.randn(c.T, c.D))       # per token position
        self.E_ch = torch.nn.Parameter(0.02 * torch.randn(c.C, c.T, c.D))
        self.blocks = torch.nn.ModuleList(LinBlock(c.D, c.LAYERS, c.H) for _ in range(c.LAYERS))

    def embeddings(self):
        return self.E_pos + self.E_ch

    def stack(self, X):
        for b in self.blocks:
            X = b(X, self.mask)
        return X


MODELS = {"samovar": Samovar, "lintrans": LinTrans}


# ---- timing -----------------------------------------------------------------------------------

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def blas_library():
    """The BLAS shared object this process has mapped (Debian's torch reports BLAS_INFO=generic
    and calls libblas.so.3, i.e. whatever the libblas.so.3 alternative or LD_LIBRARY_PATH gives:
    the reference BLAS of libblas3, or OpenBLAS when libopenblas0 is installed)."""
    torch.ones(2, 2) @ torch.ones(2, 2)
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f
                    if "/" in line and "blas" in os.path.basename(line.split()[-1]).lower()}
        return ", ".join(sorted(os.path.realpath(x) for x in libs)) or "none mapped"
    except OSError:
        return "unknown"


def time_torch_here(c, model_name, threads, dtype, sched):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    torch.set_default_dtype(dtype)
    try:
        model = MODELS[model_name](c)
        opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.95), eps=1e-8,
                                weight_decay=0.1)
        gen = torch.Generator().manual_seed(0)
        window = 0.1 * torch.randn(c.BATCH, c.L, c.C, generator=gen)
        target = 0.1 * torch.randn(c.BATCH, c.S, c.C, generator=gen)
        model.train()

        def step():
            r = torch.rand(1, generator=gen)
            keep = (torch.rand(1, 1, c.C, generator=gen) < r).to(dtype)  # random channel drop
            forecast, pred, zc = model(window * keep)
            loss = ((forecast - target * keep) ** 2).mean() + \
                ((pred[:, :, :-1, :] - zc[:, :, 1:, :]) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return float(loss)

        for _ in range(sched["warmup"]):
            step()
        times = []
        for _ in range(sched["reps"]):
            t0 = time.perf_counter()
            for _ in range(sched["steps_per_rep"]):
                step()
            times.append((time.perf_counter() - t0) / sched["steps_per_rep"])
    finally:
        torch.set_default_dtype(torch.float32)
    return statistics.median(times)


def time_torch(args, threads):
    """One torch measurement in a fresh process whose OpenMP and BLAS thread counts are all
    `threads` (torch.set_num_threads alone does not reach a generic libblas such as OpenBLAS,
    which reads its thread count from the environment when it loads)."""
    env = dict(os.environ, **{k: str(threads) for k in THREAD_ENV})
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--config", args.config,
           "--model", args.model, "--dtype", args.dtype, "--threads", str(threads),
           "--warmup", str(args.warmup), "--reps", str(args.reps),
           "--steps-per-rep", str(args.steps_per_rep)]
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def attnlab_sets(config, c, model, dtype_name, sched):
    """--set arguments for attnlab; none at the script's defaults (the claim's default profile)."""
    if config == "small" and model == "samovar" and dtype_name == "float64" \
            and sched == DEFAULT_SCHEDULE:
        return []
    kv = {"channels": c.C, "patch": c.S, "input_len": c.L, "width": c.D, "heads": c.H,
          "layers": c.LAYERS, "batch": c.BATCH, "precision": dtype_name, "model": model}
    kv.update({k: v for k, v in sched.items() if v != DEFAULT_SCHEDULE[k]})
    args = []
    for k, v in kv.items():
        args += ["--set", f"{k}={v}"]
    return args


def time_attnlab(exe, threads, sets):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([exe, "run", "var.step_speed", "--profile", "default", "--threads",
                        str(threads), "--out", out] + sets, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "default", "var.step_speed", "result.json")) as f:
            res = json.load(f)
    return res["timings"]["seconds_per_step"], res.get("metrics", {}).get("parameters")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--attnlab", default=None, help="path to the attnlab executable")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--rounds", type=int, default=3, help="alternating torch/attnlab rounds")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--config", default="small", choices=sorted(CONFIGS))
    ap.add_argument("--model", default="samovar", choices=sorted(MODELS))
    ap.add_argument("--warmup", type=int, default=DEFAULT_SCHEDULE["warmup"])
    ap.add_argument("--reps", type=int, default=DEFAULT_SCHEDULE["reps"],
                    help="timed repetitions per round (median taken)")
    ap.add_argument("--steps-per-rep", type=int, default=DEFAULT_SCHEDULE["steps_per_rep"])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rounds < 1 or args.reps < 1 or args.steps_per_rep < 1 or args.warmup < 0:
        ap.error("--rounds, --reps and --steps-per-rep must be >= 1, --warmup >= 0")
    c = CONFIGS[args.config]
    dtype = {"float64": torch.float64, "float32": torch.float32}[args.dtype]
    threads = [int(t) for t in args.threads.split(",")]
    sched = {"warmup": args.warmup, "reps": args.reps, "steps_per_rep": args.steps_per_rep}
    if args.worker:  # one measurement, in the process time_torch started
        secs = time_torch_here(c, args.model, threads[0], dtype, sched)
        print(json.dumps({"seconds": secs, "blas": blas_library()}))
        return
    sets = attnlab_sets(args.config, c, args.model, args.dtype, sched)

    n_params = sum(p.numel() for p in MODELS[args.model](c).parameters())
    n_formula, n_authors = attnlab_params(c, args.model), authors_params(c, args.model)
    print(f"config {args.config} ({c}, P={c.P}, T={c.T}, d={c.d}), model {args.model}, "
          f"{args.dtype}, torch {torch.__version__}")
    print(f"parameters: torch {n_params:,}, attnlab by formula {n_formula:,} "
          f"({'equal' if n_params == n_formula else 'DIFFERENT'}), authors' code {n_authors:,}")
    if n_params != n_formula:
        sys.exit("torch model and attnlab's formula disagree on the parameter count")
    flops = 3 * forward_flops(c, args.model)                 # what torch computes
    flops_state = 3 * forward_flops(c, args.model, "state")  # attnlab's train_step_flops
    print(f"FLOPs per step = 3 x forward matmul FLOPs: {flops / 1e9:.4f} GFLOP with quadratic "
          f"attention (torch), {flops_state / 1e9:.4f} GFLOP with state-form attention "
          f"(attnlab's convention)")

    torch_t = {t: [] for t in threads}
    ours_t = {t: [] for t in threads}
    ours_params, blas = None, None
    for _ in range(args.rounds):
        for t in threads:
            w = time_torch(args, t)
            torch_t[t].append(w["seconds"])
            blas = w["blas"]
            if args.attnlab:
                secs, ours_params = time_attnlab(args.attnlab, t, sets)
                ours_t[t].append(secs)
    result = {"torch_version": torch.__version__, "dtype": args.dtype, "config": args.config,
              "model": args.model, "parameters": n_params, "parameters_attnlab_formula": n_formula,
              "parameters_authors": n_authors, "flops_per_step": flops,
              "flops_per_step_state_form": flops_state, "torch_blas": blas,
              "torch_seconds_per_step": {}, "attnlab_seconds_per_step": {}}
    for t in threads:
        med = statistics.median(torch_t[t])
        result["torch_seconds_per_step"][t] = med
        print(f"torch   threads={t}: {med:.5f} s/step  {flops / med / 1e9:7.2f} GFLOP/s  "
              f"(rounds {['%.5f' % x for x in torch_t[t]]})")
        if args.attnlab:
            med = statistics.median(ours_t[t])
            result["attnlab_seconds_per_step"][t] = med
            print(f"attnlab threads={t}: {med:.5f} s/step  {flops_state / med / 1e9:7.2f} GFLOP/s  "
                  f"(rounds {['%.5f' % x for x in ours_t[t]]})")
    print(f"torch BLAS: {blas}")
    best_t = min(result["torch_seconds_per_step"], key=result["torch_seconds_per_step"].get)
    best_torch = result["torch_seconds_per_step"][best_t]
    result["torch_best_threads"] = best_t
    result["torch_gflops_best"] = flops / best_torch / 1e9
    print(f"torch best: threads={best_t}, {best_torch:.5f} s/step, "
          f"{flops / best_torch / 1e9:.2f} GFLOP/s")
    if args.attnlab:
        best_o = min(result["attnlab_seconds_per_step"],
                     key=result["attnlab_seconds_per_step"].get)
        best_ours = result["attnlab_seconds_per_step"][best_o]
        result["attnlab_best_threads"] = best_o
        result["attnlab_gflops_best"] = flops_state / best_ours / 1e9
        result["parameters_attnlab"] = ours_params
        print(f"attnlab best: threads={best_o}, {best_ours:.5f} s/step, "
              f"{flops_state / best_ours / 1e9:.2f} GFLOP/s (state-form FLOPs)")
        ok = ours_params is not None and int(ours_params) == n_formula
        print(f"parameters: attnlab reports {ours_params}, formula {n_formula:,}: "
              f"{'equal' if ok else 'DIFFERENT'}")
        result["ratio_torch_best_over_attnlab_best"] = best_torch / best_ours
        print(f"ratio torch_best / attnlab_best = {best_torch / best_ours:.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
