"""MLA attention in its two forms (costmodel/mla.py): absorbed in decode (FlashMLA, TRT-LLM's
genAttention, DeepSeek-V2 appendix), expanded in prefill (vLLM/SGLang MHA path for prefill chunks).

DeepSeek-V3 (config.json): r_kv 512, d_rope 64, d_nope 128, d_v 128, 128 heads.
"""

from __future__ import annotations

import pytest

from simdecode.costmodel import mla, modules
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.scenario.schema import Scenario


def deepseek(tp: int = 8) -> Deployment:
    return Deployment.from_scenario(Scenario.model_validate(
        {"model": "deepseek-v3", "hardware": {"gpu": "h200"}, "parallelism": {"tp": tp}}))


def test_per_pair_flops_by_hand() -> None:
    m = deepseek().model
    assert mla.absorbed_flops_per_pair(m) == 2 * (512 + 64) + 2 * 512 == 2176
    assert mla.expanded_flops_per_pair(m) == 2 * (128 + 64) + 2 * 128 == 640
    assert mla.decompress_flops_per_key(m) == 2 * 512 * (128 + 128) == 262_144
    assert 2176 / 640 == pytest.approx(3.4)       # the "3.4x too much attention work"


def test_prefill_chunk_is_costed_expanded_and_decode_absorbed() -> None:
    d = deepseek(tp=8)
    params = d.attention_params_per_gpu()
    # a 4,096-token prompt from scratch: 4096 * 4097 / 2 = 8,390,656 pairs on 16 heads per GPU
    prefill = BatchShape.mixed([(0, 4096, True)])
    assert prefill.prefill_attn_pairs == prefill.attn_pairs == 8_390_656
    flops = modules.attention(d, 0, prefill)[1]
    assert flops == pytest.approx(2 * params * 4096 + 16 * 640 * 8_390_656)
    # one decoding token after 4,096: 4,097 pairs, absorbed
    decode = BatchShape.decode([4096])
    assert decode.prefill_attn_pairs == 0
    assert modules.attention(d, 0, decode)[1] == pytest.approx(2 * params + 16 * 2176 * 4097)


def test_chunked_prefill_decompresses_the_cached_latent() -> None:
    # second chunk of 1,024 after 3,072 cached: 1024 * 3072 + 1024 * 1025 / 2 pairs, and the 3,072
    # cached latents are expanded to keys and values (2 * 512 * 256 FLOPs per head each)
    d = deepseek(tp=8)
    shape = BatchShape.mixed([(3072, 1024, True)])
    pairs = 1024 * 3072 + 1024 * 1025 / 2
    expected = 2 * d.attention_params_per_gpu() * 1024 + 16 * (640 * pairs + 262_144 * 3072)
    assert modules.attention(d, 0, shape)[1] == pytest.approx(expected)


def test_a_verify_step_uses_the_absorbed_kernels() -> None:
    # MTP verify: 2 positions per sequence, logits at both -> decode-style attention
    shape = BatchShape.mixed([(1000, 2, 2)])
    assert shape.prefill_attn_pairs == 0 and shape.attn_pairs == 2 * 1000 + 3


def test_long_prompt_attention_work_drops_by_the_form_ratio() -> None:
    # On a 32k prompt the attention scores dominate: expanded costs ~640/2176 of absorbed
    d = deepseek(tp=8)
    n = 32768
    pairs = n * (n + 1) / 2
    shape = BatchShape.mixed([(0, n, True)])
    scores = modules.attention(d, 0, shape)[1] - 2 * d.attention_params_per_gpu() * n
    assert scores == pytest.approx(16 * 640 * pairs)
    assert scores < 0.3 * 16 * 2176 * pairs


def _sglang_fp8(kv_cache: str) -> Deployment:
    return Deployment.from_scenario(Scenario.model_validate(
        {"model": "deepseek-v3", "hardware": {"gpu": "h200"}, "parallelism": {"tp": 8}, "runtime": "sglang",
         "precision": {"weights": "fp8", "kv_cache": kv_cache, "activations": "bf16"}}))


def test_prefill_scores_run_at_the_bf16_rate_on_hopper() -> None:
    # one 8,192-token prompt at tp 8: 8192 * 8193 / 2 = 33,558,528 pairs x 16 heads x 640 FLOPs = 343.6 GFLOP,
    # at 0.55 x 989.5 TFLOP/s (bf16: FlashAttention-3 on the expanded keys) = 631.6 us, not at 0.55 x 1,979 (fp8)
    shape = BatchShape.mixed([(0, 8192, True)])
    d = _sglang_fp8("bf16")
    wide = [p for p in modules.attention_parts(d, 3, shape) if p.term == "attention" and p.hbm_bytes == 0.0]
    assert len(wide) == 1
    assert wide[0].flops == pytest.approx(16 * 640 * 33_558_528)
    assert wide[0].flops / wide[0].flops_per_s == pytest.approx(343.6e9 / (0.55 * 989.5e12), rel=1e-3)
    # the FLOPs are moved, not added: the layer's total is the same as under an fp8 cache
    fp8 = _sglang_fp8("fp8")
    assert sum(p.flops for p in modules.attention_parts(fp8, 3, shape)) == pytest.approx(
        sum(p.flops for p in modules.attention_parts(d, 3, shape)))
    # on Hopper an fp8 cache changes nothing (no FP8 context MLA kernel): the same bf16 part
    wide8 = [p for p in modules.attention_parts(fp8, 3, shape) if p.term == "attention" and p.hbm_bytes == 0.0]
    assert len(wide8) == 1 and wide8[0].flops_per_s == pytest.approx(wide[0].flops_per_s)
    # on a B200 under an fp8 cache the scores keep the block's (fp8) rate: no part of their own
    b200 = Deployment.from_scenario(Scenario.model_validate(
        {"model": "deepseek-v3", "hardware": {"gpu": "b200"}, "parallelism": {"tp": 8}, "runtime": "sglang",
         "precision": {"weights": "fp8", "kv_cache": "fp8", "activations": "bf16"}}))
    assert not [p for p in modules.attention_parts(b200, 3, shape) if p.term == "attention" and p.hbm_bytes == 0.0]
    # a decode step scores absorbed pairs only: nothing moves
    decode = BatchShape.decode([8192] * 4)
    assert not [p for p in modules.attention_parts(d, 3, decode) if p.term == "attention" and p.hbm_bytes == 0.0]
