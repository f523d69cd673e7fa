"""The scenario file as pydantic models: the public contract of ../docs/scenario-reference.md.

Presets are resolved while validating: ``model: llama-3.1-70b`` or
``gpu: {preset: h100-sxm, memory_bandwidth: "3.0 TB/s"}`` become full specs here, so a
:class:`Scenario` built from Python (``Scenario.model_validate({...})``) and one loaded from a file
go through the same checks. Cross-field rules that need the cost model (does it fit in memory?)
live in :mod:`simdecode.scenario.checks`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, ValidationInfo, field_validator, model_validator

from simdecode.scenario.hardware import GpuSpec, LinkSpec, RuntimeSpec, Spec
from simdecode.scenario.model import ModelSpec
from simdecode.scenario.types import DType, Duration, Fraction, Rate

MAX_REQUESTS = 1_000_000
MAX_TOKENS = 2_000_000  # per request, prompt or output
MAX_GPUS = 4096


class PrecisionSpec(Spec):
    weights: DType = Field("bf16", description="weight storage dtype")
    kv_cache: DType = Field("bf16", description="KV cache dtype")
    activations: DType = Field("bf16", description="activation / all-reduce dtype")


class HardwareSpec(Spec):
    gpu: GpuSpec = Field(description="a preset name, {preset: NAME, ...overrides} or a full mapping")
    gpus_per_node: int = Field(8, ge=1, le=64)
    nodes: int = Field(1, ge=1, le=1024)
    intra_node_link: LinkSpec | None = Field(None, description="default: the GPU's own link (e.g. nvlink4)")
    inter_node_link: LinkSpec = Field(default="ib-ndr", validate_default=True)  # type: ignore[assignment]
    nics_per_node: int = Field(8, ge=1, le=64, description="scale-out NICs per node")
    pcie_switches: int = Field(
        1, ge=1, le=8, description="PCIe switches per node (PCIe links): GPUs split evenly; traffic between "
        "switches shares one uplink per direction"
    )

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


class ParallelismSpec(Spec):
    tp: int = Field(1, ge=1, le=MAX_GPUS, description="tensor-parallel degree")
    pp: int = Field(1, ge=1, le=MAX_GPUS, description="pipeline (layer) stages")
    dp: int = Field(1, ge=1, le=MAX_GPUS, description="independent replicas")
    ep: int = Field(1, ge=1, le=MAX_GPUS, description="expert-parallel degree for MoE layers")
    tp_mode: Literal["megatron", "parallel-block", "ladder", "delayed", "chunked-overlap"] = "megatron"
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


class DecodingSpec(Spec):
    method: Literal["standard", "draft", "mtp"] = "standard"
    draft_model: ModelSpec | None = None
    speculative_tokens: int = Field(3, ge=1, le=64)
    acceptance: float | list[float] = 0.8

    @field_validator("draft_model", mode="before")
    @classmethod
    def _draft_preset(cls, value: Any, info: ValidationInfo) -> Any:
        from simdecode.presets import resolve

        return None if value is None else resolve("models", value, context=info.context)


class ClosedArrival(Spec):
    kind: Literal["closed"] = "closed"
    concurrency: int = Field(1, ge=1, le=MAX_REQUESTS, description="requests kept in flight")


class PoissonArrival(Spec):
    kind: Literal["poisson"]
    rate_per_s: Rate = Field(alias="rate", description="mean arrivals per second, e.g. '2/s'")


Arrival = Annotated[Union[ClosedArrival, PoissonArrival], Field(discriminator="kind")]


class WorkloadSpec(Spec):
    arrival: Arrival = Field(default_factory=ClosedArrival)
    requests: int = Field(20, ge=1, le=MAX_REQUESTS, description="requests submitted")
    prompt_tokens: int = Field(128, ge=1, le=MAX_TOKENS)
    output_tokens: int = Field(256, ge=1, le=MAX_TOKENS)

    @field_validator("arrival", mode="before")
    @classmethod
    def _default_kind(cls, value: Any) -> Any:
        if isinstance(value, dict) and "kind" not in value:
            return {"kind": "closed", **value}
        return value


class SchedulerSpec(Spec):
    policy: Literal["continuous", "static"] = "continuous"
    max_batch_size: int = Field(256, ge=1, le=65536)
    max_batched_tokens: int = Field(8192, ge=1, le=10_000_000)
    chunked_prefill: bool = True
    kv_block_tokens: int = Field(16, ge=1, le=4096)
    memory_utilization: Fraction = Field(0.9, description="share of GPU memory for weights + KV cache")


class SloSpec(Spec):
    ttft_s: Duration | None = Field(None, alias="ttft")
    tpot_s: Duration | None = Field(None, alias="tpot")


class SimulationSpec(Spec):
    fidelity: Literal["step", "layer", "op"] = "layer"


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

        check_scenario(self)
        return self
