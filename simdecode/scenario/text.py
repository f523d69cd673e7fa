"""Small text helpers shared by the scenario loader and its diagnostics."""

from __future__ import annotations

import re
from typing import Any

Path_ = tuple  # a key path: ("hardware", "gpu", "memory_bandwidth"), list indices as ints


def render_path(path: Path_) -> str:
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        elif isinstance(key, str) and re.fullmatch(r"[\w-]+", key):
            out += f".{key}" if out else key
        else:
            out += f"[{short(key)}]"
    return out


def short(value: Any, limit: int = 60) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def one_of(choices: list[str]) -> str:
    return choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"


def kind_of(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", type(None): "nothing"}.get(type(value), short(value))
