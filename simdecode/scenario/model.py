"""A transformer's architecture in Hugging Face ``config.json`` vocabulary.

Users paste what they know from a model card; simdecode derives parameter counts, bytes and
FLOPs from it (:mod:`simdecode.costmodel.architecture`). Dense, grouped-query, mixture-of-experts
(Mixtral, DeepSeek, Qwen3, GPT-OSS), multi-head latent attention (DeepSeek-V2/V3) and
multi-token-prediction modules are covered.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, model_validator

from simdecode.scenario.hardware import Spec
from simdecode.scenario.types import DType

MAX_LAYERS = 1000
#: the layer kinds ``layer_types`` may name (Hugging Face spellings)
LAYER_TYPES = ("full_attention", "sliding_attention", "linear_attention", "compressed_sparse_attention",
               "heavily_compressed_attention")
#: DeepSeek-V4's compressed attention layers (transformers' DeepseekV4Config spellings)
COMPRESSED_TYPES = ("compressed_sparse_attention", "heavily_compressed_attention")
#: their default compression rates m and m' (DeepseekV4Config.default_compress_rates)
DEFAULT_COMPRESS_RATES = {"compressed_sparse_attention": 4, "heavily_compressed_attention": 128}
#: Nemotron-H's hybrid_override_pattern: each layer holds one of these alone
PATTERN_LAYERS = {"M": "mamba", "*": "full_attention", "-": "mlp"}
MAX_DIM = 1_000_000


class NativePrecision(Spec):
    """The dtypes a checkpoint ships in (from Hugging Face ``quantization_config`` or a preset);
    used for every module the scenario's ``precision`` does not set."""

    weights: DType | None = Field(None, description="default of every weight module")
    attention: DType | None = None
    mlp: DType | None = None
    experts: DType | None = None
    embeddings: DType | None = None
    kv_cache: DType | None = None


class ModelSpec(Spec):
    """Architecture of a decoder-only transformer (Hugging Face config keys)."""

    name: str = Field("custom", description="catalogue or file name")
    num_hidden_layers: int = Field(ge=1, le=MAX_LAYERS, description="transformer blocks")
    hidden_size: int = Field(ge=1, le=MAX_DIM, description="residual width d_model")
    num_attention_heads: int = Field(ge=1, le=4096, description="query heads")
    num_key_value_heads: int | None = Field(
        None, ge=1, le=4096, description="KV heads (grouped-query attention); default: query heads"
    )
    head_dim: int | None = Field(
        None, ge=1, le=16384, validation_alias=AliasChoices("head_dim", "attention_head_dim"),
        description="per-head width (also attention_head_dim); default hidden/heads",
    )
    intermediate_size: int = Field(ge=1, le=MAX_DIM, description="dense MLP width (and Mixtral's expert width)")
    vocab_size: int = Field(ge=1, le=10_000_000, description="tokens in the vocabulary")
    tie_word_embeddings: bool = Field(False, description="the LM head shares the embedding matrix")
    mlp_gated: bool = Field(True, description="SwiGLU-style MLP with three matrices (False: two)")
    # mixture of experts
    num_local_experts: int | None = Field(
        None, ge=1, le=100_000, validation_alias=AliasChoices("num_local_experts", "n_routed_experts", "num_experts"),
        description="routed experts per MoE layer (also n_routed_experts)",
    )
    num_experts_per_tok: int | None = Field(None, ge=1, le=1024, description="experts each token is routed to")
    moe_intermediate_size: int | None = Field(None, ge=1, le=MAX_DIM, description="width of one routed expert")
    n_shared_experts: int = Field(0, ge=0, le=64, description="always-active shared experts")
    routing_correlation: float = Field(
        0.0, ge=0.0, le=1.0, description="simdecode extension: share of a token's experts also chosen by the "
        "previous token of the same sequence (0: independent routing)"
    )
    first_k_dense_replace: int = Field(0, ge=0, le=MAX_LAYERS, description="leading layers with a dense MLP")
    # multi-head latent attention (DeepSeek-V2/V3)
    kv_lora_rank: int | None = Field(None, ge=1, le=MAX_DIM, description="MLA compressed KV width")
    q_lora_rank: int | None = Field(None, ge=1, le=MAX_DIM, description="MLA compressed query width")
    qk_rope_head_dim: int | None = Field(None, ge=0, le=16384, description="MLA rotary part of q/k heads")
    qk_nope_head_dim: int | None = Field(None, ge=0, le=16384, description="MLA non-rotary part of q/k heads")
    v_head_dim: int | None = Field(None, ge=1, le=16384, description="MLA value head width")
    # sliding-window attention (GPT-OSS alternates sliding and full layers)
    sliding_window: int | None = Field(None, ge=1, le=100_000_000,
                                       description="window of sliding-attention layers, tokens")
    layer_types: tuple[str, ...] | None = Field(
        None, description="per layer 'full_attention', 'sliding_attention', 'linear_attention' (Gated "
        "DeltaNet / Mamba-style recurrent state), 'compressed_sparse_attention' or "
        "'heavily_compressed_attention' (DeepSeek-V4) (default: all full, or full_attention_interval)"
    )
    # DeepSeek-V4 compressed attention (simdecode/costmodel/compressed.py)
    compress_ratios: tuple[int, ...] | None = Field(
        None, description="DeepSeek-V4 config.json: per layer 0 (sliding window only), the compressed-sparse "
        "rate (4) or the heavily-compressed rate (128); entries past num_hidden_layers belong to the MTP modules"
    )
    o_groups: int | None = Field(None, ge=1, le=4096, description="DeepSeek-V4 grouped output projection: head groups")
    o_lora_rank: int | None = Field(None, ge=1, le=MAX_DIM, description="DeepSeek-V4 grouped output projection: "
                                    "rank per group")
    hc_mult: int = Field(1, ge=1, le=64, description="hyper-connection residual streams (DeepSeek-V4: 4)")
    # hybrid linear attention (Qwen3-Next / Qwen3.5 Gated DeltaNet; simdecode/costmodel/layers.py)
    full_attention_interval: int | None = Field(
        None, ge=1, le=MAX_LAYERS, description="without layer_types: every n-th layer is full attention, the "
        "others linear attention (Qwen3-Next)"
    )
    linear_num_key_heads: int | None = Field(None, ge=1, le=4096, description="linear-attention key heads")
    linear_num_value_heads: int | None = Field(None, ge=1, le=4096, description="linear-attention value heads")
    linear_key_head_dim: int | None = Field(None, ge=1, le=16384, description="linear-attention key head width")
    linear_value_head_dim: int | None = Field(None, ge=1, le=16384, description="linear-attention value head width")
    linear_conv_kernel_dim: int = Field(4, ge=1, le=64, description="short causal convolution width")
    attn_output_gate: bool = Field(
        False, description="gated attention: the query projection also yields a sigmoid gate on the output (Qwen3.5)"
    )
    # hybrid Mamba-2 models whose layers hold a single mixer or MLP (Nemotron-H)
    hybrid_override_pattern: str | None = Field(
        None, description="one character per layer: M a Mamba-2 mixer, * attention, - an MLP, each alone (Nemotron-H)"
    )
    mamba_num_heads: int | None = Field(None, ge=1, le=4096, description="Mamba-2 heads")
    mamba_head_dim: int | None = Field(None, ge=1, le=16384, description="Mamba-2 head width")
    ssm_state_size: int | None = Field(None, ge=1, le=16384, description="Mamba-2 state size per head channel")
    n_groups: int = Field(1, ge=1, le=1024, description="Mamba-2 groups of B and C")
    conv_kernel: int = Field(4, ge=1, le=64, description="Mamba-2 causal convolution width")
    # DeepSeek sparse attention (V3.2): a lightning indexer picks the top-k cached tokens
    index_topk: int | None = Field(None, ge=1, description="DSA: cached tokens each query attends to")
    index_n_heads: int | None = Field(None, ge=1, le=4096, description="DSA: indexer heads")
    index_head_dim: int | None = Field(None, ge=1, le=16384, description="DSA: indexer key width (cached)")
    # multi-token prediction (DeepSeek-V3)
    num_nextn_predict_layers: int = Field(0, ge=0, le=16, description="MTP modules (one extra block each)")
    max_position_embeddings: int | None = Field(None, ge=1, le=100_000_000,
                                                description="longest context the model supports")
    native_precision: NativePrecision | None = Field(
        None, description="simdecode extension: the checkpoint's dtypes per module (read from a config.json's "
        "quantization_config), used where the scenario's precision does not say"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        kv = self.num_key_value_heads or self.num_attention_heads
        if self.num_attention_heads % kv:
            raise ValueError(
                f"num_attention_heads ({self.num_attention_heads}) must be a multiple of "
                f"num_key_value_heads ({kv})"
            )
        if self.head_dim is None and self.hidden_size % self.num_attention_heads:
            raise ValueError("hidden_size must be divisible by num_attention_heads when head_dim is not given")
        if (self.num_local_experts is None) != (self.num_experts_per_tok is None):
            raise ValueError("a mixture-of-experts model needs both num_local_experts and num_experts_per_tok")
        if self.num_local_experts and self.num_experts_per_tok > self.num_local_experts:
            raise ValueError("num_experts_per_tok cannot exceed num_local_experts")
        if self.layer_types is not None:
            if len(self.layer_types) != self.num_hidden_layers:
                raise ValueError("layer_types must have one entry per hidden layer")
            unknown = set(self.layer_types) - set(LAYER_TYPES)
            if unknown:
                raise ValueError(f"layer_types entries must be one of {', '.join(LAYER_TYPES)}, got {sorted(unknown)}")
            if "sliding_attention" in self.layer_types and self.sliding_window is None:
                raise ValueError("sliding_attention layers need sliding_window")
        if self.has_linear_attention:
            missing = [k for k in ("linear_num_key_heads", "linear_num_value_heads", "linear_key_head_dim",
                                   "linear_value_head_dim") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"linear_attention layers need {', '.join(missing)}")
            if self.linear_num_value_heads % self.linear_num_key_heads:
                raise ValueError("linear_num_value_heads must be a multiple of linear_num_key_heads")
        if self.hybrid_override_pattern is not None:
            pattern = self.hybrid_override_pattern
            if len(pattern) != self.num_hidden_layers:
                raise ValueError(f"hybrid_override_pattern has {len(pattern)} characters for {self.num_hidden_layers} layers")
            unknown = sorted(set(pattern) - set(PATTERN_LAYERS))
            if unknown:
                raise ValueError(f"hybrid_override_pattern characters must be M, * or -, got {unknown} (E, a layer of "
                                 "experts alone, is not modelled)")
            if self.layer_types is not None:
                raise ValueError("give layer_types or hybrid_override_pattern, not both")
            if "M" in pattern and None in (self.mamba_num_heads, self.mamba_head_dim, self.ssm_state_size):
                raise ValueError("Mamba layers (M) need mamba_num_heads, mamba_head_dim and ssm_state_size")
            if self.is_moe:
                raise ValueError("hybrid_override_pattern models with experts are not modelled")
        if self.compress_ratios is not None:
            if len(self.compress_ratios) < self.num_hidden_layers:
                raise ValueError(f"compress_ratios has {len(self.compress_ratios)} entries for "
                                 f"{self.num_hidden_layers} layers")
            allowed = {0, *self.rates.values()}
            unknown = sorted(set(self.compress_ratios) - allowed)
            if unknown:
                raise ValueError(f"compress_ratios entries must be one of {sorted(allowed)}, got {unknown}")
            if self.layer_types is not None:
                raise ValueError("give layer_types or compress_ratios, not both")
        if self.has_compressed_attention:
            need = ["head_dim", "q_lora_rank", "qk_rope_head_dim", "o_groups", "o_lora_rank", "sliding_window"]
            if any(self.layer_type(i) == "compressed_sparse_attention" for i in range(self.num_hidden_layers)):
                need += ["index_topk", "index_n_heads", "index_head_dim"]
            missing = [k for k in need if getattr(self, k) is None]
            if missing:
                raise ValueError(f"compressed attention layers (DeepSeek-V4) need {', '.join(missing)}")
            other = sorted({self.layer_type(i) for i in range(self.num_hidden_layers)}
                           - {"sliding_attention", *COMPRESSED_TYPES})
            if other:
                raise ValueError(f"a DeepSeek-V4 model's layers are sliding_attention or {' or '.join(COMPRESSED_TYPES)}"
                                 f", got {other}")
            if self.uses_mla:
                raise ValueError("compressed attention layers (DeepSeek-V4) cache one shared key-value head, not "
                                 "an MLA latent: leave out kv_lora_rank")
            if self.kv_heads != 1:
                raise ValueError("compressed attention layers (DeepSeek-V4) have one shared key-value head "
                                 "(num_key_value_heads: 1)")
            if (self.num_attention_heads * self.head_dim) % self.o_groups:
                raise ValueError("num_attention_heads x head_dim must split into o_groups equal groups")
        elif self.index_topk is not None:
            if not self.uses_mla or self.index_n_heads is None or self.index_head_dim is None:
                raise ValueError("DeepSeek sparse attention (index_topk) needs MLA (kv_lora_rank), index_n_heads "
                                 "and index_head_dim")
            if self.layer_types is not None and "sliding_attention" in self.layer_types:
                raise ValueError("index_topk (sparse attention) and sliding_attention layers cannot be mixed")
        if self.first_k_dense_replace > self.num_hidden_layers:
            raise ValueError("first_k_dense_replace cannot exceed num_hidden_layers")
        return self

    def layer_type(self, layer: int) -> str:
        """``full_attention``, ``sliding_attention``, ``linear_attention``, ``mamba`` or ``mlp``
        (the last two: a ``hybrid_override_pattern`` layer holding only that block) for layer
        ``layer``: from ``layer_types`` or the pattern, else from ``full_attention_interval``
        (layer i is full attention when (i + 1) is a multiple of it, as Qwen3-Next builds its
        layer_types), else full."""
        if self.layer_types is not None:
            return self.layer_types[layer]
        if self.compress_ratios is not None:
            ratio = self.compress_ratios[layer]
            if ratio == 0:
                return "sliding_attention"
            return next(kind for kind, rate in self.rates.items() if rate == ratio)
        if self.hybrid_override_pattern is not None:
            return PATTERN_LAYERS[self.hybrid_override_pattern[layer]]
        if self.full_attention_interval is not None:
            return "full_attention" if (layer + 1) % self.full_attention_interval == 0 else "linear_attention"
        return "full_attention"

    @property
    def rates(self) -> dict[str, int]:
        """Tokens pooled into one cached entry, per compressed layer type (DeepSeek-V4: m = 4 and
        m' = 128 in both checkpoints, transformers' DeepseekV4Config.default_compress_rates)."""
        return dict(DEFAULT_COMPRESS_RATES)

    @property
    def has_compressed_attention(self) -> bool:
        """A DeepSeek-V4 model: it gives ``compress_ratios``, or some layer is compressed-sparse or
        heavily-compressed attention, or the grouped output projection (``o_lora_rank``) marks V4's
        shared-KV block; then every attention layer, sliding ones too, is that block
        (costmodel/compressed.py)."""
        if self.o_lora_rank is not None or self.compress_ratios is not None:
            return True
        return self.layer_types is not None and any(t in COMPRESSED_TYPES for t in self.layer_types)

    @property
    def has_linear_attention(self) -> bool:
        if self.layer_types is not None:
            return "linear_attention" in self.layer_types
        return self.full_attention_interval is not None

    @property
    def is_moe(self) -> bool:
        return self.num_local_experts is not None

    @property
    def uses_mla(self) -> bool:
        return self.kv_lora_rank is not None

    @property
    def kv_heads(self) -> int:
        return self.num_key_value_heads or self.num_attention_heads

    @property
    def head_width(self) -> int:
        return self.head_dim or self.hidden_size // self.num_attention_heads

    @property
    def expert_intermediate_size(self) -> int:
        return self.moe_intermediate_size or self.intermediate_size


#: Every key a model mapping may hold (Hugging Face names); ``{hf_config: file}`` keeps only these.
HF_KEYS: frozenset[str] = frozenset(
    key
    for name, field in ModelSpec.model_fields.items()
    for key in (
        field.validation_alias.choices if isinstance(field.validation_alias, AliasChoices) else [name]
    )
)
