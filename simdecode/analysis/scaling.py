"""Where tensor parallelism stops speeding up one request, for a scenario (physics.md 2.5).

:func:`tp_scaling` re-costs the scenario's batch-1 decode step at every tp its model and hardware
allow (other settings unchanged) with :func:`simdecode.costmodel.scaling.decode_step`, and adds the
analytic t* of :func:`simdecode.costmodel.scaling.analytic_crossover`. No simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

from simdecode.costmodel.deployment import Deployment, deployment_with_tp
from simdecode.costmodel.memory import weights_fit
from simdecode.costmodel.scaling import analytic_crossover, decode_step


@dataclass(frozen=True)
class TpScaling:
    per_request_tps: dict[int, float]      # batch-1 decode speed by tp, tokens/s
    allreduce_share: dict[int, float]      # exposed collective share of the step by tp
    crossover_tp: int | None               # best tp, None if still rising at the largest
    analytic_crossover_tp: float | None    # physics.md 2.5 t*, None if beyond MAX_ANALYTIC_TP

    def as_dict(self) -> dict:
        return {"per_request_tps": {str(k): v for k, v in self.per_request_tps.items()},
                "allreduce_share": {str(k): v for k, v in self.allreduce_share.items()},
                "crossover_tp": self.crossover_tp, "analytic_crossover_tp": self.analytic_crossover_tp}


def valid_tp_degrees(scenario) -> list[int]:
    """tp values the model's heads allow on this hardware (with the scenario's pp), whose weights
    fit each GPU's memory budget."""
    m, hw, pp = scenario.model, scenario.hardware, scenario.parallelism.pp
    limit = hw.total_gpus // pp
    out = []
    for t in range(1, limit + 1):
        if m.num_attention_heads % t:
            continue
        if not m.uses_mla and m.kv_heads % t and t % m.kv_heads:
            continue
        if t > hw.gpus_per_node and t % hw.gpus_per_node:
            continue
        if scenario.parallelism.ep > 1 and t % scenario.parallelism.ep:
            continue
        if not _fits(scenario, t):
            continue  # does not fit: the check would refuse this layout
        out.append(t)
    return out


def _fits(scenario, tp: int) -> bool:
    """The weights and the engine's workspace leave some KV budget on every stage at ``tp``."""
    par = scenario.parallelism.model_copy(update={"tp": tp})
    s = scenario.model_copy(update={"parallelism": par})
    return weights_fit(s, deployment_with_tp(scenario, tp))


def tp_scaling(scenario, context_tokens: int | None = None) -> TpScaling:
    """Batch-1 decode speed for every valid tp of ``scenario`` (other settings unchanged)."""
    if context_tokens is None:
        context_tokens = scenario.workload.prompt_tokens
    tps, share = {}, {}
    for t in valid_tp_degrees(scenario):
        step, comm = decode_step(deployment_with_tp(scenario, t), context_tokens)
        tps[t], share[t] = 1.0 / step, comm / step
    best = max(tps, key=tps.get) if tps else None
    crossover = None if best is None or best == max(tps) else best
    base = Deployment.from_scenario(scenario)
    return TpScaling(tps, share, crossover, analytic_crossover(base))
