"""The pipeline lesson (issue 10, part 4), on scenarios/pipeline-depth-vs-ttft.yaml shortened.

Simulated: at one request in flight, per-request tokens/s never rises with depth and TTFT never
falls; with 16 in flight, pp 1 is short of KV memory and aggregate tokens/s rises with depth.
Analytic (explain): the same story in numbers, and the KV capacity it uses is the engine's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simdecode import load_scenario
from simdecode.costmodel.deployment import Deployment
from simdecode.engine.simulation import kv_capacity_blocks
from simdecode.present.explain import explain, render_explanation
from simdecode.analysis.pipeline import kv_capacity_tokens, layout, pipeline_lesson
from simdecode.sweep import plan_sweep, run_sweep

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "pipeline-depth-vs-ttft.yaml"
SHORT = ["workload.requests=16", "workload.output_tokens=32", "simulation.fidelity=step"]


@pytest.fixture(scope="module")
def rows():
    plan = plan_sweep(SCENARIO, SHORT, ["parallelism.pp=1,2,4,8", "workload.arrival.concurrency=1,16"])
    return run_sweep(plan, jobs=1).rows


def test_one_request_gets_no_faster_and_waits_no_less_with_depth(rows):
    single = sorted((r for r in rows if r["workload.arrival.concurrency"] == 1), key=lambda r: r["parallelism.pp"])
    assert [r["parallelism.pp"] for r in single] == [1, 2, 4, 8]
    assert {r["resolved.parallelism.tp"] for r in single} == {2}          # tp held fixed, GPUs added per stage
    speeds = [r["per_request_tps.mean"] for r in single]
    ttfts = [r["ttft_ms.mean"] for r in single]
    assert all(b <= a for a, b in zip(speeds, speeds[1:])), speeds
    assert all(b >= a for a, b in zip(ttfts, ttfts[1:])), ttfts


def test_aggregate_rises_with_depth_when_pp1_is_short_of_kv_memory(rows):
    busy = sorted((r for r in rows if r["workload.arrival.concurrency"] == 16), key=lambda r: r["parallelism.pp"])
    assert busy[0]["bottleneck"] == "kv-capacity"
    rates = [r["aggregate_tps"] for r in busy]
    assert all(b >= a for a, b in zip(rates, rates[1:])), rates
    assert rates[1] > 2 * rates[0]          # pp 2 holds all 16 requests where pp 1 held 4


@pytest.mark.parametrize("pp", [1, 2, 4])
def test_kv_capacity_is_the_engines(pp):
    scenario = load_scenario(SCENARIO, [f"parallelism.pp={pp}"])
    dep = Deployment.from_scenario(scenario)
    assert kv_capacity_tokens(scenario, dep) == kv_capacity_blocks(scenario, dep) * scenario.scheduler.kv_block_tokens


def test_layout_by_hand_for_pp1():
    # 2 x H100 (81,559 MiB each, 86.6% usable): 74.06 GB - 70.55 GB of bf16 weights - 3.10 GB of
    # vLLM's workspace (1 GiB + 8192 tokens x 2 B x (2 x 8192 + 3 x 28672 / 2) + 1024 x 128256 x 8 B),
    # over 80 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes / 2 GPUs = 163,840 B per token per GPU
    scenario = load_scenario(SCENARIO, ["parallelism.pp=1", "workload.arrival.concurrency=16"])
    dep = Deployment.from_scenario(scenario)
    workspace = 2**30 + 8192 * 2 * (2 * 8192 + 3 * 28672 / 2) + 1024 * 128256 * 8
    budget = 0.866 * 81559 * 2**20 - dep.weight_bytes_per_gpu(0) - workspace
    assert dep.kv_bytes_per_token_per_gpu(0) == 80 * 8 * 128 * 2 * 2 / 2
    expected = int(budget / 163_840) // 16 * 16
    assert expected == 2496
    one = layout(scenario, 1, 16)
    assert one["kv_capacity_tokens"] == expected
    assert one["requests_fit"] == expected // 640 and one["in_flight"] == min(16, expected // 640)


def test_explain_says_why_aggregate_rises(capsys):
    scenario = load_scenario(SCENARIO, ["parallelism.pp=2", "workload.arrival.concurrency=16"])
    lesson = pipeline_lesson(scenario)
    assert lesson["here"]["in_flight"] == 16 and lesson["pp1"]["in_flight"] < 16
    assert lesson["here"]["aggregate_tps"] > 3 * lesson["pp1"]["aggregate_tps"]
    assert lesson["here"]["token_s"] >= lesson["pp1"]["token_s"]      # one request: no faster
    text = render_explanation(explain(scenario))
    flat = " ".join(text.split())
    assert "short of KV memory" in flat and "never speeds one request up" in flat and "TTFT" in flat


def test_explain_says_depth_adds_no_throughput_when_memory_bound_and_kv_suffices():
    scenario = load_scenario(SCENARIO, ["parallelism.tp=4", "parallelism.pp=2", "workload.arrival.concurrency=16"])
    lesson = pipeline_lesson(scenario)
    assert lesson["pp1"]["in_flight"] == 16
    assert lesson["here"]["aggregate_tps"] == pytest.approx(lesson["pp1"]["aggregate_tps"], rel=0.1)
    assert "hardly any throughput" in lesson["sentence"]


def test_explain_at_pp1_points_to_a_second_stage_only_when_kv_limits():
    short = pipeline_lesson(load_scenario(SCENARIO, ["parallelism.pp=1", "workload.arrival.concurrency=16"]))
    assert short is not None and "KV cache is the limit" in short["sentence"]
    assert pipeline_lesson(load_scenario(SCENARIO, ["parallelism.pp=1", "workload.arrival.concurrency=1"])) is None


def test_aggregate_by_hand_from_the_stage_times():
    # physics.md 3.2: m micro-batches of b sequences, p stages of T_s, hops T_hop:
    # Tc = max(sum T_s + (p - 1) T_hop, m max T_s); aggregate = m b / Tc
    from simdecode.costmodel import collectives
    from simdecode.costmodel.batch import BatchShape
    from simdecode.costmodel.fold import fold
    from simdecode.costmodel.plan import build_stage_plan

    scenario = load_scenario(SCENARIO, ["parallelism.pp=4"])
    got = layout(scenario, 4, 16)
    assert (got["lanes"], got["micro_batch"], got["in_flight"]) == (4, 4, 16)
    dep = Deployment.from_scenario(scenario)
    shape = BatchShape.decode([512 + 128 // 2] * 4)
    stages_s = [fold(build_stage_plan(dep, s, shape)).makespan_s for s in range(4)]
    hop_s = collectives.p2p(4 * 8192 * 2, dep.pp_link, dep.runtime).time_s   # 4 tokens x hidden 8192 x 2 B
    cycle_s = max(sum(stages_s) + 3 * hop_s, 4 * max(stages_s))
    assert got["aggregate_tps"] == pytest.approx(16 / cycle_s, rel=1e-12)
    assert 0.02 < cycle_s < 0.05      # about one 70B token on 2 H100s (~34 ms): tokens/s in the hundreds
