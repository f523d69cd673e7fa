"""Build a simulation from a scenario, run it, return a :class:`~simdecode.result.Result`.

Lifecycle (desmod's): build (deployment, topology, replicas, workload) -> run (until every
request has left) -> collect (records and accounting into a pure-data Result).

Randomness: one ``numpy.random.SeedSequence(seed)`` per simulation and one child stream per
concern, keyed by a fixed index (:data:`STREAMS`), so adding a stream never shifts another's
draws. No global random state is touched.
"""

from __future__ import annotations

import time

import numpy as np
import simpy

from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.feasibility import check_fits
from simdecode.costmodel import memory
from simdecode.engine.recorder import Recorder
from simdecode.engine.replica import Replica
from simdecode.engine.topology import Topology
from simdecode.engine.workload import Workload
from simdecode.metrics.accounting import KVLedger
from simdecode.scenario.hardware import GpuSpec, LinkSpec
from simdecode.scenario.schema import Scenario
from simdecode.schedulers.kv import KVCache
from simdecode.schedulers.policies import make_policy

#: named random streams; append new names at the end only
STREAMS = ("arrivals", "lengths", "speculative", "routing")


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it schedules (for benchmarks and results)."""

    def __init__(self) -> None:
        super().__init__()
        self.events_scheduled = 0

    def schedule(self, event, priority=simpy.core.NORMAL, delay=0):  # type: ignore[override]
        self.events_scheduled += 1
        super().schedule(event, priority, delay)


def random_streams(seed: int) -> dict[str, np.random.Generator]:
    return {
        name: np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(index,)))
        for index, name in enumerate(STREAMS)
    }


def kv_capacity_blocks(scenario: Scenario, dep: Deployment) -> int:
    """Blocks of ``kv_block_tokens`` the replica's KV cache holds: the engine's KV budget per GPU
    over the KV bytes one token takes there, the tightest stage deciding
    (:func:`simdecode.costmodel.memory.kv_capacity_blocks` does the arithmetic)."""
    return memory.kv_capacity_blocks(scenario, dep)


def host_link(gpu: GpuSpec) -> LinkSpec:
    """The PCIe link between a GPU and host memory, used for KV swaps: Gen5 x16 (``pcie5``) for
    H100, H200 and B200 presets, Gen4 x16 (``pcie4``) for every other GPU, inline ones included."""
    from simdecode.presets import resolve

    name = "pcie5" if gpu.name.startswith(("h100", "h200", "b200")) else "pcie4"
    return LinkSpec.model_validate(resolve("links", name))


def swap_seconds_per_token(scenario: Scenario, dep: Deployment) -> float:
    """Seconds to move one token's KV between GPU and host memory: KV bytes per token per GPU
    (the largest stage; every GPU copies its own shard over its own link at once) divided by the
    host link's achievable bandwidth (line rate x efficiency). Latency is ignored."""
    link = host_link(scenario.hardware.gpu)
    per_token = max(dep.kv_bytes_per_token_per_gpu(s) for s in range(dep.pp))
    return per_token / (link.bandwidth_Bps * link.efficiency)


def make_router(kind: str, replicas: list[Replica]):
    """The dispatch function of ``scheduler.router``: which replica serves each arriving request.

    - ``round-robin``: replicas in turn, 0, 1, ..., dp - 1, 0, ...;
    - ``least-outstanding``: the replica with the fewest requests in the system (queued or
      running, :attr:`Replica.outstanding`), ties to the lowest index. It sees arrivals and
      completions only, not the requests' lengths (a load balancer in front of the replicas).
    """
    if kind == "round-robin":
        turn = iter(range(10**18))

        def round_robin(request) -> None:
            replicas[next(turn) % len(replicas)].submit(request)

        return round_robin
    if kind == "least-outstanding":
        def least_outstanding(request) -> None:
            min(replicas, key=_outstanding).submit(request)  # min keeps the first of equals

        return least_outstanding
    raise ValueError(f"unknown router {kind!r}")


def _outstanding(replica: Replica) -> int:
    return replica.outstanding


def _later(env, delay_s: float, call, *args):
    """Process: ``call(*args)`` after ``delay_s`` seconds."""
    yield env.timeout(delay_s)
    call(*args)


def simulate(scenario: Scenario, tracer=None):
    """Run ``scenario`` to completion and return its :class:`~simdecode.result.Result`.

    ``tracer``: a :class:`simdecode.metrics.trace.Tracer` to record a Chrome/Perfetto trace into.
    Anything but a validated :class:`Scenario` is a :class:`~simdecode.errors.ScenarioError`.
    """
    if not isinstance(scenario, Scenario):
        from simdecode.errors import ScenarioError

        raise ScenarioError(f"simulate() needs a Scenario (from load_scenario(path) or Scenario.model_validate(data)), "
                            f"got {type(scenario).__name__}")

    wall_start = time.perf_counter()
    env = CountingEnvironment()
    streams = random_streams(scenario.seed)
    dep = Deployment.from_scenario(scenario)
    check_fits(scenario, dep)  # a ScenarioError naming the file's `model` line when it does not fit
    par, sched = scenario.parallelism, scenario.scheduler
    recorder = Recorder(gpus_per_stage=par.tp)
    hw = scenario.hardware
    topology = Topology(env, link=dep.link, inter_link=hw.inter_node_link, gpus_per_node=hw.gpus_per_node,
                        nics_per_node=hw.nics_per_node, pcie_switches=hw.pcie_switches,
                        tp=par.tp, pp=par.pp, dp=par.dp, peer_to_peer=hw.gpu.peer_to_peer, tracer=tracer)
    lanes = 1 if par.pp == 1 else (par.pp if par.microbatches == "auto" else par.microbatches)
    capacity = kv_capacity_blocks(scenario, dep)

    workload: Workload | None = None
    speculator_factory, verify_tokens = None, 1
    if scenario.decoding.method != "standard":
        from simdecode.engine.speculation import Speculator

        def speculator_factory(stages):
            return Speculator(env, scenario, stages, streams["speculative"], scenario.simulation.fidelity, tracer)

        verify_tokens = scenario.decoding.verify_positions

    recorder.output_delay_s = scenario.runtime.output_overhead_s

    def finished(request) -> None:
        # the client sees the last token output_overhead later and only then sends the next one
        if recorder.output_delay_s > 0 and scenario.workload.arrival.kind == "closed":
            env.process(_later(env, recorder.output_delay_s, workload.request_done, request))
        else:
            workload.request_done(request)

    replicas = [
        Replica(env, r, dep, make_policy(sched.policy, lanes=lanes, kv=KVCache(capacity, sched.kv_block_tokens),
                                         max_batch_size=sched.max_batch_size,
                                         max_batched_tokens=sched.max_batched_tokens,
                                         chunked_prefill=sched.chunked_prefill, preemption=sched.preemption,
                                         admission=sched.admission,
                                         swap_s_per_token=swap_seconds_per_token(scenario, dep),
                                         verify_tokens=verify_tokens,
                                         speculate_max_batch=scenario.decoding.max_batch_size),
                topology, recorder, scenario.simulation.fidelity, finished, speculator_factory)
        for r in range(par.dp)
    ]
    dispatch = make_router(sched.router, replicas)
    workload = Workload(env, scenario.workload, streams["arrivals"], dispatch, recorder.arrived,
                        lengths_rng=streams["lengths"])
    workload.start()  # after `workload` is bound: a request rejected at once calls finished()
    env.run()
    wall_s = time.perf_counter() - wall_start
    if tracer is not None:
        tracer.add_requests(recorder.records)
    return collect(scenario, recorder, replicas, capacity, env, wall_s)


def collect(scenario: Scenario, recorder: Recorder, replicas: list[Replica], capacity: int,
            env: CountingEnvironment, wall_s: float):
    """The finished run as a pure-data :class:`~simdecode.result.Result`: records, counters and
    monitor series copied out of the engine (the speed-up of speculative decoding against
    standard decoding is not measured here: :func:`simdecode.analysis.speculative.standard_baseline`
    runs that second simulation, only when asked)."""
    from simdecode.result import Result

    return Result(
        scenario=scenario, requests=list(recorder.records), rejected=list(recorder.rejected),
        submitted=recorder.submitted, preemptions=recorder.preemptions, first_arrival_s=recorder.first_arrival_s,
        gpu=recorder.gpu, decode=recorder.decode, swap_s=dict(recorder.swap_s), queued_s=recorder.queued_s,
        kv_blocked_s=recorder.kv_blocked_s,
        monitors={name: [m.snapshot() for m in ms] for name, ms in recorder.monitors.items()},
        kv_capacity_blocks=capacity, kv_ledgers=[KVLedger.of(kv) for kv in recorder.kv_caches],
        stage_busy_s=[[st.busy_s for st in rep.stages] for rep in replicas],
        replica_active_s=[rep.active_s for rep in replicas],
        speculation=[rep.speculator.stats for rep in replicas if rep.speculator is not None],
        events=env.events_scheduled, simulated_s=env.now, wall_s=wall_s,
    )
