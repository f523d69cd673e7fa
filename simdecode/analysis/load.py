"""The server under load, from a Result's monitors and counters: KV cache, queue, batch size.

Definitions: docs/metrics.md ("KV cache and queue"). Every function reads a
:class:`~simdecode.result.Result` and returns plain numbers.
"""

from __future__ import annotations

from typing import Any

#: mean KV-cache occupancy above which a queue is blamed on the cache
KV_FULL = 0.8


def window(result) -> tuple[float, float]:
    """The monitors' window: first arrival to the end of the run, seconds."""
    return (result.first_arrival_s or 0.0), result.simulated_s


def level_summary(result, name: str, per: float = 1.0) -> dict[str, float | None]:
    """{"mean", "max"} of monitor ``name`` / ``per``: the time-weighted mean over the window
    and the maximum, per replica, averaged (mean) or the largest (max) over replicas."""
    monitors = result.monitors.get(name, [])
    start, end = window(result)
    if not monitors or per <= 0:
        return {"mean": None, "max": None}
    means = [m.mean(start, end) if end > start else m.value for m in monitors]
    return {"mean": sum(means) / len(means) / per, "max": max(m.max for m in monitors) / per}


def kv_summary(result) -> dict[str, Any]:
    """The KV cache under load (docs/metrics.md): capacity, occupancy, swaps, admission."""
    block = result.scenario.scheduler.kv_block_tokens
    level = level_summary(result, "kv_blocks", result.kv_capacity_blocks)
    return {
        "capacity_tokens": result.kv_capacity_blocks * block,
        "occupancy_mean": level["mean"],
        "occupancy_max": level["max"],
        "swap_ms": 1e3 * sum(result.swap_s.values()),
        "admission_blocked_share": result.kv_blocked_s / result.queued_s if result.queued_s > 0 else 0.0,
    }


def kv_limited(result) -> bool:
    """Requests queued because of the KV cache: of the lane-step time with requests left
    waiting, at least half had admission stopped by a full cache (while the batch had room)
    or a preemption; or the cache stayed at least :data:`KV_FULL` full on average, so the
    batch could not grow (re-prefills after preemptions then also eat the token budget)."""
    if result.queued_s <= 0:
        return False
    occupancy = kv_summary(result).get("occupancy_mean") or 0.0
    return result.kv_blocked_s >= 0.5 * result.queued_s or occupancy >= KV_FULL
