"""Plots of speculative decoding results: speed-up against acceptance, k or batch size, and the
histogram of accepted lengths. Functions of results; no pyplot state (see simdecode.plots)."""

from __future__ import annotations

from typing import Any, Sequence

from matplotlib.axes import Axes

from simdecode.plots.base import new_figure

#: what each x axis reads from a result's scenario
X_AXES = {
    "acceptance": ("per-token acceptance", lambda s: _acceptance(s.decoding.acceptance)),
    "k": ("speculative tokens k", lambda s: s.decoding.speculative_tokens),
    "batch": ("concurrent requests", lambda s: getattr(s.workload.arrival, "concurrency", None)),
}


def _acceptance(value: Any) -> float | None:
    return value if isinstance(value, float) else None


def speculation_speedup(results: Sequence[Any], x: str = "batch", ax: Axes | None = None) -> Axes:
    """speculative.speedup_vs_standard (per request) and aggregate_speedup of each result against
    ``x`` (``acceptance``, ``k`` or ``batch``), with the break-even line at 1. Measuring the
    speed-up runs each result's standard-decoding baseline once (``summary(baseline=True)``)."""
    if x not in X_AXES:
        raise ValueError(f"x must be one of {sorted(X_AXES)}, got {x!r}")
    label, read = X_AXES[x]
    points = []
    for result in results:
        spec = result.summary(baseline=True)["speculative"]
        if spec is None:
            raise ValueError(f"{result.scenario.name} uses standard decoding: nothing to plot")
        points.append((read(result.scenario), spec["speedup_vs_standard"], spec["aggregate_speedup"]))
    points.sort(key=lambda p: (p[0] is None, p[0]))
    if ax is None:
        ax = new_figure().add_subplot()
    xs = [p[0] for p in points]
    ax.plot(xs, [p[1] for p in points], marker="o", label="per request (tokens/s of one user)")
    ax.plot(xs, [p[2] for p in points], marker="s", linestyle="--", label="aggregate (all users)")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    if x == "batch":
        ax.set_xscale("log", base=2)
    ax.set_xlabel(label)
    ax.set_ylabel("speed-up over standard decoding")
    ax.set_title("speculative decoding: speed-up")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


def accepted_histogram(result: Any, ax: Axes | None = None) -> Axes:
    """How many verify steps accepted 0, 1, ..., k proposals."""
    spec = result.summary()["speculative"]
    if spec is None:
        raise ValueError(f"{result.scenario.name} uses standard decoding: nothing to plot")
    if ax is None:
        ax = new_figure(6.0, 4.0).add_subplot()
    counts = spec["accepted_histogram"]
    ax.bar(range(len(counts)), counts)
    ax.set_xlabel("proposals accepted in a verify step")
    ax.set_ylabel("verify steps")
    ax.set_title(f"{result.scenario.name}: {spec['mean_accepted_tokens']:.2f} tokens per verify step")
    return ax
