"""What a kernel of a given shape achieves: bandwidth, math rate and dequantisation (docs/physics-moe-precision.md).

One module of a step is a few :class:`Part` s (a sequence of kernels with a name: ``attention``,
``experts``, ``routing`` ...). A part that moves ``b`` bytes and does ``f`` FLOPs in ``n`` kernels takes

    t = max(b / (BW eta_mem), f / F_eff(rows)) + t_dequant + n * t_kernel

- ``n * t_kernel``: every kernel pays a fixed cost (launch gap in a CUDA graph, the prologue's first
  DRAM round trip, the last wave's tail) however little it moves, so the bandwidth a kernel reaches,
  b / t, falls for small matrices: :func:`achieved_bandwidth_Bps` gives half the sustained rate at
  b = BW eta_mem t_kernel (about 8 MB on an H100 at 3.3 us). Evidence: vLLM's fused-MoE benchmark on
  H100 (PR #24700, Qwen3-30B-A3B fp8, CUDA graph) takes 40.4 us at batch 1 for 37.7 MB of experts,
  = 26.6 us fixed (eight kernels: top-k, align, 2 x activation quant, 2 grouped GEMMs, SiLU, sum) +
  1.73 us per active expert (4.7 MB each: 81% of 3.35 TB/s); the same fit holds to batch 128.
- ``F_eff(rows)``: tensor-core tiles have a minimum height; a GEMM of ``rows`` tokens pays for
  ceil(rows / m) m rows (:func:`padded_rows`; m = 16, the BLOCK_SIZE_M vLLM's and SGLang's fused-MoE
  kernels use for small batches). A MoE expert that receives 2 tokens runs at 2/16 of the math rate.
- ``t_dequant``: weight-only formats (int8, int4, and fp8/fp4 on GPUs without tensor cores for them)
  convert every weight to the math dtype on the CUDA cores before the MMA: about two instructions per
  weight (convert, then scale; an int4 zero point folds into the scale's FMA) at half the vector FP32
  FLOP/s (an FMA counts two FLOPs). Charged once per weight read, whatever the batch (a tile is
  dequantised once for all its rows). Pipelined kernels (Marlin, arXiv 2408.11743; Machete; Triton's
  matmul_ogs for MXFP4) convert one tile while the next loads, so t = max(stream, dequant)
  (``runtime.dequant_overlap``); kernels without that pipelining (gpt-fast's torch.compile int8 and
  tinygemm int4) add it: gpt-fast's int8 reaches 77% and its int4 62% of the bandwidth its bf16
  reaches (gpt-fast README, Llama-2-7B on A100: 1069 and 863 vs 1397 GB/s).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

#: minimum tensor-core tile height of the grouped / skinny GEMMs of decode (vLLM and SGLang
#: fused_moe configs: BLOCK_SIZE_M 16 at batch <= 16)
TILE_ROWS = 16
#: CUDA-core instructions to dequantise one weight (convert + scale)
DEQUANT_INSTRUCTIONS_PER_WEIGHT = 2.0


@dataclass(frozen=True, slots=True)
class Part:
    """One named run of kernels inside a module, on one GPU, for one step.

    term:         what it is, for ``explain`` ("attention", "experts", "routing", ...)
    hbm_bytes:    bytes read and written in HBM
    flops:        FLOPs done (tile padding included)
    kernels:      kernels launched
    flops_per_s:  achieved math rate of its dtype (peak x throttle x compute efficiency)
    peak_flops_per_s: the same at 100%
    dequant_s:    CUDA-core time to dequantise weight-only formats
    memory_efficiency: share of the datasheet bandwidth this part's kernels sustain when it is
                  their own measured figure (None: the runtime's ``memory_efficiency``)
    """

    term: str
    hbm_bytes: float
    flops: float
    kernels: float
    flops_per_s: float
    peak_flops_per_s: float
    dequant_s: float = 0.0
    memory_efficiency: float | None = None


def padded_rows(rows: float, tile: int = TILE_ROWS) -> float:
    """Rows a tensor-core GEMM computes for ``rows`` real ones: ceil(rows / tile) * tile (0 stays 0).

    >>> padded_rows(1), padded_rows(16), padded_rows(17), padded_rows(0)
    (16, 16, 32, 0)
    """
    return ceil(rows / tile) * tile if rows > 0 else 0


def dequant_seconds(weights: float, vector_flops_per_s: float) -> float:
    """Seconds to dequantise ``weights`` values: 2 instructions each at vector_flops / 2 per second.

    Llama-2-70B int8 at tp 8 (8.6e9 weights per GPU) on an A100 (19.5 TFLOP/s FP32): 1.76 ms.
    """
    return weights * DEQUANT_INSTRUCTIONS_PER_WEIGHT / (vector_flops_per_s / 2)


def part_seconds(part: Part, bandwidth_Bps: float, kernel_s: float, overlap: bool = True) -> tuple[float, float]:
    """(busy seconds without launches, launch seconds) of ``part`` (module docstring formula); with
    ``overlap`` the dequantisation hides behind the weight stream (max), else it adds to it."""
    roofline = max(part.hbm_bytes / bandwidth_Bps, part.flops / part.flops_per_s if part.flops else 0.0)
    busy = max(roofline, part.dequant_s) if overlap else roofline + part.dequant_s
    return busy, part.kernels * kernel_s


def ideal_seconds(part: Part, peak_bandwidth_Bps: float) -> float:
    """The same at 100% of peak, no launches and no dequantisation: the roofline bound."""
    return max(part.hbm_bytes / peak_bandwidth_Bps, part.flops / part.peak_flops_per_s if part.flops else 0.0)


def achieved_bandwidth_Bps(nbytes: float, kernels: float, bandwidth_Bps: float, kernel_s: float) -> float:
    """The bandwidth a run of ``kernels`` moving ``nbytes`` reaches, fixed costs included:
    nbytes / (nbytes / BW + kernels * t_kernel). Half of BW at nbytes = kernels * t_kernel * BW.

    >>> round(achieved_bandwidth_Bps(10e6, 1, 2.5e12, 4e-6) / 1e12, 3)   # 10 MB at 2.5 TB/s, 4 us
    1.25
    """
    if nbytes <= 0:
        return 0.0
    return nbytes / (nbytes / bandwidth_Bps + kernels * kernel_s)
