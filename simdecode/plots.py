"""Figures of a simulation result: functions ``(result, ax=None) -> Axes``.

Plots never run a simulation and the engine never plots. Everything here uses matplotlib's
object-oriented API (:class:`matplotlib.figure.Figure` with the Agg canvas), not ``pyplot``, so
importing this module changes no global state and works without a display::

    fig = Figure(figsize=(8, 4.5))
    token_timeline(result, ax=fig.add_subplot())
    save_figure(fig, "timeline.png")

In a notebook, ``token_timeline(result)`` returns an ``Axes`` whose ``.figure`` displays inline.
"""

from __future__ import annotations

import os
from typing import IO, Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

#: more lines than this stop being readable; the first requests (by arrival) are drawn
MAX_REQUESTS_DRAWN = 50


def new_figure(width_in: float = 8.0, height_in: float = 4.5) -> Figure:
    """A figure attached to an Agg canvas, independent of pyplot."""
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str] | IO[bytes], dpi: int = 150) -> None:
    """Write ``fig`` to ``path`` (a file name or a binary file object; PNG unless the name says otherwise)."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    kwargs: dict[str, Any] = {"dpi": dpi}
    if not isinstance(path, (str, os.PathLike)):
        kwargs["format"] = "png"
    fig.savefig(path, **kwargs)


def _scenario_name(result: Any) -> str | None:
    scenario = getattr(result, "scenario", None)
    return getattr(scenario, "name", None)


def token_timeline(result: Any, ax: Axes | None = None, max_requests: int = MAX_REQUESTS_DRAWN) -> Axes:
    """Output tokens produced over time, one line per request.

    x is simulated time in milliseconds, y the number of output tokens a request has produced.
    A request with recorded per-token times (``token_times_s``) is drawn as a step line; one
    without is drawn as a straight segment from its first token to its last (its mean TPOT is
    the inverse slope). An open circle marks the arrival (at y = 0) and a dot the first token;
    the dotted stretch between them is the TTFT: queueing plus prefill.
    """
    if ax is None:
        ax = new_figure().add_subplot()
    requests = sorted(getattr(result, "requests", ()) or (), key=lambda r: (r.arrival_s, r.id))
    shown = requests[:max_requests]
    colors = [f"C{i % 10}" for i in range(len(shown))]
    for record, color in zip(shown, colors):
        arrival_ms = record.arrival_s * 1e3
        first_ms = record.first_token_s * 1e3
        times = getattr(record, "token_times_s", ()) or ()
        if times:
            xs = [t * 1e3 for t in times]
            ys = list(range(1, len(xs) + 1))
            ax.step(xs, ys, where="post", color=color, linewidth=1.0)
        else:
            ax.plot([first_ms, record.finished_s * 1e3], [1, record.output_tokens], color=color, linewidth=1.0)
        ax.plot([arrival_ms, first_ms], [0, 1], color=color, linewidth=0.8, linestyle=":")
        ax.plot([arrival_ms], [0], marker="o", markersize=4, markerfacecolor="none", color=color, clip_on=False)
        ax.plot([first_ms], [1], marker="o", markersize=3, color=color, clip_on=False)

    ax.set_xlabel("simulated time (ms)")
    ax.set_ylabel("output tokens produced")
    title = "token timeline"
    name = _scenario_name(result)
    if name:
        title = f"{name}: {title}"
    if len(requests) > len(shown):
        title += f" (first {len(shown)} of {len(requests)} requests)"
    ax.set_title(title, fontsize="medium")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if shown:
        handles = [
            Line2D([], [], color="0.3", marker="o", markerfacecolor="none", linestyle="none", label="arrival"),
            Line2D([], [], color="0.3", linestyle=":", label="waiting + prefill (TTFT)"),
            Line2D([], [], color="0.3", marker="o", markersize=3, linestyle="none", label="first token"),
            Line2D([], [], color="0.3", linewidth=1.0, label="decoding"),
        ]
        ax.legend(handles=handles, loc="upper left", fontsize="small", frameon=False)
    else:
        ax.text(0.5, 0.5, "no completed requests", transform=ax.transAxes, ha="center", va="center")
    return ax
