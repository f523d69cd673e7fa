"""How long a sweep will take, estimated before it runs (the time ``simdecode sweep`` announces).

Each point's simulation is estimated from its scenario alone (:func:`simdecode.engine.budget.estimate_work`,
CPU seconds of one core; a speculative point runs its standard-decoding baseline too). The sweep's
wall time is then what the executor makes of those costs:

- each simulation also pays a fixed :data:`RUN_SETUP_S` outside its events (the deployment and its
  step plans built, the result collected and summarised): a grid of small points is mostly that;
- ``jobs`` worker processes (at most one per point) take the points in grid order, each the next
  one as it frees (what :class:`concurrent.futures.ProcessPoolExecutor` does): the wall time is
  the last worker's finish (list scheduling), not the sum over the workers: one large point
  among small ones takes its own time whatever the workers;
- a worker gets a whole core only while the machine has one to spare: the cores are shared fairly
  between the runnable processes, or, where Linux's autogroup is on, between sessions (the sweep's
  workers are all in one: with two other sessions busy on 2 cores, the whole sweep gets 2/3 of a
  core, however many workers it has) (:func:`machine_load`, :func:`worker_share`);
- starting the pool (:data:`POOL_START_S`) and writing the folder (:data:`WRITE_S` plus
  :data:`WRITE_PER_POINT_S` a point) add their own seconds.

Before this model, ``sweep`` printed the points' summed CPU seconds alone ("of simulation in all,
one core"): it missed the fixed cost per point, the workers, the time to write and the machine's
load, and, for sweeps over concurrency on a pipeline, most of the events (see
:mod:`simdecode.engine.budget`: micro-batch lanes). Measured on the project's 2-core server:
a simulation's fixed cost 41 to 43 ms (``benchmarks/budget_calibration.py``'s fit, which times
``simulate`` and ``summary``), the pool's start 0.05 to 0.1 s, the folder 0.08 s plus 0.005 s a
point (pyarrow's import, for the parquet table, is most of the fixed part). docs/performance.md
lists the estimate beside the measured time for the curated sweeps.
"""

from __future__ import annotations

import heapq
import os
from dataclasses import dataclass
from typing import Sequence

#: seconds a simulation costs beyond its events (build, collect, summarise): the calibration's fit
RUN_SETUP_S = 0.04
#: seconds to start the worker processes (fork) and hand them their first points
POOL_START_S = 0.05
#: seconds to render and write the sweep folder (tables, pyarrow's import), and per point
WRITE_S = 0.08
WRITE_PER_POINT_S = 0.005


@dataclass(frozen=True)
class SweepTime:
    """The estimate of :func:`sweep_time`: ``wall_s`` seconds from the first point to the folder
    written; ``cpu_s`` the simulations' CPU seconds on one free core; ``workers`` processes, each
    getting ``share`` of a core."""

    wall_s: float
    cpu_s: float
    workers: int
    share: float


@dataclass(frozen=True)
class Load:
    """Who else wants the machine's ``cpus`` cores: ``others``, the runnable processes of each
    other scheduling group (a mean over looks: 0.5 is a process runnable half the time); with
    ``grouped`` the kernel shares the cores fairly between groups, not processes (Linux's
    autogroup: a group per session, and a sweep's workers are all in the sweep's session), else
    every process is a group of its own."""

    cpus: int
    others: tuple[float, ...] = ()
    grouped: bool = False


def fair_cores(demands: Sequence[float], cpus: float) -> list[float]:
    """Cores each group gets when groups wanting ``demands`` cores share ``cpus`` fairly
    (max-min fairness, what the kernel's fair scheduler tends to: equal shares, and what a group
    cannot use goes to the others)."""
    alloc = [0.0] * len(demands)
    left = float(cpus)
    order = sorted(range(len(demands)), key=lambda i: demands[i])
    for k, i in enumerate(order):
        alloc[i] = min(demands[i], left / (len(order) - k))
        left -= alloc[i]
    return alloc


def worker_share(workers: int, load: Load) -> float:
    """The share of a core each of ``workers`` busy worker processes gets under ``load``."""
    mine = [float(workers)] if load.grouped else [1.0] * workers
    alloc = fair_cores([*load.others, *mine], load.cpus)
    return min(1.0, sum(alloc[len(load.others):]) / workers)


def point_seconds(estimate) -> float:
    """One point's CPU seconds on a free core: the estimated simulation(s)
    (:class:`simdecode.engine.budget.WorkEstimate`) and their fixed cost."""
    return estimate.cpu_seconds + estimate.runs * RUN_SETUP_S


def sweep_time(point_s: Sequence[float], jobs: int, load: Load) -> SweepTime:
    """The wall time of running points of ``point_s`` CPU seconds each (grid order) on ``jobs``
    worker processes (1: in this process) under ``load``, and writing the folder (see the module
    docstring)."""
    n = len(point_s)
    workers = max(1, min(jobs, n))
    share = worker_share(workers, load)
    free_at = [0.0] * workers  # when each worker is next free, seconds
    for seconds in point_s:
        heapq.heappush(free_at, heapq.heappop(free_at) + seconds / share)
    start_s = POOL_START_S if workers > 1 else 0.0
    wall_s = start_s + max(free_at) + WRITE_S + WRITE_PER_POINT_S * n
    return SweepTime(wall_s=wall_s, cpu_s=float(sum(point_s)), workers=workers, share=share)


#: looks at the processes runnable now (:func:`machine_load`) and the seconds between them
LOAD_LOOKS = 10
LOAD_LOOK_GAP_S = 0.01


def machine_load() -> Load:
    """The machine's load now (Linux): :data:`LOAD_LOOKS` looks, 10 ms apart, at which other
    processes are runnable (state R in /proc/PID/stat) and their autogroup (/proc/PID/autogroup,
    where /proc/sys/kernel/sched_autogroup_enabled is 1). Not the load average: a minute's average
    counts a sweep that just ended as load and cannot say which processes share a group. Elsewhere
    the 1-minute load average, as that many processes of their own."""
    import time
    from collections import Counter

    from simdecode.sweep.executors import default_jobs

    cpus = default_jobs()
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            grouped = f.read().strip() == "1"
    except OSError:
        grouped = False
    me = str(os.getpid())
    counts: Counter = Counter()
    try:
        for look in range(LOAD_LOOKS):
            if look:
                time.sleep(LOAD_LOOK_GAP_S)
            counts.update(_runnable_groups(me, grouped))
    except OSError:  # no /proc
        try:
            busy = os.getloadavg()[0]
        except (AttributeError, OSError):
            busy = 0.0
        return Load(cpus, (1.0,) * int(busy) + ((busy % 1,) if busy % 1 else ()))
    return Load(cpus, tuple(n / LOAD_LOOKS for n in counts.values()), grouped)


def _runnable_groups(me: str, grouped: bool) -> list[str]:
    """The scheduling group of every runnable process but ``me`` (its autogroup, or its pid)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or entry.name == me:
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
            if stat[stat.rindex(")") + 2] != "R":
                continue
            group = entry.name
            if grouped:
                with open(f"/proc/{entry.name}/autogroup") as f:
                    group = f.read().split()[0]
        except (OSError, ValueError, IndexError):  # gone meanwhile, or unreadable
            continue
        found.append(group)
    return found
