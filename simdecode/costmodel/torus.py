"""Collectives over a torus of chips (TPU ICI): dimension-ordered rings (physics.md section 2.1).

A TPU slice joins its chips in a 2D (v5e, v6e) or 3D (v4, v5p) torus: each chip has one link to
each neighbour along every dimension (Google Cloud TPU docs: v5e and v6e "4 ICI ports per chip,
2D torus"; v5p "3D torus"). XLA runs an all-reduce as a reduce-scatter along each dimension in
turn, then an all-gather back (the multi-dimensional ring of the JAX scaling book, "How to Scale
Your Model", whose "A note on ICI latency" also puts the latency of one ICI hop at about 1 us).

For a TP group laid out as a block of g_1 x ... x g_k chips (:func:`group_dims`), n bytes per
chip, hop latency a and per-link, per-direction bandwidth B (times the link's efficiency)::

    alpha = 2 sum_i (g_i - 1) a
    beta  = 2 sum_i (g_i - 1) / g_i * n_i / (r_i B),    n_1 = n,  n_(i+1) = n_i / g_i

where r_i = 2 when dimension i closes into a ring (``wraparound`` and the group spans the whole
dimension, more than 2 chips): two rings run in opposite directions, each with half of the data;
an open line (or a 2-chip dimension, one link) carries the ring one way at a time, r_i = 1.
After the reduce-scatter along dimension i each chip holds 1/g_i of what it had, so the later
dimensions move less. An all-gather is the second half: alpha / 2, beta / 2.

Not modelled: running the dimensions concurrently on disjoint data (which can use all 2k links
at once for large messages), twisted tori, and the optical circuit switches between v4/v5p cubes.
"""

from __future__ import annotations

from simdecode.costmodel.collectives import ZERO, CollectiveCost
from simdecode.scenario.hardware import LinkSpec, group_dims

__all__ = ["group_dims", "torus_all_gather", "torus_all_reduce"]


def _rings(p: int, link: LinkSpec) -> list[tuple[int, int]]:
    """(g_i, r_i) per dimension the group spans: chips along it, rings running at once. A group
    that is no block of the torus (the analytic TP scan tries every degree) runs one open ring of
    p chips along a path through the slice."""
    try:
        dims = group_dims(p, link.torus_dims)
    except ValueError:
        return [(p, 1)]
    rings = []
    for g, d in zip(dims, link.torus_dims):
        if g > 1:
            closed = link.wraparound and g == d and g > 2
            rings.append((g, 2 if closed else 1))
    return rings


def _halves(nbytes: float, p: int, link: LinkSpec) -> tuple[float, float]:
    """(alpha, beta) of one reduce-scatter (or one all-gather) over all dimensions."""
    bw = link.bandwidth_Bps * link.efficiency
    alpha = beta = 0.0
    n = nbytes
    for g, r in _rings(p, link):
        alpha += (g - 1) * link.latency_s
        beta += (g - 1) / g * n / (r * bw)
        n /= g
    return alpha, beta


def torus_all_reduce(nbytes: float, p: int, link: LinkSpec) -> CollectiveCost:
    """Reduce-scatter then all-gather along each dimension of the group's block (module docstring).

    8 chips of a TPU v5e host (2 x 4, no wraparound), 16 KB, a = 1 us, B = 50 GB/s x 0.9:
    alpha = 2 (1 + 3) 1 us = 8 us; beta = 2 (1/2 x 16384 + 3/4 x 8192) / 45e9 = 0.64 us.
    """
    if p <= 1:
        return ZERO
    alpha, beta = _halves(nbytes, p, link)
    return CollectiveCost(2 * alpha, 2 * beta, "torus-ring")


def torus_all_gather(nbytes_out: float, p: int, link: LinkSpec) -> CollectiveCost:
    """All-gather producing ``nbytes_out`` per chip: the second half of :func:`torus_all_reduce`."""
    if p <= 1:
        return ZERO
    alpha, beta = _halves(nbytes_out, p, link)
    return CollectiveCost(alpha, beta, "torus-ring")
