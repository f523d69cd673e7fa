"""Kog's delayed tensor parallelism with delta = ``tp_delay``: each lane adds its own output at once
and the other lanes' outputs delta modules later, so module m waits for the exchange of module
m - 1 - delta. The first delta modules either all-reduce synchronously (``tp_delay_start: sync``,
Kog's use_early_comm) or stay local (``local``); the last delta modules launch no exchange (their
data would never land); before the LM head the lanes are averaged by one all-reduce
(``tp_final: all-reduce``) or each lane computes a vocabulary shard and the logits are gathered
(``vocab-parallel``). Changes the model: residual streams diverge by design."""

from __future__ import annotations

from simdecode.tp_schedules import Of, TpSchedule


class Delayed(TpSchedule):
    def exchanges(self, part: str, g: int, total: int, delta: int, start: str) -> bool:
        if g < delta:
            return start == "sync"
        return g < total - delta  # the last delta modules' exchanges would never land

    def waits(self, of: Of, m: int, g: int, j: int, delta: int, start: str) -> list[int]:
        sync = of(m - 1) if (g - 1 < delta and start == "sync") else []
        return sync + of(m - 1 - delta)

    def averages_lanes(self, delta: int, final: str) -> bool:
        return delta > 0 and final == "all-reduce"  # with no delay the lanes never diverge

    def vocab_parallel_head(self, final: str) -> bool:
        return final == "vocab-parallel"


SCHEDULE = Delayed(
    name="delayed", order=3, exact=False, fewer_sync_points=True, defers_exchanges=True, exchange_label="exchange",
    summary="each lane adds its own output at once and the others' tp_delay modules later: module m waits "
    "for the exchange of m - 1 - tp_delay",
)
