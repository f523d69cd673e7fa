"""The estimate's figure: active parameters against per-user tokens/s, one panel per assumption.

Each panel varies one assumption over its values with every other one held at the *baseline*
(the explaining combination whose size at the observed speed is the median one); each curve is
the simulated speed of the synthetic models of the size ladder that fit in memory. The observed
band is the grey column; where a curve crosses it is that assumption set's answer. The estimate's
whole interval is the shaded row. A function of the result's plain data (``curves=True``).
"""

from __future__ import annotations

import math

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from simdecode.estimate.space import AXES
from simdecode.plots.base import ConstrainedLayout


def _label(a: dict, skip: str | None = None) -> str:
    parts = [f"{a['hardware']}", a["precision"], f"tp{a['tp']}", a["runtime"], f"batch {a['batch']}",
             f"context {a['context']}", f"spec {a['speculation']}", a["arch"]]
    keys = ["hardware", "precision", "tp", "runtime", "batch", "context", "speculation", "arch"]
    return ", ".join(p for p, k in zip(parts, keys) if k != skip)


def estimate_figure(result: dict) -> Figure:
    """The figure for ``result`` (from :func:`simdecode.estimate.estimate` with ``curves=True``)."""
    curves = result.get("curves")
    if not curves:
        raise ValueError("the result has no curves: call estimate(..., curves=True)")
    panels = [axis for axis in AXES if axis in curves]
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(4.2 * cols, 3.9 * rows + 0.9), layout=ConstrainedLayout())
    FigureCanvasAgg(fig)
    obs = result["observed"]
    lo, hi = result["interval"]["active_params"]
    base = result["baseline"]["assumptions"]
    xs_all = [p[1] for axis in panels for row in curves[axis] for p in row["points"]]
    x_min, x_max = max(min(xs_all), obs["tps"] / 20), max(xs_all)
    for i, axis in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.axvspan(*obs["band_tps"], color="0.8", zorder=0, label=f"observed {obs['tps']:g} tok/s ±{obs['tolerance']:.0%}")
        ax.axhspan(lo / 1e9, hi / 1e9, color="tab:orange", alpha=0.12, zorder=0, label="estimate's interval")
        for row in curves[axis]:
            pts = [(t, a / 1e9) for a, t in row["points"] if t >= x_min]
            if not pts:
                continue
            style = "-" if row["value"] == str(base[axis]) else "--"
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker=".", markersize=3,
                    label=f"{row['value']}" + (" (baseline)" if style == "-" else ""))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(x_min, x_max * 1.2)
        ax.set_xlabel("per-user decode speed, tokens/s (log)")
        ax.set_ylabel("active parameters, billions (log)")
        ax.set_title(f"varying {axis}", fontsize=10)
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=7, loc="upper right")
    fig.suptitle("Active parameters that run at a given per-user speed; each panel varies one assumption, the others "
                 f"held at\n{_label(base)} (output {result['assumptions']['output_tokens']} tokens)", fontsize=10)
    return fig


def estimate_png(result: dict, dpi: int = 100) -> bytes:
    import io

    buf = io.BytesIO()
    estimate_figure(result).savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
