"""Megatron-LM tensor parallelism (Shoeybi et al. 2019, arXiv 1909.08053): every module
(attention, MLP) all-reduces its output, and module m waits for the all-reduce of m - 1. Exact."""

from simdecode.tp_schedules import TpSchedule

SCHEDULE = TpSchedule(
    name="megatron", order=0, exact=True, expert_parallel=True,
    summary="each module all-reduces; module m waits for the all-reduce of m - 1",
)
