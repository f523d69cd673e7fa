"""Properties every simulation must satisfy, over random small workloads (docs/architecture.md, "Invariants the tests check").

- causality: arrival <= scheduled <= first token <= finished; token times strictly increase and
  there is one per output token;
- conservation: every submitted request is completed or rejected;
- determinism: the same scenario and seed give identical records;
- accounting: the time breakdown is a set of shares summing to 1; no request decodes faster than
  the roofline bound.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode import simulate
from simdecode.scenario.schema import Scenario


def lengths(low: int, high: int):
    """A fixed length, or a uniform distribution of lengths (drawn per request from the seed)."""
    fixed = st.integers(min_value=low, max_value=high)
    uniform = st.tuples(fixed, fixed).map(lambda ab: {"dist": "uniform", "low": min(ab), "high": max(ab)})
    return st.one_of(fixed, fixed, uniform)


@st.composite
def scenarios(draw, fidelity=st.sampled_from(["step", "step", "layer", "op"])) -> dict:
    kind = draw(st.sampled_from(["closed", "closed", "poisson", "bursty"]))
    if kind == "closed":
        arrival = {"kind": "closed", "concurrency": draw(st.integers(min_value=1, max_value=6))}
    else:
        arrival = {"kind": kind, "rate": draw(st.floats(min_value=1.0, max_value=5000.0))}
        if kind == "bursty":
            arrival["cv"] = draw(st.floats(min_value=0.1, max_value=4.0))
    return {
        "seed": draw(st.integers(min_value=0, max_value=2**63 - 1)),
        "model": draw(st.sampled_from(["llama-3.2-1b", "llama-3.2-1b", "llama-2-7b"])),
        "hardware": {"gpu": "h100-sxm"},
        "parallelism": draw(st.sampled_from([{}, {"tp": 2}, {"tp": 2, "tp_mode": "delayed"},
                                             {"tp": 2, "tp_mode": "chunked-overlap"}, {"pp": 2}, {"dp": 2}])),
        "workload": {
            "arrival": arrival,
            "requests": draw(st.integers(min_value=1, max_value=12)),
            "prompt_tokens": draw(lengths(1, 300)),
            "output_tokens": draw(lengths(1, 40)),
        },
        "scheduler": {
            "policy": draw(st.sampled_from(["continuous", "static"])),
            "chunked_prefill": draw(st.booleans()),
            "max_batch_size": draw(st.integers(min_value=1, max_value=8)),
            "max_batched_tokens": draw(st.integers(min_value=16, max_value=512)),
            "router": draw(st.sampled_from(["round-robin", "least-outstanding"])),
        },
        "simulation": {"fidelity": draw(fidelity)},
    }


def check_invariants(result) -> None:
    summary = result.summary()
    counts = summary["requests"]
    spec = result.scenario.workload
    assert counts["submitted"] == spec.requests
    assert counts["completed"] + counts["rejected"] == counts["submitted"]
    assert counts["rejected"] == 0  # every request here fits in the KV cache
    assert sorted(r.id for r in result.requests) == list(range(spec.requests))  # each once

    for r in result.requests:
        assert 0 <= r.arrival_s <= r.scheduled_s <= r.first_token_s <= r.finished_s <= result.simulated_s
        for got, length in ((r.prompt_tokens, spec.prompt_length), (r.output_tokens, spec.output_length)):
            if isinstance(length, int):
                assert got == length
            else:
                assert length.low <= got <= length.high
        times = r.token_times_s
        assert len(times) == r.output_tokens
        assert all(a < b for a, b in zip(times, times[1:]))
        assert times[0] == r.first_token_s and times[-1] == r.finished_s
        assert r.first_token_s > r.arrival_s  # the prefill takes time

    shares = summary["time_breakdown"]
    assert all(0.0 <= v <= 1.0 for v in shares.values())
    assert math.isclose(sum(shares.values()), 1.0, abs_tol=1e-9)

    roofline = summary["roofline_tps"]
    for r in result.requests:
        if r.output_tokens > 1:
            assert 1.0 / r.tpot_s <= roofline * (1 + 1e-9)
    if summary["per_request_tps"]["mean"] is not None:
        assert summary["per_request_tps"]["p99"] <= roofline * (1 + 1e-9)


@settings(max_examples=30, deadline=None)
@given(data=scenarios())
def test_invariants_hold(data):
    check_invariants(simulate(Scenario.model_validate(data)))


@settings(max_examples=10, deadline=None)
@given(data=scenarios(), other_seed=st.integers(min_value=0, max_value=2**63 - 1))
def test_same_seed_same_records_and_other_seeds_still_valid(data, other_seed):
    scenario = Scenario.model_validate(data)
    first, second = simulate(scenario), simulate(scenario)
    assert first.requests == second.requests
    assert [r.token_times_s for r in first.requests] == [r.token_times_s for r in second.requests]
    assert first.simulated_s == second.simulated_s and first.events == second.events
    other = simulate(Scenario.model_validate({**data, "seed": other_seed}))
    check_invariants(other)


def test_poisson_arrivals_depend_on_the_seed():
    def arrivals(seed):
        s = Scenario.model_validate({
            "seed": seed, "model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"},
            "workload": {"arrival": {"kind": "poisson", "rate": 100.0}, "requests": 5,
                         "prompt_tokens": 8, "output_tokens": 2},
        })
        return sorted(r.arrival_s for r in simulate(s).requests)

    assert arrivals(1) == arrivals(1)
    assert arrivals(1) != arrivals(2)


def test_closed_loop_keeps_concurrency_in_flight():
    """closed concurrency c: the first c requests arrive at 0, each later one when one leaves."""
    s = Scenario.model_validate({
        "model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"},
        "workload": {"arrival": {"kind": "closed", "concurrency": 2}, "requests": 5,
                     "prompt_tokens": 8, "output_tokens": 3},
    })
    records = sorted(simulate(s).requests, key=lambda r: r.id)
    assert [r.arrival_s for r in records[:2]] == [0, 0]
    finishes = sorted(r.finished_s for r in records)
    for r, f in zip(records[2:], finishes):
        assert r.arrival_s == f
