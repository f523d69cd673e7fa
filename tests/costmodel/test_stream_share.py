"""A runtime's memory_efficiency carried across GPUs by their measured stream shares
(simdecode/costmodel/stream_share.py):

    eta(g) = eta * s(g) / s(calibrated_on), at most 1; eta where either share is unmeasured.

Shares: read-only stream bandwidth over the datasheet's (gpus.yaml comments; the module's table).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from simdecode.costmodel import gemm_stream, modules
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.roofline import DeviceRates
from simdecode.costmodel.stream_share import composed_efficiency, preset_share, weight_stream_efficiency
from simdecode.presets import preset
from simdecode.scenario.hardware import GpuSpec, RuntimeSpec
from simdecode.scenario.schema import Scenario


def gpu(name: str) -> GpuSpec:
    return GpuSpec.model_validate(preset("gpus", name))


def runtime(name: str, **overrides: object) -> RuntimeSpec:
    return RuntimeSpec.model_validate({**preset("runtimes", name), **overrides})


@pytest.mark.parametrize("name, measured_Bps, datasheet_Bps", [
    ("a100-80gb", 1.75e12, 2039e9),    # Azure ND A100 v4, BabelStream Dot
    ("h100-sxm", 3.18e12, 3.35e12),    # Azure ND H100 v5, Dot
    ("h200", 4.48e12, 4.8e12),         # Azure ND H200 v5, Dot
    ("mi300x", 3.87e12, 5.3e12),       # Azure ND MI300X v5, Dot
    ("rtx-3090", 856.31e9, 936.2e9),   # clpeak #104, float4
    ("rtx-4090", 921.32e9, 1008e9),    # clpeak #106, float16
    ("a100-40gb", 1490e9, 1555e9),     # gpu-benches gpu-stream read
    ("gb200", 7.35e12, 8.0e12),        # Azure ND GB200 v6 post
])
def test_preset_shares_are_the_cited_measurements(name: str, measured_Bps: float, datasheet_Bps: float) -> None:
    assert gpu(name).memory_bandwidth_Bps == pytest.approx(datasheet_Bps)
    assert gpu(name).stream_share == pytest.approx(measured_Bps / datasheet_Bps, abs=0.0006)


def test_gpt_fast_weights_on_an_rtx_3090_keep_their_share_of_the_stream() -> None:
    # 0.8 chosen on A100-80GB (s = 0.858); RTX 3090 s = 0.915: 0.8 x 0.915 / 0.858 = 0.85315,
    # 936.2 GB/s x 0.85315 = 798.7 GB/s for the weights; the KV cache and the rest stay at 0.8
    assert weight_stream_efficiency(gpu("rtx-3090"), runtime("gpt-fast")) == pytest.approx(0.85315, abs=1e-5)
    rates = DeviceRates.of(gpu("rtx-3090"), runtime("gpt-fast"), "bf16", "bf16")
    assert rates.bandwidth_Bps == pytest.approx(936.2e9 * 0.8)
    assert rates.peak_bandwidth_Bps * 0.85315 == pytest.approx(798.7e9, rel=1e-4)


def test_calibration_gpu_and_unmeasured_gpus_change_nothing() -> None:
    gpt_fast = runtime("gpt-fast")
    assert gpt_fast.calibrated_on == "a100-80gb" and preset_share("a100-80gb") == 0.858
    assert weight_stream_efficiency(gpu("a100-80gb"), gpt_fast) is None  # DEC-01..04 keep 0.8
    assert gpu("l40s").stream_share is None
    assert weight_stream_efficiency(gpu("l40s"), gpt_fast) is None
    assert weight_stream_efficiency(gpu("rtx-3090"), runtime("gpt-fast", calibrated_on="l40s")) is None


def test_runtimes_without_a_calibration_gpu_are_unchanged() -> None:
    # vLLM's 0.7 is a middle of published ranges, chosen on no one GPU
    assert runtime("vllm").calibrated_on is None
    assert weight_stream_efficiency(gpu("rtx-3090"), runtime("vllm")) is None


def test_the_composed_share_stops_at_the_whole_bandwidth() -> None:
    # 0.95 chosen where s = 0.858, on a board with s = 0.95: 0.95 x 0.95 / 0.858 = 1.052 -> 1
    assert composed_efficiency(0.95, 0.95, 0.858) == 1.0


def test_calibrated_on_must_name_a_gpu_preset() -> None:
    with pytest.raises(ValidationError, match="did you mean 'a100-80gb'"):
        runtime("gpt-fast", calibrated_on="a100-80")


@given(eta=st.floats(0.05, 1.0), s=st.floats(0.3, 1.0), s2=st.floats(0.3, 1.0), cal=st.floats(0.3, 1.0))
def test_composition_is_monotone_bounded_and_exact_at_home(eta: float, s: float, s2: float, cal: float) -> None:
    out = composed_efficiency(eta, s, cal)
    assert 0 < out <= 1.0
    assert composed_efficiency(eta, cal, cal) == eta
    if s <= s2:
        assert out <= composed_efficiency(eta, s2, cal)


def _dep(gpu_name: str, weights: str) -> Deployment:
    return Deployment.from_scenario(Scenario.model_validate({
        "model": "llama-2-7b", "hardware": {"gpu": gpu_name}, "runtime": "gpt-fast",
        "precision": {"weights": weights, "embeddings": "bf16", "kv_cache": "bf16"}}))


def test_only_the_weight_gemms_of_a_layer_take_the_board_share() -> None:
    # Llama-2-7B under gpt-fast on an RTX 3090: one layer's MLP, 3 x 4096 x 11008 bf16 weights =
    # 270,532,608 B at 0.85315 x 936.2 GB/s = 798.7 GB/s: 338.7 us (at 0.8: 361.2 us). The attention
    # block splits: its 4 x 4096^2 x 2 B = 134,217,728 B of projections at 798.7 GB/s, the KV cache at
    # 0.8 (the attention kernel's reads: stream_share.py)
    d = _dep("rtx-3090", "bf16")
    assert gemm_stream.gemm_efficiency(d, "mlp") == pytest.approx(0.85315, abs=1e-5)
    shape = BatchShape.decode([1000])
    mlp = [p for p in modules.mlp_parts(d, 0, shape) if p.term == "mlp"]
    assert len(mlp) == 1 and mlp[0].hbm_bytes == pytest.approx(270_532_608)
    assert mlp[0].hbm_bytes / (936.2e9 * mlp[0].memory_efficiency) == pytest.approx(338.7e-6, rel=1e-3)
    att = [p for p in modules.attention_parts(d, 0, shape) if p.term == "attention"]
    assert [p.memory_efficiency for p in att] == [pytest.approx(0.85315, abs=1e-5), None]  # weights, KV (None: 0.8)
    assert att[0].hbm_bytes == pytest.approx(134_217_728)


def test_weight_only_weights_dequantised_after_the_load_keep_the_runtime_share() -> None:
    assert gemm_stream.gemm_efficiency(_dep("rtx-3090", "int4"), "mlp") is None   # tinygemm: 0.8
    assert gemm_stream.gemm_efficiency(_dep("a100-80gb", "bf16"), "mlp") is None  # its own GPU: 0.8
