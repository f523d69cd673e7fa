"""Which canonical figure a sweep's table calls for, from what it varied.

In order: pipeline depth varies -> :func:`~simdecode.plots.sweeps.pipeline_figure`; tensor
parallelism -> ``tp_figure``; speculative decoding is on -> ``speculative_figure``; the load
(concurrency or arrival rate) -> ``pareto_figure``; anything else -> ``points_figure``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from simdecode.plots import sweeps
from simdecode.plots.base import new_figure

FIGURES: dict[str, Callable] = {
    "pipeline": sweeps.pipeline_figure,
    "tp": sweeps.tp_figure,
    "speculative": sweeps.speculative_figure,
    "pareto": sweeps.pareto_figure,
    "points": sweeps.points_figure,
}


def choose_figure(rows: Sequence[Mapping[str, Any]]) -> str:
    """The name (a key of :data:`FIGURES`) of the figure for ``rows``."""
    def varies(key: str) -> bool:
        return len(sweeps.distinct(rows, key)) > 1

    if varies(sweeps.PP):
        return "pipeline"
    if varies(sweeps.TP):
        return "tp"
    if any(r.get(sweeps.SPEEDUP) is not None for r in rows) and (
            varies(sweeps.CONCURRENCY) or varies(sweeps.ACCEPTANCE)):
        return "speculative"
    if varies(sweeps.CONCURRENCY) or varies(sweeps.RATE):
        return "pareto"
    return "points"


def missing(name: str, rows: Sequence[Mapping[str, Any]]) -> str | None:
    """Why figure ``name`` would say nothing about ``rows`` (its x axis does not vary), or None."""
    def varies(key: str) -> bool:
        return len(sweeps.distinct(rows, key)) > 1

    if name == "pipeline" and not varies(sweeps.PP):
        return "needs a sweep over parallelism.pp"
    if name == "tp" and not varies(sweeps.TP):
        return "needs a sweep over parallelism.tp"
    if name == "speculative" and not (any(r.get(sweeps.SPEEDUP) is not None for r in rows)
                                      and (varies(sweeps.CONCURRENCY) or varies(sweeps.ACCEPTANCE))):
        return "needs speculative decoding and a sweep over workload.arrival.concurrency or decoding.acceptance"
    if name == "pareto" and not (varies(sweeps.CONCURRENCY) or varies(sweeps.RATE)):
        return "needs a sweep over workload.arrival.concurrency or workload.arrival.rate"
    return None


def draw(name: str, rows: Sequence[Mapping[str, Any]]):
    """Draw figure ``name`` of ``rows`` on a new figure; returns the Figure."""
    result = FIGURES[name](rows)
    first = result[0] if isinstance(result, list) else result
    return first.figure if first is not None else new_figure()
