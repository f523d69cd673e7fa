"""The assumption space of ``simdecode estimate``: what is unknown about a provider's deployment.

An observed per-user speed (tokens/s) does not name a model size on its own: the same speed comes
from a small model served slowly or a large one served fast. Every unknown is an *axis* with a
list of values; the search runs over their Cartesian product (one :class:`Assumptions` per
combination) and reports the active-parameter interval the whole product allows.

| axis        | values (CLI syntax)                       | default                    |
|-------------|-------------------------------------------|----------------------------|
| hardware    | GPUxN, e.g. ``h200x8`` (a GPU preset)     | h100x8, h200x8, b200x8     |
| precision   | weight dtype: bf16, fp8, fp4, int4, ...   | bf16, fp8, fp4             |
| tp          | tensor-parallel degree (<= the GPUs)      | half the GPUs, all of them |
| runtime     | runtime preset                            | vllm, trt-llm              |
| batch       | sequences decoding together per replica   | 1, 16, 64                  |
| context     | prompt tokens before decoding starts      | 2000, 16000                |
| speculation | ``none``, ``mtp:K`` or ``mtp:K:ACCEPTANCE`` | none, mtp:3                |
| arch        | ``dense`` or ``moe:RATIO:EXPERTS:TOPK``   | dense, moe:10:160:8        |
|             | crossed with ``--attention gqa,mla``      | gqa                        |

``mtp:K`` without an acceptance takes the per-position default ``simdecode run`` uses
(:func:`simdecode.costmodel.speculative.default_acceptance`: 0.92, 0.72, 0.36, then halving), so
the two agree on what an unstated acceptance means; ``mtp:K:A`` is an i.i.d. acceptance A.

Integer axes (tp, batch, context) also take ``LO..HI``: the powers of two from LO to HI, with
both ends. The KV cache is stored in fp8 when the weights are 8-bit or narrower, else in bf16;
activations are bf16 (a documented assumption, docs/estimate.md).
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from dataclasses import dataclass, fields
from typing import Iterator

from simdecode.costmodel.speculative import accepted_probabilities, default_acceptance
from simdecode.costmodel.speculative import mean_tokens as tokens_per_step
from simdecode.scenario.types import DTYPE_BYTES


class EstimateError(ValueError):
    """Something wrong with what the user asked ``estimate`` for (exit code 2): one line each."""


AXES = ("hardware", "precision", "tp", "runtime", "batch", "context", "speculation", "arch")

DEFAULTS: dict[str, str] = {
    "hardware": "h100x8,h200x8,b200x8",
    "precision": "bf16,fp8,fp4",
    "runtime": "vllm,trt-llm",
    "batch": "1,16,64",
    "context": "2000,16000",
    "speculation": "none,mtp:3",
    "arch": "dense,moe:10:160:8",
}

#: GPU preset names shortened in ``--hardware`` (h100 is the SXM board)
GPU_ALIASES = {"h100": "h100-sxm", "a100": "a100-80gb"}


@dataclass(frozen=True, order=True)
class Hardware:
    """``gpus`` GPUs of preset ``gpu`` in one node, over ``link`` (None: the GPU's own)."""

    gpu: str
    gpus: int
    link: str | None = None

    def __str__(self) -> str:
        short = next((k for k, v in GPU_ALIASES.items() if v == self.gpu), self.gpu)
        return f"{short}x{self.gpus}" + (f" over {self.link}" if self.link else "")


@dataclass(frozen=True)
class Speculation:
    """Standard decoding (``tokens == 0``) or the target's own MTP module chained ``tokens`` times
    (DeepSeek-V3-style MTP). ``acceptance``: each proposal accepted with that probability
    (i.i.d.); None: the per-position default ``simdecode run`` uses when a scenario gives none
    (:func:`simdecode.costmodel.speculative.default_acceptance`, decaying with depth)."""

    tokens: int = 0
    acceptance: float | None = None

    @property
    def enabled(self) -> bool:
        return self.tokens > 0

    @property
    def rates(self) -> tuple[float, ...]:
        """The acceptance probability of each draft position, 1..tokens."""
        if self.acceptance is None:
            return tuple(default_acceptance(self.tokens))
        return (self.acceptance,) * self.tokens

    @property
    def mean_tokens(self) -> float:
        """Expected tokens per verify step (bonus token included; 1 without speculation)."""
        if not self.enabled:
            return 1.0
        return tokens_per_step(accepted_probabilities(list(self.rates), self.tokens))

    def describe(self) -> str:
        """In words, for the report: which acceptance this value assumes."""
        if not self.enabled:
            return "no speculation"
        if self.acceptance is None:
            rates = ", ".join(f"{r:g}" for r in self.rates)
            return (f"MTP {self.tokens} at the default acceptance ({rates} per position, as `simdecode run` "
                    f"uses when none is given: {self.mean_tokens:.3g} tokens per step)")
        return (f"MTP {self.tokens} at an i.i.d. acceptance {self.acceptance:g} "
                f"({self.mean_tokens:.3g} tokens per step)")

    def __str__(self) -> str:
        if not self.enabled:
            return "none"
        return f"mtp:{self.tokens}" + ("" if self.acceptance is None else f":{self.acceptance:g}")


@dataclass(frozen=True, order=True)
class Arch:
    """A model family: ``dense``, or a mixture of experts with ``ratio`` = total / active
    parameters, ``experts`` routed experts per layer and ``top_k`` of them per token (plus one
    shared expert); ``attention`` grouped-query (``gqa``) or multi-head latent (``mla``, written
    ``+mla`` after the family). Shapes follow :mod:`simdecode.estimate.shapes`."""

    kind: str = "dense"
    ratio: float = 1.0
    experts: int = 0
    top_k: int = 0
    attention: str = "gqa"  # gqa | mla

    @property
    def is_moe(self) -> bool:
        return self.kind == "moe"

    def __str__(self) -> str:
        base = f"moe:{self.ratio:g}:{self.experts}:{self.top_k}" if self.is_moe else "dense"
        return base + ("+mla" if self.attention == "mla" else "")


@dataclass(frozen=True)
class Assumptions:
    """One point of the assumption space: everything but the model's size."""

    hardware: Hardware
    precision: str
    tp: int
    runtime: str
    batch: int
    context: int
    speculation: Speculation
    arch: Arch

    def label(self) -> str:
        return (f"{self.hardware}, {self.precision}, tp{self.tp}, {self.runtime}, batch {self.batch}, "
                f"context {self.context}, spec {self.speculation}, {self.arch}")

    def as_dict(self) -> dict[str, object]:
        """Plain data: numbers stay numbers, everything else its CLI spelling."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value if isinstance(value, (int, float)) else str(value)
        return out

    @property
    def kv_dtype(self) -> str:
        return "fp8" if DTYPE_BYTES[self.precision] <= 1 else "bf16"


@dataclass(frozen=True)
class Space:
    """Values of every axis (each a tuple, in the order given) and the fixed settings."""

    hardware: tuple[Hardware, ...]
    precision: tuple[str, ...]
    tp: tuple[int, ...]
    runtime: tuple[str, ...]
    batch: tuple[int, ...]
    context: tuple[int, ...]
    speculation: tuple[Speculation, ...]
    arch: tuple[Arch, ...]
    output_tokens: int = 512

    def values(self, axis: str) -> tuple:
        return getattr(self, axis)

    def combos(self) -> Iterator[Assumptions]:
        """Every combination whose tp fits its hardware (tp <= GPUs and divides them)."""
        for values in itertools.product(*(self.values(axis) for axis in AXES)):
            a = Assumptions(*values)
            if a.tp <= a.hardware.gpus and a.hardware.gpus % a.tp == 0:
                yield a

    @property
    def size(self) -> int:
        return sum(1 for _ in self.combos())

    def width_unit(self) -> int:
        """Query-head counts of synthetic models are multiples of this, so that every tp of the
        space divides them: max(8, largest tp)."""
        return max(8, max(self.tp))


# ---- parsing ----------------------------------------------------------------------------------

#: a count without a suffix below this (a million parameters) is a missing suffix, not a model
MIN_BARE_COUNT = 1e6

_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}


def parse_count(text: str, what: str) -> float:
    """``70.6B``, ``1.2T``, ``32e9`` -> a number of parameters (positive)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmbgt]?)\s*", str(text), re.IGNORECASE)
    if not m:
        raise EstimateError(f"{what}: expected a count such as 70B, 1.2T or 32e9, got {text!r}")
    value = float(m.group(1)) * _SUFFIX[m.group(2).lower()]
    if not value > 0:
        raise EstimateError(f"{what}: must be positive, got {text!r}")
    if not m.group(2) and value < MIN_BARE_COUNT:  # "--active-min 10": 10 parameters, surely 10B meant
        raise EstimateError(f"{what} {text.strip()}: read as {value:g} parameters, fewer than any language model; "
                            f"did you mean '{m.group(1)}B'? (a count takes a suffix: 70B, 1.2T, or 32e9)")
    return value


def _items(text: str, axis: str) -> list[str]:
    items = [part.strip() for part in str(text).split(",")]
    if not items or any(not part for part in items):
        raise EstimateError(f"--{axis} {text!r}: expected a comma-separated list with no empty entries")
    return items


def _int(text: str, axis: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise EstimateError(f"--{axis}: expected whole numbers, got {text!r}") from None
    if not low <= value <= high:
        raise EstimateError(f"--{axis}: {value} is outside {low}..{high}")
    return value


def parse_ints(text: str, axis: str, low: int = 1, high: int = 2_000_000) -> tuple[int, ...]:
    """``1,16,64`` or ``1..64`` (powers of two from LO to HI, both ends included)."""
    out: list[int] = []
    for item in _items(text, axis):
        if ".." in item:
            lo_text, _, hi_text = item.partition("..")
            lo, hi = _int(lo_text, axis, low, high), _int(hi_text, axis, low, high)
            if lo > hi:
                raise EstimateError(f"--{axis} {item}: contradictory range, {lo} > {hi}")
            values = [lo] + [2**e for e in range(math.ceil(math.log2(lo)), int(math.log2(hi)) + 1)] + [hi]
            out += [v for v in values if lo <= v <= hi]
        else:
            out.append(_int(item, axis, low, high))
    return tuple(sorted(set(out)))


def gpu_name(text: str, shown: str) -> str:
    """The GPU preset ``text`` names (a preset or an alias: ``h100``); :class:`EstimateError` with
    the closest names otherwise, ``shown`` saying which argument it came from."""
    from simdecode.presets import names

    gpus = names("gpus")
    name = GPU_ALIASES.get(text, text)
    if name not in gpus:
        close = difflib.get_close_matches(text, gpus + list(GPU_ALIASES), n=1, cutoff=0.4)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise EstimateError(f"{shown}: unknown GPU {text!r}{hint} (known: {', '.join(gpus)})")
    return name


def check_gpu_count(count: int, shown: str) -> None:
    if not 1 <= count <= 64:
        raise EstimateError(f"{shown}: 1 to 64 GPUs in one node (the search keeps one replica in a node)")


def parse_hardware(text: str, link: str | None = None) -> tuple[Hardware, ...]:
    """``h200x8,b200x8`` -> hardware entries; GPU names are presets (``simdecode presets gpus``)."""
    out = []
    for item in _items(text, "hardware"):
        m = re.fullmatch(r"(.+?)x([0-9]+)", item)
        if not m:
            raise EstimateError(f"--hardware {item!r}: expected GPUxCOUNT, e.g. h200x8")
        name, count = gpu_name(m.group(1), f"--hardware {item!r}"), int(m.group(2))
        check_gpu_count(count, f"--hardware {item!r}")
        out.append(Hardware(name, count, link))
    if link is not None:
        from simdecode.presets import preset

        preset("links", link)  # unknown names raise PresetError with a suggestion
    return tuple(dict.fromkeys(out))


def parse_precision(text: str) -> tuple[str, ...]:
    out = []
    for item in _items(text, "precision"):
        if item not in DTYPE_BYTES:
            close = difflib.get_close_matches(item, list(DTYPE_BYTES), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise EstimateError(f"--precision {item!r}: unknown dtype{hint} (known: {', '.join(DTYPE_BYTES)})")
        out.append(item)
    return tuple(dict.fromkeys(out))


def parse_runtime(text: str) -> tuple[str, ...]:
    from simdecode.presets import preset

    items = _items(text, "runtime")
    for item in items:
        preset("runtimes", item)  # PresetError names the known ones
    return tuple(dict.fromkeys(items))


def parse_speculation(text: str) -> tuple[Speculation, ...]:
    out = []
    for item in _items(text, "speculation"):
        if item == "none":
            out.append(Speculation())
            continue
        parts = item.split(":")
        if len(parts) not in (2, 3) or parts[0] != "mtp":
            raise EstimateError(f"--speculation {item!r}: expected none, mtp:K (the default per-position acceptance, "
                                "as `simdecode run`) or mtp:K:ACCEPTANCE (i.i.d.), e.g. mtp:3 or mtp:3:0.7")
        k = _int(parts[1], "speculation", 1, 16)
        if len(parts) == 2:
            out.append(Speculation(k))
            continue
        try:
            alpha = float(parts[2])
        except ValueError:
            alpha = -1.0
        if not 0.0 <= alpha <= 1.0:
            raise EstimateError(f"--speculation {item!r}: acceptance must be a probability in 0..1, got {parts[2]!r}")
        out.append(Speculation(k, alpha))
    return tuple(dict.fromkeys(out))


ATTENTION = ("gqa", "mla")


def parse_arch(text: str, attention: str | None = None) -> tuple[Arch, ...]:
    """``dense,moe:10:160:8`` crossed with the attention types (``gqa,mla``; default gqa); an
    entry may also carry its own, ``dense+mla``."""
    kinds = _items(attention or "gqa", "attention")
    for kind in kinds:
        if kind not in ATTENTION:
            raise EstimateError(f"--attention {kind!r}: expected gqa (grouped-query) or mla (multi-head latent)")
    out = []
    for entry in _items(text, "arch"):
        item, plus, own = entry.partition("+")
        if plus and own not in ATTENTION:
            raise EstimateError(f"--arch {entry!r}: the attention after '+' must be gqa or mla")
        for kind in ([own] if plus else kinds):
            out.append(_one_arch(item, kind))
    return tuple(dict.fromkeys(out))


def _one_arch(item: str, attention: str) -> Arch:
    if item == "dense":
        return Arch(attention=attention)
    parts = item.split(":")
    if len(parts) != 4 or parts[0] != "moe":
        raise EstimateError(f"--arch {item!r}: expected dense or moe:RATIO:EXPERTS:TOPK "
                            "(total/active parameters, routed experts, experts per token), e.g. moe:10:160:8")
    try:
        ratio = float(parts[1])
    except ValueError:
        raise EstimateError(f"--arch {item!r}: RATIO (total / active parameters) must be a number") from None
    experts = _int(parts[2], "arch", 2, 4096)
    top_k = _int(parts[3], "arch", 1, 4096)
    if top_k >= experts:
        raise EstimateError(f"--arch {item!r}: contradictory, top-k {top_k} must be below the {experts} experts")
    # total/active = 1 + (E - K) x / active per routed expert; with every parameter in experts
    # (nothing but routed experts) the ratio reaches (E + 1) / (K + 1) with one shared expert
    top = (experts + 1) / (top_k + 1)
    if not 1.0 < ratio < top:
        raise EstimateError(f"--arch {item!r}: contradictory, a total/active ratio of {ratio:g} is impossible with "
                            f"{experts} experts and top-{top_k} (it must lie between 1 and {top:.3g})")
    return Arch("moe", ratio, experts, top_k, attention)


def build_space(*, hardware: str | None = None, gpu: str | None = None, gpus: int | None = None,
                link: str | None = None, precision: str | None = None, tp: str | None = None,
                runtime: str | None = None, batch: str | None = None, context: str | None = None,
                speculation: str | None = None, arch: str | None = None, attention: str | None = None,
                output_tokens: int = 512) -> Space:
    """Parse the axes (CLI strings; None: the default) into a :class:`Space`; raise
    :class:`EstimateError` (or PresetError) on anything malformed or contradictory."""
    if gpu is not None or gpus is not None:
        if hardware is not None:
            raise EstimateError("give --hardware or --gpu/--gpus, not both")
        if gpu is not None:  # its own errors name --gpu, not the --hardware it stands for
            gpu_name(gpu, f"--gpu {gpu!r}")
        if gpus is not None:
            check_gpu_count(gpus, f"--gpus {gpus}")
        hardware = f"{gpu or 'h200'}x{gpus or 8}"
    hw = parse_hardware(hardware or DEFAULTS["hardware"], link)
    # the synthetic models have 8 KV heads (estimate.shapes): a tp group must split them or hold whole copies
    kv_heads = 8
    if tp is None:  # per node: the largest degree that divides its GPUs and fits the heads, and about half of it
        tps_set = set()
        for n in {h.gpus for h in hw}:
            fits = [d for d in range(1, n + 1) if n % d == 0 and (kv_heads % d == 0 or d % kv_heads == 0)]
            tps_set |= {fits[-1], max(d for d in fits if d <= max(1, fits[-1] // 2))}
        tps = tuple(sorted(tps_set))
    else:
        tps = parse_ints(tp, "tp", 1, 64)
    for t in tps:
        if not (kv_heads % t == 0 or t % kv_heads == 0):
            raise EstimateError(f"--tp {t}: the synthetic models have {kv_heads} KV heads (grouped-query attention, "
                                f"as Llama 3), which a tensor-parallel group of {t} cannot split; choose a "
                                f"divisor or multiple of {kv_heads} (1, 2, 4, 8, 16...)")
        if not any(t <= h.gpus and h.gpus % t == 0 for h in hw):
            raise EstimateError(f"--tp {t} contradicts --hardware {','.join(map(str, hw))}: a tensor-parallel group of "
                                f"{t} must fit in (and divide) the node's GPUs")
    if not 1 <= output_tokens <= 100_000:
        raise EstimateError(f"--output-tokens {output_tokens}: expected 1..100000")
    space = Space(
        hardware=hw,
        precision=parse_precision(precision or DEFAULTS["precision"]),
        tp=tps,
        runtime=parse_runtime(runtime or DEFAULTS["runtime"]),
        batch=parse_ints(batch or DEFAULTS["batch"], "batch", 1, 4096),
        context=parse_ints(context or DEFAULTS["context"], "context", 1, 1_000_000),
        speculation=parse_speculation(speculation or DEFAULTS["speculation"]),
        arch=parse_arch(arch or DEFAULTS["arch"], attention),
        output_tokens=output_tokens,
    )
    if output_tokens < 2:
        raise EstimateError("--output-tokens must be at least 2: per-user speed counts the tokens after the first")
    return space
