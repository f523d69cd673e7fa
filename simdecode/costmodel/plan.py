"""The step plan: the one place that decides what work a forward step is (architecture.md 5-6).

A :class:`StepPlan` is the DAG of ops one pipeline stage runs for one step, on two streams per
GPU (compute and communication, like CUDA streams). All GPUs of a TP group run the same plan
in lock-step, so a plan describes one representative rank. Executors decide how time passes
(one fold, one event per module, one process per op); they never decide what work exists.

Tensor-parallel schedules differ only in which collective a module waits for
(physics.md 1.5). With modules numbered m = 0, 1, ... (attention and MLP are separate modules):

- ``megatron``:        module m waits for the all-reduce of module m-1 (2 per layer, blocking);
- ``parallel-block``:  attention and MLP of a layer run back to back, one all-reduce per layer;
- ``ladder``:          module m waits for the all-reduce of module m-2 (delay 1);
- ``delayed``:         module m waits for the exchange of module m-1-delta (Kog's DTP, delta =
                       ``tp_delay``); the LM head waits for every exchange (final aggregation).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

from simdecode.costmodel import collectives, modules
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.collectives import CollectiveCost
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.roofline import ideal_time, kernel_time


class Stream(IntEnum):
    COMPUTE = 0
    COMM = 1


@dataclass(frozen=True, slots=True)
class Op:
    """One unit of work on one stream of every GPU of a TP group.

    time_s:    duration in isolation (compute: roofline + launch; comm: alpha + beta)
    launch_s:  the fixed per-kernel part of a compute op's time
    alpha_s:   the latency part of a collective's time
    flops, hbm_bytes: per GPU; net_bytes: bytes each rank sends
    after:     indices of ops (in the same plan) that must finish first
    """

    name: str
    layer: int
    stream: Stream
    time_s: float
    launch_s: float = 0.0
    alpha_s: float = 0.0
    flops: float = 0.0
    hbm_bytes: float = 0.0
    net_bytes: float = 0.0
    ideal_s: float = 0.0
    memory_bound: bool = True
    after: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class StepPlan:
    stage: int
    shape: BatchShape
    ops: tuple[Op, ...]
    tp: int


_DELAY = {"megatron": 0, "parallel-block": 0, "ladder": 1}


def module_delay(dep: Deployment) -> int:
    """Modules between a collective's launch and the first module that needs its result."""
    if dep.tp_mode == "delayed":
        return dep.tp_delay
    if dep.tp_mode not in _DELAY:
        raise ValueError(f"tp_mode {dep.tp_mode!r} is not supported by the step planner")
    return _DELAY[dep.tp_mode]


class _Builder:
    def __init__(self, dep: Deployment, shape: BatchShape):
        self.dep, self.shape = dep, shape
        self.ops: list[Op] = []
        self.last_compute: int | None = None
        self.collectives: list[int] = []  # one entry per module: index of its collective (or -1)
        self.delay = module_delay(dep)
        half = dep.runtime.kernels_per_layer / 2
        self.kernels = {"attn": half, "mlp": half}

    def compute(self, name: str, layer: int, hbm: float, flops: float, kernels: float) -> int:
        rates = self.dep.rates
        launch = kernels * rates.kernel_s
        after: list[int] = []
        if self.last_compute is not None:
            after.append(self.last_compute)
        # the collective this module must see (schedule rule in the module docstring)
        wait = len(self.collectives) - 1 - self.delay
        if 0 <= wait < len(self.collectives) and self.collectives[wait] >= 0:
            after.append(self.collectives[wait])
        op = Op(name, layer, Stream.COMPUTE, kernel_time(hbm, flops, rates) + launch, launch_s=launch,
                flops=flops, hbm_bytes=hbm, ideal_s=ideal_time(hbm, flops, rates),
                memory_bound=hbm / rates.bandwidth_Bps >= flops / rates.flops_per_s, after=tuple(after))
        self.ops.append(op)
        self.last_compute = len(self.ops) - 1
        return self.last_compute

    def collective(self, name: str, layer: int, cost: CollectiveCost, nbytes: float) -> None:
        if cost.time_s <= 0:
            self.collectives.append(-1)
            return
        after = (self.last_compute,) if self.last_compute is not None else ()
        self.ops.append(Op(name, layer, Stream.COMM, cost.time_s, alpha_s=cost.alpha_s, net_bytes=nbytes, after=after))
        self.collectives.append(len(self.ops) - 1)

    def no_collective(self) -> None:
        self.collectives.append(-1)


def build_stage_plan(dep: Deployment, stage: int, shape: BatchShape) -> StepPlan:
    """The ops stage ``stage`` runs for one step of batch ``shape`` (see module docstring)."""
    b = _Builder(dep, shape)
    layers = dep.stage_layers(stage)
    msg = shape.new_tokens * dep.model.hidden_size * dep.act_bytes  # one activation per token
    ar = collectives.all_reduce(msg, dep.tp, dep.link, dep.runtime, dep.allreduce, dep.tp_nodes, dep.inter_link)
    if stage == 0:
        if dep.runtime.step_overhead_s > 0:
            b.ops.append(Op("host", -1, Stream.COMPUTE, dep.runtime.step_overhead_s))
            b.last_compute = 0
        hbm, flops = modules.embedding(dep, shape)
        b.compute("embed", -1, hbm, flops, 1)
        b.no_collective()
    cache: dict[tuple[str, bool, bool], tuple[float, float]] = {}
    for layer in layers:
        a_cost = _cached(cache, ("attn", *_layer_kind(dep, layer)), lambda: modules.attention(dep, layer, shape))
        m_cost = _cached(cache, ("mlp", *_layer_kind(dep, layer)), lambda: modules.mlp(dep, layer, shape))
        if dep.tp_mode == "parallel-block":
            b.compute(f"L{layer}.attn", layer, *a_cost, b.kernels["attn"])
            b.collectives.append(-1)  # attention and MLP share the layer's one all-reduce
            b.compute(f"L{layer}.mlp", layer, *m_cost, b.kernels["mlp"])
            b.collective(f"L{layer}.allreduce", layer, ar, msg)
        else:
            b.compute(f"L{layer}.attn", layer, *a_cost, b.kernels["attn"])
            b.collective(f"L{layer}.attn.allreduce", layer, ar, msg)
            b.compute(f"L{layer}.mlp", layer, *m_cost, b.kernels["mlp"])
            b.collective(f"L{layer}.mlp.allreduce", layer, ar, msg)
    if stage == dep.pp - 1:
        # the final aggregation: the LM head sees every exchange of this stage
        needed = _needed(b)
        pending = tuple(i for i in b.collectives if i >= 0 and i not in needed)
        hbm, flops = modules.lm_head(dep, shape)
        b.delay = 0
        idx = b.compute("lm_head", -1, hbm, flops, 2)  # the head and the sampler
        if pending:
            op = b.ops[idx]
            b.ops[idx] = replace(op, after=tuple(sorted(set(op.after) | set(pending))))
        if dep.runtime.shard_lm_head and dep.tp > 1:
            logits = shape.logit_tokens * dep.model.vocab_size / dep.tp * 4.0  # fp32 logits
            b.collective("lm_head.gather", -1, collectives.all_gather(logits * dep.tp, dep.tp, dep.link, dep.runtime), logits)
    return StepPlan(stage, shape, tuple(b.ops), dep.tp)


def _needed(b: _Builder) -> set[int]:
    """Collectives some compute op already waits for."""
    return {a for op in b.ops if op.stream is Stream.COMPUTE for a in op.after if b.ops[a].stream is Stream.COMM}


def _layer_kind(dep: Deployment, layer: int) -> tuple[bool, bool]:
    from simdecode.costmodel.architecture import layer_is_moe, layer_is_sliding

    return layer_is_sliding(dep.model, layer), layer_is_moe(dep.model, layer)


def _cached(cache, key, fn):
    if key not in cache:
        cache[key] = fn()
    return cache[key]
