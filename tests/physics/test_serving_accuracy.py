"""Serving accuracy against BAT-01 (NVIDIA NIM 1.8 benchmark, published-measurements.yaml).

2x H100, fp8 Llama-3.3-70B (architecture of Llama-3.1-70B), tp2, 5,000 prompt / 500 output
tokens, closed-loop concurrency c. The serving issue's band: ITL and aggregate throughput each
within 25% at c = 1, 5, 25 and 50; the saturation near c = 100 appears and is explained.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simdecode import load_scenario, simulate

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "concurrency-sweep-llama-70b-fp8-2xh100.yaml"
# concurrency: (TTFT ms, ITL ms, aggregate output tok/s), BAT-01 series
BAT_01 = {1: (406.77, 18.58, 51.67), 5: (546.7, 21.83, 218.48), 25: (688.69, 38.75, 623.4),
          50: (834.51, 59.73, 814.37), 100: (7996.25, 92.91, 917.26)}


def run(c: int) -> dict:
    """Steady state at concurrency c: the c first requests sent over one request's lifetime (a
    simultaneous start keeps fixed-length requests in lock-step waves in a deterministic
    simulation), c + 1 of them as warm-up."""
    alone = simulate(load_scenario(SCENARIO, ["workload.arrival.concurrency=1", "workload.requests=1",
                                              "workload.warmup_requests=0"])).summary()["e2e_ms"]["mean"]
    overrides = [f"workload.arrival.concurrency={c}", f"workload.requests={4 * c + 4}",
                 f"workload.warmup_requests={c + 1}", f"workload.arrival.ramp_up={alone / 1e3:.4f} s"]
    return simulate(load_scenario(SCENARIO, overrides)).summary()


@pytest.mark.parametrize("c", [1, 5, 25, 50])
def test_itl_and_throughput_within_25_percent(c):
    _, itl, tput = BAT_01[c]
    s = run(c)
    assert s["tpot_ms"]["mean"] == pytest.approx(itl, rel=0.25)
    assert s["aggregate_tps"] == pytest.approx(tput, rel=0.25)


def test_dec11_time_to_first_token_of_a_5000_token_prompt():
    """DEC-11 (the c = 1 point of BAT-01): TTFT 406.77 ms, prefilling 5,000 tokens in fp8 on
    2x H100 (compute-bound: FP8 GEMMs at ~50% of peak, the TRT-LLM preset)."""
    assert run(1)["ttft_ms"]["mean"] == pytest.approx(BAT_01[1][0], rel=0.25)


def test_saturation_near_100_is_the_kv_cache():
    """Published: TTFT 0.83 s at c=50 jumps to 8.0 s at c=100 while ITL flattens (~93 ms):
    the server stops admitting. Simulated: TensorRT-LLM reserves prompt + outputs at admission
    and the KV cache holds ~92 requests of 5.5k tokens, so the rest queue."""
    at50, at100 = run(50), run(100)
    assert at100["ttft_ms"]["mean"] > 3 * at50["ttft_ms"]["mean"]
    assert at100["requests"]["preempted"] == 0  # reserve-at-admission queues, never evicts
    assert at100["kv_cache"]["capacity_tokens"] < 100 * (5000 + 500)
    assert at100["bottleneck"] == "kv-capacity"
    assert at100["tpot_ms"]["mean"] == pytest.approx(BAT_01[100][1], rel=0.25)
    assert at100["aggregate_tps"] > at50["aggregate_tps"]  # still rising a little, then flat
