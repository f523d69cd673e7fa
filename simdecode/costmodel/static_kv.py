"""Attention over a pre-allocated (static) KV cache: every step reads every allocated position.

gpt-fast's model code (pytorch-labs/gpt-fast ``model.py``; the same code in SafeAILab/EAGLE's
``eaglefast`` branch, ``model/llama_fast.py``) allocates each layer's cache once as
``(batch, heads, max_seq_length, head_dim)`` (``KVCache``, ``setup_caches``), writes the new
token at ``input_pos`` and calls ``F.scaled_dot_product_attention(q, k_cache, v_cache,
attn_mask=causal_mask[input_pos])``: the attention multiplies the query with all
``max_seq_length`` keys and values and masks the ones not yet written. So a decode step reads
``max_seq_length`` positions per sequence whatever its context, and scores as many (query, key)
pairs; only the new token's K and V are written. gpt-fast's ``generate.py`` allocates prompt +
``max_new_tokens`` (about the request's final context); EAGLE's MT-bench harness allocates 2,000
(``ea_model.naivegenerate(max_length=2000)``). The cost of the unused positions is measured where a
gpt-fast-derived model sized its cache to the model's maximum: fish-speech PR #1327 ("Every decode
step attends over the whole allocated cache"), 0.84 tok/s at 32,768 positions against 4.23 at 1,024.

``runtime.static_kv_cache_tokens`` (S) sets it; unset, attention reads the context (paged caches,
FlashAttention's ``cache_seqlens``). Full-attention layers only (gpt-fast's Llama models have no
other kind).
"""

from __future__ import annotations


def read_tokens_and_pairs(static_tokens: int | None, seqs: float, new_tokens: float,
                          kv_read_tokens: float, attn_pairs: float) -> tuple[float, float]:
    """(cached tokens read, (query, key) pairs scored) of one step's full-attention layers.

    With a static cache of S positions, every sequence reads S positions and every new token scores
    S keys (at least what the context alone gives); without one, the context's own figures.

    Llama-2-7B decode at batch 1, context 300, S = 2,000: 2,000 positions read, 2,000 pairs (not 300).

    >>> read_tokens_and_pairs(2000, 1, 1, 300, 301)
    (2000, 2000)
    >>> read_tokens_and_pairs(None, 1, 1, 300, 301)
    (300, 301)
    """
    if not static_tokens:
        return kv_read_tokens, attn_pairs
    return max(kv_read_tokens, seqs * static_tokens), max(attn_pairs, new_tokens * static_tokens)
