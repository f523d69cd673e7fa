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
- a worker gets a whole core only while the runnable processes (the workers and ``busy`` others,
  the machine's load average) are no more than the cores: beyond, each gets cores / processes;
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


def point_seconds(estimate) -> float:
    """One point's CPU seconds on a free core: the estimated simulation(s)
    (:class:`simdecode.engine.budget.WorkEstimate`) and their fixed cost."""
    return estimate.cpu_seconds + estimate.runs * RUN_SETUP_S


def sweep_time(point_s: Sequence[float], jobs: int, cpus: int, busy: float = 0.0) -> SweepTime:
    """The wall time of running points of ``point_s`` CPU seconds each (grid order) on ``jobs``
    worker processes (1: in this process) of a machine of ``cpus`` cores on which ``busy`` other
    processes are runnable (its load average), and writing the folder (see the module docstring)."""
    n = len(point_s)
    workers = max(1, min(jobs, n))
    share = min(1.0, cpus / max(1.0, busy + workers))
    free_at = [0.0] * workers  # when each worker is next free, seconds
    for seconds in point_s:
        heapq.heappush(free_at, heapq.heappop(free_at) + seconds / share)
    start_s = POOL_START_S if workers > 1 else 0.0
    wall_s = start_s + max(free_at) + WRITE_S + WRITE_PER_POINT_S * n
    return SweepTime(wall_s=wall_s, cpu_s=float(sum(point_s)), workers=workers, share=share)


def machine_load() -> tuple[int, float]:
    """This process's usable cores and the other processes busy on the machine: the 1-minute
    load average, but no more than the processes runnable now besides this one (Linux's
    /proc/loadavg), so that a run which just ended (its own sweep a minute ago) does not count
    as load; 0 where the platform says neither."""
    from simdecode.sweep.executors import default_jobs

    try:
        with open("/proc/loadavg") as f:
            fields = f.read().split()
        busy = min(float(fields[0]), int(fields[3].split("/")[0]) - 1)
    except (OSError, IndexError, ValueError):
        try:
            busy = os.getloadavg()[0]
        except (AttributeError, OSError):
            busy = 0.0
    return default_jobs(), max(0.0, busy)
