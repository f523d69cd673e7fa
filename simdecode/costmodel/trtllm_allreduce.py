"""Which all-reduce kernel TensorRT-LLM's PyTorch backend runs for a message (strategy AUTO).

TensorRT-LLM does not pick the fastest kernel for each message: it follows fixed rules, and the
one that matters for decode is that its fused all-reduce runs the ONE-SHOT kernel for every
message of up to 128 tokens, however large it is and however many ranks there are. One-shot has
each rank pull all p - 1 peers' whole messages through its own NVLink port, (p - 1) n bytes, where a
two-shot kernel moves 2 (p - 1) / p n: at tp 8 and a batch of 128 decode tokens of a 8192-wide
model (2.1 MB in bf16) that is 14.7 MB per rank per all-reduce instead of 3.7 MB.

The rules, from the sources of release 1.1 (the image ``release:1.1.0rc2.post2`` InferenceX ran):

1. ``AllreduceOp::ifFallbackToNCCL`` (``cpp/tensorrt_llm/thop/allreduceOp.cpp``): NCCL when the
   message is larger than the IPC workspace (``getMaxRequiredWorkspaceSize`` in
   ``cpp/tensorrt_llm/common/customAllReduceUtils.h``: 16,000,000 bytes for tp <= 2, 8,000,000
   above), or when the GPUs are not all NVLink- and peer-to-peer-connected (one node).
2. ``AllreduceOp::selectImplementation``: a fusion that quantises its output
   (``RESIDUAL_RMS_NORM_QUANT_FP8`` / ``_NVFP4``) always runs the fused MIN_LATENCY kernels. The
   other fusions (``NONE``, ``RESIDUAL_RMS_NORM``) run MIN_LATENCY at tp <= 2 and, at tp > 2, NCCL
   above 128 tokens (``ALLREDUCE_AUTO_HEURISTIC_MIN_LATENCY_THRESHOLD_TOKEN_NUM``, default 128,
   NVIDIA/TensorRT-LLM PR #5432, 2025-07: "NCCL is faster than MIN_LATENCY when the token number is
   greater than 256. I conservatively set the threshold here to 128 tokens").
3. ``AllreduceOp::runFusionAllReduce``: MIN_LATENCY is one-shot for ``seq_len <= kOneShotMaxToken``
   (128, ``cpp/tensorrt_llm/kernels/communicationKernels/allReduceFusionKernels.h``), two-shot above.

Which fusion a layer's all-reduce carries (``tensorrt_llm/_torch/models/modeling_llama.py``,
``LlamaDecoderLayer``): with tp > 1 and ``hidden_size > 4096`` the all-reduce after attention and
the one after the MLP are fused with the next RMSNorm, and with FP8 (per-tensor, ``has_fp8_qdq``)
or NVFP4 weights also with the quantisation of the next GEMM's input: the QUANT fusions, so rule 2's
NCCL branch never applies to them. Smaller models run the unfused ``NONE`` all-reduce. simdecode
applies the Llama layer's rule to every model with TensorRT-LLM's runtime (other decoder layers of
the PyTorch backend follow the same pattern). TensorRT-LLM's AUTO never picks NVLS (multimem) here.
The fused kernel also does the residual add and RMSNorm the block would otherwise launch on its
own: :func:`norm_kernels_fused` takes that kernel out of the runtime's ``kernels_per_layer``.
"""

from __future__ import annotations

#: tokens up to which MIN_LATENCY runs the one-shot kernel (allReduceFusionKernels.h kOneShotMaxToken)
ONESHOT_MAX_TOKENS = 128
#: tokens above which AUTO hands unquantised fusions to NCCL at tp > 2 (allreduceOp.cpp, PR #5432)
NCCL_ABOVE_TOKENS = 128
#: hidden sizes above which the Llama layer fuses its all-reduces with the norm (modeling_llama.py)
FUSION_MIN_HIDDEN = 4096
#: weight dtypes whose fused all-reduce also quantises the next GEMM's input (QUANT_FP8 / QUANT_NVFP4)
QUANT_FUSION_DTYPES = ("fp8", "fp4", "nvfp4")


def workspace_bytes(tp: int) -> float:
    """Bytes of the IPC workspace one custom all-reduce may use (customAllReduceUtils.h
    ``getMaxRequiredWorkspaceSize``): 16e6 for tp <= 2, 8e6 above."""
    return 16e6 if tp <= 2 else 8e6


def quant_fused(hidden_size: int, mlp_dtype: str) -> bool:
    """Does a layer's all-reduce carry the RMSNorm + quantisation fusion (rule 2's first branch)?"""
    return hidden_size > FUSION_MIN_HIDDEN and mlp_dtype in QUANT_FUSION_DTYPES


def algorithm(tokens: float, nbytes: float, tp: int, fused_quant: bool, nvlink: bool = True) -> str:
    """The kernel TensorRT-LLM's AUTO strategy runs for an all-reduce of ``tokens`` rows and
    ``nbytes`` bytes per rank over ``tp`` ranks: ``one-shot``, ``two-shot`` or ``nccl`` (rules
    1-3 of the module docstring). ``nvlink``: all ranks NVLink- and peer-connected in one node.

    >>> algorithm(128, 128 * 16384, 8, True), algorithm(129, 129 * 16384, 8, True)
    ('one-shot', 'two-shot')
    >>> algorithm(256, 256 * 8192, 8, False), algorithm(1024, 1024 * 16384, 8, True)
    ('nccl', 'nccl')
    """
    if not nvlink or nbytes > workspace_bytes(tp):
        return "nccl"
    if not fused_quant and tp > 2 and tokens > NCCL_ABOVE_TOKENS:
        return "nccl"
    return "one-shot" if tokens <= ONESHOT_MAX_TOKENS else "two-shot"


def norm_kernels_fused(dep) -> int:
    """Kernels per module that TensorRT-LLM runs inside the all-reduce ending it: 1 (the residual add +
    RMSNorm of the next block, ``RESIDUAL_RMS_NORM*`` fusions) for a ``trt-llm`` runtime with its
    custom all-reduce, tp > 1 in one NVLink node and ``hidden_size > 4096`` (``LlamaDecoderLayer``:
    ``PRE_MLP_FUSION`` / ``POST_MLP_FUSION`` replace ``post_attention_layernorm`` and the next
    layer's ``input_layernorm``); 0 otherwise, and under attention DP, which has no all-reduce to fuse into
    (``DeepseekV3DecoderLayer``: ``enable_fusion &= not enable_attention_dp``). The residual stream's bytes stay
    (costmodel/residual.py): the fused kernel reads and writes the same tensors.

    A message that falls back to NCCL (a prefill chunk past the workspace) runs the norm as a kernel
    of its own again; that one launch per block of a prefill is not counted."""
    rt = dep.runtime
    fused = (rt.engine == "trt-llm" and rt.allreduce_impl == "custom" and dep.tp > 1 and dep.tp_nodes == 1
             and not getattr(dep, "attention_dp", False)
             and dep.link.transport == "nvlink" and dep.model.hidden_size > FUSION_MIN_HIDDEN)
    return 1 if fused else 0
