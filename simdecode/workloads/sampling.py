"""Random draws of synthetic workloads: inter-arrival gaps and request lengths.

Pure functions of a ``numpy.random.Generator`` handed in (the simulation's named ``arrivals`` or
``lengths`` stream), never global random state; each draws a whole array at once, so a run's
draws do not depend on how the engine interleaves its events.

Gaps (seconds between consecutive arrivals):
- :func:`exponential_gaps`: a Poisson process of ``rate`` arrivals per second, mean gap 1 / rate,
  coefficient of variation (std / mean) 1;
- :func:`gamma_gaps`: bursty (cv > 1) or smooth (cv < 1) traffic with the same mean gap 1 / rate:
  gamma-distributed gaps of shape k = 1 / cv^2 and scale 1 / (rate k) (mean k x scale = 1 / rate,
  std sqrt(k) x scale = cv / rate). cv = 1 is the Poisson process.

Lengths (tokens per request, :func:`draw_lengths`): an integer is every request's length; a
distribution spec (``dist`` = fixed, uniform, normal, lognormal or empirical; see
:mod:`simdecode.scenario.schema`) is drawn from, rounded to whole tokens and clipped to
[1, MAX_TOKENS].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simdecode.scenario.limits import MAX_TOKENS


def exponential_gaps(rng: np.random.Generator, rate_per_s: float, n: int) -> np.ndarray:
    """``n`` gaps of a Poisson process: exponential, mean 1 / ``rate_per_s`` seconds."""
    if rate_per_s <= 0:
        raise ValueError(f"rate must be > 0, got {rate_per_s}")
    return rng.exponential(1.0 / rate_per_s, size=n)


def gamma_gaps(rng: np.random.Generator, rate_per_s: float, cv: float, n: int) -> np.ndarray:
    """``n`` gamma-distributed gaps: mean 1 / ``rate_per_s`` s, coefficient of variation ``cv``.

    Shape k = 1 / cv^2, scale 1 / (rate k). cv > 1 gives bursts (many short gaps, a few long
    ones), cv < 1 traffic more regular than Poisson.
    """
    if rate_per_s <= 0 or cv <= 0:
        raise ValueError(f"rate and cv must be > 0, got rate {rate_per_s}, cv {cv}")
    shape = 1.0 / cv**2
    return rng.gamma(shape, 1.0 / (rate_per_s * shape), size=n)


def draw_lengths(spec: Any, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` request lengths (int64 tokens) from ``spec``: an int, or a length-distribution spec.

    - fixed {value}: every request ``value`` (no draw);
    - uniform {low, high}: integers from low to high, both included;
    - normal {mean, std}: normal draws, rounded;
    - lognormal {mean or median, sigma}: ``sigma`` is the standard deviation of the length's
      natural logarithm; ``median`` is the lengths' median e^mu, ``mean`` their mean
      e^(mu + sigma^2 / 2) (both in tokens);
    - empirical {path, column}: values of a trace column, drawn uniformly with replacement (so
      the draws follow the column's distribution and take only values present in it).

    Every draw is rounded to whole tokens and clipped to [1, MAX_TOKENS].
    """
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        return np.full(n, int(spec), dtype=np.int64)
    dist = spec.dist
    if dist == "fixed":
        return np.full(n, int(spec.value), dtype=np.int64)
    if dist == "uniform":
        return rng.integers(spec.low, spec.high, size=n, endpoint=True, dtype=np.int64)
    if dist == "normal":
        raw = rng.normal(spec.mean, spec.std, size=n)
    elif dist == "lognormal":
        raw = rng.lognormal(lognormal_mu(spec), spec.sigma, size=n)
    elif dist == "empirical":
        values = spec.values
        return values[rng.integers(0, len(values), size=n)].astype(np.int64, copy=False)
    else:
        raise ValueError(f"unknown length distribution {dist!r}")
    return np.clip(np.rint(raw), 1, MAX_TOKENS).astype(np.int64)


def lognormal_mu(spec: Any) -> float:
    """mu (mean of the log-length) of a lognormal spec given its ``median`` or its ``mean``."""
    if spec.median is not None:
        return float(np.log(spec.median))
    return float(np.log(spec.mean) - spec.sigma**2 / 2)
