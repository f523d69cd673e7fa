"""What every figure shares: a pyplot-free figure, saving, titles.

Plots never run a simulation and the engine never plots. Everything here uses matplotlib's
object-oriented API (:class:`matplotlib.figure.Figure` with the Agg canvas), not ``pyplot``, so
importing it changes no global state and works without a display.
"""

from __future__ import annotations

import os
import warnings
from typing import IO, Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine


class ConstrainedLayout(ConstrainedLayoutEngine):
    """matplotlib's constrained layout, without its warning when a figure's decorations (a long
    legend, many tick labels) leave the axes no room: matplotlib then keeps the layout it had and
    still draws the figure, which is what simdecode saves. The warning would otherwise reach the
    user as a traceback-like line (or fail a run where warnings are errors) for a figure that is
    written all the same."""

    def execute(self, fig: Any) -> Any:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="constrained_layout not applied")
            return super().execute(fig)


def new_figure(width_in: float = 8.0, height_in: float = 4.5) -> Figure:
    """A figure attached to an Agg canvas, independent of pyplot, with constrained layout."""
    fig = Figure(figsize=(width_in, height_in), layout=ConstrainedLayout())
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


def _titled(result: Any, title: str) -> str:
    """``"<scenario>: <title>"``, or the bare title when the result has no scenario name."""
    name = _scenario_name(result)
    return f"{name}: {title}" if name else title
