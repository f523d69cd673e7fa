"""Kernels InferenceX's B200 vLLM launch adds to or folds out of a layer (simdecode/costmodel/launch_kernels.py).

Hand-computed: Llama-3.1-70B at tp 8 under vLLM (15 kernels a layer) dispatches 1,365 kernels and
collectives in an eager step (tests/costmodel/test_eager.py); the B200 launch's fallback above 64 tokens
adds 80 x 4 = 320: 0.3 + 1,685 x 0.035 + 320 GEMMs x 0.031 = 69.195 ms of host time.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.costmodel import eager, launch_kernels
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan
from simdecode.presets import preset
from simdecode.scenario.hardware import RuntimeSpec
from simdecode.scenario.schema import Scenario
from simdecode.validate.inferencex_launch import launch_keys

PREFILL_1K = BatchShape.mixed([(0, 1024, True)])
VLLM = RuntimeSpec.model_validate(preset("runtimes", "vllm"))


def deployment(tp: int, runtime: dict) -> Deployment:
    return Deployment.from_scenario(Scenario.model_validate({
        "model": "llama-3.1-70b", "hardware": {"gpu": "b200", "gpus_per_node": 8},
        "runtime": {"preset": "vllm", **runtime}, "parallelism": {"tp": tp},
        "precision": {"weights": "fp8", "kv_cache": "fp8", "embeddings": "bf16"}}))


def b200_launch(tp: int) -> Deployment:
    return deployment(tp, launch_keys("llama-3.1-70b", "b200", "vllm", "1k1k", tp, 4)["runtime"])


def test_b200_launch_deltas_come_from_its_flags():
    """+1 norm/quant apart at each block input, +1 SiLU/quant apart, -1 attention-output quant fused: +2;
    the fallback's copy after each of two all-reduces: +4; norm and quant inside the fused collective: -2."""
    assert launch_kernels.B200_LAUNCH_DELTA == 2
    assert launch_kernels.B200_LAUNCH_DELTA_FALLBACK == 4
    assert launch_kernels.B200_LAUNCH_DELTA_FUSED == -2


def test_fused_allreduce_tokens_follow_the_script_thresholds():
    """min(threshold // (8192 x tp x 2 B), 16,384): 32 MiB at tp 2 -> 1,024; at tp 4 -> 512; 8 MiB at tp 8
    -> 64; vLLM's own 64 MiB default at tp 2 would give 2,048; a huge threshold stops at 16,384."""
    mib = 2**20
    assert launch_kernels.fused_allreduce_tokens(32 * mib, 8192, 2) == 1024
    assert launch_kernels.fused_allreduce_tokens(32 * mib, 8192, 4) == 512
    assert launch_kernels.fused_allreduce_tokens(8 * mib, 8192, 8) == 64
    assert launch_kernels.fused_allreduce_tokens(64 * mib, 8192, 2) == 2048
    assert launch_kernels.fused_allreduce_tokens(2**40, 8192, 2) == 16384


def test_kernel_delta_takes_the_fused_count_only_within_the_fusion_at_tp_above_1():
    rt = VLLM.model_copy(update={"layer_kernel_delta": 4, "fused_allreduce_tokens": 64, "layer_kernel_delta_fused": -2})
    assert launch_kernels.kernel_delta(rt, 8, 64) == -2
    assert launch_kernels.kernel_delta(rt, 8, 65) == 4
    assert launch_kernels.kernel_delta(rt, 1, 64) == 4  # no all-reduce at tp 1
    assert launch_kernels.module_delta(rt, 8, 1024) == 2.0
    assert launch_kernels.kernel_delta(VLLM, 8, 1024) == 0


def test_launch_keys_set_the_deltas_on_b200_vllm_only():
    assert VLLM.layer_kernel_delta == 0 and VLLM.fused_allreduce_tokens == 0
    for gpu in ("h100", "h200"):
        assert "layer_kernel_delta" not in launch_keys("llama-3.1-70b", gpu, "vllm", "8k1k", 2, 64)["runtime"]
    assert "layer_kernel_delta" not in launch_keys("llama-3.1-70b", "b200", "trt-llm", "8k1k", 2, 64)["runtime"]
    rt = launch_keys("llama-3.1-70b", "b200", "vllm", "8k1k", 1, 64)["runtime"]
    assert rt["layer_kernel_delta"] == 2 and "fused_allreduce_tokens" not in rt
    for tp, tokens in ((2, 1024), (4, 512), (8, 64)):
        rt = launch_keys("llama-3.1-70b", "b200", "vllm", "1k1k", tp, 4)["runtime"]
        assert (rt["layer_kernel_delta"], rt["fused_allreduce_tokens"], rt["layer_kernel_delta_fused"]) == (4, tokens, -2)


def test_b200_launch_tp8_host_floors():
    """A 1,024-token prefill (above the 64-token fusion): 1,365 + 320 = 1,685 dispatches: 0.3 + 58.975 +
    9.92 = 69.195 ms; a 64-token prefill (fused): 1,365 - 160 = 1,205: 0.3 + 42.175 + 9.92 = 52.395 ms."""
    dep = b200_launch(8)
    plan = build_stage_plan(dep, 0, PREFILL_1K)
    assert eager.dispatched(plan.template.kind_counts, plan.costs, dep.rates.kernel_s) == pytest.approx(1685)
    assert plan.host_floor_s == pytest.approx(69.195e-3)
    assert build_stage_plan(dep, 0, BatchShape.mixed([(0, 64, True)])).host_floor_s == pytest.approx(52.395e-3)


def test_b200_launch_tp1_floor_adds_160_dispatches():
    """tp 1: 80 x 15 layer kernels + 3 of the embedding and LM head = 1,203; + 80 x 2 = 1,363:
    0.3 + 47.705 + 9.92 = 57.925 ms."""
    assert build_stage_plan(b200_launch(1), 0, PREFILL_1K).host_floor_s == pytest.approx(57.925e-3)


def test_b200_launch_tp8_decode_step_launches_160_fewer_kernels():
    """A graphed decode step of 4 sequences at tp 8 (fused all-reduce): 80 x 2 kernels fewer at vLLM's
    3.3 us each = 0.528 ms less launch time; no host floor (graphed)."""
    plain = deployment(8, {k: v for k, v in launch_keys("llama-3.1-70b", "b200", "vllm", "1k1k", 8, 4)["runtime"].items()
                           if not k.startswith(("layer_kernel", "fused_allreduce"))})
    shape = BatchShape.decode([1000] * 4)
    before, after = fold(build_stage_plan(plain, 0, shape)), fold(build_stage_plan(b200_launch(8), 0, shape))
    assert before.launch_s - after.launch_s == pytest.approx(160 * 3.3e-6)
    assert build_stage_plan(b200_launch(8), 0, shape).host_floor_s == 0.0


@settings(max_examples=30, deadline=None)
@given(delta=st.integers(-15, 20), tokens=st.integers(2, 8192))
def test_host_floor_moves_by_delta_dispatches_per_layer(delta, tokens):
    """Any delta a block can carry moves an eager tp 8 step's floor by 80 x delta x 35 us."""
    base = deployment(8, {"prefill_graph_tokens": 0})
    dep = replace(base, runtime=base.runtime.model_copy(update={"layer_kernel_delta": delta}), templates={},
                  step_costs={})
    shape = BatchShape.mixed([(0, tokens, True)])
    moved = build_stage_plan(dep, 0, shape).host_floor_s - build_stage_plan(base, 0, shape).host_floor_s
    assert moved == pytest.approx(80 * delta * eager.EAGER_DISPATCH_S, abs=1e-9)


def test_a_block_never_gets_negative_kernels():
    """A delta below -2 x 7.5 folds out every kernel of both blocks and no more: the floor stops at the
    dispatches left (the embedding, LM head and collectives: 3 + 162)."""
    base = deployment(8, {"prefill_graph_tokens": 0})
    dep = replace(base, runtime=base.runtime.model_copy(update={"layer_kernel_delta": -100}), templates={},
                  step_costs={})
    plan = build_stage_plan(dep, 0, PREFILL_1K)
    assert eager.dispatched(plan.template.kind_counts, plan.costs, dep.rates.kernel_s) == pytest.approx(165)


# ---- TRT-LLM's FP8 context attention on B200 (costmodel/prefill_attention.py) ------------------------


def test_trtllm_fp8_context_rate_is_vllm_pr_23647s_measurement():
    """64 heads x 512 FLOPs x (2,048 x 2,048 + 2,048 x 2,049 / 2 = 6,292,480 pairs) = 2.062e11 FLOP in
    0.525 ms: 392.7 TFLOP/s; the 1,024-token row: 5.156e10 in 0.179 ms = 288 TFLOP/s."""
    from simdecode.costmodel import prefill_attention as pa

    assert pa.causal_pairs(2048, 2048) == 6_292_480
    assert pa.TRTLLM_FP8_CONTEXT_B200_FLOPS == pytest.approx(392.75e12, rel=1e-4)
    assert 64 * 512 * pa.causal_pairs(1024, 1024) / 0.179e-3 == pytest.approx(288.1e12, rel=1e-3)


def test_prefill_scores_take_the_measured_rate_and_decode_does_not():
    """Llama-3.1-70B tp 1, one 8,192-token prefill: 80 x 64 x 512 x 8,192 x 8,193 / 2 = 87.98 TFLOP of
    scores; at 392.7 TFLOP/s 224.0 ms, at the block's 0.55 x 4.5 PFLOP/s 35.5 ms: the step lasts 188.5 ms
    longer. A decode step does not move."""
    from simdecode.costmodel import prefill_attention as pa

    base = deployment(1, {})
    measured = deployment(1, {"prefill_attention_flops": pa.TRTLLM_FP8_CONTEXT_B200_FLOPS})
    prefill = BatchShape.mixed([(0, 8192, True)])
    flops = 80 * 64 * 512 * 8192 * 8193 / 2
    assert flops == pytest.approx(87.98e12, rel=1e-4)
    added = fold(build_stage_plan(measured, 0, prefill)).makespan_s - fold(build_stage_plan(base, 0, prefill)).makespan_s
    assert added == pytest.approx(flops / pa.TRTLLM_FP8_CONTEXT_B200_FLOPS - flops / (0.55 * 4.5e15), rel=1e-6)
    assert added == pytest.approx(0.1885, abs=5e-4)
    decode = BatchShape.decode([8000] * 8)
    assert fold(build_stage_plan(measured, 0, decode)).makespan_s == fold(build_stage_plan(base, 0, decode)).makespan_s


def test_only_b200_vllm_llama_states_a_prefill_attention_rate():
    assert VLLM.prefill_attention_flops_per_s is None
    assert "prefill_attention_flops" not in launch_keys("llama-3.1-70b", "h200", "vllm", "8k1k", 1, 4)["runtime"]
    assert "prefill_attention_flops" not in launch_keys("llama-3.1-70b", "b200", "trt-llm", "8k1k", 1, 4)["runtime"]
    for tp in (1, 2, 4, 8):
        assert launch_keys("llama-3.1-70b", "b200", "vllm", "8k1k", tp, 4)["runtime"]["prefill_attention_flops"] == \
            pytest.approx(392.75e12, rel=1e-4)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 8192), cached=st.integers(0, 8192))
def test_a_slower_attention_kernel_never_shortens_a_prefill(n, cached):
    from simdecode.costmodel import prefill_attention as pa

    shape = BatchShape.mixed([(cached, n, True)])
    base = fold(build_stage_plan(deployment(1, {}), 0, shape)).makespan_s
    slow = fold(build_stage_plan(deployment(1, {"prefill_attention_flops": pa.TRTLLM_FP8_CONTEXT_B200_FLOPS}), 0,
                                 shape)).makespan_s
    assert slow >= base
