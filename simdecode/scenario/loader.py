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

import difflib
import functools
import os
import re
import stat
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from simdecode.errors import Problem, ScenarioError
from simdecode.scenario.hardware import GpuSpec, LinkSpec, RuntimeSpec
from simdecode.scenario.model import HF_KEYS, ModelSpec
from simdecode.scenario.schema import Scenario

MAX_FILE_BYTES = 1 << 20  # 1 MiB: a scenario is a short hand-written file
MAX_DEPTH = 20  # nested mappings / lists
MAX_ALIASES = 32  # "*name" references
MAX_NODES = 20_000  # scalars + collections, counting every alias expansion
MAX_ERRORS = 100  # pydantic errors looked at

Path_ = tuple  # a key path: ("hardware", "gpu", "memory_bandwidth"), list indices as ints
_PRESET_SPECS = (GpuSpec, LinkSpec, RuntimeSpec, ModelSpec)


class _Limit(Exception):
    def __init__(self, message: str, line: int | None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.hint = message, line, hint


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses deep nesting, many aliases and too many nodes while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = self.aliases = self.nodes = 0

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Limit(f"more than {MAX_ALIASES} YAML aliases (*name): not accepted in a scenario", line,
                             "write the values out, or use --set / sweep")
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Limit(f"more than {MAX_NODES} YAML values: too large for a scenario", line)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Limit(f"nesting deeper than {MAX_DEPTH} levels: too deep for a scenario", line)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_object(self, node, deep=False):  # noqa: ANN001
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:  # 2024-13-45, a 5000-digit integer
            raise _Limit(f"unreadable value {_short(node.value)}: {exc}", node.start_mark.line + 1) from None


def parse_yaml(text: str) -> tuple[Any, dict[Path_, int]]:
    """Parse untrusted YAML text: return the data and the 1-based line of every key path.

    Raises :class:`ScenarioError` (with a line, without a file) for malformed or abusive input.
    """
    loader = None
    try:
        loader = _BoundedLoader(text)  # checks the characters already
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[Path_, int] = {}
        problems: list[Problem] = []
        _index(loader, node, (), lines, problems, set(), [0])
        if problems:
            raise ScenarioError.from_problems(problems)
        return loader.construct_document(node), lines
    except _Limit as exc:
        raise ScenarioError(exc.message, line=exc.line, hint=exc.hint) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        what = "YAML value not accepted" if isinstance(exc, yaml.constructor.ConstructorError) else "malformed YAML"
        raise ScenarioError(f"{what}: {problem}", line=mark.line + 1 if mark else None) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise ScenarioError(f"malformed YAML: control character {char} is not allowed", line=line) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"malformed YAML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"nesting deeper than {MAX_DEPTH} levels: too deep for a scenario") from None
    finally:
        if loader is not None:
            loader.dispose()


def _index(loader, node, path, lines, problems, on_path, count) -> None:  # noqa: ANN001
    """Walk the composed nodes (aliases expanded) recording key lines and finding duplicates."""
    count[0] += 1
    line = node.start_mark.line + 1
    if count[0] > MAX_NODES:
        raise _Limit(f"more than {MAX_NODES} values once YAML aliases are expanded (a \"YAML bomb\")", line)
    if len(path) > MAX_DEPTH:
        raise _Limit(f"nesting deeper than {MAX_DEPTH} levels (through YAML aliases)", line)
    if id(node) in on_path:
        raise _Limit("a YAML alias refers to the value that contains it (a recursive structure)", line)
    on_path.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.setdefault((*path, i), item.start_mark.line + 1)
            _index(loader, item, (*path, i), lines, problems, on_path, count)
    elif isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # construction reports unhashable keys
            key = loader.construct_object(key_node)
            key_line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(Problem(f"duplicate key {key!r} (first given on line {seen[key]})", line=key_line,
                                        key_path=_render((*path, key)), hint="keep one of them"))
                continue
            seen[key] = key_line
            lines[(*path, key)] = key_line
            _index(loader, value_node, (*path, key), lines, problems, on_path, count)
        for merged in merges:  # "<<: *base": keys given explicitly win
            for sub in merged.value if isinstance(merged, yaml.SequenceNode) else [merged]:
                if isinstance(sub, yaml.MappingNode):
                    extra: dict[Path_, int] = {}
                    _index(loader, sub, path, extra, [], on_path, count)
                    for key_path, key_line in extra.items():
                        lines.setdefault(key_path, key_line)
    on_path.discard(id(node))


def read_text(path: str | os.PathLike[str]) -> str:
    """The text of a scenario file, refusing what is not a small regular UTF-8 file."""
    file = Path(path)
    try:
        info = file.stat()
    except FileNotFoundError:
        raise ScenarioError("file not found", file=str(path), hint=_similar_file(file)) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise ScenarioError(f"cannot read file: {getattr(exc, 'strerror', None) or exc}", file=str(path)) from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError("is a directory: expected a scenario YAML file", file=str(path))
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError("not a regular file: expected a scenario YAML file", file=str(path))
    too_big = f"file is larger than {MAX_FILE_BYTES // 1024} KiB: a scenario is a short YAML file"
    if info.st_size > MAX_FILE_BYTES:
        raise ScenarioError(too_big, file=str(path))
    try:
        with open(file, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"cannot read file: {exc.strerror}", file=str(path)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(too_big, file=str(path))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError("not UTF-8 text: expected a scenario YAML file", file=str(path), line=line) from None


def _similar_file(file: Path) -> str | None:
    folder = file.parent
    try:
        if not folder.is_dir():
            return None
        names = [entry.name for _, entry in zip(range(1000), os.scandir(folder))]
    except OSError:
        return None
    close = difflib.get_close_matches(file.name, names, n=1, cutoff=0.6)
    return f"did you mean {str(folder / close[0])!r}?" if close else None


def load_scenario(
    path: str | os.PathLike[str], overrides: Iterable[str] = (), *, base_dir: str | os.PathLike[str] | None = None
) -> Scenario:
    """Read, override and validate a scenario file. Raises :class:`ScenarioError` on bad input.

    ``overrides`` are ``key.path=value`` strings (``--set``); relative paths inside the file
    (``model: {hf_config: ...}``) are taken from ``base_dir``, by default the file's folder.
    """
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
        raise ScenarioError(f"the top level must be a mapping of sections, got {_kind(data)}", file=file, line=1)
    data, origins = _apply(data, overrides)  # its errors name the override, not the file
    lines = {key: line for key, line in (lines or {}).items()
             if not any(len(key) > len(p) and key[: len(p)] == p for p in origins)}
    context = {"base_dir": Path(base_dir) if base_dir is not None else Path(".")}
    try:
        return Scenario.model_validate(data, context=context)
    except ValidationError as exc:
        problems = [_problem(err, file, lines, origins) for err in exc.errors(include_url=False)[:MAX_ERRORS]]
    raise ScenarioError.from_problems(_merge(problems)) from None


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
    for override in overrides:
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
    raise ScenarioError(f"cannot set {key!r} inside {_kind(node)}: expected a mapping there",
                        key_path=key_text, origin=origin)


# --------------------------------------------------------------------------- pydantic errors


def _problem(err: dict[str, Any], file: str, lines: Mapping[Path_, int], origins: Mapping[Path_, str]) -> Problem:
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
    elif kind == "missing" and path:
        field = _field(owner, path[-1]) if owner else None
        about = f" ({field.description})" if field is not None and field.description else ""
        message = f"missing required key {path[-1]!r}{about}"
    elif kind == "invalid_key":
        message = f"keys must be text, got {given!r}"
    elif kind in ("literal_error", "enum"):
        allowed = [str(v) for v in get_args(leaf)] if get_origin(leaf) is Literal else []
        expected = _one_of(allowed) if allowed else str(ctx.get("expected"))
        message = (f"unknown key {_short(given)}: expected {expected}" if key_error
                   else f"expected {expected}, got {_short(given)}")
        hint = _did_you_mean(given, allowed)
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        name = str(ctx.get("discriminator", "kind")).strip("'\"")
        tags = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
        message = (f"unknown {name} {_short(ctx.get('tag'))}" if kind == "union_tag_invalid"
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
        message = f"{expected}, got {_short(given)}"
    line, origin = _locate(path, lines, origins)
    return Problem(message, file, line, _render(path), hint, origin)


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
    return f"unknown key {_short(key)}{listed}", hint


def _did_you_mean(given: Any, choices: list[str]) -> str | None:
    if not isinstance(given, str) or not choices:
        return None
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


def _merge(problems: list[Problem]) -> list[Problem]:
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


def _render(path: Path_) -> str:
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        elif isinstance(key, str) and re.fullmatch(r"[\w-]+", key):
            out += f".{key}" if out else key
        else:
            out += f"[{_short(key)}]"
    return out


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _one_of(choices: list[str]) -> str:
    return choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", type(None): "nothing"}.get(type(value), _short(value))
