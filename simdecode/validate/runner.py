"""Run validation jobs (in parallel processes) and read each point's prediction.

A job is one simulation of a scenario mapping; its points name a *probe*, the rule that turns
the simulation into the number the measurement reports (:data:`PROBES`). A scenario that fails
validation (a model that does not fit the GPUs, say) makes its points not expressible, with the
error as the reason. Workers are separate processes (``--jobs N``); results come back as plain
data, so the table does not depend on the order jobs finish in.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace

from simdecode.validate.cases import Job, Point


@dataclass(frozen=True)
class Outcome:
    """A point with its prediction (NaN when not expressible) and the signed relative error."""

    point: Point
    predicted: float = math.nan
    wall_s: float = 0.0

    @property
    def error(self) -> float:
        """predicted / measured - 1 (NaN if either is missing)."""
        p, m = self.predicted, self.point.measured
        if not (math.isfinite(p) and math.isfinite(m)) or m == 0:
            return math.nan
        return p / m - 1.0

    @property
    def expressed(self) -> bool:
        return not self.point.reason and math.isfinite(self.predicted)


def _summary_value(path: str) -> Callable:
    def read(result, job):
        value = result.summary(baseline=path.startswith("speculative."))
        for key in path.split("."):
            value = value[key] if value is not None else None
        return math.nan if value is None else float(value)

    return read


def _bench(metric: str) -> Callable:
    """The benchmark client's mean over all its requests, from a simulation of the first waves:
    the first wave (the burst of c requests sent at once) weighs 1 / waves, the second (steady
    state) the rest (:mod:`simdecode.validate.inferencex`)."""

    def read(result, job):
        c, waves = job.bench
        records = sorted(result.measured, key=lambda r: r.id)
        value = (lambda r: r.ttft_s) if metric == "ttft" else (lambda r: r.tpot_s)
        mean = lambda rs: sum(value(r) for r in rs) / len(rs)  # noqa: E731
        if len(records) >= waves * c:  # the whole benchmark was simulated: the client's own mean
            return 1e3 * mean(records[: waves * c])
        first = [r for r in records if r.id < c]
        steady = [r for r in records if c <= r.id < 2 * c]
        if not first or not steady:
            return math.nan
        return 1e3 * (mean(first) + (waves - 1) * mean(steady)) / waves

    return read


def _steady_throughput(result, job) -> float:
    """Output tokens/s in the steady state of a closed loop, as a benchmark's stable window sees
    it: the tokens of the requests (warm-up ones included) that complete between the end of the
    first wave (the c-th completion) and the start of the drain (the (N - c)-th), over that time.
    A window on completions counts every token the GPUs produced in it, whoever asked for it."""
    c = job.scenario["workload"]["arrival"].get("concurrency", 1)
    done = sorted(result.requests, key=lambda r: r.finished_s)
    if len(done) <= 2 * c:
        return _summary_value("aggregate_tps")(result, job)
    start, end = done[c - 1].finished_s, done[len(done) - c - 1].finished_s
    tokens = sum(r.output_tokens for r in done[c: len(done) - c])
    return tokens / (end - start) if end > start else math.nan


def _generate_tps(result, job) -> float:
    """Mean over the measured requests of output tokens / end-to-end time: the speed of a harness
    whose clock covers the whole generate call, prefill included (validate/harnesses.py)."""
    done = [r for r in result.requests if not r.warmup and r.e2e_s > 0]
    return sum(r.output_tokens / r.e2e_s for r in done) / len(done) if done else math.nan


#: probe name -> reader(result, job) -> predicted value in the point's unit
PROBES: dict[str, Callable] = {
    "per_request_tps": _summary_value("per_request_tps.mean"),
    "generate_tps": _generate_tps,
    "e2e_ms": _summary_value("e2e_ms.mean"),
    "tpot_ms": _summary_value("tpot_ms.mean"),
    "ttft_ms": _summary_value("ttft_ms.mean"),
    "aggregate_tps": _summary_value("aggregate_tps"),
    "steady_aggregate_tps": _steady_throughput,
    "speedup": _summary_value("speculative.speedup_vs_standard"),
    "bench_tpot": _bench("tpot"),
    "bench_ttft": _bench("ttft"),
}


def run_job(job: Job) -> list[Outcome]:
    """Simulate one job and read every point's probe (runs in a worker process)."""
    from pydantic import ValidationError

    from simdecode import simulate
    from simdecode.errors import ScenarioError
    from simdecode.scenario.schema import Scenario

    started = time.perf_counter()
    if job.device is not None:  # a step or kernel measured on one GPU: costed, not simulated
        from simdecode.validate.device import predict

        value = predict(job.scenario, job.device)
        return [Outcome(p, value, time.perf_counter() - started) for p in job.points]
    if job.message_bytes is not None:  # a collective microbenchmark: costed, not simulated
        from simdecode.validate.microbench import predict_us

        value = predict_us(job.scenario, job.message_bytes)
        return [Outcome(p, value, time.perf_counter() - started) for p in job.points]
    try:
        data = job.scenario
        if job.ramp_from_single:
            data = _ramped(data)
        scenario = Scenario.model_validate(data)
        result = simulate(scenario, keep_token_times=0)  # no probe reads token times (itl_ms)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(x) for x in first["loc"])
        reason = f"scenario rejected: {where + ': ' if where else ''}{first['msg']}"
        return [Outcome(replace(p, reason=reason)) for p in job.points]
    except ScenarioError as exc:  # e.g. the model does not fit the GPUs' memory
        return [Outcome(replace(p, reason=f"scenario rejected: {str(exc).splitlines()[0]}")) for p in job.points]
    wall = time.perf_counter() - started
    return [Outcome(p, PROBES[p.probe](result, job), wall / len(job.points)) for p in job.points]


def _ramped(data: dict) -> dict:
    """``data`` with its closed loop's users at independent random phases of one steady-state
    cycle (``ramp: random``, :func:`simdecode.engine.workload.random_phases`): the state a
    benchmark measures once jitter has spread its users out of step (genai-perf's stable window).

    The cycle (one request's end-to-end time at this concurrency, queueing included) comes from a
    first simulation whose users start evenly over one request's time simulated alone (the same
    deployment, concurrency 1): the mean end-to-end time of its measured requests."""
    import copy

    from simdecode import simulate
    from simdecode.scenario.schema import Scenario

    alone = copy.deepcopy(data)
    alone["workload"].update(requests=1, warmup_requests=0)
    alone["workload"]["arrival"] = {"kind": "closed", "concurrency": 1}
    e2e_s = simulate(Scenario.model_validate(alone), keep_token_times=0).summary()["e2e_ms"]["mean"] / 1e3
    first = copy.deepcopy(data)
    first["workload"]["arrival"]["ramp_up"] = f"{e2e_s:.6g} s"
    cycle_s = simulate(Scenario.model_validate(first), keep_token_times=0).summary()["e2e_ms"]["mean"] / 1e3
    out = copy.deepcopy(data)
    out["workload"]["arrival"].update(ramp_up=f"{cycle_s:.6g} s", ramp="random")
    return out


def run_jobs(jobs: list[Job], workers: int = 1, progress: Callable[[Job, list[Outcome]], None] | None = None
             ) -> list[Outcome]:
    """Every job's outcomes, in the jobs' order. ``workers`` > 1 uses that many processes;
    ``progress`` is called in the parent after each job."""
    results: dict[int, list[Outcome]] = {}
    # longest first keeps the workers busy to the end (a serving sweep at high concurrency dominates)
    order = sorted(range(len(jobs)), key=lambda i: -_cost(jobs[i]))
    if workers <= 1:
        for i in order:
            results[i] = run_job(jobs[i])
            if progress:
                progress(jobs[i], results[i])
    else:
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # no forked SimPy/matplotlib state
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(run_job, jobs[i]): i for i in order}
            for future in as_completed(futures):
                i = futures[future]
                results[i] = future.result()
                if progress:
                    progress(jobs[i], results[i])
    return [o for i in range(len(jobs)) for o in results[i]]


def _cost(job: Job) -> float:
    """A rough work estimate, for ordering: requests x tokens."""
    w = job.scenario.get("workload", {})

    def length(x) -> float:
        return float(x.get("high", x.get("value", 1))) if isinstance(x, dict) else float(x or 1)

    return float(w.get("requests", 1)) * (length(w.get("prompt_tokens", 1)) / 16 + length(w.get("output_tokens", 1)))
