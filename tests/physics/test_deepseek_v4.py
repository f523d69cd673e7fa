"""DeepSeek-V4's curated scenarios say what compressed attention buys (scenarios/deepseek-v4-*.yaml):
a long context costs a decoding request almost nothing, prefill of a long prompt is faster than
DeepSeek-V3.2's, and one H200 box is launch-bound far below the bandwidth bound Kog's projection
rests on. Each assertion could fail if the layer's cost model were wrong (e.g. reading the whole
context in every layer, as plain attention would)."""

from __future__ import annotations

from pathlib import Path

from simdecode import load_scenario, simulate

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
PRO, FLASH = "deepseek-v4-pro-8xb200.yaml", "deepseek-v4-flash-8xh200.yaml"


def summary(name: str, *overrides: str) -> dict:
    return simulate(load_scenario(SCENARIOS / name, list(overrides))).summary()


def test_a_128k_context_barely_slows_v4_pro_decoding() -> None:
    """At 131k tokens a decode step reads 512 entries per compressed-sparse layer and c/128 in the
    others: within 3% of the speed at a 1k context."""
    long = summary(PRO)["per_request_tps"]["mean"]
    short = summary(PRO, "workload.prompt_tokens=1024")["per_request_tps"]["mean"]
    assert abs(long / short - 1) < 0.03


def test_v4_pro_prefills_128k_tokens_faster_than_v3_2() -> None:
    """V3.2's indexer scores every cached token in all 61 layers; V4-Pro's scores one pooled key per
    4 tokens in 30 layers: its time to first token is less than half V3.2's on the same GPUs."""
    v4 = summary(PRO)["ttft_ms"]["mean"]
    v32 = summary(PRO, "model=deepseek-v3.2")["ttft_ms"]["mean"]
    assert v4 < 0.5 * v32


def test_flash_on_h200_is_launch_bound_below_its_roofline() -> None:
    """Kog's >1,000 tok/s is under the bandwidth bound (the roofline, ~1,960 tok/s), but a vLLM-like
    engine's 1,500 kernels per token hold one request to ~150 tok/s."""
    s = summary(FLASH)
    assert s["bottleneck"] == "launch-overhead"
    assert s["per_request_tps"]["mean"] < 250 < 1000 < s["roofline_tps"]
