"""Past-tense facts recorded by the engine: frozen, plain data, one row per request or step.

| field            | unit | meaning                                                        |
|------------------|------|----------------------------------------------------------------|
| arrival_s        | s    | a_r, when the client sent the request                          |
| server_arrival_s | s    | when the engine's scheduler got it (after tokenising, hand-off) |
| output_delay_s   | s    | d, from a token's step to the client (detokenise, stream)      |
| scheduled_s      | s    | when its prefill started                                       |
| first_token_s    | s    | f_r, when its first output token was produced                  |
| finished_s       | s    | c_r, when its last output token was produced                   |
| token_times_s    | s    | every output token's time (kept for the first requests only)   |
| preemptions      |      | times the request was preempted (KV recomputed or swapped)     |
| preempted_s      | s    | time it spent out of the batch after preemptions               |
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One completed request, with the client's view of time (docs/metrics.md):
    TTFT = f_r + d - a_r; TPOT = (c_r - f_r) / (n_out - 1); E2E = c_r + d - a_r, where f_r and c_r
    are the steps that produced the first and last tokens and d the output path's delay. The
    server's own TTFT (from its scheduler getting the request to the first token's step) is
    ``ttft_server_s``."""

    id: int
    replica: int
    arrival_s: float
    scheduled_s: float
    first_token_s: float
    finished_s: float
    prompt_tokens: int
    output_tokens: int
    preemptions: int = 0
    preempted_s: float = 0.0
    warmup: bool = False
    token_times_s: tuple[float, ...] = field(default=(), repr=False)
    server_arrival_s: float | None = None
    output_delay_s: float = 0.0

    @property
    def ttft_s(self) -> float:
        """Client-side time to first token (what benchmark clients report)."""
        return self.first_token_s + self.output_delay_s - self.arrival_s

    @property
    def ttft_server_s(self) -> float:
        """Server-side time to first token: from the scheduler getting the request to the step
        that produced its first token (queueing and prefill only)."""
        start = self.arrival_s if self.server_arrival_s is None else self.server_arrival_s
        return self.first_token_s - start

    @property
    def tpot_s(self) -> float:
        """Mean time per output token after the first; 0 for a one-token request."""
        if self.output_tokens <= 1:
            return 0.0
        return (self.finished_s - self.first_token_s) / (self.output_tokens - 1)

    @property
    def e2e_s(self) -> float:
        return self.finished_s + self.output_delay_s - self.arrival_s

    def token_gaps_s(self) -> list[float]:
        """Gaps between successive streamed chunks (distinct token times; tokens of one
        speculative step arrive together), seconds; empty if token times were not kept."""
        times = sorted(set(self.token_times_s))
        return [b - a for a, b in zip(times, times[1:])]


@dataclass(frozen=True, slots=True)
class StepBreakdown:
    """Where one forward step's time went on the critical path of one pipeline stage (seconds).

    ``compute`` is roofline time of the kernels, ``launch`` their fixed per-kernel cost,
    ``communication`` the collective time not hidden behind compute, ``p2p`` pipeline transfers.
    ``alpha``/``beta`` split the exposed collective time into its latency and bandwidth parts.
    """

    compute_s: float
    launch_s: float
    communication_s: float
    p2p_s: float = 0.0
    host_s: float = 0.0
    alpha_s: float = 0.0
    beta_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.compute_s + self.launch_s + self.communication_s + self.p2p_s + self.host_s
