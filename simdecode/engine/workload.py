"""Arrivals: the traffic a scenario sends to its replicas.

- ``closed``: ``concurrency`` requests in flight at all times; each completion lets the next one
  in at once (a benchmark client with N users and no think time);
- ``poisson``: exponential gaps of mean 1 / rate, drawn from the ``arrivals`` stream.

Requests go to replicas round-robin. Random draws come only from the named streams handed in.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import simpy

from simdecode.scenario.schema import WorkloadSpec
from simdecode.schedulers.request import Request

#: requests whose every token time is kept (for the token timeline plot)
KEEP_TOKEN_TIMES = 200


class Workload:
    def __init__(self, env: simpy.Environment, spec: WorkloadSpec, arrivals_rng: np.random.Generator,
                 dispatch: Callable[[Request], None], on_arrival: Callable[[Request], None]):
        self.env, self.spec, self.rng = env, spec, arrivals_rng
        self.dispatch, self.on_arrival = dispatch, on_arrival
        self.submitted = 0
        match spec.arrival.kind:
            case "closed":
                for _ in range(min(spec.arrival.concurrency, spec.requests)):
                    self._submit()
            case "poisson":
                env.process(self._poisson(spec.arrival.rate_per_s))

    def _new_request(self) -> Request:
        rid = self.submitted
        self.submitted += 1
        return Request(id=rid, arrival_s=self.env.now, prompt_tokens=self.spec.prompt_tokens,
                       output_tokens=self.spec.output_tokens, keep_token_times=rid < KEEP_TOKEN_TIMES)

    def _submit(self) -> None:
        request = self._new_request()
        self.on_arrival(request)
        self.dispatch(request)

    def request_done(self, request: Request) -> None:
        """A request left the system; a closed loop sends the next one."""
        if self.spec.arrival.kind == "closed" and self.submitted < self.spec.requests:
            self._submit()

    def _poisson(self, rate_per_s: float):
        """Process: exponential inter-arrival gaps (mean 1 / rate seconds)."""
        for _ in range(self.spec.requests):
            yield self.env.timeout(self.rng.exponential(1.0 / rate_per_s))
            self._submit()
