"""``simdecode plot PATH``: draw the figure a result calls for, as PNG and SVG.

PATH is a sweep folder (``simdecode sweep --out``: the canonical figure its varied axes call for,
see :mod:`simdecode.plots.choose`), a run folder (``simdecode run --out``: the Gantt chart of
one token of its resolved scenario) or a scenario file (the same Gantt chart).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simdecode.plots.choose import FIGURES

FIGURE_NAMES = ("auto", *FIGURES, "gantt")


def add_parser(commands) -> None:
    from simdecode.cli import _path

    p = commands.add_parser(
        "plot", help="draw the figure of a sweep or run folder (PNG and SVG)",
        description="Draw the canonical figure of a sweep folder (chosen from its varied axes), or the "
        "Gantt chart of one token for a run folder or a scenario file. Writes PNG and SVG.",
    )
    p.add_argument("path", type=_path, metavar="PATH", help="sweep folder, run folder (--out of run) or scenario file")
    p.add_argument("--figure", choices=FIGURE_NAMES, default="auto", help="which figure (default: chosen)")
    p.add_argument("--out", type=_path, metavar="FILE",
                   help="where to write, without extension (default: PATH/<figure> for a folder, "
                   "<file name>-gantt in the working folder for a scenario file)")
    p.set_defaults(func=cmd_plot)


def _scenario_of(path: Path):
    """The scenario of a run folder (its summary.json's resolved scenario) or a scenario file."""
    from simdecode.scenario.loader import load_scenario, scenario_from_dict

    if path.is_dir():
        from simdecode.compare import load_summary

        summary = load_summary(path)
        if not isinstance(summary.get("resolved_scenario"), dict):
            raise ValueError(f"{path / 'summary.json'} has no resolved_scenario (written by an older simdecode?)")
        # files the resolved scenario names (a trace) are read from inside the run folder only
        return scenario_from_dict(summary["resolved_scenario"], file=str(path / "summary.json"), base_dir=path)
    return load_scenario(path)


def cmd_plot(args: argparse.Namespace) -> int:
    from simdecode.cli import UserError
    from simdecode.plots.choose import choose_figure, draw
    from simdecode.plots.gantt import token_gantt

    path = Path(args.path)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    is_sweep = path.is_dir() and (path / "sweep.json").is_file()
    if path.is_dir() and not is_sweep and not (path / "summary.json").is_file():
        raise UserError(f"{path}: neither a sweep folder (sweep.json) nor a run folder (summary.json)")
    if is_sweep and args.figure != "gantt":
        from simdecode.sweep.table import read_table

        try:
            _, rows = read_table(path)
        except (ValueError, KeyError) as exc:
            raise UserError(f"{path / 'sweep.json'}: not a sweep table ({exc})") from None
        name = choose_figure(rows) if args.figure == "auto" else args.figure
        fig = draw(name, rows)
        base = Path(args.out) if args.out else path / name
    else:
        if args.figure not in ("auto", "gantt"):
            raise UserError(f"--figure {args.figure} needs a sweep folder; {path} is one run")
        if is_sweep:
            raise UserError("--figure gantt needs a run folder or a scenario file (one point of the sweep: "
                            f"simdecode plot {path}/points/<label> is not a run folder; use its scenario.yaml)")
        try:
            scenario = _scenario_of(path)
        except (ValueError, OSError) as exc:
            raise UserError(str(exc)) from None
        name = "gantt"
        fig = token_gantt(scenario).figure
        # the default name comes from the command line (the file's name), never from inside the scenario
        base = Path(args.out) if args.out else (path / "gantt" if path.is_dir() else Path(f"{path.stem}-gantt"))
    import io

    from simdecode.outfiles import check_file_target, write_file_atomic

    rendered = {}
    for ext in ("png", "svg"):  # render both before writing either
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=150)
        rendered[Path(f"{base}.{ext}")] = buf.getvalue()
    written = []
    for target in rendered:
        check_file_target(target, "--out")  # both targets checked before either is written
    for target, data in rendered.items():
        try:
            write_file_atomic(target, data)
        except OSError as exc:
            raise UserError(f"{target}: {exc.strerror or exc}") from exc
        written.append(str(target))
    print(f"{name} figure: " + ", ".join(written), file=sys.stderr)
    return 0
