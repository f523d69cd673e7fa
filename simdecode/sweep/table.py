"""The tidy table of a sweep: one row per point, one column per varied key and per summary metric.

Columns, in order: ``point`` (grid index), ``label`` (the point's folder under ``points/``), the
varied keys (dotted, e.g. ``parallelism.pp``), ``overrides`` (the user's ``--set`` strings,
joined by ``"; "``), then every key of the point's summary flattened with dots
(``per_request_tps.mean``, ``kv_cache.capacity_tokens``, ``seed``, ``simdecode_version``...),
then the point's resolved scenario flattened under ``resolved.`` (``resolved.parallelism.tp``,
``resolved.hardware.gpu.name``...), so a row says everything that was simulated. Lists (a
histogram) are stored as JSON text so every cell is a scalar.

Left out: :data:`NONDETERMINISTIC` (wall-clock time), so the same grid gives the same table on
any machine and with any executor.

Files: ``sweep.csv``, ``sweep.json`` (``{"sweep": <what was run>, "rows": [...]}``) and, when
pyarrow is importable, ``sweep.parquet``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from simdecode.sweep.grid import flatten

#: summary keys that differ between two runs of the same scenario
NONDETERMINISTIC = ("simulation.wall_s",)

TABLE_FILES = ("sweep.csv", "sweep.json", "sweep.parquet")


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return json.dumps(value)
    return value


def make_row(point_columns: Mapping[str, Any], label: str, index: int, overrides: Sequence[str],
             summary: Mapping[str, Any], resolved: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One row of the table (see the module docstring for the columns)."""
    row: dict[str, Any] = {"point": index, "label": label}
    row.update({key: _cell(value) for key, value in point_columns.items()})
    row["overrides"] = "; ".join(overrides)
    for key, value in flatten(summary).items():
        if key not in NONDETERMINISTIC and key not in row:
            row[key] = _cell(value)
    for key, value in flatten(resolved or {}, "resolved.").items():
        row[key] = _cell(value)
    return row


def columns_of(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every column of ``rows``, in order of first appearance."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV text: a header of :func:`columns_of` and one line per row; None is an empty cell."""
    buf = io.StringIO()
    columns = columns_of(rows)
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else repr(row[c]) if isinstance(row[c], float) else row[c]
                         for c in columns])
    return buf.getvalue()


def to_parquet(rows: Sequence[Mapping[str, Any]]) -> bytes | None:
    """Parquet bytes, or None when pyarrow is not installed. A column mixing kinds of values
    (numbers and text) is stored as text."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    columns = columns_of(rows)
    data = {}
    for column in columns:
        values = [row.get(column) for row in rows]
        try:
            data[column] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            data[column] = pa.array([None if v is None else str(v) for v in values], type=pa.string())
    buf = io.BytesIO()
    pq.write_table(pa.table(data), buf)
    return buf.getvalue()


#: the largest sweep.json :func:`read_table` reads: a sweep has at most
#: :data:`simdecode.sweep.grid.MAX_POINTS` points of about 7 KB each in sweep.json
MAX_TABLE_BYTES = 128 * 2**20


def read_table(folder: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(sweep description, rows)`` from a sweep folder's ``sweep.json``: a regular file of at most
    :data:`MAX_TABLE_BYTES` whose rows pass :func:`simdecode.sweep.readback.check_table`; anything
    else is a :class:`simdecode.io.userfiles.UserFileError` (a ``ValueError``) naming the file."""
    from simdecode.sweep.grid import MAX_POINTS
    from simdecode.sweep.readback import check_table, load_json

    path = Path(folder) / "sweep.json"
    return check_table(load_json(path, "sweep table", MAX_TABLE_BYTES), str(path), MAX_POINTS)


def column(rows: Iterable[Mapping[str, Any]], key: str) -> list[Any]:
    """The values of one column (None where a row lacks it)."""
    return [row.get(key) for row in rows]
