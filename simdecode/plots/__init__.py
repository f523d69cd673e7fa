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

import importlib

#: where each public name lives: imported on first use, so that ``simdecode --help`` (whose ``plot``
#: subcommand lives in this package) does not load matplotlib (0.6 s)
_HOMES = {
    "new_figure": "base", "save_figure": "base", "token_gantt": "gantt", "pipeline_depth": "parallel",
    "tp_scaling": "parallel", "MAX_REPLICAS_DRAWN": "results", "MAX_REQUESTS_DRAWN": "results",
    "kv_occupancy": "results", "throughput_tradeoff": "results", "token_timeline": "results",
    "accepted_histogram": "speculative", "speculation_speedup": "speculative", "pipeline_figure": "sweeps",
    "pareto_figure": "sweeps", "speculative_figure": "sweeps", "tp_figure": "sweeps",
}

__all__ = ["MAX_REPLICAS_DRAWN", "MAX_REQUESTS_DRAWN", "accepted_histogram", "kv_occupancy", "new_figure",
           "pareto_figure", "pipeline_depth", "pipeline_figure", "save_figure", "speculation_speedup",
           "speculative_figure", "throughput_tradeoff", "token_gantt", "token_timeline", "tp_figure", "tp_scaling"]


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'simdecode.plots' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"simdecode.plots.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
