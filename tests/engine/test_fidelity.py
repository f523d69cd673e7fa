"""Mode agreement (docs/architecture.md, "The step plan and its fold"): with nothing contending, fidelity ``step``, ``layer`` and
``op`` give the same per-request TTFT and TPOT, since all follow the fold's list-scheduling rule."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode import tp_schedules
from simdecode import simulate
from simdecode.scenario.schema import Scenario


def run(data: dict, fidelity: str):
    return simulate(Scenario.model_validate({**data, "simulation": {"fidelity": fidelity}}))


@settings(max_examples=20, deadline=None)
@given(
    model=st.sampled_from(["llama-3.2-1b", "llama-2-7b"]),
    gpu=st.sampled_from(["h100-sxm", "mi300x", "h100-pcie"]),  # NVSwitch, xGMI mesh, PCIe
    tp=st.sampled_from([1, 2, 4, 8]),
    pp=st.sampled_from([1, 2]),
    tp_mode=st.sampled_from(list(tp_schedules.names())),
    tp_delay=st.integers(min_value=0, max_value=2),
    requests=st.integers(min_value=1, max_value=3),
    prompt=st.integers(min_value=1, max_value=64),
    output=st.integers(min_value=1, max_value=6),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_fidelities_agree_per_request(model, gpu, tp, pp, tp_mode, tp_delay, requests, prompt, output, seed):
    data = {
        "seed": seed, "model": model, "hardware": {"gpu": gpu, "nodes": 2},
        "parallelism": {"tp": tp, "pp": pp, "tp_mode": tp_mode, "tp_delay": tp_delay},
        "workload": {"arrival": {"kind": "closed", "concurrency": 1}, "requests": requests,
                     "prompt_tokens": prompt, "output_tokens": output},
    }
    step = run(data, "step")
    assert len(step.requests) == requests
    layer, op = run(data, "layer"), run(data, "op")
    if tp > 1:
        assert op.events > layer.events  # op fidelity expands each all-reduce into transfers
    for fine in (layer, op):
        assert len(fine.requests) == requests
        for a, b in zip(step.requests, fine.requests):
            assert (a.id, a.output_tokens) == (b.id, b.output_tokens)
            assert math.isclose(a.ttft_s, b.ttft_s, rel_tol=1e-9)
            assert math.isclose(a.tpot_s, b.tpot_s, rel_tol=1e-9)
            assert math.isclose(a.finished_s, b.finished_s, rel_tol=1e-9)
        assert fine.gpu.contention_s == 0.0
        assert math.isclose(step.simulated_s, fine.simulated_s, rel_tol=1e-9)
        assert fine.events >= step.events  # finer executors spend more events, never fewer
