"""Runs a stage's step plan on its GPUs' two streams, at the scenario's fidelity.

| fidelity | how time passes                                                          | events/step   |
|----------|--------------------------------------------------------------------------|---------------|
| step     | one timeout of the plan's analytic critical path (costmodel.fold)        | 1             |
| layer    | private links: the same one timeout. Links another group may hold: one   | 1, or         |
|          | timeout per module on the compute stream; each collective one process on | O(layers)     |
|          | the communication stream, holding the shared links it crosses            |               |
| op       | every op a process waiting on its dependencies; where another group or a | O(ops), or    |
|          | pipeline transfer may share its links, a ring all-reduce is its 2(p-1)   | O(ops x ranks)|
|          | rounds of p transfers, each holding its own path of links                |               |

All three follow the list-scheduling rule of :func:`simdecode.costmodel.fold.fold`: a compute op
starts when the previous compute op and the collectives it waits for are done; a collective
starts when the module before it is done and the previous collective has left the stream. With
nothing else contending the three give identical step times (a property test checks it), which is
why events are spent only where something can contend: when no other group can touch a group's
links, its layer-fidelity step is one event and its op-fidelity collectives are one event each,
and when and where each collective ran is still known without an event
(:meth:`Stage.private_collectives`, which the trace uses).
"""

from __future__ import annotations

import simpy

from simdecode.costmodel.collectives import ring_schedule
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import Fold, fold, timeline
from simdecode.costmodel.plan import OpCost, StepPlan, Stream
from simdecode.engine.eventpaths import expands_rings, one_event_step
from simdecode.engine.topology import Fabric, transfer


class Stage:
    """One pipeline stage of one replica: a TP group of GPUs running plans in lock-step."""

    def __init__(self, env: simpy.Environment, replica: int, index: int, fabric: Fabric, fidelity: str,
                 dep: Deployment, tracer=None, name: str = ""):
        self.env, self.replica, self.index = env, replica, index
        self.fabric, self.fidelity, self.dep = fabric, fidelity, dep
        self.tracer, self.name = tracer, name  # tracer: simdecode.metrics.trace.Tracer or None
        self.gpus = simpy.Resource(env, capacity=1)  # one step at a time (a micro-batch holds it)
        #: several lanes (micro-batches) or a drafter take turns on this stage; the owner clears it
        #: when one lane alone runs steps here, one after another
        self.shared_by_lanes = True
        self.busy_s = 0.0
        self.contention_s = 0.0
        # ring transfers are expanded only inside one node, where the ring's hops are uniform, and
        # only where something else may use the ring's links: another group, or (pp > 1) the
        # activations sent to the next stage from this group's first GPU
        self._expand_rings = expands_rings(fidelity, dep.tp_nodes, dep.pp, fabric.private)
        # layer fidelity on links no other group holds: the step is its fold, one event
        self._one_event = one_event_step(fidelity, fabric.private)
        # the links this group's collectives cross (its ring), each once: their trace tracks
        self._ring_links = tuple(sorted({link for path in fabric.ring for link in path}, key=lambda l: l.order))

    def run(self, plan: StepPlan, timing: Fold, period_s: float = 0.0):
        """Process: occupy this stage for one step of ``plan``; returns when its last op ends, or
        at the end of ``period_s`` (seconds) after it began when that is later (a lock-step
        pipeline's common period, :func:`simdecode.costmodel.devices.stage_periods`).

        The process's value is the time the step ran, not counting the wait for the stage nor the
        rest of the period. A stage only one lane uses (:attr:`shared_by_lanes` False) is never
        waited for, so it skips the request for its GPUs (two events a step fewer).
        """
        if not self.shared_by_lanes:
            return self._step(plan, timing, period_s)
        return self._run_shared(plan, timing, period_s)

    def _run_shared(self, plan: StepPlan, timing: Fold, period_s: float):
        with self.gpus.request() as req:
            yield req
            return (yield from self._step(plan, timing, period_s))

    def _step(self, plan: StepPlan, timing: Fold, period_s: float = 0.0):
        start = self.env.now
        if self._one_event:
            yield self.env.timeout(timing.makespan_s)
            if self.tracer is not None:
                self._trace_folded(plan, start)
        elif self.fidelity == "layer":
            yield from self._run_streams(plan)
        else:
            yield from self._run_graph(plan)
        if not self._one_event and self.env.now < start + plan.host_floor_s:
            # an eager step's GPU work is done before its host has dispatched it all (costmodel/eager.py)
            yield self.env.timeout(start + plan.host_floor_s - self.env.now)
        elapsed = self.env.now - start
        self.busy_s += elapsed
        if elapsed - timing.makespan_s > 1e-9 * timing.makespan_s:
            self.contention_s += elapsed - timing.makespan_s
        if period_s > elapsed:  # lock-step: the stage is held, idle, until its period ends
            yield self.env.timeout(period_s - elapsed)
        return elapsed

    def _trace_folded(self, plan: StepPlan, start: float) -> None:
        """Trace spans of a step run as one event: at step fidelity marked ``synthetic`` (the fold's
        view of a step); at layer fidelity on private links they are what the events would have
        given, since nothing could have delayed any op."""
        slots = plan.template.slots
        args = {"synthetic": True} if self.fidelity == "step" else None
        for i, begin, end in timeline(plan):
            slot = slots[i]
            self.tracer.span(self.name, _STREAM[slot.stream], slot.name, start + begin, start + end, args)
            if slot.stream is Stream.COMM:  # the same start and end draw the links
                self._trace_links(slot.name, start + begin, start + end, args)

    def private_collectives(self, plan: StepPlan, start: float):
        """(slot, start_s, end_s, links) of each collective of a step of ``plan`` that began at
        ``start`` (seconds) on this group's ring, when the step ran as one event: the fold's
        arithmetic gives when each ran, and ``links`` is every link of the group's ring (each
        held by this group alone). What the trace's link tracks are drawn from."""
        slots = plan.template.slots
        links = list(self._ring_links)
        for i, begin, end in timeline(plan):
            if slots[i].stream is Stream.COMM:
                yield slots[i], start + begin, start + end, links

    def _trace(self, stream: Stream, name: str, start: float) -> None:
        self.tracer.span(self.name, _STREAM[stream], name, start, self.env.now)

    def _trace_links(self, name: str, start: float, end: float, args: dict | None = None) -> None:
        """A collective's span on the track of every link of this group's ring (the links it
        occupies from ``start`` to ``end``, seconds), beside its span on the comm stream."""
        for link in self._ring_links:
            self.tracer.span("links", link.name, name, start, end, args)

    # ---- fidelity layer: two stream walkers --------------------------------------------
    def _run_streams(self, plan: StepPlan):
        env, costs = self.env, plan.costs
        slots = plan.template.slots
        done: list[simpy.Event | None] = [None] * len(slots)
        comm_tail: simpy.Event | None = None
        for i, slot in enumerate(slots):
            cost = costs[slot.kind]
            if slot.stream is Stream.COMPUTE:
                for dep in slot.after:
                    event = done[dep]
                    if event is not None and not event.processed:
                        yield event
                begin = env.now
                yield env.timeout(cost.time_s)
                if self.tracer is not None:
                    self._trace(Stream.COMPUTE, slot.name, begin)
            else:
                event = env.event()
                done[i] = event
                env.process(self._stream_collective(cost, comm_tail, event, slot.name))
                comm_tail = event
        if comm_tail is not None and not comm_tail.processed:
            yield comm_tail

    def _stream_collective(self, cost: OpCost, previous: simpy.Event | None, finished: simpy.Event, name: str):
        """Process: one collective on the communication stream."""
        if previous is not None and not previous.processed:
            yield previous
        yield from self._collective(cost, name)
        finished.succeed()

    def _collective(self, cost: OpCost, name: str):
        """Process: one collective as a single timeout, holding the shared links it crosses."""
        shared = self.fabric.shared
        requests = [link.wire.request() for link in shared]
        for req in requests:
            yield req
        begin = self.env.now
        yield self.env.timeout(cost.time_s)
        for link, req in zip(shared, requests):
            link.busy_s += cost.time_s
            link.wire.release(req)
        if self.tracer is not None:
            self._trace(Stream.COMM, name, begin)
            self._trace_links(name, begin, self.env.now)

    # ---- fidelity op: a process per op -------------------------------------------------
    def _run_graph(self, plan: StepPlan):
        env, costs = self.env, plan.costs
        events: list[simpy.Process] = []
        last = [None, None]  # previous op on each stream
        for slot in plan.template.slots:
            deps = [events[d] for d in slot.after]
            if last[slot.stream] is not None:
                deps.append(last[slot.stream])
            proc = env.process(self._op(slot.stream, costs[slot.kind], deps, slot.name))
            events.append(proc)
            last[slot.stream] = proc
        yield env.all_of([e for e in last if e is not None])

    def _op(self, stream: Stream, cost: OpCost, deps: list[simpy.Process], name: str):
        """Process: one op, after its dependencies."""
        pending = [d for d in deps if not d.processed]
        if pending:
            yield self.env.all_of(pending)
        if stream is Stream.COMPUTE:
            begin = self.env.now
            yield self.env.timeout(cost.time_s)
            if self.tracer is not None:
                self._trace(stream, name, begin)
        elif cost.algorithm == "ring" and self._expand_rings:
            begin = self.env.now
            yield from self._ring(cost)
            if self.tracer is not None:
                self._trace(stream, name, begin)
        else:
            yield from self._collective(cost, name)

    def _ring(self, cost: OpCost):
        """Process: a ring all-reduce as its 2(p-1) rounds of neighbour transfers."""
        env, ring = self.env, self.fabric.ring
        sched = ring_schedule(cost.time_s, cost.protocol, cost.net_bytes, len(ring), self.dep.link)
        yield env.timeout(sched.fixed_s)
        for _ in range(sched.rounds):
            yield env.all_of([env.process(transfer(path, sched.serialise_s, sched.hop_s)) for path in ring])


_STREAM = {Stream.COMPUTE: "compute", Stream.COMM: "comm"}


def step_timing(plan: StepPlan) -> Fold:
    """The plan's analytic timing (used by every fidelity for accounting)."""
    return fold(plan)
