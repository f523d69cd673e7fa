"""The NVFP4 GEMM's serial k-loop at decode (costmodel/fp4_gemm.py).

Source: FlashInfer PR #2540 ("cute dsl mmfp4 for blackwell", SM100), the CUTLASS backend of mm_fp4
(TensorRT-LLM's nvfp4_gemm kernel) with the 128x4 scale layout, kernel times at M = 1 and 4.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel import efficiency as eff
from simdecode.costmodel import fp4_gemm, modules
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.scenario.schema import Scenario

#: (M, N, K, CUTLASS kernel seconds) as FlashInfer PR #2540 lists them
PR2540_CUTLASS = [(1, 512, 7168, 9.312e-6), (1, 896, 1024, 4.720e-6), (1, 896, 5120, 7.888e-6),
                  (1, 1024, 7168, 9.600e-6), (1, 1280, 8192, 10.448e-6), (1, 1792, 5120, 8.416e-6),
                  (1, 2560, 8192, 11.440e-6), (4, 4608, 7168, 11.408e-6), (4, 7168, 4608, 9.824e-6),
                  (4, 9216, 7168, 13.728e-6)]


def dep(tp: int = 8, weights: str = "fp4", gpu: str = "b200", runtime: str = "trt-llm") -> Deployment:
    return Deployment.from_scenario(Scenario.model_validate({
        "model": "llama-3.1-70b", "hardware": {"gpu": gpu, "gpus_per_node": 8}, "parallelism": {"tp": tp},
        "runtime": runtime, "precision": {"weights": weights, "kv_cache": "fp8"}}))


def test_the_constant_is_the_least_squares_fit_of_the_published_kernel_times():
    """t = t0 + tau_K K + bytes / BW over the ten shapes: t0 4.0 us, tau_K 0.705 ns, BW 7.8 TB/s, each
    shape within 2% (bytes: N K x 0.5625, NVFP4 values with their e4m3 scales)."""
    a = np.array([[1.0, k, n * k * 0.5625] for _, n, k, _ in PR2540_CUTLASS])
    t = np.array([row[3] for row in PR2540_CUTLASS])
    (t0, tau, inv_bw), *_ = np.linalg.lstsq(a, t, rcond=None)
    assert t0 == pytest.approx(4.0e-6, abs=0.1e-6)
    assert tau == pytest.approx(fp4_gemm.K_LATENCY_S_PER_VALUE, rel=0.01)
    assert 1 / inv_bw == pytest.approx(7.8e12, rel=0.02)
    assert np.max(np.abs(a @ [t0, tau, inv_bw] / t - 1)) < 0.02


def test_k_loop_of_llama_70b_layers_hand_computed():
    """Attention at tp 8: QKV K = 8192, O K = 64 heads x 128 / 8 = 1024 -> 0.705 ns x 9216 = 6.497 us.
    MLP at tp 1: gate+up K = 8192, down K = 28672 -> 0.705 ns x 36864 = 25.99 us."""
    assert fp4_gemm.k_loop_seconds(8192 + 1024, 4) == pytest.approx(6.497e-6, rel=1e-3)
    assert fp4_gemm.k_loop_seconds(8192 + 28672, 128) == pytest.approx(25.99e-6, rel=1e-3)
    assert fp4_gemm.k_loop_seconds(8192, 129) == 0.0  # past one 128-row M tile: not charged
    assert fp4_gemm.k_loop_seconds(8192, 0) == 0.0


@given(st.floats(1, 1e6), st.integers(1, 128), st.integers(1, 128))
def test_k_loop_is_independent_of_the_rows_within_one_tile(k, rows_a, rows_b):
    assert fp4_gemm.k_loop_seconds(k, rows_a) == fp4_gemm.k_loop_seconds(k, rows_b) > 0


def test_modules_charge_it_only_for_nvfp4_on_fp4_tensor_cores():
    shape = BatchShape.decode([4000] * 4)
    attn = [p for p in modules.attention_parts(dep(8), 0, shape) if p.term == fp4_gemm.TERM]
    assert [p.serial_s for p in attn] == [pytest.approx(0.705e-9 * (8192 + 1024))]
    mlp = [p for p in modules.mlp_parts(dep(8), 0, shape) if p.term == fp4_gemm.TERM]
    assert [p.serial_s for p in mlp] == [pytest.approx(0.705e-9 * (8192 + 28672 / 8))]
    assert all(p.hbm_bytes == p.flops == p.kernels == 0 for p in attn + mlp)  # those stay in the module's part
    for other in (dep(8, "fp8"), dep(8, "bf16"), dep(8, "fp4", gpu="h200", runtime="vllm"),
                  dep(1, "fp4", gpu="rtx-pro-6000", runtime="vllm")):  # sm120: other kernels, not measured
        assert all(p.serial_s == 0.0 for p in modules.attention_parts(other, 0, shape) + modules.mlp_parts(other, 0, shape))


def test_serial_latency_adds_to_the_stream_and_the_launches():
    part = eff.Part("mlp", 10e6, 0.0, 2, 1e15, 1e15, serial_s=5e-6)
    busy, launch = eff.part_seconds(part, 5e12, 4e-6)
    assert busy == pytest.approx(2e-6 + 5e-6) and launch == pytest.approx(8e-6)
    assert eff.ideal_seconds(part, 5e12) == pytest.approx(2e-6)  # the roofline bound ignores it


def test_it_follows_the_compute_capability_not_the_preset_name():
    """The measured kernels are sm100/sm103's (B200/GB200 10.0, B300/GB300 10.3): a GPU described with
    another compute capability (an sm120 part built from the B200's figures) is not charged."""
    shape = BatchShape.decode([4000] * 4)

    def k_loop(gpu) -> float:
        return sum(p.serial_s for p in modules.attention_parts(dep(8, gpu=gpu), 0, shape) if p.term == fp4_gemm.TERM)

    assert k_loop("b300") == k_loop("gb200") == pytest.approx(0.705e-9 * (8192 + 1024))
    assert k_loop({"preset": "b200", "compute_capability": 12.0}) == 0.0
