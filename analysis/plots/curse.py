"""Figures for the curse.* claims (Ke et al., Curse of Attention). Reads result dicts only."""
from collections import defaultdict

import numpy as np

from common import save, subplots


def _runs(result):
    return result.get("data", {}).get("runs", [])


def _main_n(runs):
    counts = defaultdict(int)
    for r in runs:
        counts[r["n"]] += 1
    return max(counts, key=counts.get) if counts else None


def _median_by_m(runs, variant, n, fn):
    by_m = defaultdict(list)
    for r in runs:
        if r["variant"] == variant and r["n"] == n:
            by_m[r["m"]].append(fn(r))
    ms = sorted(by_m)
    return ms, [float(np.median(by_m[m])) for m in ms]


def _variants(runs):
    return sorted({r["variant"] for r in runs})


def plot_e3(result, base):
    runs = _runs(result)
    if not runs:
        return []
    n = _main_n(runs)
    vs = _variants(runs)
    fig, axes = subplots(1, len(vs), figsize=(5.5 * len(vs), 4), squeeze=False)
    for ax, v in zip(axes[0], vs):
        first = lambda r: r["checkpoints"][0]  # noqa: E731  every width reaches the first checkpoint
        for label, fn, style in [
            ("attention (trained)", lambda r: first(r)["ood_attn"], "o-"),
            ("NTK predictor, same t", lambda r: first(r)["ood_ntk"], "x--"),
            ("NTK t=inf (ridge 1e-10 tr/n)", lambda r: r["ood_ntk_inf"], "^:"),
            ("residual linear (LS)", lambda r: r["ood_lin"], "s-"),
            ("zero predictor", lambda r: r["ood_zero"], "k-"),
        ]:
            ms, ys = _median_by_m(runs, v, n, fn)
            if any(y > 0 for y in ys):
                ax.plot(ms, ys, style, label=label)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("width m")
        ax.set_ylabel("OOD MSE (median over seeds)")
        ax.set_title(f"variant {v}, n={n}, T={runs[0]['checkpoints'][0]['t']}")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    return save(fig, base)


def plot_e4(result, base):
    runs = _runs(result)
    if not runs:
        return []
    n = _main_n(runs)
    vs = _variants(runs)
    metrics = result.get("metrics", {})
    files = []
    fig, axes = subplots(1, 2, figsize=(11, 4))
    for v in vs:
        for ax, key, name in [(axes[0], "R", "R = max|w(T)-w(0)|"),
                              (axes[1], "kernel_change", "|H(T)-H(0)|_F/|H(0)|_F")]:
            ms, ys = _median_by_m(runs, v, n, lambda r: r["checkpoints"][0][key])
            slope = metrics.get(f"slope_{key}_{v}")  # fitted by the experiment, not here
            fit = f": fitted slope {slope:.2f} ({'m >= 256' if key == 'R' else 'all m'})" \
                if slope is not None else ""
            ax.loglog(ms, ys, "o-", label=f"{v}{fit}")
            ax.set_title(name + f" at T={runs[0]['checkpoints'][0]['t']}", fontsize=10)
            ax.set_xlabel("width m")
            ax.set_ylabel("median over seeds")
    ref = np.array(sorted({r["m"] for r in runs}), dtype=float)
    axes[0].loglog(ref, ref ** -0.5 * (axes[0].get_lines()[0].get_ydata()[0] * ref[0] ** 0.5),
                   "k:", label="slope m^-1/2 (guide)")
    for ax in axes:
        ax.legend(fontsize=8)
    files += save(fig, base, "_laziness")
    fig, ax = subplots(figsize=(5.5, 4))
    for v in vs:
        ms, ys = _median_by_m(runs, v, n, lambda r: r["checkpoints"][0]["net_vs_ntk_ood"])
        ax.loglog(ms, ys, "o-", label=f"variant {v}")
    ax.set_xlabel("width m")
    ax.set_ylabel("|f_net - f_NTK| / |f_NTK| on OOD (median over seeds)")
    ax.set_title(f"trained net vs linearised (NTK) predictor, T={runs[0]['checkpoints'][0]['t']}",
                 fontsize=10)
    ax.legend()
    files += save(fig, base, "_net_vs_ntk")
    return files


def plot_e5(result, base):
    # Only the paper's init w_r(0) ~ N(0, 1) (Def D.2); the E5b init-scale sweep of the literal
    # claim is in its metrics. Results written before runs carried init_scale are all drawn.
    runs = [r for r in _runs(result) if r.get("init_scale", 1.0) == 1.0]
    if not runs:
        return []
    fig, axes = subplots(1, 2, figsize=(11, 4))
    groups = defaultdict(list)
    for r in runs:
        groups[(r["variant"], r["m"])].append(r)
    for (v, m), rs in sorted(groups.items()):
        longest = max(rs, key=lambda r: len(r["log_times"]))
        ts = [max(t, 0.5) for t in longest["log_times"]]
        k = len(ts)
        for ax, key in [(axes[0], "step_agree"), (axes[1], "drift_agree")]:
            vals = np.median([r[key][:k] for r in rs if len(r[key]) >= k], axis=0)
            first = 1 if key == "drift_agree" else 0  # w(0) - w(0) = 0 has no sign
            ax.semilogx(ts[first:], vals[first:], "o-" if v == "A" else "s--", ms=3,
                        label=f"{v}, m={m}")
    for ax, name in [(axes[0], "step_agree(t): sign(-dL/dw_r) = a_r"),
                     (axes[1], "drift_agree(t): sign(w_r(t)-w_r(0)) = a_r")]:
        ax.axhline(0.5, color="k", lw=0.5, ls=":")
        ax.set_xlabel("GD step t (t = 0 drawn at 0.5); median over seeds")
        ax.set_ylabel("fraction of neurons")
        ax.set_title(name + ", init w(0) ~ N(0, 1)", fontsize=9)
        ax.legend(fontsize=6)
    return save(fig, base)


def plot_e6(result, base):
    curves = [c for c in result.get("data", {}).get("curves", []) if c["sigma"] == 1.0]
    if not curves:
        return []
    fig, ax = subplots(figsize=(6, 4))
    for c in curves:
        w = np.array(c["w"])
        order = np.argsort(w)
        line, = ax.plot(w[order], np.array(c["mean_sd"])[order], "o-", label=f"d={c['d']}")
        ax.axhline(1.0 / c["d"], color=line.get_color(), ls=":", lw=0.8)
    ax.set_xscale("symlog", linthresh=0.05)
    grid = sorted({w for c in curves for w in c["w"]})
    ax.set_xticks(grid)
    ax.set_xticklabels([f"{w:g}" for w in grid], rotation=45, fontsize=8)
    ax.minorticks_off()
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("w (symlog axis)")
    ax.set_ylabel("E[softmax_d(x_d w x)]  (dotted: 1/d)")
    ax.set_title("x ~ N(0, I_d)")
    ax.legend()
    return save(fig, base)


def plot_e7_rank(result, base):
    spectra = result.get("data", {}).get("spectra", [])
    if not spectra:
        return []
    fig, ax = subplots(figsize=(6, 4))
    # H(0) depends on the inputs only, whose law is the same in A and B: identical spectra are
    # drawn once, labelled with every variant that has them.
    merged = []
    for s in spectra:
        same = next((t for t in merged if t["n"] == s["n"] and t["normalized"] == s["normalized"]), None)
        if same is None:
            merged.append({"n": s["n"], "normalized": s["normalized"], "variants": [s["variant"]]})
        else:
            same["variants"].append(s["variant"])
    for s in merged:
        vals = np.clip(np.array(s["normalized"]), 1e-20, None)
        ax.semilogy(np.arange(1, len(vals) + 1), vals, "o-", ms=3,
                    label=f"{'+'.join(s['variants'])}, n={s['n']}")
    ax.axhline(1e-6, color="k", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("eigenvalue index")
    ax.set_ylabel("lambda_j / lambda_max (clipped at 1e-20)")
    ax.set_title("NTK spectrum of H(0), paired init (dotted: effective-rank cutoff 1e-6)", fontsize=9)
    ax.legend(fontsize=7)
    out = save(fig, base)
    ext = result.get("data", {}).get("extended", [])
    if ext:
        out += _plot_e7_extended(ext, base)
    return out


def _plot_e7_extended(ext, base):
    """lambda_min/lambda_max per n: 150-digit value (positive, far above its rounding interval)
    against the same matrix in double precision (round-off of either sign)."""
    fig, ax = subplots(figsize=(6, 4))
    ns = sorted({e["n"] for e in ext})
    jitter = {n: 0 for n in ns}
    for e in ext:
        x = e["n"] * (1 + 0.03 * jitter[e["n"]])
        jitter[e["n"]] += 1
        ax.semilogy(x, e["ratio_extended"], "o", color="C0", ms=5)
        d = e["ratio_double"]
        ax.semilogy(x, abs(d), "v" if d < 0 else "^", color="C3", ms=5, mfc="none")
    ax.axhline(1.1e-16, color="C3", ls=":", lw=0.8)
    ax.plot([], [], "o", color="C0", label="150 digits: lambda_min / lambda_max")
    ax.plot([], [], "^", color="C3", mfc="none", label="double: |ratio| (v: negative)")
    ax.plot([], [], ":", color="C3", label="double unit round-off 1.1e-16")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ns)
    ax.set_xticklabels([str(n) for n in ns])
    ax.set_xlabel("n (training samples)")
    ax.set_ylabel("lambda_min / lambda_max")
    ax.set_title("H(0) is positive definite (Assumption F.3); double cannot tell", fontsize=9)
    ax.legend(fontsize=7)
    return save(fig, base, "_extended")


def plot_e7_conv(result, base):
    """L(t)/L(0) of GD (solid) and of its linearisation (dotted), seed 0, one panel per variant
    and dimension, one colour per width."""
    runs = [r for r in result.get("data", {}).get("runs", []) if r["seed"] == 0]
    out = []
    groups = sorted({(r["variant"], r["d"]) for r in runs})
    if groups:
        from matplotlib import colormaps

        widths = sorted({r["m"] for r in runs})
        fig, axes = subplots(1, len(groups), figsize=(4.2 * len(groups), 3.8), squeeze=False,
                             sharey=True)
        for ax, (v, d) in zip(axes[0], groups):
            for r in sorted((r for r in runs if (r["variant"], r["d"]) == (v, d)),
                            key=lambda r: r["m"]):
                color = colormaps["viridis"](0.85 * widths.index(r["m"]) / max(1, len(widths) - 1))
                t = np.maximum(np.array(r["t"]), 0.5)
                ax.loglog(t, r["loss"], "-", color=color, label=f"m = {r['m']}")
                ax.loglog(t, r["linearized"], ":", color=color)
            ax.set_xlabel("GD step t (t = 0 drawn at 0.5)")
            ax.set_title(f"variant {v}, d = {d}, seed 0", fontsize=9)
            ax.legend(fontsize=7)
        axes[0][0].set_ylabel("L(t)/L(0)  (solid: GD; dotted: linearised)")
        out += save(fig, base)
    trend = result.get("data", {}).get("sym_dev_trend", [])
    if trend:
        fig, ax = subplots(figsize=(6, 4))
        for t in trend:
            ax.loglog(t["m"], t["median_sym_dev"], "o-", label=f'{t["group"]}: slope {t["slope"]:.2f}')
        ax.set_xlabel("width m")
        ax.set_ylabel("median max_t |L - L_lin| / max(L, L_lin)")
        ax.set_title("GD approaches its linearisation as the width grows", fontsize=9)
        ax.legend(fontsize=7)
        out += save(fig, base, "_width_trend")
    return out


def plot_e8(result, base):
    runs = _runs(result)
    if not runs:
        return []
    vs = _variants(runs)
    fig, axes = subplots(1, len(vs), figsize=(5.5 * len(vs), 4), squeeze=False)
    for ax, v in zip(axes[0], vs):
        rs = [r for r in runs if r["variant"] == v]
        m = 256 if any(r["m"] == 256 for r in rs) else rs[0]["m"]
        rs = [r for r in rs if r["m"] == m]
        x = np.arange(4)
        # Points joined across quartiles, not bars: on a log axis a bar's length is arbitrary.
        for key, style, label in [("xd_bin_mse_attn", "o-", "attention"),
                                  ("xd_bin_mse_zero", "s--", "zero predictor"),
                                  ("xd_bin_mse_lin", "^:", "residual linear")]:
            ax.plot(x, np.median([r[key] for r in rs], axis=0), style, label=label)
        ax.set_yscale("log")
        ax.set_xticks(x)
        edges = np.median([r["xd_bin_edges"] for r in rs], axis=0)
        ax.set_xticklabels([f"Q{q + 1}\n|x_d| <= {e:.2g}" for q, e in enumerate(edges)], fontsize=8)
        ax.set_xlabel("quartile of |x_d| on the OOD set")
        ax.set_ylabel("OOD MSE in the bin (median over seeds)")
        ax.set_title(f"variant {v}, m={m}, T={rs[0]['checkpoints'][-1]['t']}")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3)
    return save(fig, base)


def plot_e2(result, base):
    """OOD MSE of the least-squares residual linear model vs the noise, against its floor
    sigma^2 (1 + |c|^2) (left), and as a ratio to that floor with the checks' band (right)."""
    curves = result.get("data", {}).get("curves", [])
    if not curves:
        return []
    fig, (ax, ax2) = subplots(1, 2, figsize=(11, 4))
    for i, c in enumerate(curves):
        s = np.array(c["sigma"])
        pos = s > 0
        mse, floor = np.array(c["ood_mse"])[pos], np.array(c["floor"])[pos]
        label = f"{c['variant']}, n={c['n']}"
        marker = "os^vDP"[i % 6]
        ax.loglog(s[pos], mse, marker + "-", color=f"C{i}", mfc="none", label=label)
        ax.loglog(s[pos], floor, ":", color=f"C{i}")
        ax2.semilogx(s[pos], mse / floor, marker + "-", color=f"C{i}", mfc="none", label=label)
    gates = {k["metric"]: k["threshold"] for k in result.get("checks", [])}
    lo, hi = gates.get("ood_ratio_to_floor_min"), gates.get("ood_ratio_to_floor_max")
    if lo is not None and hi is not None:
        ax2.axhspan(lo, hi, color="C2", alpha=0.12, label=f"checks: ratio in [{lo:g}, {hi:g}]")
    ax2.axhline(1.0, color="k", lw=0.8)
    ax.set_xlabel("noise std sigma")
    ax.set_ylabel("OOD MSE (dotted: floor sigma^2 (1 + |c|^2))")
    ax.set_title("residual linear (LS) on the OOD set", fontsize=9)
    ax.legend(fontsize=7)
    ax2.set_xlabel("noise std sigma")
    ax2.set_ylabel("OOD MSE / floor")
    ax2.set_title("ratio to the floor", fontsize=9)
    ax2.legend(fontsize=7)
    return save(fig, base)


def plot_e9(result, base):
    rows = result.get("data", {}).get("rows", [])
    if not rows:
        return []
    fig, ax = subplots(figsize=(5, 3.5))
    L = [r["L"] for r in rows]
    ax.plot(L, [r["agreement"] for r in rows], "o-", label="<G_i, W_V^T X_i>")
    ax.plot(L, [r["agreement_centred"] for r in rows], "s-", label="centred")
    ax.axhline(0.5, color="k", ls=":")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("sequence length L")
    ax.set_ylabel("P[sign dS_ii = -sign(score)]")
    ax.legend()
    return save(fig, base)


_E10_LABELS = {"attn_gd": "attention\n(GD, E3)", "attn_adam": "attention\n(Adam)",
               "diff": "differential\nattention", "posbias": "positional\nlogit bias"}


def plot_e10(result, base):
    """OOD MSE per remedy toy: mean over seeds with the 95% t-interval, every seed as a dot, and
    the residual linear model and the zero predictor as horizontal lines (means over seeds)."""
    data = result.get("data", {})
    rows, baselines = data.get("rows", []), data.get("baselines", [])
    per_seed = result.get("per_seed", {})
    vs = sorted({r["variant"] for r in rows})
    if not vs:
        return []
    fig, axes = subplots(1, len(vs), figsize=(6.5 * len(vs), 4.6), squeeze=False)
    for ax, v in zip(axes[0], vs):
        rs = [r for r in rows if r["variant"] == v]
        x = np.arange(len(rs))
        for i, r in enumerate(rs):
            rec = per_seed.get(f"ood_mse_{r['model']}_{v}", {})
            mean = rec.get("mean", float(np.mean(r["ood"])))
            lo, hi = rec.get("ci95", [mean, mean])
            # a t-interval can reach below 0 on a log axis: clip the whisker at the smallest seed
            lo = max(lo, min(r["ood"]) * 0.9)
            ax.errorbar([i], [mean], yerr=[[mean - lo], [hi - mean]], fmt="o", color="C0",
                        capsize=4, ms=7, label="OOD MSE, mean and 95% CI" if i == 0 else None)
            ax.plot(np.full(len(r["ood"]), i + 0.15), r["ood"], ".", color="C0", alpha=0.5,
                    label="OOD MSE, each seed" if i == 0 else None)
            ax.plot([i - 0.15], [np.mean(r["id"])], "D", mfc="none", color="C2",
                    label="ID MSE, mean" if i == 0 else None)
        b = next((b for b in baselines if b["variant"] == v), None)
        if b is not None:
            ax.axhline(np.mean(b["linear"]), color="C1", ls="--",
                       label=f"residual linear (LS) {np.mean(b['linear']):.2g}")
            ax.axhline(np.mean(b["zero"]), color="k", ls=":",
                       label=f"zero predictor {np.mean(b['zero']):.2g}")
        ax.set_xticks(x)
        ax.set_xticklabels([_E10_LABELS.get(r["model"], r["model"].replace("patch", "patches\np = "))
                            for r in rs], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("MSE")
        ax.set_title(f"variant {v}: m={data.get('m')}, n={data.get('n')}, {data.get('steps')} steps, "
                     f"{len(rs[0]['ood'])} seeds", fontsize=9)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    return save(fig, base)


# Published test MSE on standardised data, lookback in brackets (all test windows unless noted):
# Zeng et al. (AAAI 2023) Table 2, NLinear and DLinear (336); Nie et al. (ICLR 2023) Table 3,
# PatchTST/64 (512). Context only: other code, other seeds, and (for some published baselines)
# the last partial test batch dropped.
_ETT_PUBLISHED = {
    "ETTh1": {"NLinear (pub.)": [0.374, 0.408, 0.429, 0.440], "DLinear (pub.)": [0.375, 0.405, 0.439, 0.472],
              "PatchTST/64 (pub.)": [0.370, 0.413, 0.422, 0.447]},
    "ETTh2": {"NLinear (pub.)": [0.277, 0.344, 0.357, 0.394], "DLinear (pub.)": [0.289, 0.383, 0.448, 0.605],
              "PatchTST/64 (pub.)": [0.274, 0.341, 0.329, 0.379]},
}
_ETT_HORIZONS = [96, 192, 336, 720]
_ETT_ORDER = ["repeat", "residual_linear", "nlinear", "dlinear", "samovar", "lintrans", "fixedvar"]
_ETT_LABELS = {"repeat": "Repeat", "residual_linear": "residual linear\n(least squares)",
               "nlinear": "NLinear", "dlinear": "DLinear", "samovar": "SAMoVAR",
               "lintrans": "LinTrans", "fixedvar": "FixedVAR"}


def plot_ett(result, base):
    """Test MSE per dataset and horizon: one marker per model (mean over seeds; every seed a small
    dot), the published values of NLinear, DLinear and PatchTST as dashed lines. Points, not bars:
    the axis does not start at 0, and bars would exaggerate the differences. Repeat is off the
    scale of the others and is written in the title instead of drawn."""
    rows = result.get("data", {}).get("rows", [])
    panels = sorted({(r["dataset"], r["horizon"]) for r in rows})
    if not panels:
        return []
    fig, axes = subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
    epochs = result.get("data", {}).get("epochs")
    for ax, (ds, h) in zip(axes[0], panels):
        rs = {r["model"]: r for r in rows if r["dataset"] == ds and r["horizon"] == h}
        models = [m for m in _ETT_ORDER if m in rs and m != "repeat"]
        if not models:
            ax.set_title(f"{ds}, horizon {h}: only Repeat in the result", fontsize=8)
            continue
        means = [float(np.mean(rs[m]["test_mse"])) for m in models]
        colors = ["C1" if m in ("residual_linear", "nlinear", "dlinear") else "C0" for m in models]
        for i, m in enumerate(models):
            ax.plot([i], [means[i]], "o", color=colors[i], ms=9)
            ax.plot(np.full(len(rs[m]["test_mse"]), i + 0.12), rs[m]["test_mse"], ".", color="k",
                    ms=4)
            ax.annotate(f"{means[i]:.3f}", (i, means[i]), textcoords="offset points", xytext=(0, 8),
                        ha="center", fontsize=7)
        if h in _ETT_HORIZONS:
            k = _ETT_HORIZONS.index(h)
            for j, (name, vals) in enumerate(_ETT_PUBLISHED.get(ds, {}).items()):
                ax.axhline(vals[k], color=f"C{j + 2}", ls="--", lw=1, label=f"{name} {vals[k]:.3f}")
            ax.legend(fontsize=7, loc="lower right")
        lo = min(means + [min(v[_ETT_HORIZONS.index(h)] for v in _ETT_PUBLISHED.get(ds, {}).values())]
                 if h in _ETT_HORIZONS else means)
        ax.set_ylim(0.97 * lo, 1.03 * max(means))
        ax.set_xlim(-0.5, len(models) - 0.5)
        ax.grid(axis="y", alpha=0.3)
        ax.set_xticks(range(len(models)))
        ax.set_xticklabels([_ETT_LABELS[m] for m in models], fontsize=7)
        ax.set_ylabel("test MSE (standardised; orange: linear, blue: attention)")
        rep = f", Repeat {np.mean(rs['repeat']['test_mse']):.3f}" if "repeat" in rs else ""
        ax.set_title(f"{ds}, horizon {h}{rep}\nattention models: {epochs} epochs at most, "
                     f"lookback {rs[models[-1]]['lookback'] if models else '?'}", fontsize=8)
    return save(fig, base)


PLOTS = {
    "ett_forecast": plot_ett,
    "curse_e2_linear": plot_e2,
    "curse_e3_ood": plot_e3,
    "curse_e4_lazy": plot_e4,
    "curse_e5_asymmetric": plot_e5,
    "curse_e6_softmax_last": plot_e6,
    "curse_e7_kernel": plot_e7_rank,
    "curse_e7_convergence": plot_e7_conv,
    "curse_e8_gating": plot_e8,
    "curse_e9_case": plot_e9,
    "curse_e10_remedies": plot_e10,
}
