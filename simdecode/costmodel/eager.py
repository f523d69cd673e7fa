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

Only steps that hold a prefill chunk are affected: decode and speculative-verify steps keep the
runtime's ``cuda_graphs`` (the engines above graph them). A runtime without graphs at all
(``cuda_graphs: false``) already pays the host's launch per kernel in series (roofline.EAGER_LAUNCH_S).
"""

from __future__ import annotations

from simdecode.costmodel.batch import BatchShape

#: host seconds to dispatch one kernel or collective of an eager step in a Python-driven engine
#: (TensorRT-LLM PR #12653's measured dispatch interval; module docstring)
EAGER_DISPATCH_S = 35e-6


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


def host_floor_s(runtime, n_dispatched: float) -> float:
    """Seconds the host takes to run an eager step: its per-step work plus ``n_dispatched`` dispatches.

    Llama-3.1-70B at tp 8 under vLLM (15 kernels a layer in 80 layers, 160 all-reduces, the embedding's
    and LM head's 3 kernels and 2 collectives: 1,365 dispatches) at 35 us: 0.3 ms + 47.775 ms = 48.075 ms.
    """
    return runtime.step_overhead_s + n_dispatched * EAGER_DISPATCH_S
