"""Goodput (simdecode/metrics/summary.py) against hand-made records."""

from __future__ import annotations

import pytest

from simdecode.metrics.records import RequestRecord
from simdecode.metrics.summary import goodput, meets_slo


def record(rid: int, ttft: float, tpot: float, tokens: int = 11, arrival: float = 0.0) -> RequestRecord:
    first = arrival + ttft
    return RequestRecord(id=rid, replica=0, arrival_s=arrival, scheduled_s=arrival, first_token_s=first,
                         finished_s=first + tpot * (tokens - 1), prompt_tokens=8, output_tokens=tokens)


RECORDS = [
    record(0, ttft=0.1, tpot=0.010),              # meets both
    record(1, ttft=0.3, tpot=0.010),              # TTFT too slow
    record(2, ttft=0.1, tpot=0.060),              # TPOT too slow
    record(3, ttft=0.2, tpot=0.050, tokens=21),   # exactly on both limits: meets
    record(4, ttft=0.1, tpot=0.0, tokens=1),      # one token: no TPOT, meets any TPOT objective
]


def test_goodput_counts_requests_meeting_every_objective():
    g = goodput(RECORDS, ttft_s=0.2, tpot_s=0.05, span_s=2.0)
    assert g["requests_per_s"] == pytest.approx(3 / 2.0)
    assert g["tokens_per_s"] == pytest.approx((11 + 21 + 1) / 2.0)
    assert g["share"] == pytest.approx(3 / 5)


def test_one_objective_only():
    assert [meets_slo(r, 0.2, None) for r in RECORDS] == [True, False, True, True, True]
    assert [meets_slo(r, None, 0.05) for r in RECORDS] == [True, True, False, True, True]
    assert goodput(RECORDS, None, None, 1.0)["share"] == 1.0


def test_no_window_or_no_requests_is_none():
    assert goodput([], 0.2, 0.05, 0.0) == {"requests_per_s": None, "tokens_per_s": None, "share": None}
    assert goodput(RECORDS, 0.2, 0.05, 0.0)["requests_per_s"] is None
