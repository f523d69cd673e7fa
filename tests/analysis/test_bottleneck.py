"""One bottleneck rule for ``simdecode run`` and ``simdecode explain`` (analysis/bottleneck.py)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from simdecode import simulate
from simdecode.analysis import bottleneck
from simdecode.metrics.summary import BOTTLENECKS
from simdecode.present.explain import explain
from simdecode.scenario.loader import scenario_from_dict

REPO = Path(__file__).resolve().parents[2]


def _gpt_oss(concurrency: int, gpu: str = "h200", prompt_tokens: int = 1024):
    """gpt-oss-120b on one GPU (an H200) under vLLM: MXFP4 experts through Marlin's W4A16 kernel, whose
    decode on the INT32 pipe outlasts the experts' stream at batch 16 (docs/physics-moe-precision.md)."""
    return scenario_from_dict({
        "model": "gpt-oss-120b", "hardware": {"gpu": gpu, "gpus_per_node": 1}, "runtime": "vllm",
        "workload": {"arrival": {"kind": "closed", "concurrency": concurrency}, "requests": 2 * concurrency,
                     "prompt_tokens": prompt_tokens, "output_tokens": 128},
        "simulation": {"fidelity": "step"}})


def test_run_names_the_fp4_weight_decode_as_explain_does():
    """At batch 16 explain names the FP4 decode (8.7 ms of a 12.3 ms step); the run of the same
    deployment at concurrency 16 decodes at batch 16 nearly all the time, and its summary must name
    the same bottleneck, from a decode-step share of its own (it said memory-bandwidth before: the
    decode's time sat in the memory share)."""
    scenario = _gpt_oss(16)
    assert explain(scenario, 1024, 16)["bottleneck"] == "fp4-weight-decode"
    summary = simulate(scenario).summary()
    assert summary["bottleneck"] == "fp4-weight-decode"
    shares = summary["decode_step_shares"]
    assert max(shares, key=shares.get) == "weight_decode"
    assert shares["weight_decode"] > 0.5 and shares["k_loop"] == 0.0  # no NVFP4 GEMM on Hopper
    assert math.isclose(sum(shares.values()), 1.0, rel_tol=1e-9)


def test_run_and_explain_agree_where_the_stream_binds():
    """The same model on one H100 at batch 16: its 3.35 TB/s stream the experts slower than they
    decode, so neither names the decode. Only the steps that carry a prefill chunk (Marlin's math then
    in series with its decode, costmodel/efficiency.marlin_math_in_series) give the decode a share."""
    scenario = _gpt_oss(16, "h100-sxm")
    summary = simulate(scenario).summary()
    assert explain(scenario, 1024, 16)["bottleneck"] == summary["bottleneck"] == "memory-bandwidth"
    shares = summary["decode_step_shares"]
    assert 0.0 < shares["weight_decode"] < 0.1 < shares["memory"]
    # without prefill chunks in its steps (prompts of one token) the decode never binds
    assert simulate(_gpt_oss(16, "h100-sxm", 1)).summary()["decode_step_shares"]["weight_decode"] == 0.0


def test_by_label_sums_the_fixed_costs_and_names_the_decode():
    parts = {"memory": 1.0e-3, "compute": 0.0, "dequant": 2.0e-3, "serial": 0.5e-3, "launch": 1.5e-3, "host": 1.0e-3,
             "communication": 0.2e-3, "pipeline": 0.0}
    grouped = bottleneck.by_label(parts, "weight-dequantisation")
    assert grouped == pytest.approx({"memory-bandwidth": 1.0e-3, "compute": 0.0, "weight-dequantisation": 2.0e-3,
                                     "fp4-k-loop": 0.5e-3, "launch-overhead": 2.5e-3, "all-reduce": 0.2e-3,
                                     "pipeline": 0.0})
    assert bottleneck.name(parts, "weight-dequantisation") == "launch-overhead"   # 1.5 + 1.0 > 2.0 ms
    assert bottleneck.name({**parts, "serial": 3e-3}, "weight-dequantisation") == "fp4-k-loop"
    assert bottleneck.name({"memory": 0.0, "compute": 0.0}, None) == "memory-bandwidth"  # the first of equal parts


def test_decode_time_without_its_label_is_an_error():
    with pytest.raises(ValueError, match="decode label"):
        bottleneck.by_label({"memory": 1e-3, "dequant": 1e-3}, None)
    assert bottleneck.by_label({"memory": 1e-3, "dequant": 0.0}, None) == {"memory-bandwidth": 1e-3}


def test_every_label_is_a_documented_summary_class():
    labels = {v for v in bottleneck.LABELS.values() if v} | set(bottleneck.DECODE_LABELS)
    assert labels <= set(BOTTLENECKS)
    doc = (REPO / "docs" / "metrics.md").read_text(encoding="utf-8")
    classes = doc.split("### Bottleneck classes", 1)[1].split("###", 1)[0]
    assert set(re.findall(r"^\| `([a-z0-9-]+)` \|", classes, re.M)) == set(BOTTLENECKS)


def test_run_and_explain_name_the_nvfp4_k_loops_when_they_bind():
    """Llama-3.1-70B NVFP4 on 8 x B200 with TensorRT-LLM's costs but no per-kernel, host or
    all-reduce overheads and 90% of the bandwidth: one request's step streams 4.9 GB in ~0.68 ms, its
    NVFP4 GEMMs' k-loops take 80 x 14.8 us = 1.18 ms (costmodel/fp4_gemm.py), the all-reduces ~0.71 ms,
    so the k-loops are the largest part, for explain and for the run alike."""
    scenario = scenario_from_dict({
        "model": "llama-3.1-70b", "precision": {"weights": "nvfp4", "kv_cache": "fp8"},
        "hardware": {"gpu": "b200", "gpus_per_node": 8}, "parallelism": {"tp": 8},
        "runtime": {"preset": "trt-llm", "kernel_launch": "0 us", "step_overhead": "0 us", "allreduce_overhead": "0 us",
                    "memory_efficiency": 0.9},
        "workload": {"requests": 2, "prompt_tokens": 1024, "output_tokens": 64}, "simulation": {"fidelity": "step"}})
    data = explain(scenario)
    assert data["bottleneck"] == "fp4-k-loop"
    assert data["parts_s"]["serial"] == pytest.approx(80 * 0.705e-9 * 20992, rel=1e-9)
    summary = simulate(scenario).summary()
    assert summary["bottleneck"] == "fp4-k-loop"
    assert max(summary["decode_step_shares"], key=summary["decode_step_shares"].get) == "k_loop"
