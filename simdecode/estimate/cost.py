"""Cost per million output tokens, and its inverse (a price -> a margin, or the size it allows).

One replica holds ``tp`` GPUs and decodes ``batch`` sequences at ``tps`` tokens/s each, so

    $ / Mtok = tp x (GPU-hour price) / 3600 / (batch x tps) x 1e6.

Prefill, idle time and the replicas' utilisation are left out: this is the marginal cost of
output tokens while the GPUs decode at that batch (a lower bound on a provider's cost).

- **At the observed speed**: every explaining configuration serves its users at the observed
  speed by construction, at its assumed batch; the cost follows from tp and batch alone.
- **Batch meeting the speed** (per representative configuration: the interval's ends and the
  median one): the largest batch at which the model still runs at the observed per-user speed
  (speed falls as the batch grows), found by bisection with the simulator.
- **Saturating batch**: as many sequences as the KV cache holds, at most the scheduler's default
  ``max_batch_size`` (256): the GPUs' throughput limit, at a lower per-user speed.
- **Inverse**: a price P per Mtok gives the margin 1 - cost / P; and at the observed speed it
  needs at least B = tp x price_GPU x 1e6 / (3600 P tps) concurrent users per replica, so the
  largest model that still runs at the observed speed with B users is the largest the price
  allows (per setting of the other assumptions).
"""

from __future__ import annotations

import math
from dataclasses import replace

from simdecode.estimate.evaluate import MAX_BATCH
from simdecode.estimate.search import Searcher, Solution
from simdecode.estimate.shapes import active_params
from simdecode.estimate.space import Assumptions


def usd_per_mtok(gpus: int, gpu_hour_usd: float, batch: int, tps: float) -> float:
    """Dollars per million output tokens for ``gpus`` GPUs decoding ``batch`` x ``tps`` tokens/s."""
    return gpus * gpu_hour_usd / 3600.0 / (batch * tps) * 1e6


def _speed_batch(searcher: Searcher, a: Assumptions, model, target: float, cap: int) -> int | None:
    """Largest batch <= cap whose per-user speed is still >= target (None: not even batch 1)."""
    speed = lambda b: searcher.ev.tps(replace(a, batch=b), model)  # noqa: E731
    if speed(1) < target:
        return None
    if speed(cap) >= target:
        return cap
    lo, hi = 1, cap
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if speed(mid) >= target:
            lo = mid
        else:
            hi = mid
    return lo


def _representative(label: str, s: Solution, searcher: Searcher, usd: float, tps: float,
                    price: float | None) -> dict:
    a, model = s.assumptions, s.model
    ev = searcher.ev
    cap = min(ev.capacity_sequences(replace(a, batch=1), model), MAX_BATCH)
    row: dict = {"end": label, "assumptions": a.as_dict(), "model_active": active_params(model)}
    speed_batch = _speed_batch(searcher, a, model, tps, cap) if cap >= 1 else None
    for key, batch in (("at_speed", speed_batch), ("saturating", cap if cap >= 1 else None)):
        if batch is None:
            row[key] = None
            continue
        user = ev.tps(replace(a, batch=batch), model)
        cost = usd_per_mtok(a.tp, usd, batch, user)
        row[key] = {"batch": batch, "per_user_tps": user, "aggregate_tps": batch * user, "usd_per_mtok": cost,
                    "margin": 1.0 - cost / price if price else None}
    return row


def _allowed(searcher: Searcher, ok: list[Solution], usd: float, tps: float, price: float) -> dict:
    """Per setting of the assumptions other than batch: the largest model the price allows."""
    settings = {replace(s.assumptions, batch=1) for s in ok}
    sizes = []
    for a in sorted(settings, key=lambda x: x.label()):
        batch = max(1, math.ceil(a.tp * usd * 1e6 / (3600.0 * price * tps)))
        s = searcher.solve(replace(a, batch=batch), tps, tps, tps)
        if s.status == "ok" and s.active is not None:
            sizes.append((s.active, a, batch, "speed"))
        elif s.status == "too-slow":  # even the largest model that fits is faster: memory bounds it
            sizes.append((s.largest_active, a, batch, "memory"))
    out: dict = {"settings": len(settings), "allowing": len(sizes)}
    if sizes:
        low, high = min(sizes, key=lambda x: x[0]), max(sizes, key=lambda x: x[0])
        out["active_params"] = [low[0], high[0]]
        out["low_end"] = {"assumptions": low[1].as_dict() | {"batch": low[2]}, "bound": low[3]}
        out["high_end"] = {"assumptions": high[1].as_dict() | {"batch": high[2]}, "bound": high[3]}
    else:
        out["active_params"] = None
    return out


def cost_section(gpu_hour_usd: float, price: float | None, tps: float, result: dict, ok: list[Solution],
                 searcher: Searcher) -> dict:
    at_speed = [(usd_per_mtok(s.assumptions.tp, gpu_hour_usd, s.assumptions.batch, tps), s) for s in ok]
    cheap, dear = min(at_speed, key=lambda x: x[0]), max(at_speed, key=lambda x: x[0])
    from simdecode.estimate.core import _baseline

    ends = [("low", min(ok, key=lambda s: s.active_lo)), ("median", _baseline(ok)),
            ("high", max(ok, key=lambda s: s.active_hi))]
    out = {
        "gpu_hour_usd": gpu_hour_usd,
        "at_observed_speed": {"usd_per_mtok": [cheap[0], dear[0]],
                              "cheapest": cheap[1].assumptions.as_dict(), "dearest": dear[1].assumptions.as_dict()},
        "configurations": [_representative(label, s, searcher, gpu_hour_usd, tps, price) for label, s in ends],
    }
    if price is not None:
        margins = [1.0 - c / price for c, _ in at_speed]
        out["price_usd_per_mtok"] = price
        out["margin_at_observed_speed"] = [min(margins), max(margins)]
        out["allowed"] = _allowed(searcher, ok, gpu_hour_usd, tps, price)
    return out
