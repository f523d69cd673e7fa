"""Multi-head latent attention (DeepSeek-V2/V3): the absorbed form in decode, the expanded one in prefill.

The cache holds one latent c (r_kv values) and one shared rotary key (d_rope) per token and layer.
Engines compute attention two ways (DeepSeek-V2 paper, arXiv 2405.04434, appendix "absorb"; vLLM's
MLACommonImpl; SGLang's DeepseekV2AttentionMLA; TensorRT-LLM's DeepSeek path; FlashMLA):

- **decode, absorbed** (FlashMLA, TRT-LLM genAttention "acting like an MQA"): W_UK is folded into the
  query and W_UV into the output, so every head scores against the latent directly:
  per (query, key) pair and head 2 (r_kv + d_rope) FLOPs for QK and 2 r_kv for PV
  (DeepSeek-V3: 2 * 576 + 2 * 512 = 2,176). Few queries, many keys: reading the latent is what costs.
- **prefill, expanded** (vLLM/SGLang "MHA" path for prefill chunks): the latent of every key is
  decompressed by W_UKV into per-head keys and values once per step, then ordinary attention runs
  with head widths d_nope + d_rope and d_v: 2 (d_nope + d_rope) + 2 d_v per pair and head
  (2 * 192 + 2 * 128 = 640, 3.4x less than absorbed), plus 2 r_kv (d_nope + d_v) FLOPs per head for each
  key decompressed. Many queries per key: the per-pair work dominates, so the cheaper form wins.

A speculative verify step (a few queries per sequence) uses the absorbed kernels, as decode does.

The expanded form's per-pair work (QK^T and PV over the decompressed keys and values) runs in an
ordinary attention kernel on 16-bit operands where the cache is 16-bit: the keys and values come out of
the ``kv_b_proj`` GEMM in bf16 and SGLang's Hopper prefill runs FlashAttention-3 on them (``fa3``, the
default attention backend SGLang's ``model_runner.py`` picks for an MLA architecture on Hopper with CUDA
>= 12.3). So those FLOPs run at the bf16 tensor-core rate, not at the fp8 one the block's fp8 weight
GEMMs reach (:func:`prefill_scores_in_16_bit`; FlashAttention-3 in bf16 on an H100, head width 128: 566,
590, 614 and 621 TFLOP/s at 2k, 4k, 8k and 16k tokens, pytorch/benchmark PR #2391, i.e. 0.57-0.63 of the
989 TFLOP/s bf16 peak, where the runtime's ``compute_efficiency`` of 0.5-0.55 gives 495-544). Under an
fp8 cache the same holds on Hopper and earlier GPUs (compute capability below 10): the decompressed keys
and values are bf16 whatever the cache holds, and TensorRT-LLM runs its MLA context attention as "BF16
MHA for context phase" (NVIDIA/TensorRT-LLM PR #3190, which added FP8 MLA for the generation kernels
only); its "Hopper FP8 context MLA" (PR #7107) was closed unmerged, and its FP8 context MLA is switched
on for SM120 (PR #6059: ``mFP8ContextMLA = getSMVersion() == 120 && hasFp8KvCache()``). On Blackwell
under an fp8 cache the scores keep the block's (fp8) rate.
"""

from __future__ import annotations

from simdecode.scenario.model import ModelSpec

#: kernels an MLA block launches beyond a grouped-query attention block: TRT-LLM's DeepSeek decode
#: path (blog "Pushing Latency Boundaries ... DeepSeek-R1 on B200", modules 1-8) runs Fuse_A GEMM,
#: q/kv RMSNorms, UQ_QR GEMM, UK batched GEMM, concat + RoPE, attention, UV batched GEMM and WO GEMM
#: (8) where a GQA block runs a QKV GEMM, RoPE + cache write, attention and the O GEMM (4).
EXTRA_KERNELS = 4
#: its GEMMs with fp8-quantisable weights: fused_qkv_a (W_DQ and W_DKV+W_KR), q_b (W_UQ+W_QR) and o_proj
#: (W_UK and W_UV run as bf16 batched GEMMs in the absorbed form: SGLang's w_kc/w_vc, TRT-LLM's
#: k_b_proj_trans/v_b_proj); each needs an activation quantisation under block-scaled fp8
QUANTISED_GEMMS = 3


def absorbed_flops_per_pair(model: ModelSpec) -> float:
    """FLOPs per (query, key) pair per head, absorbed form: 2 (r_kv + d_rope) + 2 r_kv.

    >>> from simdecode.presets import preset
    >>> absorbed_flops_per_pair(ModelSpec.model_validate(preset("models", "deepseek-v3")))
    2176.0
    """
    r, rope = model.kv_lora_rank or 0, model.qk_rope_head_dim or 0
    return float(2 * (r + rope) + 2 * r)


def expanded_flops_per_pair(model: ModelSpec) -> float:
    """FLOPs per (query, key) pair per head, expanded form: 2 (d_nope + d_rope) + 2 d_v (DeepSeek-V3: 640)."""
    nope, rope = model.qk_nope_head_dim or 0, model.qk_rope_head_dim or 0
    return float(2 * (nope + rope) + 2 * (model.v_head_dim or model.head_width))


def decompress_flops_per_key(model: ModelSpec) -> float:
    """FLOPs per head to expand one cached latent into its key and value: 2 r_kv (d_nope + d_v)
    (DeepSeek-V3: 2 * 512 * 256 = 262,144)."""
    r = model.kv_lora_rank or 0
    return float(2 * r * ((model.qk_nope_head_dim or 0) + (model.v_head_dim or model.head_width)))


def score_flops(model: ModelSpec, heads: float, pairs: float, prefill_pairs: float, prefill_keys: float) -> float:
    """Attention FLOPs of a step on one GPU holding ``heads`` query heads: ``pairs`` (query, key) pairs in
    all, of which ``prefill_pairs`` belong to prefill chunks, whose ``prefill_keys`` keys are decompressed."""
    decode_pairs = max(0.0, pairs - prefill_pairs)
    return heads * (absorbed_flops_per_pair(model) * decode_pairs + expanded_flops_per_pair(model) * prefill_pairs
                    + decompress_flops_per_key(model) * prefill_keys)


#: the first compute capability with an FP8 context MLA kernel in the engines (module docstring)
FP8_CONTEXT_MLA_COMPUTE_CAPABILITY = 10.0


def prefill_scores_in_16_bit(kv_bytes_per_value: float, compute_capability: float | None) -> bool:
    """Do a prefill chunk's expanded-form scores run at the 16-bit tensor-core rate (module
    docstring)? Yes under a 16-bit KV cache (2 bytes a value), and under any cache below compute
    capability 10 (Hopper: no FP8 context MLA kernel); else (Blackwell, fp8 cache) the block's rate.

    >>> prefill_scores_in_16_bit(2.0, 10.0), prefill_scores_in_16_bit(1.0, 9.0), prefill_scores_in_16_bit(1.0, 10.0)
    (True, True, False)
    """
    if kv_bytes_per_value >= 2.0:
        return True
    return compute_capability is not None and compute_capability < FP8_CONTEXT_MLA_COMPUTE_CAPABILITY


def expanded_score_flops(model: ModelSpec, heads: float, prefill_pairs: float) -> float:
    """The per-pair FLOPs of prefill chunks on one GPU holding ``heads`` query heads: heads x
    :func:`expanded_flops_per_pair` x ``prefill_pairs`` (the keys' decompression, a GEMM on the
    ``kv_b_proj`` weights, is not in it).

    DeepSeek-V3 at tp 8 (16 heads), one 8,192-token prompt: 8,192 x 8,193 / 2 pairs x 16 x 640.

    >>> from simdecode.presets import preset
    >>> m = ModelSpec.model_validate(preset("models", "deepseek-v3"))
    >>> round(expanded_score_flops(m, 16, 8192 * 8193 / 2) / 1e9, 1)
    343.6
    """
    return heads * expanded_flops_per_pair(model) * prefill_pairs
