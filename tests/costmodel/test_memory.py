"""GPU memory as engines divide it (simdecode/costmodel/memory.py, simdecode.scenario.engines.py)."""

from __future__ import annotations

import pytest

from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.memory import FIXED_WORKSPACE_BYTES, activation_workspace_bytes, kv_budget_bytes
from simdecode.scenario.schema import Scenario
from simdecode.scenario.engines import engine_defaults

GiB = 2**30


def scenario(runtime: str = "vllm", gpu: str = "h100-sxm", tp: int = 2, **scheduler) -> Scenario:
    return Scenario.model_validate({
        "model": "llama-3.1-70b", "precision": {"weights": "fp8", "kv_cache": "fp8"},
        "hardware": {"gpu": gpu, "gpus_per_node": 8}, "runtime": runtime, "parallelism": {"tp": tp},
        "scheduler": scheduler, "workload": {"prompt_tokens": 1000, "output_tokens": 100},
    })


def test_workspace_of_llama_70b_tp2_by_hand():
    """h 8192, I 28672, V 128256, bf16 activations, tp 2, T 8192, S 1024:
    1 GiB + 8192 x 2 B x (2 x 8192 + 3 x 28672 / 2) + 1024 x 128256 x 8 B."""
    dep = Deployment.from_scenario(scenario())
    expected = GiB + 8192 * 2 * (2 * 8192 + 3 * 28672 / 2) + 1024 * 128256 * 8
    assert activation_workspace_bytes(dep, 8192, 1024) == pytest.approx(expected)
    assert expected == pytest.approx(GiB + 0.9731e9 + 1.0507e9, rel=1e-3)


def test_workspace_grows_with_the_token_budget_and_the_kv_cache_shrinks():
    small, large = scenario(max_batched_tokens=2048), scenario(max_batched_tokens=16384)
    dep = Deployment.from_scenario(small)
    assert activation_workspace_bytes(dep, 16384, 1024) > activation_workspace_bytes(dep, 2048, 1024) > FIXED_WORKSPACE_BYTES
    assert kv_budget_bytes(large, dep) < kv_budget_bytes(small, dep)


def test_vllm_budget_is_a_share_of_total_and_trt_a_share_of_what_is_free():
    """vLLM: 0.9 x total - weights - workspace; TensorRT-LLM: 0.9 x (total - weights - workspace),
    which leaves more for the KV cache (10% of the free memory instead of 10% of all of it)."""
    v, t = scenario("vllm"), scenario("trt-llm", max_batched_tokens=8192, max_batch_size=1024)
    dep = Deployment.from_scenario(v)
    total, weights = v.hardware.gpu.memory_bytes, dep.weight_bytes_per_gpu(0)
    ws = activation_workspace_bytes(dep, 8192, 1024)
    assert kv_budget_bytes(v, dep) == pytest.approx(0.9 * total - weights - ws)
    assert kv_budget_bytes(t, dep) == pytest.approx(0.9 * (total - weights - ws))
    assert kv_budget_bytes(t, dep) > kv_budget_bytes(v, dep)


def test_engine_defaults_follow_the_engines_sources():
    h100, a100 = 81559 * 2**20, 80 * GiB
    def limits(d):
        return d.max_batch_size, d.max_batched_tokens, d.kv_block_tokens

    assert limits(engine_defaults("vllm", "h100-sxm", h100)) == (1024, 8192, 16)
    assert limits(engine_defaults("vllm", "a100-80gb", a100)) == (256, 2048, 16)  # A100 excluded (vLLM PR #17885)
    trt = engine_defaults("trt-llm", "h100-sxm", h100)
    assert (trt.max_batch_size, trt.max_batched_tokens, trt.kv_block_tokens, trt.admission, trt.memory_of) == \
        (2048, 8192, 32, "reserve", "free")
    sgl = engine_defaults("sglang", "h100-sxm", h100, tp=8)
    # reserved = max(512 + 8192 x 1.5 + 512 x 2 + 1024, 10240) = 14848 MiB
    assert sgl.memory_utilization == pytest.approx(round(1 - 14848 / 81559, 3))
    assert (sgl.kv_block_tokens, sgl.max_batched_tokens, sgl.memory_of) == (1, 8192, "static")
    assert engine_defaults("sglang", "b200", 183359 * 2**20).max_batched_tokens == 16384


def test_scheduler_keys_override_engine_defaults_and_missing_ones_are_filled():
    s = scenario("trt-llm", kv_block_tokens=64)
    assert s.scheduler.kv_block_tokens == 64 and s.scheduler.admission == "reserve"
    assert s.scheduler.max_batch_size == 2048
    assert scenario("vllm").scheduler.admission == "paged"


def test_a100_80gb_holds_as_much_kv_as_the_card_does():
    """The Vidur case: Llama-2-70B bf16 tp2 on 2x A100-80GB, vLLM. The card reports 80 GiB; with
    decimal GB the KV room was ~3.7x smaller."""
    s = Scenario.model_validate({"model": "llama-2-70b", "hardware": {"gpu": "a100-80gb", "gpus_per_node": 2},
                                 "runtime": "vllm", "parallelism": {"tp": 2}})
    dep = Deployment.from_scenario(s)
    tokens = kv_budget_bytes(s, dep) / dep.kv_bytes_per_token_per_gpu(0)
    assert tokens >= 40_000
