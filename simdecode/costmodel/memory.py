"""GPU memory as a serving engine divides it: weights, activation workspace, KV cache.

The one home of these numbers: the feasibility check (:mod:`simdecode.costmodel.feasibility`),
the KV cache's capacity (:func:`kv_capacity_blocks`) and the tp degrees TP scaling may try all
read them here. Per GPU, in bytes.

An engine measures the GPU's total memory (the driver's figure, :mod:`simdecode.presets` gpus),
loads the weights, runs one forward pass of the largest step it will schedule to find its peak
activation memory, and gives the KV cache what is left of its budget (vLLM
``gpu_worker.determine_available_memory``; TensorRT-LLM's ``KvCacheConfig``; SGLang's
``mem_fraction_static``). So the KV cache shrinks when the token budget per step grows.

Workspace per GPU (bytes), for a step of at most T tokens and S sequences:

    fixed       1 GiB: CUDA context (~0.5 GiB on Hopper), NCCL buffers and the CUDA-graph pool
    activations T x a x (2 h + 3 I / tp): residual and normalised input (2 h), the gated MLP's
                up/gate output (2 I / tp) and its product (I / tp) alive together at the MLP,
                the widest point of a layer; a = bytes per activation element, h = hidden size,
                I = the MLP width (for an MoE layer top-k x the expert width)
    logits      S x V x 4 B x 2: fp32 logits and probabilities of the last token of each of S
                sequences (vLLM profiles its sampler with max_num_seqs dummy requests)

Example (hand-computed in tests/costmodel/test_memory.py): Llama-3.1-70B (h 8192, I 28672,
V 128256), bf16 activations, tp 2, T 8192, S 1024: 1 GiB + 8192 x 2 x (16384 + 43008) B
(0.973 GB) + 1024 x 128256 x 8 B (1.051 GB) = 3.10 GB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from simdecode.scenario.engines import engine_of

if TYPE_CHECKING:
    from simdecode.costmodel.deployment import Deployment

#: CUDA context, NCCL buffers and the CUDA-graph memory pool per GPU, bytes (vLLM logs a
#: "non_torch_memory" of 0.2-1 GiB and CUDA graphs of ~0.5 GiB for 7-70B models)
FIXED_WORKSPACE_BYTES = 2**30
LOGIT_BYTES = 4 * 2  # fp32 logits + probabilities per vocabulary entry


def activation_workspace_bytes(dep: Deployment, max_batched_tokens: int, max_batch_size: int) -> float:
    """Bytes one GPU keeps free for a step of ``max_batched_tokens`` tokens and
    ``max_batch_size`` sequences (see the module docstring); a device's own ``workspace`` (none
    on SRAM and hard-wired chips, costmodel/devices.py) replaces it."""
    if dep.workspace_bytes is not None:
        return dep.workspace_bytes
    m = dep.model
    width = m.expert_intermediate_size * m.num_experts_per_tok if m.is_moe else m.intermediate_size
    per_token = dep.act_bytes_per_value * (2 * m.hidden_size + 3 * width / dep.tp)
    logits = max_batch_size * m.vocab_size * LOGIT_BYTES
    return FIXED_WORKSPACE_BYTES + max_batched_tokens * per_token + logits


def kv_budget_bytes(scenario, dep: Deployment, stage: int = 0) -> float:
    """Bytes the KV cache gets on one GPU of ``stage`` (may be negative: it does not fit).

    - ``memory_of`` total (vLLM): memory_utilization x total - weights - workspace;
    - free (TensorRT-LLM): memory_utilization x (total - weights - workspace);
    - static (SGLang): memory_utilization x total - weights (the engine keeps its activations in
      the rest).
    """
    sched, gpu = scenario.scheduler, scenario.hardware.gpu
    total = total_bytes(gpu)
    weights = dep.weight_bytes_per_gpu(stage)
    workspace = activation_workspace_bytes(dep, sched.max_batched_tokens, sched.max_batch_size)
    # linear-attention and Mamba states of max_batch_size running sequences, set aside first (as
    # SGLang sizes its state pool by running requests and vLLM gives each its state slot)
    states = sched.max_batch_size * dep.state_bytes_per_sequence_per_gpu(stage)
    of = engine_of(scenario).memory_of
    if of == "free":
        return sched.memory_utilization * (total - weights - workspace) - states
    if of == "static":
        return sched.memory_utilization * total - weights - states
    return sched.memory_utilization * total - weights - workspace - states


def total_bytes(gpu) -> float:
    """The device memory an engine may divide: all of it, less what the OS keeps of a unified
    memory (``os_reserved``: Apple's default GPU wired limit, costmodel/devices.py)."""
    return max(0.0, gpu.memory_bytes - gpu.os_reserved_bytes)


def memory_split(scenario, dep: Deployment, stage: int = 0) -> dict[str, float]:
    """Bytes per GPU of ``stage``: total, weights, workspace (activations), KV budget."""
    sched = scenario.scheduler
    return {"total": total_bytes(scenario.hardware.gpu), "weights": dep.weight_bytes_per_gpu(stage),
            "workspace": activation_workspace_bytes(dep, sched.max_batched_tokens, sched.max_batch_size),
            "kv": kv_budget_bytes(scenario, dep, stage)}


def kv_capacity_blocks(scenario, dep: Deployment) -> int:
    """Blocks of ``kv_block_tokens`` the replica's KV cache holds: the engine's KV budget per GPU
    over the KV bytes one token takes there, the tightest stage deciding; 0 when nothing is left.
    Under attention data parallelism each of the tp GPUs holds its own requests' tokens: the
    replica holds tp times one GPU's blocks (costmodel/attention_dp.py)."""
    from simdecode.costmodel.attention_dp import ranks

    tokens = min(_tokens(kv_budget_bytes(scenario, dep, s), dep.kv_bytes_per_token_per_gpu(s)) for s in range(dep.pp))
    return ranks(dep) * max(0, int(tokens) // scenario.scheduler.kv_block_tokens)


#: tokens a stage whose layers cache nothing (all linear attention or Mamba) is taken to hold
UNBOUNDED_TOKENS = 10**12


def _tokens(budget: float, per_token_bytes: float) -> float:
    if per_token_bytes <= 0:
        return UNBOUNDED_TOKENS if budget >= 0 else 0
    return min(UNBOUNDED_TOKENS, budget / per_token_bytes)


def weights_fit(scenario, dep: Deployment) -> bool:
    """The weights and the workspace leave some KV budget on every stage."""
    return all(kv_budget_bytes(scenario, dep, s) > 0 for s in range(dep.pp))


@dataclass(frozen=True)
class MemoryNeed:
    """One GPU of the tightest stage against one request of ``tokens`` tokens, bytes: what the GPU
    has (``total``), its weights, the engine's activation workspace, the KV budget the engine
    leaves (``kv_budget``) and the KV the request needs in whole blocks (``kv``)."""

    total: float
    weights: float
    workspace: float
    kv_budget: float
    kv: float
    tokens: int

    @property
    def fits(self) -> bool:
        return self.kv <= self.kv_budget


def need_for_request(scenario, dep: Deployment, tokens: int) -> MemoryNeed:
    """Memory one request of ``tokens`` tokens (prompt + output) needs on the tightest stage."""
    block = scenario.scheduler.kv_block_tokens
    in_blocks = -(-tokens // block) * block  # the cache is handed out in whole blocks
    needs = []
    for s in range(dep.pp):
        split = memory_split(scenario, dep, s)
        needs.append(MemoryNeed(split["total"], split["weights"], split["workspace"], split["kv"],
                                dep.kv_bytes_per_token_per_gpu(s) * in_blocks, tokens))
    return min(needs, key=lambda n: n.kv_budget - n.kv)
