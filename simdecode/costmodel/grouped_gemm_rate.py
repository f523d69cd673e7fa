"""The math rate a Hopper fp8 block-scaled grouped GEMM reaches against the rows each expert gets.

A prefill step sends thousands of tokens through each MoE layer: 8,192 tokens x top-8 over
DeepSeek-V3's 256 experts is 256 rows per expert, and the routed experts' grouped GEMMs are
compute-bound. Their rate is not the large-GEMM share a runtime states (``compute_efficiency``): with
few rows per expert, each expert's tile schedule fills the GPU's 132 SMs for a short time, and the
fine-grained (1 x 128 activation, 128 x 128 weight) scales cost CUDA-core promotion FFMAs in every
k-block. DeepGEMM measured its kernels on an H800 (compute capability 9.0, the H100's SMs and its
1,979 TFLOP/s dense FP8 peak) at DeepSeek-V3's expert shapes, whole experts, no tensor parallelism
(deepseek-ai/DeepGEMM README at its first release, 2025-02, "Grouped GEMMs for MoE models"):

| rows per expert | layout     | FC1: N 4096, K 7168 | FC2: N 7168, K 2048 |
|-----------------|------------|---------------------|---------------------|
| 256 (4 groups)  | masked     | 932 TFLOP/s         | 815 TFLOP/s         |
| 512 (2 groups)  | masked     | 1,040               | 916                 |
| 1,024 (1 group) | masked     | 1,233               | 925                 |
| 4,096 (8 groups)| contiguous | 1,288               | 1,093               |
| 8,192 (4 groups)| contiguous | 1,297               | 1,099               |

An expert's FC1 (gate and up, N = 2 I, K = h) does twice the FLOPs of its FC2 (down, N = h, K = I),
so the pair's rate is the FLOP-weighted harmonic mean, 1 / (2/3 / r1 + 1/3 / r2): at 256 rows
1 / (2/3 / 932 + 1/3 / 815) = 889.4 TFLOP/s, 0.449 of the peak (:func:`hopper_fp8_grouped_share`;
0.503, 0.561, 0.614 and 0.618 at the other rows). Between the rows measured the share is interpolated
in log2(rows); below 256 rows it stays at 256's (there the weight stream, not the math, decides the
time), above 8,192 at 8,192's.

It is applied (:func:`applies`, :func:`capped_flops_per_s`) where those kernels run: routed experts
whose math is fp8 (both operands: block-scaled fp8 weights and per-token-group fp8 activations) on
compute capability 9.0 with the H800's tensor rate (H100 SXM, H200, H800: 1,979 TFLOP/s dense FP8; the
H20, 296 TFLOP/s on fewer SMs, and the H100 PCIe, 1,513, fill their SMs differently and were not
measured: they keep the runtime's rate), as a ceiling
on the rate the runtime's ``compute_efficiency`` gives (a runtime whose large GEMMs reach less keeps
its own figure). TensorRT-LLM's CUTLASS MoE backend runs DeepGEMM's grouped kernel itself for these
experts on Hopper (costmodel/moe.py, ``grouped_gemm_efficiency``). SGLang's and vLLM's Triton
``fused_moe`` under tp 8 without expert parallelism run the same experts split 8 ways (N = 512 for FC1,
K = 256 for FC2): thinner GEMMs than the table's, which reach no more of the peak, so the table's share
is their ceiling too, an assumption. The table was taken at DeepSeek-V3's shapes; other fp8 MoE models'
experts are charged the same share by their rows per expert, also an assumption.
"""

from __future__ import annotations

from math import log2

from simdecode.costmodel import precision as precision_mod

#: H800 dense FP8 tensor-core peak the DeepGEMM table was measured against (= H100 SXM's), FLOP/s
H800_FP8_PEAK_FLOPS = 1979e12
#: DeepGEMM README (first release): (rows per expert, FC1 TFLOP/s at N 4096 K 7168, FC2 TFLOP/s at N 7168 K 2048)
DEEPGEMM_H800_GROUPED = ((256, 932.0, 815.0), (512, 1040.0, 916.0), (1024, 1233.0, 925.0),
                         (4096, 1288.0, 1093.0), (8192, 1297.0, 1099.0))
#: how far a GPU's fp8 peak may be from the H800's for the table to apply (datasheet rounding)
PEAK_TOLERANCE = 0.02
#: share of an expert's FLOPs in FC1 (gate + up: N = 2 I against FC2's K = I)
FC1_FLOP_SHARE = 2.0 / 3.0
#: the compute capability the table was measured on (H800; H100, H200 and H20 share it)
MEASURED_COMPUTE_CAPABILITY = 9.0


def pair_share(fc1_tflops: float, fc2_tflops: float, peak_flops_per_s: float = H800_FP8_PEAK_FLOPS) -> float:
    """The share of ``peak_flops_per_s`` an expert's FC1 and FC2 reach together: the FLOP-weighted
    harmonic mean of their rates (TFLOP/s) over the peak.

    >>> round(pair_share(932.0, 815.0), 4)   # 256 rows: 889.4 TFLOP/s of 1,979
    0.4494
    """
    rate = 1.0 / (FC1_FLOP_SHARE / fc1_tflops + (1.0 - FC1_FLOP_SHARE) / fc2_tflops) * 1e12
    return rate / peak_flops_per_s


#: (rows per expert, share of the FP8 peak) from the table
SHARES = tuple((rows, pair_share(r1, r2)) for rows, r1, r2 in DEEPGEMM_H800_GROUPED)


def hopper_fp8_grouped_share(rows: float) -> float:
    """The share of the dense FP8 peak a block-scaled fp8 grouped GEMM reaches with ``rows`` tokens per
    expert (module docstring): the table's, interpolated in log2(rows), held at its ends.

    >>> round(hopper_fp8_grouped_share(256), 4), round(hopper_fp8_grouped_share(2048), 4)
    (0.4494, 0.5876)
    """
    if rows <= SHARES[0][0]:
        return SHARES[0][1]
    for (r0, s0), (r1, s1) in zip(SHARES, SHARES[1:]):
        if rows <= r1:
            w = (log2(rows) - log2(r0)) / (log2(r1) - log2(r0))
            return s0 + w * (s1 - s0)
    return SHARES[-1][1]


def applies(dep) -> bool:
    """Do ``dep``'s routed experts run as Hopper fp8 block-scaled grouped GEMMs (module docstring)?"""
    gpu, prec = dep.gpu, dep.precision
    if gpu is None or prec is None or gpu.compute_capability != MEASURED_COMPUTE_CAPABILITY:
        return False
    if abs(gpu.flops_per_s.get("fp8", 0.0) / H800_FP8_PEAK_FLOPS - 1.0) > PEAK_TOLERANCE:
        return False
    return precision_mod.math_dtype(gpu, prec.experts, prec.activations) == "fp8" and prec.experts == "fp8"


def capped_flops_per_s(flops_per_s: float, peak_flops_per_s: float, rows: float, tile_share: float = 1.0) -> float:
    """The routed experts' achieved FLOP/s: the runtime's rate ``flops_per_s`` (its tile padding
    included), at most the table's share of ``peak_flops_per_s`` at ``rows`` per expert, padded alike.

    DeepSeek-V3 at 8,192 tokens on an H200 under TensorRT-LLM (0.5 x 1,979 = 989.5 TFLOP/s): 889.4.

    >>> round(capped_flops_per_s(989.5e12, 1979e12, 256) / 1e12, 1)
    889.4
    """
    return min(flops_per_s, peak_flops_per_s * hopper_fp8_grouped_share(rows) * tile_share)
