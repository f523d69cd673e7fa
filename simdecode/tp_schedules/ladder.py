"""Ladder Residual (Zhang et al. 2025, arXiv 2501.06589): every module's all-reduce is delayed by
one module, so module m waits for the all-reduce of m - 2 and each all-reduce overlaps the next
module's compute. Changes the model."""

from __future__ import annotations

from simdecode.tp_schedules import Of, TpSchedule


class Ladder(TpSchedule):
    def waits(self, of: Of, m: int, g: int, j: int, delta: int, start: str) -> list[int]:
        return of(m - 2)


SCHEDULE = Ladder(
    name="ladder", order=2, exact=False, fewer_sync_points=True, defers_exchanges=True,
    summary="each all-reduce is delayed one module: module m waits for the all-reduce of m - 2",
)
