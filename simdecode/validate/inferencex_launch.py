"""How InferenceX launched each engine, as scenario keys: the flags its benchmark scripts pass.

The serving sweeps record model, GPU, precision, engine, tp, lengths and concurrency; the engine
flags are in InferenceX's launch scripts, one per (model, precision, GPU, engine). They are read
here from the scripts themselves, never from the measurements:

Llama-3.1-70B (its runs are dated 2025-10-23 and 2025-10-29): SemiAnalysisAI/InferenceX at commit
9596d23d7 (2025-10-29, the last one before the Llama-70B configurations were removed in #149),
``benchmarks/70b_fp8_h100_slurm.sh``, ``70b_fp8_h200_slurm.sh``, ``70b_fp8_b200_docker.sh`` (vLLM,
image ``vllm/vllm-openai:v0.10.2``), ``70b_fp8_h200_trt_slurm.sh``, ``70b_fp8_b200_trt_slurm.sh``,
``70b_fp4_b200_trt_slurm.sh`` (``trtllm-serve``, image ``tensorrt-llm/release:1.1.0rc2.post2``), and
``.github/workflows/70b-tmpl.yml`` for the images:

- vLLM: ``kv-cache-dtype: fp8`` (set as ``inferencex.KV_CACHE_DTYPE``), ``async-scheduling: true``,
  ``max-num-batched-tokens: 8192`` in a ``config.yaml``; ``--max-num-seqs $CONC`` on H100 and H200 and
  ``512`` on B200, ``--gpu-memory-utilization 0.9`` on the command line.
- vLLM on H100 never read that file. ``70b_fp8_h100_slurm.sh`` and ``70b_fp8_h100_docker.sh`` pass
  ``--config=config.yaml``, while the H200 and B200 scripts pass ``--config config.yaml``. vLLM
  v0.10.2's ``FlexibleArgumentParser.parse_args`` loads a config file only when ``--config`` is an
  argument of its own (``if '--config' in args``, vllm/utils/__init__.py); ``--config=config.yaml`` is
  one argument, which argparse then takes as the serve option ``--config`` (entrypoints/openai/
  cli_args.py) and nothing reads. InferenceX fixed the same spelling as a "typo fix" in its B200
  scripts (#48, 2025-09-24) and its gpt-oss H100 scripts (#159, 2025-11-04), not in the Llama H100
  scripts, which ran it until the Llama configurations were removed. So the H100 servers ran
  vLLM's defaults for what the file held (:data:`VLLM_CONFIG_FILE_IGNORED`): ``kv_cache_dtype auto``,
  the checkpoint's 16-bit dtype (``CacheConfig.cache_dtype``; ModelOpt's ``kv_cache_quant_algo``
  does not change it); async scheduling off (``SchedulerConfig.async_scheduling``); 8192 batched
  tokens all the same (V1's OpenAI-server default on GPUs of 70 GiB or more,
  ``EngineArgs._set_default_args_v1``); prefix caching on (V1's default; random prompts share no
  blocks) and the model's 131,072-token ``max_model_len`` (neither changes the cache's size). This is
  why two H100s held half the KV tokens an FP8 cache would give them (docs/validation.md).
- TensorRT-LLM: ``kv_cache_config.dtype: fp8``, ``--max_num_tokens 16384``, the PyTorch backend's
  overlap scheduler (on unless ``disable_overlap_scheduler``), and for 1k1k at tp < 8
  ``batch_wait_max_tokens_ratio: 0.9`` with ``batch_wait_timeout_iters: 20``. Its
  ``stream_interval: 10`` does not delay the first token (``PyExecutor._handle_responses`` answers
  at decoding iteration 1, then every tenth).

gpt-oss-120b on H100 and H200 (its 1k8k runs are dated 2026-03-27, the others 2026-05-17 and
2026-05-30): ``benchmarks/single_node/gptoss_fp4_h100.sh`` and ``gptoss_fp4_h200.sh`` at commit
cec542a9a (2026-03-27, "update gptoss H100 & H200 vLLM image to v0.18.0", #960), unchanged in
these flags through the v0.20.2 image of #1334/#1335: ``max-num-batched-tokens: 8192``,
``max-cudagraph-capture-size: 2048`` (set since #666, 2026-02-19),
``--max-num-seqs $CONC``, ``--gpu-memory-utilization 0.9``, no ``kv-cache-dtype`` (bf16),
``VLLM_MXFP4_USE_MARLIN=1`` (the experts run in Marlin's W4A16 kernel:
costmodel/efficiency.fp4_dequant_seconds); async scheduling was set in their config.yaml until
v0.13 and is vLLM's default since v0.14 (perf-changelog.yaml, #789: "Remove deprecated
async-scheduling flag (now enabled by default since v0.14.0)").

DeepSeek-V3 FP8 on H200 with SGLang (its runs are dated 2026-03-25 and 2026-05-17):
``benchmarks/single_node/dsr1_fp8_h200.sh``, unchanged in these flags from #666 (2026-02-19) through
ed5867f9e (2026-05-12): ``--chunked-prefill-size 32768 --max-prefill-tokens 32768`` (SGLang's own
default on a 141 GB card is 8192: scenario/engines.py), ``--mem-fraction-static 0.82``,
``--max-running-requests 512`` for 1k1k and 256 for the other labels, ``--disable-radix-cache``
(random prompts share no prefix either way) and ``--stream-interval 10``, which does not delay the
first token (SGLang streams when ``len(output_ids) % stream_interval == 1``). The two dates are two
SGLang releases (``.github/configs/nvidia-master.yaml``): the 1k8k sweep (2026-03-25) ran v0.5.9
(``lmsysorg/sglang:v0.5.9-cu130`` from #943, merged that day, or the ``-cu129-amd64`` build of #887
before it), and the 1k1k and 8k1k sweeps (2026-05-17) ran ``v0.5.12-cu130`` (#1423, merged at 07:41
UTC that day; v0.5.11 before it). Comparing labels across the two dates compares two SGLang versions
(docs/physics-moe-precision.md section 6).

DeepSeek-V3 FP8 on H200 with TensorRT-LLM (its runs are dated 2025-11-02): ``benchmarks/dsr1_fp8_h200_trt_slurm.sh``
at commit e06929c70 (2025-11-01, the last before the runs; the script unchanged since 9596d23d7, 2025-10-29),
image ``tensorrt-llm/release:1.1.0rc2.post2`` (``.github/workflows/dsr1-tmpl.yml``), ``trtllm-serve
--backend=pytorch --tp_size=$TP --ep_size=$EP_SIZE`` with ``EP_SIZE="$TP"`` and ``moe_config.backend:
CUTLASS``; ``enable_attention_dp: true`` above a concurrency threshold per workload (``CONC -gt 64`` for
1k1k and 1k8k, ``CONC -gt 32`` for 8k1k: :data:`TRT_DSR1_H200_ADP_ABOVE`), with ``attention_dp_config``
``enable_balance: true, timeout_iters: 60, batching_wait_iters: 0`` (``scheduler.adp_balance_iters``); ``kv_cache_config`` ``dtype: fp8,
free_gpu_memory_fraction: 0.75``; ``--max_num_tokens $(( (CONC + ISL + 64 + 63) / 64 * 64 ))``
(:func:`trt_dsr1_max_num_tokens`); ``cuda_graph_config`` ``max_batch_size: 128`` with padding (decode
graphs; the scheduler's own ``max_batch_size`` stays trtllm-serve's 2048). So every run here is
expert-parallel 8 and the 8k1k c=64 run also attention data-parallel (costmodel/attention_dp.py), whose
``enable_balance`` holds prefills until every rank has one, for up to 60 iterations.

Which all-reduce runs (runtime keys ``custom_allreduce_max`` and ``allreduce_multimem``,
:mod:`simdecode.costmodel.collectives`): vLLM v0.10.2's ``CudaCommunicator.all_reduce`` tries its
custom all-reduce (one-stage and two-stage kernels), then the symmetric-memory one, then NCCL
(``pynccl``). The custom one takes a message only below its buffer, ``max_size=8192 * 1024``
(``CustomAllreduce.should_custom_ar``: ``inp_size < self.max_size``; the smaller Blackwell sizes of
``CUSTOM_ALL_REDUCE_MAX_SIZES`` apply only with symmetric memory on), and symmetric memory, whose
``multimem_all_reduce_`` is vLLM's only multicast (NVLS) kernel, is off by default in v0.10.2
(``VLLM_ALLREDUCE_USE_SYMM_MEM`` "0", vLLM PR #24696 of 2025-09-11; later versions turn it on). So on
every GPU here a decode step's all-reduces (16 KB a token) run the custom kernels and a prefill's of
8 MiB or more (512 tokens of Llama-70B's 8,192-wide rows in bf16) run NCCL:
:data:`VLLM_0_10_ALLREDUCE`.

Which steps replay CUDA graphs (runtime key ``prefill_graph_tokens``, :mod:`simdecode.costmodel.eager`):

- vLLM on B200: ``compilation-config`` ``cudagraph_mode: FULL_DECODE_ONLY`` with ``splitting_ops: []``
  (``70b_fp8_b200_docker.sh``): full graphs for decode-only batches, no piecewise graphs, so every step
  holding a prefill runs eagerly (0). On H100 and H200 the default piecewise graphs cover steps of up to
  ``min(2 max_num_seqs, 512)`` tokens (vLLM's ``cuda_graph_sizes`` default), with ``max_num_seqs`` = CONC,
  for Llama-3.1-70B; gpt-oss's scripts raise the limit to ``max-cudagraph-capture-size: 2048``, which vLLM
  takes as given (capped only by ``max_num_batched_tokens``, ``VllmConfig._set_cudagraph_sizes``).
  On B200 every eager step also pays FlashInfer's host work per FP8 GEMM (runtime key
  ``eager_gemm_host``, :data:`simdecode.costmodel.eager.FLASHINFER_BMM_FP8_HOST_S`): vLLM 0.10.2's
  ``Fp8LinearOp`` prefers FlashInfer's ``bmm_fp8`` over CUTLASS on compute capability 10.0, for the
  per-tensor scales of the ModelOpt checkpoint (``nvidia/Llama-3.3-70B-Instruct-FP8``, 70b-tmpl.yml).
  Hopper keeps ``cutlass_scaled_mm``, one C++ op. The same script's ``FUSION_FLAG`` (``custom_ops:
  ["+quant_fp8", "+rms_norm"]``, ``pass_config: {enable_fi_allreduce_fusion, enable_attn_fusion,
  enable_noop}``) and ``VLLM_FLASHINFER_ALLREDUCE_FUSION_THRESHOLDS_MB={"2":32,"4":32,"8":8}`` change how
  many kernels make a layer against vLLM's default compile (runtime keys ``layer_kernel_delta``,
  ``fused_allreduce_tokens``, ``layer_kernel_delta_fused``, :mod:`simdecode.costmodel.launch_kernels`):
  +2 at tp 1; at tp 2, 4, 8 steps of at most 1,024, 512 and 64 tokens run FlashInfer's fused all-reduce
  + RMSNorm + FP8 quantisation (-2), larger ones its fallback (+4). With an FP8 KV cache vLLM 0.10.2
  quantises the query to FP8 and runs TRT-LLM's attention kernels for prefill and decode on B200 (``v1/attention/backends/flashinfer.py``: ``q_data_type`` is the
  cache's FP8 when ``supports_trtllm_attention()``, and ``use_trtllm_attention`` then returns True "if
  query is FP8 quantized"; the script's patch of ``flashinfer/jit/cubin_loader.py``, which downloads those
  kernels' cubins, shows the path ran). That context kernel was measured at 393 TFLOP/s on a B200 (vLLM
  PR #23647), the rate prefill scores take there (runtime key ``prefill_attention_flops``,
  :mod:`simdecode.costmodel.prefill_attention`).
- TensorRT-LLM: ``trtllm-serve`` of TensorRT-LLM 1.x serves with the PyTorch backend (the DeepSeek
  scripts say ``--backend=pytorch``), whose CUDA graphs hold decoding batches only: 0, for every model.

How fast the weight GEMMs stream (runtime key ``gemm_efficiency``, :mod:`simdecode.costmodel.gemm_stream`):
the PyTorch backend's fp8 linear layers (``_torch/modules/linear.py``, ``FP8QDQLinearMethod.apply``)
call cuBLASLt's ``cublas_scaled_mm`` on Hopper (its CUDA-core ``cuda_scaled_mm`` only on SM 8.9), a
TMA-pipelined fp8 GEMM of the kind measured at 81-83% of the HBM peak on H100 and H200. The ``trt-llm``
preset stays the C++ executor NIM serves (DEC-11, BAT-01), whose engine's GEMMs were not identified.

Both are the ``trtllm-serve`` runtime preset (presets/runtimes.yaml: ``base: trt-llm`` with those two
keys), which every TensorRT-LLM sweep here runs (:data:`TRTLLM_SERVE_PRESET`).

Both engines' scripts set what they set for every concurrency and tp of a sweep (the TensorRT-LLM
batch wait for one workload label and tp range): nothing here depends on a measured value.
"""

from __future__ import annotations

from typing import Any

from simdecode.costmodel.eager import FLASHINFER_BMM_FP8_HOST_S
from simdecode.costmodel.prefill_attention import TRTLLM_FP8_CONTEXT_B200_FLOPS
from simdecode.costmodel.launch_kernels import (B200_LAUNCH_DELTA, B200_LAUNCH_DELTA_FALLBACK,
                                                B200_LAUNCH_DELTA_FUSED, fused_allreduce_tokens)

#: the runtime preset of InferenceX's TensorRT-LLM runs: trtllm-serve's PyTorch backend (module docstring)
TRTLLM_SERVE_PRESET = "trtllm-serve"
#: InferenceX's vLLM scripts pass --max-num-seqs $CONC on these GPUs, 512 elsewhere (B200)
VLLM_SEQS_FROM_CONCURRENCY = ("h100", "h200")
#: GPUs whose Llama vLLM script passes ``--config=config.yaml``, which vLLM v0.10.2 never reads (module
#: docstring): the KV cache is vLLM's default (16-bit) and async scheduling is off
VLLM_CONFIG_FILE_IGNORED = ("h100",)
#: GPUs of compute capability 10.0, where vLLM 0.10.2's FP8 linear layers call FlashInfer's bmm_fp8
#: (``Fp8LinearOp``: ``has_device_capability(100)``; costmodel/eager.py)
VLLM_FLASHINFER_FP8_GEMM = ("b200",)
#: GPUs whose Llama vLLM script compiles with ``FUSION_FLAG`` (70b_fp8_b200_docker.sh: ``custom_ops``
#: +quant_fp8 and +rms_norm; ``pass_config`` enable_fi_allreduce_fusion, enable_attn_fusion, enable_noop)
VLLM_B200_FUSION_FLAG = ("b200",)
#: GPUs where vLLM 0.10.2 with the scripts' FP8 KV cache runs TRT-LLM's FP8 context attention for prefill
#: (sm 10.0: ``supports_trtllm_attention``; costmodel/prefill_attention.py)
VLLM_TRTLLM_FP8_ATTENTION = ("b200",)
#: the same script's ``VLLM_FLASHINFER_ALLREDUCE_FUSION_THRESHOLDS_MB='{"2":32,"4":32,"8":8}'``, MiB by tp
VLLM_B200_FUSION_THRESHOLD_MB = {2: 32, 4: 32, 8: 8}
#: Llama-3.1-70B's hidden size (its config.json), the width of the all-reduced [tokens, hidden] tensor
LLAMA_70B_HIDDEN = 8192
#: vLLM v0.10.2's all-reduce dispatch (module docstring): the custom kernels below their 8 MiB buffer,
#: NCCL from there, no multimem kernels (symmetric memory off)
VLLM_0_10_ALLREDUCE = {"custom_allreduce_max": 8 * 1024 * 1024, "allreduce_multimem": False}
#: dsr1_fp8_h200.sh: --chunked-prefill-size / --max-prefill-tokens, and --mem-fraction-static
SGLANG_DSR1_H200_CHUNK_TOKENS = 32768
SGLANG_DSR1_H200_MEM_FRACTION = 0.82
#: dsr1_fp8_h200_trt_slurm.sh: ``enable_attention_dp`` when CONC is above this, per (ISL, OSL) label
TRT_DSR1_H200_ADP_ABOVE = {"1k1k": 64, "1k8k": 64, "8k1k": 32}
#: dsr1_fp8_h200_trt_slurm.sh: ``attention_dp_config.timeout_iters`` (with ``enable_balance: true``)
TRT_DSR1_H200_ADP_TIMEOUT_ITERS = 60
#: dsr1_fp8_h200_trt_slurm.sh: ``kv_cache_config.free_gpu_memory_fraction``
TRT_DSR1_H200_KV_FRACTION = 0.75
#: input lengths of InferenceX's labels, as its scripts' $ISL
LABEL_ISL = {"1k1k": 1024, "1k8k": 1024, "8k1k": 8192}


def trt_dsr1_max_num_tokens(concurrency: int, isl: int) -> int:
    """dsr1_fp8_h200_trt_slurm.sh's ``MAX_NUM_TOKENS=$(( ($CONC+$ISL+64+63)/64*64 ))``: CONC + ISL + 64
    rounded up to a multiple of 64 (1k1k at c=4: 1152; 8k1k at c=64: 8320)."""
    return (concurrency + isl + 64 + 63) // 64 * 64


#: ``max-cudagraph-capture-size: 2048`` in gptoss_fp4_h100.sh / gptoss_fp4_h200.sh's config.yaml (since
#: #666, 2026-02-19; every gpt-oss run here is later): vLLM captures piecewise graphs up to
#: min(2048, max_num_batched_tokens 8192) tokens (``VllmConfig._set_cudagraph_sizes``)
GPT_OSS_CUDAGRAPH_CAPTURE_SIZE = 2048


def launch_keys(model: str, gpu: str, engine: str, label: str, tp: int, concurrency: int) -> dict[str, Any]:
    """The ``scheduler`` keys, the ``parallelism`` keys that add to the sweep's tp, and the ``runtime``
    keys that override the engine's preset (``preset`` among them where the launch is a preset of its
    own: TensorRT-LLM's trtllm-serve), of a
    sweep's deployment as InferenceX launched it; {} where its scripts are not described here (the
    engine's defaults then apply). Its FP8 KV cache is set with the other precision keys
    (``inferencex.KV_CACHE_DTYPE``); ``precision`` keys here override them where the script's
    setting never reached the engine (:data:`VLLM_CONFIG_FILE_IGNORED`).

    ``model``: the preset name; ``gpu``: InferenceX's GPU word (h100, h200, b200); ``engine``: the
    runtime preset (vllm, trt-llm); ``label``: 1k1k, 1k8k or 8k1k."""
    if engine == "trt-llm":  # trtllm-serve's PyTorch backend, every model (module docstring)
        keys: dict[str, Any] = {"runtime": {"preset": TRTLLM_SERVE_PRESET}}
    else:
        keys = {}
    if model == "gpt-oss-120b" and engine == "vllm" and gpu in VLLM_SEQS_FROM_CONCURRENCY:
        return {"scheduler": {"overlap": True, "max_batched_tokens": 8192, "max_batch_size": concurrency},
                "runtime": {"prefill_graph_tokens": GPT_OSS_CUDAGRAPH_CAPTURE_SIZE}}
    if model == "deepseek-v3" and engine == "sglang" and gpu == "h200":
        return {"scheduler": {"max_batched_tokens": SGLANG_DSR1_H200_CHUNK_TOKENS,
                              "max_batch_size": 512 if label == "1k1k" else 256,
                              "memory_utilization": SGLANG_DSR1_H200_MEM_FRACTION}}
    if model == "deepseek-v3" and engine == "trt-llm" and gpu == "h200":
        keys["scheduler"] = {"overlap": True, "memory_utilization": TRT_DSR1_H200_KV_FRACTION,
                             "max_batched_tokens": trt_dsr1_max_num_tokens(concurrency, LABEL_ISL[label])}
        adp = concurrency > TRT_DSR1_H200_ADP_ABOVE[label]
        keys["parallelism"] = {"ep": tp, "attention_dp": adp}
        if adp:  # attention_dp_config: enable_balance with timeout_iters 60, batching_wait_iters 0
            keys["scheduler"]["adp_balance_iters"] = TRT_DSR1_H200_ADP_TIMEOUT_ITERS
        return keys
    if model != "llama-3.1-70b":
        return keys
    if engine == "vllm":
        seqs = concurrency if gpu in VLLM_SEQS_FROM_CONCURRENCY else 512
        graphed = min(2 * seqs, 512) if gpu in VLLM_SEQS_FROM_CONCURRENCY else 0  # B200: FULL_DECODE_ONLY
        if gpu in VLLM_CONFIG_FILE_IGNORED:  # config.yaml unread: vLLM's defaults (module docstring)
            return {"scheduler": {"overlap": False, "max_batched_tokens": 8192, "max_batch_size": seqs},
                    "runtime": {"prefill_graph_tokens": graphed, **VLLM_0_10_ALLREDUCE},
                    "precision": {"kv_cache": "bf16"}}
        runtime: dict[str, Any] = {"prefill_graph_tokens": graphed, **VLLM_0_10_ALLREDUCE}
        if gpu in VLLM_FLASHINFER_FP8_GEMM:  # eager steps pay FlashInfer's bmm_fp8 per FP8 GEMM
            runtime["eager_gemm_host"] = FLASHINFER_BMM_FP8_HOST_S
        if gpu in VLLM_TRTLLM_FP8_ATTENTION:  # the FP8 cache's FP8 query: TRT-LLM's FP8 context kernel
            runtime["prefill_attention_flops"] = TRTLLM_FP8_CONTEXT_B200_FLOPS
        if gpu in VLLM_B200_FUSION_FLAG:  # its compilation flags split and fuse kernels (launch_kernels.py)
            runtime["layer_kernel_delta"] = B200_LAUNCH_DELTA if tp == 1 else B200_LAUNCH_DELTA_FALLBACK
            if tp in VLLM_B200_FUSION_THRESHOLD_MB:
                runtime["fused_allreduce_tokens"] = fused_allreduce_tokens(
                    VLLM_B200_FUSION_THRESHOLD_MB[tp] * 2**20, LLAMA_70B_HIDDEN, tp)
                runtime["layer_kernel_delta_fused"] = B200_LAUNCH_DELTA_FUSED
        return {"scheduler": {"overlap": True, "max_batched_tokens": 8192, "max_batch_size": seqs},
                "runtime": runtime}
    if engine == "trt-llm":
        sched: dict[str, Any] = {"overlap": True, "max_batched_tokens": 16384}
        if label == "1k1k" and tp < 8:
            sched.update(batch_wait_iters=20, batch_wait_tokens_ratio=0.9)
        keys["scheduler"] = sched
    return keys
