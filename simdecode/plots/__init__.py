"""Figures: functions of results that draw on an optional matplotlib Axes and return it.

No pyplot state, no display needed (see :mod:`simdecode.plots.base`)::

    from simdecode.plots import new_figure, save_figure, token_timeline
    fig = new_figure()
    token_timeline(result, ax=fig.add_subplot())
    save_figure(fig, "timeline.png")

In a notebook, ``token_timeline(result)`` returns an Axes whose ``.figure`` displays inline.

- :mod:`~simdecode.plots.results`: one run (token timeline, KV occupancy) and per-user against
  per-GPU tokens/s of several runs;
- :mod:`~simdecode.plots.parallel` and :mod:`~simdecode.plots.speculative`: figures of several
  :class:`~simdecode.result.Result` objects;
- :mod:`~simdecode.plots.sweeps`: the canonical figures of a sweep table (pipeline depth, tp
  degree and all-reduce share, per-user against per-GPU, speculative speed-up);
- :mod:`~simdecode.plots.gantt`: one token through the stages and all-reduces;
- :mod:`~simdecode.plots.choose`: which figure ``simdecode plot DIR`` draws.
"""

from simdecode.present.lazy import lazy_exports

#: what the package exports, by the module that defines it. Imported on first use (PEP 562), so
#: that ``simdecode --help`` and every command that draws nothing do not load matplotlib.
_EXPORTS = {
    "new_figure": "base", "save_figure": "base", "token_gantt": "gantt",
    "pipeline_depth": "parallel", "tp_scaling": "parallel",
    "MAX_REPLICAS_DRAWN": "results", "MAX_REQUESTS_DRAWN": "results", "kv_occupancy": "results",
    "throughput_tradeoff": "results", "token_timeline": "results",
    "accepted_histogram": "speculative", "speculation_speedup": "speculative",
    "pipeline_figure": "sweeps", "pareto_figure": "sweeps", "speculative_figure": "sweeps", "tp_figure": "sweeps",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
