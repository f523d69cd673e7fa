"""The share of the FP4 tensor-core peak NVFP4 GEMMs reach at prefill on datacenter Blackwell.

A runtime's ``compute_efficiency`` is the share of a GPU's dense peak its large GEMMs (prefill
chunks of thousands of tokens) reach; it was chosen where simdecode's prefill measurements are,
with fp8 and bf16 math (DEC-11/BAT-01: TensorRT-LLM fp8 on H100). Blackwell's FP4 peak is twice its FP8 peak (B200: 9.0 vs 4.5 PFLOP/s
dense), but the block-scaled NVFP4 kernels do not reach the same share of it: each k-block also
loads and applies two scale tiles (one e4m3 per 16 values of both operands), and the epilogue and
the operand loads do not get faster with the math. Kernel benchmarks on a B200 at prefill sizes:

=========================================================  ==========  =================  ==========
kernel, harness, shape (M x N x K)                          dtype       TFLOP/s            of peak
=========================================================  ==========  =================  ==========
vLLM CUTLASS ``cutlass_scaled_mm``, bench_fp8_gemm          fp8 (per    2,545              0.566
(PR #19566), 16384 x 6144 x 4096                            tensor)
the same, per-token activation / per-channel weight scales  fp8         2,447              0.544
vLLM CUTLASS ``cutlass_scaled_fp4_mm``, bench_nvfp4_gemm    nvfp4       3,904              0.434
(PR #20578), 16384 x 6144 x 4096 (8192 rows: 3,779)
FlashInfer ``mm_fp4`` (PR #1979), 1024 x 7168 x 4608        nvfp4       cutlass 3,370,     0.374,
                                                                        cudnn 2,976,       0.331,
                                                                        trtllm 2,187       0.243
DeepGEMM block-scaled fp8 on GB200 (SGLang PR #13528),      fp8 (1x128  2,770              0.554
2048 x 24576 x 7168 (260.4 us)                              blocks)                        (of 5.0 PF)
=========================================================  ==========  =================  ==========

"noquant": the GEMM alone, activations already quantised. PR #20578 does not name its GPU; its bf16
column (torch's cuBLAS, the same harness) matches the B200 rows of PRs #18778 and #19566 to 0.1%
(5.92 and 729.1 TFLOP/s at 1 and 128 rows against 5.92 and 729.3), so it is a B200. Its NVFP4 configs
are those before vLLM PR #20646's tuning ("a starting point"), while the FP8 ones had three rounds
(PRs #18778, #19566, #20071); the autotuned FlashInfer backends a few months later (PR #1979) are no
better at their shape, so the ratio is taken as it was measured. The same harness, the same B200, the same
Llama-3.1-8B QKV shape and 16,384 rows: NVFP4 reaches 0.434 of the FP4 peak where per-tensor FP8
reaches 0.566 of the FP8 peak, a ratio :data:`NVFP4_SHARE_OF_FP8_SHARE` = 0.767; an NVFP4 prefill
GEMM runs 2 x 0.767 = 1.53 times as fast as an FP8 one, not twice. FlashInfer's backends at a smaller
M (0.24-0.37) are lower still; cuBLAS at squares reaches more (pytorch/ao PR #2427 on B200: 0.495,
0.611, 0.597 of the FP4 peak at 4096^3, 6144^3, 8192^3) and DeepGEMM's MXFP4 kernel more still
(DeepGEMM PR #348, open: 0.59 at 4096 x 4096 x 7168 and 0.63 at 8192^3, against cuBLASLt's 0.44 and
0.58), so 0.767 is the ratio of the CUTLASS kernels vLLM and TensorRT-LLM call (``nvfp4_gemm``), not a
floor.

Scope and what is left alone:

- Applied where the math runs on FP4 tensor cores (W4A4 NVFP4, ``precision.math_dtype`` = fp4) on
  the compute capabilities of :data:`fp4_gemm.SM100_COMPUTE_CAPABILITIES` (B200, GB200: 10.0, where it was
  measured; B300, GB300: 10.3, whose FP4 peak is 3x its FP8 one, assumed to reach no more of it).
  Other GPUs and dtypes: factor 1 (the runtime's ``compute_efficiency`` as before).
- FP8 on Blackwell against FP8 on Hopper: B200's kernels above reach 0.54-0.57 of their FP8 peak;
  Hopper's best block-scaled ones 0.61-0.77 (DeepGEMM on H800 at M = 4096 and K >= 1536: 1,215-1,519
  of 1,979 TFLOP/s, DeepGEMM PR #86), but DeepGEMM's own early Hopper rows at B200's shape were
  lower (SGLang PR #3893: 2048 x 24576 x 7168 in 731 us, 0.50). No published pair of one harness
  at the same shapes on both architectures was found, so no FP8 factor is applied
  (docs/physics-moe-precision.md).
- The factor is for large M (its rows are thousands of tokens); at decode a GEMM is bound by its
  weight stream (and NVFP4's k-loop, costmodel/fp4_gemm.py), where the math rate does not show.
"""

from __future__ import annotations

from simdecode.costmodel.fp4_gemm import SM100_COMPUTE_CAPABILITIES

#: per-tensor fp8 CUTLASS GEMM on B200 at 16384 x 6144 x 4096: 2,545 TFLOP/s of 4,500 (vLLM PR #19566)
B200_FP8_SHARE = 2545.0 / 4500.0
#: NVFP4 CUTLASS GEMM on B200, the same shape and rows: 3,904 TFLOP/s of 9,000 (vLLM PR #20578)
B200_NVFP4_SHARE = 3904.0 / 9000.0
#: how much of its FP4 peak an NVFP4 GEMM reaches per unit of the FP8 share the runtime's compute_efficiency holds
NVFP4_SHARE_OF_FP8_SHARE = B200_NVFP4_SHARE / B200_FP8_SHARE
#: the ``flops`` key whose math the factor applies to
FP4_MATH = "fp4"


def rate_factor(compute_capability: float | None, math_dtype: str) -> float:
    """Multiplier on the runtime's ``compute_efficiency`` for large GEMMs whose math runs at
    ``math_dtype`` (a ``GpuSpec.flops`` key) on a GPU of ``compute_capability``: the measured ratio
    NVFP4 share / FP8 share (0.434 / 0.566 = 0.767) for fp4 math on datacenter Blackwell, else 1.

    >>> round(rate_factor(10.0, "fp4"), 3), rate_factor(10.0, "fp8"), rate_factor(9.0, "fp4"), rate_factor(None, "fp4")
    (0.767, 1.0, 1.0, 1.0)
    """
    if math_dtype == FP4_MATH and compute_capability in SM100_COMPUTE_CAPABILITIES:
        return NVFP4_SHARE_OF_FP8_SHARE
    return 1.0


def large_gemm_flops_per_s(peak_flops_per_s: float, compute_efficiency: float, compute_capability: float | None,
                           math_dtype: str) -> float:
    """FLOP/s a large GEMM sustains: peak x compute_efficiency x :func:`rate_factor`, never above the peak.

    B200 NVFP4 under TensorRT-LLM (0.5): 9.0e15 x 0.5 x 0.767 = 3.45e15 FLOP/s (FP8: 2.25e15).

    >>> round(large_gemm_flops_per_s(9.0e15, 0.5, 10.0, "fp4") / 1e15, 2)
    3.45
    """
    return min(peak_flops_per_s, peak_flops_per_s * compute_efficiency * rate_factor(compute_capability, math_dtype))
