"""Runs a stage's step plan on its GPUs' two streams, at the scenario's fidelity.

| fidelity | how time passes                                                        | events/step |
|----------|------------------------------------------------------------------------|-------------|
| step     | one timeout of the plan's analytic critical path (costmodel.fold)      | 1           |
| layer    | one timeout per module on the compute stream; each collective one      | O(layers)   |
|          | process on the communication stream, holding the TP group's fabric     |             |

Both follow the same list-scheduling rule as :func:`simdecode.costmodel.fold.fold`: a compute op
starts when the previous compute op and the collectives it waits for are done; a collective
starts when the module before it is done and the previous collective has left the stream. With
nothing else contending the two fidelities give identical step times (a test checks it).
"""

from __future__ import annotations

import simpy

from simdecode.costmodel.fold import Fold, fold
from simdecode.costmodel.plan import StepPlan, Stream
from simdecode.engine.topology import Fabric


class Stage:
    """One pipeline stage of one replica: a TP group of GPUs running plans in lock-step."""

    def __init__(self, env: simpy.Environment, replica: int, index: int, fabric: Fabric, fidelity: str):
        self.env, self.replica, self.index = env, replica, index
        self.fabric, self.fidelity = fabric, fidelity
        self.gpus = simpy.Resource(env, capacity=1)  # one step at a time (a micro-batch holds it)
        self.busy_s = 0.0
        self.contention_s = 0.0

    def run(self, plan: StepPlan, timing: Fold):
        """Process: occupy this stage for one step of ``plan``; returns when its last op ends.

        The process's value is the time the step ran, not counting the wait for the stage.
        """
        with self.gpus.request() as req:
            yield req
            start = self.env.now
            if self.fidelity == "step":
                yield self.env.timeout(timing.makespan_s)
            else:
                yield from self._run_ops(plan)
            elapsed = self.env.now - start
            self.busy_s += elapsed
            if elapsed - timing.makespan_s > 1e-9 * timing.makespan_s:
                self.contention_s += elapsed - timing.makespan_s
        return elapsed

    def _run_ops(self, plan: StepPlan):
        env = self.env
        ops = plan.ops
        done: list[simpy.Event | None] = [None] * len(ops)
        comm_tail: simpy.Event | None = None
        for i, op in enumerate(ops):
            if op.stream is Stream.COMPUTE:
                for dep in op.after:
                    event = done[dep]
                    if event is not None and not event.processed:
                        yield event
                yield env.timeout(op.time_s)
            else:
                event = env.event()
                done[i] = event
                env.process(self._collective(op.time_s, comm_tail, event))
                comm_tail = event
        if comm_tail is not None and not comm_tail.processed:
            yield comm_tail

    def _collective(self, time_s: float, previous: simpy.Event | None, finished: simpy.Event):
        """Process: one collective on the communication stream, holding the group's fabric."""
        if previous is not None and not previous.processed:
            yield previous
        if self.fabric.private:
            # only this stream uses these ports, and it is already serialised by ``previous``
            yield self.env.timeout(time_s)
        else:
            requests = [res.request() for res in self.fabric.resources]
            for req in requests:
                yield req
            yield self.env.timeout(time_s)
            for res, req in zip(self.fabric.resources, requests):
                res.release(req)
        finished.succeed()


def step_timing(plan: StepPlan) -> Fold:
    """The plan's analytic timing (used by every fidelity for accounting)."""
    return fold(plan)
