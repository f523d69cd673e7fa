"""Paged KV cache with preemption, driven synchronously (no SimPy): blocks are taken as sequences
grow, a full cache preempts the most recently admitted request, recompute requeues it at the
front and it later completes with all its tokens, swap charges its transfer time to the step.

A "step" is ``next_step`` then ``complete_step`` at ``now + 1``.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.schedulers.kv import KVCache
from simdecode.schedulers.policies import (
    ContinuousBatching,
    StaticBatching,
    make_policy,
)
from simdecode.schedulers.request import Request


def request(rid: int, prompt: int = 4, output: int = 5, arrival: float = 0.0) -> Request:
    return Request(id=rid, arrival_s=arrival, prompt_tokens=prompt, output_tokens=output, keep_token_times=True)


def policy(kind="continuous", *, capacity=2, block=4, batch=8, tokens=64, chunked=True, mode="recompute",
           swap=0.0, lanes=1):
    kv = KVCache(capacity, block)
    return make_policy(kind, lanes=lanes, kv=kv, max_batch_size=batch, max_batched_tokens=tokens,
                       chunked_prefill=chunked, preemption=mode, swap_s_per_token=swap)


def run(p, now=0.0, lane=0, limit=1000):
    """Step ``lane`` until the policy is empty; returns the works in order."""
    works = []
    for _ in range(limit):
        work = p.next_step(lane, now)
        if work is None:
            break
        works.append(work)
        p.complete_step(work, now + 1)
        now += 1
    assert p.in_system == 0, "the run did not drain"
    return works


# ---- paging ---------------------------------------------------------------------------------

def test_blocks_are_taken_as_the_sequence_grows():
    p = policy(capacity=10, block=4)
    r = request(0, prompt=6, output=8)  # 6 + 8 - 1 = 13 slots at most: 4 blocks
    p.submit(r)
    held = []
    now = 0.0
    while r.generated < r.output_tokens:
        work = p.next_step(0, now)
        held.append(p.kv.held(r.id))
        p.complete_step(work, now + 1)
        now += 1
    # prefill of 6 tokens: 2 blocks; decodes write tokens 7, 8 (2 blocks), 9..12 (3), 13 (4)
    assert held == [2, 2, 2, 3, 3, 3, 3, 4]
    assert p.kv.used_blocks == 0 and p.kv.allocated_total == p.kv.freed_total == 4


def test_admission_needs_only_the_first_chunk():
    # a 100-token prompt in chunks of 16: admitted with one block, not seven
    p = policy(capacity=7, block=16, tokens=16)
    r = request(0, prompt=100, output=4)
    p.submit(r)
    work = p.next_step(0, 0.0)
    assert work.items == [(r, 16, 0)] and p.kv.held(r.id) == 1


def test_whole_prompt_blocks_without_chunked_prefill():
    p = policy(capacity=7, block=16, tokens=16, chunked=False)
    r = request(0, prompt=100, output=4)
    p.submit(r)
    work = p.next_step(0, 0.0)
    assert work.items == [(r, 100, 0)] and p.kv.held(r.id) == 7


def test_admission_blocked_by_the_kv_cache_is_flagged():
    p = policy(capacity=2, block=4)
    a, b, c = request(0, prompt=4, output=2), request(1, prompt=4, output=2), request(2, prompt=4, output=2)
    for r in (a, b, c):
        p.submit(r)
    work = p.next_step(0, 0.0)
    assert [r for r, _, _ in work.items] == [a, b]
    assert work.kv_blocked and work.queued and list(p.waiting) == [c]


# ---- preemption -----------------------------------------------------------------------------

def _two_requests_in_two_blocks(mode: str, swap: float = 0.0):
    """Two requests of prompt 4 and 5 outputs (8 slots = 2 blocks of 4 each) in a 2-block cache:
    both prefill in one block each; the first decode of the older one needs a second block."""
    p = policy(capacity=2, block=4, mode=mode, swap=swap)
    a, b = request(0), request(1)
    p.submit(a)
    p.submit(b)
    first = p.next_step(0, 0.0)
    assert first.items == [(a, 4, 0), (b, 4, 0)]
    p.complete_step(first, 1.0)
    assert a.generated == b.generated == 1 and p.kv.free_blocks == 0
    return p, a, b


def test_recompute_preempts_the_most_recent_and_requeues_it_at_the_front():
    p, a, b = _two_requests_in_two_blocks("recompute")
    late = request(2, prompt=4, output=2)
    p.submit(late)
    work = p.next_step(0, 1.0)
    assert work.items == [(a, 1, 4)]  # a writes token 5: a second block, taken from b
    assert b.preemptions == 1 and p.preemptions == 1 and work.kv_blocked
    assert list(p.waiting) == [b, late]  # b ahead of the request that was already waiting
    assert p.kv.held(b.id) == 0 and p.kv.held(a.id) == 2
    # b must prefill its prompt and its one output again before it decodes on
    assert b.prefill_tokens == 5 and b.prefilled == 0 and b.in_prefill
    assert work.swap_s == 0.0


def test_a_recomputed_request_completes_with_all_its_tokens():
    p, a, b = _two_requests_in_two_blocks("recompute")
    works = run(p, now=1.0)
    assert a.done and b.done and a.generated == b.generated == 5
    assert len(b.token_times_s) == 5 and all(x < y for x, y in zip(b.token_times_s, b.token_times_s[1:]))
    # b's recompute prefill: 5 tokens (prompt + 1 output) from scratch, and it yields token 2
    refill = [(new, cached) for w in works for r, new, cached in w.items if r is b and cached < r.prefill_tokens]
    assert refill == [(5, 0)]
    assert b.first_token_s == 1.0  # the first token was produced before the preemption
    assert p.kv.used_blocks == 0 and p.kv.allocated_total == p.kv.freed_total
    assert sum(w.swap_s for w in works) == 0.0


def test_swap_charges_the_transfer_both_ways():
    per_token = 0.25
    p, a, b = _two_requests_in_two_blocks("swap", swap=per_token)
    work = p.next_step(0, 1.0)
    assert work.items == [(a, 1, 4)]
    assert list(p.swapped) == [b] and not p.waiting and b.preemptions == 1
    # b held 4 tokens of KV (its prompt; its first output is not written yet)
    assert b.swapped_tokens == 4 and work.swap_s == pytest.approx(4 * per_token)
    assert not b.in_prefill and b.prefilled == 4  # its KV survives in host memory
    p.complete_step(work, 2.0)
    works = run(p, now=2.0)
    swap_ins = [w.swap_s for w in works if w.swap_s > 0]
    assert swap_ins == [pytest.approx(4 * per_token)]  # back in once, when a finished
    assert b.done and b.generated == 5 and len(b.token_times_s) == 5
    assert p.kv.used_blocks == 0 and p.kv.allocated_total == p.kv.freed_total


def test_swapped_requests_resume_before_waiting_ones_are_admitted():
    p, _, b = _two_requests_in_two_blocks("swap", swap=0.0)
    late = request(2, prompt=4, output=2)
    p.submit(late)
    p.complete_step(p.next_step(0, 1.0), 2.0)  # b swapped out
    order = [r.id for w in run(p, now=2.0) for r, _, cached in w.items if cached == 0 or r is b]
    assert order.index(b.id) < order.index(late.id)


def test_a_lone_request_in_a_full_lane_preempts_itself():
    # two lanes share the cache; lane 1's request fills it, so lane 0's cannot grow and yields
    p = policy(capacity=3, block=4, lanes=2, mode="recompute")
    a, b = request(0, prompt=4, output=5), request(1, prompt=8, output=1)
    p.submit(a)
    p.submit(b)
    w0, w1 = p.next_step(0, 0.0), p.next_step(1, 0.0)
    assert [r for r, _, _ in w0.items] == [a] and [r for r, _, _ in w1.items] == [b]
    p.complete_step(w0, 1.0)
    # b (8-token prompt, 2 blocks) is still in flight in lane 1: a cannot get a block
    work = p.next_step(0, 1.0)
    assert work is None and a.preemptions == 1 and list(p.waiting) == [a]
    p.complete_step(w1, 1.5)
    assert b.done
    run(p, now=2.0)
    assert a.done and a.generated == 5


def test_static_batching_preempts_too():
    p = policy("static", capacity=2, block=4)
    assert isinstance(p, StaticBatching)
    a, b = request(0), request(1)
    p.submit(a)
    p.submit(b)
    run(p)
    assert a.done and b.done and b.preemptions == 1 and a.preemptions == 0
    assert p.kv.allocated_total == p.kv.freed_total


def test_unknown_preemption_mode_is_refused():
    with pytest.raises(ValueError):
        ContinuousBatching(lanes=1, kv=KVCache(4, 4), max_batch_size=1, max_batched_tokens=8, preemption="drop")


# ---- a whole run under pressure, driven synchronously ------------------------------------------

@st.composite
def pressure_runs(draw):
    n = draw(st.integers(min_value=1, max_value=10))
    block = draw(st.sampled_from([1, 2, 4, 16]))
    lengths = draw(st.lists(st.tuples(st.integers(1, 64), st.integers(1, 24)), min_size=n, max_size=n))
    longest = max(-(-(p + o - 1) // block) for p, o in lengths)
    return {
        "kind": draw(st.sampled_from(["continuous", "static"])),
        "mode": draw(st.sampled_from(["recompute", "swap"])),
        "lanes": draw(st.integers(1, 3)),
        "capacity": draw(st.integers(longest, longest + 4)),  # tight: preemption is common
        "block": block, "batch": draw(st.integers(1, 8)), "tokens": draw(st.integers(8, 128)),
        "chunked": draw(st.booleans()), "lengths": lengths,
        "arrivals": draw(st.lists(st.integers(0, 20), min_size=n, max_size=n)),
    }


@settings(max_examples=80, deadline=None)
@given(run_=pressure_runs())
def test_paging_invariants_under_pressure(run_):
    levels: list[int] = []
    kv = KVCache(run_["capacity"], run_["block"], on_change=levels.append)
    p = make_policy(run_["kind"], lanes=run_["lanes"], kv=kv, max_batch_size=run_["batch"],
                    max_batched_tokens=run_["tokens"], chunked_prefill=run_["chunked"],
                    preemption=run_["mode"], swap_s_per_token=1e-3)
    reqs = [Request(id=i, arrival_s=float(a), prompt_tokens=pr, output_tokens=o, keep_token_times=True)
            for i, ((pr, o), a) in enumerate(zip(run_["lengths"], run_["arrivals"]))]
    pending = sorted(reqs, key=lambda r: r.arrival_s)
    in_flight = [None] * run_["lanes"]  # lanes start steps one after another, finish together
    for now in range(50_000):
        while pending and pending[0].arrival_s <= now:
            assert p.submit(pending.pop(0))
        for lane in range(run_["lanes"]):
            in_flight[lane] = p.next_step(lane, float(now))
        held = sum(kv.held(r.id) for lane in p.running for r in lane)
        assert held == kv.used_blocks <= kv.capacity_blocks
        for lane, work in enumerate(in_flight):
            if work is None:
                continue
            for r, new, cached in work.items:
                assert kv.held(r.id) * kv.block_tokens >= cached + new  # blocks for what it writes
            p.complete_step(work, float(now + 1))
        if not pending and p.in_system == 0:
            break
    else:
        pytest.fail("the run did not drain")
    assert all(0 <= level <= kv.capacity_blocks for level in levels)
    assert kv.used_blocks == 0 and kv.holders == 0
    assert kv.allocated_total == kv.freed_total  # every block given back exactly once
    for r in reqs:
        assert r.done and r.generated == r.output_tokens == len(r.token_times_s)
        assert r.arrival_s <= r.scheduled_s < r.first_token_s <= r.finished_s
        assert all(x < y for x, y in zip(r.token_times_s, r.token_times_s[1:]))
    assert p.preemptions == sum(r.preemptions for r in reqs)
