"""The workload section of a scenario: arrival processes, length distributions and
:class:`WorkloadSpec` (docs/scenario-reference.md, "workload"). Re-exported by
:mod:`simdecode.scenario.schema`, which assembles the whole :class:`~simdecode.scenario.schema.Scenario`.
"""

from __future__ import annotations

import difflib
import math
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, PrivateAttr, Tag, ValidationInfo, field_validator, model_validator

from simdecode.scenario.hardware import Spec
from simdecode.scenario.types import Duration, Rate

from simdecode.scenario.limits import MAX_RATE_PER_S, MAX_REQUESTS, MAX_TOKENS, MIN_CV, MIN_RATE_PER_S


class ClosedArrival(Spec):
    kind: Literal["closed"] = "closed"
    concurrency: int = Field(1, ge=1, le=MAX_REQUESTS, description="requests kept in flight")
    ramp_up_s: Duration = Field(
        0.0, alias="ramp_up", description="send the first concurrency requests evenly over this time instead of "
        "all at once (a client starting its users one by one; with fixed lengths this avoids the lock-step "
        "waves a simultaneous start keeps forever in a deterministic simulation)"
    )
    ramp: Literal["even", "random"] = Field(
        "even", description="how ramp_up spreads the first concurrency requests: even (ramp_up / concurrency "
        "apart) or random (at independent uniform times in [0, ramp_up), drawn from the arrivals stream: the "
        "steady state of a benchmark whose users jitter out of step, when ramp_up is one request's cycle)"
    )


class PoissonArrival(Spec):
    kind: Literal["poisson"]
    rate_per_s: Rate = Field(alias="rate", ge=MIN_RATE_PER_S, le=MAX_RATE_PER_S,
                             description="mean arrivals per second, e.g. '2/s'")


class BurstyArrival(Spec):
    """Gamma-distributed gaps between arrivals: mean 1 / rate, coefficient of variation ``cv``
    (shape k = 1 / cv^2, scale 1 / (rate k)); cv = 1 is a Poisson process."""

    kind: Literal["bursty"]
    rate_per_s: Rate = Field(alias="rate", ge=MIN_RATE_PER_S, le=MAX_RATE_PER_S,
                             description="mean arrivals per second, e.g. '2/s'")
    cv: float = Field(ge=MIN_CV, le=10, description="coefficient of variation (std / mean) of the gaps between "
                      f"arrivals: > 1 bursty, 1 Poisson, < 1 more regular (at least {MIN_CV}: the gamma shape "
                      "1 / cv^2 must stay finite)")


class TraceArrival(Spec):
    """Replay a trace file (:mod:`simdecode.scenario.traces`): each row one request, with its
    arrival time and its prompt and output lengths. The file is read and checked once, here."""

    kind: Literal["trace"]
    path: str = Field(description="the trace file (CSV or JSON lines), relative to the scenario file's folder")
    limit: int | None = Field(None, ge=1, le=MAX_REQUESTS, description="replay the first rows only")
    time_scale: float = Field(1.0, gt=0, le=1e6, description="multiplies the arrival times (taken from the "
                              "first row's): 0.5 replays twice as fast")
    _trace: Any = PrivateAttr(default=None)

    @field_validator("path")
    @classmethod
    def _exists(cls, value: str, info: ValidationInfo) -> str:
        from simdecode.scenario.traces import resolve

        resolve(value, (info.context or {}).get("base_dir"))
        return value

    @model_validator(mode="after")
    def _read(self, info: ValidationInfo) -> TraceArrival:
        from simdecode.scenario.traces import read_trace

        self._trace = read_trace(self.path, (info.context or {}).get("base_dir"), self.limit)
        return self

    @property
    def trace(self):  # noqa: ANN201 - a simdecode.scenario.traces.Trace
        """The rows replayed (``limit`` applied), as read-only arrays."""
        return self._trace

    def arrival_times(self):  # noqa: ANN201 - numpy array
        """Arrival of each row, seconds: the file's times less the first row's, times ``time_scale``."""
        times = self._trace.arrival_s
        return (times - times[0]) * self.time_scale


Arrival = Annotated[Union[ClosedArrival, PoissonArrival, BurstyArrival, TraceArrival], Field(discriminator="kind")]


class FixedLength(Spec):
    dist: Literal["fixed"]
    value: int = Field(ge=1, le=MAX_TOKENS, description="tokens of every request")

    @property
    def mean(self) -> float:
        return float(self.value)


class UniformLength(Spec):
    dist: Literal["uniform"]
    low: int = Field(ge=1, le=MAX_TOKENS, description="shortest length, tokens")
    high: int = Field(ge=1, le=MAX_TOKENS, description="longest length, tokens (included)")

    @model_validator(mode="after")
    def _ordered(self) -> UniformLength:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


class NormalLength(Spec):
    """Normal draws, rounded to whole tokens and clipped to [1, MAX_TOKENS]."""

    dist: Literal["normal"]
    mean: float = Field(gt=0, le=MAX_TOKENS, description="mean length, tokens")
    std: float = Field(ge=0, le=MAX_TOKENS, description="standard deviation, tokens")


class LognormalLength(Spec):
    """Log-normal lengths: log(length) is normal with standard deviation ``sigma``. Give the
    lengths' ``median`` (e^mu) or their ``mean`` (e^(mu + sigma^2 / 2)), in tokens, not both."""

    dist: Literal["lognormal"]
    mean_tokens: float | None = Field(None, alias="mean", gt=0, le=MAX_TOKENS,
                                      description="mean length, tokens (or give median)")
    median: float | None = Field(None, gt=0, le=MAX_TOKENS, description="median length, tokens (or give mean)")
    sigma: float = Field(gt=0, le=10, description="standard deviation of the natural log of the length")

    @model_validator(mode="after")
    def _one_centre(self) -> LognormalLength:
        if (self.mean_tokens is None) == (self.median is None):
            raise ValueError("give exactly one of mean and median (tokens)")
        return self

    @property
    def mean(self) -> float:
        if self.mean_tokens is not None:
            return self.mean_tokens
        return self.median * math.exp(self.sigma**2 / 2)


class EmpiricalLength(Spec):
    """Lengths drawn (uniformly, with replacement) from a column of a trace file, e.g. the
    Splitwise prompt lengths under Poisson arrivals. The file is read and checked once, here."""

    dist: Literal["empirical"]
    path: str = Field(description="CSV or JSON-lines file, relative to the scenario file's folder")
    column: str = Field(description="its column of token counts, e.g. num_prefill_tokens; prompt_tokens and "
                        "output_tokens also find the Splitwise names num_prefill_tokens and num_decode_tokens")
    _column: Any = PrivateAttr(default=None)

    @field_validator("path")
    @classmethod
    def _exists(cls, value: str, info: ValidationInfo) -> str:
        from simdecode.scenario.traces import resolve

        resolve(value, (info.context or {}).get("base_dir"), what="length file")
        return value

    @model_validator(mode="after")
    def _read(self, info: ValidationInfo) -> EmpiricalLength:
        from simdecode.scenario.traces import read_column

        self._column = read_column(self.path, self.column, (info.context or {}).get("base_dir"))
        return self

    @property
    def values(self):  # noqa: ANN201 - numpy array
        """The column's values (read-only int64 array)."""
        return self._column.values

    @property
    def mean(self) -> float:
        return float(self._column.values.mean())


LENGTH_DISTS = {"fixed": FixedLength, "uniform": UniformLength, "normal": NormalLength,
                "lognormal": LognormalLength, "empirical": EmpiricalLength}


def _length_tag(value: Any) -> str | None:
    """Which member of :data:`Length` validates ``value``: a mapping by its ``dist``, else an int."""
    if isinstance(value, dict):
        return value.get("dist")
    if isinstance(value, Spec):
        return getattr(value, "dist", None)
    return "int"


#: a request length: an integer (every request), or a distribution told apart by ``dist``
Length = Annotated[
    Union[
        Annotated[Annotated[int, Field(ge=1, le=MAX_TOKENS)], Tag("int")],
        *(Annotated[model, Tag(tag)] for tag, model in LENGTH_DISTS.items()),
    ],
    Discriminator(_length_tag),
]


class WorkloadSpec(Spec):
    """The traffic. ``requests`` is the number submitted: for a closed loop, in total (at most
    ``concurrency`` at a time); for a trace, the trace's rows (after ``limit``), or ``requests``
    when it is given and smaller. A trace gives every request's lengths, so ``prompt_tokens`` and
    ``output_tokens`` may not be given with one.

    In Python, ``prompt_tokens`` and ``output_tokens`` are a typical request's lengths (the fixed
    value, or the mean of the distribution or trace, rounded): one-request figures such as
    ``roofline_tps`` and the memory check use them. ``prompt_length`` and ``output_length`` hold
    the specs as given.
    """

    arrival: Arrival = Field(default_factory=ClosedArrival)
    requests: int = Field(20, ge=1, le=MAX_REQUESTS, description="requests submitted (a closed loop: in total); "
                          "a trace replays all its rows (after limit), or this many if given and fewer")
    prompt_length: Length = Field(128, alias="prompt_tokens", description="prompt tokens of each request: an "
                                  "integer, or {dist: fixed, value}, {dist: uniform, low, high} (both included), "
                                  "{dist: normal, mean, std}, {dist: lognormal, median or mean (tokens), sigma (of "
                                  "the log)}, {dist: empirical, path, column} (a trace file's column); draws are "
                                  "rounded and clipped to 1 to 2,000,000")
    output_length: Length = Field(256, alias="output_tokens", description="output tokens of each request: the "
                                  "same forms as prompt_tokens")
    warmup_requests: int = Field(0, ge=0, le=MAX_REQUESTS, description="the first requests (by arrival) are "
                                 "simulated but left out of the metrics")

    @field_validator("arrival", mode="before")
    @classmethod
    def _default_kind(cls, value: Any) -> Any:
        if isinstance(value, dict) and "kind" not in value:
            return {"kind": "closed", **value}
        return value

    @field_validator("prompt_length", "output_length", mode="before")
    @classmethod
    def _known_dist(cls, value: Any) -> Any:
        if isinstance(value, dict):
            dist, known = value.get("dist"), list(LENGTH_DISTS)
            if dist not in known:
                close = difflib.get_close_matches(str(dist), known, n=1) if isinstance(dist, str) else []
                hint = f"; did you mean {close[0]!r}?" if close else ""
                given = "missing 'dist'" if dist is None else f"unknown dist {dist!r}"
                raise ValueError(f"{given}: a length is an integer or a mapping with dist one of "
                                 f"{', '.join(known)}{hint}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> WorkloadSpec:
        if self.arrival.kind == "trace":
            given = [a for f, a in (("prompt_length", "prompt_tokens"), ("output_length", "output_tokens"))
                     if f in self.model_fields_set]
            if given:
                raise ValueError(f"{' and '.join(given)} cannot be given with a trace arrival, which gives "
                                 "every request's lengths: remove it (or replay lengths only, with "
                                 "{dist: empirical, path, column} under poisson or bursty arrivals)")
        if self.warmup_requests >= self.total_requests:
            raise ValueError(f"warmup_requests = {self.warmup_requests} leaves none of the {self.total_requests} "
                             "requests submitted to measure")
        return self

    @property
    def total_requests(self) -> int:
        """Requests submitted: ``requests``, or for a trace its rows (``requests`` if given and smaller)."""
        if self.arrival.kind == "trace":
            rows = len(self.arrival.trace)
            return min(rows, self.requests) if "requests" in self.model_fields_set else rows
        return self.requests

    @property
    def prompt_tokens(self) -> int:
        """A typical request's prompt length, tokens (see the class docstring)."""
        return self._typical(self.prompt_length, "prompt_tokens")

    @property
    def output_tokens(self) -> int:
        """A typical request's output length, tokens (see the class docstring)."""
        return self._typical(self.output_length, "output_tokens")

    def _typical(self, spec: Any, column: str) -> int:
        if self.arrival.kind == "trace":
            mean = float(getattr(self.arrival.trace, column)[: self.total_requests].mean())
        elif isinstance(spec, int):
            return spec
        else:
            mean = spec.mean
        return min(MAX_TOKENS, max(1, round(mean)))
