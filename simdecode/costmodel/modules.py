"""Bytes, FLOPs and kernels of each module of one step on one GPU (physics.md 5.1).

A module is one attention block or one MLP / MoE block of one layer, plus the embedding and the
LM head. ``*_parts`` return the module's :class:`~simdecode.costmodel.efficiency.Part` s (named runs
of kernels, each costed at its own dtype); :func:`attention`, :func:`mlp`, :func:`embedding` and
:func:`lm_head` return their sums ``(hbm_bytes, flops)`` for ONE GPU of the TP group:

- weights are read once per step whatever the batch (decode is a GEMV that streams them), each
  module in its own dtype with its block scales (costmodel/precision.py);
- KV reads grow with the context of every sequence; KV writes with the new tokens;
- FLOPs: 2 per weight per token (multiply-add), plus attention scores and values:
  4 d per (query, key) pair per head (QK^T and PV; Kaplan et al. 2020, arXiv 2001.08361 table 1);
  MLA: the absorbed form in decode, the expanded one in prefill (costmodel/mla.py);
- MoE: router, permute/unpermute, the grouped GEMMs over the union of experts the step's tokens
  chose (E (1 - (1 - k/E)^T), physics.md 4.4, T shrunk by the routing correlation), shared experts
  (costmodel/moe.py). Under expert parallelism (ep GPUs each holding E/ep whole experts, split
  tp/ep ways) the busiest GPU sets the time: it reads the expected maximum of the local unions.
- kernels: the runtime's kernels_per_layer is a dense (GQA + MLP) layer's count, half per module;
  MLA and MoE blocks add the kernels their architecture launches (mla.EXTRA_KERNELS, moe.py).
"""

from __future__ import annotations

from typing import NamedTuple

from simdecode.costmodel import architecture as arch
from simdecode.costmodel import compressed
from simdecode.costmodel import layers as mixers
from simdecode.costmodel import attention_dp, fp4_gemm, gemm_stream, mla, moe, static_kv, trtllm_allreduce
from simdecode.costmodel import launch_kernels, prefill_attention
from simdecode.costmodel.residual import residual_bytes
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.efficiency import Part


#: GEMMs whose input is a bf16 activation: a GQA block's QKV and O projections; an MLP's gate+up
#: and down projections (each needs its own activation quantisation under block-scaled fp8)
GQA_GEMMS = 2
MLP_GEMMS = 2


def _half(dep: Deployment) -> float:
    """A module's share of the runtime's kernels per layer, less the norm kernel an engine runs
    inside the all-reduce that ends the module (costmodel/trtllm_allreduce.py)."""
    return dep.runtime.kernels_per_layer / 2 - trtllm_allreduce.norm_kernels_fused(dep)


def _launch_delta(dep: Deployment, shape: BatchShape) -> float:
    """Kernels the launch's compilation flags add to (or fold out of) one block (launch_kernels.py), at
    most folding out all of the block's own."""
    delta = launch_kernels.module_delta(dep.runtime, dep.tp, shape.new_tokens)
    return max(delta, -_half(dep)) if delta else 0.0


def _sum(parts: list[Part]) -> tuple[float, float]:
    return sum(p.hbm_bytes for p in parts), sum(p.flops for p in parts)


class AttentionLayer(NamedTuple):
    """What one layer's attention block is on one GPU whatever the step (its token mixer ``kind``,
    ``compressed`` for DeepSeek-V4's block; for GQA, MLA and DSA blocks also the numbers below, else
    zeros). :func:`attention_layer` keeps it per (deployment, layer): a step only adds what its
    context reads.

    params:       projection weights on this GPU (DSA's indexer left out: costed on its own)
    weight_bytes: params x bytes per weight of the attention's dtype
    capped:       a sliding window or DSA's top-k caps what a token reads
    kv_elements:  cached values per token on this GPU (the indexer's keys left out)
    heads:        query heads on this GPU
    kernels:      kernels the block launches (half the runtime's per-layer count, plus MLA's and
                  the activation quantisation's)
    """

    kind: str
    compressed: bool = False
    params: float = 0.0
    weight_bytes: float = 0.0
    capped: bool = False
    kv_elements: float = 0.0
    heads: float = 0.0
    kernels: float = 0.0


def attention_layer(dep: Deployment, layer: int) -> AttentionLayer:
    """``layer``'s :class:`AttentionLayer` on ``dep``, computed once and kept in ``dep.step_costs``
    (a deployment never changes; its layers' blocks neither)."""
    key = ("attention layer", layer)
    block = dep.step_costs.get(key)
    if block is None:
        block = dep.step_costs[key] = _attention_layer(dep, layer)
    return block


def _attention_layer(dep: Deployment, layer: int) -> AttentionLayer:
    m = dep.model
    kind = mixers.layer_kind(m, layer)
    if kind in mixers.STATEFUL or kind == mixers.NONE or m.has_compressed_attention:
        return AttentionLayer(kind, compressed=m.has_compressed_attention)
    params = dep.attention_params_per_gpu(layer) - mixers.indexer_params(m)
    kernels = _half(dep)
    if m.uses_mla:
        kernels += mla.EXTRA_KERNELS + dep.quant_kernels("attention", mla.QUANTISED_GEMMS)
    else:
        kernels += dep.quant_kernels("attention", GQA_GEMMS)
    return AttentionLayer(kind, params=params, weight_bytes=params * dep.bytes_of("attention"),
                          capped=kind in (mixers.SLIDING, mixers.SPARSE),  # a sliding window, or DSA's top-k
                          kv_elements=dep.kv_elements_per_gpu_per_layer() - mixers.indexer_kv_elements(m),
                          heads=m.num_attention_heads / dep.tp, kernels=kernels)


def attention_parts(dep: Deployment, layer: int, shape: BatchShape) -> list[Part]:
    m = dep.model
    block = attention_layer(dep, layer)
    kind = block.kind
    if kind in mixers.STATEFUL:  # Gated DeltaNet or Mamba-2: weights and a fixed state per sequence
        params, hbm, flops = mixers.stateful_cost(dep, layer, shape)
        return [dep.part("attention", params, hbm, flops, _half(dep), "attention")] + _residual(dep, shape)
    if kind == mixers.NONE:  # an MLP-only layer (Nemotron-H)
        return []
    if block.compressed:  # DeepSeek-V4's window / compressed-sparse / heavily-compressed block
        return _compressed_parts(dep, layer, shape) + _residual(dep, shape)
    params, heads, capped = block.params, block.heads, block.capped
    kv_tokens = shape.window_kv_read_tokens if capped else shape.kv_read_tokens
    pairs = shape.window_attn_pairs if capped else shape.attn_pairs
    if not capped and not m.uses_mla:  # an engine that attends over its whole pre-allocated cache (static_kv.py)
        kv_tokens, pairs = static_kv.read_tokens_and_pairs(dep.runtime.static_kv_cache_tokens, shape.seqs,
                                                           shape.new_tokens, kv_tokens, pairs)
    hbm = block.weight_bytes + (kv_tokens + shape.new_tokens) * block.kv_elements * dep.kv_bytes_per_value
    kernels = block.kernels + _launch_delta(dep, shape)  # the delta depends on the step's tokens: not cached
    wide = 0.0  # MLA prefill scores run at the 16-bit rate under a 16-bit cache (mla.prefill_scores_in_16_bit)
    if m.uses_mla:
        scores = mla.score_flops(m, heads, pairs, shape.prefill_attn_pairs, shape.prefill_cached_tokens)
        if shape.prefill_attn_pairs > 0 and mla.prefill_scores_in_16_bit(
                dep.kv_bytes_per_value, dep.gpu.compute_capability if dep.gpu else None):
            wide = mla.expanded_score_flops(m, heads, shape.prefill_attn_pairs)
            scores -= wide
    else:
        scores = heads * 4 * m.head_width * pairs
    # prefill scores at the engine's measured attention kernel rate, where stated (prefill_attention.py)
    plain = not (m.uses_mla or capped or dep.runtime.static_kv_cache_tokens)
    measured = prefill_attention.prefill_part(dep, heads, shape.prefill_attn_pairs) if plain else None
    if measured is not None:
        scores -= measured.flops
    weight_bytes, weight_flops = block.weight_bytes, 2 * params * shape.new_tokens
    whole = dep.part("attention", params, hbm, weight_flops + scores, kernels, "attention", rows=shape.new_tokens)
    # the projections' GEMMs and the attention kernel's KV reads stream at their own shares (gemm_stream.py)
    parts = gemm_stream.split_weights(dep, whole, weight_bytes, weight_flops, "attention")
    if not m.uses_mla:  # GQA: QKV (K = hidden) and O (K = this rank's heads x head width) projections
        parts += fp4_gemm.parts(dep, "attention", m.hidden_size + heads * m.head_width, shape.new_tokens)
    if measured is not None:
        parts.append(measured)
    if wide > 0:  # no bytes, no kernels of its own (counted with the block's): the math at the activations' rate
        parts.append(dep.part("attention", 0.0, 0.0, wide, 0, None))
    if m.index_topk is not None:  # DSA: the lightning indexer over the whole context
        index_params, index_hbm, index_flops = mixers.indexer_cost(dep, shape)
        parts.append(dep.part("indexer", index_params, index_hbm, index_flops, 0, "attention"))
    return parts + _residual(dep, shape)


def _compressed_parts(dep: Deployment, layer: int, shape: BatchShape) -> list[Part]:
    """A DeepSeek-V4 attention block on one GPU (costmodel/compressed.py): the fp8 projections with
    the window and compressed entries, the bf16 compressor(s), and a CSA layer's indexer."""
    m, tp = dep.model, dep.tp
    kind = compressed.kind(m, layer)
    cost = compressed.step_cost(m, layer, tp, shape, dep.kv_bytes_per_value)
    index_q = compressed.indexer_query_params(m, kind)
    comp = compressed.compressor_params(m, kind)
    proj = compressed.params_per_gpu(m, layer, tp) - index_q - comp
    kv_bytes, scores = cost["attention"]
    kernels = _half(dep) + compressed.EXTRA_KERNELS + dep.quant_kernels("attention", compressed.QUANTISED_GEMMS)
    parts = [dep.part("attention", proj, proj * dep.bytes_of("attention") + kv_bytes,
                      2 * proj * shape.new_tokens + scores, kernels, "attention")]
    if comp:
        parts.append(dep.part("compressor", comp, comp * compressed.COMPRESSOR_BYTES_PER_VALUE,
                              2 * comp * shape.new_tokens, compressed.COMPRESSOR_KERNELS, None))
    if index_q:
        index_bytes, index_flops = cost["indexer"]
        parts.append(dep.part("indexer", index_q, index_q * dep.bytes_of("attention") + index_bytes,
                              2 * index_q * shape.new_tokens + index_flops, 0, "attention"))
    return parts


def mlp_parts(dep: Deployment, layer: int, shape: BatchShape) -> list[Part]:
    m = dep.model
    if not mixers.has_mlp(m, layer):  # a Mamba- or attention-only layer (Nemotron-H)
        return []
    if not arch.layer_is_moe(m, layer):
        params = arch.mlp_params(m, m.intermediate_size) / dep.tp
        kernels = _half(dep) + _launch_delta(dep, shape) + dep.quant_kernels("mlp", MLP_GEMMS)
        whole = dep.part("mlp", params, params * dep.bytes_of("mlp"), 2 * params * shape.new_tokens, kernels, "mlp",
                         rows=shape.new_tokens)
        # gate+up (K = hidden) and down (K = this rank's intermediate width)
        k_loop = fp4_gemm.parts(dep, "mlp", m.hidden_size + m.intermediate_size / dep.tp, shape.new_tokens)
        return gemm_stream.split_weights(dep, whole, whole.hbm_bytes, whole.flops, "mlp") + k_loop + _residual(dep, shape)
    # the residual stream of a MoE block is the rank's own tokens under attention DP
    return moe.parts(dep, shape, _half(dep)) + _residual(dep, attention_dp.rank_shape(dep, shape))


def _residual(dep: Deployment, shape: BatchShape) -> list[Part]:
    """The block's fused residual-add + norm over the whole hidden state (costmodel/residual.py):
    bytes on every rank, no FLOPs, its kernels already in ``kernels_per_layer``. Only on a GPU
    (HBM): SRAM and hard-wired chips keep the residual stream on chip, between their cores.
    It depends on the step only through its new tokens: kept in ``dep.step_costs`` by them."""
    key = ("residual", shape.new_tokens)
    parts = dep.step_costs.get(key)
    if parts is None:
        parts = dep.step_costs[key] = _residual_parts(dep, shape.new_tokens)
    return list(parts)


def _residual_parts(dep: Deployment, new_tokens: float) -> tuple[Part, ...]:
    if dep.gpu is not None and dep.gpu.kind != "gpu":
        return ()
    # hyper-connections (DeepSeek-V4, hc_mult streams): the residual is hc_mult hidden states wide
    width = dep.model.hidden_size * dep.model.hc_mult
    return (dep.part("residual stream", 0.0, residual_bytes(new_tokens, width, dep.act_bytes_per_value), 0.0, 0, None),)


def embedding_parts(dep: Deployment, shape: BatchShape) -> list[Part]:
    """Gather one row per new token (no FLOPs); a vocabulary-split table holds 1/tp of the rows,
    and the other ranks write zeros that the following all-reduce sums away."""
    rows = shape.new_tokens / dep.tp if dep.vocab_parallel else shape.new_tokens
    return [dep.part("embedding", 0.0, rows * dep.model.hidden_size * dep.bytes_of("embeddings"), 0.0, 1, None)]


def lm_head_parts(dep: Deployment, shape: BatchShape) -> list[Part]:
    """The whole (or this rank's share of the) LM head, for the tokens that need logits; the head
    and the sampler are 2 kernels."""
    params = dep.lm_head_params_per_gpu()
    return [dep.part("lm_head", params, params * dep.bytes_of("embeddings"), 2 * params * shape.logit_tokens, 2,
                     "embeddings")]


def attention(dep: Deployment, layer: int, shape: BatchShape) -> tuple[float, float]:
    return _sum(attention_parts(dep, layer, shape))


def mlp(dep: Deployment, layer: int, shape: BatchShape) -> tuple[float, float]:
    return _sum(mlp_parts(dep, layer, shape))


def embedding(dep: Deployment, shape: BatchShape) -> tuple[float, float]:
    return _sum(embedding_parts(dep, shape))


def lm_head(dep: Deployment, shape: BatchShape) -> tuple[float, float]:
    return _sum(lm_head_parts(dep, shape))
