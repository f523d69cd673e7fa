"""Arrivals: the traffic a scenario sends to its replicas.

- ``closed``: ``concurrency`` requests in flight at all times; each completion (or rejection)
  lets the next one in at once (a benchmark client with N users and no think time); with
  ``ramp_up`` the first ``concurrency`` are sent ``ramp_up / concurrency`` apart (the first at 0),
  or with ``ramp: random`` at independent uniform times in [0, ramp_up) (:func:`random_phases`);
- ``poisson``: exponential gaps of mean 1 / rate;
- ``bursty``: gamma gaps of mean 1 / rate and coefficient of variation ``cv``;
- ``trace``: a trace file's rows, at their arrival times (from the first row's), with their lengths.

Poisson and bursty gaps are drawn from the ``arrivals`` stream, request lengths (integers or
``{dist: ...}`` specs) from the ``lengths`` stream, all at once before the run
(:mod:`simdecode.workloads.sampling`). Request ids follow arrival order; the first
``warmup_requests`` are marked ``warmup`` (simulated, left out of the metrics). Which replica
serves a request is the ``dispatch`` callable's business (the router, engine/simulation.py).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import simpy

from simdecode.scenario.schema import WorkloadSpec
from simdecode.schedulers.request import Request
from simdecode.workloads.sampling import draw_lengths, exponential_gaps, gamma_gaps

#: requests (the first, by id) whose every token time is kept by default: the token timeline
#: plot draws them and the summary's ITL (``itl_ms``) is their gaps between tokens
KEEP_TOKEN_TIMES = 200


class Workload:
    """Submits ``spec.total_requests`` requests; :meth:`start` sends the first ones. The first
    ``keep_token_times`` of them (by id) keep every token's time."""

    def __init__(self, env: simpy.Environment, spec: WorkloadSpec, arrivals_rng: np.random.Generator,
                 dispatch: Callable[[Request], None], on_arrival: Callable[[Request], None],
                 lengths_rng: np.random.Generator | None = None, keep_token_times: int = KEEP_TOKEN_TIMES):
        self.env, self.spec, self.rng = env, spec, arrivals_rng
        self.keep_token_times = keep_token_times
        self.dispatch, self.on_arrival = dispatch, on_arrival
        self.total = total = spec.total_requests
        self.submitted = 0
        self._due = 0  # closed loop: completions whose follow-up request is not submitted yet
        self._submitting = False
        arrival = spec.arrival
        if arrival.kind == "trace":
            trace = arrival.trace
            prompts, outputs = trace.prompt_tokens[:total], trace.output_tokens[:total]
        else:
            fixed = isinstance(spec.prompt_length, int) and isinstance(spec.output_length, int)
            if lengths_rng is None and not fixed:  # integers draw nothing; a distribution does
                raise ValueError("length distributions need the simulation's 'lengths' random stream")
            prompts = draw_lengths(spec.prompt_length, lengths_rng, total)
            outputs = draw_lengths(spec.output_length, lengths_rng, total)
        # plain ints: requests and records hold Python numbers, not numpy scalars
        self._prompts, self._outputs = prompts.tolist(), outputs.tolist()

    def start(self) -> None:
        """Send the first requests (closed loop) or start the arrival process (open loop)."""
        arrival = self.spec.arrival
        match arrival.kind:
            case "closed":
                first = min(arrival.concurrency, self.total)
                if arrival.ramp_up_s > 0 and first > 1 and arrival.ramp == "random":
                    self.env.process(self._ramp_at(random_phases(self.rng, first, arrival.ramp_up_s)))
                elif arrival.ramp_up_s > 0 and first > 1:
                    self.env.process(self._ramp(first, arrival.ramp_up_s / first))
                else:
                    self._due = first
                    self._drain()
            case "poisson":
                self.env.process(self._gaps(exponential_gaps(self.rng, arrival.rate_per_s, self.total)))
            case "bursty":
                self.env.process(self._gaps(gamma_gaps(self.rng, arrival.rate_per_s, arrival.cv, self.total)))
            case "trace":
                self.env.process(self._times(arrival.arrival_times()[: self.total]))

    def _new_request(self, arrival_s: float) -> Request:
        rid = self.submitted
        self.submitted += 1
        return Request(id=rid, arrival_s=arrival_s, prompt_tokens=self._prompts[rid],
                       output_tokens=self._outputs[rid], keep_token_times=rid < self.keep_token_times,
                       warmup=rid < self.spec.warmup_requests)

    def _submit(self, arrival_s: float) -> None:
        request = self._new_request(arrival_s)
        self.on_arrival(request)
        self.dispatch(request)

    def request_done(self, request: Request) -> None:
        """A request left the system (served or rejected); a closed loop sends the next one."""
        if self.spec.arrival.kind == "closed":
            self._due += 1
            self._drain()

    def _drain(self) -> None:
        """Submit the closed loop's due requests. A submission can finish at once (a rejected
        request) and call :meth:`request_done` again: that call only counts, this loop submits,
        so a long run of rejections does not recurse."""
        if self._submitting:
            return
        self._submitting = True
        try:
            while self._due > 0 and self.submitted < self.total:
                self._due -= 1
                self._submit(self.env.now)
        finally:
            self._submitting = False

    def _ramp(self, users: int, gap_s: float):
        """Process: start ``users`` closed-loop users ``gap_s`` apart (the first at once). Each
        user's later requests follow its own completions (:meth:`request_done`), so at most
        ``users`` are in flight; the total stays ``spec.total_requests``."""
        for user in range(users):
            if user:
                yield self.env.timeout(gap_s)
            if self.submitted < self.total:
                self._submit(self.env.now)

    def _ramp_at(self, starts: np.ndarray):
        """Process: start one closed-loop user at each of ``starts`` (seconds, sorted), as
        :meth:`_ramp` does at even gaps."""
        for t in starts.tolist():
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            if self.submitted < self.total:
                self._submit(self.env.now)

    def _gaps(self, gaps: np.ndarray):
        """Process: one request after each gap (seconds)."""
        for gap in gaps.tolist():
            yield self.env.timeout(gap)
            self._submit(self.env.now)

    def _times(self, times: np.ndarray):
        """Process: one request at each arrival time (seconds, non-decreasing); equal times
        arrive together. A request's ``arrival_s`` is its time as given, not the float sum of
        the delays that reached it."""
        env = self.env
        for t in times.tolist():
            if t > env.now:
                yield env.timeout(t - env.now)
            self._submit(t)


def random_phases(rng: np.random.Generator, users: int, span_s: float) -> np.ndarray:
    """Start times of ``users`` closed-loop users at independent uniform times in [0, span_s),
    sorted, the first moved to 0 (the benchmark starts when its first request goes out).

    In a benchmark's steady state each user is at an unrelated point of its request's cycle:
    jitter (network, tokenisation, the server's batching) has spread them out of step, so their
    next arrivals are independent and uniform over one cycle, the finite-source (Engset) model of
    a closed loop. A deterministic simulation has no jitter, so it starts there: with span_s one
    request's cycle, the arrivals then queue for prefill as often as independent users would.
    """
    times = np.sort(rng.uniform(0.0, span_s, size=users))
    return times - times[0]
