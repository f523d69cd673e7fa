"""The interconnect issue's claims: where all-reduce caps TP, and what the schedules that hide it buy
(physics.md 1.2, 1.5, 2.5; published DEC-13 beside the 2B scenario)."""

from __future__ import annotations

from pathlib import Path

from simdecode import load_scenario, simulate
from simdecode.present.explain import explain

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
TWO_B = SCENARIOS / "allreduce-bottleneck-2b-8xh200.yaml"
TP_SCALING = SCENARIOS / "tp-scaling-pcie-vs-nvlink.yaml"


def test_2b_megatron_with_nccl_ring_is_all_reduce_bound_and_delayed_tp_is_much_faster():
    megatron = simulate(load_scenario(TWO_B, ["parallelism.tp_mode=megatron", "parallelism.allreduce=ring",
                                              "runtime=default"])).summary()
    assert megatron["bottleneck"] == "all-reduce"
    shares = megatron["decode_step_shares"]
    assert shares["communication"] == max(shares.values())      # the largest share of the step
    delayed = simulate(load_scenario(TWO_B)).summary()           # delayed tp8 on the monokernel runtime
    assert delayed["per_request_tps"]["mean"] >= 1.5 * megatron["per_request_tps"]["mean"]
    assert delayed["allreduce_share"] < megatron["allreduce_share"]


def test_every_schedule_sits_between_its_bounds_on_the_2b_model():
    """ladder and delayed <= megatron; all beat megatron's blocking all-reduces on this model."""
    tps = {}
    for mode in ("megatron", "parallel-block", "ladder", "delayed"):
        tps[mode] = simulate(load_scenario(TWO_B, [f"parallelism.tp_mode={mode}"])).summary()["per_request_tps"]["mean"]
    assert tps["megatron"] < tps["parallel-block"] < tps["ladder"]
    assert tps["megatron"] < tps["delayed"]


def test_crossover_tp_is_lower_on_pcie_than_on_nvlink_and_agrees_with_the_analytic_estimate():
    nvlink = simulate(load_scenario(TP_SCALING)).summary()["tp_scaling"]
    pcie = simulate(load_scenario(TP_SCALING, ["hardware.intra_node_link=pcie5"])).summary()["tp_scaling"]
    assert nvlink["crossover_tp"] is None                      # still rising at tp 8 on NVLink
    rates = nvlink["per_request_tps"]
    assert rates["8"] > rates["4"] > rates["2"] > rates["1"]
    assert pcie["crossover_tp"] is not None and pcie["crossover_tp"] < 8
    assert pcie["per_request_tps"]["8"] < pcie["per_request_tps"][str(pcie["crossover_tp"])]
    assert 0.5 <= pcie["crossover_tp"] / pcie["analytic_crossover_tp"] <= 2.0   # within a factor of 2
    # and the explanation names the all-reduce as what stops the scaling
    sentence = explain(load_scenario(TP_SCALING, ["hardware.intra_node_link=pcie5"]))["tp_scaling"]["sentence"]
    assert "all-reduce" in sentence and f"tp = {pcie['crossover_tp']}" in sentence
