"""Kog's 2B engine on 8x MI300X and 8x H200 (DEC-13, issue 13): what the model reproduces and what
it leaves open. Published: 3,000 tok/s (MI300X), 2,100 (H200). The kog runtime carries Kog's own
MI300X stage costs; nothing here is fitted to the H200 figure. The model is Laneformer 2B as
published (15 layers, d 3072, 2.32B parameters, 8 lanes, a delay of 2 layers = 4 modules:
simdecode/validate/conditions.py). Per token and GPU: 557.6 MB read (580 MB of weights, the LM
head and embedding sharded 8 ways, one embedding row), 123 stages (15 x 8 + 3) of 1.4 us = 172.2
us, and 7 blocking collectives of ~5.3 us (the embedding's, the first 4 modules', the lane
average, the logits gather) = ~37.4 us; the 22 delayed exchanges hide behind 4 modules each."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdecode import load_scenario, simulate
from simdecode.present.explain import explain

KOG = Path(__file__).resolve().parents[2] / "scenarios" / "kog-2b-8xmi300x.yaml"


def _tps(*overrides: str) -> float:
    return simulate(load_scenario(KOG, list(overrides))).summary()["per_request_tps"]["mean"]


def test_mi300x_lands_within_25_percent_of_kogs_3000():
    assert _tps() == pytest.approx(3000.0, rel=0.25)


def test_mi300x_is_ahead_of_h200_by_its_bandwidth_not_by_kogs_143x():
    """Same stage costs on both GPUs: the MI300X leads by its HBM (5.3 vs 4.8 TB/s: 134.9 vs 148.9
    us of streaming) and by gathering the logits over seven parallel xGMI links; 1.0x-1.1x (1.04x),
    far from Kog's 1.43x, which the model leaves to Kog's unpublished H200 stage costs."""
    ratio = _tps() / _tps("hardware.gpu=h200")
    assert 1.0 < ratio < 1.1


def test_h200_figure_needs_about_one_more_microsecond_per_stage():
    """The arithmetic quoted in the scenario: 1 / 2,100 = 476.2 us per token, less 148.9 us of
    streaming and 37.4 us of exposed exchanges, over 123 stages: 2.36 us per stage, against Kog's
    1.4 us on MI300X. With it the model gives the published H200 figure (an inverse, not a
    prediction)."""
    assert _tps("hardware.gpu=h200", "runtime.kernel_launch=2.36 us") == pytest.approx(2100.0, rel=0.01)


def test_logits_gather_on_the_xgmi_mesh_is_direct_and_cheap():
    """In-kernel collectives store each 16 KB shard (32,000 / 8 fp32 logits) straight into the
    peers: 4.2 us of flags + 1 us overhead + 0.33 us on its own link = 5.5 us, not an NCCL ring
    through one 48 GB/s link."""
    (gather,) = [c for c in explain(load_scenario(KOG))["stages"][0]["collectives"] if c["kind"] == "gather"]
    assert gather["algorithm"] == "direct"
    assert gather["bytes"] == 32000 / 8 * 4
    assert gather["alpha_s"] == pytest.approx(7 * 0.6e-6 + 1e-6, rel=1e-9)
    assert gather["beta_s"] == pytest.approx(16000 / (64e9 * 0.75), rel=1e-9)


def _h200_with_hop(latency: str) -> float:
    """The H200 over NVLink 4 (nvlink4 preset: 450 GB/s, 0.82, NVSwitch) with another hop latency."""
    link = "{bandwidth: 450 GB/s, latency: %s, efficiency: 0.82, topology: switch, transport: nvlink, multicast: true}"
    return _tps("hardware.gpu=h200", "hardware.intra_node_link=" + link % latency)


def test_a_twice_slower_nvswitch_hop_brings_the_h200_inside_the_band_not_to_2100():
    """Delayed TP hides the 22 delayed exchanges behind four modules of streaming; the 7 blocking
    collectives stay exposed. With every hop on the H200 twice NCCL's 0.6 us NVLink figure (one
    in-kernel exchange 7 x 1.2 + 1 = 9.4 us + 0.12 us of bytes; the gather 9.7 us) they cost
    6 x 9.52 + 9.70 = 66.8 us instead of 37.4, and the token takes 148.9 + 172.2 + 66.8 = 387.9 us:
    2,578 tok/s, +23% on Kog's 2,100 (inside the 25% band, still not the figure). No measurement
    gives NVSwitch that hop: the scenario header lists what was checked."""
    tps = _h200_with_hop("1.2 us")
    assert tps == pytest.approx(1e6 / (148.9 + 172.2 + 66.8), rel=0.01)
    assert 2100.0 < tps < 2100.0 * 1.25


def test_h200_figure_needs_exchanges_past_what_four_delayed_modules_hide():
    """The other inverse quoted in the scenario: at 1.9 us a hop (7 x 1.9 + 1 = 14.3 us of latency
    per exchange, longer than one module of ~10.7 us) the 7 blocking collectives cost ~101 us and
    the delayed exchanges, one after another on the comm stream, fall behind the modules: the H200
    lands on 2,100 tok/s. Measured standalone one-shot all-reduces on 8x H100 take ~11 us (launch
    included); none measures the in-kernel part, so this stays an inverse, not a prediction."""
    assert _h200_with_hop("1.9 us") == pytest.approx(2100.0, rel=0.01)


def test_measured_read_bandwidth_puts_the_h200_ahead_not_behind():
    """Achievable HBM bandwidth as measured, not as specified: a read-only STREAM kernel ("Dot")
    reaches 4.48 TB/s on an H200 and 3.87 TB/s on an MI300X (Azure/AI-benchmarking-guide,
    Azure_Results/ND_H200_v5_results.md; ND_MI300X_v5_results.md as kept in its fork
    samuel-bohman/AI-benchmarking-guide). A weight stream is reads
    only, so with those in place of 78% on both: the H200 streams its 557.6 MB in 124.5 us (148.9 us
    at 78%), the MI300X in 144.1 us (134.9 us at 78%); H200 124.5 + 172.2 + 37.4 = 334.1 us (2,993
    tok/s), MI300X 144.1 + 172.2 + 37.5 = 353.8 us (2,826). The measured spread widens the gap to
    Kog's 2,100 (+43%) instead of closing it."""
    h200 = _tps("hardware.gpu=h200", f"runtime.memory_efficiency={4.48 / 4.8}")
    mi300x = _tps(f"runtime.memory_efficiency={3.87 / 5.3}")
    assert h200 == pytest.approx(1e6 / (124.5 + 172.2 + 37.4), rel=0.005)
    assert mi300x == pytest.approx(1e6 / (144.1 + 172.2 + 37.5), rel=0.005)
    assert h200 > mi300x


def test_hopper_memory_latency_in_the_restart_shortens_the_h200_stage():
    """Kog's 1.4 us stage is a 0.9 us flag wait plus a ~0.5 us HBM restart measured on the MI300X.
    An H100 reads its DRAM in 375 ns (658 cycles at 1,755 MHz; pointer chase,
    te42kyfo/gpu-benches gpu-latency/h100_pcie.txt): a 0.9 + 0.375 = 1.275 us stage over the 123
    stages gives 148.9 + 156.8 + 37.4 = 343.1 us, 2,914 tok/s, further from 2,100 than the default
    2,788. (Its flags, polled in the one L2, 151-272 ns there, would shorten it more.)"""
    tps = _tps("hardware.gpu=h200", "runtime.kernel_launch=1.275 us")
    assert tps == pytest.approx(1e6 / (148.9 + 123 * 1.275 + 37.4), rel=0.005)
    assert tps > _tps("hardware.gpu=h200") > 2100.0 * 1.25
