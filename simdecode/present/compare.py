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
    elif path.suffix.lower() in (".yaml", ".yml"):
        raise UserFileError(f"{path} is a scenario file, not a result: simulate it first (simdecode run {path} "
                            "--out DIR) and compare the folders")
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
    from simdecode.present.report import fmt as number

    text = f"{100 * value:.1f}%" if fmt == "%" else number(value)  # 14,370, not 1.437e+04
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
    from rich.text import Text

    console = Console()
    render_comparison(table, [_short_name(path) for path in args.paths], console)
    for i, path in enumerate(args.paths):
        console.print(Text(f"[{i + 1}] {path}"), soft_wrap=True)
    return 0


#: the widest a result's column grows before its cells wrap, and the label column in a narrow terminal
MAX_CELL_WIDTH, NARROW_LABEL_WIDTH = 30, 18


def _strip_ratio(cell: str) -> str:
    return cell.rsplit(" (x", 1)[0] if cell.endswith(")") else cell


def _lines(cell: str) -> str:
    """A cell as the terminal shows it: several overrides one to a line."""
    return cell.replace("; ", "\n")


def _print_packed(console, head: str, items: list[str]) -> None:
    """``head`` and ``items`` joined by "; ", broken between items (not inside one) at the console's
    width; continuation lines indented by two spaces."""
    from rich.text import Text

    lines, line = [], head
    for n, item in enumerate(items):
        piece = f" {item};" if n + 1 < len(items) else f" {item}"
        if len(line) + len(piece) > console.width and line.strip() != head:
            lines.append(line)
            line = " "
        line += piece
    lines.append(line)
    for text in lines:
        console.print(Text(text.rstrip()), soft_wrap=True)


def _override_rows(table: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """``table`` with its ``overrides`` row split into one row per overridden key (``set KEY``,
    the value of each result, ``-`` where a result does not set it), in order of appearance."""
    out = []
    for label, cells in table:
        if label != "overrides":
            out.append((label, cells))
            continue
        per_result = []
        for cell in cells:
            values: dict[str, str] = {}
            for item in ([] if cell == "-" else cell.split("; ")):
                key, _, value = item.partition("=")
                values[key] = f"{values[key]}, {value}" if key in values else value
            per_result.append(values)
        keys = list(dict.fromkeys(k for values in per_result for k in values))
        labels = [_short_key(key, keys) for key in keys]
        out += [(label, [values.get(key, "-") for values in per_result]) for label, key in zip(labels, keys)]
    return out


def _short_key(key: str, keys: list[str]) -> str:
    """``set KEY`` within :data:`NARROW_LABEL_WIDTH` where a tail of its dotted parts tells it from
    the other ``keys`` (``set …concurrency`` for ``workload.arrival.concurrency``); else whole."""
    if len(f"set {key}") <= NARROW_LABEL_WIDTH:
        return f"set {key}"
    parts = key.split(".")
    for k in range(len(parts) - 1, 0, -1):
        tail = ".".join(parts[k:])
        if len(f"set …{tail}") <= NARROW_LABEL_WIDTH and sum(o.endswith("." + tail) or o == tail for o in keys) == 1:
            return f"set …{tail}"
    return f"set {key}"


def render_comparison(table: list[tuple[str, list[str]]], names: list[str], console) -> None:
    """Print ``table`` (:func:`comparison`) on ``console``, one column per result headed ``[i] name``.

    Where the whole table does not fit the terminal's width: the rows every result shares (same
    scenario, model, seed...) move to a "same in all" paragraph above it, each ``--set`` override
    gets a row of its own, the labels wrap at :data:`NARROW_LABEL_WIDTH`, the headings shrink to
    ``[i]`` where that fits more results side by side (the list under the table names each), and
    results that still do not fit side by side are printed as several tables of as many results
    as fit, each with the labels, ratios still to ``[1]``. Nothing is cut: a cell too wide wraps."""
    from rich.table import Table
    from rich.text import Text

    heads = [f"[{i + 1}] {name}" for i, name in enumerate(names)]

    def width(rows: list[tuple[str, list[str]]], i: int) -> int:
        """Column ``i``'s natural width (at most :data:`MAX_CELL_WIDTH`, or its heading's)."""
        pieces = [line for _, cells in rows for line in _lines(cells[i]).splitlines()]
        return min(max(len(heads[i]), max((len(p) for p in pieces), default=1)), max(MAX_CELL_WIDTH, len(heads[i])))

    def total(label_w: int, widths: list[int]) -> int:  # rich's box: a space of padding each side, a rule between
        return label_w + sum(widths) + 3 * len(widths) + 4

    def print_table(rows: list[tuple[str, list[str]]], columns: list[int], label_w: int | None) -> None:
        out = Table(show_header=True, header_style="bold")
        out.add_column("", min_width=label_w, max_width=label_w, overflow="fold")
        for i in columns:  # a heading never wraps; a cell wraps between words before it folds
            out.add_column(Text(heads[i]), min_width=min(len(heads[i]), max(console.width // 2, 10)), overflow="fold")
        for label, cells in rows:  # Text: a '[' in a file is not rich markup
            out.add_row(Text(label), *(Text(_lines(cells[i])) for i in columns))  # labels too: "set KEY" is from a file
        console.print(out)

    everyone = list(range(len(names)))
    if total(max((len(label) for label, _ in table), default=1), [width(table, i) for i in everyone]) <= console.width:
        print_table(table, everyone, None)
        return
    # narrow: what all results share goes above the table, one row per override, the labels wrap
    rows = _override_rows(table)
    common = [(label, cells[0]) for label, cells in rows if len({_strip_ratio(c) for c in cells}) == 1]
    if len(common) < len(rows):
        rows = [(label, cells) for label, cells in rows if (label, cells[0]) not in common]
        if common:
            _print_packed(console, f"same in all {len(names)}:", [f"{label}: {value}" for label, value in common])
    label_w = min(max((len(label) for label, _ in rows), default=1), NARROW_LABEL_WIDTH)

    def pack() -> list[list[int]]:  # as many results side by side as fit, in order
        groups, current = [], []
        for i in everyone:
            if current and total(label_w, [width(rows, j) for j in current + [i]]) > console.width:
                groups.append(current)
                current = []
            current.append(i)
        return groups + [current]

    groups, named = pack(), list(heads)
    heads[:] = [f"[{i + 1}]" for i in everyone]  # headings without names: do more results fit side by side?
    if len(pack()) >= len(groups):
        heads[:] = named  # no: keep the names
    groups = pack()
    for g, columns in enumerate(groups):
        if g:
            first, last = f"[{columns[0] + 1}]", f"[{columns[-1] + 1}]"
            console.print(Text(f"results {first} to {last} (ratios to [1])" if len(columns) > 1
                               else f"result {first} (ratios to [1])", style="bold"))
        print_table(rows, columns, label_w)


def _short_name(path: str) -> str:
    """A result's name for a column heading: its folder's ('points/001-concurrency-4' ->
    '001-concurrency-4'; 'out/b/summary.json' -> 'b')."""
    p = Path(path)
    return (p.parent.name if p.suffix == ".json" else p.name) or str(path)
