"""Roofline time, power throttling and the matmul dtype (simdecode/costmodel/roofline.py).

    t = max(bytes / (BW_peak * eta_mem), flops / (F_peak * throttle * eta_flop))   physics.md 5.1

GPU and runtime figures come from the presets (gpus.yaml: vendor datasheets; runtimes.yaml).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel.precision import math_dtype as compute_dtype
from simdecode.costmodel.roofline import DeviceRates, ideal_time, kernel_time, power_throttle
from simdecode.presets import preset
from simdecode.scenario.hardware import GpuSpec, RuntimeSpec


def gpu(name: str, **overrides: object) -> GpuSpec:
    return GpuSpec.model_validate({**preset("gpus", name), **overrides})


def runtime(name: str = "default") -> RuntimeSpec:
    return RuntimeSpec.model_validate(preset("runtimes", name))


H100_BF16 = DeviceRates.of(gpu("h100-sxm"), runtime("default"), "bf16", "bf16")


# ---- kernel_time ---------------------------------------------------------------------------
def test_device_rates_h100_default_runtime() -> None:
    # H100 SXM 3.35 TB/s, 989 TFLOP/s bf16 (physics.md 5.4); default runtime MBU 0.7, MFU 0.6
    assert H100_BF16.bandwidth_Bps == pytest.approx(3.35e12 * 0.7, rel=1e-15)       # 2.345e12 B/s
    assert H100_BF16.flops_per_s == pytest.approx(989e12 * 0.6, rel=1e-15)          # 593.4e12
    assert H100_BF16.peak_bandwidth_Bps == 3.35e12
    assert H100_BF16.peak_flops_per_s == 989e12
    assert H100_BF16.kernel_s == pytest.approx(2e-6, rel=1e-15)                     # no power cap


def test_kernel_time_memory_bound() -> None:
    # 1 GB and 1 GFLOP: 1e9 / 2.345e12 = 426.4 us of bytes vs 1e9 / 593.4e12 = 1.69 us of math
    expected_s = 1e9 / (3.35e12 * 0.7)
    assert kernel_time(1e9, 1e9, H100_BF16) == pytest.approx(expected_s, rel=1e-15)
    assert expected_s == pytest.approx(426.44e-6, rel=1e-4)


def test_kernel_time_compute_bound() -> None:
    # 1 MB and 1 TFLOP: 1e6 / 2.345e12 = 0.43 us of bytes vs 1e12 / 593.4e12 = 1.685 ms of math
    expected_s = 1e12 / (989e12 * 0.6)
    assert kernel_time(1e6, 1e12, H100_BF16) == pytest.approx(expected_s, rel=1e-15)


def test_ideal_time_uses_peaks() -> None:
    # the bound no step may beat: 1e9 B / 3.35e12 B/s = 298.5 us
    assert ideal_time(1e9, 1e9, H100_BF16) == pytest.approx(1e9 / 3.35e12, rel=1e-15)


@given(
    hbm_bytes=st.floats(0, 1e13, allow_nan=False),
    flops=st.floats(0, 1e16, allow_nan=False),
)
def test_kernel_time_is_the_max_of_both_terms(hbm_bytes: float, flops: float) -> None:
    t = kernel_time(hbm_bytes, flops, H100_BF16)
    mem_s = hbm_bytes / H100_BF16.bandwidth_Bps
    math_s = flops / H100_BF16.flops_per_s
    assert t == max(mem_s, math_s)
    assert ideal_time(hbm_bytes, flops, H100_BF16) <= t  # efficiencies <= 1


# ---- power throttle ------------------------------------------------------------------------
def test_power_throttle_330_of_400_W() -> None:
    # gpt-fast's A100-80GB capped at 330 W of its 400 W TDP: clock scale 330 / 400 = 0.825
    assert power_throttle(gpu("a100-80gb", power_limit="330 W")) == pytest.approx(0.825, rel=1e-15)
    assert power_throttle(gpu("a100-80gb")) == 1.0                          # no cap
    assert power_throttle(gpu("a100-80gb", power_limit="500 W")) == 1.0     # a cap above TDP: no boost


def test_power_cap_lowers_flops_stretches_launch_but_keeps_bandwidth() -> None:
    # roofline.py docstring: the limiter lowers the SM clock, not the memory clock (gpt-fast README
    # measures ~1700 GB/s on the capped A100, no lower than uncapped).
    capped = DeviceRates.of(gpu("a100-80gb", power_limit="330 W"), runtime("default"), "bf16", "bf16")
    full = DeviceRates.of(gpu("a100-80gb"), runtime("default"), "bf16", "bf16")
    assert capped.peak_flops_per_s == pytest.approx(312e12 * 0.825, rel=1e-15)   # 257.4 TFLOP/s
    assert capped.flops_per_s == pytest.approx(312e12 * 0.825 * 0.6, rel=1e-15)
    assert capped.kernel_s == pytest.approx(2e-6 / 0.825, rel=1e-15)             # 2.424 us
    assert capped.bandwidth_Bps == full.bandwidth_Bps == pytest.approx(2039e9 * 0.7, rel=1e-15)
    assert capped.peak_bandwidth_Bps == full.peak_bandwidth_Bps == 2039e9
    # so a memory-bound kernel is unchanged and a compute-bound one is 1/0.825 = 1.21x slower
    assert kernel_time(1e9, 1e6, capped) == kernel_time(1e9, 1e6, full)
    assert kernel_time(1e3, 1e12, capped) == pytest.approx(kernel_time(1e3, 1e12, full) / 0.825, rel=1e-14)


# ---- compute dtype ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("gpu_name", "weights", "activations", "expected"),
    [
        ("h100-sxm", "fp8", "bf16", "fp8"),     # Hopper has fp8 tensor cores: fp8 GEMMs
        ("h100-sxm", "int4", "bf16", "bf16"),   # weight-only int4 is dequantised (AWQ/GPTQ)
        ("h100-sxm", "int8", "bf16", "bf16"),   # weight-only int8 likewise (int8 not a float format)
        ("h100-sxm", "fp4", "bf16", "bf16"),    # no fp4 on Hopper: falls back to activations
        ("b200", "fp4", "bf16", "fp4"),         # Blackwell runs fp4 natively
        ("a100-80gb", "fp8", "bf16", "bf16"),   # Ampere has no fp8
        ("a100-80gb", "bf16", "fp16", "bf16"),
        ("h100-sxm", "int4", "fp16", "fp16"),
    ],
)
def test_compute_dtype(gpu_name: str, weights: str, activations: str, expected: str) -> None:
    assert compute_dtype(gpu(gpu_name), weights, activations) == expected


def test_fp8_weights_double_h100_flops() -> None:
    # H100 dense fp8 1979 TFLOP/s vs bf16 989 (physics.md 5.4, gpus.yaml)
    fp8 = DeviceRates.of(gpu("h100-sxm"), runtime("default"), "fp8", "bf16")
    int4 = DeviceRates.of(gpu("h100-sxm"), runtime("default"), "int4", "bf16")
    assert fp8.peak_flops_per_s == 1979e12
    assert int4.peak_flops_per_s == 989e12


def test_compute_dtype_falls_back_when_activation_dtype_missing() -> None:
    # a GPU listing only fp16: bf16 activations run in the first available of bf16, fp16, fp32
    only_fp16 = gpu("h100-sxm", flops={"fp16": "100 TFLOP/s"})
    assert compute_dtype(only_fp16, "int4", "bf16") == "fp16"
