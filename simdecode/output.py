"""Files written for ``simdecode run --out DIR``: the only place simdecode writes anything.

``DIR/summary.json``   ``result.summary()`` (the JSON contract of docs/scenario-format), indented
``DIR/requests.csv``   one row per completed request, times in milliseconds
``DIR/timeline.png``   :func:`simdecode.plots.token_timeline`
``DIR/kv_occupancy.png`` :func:`simdecode.plots.kv_occupancy` (only when the run had more than one request)

Every file is rendered in memory first and then written to a temporary file in ``DIR`` that is
renamed over the final name (:func:`os.replace` is atomic on POSIX and Windows), so an error
(a plotting failure, a full disk, Ctrl-C) never leaves a half-written file behind, and a failure
while rendering leaves ``DIR`` untouched.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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
    # os.open with O_EXCL, not tempfile.mkstemp: the file gets the umask's usual permissions (0644)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_outputs(result: Any, out_dir: str | os.PathLike[str], summary: dict[str, Any] | None = None) -> list[Path]:
    """Write summary.json, requests.csv, timeline.png (and kv_occupancy.png for a run of more than
    one request) into ``out_dir`` (created if needed). ``summary``: what summary.json holds
    (default ``result.summary()``; the CLI adds the overrides and resolved scenario).

    Returns the paths written. Raises :class:`OSError` when ``out_dir`` cannot be created or
    written (the CLI reports that as a user error, exit code 2).
    """
    files = {
        "summary.json": summary_json(result.summary() if summary is None else summary).encode("utf-8"),
        "requests.csv": requests_csv(getattr(result, "requests", ()) or ()).encode("utf-8"),
        "timeline.png": timeline_png(result),
    }
    recorder = getattr(result, "recorder", None)
    if getattr(recorder, "submitted", 0) > 1:
        files["kv_occupancy.png"] = kv_occupancy_png(result)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        path = out / name
        write_atomic(path, data)
        written.append(path)
    return written
