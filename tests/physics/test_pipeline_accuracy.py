"""Tensor versus pipeline parallelism against FasterTransformer's Megatron-530B table (PP-03).

A100-80GB SuperPod nodes, fp16, 20 prompt / 8 output tokens, end-to-end latency of a batch; the
25% band of the serving issue. The sign checks are PP-05's: pipeline stages do not make one
request faster, and only catch up under load.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simdecode import load_scenario, simulate

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "megatron-530b-tp-vs-pp.yaml"
LAYOUTS = {"tp16": (16, 1, 2), "tp32": (32, 1, 4), "tp8-pp3": (8, 3, 3)}
# batch: published end-to-end ms per layout (PP-03 series)
PP_03 = {1: {"tp16": 565, "tp32": 431, "tp8-pp3": 842},
         64: {"tp16": 1191, "tp32": 942, "tp8-pp3": 1722},
         256: {"tp16": 3341, "tp32": 2483, "tp8-pp3": 3140}}


def e2e_ms(layout: str, batch: int) -> float:
    tp, pp, nodes = LAYOUTS[layout]
    s = load_scenario(SCENARIO, [f"parallelism.tp={tp}", f"parallelism.pp={pp}", f"hardware.nodes={nodes}",
                                 f"workload.arrival.concurrency={batch}", f"workload.requests={batch}"])
    return simulate(s).summary()["e2e_ms"]["mean"]


@pytest.mark.parametrize("batch", sorted(PP_03))
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_megatron_530b_latency_within_25_percent(layout, batch):
    assert e2e_ms(layout, batch) == pytest.approx(PP_03[batch][layout], rel=0.25)


def test_pipeline_is_slowest_for_one_request_and_catches_up_under_load():
    one = {layout: e2e_ms(layout, 1) for layout in LAYOUTS}
    assert one["tp32"] < one["tp16"] < one["tp8-pp3"]   # 24 GPUs in a pipeline lose to 16 in TP
    many = {layout: e2e_ms(layout, 256) for layout in LAYOUTS}
    assert many["tp8-pp3"] < 1.1 * many["tp16"]        # micro-batches in flight close the gap
