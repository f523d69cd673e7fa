"""A mixture-of-experts block as the engines run it: router, permute, grouped GEMM, unpermute, shared experts.

The kernels of one MoE block at decode (vLLM/SGLang ``fused_moe``; TensorRT-LLM's CUTLASS/TRTLLM MoE
backends, blog "Pushing Latency Boundaries ... DeepSeek-R1 on B200", modules 10-13):

1. **routing**: the router GEMM (h x E, kept in bf16 in every quantised checkpoint: DeepSeek's ``gate``,
   gpt-oss's ``router``, TRT-LLM's RouterGEMM "bf16 inputs/weights") and a top-k/softmax kernel.
   2 kernels; bytes h E (weights) + the logits; FLOPs 2 h E per token.
2. **permute / unpermute**: gather each token's hidden vector into its k experts' rows (vLLM
   ``moe_align_block_size`` + the sorted-index gather; TRT-LLM ``expandInputRows``) and, after the
   experts, the weighted sum of its k outputs back into one row (``moe_sum`` / ``finalizeMoeRouting``).
   2 kernels; each reads and writes T k h activations: 4 T k h act_bytes_per_value in all; FLOPs 2 T k h.
3. **experts**: the grouped GEMMs (FC1 = gate+up, activation, FC2) over the union of experts the step's
   tokens chose (architecture.expected_distinct_experts), each expert's weights read once; its math
   runs at rows / padded_rows of the tensor-core rate, the share of the tile its tokens fill
   (efficiency.padded_rows), and on Hopper in fp8 at no more than the share DeepGEMM's grouped GEMM
   reaches at that many rows per expert (costmodel/grouped_gemm_rate.py). Same kernel count as a dense
   MLP (the runtime's kernels_per_layer / 2).
4. **shared experts** (DeepSeek): an ordinary dense MLP every token passes through, 3 kernels each
   (gate+up GEMM, activation, down GEMM), in the ``mlp`` precision.

So an MoE layer launches 4 + 3 n_shared kernels more than a dense one: the launch count follows the
architecture, not one number per runtime.

Under attention data parallelism (costmodel/attention_dp.py) a rank routes its own tokens and runs
the shared experts for them with their whole weights (tp 1); the permute and the routed experts run
over every rank's tokens, gathered before the block (TensorRT-LLM ``Deepseekv3MoE``: the gate on the
rank's ``hidden_states``, then the fused MoE's ``allgather``; ``shared_tp_size = 1`` under ``use_dp``).
"""

from __future__ import annotations

from dataclasses import replace

from simdecode.costmodel import architecture as arch
from simdecode.costmodel import fp4_gemm, gemm_stream, grouped_gemm_rate, marlin_moe
from simdecode.costmodel import precision as precision_mod
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.efficiency import Part, padded_rows

#: router GEMM + top-k/softmax
ROUTING_KERNELS = 2
#: permute (align + gather) + unpermute (weighted sum)
PERMUTE_KERNELS = 2
#: GEMMs of the experts (FC1 = gate+up, FC2 = down), each quantising its input under block-scaled fp8
GROUPED_GEMMS = 2
#: one shared expert run as a dense MLP: gate+up GEMM, activation, down GEMM
SHARED_EXPERT_KERNELS = 3


def expert_union(dep, shape: BatchShape) -> float:
    """Routed experts whose weights one GPU reads this step (the busiest GPU under expert parallelism),
    in units of whole experts split tp ways (see modules.py)."""
    c, m = dep.counts, dep.model
    draws = arch.effective_routing_tokens(shape.seqs, shape.new_tokens, m.routing_correlation)
    if dep.ep > 1:
        local = arch.expected_max_local_experts(c.num_experts, c.experts_per_token, draws, dep.ep)
        return local * dep.ep  # E/ep whole experts split tp/ep ways: local * ep pieces of size expert / tp
    return arch.expected_distinct_experts(c.num_experts, c.experts_per_token, draws)


def grouped_gemm_efficiency(dep) -> float | None:
    """The share of peak bandwidth the routed experts' grouped GEMMs stream at: the runtime's
    ``grouped_gemm_efficiency`` (measured for its fused-MoE kernel); None (the runtime's
    ``memory_efficiency``) when the runtime states no figure, or for weight-only experts under a
    runtime whose dequantising kernels do not overlap the decode with the stream
    (``dequant_overlap: false``, gpt-fast).

    Weight-only experts under a pipelined kernel (MXFP4 or int4 on a GPU without tensor cores for
    them: vLLM's Marlin MoE) stream at the same share: Marlin loads the next weight tile with
    ``cp.async`` while the SMs decode the current one, and stays memory-bound, near its ideal 4-bit
    speed-up over fp16, up to batch 16-32 (Frantar et al., arXiv 2408.11743). What such a kernel
    adds is its decode, bounded on its own (efficiency.fp4_dequant_seconds, the max of the two).
    InferenceX's gpt-oss-120b tp 2 TPOT on H100 is within 3-6% of H200's (1k8k, concurrency 4 to
    64) although H200 has 43% more bandwidth, which only an SM-bound kernel that streams near the
    H100's roof allows.

    A runtime that states no grouped figure of its own but states the Hopper fp8 GEMM share
    (``gemm_efficiency``, :func:`simdecode.costmodel.gemm_stream.gemm_efficiency`: compute capability
    9.0 only) streams its experts at that share: the share was measured on grouped GEMMs (DeepGEMM's
    on H200, vLLM's fused_moe on H100), and it is the kernel TensorRT-LLM's PyTorch backend runs
    for fp8 block-scaled experts on Hopper. Its CUTLASS MoE backend (``moe_config.backend: CUTLASS``,
    InferenceX's DeepSeek scripts) hands the two expert GEMMs of a DeepSeek fp8 checkpoint to a
    ``DeepSeekBlockScaleGemmRunner`` (``cpp/tensorrt_llm/kernels/cutlass_kernels/moe_gemm/
    moe_kernels.cu``: ``gemm1``/``gemm2`` -> ``BlockScaleFC1``/``BlockScaleFC2``), whose ``moeGemm``
    runs ``fp8_grouped_gemm_run`` (``fp8_blockscale_gemm/fp8_blockscale_gemm_kernel.cuh``): DeepGEMM's
    ``GroupedWithOffset`` kernel, in its swap-AB form below 32 rows per expert on H100/H200
    (``m_per_expert_threshold``), vendored as ``tensorrt_llm/deep_gemm`` (built without it, the same
    file's ``cooperative_1x128_by_128x128_fp8_gemm_kernel``, likewise TMA-fed wgmma). The runtime's
    ``memory_efficiency`` (0.7, chosen for NIM's C++ executor) charged those GEMMs 17% more time than
    the kernel takes (tests/costmodel/test_moe.py).
    """
    share = getattr(dep.runtime, "grouped_gemm_efficiency", None)
    if share is None:  # the Hopper fp8 GEMM share where the runtime states it (docstring)
        return gemm_stream.gemm_efficiency(dep, "experts")
    if dep.gpu is None or dep.precision is None:
        return share
    prec = dep.precision
    if precision_mod.weight_only(dep.gpu, prec.experts, prec.activations) and not dep.runtime.dequant_overlap:
        return None
    return share


def parts(dep, shape: BatchShape, base_kernels: float) -> list[Part]:
    """The parts of one MoE block on one GPU for one step (module docstring).

    ``dep`` is a :class:`~simdecode.costmodel.deployment.Deployment`; ``base_kernels`` the kernels of a
    dense MLP under the runtime (the grouped GEMMs and activation).
    """
    from simdecode.costmodel.attention_dp import rank_shape

    m, c, tp = dep.model, dep.counts, dep.tp
    h, tokens = m.hidden_size, shape.new_tokens
    act = dep.act_bytes_per_value
    local, own = dep.attention_local, rank_shape(dep, shape)  # this deployment and shape without attention DP
    router_params = h * c.num_experts  # replicated on every rank
    out = [dep.part("routing", router_params, router_params * act + own.new_tokens * c.num_experts * 4.0,
                    2 * router_params * own.new_tokens, ROUTING_KERNELS, "activations")]
    moved = 4 * tokens * c.experts_per_token * h * act
    out.append(dep.part("routing", 0.0, moved, 2 * tokens * c.experts_per_token * h, PERMUTE_KERNELS, None))
    union = expert_union(dep, shape)
    per_expert = c.expert / tp
    rows = tokens * c.experts_per_token / union if union > 0 else 0.0  # tokens per active expert
    marlin = marlin_moe.runs_in_marlin(dep)
    if marlin:  # fused_marlin_moe pads each expert's rows to its block_size_m (costmodel/marlin_moe.py)
        held = c.num_experts / dep.ep  # w1.size(0): the experts this GPU holds (all of them, split by tp, when ep 1)
        padded = marlin_moe.padded_rows(rows, marlin_moe.block_rows(tokens, c.experts_per_token, held))
    else:
        padded = padded_rows(rows)
    tile_share = rows / padded if rows > 0 else 1.0  # useful rows of the tensor-core tiles
    kernels = base_kernels + dep.quant_kernels("experts", GROUPED_GEMMS)
    experts = dep.part("experts", per_expert * union, per_expert * union * dep.bytes_of("experts"),
                       2 * per_expert * tokens * c.experts_per_token, kernels, "experts", tile_share, rows)
    rate = experts.flops_per_s
    if rows > 0 and not marlin and grouped_gemm_rate.applies(dep):  # Hopper fp8 grouped GEMM's rate by rows
        rate = grouped_gemm_rate.capped_flops_per_s(rate, experts.peak_flops_per_s, rows, tile_share)
    out.append(replace(experts, memory_efficiency=grouped_gemm_efficiency(dep), flops_per_s=rate))
    if marlin:  # its activation kernel between the two GEMMs (launch already in base_kernels)
        moved = marlin_moe.activation_bytes(tokens, c.experts_per_token, m.expert_intermediate_size / tp, act)
        out.append(dep.part("experts", 0.0, moved, 0.0, 0, None))
    if c.shared_experts:
        shared, n = c.shared_experts * c.expert / local.tp, own.new_tokens
        kernels = (SHARED_EXPERT_KERNELS + dep.quant_kernels("mlp", GROUPED_GEMMS)) * c.shared_experts
        out.append(dep.part("experts", shared, shared * dep.bytes_of("mlp"), 2 * shared * n, kernels, "mlp",
                            rows=n))
        # one GatedMLP of n_shared x the expert width: gate+up (K = hidden) and down (K = its width / tp)
        out += fp4_gemm.parts(dep, "mlp", h + c.shared_experts * m.expert_intermediate_size / local.tp, n)
    return out
