"""The bounds on what a scenario, a model config or a command may ask for, in one place.

Guards against files that would exhaust memory or keep a laptop busy for days, and the ranges
the samplers and the trace reader accept, and the floors of plausible hardware figures. The schema,
the cross-field checks, the plausibility rules, the preset reader, ``explain``, the samplers
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
#: sequences in one step: the largest scheduler.max_batch_size, and ``explain --batch``
MAX_BATCH_SIZE = 65_536
#: arrival rates the samplers draw meaningfully: a gap of 1 / rate must be finite and the run end
MIN_RATE_PER_S, MAX_RATE_PER_S = 1e-6, 1e9
#: the smallest coefficient of variation of bursty gaps: gamma shape 1 / cv^2 = 1e6
MIN_CV = 1e-3
#: floors below which a bandwidth (B/s), a FLOP rate (FLOP/s) or a memory size given without a unit
#: (bytes) is a slip (:mod:`simdecode.scenario.plausible` says why)
MIN_BANDWIDTH_BPS = 1e9
MIN_FLOPS = 1e11
MIN_PLAIN_BYTES = 1e6
#: JSON nesting a model config may have (real ones nest 3 or 4 levels)
MAX_CONFIG_DEPTH = 16
