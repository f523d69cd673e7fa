"""``simdecode compare A B ...``: two or more results side by side.

Each argument is a summary.json file or a folder holding one (``simdecode run --out DIR``, or a
point of a sweep, ``DIR/points/<label>``). One column per result, one row per key metric; a
number in a later column also shows its ratio to the first column's (``x1.25``).
"""

from __future__ import annotations

import argparse
import json
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
    return f"{par['tp']} x {par['pp']} x {par['dp']}" if isinstance(par, Mapping) else None


#: the largest summary.json :func:`load_summary` reads
MAX_SUMMARY_BYTES = 64 * 2**20


def load_summary(path: str | Path) -> dict[str, Any]:
    """The summary in ``path`` (a summary.json file or a folder holding one): a regular file of at
    most :data:`MAX_SUMMARY_BYTES`; anything else, or malformed JSON, is a ``ValueError``."""
    from simdecode.userfiles import read_user_file

    path = Path(path)
    if path.is_dir():
        path = path / "summary.json"
    data = json.loads(read_user_file(path, None, what="summary", max_bytes=MAX_SUMMARY_BYTES).text("summary"))
    if not isinstance(data, dict) or "scenario" not in data:
        raise ValueError(f"{path}: not a simdecode summary (no 'scenario' key)")
    return data


def _cell(value: Any, fmt: str, first: Any) -> str:
    if value is None:
        return "-"
    if fmt == "s":
        return str(value)
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
        raise UserError("compare needs at least two results")
    summaries = []
    for path in args.paths:
        try:
            summaries.append(load_summary(path))
        except OSError as exc:
            raise UserError(f"{path}: {exc.strerror or exc}") from None
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            raise UserError(f"{path}: not a simdecode summary ({exc})") from None
    table = comparison(summaries)
    if args.json:
        sys.stdout.write(json.dumps({"results": list(args.paths), "rows": {k: v for k, v in table}}, indent=2) + "\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    out = Table(show_header=True, header_style="bold")
    out.add_column("")
    for i, path in enumerate(args.paths):
        out.add_column(f"[{i + 1}] {path}", overflow="fold")
    for label, cells in table:
        out.add_row(label, *cells)
    Console().print(out)
    return 0
