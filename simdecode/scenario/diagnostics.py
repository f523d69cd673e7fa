"""Turn pydantic validation errors into :class:`~simdecode.errors.Problem` rows a person can act on:
the key path as the user typed it (aliases, no union tags), the line it came from, what was
expected, and a "did you mean" for unknown keys and names.
"""

from __future__ import annotations

import difflib
import functools
import re
from typing import Any, Literal, Mapping, Union, get_args, get_origin

from pydantic import BaseModel

from simdecode.errors import Problem
from simdecode.scenario.hardware import GpuSpec, LinkSpec, RuntimeSpec
from simdecode.scenario.model import HF_KEYS, ModelSpec
from simdecode.scenario.schema import Scenario
from simdecode.scenario.text import Path_, one_of, render_path, short

_PRESET_SPECS = (GpuSpec, LinkSpec, RuntimeSpec, ModelSpec)


# --------------------------------------------------------------------------- pydantic errors


def problem_from_error(err: dict[str, Any], file: str, lines: Mapping[Path_, int], origins: Mapping[Path_, str]) -> Problem:
    path, leaf, owner, key_error = _walk(err["loc"])
    kind, ctx, given = err["type"], err.get("ctx") or {}, err.get("input")
    hint = None
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        message = str(ctx["error"])
    else:
        message = re.sub(r"^(Value error|Assertion failed), ", "", err["msg"])
    if not path and kind == "value_error":  # a whole-scenario check (checks.py): the key it is about
        named = getattr(ctx.get("error"), "key_path", None)  # CheckError carries it
        if isinstance(named, str) and named:
            path = tuple(named.split("."))
        else:
            path, message = _infer_path(message, lines, origins)
    if kind == "extra_forbidden" and path:
        message, hint = _unknown_key(path[-1], owner, len(path) == 1)
        hint = hint or _one_level_down(path, owner) or _other_kind(err["loc"], path)
    elif kind == "missing" and path:
        field = _field(owner, path[-1]) if owner else None
        about = f" ({field.description})" if field is not None and field.description else ""
        message = f"missing required key {path[-1]!r}{about}"
    elif kind == "invalid_key":
        message = f"keys must be text, got {given!r}"
    elif kind in ("literal_error", "enum"):
        allowed = [str(v) for v in get_args(leaf)] if get_origin(leaf) is Literal else []
        expected = one_of(allowed) if allowed else str(ctx.get("expected"))
        message = (f"unknown key {short(given)}: expected {expected}" if key_error
                   else f"expected {expected}, got {short(given)}")
        hint = _did_you_mean(given, allowed)
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        name = str(ctx.get("discriminator", "kind")).strip("'\"")
        tags = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
        message = (f"unknown {name} {short(ctx.get('tag'))}" if kind == "union_tag_invalid"
                   else f"missing {name!r}") + f": expected {name} one of {', '.join(tags)}"
        path = (*path, name)
        hint = _did_you_mean(ctx.get("tag"), tags)
    elif kind in _EXPECTED:
        try:
            expected = _EXPECTED[kind].format(**ctx)
        except (KeyError, IndexError):  # a pydantic version with other context keys
            expected = err["msg"]
        if kind in ("model_type", "dict_type") and leaf in _PRESET_SPECS:
            expected = "expected a preset name or a mapping"
        message = f"{expected}, got {short(given)}"
    line, origin = _locate(path, lines, origins)
    return Problem(message, file, line, render_path(path), hint, origin)


_EXPECTED = {
    "int_type": "expected an integer", "int_parsing": "expected an integer",
    "int_from_float": "expected a whole number", "int_parsing_size": "expected a smaller integer",
    "float_type": "expected a number", "float_parsing": "expected a number", "finite_number": "expected a finite number",
    "bool_type": "expected true or false", "bool_parsing": "expected true or false",
    "string_type": "expected text", "list_type": "expected a list", "tuple_type": "expected a list",
    "dict_type": "expected a mapping", "model_type": "expected a mapping", "model_attributes_type": "expected a mapping",
    "greater_than": "expected a value > {gt}", "greater_than_equal": "expected a value >= {ge}",
    "less_than": "expected a value < {lt}", "less_than_equal": "expected a value <= {le}",
    "multiple_of": "expected a multiple of {multiple_of}",
}


def _walk(loc: tuple) -> tuple[Path_, Any, type[BaseModel] | None, bool]:
    """Follow ``loc`` through the schema's types: drop union tags, keep the user's key names.

    Returns the key path, the type found there, the model that holds its last key and whether
    the error is about a mapping key (``[key]``).
    """
    tp: Any = Scenario
    path: list[Any] = []
    owner: type[BaseModel] | None = None
    key_error = False
    for i, elem in enumerate(loc):
        tp = _unwrap(tp)
        origin = get_origin(tp)
        if key_error:  # "[key]" after the offending key of a mapping, already in path
            continue
        if origin is Union:
            tp = _member(tp, elem)
            continue
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            owner = tp
            field = _field(tp, elem)
            tp = field.annotation if field is not None else Any
        elif origin in (dict, Mapping) or tp is dict:
            args = get_args(tp) or (Any, Any)
            key_error = loc[i + 1 :] == ("[key]",)
            tp = args[0] if key_error else args[-1]
        elif origin in (list, tuple) or tp in (list, tuple):
            tp = (get_args(tp) or (Any,))[0]
        else:
            tp = Any
        path.append(elem)
    return tuple(path), _unwrap(tp), owner, key_error


def _unwrap(tp: Any) -> Any:
    while True:
        if hasattr(tp, "__metadata__"):  # Annotated
            tp = tp.__origin__
            continue
        args = get_args(tp)
        if get_origin(tp) is Union or type(tp).__name__ == "UnionType":
            members = [a for a in args if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
            return Union[tuple(members)]
        return tp


def _member(union: Any, tag: Any) -> Any:
    """The union member pydantic names ``tag`` (a discriminator value or a type's name)."""
    for member in get_args(union):
        bare = _unwrap(member)
        if isinstance(bare, type) and issubclass(bare, BaseModel):
            tags = [get_args(f.annotation) for f in bare.model_fields.values() if get_origin(f.annotation) is Literal]
            if tag == bare.__name__ or any(tag in values for values in tags):
                return bare
        name = getattr(get_origin(bare) or bare, "__name__", str(bare)).lower()
        if isinstance(tag, str) and tag.lower().startswith(name):
            return bare
    return Any


def _field(model: type[BaseModel], key: Any):  # noqa: ANN202
    for name, field in model.model_fields.items():
        if key == name or key in _aliases(name, field):
            return field
    return None


def _aliases(name: str, field: Any) -> list[str]:
    alias = field.validation_alias
    if alias is not None and hasattr(alias, "choices"):
        return [str(choice) for choice in alias.choices]
    return [field.alias] if field.alias else [name]


def _allowed_keys(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    if model is ModelSpec:
        return sorted(HF_KEYS | {"preset", "hf_config"})
    keys = [key for name, field in model.model_fields.items() for key in _aliases(name, field)]
    return keys + (["preset"] if model in _PRESET_SPECS else [])


def _unknown_key(key: Any, owner: type[BaseModel] | None, top: bool) -> tuple[str, str | None]:
    allowed = _allowed_keys(owner)
    listed = f": expected one of {', '.join(allowed)}" if 0 < len(allowed) <= 16 else ""
    hint = _did_you_mean(key, allowed)
    if hint is None and top:  # a section's key at the top level, e.g. "tp: 8"
        sections = [(name, _unwrap(f.annotation)) for name, f in Scenario.model_fields.items()]
        for section, model in sections:
            if isinstance(model, type) and issubclass(model, BaseModel) and key in _allowed_keys(model):
                hint = f"did you mean '{section}.{key}'?"
                break
    return f"unknown key {short(key)}{listed}", hint


def _one_level_down(path: Path_, owner: type[BaseModel] | None) -> str | None:
    """A key that belongs to one of ``owner``'s own sections: ``hardware.memory_bandwidth`` is a key
    of ``hardware.gpu``, so the hint is "did you mean 'hardware.gpu.memory_bandwidth'?"."""
    if owner is None or not isinstance(path[-1], str):
        return None
    for name, field in owner.model_fields.items():
        bare = _unwrap(field.annotation)
        members = get_args(bare) if get_origin(bare) is Union else (bare,)
        for member in members:
            sub = _unwrap(member)
            key = next((k for k in (path[-1], SYNONYMS.get(path[-1].lower().replace("-", "_")))
                        if isinstance(sub, type) and issubclass(sub, BaseModel) and sub is not ModelSpec
                        and k in _allowed_keys(sub)), None)
            if key is not None:
                where = ".".join(str(p) for p in (*path[:-1], _aliases(name, field)[0], key))
                return f"did you mean {where!r}?"
    return None


def _other_kind(loc: tuple, path: Path_) -> str | None:
    """A key of another kind of the same section: ``--set workload.arrival.kind=poisson`` on a file
    with ``concurrency`` keeps the closed loop's key, so the hint is to set the section whole."""
    tp: Any = Scenario
    union = None
    for elem in loc[:-1]:
        tp = _unwrap(tp)
        if get_origin(tp) is Union:
            union, tp = tp, _member(tp, elem)
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            field = _field(tp, elem)
            union, tp = None, field.annotation if field is not None else Any
        else:
            return None
    owner = _unwrap(tp)
    if union is None or not isinstance(owner, type):
        return None
    for member in map(_unwrap, get_args(union)):
        if member is owner or not (isinstance(member, type) and issubclass(member, BaseModel)):
            continue
        tags = [v for f in member.model_fields.values() if get_origin(f.annotation) is Literal
                for v in get_args(f.annotation)]
        if path[-1] in _allowed_keys(member) and tags:
            where = ".".join(str(p) for p in path[:-1])
            own = [(name, get_args(f.annotation)) for name, f in owner.model_fields.items()
                   if get_origin(f.annotation) is Literal]
            needed = [_aliases(name, f)[0] for name, f in owner.model_fields.items()
                      if f.is_required() and get_origin(f.annotation) is not Literal]
            example = ", ".join([f"{own[0][0]}: {own[0][1][0]}"] * bool(own) + [f"{k}: ..." for k in needed])
            return (f"{path[-1]!r} is a key of kind {tags[0]}; to change the kind, set the section whole: "
                    f"--set '{where}={{{example}}}'")
    return None


#: names other tools give a key (vLLM's flags, everyday words), for when spelling does not find it
SYNONYMS = {
    "memory_capacity": "memory", "memory_size": "memory", "vram": "memory", "hbm": "memory", "capacity": "memory",
    "bandwidth": "memory_bandwidth", "hbm_bandwidth": "memory_bandwidth",
    "tensor_parallel": "tp", "tensor_parallel_size": "tp", "tp_size": "tp",
    "pipeline_parallel": "pp", "pipeline_parallel_size": "pp", "pp_size": "pp",
    "data_parallel": "dp", "data_parallel_size": "dp", "dp_size": "dp",
    "expert_parallel": "ep", "expert_parallel_size": "ep",
    "max_num_seqs": "max_batch_size", "batch_size": "max_batch_size",
    "max_num_batched_tokens": "max_batched_tokens", "gpu_memory_utilization": "memory_utilization",
    "block_size": "kv_block_tokens", "enable_chunked_prefill": "chunked_prefill",
    "launch_overhead": "kernel_launch", "launch_latency": "kernel_launch",
    "input_tokens": "prompt_tokens", "input_len": "prompt_tokens", "output_len": "output_tokens",
    "num_requests": "requests", "num_prompts": "requests", "max_concurrency": "concurrency",
}


def _did_you_mean(given: Any, choices: list[str]) -> str | None:
    if not isinstance(given, str) or not choices:
        return None
    if SYNONYMS.get(given.lower().replace("-", "_")) in choices:
        return f"did you mean {SYNONYMS[given.lower().replace('-', '_')]!r}?"
    close = difflib.get_close_matches(given, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower().replace("_", "-"): c for c in choices}
        close = [lowered[k] for k in difflib.get_close_matches(given.lower().replace("_", "-"), list(lowered), n=1)]
    return f"did you mean {close[0]!r}?" if close else None


def _infer_path(message: str, lines: Mapping[Path_, int], origins: Mapping[Path_, str]) -> tuple[Path_, str]:
    """The key a whole-scenario error is about: a ``key.path:`` prefix, else keys it mentions."""
    prefix = re.match(r"^([A-Za-z_][\w-]*(?:\.[\w-]+)*): (.+)$", message, re.S)
    if prefix and prefix.group(1).split(".")[0] in Scenario.model_fields:
        return tuple(prefix.group(1).split(".")), prefix.group(2)
    found: list[tuple[int, Path_]] = []
    for path in _known_paths():
        word = re.escape(path[-1]) if len(path) > 1 and _bare_unique(path[-1]) else None
        for pattern in filter(None, [re.escape(".".join(path)), word]):
            match = re.search(rf"(?<![\w.-]){pattern}(?![\w-])", message)
            if match:
                found.append((match.start(), path))
    found.sort(key=lambda item: (item[0], -len(item[1])))
    present = [p for _, p in found if p in lines or p in origins]
    chosen = present[0] if present else (found[0][1] if found else ())
    return chosen, message


@functools.cache
def _known_paths() -> tuple[Path_, ...]:
    paths: list[Path_] = []
    for section, field in Scenario.model_fields.items():
        paths.append((section,))
        model = _unwrap(field.annotation)
        if isinstance(model, type) and issubclass(model, BaseModel) and model is not ModelSpec:
            paths += [(section, key) for key in _allowed_keys(model) if key != "preset"]
    return tuple(paths)


def _bare_unique(key: str) -> bool:
    return sum(1 for p in _known_paths() if p[-1] == key) == 1


def _locate(path: Path_, lines: Mapping[Path_, int], origins: Mapping[Path_, str]) -> tuple[int | None, str | None]:
    """The line of the longest prefix of ``path`` in the file, or the override that set it."""
    for key, origin in origins.items():  # an override below path made it wrong: --set tp.x=1
        if len(key) > len(path) and key[: len(path)] == path:
            return None, origin
    for n in range(len(path), 0, -1):
        if path[:n] in origins:
            return None, origins[path[:n]]
        if path[:n] in lines:
            return lines[path[:n]], None
    return None, None


def merge_problems(problems: list[Problem]) -> list[Problem]:
    """One problem per key path: union members' "expected X" / "expected Y" become "X or Y"."""
    merged: dict[tuple[str, str | None], Problem] = {}
    for problem in problems:
        key = (problem.key_path, problem.origin)
        first = merged.get(key)
        if first is None:
            merged[key] = problem
            continue
        a, b = (re.match(r"^expected (.+?), got (.+)$", p.message, re.S) for p in (first, problem))
        if a and b and a.group(2) == b.group(2):
            merged[key] = Problem(f"expected {a.group(1)} or {b.group(1)}, got {a.group(2)}", first.file,
                                  first.line, first.key_path, first.hint or problem.hint, first.origin)
        elif problem.message not in first.message:
            merged[key] = Problem(f"{first.message}; or {problem.message}", first.file, first.line,
                                  first.key_path, first.hint or problem.hint, first.origin)
    return sorted(merged.values(), key=lambda p: (p.line is None, p.line or 0))


