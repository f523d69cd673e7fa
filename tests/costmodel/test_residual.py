"""The residual stream's fused add + norm: bytes on every tensor-parallel rank, not divided by tp."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.modules import attention_parts, mlp_parts
from simdecode.costmodel.residual import PASSES_PER_BLOCK, residual_bytes
from simdecode.scenario.schema import Scenario


def test_residual_bytes_hand_computed():
    # 4 passes x 1024 tokens x 8192 hidden x 2 B (bf16) = 67,108,864 B per block
    assert residual_bytes(1024, 8192, 2.0) == pytest.approx(67_108_864, rel=1e-12)
    # one decode token of GPT-20B (hidden 6144) in fp16: 4 x 6144 x 2 = 49,152 B
    assert residual_bytes(1, 6144, 2.0) == pytest.approx(49_152, rel=1e-12)


def _dep(tp: int):
    from simdecode.costmodel.deployment import Deployment

    scenario = Scenario.model_validate({"model": "llama-3.1-70b", "precision": {"weights": "fp8"},
                                        "hardware": {"gpu": "h200", "gpus_per_node": 8}, "runtime": "trt-llm",
                                        "parallelism": {"tp": tp}})
    return Deployment.from_scenario(scenario)


@pytest.mark.parametrize("tp", [1, 8])
def test_each_block_moves_the_whole_hidden_state_on_every_rank(tp):
    """Llama-3.1-70B (hidden 8192), 1,024 prefill tokens, bf16 activations: 67.1 MB per block on
    every GPU at tp 1 and at tp 8 alike (the weights' bytes shrink 8x, these do not)."""
    dep = _dep(tp)
    shape = BatchShape.mixed([(0, 1024, True)])
    for parts in (attention_parts(dep, 0, shape), mlp_parts(dep, 0, shape)):
        (res,) = [p for p in parts if p.term == "residual stream"]
        assert res.hbm_bytes == pytest.approx(4 * 1024 * 8192 * 2, rel=1e-12)
        assert res.flops == 0 and res.kernels == 0


@settings(max_examples=30, deadline=None)
@given(tokens=st.integers(1, 100_000), hidden=st.integers(1, 65_536), act=st.sampled_from([1.0, 2.0, 4.0]))
def test_residual_bytes_are_linear_in_tokens_and_hidden(tokens, hidden, act):
    b = residual_bytes(tokens, hidden, act)
    assert b == pytest.approx(PASSES_PER_BLOCK * tokens * hidden * act, rel=1e-12)
    assert residual_bytes(2 * tokens, hidden, act) == pytest.approx(2 * b, rel=1e-12)
