"""Batching policies driven synchronously, without SimPy (docs/architecture.md, "The engine loop": policies are plain
objects). A fake clock advances by one per step; a "step" is ``next_step`` then
``complete_step`` at the step's end time.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.schedulers.kv import KVCache
from simdecode.schedulers.policies import (
    ContinuousBatching,
    StaticBatching,
    StepWork,
    make_policy,
)
from simdecode.schedulers.request import Request

_ids = itertools.count()


def request(prompt: int = 4, output: int = 3, arrival: float = 0.0) -> Request:
    return Request(id=next(_ids), arrival_s=arrival, prompt_tokens=prompt, output_tokens=output, keep_token_times=True)


def continuous(*, lanes=1, capacity=10_000, block=16, batch=8, tokens=8192, chunked=True) -> ContinuousBatching:
    return ContinuousBatching(lanes=lanes, kv=KVCache(capacity, block), max_batch_size=batch,
                              max_batched_tokens=tokens, chunked_prefill=chunked)


def static(*, lanes=1, capacity=10_000, block=16, batch=8, tokens=8192, chunked=True) -> StaticBatching:
    return StaticBatching(lanes=lanes, kv=KVCache(capacity, block), max_batch_size=batch,
                          max_batched_tokens=tokens, chunked_prefill=chunked)


def step(policy, lane: int, now: float) -> tuple[StepWork | None, list[Request]]:
    """One step of ``lane`` started at ``now`` and ending at ``now + 1``."""
    work = policy.next_step(lane, now)
    if work is None:
        return None, []
    return work, policy.complete_step(work, now + 1)


def new_tokens(work: StepWork) -> list[int]:
    return [new for _, new, _ in work.items]


# ---- submit ---------------------------------------------------------------------------------

def test_submit_rejects_requests_longer_than_the_kv_cache():
    policy = continuous(capacity=4, block=16)  # 64 token slots
    # a request needs prompt + output - 1 slots (the last token is never written back)
    assert policy.submit(request(prompt=60, output=5))        # 64 slots: fits exactly
    assert not policy.submit(request(prompt=60, output=6))    # 65 slots: 5 blocks > 4
    assert len(policy.waiting) == 1


def test_make_policy_dispatches_on_kind():
    kw = dict(lanes=1, kv=KVCache(10, 16), max_batch_size=4, max_batched_tokens=64)
    assert type(make_policy("continuous", **kw)) is ContinuousBatching
    assert type(make_policy("static", **kw)) is StaticBatching
    with pytest.raises(ValueError):
        make_policy("fifo", **kw)


# ---- continuous batching ------------------------------------------------------------------

def test_continuous_admits_up_to_max_batch_size():
    policy = continuous(batch=4)
    reqs = [request() for _ in range(10)]
    for r in reqs:
        policy.submit(r)
    work, _ = step(policy, 0, 0.0)
    assert [r for r, _, _ in work.items] == reqs[:4]
    assert [r.scheduled_s for r in reqs[:4]] == [0.0] * 4
    assert all(r.scheduled_s == -1.0 for r in reqs[4:])
    assert list(policy.waiting) == reqs[4:]
    assert policy.kv.holders == 4


def test_continuous_refills_the_batch_when_a_request_finishes():
    policy = continuous(batch=2)
    short, long_, late = request(output=1), request(output=5), request()
    for r in (short, long_, late):
        policy.submit(r)
    _, done = step(policy, 0, 0.0)  # prefills both; the one-token request is done at once
    assert done == [short] and short.finished_s == 1.0
    work, _ = step(policy, 0, 1.0)
    assert [r for r, _, _ in work.items] == [long_, late]  # late joins while long_ decodes
    assert late.scheduled_s == 1.0


def test_continuous_admission_stops_at_a_full_kv_cache_fifo():
    policy = continuous(capacity=2, block=16, batch=8)
    # one block each: a needs 16 slots, b 15 + 2 - 1 = 16, c 1
    a, b, c = request(prompt=16, output=1), request(prompt=15, output=2), request(prompt=1, output=1)
    for r in (a, b, c):
        policy.submit(r)
    work, _ = step(policy, 0, 0.0)
    # a and b take both blocks; c would fit nowhere, and nobody overtakes anyway
    assert [r for r, _, _ in work.items] == [a, b]
    assert policy.kv.used_blocks == 1  # a finished and freed; b holds one block
    work, _ = step(policy, 0, 1.0)
    assert [r for r, _, _ in work.items] == [b, c] and c.scheduled_s == 1.0


def test_chunked_prefill_splits_a_long_prompt_into_budget_sized_chunks():
    policy = continuous(tokens=256, chunked=True)
    req = request(prompt=1000, output=3)
    policy.submit(req)
    chunks, now = [], 0.0
    while req.in_prefill:
        work, _ = step(policy, 0, now)
        ((r, new, cached),) = work.items
        assert r is req and req.generated == (0 if req.in_prefill else 1)
        chunks.append((new, cached))
        now += 1
    assert chunks == [(256, 0), (256, 256), (256, 512), (232, 768)]
    # the first token comes out of the last chunk, not before
    assert req.first_token_s == 4.0 and req.token_times_s == [4.0]
    work, _ = step(policy, 0, now)
    assert work.items == [(req, 1, 1000)]  # then a decode reading the whole prompt


def test_chunked_prefill_mixes_decodes_first_then_chunks_within_the_budget():
    policy = continuous(tokens=64, chunked=True)
    a = request(prompt=8, output=10)
    policy.submit(a)
    step(policy, 0, 0.0)  # a prefilled, now decoding
    b = request(prompt=200, output=2)
    policy.submit(b)
    work, _ = step(policy, 0, 1.0)
    assert work.items == [(a, 1, 8), (b, 63, 0)]
    assert sum(new_tokens(work)) == 64
    assert work.decode_seqs == 1


def test_without_chunked_prefill_a_prefill_step_has_no_decodes():
    policy = continuous(tokens=64, chunked=False)
    a = request(prompt=8, output=10)
    policy.submit(a)
    step(policy, 0, 0.0)
    b = request(prompt=200, output=2)
    policy.submit(b)
    work, _ = step(policy, 0, 1.0)
    # b's whole prompt (over the budget: a lone prompt always runs), and no decode of a
    assert work.items == [(b, 200, 0)]
    assert work.decode_seqs == 0 and a.generated == 1
    work, _ = step(policy, 0, 2.0)
    assert work.items == [(a, 1, 8), (b, 1, 200)]


def test_without_chunked_prefill_whole_prompts_are_packed_up_to_the_budget():
    policy = continuous(tokens=64, chunked=False)
    reqs = [request(prompt=30), request(prompt=30), request(prompt=30)]
    for r in reqs:
        policy.submit(r)
    work, _ = step(policy, 0, 0.0)
    assert work.items == [(reqs[0], 30, 0), (reqs[1], 30, 0)]  # a third would exceed 64
    work, _ = step(policy, 0, 1.0)
    assert work.items == [(reqs[2], 30, 0)]


def test_requests_spread_evenly_over_lanes():
    policy = continuous(lanes=4, batch=8)
    reqs = [request() for _ in range(8)]
    for r in reqs:
        policy.submit(r)
    works = [policy.next_step(lane, 0.0) for lane in range(4)]
    assert [len(w.items) for w in works] == [2, 2, 2, 2]
    assert [r.lane for r in reqs] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert not policy.waiting


def test_an_idle_lane_has_no_step():
    assert continuous().next_step(0, 0.0) is None
    assert static().next_step(0, 0.0) is None


# ---- static batching ----------------------------------------------------------------------

def test_static_admits_nobody_until_the_whole_batch_finished():
    policy = static(batch=4)
    batch = [request(output=n) for n in (1, 3, 5)]
    for r in batch:
        policy.submit(r)
    late = request()
    now = 0.0
    work, _ = step(policy, 0, now)
    assert {r for r, _, _ in work.items} == set(batch)
    policy.submit(late)
    while policy.running[0]:
        now += 1
        work, _ = step(policy, 0, now)
        if policy.running[0] or work is not None:
            assert late not in {r for r, _, _ in work.items}
        assert late.scheduled_s == -1.0
    assert [r.finished_s for r in batch] == [1.0, 3.0, 5.0]
    work, _ = step(policy, 0, 5.0)
    assert [r for r, _, _ in work.items] == [late] and late.scheduled_s == 5.0


def test_static_prefills_the_batch_before_any_decode():
    policy = static(tokens=16, chunked=True)
    a, b = request(prompt=10, output=3), request(prompt=10, output=3)
    policy.submit(a)
    policy.submit(b)
    work, _ = step(policy, 0, 0.0)
    assert work.items == [(a, 10, 0), (b, 6, 0)] and work.decode_seqs == 0
    work, _ = step(policy, 0, 1.0)
    assert work.items == [(b, 4, 6)]  # a waits for b's prefill rather than decoding
    work, _ = step(policy, 0, 2.0)
    assert work.items == [(a, 1, 10), (b, 1, 10)]


def test_static_spreads_evenly_over_lanes():
    policy = static(lanes=4, batch=8)
    for _ in range(8):
        policy.submit(request())
    assert [len(policy.next_step(lane, 0.0).items) for lane in range(4)] == [2, 2, 2, 2]


# ---- a whole run, driven synchronously ----------------------------------------------------

@st.composite
def runs(draw):
    n = draw(st.integers(min_value=1, max_value=12))
    lengths = draw(st.lists(st.tuples(st.integers(1, 300), st.integers(1, 40)), min_size=n, max_size=n))
    block = draw(st.sampled_from([1, 4, 16]))
    longest = max(-(-(p + o - 1) // block) for p, o in lengths)
    return dict(
        kind=draw(st.sampled_from(["continuous", "static"])),
        lanes=draw(st.integers(1, 4)),
        # from just the longest request (preemptions galore) to room for a few
        capacity=draw(st.integers(longest, 3 * longest)),
        block=block,
        batch=draw(st.integers(1, 8)),
        tokens=draw(st.integers(16, 512)),
        chunked=draw(st.booleans()),
        preemption=draw(st.sampled_from(["recompute", "swap"])),
        lengths=lengths,
        arrivals=draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)),
    )


def check_step(policy, run, lane: int, work: StepWork, before: set[int], preempted: bool, seen: set[int],
               swapped: set[int]) -> None:
    """What one formed step must satisfy (``swapped``: ids swapped out before the step)."""
    items = work.items
    assert work.lane == lane
    assert items or work.swap_s > 0  # an empty step is only a swap delay
    assert len(items) <= run["batch"]
    running = set(map(id, policy.running[lane]))
    if preempted:  # no admission or resumption in a step that preempted (vLLM)
        assert running <= before
    for r, new, cached in items:
        assert id(r) in running and r.lane == lane
        assert new >= 1 and cached + new <= r.max_tokens + 1
        assert policy.kv.covers(r.id, cached + new)  # its blocks are reserved
    ids = [r.id for r, _, _ in items]
    assert len(set(ids)) == len(ids) and seen.isdisjoint(ids)
    seen.update(ids)
    decodes = sum(1 for r, _, c in items if c >= r.prefill_tokens)
    prefill_tokens = [n for r, n, c in items if c < r.prefill_tokens]
    if run["chunked"]:
        # BUG (see test_a_decode_resumed_from_swap_respects_the_token_budget): resumed decodes are
        # added past the budget; drop `resumed` here once that is fixed
        resumed = sum(1 for r, _, c in items if r.id in swapped and c >= r.prefill_tokens)
        assert sum(prefill_tokens) + decodes - resumed <= max(run["tokens"], decodes)
    elif run["kind"] == "continuous" and prefill_tokens:
        assert decodes == 0  # no decodes in a prefill step
        assert len(prefill_tokens) == 1 or sum(prefill_tokens) <= run["tokens"]


@settings(max_examples=60, deadline=None)
@given(run=runs())
def test_a_synchronous_run_keeps_every_invariant(run):
    kv = KVCache(run["capacity"], run["block"])
    policy = make_policy(run["kind"], lanes=run["lanes"], kv=kv, max_batch_size=run["batch"],
                         max_batched_tokens=run["tokens"], chunked_prefill=run["chunked"],
                         preemption=run["preemption"], swap_s_per_token=1e-6)
    reqs = [Request(id=i, arrival_s=float(a), prompt_tokens=p, output_tokens=o, keep_token_times=True)
            for i, ((p, o), a) in enumerate(zip(run["lengths"], run["arrivals"]))]
    pending = sorted(reqs, key=lambda r: r.arrival_s)
    finished: list[Request] = []
    first_tokens: dict[int, float] = {}
    now = 0
    for _ in range(20_000):  # no livelock: bounded steps
        while pending and pending[0].arrival_s <= now:
            assert policy.submit(pending.pop(0))  # every request fits the cache
        works, seen = [], set()
        for lane in range(run["lanes"]):
            before, preemptions = set(map(id, policy.running[lane])), policy.preemptions
            swapped = {r.id for r in policy.swapped}
            work = policy.next_step(lane, float(now))
            assert 0 <= kv.used_blocks <= kv.capacity_blocks
            if work is not None:
                check_step(policy, run, lane, work, before, policy.preemptions > preemptions, seen, swapped)
            works.append(work)
        for work in works:
            if work is not None:
                finished += policy.complete_step(work, float(now + 1))
        for r in reqs:
            if r.first_token_s >= 0:
                assert first_tokens.setdefault(r.id, r.first_token_s) == r.first_token_s  # never reset
        now += 1
        if not pending and policy.in_system == 0:
            break
    else:
        pytest.fail("the run did not drain")
    assert sorted(r.id for r in finished) == list(range(len(reqs)))
    assert kv.used_blocks == 0 and kv.holders == 0
    assert kv.allocated_total == kv.freed_total
    assert not policy.waiting and not policy.swapped
    assert policy.preemptions == sum(r.preemptions for r in reqs)
    for r in reqs:
        assert r.arrival_s <= r.scheduled_s < r.first_token_s <= r.finished_s
        assert len(r.token_times_s) == r.output_tokens == r.generated
        assert all(a < b for a, b in zip(r.token_times_s, r.token_times_s[1:]))
        assert r.prefilled == r.prefill_tokens and r.swapped_tokens == 0 and r.preempted_at == -1.0
        if r.preemptions == 0:
            assert r.preempted_s == 0.0 and r.recompute_tokens == 0


# ---- known bugs (strict xfail: they fail loudly once fixed, so the marker is removed) -------

def test_a_decode_resumed_from_swap_respects_the_token_budget():
    policy = ContinuousBatching(lanes=1, kv=KVCache(6, 1), max_batch_size=3, max_batched_tokens=3,
                                chunked_prefill=True, preemption="swap", swap_s_per_token=1e-6)
    for r in (request(prompt=3, output=3), request(prompt=1, output=3), request(prompt=4, output=2)):
        policy.submit(r)
    sizes = []
    for now in range(4):
        work = policy.next_step(0, float(now))
        sizes.append(sum(new_tokens(work)))
        policy.complete_step(work, now + 1.0)
    # step 2 swaps out the two later requests; step 3 resumes both: a 3-token prefill chunk and
    # a decode, 4 tokens in a step limited to 3
    assert policy.preemptions == 2
    assert max(sizes) <= 3, sizes


def test_lanes_sharing_a_small_cache_do_not_livelock():
    # three 8-token prompts, 2 outputs each (9 slots); the cache holds 12 tokens: one request fits
    policy = ContinuousBatching(lanes=2, kv=KVCache(12, 1), max_batch_size=2, max_batched_tokens=2,
                                chunked_prefill=True, preemption="recompute")
    for _ in range(3):
        assert policy.submit(request(prompt=8, output=2))
    for now in range(1000):
        works = [policy.next_step(lane, float(now)) for lane in range(2)]
        for work in works:
            if work is not None:
                policy.complete_step(work, now + 1.0)
        if policy.in_system == 0:
            break
    assert policy.in_system == 0, f"{policy.preemptions} preemptions and still {policy.in_system} requests in"
