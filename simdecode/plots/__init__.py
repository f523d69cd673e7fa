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

from simdecode.plots.base import new_figure, save_figure
from simdecode.plots.gantt import token_gantt
from simdecode.plots.parallel import pipeline_depth, tp_scaling
from simdecode.plots.results import MAX_REPLICAS_DRAWN, MAX_REQUESTS_DRAWN, kv_occupancy, throughput_tradeoff, \
    token_timeline
from simdecode.plots.speculative import accepted_histogram, speculation_speedup
from simdecode.plots.sweeps import pipeline_figure, pareto_figure, speculative_figure, tp_figure

__all__ = ["MAX_REPLICAS_DRAWN", "MAX_REQUESTS_DRAWN", "accepted_histogram", "kv_occupancy", "new_figure",
           "pareto_figure", "pipeline_depth", "pipeline_figure", "save_figure", "speculation_speedup",
           "speculative_figure", "throughput_tradeoff", "token_gantt", "token_timeline", "tp_figure", "tp_scaling"]
