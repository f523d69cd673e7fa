"""The serial K-loop an NVFP4 (W4A4) GEMM pays at decode on Blackwell (docs/physics-moe-precision.md).

An NVFP4 linear layer runs as a block-scaled FP4 x FP4 GEMM: TensorRT-LLM's ``NVFP4LinearMethod``
quantises its input with ``fp4_quantize`` (or takes it from the fused all-reduce) and calls
``torch.ops.trtllm.nvfp4_gemm`` (tensorrt_llm/_torch/modules/linear.py), the CUTLASS sm100
block-scaled kernel that FlashInfer ships as ``mm_fp4(backend="cutlass")``. Both operands carry one
e4m3 scale per 16 values in the swizzled 128x4 layout (``pad_up(rows, 128)``: NVFP4LinearMethod's
``weight_scale``, TensorRT-LLM issue #4412 on the 128-token padding), which pins the kernel's M tile
at 128 rows: a decode batch of 1 to 128 tokens runs the same tiles. Each CTA walks the whole K
dimension, one k-block at a time, and every k-block loads both operands AND their scale tiles before
its MMA; with a 128-row tile holding a few real tokens there is no math to hide that latency, so
the kernel pays it in series with the weight stream:

    t_gemm = t_kernel + bytes / BW + K * tau_K        (tokens <= 128)

FlashInfer PR #2540 ("cute dsl mmfp4 for blackwell", SM100) times the CUTLASS backend at M = 1 and
4 on ten shapes (N x K from 896 x 1024 to 9216 x 7168: 4.72 us ... 13.73 us); a least-squares fit
of t = t0 + tau_K K + bytes / BW (bytes = N K * 0.5625) gives t0 = 4.0 us, tau_K = 0.705 ns per K
value and BW = 7.8 TB/s, every shape within 2% (``tests/costmodel/test_fp4_gemm.py`` keeps the
rows). The K-term is 0.18 us per 256-value k-block; at K = 8192 it is 5.8 us, more than streaming
a 1280 x 8192 weight (Llama-70B's QKV at tp 8, 5.9 MB) takes. t0 is the per-kernel cost simdecode
already charges (``runtime.kernel_launch``), and BW the weight stream it already charges (the
benchmark reruns one matrix, so its stream is partly in L2; the K-term is latency, not bandwidth,
and does not depend on where the bytes come from).

Per-tensor FP8 GEMMs (cuBLASLt, split-K at small M) and bf16 ones carry no such term, which is why
FP8 Llama-70B on the same B200s was already right while NVFP4 came out 12-18% fast.

Scope: dense NVFP4 linear layers (grouped-query attention projections, dense MLPs, shared experts) on
datacenter Blackwell (:data:`SM100_COMPUTE_CAPABILITIES`: the kernels measured), for steps of at most 128 tokens (one
M tile). MLA's projections (DeepSeek) are left out: their engines keep attention in bf16 or fp8. Longer steps (prefill chunks) have
real math per k-block and run near their roofline; the term is not charged. The measured shapes fit
in one wave of CTAs; a GEMM wider than one wave is charged the K-loop once (a lower bound).
Routed experts run grouped-GEMM kernels of their own (costmodel/moe.py) and are not covered.
"""

from __future__ import annotations

from simdecode.costmodel import precision as precision_mod
from simdecode.costmodel.efficiency import Part

#: the part's name for explain's breakdown (analysis/critical_path.TERM_NAMES)
TERM = "fp4 k-loop"

#: seconds per K value of the CUTLASS NVFP4 GEMM's serial k-loop at one M tile (FlashInfer PR #2540 fit)
K_LATENCY_S_PER_VALUE = 0.705e-9
#: rows of the swizzled 128x4 scale-factor layout = the kernel's M tile (TensorRT-LLM pad_up(M, 128))
SCALE_TILE_ROWS = 128
#: weight formats that run as NVFP4 x NVFP4 block-scaled GEMMs when the GPU has FP4 tensor cores
NVFP4_FORMATS = ("fp4", "nvfp4")
#: compute capabilities whose FP4 GEMMs are the sm100/sm103 tcgen05 CUTLASS kernels measured above
#: (datacenter Blackwell: B200 and GB200 10.0, B300 and GB300 10.3, ``GpuSpec.compute_capability``);
#: GB10 and RTX Blackwell (12.x) run other kernels, with no measurement here
SM100_COMPUTE_CAPABILITIES = (10.0, 10.3)


def k_loop_seconds(k_values: float, tokens: float) -> float:
    """Serial k-loop seconds of NVFP4 GEMMs whose reduction dimensions sum to ``k_values``, for a step of
    ``tokens`` rows: tau_K * k_values when 0 < tokens <= 128 (one M tile), else 0.

    Llama-3.1-70B's attention block at tp 8 (QKV K = 8192, O K = 64 * 128 / 8 = 1024) at batch 4:
    0.705 ns * 9216 = 6.50 us.

    >>> round(k_loop_seconds(8192 + 1024, 4) * 1e6, 2), k_loop_seconds(8192, 129)
    (6.5, 0.0)
    """
    if tokens <= 0 or tokens > SCALE_TILE_ROWS:
        return 0.0
    return k_values * K_LATENCY_S_PER_VALUE


def applies(dep, module: str) -> bool:
    """Does ``module`` (a :data:`precision.MODULES` key) run NVFP4 x NVFP4 GEMMs: its weights NVFP4 and
    the GPU multiplying them on FP4 tensor cores (not a weight-only kernel such as Marlin)?"""
    gpu, prec = dep.gpu, dep.precision
    if (gpu is None or prec is None or gpu.compute_capability not in SM100_COMPUTE_CAPABILITIES
            or module not in precision_mod.MODULES):
        return False
    weights = getattr(prec, module)
    return weights in NVFP4_FORMATS and precision_mod.math_dtype(gpu, weights, prec.activations) == "fp4"


def module_k_loop_seconds(dep, module: str, k_values: float, tokens: float) -> float:
    """:func:`k_loop_seconds` for ``module``'s GEMMs if they are NVFP4 (:func:`applies`), else 0."""
    return k_loop_seconds(k_values, tokens) if applies(dep, module) else 0.0


def parts(dep, module: str, k_values: float, tokens: float) -> list[Part]:
    """The k-loops of ``module``'s NVFP4 GEMMs as a part of their own (term ``fp4 k-loop``, which
    ``explain`` names), or [] when there are none: no bytes, FLOPs or kernels of its own (those stay
    in the module's part), only its serial seconds."""
    seconds = module_k_loop_seconds(dep, module, k_values, tokens)
    return [Part(TERM, 0.0, 0.0, 0, 1.0, 1.0, serial_s=seconds)] if seconds > 0 else []
