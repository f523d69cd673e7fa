"""The step-terms figure and explain's breakdown by module (issue: "MoE routing and permute: 0.9 ms
of 4.1 ms"): the terms add up to the step, and MoE routing appears only for MoE models."""

from __future__ import annotations

import pytest

from simdecode.present.explain import explain, render_explanation
from simdecode.plots.step import SEGMENTS, step_terms
from simdecode.scenario.schema import Scenario

DEEPSEEK = {"model": "deepseek-v3", "runtime": "vllm", "hardware": {"gpu": "h200"}, "parallelism": {"tp": 8}}


@pytest.fixture(scope="module")
def runs():
    s = Scenario.model_validate(DEEPSEEK)
    return [explain(s, context_tokens=1024, batch=b) for b in (1, 16, 128)]


def test_segments_add_up_to_the_step_time(runs) -> None:
    for d in runs:
        assert sum(read(d) for _, read in SEGMENTS) == pytest.approx(d["total_s"], rel=1e-9)


def test_experts_grow_with_the_batch_and_launches_do_not(runs) -> None:
    experts = [d["terms_s"]["experts"]["busy_s"] for d in runs]
    launches = [d["parts_s"]["launch"] for d in runs]
    assert experts[0] < experts[1] < experts[2]          # the union of experts read grows
    assert launches[0] == pytest.approx(launches[2])     # the kernel count does not depend on the batch
    assert launches[0] > 0.5 * runs[0]["total_s"]        # at batch 1 fixed costs dominate


def test_figure_has_one_bar_per_batch_on_a_zero_based_axis(runs) -> None:
    ax = step_terms(runs, "title")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["batch 1", "batch 16", "batch 128"]
    assert ax.get_ylim()[0] == 0
    tops = [p.get_y() + p.get_height() for p in ax.patches]
    assert max(tops) * 1e-3 == pytest.approx(runs[2]["total_s"], rel=1e-9)
    assert "MoE routing and permute" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_explain_names_moe_routing_for_moe_models_only(runs) -> None:
    text = render_explanation(runs[0])
    assert "MoE routing and permute:" in text and "MoE experts:" in text and "attention:" in text
    dense = explain(Scenario.model_validate({"model": "llama-3.1-8b", "hardware": {"gpu": "h100-sxm"}}))
    assert "routing" not in dense["terms_s"] and "MoE" not in dense["terms_sentence"]
    assert set(dense["terms_s"]) == {"attention", "mlp", "embedding", "lm_head", "residual stream"}
