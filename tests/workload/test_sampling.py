"""Random draws of synthetic workloads, tested directly on the generator functions (no engine):
gap means and coefficients of variation, each length distribution's centre and clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.scenario.schema import MAX_TOKENS, WorkloadSpec
from simdecode.workloads.sampling import draw_lengths, exponential_gaps, gamma_gaps

N = 200_000
Z = 5.0  # standard errors allowed: a false failure about once in 2 million runs per check


def _length(spec) -> object:
    """A validated length spec (int or distribution), as the schema builds it."""
    return WorkloadSpec.model_validate({"prompt_tokens": spec}, context={"base_dir": _ROOT}).prompt_length


def _cv_tolerance(cv: float, n: int) -> float:
    """Z standard errors of a sample CV of n gamma draws (excess kurtosis 6 cv^2): the relative
    standard error of the sample std is ~ sqrt((2 + 6 cv^2) / n) / 2, plus that of the mean."""
    return Z * cv * (math.sqrt((2 + 6 * cv**2) / n) / 2 + cv / math.sqrt(n))


@settings(deadline=None, max_examples=12)
@given(rate=st.floats(min_value=0.01, max_value=1e4), cv=st.floats(min_value=0.2, max_value=3.0),
       seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_gamma_gaps_have_mean_one_over_rate_and_the_asked_cv(rate, cv, seed):
    gaps = gamma_gaps(np.random.default_rng(seed), rate, cv, N)
    assert gaps.shape == (N,) and (gaps >= 0).all()
    mean, std = gaps.mean(), gaps.std(ddof=1)
    assert abs(mean - 1 / rate) < Z * (cv / rate) / math.sqrt(N)
    assert abs(std / mean - cv) < _cv_tolerance(cv, N)


@settings(deadline=None, max_examples=8)
@given(rate=st.floats(min_value=0.01, max_value=1e4), seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_poisson_gaps_are_exponential(rate, seed):
    gaps = exponential_gaps(np.random.default_rng(seed), rate, N)
    mean, std = gaps.mean(), gaps.std(ddof=1)
    assert abs(mean - 1 / rate) < Z * (1 / rate) / math.sqrt(N)
    assert abs(std / mean - 1.0) < _cv_tolerance(1.0, N)
    # memoryless: P(gap > 2 / rate) = e^-2
    share = (gaps > 2 / rate).mean()
    assert abs(share - math.exp(-2)) < Z * math.sqrt(math.exp(-2) * (1 - math.exp(-2)) / N)


def test_gamma_with_cv_one_is_not_bursty_and_cv_three_is():
    rng = np.random.default_rng(0)
    smooth, bursty = gamma_gaps(rng, 10.0, 1.0, N), gamma_gaps(rng, 10.0, 3.0, N)
    # bursty traffic: most gaps far below the mean, a few very long ones
    assert (bursty < 0.1 * bursty.mean()).mean() > 0.4 > (smooth < 0.1 * smooth.mean()).mean()


@pytest.mark.parametrize("bad", [(0.0, 1.0), (-1.0, 1.0), (1.0, 0.0)])
def test_gap_generators_refuse_nonpositive_parameters(bad):
    with pytest.raises(ValueError):
        gamma_gaps(np.random.default_rng(0), *bad, 3)


# ---- lengths -----------------------------------------------------------------------------------

_ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_an_integer_is_every_requests_length_and_draws_nothing():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert draw_lengths(_length(77), rng, 5).tolist() == [77] * 5
    assert draw_lengths(_length({"dist": "fixed", "value": 9}), rng, 3).tolist() == [9] * 3
    assert rng.bit_generator.state == state


@settings(deadline=None, max_examples=15)
@given(low=st.integers(min_value=1, max_value=5000), width=st.integers(min_value=0, max_value=5000),
       seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_uniform_lengths_cover_low_to_high_inclusive(low, width, seed):
    high = low + width
    x = draw_lengths(_length({"dist": "uniform", "low": low, "high": high}), np.random.default_rng(seed), 50_000)
    assert x.min() >= low and x.max() <= high
    std = math.sqrt(((width + 1) ** 2 - 1) / 12)
    assert abs(x.mean() - (low + high) / 2) <= Z * std / math.sqrt(len(x)) + 1e-9
    if width <= 20:  # both ends drawn
        assert x.min() == low and x.max() == high


def test_normal_lengths_have_their_mean_and_are_clipped_to_one():
    spec = _length({"dist": "normal", "mean": 300, "std": 40})
    x = draw_lengths(spec, np.random.default_rng(1), N)
    assert x.dtype == np.int64
    assert abs(x.mean() - 300) < Z * 40 / math.sqrt(N)
    assert abs(x.std() - 40) < 1.0
    wide = draw_lengths(_length({"dist": "normal", "mean": 2, "std": 50}), np.random.default_rng(2), 10_000)
    assert wide.min() == 1  # about half the draws are <= 0: clipped, not dropped
    assert (wide == 1).mean() > 0.4


@pytest.mark.parametrize("centre", ["median", "mean"])
def test_lognormal_lengths_have_the_given_median_or_mean(centre):
    sigma, value = 0.8, 500.0
    x = draw_lengths(_length({"dist": "lognormal", centre: value, "sigma": sigma}), np.random.default_rng(3), N)
    mu = math.log(value) if centre == "median" else math.log(value) - sigma**2 / 2
    if centre == "median":
        # the sample median of N draws: standard error ~ 1.2533 * median * sigma / sqrt(N)
        assert abs(np.median(x) - value) < Z * 1.2533 * value * sigma / math.sqrt(N) + 0.5
    else:
        std = math.sqrt((math.exp(sigma**2) - 1) * math.exp(2 * mu + sigma**2))
        assert abs(x.mean() - value) < Z * std / math.sqrt(N) + 0.5
    assert abs(np.log(x).std() - sigma) < 0.02


def test_lognormal_lengths_are_clipped_to_max_tokens():
    x = draw_lengths(_length({"dist": "lognormal", "median": 1e6, "sigma": 3}), np.random.default_rng(4), 10_000)
    assert x.max() == MAX_TOKENS and x.min() >= 1
    assert ((x == MAX_TOKENS).mean()) > 0.3  # P(log x > log 2) ~ 0.41


def test_lognormal_spec_needs_exactly_one_of_mean_and_median():
    with pytest.raises(ValueError, match="exactly one of mean and median"):
        _length({"dist": "lognormal", "mean": 5, "median": 5, "sigma": 1})
    with pytest.raises(ValueError, match="exactly one of mean and median"):
        _length({"dist": "lognormal", "sigma": 1})


@pytest.mark.parametrize("column", ["num_prefill_tokens", "num_decode_tokens", "prompt_tokens"])
def test_empirical_lengths_take_only_values_of_the_column(column):
    spec = _length({"dist": "empirical", "path": "scenarios/traces/splitwise_conv.csv", "column": column})
    file_column = {"prompt_tokens": 1, "num_prefill_tokens": 1, "num_decode_tokens": 2}[column]
    values = np.loadtxt(_ROOT / "scenarios" / "traces" / "splitwise_conv.csv", delimiter=",", skiprows=1)[:, file_column]
    x = draw_lengths(spec, np.random.default_rng(5), 50_000)
    assert set(x.tolist()) <= set(values.astype(int).tolist())
    assert len(set(x.tolist())) > 500  # many distinct values, not a few
    # the column's distribution: means agree within a few standard errors
    assert abs(x.mean() - values.mean()) < Z * values.std() / math.sqrt(len(x))


def test_length_draws_depend_only_on_the_stream():
    spec = _length({"dist": "uniform", "low": 1, "high": 10**6})
    a = draw_lengths(spec, np.random.default_rng(7), 100)
    b = draw_lengths(spec, np.random.default_rng(7), 100)
    c = draw_lengths(spec, np.random.default_rng(8), 100)
    assert a.tolist() == b.tolist() != c.tolist()


def test_typical_lengths_of_a_workload_are_the_means():
    w = WorkloadSpec.model_validate({"prompt_tokens": {"dist": "uniform", "low": 100, "high": 201},
                                     "output_tokens": {"dist": "lognormal", "median": 100, "sigma": 1.0}})
    assert w.prompt_tokens == 150  # (100 + 201) / 2 = 150.5, rounded half to even
    assert w.output_tokens == round(100 * math.exp(0.5))
    assert WorkloadSpec.model_validate({"prompt_tokens": 7}).prompt_tokens == 7
