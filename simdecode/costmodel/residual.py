"""The residual stream's traffic: the element-wise kernels every tensor-parallel rank runs on the
whole hidden state.

A pre-norm transformer block computes ``x = x + f(norm(x))``. Engines fuse the residual add with
the next block's normalisation into one kernel that reads the block's output and the residual and
writes the new residual and the normalised input: four passes over a [tokens x hidden] tensor per
block (vLLM ``fused_add_rms_norm``, csrc/layernorm_kernels.cu: ``residual = input + residual;
input = rms_norm(residual)``, both written back; TensorRT-LLM's ``RESIDUAL_RMS_NORM`` all-reduce
fusion; FasterTransformer's ``generalAddBiasResidualLayerNorm``). Under Megatron tensor
parallelism every rank holds the whole residual stream, so these bytes do not shrink with tp: at
tp 8 a 1,024-token prefill of a hidden-8192 bf16 model moves 4 x 1024 x 8192 x 2 B = 67 MB per
block on every GPU, 10.7 GB over Llama-70B's 160 blocks (3.2 ms at 3.36 TB/s), against 8.8 GB of
weights per GPU. Decode moves the same per token (128 sequences: 1.3 GB per step at tp 8).

The kernels themselves are counted in the runtime's ``kernels_per_layer``; this module adds their
bytes only.
"""

from __future__ import annotations

#: [tokens x hidden] passes of one block's fused residual-add + norm: read the block output and the
#: residual, write the new residual and the normalised input
PASSES_PER_BLOCK = 4


def residual_bytes(new_tokens: float, hidden_size: int, act_bytes_per_value: float) -> float:
    """HBM bytes one block's fused residual-add + norm moves on each GPU (not divided by tp).

    >>> residual_bytes(1024, 8192, 2.0) / 1e6   # one Llama-70B block, 1,024 tokens, bf16: MB
    67.108864
    """
    return PASSES_PER_BLOCK * new_tokens * hidden_size * act_bytes_per_value
