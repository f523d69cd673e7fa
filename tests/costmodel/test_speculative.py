"""Acceptance math of speculative decoding (physics.md 4.1-4.2; Leviathan et al. 2023)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.costmodel import speculative as spec
from simdecode.scenario.schema import DecodingSpec


def test_leviathan_expectations_by_hand():
    # physics.md 4.1: alpha 0.8, gamma 1..5 -> 1.8, 2.44, 2.95, 3.36, 3.69 tokens per verify step
    for k, expected in zip(range(1, 6), (1.8, 2.44, 2.952, 3.3616, 3.68928)):
        assert spec.expected_tokens_iid(0.8, k) == pytest.approx(expected, rel=1e-9)
    assert spec.expected_tokens_iid(0.9, 7) == pytest.approx((1 - 0.9**8) / 0.1)  # 5.7
    assert spec.expected_tokens_iid(1.0, 4) == 5.0


@settings(max_examples=40, deadline=None)
@given(a=st.floats(0.05, 0.98), k=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_sampled_mean_tokens_per_verify_step_matches_the_formula_within_2_percent(a, k, seed):
    """The speculative issue's property: over 20,000 i.i.d. steps the mean is (1-a^(k+1))/(1-a)."""
    probs = spec.accepted_probabilities(a, k)
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert spec.mean_tokens(probs) == pytest.approx(spec.expected_tokens_iid(a, k), rel=1e-12)
    draws = np.random.default_rng(seed).choice(k + 1, size=20_000, p=probs) + 1
    assert draws.mean() == pytest.approx(spec.expected_tokens_iid(a, k), rel=0.02)


def test_per_position_acceptance_by_hand():
    # a = (0.9, 0.7, 0.5): P(0) = 0.1, P(1) = 0.9*0.3, P(2) = 0.9*0.7*0.5, P(3) = 0.9*0.7*0.5
    probs = spec.accepted_probabilities([0.9, 0.7, 0.5], 3)
    assert probs == pytest.approx([0.1, 0.27, 0.315, 0.315])
    assert spec.mean_tokens(probs) == pytest.approx(1 + 0.9 + 0.9 * 0.7 + 0.9 * 0.7 * 0.5)
    with pytest.raises(ValueError, match="positions"):
        spec.accepted_probabilities([0.9], 3)


def test_histogram_is_normalised_and_checked():
    assert spec.histogram_probabilities([10, 30, 60], 2) == pytest.approx([0.1, 0.3, 0.6])
    with pytest.raises(ValueError, match="k \\+ 1"):
        spec.histogram_probabilities([1, 2], 2)
    with pytest.raises(ValueError):
        spec.histogram_probabilities([0, 0, 0], 2)


@pytest.mark.parametrize("k, published", [(1, 1.92), (2, 2.58), (3, 2.82)])
def test_rate_for_a_published_accepted_length(k, published):
    """SPEC-02's accepted lengths (TRT-LLM, DeepSeek-R1 MTP) map to i.i.d. rates that reproduce them."""
    a = spec.iid_rate_for_mean_tokens(published, k)
    assert 0 < a < 1 and spec.expected_tokens_iid(a, k) == pytest.approx(published, rel=1e-9)
    with pytest.raises(ValueError):
        spec.iid_rate_for_mean_tokens(k + 1.5, k)


def test_verify_positions_and_level_acceptance():
    tree = DecodingSpec(method="mtp", tree={"width": 2, "depth": 3})
    assert (tree.proposals, tree.verify_positions, tree.draft_widths) == (3, 1 + 2 + 4 + 8, (1, 2, 4))
    chain = DecodingSpec(method="mtp", speculative_tokens=4)
    assert (chain.proposals, chain.verify_positions, chain.draft_widths) == (4, 5, (1, 1, 1, 1))  # root + 4
    assert DecodingSpec().verify_positions == 1
    assert spec.tree_level_acceptance(0.6, 1) == pytest.approx(0.6)
    assert spec.tree_level_acceptance(0.6, 3) == pytest.approx(1 - 0.4**3)


def test_default_acceptance_decays_with_position_and_reproduces_spec02_lengths():
    """No acceptance given: 0.92, 0.72, 0.36, then halving (TensorRT-LLM's MTP, SPEC-02). Mean
    tokens per step by hand: k=1 1.92; k=2 1 + 0.92 + 0.6624 = 2.5824; k=3 + 0.2385 = 2.8209."""
    from simdecode.costmodel.speculative import accepted_probabilities, default_acceptance, mean_tokens

    assert default_acceptance(5) == [0.92, 0.72, 0.36, 0.18, 0.09]
    lengths = [mean_tokens(accepted_probabilities(default_acceptance(k), k)) for k in (1, 2, 3, 4, 5)]
    assert lengths[:3] == pytest.approx([1.92, 2.5824, 2.8209], abs=1e-4)
    gains = [b - a for a, b in zip(lengths, lengths[1:])]
    assert all(g2 < g1 for g1, g2 in zip(gains, gains[1:]))  # each proposal adds less than the last
    assert gains[-1] < 0.01                                    # the fifth adds almost nothing
