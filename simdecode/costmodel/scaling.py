"""The physics of where tensor parallelism stops speeding up one request (physics.md 2.5).

Per token, with t-way TP, the weight stream shrinks as 1/t while the all-reduces do not:

    T_token(t) ~= W / (t BW eta) + 2 L A(t) + t_fixed

so there is a degree above which more GPUs make one request no faster. Two estimates:

- simulated: batch-1 decode step times of the full step plan (roofline, launches, the real
  collectives and schedule) for every valid tp; the crossover is the tp of the best one,
  ``None`` when speed still rises at the largest tp the hardware allows;
- analytic: physics.md's t*, where the all-reduce time equals the weight-streaming time,
  2 L A(t) = W / (t BW eta), solved over t with the same collective cost model.

Both take a :class:`Deployment`; :mod:`simdecode.analysis.scaling` runs them over a scenario's
valid tp degrees.
"""

from __future__ import annotations

from simdecode.costmodel import collectives, devices, modules
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan

MAX_ANALYTIC_TP = 4096


def decode_step(dep: Deployment, context_tokens: int):
    """Batch-1 decode step of every stage: (seconds per token, exposed collective seconds)."""
    shape = BatchShape.decode([context_tokens], dep.window)
    folds = [fold(build_stage_plan(dep, s, shape)) for s in range(dep.pp)]
    # a lock-step pipeline holds every stage for the slowest one's time (devices.stage_periods)
    return sum(devices.stage_periods(dep.gpu, [f.makespan_s for f in folds])), sum(f.exposed_comm_s for f in folds)


def analytic_crossover(dep: Deployment) -> float | None:
    """physics.md 2.5: the t where 2 L A(t) = W / (t BW eta) (linear interpolation between
    integer t). W: the weight bytes one batch-1 token reads in the layers (what TP splits; for a
    mixture of experts only the routed experts it uses); A(t): one all-reduce of one token's
    activation with the scenario's link, runtime and algorithm."""
    layers = dep.model.num_hidden_layers
    one_token = BatchShape.decode([0])
    weights = sum(dep.attention_params_per_gpu(i) * dep.bytes_of("attention") + modules.mlp(dep, i, one_token)[0]
                  for i in range(layers)) * dep.tp
    msg = dep.model.hidden_size * dep.act_bytes_per_value
    previous = None
    for t in range(2, MAX_ANALYTIC_TP + 1):
        nodes = -(-t // dep.gpus_per_node)
        a = collectives.all_reduce(msg, t, dep.link, dep.runtime, dep.allreduce, nodes, dep.inter_link,
                                   dep.nics_per_node, dep.pcie).time_s
        gap = 2 * layers * a - weights / (t * dep.rates.bandwidth_Bps)
        if gap >= 0:
            if previous is None:
                return float(t)
            return (t - 1) + (-previous) / (gap - previous)
        previous = gap
    return None
