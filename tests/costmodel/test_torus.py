"""Collectives over a TPU ICI torus (simdecode/costmodel/torus.py): hand-computed numbers, the
scenario checks, and invariants."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode import load_scenario
from simdecode.costmodel import collectives as coll
from simdecode.costmodel.torus import group_dims, torus_all_gather, torus_all_reduce
from simdecode.errors import ScenarioError
from simdecode.presets import resolve
from simdecode.present.explain import explain
from simdecode.scenario.hardware import LinkSpec, RuntimeSpec

TPU = Path(__file__).resolve().parents[2] / "scenarios" / "tpu-v5e-llama-3.1-70b-ici-torus.yaml"
US = 1e-6


def ici(preset: str = "ici-v5e", **over) -> LinkSpec:
    return LinkSpec.model_validate({**resolve("links", preset), **over})


def test_group_fills_the_slice_dimension_by_dimension():
    assert group_dims(8, (2, 4)) == (2, 4)
    assert group_dims(4, (2, 4)) == (2, 2)
    assert group_dims(16, (4, 4, 4)) == (4, 4, 1)
    with pytest.raises(ValueError, match="does not fit the torus"):
        group_dims(3, (2, 4))


def test_v5e_host_2x4_all_reduce_by_hand():
    """Open 2 x 4, 16 KB, 1 us per hop, 50 GB/s x 0.9 per link and direction:
    alpha = 2 (1 + 3) x 1 us = 8 us; beta = 2 (1/2 x 16384 + 3/4 x 8192) / 45e9 = 0.637 us."""
    c = torus_all_reduce(16384, 8, ici())
    assert c.alpha_s == pytest.approx(8 * US, rel=1e-12)
    assert c.beta_s == pytest.approx(2 * (16384 / 2 + 3 / 4 * 8192) / 45e9, rel=1e-12)
    assert c.beta_s == pytest.approx(0.637 * US, rel=1e-3)


def test_v5e_4x4_all_reduce_by_hand():
    """4 x 4: alpha = 2 (3 + 3) us = 12 us; beta = 2 (3/4 x 16384 + 3/4 x 4096) / 45e9 = 0.683 us."""
    c = torus_all_reduce(16384, 16, ici(torus_dims=(4, 4)))
    assert c.alpha_s == pytest.approx(12 * US, rel=1e-12)
    assert c.beta_s == pytest.approx(30720 / 45e9, rel=1e-12)


def test_v5p_cube_with_wraparound_runs_two_rings_per_dimension():
    """4 x 4 x 4 with wraparound, 1 MB: alpha = 2 (3 + 3 + 3) us = 18 us; each dimension's ring runs
    both ways (r = 2): beta = 2 x 3/4 (1 + 1/4 + 1/16) x 2^20 / (2 x 45e9) = 23.0 us."""
    c = torus_all_reduce(2**20, 64, ici("ici-v5p", torus_dims=(4, 4, 4), wraparound=True))
    assert c.alpha_s == pytest.approx(18 * US, rel=1e-12)
    assert c.beta_s == pytest.approx(2 * 0.75 * (1 + 1 / 4 + 1 / 16) * 2**20 / (2 * 45e9), rel=1e-12)
    open_line = torus_all_reduce(2**20, 64, ici("ici-v5p", torus_dims=(4, 4, 4)))
    assert open_line.beta_s == pytest.approx(2 * c.beta_s, rel=1e-12)


def test_a_two_chip_dimension_has_one_link_even_with_wraparound():
    closed = torus_all_reduce(2**20, 8, ici(torus_dims=(2, 4), wraparound=True))
    # dimension 1 (2 chips): r = 1; dimension 2 (4 chips, full ring): r = 2
    assert closed.beta_s == pytest.approx(2 * (2**20 / 2 / 45e9 + 3 / 4 * 2**19 / (2 * 45e9)), rel=1e-12)


def test_all_gather_is_half_the_all_reduce_and_dispatch_uses_the_torus():
    link = ici(torus_dims=(4, 4))
    ar, ag = torus_all_reduce(8192, 16, link), torus_all_gather(8192, 16, link)
    assert ag.alpha_s == pytest.approx(ar.alpha_s / 2) and ag.beta_s == pytest.approx(ar.beta_s / 2)
    runtime = RuntimeSpec.model_validate(resolve("runtimes", "xla-tpu"))
    assert coll.all_reduce(8192, 16, link, runtime).algorithm == "torus-ring"
    assert coll.all_gather(8192, 16, link, runtime).algorithm == "torus-ring"
    with pytest.raises(ValueError, match="no form on a torus"):
        coll.all_reduce(8192, 16, link, runtime, "nvls")


@settings(max_examples=60, deadline=None)
@given(n=st.floats(1, 1e9), dims=st.sampled_from([(2, 4), (4, 4), (4, 4, 4), (16, 16)]), wrap=st.booleans())
def test_torus_invariants(n, dims, wrap):
    link = ici(torus_dims=dims, wraparound=wrap)
    p = 1
    for d in dims:
        p *= d
    ar = torus_all_reduce(n, p, link)
    assert ar.time_s >= torus_all_gather(n, p, link).time_s > 0
    assert torus_all_reduce(2 * n, p, link).time_s >= ar.time_s
    assert ar.time_s <= torus_all_reduce(n, p, ici(torus_dims=dims, wraparound=False)).time_s
    # never below the one-link bound: every byte but 1/p of it crosses some chip's links
    assert ar.beta_s >= (p - 1) / p * n / (2 * len(dims) * 45e9) - 1e-15


def test_tpu_scenario_is_torus_bound_at_tp16_and_faster_than_one_host():
    e16 = explain(load_scenario(TPU))
    ar = e16["setup"]["allreduce"]
    assert ar["algorithm"] == "torus-ring" and ar["alpha_s"] == pytest.approx(12 * US)
    e8 = explain(load_scenario(TPU, ["hardware.gpus_per_node=8", "hardware.intra_node_link.torus_dims=[2,4]",
                                     "parallelism.tp=8"]))
    speedup = e16["tokens_per_s_per_request"] / e8["tokens_per_s_per_request"]
    assert 1.5 < speedup < 2.0          # twice the chips, less than twice the speed: the torus hops


def test_torus_shape_must_hold_the_nodes_chips():
    with pytest.raises(ScenarioError, match=r"holds 8 chips, but gpus_per_node is 16"):
        load_scenario(TPU, ["hardware.intra_node_link.torus_dims=[2,4]"])
    with pytest.raises(ValueError, match="a torus link needs torus_dims"):
        LinkSpec.model_validate({**resolve("links", "ici-v5e"), "torus_dims": ()})


@pytest.mark.parametrize(("name", "memory_GB", "bandwidth_GBps", "bf16_TFLOPs", "link_GBps", "dims"), [
    ("tpu-v5e", 16, 819, 197, 50, (2, 4)),      # 400 GB/s ICI both ways over 4 ports
    ("tpu-v5p", 95, 2765, 459, 50, (2, 2, 1)),  # 4800 Gb/s = 600 GB/s over 6 ports
    ("tpu-v6e", 32, 1638, 918, 100, (2, 4)),    # 800 GB/s over 4 ports
])
def test_tpu_presets_carry_googles_datasheet_figures(name, memory_GB, bandwidth_GBps, bf16_TFLOPs, link_GBps, dims):
    from simdecode.scenario.hardware import GpuSpec

    chip = GpuSpec.model_validate(resolve("gpus", name))
    assert (chip.memory_bytes, chip.memory_bandwidth_Bps) == (memory_GB * 1e9, bandwidth_GBps * 1e9)
    assert chip.flops_per_s["bf16"] == bf16_TFLOPs * 1e12
    assert chip.tdp_W is None                      # Google publishes none
    link = ici(chip.default_link)
    assert (link.topology, link.bandwidth_Bps, link.torus_dims) == ("torus", link_GBps * 1e9, dims)


def test_a_power_limit_needs_a_tdp():
    from simdecode.scenario.hardware import GpuSpec

    with pytest.raises(ValueError, match="power_limit needs the GPU's tdp"):
        GpuSpec.model_validate({**resolve("gpus", "tpu-v5e"), "power_limit": "100 W"})
