"""A Gantt chart of one decode token of one request through the pipeline stages and all-reduces.

Built from the same step plans the engine runs (no simulation): each stage's plan is laid out by
:func:`simdecode.costmodel.fold.timeline` (list scheduling on the compute and communication
streams), stage ``s + 1`` starts when stage ``s`` has finished and its activations have crossed the
stage-to-stage link; on a lock-step pipeline (Groq) each stage holds the step for the slowest
stage's time (:func:`simdecode.costmodel.devices.stage_periods`), the wait drawn. Two rows per
stage: its compute stream and its communication stream. The picture shows why depth does not
speed one request up: at any moment only one stage works.

A deep pipeline (more than :data:`MAX_STAGE_ROWS` stages: Groq's 36) is drawn with consecutive
stages sharing a pair of rows (:func:`group_stages`): their segments follow one another in time,
so nothing overlaps and nothing is dropped, and the figure stays a page tall; the title says how
many stages each row holds.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.patches import Patch

from simdecode.plots.base import new_figure

#: the most pairs of rows (compute, all-reduce) drawn; deeper pipelines share rows (:func:`group_stages`)
MAX_STAGE_ROWS = 8
#: the most inches the rows of the main panel take (rows get thinner beyond 12 of them)
MAIN_PANEL_IN = 6.0

#: colour per kind of segment
COLOURS = {"memory-bound compute": "C0", "math-bound compute": "C4", "host": "0.6", "all-reduce": "C3",
           "stage-to-stage hop": "C2", "lock-step wait": "0.85", "weight dequantisation": "C1"}


def token_segments(scenario: Any, context_tokens: int | None = None, batch: int = 1) -> dict[str, Any]:
    """The segments of one decode step: ``{"rows": [row label...], "segments": [(row, start_s,
    duration_s, kind)...], "total_s": float}``; rows are ``stage s compute`` and ``stage s comm``."""
    from simdecode.costmodel import collectives, devices
    from simdecode.costmodel.batch import BatchShape
    from simdecode.costmodel.deployment import Deployment
    from simdecode.costmodel.fold import timeline
    from simdecode.costmodel.plan import Stream, build_stage_plan

    if context_tokens is None:
        context_tokens = scenario.workload.prompt_tokens
    dep = Deployment.from_scenario(scenario)
    shape = BatchShape.decode([context_tokens] * batch, dep.window)  # windows, DSA's or V4's caps
    rows, segments, offset, layers, ends = [], [], 0.0, [], []
    stages = []  # (plan, its timeline, its own time): a lock-step pipeline needs every stage's first
    for s in range(dep.pp):
        plan = build_stage_plan(dep, s, shape)
        laid = list(timeline(plan))
        stages.append((plan, laid, max((finish for _, _, finish in laid), default=0.0)))
    periods = devices.stage_periods(dep.gpu, [own for _, _, own in stages])
    for s, ((plan, laid, own), period) in enumerate(zip(stages, periods)):
        ops = plan.ops
        compute_row, comm_row = 2 * s, 2 * s + 1
        rows += [f"stage {s + 1}: compute", f"stage {s + 1}: {comm_name(dep.tp)}"]
        for index, start, finish in laid:
            op = ops[index]
            if op.stream is Stream.COMM:
                row, kind = comm_row, "all-reduce"
            elif op.kind == "host":
                row, kind = compute_row, "host"
            elif op.cost.dequant_bound_s > 0.5 * (op.cost.time_s - op.cost.launch_s):  # the weight decode decides
                row, kind = compute_row, "weight dequantisation"
            else:
                row, kind = compute_row, "memory-bound compute" if op.cost.memory_bound else "math-bound compute"
            segments.append((row, offset + start, finish - start, kind))
        end = offset + own
        if period > own:  # lock-step: the stage holds the step for the slowest stage's time
            segments.append((compute_row, end, period - own, "lock-step wait"))
            end = offset + period
        offset = end
        layers.append(len(dep.stage_layers(s)))
        ends.append(end)
        if s + 1 < dep.pp:
            message = shape.new_tokens * dep.model.hidden_size * dep.act_bytes_per_value
            hop = collectives.p2p(message, dep.pp_link, dep.runtime).time_s
            segments.append((comm_row, offset, hop, "stage-to-stage hop"))
            offset += hop
    return {"rows": rows, "segments": segments, "total_s": offset, "tp": dep.tp, "pp": dep.pp,
            "layers_per_stage": layers, "stage_end_s": ends,
            "model": dep.model.name, "gpu": scenario.hardware.gpu.name, "context_tokens": context_tokens}


def comm_name(tp: int) -> str:
    """What a stage's communication row carries: all-reduces (and the hop on) with tp > 1, else
    only the hop to the next stage."""
    return "all-reduce" if tp > 1 else "hop"


def without_empty_comm(data: dict[str, Any], until_s: float | None = None) -> dict[str, Any]:
    """``data`` less the communication rows that hold no segment (starting before ``until_s``):
    all of them at tp 1 x pp 1, the last stage's at tp 1 (it has no hop to a next stage)."""
    used = {row for row, start, *_ in data["segments"] if until_s is None or start < until_s}
    keep = [i for i in range(len(data["rows"])) if i % 2 == 0 or i in used]
    index = {old: new for new, old in enumerate(keep)}
    return dict(data, rows=[data["rows"][i] for i in keep],
                segments=[(index[row], *rest) for row, *rest in data["segments"] if row in index])


def stage_groups(pp: int, most: int = MAX_STAGE_ROWS) -> list[range]:
    """Stages ``0..pp-1`` in at most ``most`` contiguous groups: one each when ``pp <= most``;
    else equal groups where a divisor of ``pp`` gives at least ``most / 2`` of them (36 -> 6 of
    6), otherwise ``most`` groups of near-equal size."""
    if pp <= most:
        return [range(s, s + 1) for s in range(pp)]
    n = next((k for k in range(most, (most + 1) // 2 - 1, -1) if pp % k == 0), most)
    return [range(pp * g // n, pp * (g + 1) // n) for g in range(n)]


def group_stages(data: dict[str, Any], most: int = MAX_STAGE_ROWS) -> dict[str, Any]:
    """``data`` (:func:`token_segments`) with the stages of each :func:`stage_groups` group on one
    pair of rows (``stages 1-6: compute``...); the segments keep their times, only their rows
    change. Adds ``stages_per_row`` (1 when nothing was grouped)."""
    groups = stage_groups(data["pp"], most)
    if len(groups) == data["pp"]:
        return dict(data, stages_per_row=1)
    row_of, rows = {}, []
    for g, group in enumerate(groups):
        name = f"stages {group[0] + 1}-{group[-1] + 1}" if len(group) > 1 else f"stage {group[0] + 1}"
        rows += [f"{name}: compute", f"{name}: {comm_name(data['tp'])}"]
        for s in group:
            row_of[2 * s], row_of[2 * s + 1] = 2 * g, 2 * g + 1
    segments = [(row_of[row], start, duration, kind) for row, start, duration, kind in data["segments"]]
    return dict(data, rows=rows, segments=segments, stages_per_row=max(len(g) for g in groups))


def _draw(ax: Axes, data: dict[str, Any], until_s: float | None = None, op_edges: bool = False) -> set[str]:
    """Draw the segments (those starting before ``until_s``); the kinds drawn. Collectives get an
    edge so that even a sub-pixel all-reduce shows; with ``op_edges`` (the zoom) every op gets a
    thin white one, so that back-to-back kernels show as such."""
    kinds = set()
    for row, start, duration, kind in data["segments"]:
        if until_s is not None and start >= until_s:
            continue
        thin = kind in ("all-reduce", "stage-to-stage hop")
        ax.broken_barh([(start * 1e3, duration * 1e3)], (row - 0.38, 0.76), facecolors=COLOURS[kind],
                       edgecolor=COLOURS[kind] if thin else "white" if op_edges else "none",
                       linewidth=0.8 if thin else 0.6 if op_edges else 0)
        if duration > 0 or thin:  # the legend names what shows (a 0 us op draws nothing; edges always show)
            kinds.add(kind)
    n = len(data["rows"])
    ax.set_yticks(range(n), data["rows"])
    ax.set_ylim(n - 0.5, -0.5)
    ax.grid(True, axis="x", alpha=0.3)
    return kinds


def token_gantt(scenario: Any, ax: Axes | None = None, context_tokens: int | None = None,
                zoom_ax: Axes | None = None, zoom_layers: int = 2) -> Axes:
    """Gantt chart of one token of one request (batch 1): x is time in ms from the start of the
    step, one pair of rows (compute, all-reduce) per pipeline stage, first stage at the top.

    With ``ax=None`` a second panel under it zooms into the first ``zoom_layers`` layers of stage 1,
    where each op and each all-reduce is wide enough to see (``zoom_ax`` draws that panel on a
    given Axes). Returns the main Axes; the zoom is ``ax.zoom_ax`` when drawn."""
    data = token_segments(scenario, context_tokens)
    shown = without_empty_comm(group_stages(data))  # a deep pipeline: consecutive stages share a pair of rows
    n = len(shown["rows"])
    if ax is None:
        row_in = min(0.5, MAIN_PANEL_IN / n)  # at most MAIN_PANEL_IN inches of rows, however many
        fig = new_figure(9.5, 2.6 + row_in * n + 1.6)
        ax, zoom_ax = fig.subplots(2, 1, height_ratios=[row_in * n + 0.6, 1.8])
    kinds = _draw(ax, shown)
    ax.set_xlim(0, data["total_s"] * 1e3 * 1.02)
    ax.set_xlabel("time within one decode step (ms)")
    grouped = ""
    if shown["stages_per_row"] > 1:
        per_row = sorted({len(g) for g in stage_groups(data["pp"])})
        grouped = (f" ({data['pp']} stages drawn {' or '.join(map(str, per_row))} to a row pair, one after "
                   "another in time)")
    stages = f";\nonly one stage works at a time{grouped}" if data["pp"] > 1 else ""  # said of one stage, it says nothing
    ax.set_title(f"{data['model']} on {data['gpu']}, tp {data['tp']} x pp {data['pp']}: one token of one request "
                 f"({data['context_tokens']} tokens of context) takes {data['total_s'] * 1e3:.2f} ms{stages}",
                 fontsize="medium")
    target = zoom_ax if zoom_ax is not None else ax
    if zoom_ax is not None:
        layers = max(1, data["layers_per_stage"][0])
        # the layers start after the step's host time (the scheduler): the zoom starts there too
        host_s = max((start + length for row, start, length, kind in data["segments"]
                      if row == 0 and kind == "host" and start == 0.0), default=0.0)
        until = host_s + (data["stage_end_s"][0] - host_s) * min(1.0, zoom_layers / layers)
        zoom = without_empty_comm(dict(data, rows=data["rows"][:2],
                                       segments=[sg for sg in data["segments"] if sg[0] < 2]), until)
        kinds |= _draw(zoom_ax, zoom, until, op_edges=True)
        zoom_ax.set_xlim(host_s * 1e3, until * 1e3)
        zoom_ax.set_xlabel("time within one decode step (ms)")
        after = f", after {host_s * 1e6:.0f} us of host time" if host_s else ""
        zoom_ax.set_title(f"zoom: the first {min(zoom_layers, layers)} of stage 1's {layers} layers{after}",
                          fontsize="medium")
        ax.zoom_ax = zoom_ax  # type: ignore[attr-defined]
    handles = [Patch(facecolor=COLOURS[k], label=k) for k in COLOURS if k in kinds]
    target.legend(handles=handles, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.32),
                  ncol=len(handles), frameon=False)
    return ax
