"""Reading back what ``sweep`` and ``run`` wrote (``sweep.json``, ``summary.json``) as untrusted files.

``simdecode plot DIR`` and ``simdecode compare A B`` read folders the user names on the command
line, which may have been edited, truncated, or be someone else's files. Every read goes through
:func:`simdecode.io.userfiles.read_user_file` (regular files only, bounded size; no folder
confinement, the user chose the path), and the loaded data is checked against the schema the
drawing and printing code relies on, so a wrong value is one :class:`UserFileError` naming the
file, the row or key, and what was expected, instead of a crash deep in matplotlib or a format
string. Values quoted in a message pass through :func:`simdecode.io.userfiles.excerpt` (short,
control characters escaped), so a file's content is never echoed beyond a short excerpt.
"""

from __future__ import annotations

import json
import math
from typing import Any

from simdecode.io.userfiles import UserFileError, excerpt, read_user_file

#: the kinds a value may be checked against, with how a message names them
KINDS = {"number": "a number", "count": "a whole number >= 0", "degree": "a whole number >= 1",
         "text": "text", "object": "an object", "texts": "a list of text"}
#: the largest parallel degree a table may hold (a corrupt 10**300 would make the figure's tick labels absurd)
MAX_DEGREE = 1_000_000

#: columns of a sweep table the figures compute with (see :mod:`simdecode.plots.sweeps`), and their kinds
TABLE_COLUMNS: dict[str, str] = {
    "point": "count", "label": "text",
    "resolved.parallelism.pp": "degree", "resolved.parallelism.tp": "degree", "resolved.parallelism.dp": "degree",
    "resolved.workload.arrival.concurrency": "degree", "resolved.workload.arrival.rate": "number",
    "resolved.workload.prompt_tokens": "count", "resolved.workload.output_tokens": "count",
    "resolved.decoding.speculative_tokens": "count", "kv_cache.capacity_tokens": "count",
    "per_request_tps.mean": "number", "aggregate_tps": "number", "ttft_ms.mean": "number",
    "allreduce_share": "number", "speculative.speedup_vs_standard": "number",
    "speculative.aggregate_speedup": "number", "speculative.acceptance_rate": "number",
    "bottleneck": "text", "resolved.model.name": "text", "resolved.hardware.gpu.name": "text",
}

#: keys of a summary that ``compare`` reads (dotted paths), and their kinds
SUMMARY_KEYS: dict[str, str] = {
    "scenario": "text", "overrides": "texts", "model": "object", "model.name": "text",
    "requests": "object", "requests.completed": "count",
    "ttft_ms": "object", "ttft_ms.mean": "number", "ttft_ms.p99": "number",
    "tpot_ms": "object", "tpot_ms.mean": "number",
    "per_request_tps": "object", "per_request_tps.mean": "number",
    "aggregate_tps": "number", "roofline_tps": "number", "allreduce_share": "number",
    "kv_cache": "object", "kv_cache.capacity_tokens": "count",
    "batch_size": "object", "batch_size.mean": "number",
    "bottleneck": "text", "seed": "count", "simdecode_version": "text",
    "resolved_scenario": "object", "resolved_scenario.hardware": "object",
    "resolved_scenario.hardware.gpu": "object", "resolved_scenario.hardware.gpu.name": "text",
    "resolved_scenario.workload": "object", "resolved_scenario.workload.arrival": "object",
    "resolved_scenario.workload.arrival.concurrency": "degree",
    "resolved_scenario.parallelism": "object", "resolved_scenario.parallelism.tp": "degree",
    "resolved_scenario.parallelism.pp": "degree", "resolved_scenario.parallelism.dp": "degree",
}


def fits(value: Any, kind: str) -> bool:
    """Whether ``value`` (not None) is of ``kind`` (a key of :data:`KINDS`)."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return is_int or (isinstance(value, float) and math.isfinite(value))  # simdecode writes no NaN
    if kind == "count":
        return is_int and value >= 0
    if kind == "degree":
        return is_int and 1 <= value <= MAX_DEGREE
    if kind == "text":
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "texts":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    raise ValueError(f"unknown kind {kind!r}")


def _got(value: Any) -> str:
    """A short rendering of a value from a file: text quoted, anything else as JSON writes it."""
    if isinstance(value, str):
        return excerpt(value)
    text = excerpt(json.dumps(value))
    if isinstance(value, (dict, list)):
        return f"{'an object' if isinstance(value, dict) else 'a list'} {text}"
    return text[1:-1] if text.endswith("'") else text[1:].replace("'...", "...")


def load_json(path: Any, what: str, max_bytes: int) -> Any:
    """The JSON value in the regular file ``path`` (at most ``max_bytes``); a :class:`UserFileError`
    naming the file (and line and column of a syntax error) otherwise, never quoting the content."""
    read = read_user_file(path, None, what=what, max_bytes=max_bytes)
    text = read.text(what)
    if not text.strip():
        raise UserFileError(f"{what} {read.shown} is empty: expected the JSON that simdecode writes")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) or (exc.msg.startswith("Unterminated string") and '"' not in text[exc.pos + 1:])
        end = " (it ends early: cut short?)" if cut else ""
        raise UserFileError(f"{what} {read.shown} is not valid JSON: {exc.msg.removesuffix(' at')} at line {exc.lineno}, "
                            f"column {exc.colno}{end}") from None
    except RecursionError:
        raise UserFileError(f"{what} {read.shown} nests JSON too deeply: expected the JSON that simdecode "
                            "writes") from None


def check_table(data: Any, shown: str, max_rows: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(sweep description, rows)`` of a loaded ``sweep.json``, checked: an object with ``sweep``
    (an object) and ``rows`` (1 to ``max_rows`` objects), the columns of :data:`TABLE_COLUMNS` of
    their kind (or null), and no column mixing numbers with other values."""
    if not isinstance(data, dict):
        raise UserFileError(f"{shown}: expected a JSON object with 'sweep' and 'rows' (a simdecode sweep "
                            f"table), got {_got(data)}")
    for key, kind in (("sweep", "object"), ("rows", "list")):
        if key not in data:
            hint = " (this is a run's summary.json: did you mean simdecode plot on its folder?)" \
                if "scenario" in data else ""
            raise UserFileError(f"{shown}: no '{key}' key: expected a simdecode sweep table{hint}")
        if not isinstance(data[key], dict if kind == "object" else list):
            raise UserFileError(f"{shown}: '{key}' must be {'an object' if kind == 'object' else 'a list'}, "
                                f"got {_got(data[key])}")
    rows = data["rows"]
    if not rows:
        raise UserFileError(f"{shown}: the table lists 0 points: nothing to draw (was the sweep cut short?)")
    if len(rows) > max_rows:
        raise UserFileError(f"{shown}: the table lists {len(rows):,} points, more than a sweep can have "
                            f"({max_rows:,})")
    numeric: dict[str, int] = {}  # column -> first row holding a number
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise UserFileError(f"{shown}: row {i}: expected an object (one point of the sweep), got {_got(row)}")
        for key in ("point", "label"):
            if row.get(key) is None:
                raise UserFileError(f"{shown}: row {i} has no '{key}': expected the rows simdecode sweep writes")
        for key, value in row.items():
            if value is None:
                continue
            kind = TABLE_COLUMNS.get(key)
            if kind is not None and not fits(value, kind):
                raise UserFileError(f"{shown}: row {i}, column '{excerpt(key, 60)[1:-1]}': expected "
                                    f"{KINDS[kind]} or null, got {_got(value)}")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                numeric.setdefault(key, i)
    for i, row in enumerate(rows):  # a column of numbers with text, lists or objects in some rows
        for key, first in numeric.items():
            value = row.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise UserFileError(f"{shown}: row {i}, column '{excerpt(key, 60)[1:-1]}': expected a number "
                                    f"like row {first}, got {_got(value)}")
    return data["sweep"], rows


def check_summary(data: Any, shown: str) -> dict[str, Any]:
    """A loaded ``summary.json``, checked: an object with ``scenario`` and every key of
    :data:`SUMMARY_KEYS` that is present (and not null) of its kind."""
    if not isinstance(data, dict):
        raise UserFileError(f"{shown}: expected a JSON object (a simdecode summary), got {_got(data)}")
    if "scenario" not in data:
        hint = (" (this is a sweep table: did you mean one of its points, DIR/points/<label>?)"
                if "rows" in data and "sweep" in data else "")
        raise UserFileError(f"{shown}: no 'scenario' key: expected a simdecode summary (simdecode run --out "
                            f"DIR writes DIR/summary.json){hint}")
    for path, kind in SUMMARY_KEYS.items():
        node: Any = data
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None and not fits(node, kind):
            raise UserFileError(f"{shown}: key {path}: expected {KINDS[kind]}, got {_got(node)}")
    return data

