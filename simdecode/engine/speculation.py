"""Speculative decoding and multi-token prediction inside the engine loop (physics.md 4).

Per step, every decoding sequence that speculates (the policy gives it k + 1 positions, or a
tree's positions) first gets its proposals from a drafter, then the target verifies them all in
one forward pass: one set of weight reads and one set of collectives for up to k + 1 tokens,
which is why speculation pays off most where the step is memory- or all-reduce-bound and
least where it is compute-bound (large batches).

Drafters (each pass is a step plan run on GPUs, at the scenario's fidelity):

- ``mtp``: the target's own MTP module (DeepSeek-V3: one transformer block sharing the
  embedding and LM head), chained k times on the last pipeline stage;
- ``draft``: a separate small model, k sequential passes, on the target's GPUs with the same TP
  (``draft_placement: shared``, time-sharing them) or on a GPU of its own (``separate``).
  :func:`simdecode.costmodel.deployment.draft_deployment` says how each is costed.
- A token tree (Medusa/EAGLE, ``decoding.tree``) drafts ``depth`` levels, level i proposing
  width^i candidates per sequence, and verifies all 1 + w + ... + w^depth positions at once.

Accepted lengths are drawn from the simulation's ``speculative`` random stream.
"""

from __future__ import annotations

import numpy as np
import simpy

from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.fold import Fold
from simdecode.costmodel.plan import build_stage_plan
from simdecode.costmodel.deployment import draft_deployment, draft_passes
from simdecode.costmodel.speculative import acceptance_for
from simdecode.engine.executor import Stage, step_timing
from simdecode.engine.topology import Fabric
from simdecode.metrics.accounting import SpeculationStats
from simdecode.scenario.schema import Scenario


class Speculator:
    def __init__(self, env: simpy.Environment, scenario: Scenario, stages: list[Stage], rng: np.random.Generator,
                 fidelity: str, tracer=None):
        d = scenario.decoding
        self.env, self.rng = env, rng
        self.dep = draft_deployment(scenario)
        self.passes = draft_passes(scenario, self.dep)
        self.proposals = d.proposals
        self.verify_tokens = d.verify_positions
        self.widths = d.draft_widths
        self.probs = acceptance_for(d)
        if d.method == "mtp":
            self.stage = stages[-1]  # the module reads the last hidden state
        elif d.draft_placement == "shared":
            self.stage = stages[0]
        else:
            self.stage = Stage(env, stages[0].replica, -1, Fabric([], ()), fidelity, self.dep, tracer,
                               f"replica {stages[0].replica} / draft GPU")
        self.stats = SpeculationStats(histogram=[0] * (self.proposals + 1))

    def draft(self, contexts: list[int]):
        """Process: the draft passes for sequences with ``contexts`` cached tokens; its value is a
        list of (timing, seconds run) per pass."""
        passes: list[tuple[Fold, float]] = []
        for level, p in enumerate(self.passes):  # a tree's frontier grows level by level
            shape = BatchShape.mixed([(c + level, p.tokens, p.logits) for c in contexts], p.dep.window)
            plan = build_stage_plan(p.dep, 0, shape)
            timing = step_timing(plan)
            elapsed = yield from self.stage.run(plan, timing)
            passes.append((timing, elapsed))
        return passes

    @property
    def on_target_gpus(self) -> bool:
        """The drafter time-shares the target's GPUs (their GPU-time accounts include it)."""
        return self.stage.index >= 0

    def sample(self, request_ids: list[int]) -> dict[int, int]:
        """Accepted proposals for each verifying sequence, from the ``speculative`` stream."""
        draws = self.rng.choice(self.proposals + 1, size=len(request_ids), p=self.probs)
        return dict(zip(request_ids, draws.tolist()))

    def record(self, accepted: dict[int, int], emitted: dict[int, int]) -> None:
        s = self.stats
        for rid, j in accepted.items():
            s.verifies += 1
            s.proposed += self.proposals
            s.accepted += j
            s.tokens += emitted[rid]
            s.histogram[j] += 1
