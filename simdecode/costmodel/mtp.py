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
"""

from __future__ import annotations

from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.efficiency import Part

#: enorm, hnorm, torch.cat and the eh_proj GEMM (TensorRT-LLM DeepseekV3MTP.forward)
KERNELS = 4


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
