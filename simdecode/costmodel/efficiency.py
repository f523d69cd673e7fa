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
- FP4 (e2m1: MXFP4, NVFP4) on a GPU without fp4 tensor cores (Hopper, Ampere, Ada) runs in vLLM's
  Marlin kernel (``VLLM_MXFP4_USE_MARLIN=1``, the flag InferenceX's gpt-oss H100/H200 scripts set):
  it decodes the e2m1 bits into bf16 with integer bit operations, ``dequant<nv_bfloat162, kFE2M1f>``
  in vLLM ``csrc/quantization/marlin/dequant.h``: ``(q & 0x80008000) | ((q & 0x70007000) >> 6)``
  twice per call with a ``q <<= 4`` between, 7 INT32 instructions (and, and, shift, or with the
  two ands and the or folded into LOP3s: 3 each, plus the shift of q) for the 4 values of one call
  (:data:`FP4_DEQUANT_INT_OPS_PER_WEIGHT` = 7/4); the scale is one bf16x2 multiply per 2 values on
  the FP32 pipe, which issues beside the integer one. Hopper's SMs have half as many INT32 lanes
  as FP32 lanes (NVIDIA H100 Tensor Core GPU Architecture whitepaper: 128 FP32 and 64 INT32 cores
  per SM; likewise compute capability 8.6 and 8.9), so the integer pipe runs vector_flops / 4
  instructions per second (vector_flops counts an FMA as 2 FLOPs); the kernel reaches the runtime's
  ``compute_efficiency`` of that issue rate, as its tensor-core math does of the tensor peak
  (:func:`fp4_dequant_seconds`). On an H100 that is 12.4e6 weights (one gpt-oss expert at tp 2)
  in 2.36 us, about what streaming its 6.6 MB takes at 81% of 3.35 TB/s (2.43 us); on an H200 the
  stream takes 1.70 us and the integer pipe binds. So both GPUs take about the same time, as
  InferenceX measures for gpt-oss at tp 2 although H200 has 43% more bandwidth (1k8k: 10.4 vs
  10.0 ms at concurrency 32, 14.4 vs 13.9 at 64). (A100, compute capability 8.0, has as many
  INT32 lanes as FP32 ones: this formula charges it twice its decode time.)
- Marlin at prefill (many rows per weight): its kernels are built for at most 64 rows. vLLM's
  ``fused_marlin_moe`` picks ``block_size_m`` from 8, 16, 32, 48, 64 (the first with
  rows_per_expert / block < 0.9, else 64) and ``moe_wna16_marlin_gemm`` runs one thread block per
  (64-row block of one expert, weight tile) with ``thread_m_blocks = ceil(block / 16)``; the dense
  kernel likewise "for batchsizes > 64 ... will just run the batch 64 kernel repeatedly" (E. Frantar,
  IST-DASLab/marlin issue #2). Each block loads and decodes its weight tile anew, so a GEMM whose
  weights meet ``rows`` rows decodes them ceil(rows / 64) times (:func:`marlin_passes`; 1 at decode).
  And Marlin multiplies with ``mma.sync`` (Ampere's warp-level instruction, marlin_template.h), which
  reaches about 2/3 of a Hopper GPU's dense tensor-core peak: the full rate needs the warp-group
  ``wgmma`` (FlashAttention-3, Shah et al. 2024, arXiv 2407.08608, section 2.2, citing Luo et al.
  2024, arXiv 2402.13499, "Benchmarking and Dissecting the Nvidia Hopper GPU Architecture"):
  ``GpuSpec.warp_mma_share`` (2/3 on H100, H200, H20, H800; 1 where mma.sync is the native
  instruction, Ampere and Ada).
- Marlin's decode and its math in series in the routed experts (``fused_marlin_moe``), once a weight
  tile meets more than one 16-row MMA block (:func:`marlin_math_in_series`; Deployment.part applies it
  to the ``experts`` module only: the dense Marlin GEMM was not measured and keeps the overlap): the
  same warps issue both, in one software pipeline, and past
  ``thread_m_blocks`` = 1 they do not hide each other. An ``nsys`` capture of SGLang's Marlin W4A16
  MoE on an H100 at prefill (sgl-project/sglang PR #38884: DeepSeek-V4-Flash's MXFP4 experts split
  4 ways, 16,384-token chunks, so 384 rows per expert) took 4.863 ms a layer for 1.237 TFLOP per GPU,
  "254 TFLOPS, 25.7% of H100 BF16 peak", reading 856 MB: "issue-bound, not bandwidth-bound: the SASS
  inner loop spends 64 of 220 instructions per 32-K step on HMMA, the rest on dequant, scale and
  pack". Charged here: its 1.61e9 weights decoded 6 times (1.836 ms at 0.55 of the integer pipe) plus
  the math at 0.55 x 2/3 of the peak (3.409 ms): 5.245 ms, 8% over the measurement, where the
  overlapped max of the two gives 3.409 ms (30% under). At decode (one 16-row block: a quarter of
  the tensor-core work per decoded weight of a 64-row block) the math hides behind the decode and
  the stream, as before: the busy time stays max(stream, decode) there, which InferenceX's gpt-oss
  TPOTs (one decode pass, the same per expert on H100 and H200) support. So a part's busy time is
  max(stream, math, decode) for at most 16 rows and max(stream, math + decode) past them.
  gpt-oss-120b's experts at tp 2 on an H100 for an 8,192-token prefill (256 rows per expert):
  each weight decoded 4 times (36 layers x 128 experts x 4 x 2.36 us = 43.5 ms) after the math
  at 2/3 of the rate (54.0 / 0.667 = 80.9 ms): 124.4 ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

#: minimum tensor-core tile height of the grouped / skinny GEMMs of decode (vLLM and SGLang
#: fused_moe configs: BLOCK_SIZE_M 16 at batch <= 16)
TILE_ROWS = 16
#: CUDA-core instructions to dequantise one weight (convert + scale)
DEQUANT_INSTRUCTIONS_PER_WEIGHT = 2.0
#: INT32 instructions Marlin spends decoding one e2m1 (FP4) weight to bf16: 7 per 4 values (module docstring)
FP4_DEQUANT_INT_OPS_PER_WEIGHT = 7.0 / 4.0
#: INT32 lanes per SM as a share of FP32 lanes on compute capability 8.6, 8.9 and 9.0 (H100: 64 vs 128);
#: the default of ``GpuSpec.int32_share`` (A100, 8.0, has 64 and 64: 1.0)
INT32_SHARE_OF_FP32_LANES = 0.5
#: weight formats decoded from e2m1 bits (MXFP4, NVFP4)
FP4_FORMATS = ("fp4", "nvfp4", "mxfp4")
#: most rows one Marlin thread block multiplies a weight tile with (vLLM ``fused_marlin_moe``'s largest
#: ``block_size_m``; the dense kernel's 4 x 16-row ``thread_m_blocks``): more rows decode the tile again
MARLIN_BLOCK_ROWS = 64
#: rows of one mma.sync m16n8k16 block, Marlin's ``thread_m_blocks`` unit: past it its math and decode add
MARLIN_MMA_ROWS = 16


@dataclass(slots=True)
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
    serial_s:     latency its kernels pay in series with the stream and the math (an NVFP4 GEMM's
                  k-loop at decode: costmodel/fp4_gemm.py)
    math_in_series: the math is issued in series with the decode, not hidden behind it (Marlin past one
                  16-row MMA block: :func:`marlin_math_in_series`): busy = max(stream, math + decode)

    Treated as immutable (not frozen only because a frozen dataclass takes about five times as long
    to build, and several are built for every simulated step: docs/performance.md).
    """

    term: str
    hbm_bytes: float
    flops: float
    kernels: float
    flops_per_s: float
    peak_flops_per_s: float
    dequant_s: float = 0.0
    memory_efficiency: float | None = None
    serial_s: float = 0.0
    math_in_series: bool = False


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


def fp4_dequant_seconds(weights: float, vector_flops_per_s: float, compute_efficiency: float,
                        int32_share: float = INT32_SHARE_OF_FP32_LANES) -> float:
    """Seconds Marlin's integer pipe takes to decode ``weights`` e2m1 values to bf16 (module docstring):
    weights * 7/4 INT32 instructions at (vector_flops / 2 FP32 lanes/s) * int32_share * compute_efficiency,
    ``int32_share`` the GPU's INT32 lanes per FP32 lane (1/2 on Hopper, 1 on A100: ``GpuSpec.int32_share``).

    One gpt-oss-120b expert at tp 2 (3 * 2880 * 2880 / 2 = 12,441,600 weights) on an H100
    (67 TFLOP/s FP32: 16.75e12 INT32 instructions/s) under vLLM (0.55): 2.36 us.
    """
    int_ops_per_s = vector_flops_per_s / 2 * int32_share * compute_efficiency
    return weights * FP4_DEQUANT_INT_OPS_PER_WEIGHT / int_ops_per_s


def marlin_passes(rows: float | None) -> int:
    """How many times Marlin decodes each weight of a GEMM whose weights meet ``rows`` rows (tokens, or a
    MoE expert's tokens): ceil(rows / 64), at least 1 (None or 0: one pass, as at decode).

    >>> marlin_passes(1), marlin_passes(64), marlin_passes(65), marlin_passes(256), marlin_passes(None)
    (1, 1, 2, 4, 1)
    """
    if not rows or rows <= 0:
        return 1
    return max(1, ceil(rows / MARLIN_BLOCK_ROWS))


def marlin_math_in_series(rows: float | None) -> bool:
    """Does a Marlin GEMM whose weights meet ``rows`` rows (tokens, or one expert's tokens) issue its
    math in series with its decode? Past one 16-row ``mma.sync`` block (``thread_m_blocks`` > 1) yes;
    at decode (at most 16 rows, None or 0) the math hides behind the decode (module docstring).

    >>> [marlin_math_in_series(r) for r in (None, 0, 2, 16, 16.5, 28.9, 384)]
    [False, False, False, False, True, True, True]
    """
    return bool(rows) and rows > MARLIN_MMA_ROWS


def part_seconds(part: Part, bandwidth_Bps: float, kernel_s: float, overlap: bool = True) -> tuple[float, float]:
    """(busy seconds without launches, launch seconds) of ``part`` (module docstring formula); with
    ``overlap`` the dequantisation hides behind the weight stream (max), else it adds to it. Its
    ``serial_s`` adds in either case."""
    stream = part.hbm_bytes / bandwidth_Bps
    math = part.flops / part.flops_per_s if part.flops else 0.0
    if overlap and part.math_in_series:
        busy = max(stream, math + part.dequant_s)
    else:
        busy = max(stream, math, part.dequant_s) if overlap else max(stream, math) + part.dequant_s
    return busy + part.serial_s, part.kernels * kernel_s


def dequant_bound_seconds(part: Part, bandwidth_Bps: float, overlap: bool = True) -> float:
    """Seconds of ``part``'s busy time (:func:`part_seconds`, launches excluded) that its weight
    decode decides, for ``explain``: with ``overlap`` all of them (``dequant_s``) when the decode
    outlasts the roofline (the weight stream and the math hide behind the CUDA-core work), else 0;
    without overlap its ``dequant_s``, which adds to the stream.

    gpt-oss-120b's experts at tp 2 on an H200 (module docstring): 12.4e6 FP4 weights, 6.6 MB, decode
    2.36 us (at H100's issue rate) against a 6.6 MB / 3.9 TB/s = 1.70 us stream: 2.36 us.
    """
    if part.dequant_s <= 0:
        return 0.0
    if not overlap:
        return part.dequant_s
    stream = part.hbm_bytes / bandwidth_Bps
    math = part.flops / part.flops_per_s if part.flops else 0.0
    if part.math_in_series:  # its decode's share of max(stream, math + decode): the math is math time
        return part.dequant_s if math + part.dequant_s > stream else 0.0
    return part.dequant_s if part.dequant_s > max(stream, math) else 0.0


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
