"""Plots of parallel layouts: per-request speed against the tensor-parallel degree, and pipeline
depth against TTFT and speed. Functions of results; no pyplot state (see simdecode.plots)."""

from __future__ import annotations

from typing import Any, Sequence

from matplotlib.axes import Axes

from simdecode.plots.base import new_figure


def tp_scaling(results: Sequence[Any], labels: Sequence[str] | None = None, ax: Axes | None = None) -> Axes:
    """Batch-1 tokens/s per request against tp from each result's ``summary()["tp_scaling"]``,
    one line per result (e.g. NVLink and PCIe), with the simulated crossover marked and the
    analytic t* of physics.md 2.5 as a dotted line."""
    if ax is None:
        ax = new_figure().add_subplot()
    for i, result in enumerate(results):
        scaling = result.summary()["tp_scaling"]
        degrees = sorted(int(t) for t in scaling["per_request_tps"])
        rates = [scaling["per_request_tps"][str(t)] for t in degrees]
        label = labels[i] if labels else result.scenario.name
        line, = ax.plot(degrees, rates, marker="o", label=label)
        if scaling["crossover_tp"] is not None:
            best = scaling["crossover_tp"]
            ax.annotate(f"stops at tp {best}", (best, scaling["per_request_tps"][str(best)]),
                        textcoords="offset points", xytext=(0, -18), ha="center", color=line.get_color(),
                        fontsize="small")
        star = scaling["analytic_crossover_tp"]
        if star is not None and star <= max(degrees) * 2:
            ax.axvline(star, linestyle=":", color=line.get_color(), alpha=0.7)
    ax.set_xscale("log", base=2)
    all_degrees = sorted({int(t) for r in results for t in r.summary()["tp_scaling"]["per_request_tps"]})
    ax.set_xticks(all_degrees, [str(t) for t in all_degrees])
    ax.set_xlabel("tensor-parallel degree (GPUs)")
    ax.set_ylabel("tokens/s of one request (batch 1)")
    ax.set_ylim(bottom=0)
    ax.set_title("where more GPUs stop speeding up one request (batch 1; dotted: analytic t*)", fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


def pipeline_depth(results: Sequence[Any], ax: Axes | None = None) -> Axes:
    """Per-request tokens/s and TTFT (right axis) against pipeline depth, one point per result.

    Both axes start at zero, so a change of a few percent looks like one. For the full lesson
    (aggregate throughput per concurrency too) use :func:`simdecode.plots.pipeline_figure` on a sweep.
    """
    points = sorted((r.scenario.parallelism.pp, r.scenario.parallelism.tp, r.summary()) for r in results)
    if ax is None:
        ax = new_figure().add_subplot()
    depths = [pp for pp, _, _ in points]
    speeds = [s["per_request_tps"]["mean"] for _, _, s in points]
    ttfts = [s["ttft_ms"]["mean"] for _, _, s in points]
    ax.plot(depths, speeds, marker="o", label="tokens/s per request (left)")
    ax.set_xlabel("pipeline stages (pp)")
    ax.set_ylabel("tokens/s of one request")
    ax.set_xticks(depths)
    ax.set_ylim(0, max(speeds) * 1.15)
    right = ax.twinx()
    right.plot(depths, ttfts, marker="s", linestyle="--", color="C1", label="TTFT (right)")
    right.set_ylabel("time to first token (ms)")
    right.set_ylim(0, max(ttfts) * 1.6)  # a different scale from the left, so the two lines do not overlap
    ax.right_ax = right
    ax.legend(handles=ax.get_lines() + right.get_lines(), loc="lower left", fontsize="small")
    tps = sorted({tp for _, tp, _ in points})
    held = f"tp {tps[0]} per stage held fixed" if len(tps) == 1 else f"tp varies ({', '.join(map(str, tps))})"
    ax.set_title(f"pipeline depth against one request's speed and TTFT ({held})", fontsize="medium")
    ax.grid(True, alpha=0.3)
    return ax
