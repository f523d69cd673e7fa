"""The MTP draft passes of one speculative step (costmodel/mtp.py, costmodel/deployment.draft_passes):
how many tokens each pass runs (TensorRT-LLM's MTP Vanilla and MTP Eagle, tech blog 2) and the
small kernels around the passes (sampling, input shifting, acceptance), counted from
tensorrt_llm/_torch/speculative/mtp.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode import load_scenario
from simdecode.costmodel import mtp
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import draft_passes
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "mtp-deepseek-v3-8xb200.yaml"


def test_tokens_per_pass_by_hand():
    # vanilla: every module reads the last k tokens of each sequence (blog 2: "the same input sequence length")
    assert mtp.pass_tokens("vanilla", 3) == (3, 3, 3)
    # eagle: the first pass reads the k + 1 verified positions, later passes the one proposed token
    assert mtp.pass_tokens("eagle", 3) == (4, 1, 1)
    assert mtp.pass_tokens("eagle", 1) == (2,) and mtp.pass_tokens("vanilla", 1) == (1,)
    with pytest.raises(ValueError, match="MTP mode"):
        mtp.pass_tokens("medusa", 2)


def test_glue_kernels_by_hand():
    # vanilla k = 3: 44 once per step + 12 per pass -> (56, 12, 12), 80 kernels in all
    assert mtp.glue_kernels("vanilla", 3) == (56, 12, 12)
    # eagle k = 3: 26 once per step + 7 per pass -> (33, 7, 7)
    assert mtp.glue_kernels("eagle", 3) == (33, 7, 7)


@settings(max_examples=20, deadline=None)
@given(mode=st.sampled_from(mtp.MODES), k=st.integers(1, 16))
def test_passes_and_kernels_grow_with_k(mode, k):
    """k passes; the tokens run over a step never fall as k grows, and the glue is the per-step
    work once plus the per-pass work k times."""
    tokens = mtp.pass_tokens(mode, k)
    assert len(tokens) == k and all(t >= 1 for t in tokens)
    assert sum(mtp.pass_tokens(mode, k + 1)) > sum(tokens)
    assert sum(mtp.glue_kernels(mode, k)) == mtp.STEP_KERNELS[mode] + k * mtp.PASS_KERNELS[mode]


def test_vanilla_draft_passes_of_deepseek_r1_on_8x_b200_charge_320_us_of_glue_at_k3():
    """TensorRT-LLM 4 us a kernel: (44 + 3 x 12) x 4 us = 320 us of glue per verify step at k = 3."""
    s = load_scenario(SCENARIO, ["decoding.speculative_tokens=3"])
    assert s.decoding.mtp_mode == "vanilla" and s.runtime.kernel_launch_s == pytest.approx(4e-6)
    passes = draft_passes(s)
    assert [(p.tokens, p.dep.mtp_glue_kernels) for p in passes] == [(3, 56), (3, 12), (3, 12)]
    glue_s = 0.0
    for level, p in enumerate(passes):
        plan = build_stage_plan(p.dep, 0, BatchShape.mixed([(1024 + level, p.tokens, p.logits)], p.dep.window))
        (op,) = [op for op in plan if op.kind == "mtp.glue"]
        assert op.cost.hbm_bytes == 0 and op.cost.flops == 0
        assert op.after and plan.ops[op.after[-1]].kind == "gather"   # it samples the gathered logits
        glue_s += op.cost.time_s
    assert glue_s == pytest.approx(320e-6)


def test_a_vanilla_pass_of_three_tokens_reads_more_expert_bytes_than_one_token():
    """Three tokens per sequence route to ~3x the distinct experts of the bf16 MTP layer."""
    s = load_scenario(SCENARIO, ["decoding.speculative_tokens=3"])
    p = draft_passes(s)[1]
    one = fold(build_stage_plan(p.dep, 0, BatchShape.mixed([(1024, 1, 1)], p.dep.window)))
    three = fold(build_stage_plan(p.dep, 0, BatchShape.mixed([(1024, 3, 3)], p.dep.window)))
    assert three.hbm_bytes > 1.3 * one.hbm_bytes and three.makespan_s > one.makespan_s


def test_a_draft_model_keeps_one_pass_per_level_without_glue():
    """A draft model's passes: one candidate per level, no MTP kernels."""
    from simdecode.scenario.schema import Scenario

    s = Scenario.model_validate({
        "model": "llama-3.1-8b", "hardware": {"gpu": "h100-sxm"},
        "decoding": {"method": "draft", "draft_model": "llama-3.2-1b", "speculative_tokens": 2, "acceptance": 0.7},
    })
    passes = draft_passes(s)
    assert [(p.tokens, p.logits, p.dep.mtp_glue_kernels) for p in passes] == [(1, 1, 0), (1, 1, 0)]
