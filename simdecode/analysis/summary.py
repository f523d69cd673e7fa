"""The summary of one Result: the JSON of docs/metrics.md (times in ms, rates in tokens/s).

Definitions: docs/metrics.md. Each part comes from its own analysis module; this one only
assembles them, in the documented key order.
"""

from __future__ import annotations

from typing import Any

from simdecode import __version__
from simdecode.analysis.breakdown import allreduce_split, bottleneck, decode_shares, time_breakdown
from simdecode.analysis.load import kv_summary, level_summary
from simdecode.analysis.roofline import roofline_tps
from simdecode.analysis.scaling import tp_scaling
from simdecode.analysis.speculative import speculative_summary
from simdecode.costmodel.architecture import parameter_counts
from simdecode.metrics.summary import distribution, goodput


def summary(result) -> dict[str, Any]:
    """The summary dict of ``result``. Speculative decoding's speed-up is there once
    ``result.standard_baseline`` is measured (see :mod:`simdecode.analysis.speculative`)."""
    s = result.scenario
    done = result.measured
    multi = [r for r in done if r.output_tokens > 1]
    # the measured window: first measured arrival to last measured completion (warm-up excluded)
    span = (max(r.finished_s for r in done) - min(r.arrival_s for r in done)) if done else 0.0
    out_tokens = sum(r.output_tokens for r in done)
    per_request = distribution(1.0 / r.tpot_s for r in multi if r.tpot_s > 0)
    aggregate = out_tokens / span if span > 0 else None
    decode = result.decode
    counts = parameter_counts(s.model)
    return {
        "scenario": s.name,
        "simdecode_version": __version__,
        "seed": s.seed,
        "fidelity": s.simulation.fidelity,
        "requests": {"submitted": result.submitted, "completed": len(result.requests),
                     "preempted": result.preemptions, "rejected": len(result.rejected)},
        "ttft_ms": distribution((r.ttft_s for r in done), 1e3),
        "ttft_server_ms": distribution((r.ttft_server_s for r in done), 1e3),
        "tpot_ms": distribution((r.tpot_s for r in multi), 1e3),
        "itl_ms": distribution((gap for r in multi for gap in r.token_gaps_s()), 1e3),
        "e2e_ms": distribution((r.e2e_s for r in done), 1e3),
        "per_request_tps": per_request,
        "aggregate_tps": aggregate,
        "aggregate_tps_per_gpu": aggregate / _gpus(s) if aggregate is not None else None,
        "roofline_tps": roofline_tps(s),
        "time_breakdown": time_breakdown(result),
        "allreduce_share": decode.comm_s / decode.total_s if decode.total_s > 0 else 0.0,
        "allreduce": allreduce_split(result),
        "tp_scaling": tp_scaling(s).as_dict(),
        "bottleneck": bottleneck(result),
        "decode_step_shares": decode_shares(result),
        "model": {"name": s.model.name, "total_params": counts.total, "active_params": counts.active},
        "kv_cache": kv_summary(result),
        "queue": level_summary(result, "queue"),
        "batch_size": level_summary(result, "batch_size"),
        "goodput": None if s.slo is None else goodput(done, s.slo.ttft_s, s.slo.tpot_s, span),
        "speculative": speculative_summary(result, per_request["mean"], aggregate),
        "simulation": {"events": result.events, "wall_s": result.wall_s, "simulated_s": result.simulated_s},
    }


def _gpus(scenario) -> int:
    """GPUs serving: tp x pp x dp (a separate draft GPU is not counted)."""
    par = scenario.parallelism
    return par.tp * par.pp * par.dp
