"""Where one decode step's time goes, by term, at several batch sizes: stacked bars from
:func:`simdecode.present.explain.explain` results. Functions of data; no pyplot state (see simdecode.plots.base)."""

from __future__ import annotations

from typing import Any, Sequence

from matplotlib.axes import Axes

from simdecode.plots.base import new_figure

#: (label, how to read seconds from an explain() result) in stacking order, bottom first
SEGMENTS: tuple[tuple[str, Any], ...] = (
    ("attention", lambda d: d["terms_s"].get("attention", {}).get("busy_s", 0.0)),
    ("MoE experts (grouped GEMMs, shared expert)", lambda d: d["terms_s"].get("experts", {}).get("busy_s", 0.0)),
    ("MoE routing and permute", lambda d: d["terms_s"].get("routing", {}).get("busy_s", 0.0)),
    ("dense MLP, embedding, LM head", lambda d: sum(d["terms_s"].get(t, {}).get("busy_s", 0.0)
                                                   for t in ("mlp", "embedding", "lm_head"))),
    ("residual add + norm (every rank)", lambda d: d["terms_s"].get("residual stream", {}).get("busy_s", 0.0)),
    ("fixed per-kernel costs (launches)", lambda d: d["parts_s"]["launch"]),
    ("all-reduce (exposed)", lambda d: d["parts_s"]["communication"]),
    ("host", lambda d: d["parts_s"]["host"]),
)


def step_terms(explanations: Sequence[dict[str, Any]], title: str, ax: Axes | None = None) -> Axes:
    """One stacked bar per ``explain()`` result (labelled by its batch): the step time in ms split
    into the terms of :data:`SEGMENTS`, which add up to the step time (pipeline hops excluded)."""
    if ax is None:
        ax = new_figure(9.0, 5.0).add_subplot()
    labels = [f"batch {d['batch']:,}" for d in explanations]
    bottoms = [0.0] * len(explanations)
    for i, (name, read) in enumerate(SEGMENTS):
        values = [read(d) * 1e3 for d in explanations]
        if not any(v > 0 for v in values):
            continue
        ax.bar(labels, values, bottom=bottoms, label=name, color=f"C{i}", width=0.6)
        bottoms = [b + v for b, v in zip(bottoms, values)]
    for x, d in enumerate(explanations):
        ax.annotate(f"{d['total_s'] * 1e3:.2f} ms", (x, d["total_s"] * 1e3), textcoords="offset points",
                    xytext=(0, 4), ha="center")
    ax.set_ylim(0, max(d["total_s"] for d in explanations) * 1e3 * 1.12)
    ax.set_ylabel("time of one decode step (ms)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    return ax
