"""Catalogues of GPUs, links, models and runtimes, stored as YAML data beside this module.

Each catalogue file maps a preset name to the keys its spec accepts, with the source of every
figure in a comment. Scenario values are resolved through :func:`resolve`:

- a string names a preset;
- a mapping with ``preset: NAME`` starts from that preset and overrides keys;
- a model mapping with ``hf_config: PATH`` reads a local Hugging Face ``config.json``;
- any other mapping must give every required field.
"""

from __future__ import annotations

import difflib
import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

KINDS = ("gpus", "links", "models", "runtimes")
MAX_CONFIG_BYTES = 1_000_000  # a config.json larger than this is not a model config


class PresetError(ValueError):
    """An unknown preset name or an unreadable model config; the message says what exists."""


@functools.cache
def catalogue(kind: str) -> dict[str, dict[str, Any]]:
    """All presets of one kind (``gpus``, ``links``, ``models``, ``runtimes``), by name."""
    if kind not in KINDS:
        raise KeyError(kind)
    text = resources.files(__package__).joinpath(f"{kind}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return {str(name): dict(entry or {}) for name, entry in data.items()}


def names(kind: str) -> list[str]:
    return sorted(catalogue(kind))


def preset(kind: str, name: str) -> dict[str, Any]:
    """A copy of one preset's keys, with ``name`` set; unknown names raise with suggestions."""
    table = catalogue(kind)
    if name not in table:
        close = difflib.get_close_matches(name, list(table), n=1, cutoff=0.4)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PresetError(f"unknown {kind[:-1]} preset {name!r}{hint} (known: {', '.join(sorted(table))})")
    return {"name": name, **table[name]}


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

    A relative path is taken from the scenario file's folder (``context["base_dir"]``). No
    network access: a hub id instead of a file is an error.
    """
    from simdecode.scenario.model import HF_KEYS

    if not isinstance(path, str):
        raise PresetError("hf_config must be a path to a config.json file")
    base_dir = Path((context or {}).get("base_dir", "."))
    file = Path(path)
    if not file.is_absolute():
        file = base_dir / file
    if file.is_dir():
        file = file / "config.json"
    if not file.is_file():
        raise PresetError(f"hf_config file not found: {file}")
    if file.stat().st_size > MAX_CONFIG_BYTES:
        raise PresetError(f"hf_config file {file} is larger than {MAX_CONFIG_BYTES} bytes")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PresetError(f"hf_config file {file} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PresetError(f"hf_config file {file} must hold a JSON object")
    # multimodal configs nest the language model's keys
    if "text_config" in data and "num_hidden_layers" not in data:
        data = data["text_config"]
    kept = {key: val for key, val in data.items() if key in HF_KEYS and val is not None}
    if "native_precision" not in kept and "quantization_config" in data:
        from simdecode.costmodel.precision import native_from_hf

        native = native_from_hf(data["quantization_config"])
        if native is not None:
            kept["native_precision"] = native
    kept.setdefault("name", file.parent.name if file.name == "config.json" else file.stem)
    return kept
