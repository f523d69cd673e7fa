"""The roofline bound on one request's decode speed (docs/physics.md section 0 item 1, and 4.1)."""

from __future__ import annotations

from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment, draft_deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan


def ideal_step_s(dep: Deployment, shape: BatchShape) -> float:
    """Seconds of one step of ``shape`` through every stage with every byte and FLOP at 100% of
    peak, no launches, no communication (the sum of the stages' folded ``ideal_s``)."""
    return sum(fold(build_stage_plan(dep, s, shape)).ideal_s for s in range(dep.pp))


def roofline_tps(scenario, context_tokens: int | None = None) -> float:
    """Upper bound on one request's decode speed, tokens/s: batch 1 at ``context_tokens`` of
    context (default: the prompt), every stage's weights and KV at 100% of peak bandwidth and
    FLOP/s, no launches, no communication (docs/physics.md section 0, item 1).

    With speculative decoding a step can emit every proposal plus the bonus token, so the bound is
    (proposals + 1) / (ideal draft passes + ideal verify step) (physics.md 4.1)."""
    if context_tokens is None:
        context_tokens = scenario.workload.prompt_tokens
    dep = Deployment.from_scenario(scenario)
    d = scenario.decoding
    if d.method == "standard":
        return 1.0 / ideal_step_s(dep, BatchShape.decode([context_tokens], dep.window))
    draft = draft_deployment(scenario)
    draft_s = sum(ideal_step_s(draft, BatchShape.mixed([(context_tokens + level, w, w)], draft.window))
                  for level, w in enumerate(d.draft_widths))
    verify_s = ideal_step_s(dep, BatchShape.mixed([(context_tokens, d.verify_positions, d.verify_positions)],
                                                  dep.window))
    return (d.proposals + 1) / (draft_s + verify_s)
