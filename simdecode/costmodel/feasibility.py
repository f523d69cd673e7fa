"""Does a scenario's deployment fit its GPUs? Checked next to the deployment, not in the schema.

The scenario package validates what a file says (types, ranges, rules across keys); whether the
model then fits memory is physics (parameter counts, sharding, KV bytes, the engine's activation
workspace and memory fraction: :mod:`simdecode.costmodel.memory`), so it is checked here, where
the scenario becomes a :class:`~simdecode.costmodel.deployment.Deployment`.
:func:`simdecode.simulate` and ``simdecode explain`` call :func:`check_fits` before anything else;
a sweep or a search can call it to skip a point cheaply. Its error names the scenario file and the
line of ``model`` (through :meth:`Scenario.error_at`), like a validation error.
"""

from __future__ import annotations

from simdecode.costmodel import devices
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.memory import MemoryNeed, need_for_request
from simdecode.units import format_si


def memory_need(scenario, dep: Deployment | None = None) -> MemoryNeed:
    """What the tightest GPU needs for one typical request of ``scenario``: fixed lengths, or the
    mean of a distribution or trace (longer draws that cannot fit the whole cache are rejected at
    run time, one by one, with their reason)."""
    dep = Deployment.from_scenario(scenario) if dep is None else dep
    w = scenario.workload
    return need_for_request(scenario, dep, w.prompt_tokens + w.output_tokens)


def check_fits(scenario, dep: Deployment | None = None) -> None:
    """Raise a :class:`~simdecode.errors.ScenarioError` at ``model`` when the KV budget the engine
    leaves after weights and activation workspace cannot hold one typical request."""
    need = memory_need(scenario, dep)
    if need.fits:
        return
    s, gpu = scenario, scenario.hardware.gpu
    gpus = s.parallelism.tp * s.parallelism.pp
    hint = ("raise parallelism.tp or parallelism.pp, use a smaller precision.weights, fewer "
            "scheduler.max_batched_tokens, or a GPU with more memory")
    if gpu.kind != "gpu":  # an SRAM chip: say how many it takes
        dep = Deployment.from_scenario(s) if dep is None else dep
        weights = sum(dep.weight_bytes_per_gpu(st) for st in range(dep.pp)) * s.parallelism.tp
        chips = devices.chips_to_hold(weights, need.kv * gpus, gpu, s.scheduler.memory_utilization)
        hint = f"the model needs at least {chips} chips of this kind: spread it with parallelism.tp x parallelism.pp"
    reserved = f" ({format_si(gpu.os_reserved_bytes, 'B')} kept by the OS)" if gpu.os_reserved_bytes else ""
    raise s.error_at(
        "model",
        f"{s.model.name} does not fit: each of the {gpus} device(s) has {format_si(need.total, 'B')}{reserved}, holds "
        f"{format_si(need.weights, 'B')} of weights and keeps {format_si(need.workspace, 'B')} of activation "
        f"workspace ({s.scheduler.max_batched_tokens} tokens per step), which with memory_utilization "
        f"{s.scheduler.memory_utilization:g} leaves {format_si(max(0.0, need.kv_budget), 'B')} of KV cache, less than "
        f"one {need.tokens}-token request needs ({format_si(need.kv, 'B')}); {hint}",
    )
