"""The rate of a prefill's attention scores where the engine's kernel was measured (runtime key
``prefill_attention_flops``).

By default the scores of a grouped-query attention block (4 d FLOPs per (query, key) pair per head,
costmodel/modules.py) run at the block's math rate, peak x ``compute_efficiency``, like its projections.
An engine whose prefill attention kernel was measured states that kernel's rate instead, and the scores
of prefill chunks take ``flops / prefill_attention_flops`` seconds on one GPU (decode and speculative
verify keep the block's rate: their attention is bound by its KV reads).

vLLM 0.10.2 on B200 with an FP8 KV cache (InferenceX's Llama-3.1-70B launch) quantises the query to FP8
and runs TRT-LLM's FP8 context kernel, ``flashinfer.prefill.trtllm_batch_context_with_kv_cache``
(``v1/attention/backends/flashinfer.py``: ``q_data_type`` is the cache's FP8 when
``supports_trtllm_attention()``, and ``use_trtllm_attention`` returns True "if query is FP8 quantized").
vLLM PR #23647, the change that added that path (FP8 query and cache, 16-bit output), measured it on a B200
with ``benchmarks/kernels/benchmark_trtllm_prefill_attention.py`` (64 query and 8 KV heads of 128, pages of
16): one sequence of L new tokens after L cached ones, scoring L^2 + L(L+1)/2 pairs per head, took 0.179 ms
at L = 1,024 and 0.525 ms at L = 2,048 (the table prints the sequence's 2L). At 64 x 4 x 128 = 32,768 FLOPs a
pair that is 5.156e10 / 0.179 ms = 288 TFLOP/s and 2.062e11 / 0.525 ms = 393 TFLOP/s, 6-9% of the B200's
4.5 PFLOP/s FP8 peak, against the 2.48 PFLOP/s (0.55 of it) the block's rate gives. The FlashInfer FA2 baseline
in the same rows (0.243 and 0.710 ms: 212 and 290 TFLOP/s) is what FlashAttention-2 reaches on a B200
elsewhere (~300-380 TFLOP/s, Dao-AILab/flash-attention issue #1589), which fixes how the table's lengths read.
The larger length's rate is taken (:data:`TRTLLM_FP8_CONTEXT_B200_FLOPS`): prompts here are 0.8k-8k tokens,
and the kernel gets faster with length (vLLM PR #25998, a later FlashInfer: 575 TFLOP/s at L = 131,072 with
16-bit output; its BF16 kernel 1.27 PFLOP/s there), so 393 TFLOP/s overstates a 1k prompt's rate by ~35% and
may understate an 8k prompt's by up to ~30%.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simdecode.costmodel.efficiency import Part

if TYPE_CHECKING:
    from simdecode.costmodel.deployment import Deployment


def causal_pairs(new: int, cached: int) -> float:
    """(Query, key) pairs a sequence of ``new`` tokens after ``cached`` ones scores per head (causal):
    new x cached + new (new + 1) / 2.

    >>> causal_pairs(1024, 1024), causal_pairs(2048, 2048)
    (1573376.0, 6292480.0)
    """
    return new * cached + new * (new + 1) / 2


#: FLOPs one (query, key) pair costs per query head: QK^T and PV, 2 x 2 x head width (128)
FLOPS_PER_PAIR_HEAD_128 = 4 * 128
#: vLLM PR #23647's benchmark on B200: 64 query heads, L = 2,048 new after 2,048 cached, 0.525 ms
TRTLLM_FP8_CONTEXT_B200_FLOPS = 64 * FLOPS_PER_PAIR_HEAD_128 * causal_pairs(2048, 2048) / 0.525e-3


def prefill_part(dep: Deployment, heads: float, prefill_pairs: float) -> Part | None:
    """The prefill chunks' attention scores (FLOPs = heads x 4 x head width x pairs) as a part of their
    own at the measured rate (module docstring), or None where the runtime states no rate or the step
    scores no prefill pairs. ``heads``: this GPU's query heads; ``prefill_pairs``: (query, key) pairs
    per head. Its kernel is counted with the block's; the measured rate is also its bound (no peak
    beyond what was measured is claimed for it)."""
    rate = dep.runtime.prefill_attention_flops_per_s
    if not rate or prefill_pairs <= 0:
        return None
    flops = heads * 4 * dep.model.head_width * prefill_pairs
    return Part("prefill attention", hbm_bytes=0.0, flops=flops, kernels=0.0, flops_per_s=rate, peak_flops_per_s=rate)
