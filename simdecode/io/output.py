"""Files written for ``simdecode run --out DIR``: the only place simdecode writes anything.

``DIR/summary.json``   ``result.summary()`` (its keys are documented in docs/metrics.md), indented
``DIR/requests.csv``   one row per completed request, times in milliseconds
``DIR/timeline.png``   :func:`simdecode.plots.token_timeline`
``DIR/kv_occupancy.png`` :func:`simdecode.plots.kv_occupancy` (only when the run had more than one request)

Every file is rendered in memory first, then all of them are written into a fresh temporary
folder beside ``DIR`` that replaces ``DIR`` whole (:func:`simdecode.io.outfiles.atomic_out_dir`):
an error or a kill at any point (a plotting failure, a full disk, Ctrl-C) leaves ``DIR`` as it
was or complete, never a mix of old and new files. ``DIR`` must be new, empty or simdecode's own
output unless ``force``. The file-system rules live in :mod:`simdecode.io.outfiles`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simdecode.io.outfiles import atomic_out_dir, write_file_atomic

REQUEST_COLUMNS = (
    "id", "replica", "arrival_ms", "scheduled_ms", "first_token_ms", "finished_ms",
    "prompt_tokens", "output_tokens", "ttft_ms", "tpot_ms", "e2e_ms", "preemptions", "warmup",
)


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers, tuples as lists and NaN/inf as None.

    JSON has no NaN or Infinity; ``json.dumps`` would write them anyway and strict parsers
    (``jq``, JavaScript) reject the file.
    """
    if isinstance(value, dict):
        return {str(key): jsonable(val) for key, val in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(val) for val in value]
    if isinstance(value, (str, bool)) or value is None:
        return value
    if hasattr(value, "item") and callable(value.item):  # numpy scalar or 0-d array
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def summary_json(summary: dict[str, Any]) -> str:
    """The summary as strict JSON text (indent 2, trailing newline)."""
    return json.dumps(jsonable(summary), indent=2, allow_nan=False) + "\n"


def _ms(seconds: float) -> str:
    return repr(round(seconds * 1e3, 6))


def requests_csv(requests: Iterable[Any]) -> str:
    """One CSV row per request record (see :data:`REQUEST_COLUMNS`), sorted by id."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(REQUEST_COLUMNS)
    for r in sorted(requests, key=lambda rec: rec.id):
        n_out = r.output_tokens
        tpot_s = (r.finished_s - r.first_token_s) / (n_out - 1) if n_out > 1 else 0.0
        writer.writerow([
            r.id, r.replica,
            _ms(r.arrival_s), _ms(r.scheduled_s), _ms(r.first_token_s), _ms(r.finished_s),
            r.prompt_tokens, n_out,
            _ms(r.first_token_s - r.arrival_s), _ms(tpot_s), _ms(r.finished_s - r.arrival_s),
            r.preemptions, int(r.warmup),
        ])
    return buf.getvalue()


def _png(plot_name: str, result: Any) -> bytes:
    """``simdecode.plots.<plot_name>(result, ax)`` rendered to PNG bytes."""
    from simdecode import plots

    fig = plots.new_figure()
    getattr(plots, plot_name)(result, ax=fig.add_subplot())
    buf = io.BytesIO()
    plots.save_figure(fig, buf)
    return buf.getvalue()


def timeline_png(result: Any) -> bytes:
    """:func:`simdecode.plots.token_timeline` rendered to PNG bytes."""
    return _png("token_timeline", result)


def kv_occupancy_png(result: Any) -> bytes:
    """:func:`simdecode.plots.kv_occupancy` rendered to PNG bytes."""
    return _png("kv_occupancy", result)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    write_file_atomic(path, data)


def render_outputs(result: Any, summary: dict[str, Any] | None = None) -> dict[str, bytes]:
    """The files of ``--out``, by name, rendered in memory: summary.json, requests.csv,
    timeline.png (and kv_occupancy.png for a run of more than one request). ``summary``: what
    summary.json holds (default ``result.summary()``; the CLI adds the overrides and the resolved
    scenario, :func:`simdecode.io.provenance.describe`)."""
    files = {
        "summary.json": summary_json(result.summary() if summary is None else summary).encode("utf-8"),
        "requests.csv": requests_csv(getattr(result, "requests", ()) or ()).encode("utf-8"),
        "timeline.png": timeline_png(result),
    }
    if getattr(result, "submitted", 0) > 1:
        files["kv_occupancy.png"] = kv_occupancy_png(result)
    return files


def write_outputs(result: Any, out_dir: str | os.PathLike[str], force: bool = False,
                  summary: dict[str, Any] | None = None) -> list[Path]:
    """Write :func:`render_outputs` into ``out_dir`` (created if needed), replacing it whole.

    Returns the paths written. Raises :class:`~simdecode.io.outfiles.OutputError` when ``out_dir``
    may not be replaced (a folder of other files, without ``force``) and :class:`OSError` when it
    cannot be written (the CLI reports both as user errors, exit code 2).
    """
    files = render_outputs(result, summary)
    out = Path(out_dir)
    with atomic_out_dir(out, force) as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
    return [out / name for name in files]
