"""The three fidelities agree when nothing contends; shared links make concurrent groups wait.

architecture.md 6 and 8.3 (the ASTRA-sim congestion-unaware / congestion-aware pair as a test).
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode import simulate
from simdecode.scenario.schema import Scenario


def scenario(fidelity: str, **kw) -> Scenario:
    spec = {
        "model": kw.get("model", "llama-3.2-1b"),
        "hardware": {"gpu": kw.get("gpu", "h100-sxm"), **({"intra_node_link": kw["link"]} if "link" in kw else {})},
        "runtime": kw.get("runtime", "default"),
        "parallelism": {"tp": kw.get("tp", 2), "pp": kw.get("pp", 1), "dp": kw.get("dp", 1),
                        "tp_mode": kw.get("tp_mode", "megatron"), "tp_delay": kw.get("tp_delay", 1)},
        "workload": {"requests": kw.get("requests", 2), "prompt_tokens": kw.get("prompt", 16),
                     "output_tokens": kw.get("output", 4), "arrival": {"kind": "closed", "concurrency": kw.get("concurrency", 1)}},
        "simulation": {"fidelity": fidelity},
    }
    return Scenario.model_validate(spec)


@settings(max_examples=12, deadline=None)
@given(
    gpu=st.sampled_from(["h100-sxm", "mi300x", "h100-pcie"]),
    tp=st.sampled_from([1, 2, 4, 8]),
    pp=st.sampled_from([1, 2]),
    tp_mode=st.sampled_from(["megatron", "parallel-block", "ladder", "delayed", "chunked-overlap"]),
    tp_delay=st.integers(0, 2),
    prompt=st.integers(1, 64),
)
def test_step_layer_and_op_give_the_same_times_without_contention(gpu, tp, pp, tp_mode, tp_delay, prompt):
    if tp * pp > 8:
        pp = 1
    kw = dict(gpu=gpu, tp=tp, pp=pp, tp_mode=tp_mode, tp_delay=tp_delay, prompt=prompt)
    runs = {f: simulate(scenario(f, **kw)) for f in ("step", "layer", "op")}
    ref = runs["step"].requests
    for fidelity in ("layer", "op"):
        for a, b in zip(ref, runs[fidelity].requests):
            assert math.isclose(a.first_token_s, b.first_token_s, rel_tol=1e-9)
            assert math.isclose(a.finished_s, b.finished_s, rel_tol=1e-9)
    assert runs["op"].events > runs["layer"].events > runs["step"].events


def tpot_ms(fidelity: str, **kw) -> float:
    return simulate(scenario(fidelity, **kw)).summary()["tpot_ms"]["mean"]


def test_replicas_without_peer_to_peer_contend_for_the_host_path():
    """8x RTX 4090 (no P2P: every transfer bounces through host memory) as 2 replicas of tp 4,
    one request on each: both replicas' all-reduces cross the node's one host path. At fidelity
    layer and op they queue behind each other, so decoding is slower than the contention-free
    analytic fold (fidelity step), which runs each replica as if it were alone."""
    kw = dict(gpu="rtx-4090", tp=4, dp=2, requests=2, concurrency=2)
    alone = tpot_ms("step", **kw)
    assert math.isclose(alone, tpot_ms("step", **{**kw, "dp": 1, "concurrency": 1}), rel_tol=1e-9)
    for fidelity in ("layer", "op"):
        shared = tpot_ms(fidelity, **kw)
        assert shared > alone * (1 + 1e-6), (fidelity, alone, shared)


def test_nvswitch_replicas_do_not_contend():
    """On NVSwitch each GPU has its own port: two replicas at once decode as fast as one alone."""
    kw = dict(gpu="h100-sxm", tp=4, dp=2, requests=2, concurrency=2)
    for fidelity in ("layer", "op"):
        assert math.isclose(tpot_ms(fidelity, **kw), tpot_ms("step", **kw), rel_tol=1e-9)


def test_groups_crossing_pcie_switches_contend_for_the_root_complex():
    """8 PCIe GPUs behind 4 switches (2 each) as 2 replicas of tp 4: each ring crosses between
    switches through the CPU's root complex, which both replicas share; behind 2 switches
    (4 GPUs each) each group stays inside its switch and nothing is shared."""
    def tpot(fidelity: str, switches: int) -> float:
        s = scenario(fidelity, gpu="h100-pcie", tp=4, dp=2, requests=2, concurrency=2)
        s = Scenario.model_validate({**s.model_dump(by_alias=True, exclude={"model", "hardware", "runtime"}),
                                     "model": "llama-3.2-1b", "runtime": "default",
                                     "hardware": {"gpu": "h100-pcie", "pcie_switches": switches}})
        return simulate(s).summary()["tpot_ms"]["mean"]

    free = tpot("step", 4)
    assert tpot("layer", 4) > free * (1 + 1e-6)
    assert math.isclose(tpot("layer", 2), tpot("step", 2), rel_tol=1e-9)
