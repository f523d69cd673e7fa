"""Where tensor parallelism stops speeding up one request (physics.md 2.5).

Per token, with t-way TP, the weight stream shrinks as 1/t while the all-reduces do not:

    T_token(t) ~= W / (t BW eta) + 2 L A(t) + t_fixed

so there is a degree above which more GPUs make one request no faster. Two estimates:

- simulated: batch-1 decode step times of the full step plan (roofline, launches, the real
  collectives and schedule) for every valid tp; the crossover is the tp of the best one,
  ``None`` when speed still rises at the largest tp the hardware allows;
- analytic: physics.md's t*, where the all-reduce time equals the weight-streaming time,
  2 L A(t) = W / (t BW eta), solved over t with the same collective cost model.
"""

from __future__ import annotations

from dataclasses import dataclass

from simdecode.costmodel import collectives, modules
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan

MAX_ANALYTIC_TP = 4096


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
    """The weights and workspace leave room for some KV cache on every stage at ``tp``."""
    from simdecode.costmodel.memory import kv_budget_bytes

    par = scenario.parallelism.model_copy(update={"tp": tp})
    s = scenario.model_copy(update={"parallelism": par})
    dep = Deployment.from_scenario(s)
    return all(kv_budget_bytes(s, dep, st) > 0 for st in range(dep.pp))


def _deployment(scenario, tp: int) -> Deployment:
    par = scenario.parallelism.model_copy(update={"tp": tp})
    return Deployment.from_scenario(scenario.model_copy(update={"parallelism": par}))


def decode_step(dep: Deployment, context_tokens: int):
    """Batch-1 decode step of every stage: (seconds per token, exposed collective seconds)."""
    shape = BatchShape.decode([context_tokens], dep.window)
    folds = [fold(build_stage_plan(dep, s, shape)) for s in range(dep.pp)]
    return sum(f.makespan_s for f in folds), sum(f.exposed_comm_s for f in folds)


def tp_scaling(scenario, context_tokens: int | None = None) -> TpScaling:
    """Batch-1 decode speed for every valid tp of ``scenario`` (other settings unchanged)."""
    if context_tokens is None:
        context_tokens = scenario.workload.prompt_tokens
    tps, share = {}, {}
    for t in valid_tp_degrees(scenario):
        step, comm = decode_step(_deployment(scenario, t), context_tokens)
        tps[t], share[t] = 1.0 / step, comm / step
    best = max(tps, key=tps.get) if tps else None
    crossover = None if best is None or best == max(tps) else best
    base = Deployment.from_scenario(scenario)
    return TpScaling(tps, share, crossover, analytic_crossover(base))


def analytic_crossover(dep: Deployment) -> float | None:
    """physics.md 2.5: the t where 2 L A(t) = W / (t BW eta) (linear interpolation between
    integer t). W: the weight bytes one batch-1 token reads in the layers (what TP splits; for a
    mixture of experts only the routed experts it uses); A(t): one all-reduce of one token's
    activation with the scenario's link, runtime and algorithm."""
    layers = dep.model.num_hidden_layers
    one_token = BatchShape.decode([0])
    weights = sum(dep.attention_params_per_gpu() * dep.weight_bytes + modules.mlp(dep, i, one_token)[0]
                  for i in range(layers)) * dep.tp
    msg = dep.model.hidden_size * dep.act_bytes
    previous = None
    for t in range(2, MAX_ANALYTIC_TP + 1):
        nodes = -(-t // dep.gpus_per_node)
        a = collectives.all_reduce(msg, t, dep.link, dep.runtime, dep.allreduce, nodes, dep.inter_link,
                                   dep.nics_per_node).time_s
        gap = 2 * layers * a - weights / (t * dep.rates.bandwidth_Bps)
        if gap >= 0:
            if previous is None:
                return float(t)
            return (t - 1) + (-previous) / (gap - previous)
        previous = gap
    return None
