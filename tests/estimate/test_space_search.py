"""The assumption space's parsing, and the search's round trip for any configuration (property)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.estimate import estimate
from simdecode.estimate.evaluate import Evaluator
from simdecode.estimate.shapes import active_params, ladder
from simdecode.estimate.space import (Arch, Assumptions, EstimateError, Hardware, Speculation, build_space,
                                      parse_arch, parse_count, parse_ints)


def test_parse_ranges_and_counts():
    assert parse_ints("1..64", "batch") == (1, 2, 4, 8, 16, 32, 64)
    assert parse_ints("3..20,7", "batch") == (3, 4, 7, 8, 16, 20)
    assert parse_count("70.6B", "x") == pytest.approx(70.6e9)
    assert parse_count("1.2T", "x") == pytest.approx(1.2e12)
    assert parse_count("32e9", "x") == 32e9
    with pytest.raises(EstimateError, match="expected a count"):
        parse_count("lots", "x")
    assert parse_arch("dense,moe:10:160:8", "gqa,mla") == (
        Arch(), Arch(attention="mla"), Arch("moe", 10, 160, 8), Arch("moe", 10, 160, 8, "mla"))


def test_default_tp_is_half_and_all_of_the_gpus():
    space = build_space(hardware="h200x8,l40sx4")
    assert space.tp == (2, 4, 8)
    # tp 8 does not fit 4 L40S: those combinations are left out, not errors
    assert all(a.tp <= a.hardware.gpus for a in space.combos())
    assert space.size < len(space.hardware) * 3 * len(space.precision) * 2 * 3 * 2 * 2 * 2
    # a node of 9 or 6: half of it would be no divisor, or no split of 8 KV heads ("--tp 4 contradicts h200x9")
    assert build_space(hardware="h200x9").tp == (1,)
    assert build_space(hardware="h200x6").tp == (1, 2)
    assert build_space(hardware="h200x1").tp == (1,)
    with pytest.raises(EstimateError, match="--tp 3: the synthetic models have 8 KV heads"):
        build_space(hardware="h200x6", tp="3")


CONFIGS = st.builds(
    Assumptions,
    hardware=st.sampled_from([Hardware("h100-sxm", 8), Hardware("h200", 8), Hardware("b200", 8)]),
    precision=st.sampled_from(["bf16", "fp8", "fp4"]),
    tp=st.sampled_from([2, 4, 8]),
    runtime=st.sampled_from(["vllm", "trt-llm", "default"]),
    batch=st.sampled_from([1, 4, 32]),
    context=st.sampled_from([500, 4000]),
    speculation=st.sampled_from([Speculation(), Speculation(2, 0.8)]),
    arch=st.sampled_from([Arch(), Arch("moe", 8, 64, 4)]),
)


@settings(max_examples=12, deadline=None)
@given(CONFIGS, st.integers(10, 60))
def test_round_trip_any_configuration(a, rung):
    """Simulate any rung under any assumptions; the estimate with those assumptions pinned holds
    its size, and its band's ends bracket it."""
    ev = Evaluator(output_tokens=128)
    model = ladder(a.arch, 8)[rung]
    if not ev.fits(a, model):
        return
    tps = ev.tps(a, model)
    spec = str(a.speculation)
    r = estimate(tps, hardware=str(a.hardware), precision=a.precision, tp=a.tp, runtime=a.runtime,
                 batch=a.batch, context=a.context, speculation=spec, arch=str(a.arch), output_tokens=128,
                 tolerance=0.05)
    lo, hi = r["interval"]["active_params"]
    assert lo <= active_params(model) <= hi
    assert r["baseline"]["model"]["name"] == model.name
