"""Steps off the CUDA graphs are host-bound (simdecode/costmodel/eager.py).

    t_step = max(t_gpu, t_host_op + n_dispatched * t_dispatch)

Hand-computed: Llama-3.1-70B at tp 8 under vLLM (15 kernels a layer) dispatches 80 x 15 = 1,200 layer
kernels, the embedding's 1 and the LM head's 2 kernels, 160 all-reduces (two a layer), the embedding's
all-reduce and the LM head's gather: 1,365; at 35 us each after vLLM's 0.3 ms of host work a step:
0.3 + 1,365 x 0.035 = 48.075 ms.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.costmodel import eager
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold, fold_slots
from simdecode.costmodel.plan import OpCost, OpSlot, PlanTemplate, StepPlan, Stream, build_stage_plan
from simdecode.engine.executor import Stage, step_timing
from simdecode.engine.topology import Fabric
from simdecode.presets import preset, resolve
from simdecode.scenario.hardware import RuntimeSpec
from simdecode.scenario.schema import Scenario


def deployment(gpu: str, tp: int, graph_tokens: int | None = 0, runtime: str = "vllm") -> Deployment:
    """Llama-3.1-70B fp8 under ``runtime`` with steps of up to ``graph_tokens`` graphed (None: all)."""
    rt = {"preset": runtime, "prefill_graph_tokens": 10**9 if graph_tokens is None else graph_tokens}
    return Deployment.from_scenario(Scenario.model_validate({
        "model": "llama-3.1-70b", "hardware": {"gpu": gpu, "gpus_per_node": 8}, "runtime": rt,
        "parallelism": {"tp": tp}, "precision": {"weights": "fp8", "kv_cache": "fp8", "embeddings": "bf16"}}))


PREFILL_1K = BatchShape.mixed([(0, 1024, True)])


def test_host_floor_is_step_overhead_plus_dispatches():
    rt = RuntimeSpec.model_validate(preset("runtimes", "vllm"))
    assert eager.EAGER_DISPATCH_S == pytest.approx(35e-6)
    assert eager.host_floor_s(rt, 1365) == pytest.approx(0.3e-3 + 1365 * 35e-6)
    assert eager.host_floor_s(rt, 1365) == pytest.approx(48.075e-3)


def test_llama70b_tp8_prefill_dispatches_1365_kernels_and_collectives():
    dep = deployment("b200", 8)
    plan = build_stage_plan(dep, 0, PREFILL_1K)
    assert eager.dispatched(plan.template.kind_counts, plan.costs, dep.rates.kernel_s) == pytest.approx(1365)
    assert plan.host_floor_s == pytest.approx(48.075e-3)


def test_b200_tp8_1k_prefill_is_host_bound_and_lasts_the_host_floor():
    """A 1k-token prefill at tp 8 takes the B200 ~20 ms as graphed: less than the host's 48 ms."""
    graphed = fold(build_stage_plan(deployment("b200", 8, graph_tokens=None), 0, PREFILL_1K))
    eager_fold = fold(build_stage_plan(deployment("b200", 8), 0, PREFILL_1K))
    assert graphed.makespan_s < 25e-3
    assert eager_fold.makespan_s == pytest.approx(48.075e-3)
    # the GPU's wait for the host is host time; compute, launch and collectives are unchanged
    assert eager_fold.host_s - graphed.host_s == pytest.approx(eager_fold.makespan_s - graphed.makespan_s)
    assert (eager_fold.compute_s, eager_fold.launch_s, eager_fold.exposed_comm_s) == \
        (graphed.compute_s, graphed.launch_s, graphed.exposed_comm_s)


def test_a_gpu_bound_prefill_is_unchanged():
    """8k tokens on one H200: seconds of GEMMs, far above 80 x 15 x 35 us = 42 ms of dispatch."""
    shape = BatchShape.mixed([(0, 8192, True)])
    graphed = fold(build_stage_plan(deployment("h200", 1, graph_tokens=None), 0, shape))
    assert fold(build_stage_plan(deployment("h200", 1), 0, shape)).makespan_s == graphed.makespan_s
    assert graphed.makespan_s > 0.2


def test_which_steps_run_eagerly():
    rt = RuntimeSpec.model_validate(preset("runtimes", "vllm"))
    assert rt.prefill_graph_tokens == 512
    assert eager.runs_eagerly(rt, BatchShape.mixed([(0, 1024, True)]))             # above the capture sizes
    assert not eager.runs_eagerly(rt, BatchShape.mixed([(0, 256, True)]))          # piecewise graph
    assert not eager.runs_eagerly(rt, BatchShape.decode([100] * 600))              # decode: always graphed
    assert not eager.runs_eagerly(rt, BatchShape.mixed([(100, 5, 5)] * 200))       # verify, not prefill
    off = rt.model_copy(update={"prefill_graph_tokens": 0})
    assert eager.runs_eagerly(off, BatchShape.mixed([(0, 2, True)] + [(50, 1, True)] * 3))  # any prefill chunk
    assert not eager.runs_eagerly(off.model_copy(update={"cuda_graphs": False}), PREFILL_1K)  # costed as eager already
    assert not eager.runs_eagerly(rt.model_copy(update={"prefill_graph_tokens": None}), PREFILL_1K)
    assert RuntimeSpec.model_validate(preset("runtimes", "sglang")).prefill_graph_tokens == 0


def test_decode_steps_never_get_a_floor():
    plan = build_stage_plan(deployment("b200", 8), 0, BatchShape.decode([1000] * 4))
    assert plan.host_floor_s == 0.0


@settings(max_examples=25, deadline=None)
@given(new=st.integers(1, 9000), cached=st.integers(0, 4000), decodes=st.integers(0, 32),
       gpu=st.sampled_from(["b200", "h200", "h100-sxm"]), tp=st.sampled_from([1, 2, 4, 8]))
def test_eager_step_is_max_of_graphed_and_host(new, cached, decodes, gpu, tp):
    shape = BatchShape.mixed([(cached, new, True)] + [(500, 1, True)] * decodes)
    graphed = build_stage_plan(deployment(gpu, tp, graph_tokens=None), 0, shape)
    eager_plan = build_stage_plan(deployment(gpu, tp), 0, shape)
    t = fold(eager_plan)
    assert t.makespan_s >= fold(graphed).makespan_s
    assert t.makespan_s == pytest.approx(max(fold(graphed).makespan_s, eager_plan.host_floor_s), rel=1e-12)
    assert fold_slots(eager_plan).makespan_s == pytest.approx(t.makespan_s, rel=1e-12)
    if new > 1:  # a prefill chunk: the floor is the same dispatches whatever the GPU
        assert eager_plan.host_floor_s > 0.04


@pytest.mark.parametrize("fidelity", ["step", "layer", "op"])
def test_every_fidelity_waits_for_the_host(fidelity):
    """A hand plan of 1 s of compute whose host needs 3 s: 3 s at every fidelity."""
    slots = (OpSlot("c0", 0, Stream.COMPUTE, "c0"), OpSlot("x0", 0, Stream.COMM, "x0", (0,)))
    costs = {"c0": OpCost(1.0), "x0": OpCost(0.5)}
    plan = StepPlan(0, PREFILL_1K, PlanTemplate(0, 1, slots, frozenset(costs)), costs, 1, None, 3.0)
    env = simpy.Environment()
    dep = deployment("h100-sxm", 1)
    proc = env.process(Stage(env, 0, 0, Fabric([], ()), fidelity, dep).run(plan, step_timing(plan)))
    env.run()
    assert proc.value == 3.0 and step_timing(plan).makespan_s == 3.0
    assert step_timing(replace(plan, host_floor_s=0.0)).makespan_s == 1.5


def test_inferencex_launch_sends_prefills_off_the_graphs():
    from simdecode.validate.inferencex_launch import launch_keys

    ar = {"custom_allreduce_max": 8 * 2**20, "allreduce_multimem": False}  # vLLM 0.10.2 (test_collectives)
    assert launch_keys("llama-3.1-70b", "b200", "vllm", "1k1k", 8, 4)["runtime"] == {
        "prefill_graph_tokens": 0, "eager_gemm_host": pytest.approx(31e-6), **ar,
        "layer_kernel_delta": 4, "fused_allreduce_tokens": 64, "layer_kernel_delta_fused": -2,
        "prefill_attention_flops": pytest.approx(392.75e12, rel=1e-4)}
    assert launch_keys("llama-3.1-70b", "h200", "vllm", "1k1k", 8, 4)["runtime"] == {"prefill_graph_tokens": 8, **ar}
    assert launch_keys("llama-3.1-70b", "h100", "vllm", "1k1k", 8, 512)["runtime"] == {
        "prefill_graph_tokens": 512, **ar}
    for model, gpu in (("deepseek-v3", "h200"), ("llama-3.1-70b", "b200")):  # trtllm-serve's PyTorch backend
        runtime = {"preset": "trt-llm", **launch_keys(model, gpu, "trt-llm", "1k1k", 8, 4)["runtime"]}
        assert RuntimeSpec.model_validate(resolve("runtimes", runtime)).prefill_graph_tokens == 0
    assert RuntimeSpec.model_validate(preset("runtimes", "trt-llm")).prefill_graph_tokens is None  # C++ executor (NIM)


# ---- FlashInfer's bmm_fp8 on Blackwell: host work per FP8 GEMM (vLLM 0.10.2) ----------------------


def test_flashinfer_bmm_fp8_host_time_is_three_runner_factories_and_a_custom_op():
    """3 runner classes at 8 us (flashinfer PR #3832) + 7 us of custom-op dispatch (TRT-LLM PR #13149)."""
    assert eager.RUNNER_FACTORY_S == pytest.approx(8e-6)
    assert eager.CUSTOM_OP_DISPATCH_S == pytest.approx(7e-6)
    assert eager.FLASHINFER_BMM_FP8_HOST_S == pytest.approx(3 * 8e-6 + 7e-6)
    assert eager.FLASHINFER_BMM_FP8_HOST_S == pytest.approx(31e-6)


def test_llama70b_eager_step_calls_320_weight_gemms():
    """80 layers x (QKV, O) + 80 x (gate+up, down), at any tp; the embedding and LM head are not counted."""
    for tp in (1, 8):
        dep = deployment("b200", tp)
        plan = build_stage_plan(dep, 0, PREFILL_1K)
        assert eager.weight_gemm_calls(dep, plan.template.kind_counts) == 320


def test_moe_experts_and_mla_are_not_counted_as_weight_gemms():
    """gpt-oss-120b: 36 attention blocks (full and sliding) x 2 GEMMs; its MoE experts run grouped kernels.
    DeepSeek-V3: MLA attention and MoE layers: only its 3 dense MLPs x 2."""
    for model, tp, gemms in (("gpt-oss-120b", 1, 72), ("deepseek-v3", 8, 6)):
        dep = Deployment.from_scenario(Scenario.model_validate({
            "model": model, "hardware": {"gpu": "b200", "gpus_per_node": 8},
            "runtime": {"preset": "vllm", "prefill_graph_tokens": 0}, "parallelism": {"tp": tp}}))
        plan = build_stage_plan(dep, 0, PREFILL_1K)
        assert eager.weight_gemm_calls(dep, plan.template.kind_counts) == gemms


def test_gemm_host_time_raises_the_floor_by_9_92_ms():
    """Llama-3.1-70B tp 8: 48.075 ms + 320 x 31 us = 57.995 ms; the graphed decode step is unchanged."""
    rt = RuntimeSpec.model_validate(preset("runtimes", "vllm")).model_copy(
        update={"eager_gemm_host_s": eager.FLASHINFER_BMM_FP8_HOST_S})
    assert eager.host_floor_s(rt, 1365, 320) == pytest.approx(57.995e-3)
    assert eager.host_floor_s(rt, 1365) == pytest.approx(48.075e-3)  # no GEMMs counted: the old floor
    dep = Deployment.from_scenario(Scenario.model_validate({
        "model": "llama-3.1-70b", "hardware": {"gpu": "b200", "gpus_per_node": 8},
        "runtime": {"preset": "vllm", "prefill_graph_tokens": 0, "eager_gemm_host": "31 us"},
        "parallelism": {"tp": 8}, "precision": {"weights": "fp8", "kv_cache": "fp8", "embeddings": "bf16"}}))
    assert build_stage_plan(dep, 0, PREFILL_1K).host_floor_s == pytest.approx(57.995e-3)
    assert fold(build_stage_plan(dep, 0, PREFILL_1K)).makespan_s == pytest.approx(57.995e-3)
    assert build_stage_plan(dep, 0, BatchShape.decode([1000] * 4)).host_floor_s == 0.0


def test_only_blackwell_vllm_llama_pays_flashinfer_gemm_host_time():
    from simdecode.validate.inferencex_launch import launch_keys

    assert RuntimeSpec.model_validate(preset("runtimes", "vllm")).eager_gemm_host_s == 0.0
    for gpu in ("h100", "h200"):  # Hopper: cutlass_scaled_mm, one C++ op
        assert "eager_gemm_host" not in launch_keys("llama-3.1-70b", gpu, "vllm", "8k1k", 2, 64)["runtime"]
    assert "eager_gemm_host" not in launch_keys("llama-3.1-70b", "b200", "trt-llm", "1k1k", 8, 4)["runtime"]
    for tp in (1, 2, 4, 8):
        assert launch_keys("llama-3.1-70b", "b200", "vllm", "8k1k", tp, 64)["runtime"]["eager_gemm_host"] == \
            pytest.approx(31e-6)
