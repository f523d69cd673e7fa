"""Speculative decoding and multi-token prediction: how many tokens a verify step yields.

A drafter (a small model, or the target's own MTP modules) proposes k tokens; the target verifies
the k proposals plus one position of its own in one forward pass and keeps the longest accepted
prefix, then adds the token it computed itself (the "bonus" token). A verify step therefore emits
1 + j tokens, j = 0..k proposals accepted.

Acceptance models (physics.md 4.1-4.2):

- i.i.d. per-token acceptance a (Leviathan et al. 2023, arXiv 2211.17192, eq. 1):
      P(j accepted) = a^j (1 - a) for j < k, a^k for j = k;  E[tokens] = (1 - a^(k+1)) / (1 - a);
- one probability per position a_1..a_k (MTP modules reused at depth decay, SPEC-02 notes):
      P(j) = a_1...a_j (1 - a_(j+1)),  E[tokens] = 1 + sum_d a_1...a_d;
- a histogram of accepted lengths (gpt-fast's ``accept_counts``): P(j) given directly;
- a published mean accepted length L (tokens per verify step, bonus included, as TensorRT-LLM's
  "acceptance rate" column reports it): the i.i.d. a whose expectation is L.

When a scenario gives no acceptance, each position has its own default rate, decaying with
depth (:data:`DEFAULT_PER_POSITION`): a drafter conditions on its own earlier guesses, so later
proposals match less often. The rates are those implied by TensorRT-LLM's measured mean accepted
lengths for DeepSeek-R1's MTP on 8x B200 (SPEC-02; TensorRT-LLM tech blog 1: 1.92, 2.58, 2.82
tokens per step for k = 1, 2, 3): a1 = 0.92, a1 a2 = 0.66 so a2 = 0.72, a1 a2 a3 = 0.24 so
a3 = 0.36; past the third, each position's rate is half the one before (the blog's k = 4 and 5
add 0.17 and 0.02 tokens, the default 0.04 and 0.004). With these, proposals past the third add
almost nothing while each still costs a draft pass and a verify position, so more draft tokens
stop paying, as measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


#: default acceptance per draft position (see the module docstring), then halving
DEFAULT_PER_POSITION = (0.92, 0.72, 0.36)


def default_acceptance(k: int) -> list[float]:
    """The default per-position acceptance for ``k`` proposals.

    >>> default_acceptance(5)
    [0.92, 0.72, 0.36, 0.18, 0.09]
    """
    rates = list(DEFAULT_PER_POSITION[:k])
    while len(rates) < k:
        rates.append(rates[-1] / 2)
    return rates


def expected_tokens_iid(a: float, k: int) -> float:
    """E[tokens per verify step] for i.i.d. acceptance ``a`` and ``k`` proposals.

    >>> round(expected_tokens_iid(0.8, 3), 4)   # physics.md 4.1: 2.95
    2.952
    """
    if a >= 1.0:
        return float(k + 1)
    return (1.0 - a ** (k + 1)) / (1.0 - a)


def accepted_probabilities(acceptance: float | Sequence[float], k: int) -> np.ndarray:
    """P(j proposals accepted), j = 0..k, for i.i.d. ``acceptance`` or one value per position."""
    if isinstance(acceptance, (int, float)):
        rates = [float(acceptance)] * k
    else:
        rates = list(acceptance)
        if len(rates) < k:
            raise ValueError(f"acceptance lists {len(rates)} positions, speculative_tokens is {k}")
        rates = rates[:k]
    probs = np.zeros(k + 1)
    reach = 1.0  # P(the first d proposals were all accepted)
    for j, a in enumerate(rates):
        probs[j] = reach * (1.0 - a)
        reach *= a
    probs[k] = reach
    return probs


def histogram_probabilities(histogram: Sequence[float], k: int) -> np.ndarray:
    """Normalise counts (or shares) of accepted lengths 0..k into probabilities."""
    counts = np.asarray(histogram, dtype=float)
    if counts.size != k + 1:
        raise ValueError(f"the histogram needs k + 1 = {k + 1} entries (0..{k} accepted), got {counts.size}")
    if (counts < 0).any() or counts.sum() <= 0:
        raise ValueError("histogram entries must be non-negative and not all zero")
    return counts / counts.sum()


def iid_rate_for_mean_tokens(mean_tokens: float, k: int) -> float:
    """The i.i.d. acceptance a with E[tokens per verify step] = ``mean_tokens`` (1 <= L <= k+1),
    solved by bisection (the expectation rises monotonically with a)."""
    if not 1.0 <= mean_tokens <= k + 1:
        raise ValueError(f"a mean of {mean_tokens} tokens per verify step is impossible with k = {k} (1..{k + 1})")
    lo, hi = 0.0, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if expected_tokens_iid(mid, k) < mean_tokens:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def mean_tokens(probs: np.ndarray) -> float:
    """E[tokens per verify step] = 1 + E[accepted] for P(j accepted) = ``probs[j]``."""
    return 1.0 + float(np.dot(np.arange(probs.size), probs))


def tree_level_acceptance(a: float, width: int) -> float:
    """Chance that a tree level is accepted when each of its ``width`` candidates independently
    matches with probability ``a``: 1 - (1 - a)^w. The accepted path then behaves like a chain
    of ``depth`` proposals with this per-level rate."""
    return 1.0 - (1.0 - a) ** width


def acceptance_for(d, proposals: int | None = None) -> np.ndarray:
    """P(j proposals accepted), j = 0..proposals, for a DecodingSpec's acceptance model
    (``proposals``: the spec's own, :attr:`DecodingSpec.proposals`, unless given)."""
    if proposals is None:
        proposals = d.proposals
    from simdecode.scenario.schema import AcceptanceHistogram, AcceptanceMean

    acc = d.acceptance
    if acc is None:
        return accepted_probabilities(default_acceptance(proposals), proposals)
    if isinstance(acc, AcceptanceHistogram):
        return histogram_probabilities(acc.histogram, proposals)
    if isinstance(acc, AcceptanceMean):
        return accepted_probabilities(iid_rate_for_mean_tokens(acc.mean_tokens, proposals), proposals)
    if d.tree is not None:
        if not isinstance(acc, float):
            raise ValueError("a token tree takes one per-candidate acceptance probability")
        return accepted_probabilities(tree_level_acceptance(acc, d.tree.width), proposals)
    return accepted_probabilities(acc, proposals)


@dataclass(frozen=True)
class SpeculationEstimate:
    """One speculative step against one standard step, batch ``batch`` at ``context`` tokens
    (seconds, bytes per GPU summed over stages). speedup = tokens x standard / (draft + verify)."""

    proposals: int
    verify_positions: int
    mean_tokens: float
    standard_s: float
    verify_s: float
    draft_s: float
    standard_bytes: float
    verify_bytes: float
    standard_flops: float
    verify_flops: float

    @property
    def speedup(self) -> float:
        return self.mean_tokens * self.standard_s / (self.verify_s + self.draft_s)


def estimate(dep, scenario, context_tokens: int, batch: int = 1) -> SpeculationEstimate:
    """The analytic speed-up of ``scenario``'s speculative decoding for one decode step of the
    target deployment ``dep`` with its draft passes (physics.md 4.1-4.4,
    costmodel.deployment.draft_passes): the same plans the engine runs, folded, without queueing
    or sampling noise."""
    from simdecode.costmodel.batch import BatchShape
    from simdecode.costmodel.deployment import draft_passes
    from simdecode.costmodel.fold import fold
    from simdecode.costmodel.devices import stage_periods
    from simdecode.costmodel.plan import build_stage_plan

    d = scenario.decoding
    passes = draft_passes(scenario)
    proposals, positions = d.proposals, d.verify_positions
    probs = acceptance_for(d)

    def folds(deployment, shape):
        return [fold(build_stage_plan(deployment, s, shape)) for s in range(deployment.pp)]

    def periods(deployment, stage_folds):  # a lock-step pipeline: every stage takes the slowest's time
        return stage_periods(deployment.gpu, [f.makespan_s for f in stage_folds])

    standard = folds(dep, BatchShape.decode([context_tokens] * batch, dep.window))
    verify = folds(dep, BatchShape.mixed([(context_tokens, positions, positions)] * batch, dep.window))
    draft_s = 0.0
    for level, p in enumerate(passes):
        draft_s += sum(f.makespan_s for f in folds(p.dep, BatchShape.mixed(
            [(context_tokens + level, p.tokens, p.logits)] * batch, p.dep.window)))
    return SpeculationEstimate(
        proposals, positions, mean_tokens(probs),
        sum(periods(dep, standard)), sum(periods(dep, verify)), draft_s,
        sum(f.hbm_bytes for f in standard), sum(f.hbm_bytes for f in verify),
        sum(f.flops for f in standard), sum(f.flops for f in verify))
