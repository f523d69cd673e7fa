"""Mixture-of-experts under batching and expert parallelism (physics.md 4.4; serving issue part 6)."""

from __future__ import annotations

import numpy as np
import pytest

from simdecode.costmodel import architecture as arch
from simdecode.costmodel import modules, moe
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.plan import Stream, build_stage_plan
from simdecode.scenario.schema import Scenario


def dep(model="mixtral-8x7b", tp=8, ep=1, correlation=0.0) -> Deployment:
    spec = {"preset": model, "routing_correlation": correlation}
    return Deployment.from_scenario(Scenario.model_validate(
        {"model": spec, "hardware": {"gpu": "h100-sxm"}, "parallelism": {"tp": tp, "ep": ep}}))


def test_correlation_shrinks_the_union_of_a_sequences_tokens():
    # 1 sequence, 4 tokens (a prefill chunk or a verify step): 1 + 3 (1 - rho) independent draws
    assert arch.effective_routing_tokens(1, 4, 0.0) == 4
    assert arch.effective_routing_tokens(1, 4, 0.5) == pytest.approx(2.5)
    assert arch.effective_routing_tokens(1, 4, 1.0) == 1        # every token reuses the first's experts
    assert arch.effective_routing_tokens(8, 8, 0.9) == 8        # decode: different sequences stay independent
    prefill = BatchShape.mixed([(0, 64, True)])
    independent = modules.mlp(dep(), 0, prefill)[0]
    correlated = modules.mlp(dep(correlation=0.8), 0, prefill)[0]
    assert correlated < independent


def test_expected_max_local_experts_matches_a_monte_carlo_of_balls_into_bins():
    rng = np.random.default_rng(0)
    E, k, ep, T = 64, 4, 8, 2
    trials = 20_000
    counts = np.zeros(trials)
    for t in range(trials):
        touched = set()
        for _ in range(T):
            touched.update(rng.choice(E, size=k, replace=False).tolist())
        per_gpu = np.bincount(np.array(sorted(touched)) // (E // ep), minlength=ep)
        counts[t] = per_gpu.max()
    predicted = arch.expected_max_local_experts(E, k, T, ep)
    # the model treats experts as touched independently (q each): close to, not exactly, the
    # without-replacement draw
    assert predicted == pytest.approx(counts.mean(), rel=0.06)
    assert arch.expected_max_local_experts(E, k, T, 1) == pytest.approx(arch.expected_distinct_experts(E, k, T))


def test_expert_parallelism_reads_more_at_batch_1_and_the_same_at_large_batch():
    one = BatchShape.decode([100])
    many = BatchShape.decode([100] * 512)
    tp_read = modules.mlp(dep(ep=1), 0, one)[0]
    ep_read = modules.mlp(dep(ep=8), 0, one)[0]
    assert ep_read > 2 * tp_read          # Mixtral: the busiest GPU holds a whole routed expert
    assert modules.mlp(dep(ep=8), 0, many)[0] == pytest.approx(modules.mlp(dep(ep=1), 0, many)[0], rel=0.01)
    assert dep(ep=8).weight_bytes_per_gpu(0) == dep(ep=1).weight_bytes_per_gpu(0)   # same storage


def test_expert_parallel_plan_dispatches_and_combines_instead_of_all_reducing():
    plan = build_stage_plan(dep(ep=8), 0, BatchShape.decode([100]))
    comm = [op.name for op in plan if op.stream is Stream.COMM]
    assert "L0.moe.dispatch" in comm and "L0.moe.combine" in comm
    assert "L0.mlp.allreduce" not in comm and "L0.attn.allreduce" in comm
    ops = {op.name: op for op in plan}
    dispatch = plan.template.slots.index(next(s for s in plan.template.slots if s.name == "L0.moe.dispatch"))
    assert dispatch in ops["L0.mlp"].after     # the experts wait for their tokens
    assert ops["L0.moe.combine"].cost.algorithm == "all-to-all"


@pytest.mark.parametrize("bad, message", [
    ({"model": "llama-3.1-8b", "parallelism": {"tp": 8, "ep": 2}}, "dense"),
    ({"model": "mixtral-8x7b", "parallelism": {"tp": 2, "ep": 4}}, "divide tp"),
    ({"model": "mixtral-8x7b", "parallelism": {"tp": 8, "ep": 8, "tp_mode": "ladder"}}, "megatron"),
])
def test_expert_parallel_checks(bad, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        Scenario.model_validate({"hardware": {"gpu": "h100-sxm"}, **bad})


def _deepseek(runtime: str, gpu: str = "h200") -> Deployment:
    return Deployment.from_scenario(Scenario.model_validate(
        {"model": "deepseek-v3", "hardware": {"gpu": gpu, "gpus_per_node": 8}, "runtime": runtime,
         "precision": {"weights": "fp8", "kv_cache": "fp8", "activations": "bf16"}, "parallelism": {"tp": 8}}))


def test_trtllm_serve_streams_its_fp8_experts_at_the_hopper_grouped_gemm_share():
    """TensorRT-LLM's PyTorch backend runs DeepSeek's fp8 block-scaled experts in DeepGEMM's grouped
    GEMM on Hopper (moe.grouped_gemm_efficiency): the share measured for that kernel on H200 (0.82,
    gemm_stream), not trt-llm's 0.7. By hand, one sequence at tp 8, ep 1: the step's 8 routed experts
    (256 (1 - (1 - 8/256)^1) = 8), each 3 x 7168 x 2048 = 44,040,192 weights split 8 ways, at 1 B a
    weight plus one fp32 scale per 128 x 128 block (4 / 16384 = 1/4096 B): 44,040,192 x (1 + 1/4096)
    = 44,050,944 B, streamed at 0.82 x 4.8 TB/s = 3.936 TB/s: 11.19 us (13.11 us at 0.7)."""
    from simdecode.costmodel.efficiency import part_seconds

    d = _deepseek("trtllm-serve")
    routed = [p for p in moe.parts(d, BatchShape.decode([1000]), 5) if p.term == "experts"][0]
    assert routed.hbm_bytes == pytest.approx(44_050_944)
    assert routed.memory_efficiency == 0.82
    busy, _ = part_seconds(routed, 4.8e12 * routed.memory_efficiency, 4e-6)
    assert busy == pytest.approx(11.19e-6, rel=1e-3)
    assert moe.grouped_gemm_efficiency(_deepseek("trt-llm")) is None            # NIM's executor: its 0.7
    assert moe.grouped_gemm_efficiency(_deepseek("trtllm-serve", "b200")) is None  # not measured off Hopper
    assert moe.grouped_gemm_efficiency(_deepseek("vllm")) == 0.81                # its own figure first
