"""The bounds on what a scenario may ask for, in one place.

Guards against files that would exhaust memory or keep a laptop busy for days, and the ranges
the samplers and the trace reader accept. The schema, the cross-field checks, the samplers
(:mod:`simdecode.workloads`) and the trace reader import them from here.
"""

from __future__ import annotations

#: requests one scenario submits (a closed loop: in total), rows of a trace
MAX_REQUESTS = 1_000_000
#: tokens of one request, prompt or output
MAX_TOKENS = 2_000_000
#: GPUs of one parallel degree (tp, pp, dp, ep)
MAX_GPUS = 4096
#: tokens (prompt + output, summed over requests) one scenario may ask for, by fidelity: a guard
#: against a file that would keep a laptop busy for days (~1e5-1e6 tokens per second of wall time
#: at step fidelity, ~10x fewer at layer, ~1000x fewer at op)
MAX_TOTAL_TOKENS = {"step": 2e9, "layer": 2e8, "op": 2e6}
