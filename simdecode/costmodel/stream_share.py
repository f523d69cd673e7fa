"""How much of its datasheet bandwidth a GPU's memory delivers, and what that does to a runtime's
``memory_efficiency`` on a GPU other than the one it was chosen on.

A runtime's ``memory_efficiency`` eta is the share of the datasheet bandwidth its kernels stream at. It
is chosen against measurements on one GPU (gpt-fast's 0.8 against DEC-01..04 on A100-80GB SXM), so it
holds two things at once: how well the engine's kernels keep the memory busy, and how much of its
datasheet figure that GPU's memory delivers at all. The second is a property of the board, and a plain
read-only stream kernel measures it (``GpuSpec.stream_share``, s):

| GPU | read-only stream | s | source |
|---|---:|---:|---|
| A100-SXM4-80GB | 1.75 TB/s of 2.039 | 0.858 | Azure/AI-benchmarking-guide, ND A100 v4 results, BabelStream "Dot" |
| A100 80 GB (board not stated) | 1.769 TB/s of 2.039 | 0.868 | te42kyfo/gpu-benches, gpu-stream/a100_80.txt, "read" (agrees) |
| A100-SXM4-40GB | 1.490 TB/s of 1.555 | 0.958 | te42kyfo/gpu-benches, gpu-stream/a100_40.txt, "read" |
| H100 SXM (80GB HBM3) | 3.18 TB/s of 3.35 | 0.949 | Azure ND H100 v5 results, BabelStream "Dot" |
| H200 | 4.48 TB/s of 4.8 | 0.933 | Azure ND H200 v5 results, BabelStream "Dot" |
| GB200 | 7.35 TB/s of 8.0 | 0.919 | Azure ND GB200 v6 post ("7.35 TB/s ... 92% efficiency", HW-05) |
| MI300X | 3.87 TB/s of 5.3 | 0.730 | Azure ND MI300X v5 results (fork samuel-bohman/AI-benchmarking-guide), "Dot" |
| RTX 3090 | 856.3 GB/s of 936.2 | 0.915 | krrishnarraj/clpeak issue #104, global memory bandwidth, float4 |
| RTX 4090 | 921.3 GB/s of 1008 | 0.914 | clpeak issue #106 (at a 248 W cap), float16; xytpai/nvbench 921.9 uncapped |

BabelStream's Dot reads two arrays into a sum; clpeak's global-bandwidth kernel
(``global_bandwidth_kernels.cl``) reads 16 vectors per work-item and writes their sum, one float per
256 B read with float4: both time reads. The boards differ by more than the benchmarks do: the same
gpu-stream "read" kernel reaches 0.96 of an A100-40GB's HBM2 and 0.87 of an A100-80GB's faster HBM2e.

A power cap does not lower s: NVIDIA's limiter lowers the SM clock, not the memory clock, and an RTX
4090 capped at 248 W of 450 reads at 921 GB/s as it does uncapped; batch-1 decode on an H200 draws
137-300 W of its 700 (Ma et al., arXiv 2605.11999), below any cap. So gpt-fast's 330 W A100s stream
as the 400 W board does (its README: ~1,700 GB/s empirical peak).

Composition. The runtime's own part is k = eta / s(calibration GPU); on another GPU g its weight
GEMMs stream at

    eta_w(g) = k * s(g) = eta * s(g) / s(calibrated_on)      (at most 1)

so on the GPU it was calibrated on nothing changes and DEC-01..04 keep their calibration. Where either
share is unmeasured, or the runtime names no calibration GPU (``RuntimeSpec.calibrated_on``; vLLM's
0.7, a middle of published ranges, names none), eta applies as written: today's behaviour.

Only the weight GEMMs (costmodel/gemm_stream.py: attention projections, dense MLP, experts) take eta_w;
the LM head, costed apart, keeps eta, as it does under ``gemm_efficiency``. A weight GEMM at a few rows
is a plain stream of one matrix, and on the two boards where the same PyTorch recipe was measured it
follows the board: on the project's H200 (KER, docs/measurements-h200.md) cuBLAS's 1-row GEMMs over 117
MB-1.05 GB stream at a slope of 4.11 TB/s, 0.856 of 4.8 (eta_w: 0.87; eta: 0.80); EAGLE's RTX 3090 step
needs >= 0.857 (eta_w: 0.853). The attention kernel's KV reads do not: the H200's in-step cuDNN
attention read the KV cache at 3.85 TB/s, 0.80, exactly the 0.8 gpt-fast was given on A100s, so the KV
cache (and every other stream) keeps eta. Weight-only formats dequantised after the load keep eta too
(gemm_stream.py's rule for kernels whose stream was not measured: tinygemm's int4 is not a plain
stream). Shares a runtime measured for one kernel (``gemm_efficiency`` on Hopper,
``grouped_gemm_efficiency``) are kernel figures and win.

gpt-fast on the RTX 3090: 0.8 x 0.915 / 0.858 = 0.853. The two shares come from different benchmarks
(BabelStream, clpeak): an uncertainty of a few per cent that no same-benchmark pair of these two
boards removes.
"""

from __future__ import annotations

import functools

from simdecode.scenario.hardware import GpuSpec, RuntimeSpec


@functools.cache
def preset_share(gpu_preset: str) -> float | None:
    """The measured ``stream_share`` of the GPU preset named ``gpu_preset`` (None: not measured)."""
    from simdecode.presets import preset

    share = preset("gpus", gpu_preset).get("stream_share")
    return None if share is None else float(share)


def composed_efficiency(memory_efficiency: float, share: float | None, calibration_share: float | None) -> float:
    """``memory_efficiency`` (chosen where the stream share is ``calibration_share``) carried to a GPU
    whose stream share is ``share``: eta x s / s_cal, at most 1; eta itself when either is None.

    gpt-fast's 0.8 (A100-80GB, 0.858) on an RTX 3090 (0.915), on an H200 (0.933), on its own A100:

    >>> round(composed_efficiency(0.8, 0.915, 0.858), 3), round(composed_efficiency(0.8, 0.933, 0.858), 3)
    (0.853, 0.87)
    >>> composed_efficiency(0.8, 0.858, 0.858), composed_efficiency(0.8, None, 0.858), composed_efficiency(0.8, 0.9, None)
    (0.8, 0.8, 0.8)
    """
    if share is None or calibration_share is None or share == calibration_share:
        return memory_efficiency
    return min(1.0, memory_efficiency * share / calibration_share)


def weight_stream_efficiency(gpu: GpuSpec, runtime: RuntimeSpec) -> float | None:
    """The share of ``gpu``'s datasheet bandwidth ``runtime``'s weight GEMMs stream at when it differs
    from the runtime's ``memory_efficiency`` (the module's rule): that share scaled by the two boards'
    measured stream shares, for a runtime that names the GPU it was calibrated on. None where nothing
    changes: no calibration GPU, a share unmeasured, or the calibration GPU itself."""
    if runtime.calibrated_on is None:
        return None
    eta = runtime.memory_efficiency
    share = composed_efficiency(eta, gpu.stream_share, preset_share(runtime.calibrated_on))
    return None if share == eta else share
