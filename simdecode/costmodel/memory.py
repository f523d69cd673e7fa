"""GPU memory: the budget, what a deployment needs of it, and the KV cache it leaves.

The one home of these numbers (the feasibility check, the KV cache's capacity and the tp degrees
TP scaling may try all read them here). Per GPU, in bytes:

    budget    = memory_utilization x device memory             (vLLM's gpu_memory_utilization)
    needed    = weights of the GPU's stage + KV of the tokens + workspace
    KV tokens = (budget - weights - workspace) / KV bytes per token, the tightest stage deciding

All GPUs of a replica hold the same token positions (TP shards heads, PP shards layers), so the
KV cache is counted in tokens per replica, handed out in blocks of ``block_tokens``.
"""

from __future__ import annotations

from dataclasses import dataclass

from simdecode.costmodel.deployment import Deployment

#: activation workspace kept free on every GPU (CUDA context, activations, NCCL buffers), bytes;
#: vLLM profiles ~1-2 GiB for a 7-70B model; 1 GiB is a conservative floor.
ACTIVATION_WORKSPACE_BYTES = 2**30


def budget_bytes(memory_bytes: float, utilization: float) -> float:
    """Bytes of one GPU's ``memory_bytes`` simdecode may fill: weights, KV cache and workspace."""
    return utilization * memory_bytes


def kv_capacity_blocks(dep: Deployment, budget: float, block_tokens: int) -> int:
    """Blocks of ``block_tokens`` the replica's KV cache holds (the tightest stage decides);
    0 when the weights and workspace leave no room."""
    tokens = min(
        (budget - dep.weight_bytes_per_gpu(s) - ACTIVATION_WORKSPACE_BYTES) / dep.kv_bytes_per_token_per_gpu(s)
        for s in range(dep.pp)
    )
    return max(0, int(tokens) // block_tokens)


@dataclass(frozen=True)
class MemoryNeed:
    """What the fullest GPU of a replica needs to serve one request of ``tokens`` tokens, bytes."""

    weights: float
    kv: float
    workspace: float
    budget: float
    tokens: int

    @property
    def needed(self) -> float:
        return self.weights + self.kv + self.workspace

    @property
    def fits(self) -> bool:
        return self.needed <= self.budget


def need_for_request(dep: Deployment, budget: float, tokens: int, block_tokens: int) -> MemoryNeed:
    """Memory one request of ``tokens`` tokens (prompt + output) needs on the fullest GPU: the
    largest stage's weights, its KV in whole blocks (the cache is handed out in blocks), and the
    workspace."""
    in_blocks = -(-tokens // block_tokens) * block_tokens
    kv = max(dep.kv_bytes_per_token_per_gpu(s) for s in range(dep.pp)) * in_blocks
    return MemoryNeed(dep.max_weight_bytes_per_gpu(), kv, ACTIVATION_WORKSPACE_BYTES, budget, tokens)
