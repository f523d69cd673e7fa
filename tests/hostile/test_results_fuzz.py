"""Fuzz: ``plot`` and ``compare`` on mutated sweep outputs exit 0 or 2, never 1 (an internal error).

Each example takes a real sweep folder (built once), changes one thing in its ``sweep.json`` or
in a point's ``summary.json`` (a cell or key set to a hostile value, a key dropped, rows dropped,
the text cut short or a byte replaced) and runs the command in-process. Exit 2 must print one
``error:`` line; exit 0 must have written the figure. A few dozen examples: a few seconds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostile.test_corpus import run_main
from tests.hostile.test_results_corpus import built  # noqa: F401  (the module-scoped sweep folder)

HOSTILE = (st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats()
           | st.text(max_size=12) | st.lists(st.integers(-3, 3), max_size=3)
           | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
COMMON = dict(deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _mutate_json(data: Any, draw) -> Any:
    """One change to a loaded sweep table or summary."""
    kind = draw(st.sampled_from(["set", "set", "set", "drop", "rows", "whole"]))
    if kind == "whole":
        return draw(HOSTILE)
    rows = data.get("rows") if isinstance(data.get("rows"), list) else None
    if kind == "rows" and rows is not None:
        keep = draw(st.integers(0, len(rows)))
        data["rows"] = rows[:keep]
        return data
    target = draw(st.sampled_from(rows)) if rows else data
    while True:  # walk into a nested object now and then
        key = draw(st.sampled_from(sorted(target)))
        if isinstance(target[key], dict) and target[key] and draw(st.booleans()):
            target = target[key]
            continue
        break
    if kind == "drop":
        del target[key]
    else:
        target[key] = draw(HOSTILE)
    return data


def _write_mutated(path: Path, draw) -> None:
    text = path.read_text(encoding="utf-8")
    if draw(st.integers(0, 4)) == 0:  # raw edit: cut short, or one character replaced
        at = draw(st.integers(0, len(text)))
        text = text[:at] if draw(st.booleans()) else text[:at] + draw(st.characters()) + text[at + 1:]
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        return
    path.write_text(json.dumps(_mutate_json(json.loads(text), draw)), encoding="utf-8")


def _check(code: int, err: str) -> None:
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err


@settings(max_examples=25, **COMMON)
@given(data=st.data())
def test_plot_on_a_mutated_sweep_never_crashes(data, built: Path, tmp_path_factory) -> None:  # noqa: F811
    folder = tmp_path_factory.mktemp("fuzz") / "sweep"
    shutil.copytree(built, folder)
    _write_mutated(folder / "sweep.json", data.draw)
    figure = data.draw(st.sampled_from(["auto", "pipeline", "tp", "pareto", "speculative", "points"]))
    code, _, err = run_main(["plot", str(folder), "--figure", figure, "--out", str(folder / "fig")])
    _check(code, err)
    assert (code == 0) == (folder / "fig.png").exists()


@settings(max_examples=60, **COMMON)
@given(data=st.data())
def test_compare_on_a_mutated_summary_never_crashes(data, built: Path, tmp_path_factory) -> None:  # noqa: F811
    first, second = sorted((built / "points").iterdir())[:2]
    mutated = tmp_path_factory.mktemp("fuzz") / "summary.json"
    shutil.copy(second / "summary.json", mutated)
    _write_mutated(mutated, data.draw)
    code, out, err = run_main(["compare", str(first), str(mutated), *data.draw(st.sampled_from([[], ["--json"]]))])
    _check(code, err)
    assert (code == 0) == bool(out)
