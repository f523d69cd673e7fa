"""Level monitors: a quantity that changes at instants and holds its value in between.

After salabim's level monitor (docs/architecture.md, "Monitors"): components call :meth:`LevelMonitor.record`
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

from simdecode.metrics.packing import pack_floats, unpack_floats

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
        return _mean(self._t, self._v, self.t0, self._last_t, self.integral, start, end)

    def value_at(self, t: float) -> float:
        """The value at ``t`` according to the stored series."""
        return _value_at(self._t, self._v, t)

    def snapshot(self) -> MonitorSeries:
        """The monitor as it stands, as frozen plain data (what a Result keeps)."""
        return MonitorSeries(self.name, self.t0, tuple(self._t), tuple(self._v), self._last_t, self._last_v,
                             self._area, self.max)

    def series(self) -> tuple[list[float], list[float]]:
        """(times, values) of the stored step function (each value holds until the next time)."""
        return list(self._t), list(self._v)

    def __len__(self) -> int:
        return len(self._t)

    def __repr__(self) -> str:
        return f"LevelMonitor({self.name!r}, value={self._last_v}, max={self.max}, points={len(self._t)})"


class MonitorSeries:
    """A finished :class:`LevelMonitor`: its stored series and its exact running statistics, as
    plain immutable data (picklable; what a :class:`~simdecode.result.Result` holds). Reads the
    same as the monitor: ``value``, ``max``, ``integral``, ``mean``, ``value_at``, ``series``."""

    __slots__ = ("name", "t0", "times", "values", "last_t", "last_v", "area", "max")

    def __init__(self, name: str, t0: float, times: tuple[float, ...], values: tuple[float, ...],
                 last_t: float, last_v: float, area: float, max_value: float):
        self.name, self.t0, self.times, self.values = name, t0, tuple(times), tuple(values)
        self.last_t, self.last_v, self.area, self.max = last_t, last_v, area, max_value

    def __getstate__(self):
        # the series compressed (see simdecode.metrics.packing): a Result crosses processes cheaply
        return (self.name, self.t0, pack_floats(self.times), pack_floats(self.values), self.last_t, self.last_v,
                self.area, self.max)

    def __setstate__(self, state) -> None:
        name, t0, times, values, self.last_t, self.last_v, self.area, self.max = state
        self.name, self.t0, self.times, self.values = name, t0, unpack_floats(times), unpack_floats(values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MonitorSeries):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    @property
    def value(self) -> float:
        """The value at the end."""
        return self.last_v

    def integral(self, until: float | None = None) -> float:
        """Integral of the value from ``t0`` to ``until`` (default: the last change); exact."""
        until = self.last_t if until is None else until
        if until < self.last_t:
            raise ValueError(f"{self.name}: integral until {until} before the last change {self.last_t}")
        return self.area + self.last_v * (until - self.last_t)

    def mean(self, start: float | None = None, end: float | None = None) -> float:
        """Time-weighted mean over [start, end], as :meth:`LevelMonitor.mean`."""
        return _mean(self.times, self.values, self.t0, self.last_t, self.integral, start, end)

    def value_at(self, t: float) -> float:
        return _value_at(self.times, self.values, t)

    def series(self) -> tuple[list[float], list[float]]:
        """(times, values) of the stored step function (each value holds until the next time)."""
        return list(self.times), list(self.values)

    def __len__(self) -> int:
        return len(self.times)

    def __repr__(self) -> str:
        return f"MonitorSeries({self.name!r}, value={self.last_v}, max={self.max}, points={len(self.times)})"


def _mean(ts, vs, t0: float, last_t: float, integral, start: float | None, end: float | None) -> float:
    """Time-weighted mean over [start, end] of the series ``ts``, ``vs`` that starts at ``t0``
    and last changed at ``last_t``; ``integral(until)`` is its exact running integral."""
    end = last_t if end is None else end
    start = t0 if start is None else max(start, t0)
    if end <= start:
        return _value_at(ts, vs, start)
    if end < last_t:
        return _area_from_series(ts, vs, start, end) / (end - start)
    before = _area_from_series(ts, vs, t0, start) if start > t0 else 0.0
    return (integral(end) - before) / (end - start)


def _value_at(ts, vs, t: float) -> float:
    lo, hi = 0, len(ts)
    while lo < hi:  # last index with ts[i] <= t
        mid = (lo + hi) // 2
        if ts[mid] <= t:
            lo = mid + 1
        else:
            hi = mid
    return vs[max(0, lo - 1)]


def _area_from_series(ts, vs, start: float, end: float) -> float:
    area = 0.0
    for i, (t, v) in enumerate(zip(ts, vs)):
        nxt = ts[i + 1] if i + 1 < len(ts) else end
        lo, hi = max(t, start), min(nxt, end)
        if hi > lo:
            area += v * (hi - lo)
        if nxt >= end:
            break
    return area
