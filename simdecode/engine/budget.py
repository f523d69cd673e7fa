"""How much work a simulation will be, estimated before it runs, and the budget it must fit.

A scenario is small text, but a valid one can ask for hours of simulation (a million requests
of 1,536 tokens, one at a time, is 1.5 billion decode steps). ``simdecode run`` estimates the
work from the scenario alone and refuses, with exit code 2 and the estimate, a run beyond
:data:`MAX_WORK` unless ``--no-limit`` is given.

The unit of work is one SimPy event (what ``SimResult.events`` counts); a step's fixed overhead
and a sequence's bookkeeping in a step are counted in the same unit. The estimate, per replica:

- requests R / dp, a typical request's prompt P and output O tokens (a distribution's mean);
- sequences in flight per replica: at most max_batch_size per lane (L micro-batch lanes with
  pipeline parallelism, else 1), R / dp, and the sequences of P + O tokens the KV cache (one for
  all lanes) holds; a closed loop at most concurrency / dp; open arrivals (Poisson, bursty,
  trace) at most the requests in flight by Little's law, rate / dp x O x (one token's time at
  batch 1, from the cost model): slower steps at a larger batch only mean more requests in flight
  than that, so the estimate leans towards more steps, not fewer;
- batch B, the sequences of one lane's step: those in flight shared evenly over the L lanes (the
  policies' fair share), at most max_batch_size. A lane's step goes through every stage, so a
  closed loop of 32 on 36 stages (36 lanes) is 32 lanes of one sequence each: 32 times the steps
  of one batch of 32 (the estimate once took B = 32 and put a sweep over concurrency
  on such a pipeline at a thirtieth of its events);
- steps: decode R O / (dp B t), t the tokens a step emits per sequence (1; with speculative
  decoding 1 + the mean accepted proposals), plus prefill R max(1 / B, P / max_batched_tokens)
  (prompts join the batch's steps; one at a time each is a step of its own);
- events per step, counted the way the engine schedules them, for each stage and replica: the
  engine's own predicates (:mod:`simdecode.engine.eventpaths`) on the group's links (private or
  shared with another group, from :class:`simdecode.engine.topology.Topology`) decide whether a
  step is one event (fidelity ``step``; ``layer`` on private links) or walks its modules
  (``layer`` on shared links: one per module, about four per collective), and at ``op`` whether
  a ring all-reduce is one event or its 2(p - 1) rounds of p transfers; plus a stage's lock where
  micro-batches take turns, the activations sent between stages, and a speculative step's draft
  passes; plus two events per request (its arrival, a lane's wake-up);
- units per step: those events + :data:`STEP_OVERHEAD_UNITS` per stage (forming the batch,
  the step's plan and its fold) + :data:`SEQUENCE_UNITS` per sequence;
- speculative decoding is one simulation; the standard-decoding baseline (``run --baseline``,
  ``summary(baseline=True)``) a second, so ``baseline`` doubles the work.

The budget is on work (CPU), whatever ``--jobs``: the replicas split over processes take less
wall time, and the message's rough time divides by the processes, where the run can be split
(:func:`simdecode.engine.parallel.split_reason`).

Measured (``benchmarks/budget_calibration.py``: every curated scenario at fidelity step, layer and
op, cut to at most 1e6 units, one core of the project's shared 2-core server, 2026): the estimated
events are 0.58 to 2.6 times the events the runs scheduled (median 1.0; speculative runs at step
and layer, whose prompts batch better than estimated, 2 to 2.6). A least-squares fit of the CPU
time of ``simulate`` and ``summary`` with a fixed cost per run gives 1.7 to 1.8 us per event, 21
to 24 us per stage-step, 0.71 to 0.72 us per sequence-step and 41 to 43 ms per run (two runs, on
the machine loaded 1.3 and 2.9 by other work), hence :data:`SECONDS_PER_UNIT` 1.7e-6,
:data:`STEP_OVERHEAD_UNITS` 12, :data:`SEQUENCE_UNITS` 0.4 and
:data:`simdecode.sweep.timing.RUN_SETUP_S` 0.04 s (a sweep's points pay it; here it is left out,
too small to matter against the budget). On the 72 runs of at least 0.05 CPU s the estimate plus
that fixed cost is 0.47 to 1.25 times the measured CPU time (median 0.88, half within 0.81 to
1.0). The constants before (16 and 0.1, fitted without the fixed cost, before the engine's
bookkeeping per sequence grew) put the same runs at 0.17 to 1.0 (median 0.62): a batch of 158
cost twice the estimate. The estimate before issue 15's speed work (one event per op slot at
``layer``, runs=2 for every speculative scenario, 5 us a unit) put them at 2.1 to 200 times
(median 41).

:data:`MAX_WORK` is 3e8 units: about 8 minutes of CPU. Every curated scenario estimates at under
1e7. The 1M-request, 128-replica benchmark (benchmarks/run.py ``cluster-1m-128x8``: 283 CPU s,
223 s wall with ``--jobs 2``) estimates at 2.0e8 units, 330 CPU s (166 s wall with 2 processes),
and is accepted; the earlier estimate said 35 minutes and refused it. A million requests of 1,536
output tokens at fidelity ``step``, one at a time, is 2.1e10 units (about 10 hours): refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simdecode.errors import ScenarioError

#: the largest estimated work ``simdecode run`` accepts without ``--no-limit`` (units: see above)
MAX_WORK = 3e8
#: about how long one unit (one SimPy event) takes on one core, seconds (measured, see above)
SECONDS_PER_UNIT = 1.7e-6
#: units of fixed work per stage and step (batch composition, the step's plan and its fold)
STEP_OVERHEAD_UNITS = 12
#: units of one sequence's bookkeeping in one step (its tokens, KV blocks, completion)
SEQUENCE_UNITS = 0.4
#: events per request outside its steps: its arrival's timeout and the wake-up of an idle lane
REQUEST_EVENTS = 2


@dataclass(frozen=True)
class WorkEstimate:
    """The estimate of :func:`estimate_work`: ``steps`` engine steps (summed over the replicas, each
    through every stage) of ``events_per_step`` SimPy events and ``units_per_step`` units, plus
    ``requests`` arrivals, all ``runs`` times; ``jobs`` processes sharing the run's wall time."""

    steps: float
    events_per_step: float
    units_per_step: float
    requests: int
    batch: int  # sequences in a step (each one's bookkeeping a unit)
    stages: int  # pipeline stages a step goes through (each :data:`STEP_OVERHEAD_UNITS`)
    runs: int  # 2 with speculative decoding when the standard-decoding baseline is asked for, else 1
    jobs: int = 1  # processes the replicas are split over (1: the run stays in one process)

    @property
    def events(self) -> float:
        """The SimPy events the run will schedule (what ``SimResult.events`` counts)."""
        return self.runs * (self.steps * self.events_per_step + self.requests * REQUEST_EVENTS)

    @property
    def units(self) -> float:
        """The work: events plus the per-step overhead and per-sequence bookkeeping (CPU, not wall)."""
        return self.runs * (self.steps * self.units_per_step + self.requests * REQUEST_EVENTS)

    @property
    def cpu_seconds(self) -> float:
        """A rough CPU time, seconds (:data:`SECONDS_PER_UNIT` per unit)."""
        return self.units * SECONDS_PER_UNIT

    @property
    def seconds(self) -> float:
        """A rough wall time, seconds: the CPU time over the processes the replicas run in."""
        return self.cpu_seconds / self.jobs


def estimate_work(scenario, *, baseline: bool = False, jobs: int = 1) -> WorkEstimate:
    """The work ``simulate(scenario, jobs=jobs)`` will do, and with ``baseline`` the standard-decoding
    run a speculative scenario's ``summary(baseline=True)`` adds (see the module docstring)."""
    from simdecode.costmodel.batch import BatchShape
    from simdecode.costmodel.deployment import Deployment
    from simdecode.costmodel.fold import fold
    from simdecode.costmodel.plan import build_stage_plan
    from simdecode.engine.parallel import split_reason, topology_of
    from simdecode.engine.simulation import kv_capacity_blocks

    w, par, sched = scenario.workload, scenario.parallelism, scenario.scheduler
    prompt, output = w.prompt_tokens, w.output_tokens
    per_replica = math.ceil(w.total_requests / par.dp)
    dep = Deployment.from_scenario(scenario)
    plans = [build_stage_plan(dep, stage, BatchShape.decode([prompt])) for stage in range(par.pp)]

    lanes = _lanes(par)
    in_flight = min(lanes * sched.max_batch_size, per_replica)  # the replica's sequences, all lanes
    kv_tokens = kv_capacity_blocks(scenario, dep) * sched.kv_block_tokens
    in_flight = min(in_flight, max(1, kv_tokens // (prompt + output)))  # one cache for every lane
    if w.arrival.kind == "closed":
        in_flight = min(in_flight, math.ceil(w.arrival.concurrency / par.dp))
    else:  # Little's law: requests in flight = arrival rate x time in the system (batch-1 step times)
        token_s = sum(fold(plan).makespan_s for plan in plans)
        in_flight = min(in_flight, math.ceil(_rate_per_s(w) / par.dp * output * token_s))
    # the lanes share them evenly (the policies' fair share): a micro-batch's step goes through
    # every stage, so 4 requests on 4 lanes are 4 steps of one sequence, not one step of four
    batch = max(1, min(sched.max_batch_size, math.ceil(in_flight / lanes)))
    speculative = scenario.decoding.method != "standard"
    tokens_per_step = _tokens_per_verify_step(scenario) if speculative else 1.0
    decode_steps = per_replica * output / (batch * tokens_per_step)
    # prompts join the batch's steps, max_batched_tokens at a time; one at a time, each its own step
    prefill_steps = per_replica * max(1.0 / batch, prompt / sched.max_batched_tokens)
    steps = par.dp * (decode_steps + prefill_steps)

    topology = topology_of(scenario)
    events = _events_per_step(scenario, dep, plans, topology)
    if speculative:  # the draft passes before each verify step (a decode step)
        events += _draft_events(scenario, dep, topology, prompt) * decode_steps / (decode_steps + prefill_steps)
    units = events + STEP_OVERHEAD_UNITS * par.pp + SEQUENCE_UNITS * batch
    jobs = min(jobs, par.dp) if jobs > 1 and split_reason(scenario, None, jobs) is None else 1
    return WorkEstimate(steps=steps, events_per_step=events, units_per_step=units, requests=w.total_requests,
                        batch=batch, stages=par.pp, runs=2 if speculative and baseline else 1, jobs=jobs)


def _lanes(par) -> int:
    """Micro-batch lanes per replica (as :func:`simdecode.engine.simulation.build` makes them)."""
    return 1 if par.pp == 1 else (par.pp if par.microbatches == "auto" else par.microbatches)


def _events_per_step(scenario, dep, plans, topology) -> float:
    """SimPy events of one step through every stage, averaged over the replicas, counted the way
    the engine schedules them (:func:`_stage_events`), with the activations sent between stages."""
    par = scenario.parallelism
    total = 0.0
    for replica in range(par.dp):
        for s, plan in enumerate(plans):
            fabric = topology.fabric(replica, s)
            total += _stage_events(scenario.simulation.fidelity, plan, fabric, par.tp, dep.tp_nodes, par.pp,
                                   locked=_lanes(par) > 1)
            if s < par.pp - 1:  # the activations to the next stage: links held, serialise, propagate
                src, dst = topology.group_gpus(replica, s)[0], topology.group_gpus(replica, s + 1)[0]
                total += 2 * len(topology.path(src, dst)) + 2
    return total / par.dp


def _stage_events(fidelity: str, plan, fabric, tp: int, tp_nodes: int, pp: int, locked: bool) -> float:
    """SimPy events of one step of ``plan`` on a stage whose group's links are ``fabric``, counted
    the way :class:`simdecode.engine.executor.Stage` schedules them: whether the step is one event
    and whether rings are expanded is decided by the engine's own predicates
    (:mod:`simdecode.engine.eventpaths`). A timeout is one event; a process two (its start and its
    end); a condition (``all_of``) one; a held link or stage two (request and release)."""
    from simdecode.costmodel.plan import Stream
    from simdecode.engine.eventpaths import expands_rings, one_event_step

    events = 2 if locked else 0  # the stage's lock, taken and released
    if one_event_step(fidelity, fabric.private):
        return events + 1
    shared = len(fabric.shared)
    expand = expands_rings(fidelity, tp_nodes, pp, fabric.private)
    hops = sum(len(path) for path in fabric.ring)
    for slot in plan.template.slots:
        if slot.stream is Stream.COMPUTE:
            events += 1 if fidelity == "layer" else 4  # op: a process, its wait, its timeout
        elif fidelity == "layer":
            events += 4 + 2 * shared  # a done event, a process, its links, its timeout
        elif expand and plan.costs[slot.kind].algorithm == "ring":
            # a process, its wait, a fixed-latency timeout, then 2(p - 1) rounds: a condition
            # over p transfer processes, each holding its path's links, serialising, propagating
            events += 4 + 2 * (tp - 1) * (1 + 4 * tp + 2 * hops)
        else:
            events += 4 + 2 * shared  # a process, its wait, its links, its timeout
    return events + 1  # the step's end: the last condition


def _tokens_per_verify_step(scenario) -> float:
    """Tokens a speculative verify step emits per sequence on average: 1 + the accepted proposals."""
    from simdecode.costmodel.speculative import acceptance_for

    probs = acceptance_for(scenario.decoding)
    return 1.0 + float(sum(k * p for k, p in enumerate(probs)))


def _draft_events(scenario, dep, topology, prompt: int) -> float:
    """SimPy events of the draft passes before one verify step (one pass per tree level), on the
    stage the drafter runs on (the target's first or last, or a GPU of its own, always locked)."""
    from simdecode.costmodel.batch import BatchShape
    from simdecode.costmodel.deployment import draft_deployment, draft_passes
    from simdecode.costmodel.plan import build_stage_plan
    from simdecode.engine.topology import Fabric

    d, par = scenario.decoding, scenario.parallelism
    draft = draft_deployment(scenario)
    if d.method == "mtp":
        fabric, tp, tp_nodes, pp = topology.fabric(0, par.pp - 1), par.tp, dep.tp_nodes, par.pp
    elif d.draft_placement == "shared":
        fabric, tp, tp_nodes, pp = topology.fabric(0, 0), par.tp, dep.tp_nodes, par.pp
    else:  # a stage of its own, on links of its own
        fabric, tp, tp_nodes, pp = Fabric([], ()), draft.tp, draft.tp_nodes, draft.pp
    return sum(_stage_events(scenario.simulation.fidelity,
                             build_stage_plan(p.dep, 0, BatchShape.mixed([(prompt, p.tokens, p.logits)], p.dep.window)),
                             fabric, tp, tp_nodes, pp, locked=True)
               for p in draft_passes(scenario, draft))


def _rate_per_s(workload) -> float:
    """Mean arrivals per second of an open arrival process (a trace: rows over its time span)."""
    arrival = workload.arrival
    if arrival.kind == "trace":
        times = arrival.arrival_times()[: workload.total_requests]
        span = float(times[-1] - times[0]) if len(times) > 1 else 0.0
        return len(times) / span if span > 0 else float(len(times))
    return arrival.rate_per_s


def check_work(scenario, limit: float | None = MAX_WORK, file: str | None = None, *, baseline: bool = False,
               jobs: int = 1) -> WorkEstimate:
    """The estimate, after refusing (:class:`ScenarioError`, naming ``file``) a scenario beyond ``limit`` units
    (``baseline``, ``jobs``: as ``simdecode run`` was asked; see :func:`estimate_work`)."""
    estimate = estimate_work(scenario, baseline=baseline, jobs=jobs)
    if limit is not None and estimate.units > limit:
        faster = ", --fidelity step" if scenario.simulation.fidelity != "step" else ""
        raise ScenarioError(
            f"this run is estimated at {estimate.units:.2g} units of work ({estimate.steps:.2g} engine steps of "
            f"{estimate.units_per_step:.3g}; roughly {_duration(estimate.seconds)}{_wall(estimate)}), over the budget of "
            f"{limit:.2g}",
            file=file, hint=f"fewer requests or tokens{faster}, or --no-limit to run it anyway")
    return estimate


def _wall(estimate: WorkEstimate) -> str:
    return f" with {estimate.jobs} processes" if estimate.jobs > 1 else ""


def _duration(seconds: float) -> str:
    for unit, scale in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * scale:
            return f"{seconds / scale:.0f} {unit}"
    return f"{seconds:.0f} s"
