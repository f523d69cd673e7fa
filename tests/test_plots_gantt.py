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


@pytest.mark.parametrize("pp, groups", [(1, [1]), (8, [1] * 8), (36, [6] * 6), (16, [2] * 8), (12, [2] * 6),
                                        (17, [2, 2, 2, 2, 2, 2, 2, 3])])
def test_stage_groups_cover_every_stage_once_in_order(pp: int, groups: list[int]) -> None:
    from simdecode.plots.gantt import stage_groups

    got = stage_groups(pp)
    assert [len(g) for g in got] == groups
    assert [s for g in got for s in g] == list(range(pp))


def test_a_deep_pipeline_shares_rows_and_keeps_every_segment() -> None:
    """Groq's 36 stages: 6 pairs of rows of 6 stages each, the same segments at the same times."""
    from simdecode.plots.gantt import group_stages

    data = token_segments(load_scenario(SCENARIOS / "groq-llama-2-70b-576xlpu.yaml"))
    shown = group_stages(data)
    assert shown["stages_per_row"] == 6 and len(shown["rows"]) == 12
    assert shown["rows"][:2] == ["stages 1-6: compute", "stages 1-6: all-reduce"]
    assert sorted(seg[1:] for seg in shown["segments"]) == sorted(seg[1:] for seg in data["segments"])
    # rows stay in time order: every segment of a later row pair starts after the earlier ones end
    ends = {}
    for row, start, duration, _ in shown["segments"]:
        ends[row // 2] = max(ends.get(row // 2, 0.0), start + duration)
    starts = {}
    for row, start, _, _ in shown["segments"]:
        starts[row // 2] = min(starts.get(row // 2, float("inf")), start)
    assert all(starts[g + 1] >= ends[g] - 1e-12 for g in range(5))


@pytest.mark.parametrize("name, overrides", [("groq-llama-2-70b-576xlpu", []),
                                             ("pipeline-depth-vs-ttft", ["parallelism.pp=8"]),
                                             ("pipeline-depth-vs-ttft", [])])
def test_the_gantt_figure_stays_a_page_tall(name: str, overrides: list[str]) -> None:
    """The Groq scenario's figure was 40 inches (6,030 px) tall; now at most 10.2 inches, with the
    title saying when stages share rows."""
    from simdecode.plots.gantt import token_gantt

    scenario = load_scenario(SCENARIOS / f"{name}.yaml", overrides)
    ax = token_gantt(scenario)
    width_in, height_in = ax.figure.get_size_inches()
    assert height_in <= 10.2 + 1e-9
    assert len(ax.get_yticks()) <= 16
    grouped = scenario.parallelism.pp > 8
    assert ("stages drawn" in ax.get_title()) == grouped


def test_the_zoom_starts_where_the_layers_do_after_the_host_time() -> None:
    """The zoom into stage 1's first two layers used to start at 0 and show mostly the step's host
    time (Cerebras: all of it); it starts after the host time and says how long that was."""
    from simdecode.plots.gantt import token_gantt

    ax = token_gantt(load_scenario(SCENARIOS / "cerebras-llama-3.1-70b-4xwse3.yaml"))
    left_ms, right_ms = ax.zoom_ax.get_xlim()
    assert left_ms == pytest.approx(0.2)  # the runtime's 200 us of host time per step
    assert right_ms > left_ms and "after 200 us of host time" in ax.zoom_ax.get_title()


def test_a_single_gpu_has_no_empty_all_reduce_row_and_tp_1_rows_say_hop() -> None:
    from simdecode.plots.gantt import token_gantt

    quick = token_gantt(load_scenario(SCENARIOS / "quickstart.yaml"))  # tp 1, pp 1: nothing to communicate
    assert [t.get_text() for t in quick.get_yticklabels()] == ["stage 1: compute"]
    wafers = token_gantt(load_scenario(SCENARIOS / "cerebras-llama-3.1-70b-4xwse3.yaml"))  # tp 1, pp 4
    assert [t.get_text() for t in wafers.get_yticklabels()][:2] == ["stage 1: compute", "stage 1: hop"]


def test_no_row_is_left_empty_and_one_stage_is_not_said_to_take_turns() -> None:
    """tp 1 x pp 4: the last stage has no hop, so no 'stage 4: hop' row; nor a hop row in the zoom,
    whose window ends before stage 1's hop. pp 1: the title does not say 'only one stage works at a
    time' of a single stage."""
    from simdecode.plots.gantt import token_gantt

    wafers = token_gantt(load_scenario(SCENARIOS / "cerebras-llama-3.1-70b-4xwse3.yaml"))
    labels = [t.get_text() for t in wafers.get_yticklabels()]
    assert labels[-1] == "stage 4: compute" and labels.count("stage 3: hop") == 1
    assert [t.get_text() for t in wafers.zoom_ax.get_yticklabels()] == ["stage 1: compute"]
    assert "only one stage works at a time" in wafers.get_title()
    one = token_gantt(load_scenario(SCENARIOS / "megatron-530b-tp-vs-pp.yaml"))   # tp 16 x pp 1
    assert "only one stage" not in one.get_title() and one.get_title().endswith(" ms")
    assert [t.get_text() for t in one.get_yticklabels()] == ["stage 1: compute", "stage 1: all-reduce"]
