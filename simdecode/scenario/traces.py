"""Request traces from files: arrival times and prompt / output lengths, one request per row.

A trace is a CSV file with a header row, or a JSON-lines file (``.jsonl`` / ``.ndjson``: one JSON
object per line). The columns (keys), either spelling:

| meaning                 | Splitwise / Azure / Vidur | simdecode       |
|-------------------------|---------------------------|-----------------|
| arrival time, seconds   | ``arrived_at``            | ``arrival_s``   |
| prompt tokens           | ``num_prefill_tokens``    | ``prompt_tokens`` |
| output tokens           | ``num_decode_tokens``     | ``output_tokens`` |

Other columns are ignored. Arrival times must be finite, >= 0 and non-decreasing (sort the file
by arrival); token counts positive integers (``12`` or ``12.0``) up to
:data:`~simdecode.scenario.limits.MAX_TOKENS`.

A trace file is untrusted input. It is read only where a scenario names it, relative to the
scenario file's folder; it must be a regular UTF-8 file of at most :data:`MAX_TRACE_BYTES` with at
most :data:`MAX_ROWS` rows; nothing else is opened. Errors are :class:`TraceError` (a ValueError,
so the scenario loader reports it with the scenario's file, line and key path) naming the trace
file, the row (data rows count from 1, the header and blank lines excluded) and the column::

    trace file traces/bad.csv: row 12: num_prefill_tokens must be a positive integer, got 'abc' (line 13)

Parsed tables are cached by resolved path, size and modification time, so validating many
scenarios of a sweep reads a file once.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from simdecode.scenario.limits import MAX_REQUESTS, MAX_TOKENS
from simdecode.io.userfiles import UserFileError, check_user_file, excerpt, file_key, read_user_file

MAX_TRACE_BYTES = 64 * 2**20
#: rows read from one file at most: a trace longer than a scenario's requests is of no use
MAX_ROWS = MAX_REQUESTS

ARRIVAL_COLUMNS = ("arrived_at", "arrival_s")
PROMPT_COLUMNS = ("num_prefill_tokens", "prompt_tokens")
OUTPUT_COLUMNS = ("num_decode_tokens", "output_tokens")
#: a simdecode column name also finds its Splitwise spelling (and the other way round)
_SAME = {name: group for group in (ARRIVAL_COLUMNS, PROMPT_COLUMNS, OUTPUT_COLUMNS) for name in group}


class TraceError(ValueError):
    """A trace file is missing, too large or malformed; the message names the file and the row."""


@dataclass(frozen=True, eq=False)
class Trace:
    """The rows of a trace, in file order (which is arrival order): read-only numpy arrays."""

    source: str
    arrival_s: np.ndarray
    prompt_tokens: np.ndarray
    output_tokens: np.ndarray

    def __len__(self) -> int:
        return len(self.arrival_s)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return all(np.array_equal(getattr(self, f), getattr(other, f))
                   for f in ("arrival_s", "prompt_tokens", "output_tokens"))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Trace({self.source!r}, {len(self)} rows)"


@dataclass(frozen=True, eq=False)
class Column:
    """One column of token counts of a file (a read-only int64 array), for empirical lengths."""

    source: str
    name: str
    values: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Column):
            return NotImplemented
        return np.array_equal(self.values, other.values)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Column({self.source!r}, {self.name!r}, {len(self.values)} values)"


def resolve(path: Any, base_dir: str | os.PathLike[str] | None = None, what: str = "trace file") -> Path:
    """The file ``path`` names (relative to ``base_dir``, and confined to it: see
    :mod:`simdecode.io.userfiles`), checked to exist as a small regular file."""
    if not isinstance(path, str) or not path.strip():
        raise TraceError(f"{what}: expected a path to a CSV or JSON-lines file, got {excerpt(path)}")
    try:
        return check_user_file(path, _root(base_dir), what=what, max_bytes=MAX_TRACE_BYTES)
    except UserFileError as exc:
        raise TraceError(str(exc)) from None


def _root(base_dir: str | os.PathLike[str] | None) -> Path:
    """The folder a scenario's files are confined to: its own folder (the working folder if none)."""
    return Path(base_dir if base_dir is not None else ".")


def read_trace(path: str, base_dir: str | os.PathLike[str] | None = None, limit: int | None = None) -> Trace:
    """The first ``limit`` rows (all if None) of the trace file ``path``, checked row by row."""
    columns = (("arrival", ARRIVAL_COLUMNS), ("prompt", PROMPT_COLUMNS), ("output", OUTPUT_COLUMNS))
    arrival, prompt, output = _load(*_key(path, base_dir, "trace file"), columns, limit, path)
    return Trace(path, arrival, prompt, output)


def read_column(path: str, column: str, base_dir: str | os.PathLike[str] | None = None) -> Column:
    """Every value of ``column`` (positive integers, token counts) of the file ``path``.

    ``prompt_tokens`` also finds ``num_prefill_tokens`` and ``output_tokens``
    ``num_decode_tokens`` (and the other way round).
    """
    if not isinstance(column, str) or not column.strip():
        raise TraceError(f"column: expected a column name, got {column!r}")
    names = (column, *(n for n in _SAME.get(column, ()) if n != column))
    (values,) = _load(*_key(path, base_dir, "length file"), (("tokens", names),), None, path)
    return Column(path, column, values)


def _key(path: str, base_dir: str | os.PathLike[str] | None, what: str) -> tuple[str, str, int, int, str]:
    """(root, resolved path, size, mtime_ns, what): the cache key of a file (confinement checked)."""
    try:
        resolved, size, mtime_ns = file_key(path, _root(base_dir), what)
    except UserFileError as exc:
        raise TraceError(str(exc)) from None
    return str(_root(base_dir)), resolved, size, mtime_ns, what


@functools.lru_cache(maxsize=4)
def _load(root: str, file: str, size: int, mtime_ns: int, what: str,
          columns: tuple[tuple[str, tuple[str, ...]], ...], limit: int | None, shown: str) -> tuple[np.ndarray, ...]:
    """Columns of the file ``shown`` (relative to ``root``) as read-only arrays: ``arrival`` as
    float seconds, others as tokens. ``file``, ``size`` and ``mtime_ns`` are the cache key."""
    del size, mtime_ns  # cache key only: a changed file is read again
    try:
        text = read_user_file(shown, root, what=what, max_bytes=MAX_TRACE_BYTES).text(what)
    except UserFileError as exc:
        raise TraceError(str(exc)) from None
    values: list[list[float | int]] = [[] for _ in columns]
    previous = 0.0
    for row, line, raw in _records(text, file, shown, columns, limit):
        for i, ((kind, _), (name, value)) in enumerate(zip(columns, raw)):
            if kind == "arrival":
                t = _seconds(value)
                if t is None:
                    raise _row_error(shown, row, line, f"{name} must be a finite number of seconds >= 0, "
                                     f"got {excerpt(value)}")
                if t < previous:
                    raise _row_error(shown, row, line, f"{name} {t:g} s is earlier than the row before "
                                     f"({previous:g} s): sort the trace by arrival time")
                previous = t
                values[i].append(t)
            else:
                n = _tokens(value)
                if n is None:
                    raise _row_error(shown, row, line, f"{name} must be a positive integer, got {excerpt(value)}")
                if n > MAX_TOKENS:
                    raise _row_error(shown, row, line, f"{name} must be at most {MAX_TOKENS:,}, got {n:,}")
                values[i].append(n)
    if not values[0]:
        raise TraceError(f"trace file {shown} has no rows")
    out = []
    for (kind, _), column in zip(columns, values):
        arr = np.array(column, dtype=np.float64 if kind == "arrival" else np.int64)
        arr.flags.writeable = False
        out.append(arr)
    return tuple(out)


def _row_error(shown: str, row: int, line: int, message: str) -> TraceError:
    return TraceError(f"trace file {shown}: row {row}: {message} (line {line})")


def _is_jsonl(file: str, text: str) -> bool:
    suffix = Path(file).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return True
    if suffix in (".csv", ".txt", ".tsv"):
        return False
    return text.lstrip().startswith("{")


def _records(text: str, file: str, shown: str, columns: tuple[tuple[str, tuple[str, ...]], ...],
             limit: int | None) -> Iterator[tuple[int, int, list[tuple[str, Any]]]]:
    """(row, line, [(column name found, raw value) for each of ``columns``]) for each data row,
    at most ``limit`` rows."""
    rows = 0
    cap = MAX_ROWS if limit is None else min(limit, MAX_ROWS)
    too_many = TraceError(f"trace file {shown} has more than {MAX_ROWS:,} rows: use a shorter trace or "
                          "workload.arrival.limit")
    def full() -> bool:
        """True once ``cap`` rows are read: stop at a ``limit``; past MAX_ROWS, refuse the file."""
        if rows < cap:
            return False
        if limit is None:
            raise too_many
        return True

    if _is_jsonl(file, text):
        for line, content in enumerate(text.splitlines(), 1):
            if not content.strip():
                continue
            if full():
                return
            rows += 1
            try:
                obj = json.loads(content)
            except (json.JSONDecodeError, RecursionError) as exc:
                raise _row_error(shown, rows, line, f"not valid JSON ({getattr(exc, 'msg', 'too deep')})") from None
            if not isinstance(obj, dict):
                raise _row_error(shown, rows, line, "expected a JSON object with the row's columns")
            raw = []
            for _, names in columns:
                key = next((n for n in names if n in obj), None)
                if key is None:
                    raise _row_error(shown, rows, line, f"no {' or '.join(names)} key")
                raw.append((key, obj[key]))
            yield rows, line, raw
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header: list[str] | None = None
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue  # blank line
            if header is None:
                header = [f.strip() for f in fields]
                index = []
                for _, names in columns:
                    found = next((n for n in names if n in header), None)
                    if found is None:
                        raise TraceError(f"trace file {shown}: no {' or '.join(names)} column in the header "
                                         f"(line {reader.line_num}: {excerpt(', '.join(header))})")
                    index.append((found, header.index(found)))
                continue
            if full():
                return
            rows += 1
            if len(fields) != len(header):
                raise _row_error(shown, rows, reader.line_num,
                                 f"expected {len(header)} fields like the header, got {len(fields)}")
            yield rows, reader.line_num, [(name, fields[i]) for name, i in index]
    except csv.Error as exc:
        raise TraceError(f"trace file {shown}: line {reader.line_num}: not valid CSV ({exc})") from None
    if header is None:
        raise TraceError(f"trace file {shown} is empty: expected a header row and one row per request")


def _tokens(value: Any) -> int | None:
    """A positive integer from ``12``, ``12.0``, ``"12"`` or ``"12.0"``; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if not value.is_integer():
            return None
        n = int(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            n = int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                return None
            if not f.is_integer():
                return None
            n = int(f)
    else:
        return None
    return n if n >= 1 else None


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        t = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None
    return t if math.isfinite(t) and t >= 0 else None
