"""When an overlap-scheduled engine hands a step's first tokens to the client.

An engine with an overlap scheduler (``scheduler.overlap``, scenario/engines.py) launches step k+1
before it looks at step k's results. In SGLang and TensorRT-LLM's PyTorch backend the same host
thread does both, in that order, so the tokens step k sampled leave the engine only once the host
has dispatched every kernel of step k+1 (and the GPU has finished step k)::

    t_emit(k) = max(t_end(k), t_start(k) + t_host(k) + t_host(k+1))

``t_host`` is the host's time to issue a step: its eager dispatch floor for a step that runs
outside the CUDA graphs (``plan.host_floor_s``, costmodel/eager.py), otherwise the runtime's per-step
host work (``step_overhead``, the plan's first op). After a graph-replayed decode step the wait is
that small step overhead and almost always hidden; after a prefill that is followed by another
prefill run eagerly (a queue of prompts, a burst, TensorRT-LLM admitting one prompt a step) the
first tokens wait for the whole of the second prefill's dispatch.

Sources:

- SGLang ``Scheduler.event_loop_overlap``: ``run_batch`` (launch) of the new batch, then
  ``process_batch_result`` of the previous one. "Because we delayed the processing of the first
  batch in favor of launching the kernels for the next batch first" (sgl-project/sglang PR #2067,
  enabling overlap by default, on its higher median TTFT). PR #11856 (2025-10) added
  ``SGLANG_DISABLE_CONSECUTIVE_PREFILL_OVERLAP`` (default off) to process a prefill's result
  before launching a second prefill; measured on H200 TP 8 at concurrency 100 (PR #26226): TTFT
  3.966 s with the default, 2.831 s with the variable set.
- TensorRT-LLM ``PyExecutor._executor_loop_overlap``: ``_forward_step`` of the scheduled batch, then
  ``_update_requests`` (waits on the previous batch's sampler event) and ``_process_previous_batch``
  -> ``_handle_responses`` for the previous batch.

vLLM's async scheduling is not like this: its engine core submits step k+1 to the worker process
and collects step k's output, which the worker sends from its own thread once the copy is done,
without waiting for step k+1's dispatch. Only the first token is moved here (the client's TTFT);
later tokens would shift by the same wait in steady decoding, which leaves TPOT unchanged.
"""

from __future__ import annotations

#: engines whose host thread launches step k+1 before it returns step k's tokens (module docstring)
RESULTS_AFTER_NEXT_LAUNCH = frozenset({"sglang", "trt-llm"})


def delays_results(engine: str, overlap: bool) -> bool:
    """Does an engine of this name, with or without its overlap scheduler, return a step's tokens
    only after launching the next step?"""
    return overlap and engine in RESULTS_AFTER_NEXT_LAUNCH


def step_host_s(host_floor_s: float, step_overhead_s: float) -> float:
    """Seconds the host takes to issue one step: its eager dispatch floor when it runs outside the
    CUDA graphs (``host_floor_s`` > 0), else the runtime's per-step host work."""
    return host_floor_s if host_floor_s > 0 else step_overhead_s


def emitted_s(step_start_s: float, step_end_s: float, host_s: float, next_host_s: float) -> float:
    """When step k's tokens leave the engine: after the GPU finished step k and after the host,
    which started issuing step k at ``step_start_s`` and took ``host_s`` to do it, has issued step
    k+1 (``next_host_s``).

    Two TensorRT-LLM prefills of DeepSeek-V3 run eagerly one after the other, each host-bound at
    59.1 ms: the first starts at 0 and ends at 59.1 ms; its token leaves at 0 + 59.1 + 59.1 = 118.2 ms.
    """
    return max(step_end_s, step_start_s + host_s + next_host_s)
