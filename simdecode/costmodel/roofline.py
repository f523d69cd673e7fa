"""Roofline time of GPU work, with the runtime's efficiencies and fixed per-kernel costs.

    t = max(bytes / (BW_peak * eta_mem), flops / (F_peak * throttle * eta_flop))
        + kernels * t_kernel / throttle                          (physics.md 5.1, 5.3)

``throttle`` models a power cap to first order: at fixed voltage dynamic power is proportional to
the SM clock, so a board capped at P_cap < TDP runs its SM clock at P_cap / TDP. The cap lowers
peak FLOP/s and stretches every kernel's fixed cost (launch gap, ramp and tail are clock-bound);
it does not lower HBM bandwidth, because NVIDIA's power limiter lowers the graphics clock while
the memory clock stays fixed. gpt-fast's README, on A100-80GB capped at 330 W, reports an
empirical peak of ~1700 GB/s (83% of 2039 GB/s), no lower than an uncapped A100 measures.
"""

from __future__ import annotations

from dataclasses import dataclass

from simdecode.scenario.hardware import GpuSpec, RuntimeSpec

#: host-side cost of launching one kernel without CUDA graphs (physics.md 5.3: ~4-6 us per kernel;
#: Llama-3.1-8B on H100 decodes in 8.4 ms eager vs 5.1 ms with a CUDA graph: 3.3 ms over ~500
#: kernels, ~6.6 us each)
EAGER_LAUNCH_S = 5e-6
from simdecode.costmodel.blackwell_gemm import large_gemm_flops_per_s
from simdecode.costmodel.devices import matrix_stream_share
from simdecode.costmodel.precision import math_dtype
from simdecode.scenario.types import DTYPE_BYTES


def power_throttle(gpu: GpuSpec) -> float:
    """Clock scale under a power cap (1.0 without one): min(1, P_cap / TDP)."""
    if gpu.power_limit_W is None or gpu.tdp_W is None:
        return 1.0
    return min(1.0, gpu.power_limit_W / gpu.tdp_W)


@dataclass(frozen=True, slots=True)
class DeviceRates:
    """What one GPU sustains under a runtime: achieved bytes/s and FLOP/s, and peaks."""

    peak_bandwidth_Bps: float
    peak_flops_per_s: float
    bandwidth_Bps: float
    flops_per_s: float
    kernel_s: float

    @classmethod
    def of(cls, gpu: GpuSpec, runtime: RuntimeSpec, weights: str, activations: str) -> DeviceRates:
        throttle = power_throttle(gpu)
        # a core whose quoted bandwidth sums its ports streams the matrix through one (devices.py)
        peak_bw = gpu.memory_bandwidth_Bps * matrix_stream_share(gpu)
        math = math_dtype(gpu, weights, activations)
        peak_flops = gpu.flops_per_s[math] * throttle
        return cls(
            peak_bandwidth_Bps=peak_bw,
            peak_flops_per_s=peak_flops,
            bandwidth_Bps=peak_bw * runtime.memory_efficiency,
            flops_per_s=large_gemm_flops_per_s(peak_flops, runtime.compute_efficiency, gpu.compute_capability, math),
            # a dataflow or hard-wired chip launches nothing: its compiler schedules every op
            kernel_s=(runtime.kernel_launch_s / throttle + (0.0 if runtime.cuda_graphs else EAGER_LAUNCH_S))
            if gpu.kind == "gpu" else 0.0,
        )


def kernel_time(hbm_bytes: float, flops: float, rates: DeviceRates) -> float:
    """Seconds the roofline allows for ``hbm_bytes`` moved and ``flops`` done (no launch cost)."""
    return max(hbm_bytes / rates.bandwidth_Bps, flops / rates.flops_per_s)


def ideal_time(hbm_bytes: float, flops: float, rates: DeviceRates) -> float:
    """The same at 100% of (throttled) peak: the bound no simulated step may beat."""
    return max(hbm_bytes / rates.peak_bandwidth_Bps, flops / rates.peak_flops_per_s)


def dtype_bytes(dtype: str) -> float:
    return DTYPE_BYTES[dtype]
