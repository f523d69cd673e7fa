"""The scenario reference (docs/scenario-reference.md), generated from the pydantic schema.

Every key a scenario file accepts is a field of one of the section models in
:mod:`simdecode.scenario.schema`, :mod:`simdecode.scenario.hardware` and
:mod:`simdecode.scenario.model`. This module walks their ``model_fields`` and writes one
Markdown table per section: the key users type (the alias), its type in words, its default and
its description. The preset names come from :func:`simdecode.presets.names`.

Values that the schema accepts but the simulator rejects ("not modelled yet") are found by
validating a small scenario with each choice, so the reference follows
:mod:`simdecode.scenario.checks` without a hand-kept list.

Regenerate the file (a test checks that it is current)::

    PYTHONPATH=. .venv/bin/python -c "from simdecode.present.reference import scenario_reference_markdown as f; print(f(), end='')" > docs/scenario-reference.md
"""

from __future__ import annotations

import functools
import inspect
import re
import types
import typing
from typing import Any, Literal, Union

import annotated_types
from pydantic import AliasChoices, BaseModel, ValidationError
from pydantic.fields import FieldInfo

from simdecode import presets, tp_schedules
from simdecode.scenario.hardware import GpuSpec, LinkSpec, RuntimeSpec
from simdecode.scenario.model import ModelSpec
from simdecode.scenario.schema import (
    BurstyArrival,
    ClosedArrival,
    DecodingSpec,
    HardwareSpec,
    ParallelismSpec,
    PoissonArrival,
    PrecisionSpec,
    Scenario,
    SchedulerSpec,
    SimulationSpec,
    SloSpec,
    TraceArrival,
    WorkloadSpec,
)
from simdecode.units import format_si

REGENERATE = (
    "PYTHONPATH=. .venv/bin/python -c \"from simdecode.present.reference import scenario_reference_markdown as f; "
    "print(f(), end='')\" > docs/scenario-reference.md"
)

#: (heading, model or models of a ``kind`` union, introduction or ""); the order of the document
SECTIONS: tuple[tuple[str, Any, str], ...] = (
    ("Top level", Scenario, ""),
    ("precision", PrecisionSpec, (
        "Bytes per stored weight, block scales included: fp32 4, bf16 and fp16 2, fp8 1.00024 (one fp32 per "
        "128 x 128 block), int8 1 (per-channel), fp4 = nvfp4 0.5625 (one e4m3 per 16), mxfp4 0.53125 (one "
        "e8m0 per 32), int4 0.5 + 4 / group_size (a bf16 scale and zero per group). `precision: {weights: "
        "fp8}` sets every module; a module key (`attention`, `mlp`, `experts`, `embeddings`) overrides it "
        "for that module; a module the scenario does not set takes the model's `native_precision`. Matrix "
        "multiplies run in the weights' format when the GPU has tensor cores for it, else the weights are "
        "dequantised to `activations` (W8A16, W4A16). See docs/physics-moe-precision.md.")),
    ("hardware", HardwareSpec, ""),
    ("hardware.gpu", GpuSpec, ""),
    ("hardware.intra_node_link, hardware.inter_node_link", LinkSpec, ""),
    ("runtime", RuntimeSpec, ""),
    ("parallelism", ParallelismSpec, "One replica uses tp x pp GPUs; of the dp replicas, `scheduler.router` picks one for each request."),
    ("decoding", DecodingSpec, ""),
    ("workload", WorkloadSpec, ""),
    ("workload.arrival", (ClosedArrival, PoissonArrival, BurstyArrival, TraceArrival),
     "A mapping without `kind` is a closed loop. A trace file's columns (CSV with a header, or JSON lines): "
     "`arrived_at` or `arrival_s` (seconds, non-decreasing), `num_prefill_tokens` or `prompt_tokens`, "
     "`num_decode_tokens` or `output_tokens`; at most 64 MiB and 10^6 rows, read once when the scenario is "
     "loaded."),
    ("scheduler", SchedulerSpec, ""),
    ("slo", SloSpec, ""),
    ("simulation", SimulationSpec, ""),
    ("model", ModelSpec, ("A preset, `{hf_config: path/to/config.json}` (a local Hugging Face file), "
                          "`{preset: NAME, ...}`, or a mapping of `config.json` keys; `decoding.draft_model` "
                          "takes the same.")),
)
#: top-level keys that are sections get no row of their own (the section tables follow)
_SECTION_KEYS = ("precision", "hardware", "parallelism", "decoding", "workload", "scheduler", "slo", "simulation")

#: descriptions for fields whose schema gives none (the schema's own description wins)
FALLBACK: dict[tuple[type[BaseModel], str], str] = {
    (Scenario, "name"): "names the result (`scenario` in the summary)",
    (Scenario, "seed"): "seed of every random stream (arrivals, lengths, routing)",
    (Scenario, "model"): "the model to serve",
    (Scenario, "runtime"): "the serving engine's efficiencies and overheads",
    (Scenario, "sweep"): "a grid of values per key path (e.g. `parallelism.pp: [1, 2, 4]`), or per section "
    "a list of linked settings (`parallelism: [{tp: 8, pp: 1}, {tp: 4, pp: 2}]`); `simdecode sweep` runs the "
    "product of the axes, `simdecode run` the base scenario only",
    (HardwareSpec, "gpus_per_node"): "GPUs in one node (one NVLink / PCIe domain)",
    (HardwareSpec, "nodes"): "nodes in the cluster",
    (HardwareSpec, "inter_node_link"): "link between nodes (one NIC per GPU)",
    (ParallelismSpec, "tp_mode"): "tensor-parallel schedule (which all-reduce each module waits for; see TP "
    "schedules below); " + " and ".join(n for n, s in tp_schedules.schedules().items() if s.exact) + " are exact, "
    "the others compute a different function and need a model trained for them",
    (ParallelismSpec, "allreduce"): "all-reduce algorithm; auto picks the fastest the runtime offers",
    (DecodingSpec, "method"): "standard: one token per step; draft: a draft model proposes; mtp: "
    "multi-token-prediction heads propose",
    (DecodingSpec, "draft_model"): "the draft model (draft method only)",
    (DecodingSpec, "speculative_tokens"): "tokens proposed per step",
    (DecodingSpec, "acceptance"): "per-token acceptance probability, or one per position",
    (WorkloadSpec, "arrival"): "how requests arrive (see workload.arrival)",
    (ClosedArrival, "kind"): "closed: a fixed number of requests in flight, each completion admits the next at "
    "once; poisson: exponential gaps between arrivals; bursty: gamma gaps of mean 1 / rate and coefficient of "
    "variation cv; trace: a file's rows at their times, with their lengths",
    (SchedulerSpec, "policy"): "continuous: requests join and leave every step; static: a batch runs to its "
    "last request before the next is admitted",
    (SchedulerSpec, "max_batch_size"): "sequences per step, at most",
    (SchedulerSpec, "max_batched_tokens"): "tokens per step (decodes plus prefill chunks), at most",
    (SchedulerSpec, "chunked_prefill"): "split long prompts over steps and mix them with decodes",
    (SchedulerSpec, "kv_block_tokens"): "tokens per KV-cache block (paged attention)",
    (SloSpec, "ttft_s"): "time-to-first-token objective",
    (SloSpec, "tpot_s"): "time-per-output-token objective",
    (SimulationSpec, "fidelity"): "step: one event per step; layer: one per module and collective",
}

_QUANTITY = {
    "bytes": "size, e.g. '80 GB' or '80 GiB'",
    "bandwidth": "bandwidth, e.g. '450 GB/s' or '400 Gb/s'",
    "time": "duration, e.g. '2 us' or '50 ms'",
    "rate": "rate, e.g. '2/s'",
    "flops": "FLOP rate, e.g. '989 TFLOP/s'",
    "power": "power, e.g. '330 W'",
}
_QUANTITY_UNIT = {"bytes": "B", "bandwidth": "B/s", "time": "s", "rate": "/s", "flops": "FLOP/s", "power": "W"}
_PRESET_KIND = {GpuSpec: "gpus", LinkSpec: "links", RuntimeSpec: "runtimes", ModelSpec: "models"}
_SECTION_OF = {m: heading for heading, ms, _ in SECTIONS for m in (ms if isinstance(ms, tuple) else (ms,))}

#: a scenario every check accepts, used to find values that are accepted by the schema but
#: rejected as not modelled yet
_PROBE_BASE: dict[str, Any] = {"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm", "gpus_per_node": 8}}
#: integer keys whose larger values may be unmodelled: section -> key -> value to try
_PROBE_INTS: dict[str, dict[str, int]] = {"parallelism": {"ep": 2}}


# ---- types in words ---------------------------------------------------------------------------
def _quantity_kind(metadata: list[Any]) -> str | None:
    """The unit kind of a quantity field (``Bandwidth`` etc. parse with a closure over ``kind``)."""
    for item in metadata:
        func = getattr(item, "func", None)
        if func is not None and inspect.isfunction(func):
            kind = inspect.getclosurevars(func).nonlocals.get("kind")
            if kind in _QUANTITY:
                return kind
    return None


def _split_annotated(tp: Any) -> tuple[Any, list[Any]]:
    metadata: list[Any] = []
    while typing.get_origin(tp) is typing.Annotated:
        metadata += list(tp.__metadata__)
        tp = typing.get_args(tp)[0]
    for item in list(metadata):
        if isinstance(item, FieldInfo):
            metadata += item.metadata
    return tp, metadata


def _bounds(metadata: list[Any]) -> str:
    lo = hi = None
    lo_op = hi_op = ""
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            lo, lo_op = item.ge, ">="
        elif isinstance(item, annotated_types.Gt):
            lo, lo_op = item.gt, ">"
        elif isinstance(item, annotated_types.Le):
            hi, hi_op = item.le, "<="
        elif isinstance(item, annotated_types.Lt):
            hi, hi_op = item.lt, "<"
    if lo is not None and hi is not None and lo_op == ">=" and hi_op == "<=":
        return f" {_num(lo)} to {_num(hi)}"
    parts = [f"{op} {_num(v)}" for op, v in ((lo_op, lo), (hi_op, hi)) if v is not None]
    return (" " + ", ".join(parts)) if parts else ""


def _num(value: Any) -> str:
    if isinstance(value, int) and abs(value) >= 10**5:
        exp = len(str(abs(value))) - 1
        if value == 10**exp:
            return f"10^{exp}"
        if value == 2**63 - 1:
            return "2^63 - 1"
        return f"{value:,}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _choices(values: tuple[Any, ...], rejected: set[Any]) -> str:
    words = [f"{v}" + (" (not modelled yet)" if v in rejected else "") for v in values]
    return words[0] if len(words) == 1 else "one of " + " \\| ".join(words)


def type_words(tp: Any, field_metadata: list[Any] = (), rejected: set[Any] = frozenset()) -> str:
    """A field's type in words: ``integer 1 to 64``, ``bandwidth, e.g. '450 GB/s'``, ..."""
    tp, metadata = _split_annotated(tp)
    metadata = list(field_metadata) + metadata
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return type_words(rest[0], metadata, rejected)
        models = [_split_annotated(a)[0] for a in rest]
        specs = [m for m in models if isinstance(m, type) and issubclass(m, BaseModel)]
        if specs:
            others = [type_words(a, (), rejected) for a, m in zip(rest, models) if m not in specs]
            tag = _tag(specs[0])
            if all(tag in m.model_fields for m in specs):  # a tagged union (length distributions)
                kinds = " \\| ".join(typing.get_args(m.model_fields[tag].annotation)[0] for m in specs)
                return " or ".join([*others, f"mapping with {tag}: {kinds}"])
            shapes = " or ".join("{" + ", ".join(m.model_fields) + "}" for m in specs)  # untagged mappings
            return " or ".join([*others, f"mapping {shapes}"])
        return " or ".join(type_words(a, (), rejected) for a in rest)
    kind = _quantity_kind(metadata)
    if kind:
        return _QUANTITY[kind]
    if origin is Literal:
        return _choices(args, rejected)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if tp in _PRESET_KIND:
            extra = ", {hf_config: path}" if tp is ModelSpec else ""
            return f"{_PRESET_KIND[tp][:-1]} preset name{extra} or mapping (see {_SECTION_OF[tp]})"
        if tp in _SECTION_OF:
            return f"mapping (see {_SECTION_OF[tp]})"
        return "mapping {" + ", ".join(f"{name}: {type_words(f.annotation, list(f.metadata))}"
                                       for name, f in tp.model_fields.items()) + "}"
    if origin is dict:
        key, value = args
        if typing.get_origin(key) is Literal and _quantity_kind(_split_annotated(value)[1]) == "flops":
            return "mapping dtype -> FLOP rate, e.g. {bf16: '989 TFLOP/s'}"
        return "mapping key path -> list of values"
    if origin in (list, tuple):
        return f"list of {type_words(args[0], (), rejected).replace('number', 'numbers')}"
    if tp is bool:
        return "true \\| false"
    if tp is int:
        return "integer" + _bounds(metadata)
    if tp is float:
        bounds = _bounds(metadata)
        return "fraction, 0 < x <= 1" if bounds == " > 0, <= 1" else "number" + bounds
    if tp is str:
        return "text"
    return "value"


def default_words(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return "all defaults"
    value = field.default
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    kind = _quantity_kind(_split_annotated(field.annotation)[1] + list(field.metadata))
    if kind and isinstance(value, (int, float)):
        return f"`{format_si(float(value), _QUANTITY_UNIT[kind])}`"
    return f"`{value}`"


def key_words(name: str, field: FieldInfo) -> str:
    if isinstance(field.validation_alias, AliasChoices):
        first, *others = field.validation_alias.choices
        return f"`{first}` (or " + ", ".join(f"`{o}`" for o in others) + ")"
    return f"`{field.alias or name}`"


# ---- values accepted by the schema but not by the simulator -----------------------------------
def _not_modelled(message: str) -> bool:
    return "not modelled" in message or "not available" in message


@functools.cache
def unmodelled() -> dict[tuple[type[BaseModel], str], frozenset[Any]]:
    """(section model, field) -> values the checks reject as not modelled yet."""
    out: dict[tuple[type[BaseModel], str], frozenset[Any]] = {}
    try:
        Scenario.model_validate(_PROBE_BASE)
    except (ValidationError, ValueError):
        return out  # the probe scenario itself is broken: mark nothing
    for section, field in Scenario.model_fields.items():
        model = _split_annotated(field.annotation)[0]
        model = next((a for a in (model, *typing.get_args(model)) if isinstance(a, type) and issubclass(a, BaseModel)),
                     None)
        if model is None or model in _PRESET_KIND:
            continue
        for name, sub in model.model_fields.items():
            tp = _split_annotated(sub.annotation)[0]
            values = typing.get_args(tp) if typing.get_origin(tp) is Literal else ()
            extra = _PROBE_INTS.get(section, {}).get(name)
            rejected = {v for v in (*values, *([extra] if extra is not None else [])) if _rejects(section, name, v)}
            if rejected:
                out[(model, name)] = frozenset(rejected)
    return out


def _rejects(section: str, key: str, value: Any) -> bool:
    try:
        Scenario.model_validate({**_PROBE_BASE, section: {key: value}})
    except ValidationError as exc:
        return any(_not_modelled(str(err.get("msg", ""))) for err in exc.errors())
    except ValueError as exc:
        return _not_modelled(str(exc))
    return False


# ---- the document -----------------------------------------------------------------------------
def _cell(text: str) -> str:
    """One table cell: whitespace collapsed, bare pipes escaped."""
    return re.sub(r"(?<!\\)\|", r"\\|", " ".join(text.split()))


def _row(model: type[BaseModel], name: str, field: FieldInfo, words: str | None = None, note: str = "") -> str:
    bad = unmodelled().get((model, name), frozenset())
    if words is None:
        words = type_words(field.annotation, list(field.metadata), bad)
        ints = [v for v in bad if isinstance(v, int) and not isinstance(v, bool)]
        if ints and "one of" not in words:
            words += f"; {min(ints)} or more not modelled yet"
    description = note + (field.description or FALLBACK.get((model, name), ""))
    return f"| {key_words(name, field)} | {_cell(words)} | {default_words(field)} | {_cell(description)} |"


def _tag(model: type[BaseModel]) -> str:
    """The key that tells the members of a union apart: ``kind``, or ``dist`` for lengths."""
    return "kind" if "kind" in model.model_fields else "dist"


def section_table(models: Any) -> list[str]:
    """The table of one section; a tuple of models is a union told apart by its ``kind`` (or
    ``dist``) key."""
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    if not isinstance(models, tuple):
        skip = _SECTION_KEYS if models is Scenario else ()
        return rows + [_row(models, n, f) for n, f in models.model_fields.items() if n not in skip]
    tag = _tag(models[0])
    kinds = [typing.get_args(m.model_fields[tag].annotation)[0] for m in models]
    first = models[0]
    rows.append(_row(first, tag, first.model_fields[tag], words=_choices(tuple(kinds), set())))
    for model, kind in zip(models, kinds):
        rows += [_row(model, n, f, note=f"{kind}: ") for n, f in model.model_fields.items() if n != tag]
    return rows


def scenario_reference_markdown() -> str:
    """The whole of docs/scenario-reference.md (deterministic: same schema, same text)."""
    sections = ", ".join(f"`{k}`" for k in _SECTION_KEYS)
    lines = [
        "# Scenario reference",
        "",
        ("Generated from the scenario schema by `simdecode/present/reference.py`: do not edit it by hand. After changing "
         "the schema or a preset catalogue, regenerate it (`tests/test_docs.py` fails while it is stale):"),
        "",
        "```sh",
        REGENERATE,
        "```",
        "",
        ('Quantities take units (`"450 GB/s"`, `"2 us"`, `"80 GiB"`, `"2/s"`) or plain SI numbers; '
         "GB and TB are powers of ten, GiB powers of two, `Gb/s` is bits. Unknown keys are errors. "
         "A bandwidth under 1 GB/s, a FLOP rate under 100 GFLOP/s and a plain memory size under 1 MB are refused "
         "as slips, with the unit probably meant (`3350` -> did you mean `'3350 GB/s'`?). Only plain YAML values: "
         "tags such as `!!bool` are errors. Files a scenario names (`hf_config`, trace and length files) are "
         "read relative to its folder and must lie inside it ([security.md](security.md)). "
         "Where a preset name is accepted, so is `{preset: NAME, ...overrides}`, or a mapping that gives every "
         "required key. What the keys mean physically: [assumptions.md](assumptions.md); the result: "
         "[metrics.md](metrics.md)."),
    ]
    for heading, models, intro in SECTIONS:
        lines += ["", f"## {heading}"]
        if models is Scenario:
            intro = f"`model` and `hardware` are required. Sections, each a mapping with its own table below: {sections}."
        if intro:
            lines += [intro, ""]
        lines += section_table(models)
    lines += [
        "",
        "## TP schedules",
        "The values of `parallelism.tp_mode`, one module each in `simdecode/tp_schedules/`.",
        "",
        "| tp_mode | exact | expert parallelism | what each module waits for |",
        "|---|---|---|---|",
    ]
    for name, schedule in tp_schedules.schedules().items():
        lines.append(f"| `{name}` | {'yes' if schedule.exact else 'no: needs a model trained so'} | "
                     f"{'yes' if schedule.expert_parallel else 'no'} | {_cell(schedule.summary)} |")
    lines += [
        "",
        "## Presets",
        "`simdecode presets KIND` prints them; `simdecode/presets/KIND.yaml` holds each figure with its source, "
        "and `simdecode presets KIND NAME` prints one entry of it as written.",
        "",
        "| catalogue | used by | presets |",
        "|---|---|---|",
    ]
    used_by = {"gpus": "`hardware.gpu`", "links": "`hardware.intra_node_link`, `hardware.inter_node_link`",
               "models": "`model`, `decoding.draft_model`", "runtimes": "`runtime`"}
    for kind in presets.KINDS:
        names = ", ".join(f"`{n}`" for n in presets.names(kind))
        lines.append(f"| {kind} | {used_by.get(kind, '')} | {names} |")
    return "\n".join(lines) + "\n"
