"""DeepSeek-V4's compressed attention: what each layer holds, caches and costs per step.

Sources: DeepSeek-V4 technical report (huggingface.co/deepseek-ai/DeepSeek-V4-Pro, DeepSeek_V4.pdf,
section 2.3), the checkpoints' config.json (deepseek-ai/DeepSeek-V4-Flash and -Pro), transformers'
``models/deepseek_v4`` (modular_deepseek_v4.py, configuration_deepseek_v4.py), DeepSeek's reference
``inference/model.py`` shipped with the checkpoints, and SGLang's ``deepseek_v4_memory_pool.py``.

Every attention layer of a V4 model is one block (``DeepseekV4Attention``) with ONE shared key-value
head of width d = ``head_dim`` (512; keys and values are the same tensor, its last d_r =
``qk_rope_head_dim`` = 64 values rotated) and n_q query heads; ``layer_types`` (or config.json's
``compress_ratios``: 0, 4, 128) chooses what it attends to besides a sliding window of the last
w = ``sliding_window`` (128) tokens, which every layer keeps as a ring of w entries per sequence:

- ``sliding_attention`` (ratio 0): the window only.
- ``compressed_sparse_attention`` (CSA, rate m = 4): a compressor pools every m tokens into one
  cached entry of width d (softmax-gated over 2m tokens: windows overlap, stride m); a lightning
  indexer (its own n_i = ``index_n_heads`` query heads of d_i = ``index_head_dim``, its own compressor
  to d_i-wide keys, one per m tokens) scores the query against EVERY compressed key and the attention
  reads only the k = ``index_topk`` best compressed entries (plus the window).
- ``heavily_compressed_attention`` (HCA, rate m' = 128): the compressor pools every m' tokens
  (no overlap, no indexer) and the attention reads every compressed entry (plus the window).

Weights of one layer (counts; transformers' names with the checkpoint's in brackets):
    q_a_proj [wq_a] h x r_q, q_b_proj [wq_b] r_q x n_q d, kv_proj [wkv] h x d,
    o_a_proj [wo_a] n_q d x r_o (g groups, each n_q d / g -> r_o), o_b_proj [wo_b] g r_o x h
    CSA: compressor kv/gate 2 x h x 2d; indexer q_b r_q x n_i d_i, weights_proj h x n_i,
         indexer compressor kv/gate 2 x h x 2 d_i
    HCA: compressor kv/gate 2 x h x d
(r_q = ``q_lora_rank``, g = ``o_groups``, r_o = ``o_lora_rank``; the attention sinks, norms and
the compressors' position biases are < 0.1 % and left out, as norms are everywhere.) The checkpoints
store the projections and the indexer's q_b in fp8 e4m3 with 128 x 128 ue8m0 block scales (the
model's ``attention`` dtype here), the compressors and weights_proj in bf16 (2 B whatever the
scenario's precision, like the router; vLLM's DeepseekV4FP8Config: fp8 block linears, MXFP4 experts
for ``expert_dtype: fp4``). Under tensor parallelism the query heads, wq_b, wo_a (whole groups) and
wo_b split over the ranks; wq_a, wkv, the compressors, the indexer and the whole KV cache are
replicated (one KV head, as MLA's latent: deployment.py; vLLM's deepseek_v4_attention.py runs a
replicated ``fused_wqa_wkv``, TP-adjusted heads and ``n_local_groups = o_groups // tp``).

Cache layout (SGLang ``DeepSeekV4SingleKVPool``: "448 + 64 * 2 + 8 = 584 bytes/token", vLLM's
``head_bytes`` the same; the report:
BF16 for the rotary dimensions, FP8 for the rest): with an fp8 KV cache one entry (window or
compressed) is (d - d_r) fp8 values + d_r bf16 values + one ue8m0 scale per 64 fp8 values + 1 pad
byte = 448 + 128 + 7 + 1 = 584 B; an indexer key is d_i fp8 values + one fp32 scale per 128 =
132 B (SGLang ``get_dsv4_indexer_bytes_per_token``). Any other KV dtype: d (d_i) values of it.

What one sequence holds, per layer:
    fixed    w entries (the window ring) + the compressor's state: the reference keeps fp32
             ``kv_state`` and ``score_state`` of (coff m) x (coff d) (coff = 2 with overlap, CSA;
             1 for HCA), the indexer's likewise at d_i: CSA 2 x 8 x 1024 x 4 + 2 x 8 x 256 x 4 =
             80 KiB, HCA 2 x 128 x 512 x 4 = 512 KiB
    growing  CSA (E + E_i) / m per token of context, HCA E / m' (E, E_i: entry bytes above)

Per step, per layer on one GPU (decode and prefill alike: the reference runs prefill through the
same sparse kernel, ``sparse_attn`` over window + compressed entries):
    reads    weights once; window entries min(c, w) per query's sequence; CSA: min(c/m, k)
             compressed entries and all c/m indexer keys; HCA: all c/m' compressed entries;
             the compressor state once every m (m') new tokens
    writes   one window entry per new token, one compressed entry (and indexer key) per m (m')
             new tokens, the new token's state row (2 coff d fp32 values, and the indexer's)
    FLOPs    2 per weight per token (replicated weights on every rank); 4 d per (query, entry)
             pair and query head (QK over d, PV over d: keys are the values); CSA's indexer
             2 n_i d_i per (query, compressed key) pair over ALL compressed keys
Compressed entries per sequence are taken as c / m (the partial last group is in the state, not the
cache): exact at multiples of m, within one entry otherwise.

Not modelled: the hyper-connections' own arithmetic (hc_mult = 4 residual streams; their bytes are
charged as a residual stream hc_mult times wider, modules.py), the hash routing of the first MoE
layers (``num_hash_layers``: a token-id table picks the same k experts per token as a learned router
would, so costed as one), attention sinks, and the FP4 indexer path the report describes (SGLang's
default cache is the fp8 one above).
"""

from __future__ import annotations

from simdecode.scenario.model import ModelSpec

CSA, HCA, WINDOW = "compressed_sparse_attention", "heavily_compressed_attention", "sliding_attention"
#: the compressors' pooling state is fp32 in DeepSeek's reference inference code
STATE_BYTES_PER_VALUE = 4.0
#: checkpoint dtype of the compressors and the indexer's weights_proj (bf16), bytes per value
COMPRESSOR_BYTES_PER_VALUE = 2.0
#: fp8 entry: one ue8m0 scale byte per this many fp8 values, plus one pad byte (SGLang's layout)
FP8_NOPE_GROUP, FP8_SCALE_PAD = 64, 1
#: fp8 indexer key: one fp32 scale per this many values
FP8_INDEX_GROUP, FP8_INDEX_SCALE_BYTES = 128, 4
#: kernels a V4 block launches beyond a dense layer's attention half: MLA's eight-module chain
#: (costmodel/mla.py EXTRA_KERNELS = 4 beyond GQA's), the second GEMM of the grouped output
#: projection, and the compressor's projection and pooling kernels
EXTRA_KERNELS = 4 + 1
COMPRESSOR_KERNELS = 2
#: block-scaled fp8 GEMMs whose input is quantised: wq_a with wkv (fused), wq_b, wo_a, wo_b
QUANTISED_GEMMS = 4


def kind(model: ModelSpec, layer: int) -> str:
    """``sliding_attention``, ``compressed_sparse_attention`` or ``heavily_compressed_attention``."""
    return model.layer_type(layer)


def ratio(model: ModelSpec, layer_kind: str) -> int:
    """Tokens pooled into one cached entry by layers of ``layer_kind`` (0: the window only)."""
    return model.rates.get(layer_kind, 0)


def _coff(layer_kind: str) -> int:
    """2 where windows overlap (CSA: each entry pools 2m tokens at stride m), else 1."""
    return 2 if layer_kind == CSA else 1


# ---- weights --------------------------------------------------------------------------------

def replicated_core_params(model: ModelSpec) -> float:
    """wq_a + wkv: h (r_q + d), held whole by every TP rank."""
    return float(model.hidden_size * (model.q_lora_rank + model.head_dim))


def core_params(model: ModelSpec) -> float:
    """One block's projections (module docstring): h r_q + r_q n_q d + h d + n_q d r_o + g r_o h.

    >>> from simdecode.presets import preset
    >>> int(core_params(ModelSpec.model_validate(preset("models", "deepseek-v4-flash"))))
    106954752
    """
    h, rq, nq, d = model.hidden_size, model.q_lora_rank, model.num_attention_heads, model.head_dim
    return float(h * rq + rq * nq * d + h * d + nq * d * model.o_lora_rank + model.o_groups * model.o_lora_rank * h)


def indexer_query_params(model: ModelSpec, layer_kind: str) -> float:
    """The indexer's wq_b (r_q x n_i d_i, fp8), CSA layers only."""
    if layer_kind != CSA:
        return 0.0
    return float(model.q_lora_rank * model.index_n_heads * model.index_head_dim)


def compressor_params(model: ModelSpec, layer_kind: str) -> float:
    """bf16 weights: the compressor's kv and gate projections (2 x h x coff d), and for CSA the
    indexer's compressor (2 x h x 2 d_i) and weights_proj (h x n_i); 0 for a window-only layer."""
    h = model.hidden_size
    if layer_kind == CSA:
        return float(2 * h * 2 * model.head_dim + 2 * h * 2 * model.index_head_dim + h * model.index_n_heads)
    if layer_kind == HCA:
        return float(2 * h * model.head_dim)
    return 0.0


def layer_params(model: ModelSpec, layer: int) -> float:
    """All token-mixing weights of ``layer`` (counts)."""
    k = kind(model, layer)
    return core_params(model) + indexer_query_params(model, k) + compressor_params(model, k)


def params_per_gpu(model: ModelSpec, layer: int, tp: int) -> float:
    """Weights one TP rank holds for ``layer``: the split projections / tp, the rest whole."""
    k = kind(model, layer)
    rep = replicated_core_params(model)
    return rep + (core_params(model) - rep) / tp + indexer_query_params(model, k) + compressor_params(model, k)


def weight_bytes_per_gpu(model: ModelSpec, layer: int, tp: int, attention_bytes: float) -> float:
    """Bytes of ``layer``'s token-mixing weights on one TP rank: the fp8-class projections in the
    attention dtype, the compressors in bf16."""
    k = kind(model, layer)
    return ((params_per_gpu(model, layer, tp) - compressor_params(model, k)) * attention_bytes
            + compressor_params(model, k) * COMPRESSOR_BYTES_PER_VALUE)


# ---- cache ----------------------------------------------------------------------------------

def entry_bytes(model: ModelSpec, kv_bytes: float) -> float:
    """Bytes of one cached entry (window or compressed). fp8: (d - d_r) + 2 d_r + (d - d_r)/64 + 1.

    >>> from simdecode.presets import preset
    >>> entry_bytes(ModelSpec.model_validate(preset("models", "deepseek-v4-flash")), 1.0)
    584.0
    """
    d, rope = model.head_dim, model.qk_rope_head_dim or 0
    if kv_bytes == 1.0:
        nope = d - rope
        return float(nope + 2 * rope + -(-nope // FP8_NOPE_GROUP) + FP8_SCALE_PAD)
    return float(d * kv_bytes)


def index_entry_bytes(model: ModelSpec, kv_bytes: float) -> float:
    """Bytes of one indexer key. fp8: d_i + 4 d_i / 128 (DeepSeek-V4: 132)."""
    di = model.index_head_dim or 0
    if kv_bytes == 1.0:
        return float(di + FP8_INDEX_SCALE_BYTES * -(-di // FP8_INDEX_GROUP))
    return float(di * kv_bytes)


def state_bytes(model: ModelSpec, layer_kind: str) -> float:
    """The compressor's fp32 pooling state of one sequence in one layer (module docstring)."""
    if layer_kind not in (CSA, HCA):
        return 0.0
    c, m = _coff(layer_kind), ratio(model, layer_kind)
    total = 2 * (c * m) * (c * model.head_dim)
    if layer_kind == CSA:
        total += 2 * (c * m) * (c * model.index_head_dim)
    return total * STATE_BYTES_PER_VALUE


def state_row_bytes(model: ModelSpec, layer_kind: str) -> float:
    """State bytes one new token writes (its projected kv and gate rows, and the indexer's)."""
    if layer_kind not in (CSA, HCA):
        return 0.0
    c = _coff(layer_kind)
    row = 2 * c * model.head_dim + (2 * c * model.index_head_dim if layer_kind == CSA else 0)
    return row * STATE_BYTES_PER_VALUE


def growing_bytes_per_token(model: ModelSpec, layer: int, kv_bytes: float) -> float:
    """Cache bytes one more token of context adds to ``layer`` (amortised over the pooling group):
    CSA (E + E_i) / m, HCA E / m', a window-only layer 0."""
    k = kind(model, layer)
    if k == CSA:
        return (entry_bytes(model, kv_bytes) + index_entry_bytes(model, kv_bytes)) / ratio(model, k)
    if k == HCA:
        return entry_bytes(model, kv_bytes) / ratio(model, k)
    return 0.0


def fixed_bytes_per_sequence(model: ModelSpec, layer: int, kv_bytes: float) -> float:
    """Bytes one sequence holds in ``layer`` whatever its length: the window ring and the
    compressor's state."""
    return model.sliding_window * entry_bytes(model, kv_bytes) + state_bytes(model, kind(model, layer))


def kv_bytes_per_token(model: ModelSpec, kv_bytes: float, layers: range | None = None) -> float:
    """Growing cache bytes per token of context over ``layers`` (default all), on every TP rank."""
    layers = range(model.num_hidden_layers) if layers is None else layers
    return sum(growing_bytes_per_token(model, layer, kv_bytes) for layer in layers)


def fixed_bytes(model: ModelSpec, kv_bytes: float, layers: range | None = None) -> float:
    """Fixed bytes per sequence over ``layers`` (default all), on every TP rank."""
    layers = range(model.num_hidden_layers) if layers is None else layers
    return sum(fixed_bytes_per_sequence(model, layer, kv_bytes) for layer in layers)


def dense_equivalent_bytes_per_token(model: ModelSpec, kv_bytes: float) -> float:
    """What the same layers would cache per token with plain (uncompressed, unwindowed) attention of
    one d-wide shared KV head: L x E. The compressed cache never exceeds it past the window."""
    return model.num_hidden_layers * entry_bytes(model, kv_bytes)


# ---- one step -------------------------------------------------------------------------------

def step_cost(model: ModelSpec, layer: int, tp: int, shape, kv_bytes: float) -> dict[str, tuple[float, float]]:
    """(HBM bytes besides weights, FLOPs besides projections) of ``layer`` on one GPU for a step of
    ``shape`` (a BatchShape whose window is ``sliding_window`` and whose sparse cap is m k tokens),
    by part: ``attention`` (window and compressed entries, state traffic), ``indexer`` (CSA)."""
    k = kind(model, layer)
    heads = model.num_attention_heads / tp
    per_pair = 4 * model.head_dim
    e = entry_bytes(model, kv_bytes)
    new = shape.new_tokens
    nbytes = (shape.window_kv_read_tokens + new) * e
    pairs = shape.window_attn_pairs
    index = (0.0, 0.0)
    if k in (CSA, HCA):
        m = ratio(model, k)
        nbytes += new * state_row_bytes(model, k) + new / m * state_bytes(model, k)
        if k == CSA:
            ei = index_entry_bytes(model, kv_bytes)
            nbytes += (shape.sparse_kv_read_tokens + new) / m * e
            pairs += shape.sparse_attn_pairs / m
            index = ((shape.kv_read_tokens + new) / m * ei,
                     2 * model.index_n_heads * model.index_head_dim * shape.attn_pairs / m)
        else:
            nbytes += (shape.kv_read_tokens + new) / m * e
            pairs += shape.attn_pairs / m
    return {"attention": (nbytes, heads * per_pair * pairs), "indexer": index}
