"""The time breakdown's pipeline bubble against a number worked out by hand."""

from __future__ import annotations

import pytest

from simdecode import load_scenario, simulate
from simdecode.analysis.breakdown import time_breakdown
from simdecode.present.explain import explain

QUICKSTART = "scenarios/quickstart.yaml"
# the server alone: no client-side tokenising, hand-off or streaming time in the window
ONE_REQUEST = ["hardware.gpus_per_node=2", "workload.requests=1", "workload.prompt_tokens=64",
               "workload.output_tokens=512", "simulation.fidelity=step", "runtime.tokenize_per_token=0 s",
               "runtime.request_overhead=0 s", "runtime.output_overhead=0 s"]


def test_one_request_on_two_stages_leaves_half_the_gpu_time_in_the_bubble():
    """Llama-3.1-8B split over two H100s (pp 2), one request. Every step runs stage 1 (t1), hops
    8 KiB of activations over NVLink (h), runs stage 2 (t2); each stage waits while the other runs
    or the hop is in flight, so of the 2 (t1 + h + t2) GPU-seconds of a step, t2 + h and t1 + h
    are bubble:

        bubble = (t1 + t2 + 2 h) / (2 (t1 + h + t2)) = 1/2 + h / (2 T)

    At the mid-decode context (64 + 256 tokens) explain gives t1 = 3.65 ms, t2 = 3.80 ms
    (the last stage holds the LM head; vLLM's weight GEMMs at 82% of the H100's bandwidth,
    costmodel/gemm_stream.py), h = 5.6 us, T = 7.45 ms: bubble = 0.5 + 5.6 / 14895 = 0.50038,
    GPU busy (compute and launches) the other 0.49962, nothing idle."""
    s = load_scenario(QUICKSTART, ONE_REQUEST + ["parallelism.pp=2"])
    path = explain(s, 64 + 256)
    t1, t2 = (stage["time_s"] for stage in path["stages"])
    (hop,) = path["hops"]
    h = hop["time_s"]
    assert (t1, t2, h) == pytest.approx((3.65e-3, 3.80e-3, 5.6e-6), rel=0.01)  # the numbers of the docstring
    expected = 0.5 + h / (2 * (t1 + h + t2))
    assert expected == pytest.approx(0.50038, abs=1e-5)
    shares = time_breakdown(simulate(s))
    # the prefill step and the growing context move it a little: within 1e-4 of the hand figure
    assert shares["pipeline_bubble"] == pytest.approx(expected, abs=1e-4)
    assert shares["idle"] == pytest.approx(0.0, abs=1e-9) and shares["communication"] == 0.0
    assert shares["compute"] + shares["launch_overhead"] == pytest.approx(1 - expected, abs=1e-4)


def test_without_pipelining_there_is_no_bubble():
    shares = time_breakdown(simulate(load_scenario(QUICKSTART, ONE_REQUEST)))
    assert shares["pipeline_bubble"] == 0.0 and shares["idle"] == pytest.approx(0.0, abs=1e-9)
