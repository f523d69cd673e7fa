"""The token Gantt chart agrees with explain: the same token time, lock-step waits drawn on a
lock-step pipeline (Groq), the weight decode named where it decides an op's time."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdecode.plots.gantt import token_segments
from simdecode.present.explain import explain
from simdecode.scenario.loader import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.mark.parametrize("name", ["groq-llama-2-70b-576xlpu", "cerebras-llama-3.1-70b-4xwse3",
                                  "pipeline-depth-vs-ttft"])
def test_the_gantt_token_takes_what_explain_says(name: str) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    data, told = token_segments(scenario), explain(scenario)
    assert data["total_s"] == pytest.approx(told["total_s"], rel=1e-9)
    waits = [seg for seg in data["segments"] if seg[3] == "lock-step wait"]
    assert sum(seg[2] for seg in waits) == pytest.approx(told["lockstep_wait_s"], rel=1e-9, abs=1e-15)
    assert bool(waits) == name.startswith("groq")  # only the LPUs run one schedule in lock-step


def test_lpu_int8_ops_are_drawn_as_weight_dequantisation() -> None:
    """Llama-2-70B int8 on LPUs without int8 rates: explain names the weight dequantisation the
    bottleneck, and the Gantt draws those ops as such, not as memory-bound compute."""
    data = token_segments(load_scenario(SCENARIOS / "groq-llama-2-70b-576xlpu.yaml"))
    busy = {}
    for _, _, duration, kind in data["segments"]:
        busy[kind] = busy.get(kind, 0.0) + duration
    assert busy["weight dequantisation"] > 10 * busy.get("memory-bound compute", 0.0)
