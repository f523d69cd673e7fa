"""Accumulates what the engine reports: finished requests and where GPU time went.

Components call the recorder's methods explicitly (no monkey-patching of SimPy). Finished
requests are turned into frozen :class:`~simdecode.metrics.records.RequestRecord` rows at once,
so memory grows with records only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simdecode.costmodel.fold import Fold
from simdecode.metrics.accounting import TimeSums
from simdecode.metrics.monitors import LevelMonitor
from simdecode.metrics.records import RequestRecord
from simdecode.schedulers.request import Request


@dataclass
class Recorder:
    gpus_per_stage: int
    records: list[RequestRecord] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    gpu: TimeSums = field(default_factory=TimeSums)         # every stage-step, for the breakdown
    decode: TimeSums = field(default_factory=TimeSums)      # lane-steps with decodes, one request's view
    first_arrival_s: float | None = None
    submitted: int = 0
    #: preemption events (a request preempted twice counts twice)
    preemptions: int = 0
    #: per replica: seconds its steps were delayed by KV swaps to and from host memory
    swap_s: dict[int, float] = field(default_factory=dict)
    #: lane-step seconds with requests left waiting, and the part of it the KV cache held them back
    queued_s: float = 0.0
    kv_blocked_s: float = 0.0
    #: level monitors by name ("kv_blocks", "queue", "batch_size"), one per replica
    monitors: dict[str, list[LevelMonitor]] = field(default_factory=dict)
    #: the replicas' KV ledgers (:class:`~simdecode.schedulers.kv.KVCache`), for invariant checks
    kv_caches: list = field(default_factory=list)

    @classmethod
    def merged(cls, front: Recorder, replicas: list[Recorder]) -> Recorder:
        """One run's recorder from the arrivals' (``front``: submissions, first arrival) and one
        recorder per replica, in replica order (``replicas[r]`` recorded replica r alone).

        Sums are added replica by replica in index order, so the result does not depend on which
        process ran which replica. Records are ordered by completion time, ties by replica and
        then in the order the replica recorded them; rejections by request id (the order they
        were submitted in)."""
        out = cls(gpus_per_stage=front.gpus_per_stage, first_arrival_s=front.first_arrival_s,
                  submitted=front.submitted)
        records: list[RequestRecord] = []
        for r, part in enumerate(replicas):
            records += part.records
            out.rejected += part.rejected
            _add_sums(out.gpu, part.gpu)
            _add_sums(out.decode, part.decode)
            out.preemptions += part.preemptions
            out.swap_s.update(part.swap_s)
            out.queued_s += part.queued_s
            out.kv_blocked_s += part.kv_blocked_s
            for name, monitors in part.monitors.items():
                out.monitors.setdefault(name, []).append(monitors[r])
            out.kv_caches += part.kv_caches
        records.sort(key=_finished_s)  # stable: ties keep replica order
        out.records = records
        out.rejected.sort()
        return out

    def monitor(self, name: str, replica: int) -> LevelMonitor:
        """The ``name`` monitor of ``replica`` (created at 0 on first use)."""
        per_replica = self.monitors.setdefault(name, [])
        while len(per_replica) <= replica:
            per_replica.append(LevelMonitor(f"{name}[{len(per_replica)}]"))
        return per_replica[replica]

    def preempted(self, request: Request) -> None:
        self.preemptions += 1

    def swapped(self, replica: int, seconds: float) -> None:
        self.swap_s[replica] = self.swap_s.get(replica, 0.0) + seconds

    def admission(self, step_s: float, queued: bool, kv_blocked: bool) -> None:
        """One lane-step of ``step_s`` seconds: were requests left waiting, and was it the KV cache?"""
        if queued:
            self.queued_s += step_s
            if kv_blocked:
                self.kv_blocked_s += step_s

    def arrived(self, request: Request) -> None:
        self.submitted += 1
        if self.first_arrival_s is None or request.arrival_s < self.first_arrival_s:
            self.first_arrival_s = request.arrival_s

    def reject(self, request: Request, reason: str) -> None:
        self.rejected.append((request.id, reason))

    def stage_step(self, timing: Fold, elapsed_s: float) -> None:
        self.gpu.add(timing, elapsed_s, self.gpus_per_stage)

    def lane_step(self, timings: list[Fold], run_s: float, pipeline_s: float, decode_seqs: int) -> None:
        """One decode step of one micro-batch through every stage, as its requests saw it.

        ``run_s``: time its stages ran; ``pipeline_s``: time in stage-to-stage transfers and
        waiting for a stage busy with another micro-batch.
        """
        if decode_seqs == 0:
            return
        self.decode.add(_merge(timings), run_s)
        self.decode.total_s += pipeline_s
        self.decode.p2p_s += pipeline_s

    #: seconds from a token's step to the client (the runtime's output_overhead)
    output_delay_s: float = 0.0

    def finished(self, request: Request, warmup: bool = False) -> None:
        self.records.append(RequestRecord(
            id=request.id, replica=request.replica, arrival_s=request.arrival_s,
            scheduled_s=request.scheduled_s, first_token_s=request.first_token_s,
            finished_s=request.finished_s, prompt_tokens=request.prompt_tokens,
            output_tokens=request.output_tokens, preemptions=request.preemptions,
            preempted_s=request.preempted_s, warmup=warmup,
            token_times_s=tuple(request.token_times_s),
            server_arrival_s=None if request.server_arrival_s < 0 else request.server_arrival_s,
            output_delay_s=self.output_delay_s,
        ))


def _add_sums(into: TimeSums, other: TimeSums) -> None:
    """Add ``other``'s sums to ``into``'s (one replica's into a run's)."""
    for name in TimeSums.__dataclass_fields__:
        setattr(into, name, getattr(into, name) + getattr(other, name))


def _finished_s(record: RequestRecord) -> float:
    return record.finished_s


def _merge(timings: list[Fold]) -> Fold:
    if len(timings) == 1:
        return timings[0]
    fields = Fold.__dataclass_fields__
    return Fold(**{name: sum(getattr(t, name) for t in timings) for name in fields})
