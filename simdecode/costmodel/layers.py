"""Token-mixing layers other than plain softmax attention: their weights, cache and per-step cost.

A model's ``layer_types`` (Hugging Face spelling) mixes, in any order:

- ``full_attention``: softmax attention over the whole context; its KV cache grows by one entry per
  token. With ``attn_output_gate`` (Qwen3.5's gated attention) the query projection also yields a
  per-channel sigmoid gate on the attention output: q_proj is h x 2 n_q d instead of h x n_q d
  (Qwen3-Next modelling code), so it reads n_q d h more weights and caches nothing more.
- ``sliding_attention``: the same over the last ``sliding_window`` tokens (GPT-OSS).
- ``linear_attention``: Gated DeltaNet (Yang, Kautz, Hatamizadeh 2024, arXiv 2412.06464; Qwen3-Next,
  Qwen3.5). No KV cache: each sequence keeps a fixed state, per value head a d_k x d_v matrix S
  plus the last (kernel - 1) inputs of a short causal convolution, and every step reads S and
  writes it back. Weights (Qwen3-Next ``Qwen3NextGatedDeltaNet``): in_proj_qkvz h x (2 n_k d_k +
  2 n_v d_v), in_proj_ba h x 2 n_v, conv1d (2 n_k d_k + n_v d_v) x kernel, out_proj n_v d_v x h.
  FLOPs per token besides the projections: the delta rule S <- a S + b (v - S k) k^T and the read
  o = S q touch S about 3 times with a multiply-add each, 6 n_v d_k d_v, plus the convolution,
  2 (2 n_k d_k + n_v d_v) kernel. Mamba-2 mixers (below) have the same shape of cost.
- ``sparse attention`` (DeepSeek-V3.2's DSA, arXiv 2512.02556 and its config.json's ``index_*``
  keys): every MLA layer first runs a lightning indexer (``index_n_heads`` heads of width
  ``index_head_dim``) over every cached token, then attends to the ``index_topk`` best ones only.
  The cache holds the MLA latent plus one indexer key per token; the indexer's projections (wq_b
  q_lora_rank x n_idx d_idx, wk h x d_idx, weights_proj h x n_idx) are replicated on every TP rank.
  The top-k cap is applied like a sliding window (``Deployment.window``): bytes and pairs of the
  attention proper are those of min(context, k) tokens; the indexer reads the whole context.
- ``hybrid_override_pattern`` (Nemotron-H): every layer holds ONE block: ``M`` a Mamba-2 mixer
  (Dao & Gu 2024, arXiv 2405.21060), ``*`` attention, ``-`` an MLP. A Mamba-2 mixer with n_h heads
  of width d_h (d_inner = n_h d_h), g groups and state size N holds in_proj h x (2 d_inner + 2 g N
  + n_h), a convolution (d_inner + 2 g N) x kernel and out_proj d_inner x h; each sequence keeps
  n_h d_h N state values plus (kernel - 1)(d_inner + 2 g N) convolution inputs, read and written
  every step like a Gated DeltaNet state; the scan costs 6 FLOPs per state value per token.
- ``compressed_sparse_attention`` / ``heavily_compressed_attention`` (DeepSeek-V4): a shared-KV
  block over a sliding window plus KV pooled 4:1 (read through a top-k indexer) or 128:1 (read
  whole); a fixed window and compressor state per sequence plus a slowly growing cache
  (costmodel/compressed.py). In such a model ``sliding_attention`` layers are the same block with
  the window only.
- attention sinks (GPT-OSS: one learned logit per head added to the softmax's denominator): one
  scalar per head, no cache, no measurable cost; not modelled.

Sharding under TP: linear-attention and Mamba heads and their states split over the TP group like
attention heads (vLLM's column-/row-parallel projections); the indexer and its keys are replicated.
The recurrent state is held in the KV cache's dtype (``precision.kv_cache``).
"""

from __future__ import annotations

from simdecode.scenario.model import ModelSpec

FULL, SLIDING, LINEAR, SPARSE, MAMBA, NONE = "full", "sliding", "linear", "sparse", "mamba", "none"
#: DeepSeek-V4's compressed-sparse and heavily-compressed attention (costmodel/compressed.py)
CSA, HCA = "csa", "hca"
#: mixers that keep a fixed per-sequence state instead of a KV cache
STATEFUL = (LINEAR, MAMBA)

#: FLOPs per element of the d_k x d_v state per token: three multiply-adds (S k, the rank-1
#: update with its decay, S q)
STATE_FLOPS_PER_ELEMENT = 6


def layer_kind(model: ModelSpec, layer: int) -> str:
    """The token mixer of ``layer``: ``full``, ``sliding``, ``linear``, ``sparse`` (a
    full-attention layer of a DSA model), ``mamba``, or ``none`` (an MLP-only layer)."""
    kind = model.layer_type(layer)
    if kind == "linear_attention":
        return LINEAR
    if kind == "mamba":
        return MAMBA
    if kind == "mlp":
        return NONE
    if kind == "sliding_attention":
        return SLIDING
    if kind == "compressed_sparse_attention":
        return CSA
    if kind == "heavily_compressed_attention":
        return HCA
    return SPARSE if model.index_topk is not None else FULL


def caches_kv(model: ModelSpec, layer: int) -> bool:
    """Does this layer add to the KV cache with every token? (Linear attention and Mamba keep a
    fixed state; an MLP-only layer caches nothing.)"""
    return layer_kind(model, layer) in (FULL, SLIDING, SPARSE, CSA, HCA)


def has_mlp(model: ModelSpec, layer: int) -> bool:
    """Does this layer hold an MLP (or MoE) block? Every layer does, except in a
    ``hybrid_override_pattern`` model, where only the ``-`` layers do."""
    pattern = model.hybrid_override_pattern
    return pattern is None or pattern[layer] == "-"


def kv_layers(model: ModelSpec, layers: range | None = None) -> int:
    """How many of ``layers`` (default: all) cache keys and values."""
    layers = range(model.num_hidden_layers) if layers is None else layers
    return sum(1 for layer in layers if caches_kv(model, layer))


def state_elements(model: ModelSpec, layers: range | None = None) -> float:
    """Fixed state values one sequence holds over ``layers`` (default: all), all heads."""
    layers = range(model.num_hidden_layers) if layers is None else layers
    total = 0.0
    for layer in layers:
        kind = layer_kind(model, layer)
        if kind == LINEAR:
            total += linear_state_elements(model)
        elif kind == MAMBA:
            total += mamba_state_elements(model)
    return total


def _mamba_dims(model: ModelSpec) -> tuple[int, int]:
    """(d_inner, the convolution's channels d_inner + 2 g N)."""
    d_inner = model.mamba_num_heads * model.mamba_head_dim
    return d_inner, d_inner + 2 * model.n_groups * model.ssm_state_size


def mamba_params(model: ModelSpec) -> float:
    """Weights of one Mamba-2 mixer (module docstring)."""
    h = model.hidden_size
    d_inner, conv_dim = _mamba_dims(model)
    in_proj = h * (d_inner + conv_dim + model.mamba_num_heads)  # z, x, B, C, dt
    return float(in_proj + conv_dim * model.conv_kernel + d_inner * h)


def mamba_state_elements(model: ModelSpec) -> float:
    """State values of one Mamba-2 mixer per sequence: n_h d_h N + (kernel - 1)(d_inner + 2 g N)."""
    d_inner, conv_dim = _mamba_dims(model)
    return float(d_inner * model.ssm_state_size + (model.conv_kernel - 1) * conv_dim)


def mamba_token_flops(model: ModelSpec) -> float:
    d_inner, conv_dim = _mamba_dims(model)
    return float(STATE_FLOPS_PER_ELEMENT * d_inner * model.ssm_state_size + 2 * conv_dim * model.conv_kernel)


def _conv_dim(model: ModelSpec) -> int:
    return 2 * model.linear_num_key_heads * model.linear_key_head_dim + model.linear_num_value_heads * model.linear_value_head_dim


def linear_attention_params(model: ModelSpec) -> float:
    """Weights of one Gated DeltaNet block (module docstring)."""
    h = model.hidden_size
    nk, nv = model.linear_num_key_heads, model.linear_num_value_heads
    dk, dv = model.linear_key_head_dim, model.linear_value_head_dim
    qkvz = h * (2 * nk * dk + 2 * nv * dv)
    ba = h * 2 * nv
    conv = _conv_dim(model) * model.linear_conv_kernel_dim
    out = nv * dv * h
    return float(qkvz + ba + conv + out)


def linear_state_elements(model: ModelSpec) -> float:
    """Values one sequence keeps per linear-attention layer, all heads: n_v d_k d_v (the state
    matrices) + (kernel - 1) (2 n_k d_k + n_v d_v) (the convolution's window)."""
    state = model.linear_num_value_heads * model.linear_key_head_dim * model.linear_value_head_dim
    return float(state + (model.linear_conv_kernel_dim - 1) * _conv_dim(model))


def linear_token_flops(model: ModelSpec) -> float:
    """FLOPs per token of one linear-attention layer besides its projections (all heads)."""
    state = model.linear_num_value_heads * model.linear_key_head_dim * model.linear_value_head_dim
    return float(STATE_FLOPS_PER_ELEMENT * state + 2 * _conv_dim(model) * model.linear_conv_kernel_dim)


def output_gate_params(model: ModelSpec) -> float:
    """Extra query-projection weights of gated attention: h x n_q d (0 without the gate)."""
    if not model.attn_output_gate:
        return 0.0
    return float(model.hidden_size * model.num_attention_heads * model.head_width)


def indexer_params(model: ModelSpec) -> float:
    """DSA lightning-indexer weights of one layer (0 without DSA; DeepSeek-V4's indexer is
    costmodel/compressed.py's)."""
    if model.index_topk is None or model.has_compressed_attention:
        return 0.0
    h, n, d = model.hidden_size, model.index_n_heads, model.index_head_dim
    q_in = model.q_lora_rank or h
    return float(q_in * n * d + h * d + h * n)


def indexer_kv_elements(model: ModelSpec) -> float:
    """Indexer key values cached per token per layer (0 without DSA)."""
    return float(model.index_head_dim) if model.index_topk is not None and not model.has_compressed_attention else 0.0


def mixer_params(model: ModelSpec, layer: int) -> float | None:
    """Weights of a stateful or absent mixer (None for attention, costed elsewhere)."""
    kind = layer_kind(model, layer)
    if kind == LINEAR:
        return linear_attention_params(model)
    if kind == MAMBA:
        return mamba_params(model)
    if kind == NONE:
        return 0.0
    return None


def stateful_cost(dep, layer: int, shape) -> tuple[float, float, float]:
    """(weights, memory bytes, FLOPs) of one linear-attention or Mamba-2 layer on one GPU for one
    step: its weight share once (in the attention modules' dtype), and every sequence's state share
    read and written once (a prefill chunk runs the chunked form of the recurrence, which also loads
    and stores the state once)."""
    m, tp = dep.model, dep.tp
    linear = layer_kind(m, layer) == LINEAR
    params = (linear_attention_params(m) if linear else mamba_params(m)) / tp
    state = (linear_state_elements(m) if linear else mamba_state_elements(m)) / tp * dep.kv_bytes_per_value
    token_flops = linear_token_flops(m) if linear else mamba_token_flops(m)
    memory = params * dep.bytes_of("attention") + 2 * shape.seqs * state
    flops = 2 * params * shape.new_tokens + token_flops / tp * shape.new_tokens
    return params, memory, flops


def indexer_cost(dep, shape) -> tuple[float, float, float]:
    """(weights, memory bytes, FLOPs) the DSA indexer adds to one layer on one GPU: its weights (in
    the attention modules' dtype), every cached token's indexer key (the whole context, not the
    top-k), and scores over every pair."""
    m = dep.model
    if m.index_topk is None:
        return 0.0, 0.0, 0.0
    params = indexer_params(m)
    memory = (params * dep.bytes_of("attention")
              + (shape.kv_read_tokens + shape.new_tokens) * indexer_kv_elements(m) * dep.kv_bytes_per_value)
    flops = 2 * params * shape.new_tokens + 2 * m.index_n_heads * m.index_head_dim * shape.attn_pairs
    return params, memory, flops
