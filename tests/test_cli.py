"""The command line: exit codes, streams and the files of ``--out`` (README.md, docs/security.md).

End-to-end tests run ``python -m simdecode`` in a subprocess (what a user sees, streams kept
apart); the rest call :func:`simdecode.cli.main` directly. The last section checks the pieces
``--out`` is made of (summary.json, requests.csv, timeline.png, the summary table) on a stand-in
result, without the engine.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from simdecode import cli
from simdecode.metrics.records import RequestRecord

SUMMARY_KEYS = {
    "scenario", "simdecode_version", "requests", "ttft_ms", "tpot_ms", "e2e_ms", "per_request_tps",
    "aggregate_tps", "roofline_tps", "time_breakdown", "allreduce_share", "bottleneck", "speculative",
    "simulation",
}
OUT_FILES = {"summary.json", "requests.csv", "timeline.png"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def simdecode(*args: str, cwd: Path | None = None, debug: bool = False) -> subprocess.CompletedProcess[str]:
    env = {key: val for key, val in os.environ.items() if key != cli.DEBUG_ENV}
    if debug:
        env[cli.DEBUG_ENV] = "1"
    return subprocess.run(
        [sys.executable, "-m", "simdecode", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=300, check=False,
    )


def assert_user_error(proc: subprocess.CompletedProcess[str]) -> str:
    """Exit code 2, nothing on stdout, one ``error: ...`` line on stderr and no traceback."""
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# --- user errors: exit code 2, one line, no traceback --------------------------------------------


def test_missing_scenario_file_is_a_user_error(tmp_path: Path) -> None:
    line = assert_user_error(simdecode("run", str(tmp_path / "missing.yaml")))
    assert "missing.yaml" in line


def test_missing_scenario_file_via_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", str(tmp_path / "missing.yaml")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and "Traceback" not in captured.err


def test_bad_override_value_is_a_user_error(scenario_file) -> None:
    line = assert_user_error(simdecode("run", str(scenario_file()), "--set", "parallelism.tp=three"))
    assert "parallelism.tp" in line


def test_bad_override_value_via_main(scenario_file, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", str(scenario_file()), "--set", "parallelism.tp=three"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "parallelism.tp" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "x.yaml", "--set", "parallelism.tp"],  # no '='
        ["run", "x.yaml", "--fidelity", "atomic"],
        ["run", "x.yaml", "--seed", "-1"],
        ["presets", "cpus"],
        [],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["rn", "x.yaml"], "did you mean 'run'?"),
        (["presets", "gpu"], "did you mean 'gpus'?"),
        (["plot", "x", "--figure", "gant"], "did you mean 'gantt'?"),
        (["run", "x.yaml", "--josn"], "--josn (did you mean --json?)"),
        (["presets", "--wdie"], "--wdie (did you mean --wide?)"),
        (["presets", "h100-sxm"], "'h100-sxm' is a preset of gpus, not a catalogue; did you mean "
                                  "'simdecode presets gpus h100-sxm'?"),
        (["presets", "vllm"], "did you mean 'simdecode presets runtimes vllm'?"),
        # the shell split an unquoted value with a unit at its space
        (["run", "x.yaml", "--set", "hardware.gpu.memory_bandwidth=3", "TB/s"],
         "TB/s (did you mean --set 'hardware.gpu.memory_bandwidth=3 TB/s'? a value with a space needs quotes)"),
        (["run", "x.yaml", "--set=runtime.kernel_launch=2", "us"], "did you mean --set 'runtime.kernel_launch=2 us'?"),
    ],
)
def test_mistyped_commands_choices_and_options_say_what_was_meant(argv: list[str], hint: str,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert hint in err and "Traceback" not in err
    assert err.splitlines()[-1].startswith(f"simdecode {argv[0]}: error:" if argv[0] != "rn" else "simdecode: error:")


def test_a_choice_nothing_like_the_others_gets_no_guess(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["presets", "zzzzzz"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'zzzzzz'" in err and "did you mean" not in err


def test_batch_that_is_no_number_is_called_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["explain", "x.yaml", "--batch", "x"]) == 2
    assert "expected a positive integer, got 'x'" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--help"]) == 0
    assert "--set" in capsys.readouterr().out


# --- internal errors: exit code 1 ----------------------------------------------------------------


def _boom(*_args, **_kwargs):
    raise RuntimeError("boom")


def test_internal_error_has_no_traceback_by_default(
    scenario_file, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    monkeypatch.setattr("simdecode.scenario.loader.load_scenario", _boom)
    assert cli.main(["run", str(scenario_file())]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err
    assert cli.DEBUG_ENV in err
    assert "Traceback" not in err


def test_internal_error_traceback_with_debug_env(
    scenario_file, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    monkeypatch.setattr("simdecode.scenario.loader.load_scenario", _boom)
    assert cli.main(["run", str(scenario_file())]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "internal error: RuntimeError: boom" in err


# --- presets -------------------------------------------------------------------------------------


def test_presets_gpus_lists_h100() -> None:
    proc = simdecode("presets", "gpus")
    assert proc.returncode == 0, proc.stderr
    assert "h100-sxm" in proc.stdout


@pytest.mark.parametrize("kind", [None, *cli.PRESET_KINDS])
def test_presets_every_catalogue(kind: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["presets"] + ([kind] if kind else [])) == 0
    out = capsys.readouterr().out
    if kind in (None, "models"):
        assert "llama-3.2-1b" in out
    if kind in (None, "links"):
        assert "nvlink4" in out


@pytest.mark.parametrize("kind", ["models", "gpus", "links", "runtimes"])
def test_presets_list_every_preset_with_its_source(kind: str, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from simdecode import presets

    monkeypatch.setenv("COLUMNS", "80")  # piped: one row per preset, the source whole, however narrow
    assert cli.main(["presets", kind]) == 0
    out = capsys.readouterr().out
    assert "source" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip() and line.split()[0] in presets.names(kind)}
    assert set(rows) == set(presets.names(kind))
    for name, line in rows.items():
        assert presets.source(kind, name) in line, name


@pytest.mark.parametrize("width", [80, 72, 60, 50])
@pytest.mark.parametrize("kind", cli.PRESET_KINDS)
def test_presets_fit_a_narrow_terminal_and_keep_every_source(kind: str, width: int) -> None:
    """On an 80-column (or narrower) terminal no value is cut ("…") and no line is longer than the
    width: the values that fit make the table, and each preset's source (and the columns left out,
    with their values) follow it."""
    import io

    from rich.console import Console

    from simdecode import presets
    from simdecode.present.report import print_presets

    out = io.StringIO()
    print_presets(kind, Console(file=out, width=width, force_terminal=True, color_system=None))
    text = out.getvalue()
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    flat = "".join(text.split())  # the sources are wrapped (URLs folded) at the width
    for name in presets.names(kind):
        assert "".join(presets.source(kind, name).split()) in flat, name
    if kind == "models" and width <= 60:  # the parameter counts stay in the table; what moved is below
        assert "active" in text.splitlines()[1] and "llama-3.1-70b, hidden 8,192" in text
    if kind == "gpus" and width == 80:  # the link column moved below the table, with its value
        assert "a100-40gb, link nvlink3:" in text and "link" not in text.splitlines()[1]
        assert "TDP" in text.splitlines()[1]
    if kind == "runtimes":
        assert "trtllm-serve, base trt-llm" in text


def test_presets_wide_keeps_one_line_per_preset_on_a_terminal() -> None:
    import io

    from rich.console import Console

    from simdecode import presets
    from simdecode.present.report import print_presets

    out = io.StringIO()
    print_presets("runtimes", Console(file=out, width=80, force_terminal=True, color_system=None), wide=True)
    rows = {line.split()[0]: line for line in out.getvalue().splitlines() if line.split()[:1] and
            line.split()[0] in presets.names("runtimes")}
    assert set(rows) == set(presets.names("runtimes"))
    assert presets.source("runtimes", "vllm") in rows["vllm"] and "…" not in out.getvalue()
    assert cli.main(["presets", "links", "--wide"]) == 0


def test_presets_piped_lines_carry_no_padding(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["presets", "links"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line == line.rstrip() for line in lines)


def test_presets_kind_name_prints_one_entry_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    """`presets gpus h100-sxm`: the comment citing its figures, then its keys, and nothing of the
    next entry; a preset with a base says whose keys it takes; an unknown name suggests one."""
    assert cli.main(["presets", "gpus", "h100-sxm"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# H100 SXM5 80GB.") and "\nh100-sxm:\n" in out
    assert '  memory_bandwidth: "3.35 TB/s"' in out and "H100 PCIe" not in out and "h100-pcie:" not in out
    assert cli.main(["presets", "runtimes", "trtllm-serve"]) == 0
    out = capsys.readouterr().out
    assert "  base: trt-llm" in out and out.endswith("simdecode presets runtimes trt-llm\n")
    assert cli.main(["presets", "gpus", "h100"]) == 2
    assert "did you mean 'h100-sxm' or 'h100-pcie'?" in capsys.readouterr().err


@pytest.mark.parametrize("kind", cli.PRESET_KINDS)
def test_every_presets_entry_holds_its_name_and_source(kind: str) -> None:
    from simdecode import presets

    for name in presets.names(kind):
        text = presets.entry_text(kind, name)
        assert f"\n{name}:" in f"\n{text}" and presets.source(kind, name) in text, name
        assert text.count("\n  source:") == 1, name  # one entry, not the next one too


def test_presets_runtimes_say_which_gpu_a_runtimes_costs_were_measured_on(capsys: pytest.CaptureFixture[str],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    assert cli.main(["presets", "runtimes"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "measured on" in line]
    assert [row.split()[0] for row in rows] == ["kog"]
    assert "(costs measured on mi300x)" in rows[0]


# --- run: the JSON contract and the files of --out -----------------------------------------------


def test_run_json_prints_exactly_one_object(scenario_file) -> None:
    proc = simdecode("run", str(scenario_file()), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)  # the whole of stdout is one JSON document
    assert isinstance(summary, dict)
    assert SUMMARY_KEYS <= summary.keys()
    assert summary["scenario"] == "tiny"
    assert summary["requests"]["submitted"] == 2
    assert summary["requests"]["completed"] == 2
    for key in ("ttft_ms", "tpot_ms", "e2e_ms", "per_request_tps"):
        assert set(summary[key]) >= {"mean", "p50", "p90", "p99"}
    assert summary["speculative"] is None


@pytest.mark.parametrize("fidelity", ["step", "layer"])  # add "op" once the op-level executor lands
def test_run_json_with_fidelity_and_seed(
    scenario_file, fidelity: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["run", str(scenario_file()), "--json", "--quiet", "--fidelity", fidelity, "--seed", "7"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["requests"]["completed"] == 2
    assert captured.err == ""  # --quiet


def test_run_prints_a_table(scenario_file, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", str(scenario_file())]) == 0
    out = capsys.readouterr().out
    assert "TTFT" in out and "TPOT" in out and "bottleneck" in out


def test_run_out_writes_the_three_files(scenario_file, tmp_path: Path) -> None:
    out = tmp_path / "results" / "tiny"  # parents are created
    proc = simdecode("run", str(scenario_file()), "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    # two requests: the KV occupancy plot too; no temporary files left
    assert {p.name for p in out.iterdir()} == OUT_FILES | {"kv_occupancy.png", ".simdecode-output"}
    assert [p.name for p in out.parent.iterdir()] == ["tiny"]
    assert json.loads((out / "summary.json").read_text()) == json.loads(proc.stdout)
    rows = list(csv.DictReader((out / "requests.csv").open()))
    assert len(rows) == 2
    for row in rows:
        assert float(row["arrival_ms"]) <= float(row["first_token_ms"]) <= float(row["finished_ms"])
        assert int(row["output_tokens"]) == 8
    assert (out / "timeline.png").read_bytes().startswith(PNG_MAGIC)
    assert (out / "kv_occupancy.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize("existing", [False, True])
def test_invalid_scenario_writes_nothing(scenario_file, tmp_path: Path, existing: bool) -> None:
    out = tmp_path / "out"
    if existing:
        out.mkdir()
    proc = simdecode("run", str(scenario_file()), "--out", str(out), "--set", "parallelism.tp=three")
    assert_user_error(proc)
    assert (list(out.iterdir()) == []) if existing else not out.exists()


def test_out_that_is_a_file_is_a_user_error(scenario_file, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("not a folder")
    line = assert_user_error(simdecode("run", str(scenario_file()), "--out", str(target)))
    assert "taken" in line
    assert target.read_text() == "not a folder"


# --- the pieces of --out, on a stand-in result (no engine needed) --------------------------------


def _record(i: int, tokens: int = 4, times: bool = True) -> RequestRecord:
    arrival = 0.01 * i
    first = arrival + 0.005
    token_times = tuple(first + 0.002 * k for k in range(tokens)) if times else ()
    return RequestRecord(
        id=i, replica=0, arrival_s=arrival, scheduled_s=arrival + 0.001, first_token_s=first,
        finished_s=first + 0.002 * (tokens - 1), prompt_tokens=16, output_tokens=tokens, token_times_s=token_times,
    )


def _summary(**changes) -> dict:
    stats = {"mean": 1.5, "p50": 1.0, "p90": 2.0, "p99": 3.0}
    summary = {
        "scenario": "stand-in", "simdecode_version": "0.1.0",
        "requests": {"submitted": 3, "completed": 3, "preempted": 0},
        "ttft_ms": stats, "tpot_ms": stats, "e2e_ms": stats, "per_request_tps": stats,
        "aggregate_tps": 1234.5, "roofline_tps": 2000.0,
        "time_breakdown": {"compute": 0.5, "communication": 0.2, "launch_overhead": 0.1, "pipeline_bubble": 0.0, "idle": 0.2},
        "allreduce_share": 0.25, "bottleneck": "memory-bandwidth", "speculative": None,
        "simulation": {"events": 42, "wall_s": 0.01, "simulated_s": 0.05},
    }
    summary.update(changes)
    return summary


def _result(records, summary=None):
    return SimpleNamespace(
        requests=records, scenario=SimpleNamespace(name="stand-in"), summary=lambda: summary or _summary()
    )


def test_write_outputs_on_a_stand_in_result(tmp_path: Path) -> None:
    from simdecode.io.output import REQUEST_COLUMNS, write_outputs

    records = [_record(2), _record(0, tokens=1, times=False), _record(1, times=False)]
    written = write_outputs(_result(records, _summary(aggregate_tps=math.nan)), tmp_path / "o")
    assert {p.name for p in written} == OUT_FILES
    assert {p.name for p in (tmp_path / "o").iterdir()} == OUT_FILES | {".simdecode-output"}
    text = (tmp_path / "o" / "summary.json").read_text()
    assert json.loads(text)["aggregate_tps"] is None  # NaN is not JSON
    rows = list(csv.reader(io.StringIO((tmp_path / "o" / "requests.csv").read_text())))
    assert tuple(rows[0]) == REQUEST_COLUMNS
    assert [row[0] for row in rows[1:]] == ["0", "1", "2"]
    by_id = {row[0]: dict(zip(REQUEST_COLUMNS, row)) for row in rows[1:]}
    assert float(by_id["2"]["tpot_ms"]) == pytest.approx(2.0)
    assert float(by_id["2"]["ttft_ms"]) == pytest.approx(5.0)
    assert float(by_id["0"]["tpot_ms"]) == 0.0  # one output token: no TPOT


def test_write_outputs_failure_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from simdecode.io import output

    monkeypatch.setattr(output, "timeline_png", _boom)
    with pytest.raises(RuntimeError):
        output.write_outputs(_result([_record(0)]), tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_token_timeline_caps_the_requests_drawn() -> None:
    from simdecode import plots

    ax = plots.token_timeline(_result([_record(i, times=i % 2 == 0) for i in range(60)]))
    assert "first 50 of 60" in ax.get_title()
    assert ax.get_xlabel().endswith("(ms)")
    empty = plots.token_timeline(_result([]))
    assert "stand-in" in empty.get_title()


def test_token_timeline_says_what_was_held_and_keeps_its_legend_off_the_lines() -> None:
    """The quickstart's first request starts in the upper-left corner's reach and the last ends in the
    upper right: a legend inside the axes sat on a line. It goes beside the axes; the title names the
    model, GPU, layout and load."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from simdecode import load_scenario, plots, simulate

    result = simulate(load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "quickstart.yaml",
                                    ["workload.requests=3", "workload.output_tokens=16"]))
    ax = plots.token_timeline(result)
    assert ax.get_title().endswith("\n(llama-3.1-8b on h100-sxm, tp 1, concurrency 1)")
    canvas = ax.figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    legend, frame = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.x0 >= frame.x1  # wholly to the right of the axes
    assert legend.x1 <= ax.figure.bbox.x1 + 0.5  # and not clipped by the figure's edge
    kv = plots.kv_occupancy(result)   # its cache barely used: the line runs along the bottom, under any inner legend
    kv.figure.canvas.draw()
    assert kv.get_legend().get_window_extent().y1 <= kv.get_window_extent().y0
    assert kv.get_title().endswith("(llama-3.1-8b on h100-sxm, tp 1, concurrency 1)")


@pytest.mark.parametrize(
    "summary",
    [
        _summary(),
        _summary(speculative={"mean_accepted_tokens": 2.4, "acceptance_rate": 0.8, "speedup_vs_standard": 2.1}),
        {key: None for key in SUMMARY_KEYS},
        {},
    ],
)
def test_render_summary_tolerates_missing_values(summary: dict) -> None:
    from simdecode.present.report import render_summary

    console = Console(file=io.StringIO(), width=120)
    render_summary(summary, console)
    text = console.file.getvalue()
    assert "TTFT" in text and "simulation" in text
    if summary.get("bottleneck"):
        assert "memory-bandwidth" in text
    assert all(line == line.rstrip() for line in text.splitlines())  # piped: no padding to copy along


@pytest.mark.parametrize(("kind", "device"), [("gpu", "GPU"), ("sram", "chip"), ("logic", "chip"), (None, "GPU")])
def test_summary_table_calls_the_time_the_devices(kind: str | None, device: str) -> None:
    """A Taalas or Groq run's time breakdown is a share of chip time, a GPU run's of GPU time
    (the kind read from the resolved scenario; a summary without it is a GPU's)."""
    from simdecode.present.report import render_summary

    summary = _summary()
    if kind is not None:
        summary["resolved_scenario"] = {"hardware": {"gpu": {"kind": kind}}}
    console = Console(file=io.StringIO(), width=120)
    render_summary(summary, console)
    text = console.file.getvalue()
    assert f"share of {device} time" in text
    assert ("share of GPU time" in text) == (device == "GPU")


def test_a_reader_that_stops_early_is_no_internal_error() -> None:
    """`simdecode presets | head -2`: the pipe closes before the catalogues are written; simdecode
    stops quietly with the shell's SIGPIPE status (141), no "internal error", no traceback."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "simdecode", "presets"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    proc.stdout.close()  # the reader is gone before anything is written
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == cli.EXIT_BROKEN_PIPE == 141
    assert err.decode() == ""


def test_presets_call_a_tpu_a_tpu(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["presets", "gpus"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert rows["tpu-v5e"][1] == "tpu" and rows["h100-sxm"][1] == "gpu" and rows["mi300x"][1] == "gpu"


def test_the_command_line_starts_without_matplotlib_or_the_estimate_search() -> None:
    """Building the parser (every command, `--help`, `presets`) loads neither matplotlib nor the
    estimate search (0.6 s of imports before); `plot --figure`'s choices are still the figures."""
    code = ("import sys; from simdecode import cli; cli.build_parser(); "
            "print(sorted(m for m in ('matplotlib', 'simdecode.estimate.core', 'simdecode.scenario.schema') "
            "if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    from simdecode.plots.choose import FIGURES
    from simdecode.plots.cli import FIGURE_NAMES

    assert FIGURE_NAMES == ("auto", *FIGURES, "gantt")
    from simdecode import estimate, plots

    assert callable(plots.token_timeline) and callable(estimate.estimate) and "token_gantt" in dir(plots)
    with pytest.raises(AttributeError):
        plots.no_such_figure  # noqa: B018
