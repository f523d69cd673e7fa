"""Parameter counts and KV-cache sizes derived from a model's architecture.

Counts follow the matrices in the Hugging Face modelling code (norm weights and biases are
ignored: < 0.01% of any model here). Sources: Llama (Touvron et al. 2023, arXiv 2307.09288),
Mixtral (arXiv 2401.04088), DeepSeek-V3 MLA/MoE/MTP (arXiv 2412.19437, section 2),
GPT-OSS (model card, sliding windows on alternate layers). physics.md section 5.1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from simdecode.costmodel import compressed
from simdecode.costmodel import layers as mixers
from simdecode.scenario.model import ModelSpec


@dataclass(frozen=True, slots=True)
class ParameterCounts:
    """Parameters of one model, by part (counts, not bytes).

    ``attention`` and ``dense_mlp`` are summed over all layers; ``expert`` is ONE routed expert of
    one layer; ``moe_layers`` layers hold ``num_experts`` of them plus ``shared_experts`` always-on
    experts of the same shape and a router.
    """

    embedding: float
    lm_head: float
    attention: float
    dense_mlp: float
    router: float
    expert: float
    moe_layers: int
    num_experts: int
    experts_per_token: int
    shared_experts: int
    mtp: float

    @property
    def total(self) -> float:
        """All parameters stored (tied embeddings counted once), MTP modules excluded."""
        routed = self.moe_layers * self.num_experts * self.expert
        shared = self.moe_layers * self.shared_experts * self.expert
        return self.embedding + self.lm_head + self.attention + self.dense_mlp + self.router + routed + shared

    @property
    def active(self) -> float:
        """Parameters one token reads: its k routed experts per MoE layer, everything else whole."""
        routed = self.moe_layers * self.experts_per_token * self.expert
        shared = self.moe_layers * self.shared_experts * self.expert
        return self.embedding + self.lm_head + self.attention + self.dense_mlp + self.router + routed + shared


def attention_params_per_layer(model: ModelSpec) -> float:
    """Projection weights of one attention block.

    GQA: q and o are h x (n_q d); k and v are h x (n_kv d).
    MLA (DeepSeek-V3 eq. 1-11): q_a h x r_q, q_b r_q x n_q (d_nope + d_rope),
    kv_a h x (r_kv + d_rope), kv_b r_kv x n_q (d_nope + d_v), o n_q d_v x h.
    """
    h, nq = model.hidden_size, model.num_attention_heads
    if model.has_compressed_attention:  # DeepSeek-V4's shared-KV block (costmodel/compressed.py)
        return compressed.core_params(model)
    if model.uses_mla:
        d_nope = model.qk_nope_head_dim or 0
        d_rope = model.qk_rope_head_dim or 0
        d_v = model.v_head_dim or model.head_width
        r_kv = model.kv_lora_rank or 0
        if model.q_lora_rank:
            q = h * model.q_lora_rank + model.q_lora_rank * nq * (d_nope + d_rope)
        else:
            q = h * nq * (d_nope + d_rope)
        kv = h * (r_kv + d_rope) + r_kv * nq * (d_nope + d_v)
        return q + kv + nq * d_v * h
    d = model.head_width
    return h * d * (2 * nq + 2 * model.kv_heads) + mixers.output_gate_params(model)


def layer_attention_params(model: ModelSpec, layer: int) -> float:
    """Token-mixing weights of layer ``layer``: a Gated DeltaNet block, a Mamba-2 mixer, nothing
    (an MLP-only layer), else the attention block (with a DSA indexer where the model has one)."""
    stateful = mixers.mixer_params(model, layer)
    if stateful is not None:
        return stateful
    if model.has_compressed_attention:
        return compressed.layer_params(model, layer)
    return attention_params_per_layer(model) + mixers.indexer_params(model)


def mlp_params(model: ModelSpec, intermediate: int) -> float:
    """One MLP of width ``intermediate``: 3 matrices if gated (SwiGLU), else 2."""
    return (3 if model.mlp_gated else 2) * model.hidden_size * intermediate


@cache
def parameter_counts(model: ModelSpec) -> ParameterCounts:
    """Count a model's parameters by part; see :class:`ParameterCounts`.

    >>> from simdecode.presets import preset
    >>> round(parameter_counts(ModelSpec.model_validate(preset("models", "llama-2-7b"))).total / 1e9, 2)
    6.74
    """
    layers = model.num_hidden_layers
    embedding = float(model.vocab_size * model.hidden_size)
    lm_head = 0.0 if model.tie_word_embeddings else embedding
    attention = sum(layer_attention_params(model, layer) for layer in range(layers))
    if model.is_moe:
        moe_layers = layers - model.first_k_dense_replace
        dense_layers = model.first_k_dense_replace
        expert = mlp_params(model, model.expert_intermediate_size)
        router = moe_layers * model.hidden_size * model.num_local_experts
        num_experts, k = model.num_local_experts, model.num_experts_per_tok
    else:
        moe_layers, dense_layers, expert, router, num_experts, k = 0, layers, 0.0, 0.0, 0, 0
    if model.hybrid_override_pattern is not None:  # only the "-" layers hold an MLP
        dense_layers = sum(1 for layer in range(layers) if mixers.has_mlp(model, layer))
    dense_mlp = dense_layers * mlp_params(model, model.intermediate_size)
    # DeepSeek-V3 MTP module: a projection 2h x h plus one transformer block (MoE MLP);
    # embedding and head are shared with the main model (arXiv 2412.19437, section 2.2).
    block = attention_params_per_layer(model) + (
        (num_experts + model.n_shared_experts) * expert if model.is_moe else mlp_params(model, model.intermediate_size)
    )
    mtp = model.num_nextn_predict_layers * (2 * model.hidden_size * model.hidden_size + block)
    return ParameterCounts(
        embedding=embedding, lm_head=lm_head, attention=attention, dense_mlp=dense_mlp, router=float(router),
        expert=float(expert), moe_layers=moe_layers, num_experts=num_experts, experts_per_token=k,
        shared_experts=model.n_shared_experts, mtp=float(mtp),
    )


def kv_elements_per_token_per_layer(model: ModelSpec) -> float:
    """Cached values per token per layer, all heads (not sharded).

    GQA: 2 n_kv d (keys and values). MLA: r_kv + d_rope (the compressed latent and the shared
    rotary key, DeepSeek-V2/V3), identical for every head.
    """
    if model.uses_mla:
        return float((model.kv_lora_rank or 0) + (model.qk_rope_head_dim or 0)) + mixers.indexer_kv_elements(model)
    return float(2 * model.kv_heads * model.head_width)


def kv_bytes_per_token(model: ModelSpec, kv_dtype_bytes: float) -> float:
    """KV-cache bytes one token of context occupies over the whole model (physics.md 5.1): the
    layers that cache keys and values only (linear-attention layers keep a fixed state instead).

    Llama-3-70B in bf16: 2 * 80 layers * 8 heads * 128 * 2 B = 327,680 B. DeepSeek-V4: the
    compressed entries, amortised per token (costmodel/compressed.py; its window and compressor
    state are fixed per sequence, :func:`state_bytes_per_sequence`).
    """
    if model.has_compressed_attention:
        return compressed.kv_bytes_per_token(model, kv_dtype_bytes)
    return mixers.kv_layers(model) * kv_elements_per_token_per_layer(model) * kv_dtype_bytes


def state_bytes_per_sequence(model: ModelSpec, state_dtype_bytes: float) -> float:
    """Fixed recurrent-state bytes one sequence holds over the whole model, whatever its length
    (linear-attention layers; DeepSeek-V4's windows and compressor states; 0 for a pure-attention
    model)."""
    if model.has_compressed_attention:
        return compressed.fixed_bytes(model, state_dtype_bytes)
    return mixers.state_elements(model) * state_dtype_bytes


def layer_is_sliding(model: ModelSpec, layer: int) -> bool:
    return model.layer_type(layer) == "sliding_attention"


def layer_is_moe(model: ModelSpec, layer: int) -> bool:
    return model.is_moe and layer >= model.first_k_dense_replace


def expected_distinct_experts(num_experts: int, k: int, tokens: float) -> float:
    """Expected experts touched by ``tokens`` independently routed tokens, top-``k`` of ``num_experts``.

    E * (1 - (1 - k/E)^T) (physics.md 4.4): DeepSeek-V3 (E=256, k=8): T=1 -> 8, T=4 -> 30.5.
    """
    if tokens <= 0:
        return 0.0
    return num_experts * (1.0 - (1.0 - k / num_experts) ** tokens)


def effective_routing_tokens(seqs: float, tokens: float, correlation: float) -> float:
    """Independent routing draws equivalent to ``tokens`` tokens from ``seqs`` sequences when
    consecutive tokens of a sequence share ``correlation`` of their experts: each sequence's
    first token draws fresh, each later one only (1 - correlation) of a draw (Cohere 2026 and
    MoE-Spec, physics.md 4.4: temporal routing correlation shrinks the union)."""
    return seqs + max(0.0, tokens - seqs) * (1.0 - correlation)


def expected_max_local_experts(num_experts: int, k: int, tokens: float, ep: int) -> float:
    """Expected distinct experts touched on the BUSIEST of ``ep`` GPUs holding num_experts/ep
    experts each (expert parallelism), for ``tokens`` independent top-k draws.

    Each expert is touched with probability q = 1 - (1 - k/E)^T; a GPU's count is
    Binomial(E/ep, q) and E[max of ep] = sum_x (1 - F(x)^ep). At batch 1 this is the load
    imbalance that makes EP read more expert bytes per GPU than TP-sharded experts.
    """
    local = num_experts // ep
    if tokens <= 0 or local == 0:
        return 0.0
    q = 1.0 - (1.0 - k / num_experts) ** tokens
    if ep == 1:
        return local * q
    from math import comb

    cdf, total = 0.0, 0.0
    for x in range(local + 1):
        cdf += comb(local, x) * q**x * (1.0 - q) ** (local - x)
        total += 1.0 - min(1.0, cdf) ** ep
    return total
