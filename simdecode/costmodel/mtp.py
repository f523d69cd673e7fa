"""The MTP module's own input work, per draft pass (DeepSeek-V3 multi-token prediction).

DeepSeek-V3 (arXiv 2412.19437, section 2.2, eq. 21) feeds MTP module k the previous depth's hidden
state h and the embedding of the next token e, each RMS-normalised, concatenated and projected
back to the model width by M_k (``eh_proj``, 2h -> h) before the module's transformer block; the
block, the shared embedding and the shared LM head are costed like the main model's layers (the
draft deployment is a one-layer copy of the target, costmodel/deployment.draft_deployment).

TensorRT-LLM (tensorrt_llm/_torch/models/modeling_deepseekv3.py, ``DeepseekV3MTP.__init__``)
builds ``enorm`` and ``hnorm`` as RMSNorms and ``eh_proj`` as a ``Linear(2h, h)`` in the model's
torch dtype (bf16, not the FFNs' fp4), row-parallel over the TP group with ``reduce_output=True``:
each rank holds 2h/tp input rows and the outputs are summed by one all-reduce of T x h activations.

Per draft pass of T tokens, on one GPU of the TP group:

- weights: 2 h^2 / tp parameters at the activations' dtype (bf16: 2 bytes each);
- activations: the two norms read and write T x h each (4 T h elements), the concatenation reads
  and writes T x 2h (4 T h), the projection reads its T x 2h/tp share and writes T x h;
- FLOPs: 2 per weight per token (multiply-add);
- kernels: enorm, hnorm, the concatenation and the GEMM (4), plus the all-reduce on the
  communication stream (costmodel/plan.py).

For DeepSeek-V3 (h = 7168): 2 x 7168^2 = 102.8 M parameters = 205.5 MB in bf16 per module,
25.7 MB per GPU at tp 8.

How many tokens each draft pass runs, and the work around the passes
---------------------------------------------------------------------

TensorRT-LLM has two MTP drafters (tech blog 2, "DeepSeek R1 MTP Implementation and Optimization",
sections "MTP Vanilla" and "MTP Eagle"; ``tensorrt_llm/_torch/speculative/mtp.py``, commit
000a01de, ``MTPWorker`` and ``MTPEagleWorker``):

- **vanilla** (k MTP modules, one per draft token, each with its own KV cache; the configuration
  of tech blog 1's DeepSeek-R1 numbers, "3x MTP layers"): in the generation phase every module's
  forward takes the last k tokens of each sequence ("all of those MTP modules have the same input
  sequence length", K), so each of the k passes runs k tokens per sequence;
- **eagle** (one module chained k times, the default for DeepSeek-V3/R1 in later releases): the
  first pass takes all k + 1 verified positions of each sequence (a captured CUDA graph holds
  the fixed shape), each later pass the one token the previous pass proposed.

Both surround the passes with small tensor kernels that standard decoding does not launch,
counted from the source above (a generation-only batch, strict greedy acceptance, the
PyTorch path: ``is_thop = False``). Per draft pass, besides the module's layer, embedding,
projection and the LM head with its argmax (costed like the main model's):

- vanilla, 12: the head's last-token index (cumsum, subtract, gather: 3), the logits' ``float()``
  and the draft token's ``int32`` casts (2), shifting the input ids (clone, copy, index_put: 3)
  and the hidden states (clone, copy, gather, index_put: 4);
- eagle, 7: gathering the proposing position's hidden state (1), the head's norm (1), the
  ``int32`` cast (1), gathering the next pass's hidden state and position (2), the position's +1
  (1) and the KV length's +1 (1).

Once per verify step, before the first pass (acceptance and the drafter's inputs):

- vanilla, 44: two buffers filled (2); the target's argmax, the copy into the accepted tokens,
  compare, cast, cumprod, sum and add (7); ``update_mtp_hidden_states`` (two pool gathers, two
  concatenations, an index add, two advanced-index gathers, two copies, two ``index_copy_``: 11);
  ``prepare_drafter_inputs`` (last-token index 2, accepted-token index 2, a pool gather and its
  concatenation 2, the hidden-state pool gather 1, two concatenations 2, the positions' offset,
  subtraction, copy and concatenation 5: 14); ``change_attn_metadata`` (3); the loop's last-token
  index (2); ``restore_attn_metadata`` (1); stacking the drafts and building the next inputs (4);
- eagle, 26: the same acceptance (9); saving the sequence lengths (1); the last-token index (2);
  the inputs' concatenation (1); the first pass's gather indices (multiply, cast, two adds,
  concatenation: 5), its sequence-length fill (1) and KV-length update (2); restoring the
  lengths (1); stacking the drafts and building the next inputs (4).

Each is one kernel of the runtime's per-kernel cost (``kernel_launch``); they move a few
kilobytes, so no bytes are charged. DeepSeek-R1 on 8x B200 (TensorRT-LLM, 4 us a kernel), k = 3,
vanilla: (44 + 3 x 12) x 4 us = 320 us per verify step.
"""

from __future__ import annotations

from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.efficiency import Part

#: enorm, hnorm, torch.cat and the eh_proj GEMM (TensorRT-LLM DeepseekV3MTP.forward)
KERNELS = 4
#: TensorRT-LLM's two MTP drafters (see the module docstring)
MODES = ("eagle", "vanilla")
#: kernels per draft pass around the module's forward and the LM head (module docstring)
PASS_KERNELS = {"vanilla": 12, "eagle": 7}
#: kernels once per verify step: acceptance and the drafter's inputs (module docstring)
STEP_KERNELS = {"vanilla": 44, "eagle": 26}


def pass_tokens(mode: str, k: int) -> tuple[int, ...]:
    """Tokens each sequence runs through the MTP module in each of the k draft passes:
    vanilla (k, k, ..., k); eagle (k + 1, 1, ..., 1)."""
    if mode not in MODES:
        raise ValueError(f"MTP mode {mode!r}: expected one of {MODES}")
    if k < 1:
        raise ValueError(f"k = {k}: at least one draft token")
    return (k,) * k if mode == "vanilla" else (k + 1,) + (1,) * (k - 1)


def glue_kernels(mode: str, k: int) -> tuple[int, ...]:
    """Kernels around each of the k draft passes, the verify step's once-per-step work charged
    to the first: vanilla k = 3 -> (56, 12, 12)."""
    pass_tokens(mode, k)  # validates
    return tuple(PASS_KERNELS[mode] + (STEP_KERNELS[mode] if i == 0 else 0) for i in range(k))


def projection_params_per_gpu(dep: Deployment) -> float:
    """Parameters of ``eh_proj`` (2h x h) on one GPU of the TP group (row-parallel)."""
    h = dep.model.hidden_size
    return 2.0 * h * h / dep.tp


def projection_bytes(dep: Deployment, new_tokens: float) -> float:
    """HBM bytes one GPU moves for the norms, concatenation and ``eh_proj`` of ``new_tokens``."""
    h, act = dep.model.hidden_size, dep.act_bytes_per_value
    weights = projection_params_per_gpu(dep) * act          # bf16 weights (the activations' dtype)
    norms_and_concat = 8.0 * new_tokens * h * act           # 4 T h through the norms, 4 T h through the concat
    gemm_io = new_tokens * (2.0 * h / dep.tp + h) * act      # its input share and its partial output
    return weights + norms_and_concat + gemm_io


def projection_parts(dep: Deployment, shape: BatchShape) -> list[Part]:
    """The MTP module's input projection for one draft pass of ``shape``, as one :class:`Part`
    whose math runs at the activations' dtype (``module=None``: no weight dequantisation)."""
    params = projection_params_per_gpu(dep)
    t = shape.new_tokens
    return [dep.part("mtp", params, projection_bytes(dep, t), 2.0 * params * t, KERNELS, None)]


def glue_parts(dep: Deployment) -> list[Part]:
    """The small tensor kernels around one draft pass (``dep.mtp_glue_kernels`` of them, module
    docstring): launch cost only, no bytes or FLOPs worth charging."""
    return [dep.part("mtp_glue", 0.0, 0.0, 0.0, dep.mtp_glue_kernels, None)]
