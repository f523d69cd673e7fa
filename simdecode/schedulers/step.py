"""One step of one lane, as a batching policy forms it: which sequences run, with how many new
tokens over how many cached ones, and the batch shape the cost model prices
(:class:`simdecode.costmodel.batch.BatchShape`). The policies in :mod:`policies` build it; the
engine's replica prices and runs it."""

from __future__ import annotations

from dataclasses import dataclass

from simdecode.costmodel.batch import BatchShape
from simdecode.schedulers.request import Request


@dataclass(slots=True)
class StepWork:
    """One step of one lane: (request, new tokens, cached tokens before the step) per sequence.

    ``swap_s``: host-link transfer time of the swaps decided while forming this step; the engine
    delays the step by it. ``items`` may be empty when the step is only such a delay.
    ``kv_blocked``: the KV cache held requests back in this step (admission stopped for lack of
    blocks while the lane had room, or a preemption). ``queued``: requests were still waiting
    (or swapped out) once the step was formed.
    """

    lane: int
    items: list[tuple[Request, int, int]]
    swap_s: float = 0.0
    kv_blocked: bool = False
    queued: bool = False
    _decode_count: int = -1  # decoding sequences, once :meth:`shape` has counted them
    #: (k, kv, pairs): the first k items are one-token decodes with these BatchShape sums (policy)
    _decode_sums: tuple[int, float, float] | None = None

    def shape(self, window: int | None = None) -> BatchShape:
        """The step's batch shape; a speculative verify item needs logits at all its positions."""
        if window is None:
            return self._decode_shape()
        return BatchShape.mixed(
            ((cached, new, new if cached >= req.prefill_tokens else cached + new >= req.prefill_tokens)
             for req, new, cached in self.items), window
        )

    def parts(self) -> list[tuple[int, int, bool | int]]:
        """(cached tokens, new tokens, logits needed) per sequence: :meth:`shape`'s input to
        :meth:`BatchShape.mixed`, for splitting the step over attention-DP ranks."""
        return [(cached, new, new if cached >= req.prefill_tokens else cached + new >= req.prefill_tokens)
                for req, new, cached in self.items]

    def _decode_shape(self) -> BatchShape:
        """:meth:`BatchShape.mixed` without a window, in one pass: the same sums in the same order,
        starting from the policy's sums over the one-token decodes the step begins with
        (:attr:`_decode_sums`); counts the decoding sequences on the way (:attr:`decode_seqs`)."""
        items = self.items
        if self._decode_sums is None:
            first, kv, pairs = 0, 0.0, 0.0
        else:
            first, kv, pairs = self._decode_sums
        logits = decodes = new_tokens = first
        prefill_pairs = prefill_cached = 0.0
        for i in range(first, len(items)):
            req, new, cached = items[i]
            prefill = req.prompt_tokens + req.recompute_tokens
            new_tokens += new
            seq_pairs = cached + 1.0 if new == 1 else new * cached + new * (new + 1) / 2
            if cached >= prefill:
                decodes += 1
                logits += new  # a speculative verify needs logits at every position
            else:
                logits += cached + new >= prefill
                if new > 1:  # a prefill chunk (MLA runs it expanded: BatchShape.prefill_attn_pairs)
                    prefill_pairs += seq_pairs
                    prefill_cached += cached
            kv += cached
            pairs += seq_pairs
        self._decode_count = decodes
        return BatchShape(len(items), new_tokens, logits, kv, pairs, kv, pairs, prefill_pairs, prefill_cached, kv, pairs)

    @property
    def decode_seqs(self) -> int:
        if self._decode_count >= 0:
            return self._decode_count
        return sum(1 for req, new, cached in self.items if cached >= req.prompt_tokens + req.recompute_tokens)

    def verify_items(self) -> list[tuple[Request, int, int]]:
        """Decoding sequences verifying speculative proposals in this step."""
        return [(req, new, cached) for req, new, cached in self.items if new > 1 and cached >= req.prefill_tokens]
