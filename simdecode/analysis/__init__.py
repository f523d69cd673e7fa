"""Analyses: functions of a :class:`~simdecode.result.Result` or of a scenario, nothing stored.

- :mod:`~simdecode.analysis.summary`: the summary JSON of a Result (docs/metrics.md);
- :mod:`~simdecode.analysis.breakdown`, :mod:`~simdecode.analysis.load`: its parts (where time
  went and the bottleneck; KV cache, queue and batch monitors);
- :mod:`~simdecode.analysis.roofline`: the roofline bound on one request's speed (a scenario);
- :mod:`~simdecode.analysis.scaling`: where tensor parallelism stops paying (a scenario);
- :mod:`~simdecode.analysis.critical_path`: one decode token's critical path (``simdecode explain``);
- :mod:`~simdecode.analysis.pipeline`: pipeline depth against pp 1 for one request, many requests
  and TTFT (a scenario; ``simdecode explain``'s "Pipeline depth");
- :mod:`~simdecode.analysis.speculative`: speculative decoding's yield, its analytic speed-up, and
  the measured standard-decoding baseline, computed only when asked.
- :mod:`~simdecode.analysis.device_words`: what the sentences call a device of each kind (a GPU, or
  a chip with vector and matrix units).

Analyses call the cost model; only the speculative baseline runs the engine (a second
simulation), and only when asked. docs/architecture.md draws the layers.
"""
