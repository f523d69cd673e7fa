"""Figures of one simulation result: functions ``(result, ax=None) -> Axes`` (token timeline,
KV occupancy) and the per-user against per-GPU view of several results."""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from simdecode.plots.base import _scenario_name, _titled, new_figure

#: more lines than this stop being readable; the first requests (by arrival) are drawn
MAX_REQUESTS_DRAWN = 50


def token_timeline(result: Any, ax: Axes | None = None, max_requests: int = MAX_REQUESTS_DRAWN) -> Axes:
    """Output tokens produced over time, one line per request.

    x is simulated time in milliseconds, y the number of output tokens a request has produced.
    A request with recorded per-token times (``token_times_s``) is drawn as a step line; one
    without is drawn as a straight segment from its first token to its last (its mean TPOT is
    the inverse slope). An open circle marks the arrival (at y = 0) and a dot the first token;
    the dotted stretch between them is the TTFT: queueing plus prefill.
    """
    if ax is None:
        ax = new_figure().add_subplot()
    requests = sorted(getattr(result, "requests", ()) or (), key=lambda r: (r.arrival_s, r.id))
    shown = requests[:max_requests]
    colors = [f"C{i % 10}" for i in range(len(shown))]
    for record, color in zip(shown, colors):
        arrival_ms = record.arrival_s * 1e3
        first_ms = record.first_token_s * 1e3
        times = getattr(record, "token_times_s", ()) or ()
        if times:
            xs = [t * 1e3 for t in times]
            ys = list(range(1, len(xs) + 1))
            ax.step(xs, ys, where="post", color=color, linewidth=1.0)
        else:
            ax.plot([first_ms, record.finished_s * 1e3], [1, record.output_tokens], color=color, linewidth=1.0)
        ax.plot([arrival_ms, first_ms], [0, 1], color=color, linewidth=0.8, linestyle=":")
        ax.plot([arrival_ms], [0], marker="o", markersize=4, markerfacecolor="none", color=color, clip_on=False)
        ax.plot([first_ms], [1], marker="o", markersize=3, color=color, clip_on=False)

    ax.set_xlabel("simulated time (ms)")
    ax.set_ylabel("output tokens produced")
    title = _titled(result, "token timeline")
    if len(requests) > len(shown):
        title += f" (first {len(shown)} of {len(requests)} requests)"
    ax.set_title(title + _held(result), fontsize="medium")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if shown:
        handles = [
            Line2D([], [], color="0.3", marker="o", markerfacecolor="none", linestyle="none", label="arrival"),
            Line2D([], [], color="0.3", linestyle=":", label="waiting + prefill (TTFT)"),
            Line2D([], [], color="0.3", marker="o", markersize=3, linestyle="none", label="first token"),
            Line2D([], [], color="0.3", linewidth=1.0, label="decoding"),
        ]
        # beside the axes: the first request's line starts in the upper left, the last one's ends in
        # the upper right, so no corner inside is free of lines
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    else:
        ax.text(0.5, 0.5, "no completed requests", transform=ax.transAxes, ha="center", va="center")
    return ax


#: replicas drawn in :func:`kv_occupancy` (the first ones)
MAX_REPLICAS_DRAWN = 8


def _load_label(result: Any) -> str:
    """"c=16" for a closed loop, "4/s" for an open one, else the scenario's name."""
    arrival = getattr(getattr(getattr(result, "scenario", None), "workload", None), "arrival", None)
    if getattr(arrival, "kind", None) == "closed":
        return f"c={arrival.concurrency}"
    rate = getattr(arrival, "rate_per_s", None)
    if rate is not None:
        return f"{rate:g}/s"
    return _scenario_name(result) or ""


def _held(result: Any) -> str:
    """``"\n(llama-3.1-8b on h100-sxm, tp 1, concurrency 1)"``: what the run held fixed, for a title."""
    scenario = getattr(result, "scenario", None)
    try:
        par = scenario.parallelism
        layout = f"tp {par.tp}" + (f" x pp {par.pp}" if par.pp > 1 else "") + (f" x dp {par.dp}" if par.dp > 1 else "")
        arrival = scenario.workload.arrival
        rate = getattr(arrival, "rate_per_s", None)
        load = (f"concurrency {arrival.concurrency}" if arrival.kind == "closed"
                else f"{arrival.kind} {rate:g}/s" if rate is not None else f"{arrival.kind} arrivals")
        return f"\n({scenario.model.name} on {scenario.hardware.gpu.name}, {layout}, {load})"
    except AttributeError:  # a result without a resolved scenario: the name alone
        return ""


def throughput_tradeoff(results: Any, ax: Axes | None = None, labels: list[str] | None = None) -> Axes:
    """Per-user speed against per-GPU throughput, one point per result (e.g. a concurrency sweep).

    x is ``aggregate_tps`` / GPUs (tp x pp x dp): output tokens per second each GPU delivers;
    y is the mean ``per_request_tps``: tokens per second one user sees while its tokens stream.
    Points are joined in the order given and labelled with ``labels``, else with the load
    ("c=16" for a closed loop of 16, "4/s" for a Poisson rate). More load usually moves a
    point right (better use of the GPUs) and down (slower for each user): the curve is the
    frontier a deployment can pick from.
    """
    if ax is None:
        ax = new_figure().add_subplot()
    results = list(results)
    xs, ys, names = [], [], []
    for i, result in enumerate(results):
        summary = result.summary()
        par = result.scenario.parallelism
        gpus = par.tp * par.pp * par.dp
        per_user = (summary.get("per_request_tps") or {}).get("mean")
        total = summary.get("aggregate_tps")
        if per_user is None or total is None:
            continue  # nothing decoded (one-token requests, or nothing completed)
        xs.append(total / gpus)
        ys.append(per_user)
        names.append(labels[i] if labels is not None else _load_label(result))
    if xs:
        ax.plot(xs, ys, color="C0", marker="o", linewidth=1.0)
        # one label per spot: loads that give the same point (e.g. a full KV cache) share it
        spots: dict[tuple[float, float], list[str]] = {}
        for x, y, name in zip(xs, ys, names):
            spots.setdefault((float(f"{x:.3g}"), float(f"{y:.3g}")), []).append(name)
        for (x, y), group in spots.items():
            ax.annotate(", ".join(group), (x, y), textcoords="offset points", xytext=(4, 4), fontsize="small")
        ax.margins(x=0.08, y=0.12)
    else:
        ax.text(0.5, 0.5, "no decode speeds to show", transform=ax.transAxes, ha="center", va="center")
    ax.set_xlabel("output tokens/s per GPU")
    ax.set_ylabel("output tokens/s per user (mean)")
    names_set = {_scenario_name(r) for r in results} - {None}
    title = "throughput vs per-user speed"
    if len(names_set) == 1:
        title = f"{names_set.pop()}: {title}"
    ax.set_title(title, fontsize="medium")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0, top=max(ys) * 1.12 if ys else None)
    ax.grid(True, alpha=0.3)
    return ax


def kv_occupancy(result: Any, ax: Axes | None = None, max_replicas: int = MAX_REPLICAS_DRAWN) -> Axes:
    """KV-cache occupancy over time (share of the cache in use), with the queue on a twin axis.

    Solid steps: blocks in use / capacity, per replica (left axis, 0 to 1). Dashed steps: requests
    waiting for admission or swapped out, per replica (right axis). Time is simulated ms. Returns
    the left axes; the twin is ``ax.right_ax``.
    """
    if ax is None:
        ax = new_figure().add_subplot()
    monitors = getattr(result, "monitors", {}) or {}
    kv = monitors.get("kv_blocks", [])[:max_replicas]
    queue = monitors.get("queue", [])[:max_replicas]
    capacity = getattr(result, "kv_capacity_blocks", 0) or 0
    end_ms = getattr(result, "simulated_s", 0.0) * 1e3
    right = ax.twinx()
    ax.right_ax = right  # type: ignore[attr-defined]
    many = len(kv) > 1
    for r, monitor in enumerate(kv):
        ts, vs = monitor.series()
        xs = [t * 1e3 for t in ts] + [max(end_ms, ts[-1] * 1e3)]
        ys = [v / capacity if capacity else 0.0 for v in vs] + [vs[-1] / capacity if capacity else 0.0]
        ax.step(xs, ys, where="post", color=f"C{r % 10}", linewidth=1.0,
                label=f"KV occupancy, replica {r}" if many else "KV occupancy")
    for r, monitor in enumerate(queue):
        ts, vs = monitor.series()
        xs = [t * 1e3 for t in ts] + [max(end_ms, ts[-1] * 1e3)]
        right.step(xs, list(vs) + [vs[-1]], where="post", color=f"C{r % 10}" if many else "C1", linewidth=0.8,
                   linestyle="--", alpha=0.5, label=f"queue, replica {r}" if many else "queue")
    ax.set_xlabel("simulated time (ms)")
    ax.set_ylabel("KV cache in use (share of capacity)")
    right.set_ylabel("requests queued")
    ax.set_title(_titled(result, "KV cache occupancy") + _held(result), fontsize="medium")
    ax.set_xlim(left=0)
    ax.set_ylim(0, 1.05)
    right.set_ylim(0, max(1.0, right.get_ylim()[1]))  # whole requests: 0 to 1 at least, integer ticks
    right.yaxis.set_major_locator(MaxNLocator(integer=True))
    # the occupancy and the legend over the queue (a busy queue flickers and would hide both)
    ax.set_zorder(right.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.grid(True, alpha=0.3)
    if kv:
        handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
        # under the axes: inside, any corner hides part of a line (a cache barely used runs along
        # the bottom, a full one along the top, the queue anywhere)
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=min(4, len(handles)),
                  fontsize="small", frameon=False)
    else:
        ax.text(0.5, 0.5, "no KV monitor in this result", transform=ax.transAxes, ha="center", va="center")
    return ax
