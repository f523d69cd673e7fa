"""Batch shapes: token, KV-read and attention-pair sums of one step (simdecode/costmodel/batch.py).

Causal attention: new token j (0-based) of a chunk after c cached tokens scores c + j + 1 keys
(itself included), so a chunk of n scores n c + n (n + 1) / 2 (query, key) pairs. A sliding window
of W caps every term at W (GPT-OSS alternates sliding and full layers; models.yaml).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel.batch import BatchShape, _capped_pairs


def test_mixed_chunk_pairs_by_hand() -> None:
    # a prefill chunk of n = 4 after c = 10 cached tokens: keys seen 11, 12, 13, 14 = 50
    # = n c + n (n + 1) / 2 = 40 + 10
    shape = BatchShape.mixed([(10, 4, False)])
    assert shape.attn_pairs == 11 + 12 + 13 + 14 == 4 * 10 + 4 * 5 / 2 == 50
    assert (shape.seqs, shape.new_tokens, shape.logit_tokens, shape.kv_read_tokens) == (1, 4, 0, 10)


def test_decode_batch_by_hand() -> None:
    # three decoding sequences with 100, 0 and 7 cached tokens: one new token each, each sees
    # its cache plus itself: 101 + 1 + 8 = 110 pairs; KV read 107 tokens; all need logits
    shape = BatchShape.decode([100, 0, 7])
    assert (shape.seqs, shape.new_tokens, shape.logit_tokens) == (3, 3, 3)
    assert shape.kv_read_tokens == 107
    assert shape.attn_pairs == 110
    # without a window the "window" sums equal the full-attention ones
    assert (shape.window_kv_read_tokens, shape.window_attn_pairs) == (107, 110)


def test_mixed_step_sums_parts() -> None:
    # a decode (c=50) plus a finishing prefill chunk (c=0, n=3): pairs 51 + (1+2+3) = 57
    shape = BatchShape.mixed([(50, 1, True), (0, 3, True)])
    assert (shape.seqs, shape.new_tokens, shape.logit_tokens) == (2, 4, 2)
    assert shape.kv_read_tokens == 50
    assert shape.attn_pairs == 57


def test_sliding_window_caps_by_hand() -> None:
    # window W = 4, chunk n = 5 after c = 1: keys 2, 3, 4, 5->4, 6->4 = 2 + 3 + 4 + 4 + 4 = 17
    shape = BatchShape.mixed([(1, 5, True)], window=4)
    assert shape.window_attn_pairs == 17
    assert shape.attn_pairs == 2 + 3 + 4 + 5 + 6 == 20
    assert shape.window_kv_read_tokens == 1           # min(c, W)
    # decode with 1000 cached under W = 128: 128 pairs, 128 cached tokens read
    long = BatchShape.decode([1000], window=128)
    assert (long.window_attn_pairs, long.window_kv_read_tokens) == (128, 128)
    assert (long.attn_pairs, long.kv_read_tokens) == (1001, 1000)


def brute_force_pairs(cached: int, n: int, window: int | None) -> int:
    return sum(cached + j + 1 if window is None else min(cached + j + 1, window) for j in range(n))


@given(cached=st.integers(0, 5000), n=st.integers(1, 600), window=st.integers(1, 6000))
def test_capped_pairs_match_brute_force(cached: int, n: int, window: int) -> None:
    assert _capped_pairs(cached, n, window) == brute_force_pairs(cached, n, window)


@given(
    parts=st.lists(st.tuples(st.integers(0, 3000), st.integers(1, 300), st.booleans()), min_size=1, max_size=8),
    window=st.one_of(st.none(), st.integers(1, 4000)),
)
def test_batch_shape_sums_match_brute_force(parts: list[tuple[int, int, bool]], window: int | None) -> None:
    shape = BatchShape.mixed(parts, window)
    assert shape.seqs == len(parts)
    assert shape.new_tokens == sum(n for _, n, _ in parts)
    assert shape.logit_tokens == sum(1 for *_, logits in parts if logits)
    assert shape.kv_read_tokens == sum(c for c, _, _ in parts)
    assert shape.attn_pairs == sum(brute_force_pairs(c, n, None) for c, n, _ in parts)
    assert shape.window_attn_pairs == sum(brute_force_pairs(c, n, window) for c, n, _ in parts)
    w = window if window is not None else 10**12
    assert shape.window_kv_read_tokens == sum(min(c, w) for c, _, _ in parts)
    # a window never adds work
    assert shape.window_attn_pairs <= shape.attn_pairs
    assert shape.window_kv_read_tokens <= shape.kv_read_tokens
