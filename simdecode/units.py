"""Quantities with units, parsed once at the scenario boundary into SI floats.

Inside simdecode every number is in SI base units and carries its unit in its name:
seconds (``latency_s``), bytes (``hbm_bytes``), bytes per second (``bandwidth_Bps``), FLOP per
second (``flops_per_s``), watts (``power_W``), events per second (``rate_per_s``).

Decimal prefixes (k, M, G, T, P) are powers of ten, as in vendors' datasheets; binary prefixes
(Ki, Mi, Gi, Ti) are powers of two. ``b`` is a bit and ``B`` a byte, so ``"400 Gb/s"`` is
50e9 bytes per second. A scenario may also give a plain number, taken as SI already.
"""

from __future__ import annotations

import difflib
import math
import re

KB, MB, GB, TB = 1e3, 1e6, 1e9, 1e12
KiB, MiB, GiB, TiB = 2.0**10, 2.0**20, 2.0**30, 2.0**40

_DECIMAL = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}
_BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}


def _table(base: dict[str, float], suffixes: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for prefix, scale in base.items():
        for suffix, unit_scale in suffixes.items():
            out[prefix + suffix] = scale * unit_scale
    return out


#: unit spelling -> multiplier to SI, one table per kind of quantity
UNITS: dict[str, dict[str, float]] = {
    "bytes": {**_table(_DECIMAL, {"B": 1.0, "b": 0.125}), **_table(_BINARY, {"B": 1.0})},
    "bandwidth": {
        **_table(_DECIMAL, {"B/s": 1.0, "b/s": 0.125, "bps": 0.125, "Bps": 1.0}),
        **_table(_BINARY, {"B/s": 1.0}),
    },
    "time": {
        "s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9,
        "min": 60.0, "h": 3600.0,
    },
    "rate": {"/s": 1.0, "/min": 1 / 60.0, "/h": 1 / 3600.0, "Hz": 1.0, "/ms": 1e3},
    "flops": {
        **_table(_DECIMAL, {"FLOP/s": 1.0, "FLOPS": 1.0, "flop/s": 1.0, "OP/s": 1.0, "OPS": 1.0}),
    },
    "power": _table({"": 1.0, "k": 1e3}, {"W": 1.0}),
}

_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


class UnitError(ValueError):
    """A quantity string that could not be read; the message says what was expected."""


def parse_quantity(value: object, kind: str) -> float:
    """Return ``value`` in SI units of ``kind`` (a key of :data:`UNITS`).

    Accepts an int or float (already SI) or a string such as ``"450 GB/s"``. Raises
    :class:`UnitError` with the accepted units and a "did you mean" suggestion otherwise.

    >>> parse_quantity("450 GB/s", "bandwidth")
    450000000000.0
    >>> parse_quantity("80 GiB", "bytes") == 80 * 2**30
    True
    >>> parse_quantity("2 us", "time")
    2e-06
    """
    table = UNITS[kind]
    if isinstance(value, bool):
        raise UnitError(f"expected a {kind} quantity, got a boolean")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        match = _NUMBER.match(value)
        if not match:
            raise UnitError(f"expected a number with a {kind} unit such as {_example(kind)!r}, got {value!r}")
        number_text, unit = match.groups()
        number = float(number_text)
        if unit and not unit.startswith("/") and kind == "rate":
            unit = unit  # "2 per s" is not accepted; "2/s" is
        if unit == "":
            pass
        elif unit in table:
            number *= table[unit]
        else:
            per_second = [unit + "/s"] if unit + "/s" in table else []  # "3 TB" meant as a bandwidth
            hint = per_second or difflib.get_close_matches(unit, list(table), n=1, cutoff=0.5)
            did_you_mean = f"; did you mean {number_text} {hint[0]}?" if hint else ""
            raise UnitError(
                f"unknown {kind} unit {unit!r} in {value!r}: expected e.g. {_example(kind)!r}{did_you_mean}"
            )
    else:
        raise UnitError(f"expected a {kind} quantity such as {_example(kind)!r}, got {type(value).__name__}")
    if not math.isfinite(number):
        raise UnitError(f"expected a finite {kind} quantity, got {value!r}")
    if number < 0:
        raise UnitError(f"expected a non-negative {kind} quantity, got {value!r}")
    return number


def _example(kind: str) -> str:
    return {
        "bytes": "80 GiB",
        "bandwidth": "450 GB/s",
        "time": "2 us",
        "rate": "2/s",
        "flops": "989 TFLOP/s",
        "power": "330 W",
    }[kind]


def format_si(value: float, unit: str, digits: int = 3) -> str:
    """Render an SI value with a decimal prefix: ``format_si(4.5e11, "B/s") == "450 GB/s"``."""
    if value == 0:
        return f"0 {unit}"
    prefixes = [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""),
                (1e-3, "m"), (1e-6, "u"), (1e-9, "n")]
    for scale, prefix in prefixes:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}"
