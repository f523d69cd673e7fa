"""Bytes and FLOPs of each module of one step on one GPU (physics.md 5.1).

A module is one attention block or one MLP / MoE block of one layer, plus the embedding and the
LM head. Each function returns ``(hbm_bytes, flops)`` for ONE GPU of the TP group:

- weights are read once per step whatever the batch (decode is a GEMV that streams them);
- KV reads grow with the context of every sequence; KV writes with the new tokens;
- FLOPs: 2 per weight per token (multiply-add), plus attention scores and values:
  4 d per (query, key) pair per head (QK^T and PV; Kaplan et al. 2020, arXiv 2001.08361 table 1);
- MoE: the routed experts read are the union of those chosen by the step's tokens
  (E (1 - (1 - k/E)^T), physics.md 4.4), with T shrunk by the routing correlation between a
  sequence's consecutive tokens; each token computes only its k experts. Under expert
  parallelism (ep GPUs each holding E/ep whole experts, split tp/ep ways) the busiest GPU sets
  the time: it reads the expected maximum of the GPUs' local unions.
"""

from __future__ import annotations

from simdecode.costmodel import architecture as arch
from simdecode.costmodel import layers as mixers
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment


def attention(dep: Deployment, layer: int, shape: BatchShape) -> tuple[float, float]:
    m = dep.model
    kind = mixers.layer_kind(m, layer)
    if kind in mixers.STATEFUL:
        return mixers.stateful_cost(dep, layer, shape)
    if kind == mixers.NONE:
        return 0.0, 0.0
    params = dep.attention_params_per_gpu(layer)
    capped = kind in (mixers.SLIDING, mixers.SPARSE)  # a sliding window, or DSA's top-k
    kv_tokens = shape.window_kv_read_tokens if capped else shape.kv_read_tokens
    pairs = shape.window_attn_pairs if capped else shape.attn_pairs
    kv_elems = dep.kv_elements_per_gpu_per_layer() - mixers.indexer_kv_elements(m)
    indexer_params = mixers.indexer_params(m)
    hbm = (params - indexer_params) * dep.weight_bytes + (kv_tokens + shape.new_tokens) * kv_elems * dep.kv_bytes
    heads = m.num_attention_heads / dep.tp
    if m.uses_mla:
        # absorbed MLA decode (DeepSeek-V2 appendix): scores over r_kv + d_rope, values over r_kv
        per_pair = heads * (2 * ((m.kv_lora_rank or 0) + (m.qk_rope_head_dim or 0)) + 2 * (m.kv_lora_rank or 0))
    else:
        per_pair = heads * 4 * m.head_width
    flops = 2 * (params - indexer_params) * shape.new_tokens + per_pair * pairs
    index_hbm, index_flops = mixers.indexer_cost(dep, shape)  # (0, 0) without DSA
    return hbm + index_hbm, flops + index_flops


def mlp(dep: Deployment, layer: int, shape: BatchShape) -> tuple[float, float]:
    m, c = dep.model, dep.counts
    if not mixers.has_mlp(m, layer):
        return 0.0, 0.0
    if not arch.layer_is_moe(m, layer):
        params = arch.mlp_params(m, m.intermediate_size) / dep.tp
        return params * dep.weight_bytes, 2 * params * shape.new_tokens
    router = m.hidden_size * c.num_experts  # replicated on every rank
    draws = arch.effective_routing_tokens(shape.seqs, shape.new_tokens, m.routing_correlation)
    if dep.ep > 1:
        local = arch.expected_max_local_experts(c.num_experts, c.experts_per_token, draws, dep.ep)
        routed = local * c.expert / (dep.tp / dep.ep)
    else:
        routed = arch.expected_distinct_experts(c.num_experts, c.experts_per_token, draws) * c.expert / dep.tp
    read = router + routed + c.shared_experts * c.expert / dep.tp
    per_token = router + (c.experts_per_token + c.shared_experts) * c.expert / dep.tp
    return read * dep.weight_bytes, 2 * per_token * shape.new_tokens


def embedding(dep: Deployment, shape: BatchShape) -> tuple[float, float]:
    """Gather one row per new token (no FLOPs); a vocabulary-split table holds 1/tp of the rows,
    and the other ranks write zeros that the following all-reduce sums away."""
    rows = shape.new_tokens / dep.tp if dep.vocab_parallel else shape.new_tokens
    return rows * dep.model.hidden_size * dep.weight_bytes, 0.0


def lm_head(dep: Deployment, shape: BatchShape) -> tuple[float, float]:
    """The whole (or this rank's share of the) LM head, for the tokens that need logits."""
    params = dep.lm_head_params_per_gpu()
    return params * dep.weight_bytes, 2 * params * shape.logit_tokens
