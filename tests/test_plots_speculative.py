from __future__ import annotations

import pytest

from simdecode import simulate
from simdecode.plots.speculative import accepted_histogram, speculation_speedup
from simdecode.scenario.schema import Scenario


def run(concurrency: int = 1, k: int = 2, acceptance: float = 0.8, method: str = "draft"):
    return simulate(Scenario.model_validate({
        "model": "llama-3.1-8b", "hardware": {"gpu": "h100-sxm"},
        "decoding": {"method": method, "draft_model": "llama-3.2-1b", "speculative_tokens": k, "acceptance": acceptance},
        "workload": {"arrival": {"kind": "closed", "concurrency": concurrency}, "requests": concurrency,
                     "prompt_tokens": 64, "output_tokens": 32},
        "simulation": {"fidelity": "step"},
    }))


def test_speedup_plot_draws_one_point_per_result_in_x_order():
    results = [run(concurrency=c) for c in (4, 1, 16)]
    ax = speculation_speedup(results, x="batch")
    per_request = ax.get_lines()[0]
    assert list(per_request.get_xdata()) == [1, 4, 16]
    expected = [r.summary(baseline=True)["speculative"]["speedup_vs_standard"] for r in sorted(results, key=lambda r: r.scenario.workload.arrival.concurrency)]
    assert list(per_request.get_ydata()) == pytest.approx(expected)
    assert [r.scenario.decoding.acceptance for r in results] == [0.8] * 3
    ax = speculation_speedup([run(acceptance=a) for a in (0.5, 0.9)], x="acceptance")
    assert list(ax.get_lines()[0].get_xdata()) == [0.5, 0.9]


def test_histogram_and_bad_inputs():
    result = run(k=3)
    ax = accepted_histogram(result)
    heights = [patch.get_height() for patch in ax.patches]
    assert heights == result.summary()["speculative"]["accepted_histogram"] and len(heights) == 4
    with pytest.raises(ValueError, match="x must be"):
        speculation_speedup([result], x="temperature")
    standard = run(method="standard")
    with pytest.raises(ValueError, match="standard decoding"):
        accepted_histogram(standard)
