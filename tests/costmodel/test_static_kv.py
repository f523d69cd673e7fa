"""Attention over a static KV cache reads every allocated position (costmodel/static_kv.py).

Source: gpt-fast ``model.py`` (KVCache of max_seq_length; scaled_dot_product_attention over the whole
cache with a causal mask row), the same code in SafeAILab/EAGLE's ``eaglefast`` branch
(``model/llama_fast.py``), whose MT-bench harness allocates 2,000 positions (``naivegenerate``).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel import modules, static_kv
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.scenario.schema import Scenario


def dep(static: int | None, model: str = "llama-2-13b") -> Deployment:
    runtime = {"preset": "gpt-fast", **({"static_kv_cache_tokens": static} if static else {})}
    return Deployment.from_scenario(Scenario.model_validate({
        "model": model, "hardware": {"gpu": "a100-80gb"}, "runtime": runtime,
        "precision": {"weights": "bf16", "kv_cache": "bf16"}}))


def _attention_bytes_and_flops(d: Deployment, shape: BatchShape) -> tuple[float, float]:
    parts = modules.attention_parts(d, 0, shape)
    return sum(p.hbm_bytes for p in parts), sum(p.flops for p in parts)


def test_a_decode_step_reads_the_whole_cache_by_hand() -> None:
    # Llama-2-13B (40 heads x 128, no GQA): K and V of one token in one layer = 2 x 5120 values x 2 B
    # = 20,480 B. At context 300 with a 2,000-position cache one layer reads 1,700 more positions:
    # 1,700 x 20,480 = 34,816,000 B more, and scores 1,699 more keys: 40 heads x 4 x 128 FLOPs each
    # = 34,795,520 FLOPs more (301 pairs -> 2,000).
    shape = BatchShape.decode([300])
    b0, f0 = _attention_bytes_and_flops(dep(None), shape)
    b1, f1 = _attention_bytes_and_flops(dep(2000), shape)
    assert b1 - b0 == pytest.approx(1700 * 20480)
    assert f1 - f0 == pytest.approx(40 * 4 * 128 * 1699)
    # 40 layers: 1.3926 GB more per token, 0.85 ms at gpt-fast's 80% of 2,039 GB/s
    assert 40 * (b1 - b0) / (0.8 * 2039e9) == pytest.approx(0.854e-3, rel=1e-3)


def test_a_context_longer_than_the_cache_is_read_as_it_is() -> None:
    assert static_kv.read_tokens_and_pairs(2000, 1, 1, 2500, 2501) == (2500, 2501)
    assert static_kv.read_tokens_and_pairs(2000, 4, 4, 400, 404) == (8000, 8000)  # four sequences


@given(context=st.integers(0, 1999), static=st.integers(1, 4096))
def test_a_static_cache_never_reads_less_than_the_context(context: int, static: int) -> None:
    kv, pairs = static_kv.read_tokens_and_pairs(static, 1, 1, context, context + 1)
    assert kv >= context and pairs >= context + 1 and kv >= static


def test_step_time_with_the_static_cache_does_not_grow_with_the_context() -> None:
    """With 2,000 positions allocated, a step at context 50 costs what one at 1,500 does (the whole
    cache is read either way); without, the later step is dearer."""
    for static, same in ((2000, True), (None, False)):
        d = dep(static)
        early = _attention_bytes_and_flops(d, BatchShape.decode([50]))
        late = _attention_bytes_and_flops(d, BatchShape.decode([1500]))
        assert (early == pytest.approx(late)) is same
