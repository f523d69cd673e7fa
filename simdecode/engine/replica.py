"""One model replica: its pipeline stages, the links between them and its batching lanes.

Each lane is a SimPy process running the engine loop of docs/architecture.md ("The engine loop"): ask the policy for a
step, run it through every stage (sending activations from stage to stage over a link), then
report the tokens. With pipeline parallelism, several lanes (micro-batches) are in flight and
take turns on each stage; one request is only ever in one lane, so its tokens still traverse
every stage one after another (physics.md 3.1).

KV swaps (``scheduler.preemption: swap``): the policy returns the host-link transfer time of the
swaps it decided with the step, and the lane waits that long before the step runs (the swap-out
and swap-in time is added to the step in which it happens; it is not overlapped with compute).

Monitors (per replica, in ``recorder.monitors``): ``kv_blocks`` (blocks in use, on every change of
the ledger), ``queue`` (requests waiting or swapped out) and ``batch_size`` (sequences in the steps
in flight, summed over the lanes; 0 while idle).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import simpy

from simdecode.costmodel import collectives, devices
from simdecode.costmodel.attention_dp import busiest_rank, ranks as attention_ranks
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.plan import build_stage_plan
from simdecode.costmodel.fold import fold
from simdecode.engine import emission
from simdecode.engine.executor import Stage
from simdecode.engine.recorder import Recorder
from simdecode.engine.topology import Topology, transfer
from simdecode.metrics.trace import group_name
from simdecode.schedulers.policies import BatchingPolicy
from simdecode.schedulers.request import Request


class Replica:
    def __init__(self, env: simpy.Environment, index: int, dep: Deployment, policy: BatchingPolicy,
                 topology: Topology, recorder: Recorder, fidelity: str,
                 on_finish: Callable[[Request], None], speculator_factory=None):
        self.env, self.index, self.dep, self.policy = env, index, dep, policy
        self.recorder, self.on_finish = recorder, on_finish
        self.stages = [Stage(env, index, s, topology.fabric(index, s), fidelity, dep, topology.tracer,
                             group_name(index, s, topology.group_gpus(index, s))) for s in range(dep.pp)]
        for stage in self.stages:
            stage.shared_by_lanes = policy.lanes > 1
        # activations go from each stage's first GPU to the next stage's first GPU
        self.paths = [topology.path(topology.group_gpus(index, s)[0], topology.group_gpus(index, s + 1)[0])
                      for s in range(dep.pp - 1)]
        self.window = dep.window
        self._ranks = attention_ranks(dep)
        self._wakeup = env.event()
        self._idle_lanes = 0  # lanes waiting on _wakeup
        self.outstanding = 0
        self.active_s = 0.0  # time with at least one request in the replica
        self._active_since = 0.0
        self.kv_monitor = recorder.monitor("kv_blocks", index)
        self.queue_monitor = recorder.monitor("queue", index)
        self.batch_monitor = recorder.monitor("batch_size", index)
        self._lane_batch = [0] * policy.lanes
        policy.kv.on_change = lambda used: self.kv_monitor.record(env.now, used)
        recorder.kv_caches.append(policy.kv)
        policy.on_preempt = recorder.preempted
        #: speculative decoding: a Speculator drafting on this replica's GPUs, or None
        self.speculator = speculator_factory(self.stages) if speculator_factory else None
        for lane in range(policy.lanes):
            env.process(self._lane(lane))

    def _set_batch(self, lane: int, seqs: int) -> None:
        if self._lane_batch[lane] != seqs:
            self._lane_batch[lane] = seqs
            self.batch_monitor.record(self.env.now, sum(self._lane_batch))

    def submit(self, request: Request) -> None:
        """A request reaches this replica's server. Before its scheduler sees it, the server
        tokenises the prompt and hands it from the API server to the engine (the runtime's
        ``tokenize_per_token`` x prompt + ``request_overhead``)."""
        rt = self.dep.runtime
        delay = rt.request_overhead_s + rt.tokenize_s_per_token * request.prompt_tokens
        if delay > 0:
            self.env.process(self._submit_after(delay, request))
        else:
            self._submit(request)

    def _submit_after(self, delay: float, request: Request):
        yield self.env.timeout(delay)
        self._submit(request)

    def _submit(self, request: Request) -> None:
        request.server_arrival_s = self.env.now
        request.replica = self.index
        if not self.policy.submit(request):
            self.recorder.reject(request, "longer than the whole KV cache")
            self.on_finish(request)
            return
        if self.outstanding == 0:
            self._active_since = self.env.now
        self.outstanding += 1
        self.queue_monitor.record(self.env.now, self.policy.queued)
        self._notify()

    def _notify(self) -> None:
        """Wake the lanes waiting for work (none waiting: nothing to do, and no event spent)."""
        if not self._idle_lanes:
            return
        if not self._wakeup.triggered:
            self._wakeup.succeed()
        self._wakeup = self.env.event()

    def _lane(self, lane: int):
        """Process: the engine loop of one micro-batch lane."""
        env, dep, policy, recorder = self.env, self.dep, self.policy, self.recorder
        stages, last_stage = self.stages, len(self.stages) - 1
        queue_record = self.queue_monitor.record
        act_bytes_per_token = dep.model.hidden_size * dep.act_bytes_per_value
        lockstep = dep.pp > 1 and dep.gpu is not None and dep.gpu.lockstep_pipeline
        # an overlap scheduler that returns a step's tokens after launching the next (engine/emission.py)
        delays = emission.delays_results(dep.runtime.engine, policy.overlap)
        pending: list[Request] = []  # first tokens of the last step, not yet handed back
        pending_start = pending_host = 0.0
        while True:
            now = env.now
            work = policy.next_step(lane, now)
            queue_record(now, policy.queued)
            if work is None:
                pending = []  # nothing to launch: the host returns them at once
                self._set_batch(lane, 0)
                self._idle_lanes += 1
                yield self._wakeup
                self._idle_lanes -= 1
                continue
            step_start = now
            if work.swap_s > 0:  # KV to or from host memory before the step can run
                self._set_batch(lane, len(work.items))
                recorder.swapped(self.index, work.swap_s)
                yield env.timeout(work.swap_s)
                if not work.items:
                    recorder.admission(env.now - step_start, work.queued, work.kv_blocked)
                    continue
            self._set_batch(lane, len(work.items))
            shape = work.shape(self.window)
            if self._ranks > 1:  # attention DP: the busiest rank's own sequences (costmodel/attention_dp.py)
                shape = replace(shape, rank=busiest_rank(work.parts(), self._ranks, self.window))
            start, run_s, timings = env.now, 0.0, []
            verifying = work.verify_items() if self.speculator else []
            if verifying:  # the drafter proposes before the target verifies
                passes = yield from self.speculator.draft([cached for _, _, cached in verifying])
                for timing, elapsed in passes:
                    timings.append(timing)
                    run_s += elapsed
                    if self.speculator.on_target_gpus:
                        recorder.stage_step(timing, elapsed)
            plans = [build_stage_plan(dep, s, shape) for s in range(len(stages))]
            host_s = emission.step_host_s(plans[0].host_floor_s, dep.runtime.step_overhead_s)
            for req in pending:
                req.first_token_s = emission.emitted_s(pending_start, req.first_token_s, pending_host, host_s)
            pending = []
            folds = [fold(plan) for plan in plans]  # executor.step_timing
            # a lock-step pipeline holds every stage for the slowest one's time (devices.stage_periods)
            periods = devices.stage_periods(dep.gpu, [f.makespan_s for f in folds]) if lockstep else None
            for s, stage in enumerate(stages):
                plan, timing = plans[s], folds[s]
                timings.append(timing)
                # the rest of a lock-step period is counted with the pipeline's time, not run_s
                elapsed = yield from stage.run(plan, timing, periods[s] if periods else 0.0)
                run_s += elapsed
                recorder.stage_step(timing, elapsed)
                if s < last_stage:
                    cost = collectives.p2p(shape.new_tokens * act_bytes_per_token, dep.pp_link, dep.runtime)
                    yield from transfer(self.paths[s], cost.beta_s, cost.alpha_s)
            now = env.now
            recorder.lane_step(timings, run_s, now - start - run_s, work.decode_seqs)
            recorder.admission(now - step_start, work.queued, work.kv_blocked)
            accepted = None
            if verifying:
                accepted = self.speculator.sample([req.id for req, _, _ in verifying])
                before = {req.id: req.generated for req, _, _ in verifying}
            finished = policy.complete_step(work, now, accepted)
            if delays:
                pending = [req for req, _, _ in work.items if req.first_token_s == now and req.finished_s < 0]
                pending_start, pending_host = start, host_s
            if verifying:
                self.speculator.record(accepted, {req.id: req.generated - before[req.id] for req, _, _ in verifying})
            for request in finished:
                self.outstanding -= 1
                if self.outstanding == 0:
                    self.active_s += now - self._active_since
                recorder.finished(request, warmup=request.warmup)
                self.on_finish(request)
            queued = policy.queued
            queue_record(now, queued)
            if queued:
                self._notify()  # room may have opened for other lanes
