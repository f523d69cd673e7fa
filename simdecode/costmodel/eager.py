"""Steps that run outside CUDA graphs: the host dispatching every kernel sets a floor (docs/physics.md 5.3).

Serving engines capture CUDA graphs for decode batches, and only some of them for steps that hold a
prefill chunk. A step that is not replayed from a graph runs eagerly: the host (Python, the framework's
dispatcher, the launch itself) issues every kernel and collective one after another, while the GPU runs
them asynchronously. The GPU can run ahead of nothing: if issuing the step's kernels takes the host
longer than the GPU takes to run them, the GPU waits, and the step lasts as long as the host::

    t_step = max(t_gpu, t_host_op + n_dispatched * t_dispatch)

``t_gpu`` is the step as graphed (the fold of its plan, host op included), ``t_host_op`` the engine's
per-step host work (``step_overhead``, already the plan's first op), ``n_dispatched`` the kernels of
every compute op (their count is what the plan's fixed per-kernel costs were made from) plus one per
collective, and ``t_dispatch`` :data:`EAGER_DISPATCH_S`. The host's time does not shrink with
tensor parallelism (each rank's host issues the same kernels for its shard) nor with a faster GPU: a
short prefill on a fast GPU is host-bound where the same prefill on a slower one is not.

Which steps are graphed (``runtime.prefill_graph_tokens``):

- TensorRT-LLM's PyTorch backend (``trtllm-serve`` 1.x) captures only decoding batches
  (``tensorrt_llm/_torch/pyexecutor/cuda_graph_runner.py``, ``DecodingCUDAGraphRunner``); "for the
  non-captured batch sizes, PyTorch eager mode code will be executed", where "the python host code
  normally executes slower than C++" (TensorRT-LLM tech blog 3, Optimizing DeepSeek R1 throughput on
  Blackwell, "CUDA Graph"): every step with a context chunk is eager (0).
- SGLang's ``CudaGraphRunner`` replays decode (and speculative verify) batches only; prefill ("extend")
  batches run eagerly unless ``--enable-piecewise-cuda-graph`` (off by default; sglang PR #10062:
  "SGLang's current native prefilling can incur kernel launch overhead"): 0.
- vLLM V1 captures piecewise graphs (attention left out) for steps of up to ``min(2 max_num_seqs, 512)``
  tokens (``cuda_graph_sizes`` default, vllm/config.py, v0.10); larger steps run its compiled model
  without graphs (512 in the preset). With ``cudagraph_mode: FULL_DECODE_ONLY`` (InferenceX's B200
  launch) no step holding a prefill is graphed (0).

``t_dispatch`` = 35 us: TensorRT-LLM measured its PyTorch flow's "CPU dispatch interval (~35us)"
between kernels on an 8-GPU FP4 (Blackwell) node, longer than the ~24 us kernels it launched
(NVIDIA/TensorRT-LLM PR #12653). The same order follows from vLLM's eager decode: Qwen2.5-Omni-7B's
thinker (28 layers, ~15 kernels each) decodes in ~22 ms eager against ~13 ms graphed on A800
(vllm-project/vllm-omni issue #7960): 22 ms over 420 kernels is 52 us a kernel.

Some engines add host work of their own per weight GEMM, beyond issuing its kernel (runtime key
``eager_gemm_host``, :data:`FLASHINFER_BMM_FP8_HOST_S`), paid for every dense-layer GEMM (QKV, O,
gate+up, down: :func:`weight_gemm_calls`) of an eager step::

    t_host = t_host_op + n_dispatched x t_dispatch + n_gemm x t_gemm_host

vLLM 0.10.2 on Blackwell is one. Its per-tensor FP8 linear layers (a ModelOpt checkpoint) run
``Fp8LinearOp`` with ``preferred_backend = "flashinfer"`` on compute capability 10.0 when FlashInfer
is installed (``model_executor/layers/quantization/utils/w8a8_utils.py``, ``Fp8LinearOp.__init__``;
``cutlass`` on Hopper, one C++ op), so every such GEMM calls ``vllm::bmm_fp8``, a
``torch.library.custom_op`` (``vllm/utils/flashinfer.py``) around FlashInfer's ``bmm_fp8(...,
backend="auto")``. In FlashInfer v0.3.0 (the version vLLM 0.10.2's image installs:
``docker/Dockerfile`` ``FLASHINFER_GIT_REF="v0.3.0"``) that runs ``fp8_gemm_sm100`` (``flashinfer/
gemm.py``), which on every call executes the ``class`` statement of three runner factories (CUTLASS,
cuBLAS and cuDNN: ``nvidia-cudnn-frontend`` is a FlashInfer dependency) and instantiates them before
asking its autotuner's cache. Priced at what each part was measured to cost:

- a runner factory that defines and instantiates a fresh class per call: ~8 us on a server x86 core
  (flashinfer-ai/flashinfer PR #3832, timeit of ``_cute_dsl_bf16_fp4_runner``, the same pattern;
  "~10-12 us" for its cuDNN one, which also resolves a bucket mapper);
- the ``torch.library.custom_op`` dispatch: 7.02 us more per call than a plain function (NVIDIA/
  TensorRT-LLM PR #13149, B200, PyTorch 2.10: 11.67 us against 4.72 us);

3 x 8 + 7 = 31 us a GEMM, a lower bound (the autotuner's lookup and the ``TuningConfig`` it builds
per call are not counted). Llama-3.1-70B: 80 layers x 4 GEMMs x 31 us = 9.92 ms more host time per
eager step, at every tp (each rank's host runs the same calls). FlashInfer later cached the factories
(PR #4674: "The runner factories re-executed their ``class`` statement on every call").
InferenceX's B200 vLLM launch sets it (:mod:`simdecode.validate.inferencex_launch`).

A launch's compilation flags can change how many kernels make a layer (InferenceX's B200 vLLM
launch: :mod:`simdecode.costmodel.launch_kernels`); the host dispatches those kernels like the others
(their count comes from the plan's per-kernel costs).

Only steps that hold a prefill chunk are affected: decode and speculative-verify steps keep the
runtime's ``cuda_graphs`` (the engines above graph them). A runtime without graphs at all
(``cuda_graphs: false``) already pays the host's launch per kernel in series (roofline.EAGER_LAUNCH_S).
"""

from __future__ import annotations

from simdecode.costmodel.batch import BatchShape

#: host seconds to dispatch one kernel or collective of an eager step in a Python-driven engine
#: (TensorRT-LLM PR #12653's measured dispatch interval; module docstring)
EAGER_DISPATCH_S = 35e-6

#: host seconds one FlashInfer runner factory takes to define and instantiate its class (flashinfer-ai/
#: flashinfer PR #3832, timeit on a server x86 core)
RUNNER_FACTORY_S = 8e-6
#: host seconds a ``torch.library.custom_op`` call adds to a plain Python call (NVIDIA/TensorRT-LLM PR
#: #13149 on B200: 11.67 us against 4.72 us, a "dispatcher tax" of 7.02 us; 7 us here)
CUSTOM_OP_DISPATCH_S = 7e-6
#: runner factories FlashInfer v0.3.0's ``fp8_gemm_sm100`` runs per call under ``backend="auto"`` on SM100
FLASHINFER_FP8_GEMM_RUNNERS = 3
#: host seconds vLLM 0.10.2's FP8 linear adds per GEMM on Blackwell (module docstring): 3 x 8 + 7 = 31 us
FLASHINFER_BMM_FP8_HOST_S = FLASHINFER_FP8_GEMM_RUNNERS * RUNNER_FACTORY_S + CUSTOM_OP_DISPATCH_S


def runs_eagerly(runtime, shape: BatchShape) -> bool:
    """Does a step of ``shape`` run outside the runtime's CUDA graphs (a prefill chunk in a step larger
    than ``prefill_graph_tokens``)? Runtimes without graphs at all are costed elsewhere (False here)."""
    limit = runtime.prefill_graph_tokens
    if limit is None or not runtime.cuda_graphs:
        return False
    return shape.prefill_attn_pairs > 0 and shape.new_tokens > limit


def dispatched(kind_counts, costs, kernel_s: float) -> float:
    """Kernels and collectives the host issues for one step: each compute op's kernels (its fixed
    per-kernel cost ``launch_s`` over ``kernel_s``, the per-kernel cost it was made of) and one per
    collective. ``kind_counts``: (kind, stream, slots) of the plan's template; ``costs``: OpCost by kind."""
    from simdecode.costmodel.plan import Stream

    n = 0.0
    for kind, stream, slots in kind_counts:
        if stream is Stream.COMM:
            n += slots
        elif kind != "host" and kernel_s > 0:
            n += slots * costs[kind].launch_s / kernel_s
    return n


def weight_gemm_calls(dep, kind_counts) -> int:
    """Dense-layer weight GEMMs one eager step calls (the ones ``eager_gemm_host`` prices): a GQA
    attention block's QKV and O projections (full or sliding-window) and a dense MLP's gate+up and
    down, per slot of the plan's template (``kind_counts``: (kind, stream, slots)). MLA, compressed,
    linear and Mamba mixers and MoE experts run other kernels and are not counted.

    Llama-3.1-70B, one stage: 80 attention + 80 MLP slots x 2 GEMMs = 320."""
    from simdecode.costmodel.modules import GQA_GEMMS, MLP_GEMMS
    from simdecode.costmodel.plan import Stream

    m = dep.model
    gqa = not (m.uses_mla or m.has_compressed_attention)
    n = 0
    for kind, stream, slots in kind_counts:
        if stream is Stream.COMM:
            continue
        if kind in ("attn", "attn.sliding") and gqa:
            n += slots * GQA_GEMMS
        elif kind == "mlp":
            n += slots * MLP_GEMMS
    return n


def host_floor_s(runtime, n_dispatched: float, n_gemms: int = 0) -> float:
    """Seconds the host takes to run an eager step: its per-step work plus ``n_dispatched`` dispatches,
    plus ``runtime.eager_gemm_host_s`` for each of ``n_gemms`` weight GEMMs.

    Llama-3.1-70B at tp 8 under vLLM (15 kernels a layer in 80 layers, 160 all-reduces, the embedding's
    and LM head's 3 kernels and 2 collectives: 1,365 dispatches) at 35 us: 0.3 ms + 47.775 ms = 48.075 ms;
    with FlashInfer's bmm_fp8 on Blackwell (31 us x 320 GEMMs = 9.92 ms): 57.995 ms.
    """
    return runtime.step_overhead_s + n_dispatched * EAGER_DISPATCH_S + n_gemms * runtime.eager_gemm_host_s
