"""A replica's accounting and routing, end to end through :func:`simdecode.simulate`.

- pipeline bubble: one request at a time on p uniform stages keeps each stage busy 1/p of the
  time, so the bubble share is (p - 1) / p;
- requests go to replicas round-robin, and to pipeline lanes so stages overlap;
- requests longer than the KV cache are rejected and still counted.
"""

from __future__ import annotations

import math

import pytest

from simdecode import simulate
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.feasibility import check_fits
from simdecode.costmodel.memory import activation_workspace_bytes
from simdecode.errors import ScenarioError
from simdecode.scenario.schema import Scenario


def scenario(**sections) -> Scenario:
    data = {"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"},
            "workload": {"requests": 2, "prompt_tokens": 16, "output_tokens": 8}}
    data.update(sections)
    return Scenario.model_validate(data)


@pytest.mark.parametrize("fidelity", ["step", "layer"])
def test_one_request_at_a_time_on_eight_stages_is_seven_eighths_bubble(fidelity):
    s = scenario(model="llama-3.1-8b", parallelism={"tp": 1, "pp": 8}, simulation={"fidelity": fidelity},
                 workload={"arrival": {"kind": "closed", "concurrency": 1}, "requests": 2,
                           "prompt_tokens": 16, "output_tokens": 8})
    assert s.hardware.total_gpus == 8
    shares = simulate(s).summary()["time_breakdown"]
    assert math.isclose(shares["pipeline_bubble"], 7 / 8, abs_tol=0.05)
    assert shares["idle"] < 0.01  # the replica always has a request in flight


def test_no_pipeline_no_bubble():
    shares = simulate(scenario()).summary()["time_breakdown"]
    assert shares["pipeline_bubble"] == 0.0
    assert shares["communication"] == 0.0  # tp = 1: no collectives


def test_more_micro_batches_in_flight_shrink_the_bubble():
    def bubble(concurrency):
        s = scenario(parallelism={"pp": 4},
                     workload={"arrival": {"kind": "closed", "concurrency": concurrency}, "requests": 8,
                               "prompt_tokens": 16, "output_tokens": 8})
        return simulate(s).summary()["time_breakdown"]["pipeline_bubble"]

    one, four = bubble(1), bubble(4)
    assert math.isclose(one, 3 / 4, abs_tol=0.05)
    assert four < one - 0.2


def test_pipeline_lanes_overlap_requests():
    """pp = 2, two requests at once: in separate lanes they share the run, not queue behind."""
    def makespan(concurrency):
        s = scenario(parallelism={"pp": 2},
                     workload={"arrival": {"kind": "closed", "concurrency": concurrency}, "requests": 2,
                               "prompt_tokens": 16, "output_tokens": 8})
        return simulate(s).simulated_s

    assert makespan(2) < 0.75 * makespan(1)


def test_requests_go_to_replicas_round_robin():
    s = scenario(parallelism={"dp": 3},
                 workload={"arrival": {"kind": "closed", "concurrency": 3}, "requests": 7,
                           "prompt_tokens": 16, "output_tokens": 4})
    routed = sorted((r.id, r.replica) for r in simulate(s).requests)
    assert routed == [(i, i % 3) for i in range(7)]


def test_tensor_parallel_one_has_no_network_time():
    result = simulate(scenario(simulation={"fidelity": "layer"}))
    g = result.gpu
    assert g.comm_s == 0.0 and g.contention_s == 0.0
    assert result.summary()["allreduce_share"] == 0.0


# ---- rejection ------------------------------------------------------------------------------

def _cache_of(tokens: int, block: int, prompt) -> dict:
    """Llama-3.2-1B on one H100 with room for ``tokens`` KV tokens after the weights."""
    data = {"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"},
            "workload": {"arrival": {"kind": "poisson", "rate": 10.0}, "requests": 40, "prompt_tokens": prompt,
                         "output_tokens": 98}}
    s = Scenario.model_validate(data)
    dep = Deployment.from_scenario(s)
    workspace = activation_workspace_bytes(dep, s.scheduler.max_batched_tokens, s.scheduler.max_batch_size)
    budget = dep.weight_bytes_per_gpu(0) + workspace + tokens * dep.kv_bytes_per_token_per_gpu(0)
    data["scheduler"] = {"kv_block_tokens": block, "memory_utilization": budget / s.hardware.gpu.memory_bytes}
    return data


def test_requests_longer_than_the_kv_cache_are_rejected_and_counted():
    """The memory check sizes for the mean request; a length distribution's long tail (prompts
    uniform in 1,000..9,000 tokens, a cache of ~6,000) is rejected one request at a time."""
    result = simulate(Scenario.model_validate(_cache_of(6000, 16, {"dist": "uniform", "low": 1000, "high": 9000})))
    counts = result.summary()["requests"]
    capacity = result.kv_capacity_blocks * 16
    too_long = [r for r in result.rejected]
    assert 0 < counts["rejected"] < counts["submitted"] == 40
    assert counts["completed"] + counts["rejected"] == counts["submitted"]
    assert all(reason == "longer than the whole KV cache" for _, reason in too_long)
    assert all(r.prompt_tokens + r.output_tokens - 1 <= capacity for r in result.requests)


def test_the_memory_check_counts_whole_kv_blocks():
    """4,000 + 98 tokens need 4,097 slots: two blocks of 4,096 tokens, while ~6,000 tokens of room
    hold one. The check refuses it; the same room in 16-token blocks serves every request."""
    refused = Scenario.model_validate(_cache_of(6000, 4096, 4000))  # valid as a file says it
    with pytest.raises(ScenarioError, match="does not fit") as info:
        check_fits(refused)
    assert info.value.key_path == "model"
    with pytest.raises(ScenarioError, match="does not fit"):
        simulate(refused)  # simulate checks before it builds anything
    result = simulate(Scenario.model_validate(_cache_of(6000, 16, 4000)))
    assert result.summary()["requests"]["rejected"] == 0


