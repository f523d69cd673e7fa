"""The result of one simulation: pure data, with the summary of scenario-format.md.

A :class:`Result` holds the resolved scenario, one record per request and the engine's
accounting. It never plots or writes files; :mod:`simdecode.plots` and :mod:`simdecode.output`
take a Result.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from simdecode import __version__
from simdecode.costmodel.architecture import parameter_counts
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan
from simdecode.costmodel.scaling import tp_scaling
from simdecode.engine.recorder import Recorder
from simdecode.metrics.records import RequestRecord
from simdecode.metrics.summary import distribution, goodput, shares
from simdecode.scenario.schema import Scenario


#: mean KV-cache occupancy above which a queue is blamed on the cache
KV_FULL = 0.8


def roofline_tps(dep: Deployment, context_tokens: int, scenario: Scenario | None = None) -> float:
    """Upper bound on one request's decode speed, tokens/s: batch 1, every stage's weights and KV
    at 100% of peak bandwidth and FLOP/s, no launches, no communication (physics.md 0.1).

    With speculative decoding a step can emit every proposal plus the bonus token, so the bound is
    (proposals + 1) / (ideal draft passes + ideal verify step) (physics.md 4.1)."""

    def ideal(deployment: Deployment, shape: BatchShape) -> float:
        return sum(fold(build_stage_plan(deployment, s, shape)).ideal_s for s in range(deployment.pp))

    window = dep.window
    if scenario is None or scenario.decoding.method == "standard":
        return 1.0 / ideal(dep, BatchShape.decode([context_tokens], window))
    from simdecode.costmodel.speculative import draft_deployment, tree_size

    d = scenario.decoding
    proposals = d.tree.depth if d.tree else d.speculative_tokens
    positions = tree_size(d.tree.width, d.tree.depth) if d.tree else proposals + 1
    draft = draft_deployment(scenario)
    draft_s = sum(ideal(draft, BatchShape.mixed([(context_tokens + level, w, w)], draft.window))
                  for level, w in enumerate((d.tree.width ** lv if d.tree else 1) for lv in range(proposals)))
    verify_s = ideal(dep, BatchShape.mixed([(context_tokens, positions, positions)], window))
    return (proposals + 1) / (draft_s + verify_s)


@dataclass
class Result:
    scenario: Scenario
    deployment: Deployment
    recorder: Recorder
    kv_capacity_blocks: int
    stage_busy_s: list[list[float]]
    replica_active_s: list[float]
    events: int
    simulated_s: float
    wall_s: float
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def gpus(self) -> int:
        """GPUs serving: tp x pp x dp (a separate draft GPU not counted)."""
        par = self.scenario.parallelism
        return par.tp * par.pp * par.dp

    @property
    def requests(self) -> list[RequestRecord]:
        return self.recorder.records

    @cached_property
    def measured(self) -> list[RequestRecord]:
        """Records that count in the metrics (warm-up requests excluded)."""
        return [r for r in self.recorder.records if not r.warmup]

    def summary(self) -> dict[str, Any]:
        """The result JSON of scenario-format.md (times in ms, rates in tokens/s).

        Computed once (a finished simulation does not change); each call returns a fresh copy,
        so a caller may edit it freely."""
        return copy.deepcopy(self._summary)

    @cached_property
    def _summary(self) -> dict[str, Any]:
        s, rec = self.scenario, self.recorder
        done = self.measured
        multi = [r for r in done if r.output_tokens > 1]
        # the measured window: first measured arrival to last measured completion (warm-up excluded)
        span = (max(r.finished_s for r in done) - min(r.arrival_s for r in done)) if done else 0.0
        out_tokens = sum(r.output_tokens for r in done)
        per_request = distribution(1.0 / r.tpot_s for r in multi if r.tpot_s > 0)
        aggregate = out_tokens / span if span > 0 else None
        breakdown = self.time_breakdown()
        decode = rec.decode
        counts = parameter_counts(s.model)
        return {
            "scenario": s.name,
            "simdecode_version": __version__,
            "seed": s.seed,
            "fidelity": s.simulation.fidelity,
            "requests": {"submitted": rec.submitted, "completed": len(rec.records), "preempted": rec.preemptions,
                         "rejected": len(rec.rejected)},
            "ttft_ms": distribution((r.ttft_s for r in done), 1e3),
            "ttft_server_ms": distribution((r.ttft_server_s for r in done), 1e3),
            "tpot_ms": distribution((r.tpot_s for r in multi), 1e3),
            "itl_ms": distribution((gap for r in multi for gap in r.token_gaps_s()), 1e3),
            "e2e_ms": distribution((r.e2e_s for r in done), 1e3),
            "per_request_tps": per_request,
            "aggregate_tps": aggregate,
            "aggregate_tps_per_gpu": aggregate / self.gpus if aggregate is not None else None,
            "roofline_tps": roofline_tps(self.deployment, s.workload.prompt_tokens, s),
            "time_breakdown": breakdown,
            "allreduce_share": decode.comm_s / decode.total_s if decode.total_s > 0 else 0.0,
            "allreduce": self.allreduce_split(),
            "tp_scaling": tp_scaling(s).as_dict(),
            "bottleneck": self.bottleneck(),
            "decode_step_shares": self.decode_shares(),
            "model": {"name": s.model.name, "total_params": counts.total, "active_params": counts.active},
            "kv_cache": self.kv_summary(),
            "queue": self.level_summary("queue"),
            "batch_size": self.level_summary("batch_size"),
            "goodput": None if s.slo is None else goodput(done, s.slo.ttft_s, s.slo.tpot_s, span),
            "speculative": self.speculative_summary(per_request["mean"], aggregate),
            "simulation": {"events": self.events, "wall_s": self.wall_s, "simulated_s": self.simulated_s},
        }

    def speculative_summary(self, per_request_tps: float | None, aggregate_tps: float | None) -> dict[str, Any] | None:
        """None for standard decoding; else the verify steps' yield and the measured speed-up
        against the same scenario and seed with standard decoding (``speedup_vs_standard``:
        mean per-request tokens/s ratio; ``aggregate_speedup``: aggregate tokens/s ratio), given
        this run's ``per_request_tps`` mean and ``aggregate_tps``."""
        stats = self.extras.get("speculation")
        if not stats:
            return None
        verifies = sum(s.verifies for s in stats)
        proposed = sum(s.proposed for s in stats)
        histogram = [sum(col) for col in zip(*(s.histogram for s in stats))]
        standard = self.extras["standard"]
        ratio = lambda a, b: a / b if a and b else None  # noqa: E731
        return {
            "method": self.scenario.decoding.method,
            "mean_accepted_tokens": sum(s.tokens for s in stats) / verifies if verifies else None,
            "acceptance_rate": sum(s.accepted for s in stats) / proposed if proposed else None,
            "accepted_histogram": histogram,
            "verify_steps": verifies,
            "speedup_vs_standard": ratio(per_request_tps, standard["per_request_tps"]),
            "aggregate_speedup": ratio(aggregate_tps, standard["aggregate_tps"]),
        }

    # ---- load: KV cache, queue and batch monitors ----------------------------------------------
    def _window(self) -> tuple[float, float]:
        """The monitors' window: first arrival to the end of the run."""
        return (self.recorder.first_arrival_s or 0.0), self.simulated_s

    def level_summary(self, name: str, per: float = 1.0) -> dict[str, float | None]:
        """{"mean", "max"} of monitor ``name`` / ``per``: the time-weighted mean over the window
        and the maximum, per replica, averaged (mean) or the largest (max) over replicas."""
        monitors = self.recorder.monitors.get(name, [])
        start, end = self._window()
        if not monitors or per <= 0:
            return {"mean": None, "max": None}
        means = [m.mean(start, end) if end > start else m.value for m in monitors]
        return {"mean": sum(means) / len(means) / per, "max": max(m.max for m in monitors) / per}

    def kv_summary(self) -> dict[str, Any]:
        """The KV cache under load (docs/metrics.md): capacity, occupancy, swaps, admission."""
        rec, block = self.recorder, self.scenario.scheduler.kv_block_tokens
        level = self.level_summary("kv_blocks", self.kv_capacity_blocks)
        return {
            "capacity_tokens": self.kv_capacity_blocks * block,
            "occupancy_mean": level["mean"],
            "occupancy_max": level["max"],
            "swap_ms": 1e3 * sum(rec.swap_s.values()),
            "admission_blocked_share": rec.kv_blocked_s / rec.queued_s if rec.queued_s > 0 else 0.0,
        }

    @property
    def kv_limited(self) -> bool:
        """Requests queued because of the KV cache: of the lane-step time with requests left
        waiting, at least half had admission stopped by a full cache (while the batch had room)
        or a preemption; or the cache stayed at least :data:`KV_FULL` full on average, so the
        batch could not grow (re-prefills after preemptions then also eat the token budget)."""
        rec = self.recorder
        if rec.queued_s <= 0:
            return False
        occupancy = self.kv_summary().get("occupancy_mean") or 0.0
        return rec.kv_blocked_s >= 0.5 * rec.queued_s or occupancy >= KV_FULL

    def time_breakdown(self) -> dict[str, float]:
        """Shares of all GPU-seconds of the replicas' GPUs from the first arrival to the end."""
        rec, par = self.recorder, self.scenario.parallelism
        gpus = par.tp * par.pp * par.dp
        window = self.simulated_s - (rec.first_arrival_s or 0.0)
        total = gpus * window
        g = rec.gpu
        # KV swaps stall every GPU of the replica on PCIe transfers: counted as communication
        swap = sum(rec.swap_s.values()) * par.tp * par.pp
        busy = g.memory_s + g.math_s + g.launch_s + g.host_s + g.comm_s + swap
        # with pipelining, a stage that waits while its replica has requests in flight (on other
        # stages, or in transfers) is in a pipeline bubble; without requests it is idle
        bubble = 0.0
        if par.pp > 1:
            for r, (stages, active) in enumerate(zip(self.stage_busy_s, self.replica_active_s)):
                stalled = rec.swap_s.get(r, 0.0)
                bubble += sum(max(0.0, active - b - stalled) for b in stages) * par.tp
        idle = max(0.0, total - busy - bubble)
        return shares({
            "compute": g.memory_s + g.math_s,
            "communication": g.comm_s + swap,
            "launch_overhead": g.launch_s + g.host_s,
            "pipeline_bubble": bubble,
            "idle": idle,
        })

    def decode_shares(self) -> dict[str, float]:
        """Where one request's decode step time goes (shares of the mean decode step)."""
        d = self.recorder.decode
        return shares({
            "memory": d.memory_s, "compute": d.math_s, "communication": d.comm_s,
            "launch_overhead": d.launch_s + d.host_s, "pipeline": d.p2p_s,
        })

    def allreduce_split(self) -> dict[str, float]:
        """Exposed collective time of the mean decode step, ms, split into latency and bandwidth."""
        d = self.recorder.decode
        steps = max(d.steps, 1)
        return {"exposed_ms_per_step": 1e3 * d.comm_s / steps, "alpha_ms_per_step": 1e3 * d.alpha_s / steps,
                "beta_ms_per_step": 1e3 * d.beta_s / steps}

    def bottleneck(self) -> str:
        """What most limits per-request speed (or, when the server is saturated, the throughput).

        The server is saturated when waiting dominates the time to first token: the requests'
        mean time out of the batch (before their first scheduling, plus after preemptions) is over
        half their mean TTFT and longer than two decode steps (so the wait for the next step
        boundary at light load does not count). Then the KV cache is the bottleneck if it held
        admission back for at least half of the time requests waited (:attr:`kv_limited`),
        else it is plain queueing (the batch is full, or the GPUs are).
        """
        done = self.measured
        if done:
            n = len(done)
            wait = sum(r.scheduled_s - (r.arrival_s if r.server_arrival_s is None else r.server_arrival_s)
                       + r.preempted_s for r in done) / n
            ttft = sum(r.ttft_s for r in done) / n
            tpot = sum(r.tpot_s for r in done) / n
            if wait > 0.5 * ttft and wait > 2 * tpot:
                return "kv-capacity" if self.kv_limited else "queueing"
        parts = self.decode_shares()
        label = {"memory": "memory-bandwidth", "compute": "compute", "communication": "all-reduce",
                 "launch_overhead": "launch-overhead", "pipeline": "pipeline"}
        return label[max(parts, key=parts.get)]
