"""The work estimate made before a run (simdecode.budget): hand-computed cases and its honesty."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdecode import ScenarioError, simulate
from simdecode.budget import STEP_OVERHEAD_UNITS, check_work, estimate_work
from simdecode.scenario.loader import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]


def _scenario(**workload) -> object:
    return scenario_from_dict({
        "model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm", "gpus_per_node": 1},
        "simulation": {"fidelity": "step"}, "workload": {"prompt_tokens": 16, "output_tokens": 8, **workload}})


def test_closed_loop_one_at_a_time_by_hand() -> None:
    # 10 requests, one in flight: 10 x 8 decode steps + 10 prefill steps (16 tokens < 8192 a step);
    # each step: the fixed overhead of the one stage plus one sequence's bookkeeping
    e = estimate_work(_scenario(requests=10))
    assert e.steps == 10 * 8 + 10
    assert e.units_per_step == STEP_OVERHEAD_UNITS + 1
    assert e.units == 90 * (STEP_OVERHEAD_UNITS + 1) and e.runs == 1


def test_batches_divide_the_decode_steps() -> None:
    # 40 requests, 8 in flight: 40 x 8 / 8 = 40 decode steps + 40 prefill steps, 8 sequences a step
    e = estimate_work(_scenario(requests=40, arrival={"kind": "closed", "concurrency": 8}))
    assert e.steps == 40 + 40 and e.units_per_step == STEP_OVERHEAD_UNITS + 8


def test_open_arrivals_use_littles_law() -> None:
    # Poisson at 1e-3/s: far fewer than one request in flight, so one at a time, not 256
    slow = estimate_work(_scenario(requests=40, arrival={"kind": "poisson", "rate": "0.001/s"}))
    fast = estimate_work(_scenario(requests=40, arrival={"kind": "poisson", "rate": "1e6/s"}))
    assert slow.steps == 40 * 8 + 40
    assert fast.steps == 40 * 8 / 40 + 40  # all 40 at once (fewer than max_batch_size)


def test_check_work_refuses_beyond_the_limit_and_names_the_file() -> None:
    scenario = _scenario(requests=10)
    assert check_work(scenario, limit=None).units == pytest.approx(90 * (STEP_OVERHEAD_UNITS + 1))
    with pytest.raises(ScenarioError) as info:
        check_work(scenario, limit=100, file="s.yaml")
    assert str(info.value).startswith("s.yaml: this run is estimated at 1.9e+03 units") and "--no-limit" in str(info.value)


@pytest.mark.parametrize("name", ["quickstart.yaml", "splitwise-conv-replay-llama-2-70b-2xa100.yaml",
                                  "kv-pressure.yaml"])
@pytest.mark.parametrize("fidelity", ["step", "layer"])
def test_the_estimate_bounds_the_events_of_real_runs(name: str, fidelity: str) -> None:
    """The engine's events stay within twice the estimated units (the estimate is what the
    budget trusts to bound a run's time)."""
    overrides = [f"simulation.fidelity={fidelity}"]
    overrides += ["workload.arrival.limit=40"] if "splitwise" in name else ["workload.requests=12"]
    scenario = load_scenario(ROOT / "scenarios" / name, overrides)
    assert simulate(scenario).events <= 2 * estimate_work(scenario).units
