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

KV blocks for a request's whole length are reserved when it is admitted (no preemption needed);
requests are spread evenly over lanes so pipeline stages fill.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from simdecode.costmodel.batch import BatchShape
from simdecode.schedulers.kv import KVCache
from simdecode.schedulers.request import Request


@dataclass(slots=True)
class StepWork:
    """One step of one lane: (request, new tokens, cached tokens before the step) per sequence."""

    lane: int
    items: list[tuple[Request, int, int]]

    def shape(self, window: int | None = None) -> BatchShape:
        return BatchShape.mixed(
            ((cached, new, cached + new >= req.prompt_tokens) for req, new, cached in self.items), window
        )

    @property
    def decode_seqs(self) -> int:
        return sum(1 for req, new, cached in self.items if cached >= req.prompt_tokens)


class BatchingPolicy:
    """Shared machinery: the waiting queue, the lanes' running sets and the KV ledger."""

    def __init__(self, *, lanes: int, kv: KVCache, max_batch_size: int, max_batched_tokens: int,
                 chunked_prefill: bool = True):
        self.lanes = lanes
        self.kv = kv
        self.max_batch_size = max_batch_size
        self.max_batched_tokens = max_batched_tokens
        self.chunked_prefill = chunked_prefill
        self.waiting: deque[Request] = deque()
        self.running: list[list[Request]] = [[] for _ in range(lanes)]

    # ---- queue ----------------------------------------------------------------------------
    def submit(self, request: Request) -> bool:
        """Queue a request; False (rejected) if it could never fit in the KV cache."""
        if self.kv.blocks_for(request.max_tokens) > self.kv.capacity_blocks:
            return False
        self.waiting.append(request)
        return True

    @property
    def in_system(self) -> int:
        return len(self.waiting) + sum(len(r) for r in self.running)

    def _fair_share(self, lane: int) -> int:
        """Sequences this lane may hold so that requests spread evenly over lanes."""
        share = -(-self.in_system // self.lanes)
        return max(0, min(self.max_batch_size, share) - len(self.running[lane]))

    def _admit(self, lane: int, limit: int, now: float) -> list[Request]:
        admitted = []
        while self.waiting and len(admitted) < limit:
            req = self.waiting[0]
            blocks = self.kv.blocks_for(req.max_tokens)
            if not self.kv.can_allocate(blocks):
                break  # FIFO: no overtaking, so a long request is not starved
            self.waiting.popleft()
            self.kv.allocate(req.id, blocks)
            req.lane, req.scheduled_s = lane, now
            self.running[lane].append(req)
            admitted.append(req)
        return admitted

    # ---- steps ----------------------------------------------------------------------------
    def next_step(self, lane: int, now: float) -> StepWork | None:
        raise NotImplementedError

    def complete_step(self, work: StepWork, now: float) -> list[Request]:
        """Advance every sequence of ``work``; return the requests that finished (KV freed)."""
        finished = []
        for req, new, cached in work.items:
            if req.in_prefill:
                req.prefilled += new
                if req.in_prefill:
                    continue  # a chunk of a longer prompt: no token yet
            req.generated += 1
            if req.generated == 1:
                req.first_token_s = now
            if req.keep_token_times:
                req.token_times_s.append(now)
            if req.done:
                req.finished_s = now
                self.kv.free(req.id)
                self.running[work.lane].remove(req)
                finished.append(req)
        return finished

    def _item(self, req: Request, budget: int) -> tuple[Request, int, int]:
        if req.in_prefill:
            return req, min(req.prompt_tokens - req.prefilled, budget), req.prefilled
        return req, 1, req.context_tokens


class ContinuousBatching(BatchingPolicy):
    def next_step(self, lane: int, now: float) -> StepWork | None:
        running = self.running[lane]
        budget = self.max_batched_tokens
        if not self.chunked_prefill:
            self._admit(lane, self._fair_share(lane), now)
            prefills = [r for r in running if r.in_prefill]
            if prefills:  # a prefill-only step of whole prompts, at least one, within the budget
                items = []
                for req in prefills:
                    new = req.prompt_tokens - req.prefilled
                    if items and new > budget:
                        break
                    items.append((req, new, req.prefilled))
                    budget -= new
                return StepWork(lane, items)
        items = []
        # decodes first (one token each), then prefill chunks in arrival order
        for req in running:
            if not req.in_prefill:
                items.append((req, 1, req.context_tokens))
                budget -= 1
        self._admit(lane, self._fair_share(lane), now)
        for req in running:
            if req.in_prefill and budget > 0:
                item = self._item(req, budget)
                items.append(item)
                budget -= item[1]
        return StepWork(lane, items) if items else None


class StaticBatching(BatchingPolicy):
    def next_step(self, lane: int, now: float) -> StepWork | None:
        running = self.running[lane]
        if not running:
            self._admit(lane, self._fair_share(lane), now)
            if not running:
                return None
        prefills = [r for r in running if r.in_prefill]
        if prefills:
            items, budget = [], self.max_batched_tokens
            for req in prefills:
                if budget <= 0:
                    break
                item = self._item(req, budget if self.chunked_prefill else req.prompt_tokens)
                items.append(item)
                budget -= item[1]
            return StepWork(lane, items)
        return StepWork(lane, [(r, 1, r.context_tokens) for r in running])


def make_policy(kind: str, **kwargs) -> BatchingPolicy:
    match kind:
        case "continuous":
            return ContinuousBatching(**kwargs)
        case "static":
            return StaticBatching(**kwargs)
    raise ValueError(f"unknown batching policy {kind!r}")
