"""The scenario file as pydantic models: the public contract of ../docs/scenario-reference.md.

Presets are resolved while validating: ``model: llama-3.1-70b`` or
``gpu: {preset: h100-sxm, memory_bandwidth: "3.0 TB/s"}`` become full specs here, so a
:class:`Scenario` built from Python (``Scenario.model_validate({...})``) and one loaded from a file
go through the same checks. Cross-field rules that need the cost model (does it fit in memory?)
live in :mod:`simdecode.scenario.checks`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from simdecode import tp_schedules
from simdecode.errors import ScenarioError
from simdecode.scenario.hardware import GpuSpec, LinkSpec, RuntimeSpec, Spec
from simdecode.scenario.model import ModelSpec
from simdecode.scenario.types import DType, Duration, Fraction

from simdecode.scenario.limits import (  # noqa: F401 (re-exported)
    MAX_BATCH_SIZE, MAX_GPUS, MAX_RATE_PER_S, MAX_REQUESTS, MAX_TOKENS, MIN_CV, MIN_RATE_PER_S)

#: the largest single NVLink domain (NVIDIA's announced Rubin Ultra NVL576); NVL72 racks are 72
MAX_NVLINK_DOMAIN = 576


class PrecisionSpec(Spec):
    """Dtypes of the weights (per module), the KV cache and the activations. A module without its
    own key takes ``weights`` when the scenario gives it, else the model's ``native_precision``."""

    weights: DType = Field("bf16", description="weight storage dtype: the default of every module below")
    attention: DType | None = Field(None, description="attention projections (default: weights)")
    mlp: DType | None = Field(None, description="dense MLPs and shared experts (default: weights)")
    experts: DType | None = Field(None, description="routed MoE experts (default: weights)")
    embeddings: DType | None = Field(None, description="embedding table and LM head (default: weights)")
    kv_cache: DType = Field("bf16", description="KV cache dtype")
    activations: DType = Field("bf16", description="activation / all-reduce dtype; the math dtype of "
                               "weight-only formats (int8, int4, and fp8/fp4 without tensor cores for them)")
    group_size: int = Field(128, ge=1, le=65536, description="int4 weights: values per bf16 scale and zero")


class HardwareSpec(Spec):
    gpu: GpuSpec = Field(description="a preset name, {preset: NAME, ...overrides} or a full mapping")
    gpus_per_node: int = Field(8, ge=1, le=MAX_NVLINK_DOMAIN, description="GPUs behind one intra-node link: a "
                               "server (8), or a rack-scale NVLink domain (72 for GB200/GB300 NVL72, whose "
                               "NVLink switch trays join every GPU as one node)")
    nodes: int = Field(1, ge=1, le=1024)
    intra_node_link: LinkSpec | None = Field(None, description="default: the GPU's own link (e.g. nvlink4)")
    inter_node_link: LinkSpec = Field(default="ib-ndr", validate_default=True)  # type: ignore[assignment]
    nics_per_node: int = Field(8, ge=1, le=MAX_NVLINK_DOMAIN, description="scale-out NICs per node")
    pcie_switches: int = Field(
        1, ge=1, le=8, description="PCIe switches per node (PCIe links): GPUs split evenly; traffic between "
        "switches crosses the CPU's root complex, shared by every group on the node"
    )
    cpu_sockets: int | Literal["auto"] = Field(
        "auto", description="CPU sockets (NUMA domains) per node the PCIe GPUs split over, evenly, each under "
        "its own switches; collective steps between sockets cross the socket interconnect (UPI, Infinity "
        "Fabric). auto: 2 for more than 4 PCIe GPUs per node (8-GPU PCIe servers are two-socket, 4 GPUs per "
        "socket), else 1"
    )

    @field_validator("cpu_sockets")
    @classmethod
    def _sockets_range(cls, value: Any) -> Any:
        if value != "auto" and not 1 <= value <= 8:
            raise ValueError("cpu_sockets: expected 1 to 8, or auto")
        return value

    @field_validator("gpu", mode="before")
    @classmethod
    def _gpu_preset(cls, value: Any) -> Any:
        from simdecode.presets import resolve

        return resolve("gpus", value)

    @field_validator("intra_node_link", "inter_node_link", mode="before")
    @classmethod
    def _link_preset(cls, value: Any) -> Any:
        from simdecode.presets import resolve

        return None if value is None else resolve("links", value)

    @property
    def link(self) -> LinkSpec:
        """The intra-node link in force: the one given, else the GPU's default."""
        if self.intra_node_link is not None:
            return self.intra_node_link
        from simdecode.presets import resolve

        return LinkSpec.model_validate(resolve("links", self.gpu.default_link))

    @property
    def total_gpus(self) -> int:
        return self.gpus_per_node * self.nodes

    @property
    def sockets(self) -> int:
        """CPU sockets the node's GPUs split over (``cpu_sockets`` with auto resolved)."""
        if self.cpu_sockets != "auto":
            return min(self.cpu_sockets, self.gpus_per_node)
        return 2 if self.link.topology == "pcie" and self.gpus_per_node > 4 else 1

    @property
    def switch_groups(self) -> int:
        """PCIe switches in use: at least one per socket (a switch hangs from one socket)."""
        return min(max(self.pcie_switches, self.sockets), self.gpus_per_node)


class ParallelismSpec(Spec):
    tp: int = Field(1, ge=1, le=MAX_GPUS, description="tensor-parallel degree")
    pp: int = Field(1, ge=1, le=MAX_GPUS, description="pipeline (layer) stages")
    dp: int = Field(1, ge=1, le=MAX_GPUS, description="independent replicas")
    ep: int = Field(1, ge=1, le=MAX_GPUS, description="expert-parallel degree for MoE layers")
    attention_dp: bool = Field(
        False, description="attention data parallelism (TensorRT-LLM enable_attention_dp, SGLang "
        "--enable-dp-attention; MoE models): each of the tp GPUs runs attention, dense MLPs, shared experts, "
        "embedding and LM head for its own requests with their whole weights, holds only its requests' KV "
        "cache, and schedules up to max_batch_size sequences and max_batched_tokens tokens of its own; the "
        "routed experts stay split over the tp GPUs (ep of them), an all-gather before and a reduce-scatter "
        "after each MoE block in place of the all-reduces; the busiest GPU sets each step"
    )
    tp_mode: Literal[tp_schedules.names()] = tp_schedules.DEFAULT  # type: ignore[valid-type]
    tp_delay: int = Field(1, ge=0, le=64, description="delayed mode: modules of delay")
    tp_delay_start: Literal["sync", "local"] = Field(
        "sync", description="delayed mode, first tp_delay modules: blocking all-reduce, or local only (no exchange)"
    )
    tp_final: Literal["all-reduce", "vocab-parallel"] = Field(
        "all-reduce", description="delayed mode, before the LM head: average the lanes with one all-reduce, or "
        "give each lane a vocabulary shard and gather the logits"
    )
    tp_chunks: int = Field(2, ge=1, le=64, description="chunked-overlap mode: token chunks per module")
    allreduce: Literal["auto", "ring", "tree", "one-shot", "two-shot", "nvls"] = "auto"
    microbatches: int | Literal["auto"] = Field("auto", description="pipeline micro-batches in flight")

    @property
    def gpus_per_replica(self) -> int:
        return self.tp * self.pp


class AcceptanceHistogram(Spec):
    histogram: list[Annotated[float, Field(ge=0, le=1e15, allow_inf_nan=False)]] = Field(
        max_length=65, description="counts or shares of 0, 1, ..., k accepted proposals per verify step "
        "(each at most 1e15)")

    @field_validator("histogram")
    @classmethod
    def _some_counts(cls, value: list[float]) -> list[float]:
        if not any(v > 0 for v in value):
            raise ValueError("histogram entries must not all be zero")
        return value


class AcceptanceMean(Spec):
    mean_tokens: float = Field(ge=1.0, le=65.0, description="published mean tokens per verify step (bonus token "
                               "included)")


class TreeSpec(Spec):
    width: int = Field(ge=1, le=16, description="candidates under every node")
    depth: int = Field(ge=1, le=16, description="levels of proposals")


class DecodingSpec(Spec):
    """Standard decoding, or speculation: a drafter proposes, the target verifies in one pass."""

    method: Literal["standard", "draft", "mtp"] = Field(
        "standard", description="draft: a separate draft model; mtp: the target's own multi-token-prediction modules"
    )
    draft_model: ModelSpec | None = Field(None, description="draft method: a preset or architecture")
    draft_placement: Literal["shared", "separate"] = Field(
        "shared", description="draft model on the target's GPUs (same tp) or on a GPU of its own"
    )
    speculative_tokens: int = Field(3, ge=1, le=64, description="tokens proposed per step (k)")
    acceptance: float | list[float] | AcceptanceHistogram | AcceptanceMean | None = Field(
        None, description="per-token acceptance probability, one per position, {histogram: [...]} or "
        "{mean_tokens: L}; default: a per-position rate that decays with draft depth (0.92, 0.72, 0.36, then "
        "halving: TensorRT-LLM's measured MTP acceptance, simdecode/costmodel/speculative.py)"
    )
    tree: TreeSpec | None = Field(None, description="verify a token tree (Medusa/EAGLE) instead of a chain")
    mtp_mode: Literal["eagle", "vanilla"] = Field(
        "eagle", description="mtp method: eagle, one MTP module chained k times (its first pass reads the k + 1 "
        "verified positions, later ones one token); vanilla, k modules each reading the last k tokens "
        "(TensorRT-LLM's MTP Vanilla, tech blog 1's '3x MTP layers'): costmodel/mtp.py"
    )
    max_batch_size: int | None = Field(
        None, ge=1, description="speculate only while a step decodes at most this many sequences"
    )

    @property
    def proposals(self) -> int:
        """Tokens the drafter proposes per sequence and step along one path: k, or a tree's depth."""
        return self.tree.depth if self.tree else self.speculative_tokens

    @property
    def verify_positions(self) -> int:
        """Positions one speculating sequence verifies per step: k + 1 (the proposals and the
        target's own), or every node of a full token tree, 1 + w + w^2 + ... + w^depth (Medusa,
        Cai et al. 2024, arXiv 2401.10774: tree attention verifies all of them at once); 1 for
        standard decoding."""
        if self.method == "standard":
            return 1
        if self.tree:
            return sum(self.tree.width**level for level in range(self.tree.depth + 1))
        return self.speculative_tokens + 1

    @property
    def draft_widths(self) -> tuple[int, ...]:
        """Candidates one draft pass proposes per sequence, level by level: 1 per pass for a
        chain; width^level for a tree's frontier."""
        return tuple(self.tree.width**level if self.tree else 1 for level in range(self.proposals))

    @field_validator("draft_model", mode="before")
    @classmethod
    def _draft_preset(cls, value: Any, info: ValidationInfo) -> Any:
        from simdecode.presets import resolve

        return None if value is None else resolve("models", value, context=info.context)

    @field_validator("acceptance")
    @classmethod
    def _rates_are_probabilities(cls, value: Any) -> Any:
        rates = [value] if isinstance(value, float) else value if isinstance(value, list) else []
        if len(rates) > 64:
            raise ValueError("at most 64 per-position acceptance probabilities (one per proposed token)")
        if any(not 0.0 <= r <= 1.0 for r in rates):
            raise ValueError("acceptance probabilities must be between 0 and 1")
        return value


from simdecode.scenario.workload import (  # noqa: E402,F401 (the workload section, re-exported)
    ClosedArrival, PoissonArrival, BurstyArrival, TraceArrival, FixedLength, UniformLength, NormalLength, LognormalLength, EmpiricalLength, WorkloadSpec, LENGTH_DISTS, _length_tag)


class SchedulerSpec(Spec):
    """How the engine batches and admits. Keys left out take the runtime's engine defaults
    (:mod:`simdecode.scenario.engines`), filled in when the scenario is validated."""

    policy: Literal["continuous", "static"] = "continuous"
    max_batch_size: int | None = Field(None, ge=1, le=MAX_BATCH_SIZE, description="sequences per step, at most (vLLM "
                                       "max_num_seqs, TensorRT-LLM max_batch_size); default: the engine's")
    max_batched_tokens: int | None = Field(None, ge=1, le=10_000_000, description="tokens per step, decodes plus "
                                           "prefill chunks (vLLM max_num_batched_tokens, TensorRT-LLM "
                                           "max_num_tokens, SGLang chunked_prefill_size); default: the engine's")
    chunked_prefill: bool | None = Field(None, description="split long prompts over steps and mix them with "
                                         "decodes; default: the engine's")
    kv_block_tokens: int | None = Field(None, ge=1, le=4096, description="tokens per KV-cache block (vLLM 16, "
                                        "TensorRT-LLM 32, SGLang 1); default: the engine's")
    memory_utilization: Fraction | None = Field(
        None, description="vLLM gpu_memory_utilization (share of total memory for weights, activations and KV), "
        "TensorRT-LLM free_gpu_memory_fraction (share of what weights and activations leave), SGLang "
        "mem_fraction_static (share for weights and KV); default: the engine's"
    )
    admission: Literal["paged", "reserve"] | None = Field(
        None, description="paged: admit when blocks for the next prefill chunk are free, grow block by block, "
        "preempt when the cache is full (vLLM, SGLang); reserve: admit only when blocks for prompt + all outputs "
        "are free, never preempt (TensorRT-LLM GUARANTEED_NO_EVICT, llama.cpp slots); default: the engine's"
    )
    router: Literal["round-robin", "random", "least-outstanding"] = Field(
        "round-robin", description="which of the dp replicas serves an arriving request: in turn, one drawn "
        "uniformly at random (the run's routing stream), or the one with the fewest requests in the system "
        "(ties to the lowest index)"
    )
    preemption: Literal["recompute", "swap"] = Field(
        "recompute", description="when a running sequence needs a KV block and none is free, the most recently "
        "admitted request is preempted: recompute drops its KV and prefills it again later; swap moves its KV "
        "to host memory over PCIe and back"
    )
    overlap: bool | None = Field(
        None, description="the host forms step k+1 while the GPU runs step k (vLLM --async-scheduling, "
        "TensorRT-LLM's overlap scheduler, SGLang's overlap schedule), so a request that reaches the engine during "
        "step k joins step k+2 at the earliest; default: the engine's"
    )
    batch_wait_iters: int = Field(
        0, ge=0, le=100_000, description="TensorRT-LLM batch_wait_timeout_iters: while sequences decode, hold "
        "new prefills back for up to this many steps to batch them (0: never wait)"
    )
    adp_balance_iters: int = Field(
        0, ge=0, le=100_000, description="TensorRT-LLM attention_dp_config enable_balance with timeout_iters "
        "(parallelism.attention_dp): while every rank decodes, hold new prefills back until every rank has one, "
        "for up to this many steps (0: no balancing)"
    )
    batch_wait_tokens_ratio: float = Field(
        0.0, ge=0.0, le=1.0, description="TensorRT-LLM batch_wait_max_tokens_ratio: stop holding prefills back once the step "
        "would carry this share of max_batched_tokens (0: no token threshold)"
    )


#: scheduler keys whose default is the engine's (:class:`simdecode.scenario.engines.EngineDefaults`)
ENGINE_KEYS = ("max_batch_size", "max_batched_tokens", "chunked_prefill", "kv_block_tokens", "memory_utilization",
               "admission", "overlap")


class SloSpec(Spec):
    ttft_s: Duration | None = Field(None, alias="ttft")
    tpot_s: Duration | None = Field(None, alias="tpot")


class SimulationSpec(Spec):
    fidelity: Literal["step", "layer", "op"] = "layer"


class _Source:
    """Where a scenario was read from. Provenance, not content: it never makes two scenarios
    unequal (pydantic compares private attributes too)."""

    __slots__ = ("file", "lines", "origins")

    def __init__(self, file: str, lines: dict, origins: dict):
        self.file, self.lines, self.origins = file, lines, origins

    def __getstate__(self):
        return self.file, self.lines, self.origins

    def __setstate__(self, state) -> None:
        self.file, self.lines, self.origins = state

    def __eq__(self, other: object) -> bool:
        return other is None or isinstance(other, _Source)

    __hash__ = None  # type: ignore[assignment]


class Scenario(Spec):
    """A whole experiment: what runs, on what, under which traffic."""

    name: str = "scenario"
    seed: int = Field(0, ge=0, le=2**63 - 1)
    model: ModelSpec
    precision: PrecisionSpec = Field(default_factory=PrecisionSpec)
    hardware: HardwareSpec
    runtime: RuntimeSpec = Field(default="default", validate_default=True)  # type: ignore[assignment]
    parallelism: ParallelismSpec = Field(default_factory=ParallelismSpec)
    decoding: DecodingSpec = Field(default_factory=DecodingSpec)
    workload: WorkloadSpec = Field(default_factory=WorkloadSpec)
    scheduler: SchedulerSpec = Field(default_factory=SchedulerSpec)
    slo: SloSpec | None = None
    simulation: SimulationSpec = Field(default_factory=SimulationSpec)
    sweep: dict[str, list[Any]] | None = None
    #: where the scenario came from: (file, {key path: line}, {key path: "--set ..."}), set by the loader
    _source: Any = PrivateAttr(default=None)

    def remember_source(self, file: str, lines: dict, origins: dict) -> None:
        """Record the file and the line of each key, so a check run after validation (e.g.
        :func:`simdecode.costmodel.feasibility.check_fits`) can point at them."""
        self._source = _Source(file, dict(lines), dict(origins))

    def error_at(self, key_path: str, message: str, hint: str | None = None) -> ScenarioError:
        """A :class:`~simdecode.errors.ScenarioError` about ``key_path`` of this scenario, with the
        file and line it was read from (or the ``--set`` override that set it) when known."""
        if self._source is None:
            return ScenarioError(message, key_path=key_path, hint=hint)
        file, lines, origins = self._source.file, self._source.lines, self._source.origins
        path = tuple(key_path.split("."))
        origin = next((o for p, o in origins.items() if path[: len(p)] == p), None)
        line = next((lines[path[:n]] for n in range(len(path), 0, -1) if path[:n] in lines), None)
        return ScenarioError(message, file=file, line=line, key_path=key_path, hint=hint, origin=origin)

    @field_validator("model", mode="before")
    @classmethod
    def _model_preset(cls, value: Any, info: ValidationInfo) -> Any:
        from simdecode.presets import resolve

        return resolve("models", value, context=info.context)

    @field_validator("runtime", mode="before")
    @classmethod
    def _runtime_preset(cls, value: Any) -> Any:
        from simdecode.presets import resolve

        return resolve("runtimes", value)

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        from simdecode.scenario.checks import check_scenario

        self._fill_engine_defaults()
        check_scenario(self)
        return self

    def _fill_engine_defaults(self) -> None:
        """Scheduler keys not given take the runtime's engine defaults (for this GPU and layout).
        Validation is the only place a Scenario changes: the section is replaced once, here."""
        from simdecode.scenario.engines import engine_of

        sched = self.scheduler
        missing = [k for k in ENGINE_KEYS if getattr(sched, k) is None]
        if not missing:
            return
        defaults = engine_of(self)
        filled = sched.model_copy(update={k: getattr(defaults, k) for k in missing})
        object.__setattr__(self, "scheduler", filled)  # frozen model: set once while validating
