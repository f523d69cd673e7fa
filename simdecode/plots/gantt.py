"""A Gantt chart of one decode token of one request through the pipeline stages and all-reduces.

Built from the same step plans the engine runs (no simulation): each stage's plan is laid out by
:func:`simdecode.costmodel.fold.timeline` (list scheduling on the compute and communication
streams), stage ``s + 1`` starts when stage ``s`` has finished and its activations have crossed the
stage-to-stage link; on a lock-step pipeline (Groq) each stage holds the step for the slowest
stage's time (:func:`simdecode.costmodel.devices.stage_periods`), the wait drawn. Two rows per
stage: its compute stream and its communication stream. The picture shows why depth does not
speed one request up: at any moment only one stage works.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.patches import Patch

from simdecode.plots.base import new_figure

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
        rows += [f"stage {s + 1}: compute", f"stage {s + 1}: all-reduce"]
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


def _draw(ax: Axes, data: dict[str, Any], until_s: float | None = None) -> set[str]:
    """Draw the segments (those starting before ``until_s``); the kinds drawn. Collectives get an
    edge so that even a sub-pixel all-reduce shows."""
    kinds = set()
    for row, start, duration, kind in data["segments"]:
        if until_s is not None and start >= until_s:
            continue
        thin = kind in ("all-reduce", "stage-to-stage hop")
        ax.broken_barh([(start * 1e3, duration * 1e3)], (row - 0.38, 0.76), facecolors=COLOURS[kind],
                       edgecolor=COLOURS[kind] if thin else "none", linewidth=0.8 if thin else 0)
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
    n = len(data["rows"])
    if ax is None:
        fig = new_figure(9.5, 2.6 + 0.5 * n + 1.6)
        ax, zoom_ax = fig.subplots(2, 1, height_ratios=[0.5 * n + 0.6, 1.8])
    kinds = _draw(ax, data)
    ax.set_xlim(0, data["total_s"] * 1e3 * 1.02)
    ax.set_xlabel("time within one decode step (ms)")
    ax.set_title(f"{data['model']} on {data['gpu']}, tp {data['tp']} x pp {data['pp']}: one token of one request "
                 f"({data['context_tokens']} tokens of context) takes {data['total_s'] * 1e3:.2f} ms;\n"
                 "only one stage works at a time", fontsize="medium")
    target = zoom_ax if zoom_ax is not None else ax
    if zoom_ax is not None:
        layers = max(1, data["layers_per_stage"][0])
        until = data["stage_end_s"][0] * min(1.0, zoom_layers / layers)
        zoom = dict(data, rows=data["rows"][:2], segments=[sg for sg in data["segments"] if sg[0] < 2])
        kinds |= _draw(zoom_ax, zoom, until)
        zoom_ax.set_xlim(0, until * 1e3)
        zoom_ax.set_xlabel("time (ms)")
        zoom_ax.set_title(f"zoom: the first {zoom_layers} of stage 1's {layers} layers", fontsize="medium")
        ax.zoom_ax = zoom_ax  # type: ignore[attr-defined]
    handles = [Patch(facecolor=COLOURS[k], label=k) for k in COLOURS if k in kinds]
    target.legend(handles=handles, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.32),
                  ncol=len(handles), frameon=False)
    return ax
