"""A Result is pure data: nothing of the engine, small when pickled, the baseline run only on request."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from simdecode import load_scenario, simulate
from simdecode.engine import simulation
from simdecode.result import Result

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
#: a 10,000-request open-loop run of the quickstart model: ~2 s at step fidelity
TEN_THOUSAND = ["workload.requests=10000", "simulation.fidelity=step", "workload.arrival={kind: poisson, rate: 40/s}",
                "workload.prompt_tokens=64", "workload.output_tokens=16"]
SPECULATIVE = ["decoding={method: draft, draft_model: llama-3.2-1b, speculative_tokens: 3, acceptance: 0.7}",
               "workload.requests=3", "workload.output_tokens=32", "simulation.fidelity=step"]


@pytest.fixture(scope="module")
def big() -> Result:
    return simulate(load_scenario(QUICKSTART, TEN_THOUSAND))


def test_a_ten_thousand_request_result_pickles_under_one_megabyte(big: Result) -> None:
    assert len(big.requests) == 10_000
    data = pickle.dumps(big)
    print(f"pickled Result of {len(big.requests):,} requests: {len(data):,} bytes")
    assert len(data) < 1_000_000
    back = pickle.loads(data)
    assert back.requests == big.requests  # bit-exact records, token times included
    assert [r.token_times_s for r in back.requests] == [r.token_times_s for r in big.requests]
    assert {k: [m.series() for m in ms] for k, ms in back.monitors.items()} == \
           {k: [m.series() for m in ms] for k, ms in big.monitors.items()}
    assert back.summary() == big.summary()


def _fresh_python(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_result_imports_nothing_of_the_engine(tmp_path: Path) -> None:
    """Importing simdecode.result, unpickling a Result and summarising it load neither the engine
    nor simpy (checked in a fresh interpreter, through sys.modules)."""
    path = tmp_path / "result.pickle"
    path.write_bytes(pickle.dumps(simulate(load_scenario(QUICKSTART, ["workload.requests=2"]))))
    out = _fresh_python(
        "import sys, pickle, simdecode.result\n"
        "loaded = lambda: sorted(m for m in sys.modules if m.startswith('simdecode.engine') or m == 'simpy')\n"
        "print('after import:', loaded())\n"
        f"summary = pickle.loads(open({str(path)!r}, 'rb').read()).summary()\n"
        "print('after summary:', loaded(), summary['requests']['completed'])\n")
    assert out == "after import: []\nafter summary: [] 2\n"


def _count_simulations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count simulations run (one environment each)."""
    built: list[int] = []
    run = simulation.run_replicas

    def counting(*args, **kwargs):
        built.append(1)
        return run(*args, **kwargs)

    monkeypatch.setattr(simulation, "run_replicas", counting)
    return built


def test_speculative_simulate_runs_one_simulation_unless_the_baseline_is_asked(monkeypatch) -> None:
    built = _count_simulations(monkeypatch)
    result = simulate(load_scenario(QUICKSTART, SPECULATIVE))
    plain = result.summary()
    assert len(built) == 1
    assert plain["speculative"]["speedup_vs_standard"] is None and plain["speculative"]["verify_steps"] > 0
    measured = result.summary(baseline=True)
    assert len(built) == 2  # the standard-decoding run, once
    result.summary(baseline=True)
    assert result.summary()["speculative"] == measured["speculative"]  # kept: later summaries carry it
    assert len(built) == 2
    # the ratio is of this run's mean per-request speed to the standard run's
    standard = simulate(load_scenario(QUICKSTART, SPECULATIVE + ["decoding.method=standard"])).summary()
    assert measured["speculative"]["speedup_vs_standard"] == pytest.approx(
        measured["per_request_tps"]["mean"] / standard["per_request_tps"]["mean"], rel=1e-12)
    assert measured["speculative"]["speedup_vs_standard"] > 1.2  # k = 3 at 0.7 on a memory-bound step


def test_standard_decoding_never_runs_a_baseline(monkeypatch) -> None:
    built = _count_simulations(monkeypatch)
    summary = simulate(load_scenario(QUICKSTART, ["workload.requests=2"])).summary(baseline=True)
    assert len(built) == 1 and summary["speculative"] is None
