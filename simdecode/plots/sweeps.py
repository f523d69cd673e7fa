"""The canonical figures of a sweep, drawn from its tidy table (``rows``: one dict per point, as
:func:`simdecode.sweep.read_table` returns them; see :mod:`simdecode.sweep.table` for columns).

Each function takes the rows and optional matplotlib Axes and returns the Axes it drew on:

- :func:`pipeline_figure`: pipeline depth with tp per stage held fixed: one request's tokens/s
  and TTFT, and aggregate tokens/s with one line per concurrency;
- :func:`tp_figure`: tp degree against one request's tokens/s, with the exposed all-reduce share
  under it, one line per link (or per other varied setting);
- :func:`pareto_figure`: per-user against per-GPU tokens/s over concurrency;
- :func:`speculative_figure`: speculative speed-up against acceptance or batch size.

Rules every figure keeps: rates are drawn from zero, every axis has units, several lines get a
legend, and the title says what was held fixed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from simdecode.plots.base import new_figure

Row = Mapping[str, Any]

PP, TP, DP = "resolved.parallelism.pp", "resolved.parallelism.tp", "resolved.parallelism.dp"
CONCURRENCY = "resolved.workload.arrival.concurrency"
RATE = "resolved.workload.arrival.rate"
MODEL, GPU = "resolved.model.name", "resolved.hardware.gpu.name"
PER_REQUEST, AGGREGATE, TTFT = "per_request_tps.mean", "aggregate_tps", "ttft_ms.mean"
KV_LIMITED = "kv-capacity"


# ---------------------------------------------------------------------------- table helpers

def distinct(rows: Iterable[Row], key: str) -> list[Any]:
    """The distinct values of a column, in order of appearance (None left out)."""
    seen: dict[Any, None] = {}
    for row in rows:
        value = row.get(key)
        if value is not None:
            # a list or mapping (a hand-edited table) is kept as its JSON text: it cannot be a key
            seen.setdefault(json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value, None)
    return list(seen)


def varied_columns(rows: Sequence[Row]) -> list[str]:
    """Columns of the sweep's varied keys (those before ``overrides``), in table order."""
    if not rows:
        return []
    keys = list(rows[0])
    end = keys.index("overrides") if "overrides" in keys else len(keys)
    return keys[2:end]


def gpus(row: Row) -> int:
    """GPUs of the point: tp x pp x dp."""
    return int(row.get(TP) or 1) * int(row.get(PP) or 1) * int(row.get(DP) or 1)


#: short names of keys in labels
SHORT = {"intra_node_link": "link", "inter_node_link": "inter-node link", "speculative_tokens": "k"}


def _short(key: str) -> str:
    """``workload.arrival.concurrency`` -> ``concurrency``."""
    last = key.rsplit(".", 1)[-1]
    return SHORT.get(last, last)


def _fixed(rows: Sequence[Row], extra: Iterable[str] = ()) -> str:
    """``"Llama-3.1-70B on h100-sxm, tp 2"``: what every row shares (model, GPU, extras)."""
    parts = []
    models, gpu_names = distinct(rows, MODEL), distinct(rows, GPU)
    weights = distinct(rows, "resolved.precision.weights")
    if len(models) == 1:
        precision = f" {weights[0]}" if len(weights) == 1 and weights[0] != "bf16" else ""
        parts.append(f"{models[0]}{precision}" + (f" on {gpu_names[0]}" if len(gpu_names) == 1 else ""))
    elif len(gpu_names) == 1:  # the models vary: the GPU is still held
        parts.append(f"on {gpu_names[0]}")
    for key in extra:
        values = distinct(rows, key)
        if len(values) == 1:
            parts.append(f"{_short(key)} = {values[0]}")
    return ", ".join(parts)


def _zero_based(ax: Axes, values: Iterable[float | None], headroom: float = 1.15) -> None:
    finite = [v for v in values if v is not None]
    ax.set_ylim(0, max(finite) * headroom if finite and max(finite) > 0 else 1)


def line_keys(rows: Sequence[Row], x_key: str, exclude: Iterable[str] = ()) -> list[str]:
    """The varied columns that tell the lines of a figure apart, given its x column ``x_key``:
    those that vary among rows with the same x. A column that moves together with x (a linked
    ``requests: 2c`` beside ``concurrency: c``, or ``parallelism.tp`` itself) draws no line of its own."""
    keys = []
    for key in varied_columns(rows):
        if key in exclude or len(distinct(rows, key)) < 2:
            continue
        by_x: dict[Any, set] = defaultdict(set)
        for row in rows:
            by_x[json.dumps(row.get(x_key))].add(json.dumps(row.get(key)))
        if any(len(values) > 1 for values in by_x.values()):
            keys.append(key)
    return keys


def _label_rest(row: Row, keys: Sequence[str]) -> str:
    """``"tp_mode delayed, tp_delay 2"``: the row's values of ``keys``, leaving out keys it does not set."""
    return ", ".join(f"{_short(k)} {row.get(k)}" for k in keys if row.get(k) is not None) or "all points"


def _empty(ax: Axes, text: str) -> Axes:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center")
    return ax


# ---------------------------------------------------------------------------- pipeline depth

def _requests_that_fit(row: Row) -> int | None:
    """Whole requests (prompt + output tokens) the point's KV cache holds at once."""
    capacity = row.get("kv_cache.capacity_tokens")
    prompt, output = row.get("resolved.workload.prompt_tokens"), row.get("resolved.workload.output_tokens")
    if not isinstance(capacity, (int, float)) or not isinstance(prompt, int) or not isinstance(output, int):
        return None
    return int(capacity // (prompt + output))


def pipeline_figure(rows: Sequence[Row], axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Pipeline depth (x) with tp per stage held fixed, in three panels (when tp varies too, as in
    linked layouts ``{tp: 16, pp: 1}, {tp: 8, pp: 3}``, x has one slot per tp x pp layout):

    1. tokens/s one request sees (mean per-request decode rate) at the lowest concurrency;
    2. its mean time to first token (ms);
    3. aggregate output tokens/s of all requests, one line per concurrency.

    Points whose bottleneck is the KV cache (``kv-capacity``: requests waited for memory) are
    ringed in red: there, more stages (more GPUs holding fewer layers each, so more room for KV)
    let more requests decode at once. ``axes``: three Axes, or None for a new figure.
    """
    if axes is None:
        fig = new_figure(13.0, 4.6)
        axes = fig.subplots(1, 3)
    ax_speed, ax_ttft, ax_agg = axes
    rows = [r for r in rows if r.get(PP) is not None]
    if not rows:
        for ax in axes:
            _empty(ax, "no pipeline depth in this table")
        return list(axes)
    depths = sorted(distinct(rows, PP))
    tps_per_stage = distinct(rows, TP)
    loads = sorted(distinct(rows, CONCURRENCY))
    lowest = loads[0] if loads else None
    # x: pp itself when tp is held fixed, else one slot per (pp, tp) layout, e.g. tp 16 x pp 1 and tp 8 x pp 3
    layouts = sorted({(int(r[PP]), int(r.get(TP) or 1)) for r in rows})
    fixed_tp = len(tps_per_stage) == 1
    powers_of_two = fixed_tp and len(depths) >= 3 and all(d > 0 and (d & (d - 1)) == 0 for d in depths)

    def xpos(r: Row) -> float:
        return r[PP] if fixed_tp else layouts.index((int(r[PP]), int(r.get(TP) or 1)))

    def at(load: Any) -> list[Row]:
        chosen = [r for r in rows if r.get(CONCURRENCY) == load] if load is not None else list(rows)
        return sorted(chosen, key=xpos)

    single = at(lowest)
    xs = [xpos(r) for r in single]
    speeds = [r.get(PER_REQUEST) for r in single]
    ttfts = [r.get(TTFT) for r in single]
    load_text = f"concurrency {lowest}" if lowest is not None else "one load"
    ax_speed.plot(xs, speeds, marker="o", color="C0")
    ax_speed.set_ylabel("tokens/s of one request")
    ax_speed.set_title(f"one request's speed ({load_text})", fontsize="medium")
    _zero_based(ax_speed, speeds)
    ax_ttft.plot(xs, ttfts, marker="s", color="C1")
    ax_ttft.set_ylabel("time to first token (ms)")
    ax_ttft.set_title(f"time to first token ({load_text})", fontsize="medium")
    _zero_based(ax_ttft, ttfts)
    for x, y in zip(xs, speeds):
        if y is not None:
            ax_speed.annotate(f"{y:.1f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center",
                              fontsize="small")
    for x, y in zip(xs, ttfts):
        if y is not None:
            ax_ttft.annotate(f"{y:.0f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center",
                             fontsize="small")

    agg_values = []
    for i, load in enumerate(loads or [None]):
        group = at(load)
        ys = [r.get(AGGREGATE) for r in group]
        agg_values += ys
        ax_agg.plot([xpos(r) for r in group], ys, marker="o", color=f"C{i}",
                    label=f"{load}" if load is not None else "aggregate")
        limited = [r for r in group if r.get("bottleneck") == KV_LIMITED]
        if limited:
            ax_agg.plot([xpos(r) for r in limited], [r.get(AGGREGATE) for r in limited], linestyle="none",
                        marker="o", markersize=11, markerfacecolor="none", markeredgecolor="red", markeredgewidth=1.5)
        if limited and load == max(loads or [None]):
            r = limited[0]
            fits = _requests_that_fit(r)
            if fits is not None:
                ax_agg.annotate(f"pp {r[PP]}: the KV cache holds\nonly ~{fits} of the {load} requests",
                                (xpos(r), r[AGGREGATE]), xytext=(0.03, 0.95), textcoords="axes fraction", va="top",
                                fontsize="small", color="red",
                                arrowprops={"arrowstyle": "->", "color": "red", "linewidth": 0.8})
    handles = ax_agg.get_legend_handles_labels()[0]
    if any(r.get("bottleneck") == KV_LIMITED for r in rows):
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=11, markerfacecolor="none",
                              markeredgecolor="red", markeredgewidth=1.5, label="KV cache full (bottleneck)"))
    annotated = any("KV cache holds" in t.get_text() for t in ax_agg.texts)
    ax_agg.legend(handles=handles, title="requests in flight" if loads else None, fontsize="small",
                  title_fontsize="small", loc="center right" if annotated else "best")
    ax_agg.set_ylabel("aggregate output tokens/s (all requests)")
    ax_agg.set_title("throughput of all requests", fontsize="medium")
    _zero_based(ax_agg, agg_values)

    if fixed_tp:
        positions = depths
        ticks = [f"{pp}\n({pp * int(tps_per_stage[0])} GPUs)" for pp in depths]
        xlabel = "pipeline stages pp (GPUs in all)"
        title = (f"pipeline depth with tp {tps_per_stage[0]} per stage held fixed "
                 f"(each stage adds {tps_per_stage[0]} GPUs)")
    else:
        positions = list(range(len(layouts)))
        ticks = [f"tp {tp} x pp {pp}\n({tp * pp} GPUs)" for pp, tp in layouts]
        xlabel = "parallel layout (GPUs per replica)"
        title = "parallel layouts: tensor against pipeline parallelism"
    for ax in axes:
        if powers_of_two:  # 1, 2, 4, 8 evenly spaced
            ax.set_xscale("log", base=2)
            ax.minorticks_off()
            ax.set_xlim(min(depths) / 1.4, max(depths) * 1.4)
        else:
            ax.set_xlim(min(positions) - 0.5, max(positions) + 0.5)
        ax.set_xticks(positions, ticks)
        ax.set_xlabel(xlabel)
        ax.grid(True, alpha=0.3)
    ax_speed.figure.suptitle(f"{_fixed(rows)}: {title}", fontsize="large")
    return list(axes)


# ---------------------------------------------------------------------------- tensor parallelism

def tp_figure(rows: Sequence[Row], axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Tensor-parallel degree (x, log 2) against one request's tokens/s (top) and the share of the
    decode step spent waiting on exposed all-reduces (bottom, %), one line per value of the other
    varied settings (e.g. the link). ``axes``: two Axes (top, bottom) or None."""
    if axes is None:
        fig = new_figure(8.0, 7.0)
        axes = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    top, bottom = axes
    others = line_keys(rows, TP)
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[_label_rest(row, others)].append(row)
    speeds, degrees = [], sorted(distinct(rows, TP))
    for i, (label, group) in enumerate(groups.items()):
        group = sorted(group, key=lambda r: r[TP])
        xs = [r[TP] for r in group]
        ys = [r.get(PER_REQUEST) for r in group]
        speeds += ys
        label = label if len(groups) > 1 else ""  # one line: nothing to tell apart
        finite = [(x, y) for x, y in zip(xs, ys) if y is not None]
        if finite and finite.index(max(finite, key=lambda p: p[1])) < len(finite) - 1:
            # the peak in the legend and as a ring on the point: a text beside the point sat on
            # the line falling away from it on either side
            best = max(finite, key=lambda p: p[1])
            label = f"{label}, peaks at tp {best[0]}" if label else f"peaks at tp {best[0]}"
            top.plot([best[0]], [best[1]], marker="o", markersize=13, markerfacecolor="none", color=f"C{i}",
                     linestyle="none")
        top.plot(xs, ys, marker="o", color=f"C{i}", label=label)
        bottom.plot(xs, [100 * (r.get("allreduce_share") or 0.0) for r in group], marker="s", color=f"C{i}",
                    label=label)
    top.set_ylabel("tokens/s of one request")
    bottom.set_ylabel("exposed all-reduce\n(% of decode step)")
    bottom.set_xlabel("tensor-parallel degree tp (GPUs per replica)")
    _zero_based(top, speeds)
    bottom.set_ylim(0, 100)
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xticks(degrees, [str(d) for d in degrees])
        ax.minorticks_off()
        ax.grid(True, alpha=0.3)
    if any(line.get_label() and not line.get_label().startswith("_") for line in top.get_lines()):
        top.legend(fontsize="small", loc="lower left")
    loads = distinct(rows, CONCURRENCY)
    fixed = _fixed(rows, [PP, CONCURRENCY] if len(loads) == 1 else [PP])
    totals = {gpus(r) for r in rows}
    if len(distinct(rows, DP)) > 1 and len(totals) == 1:  # the same GPUs as fewer, wider replicas
        fixed += f", {totals.pop()} GPUs in all (dp x tp)"
    top.set_title(f"where more GPUs stop speeding up one request\n({fixed})", fontsize="medium")
    return list(axes)


# ---------------------------------------------------------------------------- per-user vs per-GPU

def pareto_figure(rows: Sequence[Row], ax: Axes | None = None) -> Axes:
    """Per-user tokens/s (y: mean per-request decode rate) against per-GPU tokens/s (x: aggregate /
    GPUs), one point per load, joined in order of load, one line per other varied setting; the
    frontier a deployment chooses from (InferenceX, AIConfigurator)."""
    if ax is None:
        ax = new_figure(8.0, 5.0).add_subplot()
    load_key = CONCURRENCY if distinct(rows, CONCURRENCY) else RATE
    others = line_keys(rows, load_key)
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.get(PER_REQUEST) is not None and row.get(AGGREGATE) is not None:
            groups[_label_rest(row, others)].append(row)
    if not groups:
        return _empty(ax, "no decode speeds to show")
    xs_all, ys_all = [], []
    for i, (label, group) in enumerate(groups.items()):
        group = sorted(group, key=lambda r: (r.get(load_key) is None, r.get(load_key)))
        xs = [r[AGGREGATE] / gpus(r) for r in group]
        ys = [r[PER_REQUEST] for r in group]
        xs_all += xs
        ys_all += ys
        ax.plot(xs, ys, marker="o", color=f"C{i}", label=label)
        span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
        for j, (x, y, r) in enumerate(zip(xs, ys, group)):
            # put the label on the side away from the neighbouring points (so it does not sit on the line)
            near = [(xs[k], ys[k]) for k in (j - 1, j + 1) if 0 <= k < len(xs)]
            dx = sum((x - nx) / span_x for nx, _ in near)
            dy = sum((y - ny) / span_y for _, ny in near)
            norm = (dx * dx + dy * dy) ** 0.5 or 1.0
            ax.annotate(f"{r.get(load_key)}", (x, y), textcoords="offset points",
                        xytext=(9 * dx / norm, 9 * dy / norm), ha="left" if dx >= 0 else "right",
                        va="bottom" if dy >= 0 else "top", fontsize="small", color=f"C{i}")
    ax.set_xlabel("output tokens/s per GPU (aggregate / GPUs)")
    ax.set_ylabel("output tokens/s per user (mean)")
    ax.set_xlim(0, max(xs_all) * 1.15)
    _zero_based(ax, ys_all)
    ax.grid(True, alpha=0.3)
    if len(groups) > 1:
        ax.legend(fontsize="small")
    what = "requests in flight" if load_key == CONCURRENCY else "arrival rate"
    ax.set_title(f"{_fixed(rows, [TP, PP])}: per-user against per-GPU throughput\n(point labels: {what})",
                 fontsize="medium")
    return ax


# ---------------------------------------------------------------------------- speculative decoding

SPEEDUP, AGG_SPEEDUP, ACCEPTANCE = "speculative.speedup_vs_standard", "speculative.aggregate_speedup", \
    "speculative.acceptance_rate"


def speculative_figure(rows: Sequence[Row], x: str = "auto", ax: Axes | None = None) -> Axes:
    """Speed-up of speculative decoding over standard decoding (same scenario and seed): per request
    (solid) and aggregate (dashed), against ``x``: ``acceptance`` (the measured share of proposals
    accepted), ``batch`` (requests in flight) or ``auto`` (batch when concurrency varies, else
    acceptance). One colour per other varied setting; the grey line at 1 is break-even."""
    if ax is None:
        ax = new_figure(8.0, 5.0).add_subplot()
    rows = [r for r in rows if r.get(SPEEDUP) is not None]
    if not rows:
        return _empty(ax, "no speculative decoding in this table")
    if x == "auto":
        x = "batch" if len(distinct(rows, CONCURRENCY)) > 1 else "acceptance"
    key, label = {"batch": (CONCURRENCY, "requests in flight (batch size)"),
                  "acceptance": (ACCEPTANCE, "measured acceptance rate (share of proposals accepted)")}[x]
    # against acceptance, the decoding settings are what moves the acceptance: no line of their own
    others = line_keys(rows, key, exclude=[k for k in varied_columns(rows) if x == "acceptance" and
                                           k.startswith("decoding")])
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[_label_rest(row, others)].append(row)
    values = [1.0]
    for i, (name, group) in enumerate(groups.items()):
        group = sorted(group, key=lambda r: r.get(key) or 0)
        xs = [r.get(key) for r in group]
        per, agg = [r.get(SPEEDUP) for r in group], [r.get(AGG_SPEEDUP) for r in group]
        values += per + agg
        suffix = f" ({name})" if len(groups) > 1 else ""
        ax.plot(xs, per, marker="o", color=f"C{i}", label="per request" + suffix)
        if x == "acceptance" and len(distinct(rows, "resolved.decoding.speculative_tokens")) > 1:
            for r, xv, yv in zip(group, xs, per):
                ax.annotate(f"k = {r.get('resolved.decoding.speculative_tokens')}", (xv, yv),
                            textcoords="offset points", xytext=(0, 8), ha="center", fontsize="small")
        ax.plot(xs, agg, marker="s", linestyle="--", color=f"C{i}", label="aggregate" + suffix)
    ax.axhline(1.0, color="grey", linewidth=0.9)
    ax.annotate("break-even", (0.01, 1.0), xycoords=("axes fraction", "data"), textcoords="offset points",
                xytext=(2, 3), fontsize="small", color="grey")
    if x == "batch":
        ax.set_xscale("log", base=2)
        ticks = sorted(distinct(rows, key))
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
    ax.set_xlabel(label)
    ax.set_ylabel("speed-up over standard decoding (x)")
    _zero_based(ax, values)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    methods = {"draft": "speculative decoding (draft model)", "mtp": "multi-token prediction"}
    method = "/".join(methods.get(m, str(m)) for m in distinct(rows, "speculative.method"))
    held = _fixed(rows, ["resolved.decoding.speculative_tokens", "resolved.decoding.acceptance"] if x == "batch"
                  else [CONCURRENCY])
    ax.set_title(f"{held}:\n{method}, speed-up against {'batch size' if x == 'batch' else 'acceptance'}",
                 fontsize="medium")
    return ax


# ---------------------------------------------------------------------------- any other sweep

#: the most inches the bars of :func:`points_figure` take
POINTS_ROWS_IN = 10.5


def points_figure(rows: Sequence[Row], ax: Axes | None = None) -> Axes:
    """Fallback for a sweep no canonical figure fits: one request's and all requests' tokens/s per
    point (horizontal bars, one pair per point, labelled with its varied settings)."""
    # the varied keys that tell points apart (a linked setting every point shares, e.g. tp 8, goes to the title)
    varied = [k for k in varied_columns(rows) if len({json.dumps(r.get(k), default=str) for r in rows}) > 1]
    shared = [k for k in varied_columns(rows) if k not in varied]
    own_figure = ax is None
    rows_in = 0.45 * max(1, len(rows))
    if ax is None:  # at most 12 inches tall: beyond ~23 points the rows (and their labels) get thinner
        ax = new_figure(8.0, 1.5 + min(rows_in, POINTS_ROWS_IN)).add_subplot()
    labels = [_label_rest(r, varied) for r in rows]
    ys = range(len(rows))
    ax.barh([y - 0.2 for y in ys], [r.get(PER_REQUEST) or 0.0 for r in rows], height=0.4, color="C0",
            label="one request (mean tokens/s)")
    ax.barh([y + 0.2 for y in ys], [r.get(AGGREGATE) or 0.0 for r in rows], height=0.4, color="C1",
            label="all requests (aggregate tokens/s)")
    ax.set_yticks(list(ys), labels)
    if rows_in > POINTS_ROWS_IN:  # labels no taller than their row: 72 points per inch, 80% of the row
        ax.tick_params(axis="y", labelsize=max(3.0, 0.8 * 72 * POINTS_ROWS_IN / len(rows)))
    ax.invert_yaxis()
    ax.set_xlim(left=0)
    ax.set_xlabel("output tokens/s")
    ax.grid(True, axis="x", alpha=0.3)
    # outside the bars, not over them (the longest bar reaches the right edge, under any corner's
    # legend); on a figure of its own, under it and centred on it: long point labels narrow the axes
    if own_figure:
        ax.figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize="small",
                         frameon=False)
    else:
        ax.legend(fontsize="small", loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False)
    held = _fixed(rows, [*shared, *(k for k in (TP, PP, CONCURRENCY) if k.removeprefix("resolved.") not in shared)])
    title = f"{held}: tokens/s per point" if held else "tokens/s per point"
    if own_figure:  # over the whole figure: long point labels leave the axes narrower than the title
        ax.figure.suptitle(title, fontsize="medium")
    else:
        ax.set_title(title, fontsize="medium")
    return ax
