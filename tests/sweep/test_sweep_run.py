"""End to end: plan, run, write and read back a sweep; the command line's contract."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from simdecode import cli, simulate
from simdecode.errors import ScenarioError
from simdecode.scenario.loader import load_scenario, scenario_from_dict
from simdecode.sweep import plan_sweep, read_table, run_sweep, write_sweep


def test_each_point_is_the_scenario_with_its_settings(tiny_sweep: Path):
    plan = plan_sweep(tiny_sweep, ["seed=5"])
    assert len(plan.points) == 4
    assert [(s.parallelism.pp, s.workload.arrival.concurrency) for s in plan.scenarios] == [(1, 1), (1, 4), (2, 1),
                                                                                           (2, 4)]
    assert all(s.seed == 5 and s.sweep is None for s in plan.scenarios)
    assert plan.varied == ["parallelism.pp", "workload.arrival.concurrency"]


def test_a_bad_point_fails_before_anything_runs(tiny_sweep: Path):
    with pytest.raises(ScenarioError, match=r"from sweep point .*parallelism.tp=3\)"):
        plan_sweep(tiny_sweep, vary=["parallelism.tp=1,3"])  # 32 heads do not split over 3 GPUs


def test_table_rows_match_direct_simulation_and_carry_their_provenance(tiny_sweep: Path, tmp_path: Path):
    result = run_sweep(plan_sweep(tiny_sweep), jobs=1)
    direct = simulate(load_scenario(tiny_sweep, ["parallelism.pp=2", "workload.arrival.concurrency=4"])).summary()
    row = result.rows[3]
    assert row["parallelism.pp"] == 2 and row["workload.arrival.concurrency"] == 4
    assert row["aggregate_tps"] == pytest.approx(direct["aggregate_tps"], rel=1e-12)
    assert row["ttft_ms.mean"] == pytest.approx(direct["ttft_ms"]["mean"], rel=1e-12)
    assert row["seed"] == 3 and row["simdecode_version"] == direct["simdecode_version"]
    assert row["resolved.parallelism.pp"] == 2 and row["resolved.model.name"] == "llama-3.2-1b"
    assert "simulation.wall_s" not in row  # wall time differs between runs: not in the table
    assert list(row)[:5] == ["point", "label", "parallelism.pp", "workload.arrival.concurrency", "overrides"]

    written = write_sweep(result, tmp_path / "out")
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} >= {"sweep.csv", "sweep.json", "points"}
    described, rows = read_table(out)
    assert rows == json.loads(json.dumps(result.rows)) and described["points"] == 4
    with (out / "sweep.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 4 and float(table[3]["aggregate_tps"]) == pytest.approx(row["aggregate_tps"], rel=1e-15)
    assert len(written) == 2 + 2 * 4 + (out / "sweep.parquet").exists()  # csv, json, (parquet), 2 per point


def test_a_key_only_later_points_set_keeps_its_column_with_the_varied_ones(tiny_sweep: Path, tmp_path: Path):
    """allreduce-bottleneck-2b-8xh200.yaml's linked settings: tp_delay only on the delayed points. Its
    column came after every summary column (first seen in a later row), so the table and `plot` lost it
    as a varied key and three points were labelled alike."""
    result = run_sweep(plan_sweep(tiny_sweep, vary=["parallelism={tp: 1},{tp: 2, tp_mode: delayed}"]), jobs=1)
    columns = ["workload.arrival.concurrency", "parallelism.tp", "parallelism.tp_mode", "overrides"]
    for row in result.rows:
        assert list(row)[2:6] == columns
    assert [r["parallelism.tp_mode"] for r in result.rows] == [None, "delayed", None, "delayed"]
    write_sweep(result, tmp_path / "out")
    with (tmp_path / "out" / "sweep.csv").open() as fh:
        assert next(csv.reader(fh))[2:6] == columns


def test_saved_point_scenario_runs_again_to_the_same_summary(tiny_sweep: Path, tmp_path: Path):
    result = run_sweep(plan_sweep(tiny_sweep), jobs=1)
    write_sweep(result, tmp_path / "out")
    folder = tmp_path / "out" / "points" / result.rows[2]["label"]
    again = simulate(load_scenario(folder / "scenario.yaml")).summary()
    assert again["aggregate_tps"] == result.summaries[2]["aggregate_tps"]
    saved = json.loads((folder / "summary.json").read_text())
    assert saved["overrides"] == ["parallelism.pp=2", "workload.arrival.concurrency=1"]
    assert scenario_from_dict(saved["resolved_scenario"]) == scenario_from_dict(
        yaml.safe_load((folder / "scenario.yaml").read_text()))


def test_parquet_table_equals_the_json_table(tiny_sweep: Path, tmp_path: Path):
    pq = pytest.importorskip("pyarrow.parquet")
    write_sweep(run_sweep(plan_sweep(tiny_sweep), jobs=1), tmp_path / "out")
    _, rows = read_table(tmp_path / "out")
    table = pq.read_table(tmp_path / "out" / "sweep.parquet").to_pylist()
    assert [r["aggregate_tps"] for r in table] == [r["aggregate_tps"] for r in rows]
    assert [r["label"] for r in table] == [r["label"] for r in rows]


def test_processes_give_the_same_table_as_one_process(tiny_sweep: Path):
    serial = run_sweep(plan_sweep(tiny_sweep), jobs=1).rows
    parallel = run_sweep(plan_sweep(tiny_sweep), jobs=2).rows
    assert parallel == serial


def test_cli_sweep_writes_the_table_and_replaces_only_its_own_output(tiny_sweep: Path, tmp_path: Path, capsys):
    out = tmp_path / "res"
    assert cli.main(["sweep", str(tiny_sweep), "--vary", "parallelism.pp=1,2", "--jobs", "1", "--out", str(out),
                     "-q"]) == 0
    _, rows = read_table(out)
    # --vary replaced the file's pp axis and comes after the file's remaining (concurrency) axis
    assert [(r["workload.arrival.concurrency"], r["parallelism.pp"]) for r in rows] == [(1, 1), (1, 2), (4, 1), (4, 2)]
    # its own output is replaced whole (no stale points left from the bigger grid)
    assert cli.main(["sweep", str(tiny_sweep), "--out", str(out), "-q", "--no-file-sweep"]) == 0
    _, rows = read_table(out)
    assert len(rows) == 1 and len(list((out / "points").iterdir())) == 1
    # a folder of someone else's files is refused, untouched, unless --force
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    capsys.readouterr()
    assert cli.main(["sweep", str(tiny_sweep), "--out", str(other), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out") and "--force" in err and "Traceback" not in err
    assert (other / "notes.txt").read_text() == "keep me"
    assert cli.main(["sweep", str(tiny_sweep), "--out", str(other), "-q", "--force", "--no-file-sweep"]) == 0
    assert not (other / "notes.txt").exists() and (other / "sweep.json").exists()


def test_cli_sweep_bad_vary_is_one_error_line(tiny_sweep: Path, tmp_path: Path, capsys):
    assert cli.main(["sweep", str(tiny_sweep), "--vary", "parallelism.pp", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "KEY=V1,V2" in err[0]
    assert not (tmp_path / "x").exists()


def test_run_on_a_file_with_a_sweep_block_says_so(tiny_sweep: Path, capsys):
    assert cli.main(["run", str(tiny_sweep), "--json"]) == 0
    captured = capsys.readouterr()
    assert "sweep: block" in captured.err and "simdecode sweep" in captured.err
    json.loads(captured.out)  # stdout still holds exactly the JSON object


def test_run_summary_describes_itself(tiny_sweep: Path, tmp_path: Path):
    out = tmp_path / "run"
    assert cli.main(["run", str(tiny_sweep), "--set", "workload.requests=2", "--seed", "9", "--out", str(out),
                     "-q"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overrides"] == ["workload.requests=2", "seed=9"]
    assert summary["seed"] == 9 and summary["simdecode_version"]
    assert summary["resolved_scenario"]["workload"]["requests"] == 2
    assert "sweep" not in summary["resolved_scenario"]


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_every_curated_sweep_block_is_a_valid_grid(path: Path):
    plan = plan_sweep(path)           # validates every point; runs nothing
    assert len(plan.points) >= 1 and len(plan.scenarios) == len(plan.points)


def test_a_point_with_more_concurrency_than_requests_gets_a_note(tiny_sweep: Path):
    plan = plan_sweep(tiny_sweep, vary=["workload.arrival.concurrency=2,8"])   # 4 requests
    assert [n for n in plan.notes if "concurrency" in n and "raise workload.requests" in n] == [
        f"point {plan.points[i].label()}: concurrency 8 but only 4 requests, so at most 4 are ever in flight "
        "(raise workload.requests)" for i in (1, 3)]


def test_ray_missing_is_one_error_line(tiny_sweep: Path, tmp_path: Path, monkeypatch, capsys):
    import sys

    from simdecode import cli

    monkeypatch.setitem(sys.modules, "ray", None)        # `import ray` now raises ImportError
    assert cli.main(["sweep", str(tiny_sweep), "--executor", "ray", "--out", str(tmp_path / "o"), "-q"]) == 2
    assert "pip install 'simdecode[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_point_over_the_work_budget_is_refused_before_anything_runs(tiny_sweep: Path, tmp_path: Path, capsys):
    # a million requests at concurrency 1: days of simulation for the second point
    args = ["sweep", str(tiny_sweep), "--vary", "workload.requests=4,1000000", "--out", str(tmp_path / "o"), "-q"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "sweep point" in err and "workload.requests=1000000" in err and "--no-limit" in err
    assert not (tmp_path / "o").exists()
