from __future__ import annotations

import pytest

from simdecode import simulate
from simdecode.plots.parallel import pipeline_depth, tp_scaling
from simdecode.scenario.schema import Scenario


def run(**parallelism_and_link):
    link = parallelism_and_link.pop("link", "nvlink4")
    return simulate(Scenario.model_validate({
        "model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm", "intra_node_link": link}, "runtime": "vllm",
        "parallelism": parallelism_and_link,
        "workload": {"requests": 1, "prompt_tokens": 128, "output_tokens": 8}, "simulation": {"fidelity": "step"},
    }))


def test_tp_scaling_plot_draws_the_summary_and_marks_the_crossover():
    nvlink, pcie = run(tp=8), run(tp=8, link="pcie5")
    ax = tp_scaling([nvlink, pcie], labels=["NVLink", "PCIe"])
    lines = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert list(lines[1].get_xdata()) == [1, 2, 4, 8]
    expected = pcie.summary()["tp_scaling"]["per_request_tps"]
    assert list(lines[1].get_ydata()) == pytest.approx([expected[k] for k in ("1", "2", "4", "8")])
    assert any("stops at tp 2" in text.get_text() for text in ax.texts)   # PCIe: vLLM runs NCCL above 2
    assert not any(text.get_color() == lines[0].get_color() for text in ax.texts)  # NVLink still rising


def test_pipeline_depth_plot_orders_by_depth():
    results = [run(tp=1, pp=pp) for pp in (4, 1, 2)]
    ax = pipeline_depth(results)
    speed = ax.get_lines()[0]
    assert list(speed.get_xdata()) == [1, 2, 4]
    ttft = ax.right_ax.get_lines()[0].get_ydata()
    assert list(ttft) == sorted(ttft)            # TTFT does not fall with depth


def test_pipeline_depth_plot_starts_at_zero_with_a_legend_and_says_what_was_fixed():
    ax = pipeline_depth([run(tp=1, pp=pp) for pp in (1, 2)])
    assert ax.get_ylim()[0] == 0 and ax.right_ax.get_ylim()[0] == 0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["tokens/s per request (left)", "TTFT (right)"]
    assert "tp 1 per stage held fixed" in ax.get_title()
