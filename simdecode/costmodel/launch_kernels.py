"""Kernels a launch's compilation flags add to, or fold out of, each layer (runtime keys
``layer_kernel_delta``, ``fused_allreduce_tokens``, ``layer_kernel_delta_fused``).

The runtime's ``kernels_per_layer`` stands for the engine's default compile. vLLM 0.10.2's default
(``custom_ops`` "none", Inductor) fuses each RMSNorm with the FP8 quantisation of its output, and
SiLU-and-mul with the quantisation of its output, one Triton kernel each, and quantises the FP8
attention output in a kernel of its own before the O projection. InferenceX's B200 launch
(``70b_fp8_b200_docker.sh``: ``custom_ops: ["+quant_fp8", "+rms_norm"]``, ``pass_config:
{enable_fi_allreduce_fusion, enable_attn_fusion, enable_noop}``, ``enable_fusion`` left at V1's
False: ``config/compilation.py`` ``PassConfig``) runs per layer, in every step (the decode graphs
capture the same compiled model):

- the two norms as vLLM's CUDA ``fused_add_rms_norm`` and each FP8 quantisation as its
  ``static_scaled_fp8_quant``, two kernels where the default has one (+1 each), SiLU-and-mul
  (Inductor) then the quantisation (+1), and the attention's FP8 output quantised inside the TRT-LLM
  attention kernel (``AttnFusionPass``, -1): +2 a layer at tp 1 (:data:`B200_LAUNCH_DELTA`);
- at tp > 1 each all-reduce with the norm and quantisation after it is replaced by
  ``call_trtllm_fused_allreduce_norm`` (``compilation/collective_fusion.py``). A step whose [T, h]
  tensor is at most ``max_token_num`` = min(threshold / (h x tp x 2 B), 16,384) tokens
  (:func:`fused_allreduce_tokens`) runs FlashInfer's one-shot ``trtllm_allreduce_fusion``: all-reduce,
  residual add, RMSNorm and quantisation in the collective's one kernel, so each block input's norm
  and quantisation kernels go (-2 each: :data:`B200_LAUNCH_DELTA_FUSED` = -2 a layer); a larger one
  falls back to vLLM's all-reduce, then ``fused_add_rms_norm``, ``static_scaled_fp8_quant`` and
  ``allreduce_in.copy_(allreduce_out)`` (the fallback's ``fuse_rms_quant`` is ``enable_fusion``,
  False): one kernel more per all-reduce (:data:`B200_LAUNCH_DELTA_FALLBACK` = +4 a layer).

With the script's ``VLLM_FLASHINFER_ALLREDUCE_FUSION_THRESHOLDS_MB`` (32, 32, 8 MB at tp 2, 4, 8) the
fused steps are those of at most 1,024, 512 and 64 tokens for Llama-3.1-70B (h = 8,192): every decode
step at the concurrencies InferenceX runs, and a 1k-token prefill at tp 2. Half of a layer's delta goes
to its attention block and half to its MLP (like ``kernels_per_layer``). Each kernel pays the
runtime's ``kernel_launch`` on the GPU and, in an eager step, a host dispatch (costmodel/eager.py):
a 1k-token prefill at tp 4 or 8 dispatches 80 x 4 = 320 kernels more than the default, 11.2 ms of
host time at 35 us; a decode step at tp 8 launches 160 fewer, 0.53 ms at 3.3 us. The collective
itself keeps its modelled cost (the fused kernel's one-shot all-reduce is not costed apart).
"""

from __future__ import annotations

#: vLLM 0.10.2's ``PassConfig.fi_allreduce_fusion_max_token_num`` default: the most tokens the fused
#: all-reduce takes whatever its threshold (``compilation/collective_fusion.py``, ``AllReduceFusionPass``)
FI_ALLREDUCE_FUSION_MAX_TOKENS = 16384
#: kernels per layer InferenceX's B200 compilation flags add to vLLM's default compile (module
#: docstring): the two norms and their FP8 quantisations apart (+1 each), SiLU-and-mul and its
#: quantisation apart (+1), the attention output's quantisation fused into the attention kernel (-1)
B200_LAUNCH_DELTA = 1 + 1 + 1 - 1
#: ... plus, at tp > 1 above the fusion's size, the fallback's copy after each of a layer's two all-reduces
B200_LAUNCH_DELTA_FALLBACK = B200_LAUNCH_DELTA + 2
#: ... or, within it, each block input's norm and quantisation done inside the fused collective (-2 each)
B200_LAUNCH_DELTA_FUSED = B200_LAUNCH_DELTA - 2 * 2


def fused_allreduce_tokens(threshold_bytes: int, hidden_size: int, tp: int) -> int:
    """The most tokens of a step vLLM 0.10.2's FlashInfer all-reduce fusion takes at ``tp`` GPUs:
    ``AllReduceFusionPass``'s ``max_token_num`` = min(threshold // (hidden x tp x 2 B),
    16,384), which also bounds ``call_trtllm_fused_allreduce_norm``'s own size test (threshold / (hidden x 2 B)).

    >>> [fused_allreduce_tokens(t * 2**20, 8192, tp) for t, tp in ((32, 2), (32, 4), (8, 8))]
    [1024, 512, 64]
    """
    by_threshold = threshold_bytes // (hidden_size * tp * 2)
    return min(by_threshold, FI_ALLREDUCE_FUSION_MAX_TOKENS, threshold_bytes // (hidden_size * 2))


def kernel_delta(runtime, tp: int, new_tokens: float) -> int:
    """Kernels per layer a step of ``new_tokens`` tokens at tensor parallelism ``tp`` dispatches
    beyond the runtime's ``kernels_per_layer`` (module docstring): ``layer_kernel_delta_fused`` where
    ``fused_allreduce_tokens`` covers the step (tp > 1), else ``layer_kernel_delta``.

    InferenceX's B200 vLLM launch at tp 8 (fused up to 64 tokens): a 1k-token prefill +4, a 64-token one -2.
    """
    if tp > 1 and 0 < new_tokens <= runtime.fused_allreduce_tokens:
        return runtime.layer_kernel_delta_fused
    return runtime.layer_kernel_delta


def module_delta(runtime, tp: int, new_tokens: float) -> float:
    """Half of :func:`kernel_delta`: the kernels one attention block or one dense MLP gains (or loses)."""
    delta = kernel_delta(runtime, tp, new_tokens)
    return delta / 2 if delta else 0.0
