"""Chunked overlap (TokenWeave, Flux, async-TP): the step's tokens are split into k = ``tp_chunks``
chunks; chunk j's all-reduce overlaps chunk j + 1's compute and the next module's chunk j waits
only for it. Exact, but every chunk streams the module's full weights, so it pays off only when
compute-bound."""

from __future__ import annotations

from simdecode.tp_schedules import Of, TpSchedule


class ChunkedOverlap(TpSchedule):
    def waits(self, of: Of, m: int, g: int, j: int, delta: int, start: str) -> list[int]:
        return of(m - 1, j)


SCHEDULE = ChunkedOverlap(
    name="chunked-overlap", order=4, exact=True, chunked=True,
    summary="tokens split into tp_chunks chunks; a module's chunk j waits only for the all-reduce of "
    "chunk j of m - 1",
)
