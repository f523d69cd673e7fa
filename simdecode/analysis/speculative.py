"""Speculative decoding's yield and speed-up, from a Result (physics.md 4).

The verify steps' counts (accepted tokens, histogram) come from the run itself. The speed-up
against standard decoding (``speedup_vs_standard``, ``aggregate_speedup``) is measured: the same
scenario and seed run again with standard decoding, :func:`standard_baseline`. That second
simulation costs as much as the first, so it runs only when asked: ``Result.summary(baseline=True)``
(``simdecode run --baseline``), once per Result, which keeps it. A plain ``summary()`` gives None
for both keys.

Why not the analytic fold instead: :func:`simdecode.costmodel.speculative.estimate` (what
``simdecode explain`` reports) folds one standard step, the draft passes and one verify step. For
a request alone it lands within 2% of the measured ratio (draft-llama-70b-with-1b: 2.51 against
2.55; mtp-deepseek-v3-8xb200: 1.65 against 1.64), but under load it misses what the engine sees
(prefills sharing steps, the batch changing, queueing): spec-vs-batch at concurrency 64 estimates
2.09 at the run's mean batch against 1.56 measured. Not exact enough to stand in a summary.
"""

from __future__ import annotations

from typing import Any


def standard_baseline(scenario) -> dict[str, float | None]:
    """Simulate ``scenario`` with standard decoding (same seed, everything else equal):
    {"per_request_tps": its mean per-request tokens/s, "aggregate_tps": its aggregate tokens/s}."""
    from simdecode.engine.simulation import simulate

    standard = scenario.model_copy(update={"decoding": scenario.decoding.model_copy(update={"method": "standard"})})
    summary = simulate(standard, keep_token_times=0).summary()  # its speed only, no token times
    return {"per_request_tps": summary["per_request_tps"]["mean"], "aggregate_tps": summary["aggregate_tps"]}


def speculative_summary(result, per_request_tps: float | None, aggregate_tps: float | None) -> dict[str, Any] | None:
    """None for standard decoding; else the verify steps' yield and the speed-up against
    standard decoding (``speedup_vs_standard``: mean per-request tokens/s ratio;
    ``aggregate_speedup``: aggregate tokens/s ratio; None while ``result.standard_baseline`` is
    not measured), given this run's ``per_request_tps`` mean and ``aggregate_tps``."""
    if result.scenario.decoding.method == "standard":
        return None
    stats = result.speculation
    verifies = sum(s.verifies for s in stats)
    proposed = sum(s.proposed for s in stats)
    histogram = [sum(col) for col in zip(*(s.histogram for s in stats))]
    speedup = aggregate = None
    standard = result.standard_baseline
    if standard is not None:
        ratio = lambda a, b: a / b if a and b else None  # noqa: E731
        speedup = ratio(per_request_tps, standard["per_request_tps"])
        aggregate = ratio(aggregate_tps, standard["aggregate_tps"])
    return {
        "method": result.scenario.decoding.method,
        "mean_accepted_tokens": sum(s.tokens for s in stats) / verifies if verifies else None,
        "acceptance_rate": sum(s.accepted for s in stats) / proposed if proposed else None,
        "accepted_histogram": histogram,
        "verify_steps": verifies,
        "speedup_vs_standard": speedup,
        "aggregate_speedup": aggregate,
    }


def speculative_step(scenario, context_tokens: int, batch: int) -> dict[str, Any] | None:
    """One speculative step against one standard step of ``batch`` sequences at ``context_tokens``
    (the cost model's fold, :func:`simdecode.costmodel.speculative.estimate`), as plain data for
    ``explain``: seconds, yield, speed-up and the verify step's byte and FLOP ratios to a standard
    step; None for standard decoding."""
    d = scenario.decoding
    if d.method == "standard":
        return None
    from simdecode.costmodel.deployment import Deployment
    from simdecode.costmodel.speculative import estimate

    e = estimate(Deployment.from_scenario(scenario), scenario, context_tokens, batch)
    return {"method": d.method, "proposals": e.proposals, "verify_positions": e.verify_positions,
            "mean_tokens": e.mean_tokens, "standard_s": e.standard_s, "verify_s": e.verify_s, "draft_s": e.draft_s,
            "verify_bytes_ratio": e.verify_bytes / e.standard_bytes,
            "verify_flops_ratio": e.verify_flops / e.standard_flops, "speedup": e.speedup,
            "is_moe": bool(scenario.model.is_moe)}
