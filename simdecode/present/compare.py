"""``simdecode compare A B ...``: two or more results side by side.

Each argument is a summary.json file or a folder holding one (``simdecode run --out DIR``, or a
point of a sweep, ``DIR/points/<label>``). One column per result, one row per key metric; a
number in a later column also shows its ratio to the first column's (``x1.25``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

#: the rows: label, how to read the value from a summary, format
ROWS: list[tuple[str, Callable[[Mapping[str, Any]], Any], str]] = [
    ("scenario", lambda s: s.get("scenario"), "s"),
    ("overrides", lambda s: "; ".join(s.get("overrides") or []) or "-", "s"),
    ("model", lambda s: (s.get("model") or {}).get("name"), "s"),
    ("GPU", lambda s: _resolved(s, "hardware", "gpu", "name"), "s"),
    ("tp x pp x dp", lambda s: _layout(s), "s"),
    ("concurrency", lambda s: _resolved(s, "workload", "arrival", "concurrency"), "d"),
    ("requests completed", lambda s: (s.get("requests") or {}).get("completed"), "d"),
    ("TTFT mean (ms)", lambda s: (s.get("ttft_ms") or {}).get("mean"), "f"),
    ("TTFT p99 (ms)", lambda s: (s.get("ttft_ms") or {}).get("p99"), "f"),
    ("TPOT mean (ms)", lambda s: (s.get("tpot_ms") or {}).get("mean"), "f"),
    ("tokens/s per request (mean)", lambda s: (s.get("per_request_tps") or {}).get("mean"), "f"),
    ("aggregate tokens/s", lambda s: s.get("aggregate_tps"), "f"),
    ("roofline tokens/s (one request)", lambda s: s.get("roofline_tps"), "f"),
    ("exposed all-reduce share", lambda s: s.get("allreduce_share"), "%"),
    ("KV cache (tokens)", lambda s: (s.get("kv_cache") or {}).get("capacity_tokens"), "d"),
    ("mean batch size", lambda s: (s.get("batch_size") or {}).get("mean"), "f"),
    ("bottleneck", lambda s: s.get("bottleneck"), "s"),
    ("seed", lambda s: s.get("seed"), "d"),
    ("simdecode version", lambda s: s.get("simdecode_version"), "s"),
]


def _resolved(summary: Mapping[str, Any], *path: str) -> Any:
    node: Any = summary.get("resolved_scenario")
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _layout(summary: Mapping[str, Any]) -> str | None:
    par = _resolved(summary, "parallelism")
    return " x ".join(str(par.get(k, "?")) for k in ("tp", "pp", "dp")) if isinstance(par, Mapping) else None


#: the largest summary.json :func:`load_summary` reads
MAX_SUMMARY_BYTES = 64 * 2**20


def load_summary(path: str | Path) -> dict[str, Any]:
    """The summary in ``path`` (a summary.json file or a folder holding one): a regular file of at
    most :data:`MAX_SUMMARY_BYTES` passing :func:`simdecode.sweep.readback.check_summary`; anything
    else is a :class:`simdecode.io.userfiles.UserFileError` (a ``ValueError``) naming the file."""
    from simdecode.sweep.readback import check_summary, load_json
    from simdecode.io.userfiles import UserFileError

    path = Path(path)
    if path.is_dir():
        if (path / "sweep.json").exists() and not (path / "summary.json").exists():
            raise UserFileError(f"{path} is a sweep folder, not one result: compare its points, e.g. "
                                f"{path / 'points' / '<label>'}")
        path = path / "summary.json"
    return check_summary(load_json(path, "summary", MAX_SUMMARY_BYTES), str(path))


def _cell(value: Any, fmt: str, first: Any) -> str:
    if value is None:
        return "-"
    if fmt == "s":  # text from a file: control characters escaped (no terminal escapes), kept short
        text = str(value)
        text = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text[:200])
        return text + ("..." if len(str(value)) > 200 else "")
    if fmt == "d":
        return f"{value:,}" if isinstance(value, int) else str(value)
    text = f"{100 * value:.1f}%" if fmt == "%" else f"{value:,.4g}"
    if isinstance(first, (int, float)) and first and value is not first:
        text += f" (x{value / first:.3g})"
    return text


def comparison(summaries: list[Mapping[str, Any]]) -> list[tuple[str, list[str]]]:
    """``[(row label, [cell per result])]``; a number's ratio to the first result is appended."""
    table = []
    for label, read, fmt in ROWS:
        values = [read(s) for s in summaries]
        if all(v is None for v in values):
            continue
        table.append((label, [_cell(v, fmt, values[0] if i else None) for i, v in enumerate(values)]))
    return table


def add_parser(commands) -> None:
    p = commands.add_parser("compare", help="print two or more results side by side",
                            description="Print results (summary.json files or run folders) side by side.")
    p.add_argument("paths", nargs="+", metavar="RESULT", help="summary.json or a folder holding one")
    p.add_argument("--json", action="store_true", help="print the comparison as one JSON object")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from simdecode.cli import UserError

    if len(args.paths) < 2:
        raise UserError(f"compare needs at least two results, got one ({args.paths[0]}): e.g. simdecode compare "
                        f"{args.paths[0]} OTHER_RUN_DIR")
    summaries, seen = [], {}
    for path in args.paths:
        try:
            summaries.append(load_summary(path))
        except OSError as exc:
            raise UserError(f"{path}: {exc.strerror or exc}") from None
        except ValueError as exc:  # UserFileError: the message names the file and what was expected
            raise UserError(str(exc)) from None
        real = os.path.realpath(Path(path) / "summary.json" if Path(path).is_dir() else path)
        if real in seen:
            raise UserError(f"{path} and {seen[real]} are the same result ({real}): give two different "
                            "results, e.g. two run folders or DIR/points/<label> of a sweep")
        seen[real] = path
    table = comparison(summaries)
    if args.json:
        sys.stdout.write(json.dumps({"results": list(args.paths), "rows": {k: v for k, v in table}}, indent=2) + "\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    out = Table(show_header=True, header_style="bold")
    out.add_column("")
    from rich.text import Text

    for i, path in enumerate(args.paths):  # a short heading; the whole path is listed under the table
        out.add_column(Text(f"[{i + 1}] {_short_name(path)}"), overflow="fold")
    for label, cells in table:
        out.add_row(label, *(Text(cell) for cell in cells))  # Text: a '[' in a file is not rich markup
    console = Console()
    console.print(out)
    for i, path in enumerate(args.paths):
        console.print(Text(f"[{i + 1}] {path}"), soft_wrap=True)
    return 0


def _short_name(path: str) -> str:
    """A result's name for a column heading: its folder's ('points/001-concurrency-4' ->
    '001-concurrency-4'; 'out/b/summary.json' -> 'b')."""
    p = Path(path)
    return (p.parent.name if p.suffix == ".json" else p.name) or str(path)
