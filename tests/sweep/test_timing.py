"""The sweep's time estimate (simdecode.sweep.timing): its model on synthetic costs, not timed runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdecode import cli
from simdecode.engine.budget import SECONDS_PER_UNIT, WorkEstimate
from simdecode.sweep.timing import POOL_START_S, RUN_SETUP_S, WRITE_PER_POINT_S, WRITE_S, point_seconds, sweep_time


def _fixed(n: int, pool: bool) -> float:
    """The seconds every sweep of ``n`` points pays besides its points: pool start, the folder."""
    return (POOL_START_S if pool else 0.0) + WRITE_S + WRITE_PER_POINT_S * n


def test_one_process_runs_the_points_one_after_another() -> None:
    t = sweep_time([3.0, 1.0, 2.0], jobs=1, cpus=2)
    assert t.workers == 1 and t.share == 1.0
    assert t.wall_s == pytest.approx(6.0 + _fixed(3, pool=False))
    assert t.cpu_s == 6.0


def test_workers_take_points_in_grid_order_as_they_free() -> None:
    # a large point among small ones takes its own time, whatever the workers (not 8 / 2 = 4 s):
    # worker A runs the 6 s point, B the two 1 s points
    assert sweep_time([6.0, 1.0, 1.0], jobs=2, cpus=2).wall_s == pytest.approx(6.0 + _fixed(3, pool=True))
    # grid order: the large point comes last, to the first worker free (after 1 s): 7 s, not 6
    assert sweep_time([1.0, 1.0, 6.0], jobs=2, cpus=2).wall_s == pytest.approx(7.0 + _fixed(3, pool=True))
    # four equal points on two workers: two rounds
    assert sweep_time([2.0] * 4, jobs=2, cpus=2).wall_s == pytest.approx(4.0 + _fixed(4, pool=True))


def test_more_workers_than_points_or_cores_do_not_help() -> None:
    # 2 points on 8 requested workers: 2 processes
    t = sweep_time([1.0, 1.0], jobs=8, cpus=8)
    assert t.workers == 2 and t.wall_s == pytest.approx(1.0 + _fixed(2, pool=True))
    # 4 workers on 2 cores: each gets half a core, so 4 points of 1 s take 2 s, as on 2 workers
    t = sweep_time([1.0] * 4, jobs=4, cpus=2)
    assert t.share == 0.5 and t.wall_s == pytest.approx(2.0 + _fixed(4, pool=True))


def test_a_loaded_machine_slows_every_worker() -> None:
    # 2 other busy processes on 2 cores: 2 workers get 2 / 4 of a core each; one worker 2 / 3
    idle, loaded = sweep_time([4.0, 4.0], jobs=2, cpus=2), sweep_time([4.0, 4.0], jobs=2, cpus=2, busy=2.0)
    assert loaded.share == 0.5 and loaded.wall_s - _fixed(2, True) == pytest.approx(2 * (idle.wall_s - _fixed(2, True)))
    assert sweep_time([3.0], jobs=1, cpus=2, busy=2.0).wall_s == pytest.approx(4.5 + _fixed(1, pool=False))
    # load that leaves a core for each worker costs nothing
    assert sweep_time([4.0, 4.0], jobs=2, cpus=4, busy=1.5).share == 1.0


def test_every_simulation_pays_its_fixed_cost() -> None:
    # a point of 1e5 units: 0.17 s of events plus the fixed cost; with the speculative baseline,
    # two simulations, each its events and its fixed cost
    one = WorkEstimate(steps=1e5, events_per_step=0.0, units_per_step=1.0, requests=0, batch=1, stages=1, runs=1)
    two = WorkEstimate(steps=1e5, events_per_step=0.0, units_per_step=1.0, requests=0, batch=1, stages=1, runs=2)
    assert point_seconds(one) == pytest.approx(1e5 * SECONDS_PER_UNIT + RUN_SETUP_S)
    assert point_seconds(two) == pytest.approx(2 * point_seconds(one))
    # a grid of 100 empty points is 100 fixed costs, not zero
    empty = WorkEstimate(steps=0.0, events_per_step=0.0, units_per_step=0.0, requests=0, batch=1, stages=1, runs=1)
    assert sweep_time([point_seconds(empty)] * 100, jobs=1, cpus=1).wall_s >= 100 * RUN_SETUP_S


def test_cli_announces_the_estimate_and_sets_it_beside_the_measurement(tiny_sweep: Path, tmp_path: Path,
                                                                        capsys) -> None:
    assert cli.main(["sweep", str(tiny_sweep), "--jobs", "1", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "with 1 process" in err and "s of simulation on one core)" in err
    assert "ran 4 points in " in err and "(estimated " in err
