"""The step plan: the one place that decides what work a forward step is (docs/architecture.md, "The step plan and its fold").

A :class:`StepPlan` is the DAG of ops one pipeline stage runs for one step, on two streams per
GPU (compute and communication, like CUDA streams). All GPUs of a TP group run the same plan in
lock-step, so a plan describes one representative rank. Executors decide how time passes (one
fold, one event per module, one process per op); they never decide what work exists.

A plan is a shape-independent :class:`PlanTemplate` (which ops exist, on which stream, after
which others; cached per stage) plus a per-step table of :class:`OpCost` by op kind (every
attention module of a dense model costs the same), so building a step is cheap.

Tensor-parallel schedules differ only in which exchange a module waits for and which modules
launch one (physics.md 1.2, 1.5): each is a module of :mod:`simdecode.tp_schedules` (megatron,
parallel-block, ladder, delayed, chunked-overlap, ...), whose rules :func:`_template` applies.
With a vocabulary-parallel embedding (the runtime shards the LM head and embedding, as vLLM's
VocabParallelEmbedding does) each rank looks up only its rows and one all-reduce after the
embedding completes them.

With expert parallelism (``ep`` > 1, megatron schedule) a MoE block is preceded by an all-to-all
dispatch of each rank's share of the tokens to the GPUs owning their k experts
(T k h (ep-1)/ep^2 bytes per rank) and followed by an all-to-all combine that returns every
token's output to every rank (T h (ep-1)/ep bytes), in place of the block's all-reduce. TensorRT-LLM
dispatches no tokens there: after attention's all-reduce every rank holds all of them, its experts run
on all, and the block ends with the all-reduce of a dense one (``CutlassFusedMoE.reducescatter_or_allreduce``
without attention DP; :func:`_moe_dispatches`).

With attention data parallelism (costmodel/attention_dp.py) the attention-side modules run on one
rank's own sequences with tp 1 and exchange nothing; each MoE block is preceded by an all-gather of
every rank's tokens (kind ``dispatch``) and followed by a reduce-scatter (kind ``combine``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum
from functools import cached_property
from typing import Iterator

from simdecode import tp_schedules
from simdecode.costmodel import attention_dp, collectives, devices, eager, modules, mtp, trtllm_allreduce
from simdecode.costmodel.architecture import layer_is_moe
from simdecode.costmodel.layers import FULL, NONE, has_mlp, layer_kind
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.efficiency import dequant_bound_seconds, ideal_seconds, part_seconds

#: every TP schedule's name (simdecode.tp_schedules)
MODES = tp_schedules.names()
#: modes whose forward pass computes a different function from the unsplit model
CHANGES_MODEL = frozenset(name for name, s in tp_schedules.schedules().items() if not s.exact)


class Stream(IntEnum):
    COMPUTE = 0
    COMM = 1


@dataclass(frozen=True, slots=True)
class OpSlot:
    """One op of a template: what runs, on which stream, after which other slots."""

    name: str
    layer: int
    stream: Stream
    kind: str
    after: tuple[int, ...] = ()


@dataclass(slots=True)
class OpCost:
    """What one op of a kind costs this step on one GPU.

    time_s: duration in isolation (compute: roofline + launch; comm: alpha + beta);
    launch_s: the fixed per-kernel part of a compute op; alpha_s: the latency part of a collective;
    ideal_s: the roofline bound at 100% of peak; net_bytes: bytes each rank sends.

    Treated as immutable (not frozen only because a frozen dataclass takes about five times as long
    to build, and several are built for every simulated step: docs/performance.md).
    """

    time_s: float
    launch_s: float = 0.0
    alpha_s: float = 0.0
    flops: float = 0.0
    hbm_bytes: float = 0.0
    net_bytes: float = 0.0
    ideal_s: float = 0.0
    memory_bound: bool = True
    algorithm: str = ""
    protocol: str = ""
    terms: tuple[tuple[str, float, float], ...] = ()  # compute ops: (term, busy s, launch s) per named part
    #: compute ops: busy seconds the weight decode decides (efficiency.dequant_bound_seconds), and the
    #: HBM bytes, FLOPs and roofline seconds of the parts whose stream and math hide behind it
    dequant_bound_s: float = 0.0
    dequant_bound_bytes: float = 0.0
    dequant_bound_flops: float = 0.0
    dequant_hidden_s: float = 0.0
    #: compute ops: latency its kernels pay in series with the stream and the math (efficiency.Part.serial_s:
    #: the NVFP4 GEMMs' k-loops, costmodel/fp4_gemm.py), part of its busy time
    serial_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Op:
    """A template slot with its cost: the flat view executors, traces and tests use."""

    name: str
    layer: int
    stream: Stream
    kind: str
    after: tuple[int, ...]
    cost: OpCost

    @property
    def time_s(self) -> float:
        return self.cost.time_s


@dataclass(frozen=True)
class PlanTemplate:
    stage: int
    chunks: int
    slots: tuple[OpSlot, ...]
    kinds: frozenset[str]

    @cached_property
    def kind_counts(self) -> tuple[tuple[str, Stream, int], ...]:
        """(kind, its stream, number of slots of that kind), in order of first appearance."""
        counts: dict[tuple[str, Stream], int] = {}
        for slot in self.slots:
            counts[slot.kind, slot.stream] = counts.get((slot.kind, slot.stream), 0) + 1
        return tuple((kind, stream, n) for (kind, stream), n in counts.items())

    @cached_property
    def context_kinds(self) -> frozenset[str]:
        """The kinds whose cost reads the step's context (costed every step)."""
        return self.kinds & CONTEXT_KINDS

    @cached_property
    def fold_memo(self) -> dict:
        """costmodel.fold's sums over the cached op costs, by the cached dict's id."""
        return {}

    @cached_property
    def is_chain(self) -> bool:
        """Does every op start when the op before it ends (each waits for its predecessor, or
        shares its stream)? Then list scheduling is a plain sum: the makespan is the total of
        every op's time (costmodel.fold uses it)."""
        slots = self.slots
        return all(slots[i].stream is slots[i - 1].stream or (i - 1) in slots[i].after for i in range(1, len(slots)))


@dataclass(slots=True)
class StepPlan:
    """The ops stage ``stage`` runs for one step of batch ``shape``: ``template``'s slots with the
    ``costs`` of their kinds (:func:`build_stage_plan`).

    Treated as immutable (not frozen only because a frozen dataclass takes about five times as long
    to build, and one is built for every simulated step: docs/performance.md).
    """

    stage: int
    shape: BatchShape
    template: PlanTemplate
    costs: dict[str, OpCost] = field(repr=False)
    tp: int = 1
    #: the shared, cached part of ``costs`` (kinds that do not read the context), or None
    base: dict[str, OpCost] | None = field(default=None, repr=False, compare=False)
    #: seconds the host needs when it dispatches this step's kernels itself (a step off the CUDA
    #: graphs, costmodel/eager.py): the step lasts at least this long; 0 for a graphed step
    host_floor_s: float = 0.0

    def __iter__(self) -> Iterator[Op]:
        costs = self.costs
        for slot in self.template.slots:
            yield Op(slot.name, slot.layer, slot.stream, slot.kind, slot.after, costs[slot.kind])

    @property
    def ops(self) -> tuple[Op, ...]:
        return tuple(self)


def build_stage_plan(dep: Deployment, stage: int, shape: BatchShape) -> StepPlan:
    """The ops stage ``stage`` runs for one step of batch ``shape`` (see module docstring)."""
    chunked = tp_schedules.get(dep.tp_mode).chunked
    chunks = min(dep.tp_chunks, shape.new_tokens) if chunked and dep.tp > 1 else 1
    key = (stage, chunks)
    template = dep.templates.get(key)
    if template is None:
        template = dep.templates[key] = _template(dep, stage, chunks)
    costs, base = _costs(dep, template, shape)
    floor = 0.0
    if dep.rates.kernel_s > 0 and eager.runs_eagerly(dep.runtime, shape):  # GPUs launch kernels
        gemms = eager.weight_gemm_calls(dep, template.kind_counts) if dep.runtime.eager_gemm_host_s > 0 else 0
        floor = eager.host_floor_s(dep.runtime, eager.dispatched(template.kind_counts, costs, dep.rates.kernel_s),
                                   gemms)
    return StepPlan(stage, shape, template, costs, dep.tp, base, floor)


# ---- costs ---------------------------------------------------------------------------------


#: op kinds whose cost reads the step's context sums (kv_read_tokens, attn_pairs and their window
#: forms); every other kind depends on the shape only through (seqs, new_tokens, logit_tokens):
#: linear attention and Mamba read a fixed state per sequence, DSA's indexer reads the context
CONTEXT_KINDS = frozenset({"attn", "attn.sliding", "attn.sparse", "attn.csa", "attn.hca"})


def _costs(dep: Deployment, template: PlanTemplate, shape: BatchShape) -> tuple[dict[str, OpCost], dict[str, OpCost]]:
    """The cost of every op kind of ``template`` for a step of ``shape``, and the cached part of it.

    Kinds that do not read the context (MLP, all-reduces, embedding, head, host) are computed once
    per (stage, chunks, seqs, new tokens, logit tokens) and kept on the deployment (which also
    chooses each all-reduce's algorithm once per message size); attention is computed every step.
    ``tests/costmodel/test_step_cache.py`` checks cached against uncached over random shapes."""
    key = (template.stage, template.chunks, shape.seqs, shape.new_tokens, shape.logit_tokens)
    if dep.attention_dp:  # the attention-side modules run the busiest rank's share
        rank = attention_dp.rank_shape(dep, shape)
        key += (rank.seqs, rank.new_tokens, rank.logit_tokens)
    fixed = dep.step_costs.get(key)
    if fixed is None:
        fixed = dep.step_costs[key] = _kind_costs(dep, template, shape, template.kinds - CONTEXT_KINDS)
    context = template.context_kinds
    if not context:
        return fixed, fixed
    costs = dict(fixed)
    costs.update(_kind_costs(dep, template, shape, context))
    return costs, fixed


def _kind_costs(dep: Deployment, template: PlanTemplate, shape: BatchShape, kinds) -> dict[str, OpCost]:
    """The cost of each kind of ``kinds`` for a step of ``shape`` (no caching)."""
    rates, h = dep.rates, dep.model.hidden_size
    chunk = shape.split(template.chunks)
    # attention DP: attention, dense MLPs, embedding and head on one rank's sequences at tp 1
    local, own, own_step = dep.attention_local, attention_dp.rank_shape(dep, chunk), attention_dp.rank_shape(dep, shape)
    costs: dict[str, OpCost] = {}
    for kind in kinds:
        match kind:
            case "host":
                costs[kind] = OpCost(dep.runtime.step_overhead_s)
            case "embed":
                costs[kind] = _compute(dep, modules.embedding_parts(local, own_step), _share(dep, template, kind))
            case "attn" | "attn.sliding" | "attn.linear" | "attn.sparse" | "attn.mamba" | "attn.csa" | "attn.hca":
                parts = modules.attention_parts(local, _layer_of(dep, kind), own)
                costs[kind] = _compute(dep, parts, _share(dep, template, kind))
            case "mlp":
                parts = modules.mlp_parts(local, _layer_of(dep, kind), own)
                costs[kind] = _compute(dep, parts, _share(dep, template, kind))
            case "mlp.moe":
                parts = modules.mlp_parts(dep, _layer_of(dep, kind), chunk)
                costs[kind] = _compute(dep, parts, _share(dep, template, kind))
            case "lm_head":
                costs[kind] = _compute(dep, modules.lm_head_parts(local, own_step), _share(dep, template, kind))
            case "mtp.proj":
                costs[kind] = _compute(dep, mtp.projection_parts(dep, shape), _share(dep, template, kind))
            case "mtp.glue":
                costs[kind] = _compute(dep, mtp.glue_parts(dep), _share(dep, template, kind))
            case "allreduce":
                costs[kind] = _all_reduce(dep, chunk.new_tokens * h * dep.act_bytes_per_value)
            case "allreduce.final":
                costs[kind] = _all_reduce(dep, shape.logit_tokens * h * dep.act_bytes_per_value)
            case "allreduce.embed":
                costs[kind] = _all_reduce(dep, shape.new_tokens * h * dep.act_bytes_per_value)
            case "dispatch" | "combine" if dep.attention_dp:  # all-gather / reduce-scatter of every rank's tokens
                c = (attention_dp.moe_gather if kind == "dispatch" else attention_dp.moe_scatter)(dep, chunk.new_tokens)
                nbytes = (attention_dp.gather_bytes if kind == "dispatch" else attention_dp.scatter_bytes)(
                    dep, chunk.new_tokens)
                costs[kind] = OpCost(c.time_s, alpha_s=c.alpha_s, net_bytes=nbytes, algorithm=c.algorithm,
                                     protocol=c.protocol)
            case "dispatch" | "combine":
                ep, k = dep.ep, dep.counts.experts_per_token
                copies = k / ep if kind == "dispatch" else 1.0
                nbytes = chunk.new_tokens * copies * h * dep.act_bytes_per_value * (ep - 1) / ep
                c = collectives.all_to_all(nbytes, ep, dep.link, dep.runtime)
                costs[kind] = OpCost(c.time_s, alpha_s=c.alpha_s, net_bytes=nbytes, algorithm=c.algorithm)
            case "gather":
                logits = shape.logit_tokens * dep.model.vocab_size / dep.tp * 4.0  # fp32 logits per rank
                c = collectives.all_gather(logits * dep.tp, dep.tp, dep.link, dep.runtime, dep.pcie)
                costs[kind] = OpCost(c.time_s, alpha_s=c.alpha_s, net_bytes=logits, algorithm=c.algorithm,
                                     protocol=c.protocol)
    return costs


def _share(dep: Deployment, template: PlanTemplate, kind: str) -> float:
    """The share of the chip a compute op of ``kind`` runs on: 1, or on a spatial chip the share
    its module's cores hold (:func:`simdecode.costmodel.devices.spatial_share`)."""
    if not dep.spatial:
        return 1.0
    if kind == "embed":
        weights = dep.embedding_params_per_gpu() * dep.bytes_of("embeddings")
    elif kind == "lm_head":
        weights = dep.lm_head_params_per_gpu() * dep.bytes_of("embeddings")
    elif kind == "mtp.proj":
        weights = mtp.projection_params_per_gpu(dep) * dep.act_bytes_per_value
    elif kind == "mtp.glue":
        weights = 0.0
    elif kind.startswith("attn"):
        weights = dep.attention_params_per_gpu(_layer_of(dep, kind)) * dep.bytes_of("attention")
    else:
        weights = dep.mlp_params_per_gpu(_layer_of(dep, kind)) * dep.bytes_of("mlp")
    return devices.spatial_share(dep, template.stage, kind, weights)


def _compute(dep: Deployment, parts, share: float = 1.0) -> OpCost:
    """One compute op made of ``parts`` run one after another (efficiency.py), on ``share`` of the
    device's bandwidth and FLOP/s (a spatial chip's region; 1 elsewhere)."""
    rates, overlap = dep.rates, dep.runtime.dequant_overlap
    bandwidth, peak_bandwidth = rates.bandwidth_Bps * share, rates.peak_bandwidth_Bps * share
    if share != 1.0:
        parts = [replace(p, flops_per_s=p.flops_per_s * share, peak_flops_per_s=p.peak_flops_per_s * share)
                 for p in parts]
    busy = launch = ideal = hbm = flops = memory_s = math_s = dq_s = dq_bytes = dq_flops = dq_hidden = serial = 0.0
    terms: dict[str, list[float]] = {}
    for p in parts:
        bw = bandwidth if p.memory_efficiency is None else peak_bandwidth * p.memory_efficiency
        b, k = part_seconds(p, bw, rates.kernel_s, overlap)
        if p.dequant_s > 0:
            d = dequant_bound_seconds(p, bw, overlap)
            dq_s += d
            if d and overlap and p.math_in_series:  # only its stream hides: the math adds to the decode
                dq_bytes += p.hbm_bytes
                dq_hidden += p.hbm_bytes / bw
            elif d and overlap:  # the part's stream and math hide behind its decode
                dq_bytes += p.hbm_bytes
                dq_flops += p.flops
                dq_hidden += max(p.hbm_bytes / bw, p.flops / p.flops_per_s if p.flops else 0.0)
        busy += b
        launch += k
        serial += p.serial_s
        ideal += ideal_seconds(p, peak_bandwidth)
        hbm += p.hbm_bytes
        flops += p.flops
        memory_s += p.hbm_bytes / bw
        math_s += p.flops / p.flops_per_s if p.flops else 0.0
        acc = terms.setdefault(p.term, [0.0, 0.0])
        acc[0] += b
        acc[1] += k
    return OpCost(busy + launch, launch_s=launch, flops=flops, hbm_bytes=hbm, ideal_s=ideal,
                  memory_bound=memory_s >= math_s, terms=tuple((t, b, k) for t, (b, k) in terms.items()),
                  dequant_bound_s=dq_s, dequant_bound_bytes=dq_bytes, dequant_bound_flops=dq_flops,
                  dequant_hidden_s=dq_hidden, serial_s=serial)


def _all_reduce(dep: Deployment, nbytes: float) -> OpCost:
    """An all-reduce of ``nbytes`` per rank, its algorithm chosen once per message size."""
    cost = dep.step_costs.get(("all-reduce", nbytes))
    if cost is None:
        cost = dep.step_costs["all-reduce", nbytes] = _choose_all_reduce(dep, nbytes)
    return cost


def _choose_all_reduce(dep: Deployment, nbytes: float) -> OpCost:
    runtime, algorithm = dep.runtime, dep.allreduce
    if algorithm == "auto" and runtime.engine == "trt-llm" and runtime.allreduce_impl == "custom" and dep.tp > 1:
        # TensorRT-LLM follows its own rules, not the fastest kernel (costmodel/trtllm_allreduce.py)
        tokens = nbytes / (dep.model.hidden_size * dep.act_bytes_per_value)
        mlp_dtype = dep.precision.mlp if dep.precision is not None else ""
        algorithm = trtllm_allreduce.algorithm(
            tokens, nbytes, dep.tp, trtllm_allreduce.quant_fused(dep.model.hidden_size, mlp_dtype),
            nvlink=dep.link.transport == "nvlink" and dep.tp_nodes == 1)
        if algorithm == "nccl":
            runtime, algorithm = runtime.model_copy(update={"allreduce_impl": "nccl"}), "auto"
    c = collectives.all_reduce(nbytes, dep.tp, dep.link, runtime, algorithm, dep.tp_nodes, dep.inter_link,
                               dep.nics_per_node, dep.pcie)
    return OpCost(c.time_s, alpha_s=c.alpha_s, net_bytes=nbytes, algorithm=c.algorithm, protocol=c.protocol)


def _layer_of(dep: Deployment, kind: str) -> int:
    """A representative layer of a kind (module costs depend only on the kind), found once."""
    layer = dep.step_costs.get(("layer of", kind))
    if layer is None:
        layer = dep.step_costs["layer of", kind] = _find_layer_of(dep, kind)
    return layer


def _find_layer_of(dep: Deployment, kind: str) -> int:
    m = dep.model
    for layer in range(m.num_hidden_layers):
        if kind.startswith("attn") and _module_kind(dep, layer, "attn") == kind:
            return layer
        if kind.startswith("mlp") and has_mlp(m, layer) and layer_is_moe(m, layer) == kind.endswith("moe"):
            return layer
    raise ValueError(kind)


# ---- templates -----------------------------------------------------------------------------


def _template(dep: Deployment, stage: int, chunks: int) -> PlanTemplate:
    schedule = tp_schedules.get(dep.tp_mode)
    slots: list[OpSlot] = []
    last: list[int] = []  # the previous compute slot, as a dependency list

    def add(name: str, layer: int, stream: Stream, kind: str, after: list[int]) -> int:
        slots.append(OpSlot(name, layer, stream, kind, tuple(sorted(set(after)))))
        return len(slots) - 1

    def compute(name: str, layer: int, kind: str, waits: list[int]) -> int:
        idx = add(name, layer, Stream.COMPUTE, kind, last + waits)
        last[:] = [idx]
        return idx

    tp, delta, start = dep.tp, dep.tp_delay, dep.tp_delay_start
    embed_waits: list[int] = []
    if stage == 0:
        if dep.runtime.step_overhead_s > 0:
            compute("host", -1, "host", [])
        compute("embed", -1, "embed", [])
        if dep.vocab_parallel:
            embed_waits = [add("embed.allreduce", -1, Stream.COMM, "allreduce.embed", last)]
        if dep.mtp_module:  # norms, concat and the row-parallel eh_proj, summed by one all-reduce
            compute("mtp.proj", -1, "mtp.proj", embed_waits)
            embed_waits = [add("mtp.proj.allreduce", -1, Stream.COMM, "allreduce.embed", last)] if tp > 1 else []

    layers = dep.stage_layers(stage)
    # a hybrid_override_pattern layer holds one block: its other module does not exist
    module_list = [(layer, part) for layer in layers for part in ("attn", "mlp")
                   if (layer_kind(dep.model, layer) != NONE if part == "attn" else has_mlp(dep.model, layer))]
    total = 2 * dep.model.num_hidden_layers  # the delayed-TP rules count modules over the whole network
    exchanges: list[list[int]] = []  # per module of this stage: its exchange slot per chunk
    for m, (layer, part) in enumerate(module_list):
        kind = _module_kind(dep, layer, part)
        g = 2 * layer + (part == "mlp")  # the module's index in the whole network
        exchanges.append([])
        for j in range(chunks):
            waits = schedule.waits(_exchange_slots(exchanges), m, g, j, delta, start) if tp > 1 else []
            if m == 0:
                waits = waits + embed_waits
            suffix = f".{j}" if chunks > 1 else ""
            expert_parallel = kind == "mlp.moe" and (dep.attention_dp or (dep.ep > 1 and _moe_dispatches(dep)))
            if expert_parallel:  # send the tokens to their experts' GPUs first
                waits = waits + [add(f"L{layer}.moe.dispatch{suffix}", layer, Stream.COMM, "dispatch", last)]
            compute(f"L{layer}.{part}{suffix}", layer, kind, waits)
            if expert_parallel:
                exchanges[m].append(add(f"L{layer}.moe.combine{suffix}", layer, Stream.COMM, "combine", last))
            elif tp > 1 and not dep.attention_dp and schedule.exchanges(part, g, total, delta, start):
                label = schedule.exchange_label
                exchanges[m].append(add(f"L{layer}.{part}.{label}{suffix}", layer, Stream.COMM, "allreduce", last))

    pending = [i for ex in exchanges for i in ex]
    if stage == dep.pp - 1:
        head_waits = pending  # every exchange has landed before the head reads the residual
        if tp > 1 and schedule.averages_lanes(delta, dep.tp_final):
            # the lanes' residuals differ: average them once
            head_waits = [add("final.allreduce", -1, Stream.COMM, "allreduce.final", last)]
        compute("lm_head", -1, "lm_head", head_waits)
        if dep.vocab_parallel:
            add("lm_head.gather", -1, Stream.COMM, "gather", last)
        if dep.mtp_module and dep.mtp_glue_kernels:  # the drafter's sampling and input shifting
            compute("mtp.glue", -1, "mtp.glue", [len(slots) - 1] if dep.vocab_parallel else [])
    kinds = frozenset(slot.kind for slot in slots)
    return PlanTemplate(stage, chunks, tuple(slots), kinds)


def _moe_dispatches(dep: Deployment) -> bool:
    """Does an expert-parallel MoE block (without attention DP) send its tokens to their experts'
    GPUs? Not under TensorRT-LLM: its attention all-reduce leaves every token on every rank, each rank
    runs its own experts on all of them, and the block ends with an all-reduce
    (``_torch/modules/fused_moe/fused_moe_cutlass.py``, ``reducescatter_or_allreduce``: all-reduce
    unless ``use_dp``; ``Deepseekv3MoE.forward``: ``self.allreduce`` when ``not self.use_dp``)."""
    return dep.runtime.engine != "trt-llm"


def _module_kind(dep: Deployment, layer: int, part: str) -> str:
    if part == "attn":
        mixer = layer_kind(dep.model, layer)
        return "attn" if mixer == FULL else f"attn.{mixer}"
    return "mlp.moe" if layer_is_moe(dep.model, layer) else "mlp"


def _exchange_slots(exchanges: list[list[int]]):
    """``of(k, chunk=None)``: the exchange slots of this stage's module ``k`` (one chunk's, or all)."""
    def of(k: int, chunk: int | None = None) -> list[int]:
        if k < 0 or not exchanges[k]:
            return []
        return [exchanges[k][chunk]] if chunk is not None else exchanges[k]

    return of
