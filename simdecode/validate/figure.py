"""Predicted against measured, log-log, with the 10% and 25% bands; one marker per group."""

from __future__ import annotations

import math
from statistics import median

from simdecode.validate.runner import Outcome

MARKERS = "osD^v<>pP*hX8d"


def figure_png(outcomes: list[Outcome]) -> bytes:
    """The PNG as bytes (rendered with matplotlib's Agg backend, nothing written)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [o for o in outcomes if o.expressed and o.point.measured > 0 and o.predicted > 0]
    fig, ax = plt.subplots(figsize=(8.5, 7), dpi=110)
    if shown:
        ratios = [o.point.measured for o in shown] + [o.predicted for o in shown]
        low, high = min(ratios) / 1.6, max(ratios) * 1.6
    else:
        low, high = 0.1, 10.0
    line = [low, high]
    ax.plot(line, line, color="black", lw=1, label="predicted = measured")
    for band, shade in ((0.25, 0.10), (0.10, 0.18)):
        ax.fill_between(line, [v * (1 - band) for v in line], [v * (1 + band) for v in line], color="tab:green",
                        alpha=shade, lw=0, label=f"within {band:.0%}")
    groups = sorted({o.point.group for o in shown})
    cmap = plt.get_cmap("tab20")
    for i, group in enumerate(groups):
        pts = [o for o in shown if o.point.group == group]
        n = len(pts)
        med = median(abs(o.error) for o in pts)
        ax.scatter([o.point.measured for o in pts], [o.predicted for o in pts], s=22, marker=MARKERS[i % len(MARKERS)],
                   color=cmap(i % 20), edgecolors="black", linewidths=0.3,
                   label=f"{group} ({n} row{'' if n == 1 else 's'}, median |error| {med:.0%})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel("measured (each row in its own unit: ms, us, tokens/s or x)")
    ax.set_ylabel("predicted by simdecode (same unit)")
    ax.set_title("simdecode validate: predicted vs measured\n(presets and engine defaults as shipped; "
                 "nothing fitted per case)", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="upper left", ncol=1, framealpha=0.9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _finite(x: float) -> bool:
    return math.isfinite(x)
