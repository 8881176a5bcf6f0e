"""Figures for the icl claims (Vladymyrov et al., NeurIPS 2024). Reads result files only.

PLOTS maps an experiment kind to fn(result, out_base) -> [written files]:
  icl_train          Fig. 1 analogue (adjusted loss vs layers with 2 SE bars, log scale, CONSTRR
                     as a line, paper Table 1 values as open markers), learned omegas per layer
                     (DIAG/GD++), per-layer readout curves, P and Q heatmaps for FULL.
  icl_baselines      Table 1 baseline rows, ours vs paper, per noise setting.
  icl_one_layer_optimum  Table 1 row 1, ours vs paper.
  icl_two_layer_ridge    Thm 5.2 error vs n.
  icl_gdpp_second_order  Lemma A.3 condition-number trace.
  icl_table1         the Table 1 sweep: Fig. 1 analogue (one panel per noise column, ours and
                     the paper's, with the ridge baselines), Fig. 2 per-variance profiles and
                     Fig. 5 readouts (one panel per model and column, one curve per depth),
                     DIAG omegas, FULL P/Q heatmaps. Columns are those the result holds: the
                     cells that ran, and the paper's whole table if the result carries it
                     (data.paper_table = {"columns": [...], "rows": {"DIAG3": [...], ...}}).
report_section(results_by_id, profile) writes Table 1 side by side (ours | paper).
"""
import math

import numpy as np

from common import heatmap, integer_ticks, save, subplots

FAMILY_COLORS = {"diag": "tab:blue", "full": "tab:green", "gdpp": "tab:red"}
FAMILY_NAMES = {"diag": "DIAG", "full": "FULL", "gdpp": "GD++"}
FAMILY_MARKERS = {"gdpp": "v", "diag": "o", "full": "s"}
FAMILY_OFFSETS = {"gdpp": -0.12, "diag": 0.0, "full": 0.12}  # DIAG and FULL often coincide
BASELINE_STYLE = {"constrr": ("gray", "--"), "adarr": ("tab:purple", ":"),
                  "tunedrr": ("tab:orange", "-.")}
COLUMNS = ["u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "c13", "c135"]


def column_label(col):
    """The noise law of a Table 1 column: u5 is sigma ~ U(0, 5), c13 is sigma in {1, 3}."""
    if col == "u0":
        return "u0: sigma = 0"
    if col.startswith("u"):
        return f"{col}: sigma ~ U(0, {col[1:]})"
    return f"{col}: sigma in {{{', '.join(col[1:])}}}"


def depth_color(layers, max_layers):
    """One colour per depth, dark (1 layer) to light (deepest), the same in every panel."""
    from matplotlib import colormaps

    return colormaps["viridis"](0.85 * (layers - 1) / max(1, max_layers - 1))


def _fig1_panel(ax, models, paper_of, constrr=None):
    """Adjusted loss vs layers (log scale): ours with 2 SE bars, the paper's as open markers.
    With more than one model the models are offset a little along x, so none hides another."""
    fams = [f for f in ("gdpp", "diag", "full")
            if paper_of(f) or any(m["model"] == f for m in models)]
    for fam in fams:
        ms = sorted((m for m in models if m["model"] == fam), key=lambda m: m["layers"])
        pts = paper_of(fam)
        color, off = FAMILY_COLORS[fam], FAMILY_OFFSETS[fam] if len(fams) > 1 else 0.0
        if ms:
            ax.errorbar([m["layers"] + off for m in ms], [max(m["adjusted"], 1e-13) for m in ms],
                        yerr=[2 * m.get("se", 0) for m in ms], fmt=FAMILY_MARKERS[fam] + "-",
                        color=color, ms=5, capsize=2, label=f"{FAMILY_NAMES[fam]} ours (2 SE)")
        if pts:
            ax.plot([p[0] + off for p in pts], [p[1] for p in pts], FAMILY_MARKERS[fam] + ":",
                    mfc="none", ms=8, lw=0.8, color=color, label=f"{FAMILY_NAMES[fam]} paper")
    if constrr is not None:
        ax.axhline(constrr["adjusted"], color="gray", ls="--",
                   label=f'CONSTRR ours {constrr["adjusted"]:.3f}')
    depths = [m["layers"] for m in models] + [p[0] for f in FAMILY_NAMES for p in paper_of(f)]
    if depths:
        ax.set_xlim(min(depths) - 0.4, max(depths) + 0.6)
    ax.set_yscale("log")
    ax.set_xlabel("layers L")
    integer_ticks(ax)


def plot_train(result, base):
    data = result.get("data", {})
    models = data.get("models", [])
    if not models:
        return []
    written = []
    # Fig. 1 analogue: adjusted loss vs number of layers, log scale.
    fig, ax = subplots(figsize=(5.5, 4))

    def paper_of(fam):
        return sorted((m["layers"], m["paper"]) for m in models
                      if m["model"] == fam and m.get("paper") is not None)
    _fig1_panel(ax, models, paper_of, data.get("constrr"))
    ax.set_ylabel("adjusted loss (1/2 MSE minus oracle)")
    ax.set_title(f"{result['claim']['id']}: {column_label(data.get('noise', '?'))}", fontsize=10)
    ax.legend(fontsize=7)
    written += save(fig, base)
    # Per-layer readouts (Fig. 5 analogue), the paper's Table 1 value at the last layer.
    fig, ax = subplots(figsize=(5.5, 4))
    for i, m in enumerate(models):
        pl = m.get("per_layer_adjusted", [])
        line, = ax.plot(range(1, len(pl) + 1), pl, marker=FAMILY_MARKERS[m["model"]],
                        ls=["-", "--", ":", "-."][i % 4], color=FAMILY_COLORS[m["model"]],
                        label=f'{FAMILY_NAMES[m["model"]]}, L = {m["layers"]}')
        if m.get("paper") is not None:
            ax.plot([m["layers"]], [m["paper"]], "*", ms=11, mfc="none", color=line.get_color(),
                    label=f'Table 1, L = {m["layers"]}: {m["paper"]}')
    ax.set_yscale("log")
    ax.set_xlabel("readout after layer k")
    ax.set_ylabel("adjusted loss")
    integer_ticks(ax)
    ax.set_title(f"{result['claim']['id']}: per-layer readouts", fontsize=10)
    ax.legend(fontsize=7)
    written += save(fig, base, "_readouts")
    # Learned omegas (DIAG / GD++).
    om_models = [m for m in models if "omegas" in m]
    if om_models:
        written += _omega_panels([(None, om_models)], base,
                                 f"{result['claim']['id']}: learned omegas")
    for m in models:
        if "P" in m:
            written += _heatmaps(m, base)
    return written


def _omega_panels(rows, base, title):
    """Learned omega_xx, _xy, _yx, _yy per layer; rows = [(row title, models with "omegas")],
    one line per model."""
    fig, axes = subplots(len(rows), 4, figsize=(13, 3 * len(rows)), squeeze=False)
    for (row_title, items), row in zip(rows, axes):
        for j, key in enumerate(["xx", "xy", "yx", "yy"]):
            ax = row[j]
            for m in items:
                vals = [o[key] for o in m["omegas"]]
                ax.plot(range(1, len(vals) + 1), vals, FAMILY_MARKERS.get(m["model"], "o") + "-",
                        label=f'{FAMILY_NAMES.get(m["model"], m["model"])}, L = {len(vals)}')
            ax.axhline(0, color="gray", lw=0.5)
            ax.set_title(f"omega_{key}" + (f" ({row_title})" if row_title else ""), fontsize=9)
            ax.set_xlabel("layer")
            integer_ticks(ax)
        row[0].legend(fontsize=6)
    fig.suptitle(title, fontsize=10, y=1.0 + 0.04 / len(rows))
    fig.tight_layout()
    return save(fig, base, "_omegas")


def _heatmaps(m, base):
    """P^l and Q^l of a FULL model as heatmaps (Fig. 4 analogue), each with its colour scale."""
    D, L = m["dim"], m["layers"]
    P = np.array(m["P"]).reshape(L, D, D).transpose(0, 2, 1)  # stored column-major
    Q = np.array(m["Q"]).reshape(L, D, D).transpose(0, 2, 1)
    fig, axes = subplots(2, L, figsize=(3.1 * L, 5.4), squeeze=False)
    for l in range(L):
        for r, (name, M) in enumerate((("Q", Q[l]), ("P", P[l]))):
            ax = axes[r][l]
            heatmap(ax, M, float(np.abs(M).max()) or 1.0)
            ax.set_title(f"{name}^{l} (layer {l + 1})", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"{m['key']}: learned Q and P per layer (each on its own colour scale)",
                 fontsize=10)
    return save(fig, base, f"_{m['key']}_PQ")


def plot_baselines(result, base):
    rows = result.get("data", {}).get("rows", [])
    if not rows:
        return []
    fig, ax = subplots(figsize=(7, 4))
    x = np.arange(len(rows))
    for key, c in (("constrr", "tab:gray"), ("adarr", "tab:orange"), ("tunedrr", "tab:purple")):
        ax.errorbar(x, [r[key] for r in rows], yerr=[2 * r[key + "_se"] for r in rows], fmt="o-",
                    color=c, label=f"{key.upper()} (ours, 2 SE)")
        ax.plot(x, [r["paper_" + key] for r in rows], "s", mfc="none", color=c,
                label=f"{key.upper()} (paper)")
    ax.set_xticks(x)
    ax.set_xticklabels([r["noise"] for r in rows])
    ax.set_ylabel("adjusted loss")
    ax.set_xlabel("noise column of Table 1")
    ax.set_title(f"{result['claim']['id']}: ridge baselines, ours vs Table 1", fontsize=9)
    ax.legend(fontsize=7)
    return save(fig, base)


def plot_one_layer(result, base):
    rows = result.get("data", {}).get("rows", [])
    if not rows:
        return []
    fig, ax = subplots(figsize=(6, 4))
    x = np.arange(len(rows))
    ax.plot(x, [r["adjusted"] for r in rows], "o-", label="closed form - oracle (ours)")
    ax.plot(x, [r["gd_step_mc_adjusted"] for r in rows], "x", label="one GD step, Monte Carlo")
    ax.plot(x, [r["paper_diag1"] for r in rows], "s", mfc="none", label="Table 1 DIAG L=1")
    ax.set_xticks(x)
    ax.set_xticklabels([r["noise"] for r in rows])
    ax.set_ylabel("adjusted loss")
    ax.set_xlabel("noise column of Table 1")
    ax.set_title(f"{result['claim']['id']}: one layer, ours vs Table 1", fontsize=9)
    ax.legend(fontsize=7)
    return save(fig, base)


def plot_two_layer_ridge(result, base):
    t = result.get("data", {}).get("table", [])
    if not t:
        return []
    cfg = result.get("config", {})
    fig, ax = subplots(figsize=(5, 4))
    ns = [r["n"] for r in t]
    for k in ("1", "2"):
        ax.loglog(ns, [r[f"median_rel_err_sigma{k}"] for r in t], "o-",
                  label=f'sigma = sigma{k} = {cfg.get("sigma" + k, "?")}')
    ax.loglog(ns, [t[0]["median_rel_err_sigma2"] * math.sqrt(ns[0] / n) for n in ns], "k:",
              label="slope n^-1/2 (guide)")
    ax.set_xlabel("n (context length)")
    ax.set_ylabel("median |w^2 - w_ridge| / |w_ridge|")
    ax.set_title(f"{result['claim']['id']}: d = {cfg.get('d', '?')}, "
                 f"{cfg.get('draws', '?')} draws per n", fontsize=9)
    ax.legend(fontsize=7)
    return save(fig, base)


def plot_gdpp(result, base):
    k = result.get("data", {}).get("kappa_trace_draw0", [])
    if not k:
        return []
    fig, ax = subplots(figsize=(5, 4))
    ax.semilogy(range(len(k)), [max(v - 1, 1e-16) for v in k], "o-")
    ax.set_xlabel("preconditioning layers")
    ax.set_ylabel("kappa - 1 (first context; floored at 1e-16)")
    ax.set_title(f"{result['claim']['id']}: condition number after each layer", fontsize=9)
    integer_ticks(ax)
    return save(fig, base)


def plot_implicit(result, base):
    m = result.get("data", {}).get("trained_full")
    return _heatmaps(m, base) if m else []


def _columns(data):
    """Noise columns present in the result, in the paper's order."""
    present = {c["column"] for c in data.get("cells", [])}
    present |= {b["column"] for b in data.get("baselines", [])}
    present |= set((data.get("paper_table") or {}).get("columns", []))
    return [c for c in COLUMNS if c in present]


def _paper_value(data, row, col):
    """The paper's Table 1 entry (row such as "DIAG3" or "CONSTRR") if the result carries the
    table (data["paper_table"] = {"columns": [...], "rows": {row: [value per column]}})."""
    table = data.get("paper_table") or {}
    vals = table.get("rows", {}).get(row)
    cols = table.get("columns", [])
    return vals[cols.index(col)] if vals and col in cols else None


def _table1_paper(data, cells, fam, col):
    """(L, paper value) of one model on one column: from the cells that ran, else the table."""
    pts = {c["layers"]: c["paper"] for c in cells
           if c["model"] == fam and c["column"] == col and c.get("paper") is not None}
    for L in range(1, 8):
        v = _paper_value(data, f"{FAMILY_NAMES[fam]}{L}", col)
        if v is not None:
            pts.setdefault(L, v)
    return sorted(pts.items())


def _grid(n, ncols, w, h):
    rows = math.ceil(n / ncols)
    fig, axes = subplots(rows, ncols, figsize=(w * ncols, h * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _table1_fig1(result, base, cols):
    """Fig. 1 analogue: adjusted loss vs L, one panel per noise column, ours and the paper's,
    the three ridge baselines (lines: ours; triangles at the right edge: the paper's)."""
    data, profile = result["data"], result.get("profile", "")
    cells = data.get("cells", [])
    baselines = {b["column"]: b for b in data.get("baselines", [])}
    size = (3.8, 3.4) if len(cols) > 1 else (5.5, 4.2)
    fig, axes = _grid(len(cols), min(5, len(cols)), *size)
    for ax, col in zip(axes, cols):
        _fig1_panel(ax, [c for c in cells if c["column"] == col],
                    lambda fam: _table1_paper(data, cells, fam, col))
        right = ax.get_xlim()[1] - 0.15
        b = baselines.get(col, {})
        for key, (color, ls) in BASELINE_STYLE.items():
            ours = b.get(key)
            paper = b.get("paper_" + key, _paper_value(data, key.upper(), col))
            if ours is not None and ours > 1e-20:  # exact at sigma = 0: not on a log axis
                ax.axhline(ours, color=color, ls=ls, lw=1, label=f"{key.upper()} ours")
            if paper:
                ax.plot([right], [paper], "<", color=color, mfc="none", ms=8,
                        label=f"{key.upper()} paper")
        ax.set_title(column_label(col), fontsize=9)
    axes[0].set_ylabel("adjusted loss (1/2 MSE minus oracle)")
    names = [FAMILY_NAMES[f] for f in ("gdpp", "diag", "full")] + \
        [k.upper() for k in BASELINE_STYLE]
    entries = {}  # label -> handle, over every panel (u0 has no baselines, not every column ran)
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, h)
    entries = sorted(((h, label) for label, h in entries.items()),
                     key=lambda e: (names.index(e[1].split()[0]), "paper" in e[1]))
    if len(cols) == 1:
        axes[0].legend(*zip(*entries), loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7)
    else:
        fig.legend(*zip(*entries), loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=6,
                   fontsize=7)
    fig.suptitle(f"Table 1 / Fig. 1 ({profile} profile): filled = ours, open = paper; "
                 f"{len(cells)} cells ran", fontsize=10)
    fig.tight_layout()
    return save(fig, base)


def _by_column_and_model(cells, cols, fams, draw, base, suffix, title, ylabel, xlabel, w=4.2):
    """A grid of panels, one row per noise column and one column per model; draw(ax, cells of the
    panel, column) draws one panel. Rows share the y axis."""
    fig, axes = subplots(len(cols), len(fams), figsize=(w * len(fams), 3.3 * len(cols)),
                         squeeze=False, sharey="row")
    for row, col in zip(axes, cols):
        for ax, fam in zip(row, fams):
            draw(ax, sorted((c for c in cells if c["column"] == col and c["model"] == fam),
                            key=lambda c: c["layers"]), col)
            ax.set_title(f"{FAMILY_NAMES[fam]}, trained on {column_label(col)}", fontsize=8)
            ax.set_xlabel(xlabel)
            ax.legend(fontsize=6)
        row[0].set_ylabel(ylabel)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save(fig, base, suffix)


def plot_table1(result, base):
    """Table 1 sweep: Fig. 1 analogue per column, Fig. 2 per-variance profiles and Fig. 5
    per-layer readouts per model and column, learned omegas, FULL P/Q heatmaps (Fig. 4), for
    whatever cells ran."""
    data = result.get("data", {})
    cells = data.get("cells", [])
    cols = _columns(data)
    if not cols:
        return []
    profile = result.get("profile", "")
    written = _table1_fig1(result, base, cols)
    if not cells:
        return written
    fams = [f for f in ("gdpp", "diag", "full") if any(c["model"] == f for c in cells)]
    max_l = max(c["layers"] for c in cells)
    # Fig. 2 analogue: per-variance profiles, one curve per depth.
    sig = data.get("profile_sigmas", [])
    prof = [c for c in cells if "profile" in c]
    if sig and prof:
        def draw_profiles(ax, cs, col):
            for c in cs:
                ax.plot(sig, c["profile"], "o-", ms=3, color=depth_color(c["layers"], max_l),
                        label=f'L = {c["layers"]}')
            for s in [col[1:]] if col.startswith("u") else list(col[1:]):
                ax.axvline(float(s), color="k", ls=":", lw=0.8)
            ax.set_yscale("log")
        pcols = [c for c in cols if any(p["column"] == c for p in prof)]
        written += _by_column_and_model(
            prof, pcols, fams, draw_profiles, base, "_profiles",
            f"Fig. 2 analogue ({profile} profile): adjusted loss at a fixed sigma "
            "(dotted: sigma_max of training, or its sigmas)", "adjusted loss at fixed sigma",
            "sigma of the evaluation sequences")
    # Fig. 5 analogue: readout after every layer, the paper's value at the last one.
    read = [c for c in cells if c.get("per_layer")]
    if read:
        def draw_readouts(ax, cs, col):
            for c in cs:
                color = depth_color(c["layers"], max_l)
                ax.plot(range(1, len(c["per_layer"]) + 1), c["per_layer"], "o-", ms=4,
                        color=color, label=f'L = {c["layers"]}')
                if c.get("paper") is not None:
                    ax.plot([c["layers"]], [c["paper"]], "*", ms=10, mfc="none", color=color)
            ax.set_yscale("log")
            integer_ticks(ax)
        rcols = [c for c in cols if any(p["column"] == c for p in read)]
        written += _by_column_and_model(
            read, rcols, fams, draw_readouts, base, "_readouts",
            f"Fig. 5 analogue ({profile} profile): readout after each layer "
            "(open star: the paper's Table 1 value of the whole model)", "adjusted loss",
            "readout after layer k", w=3.6)
    # Learned omegas of DIAG, per layer, one row per column.
    om = [c for c in cells if c["model"] == "diag" and "omegas" in c]
    if om:
        rows = [(column_label(col), sorted((c for c in om if c["column"] == col),
                                           key=lambda c: c["layers"]))
                for col in cols if any(c["column"] == col for c in om)]
        written += _omega_panels(rows, base, f"learned DIAG omegas ({profile} profile)")
    for c in cells:
        if "P" in c:
            written += _heatmaps(c, base)
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
