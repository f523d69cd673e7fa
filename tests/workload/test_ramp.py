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
