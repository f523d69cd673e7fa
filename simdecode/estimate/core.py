"""``estimate``: from an observed per-user tokens/s to the active parameters that explain it.

:func:`estimate` runs the search of :mod:`simdecode.estimate.search` over every combination of
the assumption space and returns plain data (dicts, lists, floats, strings): the interval of
active parameters, the assumption sets at its ends, a per-assumption table, the effect of each
assumption on the estimate, the ratio method for reference models
(:mod:`simdecode.estimate.ratio`) and the cost per million tokens (:mod:`simdecode.estimate.cost`).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import replace
from typing import Iterable, Sequence

from simdecode.estimate.evaluate import Evaluator
from simdecode.estimate.search import Searcher, Solution
from simdecode.estimate.shapes import active_params, total_params
from simdecode.estimate.space import AXES, EstimateError, Space, build_space, parse_count


def _axis_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _check_observation(tps: float, tolerance: float) -> tuple[float, float]:
    if not isinstance(tps, (int, float)) or not math.isfinite(tps) or tps <= 0:
        raise EstimateError(f"--tps {tps}: an observed speed must be a positive number of tokens per second")
    if not 0.0 <= tolerance < 1.0:
        raise EstimateError(f"--tolerance {tolerance}: expected a relative tolerance in 0..1 (0.1 = ±10%)")
    return tps / (1.0 + tolerance), tps * (1.0 + tolerance)


def solution_dict(s: Solution) -> dict:
    out = {"assumptions": s.assumptions.as_dict(), "status": s.status}
    for key in ("active_lo", "active_hi", "active", "fastest_tps", "slowest_tps", "smallest_active", "largest_active",
                "size_bound"):
        out[key] = getattr(s, key)
    if s.model is not None:
        out["model"] = {"name": s.model.name, "active": active_params(s.model), "total": total_params(s.model)}
    return out


def unreachable_message(tps: float, tolerance: float, solutions: Sequence[Solution]) -> str:
    """Why no combination explains the observation, naming the bound it passes."""
    band = f"{tps:g} tok/s (±{tolerance:.0%})"
    fast = [s for s in solutions if s.status == "too-fast"]
    slow = [s for s in solutions if s.status == "too-slow"]
    if not fast and not slow:
        return (f"--tps {band}: no model fits in memory in any configuration (batch x (context + output) KV "
                "cache plus weights exceed the GPUs): lower --batch or --context, or use larger --hardware")
    parts = []
    if fast:
        best = max(fast, key=lambda s: s.fastest_tps)
        parts.append(f"it is faster than any configuration reaches, above the fixed per-step-cost bound: the fastest "
                     f"({best.assumptions.label()}) runs its smallest model ({best.smallest_active / 1e9:.3g}B active) "
                     f"at {best.fastest_tps:.4g} tok/s (kernel launches, all-reduces and host time per step cap the "
                     "speed whatever the size)")
    if slow:
        worst = min(slow, key=lambda s: s.slowest_tps)
        if worst.size_bound == "memory":
            bound, largest = "the memory-capacity bound", "the largest model that fits"
        else:
            bound, largest = "the --active-max bound", "the largest model --active-max allows"
        parts.append(f"it is slower than any configuration explains, below {bound}: the slowest "
                     f"({worst.assumptions.label()}) still runs {largest} "
                     f"({worst.largest_active / 1e9:.4g}B active) at {worst.slowest_tps:.4g} tok/s")
    hint = ("widen the assumptions (--speculation, --hardware, --tp, --runtime)" if fast and not slow
            else "widen the assumptions (--batch, --context, --hardware, --precision)" if slow and not fast
            else "widen the assumptions or --tolerance")
    return f"--tps {band}: no configuration explains it; " + "; ".join(parts) + f"; {hint}"


def _interval(space: Space, solutions: Sequence[Solution]) -> dict:
    low = min(solutions, key=lambda s: s.active_lo)
    high = max(solutions, key=lambda s: s.active_hi)
    return {"active_params": [low.active_lo, high.active_hi], "ratio": high.active_hi / low.active_lo,
            "low_end": solution_dict(low), "high_end": solution_dict(high),
            "clipped": {"low": low.clipped_lo, "high": high.clipped_hi},
            "bounds": {"low": _end_bounds(space, solutions, low, "low"),
                       "high": _end_bounds(space, solutions, high, "high")}}


def _end_bounds(space: Space, ok: Sequence[Solution], end: Solution, which: str) -> list[dict]:
    """Which assumptions set one end of the interval: for each axis with more than one value, the
    end the interval would have with the end's value of that axis left out (every other axis still
    free). An axis whose removal moves the end is an assumption that end rests on; pinning the axis
    to its other values narrows the interval to ``without``. Sorted by how far the end moves."""
    rows = []
    for axis in AXES:
        if len(space.values(axis)) < 2:
            continue
        value = getattr(end.assumptions, axis)
        rest = [s for s in ok if getattr(s.assumptions, axis) != value]
        if which == "high":
            without = max((s.active_hi for s in rest), default=None)
            moved = without is None or without < end.active_hi * (1 - 1e-9)
        else:
            without = min((s.active_lo for s in rest), default=None)
            moved = without is None or without > end.active_lo * (1 + 1e-9)
        if moved:
            detail = value.describe() if hasattr(value, "describe") else str(value)
            rows.append({"axis": axis, "value": str(value), "assumes": detail, "without": without,
                         "others": [str(v) for v in space.values(axis) if v != value]})
    edge = end.active_hi if which == "high" else end.active_lo
    rows.sort(key=lambda r: -abs(math.log(r["without"] / edge)) if r["without"] else -math.inf)
    return rows


def _per_assumption(space: Space, ok: Sequence[Solution]) -> dict:
    table: dict[str, list[dict]] = {}
    for axis in AXES:
        rows = []
        for value in space.values(axis):
            these = [s for s in ok if getattr(s.assumptions, axis) == value]
            mids = [s.active for s in these if s.active is not None]
            rows.append({"value": str(value), "consistent": len(these),
                         "active_params": [min(s.active_lo for s in these), max(s.active_hi for s in these)]
                         if these else None,
                         "median_active": statistics.median(mids) if mids else None})
        table[axis] = rows
    return table


def _effects(space: Space, ok: Sequence[Solution]) -> list[dict]:
    """How much changing one assumption (all others held) multiplies the estimate at the
    observed speed: min / median / max of active(value) / active(first value) over every setting
    of the other axes where both explain the observation."""
    by_key = {s.assumptions: s.active for s in ok if s.active is not None}
    rows = []
    for axis in AXES:
        values = space.values(axis)
        if len(values) < 2:
            continue
        first = values[0]
        for value in values[1:]:
            factors = []
            for a, act in by_key.items():
                if getattr(a, axis) != first:
                    continue
                other = by_key.get(replace(a, **{axis: value}))
                if other is not None:
                    factors.append(other / act)
            if factors:
                rows.append({"axis": axis, "from": str(first), "to": str(value), "pairs": len(factors),
                             "factor": [min(factors), statistics.median(factors), max(factors)]})
    rows.sort(key=lambda r: -abs(math.log(r["factor"][1])))
    return rows


def _baseline(ok: Sequence[Solution]) -> Solution:
    """The explaining combination whose size at the observed speed is the median one."""
    ranked = sorted((s for s in ok if s.active is not None), key=lambda s: s.active)
    return ranked[len(ranked) // 2] if ranked else ok[0]


def _curves(space: Space, searcher: Searcher, base: Solution) -> dict:
    out: dict[str, list[dict]] = {}
    for axis in AXES:
        values = space.values(axis)
        if len(values) < 2:
            continue
        rows = []
        for value in values:
            a = replace(base.assumptions, **{axis: value})
            if a.tp > a.hardware.gpus or a.hardware.gpus % a.tp:
                continue
            points = searcher.curve(a, every=2)
            rows.append({"value": str(value), "points": [[act, t] for act, t in points]})
        out[axis] = rows
    return out


def estimate(tps: float, *, tolerance: float = 0.1, hardware=None, gpu: str | None = None, gpus: int | None = None,
             link: str | None = None, precision=None, tp=None, runtime=None, batch=None, context=None,
             speculation=None, arch=None, attention=None, output_tokens: int = 512, active_min=None, active_max=None,
             references: Iterable[str] = (), gpu_hour_usd: float | None = None,
             price_usd_per_mtok: float | None = None, curves: bool = False) -> dict:
    """Which active-parameter counts explain ``tps`` per-user tokens/s under the assumptions.

    Axes (hardware, precision, tp, runtime, batch, context, speculation, arch; ``attention``
    crosses the arch values with gqa and/or mla) take the CLI's
    strings (``"h200x8,b200x8"``, ``"1..64"``) or lists; None means the default range
    (:data:`simdecode.estimate.space.DEFAULTS`). ``references``: ``"NAME:TPS[:ACTIVE]"`` strings
    for the ratio method. ``gpu_hour_usd``: the price of one GPU-hour, for the cost section;
    ``price_usd_per_mtok``: a price per million output tokens, for its inverse. ``curves``: add
    the speed-against-size curves the plot draws.

    Raises :class:`~simdecode.estimate.space.EstimateError` for malformed, contradictory or
    unreachable input. Returns plain data (see docs/estimate.md for every key).
    """
    started = time.perf_counter()
    t_lo, t_hi = _check_observation(tps, tolerance)
    space = build_space(hardware=_axis_text(hardware), gpu=gpu, gpus=gpus, link=link,
                        precision=_axis_text(precision), tp=_axis_text(tp), runtime=_axis_text(runtime),
                        batch=_axis_text(batch), context=_axis_text(context), speculation=_axis_text(speculation),
                        arch=_axis_text(arch), attention=_axis_text(attention), output_tokens=output_tokens)
    lo_bound = parse_count(active_min, "--active-min") if active_min is not None else 0.0
    hi_bound = parse_count(active_max, "--active-max") if active_max is not None else float("inf")
    if lo_bound >= hi_bound:
        raise EstimateError(f"--active-min {active_min} and --active-max {active_max} contradict: the minimum must be "
                            "below the maximum")
    if gpu_hour_usd is not None and not (math.isfinite(gpu_hour_usd) and gpu_hour_usd > 0):
        raise EstimateError(f"--gpu-hour-usd {gpu_hour_usd}: expected a positive price")
    if price_usd_per_mtok is not None and not (math.isfinite(price_usd_per_mtok) and price_usd_per_mtok > 0):
        raise EstimateError(f"--price-usd-per-mtok {price_usd_per_mtok}: expected a positive price")
    if price_usd_per_mtok is not None and gpu_hour_usd is None:
        raise EstimateError("--price-usd-per-mtok needs --gpu-hour-usd (what the GPUs cost)")
    refs = []
    if references:
        from simdecode.estimate.ratio import parse_reference

        refs = [parse_reference(text) for text in references]

    evaluator = Evaluator(space.output_tokens)
    searcher = Searcher(evaluator, space.width_unit(), lo_bound, hi_bound)
    solutions = [searcher.solve(a, tps, t_lo, t_hi) for a in space.combos()]
    if not solutions:
        raise EstimateError("no combination of the assumptions is valid (tp must fit the hardware)")
    ok = [s for s in solutions if s.ok]
    if not ok:
        raise EstimateError(unreachable_message(tps, tolerance, solutions))

    counts = {status: sum(1 for s in solutions if s.status == status)
              for status in ("ok", "too-fast", "too-slow", "no-fit")}
    base = _baseline(ok)
    result = {
        "observed": {"tps": float(tps), "tolerance": tolerance, "band_tps": [t_lo, t_hi]},
        "assumptions": {axis: [str(v) for v in space.values(axis)] for axis in AXES}
        | {"output_tokens": space.output_tokens,
           "speculation_meaning": {str(v): v.describe() for v in space.speculation if v.enabled}},
        "combinations": {"total": len(solutions), **counts},
        "interval": _interval(space, ok),
        "per_assumption": _per_assumption(space, ok),
        "effects": _effects(space, ok),
        "baseline": solution_dict(base) | {"scenario": evaluator.scenario_dict(base.assumptions, base.model)},
    }
    if refs:
        from simdecode.estimate.ratio import ratio_method

        result["references"] = ratio_method(refs, tps, tolerance, space, searcher, solutions)
    if gpu_hour_usd is not None:
        from simdecode.estimate.cost import cost_section

        result["cost"] = cost_section(gpu_hour_usd, price_usd_per_mtok, tps, result, ok, searcher)
    if curves:
        result["curves"] = _curves(space, searcher, base)
    result["search"] = {"evaluations": evaluator.evaluations, "folds": evaluator.folds,
                        "wall_s": time.perf_counter() - started}
    return result
