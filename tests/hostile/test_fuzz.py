"""Fuzz: mutated curated scenarios exit 0 or 2, never 1, and finish within a time bound.

Each example takes one of ``scenarios/*.yaml`` (shrunk to a few short requests so a valid run
takes a fraction of a second), mutates it (a value replaced by a hostile one, a key dropped or
added, a ``--set`` override, or raw edits of the YAML text: a tag, a control character, a line
duplicated or cut) and runs ``simdecode run --json`` on it in-process. The exit code must be 0
or 2 (1 is a bug in simdecode), an exit 2 must print ``error:`` lines and nothing of a secret
file beside the scenario's folder, and the run must end within :data:`TIME_BOUND_S` under a
work budget of :data:`FUZZ_WORK` (the estimate has to hold, or a run exceeds the bound).

Profiles (environment variable ``SIMDECODE_FUZZ``): unset, ``ci``: :data:`CI_EXAMPLES`
examples (about a minute on 2 cores); ``nightly``: :data:`NIGHTLY_EXAMPLES` (run by hand or a
scheduled job: ``SIMDECODE_FUZZ=nightly pytest tests/hostile/test_fuzz.py``).
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simdecode import cli
from simdecode.engine import budget

ROOT = Path(__file__).resolve().parents[2]
CURATED = sorted((ROOT / "scenarios").glob("*.yaml"))
CI_EXAMPLES, NIGHTLY_EXAMPLES = 300, 2000
PROFILE = os.environ.get("SIMDECODE_FUZZ", "ci").strip().lower()
EXAMPLES = NIGHTLY_EXAMPLES if PROFILE == "nightly" else CI_EXAMPLES
FUZZ_WORK = 2e5  # units of work (simdecode.engine.budget): about 0.3 s at its SECONDS_PER_UNIT of 1.7e-6
TIME_BOUND_S = 30.0  # per example, on a shared 2-core machine
SECRET = "FUZZ-SECRET-7f3a9c"

HOSTILE_VALUES = [
    None, True, False, 0, -1, 1, 2, 3, 7, 64, 10**6, 10**30, -(10**30), 1e-200, 1e308, -1e308, 0.5, 1e-3, 1e6,
    float("nan"), float("inf"), "", " ", "x", "0", "3350", "1e400", "-5 GB/s", "450 GB/z", "2 us", "80 GiB",
    "2/s", "1e-300/s", "0/s", "h100", "h100-sxm", "nvlink4", "llama-3.2-1b", "step", "layer", "op", "trace",
    "poisson", "bursty", "closed", "2024-01-01", "../secret.csv", "/proc/self/environ", "/etc/passwd",
    "/dev/zero", "secret.csv", "traces/splitwise_conv.csv", "a" * 300, "\u202e\u0007", [], [1], [0.5, 0.5],
    [[[[1]]]], {}, {"preset": "h100-sxm"}, {"dist": "fixed", "value": 4}, {"dist": "lognormal", "median": 8,
    "sigma": 9}, {"dist": "empirical", "path": "../secret.csv", "column": "x"}, {"kind": "bursty", "rate": "1/s",
    "cv": 1e-200}, {"kind": "trace", "path": "/proc/self/environ"}, {"histogram": [1e308, 1e308]},
    {"hf_config": "../secret.json"}, {"mean_tokens": 1e308}, {"width": 16, "depth": 16},
]
TEXT_EDITS = ["!!bool ", "!!timestamp ", "!!binary ", "!!python/object:os.system ", "&a ", "*a ", "<<: ",
              "\t", "\x1b[31m", "{", "]", ": ", "- ", "'", '"', "#", "\n", "\ufeff", "\x00"]


FACTORS = [0, 0.001, 0.5, 0.9, 1.1, 2, 3, 10, 1000, 1e6, -1]


def _perturbed(value: Any, factor: float) -> Any:
    """A number (or the number of a quantity such as '450 GB/s') scaled by ``factor``; others as is."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return int(value * factor)
    if isinstance(value, float):
        return value * factor
    if isinstance(value, str):
        number, _, unit = value.partition(" ")
        try:
            return f"{float(number) * factor:g} {unit}".strip()
        except ValueError:
            return value
    return value


def _flatten(node: Any, path: tuple = ()) -> list[tuple]:
    """Every key path of ``node`` (mappings and lists), the root excluded."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*path, key))
            out.extend(_flatten(value, (*path, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.append((*path, i))
            out.extend(_flatten(value, (*path, i)))
    return out


def _shrunk(path: Path) -> dict:
    """The curated scenario with a small workload, no sweep, so a valid run is quick."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.pop("sweep", None)
    work = data.setdefault("workload", {})
    work["warmup_requests"] = 0
    arrival = work.get("arrival") or {}
    if arrival.get("kind") == "trace":
        arrival["limit"] = 3
    else:
        work["requests"] = min(int(work.get("requests", 3)), 3)
        for key, tokens in (("prompt_tokens", 32), ("output_tokens", 8)):
            if not isinstance(work.get(key), dict) or work[key].get("dist") != "empirical":
                work[key] = tokens
    return data


BASES = {p.name: _shrunk(p) for p in CURATED}


@st.composite
def mutated(draw) -> tuple[str, str, list[str]]:
    """(scenario file name, YAML text, --set overrides)."""
    name = draw(st.sampled_from(sorted(BASES)))
    data = copy.deepcopy(BASES[name])
    overrides: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        paths = _flatten(data)
        op = draw(st.sampled_from(["perturb"] * 8 + ["replace"] * 5 + ["drop"] * 2 + ["add"] + ["set"] * 4))
        if op == "set" or not paths:
            key = ".".join(str(k) for k in draw(st.sampled_from(paths))) if paths else "seed"
            value = draw(st.sampled_from(HOSTILE_VALUES))
            text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True).strip()
            text = text.removesuffix("\n...").strip()
            overrides.append(f"{key}={text}")
            continue
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if op == "perturb":
            parent[path[-1]] = _perturbed(parent[path[-1]], draw(st.sampled_from(FACTORS)))
        elif op == "replace":
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(HOSTILE_VALUES)))
        elif op == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "tp", "gpu", "rate", "path", "histogram"]))] = copy.deepcopy(
                draw(st.sampled_from(HOSTILE_VALUES)))
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if draw(st.integers(0, 7)) == 0:  # an eighth of the examples: raw edits of the text
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(text)))
            edit = draw(st.sampled_from(["insert", "cut", "dup"]))
            if edit == "insert":
                text = text[:at] + draw(st.sampled_from(TEXT_EDITS)) + text[at:]
            elif edit == "cut":
                text = text[:at] + text[at + draw(st.integers(1, 20)):]
            else:
                lines = text.splitlines(keepends=True)
                i = draw(st.integers(0, max(0, len(lines) - 1)))
                text = "".join(lines[: i + 1] + lines[i:])
    return name, text, overrides


@pytest.fixture(scope="module")
def arena(tmp_path_factory) -> Path:
    """A folder with a secret file, and below it the scenarios' folder (with the curated traces)."""
    top = tmp_path_factory.mktemp("fuzz")
    (top / "secret.csv").write_text(f"arrival_s,prompt_tokens,output_tokens\n{SECRET},1,1\n", encoding="utf-8")
    (top / "secret.json").write_text(f'{{"num_hidden_layers": "{SECRET}"}}', encoding="utf-8")
    folder = top / "scenarios"
    shutil.copytree(ROOT / "scenarios" / "traces", folder / "traces")
    return folder


def run_cli(argv: list[str]) -> tuple[int, str, str, float]:
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue(), time.perf_counter() - started


@settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(case=mutated())
def test_mutated_scenarios_exit_0_or_2_within_the_bound(case, arena, monkeypatch) -> None:
    name, text, overrides = case
    monkeypatch.setattr(budget, "MAX_WORK", FUZZ_WORK)
    monkeypatch.delenv("SIMDECODE_DEBUG", raising=False)
    path = arena / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    argv = ["run", str(path), "--json", *(a for o in overrides for a in ("--set", o))]
    code, out, err, elapsed = run_cli(argv)
    event(f"exit {code}")  # shown by --hypothesis-show-statistics
    event("elapsed " + next(f"< {b} s" for b in (0.1, 1, 5, 30, float("inf")) if elapsed < b))
    assert code in (0, 2), f"exit {code} for {argv}:\n{text}\n{err}"
    assert elapsed < TIME_BOUND_S, f"{elapsed:.1f} s for {argv}:\n{text}"
    assert SECRET not in out and SECRET not in err
    if code == 2:
        assert err.startswith("error: ") and "internal error" not in err
    else:
        assert out.lstrip().startswith("{")
