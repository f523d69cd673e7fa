"""NVFP4 GEMMs at prefill reach less of the FP4 peak than FP8 GEMMs of the FP8 peak (costmodel/blackwell_gemm.py).

Sources (B200, vLLM's kernel benchmarks, GEMM alone): PR #19566, bench_fp8_gemm, Llama-3.1-8B QKV
(N 6144, K 4096) at 16,384 rows: fp8-tensor-w-tensor-a-noquant 2,545 TFLOP/s; PR #20578,
bench_nvfp4_gemm, the same shape and rows: nvfp4-noquant 3,904 TFLOP/s. Dense peaks: 4,500 and 9,000.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel import blackwell_gemm as bg
from simdecode.costmodel import modules
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.scenario.schema import Scenario


def dep(weights: str, gpu: str = "b200", runtime: str = "trt-llm", tp: int = 8, **gpu_keys) -> Deployment:
    hardware = {"gpu": {"preset": gpu, **gpu_keys} if gpu_keys else gpu, "gpus_per_node": 8}
    return Deployment.from_scenario(Scenario.model_validate({
        "model": "llama-3.1-70b", "hardware": hardware, "parallelism": {"tp": tp},
        "runtime": runtime, "precision": {"weights": weights, "kv_cache": "fp8"}}))


def test_the_ratio_by_hand():
    """2545 / 4500 = 0.5656 and 3904 / 9000 = 0.4338: NVFP4 holds 0.767 of the FP8 share, so an NVFP4
    prefill GEMM runs 2 x 0.767 = 1.53x an FP8 one on the same B200."""
    assert bg.B200_FP8_SHARE == pytest.approx(0.5656, abs=1e-4)
    assert bg.B200_NVFP4_SHARE == pytest.approx(0.4338, abs=1e-4)
    assert bg.NVFP4_SHARE_OF_FP8_SHARE == pytest.approx(0.7669, abs=1e-4)
    assert 2 * bg.NVFP4_SHARE_OF_FP8_SHARE == pytest.approx(1.534, abs=1e-3)


def test_rate_of_a_b200_nvfp4_gemm_under_trt_llm_by_hand():
    """9.0e15 x 0.5 x 0.7669 = 3.451e15 FLOP/s; fp8 keeps 4.5e15 x 0.5 = 2.25e15."""
    assert bg.large_gemm_flops_per_s(9.0e15, 0.5, 10.0, "fp4") == pytest.approx(3.451e15, rel=1e-3)
    assert bg.large_gemm_flops_per_s(4.5e15, 0.5, 10.0, "fp8") == pytest.approx(2.25e15)


def test_keyed_by_compute_capability_and_math_dtype_not_by_preset():
    assert bg.rate_factor(10.0, "fp4") == bg.rate_factor(10.3, "fp4") == bg.NVFP4_SHARE_OF_FP8_SHARE
    for cc, dtype in ((10.0, "fp8"), (10.0, "bf16"), (9.0, "fp8"), (12.0, "fp4"), (None, "fp4"), (8.0, "bf16")):
        assert bg.rate_factor(cc, dtype) == 1.0


def test_the_mlp_part_of_a_prefill_step_on_b200():
    """Llama-3.1-70B at tp 8, an 8,192-token prefill chunk: NVFP4 MLP math at 9e15 x 0.5 x 0.767, FP8 at
    4.5e15 x 0.5; so the NVFP4 MLP's math takes 2.25 / 3.451 = 0.652 of the FP8 one's, not 0.5."""
    shape = BatchShape.mixed([(0, 8192, True)])
    fp4 = [p for p in modules.mlp_parts(dep("fp4"), 0, shape) if p.term == "mlp"]
    fp8 = [p for p in modules.mlp_parts(dep("fp8"), 0, shape) if p.term == "mlp"]
    assert [p.flops_per_s for p in fp4] == [pytest.approx(3.451e15, rel=1e-3)]
    assert [p.flops_per_s for p in fp8] == [pytest.approx(2.25e15)]
    assert fp4[0].peak_flops_per_s == pytest.approx(9.0e15)
    t4, t8 = fp4[0].flops / fp4[0].flops_per_s, fp8[0].flops / fp8[0].flops_per_s
    assert t4 / t8 == pytest.approx(0.652, abs=1e-3)


def test_other_gpus_and_weight_only_fp4_are_unchanged():
    """H200 has no FP4 tensor cores (Marlin, bf16 math), an sm120 part described with B200 numbers is not
    the measured kernel family: neither takes the factor."""
    shape = BatchShape.mixed([(0, 4096, True)])
    h200 = modules.mlp_parts(dep("fp4", gpu="h200", runtime="vllm"), 0, shape)
    assert h200[0].flops_per_s == pytest.approx(989e12 * 0.55 * (2 / 3), rel=1e-3)  # Marlin's mma.sync share
    sm120 = modules.mlp_parts(dep("fp4", compute_capability=12.0), 0, shape)
    assert sm120[0].flops_per_s == pytest.approx(9.0e15 * 0.5)


@given(peak=st.floats(1e12, 1e17), efficiency=st.floats(0.0, 1.0),
       cc=st.sampled_from([None, 8.0, 8.9, 9.0, 10.0, 10.3, 12.0]),
       dtype=st.sampled_from(["bf16", "fp16", "fp8", "fp4", "int8"]))
def test_the_rate_never_exceeds_the_dtype_peak_nor_the_runtime_share(peak, efficiency, cc, dtype):
    rate = bg.large_gemm_flops_per_s(peak, efficiency, cc, dtype)
    assert 0.0 <= rate <= peak
    assert rate <= peak * efficiency * (1 + 1e-12)


def test_the_deployment_rates_explain_shows_carry_it_too():
    """DeviceRates (explain's setup line) at the MLP's dtype: B200 NVFP4 under TensorRT-LLM 3.451e15 FLOP/s."""
    assert dep("fp4").rates.flops_per_s == pytest.approx(3.451e15, rel=1e-3)
    assert dep("fp8").rates.flops_per_s == pytest.approx(2.25e15)
    assert dep("fp4").rates.peak_flops_per_s == pytest.approx(9.0e15)
