"""From records and accounting to the summary dict of docs/metrics.md (times in ms).

Definitions (docs/metrics.md): TTFT = f_r + d - a_r (client side); TPOT = (c_r - f_r) / (n_r - 1);
per_request_tps = 1 / TPOT; E2E = c_r - a_r; aggregate_tps = sum n_r / (max c_r - min a_r).
Percentiles use numpy's linear interpolation (the same as vLLM's benchmark scripts).
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

PERCENTILES = (50, 90, 99)
BOTTLENECKS = ("memory-bandwidth", "compute", "fp4-weight-decode", "weight-dequantisation", "fp4-k-loop", "all-reduce",
               "launch-overhead", "pipeline", "kv-capacity", "queueing")


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


def meets_slo(record, ttft_s: float | None, tpot_s: float | None) -> bool:
    """True if ``record`` meets every objective given (None: no objective). A one-token request
    has no TPOT and meets any TPOT objective (as in vLLM's goodput)."""
    if ttft_s is not None and record.ttft_s > ttft_s:
        return False
    return tpot_s is None or record.output_tokens <= 1 or record.tpot_s <= tpot_s


def goodput(records, ttft_s: float | None, tpot_s: float | None, span_s: float) -> dict[str, float | None]:
    """Completed requests meeting every SLO: {"requests_per_s", "tokens_per_s", "share"}.

    Rates are over ``span_s`` (the same window as aggregate_tps: first arrival to last completion);
    ``share`` is the fraction of the completed requests that meet the objectives. None where
    undefined (no window, no completed request).
    """
    records = list(records)
    good = [r for r in records if meets_slo(r, ttft_s, tpot_s)]
    return {
        "requests_per_s": len(good) / span_s if span_s > 0 else None,
        "tokens_per_s": sum(r.output_tokens for r in good) / span_s if span_s > 0 else None,
        "share": len(good) / len(records) if records else None,
    }
