"""Devices that are not a discrete GPU with HBM: dataflow chips with weights in SRAM, weights wired
into logic, and unified-memory machines. Small rules the memory checks, the KV ledger and the
device rates consult (docs/assumptions.md section 4).

- ``kind: gpu``: weights and KV in device memory, kernels launched one after another; 1 GiB of
  every GPU is kept free for activations, the CUDA context and communication buffers.
- ``kind: sram`` (Groq LPU, Cerebras WSE-3): weights and KV live in on-chip SRAM spread over as
  many chips as it takes to hold them; ``memory`` is one chip's SRAM and ``memory_bandwidth`` its
  SRAM bandwidth. A compiler schedules every operation statically, so there are no kernel launches
  and no per-kernel gaps; activations stream between functional units or cores and need no
  separate workspace unless ``workspace`` says so. A model larger than one chip is split into a
  pipeline of layer groups across chips (``parallelism.pp``), and a layer wider than one chip
  across several (``parallelism.tp``); the chip-to-chip links are the scenario's links.
- ``spatial`` (Cerebras): each core computes on the weights in its own SRAM, and the compiler gives
  every layer a region of cores (Cerebras' "layer pipelined" execution mode: "the compiler maps
  each layer of the network onto a part of the WSE ... weights remain in the memory on the WSE
  within the layer to which they belong", docs.cerebras.net, Cerebras execution modes). At batch 1
  only the region of the op at hand works: an op whose weights are a share s of the chip's
  resident weights gets s of the chip's bandwidth and FLOP/s. With weights spread evenly, each
  dependent step then takes (resident bytes / chip bandwidth) however small it is; a module is
  :data:`DEPENDENT_STEPS` such steps (its matrices run one after another). A batch of tokens, or a
  pipeline full of other users' tokens, is what fills the other regions.
- ``memory_ports`` (Cerebras): the quoted SRAM bandwidth is the sum over each core's ports (two
  64-bit reads and one 64-bit write per cycle, Lie, "Cerebras Architecture Deep Dive", Hot Chips 34,
  2022, and IEEE Micro 43(3), 2023: 850,000 cores x 24 B x 1.1 GHz = 22 PB/s, WSE-2's quoted
  "20 PB/s"). A matrix-vector product on such a core is a run of AXPYs, y[:] += A[:, j] x_j
  (Cerebras SDK GEMV tutorials, ``@fmacs(y_dsd, y_dsd, A_dsd, x)``): every multiply-accumulate reads
  one matrix word, reads the accumulator and writes it back, each through its own port. So only
  (reads - 1) of the (reads + writes) ports carry the matrix: 1/3 of the quoted bandwidth on a WSE
  (:func:`matrix_stream_share`). At batch 1 there is no reuse to hide this: each weight is used once.
- ``lockstep_pipeline`` (Groq): every chip of the system runs one compile-time schedule in
  lock-step (Abts et al., ISCA 2022: a software-scheduled network of TSPs with no arbitration,
  kept in step by hardware-aligned counters), and a program pipelined over chips repeats with one
  period, the duration of its pipelining stage: GroqFlow's latency estimate is "the duration of a
  single pipelining stage" times the chips used (groq/groqflow, groqmodel.py,
  ``estimate_performance``). So each stage of a lock-step pipeline holds a step for the slowest
  stage's time, and one token takes pp periods (:func:`stage_periods`); a stage with less work
  waits out the rest of its period.
- ``kind: logic`` (Taalas HC1): the weights are the chip's wiring, so they take neither memory
  nor memory bandwidth; ``memory`` is the SRAM left for the KV cache; the time of a step is the
  compute (and the KV traffic) alone.
- ``unified_memory``: the CPU, the OS and the GPU share one memory and one bandwidth (Apple
  M-series, NVIDIA GB10, AMD Strix Halo); ``os_reserved`` bytes never reach the model or the KV
  cache (macOS lets the GPU wire only part of the memory by default), and the bandwidth is the
  SoC's.
"""

from __future__ import annotations

import math

from simdecode.scenario.hardware import GpuSpec

#: memory kept free on every GPU (CUDA context, activations, NCCL buffers), bytes; vLLM profiles
#: ~1-2 GiB for a 7-70B model; 1 GiB is a conservative floor
GPU_WORKSPACE_BYTES = 2**30


def workspace_bytes(gpu: GpuSpec) -> float | None:
    """Bytes of each device kept for activations and the runtime: the GPU spec's ``workspace``,
    none on SRAM and hard-wired chips, or None on a GPU (the engine's activation workspace,
    :func:`simdecode.costmodel.memory.activation_workspace_bytes`, decides)."""
    if gpu.workspace_bytes is not None:
        return gpu.workspace_bytes
    return None if gpu.kind == "gpu" else 0.0


def usable_memory_bytes(gpu: GpuSpec, memory_utilization: float) -> float:
    """Bytes of one device the weights, KV cache and workspace may use: the share
    ``memory_utilization`` of what the OS leaves (all of it on a discrete device)."""
    return memory_utilization * max(0.0, gpu.memory_bytes - gpu.os_reserved_bytes)


def launches_kernels(gpu: GpuSpec) -> bool:
    """False for dataflow and hard-wired chips: nothing is launched, every op is scheduled."""
    return gpu.kind == "gpu"


def matrix_stream_share(gpu: GpuSpec) -> float:
    """Share of ``memory_bandwidth`` a matrix-vector product streams its matrix at: (r - 1) / (r + w)
    with r read and w write ports of one width (the accumulator takes one read and the writes);
    1.0 when the device gives no ports (its quoted bandwidth is what feeds the math).

    Cerebras WSE (2 reads + 1 write per core per cycle): 1/3, so 21 PB/s streams weights at 7 PB/s."""
    ports = gpu.memory_ports
    if ports is None:
        return 1.0
    return (ports.reads - 1) / (ports.reads + ports.writes)


def stores_weights(gpu: GpuSpec) -> bool:
    """False when the weights are the chip's logic: they take no memory and no bandwidth."""
    return gpu.kind != "logic"


def chips_to_hold(weight_bytes: float, kv_bytes: float, gpu: GpuSpec, memory_utilization: float) -> int:
    """Fewest devices whose usable memory, less their workspace, holds ``weight_bytes`` of
    weights and ``kv_bytes`` of KV cache spread evenly over them (ceil of the ratio).

    Llama-2-70B in int8 (69 GB) on 230 MB Groq LPUs with nothing else: 300 chips."""
    workspace = workspace_bytes(gpu)
    per_chip = usable_memory_bytes(gpu, memory_utilization) - (GPU_WORKSPACE_BYTES if workspace is None else workspace)
    if per_chip <= 0:
        return 0
    return math.ceil((weight_bytes + kv_bytes) / per_chip)


#: dependent matrix steps of each module on a spatial chip: attention = QKV projection, scores and
#: values over the cache, output projection; MLP = gate/up, down; MoE = router, gate/up, down;
#: embedding and LM head one each
DEPENDENT_STEPS = {"attn": 3, "mlp": 2, "mlp.moe": 3, "embed": 1, "lm_head": 1}


def spatial_share(dep, stage: int, kind: str, module_weight_bytes: float) -> float:
    """The rate share a module of ``kind`` runs at on a spatial chip, as one op: its k dependent
    steps each hold w/k of its w weight bytes on (w/k)/W of the chip (W: the stage's resident
    weights), so each takes (w/k) / (BW (w/k)/W) = W / BW and the module k W / BW: the module's
    bytes w at a share w / (k W) of the chip's rates. 1.0 on any other device."""
    if not dep.spatial:
        return 1.0
    resident = dep.weight_bytes_per_gpu(stage)
    if resident <= 0 or module_weight_bytes <= 0:
        return 1.0
    steps = DEPENDENT_STEPS.get(kind, DEPENDENT_STEPS.get(kind.split(".")[0], 1))
    return min(1.0, module_weight_bytes / (resident * steps))


def stage_periods(gpu: GpuSpec | None, stage_times_s: list[float]) -> list[float]:
    """Seconds each pipeline stage holds one step whose own times are ``stage_times_s``: on a
    lock-step pipeline (``gpu.lockstep_pipeline``) every stage takes the slowest stage's time, the
    pipeline's common period; otherwise each its own.

    Llama-2-70B over 36 stages of Groq LPUs, 8 stages of 3 layers (85 us) and 28 of 2 (57 us): one
    token takes 36 x 85 us = 3.1 ms in lock-step instead of their sum, 2.3 ms."""
    if gpu is None or not gpu.lockstep_pipeline or len(stage_times_s) < 2:
        return list(stage_times_s)
    period = max(stage_times_s)
    return [period] * len(stage_times_s)
