"""DeepSeek-V4's compressed attention (simdecode/costmodel/compressed.py): hand-computed weights,
cache bytes and step costs from the published config.json files, and invariants.

Sources of the hand-computed numbers: deepseek-ai/DeepSeek-V4-Flash and -Pro config.json (as in
simdecode/presets/models.yaml); SGLang deepseek_v4_memory_pool.py (``assert bytes_per_token ==
448 + 64 * 2 + 8``; indexer key ``index_head_dim + index_head_dim // 128 * 4`` = 132 B); DeepSeek's
reference inference/model.py (fp32 ``kv_state`` / ``score_state`` of (coff m) x (coff d)); the
yiliu30 "DeepSeek V4" write-up: V4-Pro's KV for 1M tokens "fits in ~9.6 GiB (BF16)"."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from simdecode import presets
from simdecode.costmodel import architecture as arch
from simdecode.costmodel import compressed
from simdecode.costmodel import layers as mixers
from simdecode.costmodel import modules
from simdecode.costmodel.batch import BatchShape, Caps
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan
from simdecode.scenario.model import ModelSpec
from simdecode.scenario.schema import Scenario

FLASH, PRO = "deepseek-v4-flash", "deepseek-v4-pro"


def model(name: str, **over) -> ModelSpec:
    return ModelSpec.model_validate({**presets.preset("models", name), **over})


def deployment(name: str, tp: int = 8, gpu: str = "h200", **prec) -> Deployment:
    scenario = Scenario.model_validate({
        "model": name, "precision": {"activations": "bf16", **prec},
        "hardware": {"gpu": gpu, "gpus_per_node": 8}, "parallelism": {"tp": tp},
        "workload": {"prompt_tokens": 128, "output_tokens": 128},
    })
    return Deployment.from_scenario(scenario)


def test_layer_mix_follows_compress_ratios() -> None:
    """Flash: 0, 0, then 4 / 128 alternating (21 CSA, 20 HCA); Pro: 128, 128, then 4 / 128 (30 CSA,
    31 HCA); the entry past the last layer belongs to the MTP module and is not a layer."""
    for name, counts in ((FLASH, (2, 21, 20)), (PRO, (0, 30, 31))):
        m = model(name)
        kinds = [mixers.layer_kind(m, i) for i in range(m.num_hidden_layers)]
        assert (kinds.count(mixers.SLIDING), kinds.count(mixers.CSA), kinds.count(mixers.HCA)) == counts
    flash = model(FLASH)
    assert [flash.layer_type(i) for i in range(4)] == ["sliding_attention", "sliding_attention",
                                                      "compressed_sparse_attention", "heavily_compressed_attention"]


def test_entry_and_indexer_key_bytes() -> None:
    """fp8 entry: 448 fp8 + 64 bf16 (128 B) + 7 ue8m0 scales + 1 pad = 584 B; indexer key 128 + 4 = 132 B;
    bf16: 512 x 2 = 1,024 B and 128 x 2 = 256 B."""
    m = model(FLASH)
    assert compressed.entry_bytes(m, 1.0) == 584.0
    assert compressed.index_entry_bytes(m, 1.0) == 132.0
    assert compressed.entry_bytes(m, 2.0) == 1024.0
    assert compressed.index_entry_bytes(m, 2.0) == 256.0


def test_flash_kv_bytes_per_token_fp8() -> None:
    """21 CSA x (584 + 132) / 4 + 20 HCA x 584 / 128 = 3,759 + 91.25 = 3,850.25 B per token."""
    m = model(FLASH)
    assert arch.kv_bytes_per_token(m, 1.0) == pytest.approx(21 * (584 + 132) / 4 + 20 * 584 / 128)
    assert arch.kv_bytes_per_token(m, 1.0) == pytest.approx(3850.25)


def test_pro_kv_of_a_million_tokens_in_bf16_is_9_6_gib() -> None:
    """30 CSA x (1024 + 256) / 4 + 31 HCA x 1024 / 128 = 9,600 + 248 = 9,848 B per token; x 2^20
    tokens = 9.617 GiB (the write-up: ~9.6 GiB BF16)."""
    m = model(PRO)
    per_token = arch.kv_bytes_per_token(m, 2.0)
    assert per_token == pytest.approx(9848.0)
    assert per_token * 2**20 / 2**30 == pytest.approx(9.6, abs=0.05)


def test_fixed_bytes_per_sequence() -> None:
    """Flash, fp8: 43 windows x 128 x 584 B = 3,214,336; CSA state 2 x 8 x 1024 x 4 + 2 x 8 x 256 x 4 =
    81,920 B x 21; HCA state 2 x 128 x 512 x 4 = 524,288 B x 20: 15,420,416 B in all."""
    m = model(FLASH)
    assert compressed.state_bytes(m, compressed.CSA) == 81_920
    assert compressed.state_bytes(m, compressed.HCA) == 524_288
    assert compressed.state_bytes(m, compressed.WINDOW) == 0
    assert arch.state_bytes_per_sequence(m, 1.0) == 43 * 128 * 584 + 21 * 81_920 + 20 * 524_288 == 15_420_416


def test_flash_weights_per_layer() -> None:
    """Projections 4096 x 1024 + 1024 x 64 x 512 + 4096 x 512 + 64 x 512 x 1024 + 8 x 1024 x 4096
    = 106,954,752; a CSA layer adds the indexer's q_b 1024 x 64 x 128 = 8,388,608 (fp8) and the bf16
    compressors 2 x 4096 x 1024 + 2 x 4096 x 256 + 4096 x 64 = 10,747,904; an HCA layer 2 x 4096 x 512."""
    m = model(FLASH)
    assert compressed.core_params(m) == 106_954_752
    assert arch.layer_attention_params(m, 2) == 106_954_752 + 8_388_608 + 10_747_904
    assert arch.layer_attention_params(m, 3) == 106_954_752 + 4_194_304
    assert arch.layer_attention_params(m, 0) == 106_954_752


def test_tp_splits_heads_and_keeps_latent_projections_and_compressors_whole() -> None:
    """tp 8, a CSA layer of Flash: wq_a + wkv (4096 x 1536 = 6,291,456) whole, the other projections
    / 8, the indexer and compressors whole; weight bytes: fp8 (1 B + 4 B per 128 x 128 block) for
    the projections and the indexer's q_b, 2 B for the compressors."""
    m = model(FLASH)
    split = (106_954_752 - 6_291_456) / 8
    params = 6_291_456 + split + 8_388_608 + 10_747_904
    assert compressed.params_per_gpu(m, 2, 8) == pytest.approx(params)
    dep = deployment(FLASH)
    fp8 = dep.bytes_of("attention")
    assert fp8 == pytest.approx(1 + 4 / 128**2)
    assert compressed.weight_bytes_per_gpu(m, 2, 8, fp8) == pytest.approx(
        (params - 10_747_904) * fp8 + 10_747_904 * 2)


def test_preset_native_precision_is_fp8_with_mxfp4_experts() -> None:
    dep = deployment(FLASH)
    assert dep.precision.experts == "mxfp4" and dep.precision.attention == "fp8"
    assert dep.precision.embeddings == "bf16" and dep.precision.kv_cache == "fp8"


def test_decode_step_of_a_csa_layer_by_hand() -> None:
    """One sequence, 4,096 cached tokens, tp 1, fp8 KV, a CSA layer of Flash (window 128, cap 4 x 512 =
    2,048 tokens = 512 entries):
    attention bytes (128 + 1) x 584 + (2048 + 1) / 4 x 584 + 10,240 (state row: 2 x 2 x 512 x 4 +
    2 x 2 x 128 x 4 B) + 81,920 / 4; pairs 128 + 2048 / 4 = 640, FLOPs 64 heads x 4 x 512 x 640;
    indexer: (4096 + 1) / 4 keys x 132 B, 2 x 64 x 128 x 4097 / 4 FLOPs."""
    m = model(FLASH)
    shape = BatchShape.decode([4096], Caps(128, 2048))
    cost = compressed.step_cost(m, 2, 1, shape, 1.0)
    nbytes, flops = cost["attention"]
    assert nbytes == pytest.approx(129 * 584 + 2049 / 4 * 584 + 10_240 + 81_920 / 4)
    assert flops == pytest.approx(64 * 2048 * 640)
    index_bytes, index_flops = cost["indexer"]
    assert index_bytes == pytest.approx(4097 / 4 * 132)
    assert index_flops == pytest.approx(2 * 64 * 128 * 4097 / 4)


def test_decode_step_of_an_hca_layer_reads_every_compressed_entry() -> None:
    """4,096 cached tokens: window 129 x 584, then (4096 + 1) / 128 compressed entries x 584, the state
    row 2 x 512 x 4 and the state 524,288 / 128; pairs 128 + 4097 / 128."""
    m = model(FLASH)
    shape = BatchShape.decode([4096], Caps(128, 2048))
    nbytes, flops = compressed.step_cost(m, 3, 1, shape, 1.0)["attention"]
    assert nbytes == pytest.approx(129 * 584 + 4097 / 128 * 584 + 4096 + 4096)
    assert flops == pytest.approx(64 * 2048 * (128 + 4097 / 128))
    assert compressed.step_cost(m, 3, 1, shape, 1.0)["indexer"] == (0.0, 0.0)


def test_deployment_caps_and_modules() -> None:
    dep = deployment(FLASH)
    assert dep.window == Caps(128, 2048)
    assert deployment(PRO).window == Caps(128, 4096)
    shape = BatchShape.decode([8192] * 4, dep.window)
    names = [p.term for p in modules.attention_parts(dep, 2, shape)]
    assert names == ["attention", "compressor", "indexer", "residual stream"]
    assert [p.term for p in modules.attention_parts(dep, 0, shape)] == ["attention", "residual stream"]
    # the KV cache per token and per sequence is replicated on every rank (one shared KV head)
    assert dep.kv_bytes_per_token_per_gpu() == pytest.approx(3850.25)
    assert dep.state_bytes_per_sequence_per_gpu() == 15_420_416


def test_residual_stream_is_hc_mult_times_wider() -> None:
    """4 hyper-connection streams of 4096 bf16 values: 4 passes x 4 x 4096 x 2 B per token."""
    dep = deployment(FLASH)
    part = modules.attention_parts(dep, 0, BatchShape.decode([100], dep.window))[-1]
    assert part.term == "residual stream" and part.hbm_bytes == 4 * 4 * 4096 * 2


def test_a_step_plan_builds_and_longer_context_costs_more() -> None:
    dep = deployment(PRO, gpu="b200")
    short = fold(build_stage_plan(dep, 0, BatchShape.decode([1024] * 8, dep.window))).makespan_s
    long = fold(build_stage_plan(dep, 0, BatchShape.decode([200_000] * 8, dep.window))).makespan_s
    assert 0 < short < long


def test_mtp_module_attends_through_the_window() -> None:
    from simdecode.costmodel.deployment import draft_deployment

    scenario = Scenario.model_validate({
        "model": FLASH, "hardware": {"gpu": "h200", "gpus_per_node": 8}, "parallelism": {"tp": 8},
        "decoding": {"method": "mtp", "speculative_tokens": 1, "acceptance": 0.8},
        "workload": {"prompt_tokens": 128, "output_tokens": 128},
    })
    draft = draft_deployment(scenario)
    assert draft.model.num_hidden_layers == 1 and draft.model.layer_type(0) == "sliding_attention"
    assert draft.model.has_compressed_attention


def test_config_json_reads_compress_ratios_and_expert_dtype(tmp_path) -> None:
    """A config.json as DeepSeek publishes it: compress_ratios as a list one longer than the layers,
    no intermediate_size, quantization_config fp8 and expert_dtype fp4."""
    config = {key: value for key, value in presets.preset("models", FLASH).items()
              if key not in ("name", "source", "native_precision", "intermediate_size")}
    config["compress_ratios"] = list(config["compress_ratios"])
    config.update({"model_type": "deepseek_v4", "expert_dtype": "fp4", "hc_sinkhorn_iters": 20,
                   "quantization_config": {"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]}})
    (tmp_path / "config.json").write_text(json.dumps(config))
    spec = ModelSpec.model_validate(presets.resolve("models", {"hf_config": "config.json"}, {"base_dir": str(tmp_path)}))
    assert spec.intermediate_size == 2048
    assert spec.native_precision.experts == "mxfp4" and spec.native_precision.weights == "fp8"
    assert arch.kv_bytes_per_token(spec, 1.0) == pytest.approx(3850.25)


@pytest.mark.parametrize(("over", "message"), [
    ({"compress_ratios": [0, 4, 64] + [4] * 40}, "compress_ratios entries must be one of"),
    ({"compress_ratios": [0, 4]}, "compress_ratios has 2 entries for 43 layers"),
    ({"o_groups": None}, "need o_groups"),
    ({"index_topk": None}, "need index_topk"),
    ({"num_key_value_heads": 8}, "one shared key-value head"),
    ({"layer_types": ["full_attention"] * 43}, "give layer_types or compress_ratios"),
    ({"compress_ratios": None, "layer_types": ["full_attention"] * 43}, "sliding_attention or compressed"),
])
def test_bad_compressed_configs_are_refused(over: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        model(FLASH, **over)


# ---- invariants -------------------------------------------------------------------------------

@st.composite
def v4_models(draw):
    layers = draw(st.integers(1, 12))
    ratios = draw(st.lists(st.sampled_from([0, 4, 128]), min_size=layers, max_size=layers))
    return model(FLASH, num_hidden_layers=layers, compress_ratios=ratios,
                 sliding_window=draw(st.integers(1, 512)), index_topk=draw(st.integers(1, 4096)))


@settings(max_examples=60, deadline=None)
@given(v4_models(), st.integers(0, 2_000_000), st.integers(0, 2_000_000), st.sampled_from([1.0, 2.0]))
def test_cache_grows_as_the_formula_says_and_stays_below_dense(m: ModelSpec, a: int, b: int, kv: float) -> None:
    """A sequence's cache = fixed + per_token x tokens: never negative, growing linearly, and per
    token never more than plain attention over the same shared head (L entries per token)."""
    per_token = compressed.kv_bytes_per_token(m, kv)
    fixed = compressed.fixed_bytes(m, kv)
    assert per_token >= 0 and fixed >= 0
    lo, hi = sorted((a, b))
    assert fixed + per_token * lo <= fixed + per_token * hi
    assert per_token <= compressed.dense_equivalent_bytes_per_token(m, kv)
    # one more token adds exactly the amortised formula, layer by layer
    assert per_token == pytest.approx(sum(compressed.growing_bytes_per_token(m, i, kv)
                                          for i in range(m.num_hidden_layers)))


@settings(max_examples=60, deadline=None)
@given(v4_models(), st.lists(st.integers(0, 300_000), min_size=1, max_size=6), st.integers(1, 64))
def test_step_reads_grow_with_context_and_stay_near_dense(m: ModelSpec, contexts: list[int], extra: int) -> None:
    """Per layer, the entries a decode step reads never fall as contexts grow, and stay within a dense
    read of the same context (c + 1 entries per sequence) plus one compressed entry per m tokens."""
    caps = Caps(m.sliding_window, 4 * m.index_topk)
    for layer in range(m.num_hidden_layers):
        kind = compressed.kind(m, layer)
        state = compressed.state_row_bytes(m, kind) + compressed.state_bytes(m, kind) / max(1, compressed.ratio(m, kind))
        small = BatchShape.decode(contexts, caps)
        large = BatchShape.decode([c + extra for c in contexts], caps)
        b_small, f_small = compressed.step_cost(m, layer, 1, small, 2.0)["attention"]
        b_large, f_large = compressed.step_cost(m, layer, 1, large, 2.0)["attention"]
        assert 0 <= b_small <= b_large and 0 <= f_small <= f_large
        e = compressed.entry_bytes(m, 2.0)
        dense = sum(c + 1 for c in contexts) * e
        m_ratio = compressed.ratio(m, kind) or 1
        assert b_small - len(contexts) * state <= dense * (1 + 1 / m_ratio) + 1e-6


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 600)), min_size=1, max_size=5),
       st.integers(1, 5000), st.integers(1, 5000))
def test_a_second_cap_never_exceeds_the_uncapped_sums(parts, window: int, sparse: int) -> None:
    items = [(c, n, True) for c, n in parts]
    capped = BatchShape.mixed(items, Caps(window, sparse))
    plain = BatchShape.mixed(items, window)
    assert capped.sparse_kv_read_tokens <= capped.kv_read_tokens
    assert capped.sparse_attn_pairs <= capped.attn_pairs
    assert (capped.window_kv_read_tokens, capped.window_attn_pairs) == (plain.window_kv_read_tokens,
                                                                         plain.window_attn_pairs)
    assert BatchShape.mixed(items, Caps(window, None)).sparse_attn_pairs == plain.attn_pairs


# ---- cross-checks against DeepSeek's published ratios ------------------------------------------

def _decode_flops(name: str, context: int) -> float:
    """FLOPs of one decode token at ``context`` on one GPU holding the whole model (tp 1)."""
    dep = deployment(name, tp=1, gpu="b200")
    shape = BatchShape.decode([context], dep.window)
    total = sum(p.flops for p in modules.lm_head_parts(dep, shape))
    for layer in range(dep.model.num_hidden_layers):
        total += sum(p.flops for p in modules.attention_parts(dep, layer, shape))
        total += sum(p.flops for p in modules.mlp_parts(dep, layer, shape))
    return total


@pytest.mark.parametrize(("name", "published"), [(PRO, 0.27), (FLASH, 0.10)])
def test_per_token_flops_at_a_million_tokens_against_v3_2(name: str, published: float) -> None:
    """The DeepSeek-V4 report (as quoted by DeepInfra's V4-Pro page and press summaries): at a 1M-token
    context V4-Pro needs 27% and V4-Flash 10% of DeepSeek-V3.2's single-token inference FLOPs. From the configs alone: V4-Pro ~26%, Flash
    ~12% (V3.2's indexer scores all 1M tokens with 64 heads in 61 layers; V4's scores 1M / 4 in its
    compressed-sparse layers only). Within 25% of the published ratios."""
    ratio = _decode_flops(name, 2**20) / _decode_flops("deepseek-v3.2", 2**20)
    assert ratio == pytest.approx(published, rel=0.25)


@pytest.mark.parametrize(("name", "published"), [(PRO, 0.10), (FLASH, 0.07)])
def test_kv_cache_at_a_million_tokens_against_v3_2(name: str, published: float) -> None:
    """The report: 10% (Pro) and 7% (Flash) of V3.2's KV cache at 1M tokens. Both in bf16 here
    (V3.2: 61 x (512 + 64 + 128) x 2 B = 85,888 B per token; V4-Pro 9,848 B: 11.5%; Flash 6,880 B:
    8.0%); the report does not state the layouts it compares, hence 20%."""
    v32 = arch.kv_bytes_per_token(model("deepseek-v3.2"), 2.0)
    assert v32 == 61 * (512 + 64 + 128) * 2
    v4 = arch.kv_bytes_per_token(model(name), 2.0) + arch.state_bytes_per_sequence(model(name), 2.0) / 2**20
    assert v4 / v32 == pytest.approx(published, rel=0.2)


def test_tp_must_keep_whole_output_groups() -> None:
    """Flash has 8 output groups: tp 16 would split one (vLLM's n_local_groups = o_groups // tp)."""
    with pytest.raises(ValidationError, match="8 output-projection groups"):
        Scenario.model_validate({
            "model": FLASH, "hardware": {"gpu": "h200", "gpus_per_node": 8, "nodes": 2}, "parallelism": {"tp": 16},
            "workload": {"prompt_tokens": 128, "output_tokens": 128},
        })


def test_transformers_layer_types_spell_the_same_model() -> None:
    """transformers' DeepseekV4Config turns compress_ratios into layer_types (0 -> sliding_attention,
    4 -> compressed_sparse_attention, 128 -> heavily_compressed_attention): either spelling gives
    the same cache and weights."""
    names = {0: "sliding_attention", 4: "compressed_sparse_attention", 128: "heavily_compressed_attention"}
    ratios = presets.preset("models", FLASH)["compress_ratios"][:43]
    spelled = model(FLASH, compress_ratios=None, layer_types=[names[r] for r in ratios])
    assert arch.kv_bytes_per_token(spelled, 1.0) == arch.kv_bytes_per_token(model(FLASH), 1.0)
    assert arch.parameter_counts(spelled).total == arch.parameter_counts(model(FLASH)).total
