"""A run's replicas split over processes: ``simdecode run --jobs N [--executor ray]``.

Replicas are independent simulations once three things hold, and then each process runs a block
of them in its own SimPy environment (:func:`simdecode.engine.simulation.run_replicas`) and the
parent merges the parts (:func:`simdecode.engine.simulation.collect`), exactly as one process
merges its replicas. The results are identical to one process: every process draws the whole
arrival stream and request lengths from the same seeded streams and times every arrival with the
same timeouts (so every float is the same), routes each request as the whole run would, and runs
only the requests routed to its own replicas; each replica's numbers come from that replica
alone, and the merge adds them in replica order whatever the split.

Conditions (:func:`split_reason` says which one fails; the run then stays in one process):

- the router does not read replica state (``round-robin``, ``random``: every process draws the same
  choices from the routing stream; ``least-outstanding`` looks at every replica's queue at each
  arrival);
- arrivals do not depend on completions (not ``closed``: a closed loop sends the next request when
  any replica finishes one);
- replicas share nothing: no link is used by groups of two replicas (a shared NIC, PCIe root
  complex or host path makes them contend); standard decoding (a speculating run draws acceptances
  for every replica from one stream, in event order); no trace (one file, one timeline).

Executors (the same names as ``simdecode sweep --executor``): ``local`` (the standard library's
process pool) or ``ray`` (Ray tasks, one per block; ``pip install 'simdecode[ray]'``; a running
cluster at ``ray_address``, else a local Ray started for the run). ``process``, the name ``run``
gave local processes at first, still means ``local`` (:func:`executor_name`). The event count of
a split run is the sum over processes, and so counts every arrival once per process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the CLI reads EXECUTORS while parsing, before any scenario
    from simdecode.scenario.schema import Scenario

EXECUTORS = ("local", "ray")
#: earlier spellings still accepted: the name ``run --executor`` had for local processes
EXECUTOR_ALIASES = {"process": "local"}
#: routers that do not read replica state: each process can route every request as the whole run does
STATE_FREE_ROUTERS = ("round-robin", "random")


class ExecutorUnavailable(Exception):
    """The executor asked for cannot run here (Ray is not installed): the user's to fix (exit 2)."""


def executor_name(name: str) -> str:
    """``name`` in the one vocabulary of :data:`EXECUTORS` (``process`` -> ``local``); anything
    else is a ``ValueError`` naming the choices."""
    name = EXECUTOR_ALIASES.get(name, name)
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")
    return name


def split_reason(scenario: Scenario, tracer=None, jobs: int = 2) -> str | None:
    """Why ``scenario`` cannot run its replicas in separate processes (None: it can)."""
    par, sched = scenario.parallelism, scenario.scheduler
    if jobs < 2:
        return "one job asked for"
    if par.dp < 2:
        return "one replica (parallelism.dp = 1) has nothing to split"
    if sched.router not in STATE_FREE_ROUTERS:
        return f"router {sched.router!r} reads every replica's state at each arrival"
    if scenario.workload.arrival.kind == "closed":
        return "closed-loop arrivals wait for completions on any replica"
    if scenario.decoding.method != "standard":
        return "speculative decoding draws every replica's acceptances from one stream"
    if tracer is not None:
        return "a trace records one timeline"
    if shared_between_replicas(scenario):
        return "replicas share links (NICs, a PCIe root complex or a host path) and contend for them"
    return None


def shared_between_replicas(scenario: Scenario) -> bool:
    """Does any link carry collectives of groups of two different replicas?"""
    topology = topology_of(scenario)
    return any(len({replica for replica, _ in groups}) > 1 for groups in topology.users().values())


def topology_of(scenario: Scenario):
    """The scenario's :class:`simdecode.engine.topology.Topology` (links and which groups share
    them), built in a throwaway SimPy environment: for questions asked before a run."""
    import simpy

    from simdecode.costmodel.deployment import Deployment
    from simdecode.engine.topology import Topology

    dep = Deployment.from_scenario(scenario)
    par, hw = scenario.parallelism, scenario.hardware
    return Topology(simpy.Environment(), link=dep.link, inter_link=hw.inter_node_link,
                    gpus_per_node=hw.gpus_per_node, nics_per_node=hw.nics_per_node,
                    pcie_switches=hw.switch_groups, tp=par.tp, pp=par.pp, dp=par.dp,
                    peer_to_peer=hw.gpu.peer_to_peer)


def blocks(dp: int, jobs: int) -> list[list[int]]:
    """Replicas 0..dp-1 in ``min(jobs, dp)`` contiguous blocks of near-equal size."""
    n = min(jobs, dp)
    return [list(range(dp * j // n, dp * (j + 1) // n)) for j in range(n)]


def run_split(scenario: Scenario, jobs: int, executor: str, ray_address: str | None, keep_token_times: int) -> list:
    """Run ``scenario``'s replicas in blocks on ``jobs`` workers; the parts, in replica order
    (``keep_token_times``: see :func:`simdecode.engine.simulation.simulate`, the one caller)."""
    from simdecode.engine.simulation import run_replicas

    keep = keep_token_times

    work = blocks(scenario.parallelism.dp, jobs)
    if executor_name(executor) == "ray":
        return _run_ray(scenario, work, jobs, ray_address, keep_token_times=keep)
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=len(work)) as pool:
        futures = [pool.submit(run_replicas, scenario, block, keep_token_times=keep) for block in work]
        return [future.result() for future in futures]


def _run_ray(scenario: Scenario, work: list[list[int]], jobs: int, address: str | None = None,
             *, keep_token_times: int) -> list:
    try:
        import ray
    except ImportError:
        raise ExecutorUnavailable("--executor ray needs Ray: pip install 'simdecode[ray]'") from None
    from simdecode.engine.simulation import run_replicas

    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False)
    try:
        task = ray.remote(run_replicas)
        return ray.get([task.remote(scenario, block, keep_token_times=keep_token_times) for block in work])
    finally:
        if started:
            ray.shutdown()
