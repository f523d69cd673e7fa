"""Precision per module (costmodel/precision.py): block-scale bytes, which tensor cores run the math,
how a scenario's keys, the short form and a model's native precision combine.

Sources: OCP Microscaling spec v1.0 (MXFP4: 32 e2m1 values per e8m0 scale), NVIDIA NVFP4 (16 e2m1
values per e4m3 scale), DeepSeek-V3 config.json (fp8 e4m3, one fp32 scale per 128 x 128 block),
gpt-fast's int4 layout (a bf16 scale and a bf16 zero per group of 32), TensorRT-LLM's DeepSeek-R1
recipe (attention bf16, FFNs NVFP4), gpt-oss config.json (only the experts in MXFP4).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel import precision
from simdecode.costmodel.deployment import Deployment
from simdecode.presets import preset
from simdecode.scenario.hardware import GpuSpec
from simdecode.scenario.schema import PrecisionSpec, Scenario


def gpu(name: str) -> GpuSpec:
    return GpuSpec.model_validate(preset("gpus", name))


def test_block_scale_bytes_by_hand() -> None:
    assert precision.weight_bytes_per_value("bf16") == 2.0
    assert precision.weight_bytes_per_value("fp8") == 1 + 4 / 16384          # 1.000244 B
    assert precision.weight_bytes_per_value("nvfp4") == 0.5 + 1 / 16 == 0.5625
    assert precision.weight_bytes_per_value("fp4") == 0.5625                  # fp4 means NVFP4
    assert precision.weight_bytes_per_value("mxfp4") == 0.5 + 1 / 32 == 0.53125
    assert precision.weight_bytes_per_value("int4", 32) == 0.5 + 4 / 32 == 0.625
    assert precision.weight_bytes_per_value("int4", 128) == 0.53125
    assert precision.weight_bytes_per_value("int8") == 1.0                    # per-channel scales: ~0


@pytest.mark.parametrize("gpu_name, weights, math, weight_only", [
    ("b200", "nvfp4", "fp4", False),      # Blackwell has fp4 tensor cores: W4A4
    ("b200", "mxfp4", "fp4", False),
    ("h200", "mxfp4", "bf16", True),      # Hopper has none: MXFP4 is dequantised to bf16 (W4A16)
    ("h100-sxm", "fp8", "fp8", False),    # W8A8 on Hopper
    ("a100-80gb", "fp8", "bf16", True),   # Ampere: fp8 weights dequantised (Marlin fp8)
    ("a100-80gb", "int8", "bf16", True),  # weight-only int8 (gpt-fast)
    ("h100-sxm", "int4", "bf16", True),
    ("h100-sxm", "bf16", "bf16", False),
])
def test_math_dtype_needs_tensor_cores_for_both_operands(gpu_name, weights, math, weight_only) -> None:
    assert precision.math_dtype(gpu(gpu_name), weights, "bf16") == math
    assert precision.weight_only(gpu(gpu_name), weights, "bf16") is weight_only


def test_short_form_sets_every_module_and_module_keys_win() -> None:
    short = precision.resolve(PrecisionSpec(weights="fp8"))
    assert (short.attention, short.mlp, short.experts, short.embeddings) == ("fp8",) * 4
    mixed = precision.resolve(PrecisionSpec(weights="nvfp4", attention="bf16", embeddings="bf16"))
    assert (mixed.attention, mixed.mlp, mixed.experts, mixed.embeddings) == ("bf16", "nvfp4", "nvfp4", "bf16")


def test_native_precision_applies_where_the_scenario_is_silent() -> None:
    native = {"weights": "bf16", "experts": "mxfp4"}                         # gpt-oss checkpoint
    silent = precision.resolve(PrecisionSpec(), native)
    assert (silent.attention, silent.experts, silent.embeddings) == ("bf16", "mxfp4", "bf16")
    # the short form overrides the checkpoint everywhere (the user asked for it)
    assert precision.resolve(PrecisionSpec(weights="fp8"), native).experts == "fp8"
    # a module key overrides only its module
    assert precision.resolve(PrecisionSpec(attention="fp8"), native).as_dict()["experts"] == "mxfp4"


@given(default=st.sampled_from(["bf16", "fp8", "nvfp4", "int4"]),
       module=st.sampled_from(list(precision.MODULES)), own=st.sampled_from(["bf16", "fp8", "mxfp4"]))
def test_a_module_key_changes_only_that_module(default: str, module: str, own: str) -> None:
    base = precision.resolve(PrecisionSpec(weights=default))
    changed = precision.resolve(PrecisionSpec(weights=default, **{module: own}))
    for m in precision.MODULES:
        assert getattr(changed, m) == (own if m == module else getattr(base, m))


@pytest.mark.parametrize("config, expected", [
    ({"quant_method": "fp8", "weight_block_size": [128, 128]}, {"weights": "fp8", "embeddings": "bf16"}),
    ({"quant_method": "mxfp4", "modules_to_not_convert": ["model.layers.*.self_attn"]},
     {"weights": "bf16", "experts": "mxfp4"}),
    ({"quant_method": "modelopt", "quant_algo": "NVFP4"}, {"weights": "bf16", "mlp": "nvfp4", "experts": "nvfp4"}),
    ({"quant_method": "awq", "bits": 4, "group_size": 128}, {"weights": "int4", "embeddings": "bf16"}),
    ({"quant_method": "bitsandbytes"}, None),
])
def test_native_precision_from_hf_quantization_config(config, expected) -> None:
    assert precision.native_from_hf(config) == expected


def test_hf_config_quantization_config_becomes_native_precision(tmp_path) -> None:
    cfg = dict(preset("models", "gpt-oss-120b"))
    cfg.pop("native_precision")
    cfg["quantization_config"] = {"quant_method": "mxfp4"}
    import json

    (tmp_path / "gpt-oss").mkdir()
    (tmp_path / "gpt-oss" / "config.json").write_text(json.dumps(cfg))
    s = Scenario.model_validate({"model": {"hf_config": "gpt-oss"}, "hardware": {"gpu": "h200"},
                                 "parallelism": {"tp": 2}}, context={"base_dir": str(tmp_path)})
    dep = Deployment.from_scenario(s)
    assert dep.precision.experts == "mxfp4" and dep.precision.attention == "bf16"


def test_deepseek_r1_nvfp4_recipe_bytes_per_gpu() -> None:
    # TensorRT-LLM's DeepSeek-R1 recipe on 8 x B200: attention and embeddings bf16, FFNs NVFP4.
    # One MLA block: q_a 7168*1536 + q_b 1536*128*192 + kv_a 7168*576 + kv_b 512*128*256
    # + o 128*128*7168 = 187,105,280 params.
    # Per GPU: 61 attention blocks at 36.6M params each (replicated q_a, kv_a + 1/8 of the rest) in
    # bf16, 3 dense MLPs of 3 * 7168 * 18432 / 8 and 58 x (256 + 1) experts of 44,040,192 / 8 at
    # 0.5625 B, 58 bf16 routers 7168 * 256, the vocab-split embedding and head 129280 * 7168 / 8 each.
    s = Scenario.model_validate({"model": "deepseek-v3", "hardware": {"gpu": "b200"}, "parallelism": {"tp": 8},
                                 "precision": {"weights": "nvfp4", "attention": "bf16", "embeddings": "bf16"}})
    dep = Deployment.from_scenario(s)
    attn = dep.attention_params_per_gpu()
    assert attn == pytest.approx(7168 * (1536 + 576) + (187_105_280 - 7168 * 2112) / 8)
    expected = (61 * attn * 2 + 3 * 3 * 7168 * 18432 / 8 * 0.5625 + 58 * 257 * 44_040_192 / 8 * 0.5625
                + 58 * 7168 * 256 * 2 + 2 * 129280 * 7168 / 8 * 2)
    assert dep.weight_bytes_per_gpu(0) == pytest.approx(expected, rel=1e-12)   # ~51.4 GB


def test_block_scaled_fp8_is_the_checkpoints_own_fp8() -> None:
    # DeepSeek-V3 ships fp8 with 128 x 128 blocks (embeddings and head bf16): every linear module is
    # block-scaled; an fp8 copy of a bf16 checkpoint (weights: fp8 on Llama) is per-tensor: none is
    deepseek = {"weights": "fp8", "embeddings": "bf16"}
    assert precision.resolve(PrecisionSpec(), deepseek).block_scaled == ("attention", "mlp", "experts")
    assert precision.resolve(PrecisionSpec(weights="fp8"), deepseek).block_scaled == ("attention", "mlp", "experts")
    assert precision.resolve(PrecisionSpec(weights="fp8"), {"weights": "bf16"}).block_scaled == ()
    # served in another dtype (nvfp4 FFNs, bf16 attention): nothing fp8 is left to block-scale
    assert precision.resolve(PrecisionSpec(weights="nvfp4", attention="bf16"), deepseek).block_scaled == ()
    assert precision.resolve(PrecisionSpec(attention="bf16"), deepseek).block_scaled == ("mlp", "experts")


@pytest.mark.parametrize("gpu_name, expected", [("h200", 3), ("b200", 3), ("a100-80gb", 0)])
def test_activation_quant_kernels_need_fp8_tensor_cores(gpu_name, expected) -> None:
    # W8A8 with 1 x 128 activation groups quantises each GEMM's input first (TRT-LLM
    # fp8_quantize_1x128, SGLang per_token_group_quant_fp8); an A100 has no fp8 tensor cores, so
    # there the fp8 weights are dequantised inside a W8A16 GEMM and nothing is quantised
    block = precision.resolve(PrecisionSpec(), {"weights": "fp8", "embeddings": "bf16"})
    assert precision.activation_quant_kernels(gpu(gpu_name), block, "attention", 3) == expected
    assert precision.activation_quant_kernels(gpu(gpu_name), block, "embeddings", 3) == 0
    per_tensor = precision.resolve(PrecisionSpec(weights="fp8"), {"weights": "bf16"})
    assert precision.activation_quant_kernels(gpu(gpu_name), per_tensor, "attention", 3) == 0
