"""Attention data parallelism: each GPU of a TP group attends for its own requests; the experts stay shared.

``parallelism.attention_dp`` (TensorRT-LLM ``enable_attention_dp``, SGLang ``--enable-dp-attention``)
changes who does what in a TP group of N = tp GPUs of a mixture-of-experts model:

- **attention, dense MLPs, shared experts, embedding and LM head** run with tensor-parallel degree 1:
  every GPU holds all their weights (replicated) and runs them for its own requests only. TensorRT-LLM
  ``_torch/models/modeling_deepseekv3.py``: ``disable_attn_allreduce`` when ``enable_attention_dp``,
  ``_compute_mlp_tp_size`` and ``_compute_shared_expert_tp_size`` return 1 ("If using attention DP,
  the MLP also uses DP instead of TP"); the LM head is not gathered (``DeepseekV3MTPHead``).
- **KV cache**: a request lives on one GPU, which holds its whole cache (all KV heads, or MLA's whole
  latent). A GPU's KV budget is unchanged, so the replica holds N times what one GPU holds. Under TP
  an MLA latent is replicated on every rank (one request costs N copies); under attention DP it is
  stored once.
- **routed experts** stay split over the N GPUs (``ep`` ways, each expert over tp / ep of them). Before
  each MoE block the GPUs all-gather every rank's tokens (hidden states, top-k ids and weights); each
  runs its experts on all the step's tokens; a reduce-scatter sums the experts' outputs and returns
  each rank its own rows (TensorRT-LLM ``fused_moe_cutlass.py``: ``allgather`` of
  ``[x, x_sf, token_selected_experts, token_final_scales]`` before ``torch.ops.trtllm.fused_moe``, then
  ``reducescatter_or_allreduce``: ``reducescatter`` when ``use_dp``). These replace the TP all-reduces:
  there is no all-reduce after attention or a dense MLP.
- **the step is set by the slowest rank**: all ranks meet at every MoE block, so each step lasts as
  long as the busiest rank's attention. The scheduler spreads the step's sequences over the ranks
  (:func:`busiest_rank`: longest-processing-time first, each sequence to the least-loaded rank, as
  TensorRT-LLM's attention-DP balancing ``attention_dp_config.enable_balance`` aims at); a rank with a
  prefill chunk does that chunk's attention alone while the others wait.
- **per-rank limits**: each rank runs its own scheduler with the engine's ``max_batch_size`` and
  ``max_num_tokens`` (TensorRT-LLM's executor per rank; SGLang's per-DP-rank scheduler), so the
  replica admits N times each (:func:`replica_limit`).

Communication per MoE block, T = the step's tokens over all ranks, h = hidden size, k = top-k,
a = activation bytes (bf16: 2):

    all-gather:      every rank ends with T x (h a + k (4 + 4)) bytes (hidden state, int32 expert ids,
                     fp32 routing weights); NCCL ring: (N - 1) hops, (N - 1)/N of it over the link
    reduce-scatter:  every rank starts with T x h a bytes of partial sums and ends with its T/N rows:
                     NCCL ring, (N - 1) hops, (N - 1)/N x T h a bytes over the link
                     (Patarasuk & Yuan 2009; the same alpha-beta model as the all-gather)

Example (tests/costmodel/test_attention_dp.py): DeepSeek-V3 (h 7168, k 8), 64 decoding sequences on
8 ranks: T = 64; all-gather output 64 x (7168 x 2 + 64) = 921,600 B per rank; reduce-scatter input
64 x 14,336 = 917,504 B.

What is not modelled: requests pinned to a rank for their whole life (the scheduler here pools the N
ranks' KV blocks and rebalances sequences every step, an optimistic balance); a request longer than
one rank's cache is admitted if the pooled cache holds it; attention DP with pipeline stages,
speculative decoding, or a TP group over several nodes (the scenario checks refuse them).
"""

from __future__ import annotations

import heapq
from typing import Iterable

from simdecode.costmodel import collectives
from simdecode.costmodel.batch import BatchShape, Caps

#: bytes per token of routing data gathered with each hidden state: an int32 expert id and an fp32
#: weight per chosen expert (``token_selected_experts``, ``token_final_scales``)
ROUTING_BYTES_PER_CHOICE = 4 + 4


def ranks(dep) -> int:
    """Attention ranks of one replica: tp under attention DP, else 1 (the TP group attends as one)."""
    return dep.tp if getattr(dep, "attention_dp", False) else 1


def replica_limit(per_rank: int, n_ranks: int) -> int:
    """A per-rank scheduler limit (sequences or tokens per step) as the replica's: n_ranks of them."""
    return per_rank * n_ranks


def busiest_rank(parts: Iterable[tuple[int, int, bool | int]], n_ranks: int,
                 window: int | Caps | None = None) -> BatchShape:
    """The batch shape of the rank whose attention sets the step, when the step's sequences are
    spread over ``n_ranks`` ranks.

    ``parts``: (cached tokens, new tokens, needs logits) per sequence, as :meth:`BatchShape.mixed`.
    Sequences are placed longest first (by new tokens, then cached tokens), each on the rank with the
    fewest (new tokens, cached tokens) so far; the busiest rank is the one with the most new tokens,
    ties to the most cached tokens, then to the most sequences (each sequence is work of its own:
    two one-token prefills take longer than one two-token prefill). Decodes only: ranks hold
    ceil(S / N) or floor(S / N) sequences.
    """
    items = sorted(parts, key=lambda p: (p[1], p[0]), reverse=True)
    if n_ranks <= 1 or not items:
        return BatchShape.mixed(items, window)
    heap = [(0, 0, r) for r in range(n_ranks)]
    held: list[list[tuple[int, int, bool | int]]] = [[] for _ in range(n_ranks)]
    for part in items:
        new, cached, r = heapq.heappop(heap)
        held[r].append(part)
        heapq.heappush(heap, (new + part[1], cached + part[0], r))
    load = {r: (new, cached) for new, cached, r in heap}
    top = max(range(n_ranks), key=lambda r: (load[r], len(held[r]), -r))
    return BatchShape.mixed(held[top], window)


def even_rank(shape: BatchShape, n_ranks: int) -> BatchShape:
    """The busiest rank's share of ``shape`` when its sequences are alike: ceil(S / N) of its S
    sequences, every sum scaled by that share (used where a step's sequences are not known one by
    one: explain, estimate, the roofline)."""
    if n_ranks <= 1 or shape.seqs <= 0:
        return shape
    share = -(-int(round(shape.seqs)) // n_ranks) / shape.seqs
    return BatchShape(shape.seqs * share, shape.new_tokens * share, shape.logit_tokens * share,
                      shape.kv_read_tokens * share, shape.attn_pairs * share, shape.window_kv_read_tokens * share,
                      shape.window_attn_pairs * share, shape.prefill_attn_pairs * share,
                      shape.prefill_cached_tokens * share, shape.sparse_kv_read_tokens * share,
                      shape.sparse_attn_pairs * share)


def rank_shape(dep, shape: BatchShape) -> BatchShape:
    """The shape one rank's attention-side modules run: ``shape.rank`` when the engine set it, else
    :func:`even_rank`; ``shape`` itself without attention DP."""
    n = ranks(dep)
    if n <= 1:
        return shape
    return shape.rank if shape.rank is not None else even_rank(shape, n)


def gather_bytes(dep, tokens: float) -> float:
    """Bytes every rank holds after the all-gather before a MoE block (module docstring)."""
    m = dep.model
    k = dep.counts.experts_per_token
    return tokens * (m.hidden_size * dep.act_bytes_per_value + k * ROUTING_BYTES_PER_CHOICE)


def scatter_bytes(dep, tokens: float) -> float:
    """Bytes of partial sums every rank starts the reduce-scatter after a MoE block with."""
    return tokens * dep.model.hidden_size * dep.act_bytes_per_value


def moe_gather(dep, tokens: float) -> collectives.CollectiveCost:
    """The all-gather of a step's ``tokens`` before one MoE block (NCCL ring, :func:`collectives.all_gather`)."""
    return collectives.all_gather(gather_bytes(dep, tokens), dep.tp, dep.link, dep.runtime, dep.pcie)


def moe_scatter(dep, tokens: float) -> collectives.CollectiveCost:
    """The reduce-scatter of a step's ``tokens`` after one MoE block (:func:`collectives.reduce_scatter`)."""
    return collectives.reduce_scatter(scatter_bytes(dep, tokens), dep.tp, dep.link, dep.runtime, dep.pcie)
