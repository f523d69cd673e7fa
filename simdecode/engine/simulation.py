"""Build a simulation from a scenario, run it, return a :class:`~simdecode.result.Result`.

Lifecycle (desmod's): build (deployment, topology, replicas, workload) -> run (until every
request has left) -> collect (records and accounting into a pure-data Result).

Randomness: one ``numpy.random.SeedSequence(seed)`` per simulation and one child stream per
concern, keyed by a fixed index (:data:`STREAMS`), so adding a stream never shifts another's
draws. No global random state is touched.
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import simpy

from simdecode.costmodel.attention_dp import ranks, replica_limit
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.feasibility import check_fits
from simdecode.costmodel import memory
from simdecode.engine.recorder import Recorder
from simdecode.engine.replica import Replica
from simdecode.engine.topology import Topology
from simdecode.engine.workload import KEEP_TOKEN_TIMES, Workload
from simdecode.metrics.accounting import KVLedger
from simdecode.scenario.hardware import GpuSpec, LinkSpec
from simdecode.scenario.schema import Scenario
from simdecode.schedulers.kv import KVCache
from simdecode.schedulers.policies import make_policy

#: named random streams; append new names at the end only
STREAMS = ("arrivals", "lengths", "speculative", "routing")


def events_scheduled(env: simpy.Environment) -> int:
    """Events ``env`` has scheduled so far: SimPy numbers every event it schedules from its own
    counter (``Environment._eid``, an ``itertools.count`` that breaks ties in the event queue), so
    the count costs nothing per event. Read it once, after the run: reading takes a number."""
    return next(env._eid)


@contextmanager
def collector_paused():
    """The garbage collector off the hot path: objects alive before the run are frozen (never
    scanned again) and automatic collection is off while the simulation runs; both are restored
    after. A run frees nearly everything it makes by reference counting (events, requests), so
    nothing piles up meanwhile."""
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()


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


def make_router(kind: str, replicas: list[Replica], rng: np.random.Generator | None = None):
    """The dispatch function of ``scheduler.router``: which replica serves each arriving request.

    - ``round-robin``: replicas in turn, 0, 1, ..., dp - 1, 0, ...;
    - ``random``: a replica drawn uniformly from the ``routing`` stream ``rng``, one draw per
      request in arrival order (:func:`replica_choices`);
    - ``least-outstanding``: the replica with the fewest requests in the system (queued or
      running, :attr:`Replica.outstanding`), ties to the lowest index. It sees arrivals and
      completions only, not the requests' lengths (a load balancer in front of the replicas).
    """
    if kind == "round-robin":
        turn = iter(range(10**18))

        def round_robin(request) -> None:
            replicas[next(turn) % len(replicas)].submit(request)

        return round_robin
    if kind == "random":
        choice = replica_choices(rng, len(replicas))

        def random_replica(request) -> None:
            replicas[next(choice)].submit(request)

        return random_replica
    if kind == "least-outstanding":
        def least_outstanding(request) -> None:
            min(replicas, key=_outstanding).submit(request)  # min keeps the first of equals

        return least_outstanding
    raise ValueError(f"unknown router {kind!r}")


def replica_choices(rng: np.random.Generator, dp: int, block: int = 4096):
    """Replica indices drawn uniformly from ``rng``, ``block`` at a time (the same sequence
    whichever replicas a process runs: every process routes every request)."""
    while True:
        yield from rng.integers(dp, size=block).tolist()


def _outstanding(replica: Replica) -> int:
    return replica.outstanding


@dataclass
class Part:
    """What running some of a scenario's replicas in one environment gives: the arrivals'
    recorder (``front``: submissions, first arrival), one recorder per replica run, by replica
    index, and each replica's accounting. Engine-free (picklable), so parts can come back from
    other processes (:mod:`simdecode.engine.parallel`)."""

    front: Recorder
    replicas: dict[int, Recorder]
    stage_busy_s: dict[int, list[float]]
    active_s: dict[int, float]
    speculation: dict[int, Any]
    events: int
    now: float


#: wall seconds before a run first reports progress, and between reports
PROGRESS_AFTER_S = 2.0
PROGRESS_EVERY_S = 1.0
#: events stepped between looks at the wall clock
PROGRESS_EVERY_EVENTS = 2000


def run_reporting(env: simpy.Environment, report) -> None:
    """``env.run()``, calling ``report()`` after :data:`PROGRESS_AFTER_S` wall seconds and then
    every :data:`PROGRESS_EVERY_S`. It steps the same events in the same order as ``env.run()``
    (it schedules none of its own), so results and event counts do not change."""
    next_s = time.perf_counter() + PROGRESS_AFTER_S
    step, every_events = env.step, PROGRESS_EVERY_EVENTS
    try:
        while True:
            for _ in range(every_events):
                step()
            now = time.perf_counter()
            if now >= next_s:
                report()
                next_s = now + PROGRESS_EVERY_S
    except simpy.core.EmptySchedule:
        pass


def simulate(scenario: Scenario, tracer=None, *, jobs: int = 1, executor: str = "local",
             ray_address: str | None = None, log: Callable[[str], None] | None = None,
             progress: Callable[[float, int, int], None] | None = None, keep_token_times: int = KEEP_TOKEN_TIMES):
    """Run ``scenario`` to completion and return its :class:`~simdecode.result.Result`.

    ``tracer``: a :class:`simdecode.metrics.trace.Tracer` to record a Chrome/Perfetto trace into.
    ``progress``: called as ``progress(simulated_s, requests_done, requests_total)`` now and then
    during a long run in one process (see :func:`run_reporting`); None (the default) runs without
    reports. A run split over processes does not report.
    ``keep_token_times``: the first requests (by id) whose every token time the result keeps,
    for the token timeline plot and the summary's ITL (``itl_ms``, their gaps); 0 keeps none
    (``itl_ms`` is then None), for callers that read neither (``simdecode validate``): the times
    are most of a long run's memory (a float per token of each of those requests). No other
    number changes with it.
    ``jobs`` > 1 (or ``executor`` ``"ray"``): split the replicas over that many processes, local
    (``"local"``; ``"process"``, its earlier name, is still accepted) or Ray workers (on the
    cluster at ``ray_address``, else a local Ray started for the run), where the scenario allows
    it (:mod:`simdecode.engine.parallel`), with results identical to one process; where it does
    not, ``log`` is told why and one process runs.
    Anything but a validated :class:`Scenario` is a :class:`~simdecode.errors.ScenarioError`.
    """
    if not isinstance(scenario, Scenario):
        from simdecode.errors import ScenarioError

        raise ScenarioError(f"simulate() needs a Scenario (from load_scenario(path) or Scenario.model_validate(data)), "
                            f"got {type(scenario).__name__}")

    wall_start = time.perf_counter()
    from simdecode.engine.parallel import executor_name

    executor = executor_name(executor)
    if jobs > 1 or executor != "local":
        from simdecode.engine.parallel import run_split, split_reason

        reason = split_reason(scenario, tracer, jobs)
        if reason is None:
            check_fits(scenario, Deployment.from_scenario(scenario))  # before any worker starts
            parts = run_split(scenario, jobs, executor, ray_address, keep_token_times)
            return collect(scenario, parts, time.perf_counter() - wall_start)
        if log is not None:
            log(f"running in one process: {reason}")
    part = run_replicas(scenario, None, tracer, progress, keep_token_times)
    result = collect(scenario, [part], time.perf_counter() - wall_start)
    if tracer is not None:
        tracer.add_requests(result.requests)
    return result


def run_replicas(scenario: Scenario, indices: Sequence[int] | None = None, tracer=None, progress=None,
                 keep_token_times: int = KEEP_TOKEN_TIMES) -> Part:
    """Run replicas ``indices`` of ``scenario`` (None: all) to completion in one environment
    (``progress``, ``keep_token_times``: see :func:`simulate`).

    Every arrival is drawn and timed as in the whole run (the same streams, the same timeouts); a
    request routed to a replica not in ``indices`` is dropped at dispatch. Only a router that
    does not read replica state may run a subset (:func:`simdecode.engine.parallel.split_reason`).
    """
    env = simpy.Environment()
    streams = random_streams(scenario.seed)
    dep = Deployment.from_scenario(scenario)
    check_fits(scenario, dep)  # a ScenarioError naming the file's `model` line when it does not fit
    par, sched = scenario.parallelism, scenario.scheduler
    front = Recorder(gpus_per_stage=par.tp)
    hw = scenario.hardware
    topology = Topology(env, link=dep.link, inter_link=hw.inter_node_link, gpus_per_node=hw.gpus_per_node,
                        nics_per_node=hw.nics_per_node, pcie_switches=hw.switch_groups,
                        tp=par.tp, pp=par.pp, dp=par.dp, peer_to_peer=hw.gpu.peer_to_peer, tracer=tracer)
    lanes = 1 if par.pp == 1 else (par.pp if par.microbatches == "auto" else par.microbatches)
    capacity = kv_capacity_blocks(scenario, dep)
    indices = range(par.dp) if indices is None else sorted(indices)

    workload: Workload | None = None
    speculator_factory, verify_tokens = None, 1
    if scenario.decoding.method != "standard":
        from simdecode.engine.speculation import Speculator

        def speculator_factory(stages):
            return Speculator(env, scenario, stages, streams["speculative"], scenario.simulation.fidelity, tracer)

        verify_tokens = scenario.decoding.verify_positions

    output_delay_s = scenario.runtime.output_overhead_s

    def finished(request) -> None:
        # the client sees the last token output_overhead later and only then sends the next one
        if output_delay_s > 0 and scenario.workload.arrival.kind == "closed":
            env.process(_later(env, output_delay_s, workload.request_done, request))
        else:
            workload.request_done(request)

    recorders = {r: Recorder(gpus_per_stage=par.tp, output_delay_s=output_delay_s) for r in indices}
    replicas = {
        r: Replica(env, r, dep, make_policy(sched.policy, lanes=lanes, kv=KVCache(capacity, sched.kv_block_tokens),
                                            # attention DP: each rank schedules its own (attention_dp.py)
                                            max_batch_size=replica_limit(sched.max_batch_size, ranks(dep)),
                                            max_batched_tokens=replica_limit(sched.max_batched_tokens, ranks(dep)),
                                            chunked_prefill=sched.chunked_prefill, preemption=sched.preemption,
                                            admission=sched.admission, overlap=sched.overlap,
                                            batch_wait_iters=sched.batch_wait_iters,
                                            batch_wait_tokens_ratio=sched.batch_wait_tokens_ratio,
                                            balance_ranks=ranks(dep), balance_iters=sched.adp_balance_iters,
                                            swap_s_per_token=swap_seconds_per_token(scenario, dep),
                                            verify_tokens=verify_tokens,
                                            speculate_max_batch=scenario.decoding.max_batch_size),
                   topology, recorders[r], scenario.simulation.fidelity, finished, speculator_factory)
        for r in indices
    }
    if len(replicas) == par.dp:
        dispatch = make_router(sched.router, list(replicas.values()), streams["routing"])
    else:
        dispatch = _subset_router(sched.router, replicas, par.dp, streams["routing"])
    workload = Workload(env, scenario.workload, streams["arrivals"], dispatch, front.arrived,
                        lengths_rng=streams["lengths"], keep_token_times=keep_token_times)
    workload.start()  # after `workload` is bound: a request rejected at once calls finished()
    with collector_paused():
        if progress is None:
            env.run()
        else:
            total = scenario.workload.total_requests
            every = [front, *recorders.values()]
            run_reporting(env, lambda: progress(
                env.now, sum(len(rec.records) + len(rec.rejected) for rec in every), total))
    for rep in replicas.values():  # engine-free from here on: no callbacks into the engine
        rep.policy.kv.on_change = None
    return Part(front=front, replicas=recorders,
                stage_busy_s={r: [st.busy_s for st in rep.stages] for r, rep in replicas.items()},
                active_s={r: rep.active_s for r, rep in replicas.items()},
                speculation={r: rep.speculator.stats for r, rep in replicas.items() if rep.speculator is not None},
                events=events_scheduled(env), now=env.now)


def _later(env, delay_s: float, call, *args):
    """Process: ``call(*args)`` after ``delay_s`` seconds."""
    yield env.timeout(delay_s)
    call(*args)


def _subset_router(kind: str, replicas: dict[int, Replica], dp: int, rng: np.random.Generator):
    """A state-free router over all ``dp`` replicas, of which only ``replicas`` (by index) run
    here: each request goes where the whole run sends it, or nowhere."""
    if kind == "round-robin":
        turn = iter(range(10**18))
        choose = lambda: next(turn) % dp  # noqa: E731
    elif kind == "random":
        choice = replica_choices(rng, dp)
        choose = choice.__next__
    else:
        raise ValueError(f"router {kind!r} reads replica state: it cannot route part of a run")

    def route(request) -> None:
        replica = replicas.get(choose())
        if replica is not None:
            replica.submit(request)

    return route


def collect(scenario: Scenario, parts: list[Part], wall_s: float):
    """The finished run as a pure-data :class:`~simdecode.result.Result`: records, counters and
    monitor series copied out of the engine (the speed-up of speculative decoding against
    standard decoding is not measured here: :func:`simdecode.analysis.speculative.standard_baseline`
    runs that second simulation, only when asked).

    ``parts`` cover every replica once. The same merge serves one process and many (one part or
    several), so both give identical numbers: per-replica sums are added in replica order, records
    ordered by completion time (ties by replica, then as each replica recorded them)."""
    from simdecode.result import Result

    by_replica = {r: rec for part in parts for r, rec in part.replicas.items()}
    recorder = Recorder.merged(parts[0].front, [by_replica[r] for r in sorted(by_replica)])
    busy = {r: v for part in parts for r, v in part.stage_busy_s.items()}
    active = {r: v for part in parts for r, v in part.active_s.items()}
    speculation = {r: v for part in parts for r, v in part.speculation.items()}
    capacity = kv_capacity_blocks(scenario, Deployment.from_scenario(scenario))
    return Result(
        scenario=scenario, requests=list(recorder.records), rejected=list(recorder.rejected),
        submitted=recorder.submitted, preemptions=recorder.preemptions, first_arrival_s=recorder.first_arrival_s,
        gpu=recorder.gpu, decode=recorder.decode, swap_s=dict(recorder.swap_s), queued_s=recorder.queued_s,
        kv_blocked_s=recorder.kv_blocked_s,
        monitors={name: [m.snapshot() for m in ms] for name, ms in recorder.monitors.items()},
        kv_capacity_blocks=capacity, kv_ledgers=[KVLedger.of(kv) for kv in recorder.kv_caches],
        stage_busy_s=[busy[r] for r in sorted(busy)], replica_active_s=[active[r] for r in sorted(active)],
        speculation=[speculation[r] for r in sorted(speculation)],
        events=sum(part.events for part in parts), simulated_s=max(part.now for part in parts), wall_s=wall_s,
    )
