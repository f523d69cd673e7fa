"""A step's batch shape gathered while the step is formed (issue 15) equals BatchShape.mixed.

The policy sums the one-token decodes the step begins with as it walks them, and StepWork.shape
continues from those sums over the rest (prefill chunks, speculative verifies). The sums must be
the very floats BatchShape.mixed gives (same terms, same order), so results do not move.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel.batch import BatchShape
from simdecode.schedulers.step import StepWork
from simdecode.schedulers.request import Request


@st.composite
def step_items(draw):
    """(items, k): k one-token decodes first, then anything (chunks, completions, verifies)."""
    items = []
    k = draw(st.integers(0, 6))
    for i in range(k + draw(st.integers(0, 6))):
        prompt = draw(st.integers(1, 3000))
        recompute = draw(st.integers(0, 50))
        req = Request(id=i, arrival_s=0.0, prompt_tokens=prompt, output_tokens=10_000, recompute_tokens=recompute)
        if i < k or draw(st.booleans()):  # decoding: past the prefill
            req.prefilled = prompt + recompute
            req.generated = recompute + draw(st.integers(1, 500))
            cached = req.prompt_tokens + req.generated - 1
            new = 1 if i < k else draw(st.integers(1, 5))
        else:  # a prefill chunk, completing the prefill or not
            cached = draw(st.integers(0, prompt + recompute - 1))
            req.prefilled = cached
            new = draw(st.integers(1, prompt + recompute - cached))
        items.append((req, new, cached))
    return items, k


@given(step_items())
def test_step_shape_equals_mixed(case) -> None:
    items, k = case
    expected = BatchShape.mixed(
        ((cached, new, new if cached >= req.prefill_tokens else cached + new >= req.prefill_tokens)
         for req, new, cached in items))
    decodes = sum(1 for req, _, cached in items if cached >= req.prefill_tokens)
    plain = StepWork(0, items)
    assert plain.shape() == expected
    assert plain.decode_seqs == decodes
    kv = pairs = 0.0
    for _, _, cached in items[:k]:
        kv += cached
        pairs += cached + 1.0
    prefixed = StepWork(0, items, _decode_sums=(k, kv, pairs))
    assert prefixed.shape() == expected  # exact: the same floats
    assert prefixed.decode_seqs == decodes
    assert StepWork(0, items).decode_seqs == decodes  # counted without shape() too
