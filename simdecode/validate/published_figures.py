"""A published case's figures, read into points: the entries of its ``series``, of a quoted
Markdown table (one per cell) or of a quote that ties figures to machines or models; per metric,
the rows each entry gives (label, metric, unit, measured value, probe, layout); and the conditions
in the words of the validation table. :mod:`simdecode.validate.published` turns them into jobs.
"""

from __future__ import annotations

import math
import re
from typing import Any

from simdecode.validate import conditions as cond

_LAYOUT_MS = re.compile(r"^(?:tp(?P<tp>\d+)(?:pp(?P<pp>\d+))?_)?ms$")


def number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


#: a cell's figure: '33.2 tokens/s', '71.5 tokens/s (2.15x)', '47.4'
_CELL_FIGURE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:tokens?\s*/\s*s|tok/s)?\b")


def table_entries(case: dict) -> list[dict]:
    """A per-request speed quoted as a Markdown table whose columns are the alternatives a condition
    lists with '/' ('dtype: fp16 / int4'), one row per engine or method: one entry per cell, the row's
    label as its ``framework``, the column as that condition. EAGLE's README ('| gpt-fast | 33.2
    tokens/s | 47.4 tokens/s | | EAGLE+gpt-fast | 71.5 tokens/s (2.15x) | 82.5 tokens/s (1.74x) |',
    dtype 'fp16 / int4') -> gpt-fast at fp16 33.2 and int4 47.4, EAGLE+gpt-fast at 71.5 and 82.5.
    Only when the case's own value is one of the cells; else [] (the case is read otherwise)."""
    if case.get("metric") != "per_request_decode_tok_s":
        return []
    conditions = case.get("conditions") or {}
    columns = next(((k, [a.strip() for a in str(v).split("/")]) for k, v in conditions.items()
                    if isinstance(v, str) and "/" in v and k in ("dtype", "quant")), None)
    if columns is None:
        return []
    key, names = columns
    entries = []
    for row in re.split(r"\|\s*\|", str(case.get("quote", ""))):
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) != len(names) + 1:
            continue
        figures = [_CELL_FIGURE.match(c) for c in cells[1:]]
        if not cells[0] or not all(figures):
            continue
        entries += [{"framework": cells[0], key: name, "tok_s": float(f[1])} for name, f in zip(names, figures)]
    if number(case.get("value")) not in [e["tok_s"] for e in entries]:
        return []
    return entries


def quoted_entries(case: dict) -> list[dict]:
    """A case without a series, as the points of its quote: a quote that ties several per-request
    speeds to machines ('on 8x MI300X ... and 2,100 on 8x H200') or models ('for Llama3.1 8B and 450
    ... for Llama3.1 70B') gives one entry per figure, the case's own value as stated (entry {})
    and each other figure with its machine ('on': the case's hardware key) or model ('for').
    Any other case is its value alone: [{}]."""
    if case.get("metric") != "per_request_decode_tok_s":
        return [{}]
    figures = cond.quoted_figures(case.get("quote", ""))
    value = number(case.get("value"))
    if len(figures) < 2 or value not in [v for v, _, _ in figures]:
        return [{}]
    conditions = case.get("conditions") or {}
    hw_key = next((k for k in ("gpus", "gpu", "hardware") if conditions.get(k)), "gpus")
    own = next(f for f in figures if f[0] == value)
    entries: list[dict] = [{}]
    for v, word, what in figures:
        if (v, word, what) != own:
            entries.append({hw_key if word == "on" else "model": what, "tok_s": v})
    return entries


def is_value_key(key: str) -> bool:
    return key in ("tok_s", "speedup", "ttft_ms", "itl_ms", "tput_tok_s", "tps_user",
                   "approx_tok_s", "reported_mem_bw_GBps") or bool(_LAYOUT_MS.match(key))


def label(entry: dict, layout: dict) -> str:
    parts = [f"{k}={v}" for k, v in entry.items() if not is_value_key(k)]
    parts += [f"{k}={v}" for k, v in layout.items()]
    return ",".join(parts)


def figure_rows(case: dict, metric: str, entry: dict) -> list[tuple[str, str, str, float, str, dict]]:
    """(label, metric, unit, measured, probe, layout overrides) for one series entry."""
    value = case.get("value")
    unit = str(case.get("unit", ""))
    if metric == "per_request_decode_tok_s":
        v = number(entry.get("tok_s", value if not entry else None))
        if v is None:
            raise cond.NotExpressible(f"no single figure ({value!r}, {unit})")
        method = cond.speculative_method(str(entry["framework"]) if "framework" in entry else unit)
        if method:
            raise cond.NotExpressible(method)
        if not entry and "lower bound" in unit.lower():
            raise cond.NotExpressible("a lower bound ('over'), not a measured figure")
        return [(label(entry, {}), "tokens/s per request", "tok/s", v, "per_request_tps", {})]
    if metric.startswith("end_to_end_latency"):
        rows = []
        keys = [k for k in entry if _LAYOUT_MS.match(k)] or ["ms"]
        for k in keys:
            m = _LAYOUT_MS.match(k)
            layout = {}
            if m["tp"]:
                layout["tp"] = int(m["tp"])
            if m["pp"]:
                layout["pp"] = int(m["pp"])
            if not layout and metric.endswith("_tp8"):
                layout["tp"] = 8
            v = number(entry.get(k, value if not entry else None))
            if v is not None:
                rows.append((label(entry, layout), "end-to-end latency", "ms", v, "e2e_ms", layout))
        return rows
    if metric == "ITL":
        return [(label(entry, {}), "ITL", "ms", float(value), "tpot_ms", {})]
    if metric == "aggregate_output_tok_s_at_saturation":
        rows = []
        for key, name, unit_, probe in (("ttft_ms", "TTFT", "ms", "ttft_ms"), ("itl_ms", "ITL", "ms", "tpot_ms"),
                                        ("tput_tok_s", "aggregate tokens/s", "tok/s", "steady_aggregate_tps")):
            if number(entry.get(key)) is not None:
                rows.append((label(entry, {}) + f" {name}", name, unit_, float(entry[key]), probe, {}))
        return rows
    if metric == "tps_per_user_speedup":
        if not entry.get("nextn") or number(entry.get("speedup")) is None:
            return []
        return [(label({"nextn": entry["nextn"]}, {}), "speed-up per user", "x", float(entry["speedup"]), "speedup", {})]
    raise cond.NotExpressible(f"metric {metric!r} ({value!r} {unit}): "
                              + ("a range, not a figure" if isinstance(value, str) else "no workload stated to reproduce it"))


def _short(text: object) -> str:
    """A condition's first phrase: '8x A100-80GB SXM, power-limited 330 W, ...' -> '8x A100-80GB SXM'."""
    return re.split(r"[,(;]", str(text))[0].strip()


def summary(c: dict, layout: dict | None = None) -> str:
    parts = [_short(c[k]) for k in ("model", "gpus", "gpu", "hardware", "framework", "engine", "dtype") if c.get(k)]
    for k in ("tp", "batch", "concurrency", "nextn", "quant"):
        if k in c and not isinstance(c[k], str) or k in ("quant",) and c.get(k):
            parts.append(f"{k} {c[k]}")
    for k, v in (layout or {}).items():
        parts.append(f"{k} {v}")
    return "; ".join(parts)
