"""Catalogues of GPUs, links, models and runtimes, stored as YAML data beside this module.

Each catalogue file maps a preset name to the keys its spec accepts, with the source of every
figure in a comment. Scenario values are resolved through :func:`resolve`:

- a string names a preset;
- a mapping with ``preset: NAME`` starts from that preset and overrides keys;
- a model mapping with ``hf_config: PATH`` reads a local Hugging Face ``config.json``;
- any other mapping must give every required field.

Inside a catalogue file an entry may start from another one: ``base: NAME`` takes NAME's keys (and
its base's, in turn) and sets the entry's own over them. It is written for runtimes that differ from
an engine's preset in a few keys (``trtllm-serve``: ``trt-llm`` with the PyTorch backend's GEMMs and
CUDA graphs), so that the shared keys stay written once. :func:`inherit` checks it: a base that is
no preset of the catalogue or a chain that returns to itself is an error naming the file and the
entries. :func:`base` tells which preset an entry starts from; its ``measured_on`` (where its costs
were measured) carries over unless the entry states its own, and its ``source`` does not.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from simdecode.scenario.limits import MAX_CONFIG_DEPTH

KINDS = ("gpus", "links", "models", "runtimes")
MAX_CONFIG_BYTES = 1_000_000  # a config.json larger than this is not a model config


#: how to describe a model that has no preset (appended to an unknown model's error)
HF_CONFIG_HINT = ("; any other model: download its config.json from its Hugging Face page "
                  "(https://huggingface.co/ORG/MODEL/resolve/main/config.json) and write "
                  "model: {hf_config: path/to/config.json}")


class PresetError(ValueError):
    """An unknown preset name or an unreadable model config; the message says what exists."""


#: catalogue keys that describe a preset rather than set its spec: kept out of :func:`preset`
#: - ``source``: where the preset's figures come from;
#: - ``measured_on`` (runtimes): the GPU preset the runtime's kernel costs were measured on, when
#:   they are one GPU's measurements (kog: Kog's MI300X stage costs); on another GPU they are an
#:   assumption, which ``simdecode validate`` marks (validate/conditions.is_kernel_side).
META_KEYS = ("source", "measured_on")


@functools.cache
def _read(kind: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]]]:
    """(presets by name with their bases' keys, each one's :data:`META_KEYS` and ``base``: "" where
    it has none; ``measured_on`` comes from its base when it states none)."""
    if kind not in KINDS:
        raise KeyError(kind)
    text = resources.files(__package__).joinpath(f"{kind}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    entries, meta = {}, {}
    for name, entry in data.items():
        entry = dict(entry or {})
        meta[str(name)] = {key: str(entry.pop(key, "")) for key in META_KEYS}
        entries[str(name)] = entry
    resolved = inherit(kind, entries)  # checks the bases first
    return resolved, inherit_meta(entries, meta)


#: the catalogue key that names the preset an entry starts from
BASE_KEY = "base"


def inherit(kind: str, entries: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``entries`` (a catalogue's presets by name, as written) with every ``base: NAME`` replaced by
    NAME's keys under the entry's own, NAME resolved first. Raises :class:`PresetError` for a base
    that is not one of ``entries`` (with the closest names) or a cycle of bases.

    >>> inherit("runtimes", {"a": {"x": 1, "y": 2}, "b": {"base": "a", "y": 3}})["b"]
    {'x': 1, 'y': 3}
    """
    done: dict[str, dict[str, Any]] = {}

    def resolved(name: str, chain: tuple[str, ...]) -> dict[str, Any]:
        if name in done:
            return done[name]
        entry = entries[name]
        if BASE_KEY not in entry:
            done[name] = entry
            return entry
        own = {k: v for k, v in entry.items() if k != BASE_KEY}
        parent = entry[BASE_KEY]
        if not isinstance(parent, str) or parent not in entries:
            close = suggest(str(parent), [n for n in entries if n != name])
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise PresetError(f"{kind}.yaml: preset {name!r}: base {parent!r} is not a {kind[:-1]} preset{hint}")
        path = chain + (name,)
        if parent in path:
            loop = " -> ".join(repr(n) for n in path[path.index(parent):] + (parent,))
            raise PresetError(f"{kind}.yaml: base keys form a cycle: {loop}")
        done[name] = {**resolved(parent, chain + (name,)), **own}
        return done[name]

    return {name: resolved(name, ()) for name in entries}


def inherit_meta(entries: dict[str, dict[str, Any]], meta: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Each entry's :data:`META_KEYS` (``meta``, as written) with its ``base`` ("" if none) added and
    ``measured_on`` taken from the nearest base that states one when the entry states none: the
    costs it inherits were measured there. ``source`` stays the entry's own. ``entries``' bases must
    already be checked (:func:`inherit`).

    >>> inherit_meta({"kog": {}, "kog-h200": {"base": "kog"}},
    ...              {"kog": {"source": "a", "measured_on": "mi300x"}, "kog-h200": {"source": "b", "measured_on": ""}})["kog-h200"]
    {'source': 'b', 'measured_on': 'mi300x', 'base': 'kog'}
    """
    out = {name: {**values, "base": str(entries[name].get(BASE_KEY, ""))} for name, values in meta.items()}
    for values in out.values():
        parent = values["base"]
        while not values["measured_on"] and parent:
            values["measured_on"] = meta[parent]["measured_on"]
            parent = str(entries[parent].get(BASE_KEY, ""))
    return out


def base(kind: str, name: str) -> str:
    """The preset ``name`` starts from (its ``base:`` in the catalogue file), "" if none."""
    preset(kind, name)  # unknown names raise with suggestions
    return _read(kind)[1][name]["base"]


def catalogue(kind: str) -> dict[str, dict[str, Any]]:
    """All presets of one kind (``gpus``, ``links``, ``models``, ``runtimes``), by name."""
    return _read(kind)[0]


def source(kind: str, name: str) -> str:
    """Where a preset's figures come from: its ``source:`` key (the catalogue file's comment
    above the entry gives the detail), "" if it has none."""
    preset(kind, name)  # unknown names raise with suggestions
    return _read(kind)[1][name]["source"]


def measured_on(kind: str, name: str) -> str:
    """The GPU preset a preset's costs were measured on, when they are one GPU's measurements
    (its ``measured_on:`` key; a runtime such as kog), "" when they hold on any GPU."""
    preset(kind, name)  # unknown names raise with suggestions
    return _read(kind)[1][name]["measured_on"]


def names(kind: str) -> list[str]:
    return sorted(catalogue(kind))


def preset(kind: str, name: str) -> dict[str, Any]:
    """A copy of one preset's keys, with ``name`` set; unknown names raise with suggestions."""
    table = catalogue(kind)
    if name not in table:
        close = suggest(name, list(table))
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        known = f"(known: {', '.join(sorted(table))})"
        if kind == "models":
            known += HF_CONFIG_HINT
        raise PresetError(f"unknown {kind[:-1]} preset {name!r}{hint} {known}")
    return {"name": name, **table[name]}


def entry_text(kind: str, name: str) -> str:
    """One preset as its catalogue file writes it: the comment block above it (what each figure is
    and where it comes from) and its keys, with their own comments; unknown names raise with
    suggestions. ``simdecode presets KIND NAME`` prints it."""
    preset(kind, name)
    lines = resources.files(__package__).joinpath(f"{kind}.yaml").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.split("#")[0].rstrip() == f"{name}:")
    first = start
    while first > 0 and lines[first - 1].startswith("#"):
        first -= 1
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
        end += 1
    return "\n".join(lines[first:end]).rstrip() + "\n"


def suggest(name: str, choices: list[str], n: int = 2) -> list[str]:
    """Up to ``n`` choices the user probably meant by ``name``: those that start with it (``h100``:
    ``h100-sxm``, ``h100-pcie``), closest first, else the closest by spelling."""
    key = name.strip().lower()
    ratio = lambda c: difflib.SequenceMatcher(None, key, c.lower()).ratio()  # noqa: E731
    prefixed = sorted((c for c in choices if key and c.lower().startswith(key)), key=ratio, reverse=True)
    if prefixed:
        return prefixed[:n]
    return difflib.get_close_matches(name, choices, n=1, cutoff=0.4)


def resolve(kind: str, value: Any, context: dict[str, Any] | None = None) -> Any:
    """Turn a scenario value into a full mapping for its spec (see the module docstring).

    Values that are already spec objects or are not strings/mappings pass through unchanged so
    that pydantic reports the type error at the right key path.
    """
    if isinstance(value, str):
        return preset(kind, value)
    if not isinstance(value, dict):
        return value
    value = dict(value)
    if kind == "models" and "hf_config" in value:
        path = value.pop("hf_config")
        base = read_hf_config(path, context)
        return {**base, **value}
    if "preset" in value:
        name = value.pop("preset")
        if not isinstance(name, str):
            raise PresetError(f"preset must be a name, got {type(name).__name__}")
        base = preset(kind, name)
        if "name" not in value:
            value["name"] = f"{name}*" if value else name
        return {**base, **value}
    return value


def read_hf_config(path: Any, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read a local Hugging Face ``config.json`` and keep the keys simdecode understands.

    A relative path is taken from the scenario file's folder (``context["base_dir"]``) and must
    stay inside it (:mod:`simdecode.io.userfiles`); a folder means its ``config.json``. No network
    access: a hub id instead of a file is an error. The JSON is bounded: at most
    :data:`MAX_CONFIG_BYTES`, nested at most :data:`MAX_CONFIG_DEPTH` deep; ``text_config`` (a
    multimodal model's language part) must be an object. Values are typed by the model schema.
    """
    from simdecode.scenario.model import HF_KEYS
    from simdecode.io.userfiles import UserFileError, excerpt, locate, read_user_file

    if not isinstance(path, str) or not path.strip():
        raise PresetError("hf_config must be a path to a config.json file (relative to the scenario's folder)")
    root = Path((context or {}).get("base_dir", "."))
    try:
        _, resolved = locate(path, root, "hf_config file")
        if os.path.isdir(resolved):  # a folder means its config.json
            path = str(Path(path) / "config.json")
        file = read_user_file(path, root, what="hf_config file", max_bytes=MAX_CONFIG_BYTES)
        text = file.text("hf_config file")
    except UserFileError as exc:
        raise PresetError(str(exc)) from None
    depth = json_depth(text)
    if depth > MAX_CONFIG_DEPTH:
        raise PresetError(f"hf_config file {path} nests JSON {depth} levels deep: a model config has at most "
                          f"{MAX_CONFIG_DEPTH}")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno}: {exc.msg})" if isinstance(exc, json.JSONDecodeError) else ""
        raise PresetError(f"hf_config file {path} is not valid JSON{where}") from None
    if not isinstance(data, dict):
        raise PresetError(f"hf_config file {path} must hold a JSON object, got a JSON {_json_kind(data)}")
    # multimodal configs nest the language model's keys
    if "text_config" in data and data.get("num_hidden_layers") is None:
        data = data["text_config"]
        if not isinstance(data, dict):
            raise PresetError(f"hf_config file {path}: text_config must be a JSON object with the language "
                              f"model's keys, got a JSON {_json_kind(data)}")
    kept = {key: val for key, val in data.items() if key in HF_KEYS and val is not None}
    # DeepSeek-V4 ships no intermediate_size (no dense layer): transformers' DeepseekV4Config maps
    # it to moe_intermediate_size (attribute_map), as the shared expert's width
    if "intermediate_size" not in kept and isinstance(kept.get("moe_intermediate_size"), int):
        kept["intermediate_size"] = kept["moe_intermediate_size"]
    for key, val in kept.items():
        if isinstance(val, (dict, list)) and key not in ("layer_types", "compress_ratios"):
            raise PresetError(f"hf_config file {path}: {key} must be a number or a string, got a JSON "
                              f"{_json_kind(val)} {excerpt(json.dumps(val))}")
    if "quantization_config" in data:  # the checkpoint's dtypes per module (costmodel/precision.py)
        from simdecode.costmodel.precision import native_from_hf

        native = native_from_hf(data["quantization_config"])
        if native is not None and data.get("expert_dtype") == "fp4":
            # DeepSeek-V4: routed experts in fp4 e2m1 with one ue8m0 scale per 32 values (the
            # checkpoint's experts.*.scale, F8_E8M0 [I, h/32]), i.e. MXFP4, the rest as quantization_config
            native = {**native, "experts": "mxfp4"}
        if native is not None:
            kept["native_precision"] = native
    name = Path(path).parent.name if Path(path).name == "config.json" else Path(path).stem
    kept.setdefault("name", name or "custom")
    return kept


def json_depth(text: str) -> int:
    """How deeply the JSON ``text`` nests objects and arrays (strings skipped), without parsing it."""
    import re

    depth = deepest = 0
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[{\]}]', text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")
