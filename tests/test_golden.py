"""Golden summaries: every scenarios/*.yaml still gives the summary recorded in tests/golden/.

Each scenario file is simulated and its ``summary(baseline=True)`` compared with
``tests/golden/<file stem>.json`` after dropping volatile keys (wall time, the package version),
setting float noise below 1e-9 to 0 and rounding floats to 6 significant figures. A change in
any number shows up as a list of key paths, old vs new. After an intended change, review the diff and rewrite the files:

    pytest tests/test_golden.py --update-golden

The four scenarios take about 2 s together on a 2-core machine; a scenario whose simulation
takes more than a few seconds belongs in :data:`SLOW` (marked ``slow``) so the default run
stays under ~20 s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simdecode import simulate
from simdecode.metrics.summary import round_sig
from simdecode.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
UPDATE_HINT = "pytest tests/test_golden.py --update-golden"

#: (section, key) pairs that change from run to run or release to release, not with the physics:
#: ``events`` counts the simulator's own work (SimPy events), which speed-ups lower on purpose
VOLATILE = (("simulation", "wall_s"), ("simulation", "events"), (None, "simdecode_version"))
#: scenario file stems too slow for the default run (~30 s each on a 2-core machine)
SLOW: frozenset[str] = frozenset({"splitwise-conv-replay-llama-2-70b-2xa100"})
SIGNIFICANT_DIGITS = 6
#: floats smaller than this are float noise of sums that should cancel (e.g. an idle share of
#: 2e-13): recorded as 0.0, since rounding to significant figures would keep the noise
NOISE_FLOOR = 1e-9


def stable_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """``summary`` without volatile keys, floats rounded to :data:`SIGNIFICANT_DIGITS`."""
    out = json.loads(json.dumps(summary))  # a deep copy, with JSON's types (tuples -> lists)
    for section, key in VOLATILE:
        (out if section is None else out.get(section, {})).pop(key, None)
    return round_sig(_zero_noise(out), SIGNIFICANT_DIGITS)


def _zero_noise(value: Any) -> Any:
    if isinstance(value, float) and abs(value) < NOISE_FLOOR:
        return 0.0
    if isinstance(value, dict):
        return {k: _zero_noise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_zero_noise(v) for v in value]
    return value


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"a.b[0]": leaf, ...}: every leaf of nested dicts and lists under its key path."""
    if isinstance(value, dict) and value:
        items: dict[str, Any] = {}
        for key, sub in value.items():
            items.update(flatten(sub, f"{prefix}.{key}" if prefix else str(key)))
        return items
    if isinstance(value, list) and value:
        items = {}
        for i, sub in enumerate(value):
            items.update(flatten(sub, f"{prefix}[{i}]"))
        return items
    return {prefix: value}


_MISSING = object()


def describe_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One line per differing key path: ``path: old -> new`` (with the relative change of numbers)."""
    a, b = flatten(old), flatten(new)
    lines = []
    for path in sorted(set(a) | set(b)):
        was, now = a.get(path, _MISSING), b.get(path, _MISSING)
        if was == now and type(was) is type(now):
            continue
        if was is _MISSING:
            lines.append(f"  {path}: (absent) -> {now!r}   [new key]")
        elif now is _MISSING:
            lines.append(f"  {path}: {was!r} -> (absent)   [key removed]")
        else:
            note = ""
            numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (was, now))
            if numbers and was != 0:
                note = f"   [{(now - was) / abs(was):+.3%}]"
            lines.append(f"  {path}: {was!r} -> {now!r}{note}")
    return lines


def _param(path: Path):
    marks = [pytest.mark.slow] if path.stem in SLOW else []
    return pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("scenario_path", [_param(p) for p in SCENARIOS])
def test_golden_summary(scenario_path: Path, update_golden: bool) -> None:
    golden = GOLDEN_DIR / f"{scenario_path.stem}.json"
    # baseline=True: speculative scenarios also record the measured speed-up over standard decoding
    new = stable_summary(simulate(load_scenario(scenario_path)).summary(baseline=True))
    if update_golden:
        GOLDEN_DIR.mkdir(exist_ok=True)
        golden.write_text(json.dumps(new, indent=2) + "\n", encoding="utf-8")
        return
    if not golden.exists():
        pytest.fail(f"no golden summary for scenarios/{scenario_path.name}: {golden} is missing.\n"
                    f"Create it with `{UPDATE_HINT}` and review the file before committing it.",
                    pytrace=False)
    old = stable_summary(json.loads(golden.read_text(encoding="utf-8")))  # volatile keys dropped
    diff = describe_diff(old, new)
    if diff:
        pytest.fail(f"scenarios/{scenario_path.name}: summary differs from {golden.relative_to(ROOT)} "
                    f"in {len(diff)} key path(s) (golden -> now):\n" + "\n".join(diff)
                    + f"\nIf the change is intended, rewrite the golden files with `{UPDATE_HINT}`.",
                    pytrace=False)


def test_every_golden_file_has_a_scenario() -> None:
    stems = {p.stem for p in SCENARIOS}
    stale = sorted(p.name for p in GOLDEN_DIR.glob("*.json") if p.stem not in stems)
    assert not stale, f"golden files without a scenarios/*.yaml (delete them): {', '.join(stale)}"


def test_describe_diff_names_changed_paths() -> None:
    old = {"a": {"b": 1.0, "c": 2}, "d": "x", "e": [1, 2]}
    new = {"a": {"b": 1.5, "c": 2}, "d": "x", "e": [1, 3], "f": None}
    assert describe_diff(old, new) == [
        "  a.b: 1.0 -> 1.5   [+50.000%]",
        "  e[1]: 2 -> 3   [+50.000%]",
        "  f: (absent) -> None   [new key]",
    ]
    assert describe_diff(old, old) == []
