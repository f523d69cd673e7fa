"""Safe, bounded YAML parsing for untrusted scenario files.

The YAML is parsed with a :class:`yaml.SafeLoader` subclass that bounds what a hostile file can
cost: size (:data:`MAX_FILE_BYTES`), nesting (:data:`MAX_DEPTH`), aliases (:data:`MAX_ALIASES`)
and nodes after alias expansion (:data:`MAX_NODES`, so no "billion laughs"). Duplicate keys are
errors. Only plain YAML is accepted: an explicit tag (``!!bool``, ``!!timestamp``, ``!!binary``,
``!custom``) is an error, and a plain scalar resolves to null, a boolean, an integer, a float or a
string (never a date). While composing, the line of every mapping key is recorded by key path.
The same parser reads ``--set`` values.
"""

from __future__ import annotations

import difflib
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from simdecode.errors import Problem, ScenarioError
from simdecode.scenario.text import Path_, render_path, short
from simdecode.io.userfiles import UserFileError, read_user_file

MAX_FILE_BYTES = 1 << 20  # 1 MiB: a scenario is a short hand-written file
MAX_DEPTH = 20  # nested mappings / lists
MAX_ALIASES = 32  # "*name" references
MAX_NODES = 20_000  # scalars + collections, counting every alias expansion



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
        tag = getattr(event, "tag", None)
        if tag is not None:  # "!!bool yes", "!!timestamp ...", "!!python/...": plain values only
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise _Limit(f"YAML tag {short(shown)} is not accepted in a scenario", line,
                         "write the plain value (a number, true/false, a string in quotes)")
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
        except (ValueError, TypeError, OverflowError, KeyError, AttributeError) as exc:  # a 5000-digit integer
            raise _Limit(f"unreadable value {short(node.value)}: {exc}", node.start_mark.line + 1) from None


#: implicit types a plain scalar may resolve to: no timestamps (``2024-01-01`` stays a string) and
#: no ``=`` value type, which PyYAML's safe constructor cannot build
_BoundedLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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
                                        key_path=render_path((*path, key)), hint="keep one of them"))
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
    if info.st_size > MAX_FILE_BYTES:
        raise ScenarioError(f"file is larger than {MAX_FILE_BYTES // 1024} KiB: a scenario is a short YAML file",
                            file=str(path))
    try:  # the checks again, on the opened file: it may have changed since
        raw = read_user_file(path, None, what="scenario file", max_bytes=MAX_FILE_BYTES).data
    except UserFileError as exc:
        raise ScenarioError(str(exc)) from None
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

