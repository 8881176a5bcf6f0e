#!/usr/bin/env python3
"""attnlab report: figures and results/REPORT.md from the result files.

Reads results/<profile>/<claim>/result.json for every profile present, draws each claim's
figures with the plot module of its paper (analysis/plots/<module>.py exposing
PLOTS = {experiment kind: fn(result, out_base) -> [written files]}), writes
results/figures/<profile>/<claim>*.png|svg and results/REPORT.md, and (with --readme) refreshes
the claims table in README.md between its markers. A claim without a figure of its own gets a
check-margin figure (or, with no checks, its timings).
A plot module may also define report_section(results_by_id, profile) -> markdown, for tables
such as a paper's numbers next to ours.
Figures are redrawn only when needed: results/figures/<profile>/.manifest.json keeps, per claim,
a hash of its result file and of the code that draws it, and the files it drew; a claim whose
hash is unchanged and whose files exist is skipped (--force redraws everything). Figure files
that no claim draws any more are removed.
Only reads results; never computes a number that is not in a result file.
"""
import argparse
import hashlib
import importlib
import importlib.metadata
import json
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402
MODULES = ["foundation", "icl", "samovar", "curse"]
SHARED = ["report.py", "common.py"]  # code that draws every claim's figures
MANIFEST = ".manifest.json"
PROFILES = ["smoke", "default", "full"]
PAPERS = {
    "icl": "Vladymyrov et al., Linear Transformers are Versatile In-Context Learners (NeurIPS 2024)",
    "samovar": "Lu & Yang, Linear Transformers as VAR Models / SAMoVAR (ICML 2025)",
    "curse": "Ke et al., Curse of Attention (CPAL 2025)",
}
BEGIN, END = "<!-- claims-table:begin -->", "<!-- claims-table:end -->"


def sha256(*chunks):
    h = hashlib.sha256()
    for c in chunks:
        h.update(c)
    return h.hexdigest()


def source(name):
    with open(os.path.join(HERE, name), "rb") as fh:
        return fh.read()


def load_modules():
    """PLOTS of every plot module, their report sections, and per kind a hash of the code that
    draws it (this script, common.py and the kind's module; plus the matplotlib version)."""
    plots, sections, code = {}, [], {}
    shared = [source(f) for f in SHARED] + [importlib.metadata.version("matplotlib").encode()]
    code[None] = sha256(*shared)
    for name in MODULES:
        if not os.path.exists(os.path.join(HERE, name + ".py")):
            continue
        mod = importlib.import_module(name)
        digest = sha256(*shared, source(name + ".py"))
        for kind, fn in getattr(mod, "PLOTS", {}).items():
            plots[kind], code[kind] = fn, digest
        if hasattr(mod, "report_section"):
            sections.append((name, mod.report_section))
    return plots, sections, code


def load_results(root):
    """{profile: {claim: result}} and {profile: {claim: sha256 of the result file}}."""
    out, digests = {}, {}
    for profile in PROFILES:
        pdir = os.path.join(root, profile)
        if not os.path.isdir(pdir):
            continue
        res, dig = {}, {}
        for claim in sorted(os.listdir(pdir)):
            f = os.path.join(pdir, claim, "result.json")
            if os.path.isfile(f):
                with open(f, "rb") as fh:
                    raw = fh.read()
                res[claim], dig[claim] = json.loads(raw), sha256(raw)
        if res:
            out[profile], digests[profile] = res, dig
    return out, digests


def fmt(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)):
        if v == 0:
            return "0"
        if abs(v) >= 1e4 or abs(v) < 1e-3:
            return f"{v:.3e}"
        return f"{v:.4g}"
    return str(v)


def cell(text):
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def check_figure(result, base):
    """Each check's measured value against its threshold (log scale where positive), for a claim
    that has no figure of its own."""
    checks = result["checks"]
    if not checks:
        return []
    fig, ax = common.subplots(figsize=(8, 1.6 + 0.45 * len(checks)))
    ys = range(len(checks))
    vals = [c["value"] for c in checks]
    ths = [c["threshold"] for c in checks]
    positive = all(v > 0 for v in vals + ths)
    for y, c in zip(ys, checks):
        color = "tab:green" if c["pass"] else "tab:red"
        ax.plot([c["threshold"]], [y], marker="|", markersize=18, color="black")
        ax.plot([c["value"]], [y], marker="o", color=color)
    ax.set_yticks(list(ys))
    ax.set_yticklabels([f'{c["metric"]} {c["op"]} {fmt(c["threshold"])}' for c in checks],
                       fontsize=8)
    if positive:
        ax.set_xscale("log")
    ax.set_title(f'{result["claim"]["id"]} ({result["profile"]}): verdict {result["verdict"]}, '
                 f'expected {result["claim"]["expected"]}', fontsize=9)
    ax.set_xlabel("value (dot: measured, green = check passes; bar: threshold)")
    ax.invert_yaxis()
    ax.margins(y=0.4)
    return common.save(fig, base, "_checks")


def timing_unit(name):
    return "GFLOP/s" if "gflops" in name else "seconds"


def timings_figure(result, base):
    """Wall-clock timings of a claim that has no other figure (the step-speed claims): bars from
    zero on a linear axis, one panel per unit, each value written at its bar."""
    timings = result.get("timings") or {}
    if not timings:
        return []
    units = sorted({timing_unit(n) for n in timings}, reverse=True)
    rows = max(sum(timing_unit(n) == u for n in timings) for u in units)
    fig, axes = common.subplots(1, len(units), figsize=(5.5 * len(units), 1.4 + 0.4 * rows),
                                squeeze=False)
    for ax, unit in zip(axes[0], units):
        names = sorted(n for n in timings if timing_unit(n) == unit)
        vals = [timings[n] for n in names]
        ax.barh(range(len(names)), vals, color="tab:blue")
        for y, v in enumerate(vals):
            ax.text(v, y, f" {fmt(v)}", va="center", fontsize=8)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names, fontsize=8)
        ax.set_xlim(0, 1.25 * max(vals))
        ax.set_xlabel(f"{unit} (wall clock; not gated, machine-dependent)")
        ax.invert_yaxis()
    fig.suptitle(f'{result["claim"]["id"]} ({result["profile"]}): timings', fontsize=9)
    fig.tight_layout()
    return common.save(fig, base, "_timings")


def draw(result, base, plots):
    """The claim's own figures, else its check margins, else its timings; None if drawing failed."""
    kind = result["claim"]["experiment"]
    try:
        files = plots[kind](result, base) if kind in plots else []
        return files or check_figure(result, base) or timings_figure(result, base)
    except Exception:  # a broken figure must not hide the rest of the report
        print(f'report: figure for {result["claim"]["id"]} ({result["profile"]}) failed:',
              file=sys.stderr)
        traceback.print_exc()
        return None


def read_manifest(fdir):
    try:
        with open(os.path.join(fdir, MANIFEST)) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def write_manifest(fdir, manifest):
    """Deterministic (sorted keys, no times): results/figures is committed."""
    path = os.path.join(fdir, MANIFEST)
    with open(path + ".tmp", "w") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True)
        fh.write("\n")
    os.replace(path + ".tmp", path)


def prune(fdir, keep, failed):
    """Removes figure files that no claim draws any more (a failed claim keeps its old ones)."""
    removed = 0
    for f in sorted(os.listdir(fdir)):
        if f.endswith((".png", ".svg")) and f not in keep and \
                not any(f.startswith(cid) for cid in failed):
            os.remove(os.path.join(fdir, f))
            removed += 1
    return removed


def render_figures(results, digests, root, plots, code, force):
    """Draws the figures of every claim whose result or drawing code changed since the manifest.
    Returns {(profile, claim): [PNG paths relative to root]} and how many claims were drawn."""
    figs, drawn = {}, 0
    for profile, res in results.items():
        fdir = os.path.join(root, "figures", profile)
        os.makedirs(fdir, exist_ok=True)
        old, new, failed = read_manifest(fdir), {}, []
        for cid, r in res.items():
            kind = r["claim"]["experiment"]
            key = sha256(digests[profile][cid].encode(), code.get(kind, code[None]).encode())
            entry = old.get(cid)
            if force or not entry or entry.get("key") != key or \
                    not all(os.path.isfile(os.path.join(fdir, f)) for f in entry.get("files", [])):
                files = draw(r, os.path.join(fdir, cid), plots)
                drawn += 1
                if files is None:
                    failed.append(cid)
                    continue
                entry = {"key": key, "files": [os.path.basename(f) for f in files]}
            new[cid] = entry
            figs[(profile, cid)] = [os.path.join("figures", profile, f)
                                    for f in entry["files"] if f.endswith(".png")]
        removed = prune(fdir, {f for e in new.values() for f in e["files"]}, failed)
        if removed:
            print(f"report: removed {removed} figure files under {fdir} that no claim draws")
        if new != old:
            write_manifest(fdir, new)
    return figs, drawn


def status(r):
    """The verdict cell: the verdict, and what is wrong when it is not the expected one."""
    marks = []
    if r["verdict"] != r["claim"]["expected"]:
        marks.append(f'expected {r["claim"]["expected"]}')
    if not r.get("controls_ok", True):
        marks.append("a check passes on a negative or fails on a positive control")
    return r["verdict"] + (f' **({"; ".join(marks)})**' if marks else "")


def table(res):
    lines = ["| claim | basis | verdict | headline metric | seconds |",
             "|---|---|---|---|---|"]
    for cid, r in res.items():
        head = r["claim"].get("headline", "")
        hv = f'{head} = {fmt(r["metrics"][head])}' if head in r["metrics"] else "-"
        lines.append(f'| `{cid}` | {r["claim"].get("basis", "-")} | {status(r)} | {hv} | '
                     f'{r["seconds"]:.1f} |')
    return "\n".join(lines)


BASIS = {"paper": "the paper's own statement", "reading": "our reading of an informal statement of "
         "the paper", "project": "our own finding about an architecture or protocol (not the paper's)"}
ORIGIN = {"paper": "stated by the paper", "derived": "derived from the paper's math",
          "proposed": "proposed by us"}


def check_rows(r):
    out = ["| metric | op | threshold | origin | measured | 95% interval | half budget | decision "
           "| controls | why this threshold |", "|---|---|---|---|---|---|---|---|---|---|"]
    for k in r["checks"]:
        iv = k.get("interval")
        ivs = f"[{fmt(iv[0])}, {fmt(iv[1])}]" if iv else "-"
        half = fmt(k["value_half_budget"]) if "value_half_budget" in k else "-"
        ctl = "; ".join(f'{c["kind"]} `{c["control"]}` = {fmt(c["value"])}'
                        f'{"" if c["ok"] else " (NOT OK)"}' for c in k.get("controls", [])) or "-"
        dec = (k.get("decision") or "not computed") + (" (power condition)" if k.get("power") else "")
        out.append(f'| `{k["metric"]}` | {k["op"]} | {fmt(k["threshold"])} | {k.get("origin", "-")} '
                   f'| {fmt(k["value"])} | {ivs} | {half} | {dec} | {ctl} | {cell(k["why"])} |')
    return out


def claim_section(r, figs):
    c, p = r["claim"], r["provenance"]
    out = [f'### `{c["id"]}`', "", f'**Statement.** {c["statement"]}  ',
           f'**Basis.** {BASIS.get(c.get("basis"), "-")}. **Source.** {c["source"]}  ']
    if c.get("quote"):
        out.append(f'**The paper says:** "{c["quote"]}"  ')
    out.append(f'**Verdict:** {status(r)}')
    b = r.get("budget")
    if b:
        out.append(f'  \n**Training budget:** verdict {b["verdict_half_budget"]} at half the budget, '
                   f'{b["verdict_whole_budget"]} at the whole budget'
                   f'{"" if b["stable"] else " (not stable: inconclusive at this profile)"}.')
    if c.get("reason"):
        out += ["", f'**Why it is expected to be {c["expected"]}:** {c["reason"]}']
    if r["checks"]:
        out += [""] + check_rows(r)
    gated = {x["metric"] for x in r["checks"]}
    other = {k: v for k, v in r["metrics"].items() if k not in gated}
    if other:
        out += ["", "Other metrics: " + ", ".join(f"`{k}` = {fmt(v)}" for k, v in other.items())]
    if r.get("timings"):
        out += ["", "Timings (wall clock, not gated): " +
                ", ".join(f"`{k}` = {fmt(v)} s" for k, v in r["timings"].items())]
    if r["per_seed"]:
        out += ["", "| per-seed metric | aggregate | values | mean | 95% CI |", "|---|---|---|---|---|"]
        for k, s in r["per_seed"].items():
            ci = s.get("ci95")
            cis = f"[{fmt(ci[0])}, {fmt(ci[1])}]" if ci else "-"
            vals = ", ".join(fmt(v) for v in s["values"])
            out.append(f'| `{k}` | {s.get("aggregate", "mean")} | {vals} | {fmt(s["mean"])} | {cis} |')
    out += ["", f'Provenance: commit `{p["git_commit"][:12]}`{" (dirty)" if p["git_dirty"] else ""}, '
            f'seed {p["seed"]}, {p["threads"]} threads, {p["build_type"]}, {p["compiler"]}, '
            f'Eigen {p["eigen"]}, Boost {p["boost"]}, {p["cpu"]}, {r["seconds"]:.1f} s. '
            f'Re-run: `{p["command"]}`.', ""]
    for f in figs:
        out.append(f"![{os.path.basename(f)}]({f})")
    out.append("")
    return "\n".join(out)


def evidence(checks):
    return "; ".join(f'`{k["metric"]}` = {fmt(k["value"])} against {k["op"]} {fmt(k["threshold"])} '
                     f'(threshold {ORIGIN.get(k.get("origin"), "?")})' for k in checks)


def findings(results):
    """Claims sorted by what their verdicts are, at the largest profile present."""
    for profile in ("full", "default", "smoke"):
        if profile in results:
            break
    else:
        return []
    res = results[profile]
    paper_fails, margins, undecided, project = [], [], [], []
    for cid, r in res.items():
        c = r["claim"]
        failed = [k for k in r["checks"] if k.get("decision") == "fail" and not k.get("power")]
        line = f'- `{cid}`: {c["statement"]}'
        if c.get("basis") == "project":
            project.append(f'{line} **Verdict: {r["verdict"]}.**' +
                           (f' {c["reason"]}' if c.get("reason") else ""))
        elif r["verdict"] == "fails" and any(k.get("origin") in ("paper", "derived") for k in failed):
            hard = [k for k in failed if k.get("origin") in ("paper", "derived")]
            paper_fails.append(f'{line} Measured: {evidence(hard)}.' +
                               (f' {c["reason"]}' if c.get("reason") else ""))
        elif r["verdict"] == "fails":
            margins.append(f'{line} Measured: {evidence(failed)}.' +
                           (f' {c["reason"]}' if c.get("reason") else ""))
        elif r["verdict"] == "inconclusive":
            why = [k for k in r["checks"] if k.get("decision") != "pass"]
            b = r.get("budget")
            unstable = b and not b["stable"]
            text = (f' Not passing: {evidence(why)}.' if why else "") + \
                   (f' The verdict changes with the training budget ({b["verdict_half_budget"]} at '
                    f'half, {b["verdict_whole_budget"]} at the whole).' if unstable else "")
            undecided.append(f'{line}{text}' + (f' {c["reason"]}' if c.get("reason") else ""))
    none = ["- none"]
    return [f"## Findings (profile `{profile}`)", "",
            "### Where the papers do not hold", "",
            "Claims that are the paper's statement (or our reading of it) and fail a threshold that is "
            "the paper's or derived from its math, at a profile that decides:", ""] + (paper_fails or none) + [
            "", "### Margins we proposed that were missed", "",
            "The paper's statement with a margin of ours (not the paper's) that the run missed:", ""] + (
            margins or none) + [
            "", "### Not decided at this scale", "",
            "The run lacks the power to decide (a power condition, an interval straddling a "
            "threshold, or a verdict that changes between half and the whole training budget):",
            ""] + (undecided or none) + [
            "", "### Findings about the architectures", "",
            "Our own measurements, not attributed to the papers:", ""] + (project or none) + [""]


def write_report(root, results, figs, sections):
    out = ["# attnlab report", "",
           "Generated by `attnlab report` from the result files under `results/`. Every number "
           "below is read from a result file; each claim lists the command that reproduces it.", ""]
    for profile, res in results.items():
        ok = sum(r["ok"] for r in res.values())
        out += [f"## Profile `{profile}`: {ok} of {len(res)} claims at their expected verdict", "",
                table(res), ""]
    out += findings(results)
    for profile, res in results.items():
        for name, fn in sections:
            try:
                text = fn(res, profile)
            except Exception:
                traceback.print_exc()
                text = None
            if text:
                out += [text, ""]
    for profile, res in results.items():
        for paper in PAPERS:
            ids = [cid for cid, r in res.items() if r["claim"]["paper"] == paper]
            if not ids:
                continue
            out += [f"## {PAPERS[paper]} — profile `{profile}`", ""]
            for cid in ids:
                out.append(claim_section(res[cid], figs.get((profile, cid), [])))
    path = os.path.join(root, "REPORT.md")
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write("\n".join(out) + "\n")
    os.replace(tmp, path)


def update_readme(readme, results):
    if not os.path.isfile(readme):
        return
    profile = "default" if "default" in results else next(iter(results))
    res = results[profile]
    with open(readme) as fh:
        text = fh.read()
    if BEGIN not in text or END not in text:
        print(f"report: {readme} has no claims-table markers; not updated", file=sys.stderr)
        return
    rows = ["| claim | basis | statement | verdict (" + profile + ") |", "|---|---|---|---|"]
    for cid, r in res.items():
        c = r["claim"]
        rows.append(f'| `{cid}` | {c.get("basis", "-")} | {cell(c["statement"])} | {status(r)} |')
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + BEGIN + "\n" + "\n".join(rows) + "\n" + END + tail
    tmp = readme + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(new)
    os.replace(tmp, readme)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="results")
    ap.add_argument("--readme", default=None)
    ap.add_argument("--force", action="store_true",
                    help="redraw every figure, even those whose result and code are unchanged")
    a = ap.parse_args()
    results, digests = load_results(a.results)
    if not results:
        print(f"report: no result files under {a.results}/ (run `attnlab verify` first)",
              file=sys.stderr)
        return 2
    plots, sections, code = load_modules()
    figs, drawn = render_figures(results, digests, a.results, plots, code, a.force)
    write_report(a.results, results, figs, sections)
    if a.readme:
        update_readme(a.readme, results)
    n = sum(len(v) for v in figs.values())
    print(f"report: {a.results}/REPORT.md with {n} figures; drew those of {drawn} of "
          f"{sum(map(len, results.values()))} claims, the others are unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
