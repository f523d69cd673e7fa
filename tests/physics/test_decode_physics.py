"""Physical sanity of the simulator's answers (physics.md sections 0, 2.5, 3.1, 3.3).

Each test is one of the claims users argue about, stated as an inequality the model must obey.
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from simdecode import simulate
from simdecode.errors import ScenarioError
from simdecode.scenario.schema import Scenario


def run(model="llama-3.1-8b", gpu="h100-sxm", tp=1, pp=1, link=None, runtime="default", prompt=64,
        output=32, requests=1, concurrency=1, fidelity="step", gpus_per_node=8, nodes=1):
    hardware = {"gpu": gpu, "gpus_per_node": gpus_per_node, "nodes": nodes}
    if link:
        hardware["intra_node_link"] = link
    scenario = Scenario.model_validate({
        "model": model, "hardware": hardware, "runtime": runtime,
        "parallelism": {"tp": tp, "pp": pp},
        "workload": {"requests": requests, "prompt_tokens": prompt, "output_tokens": output,
                     "arrival": {"kind": "closed", "concurrency": concurrency}},
        "simulation": {"fidelity": fidelity},
    })
    return simulate(scenario).summary()


@settings(max_examples=25, deadline=None)
@given(
    model=st.sampled_from(["llama-3.2-1b", "llama-2-7b", "llama-3.1-8b", "mixtral-8x7b"]),
    gpu=st.sampled_from(["h100-sxm", "a100-80gb", "h200", "mi300x", "b200"]),
    tp=st.sampled_from([1, 2, 4, 8]),
    pp=st.sampled_from([1, 2]),
    runtime=st.sampled_from(["default", "gpt-fast", "vllm", "trt-llm", "monokernel"]),
    prompt=st.integers(1, 2000),
    concurrency=st.integers(1, 4),
)
def test_per_request_tps_never_exceeds_roofline(model, gpu, tp, pp, runtime, prompt, concurrency):
    """roofline_tps (all weights and KV at 100% of peak bandwidth, no overheads) bounds every
    request's own decode speed, whatever the batch (physics.md 5.1)."""
    if tp * pp > 8:
        tp = 8 // pp
    try:
        s = run(model=model, gpu=gpu, tp=tp, pp=pp, runtime=runtime, prompt=prompt, output=8,
                requests=concurrency, concurrency=concurrency)
    except ScenarioError as exc:
        assert "does not fit" in str(exc)
        assume(False)
    assert s["per_request_tps"]["p99"] <= s["roofline_tps"] * (1 + 1e-9)
    assert s["per_request_tps"]["mean"] < s["roofline_tps"]


def test_pipeline_depth_never_speeds_up_one_request():
    """physics.md 3.1: at batch 1 a token crosses the stages one after another, so pp stages of
    tp GPUs each are no faster for one request than one stage of tp GPUs."""
    for tp in (1, 2):
        base = run(tp=tp, pp=1)["per_request_tps"]["mean"]
        for pp in (2, 4, 8):
            if tp * pp > 8:
                continue
            deeper = run(tp=tp, pp=pp)["per_request_tps"]["mean"]
            assert deeper <= base, f"tp{tp}: pp{pp} gave {deeper:.1f} tok/s > pp1 {base:.1f}"


def test_short_prompt_ttft_does_not_fall_with_pipeline_depth():
    """physics.md 3.3: TTFT_pp = prefill over all stages + (p-1) hops >= TTFT without PP."""
    ttft = [run(pp=pp, prompt=32)["ttft_ms"]["mean"] for pp in (1, 2, 4, 8)]
    assert all(a <= b for a, b in zip(ttft, ttft[1:])), ttft


def test_pipeline_raises_aggregate_throughput_only_with_requests_in_flight():
    """With pp >= 2 and enough micro-batches, stages overlap: aggregate tps grows over batch 1."""
    alone = run(tp=1, pp=4, requests=4, concurrency=1)
    together = run(tp=1, pp=4, requests=8, concurrency=4)
    assert together["aggregate_tps"] > 2 * alone["aggregate_tps"]
    assert together["time_breakdown"]["pipeline_bubble"] < alone["time_breakdown"]["pipeline_bubble"]


def test_tensor_parallelism_speeds_one_request_until_all_reduce_dominates():
    """physics.md 2.5: T(t) ~ W/(t BW) + 2 L A(t). On NVLink a 70B model keeps gaining up to tp8;
    a 1B model stops gaining once the exposed all-reduce is the largest part of the step."""
    big = [run(model="llama-3.1-70b", tp=tp) for tp in (2, 4, 8)]
    tps = [s["per_request_tps"]["mean"] for s in big]
    assert tps[0] < tps[1] < tps[2]
    assert all(s["allreduce_share"] < 0.5 for s in big)
    small = {tp: run(model="llama-3.2-1b", tp=tp) for tp in (1, 2, 4, 8)}
    assert small[2]["per_request_tps"]["mean"] > small[1]["per_request_tps"]["mean"]
    assert small[8]["per_request_tps"]["mean"] < small[4]["per_request_tps"]["mean"]
    assert small[8]["allreduce_share"] > 0.5 and small[8]["bottleneck"] == "all-reduce"
    shares = [small[tp]["allreduce_share"] for tp in (1, 2, 4, 8)]
    assert shares == sorted(shares) and shares[0] == 0


def test_pcie_gives_a_larger_allreduce_share_than_nvlink():
    nvlink = run(model="llama-3.1-8b", tp=8, link="nvlink4")
    pcie = run(model="llama-3.1-8b", tp=8, link="pcie5")
    assert pcie["allreduce_share"] > nvlink["allreduce_share"]
    assert pcie["per_request_tps"]["mean"] < nvlink["per_request_tps"]["mean"]


def test_tokens_per_second_tracks_memory_bandwidth():
    """The seed thread's rule: at batch 1, same model and runtime, tps scales with HBM bandwidth
    (H200 4.8 TB/s vs H100 3.35 TB/s, same compute) -- less than proportionally, because the
    fixed per-kernel costs do not scale."""
    h100 = run(model="llama-3.1-8b", gpu="h100-sxm")["per_request_tps"]["mean"]
    h200 = run(model="llama-3.1-8b", gpu="h200")["per_request_tps"]["mean"]
    assert 1.15 < h200 / h100 < 4.8 / 3.35


def test_batching_trades_per_request_speed_for_aggregate_throughput():
    one = run(model="llama-3.1-8b", requests=2, concurrency=1)
    many = run(model="llama-3.1-8b", requests=32, concurrency=32)
    assert many["aggregate_tps"] > 8 * one["aggregate_tps"]
    assert many["per_request_tps"]["mean"] < one["per_request_tps"]["mean"]


@settings(max_examples=10, deadline=None)
@given(k=st.integers(1, 5), acceptance=st.floats(0.3, 1.0), method=st.sampled_from(["draft", "mtp"]),
       concurrency=st.integers(1, 4))
def test_speculative_requests_never_beat_the_speculative_roofline(k, acceptance, method, concurrency):
    """With speculation a step may emit k + 1 tokens: roofline_tps is then (k + 1) over the ideal
    draft and verify time, and no request may exceed it, however lucky its acceptances."""
    model = "deepseek-v3" if method == "mtp" else "llama-3.1-8b"
    scenario = Scenario.model_validate({
        "model": model, "precision": {"weights": "fp4"} if method == "mtp" else {},
        "hardware": {"gpu": "b200"}, "parallelism": {"tp": 8},
        "decoding": {"method": method, "draft_model": "llama-3.2-1b", "speculative_tokens": k, "acceptance": acceptance},
        "workload": {"requests": concurrency, "prompt_tokens": 64, "output_tokens": 24,
                     "arrival": {"kind": "closed", "concurrency": concurrency}},
        "simulation": {"fidelity": "step"},
    })
    s = simulate(scenario).summary()
    assert s["per_request_tps"]["p99"] <= s["roofline_tps"] * (1 + 1e-9)
