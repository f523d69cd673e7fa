"""Parallel attention and MLP blocks (GPT-J, PaLM: Chowdhery et al. 2022, arXiv 2204.02311):
both read the same input, so a layer needs one all-reduce, after its MLP. Changes the model: it
must be trained so."""

from __future__ import annotations

from simdecode.tp_schedules import TpSchedule


class ParallelBlock(TpSchedule):
    def exchanges(self, part: str, g: int, total: int, delta: int, start: str) -> bool:
        return part == "mlp"


SCHEDULE = ParallelBlock(
    name="parallel-block", order=1, exact=False, expert_parallel=True, fewer_sync_points=True,
    summary="attention and MLP read the same input; one all-reduce per layer, after the MLP",
)
