"""The sweep's time estimate (simdecode.sweep.timing): its model on synthetic costs, not timed runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdecode import cli
from simdecode.engine.budget import SECONDS_PER_UNIT, WorkEstimate
from simdecode.sweep.timing import (POOL_START_S, RUN_SETUP_S, WRITE_PER_POINT_S, WRITE_S, Load, fair_cores,
                                    machine_load, point_seconds, sweep_time, worker_share)

IDLE = Load(cpus=2)


def _fixed(n: int, pool: bool) -> float:
    """The seconds every sweep of ``n`` points pays besides its points: pool start, the folder."""
    return (POOL_START_S if pool else 0.0) + WRITE_S + WRITE_PER_POINT_S * n


def test_one_process_runs_the_points_one_after_another() -> None:
    t = sweep_time([3.0, 1.0, 2.0], jobs=1, load=IDLE)
    assert t.workers == 1 and t.share == 1.0
    assert t.wall_s == pytest.approx(6.0 + _fixed(3, pool=False))
    assert t.cpu_s == 6.0


def test_workers_take_points_in_grid_order_as_they_free() -> None:
    # a large point among small ones takes its own time, whatever the workers (not 8 / 2 = 4 s):
    # worker A runs the 6 s point, B the two 1 s points
    assert sweep_time([6.0, 1.0, 1.0], jobs=2, load=IDLE).wall_s == pytest.approx(6.0 + _fixed(3, pool=True))
    # grid order: the large point comes last, to the first worker free (after 1 s): 7 s, not 6
    assert sweep_time([1.0, 1.0, 6.0], jobs=2, load=IDLE).wall_s == pytest.approx(7.0 + _fixed(3, pool=True))
    # four equal points on two workers: two rounds
    assert sweep_time([2.0] * 4, jobs=2, load=IDLE).wall_s == pytest.approx(4.0 + _fixed(4, pool=True))


def test_more_workers_than_points_or_cores_do_not_help() -> None:
    # 2 points on 8 requested workers: 2 processes
    t = sweep_time([1.0, 1.0], jobs=8, load=Load(cpus=8))
    assert t.workers == 2 and t.wall_s == pytest.approx(1.0 + _fixed(2, pool=True))
    # 4 workers on 2 cores: each gets half a core, so 4 points of 1 s take 2 s, as on 2 workers
    t = sweep_time([1.0] * 4, jobs=4, load=IDLE)
    assert t.share == 0.5 and t.wall_s == pytest.approx(2.0 + _fixed(4, pool=True))


def test_a_loaded_machine_slows_every_worker() -> None:
    # 2 other busy processes on 2 cores, shared between processes: 2 workers get 2 / 4 of a core
    # each, one worker 2 / 3
    busy = Load(cpus=2, others=(1.0, 1.0))
    idle, loaded = sweep_time([4.0, 4.0], jobs=2, load=IDLE), sweep_time([4.0, 4.0], jobs=2, load=busy)
    assert loaded.share == 0.5 and loaded.wall_s - _fixed(2, True) == pytest.approx(2 * (idle.wall_s - _fixed(2, True)))
    assert sweep_time([3.0], jobs=1, load=busy).wall_s == pytest.approx(4.5 + _fixed(1, pool=False))
    # load that leaves a core for each worker costs nothing
    assert sweep_time([4.0, 4.0], jobs=2, load=Load(cpus=4, others=(1.0, 0.5))).share == 1.0


def test_sessions_share_the_cores_where_autogroup_is_on() -> None:
    # two other sessions busy (one process, two processes) on 2 cores: each session gets 2/3 of
    # a core, the sweep's too, however many workers it has: 1/3 each for two, 2/3 for one
    others = Load(cpus=2, others=(1.0, 2.0), grouped=True)
    assert worker_share(2, others) == pytest.approx(1 / 3)
    assert worker_share(1, others) == pytest.approx(2 / 3)
    # so a second worker does not shorten the sweep at all
    one, two = sweep_time([2.0] * 4, jobs=1, load=others), sweep_time([2.0] * 4, jobs=2, load=others)
    assert two.wall_s - _fixed(4, True) == pytest.approx(one.wall_s - _fixed(4, False))
    # a group runnable 30% of the time leaves the rest to the sweep
    assert worker_share(2, Load(cpus=2, others=(0.3,), grouped=True)) == pytest.approx(0.85)


def test_fair_cores_is_max_min_fair() -> None:
    assert fair_cores([1.0, 1.0, 2.0], 2) == pytest.approx([2 / 3, 2 / 3, 2 / 3])
    assert fair_cores([0.5, 4.0], 2) == pytest.approx([0.5, 1.5])  # what one cannot use goes to the other
    assert sum(fair_cores([3.0, 3.0, 3.0], 4)) == pytest.approx(4)
    assert fair_cores([0.2, 0.3], 8) == pytest.approx([0.2, 0.3])


def test_machine_load_looks_at_this_machine() -> None:
    load = machine_load()
    assert load.cpus >= 1 and all(0 <= n <= 4096 for n in load.others)


def test_every_simulation_pays_its_fixed_cost() -> None:
    # a point of 1e5 units: 0.17 s of events plus the fixed cost; with the speculative baseline,
    # two simulations, each its events and its fixed cost
    one = WorkEstimate(steps=1e5, events_per_step=0.0, units_per_step=1.0, requests=0, batch=1, stages=1, runs=1)
    two = WorkEstimate(steps=1e5, events_per_step=0.0, units_per_step=1.0, requests=0, batch=1, stages=1, runs=2)
    assert point_seconds(one) == pytest.approx(1e5 * SECONDS_PER_UNIT + RUN_SETUP_S)
    assert point_seconds(two) == pytest.approx(2 * point_seconds(one))
    # a grid of 100 empty points is 100 fixed costs, not zero
    empty = WorkEstimate(steps=0.0, events_per_step=0.0, units_per_step=0.0, requests=0, batch=1, stages=1, runs=1)
    assert sweep_time([point_seconds(empty)] * 100, jobs=1, load=Load(cpus=1)).wall_s >= 100 * RUN_SETUP_S


def test_cli_announces_the_estimate_and_sets_it_beside_the_measurement(tiny_sweep: Path, tmp_path: Path,
                                                                        capsys) -> None:
    assert cli.main(["sweep", str(tiny_sweep), "--jobs", "1", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "with 1 process" in err and "s of simulation on one core)" in err
    assert "ran 4 points in " in err and "(estimated " in err
