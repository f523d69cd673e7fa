"""``simdecode plot PATH``: draw the figure a result calls for, as PNG and SVG.

PATH is a sweep folder (``simdecode sweep --out``: the canonical figure its varied axes call for,
see :mod:`simdecode.plots.choose`), a run folder (``simdecode run --out``: the Gantt chart of
one token of its resolved scenario) or a scenario file (the same Gantt chart).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

#: ``--figure``'s choices: "auto", the sweep figures (the keys of :data:`simdecode.plots.choose.FIGURES`,
#: written out so that registering the command loads no matplotlib; a test checks they agree) and "gantt"
FIGURE_NAMES = ("auto", "pipeline", "tp", "speculative", "pareto", "points", "gantt")


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
        from simdecode.present.compare import load_summary

        summary = load_summary(path)
        if not isinstance(summary.get("resolved_scenario"), dict):
            raise ValueError(f"{path / 'summary.json'} has no resolved_scenario (written by an older simdecode?)")
        # files the resolved scenario names (a trace) are read from inside the run folder only
        return scenario_from_dict(summary["resolved_scenario"], file=str(path / "summary.json"), base_dir=path)
    return load_scenario(path)


def _out_base(out: str | None) -> Path | None:
    """``--out``: the figure's path without extension (a given ``.png`` or ``.svg`` dropped); refused
    when it names something that exists and is not a regular file (a folder, a device)."""
    import stat

    from simdecode.cli import UserError

    if out is None:
        return None
    base = Path(out)
    if base.suffix.lower() in (".png", ".svg"):
        base = base.with_suffix("")
    try:
        info = os.stat(base)
    except (OSError, ValueError):
        return base  # absent (or unnamable): the checks of each target say why
    if stat.S_ISDIR(info.st_mode):
        raise UserError(f"--out {out}: is a folder: --out names the figure's file without extension, "
                        f"did you mean --out {base / 'figure'}?")
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"--out {out}: exists and is not a regular file (a device, pipe or socket): "
                        "--out names the figure's file without extension, e.g. --out plots/pipeline")
    return base


def _did_you_mean(path: Path) -> str:
    """A hint for a folder that is neither a sweep nor a run: its parent, or a sub-folder, that is."""
    def kind(p: Path) -> bool:
        return (p / "sweep.json").exists() or (p / "summary.json").exists()

    candidates = [path.parent] if path.parent != path and kind(path.parent) else []
    if not candidates:
        try:
            candidates = sorted(p for p in path.iterdir() if p.is_dir() and kind(p))[:2]
        except OSError:
            candidates = []
    return f"; did you mean {candidates[0]}?" if len(candidates) == 1 else ""


def cmd_plot(args: argparse.Namespace) -> int:
    from simdecode.cli import UserError
    from simdecode.plots.choose import choose_figure, draw, missing
    from simdecode.plots.gantt import token_gantt

    path = Path(args.path)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    out = _out_base(args.out)
    is_sweep = path.is_dir() and os.path.lexists(path / "sweep.json")  # a dangling link: "not found"
    if path.is_dir() and not is_sweep and not os.path.lexists(path / "summary.json"):
        raise UserError(f"{path}: neither a sweep folder (sweep.json) nor a run folder (summary.json)"
                        + _did_you_mean(path))
    if is_sweep and args.figure != "gantt":
        from simdecode.sweep.table import read_table

        try:
            _, rows = read_table(path)
        except ValueError as exc:  # UserFileError: names the file, the row and column, what was expected
            raise UserError(str(exc)) from None
        name = choose_figure(rows) if args.figure == "auto" else args.figure
        why_not = missing(name, rows)
        if why_not:  # a figure whose x axis does not vary would draw one dot per line
            from simdecode.plots.sweeps import varied_columns

            varied = ", ".join(k.removeprefix("resolved.") for k in varied_columns(rows)) or "nothing"
            raise UserError(f"--figure {name} {why_not}; {path} varies {varied}: its figure is "
                            f"{choose_figure(rows)} (--figure auto)")
        fig = draw(name, rows)
        base = out or path / name
    else:
        if args.figure not in ("auto", "gantt"):
            raise UserError(f"--figure {args.figure} needs a sweep folder; {path} is one run")
        if is_sweep:
            raise UserError("--figure gantt draws one run: give a run folder, a scenario file or one point of "
                            f"the sweep (simdecode plot {path / 'points' / '<label>'})")
        try:
            scenario = _scenario_of(path)
        except (ValueError, OSError) as exc:
            raise UserError(str(exc)) from None
        name = "gantt"
        fig = token_gantt(scenario).figure
        # the default name comes from the command line (the file's name), never from inside the scenario
        base = out or (path / "gantt" if path.is_dir() else Path(f"{path.stem}-gantt"))
    import io

    from simdecode.io.outfiles import check_file_target, write_file_atomic

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
