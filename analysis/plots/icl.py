"""Figures for the icl claims (Vladymyrov et al., NeurIPS 2024). Reads result files only.

PLOTS maps an experiment kind to fn(result, out_base) -> [written files]:
  icl_train          Fig. 1 analogue (adjusted loss vs layers, log scale, CONSTRR as a line,
                     paper Table 1 values as open markers), learned omegas per layer (DIAG/GD++),
                     per-layer readout curves, P and Q heatmaps for FULL.
  icl_baselines      Table 1 baseline rows, ours vs paper, per noise setting.
  icl_one_layer_optimum  Table 1 row 1, ours vs paper.
  icl_two_layer_ridge    Thm 5.2 error vs n.
  icl_gdpp_second_order  Lemma A.3 condition-number trace.
  icl_table1         the Table 1 sweep: Fig. 1 analogue per noise column with the baselines,
                     Fig. 2 per-variance profiles, DIAG omegas, FULL P/Q heatmaps, readouts.
report_section(results_by_id, profile) writes Table 1 side by side (ours | paper).
"""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

FAMILY_COLORS = {"diag": "tab:blue", "full": "tab:green", "gdpp": "tab:red"}


def _save(fig, base, suffix=""):
    out = []
    for ext in ("png", "svg"):
        path = f"{base}{suffix}.{ext}"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        out.append(path)
    plt.close(fig)
    return out


def plot_train(result, base):
    data = result.get("data", {})
    models = data.get("models", [])
    if not models:
        return []
    written = []
    # Fig. 1 analogue: adjusted loss vs number of layers, log scale.
    fig, ax = plt.subplots(figsize=(5.5, 4))
    fams = {}
    for m in models:
        fams.setdefault(m["model"], []).append(m)
    for fam, ms in fams.items():
        ms = sorted(ms, key=lambda m: m["layers"])
        c = FAMILY_COLORS.get(fam, "k")
        ax.plot([m["layers"] for m in ms], [m["adjusted"] for m in ms], "o-", color=c,
                label=f"{fam.upper()} (ours)")
        pts = [(m["layers"], m["paper"]) for m in ms if m.get("paper") is not None]
        if pts:
            ax.plot(*zip(*pts), "s", mfc="none", color=c, label=f"{fam.upper()} (paper)")
    if "constrr" in data:
        ax.axhline(data["constrr"]["adjusted"], color="gray", ls="--", label="CONSTRR (ours)")
    ax.set_yscale("log")
    ax.set_xlabel("layers")
    ax.set_ylabel("adjusted loss (1/2 MSE minus oracle)")
    ax.set_title(f"{result['claim']['id']}: noise {data.get('noise', '')}")
    ax.legend(fontsize=7)
    written += _save(fig, base)
    # Per-layer readouts.
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for m in models:
        pl = m.get("per_layer_adjusted", [])
        ax.plot(range(1, len(pl) + 1), pl, "o-", color=FAMILY_COLORS.get(m["model"], "k"),
                alpha=0.5 + 0.5 * m["layers"] / 8, label=m["key"])
    ax.set_yscale("log")
    ax.set_xlabel("readout after layer k")
    ax.set_ylabel("adjusted loss")
    ax.legend(fontsize=7)
    written += _save(fig, base, "_readouts")
    # Learned omegas (DIAG / GD++).
    om_models = [m for m in models if "omegas" in m]
    if om_models:
        written += _omega_panels(om_models, base, None)
    for m in models:
        if "P" in m:
            written += _heatmaps(m, base)
    return written


def _omega_panels(items, base, title):
    """Learned omega_xx, _xy, _yx, _yy per layer, one line per model (items with "omegas")."""
    fig, axes = plt.subplots(1, 4, figsize=(13, 3))
    for j, key in enumerate(["xx", "xy", "yx", "yy"]):
        for m in items:
            vals = [o[key] for o in m["omegas"]]
            axes[j].plot(range(1, len(vals) + 1), vals, "o-", label=m["key"])
        axes[j].axhline(0, color="gray", lw=0.5)
        axes[j].set_title(f"omega_{key}")
        axes[j].set_xlabel("layer")
    axes[0].legend(fontsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, base, "_omegas")


def _heatmaps(m, base):
    """P^l and Q^l of a FULL model as heatmaps (Fig. 4 analogue)."""
    D, L = m["dim"], m["layers"]
    P = np.array(m["P"]).reshape(L, D, D).transpose(0, 2, 1)  # stored column-major
    Q = np.array(m["Q"]).reshape(L, D, D).transpose(0, 2, 1)
    fig, axes = plt.subplots(2, L, figsize=(2.6 * L, 5.2), squeeze=False)
    for l in range(L):
        for r, (name, M) in enumerate((("Q", Q[l]), ("P", P[l]))):
            v = np.abs(M).max() or 1.0
            axes[r][l].imshow(M, cmap="RdBu_r", vmin=-v, vmax=v)
            axes[r][l].set_title(f"{name}^{l}", fontsize=8)
            axes[r][l].axis("off")
    return _save(fig, base, f"_{m['key']}_PQ")


def plot_baselines(result, base):
    rows = result.get("data", {}).get("rows", [])
    if not rows:
        return []
    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(rows))
    for key, c in (("constrr", "tab:gray"), ("adarr", "tab:orange"), ("tunedrr", "tab:purple")):
        ax.errorbar(x, [r[key] for r in rows], yerr=[2 * r[key + "_se"] for r in rows], fmt="o-",
                    color=c, label=f"{key.upper()} (ours, 2 SE)")
        ax.plot(x, [r["paper_" + key] for r in rows], "s", mfc="none", color=c,
                label=f"{key.upper()} (paper)")
    ax.set_xticks(x)
    ax.set_xticklabels([r["noise"] for r in rows])
    ax.set_ylabel("adjusted loss")
    ax.legend(fontsize=7)
    return _save(fig, base)


def plot_one_layer(result, base):
    rows = result.get("data", {}).get("rows", [])
    if not rows:
        return []
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.arange(len(rows))
    ax.plot(x, [r["adjusted"] for r in rows], "o-", label="closed form - oracle (ours)")
    ax.plot(x, [r["gd_step_mc_adjusted"] for r in rows], "x", label="one GD step, Monte Carlo")
    ax.plot(x, [r["paper_diag1"] for r in rows], "s", mfc="none", label="Table 1 DIAG L=1")
    ax.set_xticks(x)
    ax.set_xticklabels([r["noise"] for r in rows])
    ax.set_ylabel("adjusted loss")
    ax.legend(fontsize=7)
    return _save(fig, base)


def plot_two_layer_ridge(result, base):
    t = result.get("data", {}).get("table", [])
    if not t:
        return []
    fig, ax = plt.subplots(figsize=(5, 4))
    ns = [r["n"] for r in t]
    ax.loglog(ns, [r["median_rel_err_sigma1"] for r in t], "o-", label="sigma = sigma1")
    ax.loglog(ns, [r["median_rel_err_sigma2"] for r in t], "o-", label="sigma = sigma2")
    ax.loglog(ns, [t[0]["median_rel_err_sigma2"] * math.sqrt(ns[0] / n) for n in ns], "k:",
              label="n^-1/2")
    ax.set_xlabel("n")
    ax.set_ylabel("median |w^2 - w_ridge| / |w_ridge|")
    ax.legend(fontsize=7)
    return _save(fig, base)


def plot_gdpp(result, base):
    k = result.get("data", {}).get("kappa_trace_draw0", [])
    if not k:
        return []
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.semilogy(range(len(k)), [max(v - 1, 1e-16) for v in k], "o-")
    ax.set_xlabel("preconditioning layers")
    ax.set_ylabel("kappa - 1 (first context)")
    return _save(fig, base)


def plot_implicit(result, base):
    m = result.get("data", {}).get("trained_full")
    return _heatmaps(m, base) if m else []


FAMILY_NAMES = {"diag": "DIAG", "full": "FULL", "gdpp": "GD++"}
BASELINE_STYLE = {"constrr": ("gray", "--"), "adarr": ("tab:purple", ":"), "tunedrr": ("tab:orange", "-.")}


def _columns(cells):
    order = ["u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "c13", "c135"]
    present = {c["column"] for c in cells}
    return [c for c in order if c in present]


def plot_table1(result, base):
    """Table 1 sweep: Fig. 1 analogue per column, Fig. 2 per-variance profiles, learned omegas,
    FULL P/Q heatmaps (Fig. 4) and per-layer readouts (Fig. 5), for whatever cells ran."""
    data = result.get("data", {})
    cells = data.get("cells", [])
    if not cells:
        return []
    profile = result.get("profile", "")
    written = []
    cols = _columns(cells)
    baselines = {b["column"]: b for b in data.get("baselines", [])}
    # Fig. 1 analogue: adjusted loss vs layers, one panel per noise column.
    fig, axes = plt.subplots(1, len(cols), figsize=(3.6 * len(cols), 3.4), squeeze=False)
    for ax, col in zip(axes[0], cols):
        for fam in ("gdpp", "diag", "full"):
            cs = sorted((c for c in cells if c["column"] == col and c["model"] == fam),
                        key=lambda c: c["layers"])
            if not cs:
                continue
            color = FAMILY_COLORS[fam]
            ax.plot([c["layers"] for c in cs], [max(c["adjusted"], 1e-13) for c in cs], "o-",
                    color=color, label=f"{FAMILY_NAMES[fam]} ours")
            pts = [(c["layers"], c["paper"]) for c in cs if c.get("paper") is not None]
            if pts:
                ax.plot(*zip(*pts), "s", mfc="none", color=color, label=f"{FAMILY_NAMES[fam]} paper")
        b = baselines.get(col)
        if b:
            for key, (color, ls) in BASELINE_STYLE.items():
                if b.get(key, 0) > 0:
                    ax.axhline(b[key], color=color, ls=ls, lw=1, label=f"{key.upper()} ours")
        ax.set_yscale("log")
        ax.set_xlabel("layers")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_title(f"noise {col}", fontsize=9)
    axes[0][0].set_ylabel("adjusted loss")
    axes[0][-1].legend(fontsize=6, loc="upper right")
    fig.suptitle(f"Table 1 sweep ({profile} profile): ours (filled) vs paper (open)", fontsize=10)
    written += _save(fig, base)
    # Fig. 2 analogue: per-variance profiles.
    sig = data.get("profile_sigmas", [])
    prof_cells = [c for c in cells if "profile" in c]
    if sig and prof_cells:
        pcols = _columns(prof_cells)
        fig, axes = plt.subplots(1, len(pcols), figsize=(4.5 * len(pcols), 3.6), squeeze=False)
        for ax, col in zip(axes[0], pcols):
            for c in sorted((c for c in prof_cells if c["column"] == col),
                            key=lambda c: (c["model"], c["layers"])):
                ax.plot(sig, c["profile"], "-", color=FAMILY_COLORS[c["model"]],
                        alpha=0.35 + 0.65 * c["layers"] / 7, label=f"{FAMILY_NAMES[c['model']]}{c['layers']}")
            ax.set_yscale("log")
            ax.set_xlabel("sigma of the evaluation sequences")
            ax.set_title(f"trained on {col} ({profile})", fontsize=9)
            ax.legend(fontsize=6, ncol=2)
        axes[0][0].set_ylabel("adjusted loss at fixed sigma")
        written += _save(fig, base, "_profiles")
    # Learned omegas of DIAG, per layer.
    om = [c for c in cells if c["model"] == "diag" and "omegas" in c]
    if om:
        written += _omega_panels(sorted(om, key=lambda c: (c["column"], c["layers"])), base,
                                 f"learned DIAG omegas ({profile} profile)")
    # Per-layer readouts (Fig. 5 analogue).
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for c in sorted(cells, key=lambda c: (c["column"], c["model"], c["layers"])):
        if c["layers"] < 2:
            continue
        pl = c["per_layer"]
        ax.plot(range(1, len(pl) + 1), pl, "o-", color=FAMILY_COLORS[c["model"]],
                alpha=0.35 + 0.65 * c["layers"] / 7, label=c["key"])
    ax.set_yscale("log")
    ax.set_xlabel("readout after layer k")
    ax.set_ylabel("adjusted loss")
    ax.set_title(f"per-layer readouts ({profile} profile)", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    written += _save(fig, base, "_readouts")
    for c in cells:
        if "P" in c:
            written += _heatmaps(dict(c, layers=c["layers"]), base)
    return written


PLOTS = {
    "icl_implicit_model": plot_implicit,
    "icl_train": plot_train,
    "icl_baselines": plot_baselines,
    "icl_one_layer_optimum": plot_one_layer,
    "icl_two_layer_ridge": plot_two_layer_ridge,
    "icl_gdpp_second_order": plot_gdpp,
    "icl_table1": plot_table1,
}


def report_section(results_by_id, profile):
    """Table 1 cells this profile reproduces, ours next to the paper's."""
    lines = []
    for cid, r in sorted(results_by_id.items()):
        if not cid.startswith("icl."):
            continue
        data = r.get("data", {})
        for m in data.get("models", []):
            fam = {"diag": "DIAG", "full": "FULL", "gdpp": "GD++"}[m["model"]]
            se = m.get("se", float("nan"))
            paper = m.get("paper")
            lines.append(f"| {fam} | {m['layers']} | {data.get('noise', '')} | {m['adjusted']:.4f} "
                         f"+- {se:.4f} | {paper if paper is not None else '-'} | {cid} |")
        if "constrr" in data:
            lines.append(f"| CONSTRR | - | {data.get('noise', '')} | {data['constrr']['adjusted']:.4f} "
                         f"+- {data['constrr']['se']:.4f} | - | {cid} |")
        for c in data.get("cells", []):
            paper = c.get("paper")
            lines.append(f"| {FAMILY_NAMES[c['model']]} | {c['layers']} | {c['column']} | "
                         f"{c['adjusted']:.4f} +- {c['se']:.4f} | "
                         f"{paper if paper is not None else '-'} | {cid} |")
        for b in data.get("baselines", []):
            for key in ("constrr", "adarr", "tunedrr"):
                lines.append(f"| {key.upper()} | - | {b['column']} | {b[key]:.4f} | "
                             f"{b['paper_' + key]} | {cid} |")
        for row in data.get("rows", []):
            if "constrr" in row and "adarr" in row:
                for key in ("constrr", "adarr", "tunedrr"):
                    lines.append(f"| {key.upper()} | - | {row['noise']} | {row[key]:.4f} +- "
                                 f"{row[key + '_se']:.4f} | {row['paper_' + key]} | {cid} |")
            elif "paper_diag1" in row:
                lines.append(f"| one GD step (=DIAG 1) | 1 | {row['noise']} | {row['adjusted']:.4f} | "
                             f"{row['paper_diag1']} | {cid} |")
    if not lines:
        return None
    head = [f"### ICL Table 1: ours vs paper ({profile})", "",
            "| method | L | noise | ours (adjusted, +- SE) | paper | claim |", "|---|---|---|---|---|---|"]
    return "\n".join(head + lines) + "\n"
