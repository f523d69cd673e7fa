"""Per-GPU shares (deployment.py) and per-module bytes/FLOPs (modules.py), plus the nanoGPT-style
"two independent derivations agree" check of a whole plan's FLOPs against 2 * active parameters.

Sharding rules (Megatron-LM, arXiv 1909.08053; deployment.py docstring): attention heads and MLP
columns split over TP; KV heads split while there are at least tp of them, else one replicated
per GPU (vLLM); MLA latent projections and the MoE router replicated; LM head vocab-parallel when
the runtime shards it. FLOPs: 2 per weight per token + 4 d per (query, key) pair per head
(Kaplan et al. 2020, arXiv 2001.08361 table 1; physics.md 5.1).
"""

from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel import modules
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan
from simdecode.scenario.schema import Scenario


@lru_cache(maxsize=None)
def deployment(model: str = "llama-2-7b", gpu: object = "a100-80gb", tp: int = 8, pp: int = 1, nodes: int = 1,
               runtime: str = "default", weights: str = "bf16", **parallelism: object) -> Deployment:
    gpu_value = dict(gpu) if isinstance(gpu, tuple) else gpu
    return Deployment.from_scenario(Scenario.model_validate({
        "model": model,
        "runtime": runtime,
        "precision": {"weights": weights},
        "hardware": {"gpu": gpu_value, "nodes": nodes},
        "parallelism": {"tp": tp, "pp": pp, **parallelism},
    }))


BIG_GPU = (("preset", "h200"), ("memory", "2 TB"))  # holds DeepSeek-V3 on one GPU (for tp = 1)


# ---- sharding -------------------------------------------------------------------------------------
def test_gqa_kv_heads_split_then_replicate() -> None:
    # Llama-3.1-70B has 8 KV heads: tp 8 -> 1 per GPU; tp 16 -> still 1 (replicated, vLLM's rule)
    assert deployment(model="llama-3.1-70b", gpu="h100-sxm", tp=4).kv_heads_per_gpu == 2
    assert deployment(model="llama-3.1-70b", gpu="h100-sxm", tp=8).kv_heads_per_gpu == 1
    dep16 = deployment(model="llama-3.1-70b", gpu="h100-sxm", tp=16, nodes=2)
    assert dep16.kv_heads_per_gpu == 1
    # attention weights per GPU at tp 16: q,o = 2 * 8192 * 128 * 64 / 16; k,v = 2 * 8192 * 128 * 1
    assert dep16.attention_params_per_gpu() == 2 * 8192 * 128 * 64 / 16 + 2 * 8192 * 128 * 1
    # KV bytes per token per GPU (bf16, 80 layers): 80 * 2 * 1 * 128 * 2 = 40,960 B (= 327,680 / 8)
    assert deployment(model="llama-3.1-70b", gpu="h100-sxm", tp=8).kv_bytes_per_token_per_gpu() == 40_960
    assert dep16.kv_bytes_per_token_per_gpu() == 40_960      # replicated, not halved again


def test_mla_latent_is_replicated() -> None:
    # DeepSeek-V3 MLA at tp 8: q_a (7168 x 1536) and kv_a (7168 x 576) on every rank, the rest / 8;
    # the cached latent (512 + 64) is not split by heads
    dep = deployment(model="deepseek-v3", gpu="h200", weights="fp8", tp=8)
    replicated = 7168 * 1536 + 7168 * (512 + 64)
    assert dep.attention_params_per_gpu() == replicated + (187_105_280 - replicated) / 8
    assert dep.kv_elements_per_gpu_per_layer() == 576


def test_weight_bytes_per_gpu_llama2_7b() -> None:
    # tp 1: every parameter, bf16: 6,738,149,376 * 2 = 13,476,298,752 B
    assert deployment(tp=1).weight_bytes_per_gpu(0) == 6_738_149_376 * 2
    # tp 8 with a vocab-parallel head and embedding: everything / 8
    assert deployment(tp=8).weight_bytes_per_gpu(0) == pytest.approx(6_738_149_376 * 2 / 8, rel=1e-15)
    # gpt-fast shards attention and MLP only: embedding and head stay whole on every rank
    layers = 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008) / 8
    assert deployment(tp=8, runtime="gpt-fast").weight_bytes_per_gpu(0) == (layers + 2 * 32000 * 4096) * 2


def test_pipeline_stages_split_layers_and_place_embedding_and_head() -> None:
    dep = deployment(model="llama-3.1-70b", gpu="h100-sxm", tp=4, pp=2)
    assert (dep.stage_layers(0), dep.stage_layers(1)) == (range(0, 40), range(40, 80))
    per_layer = dep.attention_params_per_gpu() + dep.mlp_params_per_gpu(0)
    table = 128256 * 8192 / 4                                  # vocab-parallel over tp 4
    assert dep.weight_bytes_per_gpu(0) == pytest.approx((40 * per_layer + table) * 2, rel=1e-15)
    assert dep.weight_bytes_per_gpu(1) == pytest.approx((40 * per_layer + table) * 2, rel=1e-15)


def test_tied_embedding_copied_on_both_ends_of_a_pipeline() -> None:
    # Llama-3.2-1B ties its head: one copy at pp 1, one per end stage at pp 2
    one = deployment(model="llama-3.2-1b", gpu="h100-sxm", tp=1)
    two = deployment(model="llama-3.2-1b", gpu="h100-sxm", tp=1, pp=2)
    table_bytes = 128256 * 2048 * 2
    body_bytes = (16 * (2048 * 64 * (2 * 32 + 2 * 8)) + 16 * 3 * 2048 * 8192) * 2
    assert one.weight_bytes_per_gpu(0) == body_bytes + table_bytes
    assert two.weight_bytes_per_gpu(0) + two.weight_bytes_per_gpu(1) == body_bytes + 2 * table_bytes


# ---- modules ------------------------------------------------------------------------------------
def test_attention_module_by_hand() -> None:
    # Llama-2-7B tp 8 bf16, two sequences decoding after 100 and 300 cached tokens:
    # weights 4 * 4096^2 / 8 = 8,388,608 params * 2 B; KV (400 read + 2 written) * 1024 elems * 2 B
    # + the residual add + norm over the whole hidden state on every rank: 4 passes * 2 tokens * 4096 * 2 B
    # FLOPs: 2 * 8,388,608 * 2 tokens + (4 heads * 4 * 128) * (101 + 301) pairs
    hbm, flops = modules.attention(deployment(tp=8), 0, BatchShape.decode([100, 300]))
    assert hbm == 8_388_608 * 2 + (400 + 2) * (2 * 4 * 128) * 2 + 4 * 2 * 4096 * 2 == 17_666_048
    assert flops == 2 * 8_388_608 * 2 + 4 * 4 * 128 * 402 == 34_377_728


def test_mlp_embedding_and_head_by_hand() -> None:
    dep, shape = deployment(tp=8), BatchShape.decode([100, 300])
    # MLP: 3 * 4096 * 11008 / 8 = 16,908,288 params, read once; 2 FLOPs each per token; plus the
    # residual add + norm (4 passes * 2 tokens * 4096 * 2 B, not divided by tp)
    assert modules.mlp(dep, 0, shape) == (16_908_288 * 2 + 4 * 2 * 4096 * 2, 2 * 16_908_288 * 2)
    # embedding: one 4096-wide bf16 row per new token, no FLOPs
    # (the table is split by vocabulary over the 8 ranks, vLLM's VocabParallelEmbedding, so each
    # rank reads 1/8 of the rows on average and an all-reduce completes them)
    assert modules.embedding(dep, shape) == (2 * 4096 * 2 / 8, 0.0)
    # vocab-parallel head: 32000 * 4096 / 8 = 16,384,000 params, 2 logit tokens
    assert modules.lm_head(dep, shape) == (16_384_000 * 2, 2 * 16_384_000 * 2)


def test_sliding_window_layer_reads_only_the_window() -> None:
    # GPT-OSS-120B: layer 0 slides (window 128), layer 1 is full; one sequence after 1000 tokens.
    # tp 8 leaves 1 KV head of 64 per GPU: 2 * 1 * 64 = 128 elements per token per layer.
    dep = deployment(model="gpt-oss-120b", gpu="h100-sxm", tp=8)
    shape = BatchShape.decode([1000], window=128)
    sliding_hbm, sliding_flops = modules.attention(dep, 0, shape)
    full_hbm, full_flops = modules.attention(dep, 1, shape)
    assert full_hbm - sliding_hbm == (1000 - 128) * 128 * 2             # bytes of KV not read
    assert full_flops - sliding_flops == (64 / 8) * 4 * 64 * (1001 - 128)  # pairs not scored


def test_moe_reads_the_union_of_experts_but_computes_k() -> None:
    # DeepSeek-V3 fp8, tp 8, MoE layer 3, four decoding tokens (physics.md 4.4; costmodel/moe.py):
    # read: router 7168 * 256 in bf16 (replicated; kept bf16 in the fp8 checkpoint) + its fp32
    #       logits 4 * 256 * 4 B + permute/unpermute 4 * 4 tokens * 8 * 7168 * 2 B
    #       + (E[distinct] + 1 shared) * 44,040,192 / 8 weights at 1 + 4 / 16384 B (fp8, one fp32
    #       scale per 128 x 128 block)
    # compute: router + weighted sum 2 * 8 * 7168 + (8 routed + 1 shared) * 44,040,192 / 8 per token
    dep = deployment(model="deepseek-v3", gpu="h200", weights="fp8", tp=8)
    distinct = 256 * (1 - (1 - 8 / 256) ** 4)                          # = 30.53
    hbm, flops = modules.mlp(dep, 3, BatchShape.decode([10, 10, 10, 10]))
    fp8 = 1 + 4 / 16384
    residual = 4 * 4 * 7168 * 2          # the fused residual add + norm: 4 passes of 4 tokens x 7168, bf16
    expected = 7168 * 256 * 2 + 4 * 256 * 4 + 4 * 4 * 8 * 7168 * 2 + (distinct + 1) * 44_040_192 / 8 * fp8 + residual
    assert hbm == pytest.approx(expected, rel=1e-12)                   # = 179,359,817.7 B
    assert flops == pytest.approx(2 * (7168 * 256 + 8 * 7168 + 9 * 44_040_192 / 8) * 4, rel=1e-12)
    # a dense layer (0 .. 2) reads its whole 3 * 7168 * 18432 / 8 MLP
    # (plus its one token's residual add + norm, 4 x 7168 x 2 B)
    assert modules.mlp(dep, 0, BatchShape.decode([10]))[0] == pytest.approx(3 * 7168 * 18432 / 8 * fp8 + 4 * 7168 * 2,
                                                                            rel=1e-12)


# ---- two derivations of the step's FLOPs ---------------------------------------------------------
def plan_flops_all_gpus(dep: Deployment, shape: BatchShape) -> float:
    """Derivation 1: sum of per-op FLOPs over the plan of every stage, times the tp GPUs."""
    return sum(fold(build_stage_plan(dep, stage, shape)).flops for stage in range(dep.pp)) * dep.tp


@given(ctx=st.lists(st.integers(0, 8000), min_size=1, max_size=16),
       layout=st.sampled_from([(1, 1), (2, 1), (4, 1), (8, 1), (4, 2), (2, 4)]))
def test_dense_plan_flops_equal_2_active_params_per_token(ctx: list[int], layout: tuple[int, int]) -> None:
    # Derivation 2 (nanoGPT / Kaplan): 2 FLOPs per active weight per token, minus the input
    # embedding (a row gather: 0 FLOPs), plus attention scores and values:
    # 4 * d * n_q per (query, key) pair per layer. Llama-3.1-70B: 8 KV heads, so up to tp 8 no
    # weight is replicated and the two derivations agree to float rounding.
    tp, pp = layout
    dep = deployment(model="llama-3.1-70b", gpu=BIG_GPU, tp=tp, pp=pp)  # FLOPs do not depend on the GPU
    c, shape = dep.counts, BatchShape.decode(ctx)
    tokens = len(ctx)
    pairs = sum(n + 1 for n in ctx)
    expected = 2 * (c.active - c.embedding) * tokens + 4 * 128 * 64 * 80 * pairs
    assert plan_flops_all_gpus(dep, shape) == pytest.approx(expected, rel=1e-12)


def test_dense_plan_flops_at_batch_1_are_2n_within_the_attention_share() -> None:
    # The bare rule "FLOPs = 2 N per token" (N = active weights less the input table) holds to
    # within the attention-score share: at context 0 one pair per layer, 4 * 128 * 64 * 80 =
    # 2,621,440 FLOPs against 2 * 69.5e9 = 1.39e11, a relative excess of 1.9e-5 (tolerance 2e-5).
    dep = deployment(model="llama-3.1-70b", gpu="h100-sxm", tp=8)
    two_n = 2 * (dep.counts.active - dep.counts.embedding)
    got = plan_flops_all_gpus(dep, BatchShape.decode([0]))
    assert got == pytest.approx(two_n, rel=2e-5)
    assert got > two_n                                  # the excess is the attention scores


def test_moe_plan_flops_equal_2_active_params_per_token() -> None:
    # DeepSeek-V3 on one (imaginary 2 TB) GPU: each token computes its 8 routed + 1 shared experts
    # whatever the batch, and absorbed MLA scores cost 2 (512 + 64) + 2 * 512 = 2,176 FLOPs per
    # pair per head (DeepSeek-V2 appendix): 61 layers * 128 heads * 2,176.
    dep = deployment(model="deepseek-v3", gpu=BIG_GPU, weights="fp8", tp=1)
    ctx = [0, 100, 2000]
    c = dep.counts
    # + the unpermute's weighted sum of each token's 8 expert outputs: 2 * 8 * 7168 per MoE layer
    expected = (2 * (c.active - c.embedding) * 3 + 61 * 128 * 2176 * sum(n + 1 for n in ctx)
                + 58 * 2 * 8 * 7168 * 3)
    assert plan_flops_all_gpus(dep, BatchShape.decode(ctx)) == pytest.approx(expected, rel=1e-12)


def test_moe_plan_flops_count_replicated_work_tp_times() -> None:
    # At tp 8 the MLA latent projections (q_a, kv_a) and the router run on every rank: the GPUs
    # together do 7 extra copies of 61 * (7168 * 1536 + 7168 * 576) + 58 * 7168 * 256 weights' FLOPs.
    dep = deployment(model="deepseek-v3", gpu="h200", weights="fp8", tp=8)
    c = dep.counts
    ctx = [0, 100, 2000]
    replicated = 61 * (7168 * 1536 + 7168 * 576) + 58 * 7168 * 256
    expected = (2 * (c.active - c.embedding + 7 * replicated) * 3 + 61 * 128 * 2176 * sum(n + 1 for n in ctx)
                + 8 * 58 * 2 * 8 * 7168 * 3)  # the weighted sum of the unpermute, on every rank
    assert plan_flops_all_gpus(dep, BatchShape.decode(ctx)) == pytest.approx(expected, rel=1e-12)


def test_vocab_parallel_final_shards_the_head_cost() -> None:
    dep = deployment(tp=4, runtime="gpt-fast", tp_mode="delayed", tp_final="vocab-parallel")
    plan = build_stage_plan(dep, 0, BatchShape.decode([100]))
    head = next(op for op in plan.ops if op.name == "lm_head")
    assert any(op.name == "lm_head.gather" for op in plan.ops)
    assert head.cost.hbm_bytes == 32000 * 4096 / 4 * 2   # this rank's vocabulary shard


def test_geforce_without_peer_to_peer_goes_through_host_memory() -> None:
    # RTX 4090 (gpus.yaml: peer_to_peer false): every transfer crosses PCIe twice via host memory,
    # so the effective link has 2 x 1.0 us hops and 32 / 2 = 16 GB/s (deployment.effective_link)
    dep = deployment(model="llama-3.2-1b", gpu="rtx-4090", tp=8)
    assert dep.link.latency_s == pytest.approx(2.0e-6, rel=1e-15)
    assert dep.link.bandwidth_Bps == 16e9
    # an 8-byte ring-LL all-reduce on PCIe: 6.6 + 14 * 2.0 us + 5 us overhead = 39.6 us
    # (CO-09 measures 43.5 us on 8x RTX 4090)
    from simdecode.costmodel.collectives import all_reduce
    cost = all_reduce(8, 8, dep.link, dep.runtime)
    assert cost.alpha_s == pytest.approx(6.6e-6 + 14 * 2.0e-6 + 5e-6, rel=1e-12)
    # GPUs with peer-to-peer keep the catalogue link
    assert deployment(tp=8).link.latency_s == pytest.approx(0.6e-6, rel=1e-15)
