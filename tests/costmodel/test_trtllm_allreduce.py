"""TensorRT-LLM's AUTO all-reduce strategy (simdecode/costmodel/trtllm_allreduce.py).

Source: NVIDIA/TensorRT-LLM release 1.1, ``cpp/tensorrt_llm/thop/allreduceOp.cpp``
(``ifFallbackToNCCL``, ``selectImplementation``, ``runFusionAllReduce``), ``customAllReduceUtils.h``
(``getMaxRequiredWorkspaceSize``: 16e6 B at tp <= 2, 8e6 B above), ``allReduceFusionKernels.h``
(``kOneShotMaxToken = 128``), PR #5432 (the 128-token NCCL threshold at tp > 2), and
``_torch/models/modeling_llama.py`` (``LlamaDecoderLayer``: the all-reduces of a model wider than
4096 are fused with the next RMSNorm and, with FP8 or NVFP4 weights, with its quantisation).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel import collectives as coll
from simdecode.costmodel import trtllm_allreduce as trt
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.plan import _choose_all_reduce
from simdecode.presets import preset
from simdecode.scenario.hardware import LinkSpec
from simdecode.scenario.schema import Scenario

ROW = 8192 * 2  # one token of an 8192-wide model in bf16: 16,384 bytes


def test_one_shot_up_to_128_tokens_whatever_the_size() -> None:
    # kOneShotMaxToken = 128: 128 tokens x 16,384 B = 2,097,152 B at tp 8 is one-shot, 129 two-shot
    assert trt.algorithm(128, 128 * ROW, 8, fused_quant=True) == "one-shot"
    assert trt.algorithm(129, 129 * ROW, 8, fused_quant=True) == "two-shot"
    assert trt.algorithm(1, ROW, 2, fused_quant=False) == "one-shot"


def test_workspace_bounds_send_large_messages_to_nccl() -> None:
    # 8e6 B at tp > 2: 488 tokens of 16,384 B = 7,995,392 B fit, 489 (8,011,776 B) do not
    assert trt.algorithm(488, 488 * ROW, 8, fused_quant=True) == "two-shot"
    assert trt.algorithm(489, 489 * ROW, 8, fused_quant=True) == "nccl"
    # 16e6 B at tp <= 2: 976 tokens (15,990,784 B) fit, 977 (16,007,168 B) do not
    assert trt.algorithm(976, 976 * ROW, 2, fused_quant=False) == "two-shot"
    assert trt.algorithm(977, 977 * ROW, 2, fused_quant=False) == "nccl"


def test_unquantised_fusions_go_to_nccl_above_128_tokens_at_tp_above_2() -> None:
    assert trt.algorithm(129, 129 * ROW, 4, fused_quant=False) == "nccl"
    assert trt.algorithm(129, 129 * ROW, 2, fused_quant=False) == "two-shot"  # tp <= 2: MIN_LATENCY
    assert trt.algorithm(129, 129 * ROW, 4, fused_quant=True) == "two-shot"   # QUANT fusions: MIN_LATENCY


def test_without_nvlink_it_is_nccl() -> None:
    assert trt.algorithm(1, ROW, 4, fused_quant=True, nvlink=False) == "nccl"


def test_which_layers_fuse_the_quantisation() -> None:
    # modeling_llama.py: fusion needs hidden_size > 4096; QUANT fusion needs FP8 or NVFP4 weights
    assert trt.quant_fused(8192, "fp8") and trt.quant_fused(8192, "fp4")
    assert not trt.quant_fused(8192, "bf16")
    assert not trt.quant_fused(4096, "fp8")


@given(tokens=st.integers(1, 4096), tp=st.sampled_from([2, 4, 8]), fused=st.booleans())
def test_the_rule_always_names_a_kernel_and_one_shot_only_up_to_128(tokens: int, tp: int, fused: bool) -> None:
    algo = trt.algorithm(tokens, tokens * ROW, tp, fused)
    assert algo in ("one-shot", "two-shot", "nccl")
    assert (algo == "one-shot") == (tokens <= 128 and tokens * ROW <= trt.workspace_bytes(tp))


def _deployment(gpu: str, tp: int, runtime: str = "trt-llm", allreduce: str = "auto") -> Deployment:
    return Deployment.from_scenario(Scenario.model_validate({
        "model": "llama-3.1-70b", "precision": {"weights": "fp8", "activations": "bf16"},
        "hardware": {"gpu": gpu, "gpus_per_node": 8}, "runtime": runtime,
        "parallelism": {"tp": tp, "allreduce": allreduce},
        "workload": {"requests": 1, "prompt_tokens": 16, "output_tokens": 4}}))


def test_a_decode_batch_of_128_on_8_h200s_pays_the_one_shot_bytes() -> None:
    # one-shot on NVLink4 (450 GB/s x 0.82 = 369 GB/s, 0.6 us hops): each rank pulls its 7 peers'
    # 2,097,152 B through its own port: 7 x 2,097,152 / 369e9 = 39.78 us, plus one flag barrier
    # 7 x 0.6 = 4.2 us and TensorRT-LLM's 4 us fixed cost: 47.98 us. The fastest kernel (NVLS) would
    # take 20.1 us: 2 x 4.2 + 4 + 2,097,152 / (369e9 x 0.7425) = 12.4 + 7.65.
    dep = _deployment("h200", 8)
    cost = _choose_all_reduce(dep, 128 * ROW)
    assert cost.algorithm == "one-shot"
    assert cost.time_s == pytest.approx(7 * 2097152 / 369e9 + 4.2e-6 + 4e-6, rel=1e-9)
    assert cost.time_s == pytest.approx(47.98e-6, abs=0.01e-6)
    fastest = _choose_all_reduce(_deployment("h200", 8, allreduce="nvls"), 128 * ROW)
    assert fastest.time_s == pytest.approx(20.05e-6, abs=0.01e-6)


def test_prefill_chunks_over_the_workspace_run_nccl_and_other_runtimes_keep_the_fastest() -> None:
    dep = _deployment("h200", 8)
    big = 1024 * ROW  # 16.8 MB > 8e6 B
    nvlink4 = LinkSpec.model_validate(preset("links", "nvlink4"))
    nccl = coll.all_reduce(big, 8, nvlink4, dep.runtime.model_copy(update={"allreduce_impl": "nccl"}))
    assert _choose_all_reduce(dep, big).time_s == pytest.approx(nccl.time_s, rel=1e-12)
    assert _choose_all_reduce(dep, big).algorithm in ("ring", "tree")
    # vLLM's custom all-reduce keeps the fastest of its kernels for the same 128-token message
    vllm = _choose_all_reduce(_deployment("h200", 8, runtime="vllm"), 128 * ROW)
    assert vllm.algorithm != "one-shot"


def test_explain_names_tensorrt_llms_rule() -> None:
    from simdecode.present.explain import explain, render_explanation
    from simdecode.scenario.loader import scenario_from_dict

    data = explain(scenario_from_dict({
        "model": "llama-3.1-70b", "precision": {"weights": "fp8", "activations": "bf16"},
        "hardware": {"gpu": "h200", "gpus_per_node": 8}, "runtime": "trt-llm", "parallelism": {"tp": 8},
        "workload": {"requests": 1, "prompt_tokens": 16, "output_tokens": 4}}), batch=128)
    assert data["setup"]["allreduce"]["algorithm"] == "one-shot"
    assert "one-shot up to 128 tokens" in data["setup"]["allreduce_rule"]
    assert "Kernel per message: TensorRT-LLM's AUTO strategy" in " ".join(render_explanation(data).split())


def test_the_fused_all_reduce_absorbs_one_norm_kernel_per_module() -> None:
    # modeling_llama.py: with tp > 1 and hidden_size > 4096 the post-attention RMSNorm and the next
    # layer's input RMSNorm run inside the all-reduce kernels: the trt-llm preset's 10 kernels per
    # layer become 8 at tp 8 (4 per module), and stay 10 at tp 1 and under vLLM (no such fusion)
    from simdecode.costmodel import modules

    assert trt.norm_kernels_fused(_deployment("h200", 8)) == 1
    assert modules._half(_deployment("h200", 8)) == 4
    assert trt.norm_kernels_fused(_deployment("h200", 1)) == 0
    assert modules._half(_deployment("h200", 1)) == 5
    assert trt.norm_kernels_fused(_deployment("h200", 8, runtime="vllm")) == 0
    # a decode step of Llama-70B at tp 8 then launches 160 fewer kernels: 160 x 4 us = 0.64 ms
    from simdecode.costmodel.batch import BatchShape

    shape = BatchShape.decode([1000])
    attn8 = sum(p.kernels for p in modules.attention_parts(_deployment("h200", 8), 0, shape))
    attn1 = sum(p.kernels for p in modules.attention_parts(_deployment("h200", 1), 0, shape))
    assert (attn1, attn8) == (5, 4)
