"""Serving under load, end to end: determinism of the random streams, warm-up requests, the
replica router, and Little's law on a Poisson run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simdecode import simulate
from simdecode.scenario.loader import scenario_from_dict
from simdecode.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]


def _scenario(workload: dict, seed: int = 0, base_dir: Path = ROOT, **sections) -> Scenario:
    data = {"seed": seed, "model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm", "gpus_per_node": 2},
            "workload": workload, "simulation": {"fidelity": "step"}, **sections}
    return scenario_from_dict(data, base_dir=base_dir)


POISSON = {"arrival": {"kind": "poisson", "rate": "50/s"}, "requests": 40,
           "prompt_tokens": {"dist": "empirical", "path": "scenarios/traces/splitwise_conv.csv", "column": "prompt_tokens"},
           "output_tokens": {"dist": "lognormal", "median": 20, "sigma": 0.5}}


def _rows(result) -> list[tuple]:
    return [(r.id, r.replica, r.arrival_s, r.scheduled_s, r.first_token_s, r.finished_s, r.prompt_tokens,
             r.output_tokens, r.warmup) for r in sorted(result.requests, key=lambda r: r.id)]


def test_same_seed_same_records_other_seed_other_arrivals_and_lengths():
    first, again, other = (simulate(_scenario(POISSON, seed)) for seed in (3, 3, 4))
    assert _rows(first) == _rows(again)
    a, b = _rows(first), _rows(other)
    assert [r[2] for r in a] != [r[2] for r in b]  # arrivals
    assert [r[6:8] for r in a] != [r[6:8] for r in b]  # lengths
    assert all(isinstance(r.prompt_tokens, int) and isinstance(r.output_tokens, int) for r in first.requests)


def test_lengths_do_not_move_arrivals():
    """Arrivals and lengths come from separate streams: changing the lengths keeps the arrivals."""
    fixed = dict(POISSON, prompt_tokens=64, output_tokens=8)
    arrivals = [sorted(r.arrival_s for r in simulate(_scenario(w, 3)).requests) for w in (POISSON, fixed)]
    assert arrivals[0] == arrivals[1]


def test_bursty_arrivals_run_and_bunch_up():
    bursty = {"arrival": {"kind": "bursty", "rate": "50/s", "cv": 4}, "requests": 200,
              "prompt_tokens": 32, "output_tokens": 4}
    times = np.array(sorted(r.arrival_s for r in simulate(_scenario(bursty)).requests))
    gaps = np.diff(times)
    assert len(times) == 200
    assert gaps.std() / gaps.mean() > 2.0  # far burstier than Poisson (cv 1)


def test_closed_loop_submits_requests_in_total_with_drawn_lengths():
    w = {"arrival": {"kind": "closed", "concurrency": 3}, "requests": 11,
         "prompt_tokens": {"dist": "uniform", "low": 10, "high": 40}, "output_tokens": {"dist": "normal", "mean": 6, "std": 2}}
    result = simulate(_scenario(w))
    assert result.summary()["requests"]["submitted"] == 11
    assert sorted(r.id for r in result.requests) == list(range(11))
    assert all(10 <= r.prompt_tokens <= 40 and r.output_tokens >= 1 for r in result.requests)
    assert len({r.prompt_tokens for r in result.requests}) > 3


def test_warmup_requests_are_simulated_but_not_measured():
    w = dict(POISSON, warmup_requests=10)
    result = simulate(_scenario(w))
    warm = sorted(r.id for r in result.requests if r.warmup)
    assert warm == list(range(10))  # the first ten by arrival
    first_measured = min(r.arrival_s for r in result.requests if not r.warmup)
    assert all(r.arrival_s <= first_measured for r in result.requests if r.warmup)
    assert len(result.measured) == 30
    summary = result.summary()
    assert summary["requests"]["submitted"] == 40
    e2e = [r.e2e_s for r in result.measured]
    assert summary["e2e_ms"]["mean"] == pytest.approx(1e3 * sum(e2e) / len(e2e))
    with pytest.raises(Exception, match="warmup_requests = 40 leaves none of the 40"):
        _scenario(dict(POISSON, warmup_requests=40))


# ---- routing -------------------------------------------------------------------------------------

def _skewed_trace(tmp_path: Path, n: int = 40) -> Path:
    """Alternating long and short requests, 20 ms apart: round-robin sends every long one to
    replica 0."""
    lines = ["arrival_s,prompt_tokens,output_tokens"]
    lines += [f"{0.02 * i:.2f},64,{300 if i % 2 == 0 else 4}" for i in range(n)]
    path = tmp_path / "skewed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("router", ["round-robin", "least-outstanding"])
def test_routers_conserve_requests(tmp_path, router):
    s = _scenario({"arrival": {"kind": "trace", "path": _skewed_trace(tmp_path).name}}, base_dir=tmp_path,
                  parallelism={"dp": 2}, scheduler={"router": router})
    result = simulate(s)
    assert sorted(r.id for r in result.requests) == list(range(40))
    assert {r.replica for r in result.requests} == {0, 1}
    assert result.summary()["requests"]["submitted"] == 40


def test_least_outstanding_balances_a_skewed_workload_better_than_round_robin(tmp_path):
    trace = _skewed_trace(tmp_path).name

    def run(router: str):
        s = _scenario({"arrival": {"kind": "trace", "path": trace}}, base_dir=tmp_path, parallelism={"dp": 2},
                      scheduler={"router": router})
        result = simulate(s)
        tokens = [sum(r.output_tokens for r in result.requests if r.replica == k) for k in (0, 1)]
        return abs(tokens[0] - tokens[1]) / sum(tokens), result

    rr_skew, rr = run("round-robin")
    lo_skew, _ = run("least-outstanding")
    assert [r.replica for r in sorted(rr.requests, key=lambda r: r.id)] == [i % 2 for i in range(40)]
    assert rr_skew > 0.95  # every long request on replica 0
    assert lo_skew < 0.2 * rr_skew  # about 3,000 output tokens each


def test_least_outstanding_ties_go_to_the_lowest_index():
    w = {"arrival": {"kind": "closed", "concurrency": 1}, "requests": 5, "prompt_tokens": 16, "output_tokens": 2}
    result = simulate(_scenario(w, parallelism={"dp": 2}, scheduler={"router": "least-outstanding"}))
    assert {r.replica for r in result.requests} == {0}  # one at a time: both idle, replica 0 wins


# ---- Little's law -------------------------------------------------------------------------------

def littles_law(records, warmup: int) -> tuple[float, float, float]:
    """(L, lambda, W) over [end of warm-up, last arrival]: L the time-average number of requests in
    the system (arrival <= t < finished), lambda the arrivals per second in the window, W the mean
    E2E of those arrivals."""
    recs = sorted(records, key=lambda r: r.arrival_s)
    t0, t1 = recs[warmup].arrival_s, recs[-1].arrival_s
    a = np.array([r.arrival_s for r in recs])
    c = np.array([r.finished_s for r in recs])
    area = np.clip(np.minimum(c, t1) - np.maximum(a, t0), 0.0, None).sum()
    inside = (a >= t0) & (a <= t1)
    return area / (t1 - t0), inside.sum() / (t1 - t0), float((c - a)[inside].mean())


def test_littles_law_holds_for_poisson_arrivals():
    """L = lambda W within 5%, averaged over 5 seeds, at moderate load (~6 requests in the system)."""
    rate, n, warmup = 100.0, 500, 50
    ratios, lambdas = [], []
    for seed in range(5):
        w = {"arrival": {"kind": "poisson", "rate": rate}, "requests": n, "warmup_requests": warmup,
             "prompt_tokens": {"dist": "uniform", "low": 32, "high": 512},
             "output_tokens": {"dist": "uniform", "low": 8, "high": 64}}
        result = simulate(_scenario(w, seed, hardware={"gpu": "h100-sxm", "gpus_per_node": 1}))
        assert len(result.requests) == n and result.summary()["requests"]["rejected"] == 0
        L, lam, W = littles_law(result.requests, warmup)
        assert L > 2.0  # requests do overlap: a real test of the law, not 0 = 0
        ratios.append(L / (lam * W))
        lambdas.append(lam)
    assert abs(np.mean(ratios) - 1.0) < 0.05, ratios
    # the measured arrival rate is the one asked for (Poisson count: standard error sqrt(count))
    count = (n - warmup) * len(lambdas)
    assert abs(np.mean(lambdas) - rate) < 4 * rate / math.sqrt(count)
