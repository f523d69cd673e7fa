"""A Gantt chart of one decode token of one request through the pipeline stages and all-reduces.

Built from the same step plans the engine runs (no simulation): each stage's plan is laid out by
:func:`simdecode.costmodel.fold.timeline` (list scheduling on the compute and communication
streams), stage ``s + 1`` starts when stage ``s`` has finished and its activations have crossed the
stage-to-stage link. Two rows per stage: its compute stream and its communication stream. The
picture shows why depth does not speed one request up: at any moment only one stage works.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.patches import Patch

from simdecode.plots.base import new_figure

#: colour per kind of segment
COLOURS = {"memory-bound compute": "C0", "math-bound compute": "C4", "host": "0.6", "all-reduce": "C3",
           "stage-to-stage hop": "C2"}


def token_segments(scenario: Any, context_tokens: int | None = None, batch: int = 1) -> dict[str, Any]:
    """The segments of one decode step: ``{"rows": [row label...], "segments": [(row, start_s,
    duration_s, kind)...], "total_s": float}``; rows are ``stage s compute`` and ``stage s comm``."""
    from simdecode.costmodel import collectives
    from simdecode.costmodel.batch import BatchShape
    from simdecode.costmodel.deployment import Deployment
    from simdecode.costmodel.fold import timeline
    from simdecode.costmodel.plan import Stream, build_stage_plan

    if context_tokens is None:
        context_tokens = scenario.workload.prompt_tokens
    dep = Deployment.from_scenario(scenario)
    window = dep.model.sliding_window if dep.model.layer_types else None
    shape = BatchShape.decode([context_tokens] * batch, window)
    rows, segments, offset = [], [], 0.0
    for s in range(dep.pp):
        plan = build_stage_plan(dep, s, shape)
        ops = plan.ops
        compute_row, comm_row = 2 * s, 2 * s + 1
        rows += [f"stage {s + 1}: compute", f"stage {s + 1}: all-reduce"]
        end = offset
        for index, start, finish in timeline(plan):
            op = ops[index]
            if op.stream is Stream.COMM:
                row, kind = comm_row, "all-reduce"
            elif op.kind == "host":
                row, kind = compute_row, "host"
            else:
                row, kind = compute_row, "memory-bound compute" if op.cost.memory_bound else "math-bound compute"
            segments.append((row, offset + start, finish - start, kind))
            end = max(end, offset + finish)
        offset = end
        if s + 1 < dep.pp:
            message = shape.new_tokens * dep.model.hidden_size * dep.act_bytes
            hop = collectives.p2p(message, dep.pp_link, dep.runtime).time_s
            segments.append((comm_row, offset, hop, "stage-to-stage hop"))
            offset += hop
    return {"rows": rows, "segments": segments, "total_s": offset, "tp": dep.tp, "pp": dep.pp,
            "model": dep.model.name, "gpu": scenario.hardware.gpu.name, "context_tokens": context_tokens}


def token_gantt(scenario: Any, ax: Axes | None = None, context_tokens: int | None = None) -> Axes:
    """Gantt chart of one token of one request (batch 1): x is time in ms from the start of the
    step, one pair of rows (compute, all-reduce) per pipeline stage, from the first stage at the top."""
    data = token_segments(scenario, context_tokens)
    if ax is None:
        ax = new_figure(9.0, 1.6 + 0.55 * len(data["rows"])).add_subplot()
    by_kind: dict[str, list[tuple[int, float, float]]] = {}
    for row, start, duration, kind in data["segments"]:
        by_kind.setdefault(kind, []).append((row, start * 1e3, duration * 1e3))
    for kind, items in by_kind.items():
        for row, start, width in items:
            ax.broken_barh([(start, width)], (row - 0.38, 0.76), facecolors=COLOURS[kind], edgecolor="none")
    n = len(data["rows"])
    ax.set_yticks(range(n), data["rows"])
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0, data["total_s"] * 1e3 * 1.02)
    ax.set_xlabel("time within one decode step (ms)")
    ax.grid(True, axis="x", alpha=0.3)
    handles = [Patch(facecolor=COLOURS[k], label=k) for k in COLOURS if k in by_kind]
    ax.legend(handles=handles, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16 - 0.3 / n),
              ncol=len(handles), frameon=False)
    ax.set_title(f"{data['model']} on {data['gpu']}, tp {data['tp']} x pp {data['pp']}: one token of one request "
                 f"({data['context_tokens']} tokens of context) takes {data['total_s'] * 1e3:.2f} ms",
                 fontsize="medium")
    return ax
