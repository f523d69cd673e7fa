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


# ---- the Hopper fp8 grouped GEMM's rate by rows per expert (costmodel/grouped_gemm_rate.py) ----

def test_deepgemm_pair_share_by_hand() -> None:
    from simdecode.costmodel import grouped_gemm_rate as g

    # DeepGEMM README (H800): 256 rows per expert, FC1 932 and FC2 815 TFLOP/s; FC1 does 2/3 of the FLOPs
    rate = 1 / (2 / 3 / 932 + 1 / 3 / 815)                  # 889.4 TFLOP/s
    assert g.hopper_fp8_grouped_share(256) == pytest.approx(rate / 1979)
    assert g.hopper_fp8_grouped_share(256) == pytest.approx(0.4494, abs=1e-4)
    # 8,192 rows (contiguous): 1297 and 1099 TFLOP/s -> 1,223.5 = 0.618 of the peak
    assert g.hopper_fp8_grouped_share(8192) == pytest.approx(1 / (2 / 3 / 1297 + 1 / 3 / 1099) / 1979)
    # held at the table's ends, interpolated in log2(rows) between: 2,048 is halfway from 1,024 to 4,096
    assert g.hopper_fp8_grouped_share(16) == g.hopper_fp8_grouped_share(256)
    assert g.hopper_fp8_grouped_share(65536) == g.hopper_fp8_grouped_share(8192)
    mid = (g.hopper_fp8_grouped_share(1024) + g.hopper_fp8_grouped_share(4096)) / 2
    assert g.hopper_fp8_grouped_share(2048) == pytest.approx(mid)


def test_deepseek_prefill_experts_at_deepgemms_rate_on_h200() -> None:
    # DeepSeek-V3 fp8, tp 8 = ep 8 under trtllm-serve (compute_efficiency 0.5): 8,192 tokens x 8 / 256 experts
    # = 256 rows per expert; each GPU runs 8192 x 8 / 8 token-expert pairs x 2 x 3 x 7168 x 2048 FLOPs
    # = 721.6 GFLOP at 889.4 TFLOP/s (not 0.5 x 1,979 = 989.5): 811.3 us
    d = Deployment.from_scenario(Scenario.model_validate(
        {"model": "deepseek-v3", "hardware": {"gpu": "h200"}, "parallelism": {"tp": 8, "ep": 8},
         "runtime": "trtllm-serve", "precision": {"weights": "fp8", "kv_cache": "fp8"}}))
    shape = BatchShape.mixed([(0, 8192, True)])
    routed = [p for p in moe.parts(d, shape, 6) if p.term == "experts"][0]
    assert routed.flops == pytest.approx(8192 * 8 / 8 * 2 * 3 * 7168 * 2048)
    assert routed.flops / routed.flops_per_s == pytest.approx(811.3e-6, rel=2e-3)
    # at 4,096 rows per expert (131,072 tokens) the table's 0.614 is above the runtime's 0.5: its own rate holds
    big = [p for p in moe.parts(d, BatchShape.mixed([(0, 131072, True)]), 6) if p.term == "experts"][0]
    assert big.flops_per_s == pytest.approx(0.5 * 1979e12)
    # bf16 experts (no fp8 math) and a GPU other than Hopper keep the runtime's rate
    bf16 = Deployment.from_scenario(Scenario.model_validate(
        {"model": "deepseek-v3", "hardware": {"gpu": "h200"}, "parallelism": {"tp": 8, "ep": 8},
         "runtime": "trtllm-serve", "precision": {"weights": "bf16"}}))
    assert not grouped_gemm_rate_applies(bf16)
    b200 = Deployment.from_scenario(Scenario.model_validate(
        {"model": "deepseek-v3", "hardware": {"gpu": "b200"}, "parallelism": {"tp": 8, "ep": 8},
         "runtime": "trtllm-serve", "precision": {"weights": "fp8"}}))
    assert not grouped_gemm_rate_applies(b200)
    h20 = Deployment.from_scenario(Scenario.model_validate(    # compute capability 9.0, 296 TFLOP/s: not measured
        {"model": "deepseek-v3", "hardware": {"gpu": "h20"}, "parallelism": {"tp": 8},
         "runtime": "sglang", "precision": {"weights": "fp8"}}))
    assert not grouped_gemm_rate_applies(h20)
    assert grouped_gemm_rate_applies(d)


def grouped_gemm_rate_applies(d: Deployment) -> bool:
    from simdecode.costmodel import grouped_gemm_rate

    return grouped_gemm_rate.applies(d)
