"""The analytic critical path of a step plan: the coarse executor and the engine's test oracle.

List scheduling over the two streams (docs/architecture.md, "The step plan and its fold"): each op starts when its stream is free
and every op it waits for has finished; the step ends when the last op does. Without contention
the engine at any fidelity must reproduce this makespan exactly (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

from simdecode.costmodel.plan import StepPlan, Stream


@dataclass(slots=True)
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
    dequant_s:          the part of compute_s the weight decode decides (OpCost.dequant_bound_s:
                        weight-only formats whose dequantisation outlasts the stream, or adds to it)
    dequant_memory_s:   the part of dequant_s in memory-bound ops (so also in memory_s)
    serial_s:           the part of compute_s that is serial kernel latency (OpCost.serial_s: the NVFP4
                        GEMMs' k-loops, costmodel/fp4_gemm.py)
    serial_memory_s:    the part of serial_s in memory-bound ops (so also in memory_s)

    :attr:`stream_s`, :attr:`math_s`, ``dequant_s`` and ``serial_s`` split compute_s into four parts
    that add up: the one split ``explain`` (analysis/critical_path.py) and a run's accounting
    (metrics/accounting.TimeSums) both read.

    Treated as immutable (not frozen only because a frozen dataclass takes three times as long
    to build, and one is built per step).
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
    dequant_s: float = 0.0
    dequant_memory_s: float = 0.0
    serial_s: float = 0.0
    serial_memory_s: float = 0.0

    @property
    def stream_s(self) -> float:
        """Seconds memory-bound ops spend streaming their bytes: memory_s less the weight decode and
        the serial latency inside them."""
        return max(0.0, self.memory_s - self.dequant_memory_s - self.serial_memory_s)

    @property
    def math_s(self) -> float:
        """Seconds math-bound ops spend on their FLOPs: compute_s - memory_s less the weight decode and
        the serial latency inside them."""
        return max(0.0, self.compute_s - self.memory_s - (self.dequant_s - self.dequant_memory_s)
                   - (self.serial_s - self.serial_memory_s))


def fold(plan: StepPlan) -> Fold:
    """Critical-path timing of ``plan`` on its two streams, nothing else running.

    One pass over the plan's op kinds, not its ops: every sum is a count of slots times the
    kind's cost (the template counts them once), and where the plan is a chain (every op waits
    for the one before it, :attr:`PlanTemplate.is_chain`: megatron, parallel-block, no TP) the
    makespan is the sum of every op's time. Other plans list-schedule their ops for the makespan
    (:func:`fold_slots` does the whole fold that way; a test checks the two agree). The sums over
    the kinds whose costs are cached (``plan.base``) are kept per cached dict: a step adds only
    the kinds costed for it (attention).
    """
    template = plan.template
    base = plan.base
    if base is None:
        sums = _sums(template.kind_counts, plan.costs, [0.0] * 14)
    else:
        memo = template.fold_memo
        entry = memo.get(id(base))
        if entry is None:
            cached = tuple(row for row in template.kind_counts if row[0] in base)
            rest = tuple(row for row in template.kind_counts if row[0] not in base)
            entry = memo[id(base)] = (base, _sums(cached, base, [0.0] * 14), rest)  # base kept alive
        sums = _sums(entry[2], plan.costs, list(entry[1]))
    compute, memory, launch, host, comm, alpha, ideal, hbm, flops, net = sums[:10]
    if template.is_chain:
        makespan = compute + launch + host + comm
    else:
        makespan = _makespan(plan)
    makespan, host = _host_bound(plan, makespan, host)
    return _finish(makespan, compute, memory, launch, host, comm, alpha, ideal, hbm, flops, net, *sums[10:])


def _host_bound(plan: StepPlan, makespan: float, host: float) -> tuple[float, float]:
    """(makespan, host) of a step that cannot end before its host has dispatched it
    (``plan.host_floor_s``, costmodel/eager.py): the GPU's wait for the host counts as host time."""
    floor = plan.host_floor_s
    if floor > makespan:
        return floor, host + (floor - makespan)
    return makespan, host


def _sums(rows, costs, sums: list[float]) -> list[float]:
    """Add the kinds of ``rows`` ((kind, stream, count) of a template) to ``sums``: compute,
    memory, launch, host, comm, alpha, ideal, hbm, flops, net, dequant, dequant in memory-bound ops,
    serial, serial in memory-bound ops."""
    for kind, stream, n in rows:
        cost = costs[kind]
        if stream is Stream.COMM:
            sums[4] += n * cost.time_s
            sums[5] += n * cost.alpha_s
            sums[9] += n * cost.net_bytes
            continue
        if kind == "host":
            sums[3] += n * cost.time_s
        else:
            busy = n * (cost.time_s - cost.launch_s)
            sums[0] += busy
            sums[2] += n * cost.launch_s
            dequant, serial = n * cost.dequant_bound_s, n * cost.serial_s
            sums[10] += dequant
            sums[12] += serial
            if cost.memory_bound:
                sums[1] += busy
                sums[11] += dequant
                sums[13] += serial
        sums[6] += n * cost.ideal_s
        sums[7] += n * cost.hbm_bytes
        sums[8] += n * cost.flops
    return sums


def _makespan(plan: StepPlan) -> float:
    """List scheduling of ``plan``'s ops on the two streams: when the last op ends."""
    costs = plan.costs
    end: list[float] = []
    free = [0.0, 0.0]
    for slot in plan.template.slots:
        stream = slot.stream
        start = free[stream]
        for dep in slot.after:
            if end[dep] > start:
                start = end[dep]
        finish = start + costs[slot.kind].time_s
        end.append(finish)
        free[stream] = finish
    return max(end) if end else 0.0


def _finish(makespan, compute, memory, launch, host, comm, alpha, ideal, hbm, flops, net,
            dequant=0.0, dequant_memory=0.0, serial=0.0, serial_memory=0.0) -> Fold:
    exposed = makespan - (compute + launch + host)
    if exposed <= 1e-12 * makespan:  # float noise of summing the same durations two ways
        exposed = 0.0
    a_share = alpha / comm if comm > 0 else 0.0
    return Fold(makespan, compute, memory, launch, host, exposed, comm, exposed * a_share, exposed * (1 - a_share),
                ideal, hbm, flops, net, dequant, dequant_memory, serial, serial_memory)


def fold_slots(plan: StepPlan) -> Fold:
    """The same timing as :func:`fold`, op by op: the reference the one-pass fold is tested against."""
    costs = plan.costs
    compute = memory = launch = host = comm = alpha = ideal = hbm = flops = net = 0.0
    dequant = dequant_memory = serial = serial_memory = 0.0
    for slot in plan.template.slots:
        cost = costs[slot.kind]
        if slot.stream is Stream.COMPUTE:
            if slot.kind == "host":
                host += cost.time_s
            else:
                busy = cost.time_s - cost.launch_s
                compute += busy
                launch += cost.launch_s
                dequant += cost.dequant_bound_s
                serial += cost.serial_s
                if cost.memory_bound:
                    memory += busy
                    dequant_memory += cost.dequant_bound_s
                    serial_memory += cost.serial_s
            ideal += cost.ideal_s
            hbm += cost.hbm_bytes
            flops += cost.flops
        else:
            comm += cost.time_s
            alpha += cost.alpha_s
            net += cost.net_bytes
    makespan, host = _host_bound(plan, _makespan(plan), host)
    return _finish(makespan, compute, memory, launch, host, comm, alpha, ideal, hbm, flops, net,
                   dequant, dequant_memory, serial, serial_memory)


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
