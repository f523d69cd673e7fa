"""``simdecode plot`` and ``simdecode compare`` on real output folders."""

from __future__ import annotations

import json
from pathlib import Path

from simdecode import cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_plot_a_sweep_folder_picks_the_pipeline_figure(tiny_sweep: Path, tmp_path: Path, capsys):
    out = tmp_path / "s"
    assert cli.main(["sweep", str(tiny_sweep), "--out", str(out), "-q", "--jobs", "1"]) == 0
    assert cli.main(["plot", str(out)]) == 0
    assert (out / "pipeline.png").read_bytes().startswith(PNG_MAGIC)
    assert b"<svg" in (out / "pipeline.svg").read_bytes()[:400]
    assert "pipeline figure" in capsys.readouterr().err
    assert cli.main(["plot", str(out), "--figure", "pareto", "--out", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p.png").exists()


def test_plot_a_run_folder_or_scenario_draws_the_token_gantt(tiny_sweep: Path, tmp_path: Path):
    run = tmp_path / "run"
    assert cli.main(["run", str(tiny_sweep), "--out", str(run), "-q", "--set", "parallelism.pp=2"]) == 0
    assert cli.main(["plot", str(run)]) == 0
    assert (run / "gantt.png").read_bytes().startswith(PNG_MAGIC)
    assert cli.main(["plot", str(tiny_sweep), "--out", str(tmp_path / "g")]) == 0
    assert (tmp_path / "g.svg").exists()


def test_plot_refuses_what_it_cannot_draw(tmp_path: Path, capsys):
    assert cli.main(["plot", str(tmp_path / "missing")]) == 2
    assert cli.main(["plot", str(tmp_path)]) == 2            # empty folder: neither kind
    err = capsys.readouterr().err
    assert err.count("error:") == 2 and "Traceback" not in err


def test_compare_prints_two_runs_side_by_side_with_ratios(tiny_sweep: Path, tmp_path: Path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli.main(["run", str(tiny_sweep), "--out", str(a), "-q"]) == 0
    assert cli.main(["run", str(tiny_sweep), "--out", str(b), "-q", "--set", "workload.arrival.concurrency=4"]) == 0
    capsys.readouterr()
    assert cli.main(["compare", str(a), str(b / "summary.json"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    sa, sb = (json.loads((p / "summary.json").read_text()) for p in (a, b))
    assert rows["concurrency"] == ["1", "4"]
    ratio = sb["aggregate_tps"] / sa["aggregate_tps"]
    assert rows["aggregate tokens/s"][1].endswith(f"(x{ratio:.3g})")
    assert rows["overrides"][1] == "workload.arrival.concurrency=4"
    assert cli.main(["compare", str(a), str(b)]) == 0
    table = capsys.readouterr().out
    assert "TTFT mean (ms)" in table and "bottleneck" in table
    lines = table.splitlines()  # short headings; each whole path on a line of its own under the table
    assert lines[-2:] == [f"[1] {a}", f"[2] {b}"] and "[1] a" in table and "[2] b" in table


def test_compare_needs_summaries(tmp_path: Path, capsys):
    (tmp_path / "x.json").write_text("{}")
    assert cli.main(["compare", str(tmp_path / "x.json"), str(tmp_path / "x.json")]) == 2
    assert cli.main(["compare", str(tmp_path / "x.json")]) == 2
    assert "error:" in capsys.readouterr().err


def test_plot_default_name_comes_from_the_command_line_not_the_scenario(tiny_sweep: Path, tmp_path: Path,
                                                                        monkeypatch):
    hostile = tmp_path / "h.yaml"
    hostile.write_text(tiny_sweep.read_text().replace("name: tiny-sweep", "name: ../../escaped"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert cli.main(["plot", str(hostile)]) == 0
    assert sorted(p.name for p in work.iterdir()) == ["h-gantt.png", "h-gantt.svg"]
    assert not (tmp_path.parent / "escaped-gantt.png").exists()


def _three_runs(tiny_sweep: Path, tmp_path: Path) -> list[Path]:
    runs = []
    for name, sets in (("baseline-run", []), ("more-users", ["workload.arrival.concurrency=4"]),
                       ("deeper-pipeline", ["parallelism.pp=2", "workload.arrival.concurrency=4"])):
        run = tmp_path / name
        args = ["run", str(tiny_sweep), "--out", str(run), "-q"]
        for item in sets:
            args += ["--set", item]
        assert cli.main(args) == 0
        runs.append(run)
    return runs


def test_compare_in_an_80_column_terminal_neither_wraps_headings_nor_cuts_values(
        tiny_sweep: Path, tmp_path: Path, capsys, monkeypatch):
    """Three results in 80 columns: what they share moves above the table, each override gets a
    row, every line fits, every heading stays whole on one line, every value is printed."""
    runs = _three_runs(tiny_sweep, tmp_path)
    capsys.readouterr()
    assert cli.main(["compare", *map(str, runs), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    monkeypatch.setenv("COLUMNS", "80")
    assert cli.main(["compare", *map(str, runs)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines[:-3]) <= 80  # the paths under the table are whole, to copy
    assert lines[0].startswith("same in all 3: scenario: tiny-sweep; model: ")
    heading = next(line for line in lines if "[1]" in line)
    assert "[1] baseline-run" in heading and "[2] more-users" in heading and "[3] deeper-pipeline" in heading
    assert "set parallelism.pp" in out and "set …concurrency" in out  # one row per override, labels fit
    for label in ("TTFT mean (ms)", "aggregate tokens/s", "KV cache (tokens)"):
        for cell in rows[label]:
            assert cell in out, (label, cell)  # whole, on one line of a cell
    assert lines[-3:] == [f"[{i + 1}] {run}" for i, run in enumerate(runs)]


def test_compare_splits_results_into_tables_that_fit_a_narrow_terminal(tiny_sweep: Path, tmp_path: Path, capsys,
                                                                        monkeypatch):
    runs = _three_runs(tiny_sweep, tmp_path)
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "50")
    assert cli.main(["compare", *map(str, runs)]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()[:-3]) <= 50
    assert "(ratios to [1])" in out  # a later table says what its ratios are to
    assert out.count("TTFT mean (ms)") >= 2  # each table repeats the labels


def test_compare_numbers_have_thousands_separators_not_exponents():
    from simdecode.present.compare import _cell

    assert _cell(14369.4, "f", None) == "14,369"
    assert _cell(14369.4, "f", 79.36) == "14,369 (x181)"
    assert _cell(0.9984, "f", None) == "0.9984"


def test_plot_refuses_a_figure_whose_axis_the_sweep_did_not_vary(tiny_sweep: Path, tmp_path: Path, capsys):
    """--figure tp on a sweep over pp and concurrency drew one dot per line at tp 1; now one error
    line naming what the sweep varied and the figure it calls for."""
    out = tmp_path / "s"
    assert cli.main(["sweep", str(tiny_sweep), "--out", str(out), "-q", "--jobs", "1"]) == 0
    capsys.readouterr()
    assert cli.main(["plot", str(out), "--figure", "tp"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --figure tp needs a sweep over parallelism.tp;") and len(err.splitlines()) == 1
    assert "varies parallelism.pp, workload.arrival.concurrency: its figure is pipeline" in err
    assert not (out / "tp.png").exists()
    assert cli.main(["plot", str(out), "--figure", "gantt"]) == 2
    assert "one point of the sweep (simdecode plot " in capsys.readouterr().err
    assert cli.main(["plot", str(out / "points" / sorted(p.name for p in (out / "points").iterdir())[0])]) == 0


def test_compare_given_a_scenario_file_says_to_run_it_first(tiny_sweep: Path, tmp_path: Path, capsys):
    run = tmp_path / "run"
    assert cli.main(["run", str(tiny_sweep), "--out", str(run), "-q"]) == 0
    capsys.readouterr()
    assert cli.main(["compare", str(tiny_sweep), str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tiny_sweep} is a scenario file, not a result: simulate it first "
                          f"(simdecode run {tiny_sweep} --out DIR)") and len(err.splitlines()) == 1


def test_narrow_compare_prints_override_keys_from_a_file_as_text_not_markup():
    """An override key comes from summary.json: in the narrow layout it becomes a row label, which
    must print as written ("[bold]x"), never as rich markup."""
    import io

    from rich.console import Console

    from simdecode.present.compare import render_comparison

    table = [("scenario", ["s", "s"]), ("overrides", ["-", "[bold]evil.key=1"]),
             ("TTFT mean (ms)", ["10", "20 (x2)"])]
    out = io.StringIO()
    render_comparison(table, ["a" * 30, "b" * 30], Console(file=out, width=60, color_system=None))
    text = out.getvalue()
    assert "[bold]evil.key" in text and "same in all 2: scenario: s" in text
