"""The terminal report of ``simdecode estimate``: plain text from the result's plain data."""

from __future__ import annotations

from simdecode.estimate.space import AXES


def params(value: float | None) -> str:
    """70553706496 -> '70.6B'; 1.59e12 -> '1.59T'."""
    if value is None:
        return "-"
    if value >= 1e12:
        return f"{value / 1e12:.3g}T"
    if value >= 1e9:
        return f"{value / 1e9:.3g}B"
    return f"{value / 1e6:.3g}M"


def _span(pair) -> str:
    return "-" if not pair else f"{params(pair[0])} .. {params(pair[1])}"


def _label(a: dict) -> str:
    return (f"{a['hardware']}, {a['precision']}, tp{a['tp']}, {a['runtime']}, batch {a['batch']}, "
            f"context {a['context']}, spec {a['speculation']}, {a['arch']}")


def _model(end: dict) -> str:
    m = end.get("model")
    if not m:
        return ""
    total = f" / {params(m['total'])} total" if m["total"] > m["active"] * 1.01 else ""
    return f"  [shape nearest the observed speed: {m['name']}, {params(m['active'])} active{total}]"


#: an assumption is said to bound an end when leaving its value out moves the end by more than this
BOUND_SHOWN = 0.05


def _bounds(rows: list[dict], which: str, edge: float) -> list[str]:
    """The assumptions one end of the interval rests on (core._end_bounds), in words."""
    out = []
    for r in rows:
        if r["without"] is not None and abs(r["without"] / edge - 1) < BOUND_SHOWN:
            continue
        what = f"{r['axis']} {r['value']}" + (f" = {r['assumes']}" if r["assumes"] != r["value"] else "")
        if r["without"] is None:
            out.append(f"    assumes {what}: no other {r['axis']} explains the observation")
        else:
            out.append(f"    assumes {what}; with {r['axis']} {', '.join(r['others'])} the {which} end is "
                       f"{params(r['without'])} (pin --{r['axis']} to narrow)")
    return out


def render(result: dict) -> str:
    obs, comb, iv = result["observed"], result["combinations"], result["interval"]
    lines = [f"simdecode estimate: {obs['tps']:g} tok/s per user (band {obs['band_tps'][0]:.4g} .. "
             f"{obs['band_tps'][1]:.4g} tok/s, ±{obs['tolerance']:.0%})"]
    axes = result["assumptions"]
    lines.append(f"searched {comb['total']} combinations (output {axes['output_tokens']} tokens per request):")
    for axis in AXES:
        lines.append(f"  {axis:<12}{', '.join(axes[axis])}")
        if axis == "speculation":
            lines += [f"  {'':<12}{name}: {words}" for name, words in axes.get("speculation_meaning", {}).items()]
    lines.append(f"  {comb['ok']} explain it; {comb['too-slow']} are faster than observed even with the largest "
                 f"model that fits (memory bound); {comb['too-fast']} are slower even with the smallest model "
                 f"(per-step-cost bound); {comb['no-fit']} fit no model")
    lines.append("")
    lo, hi = iv["active_params"]
    lines.append(f"Active parameters consistent with {obs['tps']:g} tok/s ±{obs['tolerance']:.0%}: "
                 f"{params(lo)} .. {params(hi)} ({iv['ratio']:.3g}x)")
    for key, word in (("low_end", "low end "), ("high_end", "high end")):
        end = iv[key]
        value = end["active_lo"] if key == "low_end" else end["active_hi"]
        lines.append(f"  {word} {params(value):>7}: {_label(end['assumptions'])}{_model(end)}")
        lines += _bounds(iv.get("bounds", {}).get(key.split("_")[0], []), key.split("_")[0], value)
    if iv["clipped"]["high"]:
        lines.append("  (the high end is the largest model that fits in memory under its assumptions: the band's slow "
                     "edge would need a larger one)")
    if iv["clipped"]["low"]:
        lines.append("  (the low end is the smallest model searched: the band's fast edge is beyond it)")
    lines.append("")
    if result["effects"]:
        lines.append("What moves it: the size at the observed speed when ONE assumption changes, the others held "
                     "(median [min .. max] over the settings of the others):")
        for e in result["effects"]:
            f = e["factor"]
            lines.append(f"  {e['axis']:<12}{e['from']:>14} -> {e['to']:<16} x{f[1]:<6.3g} [{f[0]:.3g} .. {f[2]:.3g}]"
                         f"  ({e['pairs']} settings)")
        lines.append("")
    lines.append("Per assumption (the others free): explaining combinations, interval, median size")
    for axis in AXES:
        for row in result["per_assumption"][axis]:
            lines.append(f"  {axis:<12}{row['value']:<18}{row['consistent']:>5}  {_span(row['active_params']):<20}"
                         f"  median {params(row['median_active'])}")
    if "references" in result:
        lines += [""] + _references(result["references"], obs)
    if "cost" in result:
        lines += [""] + _cost(result["cost"], obs)
    s = result["search"]
    lines += ["", f"({s['evaluations']} speed evaluations, {s['folds']} step folds, {s['wall_s']:.1f} s)"]
    return "\n".join(lines) + "\n"


def _references(ref: dict, obs: dict) -> list[str]:
    lines = ["Ratio method (reference models at the same provider):"]
    for n in ref["naive"]:
        given = "" if n["active_given"] else " (counted from its config)"
        lines.append(f"  {n['reference']}: {n['tps']:g} tok/s x {params(n['active'])} active{given} = "
                     f"{params(n['params_per_s'])} params/s -> {params(n['target_active'])} at {obs['tps']:g} tok/s")
    lines.append(f"  naive answer: {_span(ref['naive_range'])} (assumes time per token proportional to active "
                 "parameters, same bits, hardware, batch, no speculation)")
    for p in ref["pairs"]:
        sims = ", ".join(f"{s['ratio']:.3g} at batch {s['assumptions']['batch']}" for s in p["simulated"]
                         if s["ratio"] is not None)
        a = p["simulated"][0]["assumptions"]
        lines.append(f"  speed ratio {p['pair'][0]} / {p['pair'][1]}: observed {p['observed_ratio']:.3g}, naive "
                     f"(inverse active ratio) {p['naive_ratio']:.3g}, simulated {sims} ({a['hardware']}, "
                     f"{a['precision']}, tp{a['tp']}, {a['runtime']})")
    for r in ref["per_reference"]:
        c = r["calibrated"]
        lines.append(f"  {r['reference']} as calibration (its batch inferred from its speed under each setting of the "
                     f"shared assumptions; reproduced in {c['reproduced']} of {c['settings']}"
                     + (f", batches {c['batches'][0]} .. {c['batches'][1]}" if c["batches"] else "") + "):")
        if c["active_params"]:
            lines.append(f"    target: {_span(c['active_params'])}")
            lines.append(f"      low end : {_label(c['low_end']['assumptions'])}")
            lines.append(f"      high end: {_label(c['high_end']['assumptions'])}")
        else:
            lines.append("    no setting reproduces the reference's speed and explains the target")
        lines.append(f"    where the ratio breaks (target solved at the reference's simulated speed x "
                     f"{obs['tps']:g}/{next(n['tps'] for n in ref['naive'] if n['reference'] == r['reference']):g}):")
        for row in r["breaks"]:
            if row["active"] is not None:
                value = f"{params(row['active']):>7}  x{row['factor']:.3g} of naive"
            elif row["status"] == "too-slow":
                value = f"> {params(row['largest_fitting_active'])}: beyond memory (the largest that fits is faster)"
            elif row["status"] == "too-fast":
                value = f"< {params(row['smallest_active'])}: even the smallest model is slower"
            else:
                value = row["status"]
            lines.append(f"      {row['case']:<78} {value}")
    return lines


def _cost(cost: dict, obs: dict) -> list[str]:
    lines = [f"Cost at ${cost['gpu_hour_usd']:g} per GPU-hour (decode only; $/Mtok = tp x $/GPU-h / 3600 / "
             "(batch x tok/s) x 1e6):"]
    a = cost["at_observed_speed"]
    lines.append(f"  at the observed {obs['tps']:g} tok/s per user: ${a['usd_per_mtok'][0]:.3g} .. "
                 f"${a['usd_per_mtok'][1]:.3g} per Mtok (cheapest tp{a['cheapest']['tp']} batch "
                 f"{a['cheapest']['batch']}; dearest tp{a['dearest']['tp']} batch {a['dearest']['batch']})")
    lines.append("  configuration            | batch meeting the speed: tok/s/user  $/Mtok | saturating batch: "
                 "tok/s/user  $/Mtok")
    for c in cost["configurations"]:
        def cell(d):
            if d is None:
                return f"{'-':>6} {'-':>10} {'-':>8}"
            return f"{d['batch']:>6} {d['per_user_tps']:>10.3g} {d['usd_per_mtok']:>8.3g}"
        lines.append(f"  {c['end']:<6} {params(c['model_active']):>7} active    | {cell(c['at_speed'])}             | "
                     f"{cell(c['saturating'])}")
    if "price_usd_per_mtok" in cost:
        m = cost["margin_at_observed_speed"]
        lines.append(f"  at a price of ${cost['price_usd_per_mtok']:g} per Mtok: margin {m[0]:.0%} .. {m[1]:.0%} at the "
                     "observed speed")
        al = cost["allowed"]
        if al["active_params"]:
            lines.append(f"  largest active size that price allows at {obs['tps']:g} tok/s: {_span(al['active_params'])} "
                         f"({al['allowing']} of {al['settings']} settings; low end bound by {al['low_end']['bound']}, "
                         f"high end by {al['high_end']['bound']})")
        else:
            lines.append("  no setting serves any model at that price and speed")
    return lines
