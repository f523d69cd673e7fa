"""Each serving engine's scheduling and memory defaults, as its source code sets them.

A runtime preset names its ``engine``; :func:`engine_defaults` returns what that engine does when
the user sets nothing: how many sequences and tokens a step may hold, the KV block size, how much
GPU memory the KV cache gets, and how a request is admitted. A scenario's ``scheduler`` keys
override each of them.

Sources (read in each project's repository):

- vLLM (``vllm/engine/arg_utils.py``, ``EngineArgs.get_batch_defaults``): for the OpenAI API
  server, GPUs with at least 70 GiB that are not A100s get ``max_num_batched_tokens`` 8192 and
  ``max_num_seqs`` 1024, others 2048 and 256 ("Setting large max_num_batched_tokens for A100
  reduces throughput", PR #17885); ``block_size`` 16; ``gpu_memory_utilization`` 0.9 of the
  device's total memory for weights, activations and KV cache together; V1 always chunks
  prefills; a request is admitted when blocks for its next chunk are free and a running one is
  preempted (recomputed) when the cache runs out (``vllm/v1/core/sched/scheduler.py``).
- TensorRT-LLM (``tensorrt_llm/llmapi/llm_args.py``): ``max_batch_size`` 2048,
  ``max_num_tokens`` 8192, ``KvCacheConfig.tokens_per_block`` 32,
  ``free_gpu_memory_fraction`` 0.9 of the memory left free after the weights and activations;
  the capacity scheduler's default policy ``GUARANTEED_NO_EVICT`` admits a request only when
  blocks for its whole length (prompt + max output) can be reserved, so nothing is ever evicted
  and requests queue instead.
- SGLang (``python/sglang/srt/server_args.py``, ``_handle_gpu_memory_settings``): below 160 GiB
  ``chunked_prefill_size`` 8192, above 16384; ``cuda_graph_max_bs`` 256 (tp < 4) or 512;
  ``mem_fraction_static = (total - reserved) / total`` for weights and KV pool, with reserved =
  512 MiB + 1.5 MiB per chunked-prefill token (at least 2048) + 2 MiB per CUDA-graph batch +
  tp x pp / 8 GiB, and at least 10 GiB on GPUs above 60 GiB; ``page_size`` 1; at most 4096
  running requests (``max_running_requests`` is derived from the pool, capped by the
  scheduler's request-slot pool of 4096 in ``model_runner.py``).
- llama.cpp (``tools/server``): ``--parallel`` slots share a context of ``--ctx-size`` tokens;
  each slot's KV lives in its own cells, so a request holds KV for its whole context once it is
  admitted to a slot (reserve); logical batch ``--batch-size`` 2048; default 4 slots
  (``n_parallel`` auto = 4 since the unified KV cache, ggml-org/llama.cpp PR #14363).

Overlap (``scheduler.overlap``): an engine whose host forms step k+1 while the GPU runs step k
(so that scheduling costs no GPU time) has already closed step k+1 when a request arriving during
step k reaches it; the request joins step k+2. SGLang does this by default (``Scheduler.
event_loop_overlap``, the v0.4 "zero-overhead" scheduler; ``--disable-overlap-schedule`` turns it
off). vLLM does it with ``--async-scheduling`` (``EngineCore.step_with_batch_queue``, a batch queue
of two; off by default in v0.10-v0.11), TensorRT-LLM's PyTorch backend with its overlap scheduler
(``PyExecutor._executor_loop_overlap``, on unless ``disable_overlap_scheduler``); its C++
executor (the TensorRT engines of NIM 1.x) schedules between steps, as does the runtime preset here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GiB = 2**30
MiB = 2**20

Admission = Literal["paged", "reserve"]


@dataclass(frozen=True)
class EngineDefaults:
    """What an engine does unless told otherwise.

    ``memory_utilization`` is a share of the GPU's total memory for weights, activations and KV
    (``memory_of`` = "total", vLLM), of the memory left after weights and activation workspace
    ("free", TensorRT-LLM), or of the total for weights and KV only, the engine keeping the rest
    for activations and CUDA graphs ("static", SGLang's ``mem_fraction_static``)."""

    max_batch_size: int
    max_batched_tokens: int
    kv_block_tokens: int
    memory_utilization: float
    memory_of: Literal["total", "free", "static"] = "total"
    admission: Admission = "paged"
    chunked_prefill: bool = True
    #: the host forms the next step while the GPU runs this one (see the module docstring)
    overlap: bool = False


#: the engines a runtime preset may name
ENGINES = ("generic", "vllm", "trt-llm", "sglang", "llama.cpp", "gpt-fast", "fastertransformer")


def engine_defaults(engine: str, gpu_name: str, gpu_memory_bytes: float, tp: int = 1, pp: int = 1) -> EngineDefaults:
    """The defaults of ``engine`` on a GPU named ``gpu_name`` with ``gpu_memory_bytes`` (the
    driver's figure) in a replica of ``tp`` x ``pp`` GPUs."""
    if engine == "vllm":
        big = gpu_memory_bytes >= 70 * GiB and "a100" not in gpu_name.lower()
        return EngineDefaults(max_batch_size=1024 if big else 256, max_batched_tokens=8192 if big else 2048,
                              kv_block_tokens=16, memory_utilization=0.9)
    if engine == "trt-llm":
        return EngineDefaults(max_batch_size=2048, max_batched_tokens=8192, kv_block_tokens=32,
                              memory_utilization=0.9, memory_of="free", admission="reserve")
    if engine == "sglang":
        chunk = 8192 if gpu_memory_bytes < 160 * GiB else 16384
        graph_bs = 256 if tp < 4 and gpu_memory_bytes < 160 * GiB else 512
        reserved = 512 + max(chunk, 2048) * 1.5 + graph_bs * 2 + tp * pp / 8 * 1024  # MiB
        if gpu_memory_bytes > 60 * GiB:
            reserved = max(reserved, 10 * 1024)
        return EngineDefaults(max_batch_size=4096, max_batched_tokens=chunk, kv_block_tokens=1,
                              memory_utilization=round(1.0 - reserved * MiB / gpu_memory_bytes, 3),
                              memory_of="static", overlap=True)
    if engine == "llama.cpp":
        return EngineDefaults(max_batch_size=4, max_batched_tokens=2048, kv_block_tokens=256,
                              memory_utilization=0.9, admission="reserve")
    # generic engines, gpt-fast and FasterTransformer: vLLM-like continuous batching, the
    # scheduler section's historical defaults
    return EngineDefaults(max_batch_size=256, max_batched_tokens=8192, kv_block_tokens=16, memory_utilization=0.9)


def engine_of(scenario) -> EngineDefaults:
    """The engine defaults of ``scenario``'s runtime on its GPU and layout."""
    hw, par = scenario.hardware, scenario.parallelism
    return engine_defaults(scenario.runtime.engine, hw.gpu.name, hw.gpu.memory_bytes, par.tp, par.pp)
