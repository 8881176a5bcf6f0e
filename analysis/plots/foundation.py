"""Figures for the generator claims (curse.e1_generator, var.generator_stationary,
icl.generator_moments). Reads result dicts only; writes PNG and SVG with matplotlib (Agg)."""
import math

from common import save, subplots


def curse_generator(result, base):
    """Acceptance rate and E[y^2|OOD] vs closed forms (+-3 SE bars), and accepted (u_d, u_{d+1})."""
    data = result.get("data", {})
    variants = [v for v in ("A", "B") if v in data]
    if not variants:
        return []
    # One scatter panel per variant: their scales differ by ~20x, one would hide the other.
    fig, axes = subplots(1, 2 + len(variants), figsize=(4.4 * (2 + len(variants)), 3.8))
    ax = axes[0]
    for i, v in enumerate(variants):
        d = data[v]
        ax.errorbar([i], [d["acceptance_rate"]], yerr=[3 * d["acceptance_se"]], fmt="o",
                    capsize=6, label="empirical +-3 SE" if i == 0 else None, color="C0")
        ax.hlines(d["acceptance_closed_form"], i - 0.3, i + 0.3, colors="C3",
                  label="arccos(rho)/pi" if i == 0 else None)
    ax.set_yscale("log")
    ax.set_xticks(range(len(variants)), [f"variant {v}" for v in variants])
    ax.set_ylabel("OOD acceptance rate")
    ax.legend(fontsize=8)
    ax = axes[1]
    for i, v in enumerate(variants):
        d = data[v]
        ratio = d["ood_y2"] / d["ood_y2_closed_form"]
        ax.errorbar([i], [ratio], yerr=[3 * d["ood_y2_se"] / d["ood_y2_closed_form"]], fmt="o",
                    capsize=6, color="C0")
    ax.axhspan(0.95, 1.05, color="C2", alpha=0.15, label="+-5% gate")
    ax.axhline(1.0, color="C3", lw=1)
    ax.set_xticks(range(len(variants)), [f"variant {v}" for v in variants])
    ax.set_ylabel("E[y^2|OOD] empirical / closed form")
    ax.legend(fontsize=8)
    for i, v in enumerate(variants):
        ax, d = axes[2 + i], data[v]
        ax.scatter(d.get("ood_ud", []), d.get("ood_ud1", []), s=4, alpha=0.5, color=f"C{i}")
        ax.axhline(0, color="k", lw=0.5)
        ax.axvline(0, color="k", lw=0.5)
        ax.set_xlabel("u_d (noise-free)")
        ax.set_ylabel("u_{d+1} (noise-free)")
        ax.set_title(f"variant {v}: accepted OOD samples (opposite signs)", fontsize=9)
    fig.suptitle(f"{result['claim']['id']} ({result['profile']}): {result['verdict']}")
    fig.tight_layout()
    return save(fig, base, "_generator")


def var_stationary(result, base):
    """Empirical vs theoretical autocovariance entries (all processes, lags), and their z-scores."""
    data = result.get("data", {})
    procs = data.get("processes", [])
    if not procs:
        return []
    fig, axes = subplots(1, 2, figsize=(10, 4))
    ax = axes[0]
    lo, hi = math.inf, -math.inf
    for i, p in enumerate(procs):
        ax.errorbar(p["theory"], p["empirical"], yerr=[3 * s for s in p["se"]], fmt=".", ms=3,
                    alpha=0.6, color=f"C{i % 10}")
        lo = min(lo, min(p["theory"]))
        hi = max(hi, max(p["theory"]))
    ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
    ax.set_xlabel("Gamma(h) entry from the Lyapunov solution")
    ax.set_ylabel("mean sample autocovariance (+-3 SE)")
    ax = axes[1]
    zs = []
    for p in procs:
        zs += [(e - t) / s for e, t, s in zip(p["empirical"], p["theory"], p["se"]) if s > 0]
    ax.hist(zs, bins=40, density=True, color="C0", alpha=0.7, label=f"{len(zs)} z-scores")
    xs = [x / 20 for x in range(-100, 101)]
    ax.plot(xs, [math.exp(-x * x / 2) / math.sqrt(2 * math.pi) for x in xs], color="C3",
            label="N(0, 1)")
    gate = next((c["threshold"] for c in result.get("checks", [])
                 if c.get("metric") == "autocov_max_abs_z"), None)
    if isinstance(gate, (int, float)):
        for g in (-gate, gate):
            ax.axvline(g, color="k", ls="--", lw=0.8)
    ax.set_xlabel("z = (empirical - theory) / SE")
    ax.legend(fontsize=8)
    m = result.get("metrics", {})
    ax.set_title("SAMoVAR preset explosive: train %.2f%%, val %.3f%%" % (
        100 * m.get("samovar_train.explosive_fraction", float("nan")),
        100 * m.get("samovar_val.explosive_fraction", float("nan"))), fontsize=9)
    fig.suptitle(f"{result['claim']['id']} ({result['profile']}): {result['verdict']}")
    fig.tight_layout()
    return save(fig, base, "_autocov")


def icl_moments(result, base):
    """z-scores of every moment against its closed form, grouped, for both noise laws."""
    data = result.get("data", {})
    laws = [law for law in ("uniform", "set") if law in data]
    if not laws:
        return []
    groups = ["x_mean", "x_second", "w_mean", "w_second", "y", "sigma", "cross", "noise"]
    fig, ax = subplots(figsize=(10, 4))
    for li, law in enumerate(laws):
        for gi, g in enumerate(groups):
            zs = data[law].get(g, [])
            xs = [gi + (li - 0.5) * 0.35 + 0.2 * (k / max(1, len(zs) - 1) - 0.5)
                  for k in range(len(zs))]
            ax.scatter(xs, zs, s=6, color=f"C{li}", label=law if gi == 0 else None)
    ax.axhspan(-4.5, 4.5, color="C2", alpha=0.1, label="|z| <= 4.5 gate")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("z = (empirical - closed form) / SE")
    ax.legend(fontsize=8)
    fig.suptitle(f"{result['claim']['id']} ({result['profile']}): {result['verdict']}")
    fig.tight_layout()
    return save(fig, base, "_moments")


PLOTS = {
    "synth_curse_generator": curse_generator,
    "synth_var_stationary": var_stationary,
    "synth_icl_moments": icl_moments,
}
