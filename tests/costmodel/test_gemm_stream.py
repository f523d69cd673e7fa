"""Dense weight GEMMs stream at their own measured share, the KV cache at the runtime's (costmodel/gemm_stream.py).

Sources: vLLM PR #24700 (fused-MoE Triton kernel on H100: 1.73 us per active 4.7 MB fp8 expert);
deepseek-ai/DeepGEMM PR #287 (fp8 grouped GEMM on H200, n 4096, k 7168, 16 rows a group: 8 groups
in 68 us, 16 groups in 127 us); TensorRT-LLM ``_torch/modules/linear.py`` (fp8 per-tensor linear
layers call cuBLASLt's ``cublas_scaled_mm`` on Hopper).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel import gemm_stream, modules
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.efficiency import Part
from simdecode.costmodel.plan import build_stage_plan
from simdecode.scenario.schema import Scenario


def dep(runtime, weights: str = "fp8", tp: int = 1, gpu: str = "h200", model: str = "llama-3.1-70b") -> Deployment:
    return Deployment.from_scenario(Scenario.model_validate({
        "model": model, "hardware": {"gpu": gpu}, "parallelism": {"tp": tp}, "runtime": runtime,
        "precision": {"weights": weights, "embeddings": "bf16", "kv_cache": "fp8"}}))


def test_the_two_slopes_by_hand() -> None:
    # DeepGEMM on H200: 8 more groups of 4096 x 7168 fp8 bytes (234,881,024 B) in 127 - 68 = 59 us
    # = 3.981 TB/s of 4.8; vLLM fused_moe on H100: 4.7 MB in 1.73 us = 2.717 TB/s of 3.35
    h200 = gemm_stream.slope_share(8 * 4096 * 7168, 127e-6 - 68e-6, 4.8e12)
    h100 = gemm_stream.slope_share(4.7e6, 1.73e-6, 3.35e12)
    assert h200 == pytest.approx(0.8294, abs=1e-4)
    assert h100 == pytest.approx(0.8110, abs=1e-4)
    assert gemm_stream.HOPPER_FP8_GEMM_STREAM_SHARE == pytest.approx((h200 + h100) / 2, abs=0.005)


def test_vllm_states_it_and_only_hopper_takes_it() -> None:
    # vLLM's preset states the Hopper figure, and so does trtllm-serve's (TensorRT-LLM's PyTorch backend,
    # which InferenceX's launch keys select); the trt-llm preset (NIM's C++ executor, DEC-11) states none
    from simdecode.validate.inferencex_launch import launch_keys

    assert dep("vllm").runtime.gemm_efficiency == gemm_stream.HOPPER_FP8_GEMM_STREAM_SHARE
    assert dep("trtllm-serve").runtime.gemm_efficiency == gemm_stream.HOPPER_FP8_GEMM_STREAM_SHARE
    assert dep("trt-llm").runtime.gemm_efficiency is None
    assert launch_keys("llama-3.1-70b", "h200", "trt-llm", "8k1k", 1, 4)["runtime"] == {"preset": "trtllm-serve"}
    assert dep("default").runtime.gemm_efficiency is None
    assert gemm_stream.gemm_efficiency(dep("vllm"), "mlp") == 0.82                  # H200: 9.0
    assert gemm_stream.gemm_efficiency(dep("vllm", gpu="h100-sxm"), "mlp") == 0.82  # H100: 9.0
    assert gemm_stream.gemm_efficiency(dep("vllm", gpu="b200"), "mlp") is None      # 10.0: not measured
    assert gemm_stream.gemm_efficiency(dep("vllm", weights="bf16", gpu="a100-80gb"), "mlp") is None


def test_llama_70b_layer_on_h200_by_hand() -> None:
    # one Llama-3.1-70B layer at tp 1, fp8 weights with one fp32 scale per 128 x 128 block (1 + 1/4096 B
    # a weight, costmodel/precision.py): attention q, o 8192 x 8192 and k, v 8192 x 1024 = 150,994,944
    # weights = 151,031,808 B; MLP 3 x 8192 x 28672 = 704,643,072 weights = 704,815,104 B; both at
    # 0.82 x 4.8 TB/s = 3.936 TB/s: 38.37 us and 179.1 us. One sequence at 1,000 tokens of context reads (1000 + 1) tokens x 8 KV
    # heads x 128 x 2 (K and V) x 1 B (fp8) = 2,050,048 B of KV at 0.7 x 4.8 TB/s = 0.610 us.
    d = dep({"preset": "trt-llm", "gemm_efficiency": 0.82})   # as InferenceX launched trtllm-serve
    shape = BatchShape.decode([1000])
    attn = modules.attention_parts(d, 0, shape)
    weights, kv = attn[0], attn[1]
    assert weights.hbm_bytes == pytest.approx(151_031_808)
    assert weights.memory_efficiency == 0.82
    assert kv.hbm_bytes == pytest.approx(1001 * 8 * 128 * 2)
    assert kv.memory_efficiency is None and kv.kernels == 0 and kv.dequant_s == 0
    assert weights.kernels == modules._half(d)  # every kernel of the module stays with its GEMMs
    mlp = modules.mlp_parts(d, 0, shape)[0]
    assert mlp.hbm_bytes == pytest.approx(704_815_104) and mlp.memory_efficiency == 0.82
    plan = build_stage_plan(d, 0, shape)
    busy = dict((t, b) for t, b, _ in plan.costs["mlp"].terms)["mlp"]
    assert busy == pytest.approx(704_815_104 / (0.82 * 4.8e12), rel=1e-9)
    assert busy == pytest.approx(179.07e-6, rel=1e-3)
    attn_busy = dict((t, b) for t, b, _ in plan.costs["attn"].terms)["attention"]
    assert attn_busy == pytest.approx(151_031_808 / (0.82 * 4.8e12) + 2_050_048 / (0.7 * 4.8e12), rel=1e-9)


def test_without_the_figure_nothing_changes() -> None:
    # the default runtime states no gemm_efficiency: one attention part, bytes at memory_efficiency
    d = dep("default")
    attn = modules.attention_parts(d, 0, BatchShape.decode([1000]))
    assert attn[0].memory_efficiency is None
    assert attn[0].hbm_bytes == pytest.approx(151_031_808 + 1001 * 8 * 128 * 2)


def test_weight_only_dequantised_after_the_load_keeps_the_runtime_share() -> None:
    # int8 weights with bf16 activations are dequantised inside the GEMM; a runtime whose kernels do
    # it after the load (dequant_overlap false, as gpt-fast's) keeps memory_efficiency for them
    serial = dep({"preset": "vllm", "dequant_overlap": False}, weights="int8")
    assert gemm_stream.gemm_efficiency(serial, "mlp") is None
    assert gemm_stream.gemm_efficiency(dep("vllm", weights="int8"), "mlp") == 0.82


@given(total=st.floats(1e3, 1e10), share=st.floats(0.0, 1.0), flops=st.floats(0.0, 1e12),
       kernels=st.floats(0.0, 20.0))
def test_split_conserves_bytes_flops_and_kernels(total: float, share: float, flops: float, kernels: float) -> None:
    d = dep("vllm")
    part = Part("attention", total, flops, kernels, 1e15, 2e15, dequant_s=1e-6)
    out = gemm_stream.split_weights(d, part, total * share, flops * share, "attention")
    assert sum(p.hbm_bytes for p in out) == pytest.approx(total)
    assert sum(p.flops for p in out) == pytest.approx(flops, abs=1e-3)
    assert sum(p.kernels for p in out) == kernels
    assert sum(p.dequant_s for p in out) == 1e-6
    assert out[0].memory_efficiency == 0.82 and all(p.memory_efficiency is None for p in out[1:])
