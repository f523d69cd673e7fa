"""The search: for each combination of assumptions, the active parameters that give the observed speed.

Per combination the candidate models are the rungs of a size ladder
(:func:`simdecode.estimate.shapes.ladder`), smallest first. Per-user speed falls as the active
parameters grow (more bytes and FLOPs per token; shape rounding can make neighbouring rungs
differ by a few per cent against the trend), and memory use rises with them, so:

1. the largest rung that fits (weights + every sequence's KV cache) is found by bisection;
2. the rungs bracketing each target speed are found by bisection on speed;
3. between the two bracketing rungs 1 / tps is interpolated linearly in the active parameters
   (a decode step's time is close to affine in the bytes it reads).

A combination *explains* an observation band [t_lo, t_hi] when some fitting model runs inside it.
Otherwise it is ``too-fast`` (the band is above what its smallest model reaches: fixed per-step
costs, launches and all-reduces, bound the speed) or ``too-slow`` (the band is below the speed of
the largest model that fits: the memory capacity bounds the size), or ``no-fit`` (not even the
smallest model fits with this batch and context).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from simdecode.estimate.evaluate import Evaluator
from simdecode.estimate.shapes import active_params, ladder
from simdecode.estimate.space import Assumptions
from simdecode.scenario.model import ModelSpec

#: rungs beyond the bisection's brackets checked for a speed inside the band (speed is monotone in
#: size only between engine rules that switch at a shape)
NEIGHBOURS = 3


@dataclass(frozen=True)
class Solution:
    """What one combination says about the observation (active parameters, counts).

    ``active_lo`` / ``active_hi``: the sizes running at the band's top and bottom speeds
    (clipped to the ladder and to what fits; ``clipped_lo`` / ``clipped_hi`` say so);
    ``active``: the size running at the observed speed itself (None when outside the range);
    ``fastest_tps``: the smallest rung's speed; ``slowest_tps`` and ``largest_active``: the
    speed and size of the largest rung that fits; ``model``: the rung nearest ``active``.
    """

    assumptions: Assumptions
    status: str  # ok | too-fast | too-slow | no-fit
    active_lo: float | None = None
    active_hi: float | None = None
    active: float | None = None
    clipped_lo: bool = False
    clipped_hi: bool = False
    fastest_tps: float | None = None
    slowest_tps: float | None = None
    smallest_active: float | None = None
    largest_active: float | None = None
    model: ModelSpec | None = None
    size_bound: str = "memory"  # what stops larger rungs: memory, or the --active-max given

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Searcher:
    """Solves combinations against the ladder of their architecture, sharing one evaluator."""

    def __init__(self, evaluator: Evaluator, unit: int, active_min: float = 0.0, active_max: float = float("inf")):
        self.ev = evaluator
        self.unit = unit
        self.active_min, self.active_max = active_min, active_max
        self._rungs: dict = {}  # by architecture: (rungs, their active parameters)

    def rungs(self, a: Assumptions) -> tuple[ModelSpec, ...]:
        return self._ladder(a)[0]

    def _ladder(self, a: Assumptions) -> tuple[tuple[ModelSpec, ...], list[float]]:
        """The rungs of ``a``'s architecture within the active bounds, and their active parameters,
        found once per architecture (every combination of it searches the same ladder)."""
        hit = self._rungs.get(a.arch)
        if hit is None:
            models = ladder(a.arch, self.unit)
            rungs = tuple(m for m in models if self.active_min <= active_params(m) <= self.active_max)
            hit = self._rungs[a.arch] = (rungs, [active_params(m) for m in rungs])
        return hit

    def largest_fit(self, a: Assumptions, rungs) -> int:
        """Index of the largest rung that fits (-1: none); fitting is monotone in size."""
        if not rungs or not self.ev.fits(a, rungs[0]):
            return -1
        lo, hi = 0, len(rungs) - 1
        if self.ev.fits(a, rungs[hi]):
            return hi
        while hi - lo > 1:  # rungs[lo] fits, rungs[hi] does not
            mid = (lo + hi) // 2
            if self.ev.fits(a, rungs[mid]):
                lo = mid
            else:
                hi = mid
        return lo

    def speed(self, a: Assumptions, model: ModelSpec) -> float:
        return self.ev.tps(a, model)

    def size_at(self, a: Assumptions, rungs, top: int, target: float, lo: int = 0,
                hi: int | None = None) -> tuple[float, bool, int, int, int]:
        """The active parameters running at ``target`` tokens/s among rungs[lo..hi] (default: 0 to
        ``top``): (size, clipped, nearest rung index, bracket low, bracket high); clipped when the
        target lies outside the rungs' speeds. The bracket shrinks by interpolation (1 / tps is close to affine in the
        active parameters), falling back to bisection whenever that halves it no faster."""
        hi = top if hi is None else hi
        tps = lambda i: self.speed(a, rungs[i])  # noqa: E731
        if tps(lo) <= target:
            return active_params(rungs[lo]), tps(lo) < target, lo, lo, lo
        if tps(hi) >= target:
            return active_params(rungs[hi]), tps(hi) > target, hi, hi, hi
        ladder_rungs, ladder_sizes = self._ladder(a)  # the sizes of the usual rungs are known already
        sizes = ladder_sizes if rungs is ladder_rungs else [active_params(m) for m in rungs]
        interpolate = True
        while hi - lo > 1:  # tps(lo) > target > tps(hi)
            if interpolate:
                inv_lo, inv_hi = 1.0 / tps(lo), 1.0 / tps(hi)
                guess = sizes[lo] + (sizes[hi] - sizes[lo]) * (1.0 / target - inv_lo) / (inv_hi - inv_lo)
                mid = min(max(bisect.bisect_left(sizes, guess, lo, hi), lo + 1), hi - 1)
            else:
                mid = (lo + hi) // 2
            width = hi - lo
            if tps(mid) >= target:
                lo = mid
            else:
                hi = mid
            interpolate = (hi - lo) * 2 <= width
        a_lo, a_hi = sizes[lo], sizes[hi]
        inv_lo, inv_hi, inv = 1.0 / tps(lo), 1.0 / tps(hi), 1.0 / target
        size = a_lo + (a_hi - a_lo) * (inv - inv_lo) / (inv_hi - inv_lo)
        nearest = lo if size - a_lo <= a_hi - size else hi
        return size, False, nearest, lo, hi

    def solve(self, a: Assumptions, tps: float, t_lo: float, t_hi: float) -> Solution:
        rungs = self.rungs(a)
        top = self.largest_fit(a, rungs)
        if top < 0:
            return Solution(a, "no-fit")
        fastest, slowest = self.speed(a, rungs[0]), self.speed(a, rungs[top])
        capped = top == len(rungs) - 1 and self.active_max < float("inf")
        facts = dict(fastest_tps=fastest, slowest_tps=slowest, smallest_active=active_params(rungs[0]),
                     largest_active=active_params(rungs[top]), size_bound="--active-max" if capped else "memory")
        if fastest < t_lo:
            return Solution(a, "too-fast", **facts)
        if slowest > t_hi:
            return Solution(a, "too-slow", **facts)
        # the band's ends lie on either side of the observed speed's bracket
        mid, clipped_mid, nearest, left, right = self.size_at(a, rungs, top, tps)
        lo, clipped_lo, _, lo_left, _ = self.size_at(a, rungs, top, t_hi, 0, right)
        hi, clipped_hi, _, _, hi_right = self.size_at(a, rungs, top, t_lo, left, top)
        # Speed falls with size only up to engine rules that switch at a shape (TensorRT-LLM fuses the
        # residual norm into its all-reduce only above hidden size 4096): a rung next to the brackets
        # whose own speed lies in the band widens the interval, and the rung nearest the observed speed
        # is the model.
        speed = lambda i: self.speed(a, rungs[i])  # noqa: E731
        for i in range(max(0, min(lo_left, left) - NEIGHBOURS), min(top, max(hi_right, right) + NEIGHBOURS) + 1):
            if t_lo <= speed(i) <= t_hi:
                lo, hi = min(lo, active_params(rungs[i])), max(hi, active_params(rungs[i]))
            if abs(speed(i) - tps) < abs(speed(nearest) - tps):
                nearest = i
        return Solution(a, "ok", lo, hi, None if clipped_mid else mid, clipped_lo, clipped_hi,
                        model=rungs[nearest], **facts)

    def curve(self, a: Assumptions, every: int = 1) -> list[tuple[float, float]]:
        """(active parameters, tokens/s) of every ``every``-th rung that fits (for plots)."""
        rungs = self.rungs(a)
        top = self.largest_fit(a, rungs)
        picks = list(range(0, top + 1, every))
        if top >= 0 and picks[-1] != top:
            picks.append(top)
        return [(active_params(rungs[i]), self.speed(a, rungs[i])) for i in picks]
