"""The shape of one forward step: how many sequences, new tokens and context tokens it touches.

A step mixes decode sequences (one new token each, reading their whole KV cache) and prefill
chunks (many new tokens). What the cost model needs is a handful of sums, gathered here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, NamedTuple


class Caps(NamedTuple):
    """Two token caps for one model (DeepSeek-V4, costmodel/compressed.py): ``window`` for every
    layer's sliding window, ``sparse`` (m x index_topk tokens) for what compressed-sparse layers
    attend to. ``Deployment.window`` returns one where a model needs both; a plain int (or None)
    is one cap."""

    window: int | None
    sparse: int | None


@dataclass(slots=True)
class BatchShape:
    """Sums over the sequences of one step (counts of tokens; no units beyond tokens).

    seqs:            sequences in the step
    new_tokens:      tokens run through the model (decode: 1 per sequence; prefill: the chunk)
    logit_tokens:    tokens that need the LM head (decoding sequences, prefills that complete)
    kv_read_tokens:  cached context tokens read, summed over sequences (full-attention layers)
    attn_pairs:      (query, key) pairs scored, summed over new tokens (full-attention layers)
    window_kv_read_tokens, window_attn_pairs: the same for sliding-window layers
    prefill_attn_pairs: the part of attn_pairs scored by prefill chunks (several new tokens that are not
                     a speculative verify); MLA runs them in its expanded form (costmodel/mla.py)
    prefill_cached_tokens: cached tokens before the step of those prefill chunks (MLA decompresses them)
    sparse_kv_read_tokens, sparse_attn_pairs: the same as window_* under a second cap (Caps.sparse;
                     DeepSeek-V4's compressed-sparse layers, in tokens before pooling)
    rank:            under attention data parallelism, the shape of the busiest rank's own sequences
                     (costmodel/attention_dp.py); None: not split (or not known one by one)

    Treated as immutable (not frozen only because a frozen dataclass takes about five times as long
    to build, and one is built for every simulated step: docs/performance.md).
    """

    seqs: int
    new_tokens: int
    logit_tokens: int
    kv_read_tokens: float
    attn_pairs: float
    window_kv_read_tokens: float = 0.0
    window_attn_pairs: float = 0.0
    prefill_attn_pairs: float = 0.0
    prefill_cached_tokens: float = 0.0
    sparse_kv_read_tokens: float = 0.0
    sparse_attn_pairs: float = 0.0
    rank: BatchShape | None = None

    def split(self, chunks: int) -> BatchShape:
        """The mean of ``chunks`` token chunks of this step (chunked-overlap TP): every sum
        divided by ``chunks``, so k chunks do exactly the step's work (counts may be fractional)."""
        if chunks <= 1:
            return self
        k = float(chunks)
        return BatchShape(self.seqs / k, self.new_tokens / k, self.logit_tokens / k, self.kv_read_tokens / k,
                          self.attn_pairs / k, self.window_kv_read_tokens / k, self.window_attn_pairs / k,
                          self.prefill_attn_pairs / k, self.prefill_cached_tokens / k,
                          self.sparse_kv_read_tokens / k, self.sparse_attn_pairs / k)

    @classmethod
    def decode(cls, contexts: Iterable[int], window: int | Caps | None = None) -> BatchShape:
        """``contexts``: each decoding sequence's cached tokens before this step."""
        contexts = list(contexts)
        return cls.mixed([(c, 1, True) for c in contexts], window)

    @classmethod
    def mixed(cls, parts: Iterable[tuple[int, int, bool | int]], window: int | Caps | None = None) -> BatchShape:
        """``parts``: (cached tokens before the step, new tokens, needs logits) per sequence; the
        last is a bool (logits for the last position) or a count (a speculative verify needs
        logits at every verified position).

        Causal attention: new token j (0-based) of a chunk after c cached tokens scores c + j + 1
        keys, so a chunk of n scores n c + n (n + 1) / 2 pairs. ``window``: one cap, or :class:`Caps`.
        """
        sparse = None
        if isinstance(window, Caps):
            window, sparse = window
        seqs = new = logits = 0
        kv = pairs = wkv = wpairs = ppairs = pcached = skv = spairs = 0.0
        for cached, n, needs_logits in parts:
            seqs += 1
            new += n
            logits += int(needs_logits)
            kv += cached
            seq_pairs = n * cached + n * (n + 1) / 2
            pairs += seq_pairs
            if n > 1 and int(needs_logits) <= 1:  # a prefill chunk, not a verify step
                ppairs += seq_pairs
                pcached += cached
            if window is not None:
                wkv += min(cached, window)
                wpairs += _capped_pairs(cached, n, window)
            if sparse is not None:
                skv += min(cached, sparse)
                spairs += _capped_pairs(cached, n, sparse)
        if window is None:
            wkv, wpairs = kv, pairs
        if sparse is None:
            skv, spairs = kv, pairs
        return cls(seqs, new, logits, kv, pairs, wkv, wpairs, ppairs, pcached, skv, spairs)


def _capped_pairs(cached: int, n: int, window: int) -> float:
    """sum_{j=0}^{n-1} min(cached + j + 1, window) in closed form."""
    first, last = cached + 1, cached + n
    if last <= window:
        return n * (first + last) / 2
    if first >= window:
        return float(n * window)
    below = window - first  # terms strictly below the window: values first .. window-1
    return below * (first + window - 1) / 2 + (n - below) * window
