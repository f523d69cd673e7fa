"""Layer types beyond softmax attention (simdecode/costmodel/layers.py): hand-computed weights,
cache and state of Qwen3.5's hybrid Gated DeltaNet layout, DSA's top-k cap, gated attention."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from simdecode.costmodel import architecture as arch
from simdecode.costmodel import layers as mixers
from simdecode.costmodel import modules
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.plan import build_stage_plan
from simdecode.presets import preset
from simdecode.scenario.model import ModelSpec
from simdecode.scenario.schema import Scenario


def model(name: str, **over) -> ModelSpec:
    return ModelSpec.model_validate({**preset("models", name), **over})


def deployment(m: ModelSpec | str, tp: int = 1, gpu: str = "h200", kv: str = "bf16", **hw) -> Deployment:
    scenario = Scenario.model_validate({
        "model": m if isinstance(m, str) else m.model_dump(by_alias=True),
        "precision": {"weights": "fp8", "kv_cache": kv}, "hardware": {"gpu": gpu, "gpus_per_node": 8, **hw},
        "parallelism": {"tp": tp}, "workload": {"prompt_tokens": 128, "output_tokens": 128},
    })
    return Deployment.from_scenario(scenario)


QWEN35 = "qwen3.5-397b-a17b"


def test_qwen35_layer_mix_is_three_linear_then_one_full() -> None:
    m = model(QWEN35)
    kinds = [mixers.layer_kind(m, i) for i in range(m.num_hidden_layers)]
    assert kinds[:4] == ["linear", "linear", "linear", "full"]
    assert kinds.count("full") == 15 and kinds.count("linear") == 45
    assert all(kinds[i] == "full" for i in range(3, 60, 4))


def test_qwen35_kv_bytes_per_token_count_full_attention_layers_only() -> None:
    # 15 full-attention layers x (K and V) 2 x 2 KV heads x 256 head_dim x 2 B (bf16) = 30,720 B;
    # counting all 60 layers would give 122,880 B.
    m = model(QWEN35)
    assert arch.kv_bytes_per_token(m, 2.0) == 15 * 2 * 2 * 256 * 2 == 30_720
    # at tp 8 each GPU keeps max(2 / 8, 1) = 1 KV head (replicated): 15 x 2 x 1 x 256 x 2 B
    assert deployment(QWEN35, tp=8).kv_bytes_per_token_per_gpu() == 15_360


def test_qwen35_state_per_sequence_by_hand() -> None:
    # per linear layer: 64 value heads x 128 x 128 state + (4 - 1) x (2 x 16 x 128 + 64 x 128) conv
    # = 1,048,576 + 36,864 = 1,085,440 values; x 45 layers x 2 B = 97,689,600 B per sequence
    m = model(QWEN35)
    assert mixers.linear_state_elements(m) == 1_085_440
    assert arch.state_bytes_per_sequence(m, 2.0) == 97_689_600
    assert deployment(QWEN35, tp=8).state_bytes_per_sequence_per_gpu() == pytest.approx(97_689_600 / 8)


def test_qwen35_parameter_counts_match_the_name() -> None:
    # Gated DeltaNet block: qkvz 4096 x 20480 + ba 4096 x 128 + conv 12288 x 4 + out 8192 x 4096
    m = model(QWEN35)
    assert mixers.linear_attention_params(m) == 83_886_080 + 524_288 + 49_152 + 33_554_432
    # gated full attention: q 4096 x 2 x 32 x 256, k and v 4096 x 2 x 256 each, o 8192 x 4096
    assert arch.attention_params_per_layer(m) == 4096 * 16384 + 2 * 4096 * 512 + 8192 * 4096
    counts = arch.parameter_counts(m)
    assert counts.total / 1e9 == pytest.approx(397, rel=0.01)
    assert counts.active / 1e9 == pytest.approx(17, rel=0.03)


def test_linear_layer_reads_weights_and_state_but_no_kv() -> None:
    dep = deployment(QWEN35, tp=8)
    short, long = BatchShape.decode([100]), BatchShape.decode([100_000])
    assert modules.attention(dep, 0, short) == modules.attention(dep, 0, long)  # no context dependence
    hbm, _ = modules.attention(dep, 0, short)
    m = dep.model
    # fp8 weights with their 128 x 128 block scales (4 B per 16,384 values: costmodel/precision.py)
    assert dep.bytes_of("attention") == pytest.approx(1 + 4 / 16384)
    residual = 4 * 1 * m.hidden_size * 2.0   # fused residual add + norm: 4 passes of one bf16 token
    expected = mixers.linear_attention_params(m) / 8 * dep.bytes_of("attention") + 2 * 1_085_440 / 8 * 2.0 + residual
    assert hbm == pytest.approx(expected)
    # a full-attention layer's reads grow with the context
    assert modules.attention(dep, 3, long)[0] > modules.attention(dep, 3, short)[0]


def test_linear_state_traffic_scales_with_sequences_not_tokens() -> None:
    dep = deployment(QWEN35, tp=8)
    one_seq_chunk = BatchShape.mixed([(0, 64, True)])
    one_token = BatchShape.decode([0])
    state = 2 * 1_085_440 / 8 * 2.0
    weights = mixers.linear_attention_params(dep.model) / 8 * dep.bytes_of("attention")
    residual = 4 * dep.model.hidden_size * 2.0     # per token: the fused residual add + norm, bf16
    assert modules.attention(dep, 0, one_seq_chunk)[0] == pytest.approx(weights + state + 64 * residual)
    assert modules.attention(dep, 0, BatchShape.decode([0, 0]))[0] == pytest.approx(weights + 2 * state + 2 * residual)
    assert modules.attention(dep, 0, one_token)[1] * 64 == pytest.approx(modules.attention(dep, 0, one_seq_chunk)[1])


def test_full_attention_interval_builds_the_layer_types() -> None:
    explicit = model(QWEN35, full_attention_interval=None,
                     layer_types=["linear_attention"] * 3 + ["full_attention"] + ["linear_attention"] * 3
                     + ["full_attention"] + (["linear_attention"] * 3 + ["full_attention"]) * 13)
    implicit = model(QWEN35)
    assert [explicit.layer_type(i) for i in range(60)] == [implicit.layer_type(i) for i in range(60)]


def test_linear_layers_need_their_head_counts() -> None:
    data = {**preset("models", QWEN35)}
    del data["linear_num_value_heads"]
    with pytest.raises(ValidationError, match="linear_num_value_heads"):
        ModelSpec.model_validate(data)
    with pytest.raises(ValidationError, match="layer_types entries"):
        ModelSpec.model_validate({**preset("models", "llama-3.2-1b"), "layer_types": ["mamba"] * 16})


def test_output_gate_adds_one_query_projection() -> None:
    plain = model("llama-3.1-8b")
    gated = model("llama-3.1-8b", attn_output_gate=True)
    assert arch.attention_params_per_layer(gated) - arch.attention_params_per_layer(plain) == 4096 * 32 * 128
    assert arch.kv_bytes_per_token(gated, 2) == arch.kv_bytes_per_token(plain, 2)


# ---- DeepSeek sparse attention -------------------------------------------------------------

DSA = {"index_topk": 2048, "index_n_heads": 64, "index_head_dim": 128}


def test_dsa_caches_the_indexer_key_and_caps_attention_at_top_k() -> None:
    m = model("deepseek-v3", **DSA)
    # 61 layers x (512 latent + 64 rope + 128 indexer key) x 1 B (fp8)
    assert arch.kv_bytes_per_token(m, 1.0) == 61 * (512 + 64 + 128)
    dep = deployment(m, tp=8, gpu="b200", kv="fp8")
    assert dep.window == 2048
    layer = 5
    k = BatchShape.decode([2048], dep.window)
    far = BatchShape.decode([100_000], dep.window)
    hbm_k, flops_k = modules.attention(dep, layer, k)
    hbm_far, flops_far = modules.attention(dep, layer, far)
    # beyond top-k only the indexer keys (128 x 1 B) and its scores (2 x 64 x 128 per pair) grow
    assert hbm_far - hbm_k == pytest.approx((100_000 - 2048) * 128 * 1.0)
    assert flops_far - flops_k == pytest.approx(2 * 64 * 128 * (100_000 - 2048))


def test_dsa_needs_mla() -> None:
    with pytest.raises(ValidationError, match="index_topk"):
        ModelSpec.model_validate({**preset("models", "llama-3.1-8b"), **DSA})


@given(st.integers(1, 60))
def test_kv_grows_only_in_attention_layers(n_layers: int) -> None:
    m = model(QWEN35, num_hidden_layers=n_layers)
    assert arch.kv_bytes_per_token(m, 2.0) == (n_layers // 4) * 2048
    state = arch.state_bytes_per_sequence(m, 2.0)
    assert state == (n_layers - n_layers // 4) * 1_085_440 * 2


# ---- Nemotron-H: one block per layer ----------------------------------------------------------

NEMOTRON = "nemotron-nano-9b-v2"


def test_nemotron_pattern_gives_one_block_per_layer() -> None:
    m = model(NEMOTRON)
    kinds = [mixers.layer_kind(m, i) for i in range(56)]
    assert (kinds.count("mamba"), kinds.count("full"), kinds.count("none")) == (27, 4, 25)
    assert [mixers.has_mlp(m, i) for i in range(3)] == [False, True, False]  # "M-M..."
    plan = build_stage_plan(deployment(NEMOTRON, gpu="h100-sxm"), 0, BatchShape.decode([100]))
    compute = [op.name for op in plan if op.kind not in ("host", "embed", "lm_head") and op.stream == 0]
    assert len(compute) == 56  # not 112: each layer holds one block
    assert compute[:3] == ["L0.attn", "L1.mlp", "L2.attn"]


def test_nemotron_mamba_weights_state_and_kv_by_hand() -> None:
    m = model(NEMOTRON)
    # d_inner = 128 x 80 = 10240; conv channels 10240 + 2 x 8 x 128 = 12288
    # in_proj 4480 x (10240 + 12288 + 128) + conv 12288 x 4 + out_proj 10240 x 4480
    assert mixers.mamba_params(m) == 101_498_880 + 49_152 + 45_875_200
    # state 10240 x 128 + 3 x 12288 per layer, 27 layers, 2 B
    assert mixers.mamba_state_elements(m) == 1_347_584
    assert arch.state_bytes_per_sequence(m, 2.0) == 27 * 1_347_584 * 2
    # KV: the 4 attention layers only, 2 x 8 x 128 x 2 B each
    assert arch.kv_bytes_per_token(m, 2.0) == 4 * 2 * 8 * 128 * 2 == 16_384
    assert arch.parameter_counts(m).total / 1e9 == pytest.approx(8.89, rel=0.005)


def test_mlp_only_layers_cost_nothing_in_attention_and_mixer_layers_nothing_in_mlp() -> None:
    dep = deployment(NEMOTRON, gpu="h100-sxm")
    shape = BatchShape.decode([1000])
    assert modules.attention(dep, 1, shape) == (0.0, 0.0)  # "-": an MLP alone
    assert modules.mlp(dep, 0, shape) == (0.0, 0.0)        # "M": a Mamba mixer alone
    assert dep.mlp_params_per_gpu(0) == 0.0 and dep.attention_params_per_gpu(1) == 0.0


def test_pattern_validation() -> None:
    with pytest.raises(ValidationError, match="characters for 56 layers"):
        model(NEMOTRON, hybrid_override_pattern="M-*")
    with pytest.raises(ValidationError, match="E, a layer of experts alone"):
        model(NEMOTRON, hybrid_override_pattern="E" * 56)
