"""A figure whose decorations leave its axes no room is still drawn, without a warning.

matplotlib's constrained layout warns "constrained_layout not applied because axes sizes collapsed to
zero" and keeps the previous layout; simdecode's figures save all the same (plots/base.py). Under the
suite's warnings-as-errors filter the warning failed `simdecode plot` on a fuzzed sweep table
(tests/hostile/test_results_fuzz.py) once in a while."""

from __future__ import annotations

import io
import warnings

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from simdecode.plots.base import new_figure, save_figure


def _crowd(fig: Figure) -> Figure:
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label="a label " * 40)
    ax.set_title("a title " * 60)
    ax.set_ylabel("a y label " * 30)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def test_a_collapsed_layout_saves_a_png_and_warns_nothing() -> None:
    fig = _crowd(new_figure(2.0, 1.0))
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_figure(fig, buf)
    assert buf.getvalue().startswith(b"\x89PNG")


def test_matplotlib_itself_warns_for_the_same_figure() -> None:
    """The figure above does collapse the layout: plain constrained layout warns on it."""
    fig = Figure(figsize=(2.0, 1.0), layout="constrained")
    FigureCanvasAgg(fig)
    _crowd(fig)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    assert any("constrained_layout not applied" in str(w.message) for w in caught)
