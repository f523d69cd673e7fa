"""Read a scenario file (untrusted input) into a validated :class:`Scenario`.

The YAML is parsed with a :class:`yaml.SafeLoader` subclass that bounds what a hostile file can
cost: size (:data:`MAX_FILE_BYTES`), nesting (:data:`MAX_DEPTH`), aliases (:data:`MAX_ALIASES`)
and nodes after alias expansion (:data:`MAX_NODES`, so no "billion laughs"). Duplicate keys are
errors. While composing, the line of every mapping key is recorded by key path, so a pydantic
error location becomes ``file:line: key.path: what was expected`` in a :class:`ScenarioError`.
``--set key.path=value`` overrides are applied before validation and errors they cause say so.
The loader only reads: nothing is written, nothing is fetched.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from pydantic import ValidationError

from simdecode.errors import ScenarioError
from simdecode.scenario.schema import Scenario
from simdecode.scenario.diagnostics import merge_problems, problem_from_error
from simdecode.scenario.text import Path_, kind_of
from simdecode.scenario.yamlsafe import MAX_ALIASES, MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, parse_yaml, read_text

MAX_ERRORS = 100  # pydantic errors looked at

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_FILE_BYTES", "MAX_NODES", "apply_overrides", "load_scenario",
           "parse_yaml", "read_text", "scenario_from_dict"]


def load_scenario(
    path: str | os.PathLike[str], overrides: Iterable[str] = (), *, base_dir: str | os.PathLike[str] | None = None
) -> Scenario:
    """Read, override and validate a scenario file. Raises :class:`ScenarioError` on bad input.

    ``overrides`` are ``key.path=value`` strings (``--set``); relative paths inside the file
    (``model: {hf_config: ...}``) are taken from ``base_dir``, by default the file's folder.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ScenarioError(f"load_scenario() needs the path of a scenario file, got {type(path).__name__}")
    name = str(path)
    text = read_text(path)
    try:
        data, lines = parse_yaml(text)
    except ScenarioError as exc:
        raise exc.with_file(name) from None
    if base_dir is None:
        base_dir = Path(path).parent
    return scenario_from_dict(data, file=name, lines=lines, base_dir=base_dir, overrides=overrides)


def scenario_from_dict(
    data: Any,
    *,
    file: str = "<dict>",
    lines: Mapping[Path_, int] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    overrides: Iterable[str] = (),
) -> Scenario:
    """Validate already-parsed scenario data; errors name ``file`` and, given ``lines``, lines."""
    if data is None:
        raise ScenarioError("empty scenario: expected a mapping with at least 'model' and 'hardware'", file=file)
    if not isinstance(data, dict):
        raise ScenarioError(f"the top level must be a mapping of sections, got {kind_of(data)}", file=file, line=1)
    _refuse_foreign(data, file, lines or {})
    data, origins = _apply(data, overrides)  # its errors name the override, not the file
    lines = {key: line for key, line in (lines or {}).items()
             if not any(len(key) > len(p) and key[: len(p)] == p for p in origins)}
    if base_dir is not None and not isinstance(base_dir, (str, os.PathLike)):
        raise ScenarioError(f"base_dir must be a folder's path, got {type(base_dir).__name__}", file=file)
    context = {"base_dir": Path(base_dir) if base_dir is not None else Path(".")}
    try:
        scenario = Scenario.model_validate(data, context=context)
    except ValidationError as exc:
        problems = [problem_from_error(err, file, lines, origins) for err in exc.errors(include_url=False)[:MAX_ERRORS]]
        raise ScenarioError.from_problems(merge_problems(problems)) from None
    scenario.remember_source(file, lines, origins)  # later checks (does it fit memory?) name the line
    return scenario


def _refuse_foreign(data: Mapping[Any, Any], file: str, lines: Mapping[Path_, int]) -> None:
    """A mapping none of whose top-level keys is a scenario section is not a scenario (a file the
    user named by mistake: ``simdecode run /etc/shadow``): one error that echoes none of its
    content, not an "unknown key" per line quoting each. A misspelt section ('modle') is pointed at
    by its line and the section it is closest to, without echoing it."""
    import difflib

    sections = [name for name in Scenario.model_fields]
    keys = [k for k in data if isinstance(k, str)]
    if not data or any(k in sections for k in keys):
        return
    near = [(lines.get((k,)), match[0]) for k in keys
            if (match := difflib.get_close_matches(k.strip().lower(), sections, n=1, cutoff=0.75))]
    hint = None
    if near:
        line, section = near[0]
        hint = f"did you mean the section {section!r}" + (f" (line {line})?" if line else "?")
    count = f"{len(data)} top-level key" + ("s" if len(data) != 1 else "")
    raise ScenarioError(f"not a simdecode scenario: none of its {count} is a section "
                        f"({', '.join(sections)}); the file's content is not shown", file=file, line=None, hint=hint)


# --------------------------------------------------------------------------- overrides


def apply_overrides(data: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of ``data`` with each ``key.path=value`` set (value read as YAML, safe loader).

    ``sweep.<key>`` takes the rest as one key (sweep keys hold dots); a preset name met on the
    way (``hardware.gpu=h100-sxm`` then ``hardware.gpu.memory=...``) becomes ``{preset: name}``.
    """
    return _apply(data, overrides)[0]


def _apply(data: Mapping[str, Any], overrides: Iterable[str]) -> tuple[dict[str, Any], dict[Path_, str]]:
    result = dict(data)
    origins: dict[Path_, str] = {}
    if isinstance(overrides, str):  # one override, not its characters
        overrides = [overrides]
    if overrides is None:
        overrides = ()
    try:
        overrides = list(overrides)
    except TypeError:
        raise ScenarioError(f"overrides must be a list of 'key.path=value' strings, got {type(overrides).__name__}") \
            from None
    for override in overrides:
        if not isinstance(override, str):
            raise ScenarioError(f"an override must be a 'key.path=value' string, got {type(override).__name__}")
        origin = f"--set {override}"
        key_text, sep, value_text = str(override).partition("=")
        key_text = key_text.strip()
        if not sep or not key_text:
            raise ScenarioError(f"malformed override --set {override!r}: expected key.path=value, "
                                "e.g. --set parallelism.tp=4")
        keys = key_text.split(".", 1) if key_text.startswith("sweep.") else key_text.split(".")
        if any(not key.strip() for key in keys):
            raise ScenarioError(f"empty key in {key_text!r}: expected dotted keys, e.g. parallelism.tp",
                                key_path=key_text, origin=origin)
        try:
            value, _ = parse_yaml(value_text)
        except ScenarioError as exc:
            raise ScenarioError(f"cannot read the value {value_text!r}: {exc.message}",
                                key_path=key_text, origin=origin) from None
        path = tuple(keys)
        result = _set(result, path, value, key_text, origin)
        origins = {p: o for p, o in origins.items() if p[: len(path)] != path}
        origins[path] = origin
    return result, origins


def _set(node: Any, path: Path_, value: Any, key_text: str, origin: str) -> Any:
    if not path:
        return value
    key, rest = path[0], path[1:]
    if isinstance(node, str) and node:  # a preset name: refine it
        node = {"preset": node}
    if node is None:
        node = {}
    if isinstance(node, dict):
        copy = dict(node)
        copy[key] = _set(copy.get(key), rest, value, key_text, origin)
        return copy
    if isinstance(node, list) and re.fullmatch(r"-?[0-9]+", key) and -len(node) <= int(key) < len(node):
        copy = list(node)
        copy[int(key)] = _set(copy[int(key)], rest, value, key_text, origin)
        return copy
    raise ScenarioError(f"cannot set {key!r} inside {kind_of(node)}: expected a mapping there",
                        key_path=key_text, origin=origin)

