"""From records and accounting to the summary dict of scenario-format.md (times in ms).

Definitions (docs/metrics.md): TTFT = f_r - a_r; TPOT = (c_r - f_r) / (n_r - 1);
per_request_tps = 1 / TPOT; E2E = c_r - a_r; aggregate_tps = sum n_r / (max c_r - min a_r).
Percentiles use numpy's linear interpolation (the same as vLLM's benchmark scripts).
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

PERCENTILES = (50, 90, 99)
BOTTLENECKS = ("memory-bandwidth", "compute", "all-reduce", "launch-overhead", "pipeline", "kv-capacity", "queueing")


def distribution(values: Iterable[float], scale: float = 1.0) -> dict[str, float | None]:
    """mean and p50/p90/p99 of ``values`` x ``scale``; None for every key when empty."""
    arr = np.fromiter(values, dtype=float) * scale
    if arr.size == 0:
        return {"mean": None, **{f"p{p}": None for p in PERCENTILES}}
    out = {"mean": float(arr.mean())}
    for p, v in zip(PERCENTILES, np.percentile(arr, PERCENTILES)):
        out[f"p{p}"] = float(v)
    return out


def shares(parts: dict[str, float]) -> dict[str, float]:
    """Normalise non-negative parts to fractions summing to 1 (all zero -> all zero)."""
    total = sum(max(0.0, v) for v in parts.values())
    if total <= 0:
        return {k: 0.0 for k in parts}
    return {k: max(0.0, v) / total for k, v in parts.items()}


def round_sig(value, digits: int = 6):
    """Round floats in nested dicts/lists to ``digits`` significant figures (for goldens)."""
    if isinstance(value, float):
        if value == 0 or not math.isfinite(value):
            return value
        return round(value, digits - 1 - int(math.floor(math.log10(abs(value)))))
    if isinstance(value, dict):
        return {k: round_sig(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [round_sig(v, digits) for v in value]
    return value
