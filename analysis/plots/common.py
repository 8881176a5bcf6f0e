"""What every plot module shares: matplotlib imported on first use (a report with nothing to redraw
never loads it), reproducible PNG/SVG files, integer ticks and heat maps with a colour scale.
Reads nothing and computes no number."""
import functools
import os

DPI = 120


@functools.cache
def pyplot():
    """matplotlib.pyplot on the Agg backend, set up for byte-identical files."""
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")  # no creation date in SVG/PNG metadata
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "attnlab"  # fixed SVG element ids
    import matplotlib.pyplot as plt

    return plt


def subplots(*args, **kwargs):
    return pyplot().subplots(*args, **kwargs)


def save(fig, base, suffix=""):
    """Writes <base><suffix>.png and .svg, closes the figure, returns the two paths."""
    out = []
    for ext in ("png", "svg"):
        path = f"{base}{suffix}.{ext}"
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
        out.append(path)
    pyplot().close(fig)
    return out


def integer_ticks(ax, axis="x"):
    """Layer counts, depths and lags are integers: no tick at 2.5 layers."""
    from matplotlib.ticker import MaxNLocator

    (ax.xaxis if axis == "x" else ax.yaxis).set_major_locator(
        MaxNLocator(integer=True, min_n_ticks=1))


def heatmap(ax, matrix, vmax, annotate=None, colorbar=True):
    """A matrix on a diverging scale centred at 0 (|value| <= vmax) with its colour bar; with
    annotate (a format such as "{:.3f}") each cell carries its value, white on dark cells."""
    im = ax.imshow(matrix, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    if annotate:
        for (r, c), v in _cells(matrix):
            ax.text(c, r, annotate.format(v), ha="center", va="center", fontsize=8,
                    color="white" if abs(v) > 0.55 * vmax else "black")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04).ax.tick_params(labelsize=7)
    return im


def _cells(matrix):
    for r, row in enumerate(matrix):
        for c, v in enumerate(row):
            yield (r, c), float(v)
