"""The data-quality rule for closed-loop serving sweeps (simdecode/validate/disturbed.py)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.validate import inferencex
from simdecode.validate.cases import SHIPPED_DATA
from simdecode.validate.disturbed import decoding_in_flight, disturbed_points


def test_a_ttft_above_twice_a_higher_concurrencys_marks_the_lower_point():
    # InferenceX gpt-oss-120b, one H200, 8k1k (ms): 10,983 / 983 = 11.17 > 2
    bad = disturbed_points({8: 10.42, 16: 12.18, 32: 24.90}, {8: 500.6, 16: 10983.3, 32: 982.6})
    assert set(bad) == {16}
    metric, why = bad[16]
    assert metric == "TTFT" and "mean TTFT 10,983 ms is 11.2x the 983 ms measured at concurrency 32" in why


def test_the_ttft_tolerance_is_a_factor_of_two():
    assert disturbed_points({}, {4: 200.0, 8: 100.0}) == {}            # 2.00x: not beyond
    assert set(disturbed_points({}, {4: 201.0, 8: 100.0})) == {4}      # 2.01x
    assert disturbed_points({}, {4: 117.0, 8: 100.0}) == {}            # TensorRT-LLM's 17% at low concurrency


def test_a_tpot_above_a_higher_concurrencys_by_5_percent_marks_the_lower_point():
    # gpt-oss-120b, four H100, 1k8k (ms): 8.50 / 7.09 = 1.199
    bad = disturbed_points({8: 4.59, 16: 8.50, 32: 7.09, 64: 9.51}, {8: 51.3, 16: 111.2, 32: 83.2, 64: 110.7})
    assert set(bad) == {16}
    assert bad[16][0] == "TPOT" and "mean TPOT 8.5 ms is 1.20x the 7.09 ms measured at concurrency 32" in bad[16][1]
    assert disturbed_points({4: 10.4, 8: 10.0}, {}) == {}              # 1.04: within
    assert set(disturbed_points({4: 10.6, 8: 10.0}, {})) == {4}        # 1.06


def test_a_point_with_a_ttft_stall_is_no_reference_for_the_tpot_rule():
    """Its requests waited for their first token, fewer decoded at once, so its TPOT is low: the
    point below it (10.4 > 1.05 x 8.0) is not the disturbed one."""
    bad = disturbed_points({8: 10.4, 16: 8.0, 32: 25.0}, {8: 500.0, 16: 10000.0, 32: 1000.0})
    assert set(bad) == {16} and bad[16][0] == "TTFT"


def test_little_law_puts_half_the_requests_of_a_stalled_point_in_decode():
    # c (osl - 1) TPOT / (TTFT + (osl - 1) TPOT) = 16 x 921 x 12.18 ms / (10.983 s + 11.218 s) = 8.085
    assert decoding_in_flight(16, 10.983, 12.18e-3, 922) == pytest.approx(16 * 11.21778 / 22.20078, rel=1e-6)
    assert decoding_in_flight(8, 0.5006, 10.42e-3, 922) == pytest.approx(7.60, abs=0.01)


values = st.floats(min_value=0.5, max_value=1e4, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(values, values), min_size=1, max_size=7), st.floats(min_value=1e-3, max_value=1e3))
def test_monotone_sweeps_are_never_flagged_and_units_do_not_matter(steps, scale):
    """A sweep whose TTFT and TPOT never fall as concurrency rises has no disturbed point; and the
    rule compares ratios, so the unit (us, ms, s) does not change what it flags."""
    tpot, ttft, a, b = {}, {}, 1.0, 1.0
    for i, (da, db) in enumerate(steps):
        a, b = a + da, b + db
        tpot[4 << i], ttft[4 << i] = a, b
    assert disturbed_points(tpot, ttft) == {}
    shuffled = {c: v for c, v in zip(sorted(tpot), reversed(list(tpot.values())))}
    got = disturbed_points(shuffled, ttft)
    scaled = disturbed_points({c: v * scale for c, v in shuffled.items()}, {c: v * scale for c, v in ttft.items()})
    assert set(got) == set(scaled)


def test_a_disturbed_point_is_listed_not_simulated_both_metrics_with_the_reason():
    sweep = {"scenario": "gpt-oss-120b-h200-fp4-vllm-tp1.yaml", "label": "8k1k",
             "absolute_tpot_us": {"8": 10420.0, "16": 12180.0, "32": 24900.0},
             "absolute_ttft_us": {"8": 500600.0, "16": 10983300.0, "32": 982600.0}}
    cases = inferencex.sweep_jobs(sweep)
    assert [j.key for j in cases.jobs] == ["gpt-oss-120b-h200-fp4-vllm-tp1 8k1k c=8", "gpt-oss-120b-h200-fp4-vllm-tp1 8k1k c=32"]
    assert [p.metric for p in cases.skipped] == ["TPOT", "TTFT"]
    why = cases.skipped[0].reason
    assert why.startswith("measurement disturbed at concurrency 16: mean TTFT 10,983 ms is 11.2x the 983 ms")
    # osl uniform in [819, 1024]: mean 921.6; 16 x 920.6 x 12.18 ms / (10.983 + 11.213 s) = 8.08
    assert "only 8.1 of its 16 requests were decoding at once" in why


def test_on_the_shipped_sweeps_only_gpt_oss_points_are_disturbed():
    """What the rule finds in the data (docs/validation.md lists them): six gpt-oss-120b points,
    no Llama-3.1-70B or DeepSeek-V3 point."""
    cases = inferencex.load(SHIPPED_DATA / "inferencex-serving.json")
    flagged = {(p.group.split()[1], p.case) for p in cases.skipped if p.reason.startswith("measurement disturbed")}
    assert Counter(model for model, _ in flagged) == {"gpt-oss-120b": 6}
