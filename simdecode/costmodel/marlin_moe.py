"""vLLM's ``fused_marlin_moe`` (FP4 / int4 experts on GPUs without tensor cores for them): its row blocks and its activation kernel.

What it runs (vLLM ``model_executor/layers/fused_moe/fused_marlin_moe.py``, v0.18-v0.20; the path
InferenceX's gpt-oss-120b H100/H200 scripts take with ``VLLM_MXFP4_USE_MARLIN=1``):

1. ``block_size_m``: "M block size selection logic": the first of 8, 16, 32, 48, 64 with
   ``M * topk / E / block_size_m < 0.9`` (M the step's tokens, E the experts this GPU holds,
   ``w1.size(0)``), else 64 (:func:`block_rows`).
2. ``moe_align_block_size(topk_ids, block_size_m, ...)`` sorts the (token, expert) rows by expert and
   pads every expert's rows to a multiple of ``block_size_m``; ``moe_wna16_marlin_gemm`` then runs one
   thread block per (block of one expert, weight tile) with ``thread_m_blocks = div_ceil(moe_block_size,
   16)`` (``csrc/moe/marlin_moe_wna16/ops.cu``, ``marlin_mm``): every block multiplies
   16 ceil(block / 16) rows with ``mma.sync`` whatever number of them hold tokens. So an expert that
   receives ``r`` rows costs ceil(r / block) x 16 ceil(block / 16) rows of math
   (:func:`padded_rows`), not the 16-row tiles of a plain grouped GEMM (efficiency.padded_rows).
   gpt-oss-120b, a 922-token prefill (the InferenceX 1k mean, with 3 decodes): 925 x 4 / 128 = 28.9
   rows per expert; 28.9 / 32 = 0.90 is not under 0.9, so the block is 48: 48 rows of math per expert
   where 16-row tiles would need 32 (x1.5). An 7,373-token prefill: 230.5 rows, blocks of 64, 4 of
   them: 256 rows where 16-row tiles need 240 (x1.07). At decode (batch 64: 2 rows per expert) the
   block is 8, computed as one 16-row MMA block: the same 16 rows as before.
3. Between the two GEMMs the activation (``swigluoai_and_mul`` for gpt-oss, ``silu_and_mul``
   otherwise) is its own kernel: it reads ``intermediate_cache1`` (M topk x 2N) and writes
   ``intermediate_cache2`` (M topk x N), N the experts' intermediate width on this GPU, in the
   activation dtype: M topk 3 N act_bytes of HBM traffic (:func:`activation_bytes`), in series with the
   GEMMs. (The later ``moe_sum`` over ``intermediate_cache3`` is the "routing" part's unpermute, already
   charged: costmodel/moe.py.)
"""

from __future__ import annotations

from math import ceil

#: fused_marlin_moe's candidate block sizes, in the order it tries them
BLOCK_SIZES = (8, 16, 32, 48, 64)
#: it takes the first block size whose mean fill M topk / E / block is under this
BLOCK_FILL = 0.9
#: rows of one mma.sync m16n8k16 block (thread_m_blocks = div_ceil(moe_block_size, 16))
MMA_ROWS = 16
#: values the activation kernel moves per routed row and intermediate column: 2N read, N written
ACTIVATION_VALUES_PER_COLUMN = 3


def block_rows(tokens: float, top_k: int, experts: float) -> int:
    """fused_marlin_moe's ``block_size_m`` for a step of ``tokens`` tokens, each routed to ``top_k`` of the
    ``experts`` a GPU holds: the first of 8, 16, 32, 48, 64 with tokens * top_k / experts / block < 0.9.

    >>> block_rows(1, 4, 128), block_rows(925, 4, 128), block_rows(7376, 4, 128)
    (8, 48, 64)
    """
    mean = tokens * top_k / experts if experts > 0 else 0.0
    for block in BLOCK_SIZES:
        if mean / block < BLOCK_FILL:
            return block
    return BLOCK_SIZES[-1]


def padded_rows(rows: float, block: int) -> float:
    """Rows of math one expert's GEMM runs for ``rows`` routed rows in blocks of ``block``:
    ceil(rows / block) blocks of 16 ceil(block / 16) rows (0 stays 0).

    >>> padded_rows(28.9, 48), padded_rows(230.5, 64), padded_rows(2, 8), padded_rows(0, 8)
    (48, 256, 16, 0)
    """
    if rows <= 0:
        return 0
    return ceil(rows / block) * MMA_ROWS * ceil(block / MMA_ROWS)


def activation_bytes(tokens: float, top_k: int, width_per_gpu: float, act_bytes: float) -> float:
    """HBM bytes of the activation kernel between the two GEMMs: it reads tokens * top_k rows of
    2 * width and writes tokens * top_k rows of width, ``act_bytes`` each.

    >>> activation_bytes(1000, 4, 1440, 2)   # 4,000 rows x 3 x 1,440 x 2 B
    34560000
    """
    return tokens * top_k * ACTIVATION_VALUES_PER_COLUMN * width_per_gpu * act_bytes


def runs_in_marlin(dep) -> bool:
    """Do ``dep``'s routed experts run in fused_marlin_moe? FP4 (e2m1) experts that the GPU has no tensor
    cores for, the case :meth:`Deployment.part` charges Marlin's decode and mma.sync rate for."""
    from simdecode.costmodel import precision as precision_mod
    from simdecode.costmodel.efficiency import FP4_FORMATS

    gpu, prec = dep.gpu, dep.precision
    if gpu is None or prec is None or prec.experts not in FP4_FORMATS:
        return False
    return precision_mod.weight_only(gpu, prec.experts, prec.activations)
