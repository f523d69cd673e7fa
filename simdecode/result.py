"""The result of one simulation: pure data.

A :class:`Result` holds the resolved scenario, one record per request, the monitors' series and
the engine's counters: nothing of the engine (no recorder, no SimPy, no deployment), so it
pickles small (a 10,000-request run in well under 1 MB: the long columns are packed, see
:mod:`simdecode.metrics.packing`) and crosses process boundaries cheaply. It never plots or writes
files; every analysis of it (the summary of docs/metrics.md, where time went, the bottleneck) is a
function in :mod:`simdecode.analysis`. :meth:`Result.summary` is the shortcut most callers want.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from typing import Any

from simdecode.metrics.accounting import KVLedger, SpeculationStats, TimeSums
from simdecode.metrics.monitors import MonitorSeries
from simdecode.metrics.packing import pack_records, unpack_records
from simdecode.metrics.records import RequestRecord
from simdecode.scenario.schema import Scenario


@dataclass(eq=False)
class Result:
    """What one run of :func:`simdecode.simulate` produced (SI units: seconds, blocks, counts)."""

    scenario: Scenario
    #: one record per completed request, in completion order
    requests: list[RequestRecord]
    #: (request id, reason) of requests refused at once (e.g. longer than the whole KV cache)
    rejected: list[tuple[int, str]]
    submitted: int
    #: preemption events (a request preempted twice counts twice)
    preemptions: int
    first_arrival_s: float | None
    #: GPU time of every stage-step, weighted by the stage's GPUs (the time breakdown)
    gpu: TimeSums
    #: lane-steps with decodes, as one request saw them (decode shares, all-reduce split)
    decode: TimeSums
    #: per replica: seconds its steps were delayed by KV swaps to and from host memory
    swap_s: dict[int, float]
    #: lane-step seconds with requests left waiting, and the part of it the KV cache held them back
    queued_s: float
    kv_blocked_s: float
    #: level monitors by name ("kv_blocks", "queue", "batch_size"), one per replica
    monitors: dict[str, list[MonitorSeries]]
    kv_capacity_blocks: int
    #: each replica's KV cache at the end of the run
    kv_ledgers: list[KVLedger]
    #: per replica: each stage's busy seconds, and the seconds the replica had requests in flight
    stage_busy_s: list[list[float]]
    replica_active_s: list[float]
    #: per replica, speculative decoding's verify counts (empty for standard decoding)
    speculation: list[SpeculationStats]
    events: int
    simulated_s: float
    wall_s: float
    #: the same scenario and seed run with standard decoding, once asked for (see
    #: :func:`simdecode.analysis.speculative.standard_baseline`): {"per_request_tps", "aggregate_tps"}
    standard_baseline: dict[str, float | None] | None = None
    _summaries: dict[bool, dict[str, Any]] = field(default_factory=dict, init=False, repr=False)

    @property
    def measured(self) -> list[RequestRecord]:
        """Records that count in the metrics (warm-up requests excluded)."""
        return [r for r in self.requests if not r.warmup]

    def summary(self, baseline: bool = False) -> dict[str, Any]:
        """The result JSON of docs/metrics.md (times in ms, rates in tokens/s).

        ``baseline``: for speculative decoding, also measure the speed-up against standard
        decoding (``speculative.speedup_vs_standard`` and ``aggregate_speedup``): that runs the
        same scenario and seed once more with standard decoding (once per Result, which keeps
        it: later summaries carry it too). Without it those two keys are None.

        Computed once (a finished simulation does not change); each call returns a fresh copy,
        so a caller may edit it freely."""
        from simdecode.analysis.summary import summary

        if baseline and self.standard_baseline is None and self.scenario.decoding.method != "standard":
            from simdecode.analysis.speculative import standard_baseline

            self.standard_baseline = standard_baseline(self.scenario)  # the second simulation
        key = self.standard_baseline is not None
        if key not in self._summaries:
            self._summaries[key] = summary(self)
        return copy.deepcopy(self._summaries[key])

    # ---- pickling: the long columns packed, caches left out -----------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_summaries"}
        state["requests"] = pack_records(self.requests)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        state["requests"] = unpack_records(state["requests"])
        self.__dict__.update(state)
        self._summaries = {}
