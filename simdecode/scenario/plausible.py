"""Typed but implausible quantities: caught by rule at the scenario boundary, with a hint.

A scenario may give a quantity as a plain number, taken as SI already (bytes, bytes per second,
FLOP per second). A new user who writes ``memory_bandwidth: 3350`` means 3,350 GB/s, not 3,350
bytes per second (which would "run" at 0.00000015 tokens per second). The rules, one per kind of
quantity, refuse values no accelerator or link has, and suggest the unit that was probably meant:

| kind      | refused                                  | hint for a plain number N |
|-----------|------------------------------------------|---------------------------|
| bandwidth | under :data:`MIN_BANDWIDTH_BPS` (1 GB/s) | N GB/s                    |
| flops     | under :data:`MIN_FLOPS` (100 GFLOP/s)    | N TFLOP/s                 |
| bytes     | a plain number under 1 MB                | N GB                      |

| per-operation duration | a plain number of at least :data:`MAX_PLAIN_PER_OP_S` (1 ms) | N us |

Durations of one kernel, collective, link hop or token (``kernel_launch``, ``allreduce_overhead``,
``latency``...) are microseconds: ``kernel_launch: 2`` is two seconds a kernel, surely '2 us'.
Other durations, rates and powers have no rule: a plain number of seconds, arrivals per second or
watts is what most users mean. The floors are far below any real GPU's figures (a PCIe 3 x1
lane carries 1 GB/s; a 2016 GPU does several TFLOP/s), so a value under one is a slip.
"""

from __future__ import annotations

from simdecode.scenario.limits import MIN_BANDWIDTH_BPS, MIN_FLOPS, MIN_PLAIN_BYTES
from simdecode.units import UnitError, format_si

#: kind -> (floor in SI, does the floor apply to values with a unit too, unit suggested, SI unit)
RULES: dict[str, tuple[float, bool, str, str]] = {
    "bandwidth": (MIN_BANDWIDTH_BPS, True, "GB/s", "B/s"),
    "flops": (MIN_FLOPS, True, "TFLOP/s", "FLOP/s"),
    "bytes": (MIN_PLAIN_BYTES, False, "GB", "B"),
}

NOUNS = {"bandwidth": "bandwidth", "flops": "FLOP rate", "bytes": "memory size"}

#: a plain number of seconds at least this large, for the cost of one kernel, collective, hop or token
MAX_PLAIN_PER_OP_S = 1e-3


def check_plausible(value: object, si: float, kind: str) -> float:
    """``si`` (the parsed ``value``) if plausible for ``kind``; else :class:`UnitError` with a hint."""
    rule = RULES.get(kind)
    if rule is None or si == 0:
        return si
    floor, with_unit, suggested, unit = rule
    noun = NOUNS[kind]
    plain = isinstance(value, (int, float)) or (isinstance(value, str) and _is_number(value))
    if si >= floor or not (plain or with_unit):
        return si
    if plain:
        raise UnitError(f"{value!r} is read as {format_si(si, unit)}, less than any real {noun} "
                        f"(at least {format_si(floor, unit)}): did you mean '{value} {suggested}'? "
                        f"(a plain number is taken in {unit})")
    raise UnitError(f"{value!r} is less than any real {noun} (at least {format_si(floor, unit)}): "
                    f"check the unit, e.g. '{suggested}'")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_per_op(value: object, si: float) -> float:
    """``si`` (the parsed duration ``value`` of one kernel, collective, hop or token); a plain number
    of 1 ms or more is refused with the microseconds it surely meant."""
    plain = isinstance(value, (int, float)) and not isinstance(value, bool) or (isinstance(value, str) and _is_number(value))
    if plain and si >= MAX_PLAIN_PER_OP_S:
        raise UnitError(f"{value!r} is read as {format_si(si, 's')}, more than any one kernel, collective or hop "
                        f"takes: did you mean '{value} us'? (a plain number is taken in s)")
    return si
