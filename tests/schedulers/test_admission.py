"""Admission policies: paged (vLLM) against reserve-at-admission (TensorRT-LLM GUARANTEED_NO_EVICT)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.schedulers.kv import KVCache
from simdecode.schedulers.policies import ContinuousBatching
from simdecode.schedulers.request import Request


def run(admission: str, capacity_blocks: int, requests: list[tuple[int, int]]):
    kv = KVCache(capacity_blocks, 16)
    policy = ContinuousBatching(lanes=1, kv=kv, max_batch_size=64, max_batched_tokens=4096, admission=admission)
    reqs = [Request(id=i, arrival_s=0.0, prompt_tokens=p, output_tokens=o) for i, (p, o) in enumerate(requests)]
    for r in reqs:
        assert policy.submit(r)
    now, peak, batch_peak = 0.0, 0, 0
    while policy.in_system:
        work = policy.next_step(0, now)
        assert work is not None
        batch_peak = max(batch_peak, len(policy.running[0]))
        peak = max(peak, kv.used_blocks)
        now += 0.01
        policy.complete_step(work, now)
    return policy, reqs, peak, batch_peak


def test_reserve_admits_only_what_fits_whole_and_never_preempts():
    """4 requests of 100 + 60 tokens (159 KV slots = 10 blocks each) in 25 blocks: reserve admits
    two at a time; paged admits all four on their prompts (7 blocks each) and must preempt."""
    reqs = [(100, 60)] * 4
    reserve, _, peak, batch = run("reserve", 25, reqs)
    assert reserve.preemptions == 0 and batch == 2 and peak <= 25
    paged, _, _, batch_paged = run("paged", 25, reqs)
    assert paged.preemptions > 0 and batch_paged > 2


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 300), st.integers(1, 200)), min_size=1, max_size=12),
       st.integers(20, 80))
def test_reserve_never_preempts_and_the_ledger_balances(requests, capacity):
    kv_need = max(-(-(p + o - 1) // 16) for p, o in requests)
    if kv_need > capacity:
        return  # such a request is rejected at submission
    policy, reqs, peak, _ = run("reserve", capacity, requests)
    assert policy.preemptions == 0
    assert all(r.done for r in reqs)
    assert policy.kv.allocated_total == policy.kv.freed_total and peak <= capacity
