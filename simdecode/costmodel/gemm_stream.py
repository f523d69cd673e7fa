"""The bandwidth a dense layer's weight GEMMs stream at, apart from the KV cache the attention kernel reads.

A decode step of a dense model runs two kinds of memory-bound kernels: the weight GEMMs (QKV and O
projections, the MLP's gate/up and down), each streaming one large matrix for a few rows of
activations, and the attention kernel, which gathers every sequence's KV cache from its pages. They
are different kernels and reach different shares of the HBM peak, so a module's bytes are two
:class:`~simdecode.costmodel.efficiency.Part` s: the weights at the runtime's ``gemm_efficiency``
when the engine states one, the KV cache (and anything else) at its ``memory_efficiency``.

The share a weight GEMM sustains, between its fixed per-kernel cost and its last byte, is measured
in kernel benchmarks that time the same kernel over several sizes (the slope of time against bytes):

- vLLM's fused-MoE Triton kernel on H100 under a CUDA graph: 1.73 us per active 4.7 MB fp8 expert,
  2.72 TB/s = 81% of 3.35 TB/s (vllm-project/vllm PR #24700; the runtime's ``grouped_gemm_efficiency``);
- DeepGEMM's Hopper fp8 grouped GEMM on H200 at 16 rows per group (n 4096, k 7168): 8 groups in 68 us,
  16 in 127 us, so 8 x 4096 x 7168 B = 235 MB more in 59 us: 3.98 TB/s = 83% of 4.8 TB/s
  (deepseek-ai/DeepGEMM PR #287, "test perf (W4Afp8 vs FP8) on H200").

Two kernel libraries, two Hopper boards, the same ~82%: :data:`HOPPER_FP8_GEMM_STREAM_SHARE`, applied
on Hopper only (compute capability 9.0, ``GpuSpec.compute_capability``): no such measurement of
Blackwell's kernels is at hand, and there the runtime's ``memory_efficiency`` stays. A dense
GEMM over one matrix streams at least as well as a grouped one (one tile schedule, no per-expert
switch), so the figure is a floor for vLLM's CUTLASS ``cutlass_scaled_mm`` and TensorRT-LLM's
cuBLASLt ``cublas_scaled_mm`` (the kernels their fp8 linear layers call at batch > 8 on Hopper:
TensorRT-LLM ``_torch/modules/linear.py`` ``FP8QDQLinearMethod.apply``). The old single figure, 0.7,
charged the weight stream of a 70B model at tp 1 on H200 21.1 ms where InferenceX measures the whole
step at 20.1 ms (TensorRT-LLM, four sequences): no fixed cost could be left.

The measurements are of fp8 GEMMs; the share is applied to a layer's weight GEMMs whatever their dtype
(bf16 GEMMs on Hopper are cuBLAS's TMA warp-specialised kernels, the same pipeline): an assumption.

Weight-only formats whose kernel dequantises after the load (gpt-fast's int8/int4: ``dequant_overlap``
false) keep the runtime's share, as the grouped GEMMs do (:func:`simdecode.costmodel.moe.grouped_gemm_efficiency`).

Elsewhere, a runtime whose ``memory_efficiency`` was chosen on one GPU (``calibrated_on``: gpt-fast on
A100-80GB) streams its weight GEMMs on another at that share times the ratio of the two boards'
measured read-stream shares (costmodel/stream_share.py); its KV cache stays at ``memory_efficiency``.
"""

from __future__ import annotations

from simdecode.costmodel import precision as precision_mod
from simdecode.costmodel import stream_share
from simdecode.costmodel.efficiency import Part

#: share of the HBM peak fp8 weight GEMMs stream at on Hopper (module docstring: 81% on H100, 83% on H200)
HOPPER_FP8_GEMM_STREAM_SHARE = 0.82
#: the compute capability both measurements were taken on (H100, H200: 9.0); elsewhere (Blackwell's
#: tcgen05 kernels, Ampere's mma ones) no measurement here, and the runtime's memory_efficiency holds
MEASURED_COMPUTE_CAPABILITY = 9.0


def slope_share(extra_bytes: float, extra_seconds: float, peak_bandwidth_Bps: float) -> float:
    """The share of ``peak_bandwidth_Bps`` a kernel streams at when ``extra_bytes`` more take
    ``extra_seconds`` longer (the fixed cost cancels in the difference).

    DeepGEMM on H200: 8 more groups of 4096 x 7168 fp8 in 127 - 68 = 59 us of 4.8 TB/s:

    >>> round(slope_share(8 * 4096 * 7168, 59e-6, 4.8e12), 3)
    0.829
    """
    return extra_bytes / extra_seconds / peak_bandwidth_Bps


def gemm_efficiency(dep, module: str) -> float | None:
    """The share of peak bandwidth ``module``'s weight GEMMs stream at: the runtime's ``gemm_efficiency``
    on a GPU of the compute capability it was measured on (:data:`MEASURED_COMPUTE_CAPABILITY`); else, for
    a runtime calibrated on another GPU, its ``memory_efficiency`` carried to this one by the two boards'
    measured stream shares (:func:`simdecode.costmodel.stream_share.weight_stream_efficiency`); None (the
    runtime's ``memory_efficiency``) when neither applies, or for weight-only weights under a runtime
    that dequantises after the load (``dequant_overlap: false``)."""
    share = getattr(dep.runtime, "gemm_efficiency", None)
    if share is None or dep.gpu is None or dep.gpu.compute_capability != MEASURED_COMPUTE_CAPABILITY:
        share = None if dep.gpu is None else stream_share.weight_stream_efficiency(dep.gpu, dep.runtime)
    if share is None:
        return None
    if dep.precision is None:
        return share
    prec = dep.precision
    if precision_mod.weight_only(dep.gpu, getattr(prec, module), prec.activations) and not dep.runtime.dequant_overlap:
        return None
    return share


def split_weights(dep, part: Part, weight_bytes: float, weight_flops: float, module: str) -> list[Part]:
    """``part`` as two: its weight GEMMs (``weight_bytes``, ``weight_flops``, every kernel and the
    dequantisation) at :func:`gemm_efficiency`, and the rest of its bytes and FLOPs (the KV cache and
    the attention scores) at the runtime's share, with no kernels of its own. Without a
    ``gemm_efficiency`` the part is returned whole (nothing changes)."""
    key = ("gemm efficiency", module)  # a deployment's, whatever the step: kept in its step_costs
    if key not in dep.step_costs:
        dep.step_costs[key] = gemm_efficiency(dep, module)
    share = dep.step_costs[key]
    if share is None:
        return [part]
    # the two parts are built field by field, not with dataclasses.replace (five times as long, and
    # this runs for every attention block of every simulated step)
    weights = Part(part.term, weight_bytes, weight_flops, part.kernels, part.flops_per_s, part.peak_flops_per_s,
                   part.dequant_s, memory_efficiency=share, serial_s=part.serial_s,
                   math_in_series=part.math_in_series)
    rest_bytes, rest_flops = part.hbm_bytes - weight_bytes, part.flops - weight_flops
    if rest_bytes <= 0 and rest_flops <= 0:
        return [weights]
    rest = Part(part.term, rest_bytes, rest_flops, 0.0, part.flops_per_s, part.peak_flops_per_s, 0.0,
                memory_efficiency=part.memory_efficiency, serial_s=part.serial_s, math_in_series=part.math_in_series)
    return [weights, rest]
