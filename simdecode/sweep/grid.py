"""The grid of a sweep: axes from a scenario's ``sweep:`` block and ``--vary`` options.

An **axis** is one list of settings; the grid is the product of its axes (the first axis
varies slowest). A setting is either one value for one key path::

    workload.arrival.concurrency: [1, 4, 16]          # --vary workload.arrival.concurrency=1,4,16

or a mapping of **linked settings** merged into the section the key names, so several keys
change together (one point per mapping, not a product)::

    parallelism:                                      # --vary 'parallelism={tp: 8, pp: 1},{tp: 4, pp: 2}'
      - {tp: 8, pp: 1}
      - {tp: 4, pp: 2}

A point of the grid becomes ``--set`` overrides (``parallelism.tp=8``...) applied on top of the
user's own ``--set`` overrides, so errors in a point name the key and value like any override.
Values are written as JSON, which YAML reads back unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import product
from typing import Any, Iterable, Mapping

from simdecode.errors import ScenarioError
from simdecode.scenario.yamlsafe import parse_yaml
from simdecode.io.userfiles import excerpt

#: at most this many points in one sweep (a typo such as 1,2,...,1000 x 1000 is refused)
MAX_POINTS = 10_000


@dataclass(frozen=True)
class Axis:
    """One axis of the grid: ``key`` (a dotted key path) and its ``values`` (scalars, or
    mappings of linked settings below ``key``); ``origin`` says where it came from."""

    key: str
    values: tuple[Any, ...]
    origin: str = "sweep"

    def settings(self, value: Any) -> dict[str, Any]:
        """``{dotted key: value}`` this axis sets for one of its values (one level deep: a
        linked setting's own value, e.g. ``acceptance: {mean_tokens: 1.9}``, is set whole)."""
        if isinstance(value, Mapping):
            return {f"{self.key}.{sub}": val for sub, val in value.items()}
        return {self.key: value}

    @property
    def leaf_keys(self) -> set[str]:
        return {key for value in self.values for key in self.settings(value)}

    def overlaps(self, other: "Axis") -> bool:
        """Whether the two axes set a common key, or one sets a key inside the other's."""
        mine = [k.split(".") for k in self.leaf_keys | {self.key}]
        theirs = [k.split(".") for k in other.leaf_keys | {other.key}]
        return any(a[: len(b)] == b or b[: len(a)] == a for a in mine for b in theirs)


@dataclass(frozen=True)
class Point:
    """One point of the grid: its index (grid order) and the settings of each axis, merged."""

    index: int
    settings: dict[str, Any]

    def overrides(self) -> list[str]:
        """The point as ``--set`` strings (``key=<JSON value>``)."""
        return [f"{key}={json.dumps(value)}" for key, value in self.settings.items()]

    def columns(self) -> dict[str, Any]:
        """The table's columns for this point: every setting flattened to scalar leaves."""
        return flatten(self.settings)

    def label(self) -> str:
        """Short, file-name-safe: ``003-pp-2-concurrency-16``."""
        parts = [f"{key.rsplit('.', 1)[-1]}-{_slug(value)}" for key, value in self.columns().items()]
        return "-".join([f"{self.index:03d}", *parts])[:120]


def _slug(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return "".join(ch if ch.isalnum() or ch in "._" else "_" for ch in text)


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level with dotted keys: ``{"a": {"b": 1}} -> {"a.b": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def axes_from_block(block: Mapping[str, Any] | None) -> list[Axis]:
    """The axes of a scenario's ``sweep:`` block (keys in file order)."""
    axes = []
    for key, values in (block or {}).items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ScenarioError(f"sweep.{key}: expected a non-empty list of values, got {values!r}")
        axes.append(Axis(str(key), tuple(values), origin=f"sweep.{key}"))
        check_values(axes[-1])
    check_apart(axes)
    return axes


def check_values(axis: Axis) -> None:
    """Each value of an axis is one point: a repeated value, or a mapping of linked settings that
    sets nothing, is a mistake (a :class:`ScenarioError` naming the axis and the value)."""
    seen: dict[str, int] = {}
    for i, value in enumerate(axis.values):
        if isinstance(value, Mapping) and not value:
            raise ScenarioError(f"value {i + 1} of {axis.origin} is an empty mapping, which sets nothing: "
                                "expected a value or linked settings, e.g. {tp: 8, pp: 1}", key_path=axis.key)
        text = json.dumps(value, sort_keys=True, default=str)
        if text in seen:
            shown = text if len(text) <= 40 else text[:40] + "..."
            raise ScenarioError(f"{axis.origin} lists {shown} twice (values {seen[text] + 1} and {i + 1}): each "
                                "value is one point of the grid; remove the repeat", key_path=axis.key)
        seen[text] = i


def check_apart(axes: list[Axis]) -> None:
    """No two axes set the same key (or one a key inside the other's): their product would set it
    twice per point, the last silently winning."""
    for i, axis in enumerate(axes):
        for other in axes[:i]:
            if axis.overlaps(other):
                same = "is given twice" if axis.key == other.key else f"overlaps {other.origin}"
                raise ScenarioError(f"{axis.origin} {same}: each key may be varied by one axis only (put every "
                                    f"value in one list, or link settings: --vary 'parallelism={{tp: 8, pp: 1}},"
                                    f"{{tp: 4, pp: 2}}')", key_path=axis.key)


def split_top_level(text: str) -> list[str]:
    """Split ``text`` at commas outside brackets, braces and quotes: ``1,2`` -> ``['1', '2']``,
    ``{tp: 8, pp: 1},{tp: 4, pp: 2}`` -> two mappings."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_vary(text: str) -> Axis:
    """``KEY=V1,V2,...`` (each value read as YAML) as an :class:`Axis`."""
    origin = f"--vary {text if len(text) <= 80 else text[:60] + '...'}"  # an error quotes it: keep it short
    key, sep, values_text = text.partition("=")
    key = key.strip()
    if not sep or not key or not values_text.strip():
        raise ScenarioError(f"malformed {origin!r}: expected KEY=V1,V2,..., e.g. --vary parallelism.pp=1,2,4")
    parts = split_top_level(values_text)
    if len(parts) > MAX_POINTS:  # before reading any: the grid could not hold them
        raise ScenarioError(f"{origin} lists {len(parts):,} values, more than the {MAX_POINTS:,} points a sweep "
                            "may have", key_path=key)
    values = []
    for part in parts:
        if not part:
            raise ScenarioError(f"empty value in {origin!r}: expected KEY=V1,V2,...", key_path=key)
        try:
            value, _ = parse_yaml(part)
        except ScenarioError as exc:
            raise ScenarioError(f"cannot read the value {excerpt(part)}: {exc.message}", key_path=key,
                                origin=origin) from None
        values.append(value)
    axis = Axis(key, tuple(values), origin=origin)
    check_values(axis)
    return axis


def combine(file_axes: Iterable[Axis], vary_axes: Iterable[Axis]) -> tuple[list[Axis], list[str]]:
    """The sweep's axes: the file's, except those a ``--vary`` axis overlaps (the command line
    wins), then the ``--vary`` axes. Returns the axes and one note per replaced file axis."""
    vary_axes = list(vary_axes)
    check_apart(vary_axes)
    kept, notes = [], []
    for axis in file_axes:
        by = [v for v in vary_axes if v.overlaps(axis)]
        if by:
            notes.append(f"{by[0].origin} replaces the scenario's {axis.origin}")
        else:
            kept.append(axis)
    return kept + vary_axes, notes


def grid(axes: list[Axis]) -> list[Point]:
    """Every point of the product of ``axes`` (first axis slowest); one point when there are none."""
    size = 1
    for axis in axes:
        size *= len(axis.values)
    if size > MAX_POINTS:
        raise ScenarioError(f"the sweep has {size:,} points, more than the {MAX_POINTS:,} allowed: "
                            "vary fewer keys or fewer values")
    points = []
    for index, combo in enumerate(product(*(axis.values for axis in axes))):
        settings: dict[str, Any] = {}
        for axis, value in zip(axes, combo):
            settings.update(axis.settings(value))
        points.append(Point(index, settings))
    return points
