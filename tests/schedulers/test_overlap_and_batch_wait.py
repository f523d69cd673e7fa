"""Overlap scheduling and TensorRT-LLM's batch waiting, driven step by step without SimPy.

A fake clock: each step starts where the previous ended and lasts 1 s, so step k runs [k, k+1).
"""

from __future__ import annotations

import itertools

from simdecode.schedulers.kv import KVCache
from simdecode.schedulers.policies import ContinuousBatching
from simdecode.schedulers.request import Request

_ids = itertools.count(10_000)


def request(prompt: int, output: int, server_at: float = -1.0) -> Request:
    r = Request(id=next(_ids), arrival_s=max(server_at, 0.0), prompt_tokens=prompt, output_tokens=output)
    r.server_arrival_s = server_at
    return r


def policy(**kw) -> ContinuousBatching:
    return ContinuousBatching(lanes=1, kv=KVCache(100_000, 16), max_batch_size=64, max_batched_tokens=1000, **kw)


def run_step(p: ContinuousBatching, now: float):
    work = p.next_step(0, now)
    done = p.complete_step(work, now + 1.0) if work is not None else []
    return work, done


def prefill_ids(work) -> set[int]:
    return {req.id for req, new, cached in work.items if cached < req.prefill_tokens}


# ---- overlap ------------------------------------------------------------------------------------

def test_without_overlap_a_request_arriving_during_step_k_joins_step_k_plus_1():
    p = policy()
    p.submit(request(100, 50, server_at=0.0))
    run_step(p, 0.0)                       # step 0: its prefill
    late = request(100, 50, server_at=0.5)  # reaches the engine during step 0... (submitted at its end)
    p.submit(late)
    work, _ = run_step(p, 1.0)             # step 1 admits it
    assert late.id in prefill_ids(work)


def test_with_overlap_a_request_arriving_during_step_k_joins_step_k_plus_2():
    # the host formed step 1 when step 0 started (t = 0); the request came at t = 0.5
    p = policy(overlap=True)
    p.submit(request(100, 50, server_at=0.0))
    run_step(p, 0.0)
    late = request(100, 50, server_at=0.5)
    p.submit(late)
    work, _ = run_step(p, 1.0)
    assert late.id not in prefill_ids(work) and len(work.items) == 1  # the first request decodes alone
    work, _ = run_step(p, 2.0)             # step 2 was formed at t = 1 > 0.5: it joins
    assert late.id in prefill_ids(work)
    assert late.scheduled_s == 2.0


def test_with_overlap_an_idle_engine_schedules_an_arrival_at_once():
    # nothing ran before: no step was formed ahead, so the first request is not held back
    p = policy(overlap=True)
    first = request(100, 50, server_at=3.0)
    p.submit(first)
    work, _ = run_step(p, 3.0)
    assert first.id in prefill_ids(work)


# ---- TensorRT-LLM batch waiting -----------------------------------------------------------------

def test_batch_wait_holds_a_prefill_back_for_the_timeout_while_others_decode():
    # batch_wait_iters 3, ratio 0.9 of 1000 tokens: one 100-token prompt never reaches 900 tokens,
    # so it waits 3 steps (the count goes 0 -> 1 -> 2 -> 3), then runs in the 4th
    p = policy(batch_wait_iters=3, batch_wait_tokens_ratio=0.9)
    p.submit(request(100, 50))
    run_step(p, 0.0)                       # no decodes yet: the prefill runs at once
    waiting = request(100, 50)
    p.submit(waiting)
    held = [waiting.id in prefill_ids(run_step(p, t)[0]) for t in (1.0, 2.0, 3.0, 4.0)]
    assert held == [False, False, False, True]
    assert p._wait_count[0] == 0           # the count restarts once the prefills run


def test_batch_wait_stops_once_the_step_carries_the_token_ratio():
    # 1 decode + 2 x 450 prompt tokens = 901 >= 0.9 x 1000: no waiting at all
    p = policy(batch_wait_iters=20, batch_wait_tokens_ratio=0.9)
    p.submit(request(100, 50))
    run_step(p, 0.0)
    a, b = request(450, 10), request(450, 10)
    p.submit(a)
    p.submit(b)
    work, _ = run_step(p, 1.0)
    assert {a.id, b.id} <= prefill_ids(work)


def test_batch_wait_with_a_zero_ratio_never_waits():
    # TensorRT-LLM: tokens >= 0 x max_num_tokens always holds, so the timeout alone waits for nothing
    p = policy(batch_wait_iters=20, batch_wait_tokens_ratio=0.0)
    p.submit(request(100, 50))
    run_step(p, 0.0)
    late = request(100, 50)
    p.submit(late)
    work, _ = run_step(p, 1.0)
    assert late.id in prefill_ids(work)


def test_held_back_requests_decode_on_and_lose_no_tokens():
    p = policy(batch_wait_iters=2, batch_wait_tokens_ratio=0.9)
    first = request(100, 6)
    p.submit(first)
    run_step(p, 0.0)                       # prefill: first token
    second = request(100, 3)
    p.submit(second)
    finished = []
    for t in range(1, 20):
        work, done = run_step(p, float(t))
        finished += done
        if work is None:
            break
    assert {r.id for r in finished} == {first.id, second.id}
    assert first.generated == 6 and second.generated == 3
    # second waited steps 1 and 2, prefilled in step 3 (first token at its end, t = 4)
    assert second.first_token_s == 4.0


# ---- attention-DP context balancing -------------------------------------------------------------

def test_adp_balance_holds_prefills_until_every_rank_has_one_or_the_timeout():
    # 2 ranks, timeout 4: with 2 decodes running (every rank decodes) one new prompt waits 3 steps
    # and runs in the 4th (TensorRT-LLM: the count reaches timeout_iters on the 4th waiting step)
    p = policy(balance_ranks=2, balance_iters=4)
    for _ in range(2):
        p.submit(request(100, 50))
    run_step(p, 0.0)                       # no decodes yet: both prefills run at once
    late = request(100, 50)
    p.submit(late)
    held = [late.id in prefill_ids(run_step(p, t)[0]) for t in (1.0, 2.0, 3.0, 4.0)]
    assert held == [False, False, False, True]
    assert p._balance_count[0] == 0


def test_adp_balance_runs_at_once_when_every_rank_has_a_prefill():
    p = policy(balance_ranks=2, balance_iters=60)
    for _ in range(2):
        p.submit(request(100, 50))
    run_step(p, 0.0)
    a, b = request(100, 50), request(100, 50)
    p.submit(a)
    p.submit(b)
    assert {a.id, b.id} <= prefill_ids(run_step(p, 1.0)[0])


def test_adp_balance_does_not_wait_while_a_rank_has_no_decode():
    # 1 decode on 2 ranks: one rank is idle ("not all_ranks_have_gen_requests"), so no waiting
    p = policy(balance_ranks=2, balance_iters=60)
    p.submit(request(100, 50))
    run_step(p, 0.0)
    late = request(100, 50)
    p.submit(late)
    assert late.id in prefill_ids(run_step(p, 1.0)[0])


def test_overlap_defaults_per_engine():
    """SGLang's scheduler overlaps by default (event_loop_overlap); vLLM's only with
    --async-scheduling; the TensorRT-LLM preset stands for the C++ executor (none)."""
    from simdecode.scenario.engines import GiB, engine_defaults

    assert engine_defaults("sglang", "h200", 141e9, tp=8).overlap is True
    assert engine_defaults("vllm", "h200", 141e9).overlap is False
    assert engine_defaults("trt-llm", "h200", 141e9).overlap is False
    assert engine_defaults("generic", "a100", 80 * GiB).overlap is False
