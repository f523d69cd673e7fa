"""Parameter counts, KV-cache sizes and expert-union sizes (simdecode/costmodel/architecture.py).

Hand counts follow the matrices of the Hugging Face modelling code (norm weights ignored, as the
module docstring says), with the architecture values of simdecode/presets/models.yaml (each one a
verbatim copy of the model's config.json). Published totals are quoted in models.yaml comments.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel import architecture as arch
from simdecode.presets import preset
from simdecode.scenario.model import ModelSpec


def model(name: str) -> ModelSpec:
    return ModelSpec.model_validate(preset("models", name))


# ---- Llama-2-7B: the classic 6.74e9 --------------------------------------------------------
def test_llama2_7b_parts_by_hand() -> None:
    # Llama 2 (arXiv 2307.09288): L=32, h=4096, 32 heads of d=128 (MHA), SwiGLU width 11008,
    # vocab 32000, untied LM head.
    c = arch.parameter_counts(model("llama-2-7b"))
    embedding = 32000 * 4096                  # = 131,072,000
    attention = 32 * (4 * 4096 * 4096)        # q,k,v,o each h x h: 32 * 67,108,864 = 2,147,483,648
    mlp = 32 * (3 * 4096 * 11008)             # gate, up, down: 32 * 135,266,304 = 4,328,521,728
    assert c.embedding == embedding
    assert c.lm_head == embedding             # untied: a second vocab x h matrix
    assert c.attention == attention
    assert c.dense_mlp == mlp
    assert c.total == 2 * embedding + attention + mlp == 6_738_149_376


def test_llama2_7b_total_matches_checkpoint_up_to_norms() -> None:
    # Checkpoint count 6,738,415,616 (models.yaml); RMSNorm weights: 2 per layer + the final one,
    # each h wide: (2 * 32 + 1) * 4096 = 266,240. The counter leaves norms out, by design.
    c = arch.parameter_counts(model("llama-2-7b"))
    norms = (2 * 32 + 1) * 4096
    assert c.total + norms == 6_738_415_616
    assert round(c.total / 1e9, 2) == 6.74
    assert c.active == c.total                # dense: every token reads every weight


def test_llama31_70b_total_matches_checkpoint_up_to_norms() -> None:
    # 70,553,706,496 (models.yaml); norms (2 * 80 + 1) * 8192 = 1,318,912.
    # GQA attention per layer: h d (2 n_q + 2 n_kv) = 8192 * 128 * (128 + 16) = 150,994,944.
    m = model("llama-3.1-70b")
    assert arch.attention_params_per_layer(m) == 8192 * 128 * (2 * 64 + 2 * 8) == 150_994_944
    assert arch.parameter_counts(m).total + (2 * 80 + 1) * 8192 == 70_553_706_496


def test_tied_embedding_counted_once() -> None:
    # Llama-3.2-1B ties its LM head to the embedding: 1,235,814,400 in the checkpoint, norms
    # (2 * 16 + 1) * 2048 = 67,584; the 128256 x 2048 = 262,668,288 table is counted once.
    c = arch.parameter_counts(model("llama-3.2-1b"))
    assert c.embedding == 128256 * 2048 == 262_668_288
    assert c.lm_head == 0.0
    assert c.total + (2 * 16 + 1) * 2048 == 1_235_814_400


# ---- KV cache ------------------------------------------------------------------------------
def test_llama31_70b_kv_bytes_per_token_bf16() -> None:
    # physics.md 5.1: 2 L n_kv d bytes = 2 * 80 * 8 * 128 * 2 = 327,680 B ("320 KB/token")
    expected_bytes = 2 * 80 * 8 * 128 * 2
    assert arch.kv_bytes_per_token(model("llama-3.1-70b"), 2.0) == expected_bytes == 327_680


def test_llama31_8b_kv_bytes_per_token_bf16() -> None:
    # physics.md 5.1: "Llama-3-8B: 128 KB/token" = 2 * 32 * 8 * 128 * 2 = 131,072 B
    assert arch.kv_bytes_per_token(model("llama-3.1-8b"), 2.0) == 2 * 32 * 8 * 128 * 2 == 131_072


def test_kv_bytes_scale_with_dtype() -> None:
    # fp8 KV cache: half of bf16: 2 * 80 * 8 * 128 * 1 = 163,840 B
    assert arch.kv_bytes_per_token(model("llama-3.1-70b"), 1.0) == 163_840


def test_mla_kv_elements_per_token_per_layer() -> None:
    # DeepSeek-V3 MLA (arXiv 2412.19437 eq. 1-5): cache the latent c_KV (kv_lora_rank = 512)
    # and the shared rotary key k_R (qk_rope_head_dim = 64), the same for all 128 heads.
    m = model("deepseek-v3")
    assert arch.kv_elements_per_token_per_layer(m) == 512 + 64 == 576
    # whole model in bf16: 61 layers * 576 * 2 B = 70,272 B per token (vs 2*61*128*128*2 for MHA)
    assert arch.kv_bytes_per_token(m, 2.0) == 61 * 576 * 2 == 70_272


# ---- DeepSeek-V3: MLA + MoE ------------------------------------------------------------------
def test_deepseek_v3_mla_attention_params_by_hand() -> None:
    # arXiv 2412.19437 section 2.1, config: h=7168, n_q=128, q_lora 1536, kv_lora 512,
    # d_nope=128, d_rope=64, d_v=128.
    q = 7168 * 1536 + 1536 * 128 * (128 + 64)   # q_a + q_b = 11,010,048 + 37,748,736 = 48,758,784
    kv = 7168 * (512 + 64) + 512 * 128 * (128 + 128)  # kv_a + kv_b = 4,128,768 + 16,777,216
    o = 128 * 128 * 7168                        # = 117,440,512
    assert arch.attention_params_per_layer(model("deepseek-v3")) == q + kv + o == 187_105_280


def test_deepseek_v3_expert_and_dense_parts_by_hand() -> None:
    c = arch.parameter_counts(model("deepseek-v3"))
    assert c.expert == 3 * 7168 * 2048 == 44_040_192           # one SwiGLU expert of width 2048
    assert c.moe_layers == 61 - 3                              # first_k_dense_replace = 3
    assert c.dense_mlp == 3 * (3 * 7168 * 18432) == 1_189_085_184
    assert c.router == 58 * 7168 * 256 == 106_430_464


def test_deepseek_v3_total_671b_within_2_percent() -> None:
    # DeepSeek-V3 README: "671B of the Main Model weights" (MTP excluded), models.yaml.
    total = arch.parameter_counts(model("deepseek-v3")).total
    assert total == pytest.approx(671e9, rel=0.02)
    assert total == pytest.approx(671e9, rel=0.001)  # actually 671.03e9: tighter than asked


def test_deepseek_v3_active_37b_within_2_percent() -> None:
    # DeepSeek-V3 paper abstract: "37B activated for each token"; README_WEIGHTS: 36.6B activated
    # including the 0.9B output head, i.e. without the input embedding (a gather, not a matmul).
    c = arch.parameter_counts(model("deepseek-v3"))
    assert c.active == pytest.approx(37e9, rel=0.02)           # 37.55e9: +1.5%
    # the sharper published figure: active minus the 129280 x 7168 = 926,679,040 input table
    assert c.active - c.embedding == pytest.approx(36.6e9, rel=0.002)


def test_deepseek_v3_active_by_hand() -> None:
    c = arch.parameter_counts(model("deepseek-v3"))
    embedding = 129280 * 7168                                  # = 926,679,040 (and the head)
    attention = 61 * 187_105_280
    dense = 3 * 3 * 7168 * 18432
    routed_and_shared = 58 * (8 + 1) * 44_040_192              # 8 routed + 1 shared per MoE layer
    router = 58 * 7168 * 256
    assert c.active == 2 * embedding + attention + dense + routed_and_shared + router == 37_551_276_032


def test_deepseek_v3_mtp_module_about_11_5b() -> None:
    # README_WEIGHTS (models.yaml): MTP module 11.5B unique parameters (embedding/head shared):
    # 2h x h projection + one MoE block = 2*7168^2 + 187,105,280 + 257 * 44,040,192 = 11.61e9
    c = arch.parameter_counts(model("deepseek-v3"))
    assert c.mtp == 2 * 7168 * 7168 + 187_105_280 + (256 + 1) * 44_040_192
    assert c.mtp == pytest.approx(11.5e9, rel=0.02)


@pytest.mark.parametrize(
    ("name", "published_total", "published_active", "rel"),
    [
        # Mixtral paper (arXiv 2401.04088) / Mistral: 46.7B total, 12.9B active
        ("mixtral-8x7b", 46.7e9, 12.9e9, 0.005),
        # Qwen3 model card: 235B total, 22B active
        ("qwen3-235b-a22b", 235e9, 22e9, 0.01),
    ],
)
def test_moe_published_totals(name: str, published_total: float, published_active: float, rel: float) -> None:
    c = arch.parameter_counts(model(name))
    assert c.total == pytest.approx(published_total, rel=rel)
    assert c.active == pytest.approx(published_active, rel=rel)


def test_gpt_oss_active_excludes_embedding_in_the_model_card() -> None:
    # GPT-OSS model card: 116.8B total, 5.1B active; models.yaml notes the 5.1B leaves out the
    # 201088 x 2880 = 579,133,440 input table (5.71B - 0.58B = 5.13B).
    c = arch.parameter_counts(model("gpt-oss-120b"))
    assert c.total == pytest.approx(116.8e9, rel=0.002)
    assert c.embedding == 201088 * 2880
    assert c.active - c.embedding == pytest.approx(5.1e9, rel=0.01)


def test_sliding_layers_follow_layer_types() -> None:
    m = model("gpt-oss-120b")  # 18 x [sliding, full]
    assert [arch.layer_is_sliding(m, i) for i in range(4)] == [True, False, True, False]
    assert not arch.layer_is_sliding(model("llama-2-7b"), 0)


def test_moe_layers_start_after_first_k_dense() -> None:
    m = model("deepseek-v3")
    assert [arch.layer_is_moe(m, i) for i in (0, 2, 3, 60)] == [False, False, True, True]
    assert not arch.layer_is_moe(model("llama-2-7b"), 5)


# ---- expected distinct experts (physics.md 4.4) ----------------------------------------------
@pytest.mark.parametrize(
    ("tokens", "physics_md_value", "rounding"),
    # physics.md 4.4 quotes 3 significant figures: the tolerance is half a unit in the last place
    # (plus float slack, since 15.75 rounds up to 15.8)
    [(1, 8.0, 0.05), (2, 15.8, 0.05), (4, 30.5, 0.05), (8, 57.4, 0.05), (16, 102.0, 0.5)],
)
def test_expected_distinct_experts_deepseek_v3(tokens: int, physics_md_value: float, rounding: float) -> None:
    # physics.md 4.4: E (1 - (1 - k/E)^T), DeepSeek-V3 E=256, k=8: T=1:8, 2:15.8, 4:30.5, 8:57.4, 16:102
    value = arch.expected_distinct_experts(256, 8, tokens)
    assert abs(value - physics_md_value) <= rounding + 1e-9


def test_expected_distinct_experts_exact_small_cases() -> None:
    # T=1: exactly k. T=2: 256 * (1 - (31/32)^2) = 256 * 63/1024 = 15.75
    assert arch.expected_distinct_experts(256, 8, 1) == pytest.approx(8.0, rel=1e-14)
    assert arch.expected_distinct_experts(256, 8, 2) == pytest.approx(15.75, rel=1e-14)
    assert arch.expected_distinct_experts(256, 8, 0) == 0.0


@given(
    num_experts=st.integers(1, 512),
    data=st.data(),
    tokens=st.integers(1, 4096),
)
def test_expected_distinct_experts_bounds(num_experts: int, data: st.DataObject, tokens: int) -> None:
    # at least the k experts of one token, at most min(E, k T); monotone in T
    k = data.draw(st.integers(1, num_experts))
    value = arch.expected_distinct_experts(num_experts, k, tokens)
    assert k * (1 - 1e-12) <= value <= min(num_experts, k * tokens) * (1 + 1e-12)
    assert arch.expected_distinct_experts(num_experts, k, tokens + 1) >= value * (1 - 1e-12)
