"""Hardware and software specs: GPUs, links and runtimes (resolved, SI units inside).

Each spec is frozen data. Scenario files use the short keys (``memory_bandwidth: "3.35 TB/s"``);
inside simdecode the attribute carries its unit (``memory_bandwidth_Bps``).
"""

from __future__ import annotations

from math import gcd, prod
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simdecode.scenario.types import Bandwidth, Bytes, DType, Duration, FlopRate, Fraction, PerOpDuration, Power


class Spec(BaseModel):
    """Base of every scenario section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class MemoryPorts(Spec):
    """The equal-width SRAM ports of one core, each moving one word per cycle (Cerebras: two 64-bit
    reads and one 64-bit write per cycle, Lie, Hot Chips 34 / IEEE Micro 2023)."""

    reads: int = Field(ge=1, le=64, description="read ports per core, each one word per cycle")
    writes: int = Field(ge=0, le=64, description="write ports per core, each one word per cycle")


class GpuSpec(Spec):
    """One accelerator. Peak figures are the vendor's dense (non-sparse) numbers."""

    name: str = Field("custom", description="catalogue name")
    memory_bytes: Bytes = Field(alias="memory", description="device memory, e.g. '80 GB'")
    memory_bandwidth_Bps: Bandwidth = Field(alias="memory_bandwidth", description="peak HBM/GDDR bandwidth")
    flops_per_s: dict[DType, FlopRate] = Field(
        alias="flops", description="dense tensor FLOP/s per dtype, e.g. {bf16: '989 TFLOP/s'}"
    )
    vector_flops_per_s: FlopRate | None = Field(
        None, alias="vector_flops", description="non-tensor (CUDA-core / vector ALU) FP32 FLOP/s, which runs the "
        "dequantisation of weight-only formats (default: the bf16 tensor peak / 16, as on A100 and H100)"
    )
    compute_capability: float | None = Field(
        None, gt=0, description="CUDA compute capability (9.0: Hopper; 10.0: B200), where a kernel's measured "
        "behaviour holds only for one GPU generation (runtime.gemm_efficiency applies on 9.0 only, "
        "costmodel/gemm_stream.py; NVFP4's k-loop on 10.x, costmodel/fp4_gemm.py); unset: not an NVIDIA GPU"
    )
    int32_share: float = Field(
        0.5, gt=0, le=1, description="INT32 lanes per FP32 lane, which decode FP4 weights in Marlin "
        "(0.5: 64 of 128 per SM on Hopper, Ada and GA10x; 1.0 on A100: 64 and 64, A100 whitepaper)"
    )
    warp_mma_share: float = Field(
        1.0, gt=0, le=1, description="share of the dense tensor peak that warp-level mma.sync (Ampere's "
        "instruction, which Marlin's weight-only kernels issue) reaches: 2/3 on Hopper, whose peak needs wgmma "
        "(FlashAttention-3, arXiv 2407.08608); 1.0 where mma.sync is the native instruction"
    )
    stream_share: Fraction | None = Field(
        None, description="share of memory_bandwidth a read-only streaming kernel measured on this GPU reaches "
        "(BabelStream's Dot, clpeak's global-memory read: costmodel/stream_share.py, with the sources); the weight "
        "GEMMs of a runtime whose memory_efficiency was chosen on another GPU (its calibrated_on) keep the same "
        "share of this figure; unset: not measured, and every runtime's memory_efficiency applies as written"
    )
    tdp_W: Power | None = Field(
        None, alias="tdp", description="board power the peaks are quoted at (unset where the vendor publishes "
        "none, e.g. Google's TPUs; a power_limit then cannot be applied)"
    )
    power_limit_W: Power | None = Field(
        None, alias="power_limit", description="a lower power cap; clocks (and so peaks) scale down with it"
    )
    default_link: str = Field("pcie4", description="preset of the intra-node link GPUs of this kind use")
    peer_to_peer: bool = Field(
        True, description="GPUs write to each other's memory directly; GeForce drivers disable it, so "
        "transfers bounce through host memory"
    )
    kind: Literal["gpu", "sram", "logic"] = Field(
        "gpu", description="gpu: weights in device memory (HBM, GDDR, LPDDR), kernels launched one after "
        "another; sram: a dataflow chip whose weights live in on-chip SRAM spread over many chips (Groq LPU, "
        "Cerebras WSE), no kernel launches; logic: weights wired into the chip's logic (Taalas), taking no "
        "memory and no bandwidth (simdecode/costmodel/devices.py)"
    )
    vendor: Literal["nvidia", "amd", "google", "apple"] = Field(
        "nvidia", description="who makes it: only the words explanations use for its units (CUDA and tensor "
        "cores; AMD's compute units and matrix cores; a TPU's vector and matrix units; Apple's GPU cores)"
    )
    workspace_bytes: Bytes | None = Field(
        None, alias="workspace", description="memory kept free on every device for activations, the runtime "
        "and its buffers; default 1 GiB for a gpu, 0 for sram and logic chips (their compiler places "
        "activations in the memory they are given)"
    )
    spatial: bool = Field(
        False, description="sram kind: each core computes on the weights in its own SRAM and every layer owns a "
        "region of cores (Cerebras' layer-pipelined mode), so one token's layer gets only its region's share "
        "of the chip's bandwidth and FLOP/s; false: every op streams from the whole chip (Groq)"
    )
    lockstep_pipeline: bool = Field(
        False, description="the chips run one compile-time schedule in lock-step, so every pipeline stage "
        "advances in one common period, the slowest stage's: a token crosses pp stages in pp periods (Groq: "
        "GroqFlow's latency estimate is the pipelining stage's cycles x the chips; simdecode/costmodel/"
        "devices.py); false: each stage takes its own time"
    )
    memory_ports: MemoryPorts | None = Field(
        None, description="sram kind: the core's SRAM ports when memory_bandwidth counts all of them (Cerebras: "
        "{reads: 2, writes: 1}); a matrix-vector product streams its matrix through one read port while the "
        "accumulator takes a read and a write, so the matrix moves at (reads - 1) / (reads + writes) of "
        "memory_bandwidth (simdecode/costmodel/devices.py); unset: the whole bandwidth carries weights"
    )
    unified_memory: bool = Field(
        False, description="CPU and GPU share one memory and one bandwidth (Apple M-series, GB10, Strix Halo): "
        "the model, the KV cache and the OS come out of the same bytes"
    )
    os_reserved_bytes: Bytes = Field(
        0.0, alias="os_reserved", description="unified memory the OS keeps from the GPU (e.g. macOS's default "
        "wired limit); memory_utilization applies to the rest"
    )

    @model_validator(mode="after")
    def _needs_a_matmul_dtype(self) -> GpuSpec:
        if not self.flops_per_s:
            raise ValueError("flops must give at least one dtype, e.g. {bf16: '989 TFLOP/s'}")
        if self.power_limit_W is not None and self.tdp_W is None:
            raise ValueError("power_limit needs the GPU's tdp (the power its peaks are quoted at)")
        return self


class LinkSpec(Spec):
    """One direction of a GPU-to-GPU path: line rate, per-hop latency and its topology."""

    name: str = Field("custom", description="catalogue name")
    bandwidth_Bps: Bandwidth = Field(alias="bandwidth", description="per direction, per GPU")
    latency_s: PerOpDuration = Field(alias="latency", description="per hop (NCCL's per-step hwLat)")
    efficiency: Fraction = Field(0.8, description="achievable share of the line rate (protocol overhead)")
    topology: Literal["switch", "mesh", "pcie", "network", "torus"] = Field(
        "switch", description="switch: all-to-all (NVSwitch, IB); mesh: one link per pair (xGMI); "
        "pcie: own link to a PCIe switch, traffic between switches through the shared root complex; "
        "torus: each chip linked to its neighbours in every dimension of torus_dims (TPU ICI); "
        "bandwidth is then per link and direction"
    )
    torus_dims: tuple[int, ...] = Field(
        (), description="torus topology: chips along each dimension of the slice, e.g. [2, 4] (a TPU v5e "
        "host) or [4, 4, 4] (a TPU v5p cube); their product is gpus_per_node"
    )
    wraparound: bool = Field(
        False, description="torus topology: each full dimension closes into a ring (a link from its last "
        "chip back to its first), so rings run both ways at once; false: an open line (a mesh)"
    )
    transport: Literal["nvlink", "pcie", "net"] = Field(
        "nvlink", description="row of NCCL's latency table used for this link"
    )
    multicast: bool = Field(False, description="the switch can reduce and multicast (NVLS / NVLink SHARP)")

    @model_validator(mode="after")
    def _torus_needs_its_shape(self) -> LinkSpec:
        if self.topology == "torus" and not self.torus_dims:
            raise ValueError("a torus link needs torus_dims, the chips along each dimension, e.g. [2, 4]")
        if any(d < 1 for d in self.torus_dims):
            raise ValueError(f"torus_dims must be positive chip counts, got {list(self.torus_dims)}")
        return self


class RuntimeSpec(Spec):
    """The serving engine's software traits: how close it gets to the hardware's roofline."""

    name: str = Field("custom", description="catalogue name")
    memory_efficiency: Fraction = Field(0.7, description="achieved share of peak memory bandwidth (MBU)")
    compute_efficiency: Fraction = Field(0.6, description="achieved share of peak FLOP/s (MFU)")
    kernel_launch_s: PerOpDuration = Field(
        2e-6, alias="kernel_launch", description="fixed GPU-side cost per kernel (launch gap, ramp and tail)"
    )
    kernels_per_layer: int = Field(15, ge=0, le=1000, description="kernels launched per transformer layer")
    cuda_graphs: bool = Field(
        True, description="kernels replayed from a captured graph; false adds the host's launch cost per kernel"
    )
    allreduce_impl: Literal["nccl", "custom", "in-kernel", "scheduled"] = Field(
        "nccl", description="nccl: NCCL's algorithms; custom: one-/two-shot kernels; in-kernel: fused; "
        "scheduled: placed at compile time by a dataflow compiler (no barriers, no protocol)"
    )
    allreduce_overhead_s: PerOpDuration = Field(
        5e-6, alias="allreduce_overhead", description="fixed time per collective (launch and sync)"
    )
    custom_allreduce_max_bytes: Bytes | None = Field(
        None, alias="custom_allreduce_max", description="with allreduce_impl custom: messages of this size "
        "or more go to NCCL instead (vLLM's custom all-reduce buffer, 8 MiB); unset: no limit"
    )
    allreduce_multimem: bool = Field(
        True, description="with allreduce_impl custom: the engine also has multimem (NVLS) kernels on a "
        "multicast switch (TensorRT-LLM's, vLLM's symmetric-memory all-reduce); false: one-/two-shot only "
        "(vLLM 0.10)"
    )
    shard_lm_head: bool = Field(True, description="the LM head is split over the TP group (vocab-parallel)")
    step_overhead_s: Duration = Field(
        0.0, alias="step_overhead", description="host time per forward step (scheduling, sampling)"
    )
    engine: Literal["generic", "vllm", "trt-llm", "sglang", "llama.cpp", "gpt-fast", "fastertransformer"] = Field(
        "generic", description="whose scheduling and memory defaults apply (batch limits, KV block size, memory "
        "fraction, admission): see docs/assumptions.md; scheduler keys override them"
    )
    tokenize_s_per_token: PerOpDuration = Field(
        0.0, alias="tokenize_per_token", description="server time to tokenise one prompt token before the request "
        "reaches the scheduler"
    )
    request_overhead_s: Duration = Field(
        0.0, alias="request_overhead", description="server time per request before scheduling, besides "
        "tokenising (HTTP parsing, hand-off from the API server to the engine)"
    )
    output_overhead_s: Duration = Field(
        0.0, alias="output_overhead", description="time from a token's step to the client (detokenising, "
        "streaming); counted in client TTFT and E2E, not in TPOT"
    )
    dequant_overlap: bool = Field(
        True, description="weight-only int8/int4 kernels dequantise in the shadow of the weight stream "
        "(Marlin, Machete, Triton matmul_ogs); false: after it, adding to the kernel's time (gpt-fast)"
    )
    prefill_graph_tokens: int | None = Field(
        None, ge=0, description="largest step holding a prefill chunk, in tokens, that the engine still replays "
        "from a CUDA graph; a larger one runs eagerly, its host dispatching every kernel and collective, so the "
        "step lasts at least as long as the host takes to issue them, 35 us each (0: no prefill step is graphed, "
        "as TensorRT-LLM's PyTorch backend and SGLang do; unset: every step is graphed as cuda_graphs says)"
    )
    eager_gemm_host_s: PerOpDuration = Field(
        0.0, alias="eager_gemm_host", description="host time an eager step (see prefill_graph_tokens) spends on "
        "each weight GEMM of a dense layer (QKV, O, gate+up, down) beyond dispatching its kernel: the engine's "
        "Python wrapper choosing the kernel on every call (vLLM 0.10's FP8 linear on Blackwell calls FlashInfer's "
        "bmm_fp8, 31 us: costmodel/eager.py); graphed steps replay without it"
    )
    layer_kernel_delta: int = Field(
        0, ge=-1000, le=1000, description="kernels per layer the launch's compilation flags add to "
        "kernels_per_layer (negative: fold out), every step; half to the attention block, half to the MLP "
        "(vLLM 0.10 on InferenceX's B200: +2 at tp 1, +4 at tp > 1: costmodel/launch_kernels.py)"
    )
    fused_allreduce_tokens: int = Field(
        0, ge=0, description="steps of at most this many tokens at tp > 1 run each all-reduce fused with the "
        "RMSNorm and FP8 quantisation after it (vLLM's FlashInfer all-reduce fusion) and take "
        "layer_kernel_delta_fused instead of layer_kernel_delta (0: none do)"
    )
    layer_kernel_delta_fused: int = Field(
        0, ge=-1000, le=1000, description="layer_kernel_delta for the steps fused_allreduce_tokens covers"
    )
    prefill_attention_flops_per_s: FlopRate | None = Field(
        None, alias="prefill_attention_flops", description="FLOP/s one GPU's attention kernel reaches on the "
        "scores of prefill chunks (QK^T and PV of grouped-query attention), when measured for the engine's "
        "kernel (vLLM 0.10 on B200 with an FP8 KV cache: TRT-LLM's FP8 context kernel, 393 TFLOP/s: "
        "costmodel/prefill_attention.py); unset: the module's math rate (peak x compute_efficiency)"
    )
    grouped_gemm_efficiency: Fraction | None = Field(
        None, description="achieved share of peak memory bandwidth of the MoE grouped expert GEMMs, when "
        "measured for the engine's kernel; weight-only experts use it too when dequant_overlap is true (a "
        "pipelined kernel such as Marlin, whose decode is bounded on its own); unset: gemm_efficiency where that "
        "applies (Hopper: TensorRT-LLM's fp8 experts run DeepGEMM's grouped GEMM, costmodel/moe.py), else memory_efficiency"
    )
    static_kv_cache_tokens: int | None = Field(
        None, ge=1, le=10_000_000, description="positions of a KV cache the engine allocates per sequence up "
        "front and attends over in full every step, masking the unwritten ones (gpt-fast's KVCache of "
        "max_seq_length: costmodel/static_kv.py); unset: attention reads each sequence's context"
    )
    calibrated_on: str | None = Field(
        None, description="the GPU preset memory_efficiency was chosen on (gpt-fast: a100-80gb, DEC-01..04). On a "
        "GPU with a measured stream_share, this one's measured too, the weight GEMMs stream at memory_efficiency x "
        "stream_share(GPU) / stream_share(calibrated_on), the KV cache still at memory_efficiency "
        "(costmodel/stream_share.py); unset: memory_efficiency on every GPU"
    )
    gemm_efficiency: Fraction | None = Field(
        None, description="achieved share of peak memory bandwidth of a dense layer's weight GEMMs (attention "
        "projections, dense MLP; the MoE experts too where grouped_gemm_efficiency is unset), when measured for the engine's kernels; applied on GPUs of compute capability 9.0 "
        "(Hopper, where it was measured), elsewhere memory_efficiency; the KV cache the attention kernel reads "
        "stays at memory_efficiency (costmodel/gemm_stream.py); unset: memory_efficiency"
    )


    @field_validator("calibrated_on")
    @classmethod
    def _calibrated_on_a_gpu_preset(cls, value: str | None) -> str | None:
        from simdecode.presets import names, suggest

        if value is None or value in names("gpus"):
            return value
        close = suggest(value, names("gpus"))
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"{value!r} is not a GPU preset{hint}")


def group_dims(p: int, torus_dims: tuple[int, ...]) -> tuple[int, ...]:
    """The block of chips a group of ``p`` occupies in the slice: filled dimension by dimension
    (the first dimension first, as device meshes enumerate chips), g_i = gcd(d_i, what is left).

    >>> group_dims(8, (2, 4)), group_dims(4, (2, 4)), group_dims(16, (4, 4, 4))
    ((2, 4), (2, 2), (4, 4, 1))
    """
    left, out = p, []
    for d in torus_dims:
        g = gcd(d, left)
        out.append(g)
        left //= g
    if left != 1:
        raise ValueError(f"a group of {p} chips does not fit the torus {list(torus_dims)}: "
                         f"it must divide into its dimensions (product {prod(torus_dims)})")
    return tuple(out)
