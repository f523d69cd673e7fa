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
    head_dim: int | None = Field(None, ge=1, le=16384, description="per-head width; default hidden/heads")
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
        None, description="per layer 'sliding_attention' or 'full_attention' (default: all full)"
    )
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
            unknown = set(self.layer_types) - {"sliding_attention", "full_attention"}
            if unknown:
                raise ValueError(f"layer_types entries must be sliding_attention or full_attention, got {sorted(unknown)}")
            if "sliding_attention" in self.layer_types and self.sliding_window is None:
                raise ValueError("sliding_attention layers need sliding_window")
        if self.first_k_dense_replace > self.num_hidden_layers:
            raise ValueError("first_k_dense_replace cannot exceed num_hidden_layers")
        return self

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
