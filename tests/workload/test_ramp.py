"""A closed loop's ramp-up: users start one by one, never more in flight than the concurrency."""

from __future__ import annotations

import pytest

from simdecode import simulate
from simdecode.scenario.schema import Scenario


def run(concurrency: int, requests: int, ramp: str):
    return simulate(Scenario.model_validate({
        "model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"},
        "workload": {"arrival": {"kind": "closed", "concurrency": concurrency, "ramp_up": ramp},
                     "requests": requests, "prompt_tokens": 32, "output_tokens": 400},
        "simulation": {"fidelity": "step"}}))


def test_users_start_evenly_over_the_ramp_and_at_most_concurrency_run():
    result = run(4, 12, "2 s")
    arrivals = sorted(r.arrival_s for r in result.requests)
    for start in (0.0, 0.5, 1.0, 1.5):  # each user's first request (others follow completions)
        assert any(t == pytest.approx(start) for t in arrivals)
    assert arrivals[1] == pytest.approx(0.5)  # nothing finishes before the second user starts
    events = sorted([(r.arrival_s, 1) for r in result.requests] + [(r.finished_s, -1) for r in result.requests])
    in_flight, most = 0, 0
    for _, step in events:
        in_flight += step
        most = max(most, in_flight)
    assert most <= 4 and len(result.requests) == 12


def test_fewer_requests_than_users_stop_the_ramp():
    assert len(run(25, 3, "9 s").requests) == 3


def test_random_ramp_starts_users_at_uniform_phases_of_the_span():
    """``ramp: random``: the first requests at independent uniform times in [0, ramp_up), the
    first moved to 0, drawn from the arrivals stream (so the seed decides them)."""
    import numpy as np

    from simdecode.engine.workload import random_phases

    times = random_phases(np.random.default_rng(7), 4, 2.0)
    raw = np.sort(np.random.default_rng(7).uniform(0.0, 2.0, size=4))
    assert times.tolist() == pytest.approx((raw - raw[0]).tolist())
    assert times[0] == 0.0 and (np.diff(times) >= 0).all() and times[-1] < 2.0
    # 10,000 users over 2 s: the phases are uniform, mean 1 s and a quarter of them per 0.5 s
    many = random_phases(np.random.default_rng(1), 10_000, 2.0)
    assert many.mean() == pytest.approx(1.0, abs=0.03)
    assert np.histogram(many, bins=4, range=(0, 2))[0] == pytest.approx([2500] * 4, rel=0.08)


def test_random_ramp_in_a_scenario_follows_the_seed_and_keeps_the_concurrency():
    def first_arrivals(seed: int) -> list[float]:
        result = simulate(Scenario.model_validate({
            "model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"}, "seed": seed,
            "workload": {"arrival": {"kind": "closed", "concurrency": 4, "ramp_up": "2 s", "ramp": "random"},
                         "requests": 4, "prompt_tokens": 32, "output_tokens": 400},
            "simulation": {"fidelity": "step"}}))
        return sorted(r.arrival_s for r in result.requests)

    a, b = first_arrivals(0), first_arrivals(1)
    assert a[0] == 0.0 and all(0.0 <= t < 2.0 for t in a) and len(a) == 4
    assert a != b and a == first_arrivals(0)
    assert a != pytest.approx([0.0, 0.5, 1.0, 1.5])  # not the even ramp
