"""Does a scenario's deployment fit its GPUs? Checked next to the deployment, not in the schema.

The scenario package validates what a file says (types, ranges, rules across keys); whether the
model then fits memory is physics (parameter counts, sharding, KV bytes), so it is checked here,
where the scenario becomes a :class:`~simdecode.costmodel.deployment.Deployment`.
:func:`simdecode.simulate` and ``simdecode explain`` call :func:`check_fits` before anything else;
a sweep or a search can call it to skip a point cheaply. Its error names the scenario file and the
line of ``model`` (through :meth:`Scenario.error_at`), like a validation error.
"""

from __future__ import annotations

from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.memory import MemoryNeed, budget_bytes, need_for_request
from simdecode.units import format_si


def memory_need(scenario, dep: Deployment | None = None) -> MemoryNeed:
    """What the fullest GPU needs for one typical request of ``scenario``: fixed lengths, or the
    mean of a distribution or trace (longer draws that cannot fit the whole cache are rejected at
    run time, one by one, with their reason)."""
    dep = Deployment.from_scenario(scenario) if dep is None else dep
    w, sched = scenario.workload, scenario.scheduler
    budget = budget_bytes(scenario.hardware.gpu.memory_bytes, sched.memory_utilization)
    return need_for_request(dep, budget, w.prompt_tokens + w.output_tokens, sched.kv_block_tokens)


def check_fits(scenario, dep: Deployment | None = None) -> None:
    """Raise a :class:`~simdecode.errors.ScenarioError` at ``model`` when one typical request
    does not fit: weights + its KV (in whole blocks) + workspace over the memory budget."""
    need = memory_need(scenario, dep)
    if need.fits:
        return
    s = scenario
    gpus = s.parallelism.tp * s.parallelism.pp
    raise s.error_at(
        "model",
        f"{s.model.name} does not fit: each of the {gpus} GPU(s) needs {format_si(need.weights, 'B')} of weights + "
        f"{format_si(need.kv, 'B')} KV for one {need.tokens}-token request + {format_si(need.workspace, 'B')} "
        f"workspace = {format_si(need.needed, 'B')}, but memory_utilization {s.scheduler.memory_utilization:g} x "
        f"{format_si(s.hardware.gpu.memory_bytes, 'B')} = {format_si(need.budget, 'B')}; "
        "raise parallelism.tp or parallelism.pp, use a smaller precision.weights, or a GPU with more memory",
    )
