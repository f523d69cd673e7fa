"""GPU memory: the budget, what a deployment needs of it, and the KV cache it leaves.

The one home of these numbers (the feasibility check, the KV cache's capacity and the tp degrees
TP scaling may try all read them here). Per GPU, in bytes:

    budget    = memory_utilization x (device memory - what the OS keeps of a unified memory)
    needed    = weights of the GPU's stage + KV of the tokens + one sequence's recurrent state
                + workspace
    KV tokens = (budget - weights - workspace - max_batch_size states) / KV bytes per token,
                the tightest stage deciding

The workspace is the device's (1 GiB on a GPU, none on an SRAM chip: costmodel/devices.py);
linear-attention and Mamba layers keep a fixed state per running sequence, set aside for
``max_batch_size`` sequences as SGLang sizes its state pool and vLLM its per-request slots.

All GPUs of a replica hold the same token positions (TP shards heads, PP shards layers), so the
KV cache is counted in tokens per replica, handed out in blocks of ``block_tokens``.
"""

from __future__ import annotations

from dataclasses import dataclass

from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.devices import GPU_WORKSPACE_BYTES

#: activation workspace kept free on every GPU (CUDA context, activations, NCCL buffers), bytes;
#: vLLM profiles ~1-2 GiB for a 7-70B model; 1 GiB is a conservative floor.
ACTIVATION_WORKSPACE_BYTES = GPU_WORKSPACE_BYTES
#: tokens a stage whose layers cache nothing (all linear attention or Mamba) is taken to hold
UNBOUNDED_TOKENS = 10**12


def budget_bytes(memory_bytes: float, utilization: float, reserved_bytes: float = 0.0) -> float:
    """Bytes of one GPU's ``memory_bytes`` simdecode may fill: weights, KV cache and workspace
    (``reserved_bytes``: what the OS keeps of a unified memory)."""
    return utilization * max(0.0, memory_bytes - reserved_bytes)


def device_budget(gpu, utilization: float) -> float:
    """:func:`budget_bytes` of a :class:`~simdecode.scenario.hardware.GpuSpec`."""
    return budget_bytes(gpu.memory_bytes, utilization, gpu.os_reserved_bytes)


def kv_capacity_blocks(dep: Deployment, budget: float, block_tokens: int, states: int = 0) -> int:
    """Blocks of ``block_tokens`` the replica's KV cache holds (the tightest stage decides),
    after the weights, the workspace and ``states`` sequences' recurrent state; 0 when they leave
    no room."""
    tokens = min(_tokens(budget - dep.weight_bytes_per_gpu(s) - dep.workspace_bytes
                         - states * dep.state_bytes_per_sequence_per_gpu(s), dep.kv_bytes_per_token_per_gpu(s))
                 for s in range(dep.pp))
    return max(0, int(tokens) // block_tokens)


def _tokens(free_bytes: float, per_token_bytes: float) -> float:
    if per_token_bytes <= 0:
        return UNBOUNDED_TOKENS if free_bytes >= 0 else 0
    return min(UNBOUNDED_TOKENS, free_bytes / per_token_bytes)


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
    largest stage's weights, its KV in whole blocks (the cache is handed out in blocks) plus its
    recurrent state, and the workspace."""
    in_blocks = -(-tokens // block_tokens) * block_tokens
    kv = max(dep.kv_bytes_per_token_per_gpu(s) * in_blocks + dep.state_bytes_per_sequence_per_gpu(s)
             for s in range(dep.pp))
    return MemoryNeed(dep.max_weight_bytes_per_gpu(), kv, dep.workspace_bytes, budget, tokens)
