"""The analytic critical path of a step plan: the coarse executor and the engine's test oracle.

List scheduling over the two streams (architecture.md 6): each op starts when its stream is free
and every op it waits for has finished; the step ends when the last op does. Without contention
the engine at any fidelity must reproduce this makespan exactly (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

from simdecode.costmodel.plan import StepPlan, Stream


@dataclass(frozen=True, slots=True)
class Fold:
    """Timing of one stage's step, in seconds.

    makespan_s:         first op start to last op end
    compute_s:          roofline time of compute ops (launch excluded)
    memory_s:           the part of compute_s in memory-bound ops (bytes / bandwidth won)
    launch_s:           fixed per-kernel costs of compute ops
    host_s:             host-side step overhead
    exposed_comm_s:     time the compute stream waited on collectives (makespan - compute busy)
    comm_s:             total collective time, hidden or not
    exposed_alpha_s / exposed_beta_s: the exposed part split by the collectives' alpha/beta shares
    ideal_s:            sum of compute ops at 100% of peak, no launch: the roofline bound
    """

    makespan_s: float
    compute_s: float
    memory_s: float
    launch_s: float
    host_s: float
    exposed_comm_s: float
    comm_s: float
    exposed_alpha_s: float
    exposed_beta_s: float
    ideal_s: float
    hbm_bytes: float
    flops: float
    net_bytes: float


def fold(plan: StepPlan) -> Fold:
    """Critical-path timing of ``plan`` on its two streams, nothing else running."""
    end: list[float] = []
    free = [0.0, 0.0]
    compute = memory = launch = host = comm = alpha = ideal = hbm = flops = net = 0.0
    for op in plan.ops:
        start = free[op.stream]
        for dep in op.after:
            if end[dep] > start:
                start = end[dep]
        finish = start + op.time_s
        end.append(finish)
        free[op.stream] = finish
        if op.stream is Stream.COMPUTE:
            if op.name == "host":
                host += op.time_s
            else:
                compute += op.time_s - op.launch_s
                launch += op.launch_s
                if op.memory_bound:
                    memory += op.time_s - op.launch_s
            ideal += op.ideal_s
            hbm += op.hbm_bytes
            flops += op.flops
        else:
            comm += op.time_s
            alpha += op.alpha_s
            net += op.net_bytes
    makespan = max(end) if end else 0.0
    exposed = makespan - (compute + launch + host)
    if exposed <= 1e-12 * makespan:  # float noise of summing the same durations two ways
        exposed = 0.0
    a_share = alpha / comm if comm > 0 else 0.0
    return Fold(makespan, compute, memory, launch, host, exposed, comm, exposed * a_share, exposed * (1 - a_share),
                ideal, hbm, flops, net)
