"""Unit tests of simdecode.units.parse_quantity: SI floats from quantity strings.

Conventions under test (simdecode/units.py module docstring, physics.md 2.4 "InfiniBand NDR
400 Gb/s = 50 GB/s per NIC per direction"): decimal prefixes are powers of ten (vendor
datasheets), binary prefixes (Ki, Mi, Gi, Ti) powers of two, ``b`` is a bit and ``B`` a byte, and
a plain number is already SI.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.units import UnitError, parse_quantity


# ---- bytes ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected_bytes"),
    [
        ("80 GB", 80 * 10**9),                  # decimal: 80 * 1e9 = 80,000,000,000 B (datasheet GB)
        ("80 GiB", 80 * 2**30),                 # binary: 80 * 1,073,741,824 = 85,899,345,920 B
        ("16 KB", 16 * 10**3),                  # 16,000 B
        ("16 KiB", 16 * 2**10),                 # 16,384 B
        ("1.5 TB", 1.5 * 10**12),               # 1,500,000,000,000 B
        ("2 TiB", 2 * 2**40),                   # 2,199,023,255,552 B
        ("8 Gb", 8 * 10**9 / 8),                # 8 gigabits = 1e9 bytes (b is a bit)
        ("1e3 B", 1000),                        # scientific notation
        ("512B", 512),                          # no space between number and unit
    ],
)
def test_bytes_decimal_binary_and_bits(text: str, expected_bytes: float) -> None:
    assert parse_quantity(text, "bytes") == pytest.approx(expected_bytes, rel=1e-15)


def test_gb_and_gib_differ_by_7_point_4_percent() -> None:
    # 2^30 / 10^9 = 1.073741824: the "GB vs GiB" trap is a 7.4% error in memory capacity
    ratio = parse_quantity("1 GiB", "bytes") / parse_quantity("1 GB", "bytes")
    assert ratio == pytest.approx(1.073741824, rel=1e-12)


# ---- bandwidth -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected_Bps"),
    [
        ("450 GB/s", 450e9),                    # NVLink4 per direction (physics.md 2.4)
        ("3.35 TB/s", 3.35e12),                 # H100 SXM HBM3 (physics.md 5.4)
        ("400 Gb/s", 400e9 / 8),                # IB NDR: 400 gigabits/s = 50e9 B/s (physics.md 2.4)
        ("200 Gbps", 200e9 / 8),                # IB HDR: 25e9 B/s
        ("64 GBps", 64e9),
        ("1 GiB/s", 2**30),                     # 1,073,741,824 B/s
    ],
)
def test_bandwidth_units(text: str, expected_Bps: float) -> None:
    assert parse_quantity(text, "bandwidth") == pytest.approx(expected_Bps, rel=1e-15)


def test_gigabit_is_one_eighth_of_gigabyte() -> None:
    bits_Bps = parse_quantity("400 Gb/s", "bandwidth")
    bytes_Bps = parse_quantity("400 GB/s", "bandwidth")
    assert bytes_Bps / bits_Bps == 8.0  # 8 bits per byte


# ---- time, rate, flops, power -------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected_s"),
    [
        ("2 us", 2e-6),
        ("2 µs", 2e-6),                         # micro sign U+00B5
        ("2 μs", 2e-6),                         # Greek mu U+03BC
        ("300 ms", 0.3),
        ("15 ns", 15e-9),
        ("1.5 s", 1.5),
        ("2 min", 120.0),                       # 2 * 60 s
        ("1 h", 3600.0),
    ],
)
def test_time_units(text: str, expected_s: float) -> None:
    assert parse_quantity(text, "time") == pytest.approx(expected_s, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "expected_per_s"),
    [("2/s", 2.0), ("30/min", 0.5), ("3600/h", 1.0), ("5 Hz", 5.0), ("1/ms", 1000.0)],  # 30/60 = 0.5
)
def test_rate_units(text: str, expected_per_s: float) -> None:
    assert parse_quantity(text, "rate") == pytest.approx(expected_per_s, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "expected_flops_per_s"),
    [
        ("989 TFLOP/s", 989e12),                # H100 dense bf16 (physics.md 5.4)
        ("1979 TFLOPS", 1979e12),
        ("2.25 PFLOP/s", 2.25e15),              # B200 dense bf16
        ("624 TOPS", 624e12),                   # integer ops share the unit (gpus.yaml convention)
    ],
)
def test_flops_units(text: str, expected_flops_per_s: float) -> None:
    assert parse_quantity(text, "flops") == pytest.approx(expected_flops_per_s, rel=1e-15)


@pytest.mark.parametrize(("text", "expected_W"), [("330 W", 330.0), ("1 kW", 1000.0), ("0.7 kW", 700.0)])
def test_power_units(text: str, expected_W: float) -> None:
    assert parse_quantity(text, "power") == pytest.approx(expected_W, rel=1e-15)


# ---- plain numbers are SI ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["bytes", "bandwidth", "time", "rate", "flops", "power"])
def test_plain_numbers_are_already_si(kind: str) -> None:
    assert parse_quantity(450, kind) == 450.0
    assert parse_quantity(2.5e-6, kind) == 2.5e-6
    assert parse_quantity("1e3", kind) == 1000.0  # a unitless string is SI too


@given(st.floats(min_value=0, max_value=1e30, allow_nan=False, allow_infinity=False))
def test_plain_float_round_trips_unchanged(value: float) -> None:
    assert parse_quantity(value, "bandwidth") == value


@given(st.floats(min_value=1e-3, max_value=1e6, allow_nan=False))
def test_gib_is_exactly_2_to_30_times_the_number(gib: float) -> None:
    assert parse_quantity(f"{gib!r} GiB", "bytes") == pytest.approx(gib * 2**30, rel=1e-15)


# ---- errors ----------------------------------------------------------------------------------
def test_typo_in_unit_raises_with_did_you_mean() -> None:
    with pytest.raises(UnitError) as info:
        parse_quantity("450 GB/z", "bandwidth")
    message = str(info.value)
    assert "GB/z" in message
    assert "did you mean 450 GB/s" in message


@pytest.mark.parametrize("text, kind, hint", [("3 TB", "bandwidth", "did you mean 3 TB/s?"),
                                               ("900 GB", "bandwidth", "did you mean 900 GB/s?"),
                                               ("989 TFLOP", "flops", "did you mean 989 TFLOP/s?")])
def test_a_size_written_for_a_rate_suggests_the_rate(text: str, kind: str, hint: str) -> None:
    """"3 TB" for a memory bandwidth meant 3 TB/s, not the byte-rate spelling "TBps"."""
    with pytest.raises(UnitError) as info:
        parse_quantity(text, kind)
    assert hint in str(info.value)


def test_unit_of_the_wrong_kind_is_rejected() -> None:
    # a bandwidth written where bytes are expected is a mistake, not 450e9 bytes
    with pytest.raises(UnitError, match="unknown bytes unit"):
        parse_quantity("450 GB/s", "bytes")


@pytest.mark.parametrize("value", [-1, -1e-9, "-1 GB", "-0.5 GiB"])
def test_negative_quantities_rejected(value: object) -> None:
    with pytest.raises(UnitError, match="non-negative"):
        parse_quantity(value, "bytes")


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, "1e400 B"])
def test_non_finite_quantities_rejected(value: object) -> None:
    with pytest.raises(UnitError, match="finite"):
        parse_quantity(value, "bytes")


@pytest.mark.parametrize("value", ["inf GB", "nan", "", "GB", "four GB"])
def test_text_without_a_number_rejected(value: str) -> None:
    with pytest.raises(UnitError, match="expected a number"):
        parse_quantity(value, "bytes")


@pytest.mark.parametrize("value", [True, None, [1], {"GB": 1}])
def test_non_number_types_rejected(value: object) -> None:
    with pytest.raises(UnitError):
        parse_quantity(value, "bytes")


def test_unit_error_is_a_value_error() -> None:
    # pydantic turns ValueError raised in a validator into a validation error at the key path
    assert issubclass(UnitError, ValueError)
