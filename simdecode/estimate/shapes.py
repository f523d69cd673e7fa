"""Synthetic models of a given active-parameter count, with realistic shapes.

``estimate`` searches over model *sizes*, but the simulator costs a model from its shape (layers,
width, heads, experts): per-layer fixed costs (kernel launches, two all-reduces per layer) and
KV-cache bytes depend on the shape, not only on the parameter count. The scaling rule below gives
every size one documented shape, calibrated on Llama 3 (Dubey et al. 2024, arXiv 2407.21783,
table 3: 8B 32 x 4096, 70B 80 x 8192, 405B 126 x 16384):

- width   h = 4096 (A / 8.03e9)^0.319 to a multiple of 128 (the power law through Llama-3.1-8B's
          width and Llama-3.1-70B's), at least 1024;
- heads   query heads a multiple of ``unit`` (max(8, largest tp), so every tp of the search
          divides them); grouped-query attention: head width 128, 8 KV heads; or multi-head
          latent attention in DeepSeek-V3's proportions (:func:`attention`); vocabulary 128,256,
          untied LM head;
- dense   about h/128 query heads, gated MLP of width 3.5 h (rounded to 256); the layer count L
          is what the parameter budget leaves: L = round((A - 2 V h) / (params per layer)).
          This reproduces Llama-3.1-8B (32 x 4096, MLP 14336) and Llama-3.1-70B (80 x 8192, MLP
          28672) exactly and gives 154 x 14336 for 405B (real: 126 x 16384);
- MoE     (total/active R, E routed experts, top-k K, one shared expert): query width about 2 h
          (GLM-4.7 2.4 h, Qwen3-235B 2.0 h, DeepSeek-V3 2.3 h); with x the parameters of one
          expert, total - active = L (E - K) x = (R - 1) A fixes L x, and the active budget
          A = 2 V h + L (attention + router) + L (K + 1) x fixes L. For A = 32B, R = 11.1,
          E = 160, K = 8 this gives 66 layers of width 6400 with experts of width 1664, 31.9B
          active and 352B total (GLM-4.7, 32B / 355B: 92 layers of width 5120, experts of width
          1536, three dense leading layers): the rule's MoE is shallower and wider than GLM's.

Along the ladder both the active parameters and the layer count never decrease (a rung whose
width step would remove a layer is skipped), so every byte and fixed cost of a step grows with the
rung and per-user speed falls with size.

Sizes are searched on a geometric ladder (ratio :data:`STEP`); each rung is a real shape and
its active count is the model's own (:func:`~simdecode.costmodel.architecture.parameter_counts`).
"""

from __future__ import annotations

import math
from functools import lru_cache

from simdecode.costmodel.architecture import attention_params_per_layer, parameter_counts
from simdecode.estimate.space import Arch
from simdecode.scenario.model import MAX_LAYERS, ModelSpec

VOCAB = 128_256
HEAD = 128
KV_HEADS = 8
#: ratio between consecutive rungs of the size ladder
STEP = 1.06
#: fewer layers than this make no realistic model (the rule's smallest MoE would have 2 layers of
#: huge experts); Llama-3.2-1B has 16
MIN_LAYERS = 8
#: the ladder's range of nominal active parameters
LADDER_MIN, LADDER_MAX = 0.5e9, 20e12


def width(active: float) -> int:
    """Residual width for ``active`` parameters: 4096 (A / 8.03e9)^0.319 to a multiple of 128 (the
    power law through Llama-3.1-8B's 4096 and Llama-3.1-70B's 8192), at least 1024."""
    ideal = 4096.0 * (active / 8.03e9) ** 0.319
    return int(max(8, round(ideal / HEAD)) * HEAD)


def heads(q_width: float, unit: int) -> int:
    """Query heads of width 128 closest to ``q_width``, a multiple of ``unit`` (so every tp of the
    search divides them)."""
    return int(max(1, round(q_width / HEAD / unit)) * unit)


def attention(h: int, q_width: float, unit: int, kind: str) -> tuple[dict, float]:
    """ModelSpec keys of one attention block of width ``h``, and its parameters.

    ``gqa``: head width 128, 8 KV heads. ``mla``: DeepSeek-V3's proportions (arXiv 2412.19437,
    config.json: 128 heads and a query latent of 1536 at width 7168): query latent 0.214 h, KV
    latent 512, rotary 64, non-rotary 128 and value 128 per head."""
    n_q = heads(q_width, unit)
    if kind == "mla":
        keys = {"num_attention_heads": n_q, "num_key_value_heads": n_q, "head_dim": HEAD,
                "q_lora_rank": int(max(1, round(0.214 * h / 64)) * 64), "kv_lora_rank": 512,
                "qk_rope_head_dim": 64, "qk_nope_head_dim": 128, "v_head_dim": 128}
    else:
        keys = {"num_attention_heads": n_q, "num_key_value_heads": KV_HEADS, "head_dim": HEAD}
    probe = ModelSpec(num_hidden_layers=1, hidden_size=h, intermediate_size=1, vocab_size=1, **keys)
    return keys, attention_params_per_layer(probe)


def dense(active: float, unit: int, kind: str = "gqa") -> ModelSpec | None:
    """A Llama-3-shaped dense model of about ``active`` parameters (None: outside MIN_LAYERS..MAX_LAYERS)."""
    h = width(active)
    keys, attn = attention(h, h, unit, kind)
    ffn = int(round(3.5 * h / 256) * 256)
    per_layer = attn + 3 * h * ffn
    layers = round((active - 2 * VOCAB * h) / per_layer)
    if not MIN_LAYERS <= layers <= MAX_LAYERS:
        return None
    suffix = "-mla" if kind == "mla" else ""
    return ModelSpec(name=f"dense{suffix}-{layers}x{h}", num_hidden_layers=layers, hidden_size=h,
                     intermediate_size=ffn, vocab_size=VOCAB, num_nextn_predict_layers=1, **keys)


def moe(active: float, arch: Arch, unit: int) -> ModelSpec | None:
    """A fine-grained MoE of about ``active`` active parameters (see the module docstring)."""
    h = width(active)
    keys, attn = attention(h, 2 * h, unit, arch.attention)
    layer_x = (arch.ratio - 1.0) * active / (arch.experts - arch.top_k)  # L x
    rest = active - 2 * VOCAB * h - (arch.top_k + 1) * layer_x
    layers = round(rest / (attn + h * arch.experts)) if rest > 0 else 0
    if not MIN_LAYERS <= layers <= MAX_LAYERS:
        return None
    expert_width = int(round(layer_x / layers / (3 * h) / 64) * 64)
    if expert_width < 64:
        return None
    suffix = "-mla" if arch.attention == "mla" else ""
    return ModelSpec(name=f"moe{suffix}-{layers}x{h}-e{arch.experts}k{arch.top_k}w{expert_width}",
                     num_hidden_layers=layers, hidden_size=h, intermediate_size=expert_width,
                     moe_intermediate_size=expert_width, num_local_experts=arch.experts,
                     num_experts_per_tok=arch.top_k, n_shared_experts=1, vocab_size=VOCAB,
                     num_nextn_predict_layers=1, **keys)


def synthetic(active: float, arch: Arch, unit: int) -> ModelSpec | None:
    return moe(active, arch, unit) if arch.is_moe else dense(active, unit, arch.attention)


def active_params(model: ModelSpec) -> float:
    return parameter_counts(model).active


def total_params(model: ModelSpec) -> float:
    return parameter_counts(model).total


@lru_cache(maxsize=64)
def ladder(arch: Arch, unit: int) -> tuple[ModelSpec, ...]:
    """Distinct shapes of ``arch`` from :data:`LADDER_MIN` to :data:`LADDER_MAX` nominal active
    parameters, in strictly increasing order of their own active count."""
    rungs: list[ModelSpec] = []
    last, layers = 0.0, 0
    n = int(math.log(LADDER_MAX / LADDER_MIN) / math.log(STEP)) + 1
    for i in range(n):
        model = synthetic(LADDER_MIN * STEP**i, arch, unit)
        if model is None:
            continue
        a = active_params(model)
        # keep the layer count non-decreasing too: a rung whose width step removed a layer would
        # run faster than the one below it (fewer per-layer fixed costs) and break the search's
        # monotonicity; the next rung restores the depth
        if a > last * 1.001 and model.num_hidden_layers >= layers:
            rungs.append(model)
            last, layers = a, model.num_hidden_layers
    return tuple(rungs)
