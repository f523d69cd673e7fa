"""Hostile-input corpus for ``plot``, ``compare`` and ``sweep``: their inputs are untrusted too.

``plot DIR`` and ``compare A B`` read folders written by ``sweep`` and ``run`` that may have been
edited, truncated or swapped for links to secrets; ``sweep`` takes a grid from the command line.
Each case mutates a copy of a real sweep folder (built once per module) inside a "jail" whose
parent holds secret files, runs the command in-process, and asserts: its exit code, a fragment
of its one ``error:`` line, no traceback, no secret in the output (a value quoted from a file is
a short excerpt only), nothing written or replaced, and, for ``sweep``, that no point ran.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from simdecode import cli
from tests.hostile.test_corpus import SECRET, _snapshot, run_main
from tests.sweep.conftest import TINY_SWEEP

LONG_SECRET = "x" * 60 + SECRET  # quoted only as a 40-character excerpt: the secret stays out
AGG, PP = "aggregate_tps", "resolved.parallelism.pp"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real sweep folder (4 points, step fidelity: about a second)."""
    root = tmp_path_factory.mktemp("built")
    (root / "tiny.yaml").write_text(TINY_SWEEP, encoding="utf-8")
    code, _, err = run_main(["sweep", str(root / "tiny.yaml"), "--out", str(root / "sweep"), "-q", "--jobs", "1"])
    assert code == 0, err
    return root / "sweep"


@dataclass
class Case:
    id: str
    args: tuple[str, ...]                               # {sweep}, {point}, {top}, {folder} filled in
    fragment: str
    setup: Callable[[Path], None] | None = None         # gets the jail's sweep folder
    code: int = 2


def _table(edit: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    """Rewrite sweep.json through ``edit`` (which changes the loaded dict in place or returns a new value)."""
    def setup(sweep: Path) -> None:
        data = json.loads((sweep / "sweep.json").read_text(encoding="utf-8"))
        new = edit(data)
        (sweep / "sweep.json").write_text(json.dumps(data if new is None else new), encoding="utf-8")
    return setup


def _raw(text: str | bytes) -> Callable[[Path], None]:
    def setup(sweep: Path) -> None:
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        (sweep / "sweep.json").write_bytes(data)
    return setup


def _column(key: str, value: Any, rows: slice = slice(None)) -> Callable[[Path], None]:
    def edit(data: dict[str, Any]) -> None:
        for row in data["rows"][rows]:
            row[key] = value
    return _table(edit)


def _link(target: str) -> Callable[[Path], None]:
    def setup(sweep: Path) -> None:
        (sweep / "sweep.json").unlink()
        (sweep / "sweep.json").symlink_to(target.replace("{top}", str(sweep.parent)))
    return setup


def _summary(edit: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def setup(sweep: Path) -> None:
        path = next((sweep / "points").iterdir()) / "summary.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        edit(data)
        (sweep.parent / "edited.json").write_text(json.dumps(data), encoding="utf-8")
    return setup


def _truncated(sweep: Path) -> None:
    (sweep / "sweep.json").write_bytes((sweep / "sweep.json").read_bytes()[:300])


def _huge(sweep: Path) -> None:
    with open(sweep / "sweep.json", "r+b") as f:  # sparse: costs no disk
        f.truncate(200 * 2**20)


def _fifo(sweep: Path) -> None:
    (sweep / "sweep.json").unlink()
    os.mkfifo(sweep / "sweep.json")


def _dir(sweep: Path) -> None:
    (sweep / "sweep.json").unlink()
    (sweep / "sweep.json").mkdir()


def _no_label(data: dict[str, Any]) -> None:
    del data["rows"][1]["label"]


PLOT = [
    Case("empty", ("plot", "{sweep}"), "sweep table {sweep}/sweep.json is empty", _raw("")),
    Case("not-json", ("plot", "{sweep}"), "is not valid JSON: Expecting value at line 1, column 1", _raw(SECRET)),
    Case("truncated", ("plot", "{sweep}"), "(it ends early: cut short?)", _truncated),
    Case("not-utf8", ("plot", "{sweep}"), "is not UTF-8 text", _raw(b"\xff\xfe{}")),
    Case("deep", ("plot", "{sweep}"), "nests JSON too deeply", _raw("[" * 100_000 + "]" * 100_000)),
    Case("huge", ("plot", "{sweep}"), "is larger than 128 MiB", _huge),
    Case("list", ("plot", "{sweep}"), "expected a JSON object with 'sweep' and 'rows'", _raw("[]")),
    Case("no-rows", ("plot", "{sweep}"), "no 'rows' key: expected a simdecode sweep table", _raw('{"sweep": {}}')),
    Case("rows-object", ("plot", "{sweep}"), "'rows' must be a list, got an object",
         _raw('{"sweep": {}, "rows": {}}')),
    Case("zero-points", ("plot", "{sweep}"), "the table lists 0 points", _raw('{"sweep": {}, "rows": []}')),
    Case("row-not-object", ("plot", "{sweep}"), "row 0: expected an object", _raw('{"sweep": {}, "rows": [1]}')),
    Case("row-no-label", ("plot", "{sweep}"), "row 1 has no 'label'", _table(_no_label)),
    Case("column-of-strings", ("plot", "{sweep}"), f"row 0, column '{AGG}': expected a number or null, got 'xxxx",
         _column(AGG, LONG_SECRET)),
    Case("one-string-in-numbers", ("plot", "{sweep}"), "row 2, column 'tpot_ms.p50': expected a number like row 0",
         _column("tpot_ms.p50", "fast", slice(2, 3))),
    Case("list-cell", ("plot", "{sweep}"), "column 'ttft_ms.mean': expected a number or null, got a list '[1, 2]'",
         _column("ttft_ms.mean", [1, 2])),
    Case("nan", ("plot", "{sweep}"), f"column '{AGG}': expected a number or null, got NaN", _column(AGG, float("nan"))),
    Case("bool", ("plot", "{sweep}"), f"column '{AGG}': expected a number or null, got true", _column(AGG, True)),
    Case("pp-string", ("plot", "{sweep}"), f"column '{PP}': expected a whole number >= 1 or null, got 'x'",
         _column(PP, "x")),
    Case("pp-fraction", ("plot", "{sweep}"), "expected a whole number >= 1", _column(PP, 1.5)),
    Case("pp-zero", ("plot", "{sweep}"), "expected a whole number >= 1", _column(PP, 0)),
    Case("pp-absurd", ("plot", "{sweep}"), "expected a whole number >= 1", _column(PP, 10**30)),
    Case("link-to-secret", ("plot", "{sweep}"), "is not valid JSON", _link("{top}/secret.txt")),
    Case("dangling-link", ("plot", "{sweep}"), "sweep table not found", _link("{top}/nowhere.json")),
    Case("link-to-dev-zero", ("plot", "{sweep}"), "is not a regular file", _link("/dev/zero")),
    Case("fifo", ("plot", "{sweep}"), "is not a regular file", _fifo),
    Case("sweep-json-folder", ("plot", "{sweep}"), "is a directory: expected a file", _dir),
    Case("not-a-sweep", ("plot", "{top}"), "neither a sweep folder (sweep.json) nor a run folder"),
    Case("points-folder", ("plot", "{sweep}/points"), "did you mean {sweep}?"),
    Case("out-dev-null", ("plot", "{sweep}", "--out", "/dev/null"), "exists and is not a regular file"),
    Case("out-folder", ("plot", "{sweep}", "--out", "{top}"), "is a folder: --out names the figure's file"),
    Case("out-missing-folder", ("plot", "{sweep}", "--out", "{top}/nowhere/fig"), "does not exist"),
]
COMPARE = [
    Case("one-result", ("compare", "{point}"), "compare needs at least two results, got one"),
    Case("same-twice", ("compare", "{point}", "{point}"), "are the same result"),
    Case("folder-and-its-file", ("compare", "{point}", "{point}/summary.json"), "are the same result"),
    Case("link-to-secret", ("compare", "{point}", "{top}/secret.txt"), "is not valid JSON"),
    Case("dev-zero", ("compare", "{point}", "/dev/zero"), "is not a regular file"),
    Case("missing", ("compare", "{point}", "{top}/nowhere.json"), "summary not found"),
    Case("sweep-folder", ("compare", "{point}", "{sweep}"), "is a sweep folder, not one result"),
    Case("sweep-table", ("compare", "{point}", "{sweep}/sweep.json"), "this is a sweep table"),
    Case("section-list", ("compare", "{point}", "{top}/edited.json"), "key requests: expected an object",
         _summary(lambda d: d.update(requests=[1]))),
    Case("metric-string", ("compare", "{point}", "{top}/edited.json"), "key ttft_ms.mean: expected a number",
         _summary(lambda d: d["ttft_ms"].update(mean=LONG_SECRET))),
    Case("scenario-object", ("compare", "{point}", "{top}/edited.json"), "key scenario: expected text",
         _summary(lambda d: d.update(scenario={"a": 1}))),
    Case("tp-zero", ("compare", "{point}", "{top}/edited.json"),
         "key resolved_scenario.parallelism.tp: expected a whole number >= 1",
         _summary(lambda d: d["resolved_scenario"]["parallelism"].update(tp=0))),
]
VARY = ("sweep", "{top}/tiny.yaml", "--out", "{top}/out", "-q")
SWEEP = [
    Case("vary-key-twice", (*VARY, "--vary", "parallelism.pp=1,2", "--vary", "parallelism.pp=4"), "is given twice"),
    Case("vary-overlap", (*VARY, "--vary", "parallelism={tp: 2}", "--vary", "parallelism.tp=1,2"),
         "overlaps --vary parallelism={tp: 2}"),
    Case("vary-value-twice", (*VARY, "--vary", "parallelism.pp=1,1"), "lists 1 twice"),
    Case("vary-empty-mapping", (*VARY, "--vary", "parallelism={}"), "is an empty mapping, which sets nothing"),
    Case("vary-no-values", (*VARY, "--vary", "parallelism.pp="), "expected KEY=V1,V2,..."),
    Case("vary-empty-value", (*VARY, "--vary", "parallelism.pp=1,,2"), "empty value"),
    Case("vary-bad-key", (*VARY, "--vary", "parallelism.ppp=1,2"), "did you mean 'pp'?"),
    Case("vary-bad-value", (*VARY, "--vary", "parallelism.pp=1,x"), "expected an integer, got 'x'"),
    Case("vary-deep-value", (*VARY, "--vary", "parallelism.pp=" + "[" * 5000), "cannot read the value"),
    Case("grid-too-big", (*VARY, "--vary", "seed=" + ",".join(map(str, range(200))),
                          "--vary", "workload.requests=" + ",".join(map(str, range(1, 200)))),
         "more than the 10,000 allowed"),
    Case("vary-too-many-values", (*VARY, "--vary", "seed=" + ",".join(map(str, range(20_001)))),
         "lists 20,001 values, more than the 10,000 points"),
    Case("out-dev-null", ("sweep", "{top}/tiny.yaml", "--out", "/dev/null", "-q"), "exists and is not a folder"),
    Case("out-foreign-folder", ("sweep", "{top}/tiny.yaml", "--out", "{top}", "-q"), "not simdecode's output"),
    Case("block-value-twice", (*VARY,), "sweep.parallelism.pp lists 2 twice",
         lambda sweep: (sweep.parent / "tiny.yaml").write_text(
             TINY_SWEEP.replace("parallelism.pp: [1, 2]", "parallelism.pp: [2, 2]"), encoding="utf-8")),
]
CASES = [*(("plot-" + c.id, c) for c in PLOT), *(("compare-" + c.id, c) for c in COMPARE),
         *(("sweep-" + c.id, c) for c in SWEEP)]


@pytest.fixture
def jail(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path/top/`` holds a secret, the scenario and a copy of the sweep (``top/sweep``)."""
    top = tmp_path / "top"
    top.mkdir()
    (top / "secret.txt").write_text(SECRET, encoding="utf-8")
    (top / "tiny.yaml").write_text(TINY_SWEEP, encoding="utf-8")
    shutil.copytree(built, top / "sweep", symlinks=True)
    monkeypatch.chdir(tmp_path)
    return top / "sweep"


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[name for name, _ in CASES])
def test_hostile_results_case(case: Case, jail: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    top = jail.parent
    if case.setup:
        case.setup(jail)
    point = next((jail / "points").iterdir())

    def fill(text: str) -> str:
        return text.replace("{sweep}", str(jail)).replace("{point}", str(point)).replace("{top}", str(top))

    ran = []
    import simdecode.sweep.run as sweep_run
    monkeypatch.setattr(sweep_run, "run_sweep", lambda *a, **k: ran.append(a) or pytest.fail("a point ran"))
    monkeypatch.delenv("SIMDECODE_DEBUG", raising=False)
    before = _snapshot(top.parent) if case.id != "huge" else None
    code, out, err = run_main([fill(a) for a in case.args])
    assert code == case.code, err
    assert fill(case.fragment) in err, err
    assert err.startswith("error: ") and err.count("\n") == 1, err  # one line
    assert "Traceback" not in err and SECRET not in out + err, err
    assert not ran, "refused input must be refused before any point runs"
    if before is not None:
        assert _snapshot(top.parent) == before, "nothing written, nothing replaced"


def test_a_column_of_nulls_still_draws(jail: Path) -> None:
    """null is a metric a point does not have (no completed request): the figure draws without it."""
    _column("per_request_tps.mean", None)(jail)
    code, _, err = run_main(["plot", str(jail), "--out", str(jail.parent / "fig.png")])
    assert code == 0, err
    assert (jail.parent / "fig.png").read_bytes().startswith(b"\x89PNG") and (jail.parent / "fig.svg").exists()


def test_environ_behind_a_link_is_refused_and_not_printed(jail: Path) -> None:
    """A subprocess with a secret in its environment: sweep.json and summary.json linked to
    /proc/self/environ exit 2 without printing it."""
    _link("/proc/self/environ")(jail)
    env = {**os.environ, "SIMDECODE_TEST_SECRET": SECRET}
    (jail.parent / "env.json").symlink_to("/proc/self/environ")
    point = next((jail / "points").iterdir())
    for argv in (["plot", str(jail)], ["compare", str(point), str(jail.parent / "env.json")]):
        proc = subprocess.run([sys.executable, "-m", "simdecode", *argv], capture_output=True, text=True, env=env,
                              timeout=120)
        assert proc.returncode == 2 and "not an ordinary file" in proc.stderr, proc.stderr
        assert SECRET not in proc.stdout + proc.stderr


def test_compare_quotes_text_from_files_without_terminal_escapes_or_markup(jail: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # one line per row
    point = next((jail / "points").iterdir())
    _summary(lambda d: d.update(scenario="evil\x1b[31m[bold]red[/bold]"))(jail)
    assert cli.main(["compare", str(point), str(jail.parent / "edited.json")]) == 0
    out = capsys.readouterr().out
    assert "\x1b[31m" not in out and "evil\\x1b[31m[bold]red[/bold]" in out
