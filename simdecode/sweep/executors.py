"""Where the points of a sweep run: in this process, in local worker processes, or on Ray.

Every executor runs :func:`run_point` on each scenario and calls ``done(index, summary)`` as
results arrive (in any order); the caller orders rows by the grid, so the table does not depend
on the executor or on timing. A simulation is deterministic (one seed per scenario), so the same
point gives the same summary wherever it runs.

- ``local`` with ``jobs=1``: one after the other in this process;
- ``local`` with ``jobs>1``: a :class:`concurrent.futures.ProcessPoolExecutor` of ``jobs``
  processes (each point is CPU-bound pure Python: threads would share one interpreter lock);
- ``ray``: one Ray task per point (``pip install 'simdecode[ray]'``). With ``address`` it
  joins that cluster (whose workers need simdecode installed); without, it starts a local Ray
  with ``jobs`` CPUs for the run and stops it afterwards.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Sequence

# one vocabulary for `run --executor` and `sweep --executor` (and "process", run's earlier name for local)
from simdecode.engine.parallel import EXECUTORS, ExecutorUnavailable, executor_name  # noqa: F401

Done = Callable[[int, dict[str, Any]], None]


def run_point(scenario: Any) -> dict[str, Any]:
    """Simulate one resolved scenario; its summary as JSON-ready data. With speculative decoding
    the summary includes the measured speed-up over standard decoding (``baseline=True``: a
    second simulation of the point), which the speculative figure of a sweep draws."""
    from simdecode import simulate
    from simdecode.io.output import jsonable

    return jsonable(simulate(scenario).summary(baseline=True))


def default_jobs() -> int:
    """Worker processes by default: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_local(scenarios: Sequence[Any], jobs: int, done: Done) -> None:
    """Run every scenario with ``jobs`` processes (in this process when ``jobs`` is 1)."""
    if jobs <= 1 or len(scenarios) <= 1:
        for index, scenario in enumerate(scenarios):
            done(index, run_point(scenario))
        return
    with ProcessPoolExecutor(max_workers=min(jobs, len(scenarios))) as pool:
        pending = {pool.submit(run_point, scenario): index for index, scenario in enumerate(scenarios)}
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    done(pending.pop(future), future.result())
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def run_ray(scenarios: Sequence[Any], jobs: int, done: Done, address: str | None = None) -> None:
    """Run every scenario as one Ray task; start (and stop) a local Ray unless ``address`` is given."""
    try:
        import ray
    except ImportError:
        raise ExecutorUnavailable("--executor ray needs Ray: pip install 'simdecode[ray]'") from None
    import logging

    started_here = not ray.is_initialized()
    if started_here:
        quiet = {"log_to_driver": False, "logging_level": logging.WARNING, "configure_logging": True}
        if address:
            ray.init(address=address, **quiet)
        else:
            ray.init(num_cpus=max(1, jobs), include_dashboard=False, **quiet)
    try:
        task = ray.remote(run_point)
        pending = {task.remote(scenario): index for index, scenario in enumerate(scenarios)}
        while pending:
            finished, _ = ray.wait(list(pending), num_returns=1)
            for ref in finished:
                done(pending.pop(ref), ray.get(ref))
    finally:
        if started_here:
            ray.shutdown()


def execute(kind: str, scenarios: Sequence[Any], jobs: int, done: Done, address: str | None = None) -> None:
    """Dispatch to :func:`run_local` or :func:`run_ray` (``kind`` as :func:`executor_name` reads it)."""
    kind = executor_name(kind)
    if kind == "local":
        run_local(scenarios, jobs, done)
    elif kind == "ray":
        run_ray(scenarios, jobs, done, address)
    else:
        raise ValueError(f"unknown executor {kind!r}: expected one of {EXECUTORS}")
