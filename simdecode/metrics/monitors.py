"""Level monitors: a quantity that changes at instants and holds its value in between.

After salabim's level monitor (architecture.md 7): components call :meth:`LevelMonitor.record`
with the simulated time and the new value whenever the value may have changed (equal values are
ignored). The monitor keeps exact running statistics, the time-weighted mean and the maximum, and a
series of (t, value) points for plotting, bounded to :attr:`LevelMonitor.max_points`. The
maximum is over values held for a positive time (and the current value): a request queued and
admitted at the same instant does not make the queue's maximum 1.

Time-weighted mean over [t0, t1]: the integral of the step function v(t) divided by t1 - t0,

    mean = (1 / (t1 - t0)) * sum_i v_i * (min(t_{i+1}, t1) - max(t_i, t0))

where v_i holds from t_i to t_{i+1}. A value that holds for a long time weighs more than many
brief ones; this is what a sampling profiler would see.

Bounding the series: when it reaches ``max_points``, the time resolution doubles (at least to
span / max_points) and points closer than the resolution are merged (the later value replaces
the earlier one at the earlier time). The running mean and max stay exact; only the plotted
series is thinned.
"""

from __future__ import annotations

#: default cap on stored points per monitor
MAX_POINTS = 20_000


class LevelMonitor:
    """A piecewise-constant quantity over simulated time, starting at ``initial`` at ``t0``."""

    def __init__(self, name: str, t0: float = 0.0, initial: float = 0.0, max_points: int = MAX_POINTS):
        if max_points < 2:
            raise ValueError("max_points must be at least 2")
        self.name = name
        self.t0 = t0
        self.max_points = max_points
        self._t: list[float] = [t0]
        self._v: list[float] = [initial]
        self._resolution = 0.0
        self._last_t = t0
        self._last_v = initial
        self._area = 0.0  # integral of the value from t0 to _last_t
        self._max = float("-inf")  # of values superseded after a positive time

    # ---- recording ----------------------------------------------------------------------------
    def record(self, t: float, value: float) -> None:
        """The value is ``value`` from time ``t`` on (``t`` never decreases)."""
        if value == self._last_v:
            return
        if t < self._last_t:
            raise ValueError(f"{self.name}: time went backwards ({t} < {self._last_t})")
        if t > self._last_t:
            self._area += self._last_v * (t - self._last_t)
            self._max = max(self._max, self._last_v)
        self._last_t, self._last_v = t, value
        ts, vs = self._t, self._v
        if t == ts[-1] or t - ts[-1] < self._resolution:
            vs[-1] = value  # same instant, or too close to the last point: merge
            if len(vs) > 1 and vs[-2] == value:
                ts.pop()
                vs.pop()
            return
        ts.append(t)
        vs.append(value)
        if len(ts) > self.max_points:
            self._thin()

    def _thin(self) -> None:
        span = self._t[-1] - self._t[0]
        self._resolution = max(2 * self._resolution, 2 * span / self.max_points)
        ts, vs = [self._t[0]], [self._v[0]]
        for t, v in zip(self._t[1:], self._v[1:]):
            if t - ts[-1] < self._resolution:
                vs[-1] = v
            else:
                ts.append(t)
                vs.append(v)
        self._t, self._v = ts, vs

    # ---- statistics ---------------------------------------------------------------------------
    @property
    def value(self) -> float:
        """The current value."""
        return self._last_v

    @property
    def max(self) -> float:
        """The largest value held for a positive time, or the current value if larger; exact."""
        return max(self._max, self._last_v)

    def integral(self, until: float | None = None) -> float:
        """Integral of the value from ``t0`` to ``until`` (default: the last change); exact."""
        until = self._last_t if until is None else until
        if until < self._last_t:
            raise ValueError(f"{self.name}: integral until {until} before the last change {self._last_t}")
        return self._area + self._last_v * (until - self._last_t)

    def mean(self, start: float | None = None, end: float | None = None) -> float:
        """Time-weighted mean over [start, end] (defaults: ``t0`` and the last change).

        Exact when the window runs from ``t0`` (or from a time before which the series is
        unthinned, e.g. the first arrival for counters that are zero until then) to the last
        change or later; other windows are computed from the (possibly thinned) series.
        """
        end = self._last_t if end is None else end
        start = self.t0 if start is None else max(start, self.t0)
        if end <= start:
            return self.value_at(start)
        if end < self._last_t:
            return self._area_from_series(start, end) / (end - start)
        before = self._area_from_series(self.t0, start) if start > self.t0 else 0.0
        return (self.integral(end) - before) / (end - start)

    def value_at(self, t: float) -> float:
        """The value at ``t`` according to the stored series."""
        ts, vs = self._t, self._v
        lo, hi = 0, len(ts)
        while lo < hi:  # last index with ts[i] <= t
            mid = (lo + hi) // 2
            if ts[mid] <= t:
                lo = mid + 1
            else:
                hi = mid
        return vs[max(0, lo - 1)]

    def _area_from_series(self, start: float, end: float) -> float:
        ts, vs = self._t, self._v
        area = 0.0
        for i, (t, v) in enumerate(zip(ts, vs)):
            nxt = ts[i + 1] if i + 1 < len(ts) else end
            lo, hi = max(t, start), min(nxt, end)
            if hi > lo:
                area += v * (hi - lo)
            if nxt >= end:
                break
        return area

    def series(self) -> tuple[list[float], list[float]]:
        """(times, values) of the stored step function (each value holds until the next time)."""
        return list(self._t), list(self._v)

    def __len__(self) -> int:
        return len(self._t)

    def __repr__(self) -> str:
        return f"LevelMonitor({self.name!r}, value={self._last_v}, max={self.max}, points={len(self._t)})"
