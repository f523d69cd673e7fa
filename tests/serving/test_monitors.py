"""LevelMonitor (simdecode/metrics/monitors.py): time-weighted mean and max of a step function,
a bounded series, and the same numbers after thinning."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.metrics.monitors import LevelMonitor


def test_time_weighted_mean_of_a_known_step_function():
    # 0 on [0, 1), 4 on [1, 3), 1 on [3, 7), 0 from 7: integral 8 + 4 = 12
    m = LevelMonitor("q")
    for t, v in [(1, 4), (3, 1), (7, 0)]:
        m.record(t, v)
    assert m.integral() == 12
    assert m.mean(0, 10) == pytest.approx(1.2)
    assert m.mean(0, 7) == pytest.approx(12 / 7)
    assert m.mean(1, 7) == pytest.approx(12 / 6)  # a later start, from the series
    assert m.mean(2, 5) == pytest.approx((4 + 2) / 3)
    assert m.max == 4 and m.value == 0


def test_a_value_held_for_no_time_is_not_the_maximum():
    m = LevelMonitor("queue")
    m.record(2.0, 1)  # arrives ...
    m.record(2.0, 0)  # ... and is admitted at the same instant
    m.record(3.0, 2)
    m.record(5.0, 0)
    assert m.max == 2
    assert m.series() == ([0.0, 3.0, 5.0], [0, 2, 0])  # the instant's 1 is merged away
    assert m.mean(0, 5) == pytest.approx(4 / 5)


def test_equal_values_are_not_stored():
    m = LevelMonitor("kv")
    for t in range(1, 10):
        m.record(float(t), 3)
    assert len(m) == 2 and m.mean(0, 10) == pytest.approx(2.7)


def test_time_cannot_go_back():
    m = LevelMonitor("kv")
    m.record(2.0, 1)
    with pytest.raises(ValueError):
        m.record(1.0, 2)


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(st.tuples(st.floats(0.0, 5.0), st.integers(0, 50)), min_size=1, max_size=400),
       cap=st.integers(min_value=2, max_value=40))
def test_thinning_bounds_the_series_and_keeps_the_statistics_exact(steps, cap):
    bounded, full = LevelMonitor("b", max_points=cap), LevelMonitor("f", max_points=10**9)
    t = 0.0
    area, top, last_v = 0.0, 0, 0
    for dt, v in steps:
        if t + dt > t and last_v > top:  # held for a positive time
            top = last_v
        area += last_v * dt
        t += dt
        last_v = v
        bounded.record(t, v)
        full.record(t, v)
        assert len(bounded) <= cap
    end = t + 1.0
    area += last_v * 1.0
    for m in (bounded, full):
        assert math.isclose(m.integral(end), area, rel_tol=1e-9, abs_tol=1e-9)
        assert m.max == max(top, last_v)
        assert m.mean(0, end) == pytest.approx(area / end)
    ts, vs = bounded.series()
    assert ts == sorted(ts) and ts[0] == 0.0 and vs[-1] == last_v
