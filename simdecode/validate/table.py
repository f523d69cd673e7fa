"""The validation table: one row per measured point, and per group the median and worst |error|.

Written as Markdown (``validation.md``), CSV (``validation.csv``) and JSON (``validation.json``).
Errors are signed: predicted / measured - 1 (positive: simdecode predicts more than was measured).
Rows that wait for kernel-side physics (MoE, MLA, FP4, weight-only integer weights: issue 12), and
figures their own source withdrew (:mod:`simdecode.validate.superseded`), are marked with why; each
group gives its statistics over all expressed rows and over the others, and counts each kind.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections import defaultdict
from typing import Any

from simdecode.validate import superseded
from simdecode.validate.runner import Outcome

#: per group prefix: (median, worst) |error| the project accepts; groups not named have none
TOLERANCES = {"DEC": (0.10, 0.25), "BAT": (0.10, 0.25), "PP": (0.10, 0.25), "SPEC": (0.10, 0.25),
              "IX llama-3.1-70b TPOT": (0.10, 0.25), "IX llama-3.1-70b TTFT": (0.20, 0.50),
              # whole decode steps timed on one H200 (validate/device.py); its prefill forwards and
              # single kernels ("KER H200 prefill", "KER H200 kernels") have none (docs/measurements-h200.md)
              "KER H200 decode": (0.10, 0.25)}


def _stats(errors: list[float]) -> dict[str, Any]:
    if not errors:
        return {"n": 0, "median_abs_error": None, "worst_abs_error": None}
    mags = [abs(e) for e in errors]
    return {"n": len(errors), "median_abs_error": statistics.median(mags), "worst_abs_error": max(mags)}


def group_summary(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """Per group: statistics over every expressed row (``all``), over the rows that do not wait
    for kernel-side physics (``serving``), and the rows not expressible with their reasons."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[o.point.group].append(o)
    out = {}
    for name in sorted(groups, key=_group_order):
        rows = groups[name]
        expressed = [o for o in rows if o.expressed]
        out[name] = {
            "all": _stats([o.error for o in expressed]),
            "serving": _stats([o.error for o in expressed if not o.point.kernel_side]),
            "left_out": left_out_counts([o.point.kernel_side for o in expressed if o.point.kernel_side]),
            "not_expressible": [{"case": o.point.case, "why": o.point.reason} for o in rows if not o.expressed],
            "tolerance": TOLERANCES.get(name),
        }
    return out


def left_out_counts(whys: list[str]) -> dict[str, int]:
    """How many of the rows left out of the tolerances wait for kernel-side physics and how many
    were withdrawn by their source (:mod:`simdecode.validate.superseded`), by their reasons."""
    withdrawn = sum(superseded.is_withdrawn(why) for why in whys)
    return {"kernel_side": len(whys) - withdrawn, "withdrawn": withdrawn}


def left_out_words(counts: dict[str, int]) -> str:
    """'5 kernel-side, 2 withdrawn by their source'; 'all 30 kernel-side' when they are all one kind."""
    parts = [(counts["kernel_side"], "kernel-side"), (counts["withdrawn"], "withdrawn by their source")]
    parts = [(n, words) for n, words in parts if n]
    if len(parts) == 1:
        return f"all {parts[0][0]} {parts[0][1]}"
    return ", ".join(f"{n} {words}" for n, words in parts)


def _group_order(name: str) -> tuple[int, str]:
    order = ["DEC", "BAT", "PP", "SPEC", "CO", "HW"]
    return (order.index(name) if name in order else len(order), name)


def _fmt(value: float, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:.{digits}g}"


def _pct(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{100 * value:+.1f}%"


def rows(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [{
        "case": o.point.case, "group": o.point.group, "conditions": o.point.conditions, "metric": o.point.metric,
        "unit": o.point.unit, "measured": o.point.measured if math.isfinite(o.point.measured) else None,
        "predicted": o.predicted if math.isfinite(o.predicted) else None,
        "error": o.error if math.isfinite(o.error) else None, "kernel_side": o.point.kernel_side,
        "not_expressible": o.point.reason or None, "source": o.point.source,
    } for o in outcomes]


def to_csv(outcomes: list[Outcome]) -> str:
    buf = io.StringIO()
    table = rows(outcomes)
    writer = csv.DictWriter(buf, fieldnames=list(table[0]) if table else ["case"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return buf.getvalue()


def to_json(outcomes: list[Outcome]) -> str:
    return json.dumps({"groups": group_summary(outcomes), "rows": rows(outcomes)}, indent=1, allow_nan=False) + "\n"


def _summary_pct(stats: dict[str, Any]) -> tuple[str, str]:
    m, w = stats["median_abs_error"], stats["worst_abs_error"]
    return ("" if m is None else f"{100 * m:.1f}%"), ("" if w is None else f"{100 * w:.1f}%")


def groups_markdown(outcomes: list[Outcome]) -> str:
    lines = ["| group | rows | median \\|error\\| | worst \\|error\\| | without kernel-side or withdrawn rows: n, "
             "median, worst | tolerance (median / worst) | not expressible |",
             "|---|---:|---:|---:|---|---|---:|"]
    for name, g in group_summary(outcomes).items():
        med, worst = _summary_pct(g["all"])
        smed, sworst = _summary_pct(g["serving"])
        tol = g["tolerance"]
        tol_text = f"{100 * tol[0]:.0f}% / {100 * tol[1]:.0f}%" if tol else ""
        if g["serving"]["n"] == g["all"]["n"]:
            serving = "same"
        elif g["serving"]["n"] == 0:
            serving = f"none ({left_out_words(g['left_out'])})"
        else:
            serving = f"{g['serving']['n']}, {smed}, {sworst}"
        lines.append(f"| {name} | {g['all']['n']} | {med} | {worst} | {serving} | {tol_text} | "
                     f"{len(g['not_expressible'])} |")
    return "\n".join(lines) + "\n"


def to_markdown(outcomes: list[Outcome]) -> str:
    """Groups first, then every row, then the rows not expressible with why."""
    out = ["## Groups", "", groups_markdown(outcomes), "## Rows", "",
           "| case | group | conditions | metric | measured | predicted | error | kernel-side or withdrawn |",
           "|---|---|---|---|---:|---:|---:|---|"]
    for o in outcomes:
        if o.expressed:
            out.append(f"| {o.point.case} | {o.point.group} | {o.point.conditions} | {o.point.metric} ({o.point.unit}) "
                       f"| {_fmt(o.point.measured)} | {_fmt(o.predicted)} | {_pct(o.error)} | {o.point.kernel_side} |")
    out += ["", "## Not expressible", "", "| case | group | why |", "|---|---|---|"]
    seen = set()
    for o in outcomes:
        if not o.expressed:
            key = (o.point.case.split("[")[0].split(" c=")[0], o.point.reason)
            if key in seen:
                continue
            seen.add(key)
            out.append(f"| {key[0]} | {o.point.group} | {o.point.reason or 'no prediction'} |")
    return "\n".join(out) + "\n"
