"""Continuous (iteration-level) and static (request-level) batching.

Both policies serve one replica with ``lanes`` micro-batch lanes (one per pipeline micro-batch in
flight; a single lane without pipelining). Each lane asks :meth:`BatchingPolicy.next_step` for
its next step and reports back with :meth:`BatchingPolicy.complete_step`.

- Continuous batching (Orca, Yu et al. OSDI 2022; vLLM): every step, the lane's running
  sequences decode one token and waiting requests join while the batch has room
  (``max_batch_size`` sequences, ``max_batched_tokens`` tokens) and the KV cache has blocks for
  them. With ``chunked_prefill`` a long prompt is split over steps and mixed with decodes
  (Sarathi-Serve, Agrawal et al. OSDI 2024); without it, a step runs prefills only.
- Static batching: a lane takes up to ``max_batch_size`` waiting requests, prefills them, and
  decodes until the last one finishes before it admits anyone else.

The KV cache is paged (vLLM): a request is admitted when blocks for the tokens of its first step
are free (its next prefill chunk, or its whole prompt without chunked prefill), and takes one more
block whenever a decode crosses a block boundary. With ``admission="reserve"`` (TensorRT-LLM's
default GUARANTEED_NO_EVICT) a request is admitted only when blocks for its whole length
(prompt + outputs) are free and takes them all at once: requests queue instead of being
preempted. Admission is first-in first-out without
overtaking. When a running sequence needs a block and none is free, the lane preempts its most
recently admitted request that is not yet in this step (possibly the one asking), as vLLM does:

- ``recompute``: the victim's blocks are freed and it goes back to the FRONT of the waiting queue;
  when readmitted it prefills its prompt and the outputs it already produced again, then decodes
  on (its outputs are kept);
- ``swap``: its KV moves to host memory over PCIe and back when it resumes; swapped requests
  resume before any waiting request is admitted. Each transfer takes
  ``tokens x swap_s_per_token`` (bytes per token per GPU / host-link bandwidth). The simplest
  honest model of the cost: the transfer time of every swap decided while forming a step is
  returned in :attr:`StepWork.swap_s` and the engine delays that step by it (GPU and copy engine
  do not overlap). Host memory is unbounded.

With ``overlap`` (vLLM ``--async-scheduling``, TensorRT-LLM's and SGLang's overlap schedulers)
a lane's step is formed when its previous step starts, so it admits only requests that reached the
engine before then; an idle lane admits at once. With ``batch_wait_iters`` /
``batch_wait_tokens_ratio`` (TensorRT-LLM's batch waiting) a step that would mix prefills with
decodes runs the decodes alone until the wait times out or the prefills fill the token share
(:meth:`BatchingPolicy._batch_wait`).

After a preemption no request is admitted or resumed, on any lane, until a running request
finishes (vLLM stops admission for the step that preempted; with several lanes sharing one cache
that is not enough: another lane would re-admit the victim at once and the lanes could preempt
each other forever). A request longer than the whole cache is rejected at submission. Requests are spread evenly over
lanes so pipeline stages fill; a lane preempts only its own requests (another lane's may be in a
step in flight).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from simdecode.schedulers.kv import KVCache
from simdecode.schedulers.request import Request
from simdecode.schedulers.step import StepWork


class BatchingPolicy:
    """Shared machinery: the waiting queue, the lanes' running sets and the KV ledger."""

    def __init__(self, *, lanes: int, kv: KVCache, max_batch_size: int, max_batched_tokens: int,
                 chunked_prefill: bool = True, preemption: str = "recompute", swap_s_per_token: float = 0.0,
                 on_preempt: Callable[[Request], None] | None = None, verify_tokens: int = 1,
                 speculate_max_batch: int | None = None, admission: str = "paged", overlap: bool = False,
                 batch_wait_iters: int = 0, batch_wait_tokens_ratio: float = 0.0,
                 balance_ranks: int = 1, balance_iters: int = 0):
        if preemption not in ("recompute", "swap"):
            raise ValueError(f"unknown preemption mode {preemption!r}")
        if admission not in ("paged", "reserve"):
            raise ValueError(f"unknown admission mode {admission!r}")
        #: paged: blocks for the first step at admission, more as the sequence grows (vLLM);
        #: reserve: blocks for the whole request (prompt + every output) at admission, so a
        #: running request never needs another and nothing is preempted (TensorRT-LLM's
        #: GUARANTEED_NO_EVICT capacity scheduler, llama.cpp's slots)
        self.admission = admission
        #: overlap scheduling: a step is formed while the lane's previous step runs, so it admits
        #: only requests that reached the engine before that step started (:meth:`next_step`)
        self.overlap = overlap
        #: TensorRT-LLM's batch waiting (:meth:`_batch_wait`)
        self.batch_wait_iters = batch_wait_iters
        self.batch_wait_tokens_ratio = batch_wait_tokens_ratio
        self._wait_count = [0] * lanes
        #: TensorRT-LLM's attention-DP context balancing (:meth:`_adp_balance`)
        self.balance_ranks, self.balance_iters = balance_ranks, balance_iters
        self._balance_count = [0] * lanes
        #: per lane, when its last step started (None: the lane was idle since)
        self._last_start: list[float | None] = [None] * lanes
        self._cutoff: float | None = None
        self.lanes = lanes
        self.kv = kv
        self.max_batch_size = max_batch_size
        self.max_batched_tokens = max_batched_tokens
        self.chunked_prefill = chunked_prefill
        self.preemption = preemption
        self.swap_s_per_token = swap_s_per_token
        #: called with each request just preempted (the engine counts them)
        self.on_preempt = on_preempt
        #: speculative decoding: positions each decoding sequence verifies per step (1: standard),
        #: only while the lane decodes at most ``speculate_max_batch`` sequences
        self.verify_tokens = verify_tokens
        self.speculate_max_batch = speculate_max_batch
        self.waiting: deque[Request] = deque()
        self.swapped: deque[Request] = deque()
        self.running: list[list[Request]] = [[] for _ in range(lanes)]
        self.preemptions = 0
        # per step being formed: ids preempted, swap time owed, whether KV held anyone back
        self._gone: set[int] = set()
        # after a preemption no request is admitted (or re-admitted) until one finishes: with
        # several lanes, another lane re-admitting the victim at once would livelock the cache
        self._frozen = False
        self._swap_s = 0.0
        self._kv_blocked = False
        self._now = 0.0
        # the step being formed, as _decodes walks it (see _decodes, _note_decodes, StepWork.shape)
        self._decoded = self._decode_walk = None
        self._decode_noted = 0
        self._prefilling: list[Request] = []

    # ---- queue ----------------------------------------------------------------------------
    def submit(self, request: Request) -> bool:
        """Queue a request; False (rejected) if it could never fit in the KV cache."""
        if self.kv.blocks_for(request.max_tokens) > self.kv.capacity_blocks:
            return False
        self.waiting.append(request)
        return True

    @property
    def in_system(self) -> int:
        return len(self.waiting) + len(self.swapped) + sum(len(r) for r in self.running)

    @property
    def queued(self) -> int:
        """Requests not in any lane: waiting for admission, or swapped out waiting to resume."""
        return len(self.waiting) + len(self.swapped)

    def _fair_share(self, lane: int) -> int:
        """Sequences this lane may hold so that requests spread evenly over lanes."""
        share = -(-self.in_system // self.lanes)
        return max(0, min(self.max_batch_size, share) - len(self.running[lane]))

    # ---- KV blocks and preemption -------------------------------------------------------------
    def _reserve(self, req: Request, tokens: int) -> bool:
        """Make ``req`` hold blocks for ``tokens`` tokens; False (nothing taken) if too few are free."""
        kv = self.kv
        need = kv.blocks_for(tokens) - kv.held(req.id)
        if need <= 0:
            return True
        if not kv.can_allocate(need):
            return False
        kv.grow(req.id, need)
        return True

    def _schedule(self, lane: int, req: Request, new: int, cached: int, scheduled: set[int]) -> bool:
        """Reserve blocks for ``req``'s next ``new`` tokens after ``cached``, preempting the lane's
        most recently admitted request not yet in this step while blocks are short. False if
        that victim had to be ``req`` itself."""
        running = self.running[lane]
        while not self._reserve(req, cached + new):
            self._note_decodes(scheduled)
            victim = next(r for r in reversed(running) if r.id not in scheduled)  # req qualifies
            self._preempt(lane, victim)
            if victim is req:
                return False
        return True

    def _note_decodes(self, scheduled: set[int]) -> None:
        """Put the decodes :meth:`_decodes` has taken into this step so far into ``scheduled``
        (it does not add them one by one: only a preemption needs to know them)."""
        items = self._decode_walk
        if items is not None and self._decode_noted < len(items):
            scheduled.update(req.id for req, _, _ in items[self._decode_noted:])
            self._decode_noted = len(items)

    def _preempt(self, lane: int, req: Request) -> None:
        """Evict ``req`` from ``lane``: free its blocks; requeue it (recompute) or swap it out."""
        tokens = req.context_tokens if not req.in_prefill else req.prefilled
        self.running[lane].remove(req)
        if self.kv.held(req.id):
            self.kv.free(req.id)
        req.preemptions += 1
        req.preempted_at = self._now
        self.preemptions += 1
        self._gone.add(req.id)
        self._frozen = True
        if self.preemption == "swap":
            req.swapped_tokens = tokens
            self._swap_s += tokens * self.swap_s_per_token
            self.swapped.append(req)
        else:
            # everything in the KV cache is lost: prefill the prompt and the outputs so far again
            req.recompute_tokens = req.generated
            req.prefilled = 0
            self.waiting.appendleft(req)  # vLLM: preempted requests go to the front of the queue
        if self.on_preempt is not None:
            self.on_preempt(req)

    def _admit(self, lane: int, limit: int, now: float, budget: int | None) -> list[tuple[Request, int, int]]:
        """Resume swapped requests, then admit waiting ones (FIFO, no overtaking) while the lane has
        room for ``limit`` more sequences, the step has ``budget`` tokens left (None: whole
        prefills, no budget) and the KV cache has blocks for each one's first step.

        Returns the admitted requests' first items (request, new tokens, cached tokens); their
        blocks are reserved.
        """
        admitted: list[tuple[Request, int, int]] = []
        if self._gone:
            return admitted  # no admission in the step that preempted...
        if self._frozen and any(self.running):
            self._kv_blocked = True  # the cache, not the batch, holds the queue back
            return admitted  # progress first: wait for a running request to finish
        self._frozen = False
        used = 0
        cutoff = self._cutoff
        while len(admitted) < limit:
            queue = self.swapped if self.swapped else self.waiting
            if not queue:
                break
            req = queue[0]
            if cutoff is not None and req.server_arrival_s > cutoff and queue is self.waiting:
                break  # it reached the engine after this step was formed (overlap scheduling)
            if req.in_prefill:
                cached = req.prefilled
                new = req.prefill_tokens - cached
                if budget is not None:
                    new = min(new, budget - used)
                    if new <= 0:
                        break  # no token budget left in this step
            else:
                cached, new = req.context_tokens, 1
                if budget is not None and used + new > budget:
                    break  # a resumed decode still takes a token of the step's budget
            blocks = self.kv.blocks_for(cached + new)
            if self.admission == "reserve":
                blocks = max(blocks, self.kv.blocks_for(req.max_tokens))
            if not self.kv.can_allocate(blocks):
                self._kv_blocked = True  # the lane has room, the KV cache has not
                break  # FIFO: no overtaking, so a long request is not starved
            queue.popleft()
            self.kv.allocate(req.id, blocks)
            if queue is self.swapped:
                self._swap_s += req.swapped_tokens * self.swap_s_per_token  # swap back in
                req.swapped_tokens = 0
            req.lane = lane
            if req.scheduled_s < 0:
                req.scheduled_s = now
            if req.preempted_at >= 0:  # resumed after a preemption
                req.preempted_s += now - req.preempted_at
                req.preempted_at = -1.0
            self.running[lane].append(req)
            admitted.append((req, new, cached))
            used += new
        return admitted

    # ---- steps ----------------------------------------------------------------------------
    def next_step(self, lane: int, now: float) -> StepWork | None:
        """The lane's next step (None: nothing to do). Reserves the KV blocks it needs."""
        self._gone, self._swap_s, self._kv_blocked, self._now = set(), 0.0, False, now
        self._decoded = self._decode_walk = None
        # with overlap scheduling the host formed this step when the lane's previous step started
        # (if it ran until now): what reached the engine later waits for the step after
        self._cutoff = self._last_start[lane] if self.overlap else None
        items = self._form_step(lane, now)
        swap_s, self._swap_s = self._swap_s, 0.0
        if not items and swap_s == 0.0:
            self._last_start[lane] = None
            return None
        self._last_start[lane] = now
        work = StepWork(lane, items, swap_s=swap_s, kv_blocked=self._kv_blocked or bool(self._gone),
                        queued=bool(self.waiting or self.swapped))
        if self._decoded is not None and self._decoded[0] is items:  # the step's list begins with them
            work._decode_sums = self._decoded[1:]
        return work

    def _form_step(self, lane: int, now: float) -> list[tuple[Request, int, int]]:
        raise NotImplementedError

    def _decodes(self, lane: int, scheduled: set[int]) -> tuple[list[tuple[Request, int, int]], int]:
        """One decode token (or ``verify_tokens`` speculative positions) for each running sequence
        past its prefill, oldest first; returns the items and the tokens they take."""
        items = []
        cache = self.kv
        gone, held, block = self._gone, cache._held, cache.block_tokens
        n = self._verify_width(lane)
        schedule, append, get = self._schedule, items.append, held.get
        self._decode_walk, self._decode_noted = items, 0  # in this step: noted in `scheduled` on demand
        kv = pairs = 0.0  # the items' BatchShape sums, in its order (StepWork.shape)
        prefilling = self._prefilling = []  # running requests still in their prefill, in order
        for req in list(self.running[lane]):
            rid = req.id
            prompt = req.prompt_tokens
            if req.prefilled < prompt + req.recompute_tokens:
                prefilling.append(req)
                continue
            if gone and rid in gone:
                continue
            cached = prompt + req.generated - 1  # context_tokens past the prefill
            # fast paths (KVCache.covers and _reserve inlined): most decodes write into a block
            # they already hold; most others take the blocks they need from free ones
            has = get(rid, 0)
            if has * block < cached + n:
                need = -(-(cached + n) // block) - has
                if cache.can_allocate(need):
                    cache.grow(rid, need)
                elif not schedule(lane, req, n, cached, scheduled):
                    continue
            append((req, n, cached))
            kv += cached
            pairs += cached + 1.0
        self._decoded = (items, len(items), kv, pairs) if n == 1 else None
        return items, n * len(items)

    def _verify_width(self, lane: int) -> int:
        if self.verify_tokens <= 1:
            return 1
        decoding = sum(1 for r in self.running[lane] if not r.in_prefill)
        if self.speculate_max_batch is not None and decoding > self.speculate_max_batch:
            return 1  # a large batch is compute-bound: speculation would cost more than it saves
        return self.verify_tokens

    def _prefills(self, lane: int, scheduled: set[int], budget: int, whole: bool,
                  candidates: list[Request] | None = None) -> list[tuple[Request, int, int]]:
        """Prefill chunks of running requests in admission order within ``budget`` tokens (``whole``:
        whole prompts only; the first always runs, however long). ``candidates``: the lane's
        running requests that were in prefill when :meth:`_decodes` walked them (a preempted one
        is skipped as gone), so the walk is not repeated."""
        items = []
        for req in list(self.running[lane]) if candidates is None else candidates:
            if req.id in self._gone or req.id in scheduled or not req.in_prefill:  # (decodes are not in prefill)
                continue
            remaining = req.prefill_tokens - req.prefilled
            if whole:
                if items and remaining > budget:
                    break
                new = remaining
            else:
                if budget <= 0:
                    break
                new = min(remaining, budget)
            if self._schedule(lane, req, new, req.prefilled, scheduled):
                items.append((req, new, req.prefilled))
                scheduled.add(req.id)
                budget -= new
        return items

    def complete_step(self, work: StepWork, now: float, accepted: dict[int, int] | None = None) -> list[Request]:
        """Advance every sequence of ``work``; return the requests that finished (KV freed).

        ``accepted``: for speculative verify items (more than one new token after the prefill),
        the proposals accepted by request id; the step emits them plus the bonus token, and the
        KV blocks of the rejected positions are given back."""
        finished = []
        items = work.items
        first = 0
        if accepted is None and work._decode_sums is not None:
            # the one-token decodes the step begins with: one more token each (the loop below,
            # for them alone: past their prefill, not their first token)
            first = work._decode_sums[0]
            running = self.running[work.lane]
            for req, _, _ in items[:first]:
                req.generated += 1
                if req.keep_token_times:
                    req.token_times_s.append(now)
                if req.generated >= req.output_tokens:  # Request.done
                    req.finished_s = now
                    self.kv.free(req.id)
                    running.remove(req)
                    self._frozen = False
                    finished.append(req)
        for i in range(first, len(items)):
            req, new, cached = items[i]
            emitted = 1
            prefill = req.prompt_tokens + req.recompute_tokens  # Request.prefill_tokens, inlined
            if req.prefilled < prefill:
                req.prefilled += new
                if req.prefilled < prefill:
                    continue  # a chunk of a longer prompt: no token yet
            elif new > 1:
                emitted = min(1 + (accepted or {}).get(req.id, 0), req.output_tokens - req.generated)
                keep = self.kv.blocks_for(cached + emitted)
                if self.kv.held(req.id) > keep:
                    self.kv.shrink(req.id, self.kv.held(req.id) - keep)
            req.generated += emitted
            if req.generated == emitted:
                req.first_token_s = now
            if req.keep_token_times:
                req.token_times_s.extend([now] * emitted)
            if req.generated >= req.output_tokens:  # Request.done
                req.finished_s = now
                self.kv.free(req.id)  # every block it holds, once
                self.running[work.lane].remove(req)
                self._frozen = False
                finished.append(req)
        return finished


class ContinuousBatching(BatchingPolicy):
    def _form_step(self, lane: int, now: float) -> list[tuple[Request, int, int]]:
        scheduled: set[int] = set()
        if not self.chunked_prefill:
            # whole prompts are admitted with blocks for all of them; a step with prefills runs
            # prefills only (at least one, whole prompts within the budget)
            self._admit(lane, self._fair_share(lane), now, None)
            if any(r.in_prefill for r in self.running[lane]):
                items = self._prefills(lane, scheduled, self.max_batched_tokens, whole=True)
                if items:
                    return items
            return self._decodes(lane, scheduled)[0]
        # decodes first (one token each), then prefill chunks in admission order, then newcomers
        items, spent = self._decodes(lane, scheduled)
        decodes = len(items)
        budget = self.max_batched_tokens - spent
        chunks = self._prefills(lane, scheduled, budget, whole=False, candidates=self._prefilling)
        items += chunks
        budget -= sum(new for _, new, _ in chunks)
        items += self._admit(lane, self._fair_share(lane), now, max(0, budget))
        if self.batch_wait_iters or self.batch_wait_tokens_ratio:
            items = self._batch_wait(lane, items, decodes)
        if self.balance_iters and self.balance_ranks > 1:
            items = self._adp_balance(lane, items, decodes)
        return items

    def _adp_balance(self, lane: int, items: list[tuple[Request, int, int]],
                     decodes: int) -> list[tuple[Request, int, int]]:
        """TensorRT-LLM's attention-DP context balancing (``attention_dp_config.enable_balance``;
        ``PyExecutor._balance_adp_requests``): while every rank decodes, a step's prefills are held back
        until every rank has one, or until they have been held ``balance_iters`` steps
        (``timeout_iters``); a rank without decodes stops the wait ("not all_ranks_have_gen_requests").
        Here the ``balance_ranks`` ranks are pooled: every rank decodes when the step holds at least
        that many decodes, and every rank has a prefill when it holds at least that many prefills
        (the new requests are spread over the ranks). Held-back requests keep their place and blocks."""
        prefills = len(items) - decodes
        if prefills == 0:
            return items
        if prefills >= self.balance_ranks or decodes < self.balance_ranks or \
                self._balance_count[lane] + 1 >= self.balance_iters:
            self._balance_count[lane] = 0
            return items
        self._balance_count[lane] += 1
        del items[decodes:]
        return items

    def _batch_wait(self, lane: int, items: list[tuple[Request, int, int]],
                    decodes: int) -> list[tuple[Request, int, int]]:
        """TensorRT-LLM's batch waiting (``PyExecutor._waiting_requests``, applied in ``_schedule``
        when a step has both context and generation requests): the step's prefills are held back,
        and the lane's wait count grows by one, until the count reaches ``batch_wait_iters`` or the
        step's tokens (prefill + decode) reach ``batch_wait_tokens_ratio`` x ``max_batched_tokens``;
        then they all run and the count restarts. ``items`` begins with its ``decodes`` decodes.
        Held-back requests keep their place (and their KV blocks) and are offered again next step."""
        if decodes == 0 or decodes == len(items):
            return items  # no decodes: nothing to wait for (TensorRT-LLM: "avoid dead waiting")
        tokens = sum(new for _, new, _ in items)
        if (self._wait_count[lane] >= self.batch_wait_iters
                or tokens >= self.batch_wait_tokens_ratio * self.max_batched_tokens):
            self._wait_count[lane] = 0
            return items
        self._wait_count[lane] += 1
        del items[decodes:]  # in place: the step's list still begins with (is) the decodes' list
        return items


class StaticBatching(BatchingPolicy):
    def _form_step(self, lane: int, now: float) -> list[tuple[Request, int, int]]:
        running = self.running[lane]
        scheduled: set[int] = set()
        if not running:  # a new batch: reserve every member's whole prompt
            self._admit(lane, self._fair_share(lane), now, None)
            if not running:
                return []
        if any(r.in_prefill for r in running):
            items = self._prefills(lane, scheduled, self.max_batched_tokens, whole=not self.chunked_prefill)
            if items or any(r.in_prefill for r in running):
                return items
        return self._decodes(lane, scheduled)[0]


def make_policy(kind: str, **kwargs) -> BatchingPolicy:
    match kind:
        case "continuous":
            return ContinuousBatching(**kwargs)
        case "static":
            return StaticBatching(**kwargs)
    raise ValueError(f"unknown batching policy {kind!r}")
