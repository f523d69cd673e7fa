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
    costs = plan.costs
    end: list[float] = []
    free = [0.0, 0.0]
    compute = memory = launch = host = comm = alpha = ideal = hbm = flops = net = 0.0
    for slot in plan.template.slots:
        cost = costs[slot.kind]
        stream = slot.stream
        start = free[stream]
        for dep in slot.after:
            if end[dep] > start:
                start = end[dep]
        finish = start + cost.time_s
        end.append(finish)
        free[stream] = finish
        if stream is Stream.COMPUTE:
            if slot.kind == "host":
                host += cost.time_s
            else:
                busy = cost.time_s - cost.launch_s
                compute += busy
                launch += cost.launch_s
                if cost.memory_bound:
                    memory += busy
            ideal += cost.ideal_s
            hbm += cost.hbm_bytes
            flops += cost.flops
        else:
            comm += cost.time_s
            alpha += cost.alpha_s
            net += cost.net_bytes
    makespan = max(end) if end else 0.0
    exposed = makespan - (compute + launch + host)
    if exposed <= 1e-12 * makespan:  # float noise of summing the same durations two ways
        exposed = 0.0
    a_share = alpha / comm if comm > 0 else 0.0
    return Fold(makespan, compute, memory, launch, host, exposed, comm, exposed * a_share, exposed * (1 - a_share),
                ideal, hbm, flops, net)


def timeline(plan: StepPlan) -> list[tuple[int, float, float]]:
    """(slot index, start, end) of every op of ``plan`` under the same list scheduling as
    :func:`fold`, in seconds from the step's start (the synthetic per-op view of a step)."""
    costs = plan.costs
    out: list[tuple[int, float, float]] = []
    end: list[float] = []
    free = [0.0, 0.0]
    for i, slot in enumerate(plan.template.slots):
        start = free[slot.stream]
        for dep in slot.after:
            start = max(start, end[dep])
        finish = start + costs[slot.kind].time_s
        end.append(finish)
        free[slot.stream] = finish
        out.append((i, start, finish))
    return out
