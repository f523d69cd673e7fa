"""Runs a stage's step plan on its GPUs' two streams, at the scenario's fidelity.

| fidelity | how time passes                                                          | events/step   |
|----------|--------------------------------------------------------------------------|---------------|
| step     | one timeout of the plan's analytic critical path (costmodel.fold)        | 1             |
| layer    | one timeout per module on the compute stream; each collective one        | O(layers)     |
|          | process on the communication stream, holding the shared links it crosses |               |
| op       | every op a process waiting on its dependencies; a ring all-reduce is its | O(ops x ranks)|
|          | 2(p-1) rounds of p transfers, each holding its own path of links         |               |

All three follow the list-scheduling rule of :func:`simdecode.costmodel.fold.fold`: a compute op
starts when the previous compute op and the collectives it waits for are done; a collective
starts when the module before it is done and the previous collective has left the stream. With
nothing else contending the three give identical step times (a property test checks it).
"""

from __future__ import annotations

import simpy

from simdecode.costmodel.collectives import ring_schedule
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import Fold, fold, timeline
from simdecode.costmodel.plan import OpCost, StepPlan, Stream
from simdecode.engine.topology import Fabric, transfer


class Stage:
    """One pipeline stage of one replica: a TP group of GPUs running plans in lock-step."""

    def __init__(self, env: simpy.Environment, replica: int, index: int, fabric: Fabric, fidelity: str,
                 dep: Deployment, tracer=None, name: str = ""):
        self.env, self.replica, self.index = env, replica, index
        self.fabric, self.fidelity, self.dep = fabric, fidelity, dep
        self.tracer, self.name = tracer, name  # tracer: simdecode.metrics.trace.Tracer or None
        self.gpus = simpy.Resource(env, capacity=1)  # one step at a time (a micro-batch holds it)
        self.busy_s = 0.0
        self.contention_s = 0.0
        # ring transfers are expanded only inside one node, where the ring's hops are uniform
        self._expand_rings = fidelity == "op" and dep.tp_nodes == 1
        # the links this group's collectives cross (its ring), each once: their trace tracks
        self._ring_links = tuple(sorted({link for path in fabric.ring for link in path}, key=lambda l: l.order))

    def run(self, plan: StepPlan, timing: Fold):
        """Process: occupy this stage for one step of ``plan``; returns when its last op ends.

        The process's value is the time the step ran, not counting the wait for the stage.
        """
        with self.gpus.request() as req:
            yield req
            start = self.env.now
            if self.fidelity == "step":
                yield self.env.timeout(timing.makespan_s)
                if self.tracer is not None:
                    self._trace_synthetic(plan, start)
            elif self.fidelity == "layer":
                yield from self._run_streams(plan)
            else:
                yield from self._run_graph(plan)
            elapsed = self.env.now - start
            self.busy_s += elapsed
            if elapsed - timing.makespan_s > 1e-9 * timing.makespan_s:
                self.contention_s += elapsed - timing.makespan_s
        return elapsed

    def _trace_synthetic(self, plan: StepPlan, start: float) -> None:
        slots = plan.template.slots
        for i, begin, end in timeline(plan):
            slot = slots[i]
            self.tracer.span(self.name, _STREAM[slot.stream], slot.name, start + begin, start + end,
                             {"synthetic": True})
            if slot.stream is Stream.COMM:
                self._trace_links(slot.name, start + begin, start + end, {"synthetic": True})

    def _trace(self, stream: Stream, name: str, start: float) -> None:
        self.tracer.span(self.name, _STREAM[stream], name, start, self.env.now)

    def _trace_links(self, name: str, start: float, end: float, args: dict | None = None) -> None:
        """A collective's span on the track of every link of this group's ring (the links it
        occupies from ``start`` to ``end``, seconds), beside its span on the comm stream."""
        for link in self._ring_links:
            self.tracer.span("links", link.name, name, start, end, args)

    # ---- fidelity layer: two stream walkers --------------------------------------------
    def _run_streams(self, plan: StepPlan):
        if self.fabric.private:
            yield from self._run_streams_private(plan)
            return
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

    def _run_streams_private(self, plan: StepPlan):
        """The same two streams when no other group can touch this group's links: a collective's
        start and end follow from the stream rule alone (the fold's arithmetic), so only the
        compute stream needs events: one per module, plus one wait when a module needs an
        exchange that has not landed yet."""
        env, costs, tracer = self.env, plan.costs, self.tracer
        slots = plan.template.slots
        done_at = [0.0] * len(slots)
        comm_free = env.now
        for i, slot in enumerate(slots):
            cost = costs[slot.kind]
            if slot.stream is Stream.COMPUTE:
                ready = env.now
                for dep in slot.after:
                    if slots[dep].stream is Stream.COMM and done_at[dep] > ready:
                        ready = done_at[dep]
                if ready > env.now:
                    yield env.timeout(ready - env.now)
                begin = env.now
                yield env.timeout(cost.time_s)
                if tracer is not None:
                    self._trace(Stream.COMPUTE, slot.name, begin)
            else:
                start = comm_free if comm_free > env.now else env.now  # after the module before it
                comm_free = start + cost.time_s
                done_at[i] = comm_free
                if tracer is not None:  # the same start and end draw the stream and the links
                    tracer.span(self.name, _STREAM[Stream.COMM], slot.name, start, comm_free)
                    self._trace_links(slot.name, start, comm_free)
        if comm_free > env.now:
            yield env.timeout(comm_free - env.now)

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
