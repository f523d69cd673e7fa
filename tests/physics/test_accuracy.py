"""Accuracy against published measurements (the published-measurements table, docs/assumptions.md).

gpt-fast's README table (DEC-01..DEC-04): batch-1 decode of Llama-2 in bf16 on 8x A100-80GB SXM
power-limited to 330 W, torch.compile with CUDA graphs, ENABLE_INTRA_NODE_COMM=1, prompt 5 tokens,
200 new tokens (gpt-fast's generate.py default). The runtime preset ``gpt-fast`` and the
``a100-80gb`` / ``nvlink3`` presets are the model's defaults; nothing here is fitted per case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simdecode import load_scenario, simulate

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
TOLERANCE = 0.15  # the core issue's acceptance band

# (case id, scenario file, tp, published tokens/s per request)
GPT_FAST_A100 = [
    ("DEC-01", "llama-2-7b-a100-tp-sweep.yaml", 1, 104.9),
    ("DEC-02", "llama-2-7b-a100-tp-sweep.yaml", 2, 168.84),
    ("DEC-02", "llama-2-7b-a100-tp-sweep.yaml", 4, 254.02),
    ("DEC-02", "llama-2-7b-a100-tp-sweep.yaml", 8, 328.43),
    ("DEC-03", "llama-2-70b-a100-tp8.yaml", 2, 21.32),
    ("DEC-04", "llama-2-70b-a100-tp8.yaml", 4, 38.01),
    ("DEC-04", "llama-2-70b-a100-tp8.yaml", 8, 62.5),
]


@pytest.mark.parametrize("case, scenario, tp, published_tps", GPT_FAST_A100,
                         ids=[f"{c}-tp{tp}-{s.split('-a100')[0]}" for c, s, tp, _ in GPT_FAST_A100])
def test_gpt_fast_batch1_decode_within_15_percent(case, scenario, tp, published_tps):
    s = load_scenario(SCENARIOS / scenario, [f"parallelism.tp={tp}"])
    assert s.runtime.name == "gpt-fast" and s.hardware.gpu.power_limit_W == 330.0
    assert (s.workload.prompt_tokens, s.workload.output_tokens) == (5, 200)
    predicted = simulate(s).summary()["per_request_tps"]["mean"]
    error = predicted / published_tps - 1
    assert abs(error) <= TOLERANCE, f"{case} tp{tp}: predicted {predicted:.1f} tok/s vs published {published_tps}"


# DEC-04's quantised points (gpt-fast README, Llama-2-70B tp 8): weight-only int8 and int4 with
# groups of 32 (gpt-fast's int4 g32 layout: a bf16 scale and zero per 32 weights). The bands:
# quantised points within 15%, the bf16 points of the same table within 10%.
QUANTISED = [("bf16", [], 62.5, 0.10), ("int8", [], 80.44, 0.15), ("int4", ["precision.group_size=32"], 90.77, 0.15)]


@pytest.mark.parametrize("weights, extra, published_tps, tolerance", QUANTISED, ids=[q[0] for q in QUANTISED])
def test_gpt_fast_weight_only_quantisation_dec04(weights, extra, published_tps, tolerance):
    s = load_scenario(SCENARIOS / "llama-2-70b-a100-tp8.yaml",
                      ["parallelism.tp=8", f"precision.weights={weights}", *extra])
    predicted = simulate(s).summary()["per_request_tps"]["mean"]
    assert predicted == pytest.approx(published_tps, rel=tolerance), f"{weights}: {predicted:.1f} tok/s"


def test_quantisation_gains_less_than_the_bytes_because_dequant_and_fixed_costs_remain():
    """DEC-04 notes: int8 and int4 give 1.29x and 1.45x over bf16 at tp 8, not 2x and 4x: fixed
    per-layer costs stay and gpt-fast's kernels dequantise after loading (efficiency.py)."""
    def tps(weights):
        s = load_scenario(SCENARIOS / "llama-2-70b-a100-tp8.yaml",
                          ["parallelism.tp=8", f"precision.weights={weights}", "precision.group_size=32"])
        return simulate(s).summary()["per_request_tps"]["mean"]

    bf16, int8, int4 = tps("bf16"), tps("int8"), tps("int4")
    assert int8 / bf16 == pytest.approx(80.44 / 62.5, rel=0.15)
    assert int4 / bf16 == pytest.approx(90.77 / 62.5, rel=0.15)
    assert int4 / bf16 < 2


def test_tp_scaling_is_sublinear_like_the_measurements():
    """DEC-02: 8 GPUs give 3.13x, not 8x; the model must bend the same way (within 15%)."""
    runs = {tp: simulate(load_scenario(SCENARIOS / "llama-2-7b-a100-tp-sweep.yaml", [f"parallelism.tp={tp}"]))
            .summary()["per_request_tps"]["mean"] for tp in (1, 8)}
    speedup = runs[8] / runs[1]
    assert speedup == pytest.approx(328.43 / 104.9, rel=TOLERANCE)
    assert speedup < 4
