"""How much work a simulation will be, estimated before it runs, and the budget it must fit.

A scenario is small text, but a valid one can ask for hours of simulation (a million requests
of 1,536 tokens, one at a time, is 1.5 billion decode steps). ``simdecode run`` estimates the
work from the scenario alone and refuses, with exit code 2 and the estimate, a run beyond
:data:`MAX_WORK` unless ``--no-limit`` is given.

The unit of work is one engine event or one sequence's bookkeeping in one step (the two costs
that grow with a run). The estimate, per replica:

- requests R / dp, a typical request's prompt P and output O tokens (a distribution's mean);
- batch B: at most max_batch_size, R / dp, and the sequences of P + O tokens the KV cache holds;
  a closed loop at most concurrency / dp; open arrivals (Poisson, bursty, trace) at most the
  requests in flight by Little's law, rate / dp x O x (one token's time at batch 1, from the
  cost model): slower steps at a larger batch only mean more requests in flight than that, so
  the estimate leans towards more steps, not fewer;
- steps: decode R O / (dp B) per replica, plus prefill R max(1, P / max_batched_tokens);
- per step and stage: :data:`STEP_OVERHEAD_UNITS` (forming the batch, costing the step) plus
  the events at the fidelity (``step``: none more; ``layer``: one per op slot of the stage's
  plan; ``op``: about three per slot, and a ring all-reduce's 2(p - 1) rounds of p transfers
  where rings are expanded), plus B sequences' bookkeeping;
- speculative decoding runs the scenario twice (the standard-decoding baseline).

:data:`MAX_WORK` is 1e8 units: at 2 to 9 us per unit (measured on runs of 1 to 8 s of the curated
scenarios, one core of a shared 2-core server, 2026) that is about 3 to 15 minutes. Every
curated scenario estimates at under 1e7. The estimate of a run of a million requests of 1,536
output tokens at fidelity ``step``, one at a time, is 3e10 units (about two days).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simdecode.errors import ScenarioError

#: the largest estimated work ``simdecode run`` accepts without ``--no-limit`` (units: see above)
MAX_WORK = 1e8
#: about how long one unit of work takes, seconds (for the message only)
SECONDS_PER_UNIT = 5e-6
#: units of fixed work per stage and step (batch composition, the step's plan and its fold)
STEP_OVERHEAD_UNITS = 20


@dataclass(frozen=True)
class WorkEstimate:
    """The estimate of :func:`estimate_work`: ``steps`` engine steps of ``units_per_step`` each."""

    steps: float
    units_per_step: float
    runs: int  # 2 with speculative decoding (the baseline run), else 1

    @property
    def units(self) -> float:
        return self.steps * self.units_per_step * self.runs

    @property
    def seconds(self) -> float:
        """A rough wall time, seconds (:data:`SECONDS_PER_UNIT` per unit)."""
        return self.units * SECONDS_PER_UNIT


def estimate_work(scenario) -> WorkEstimate:
    """The work ``simulate(scenario)`` will do (see the module docstring)."""
    from simdecode.costmodel.batch import BatchShape
    from simdecode.costmodel.deployment import Deployment
    from simdecode.costmodel.fold import fold
    from simdecode.costmodel.plan import Stream, build_stage_plan
    from simdecode.engine.simulation import kv_capacity_blocks

    w, par, sched = scenario.workload, scenario.parallelism, scenario.scheduler
    prompt, output = w.prompt_tokens, w.output_tokens
    per_replica = math.ceil(w.total_requests / par.dp)
    dep = Deployment.from_scenario(scenario)
    plans = [build_stage_plan(dep, stage, BatchShape.decode([prompt])) for stage in range(par.pp)]

    batch = min(sched.max_batch_size, per_replica)
    kv_tokens = kv_capacity_blocks(scenario, dep) * sched.kv_block_tokens
    batch = min(batch, max(1, kv_tokens // (prompt + output)))
    if w.arrival.kind == "closed":
        batch = min(batch, math.ceil(w.arrival.concurrency / par.dp))
    else:  # Little's law: requests in flight = arrival rate x time in the system (batch-1 step times)
        token_s = sum(fold(plan).makespan_s for plan in plans)
        batch = min(batch, math.ceil(_rate_per_s(w) / par.dp * output * token_s))
    batch = max(1, batch)
    decode_steps = per_replica * output / batch
    prefill_steps = per_replica * max(1.0, prompt / sched.max_batched_tokens)
    steps = par.dp * (decode_steps + prefill_steps)

    fidelity = scenario.simulation.fidelity
    events = 0.0
    for plan in plans:
        slots = plan.template.slots
        events += STEP_OVERHEAD_UNITS
        if fidelity == "layer":
            events += len(slots)
        elif fidelity == "op":
            comm = sum(slot.stream is Stream.COMM for slot in slots)
            events += 3 * len(slots)
            if dep.tp_nodes == 1 and par.tp > 1:  # rings expanded into transfers (an upper bound)
                events += comm * 2 * (par.tp - 1) * (par.tp + 1)
        events += 2 if par.pp > 1 else 0  # the hop to the next stage
    runs = 2 if scenario.decoding.method != "standard" else 1
    return WorkEstimate(steps=steps, units_per_step=events + batch, runs=runs)


def _rate_per_s(workload) -> float:
    """Mean arrivals per second of an open arrival process (a trace: rows over its time span)."""
    arrival = workload.arrival
    if arrival.kind == "trace":
        times = arrival.arrival_times()[: workload.total_requests]
        span = float(times[-1] - times[0]) if len(times) > 1 else 0.0
        return len(times) / span if span > 0 else float(len(times))
    return arrival.rate_per_s


def check_work(scenario, limit: float | None = MAX_WORK, file: str | None = None) -> WorkEstimate:
    """The estimate, after refusing (:class:`ScenarioError`, naming ``file``) a scenario beyond ``limit`` units."""
    estimate = estimate_work(scenario)
    if limit is not None and estimate.units > limit:
        faster = ", --fidelity step" if scenario.simulation.fidelity != "step" else ""
        raise ScenarioError(
            f"this run is estimated at {estimate.units:.2g} units of work ({estimate.steps:.2g} engine steps of "
            f"{estimate.units_per_step:.3g}; roughly {_duration(estimate.seconds)}), over the budget of "
            f"{limit:.2g}",
            file=file, hint=f"fewer requests or tokens{faster}, or --no-limit to run it anyway")
    return estimate


def _duration(seconds: float) -> str:
    for unit, scale in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * scale:
            return f"{seconds / scale:.0f} {unit}"
    return f"{seconds:.0f} s"
