"""``simdecode validate [CASES...] [--group G] [--jobs N] [--out DIR] [--check]``.

CASES are measurement files or folders (default: ../shared/validation beside the repository, and the
GPU measurements of simdecode/validate/data/device: simdecode.validate.device) and
case filters: an argument that is not a file keeps the rows whose case starts with it (``BAT-01``,
``llama-3.1-70b-instruct-h200``). ``--group`` keeps groups whose name starts with G, in any case
(repeatable).
The table goes to stdout as Markdown; the progress bar to stderr. ``--out DIR`` writes
validation.md, validation.csv, validation.json and validation.png. ``--check`` exits 1 when a
group with a tolerance misses it (rows waiting for kernel-side physics left out).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(commands) -> None:  # noqa: ANN001 - argparse's subparsers action
    p = commands.add_parser("validate", help="compare predictions with published measurements",
                            description="Simulate every validation case and compare with what was measured.")
    p.add_argument("cases", nargs="*", metavar="CASES",
                   help="measurement files or folders (default: the measurements shipped with simdecode, or a "
                   "newer ../shared/validation beside the repository), or case-name prefixes such as DEC-01")
    p.add_argument("--group", action="append", default=[], metavar="G",
                   help="keep groups starting with G, in any case (repeatable)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="worker processes (default: the CPUs available)")
    p.add_argument("--out", type=Path, metavar="DIR", help="write validation.{md,csv,json,png} to DIR")
    p.add_argument("--force", action="store_true", help="let --out replace a folder that holds other files")
    p.add_argument("--check", action="store_true", help="exit 1 if a group misses its tolerance")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_validate)


def select(args: argparse.Namespace):
    """The CaseSet the arguments ask for (files read, filters applied)."""
    from simdecode.cli import UserError
    from simdecode.validate.cases import CaseSet, default_data_dir, load

    paths = [Path(a) for a in args.cases if Path(a).exists()]
    filters = [a for a in args.cases if not Path(a).exists()]
    if not paths:  # the measurements beside the repository (or shipped), and the shipped device runs
        from simdecode.validate.device import default_files

        paths = [default_data_dir(), *default_files()]
    try:
        cases = load(paths)
    except (ValueError, OSError) as exc:
        raise UserError(str(exc)) from exc

    group_kept = _group_filter(args.group)

    def keep(point) -> bool:
        return ((not filters or any(point.case.startswith(f) for f in filters))
                and group_kept(point.group))

    every = [p for job in cases.jobs for p in job.points] + list(cases.skipped)  # before filtering, for hints
    out = CaseSet()
    for job in cases.jobs:
        job.points = [p for p in job.points if keep(p)]
        if job.points:
            out.jobs.append(job)
    out.skipped = [p for p in cases.skipped if keep(p)]
    if not out.jobs and not out.skipped:
        for a in filters:  # no case starts with it, and it reads as a path: it was meant as one
            if a.endswith(("/", os.sep)) or Path(a).suffix.lower() in (".yaml", ".yml", ".json", ".csv"):
                raise UserError(f"{a}: no such file or folder (CASES are measurement files or folders, or "
                                "case-name prefixes such as DEC-01)")
        raise UserError("no validation case matches " + " ".join(filters + [f"--group {g}" for g in args.group])
                        + _did_you_mean(every, filters, args.group))
    return out


def _group_filter(groups: list[str]):
    """Whether a group name is kept by ``--group`` prefixes ``groups`` (all, if none), in any case:
    group names mix cases ('IX llama-3.1-70b TPOT') that users type in one."""
    prefixes = [g.lower() for g in groups]
    return lambda name: not prefixes or any(name.lower().startswith(g) for g in prefixes)


def _did_you_mean(points: list, filters: list[str], groups: list[str]) -> str:
    """A hint for filters that match none of ``points``: the nearest case name or group, and the groups."""
    import difflib

    names, known = sorted({p.case for p in points}), sorted({p.group for p in points})
    hints = []
    for text in filters:
        close = difflib.get_close_matches(text, names, n=1, cutoff=0.6) or \
            difflib.get_close_matches(text, [n[:len(text)] for n in names], n=1, cutoff=0.6)
        hints += [f"{close[0]!r}"] if close else []
    for text in groups:
        close = difflib.get_close_matches(text, known, n=1, cutoff=0.5) or \
            difflib.get_close_matches(text.upper(), [g[:len(text)] for g in known], n=1, cutoff=0.6)
        hints += [f"--group {close[0]!r}"] if close else []
    hint = f"; did you mean {' or '.join(dict.fromkeys(hints))}?" if hints else ""
    return hint + " (groups: " + ", ".join(known) + ")"


def cmd_validate(args: argparse.Namespace) -> int:
    from simdecode.cli import UserError
    from simdecode.io.outfiles import prepare_out_dir
    from simdecode.validate.runner import Outcome
    from simdecode.validate.table import group_summary, to_markdown

    if args.jobs < 1:
        raise UserError(f"--jobs {args.jobs}: expected at least 1")
    out_dir = prepare_out_dir(args.out, args.force) if args.out is not None else None  # before simulating
    cases = select(args)
    outcomes = run_with_progress(cases.jobs, args.jobs, quiet=args.quiet)
    outcomes += [Outcome(p) for p in cases.skipped]
    sys.stdout.write(to_markdown(outcomes))
    sys.stdout.flush()
    if out_dir is not None:
        write(outcomes, args.out, args.force)
        print(f"wrote {out_dir}/validation.md, .csv, .json, .png", file=sys.stderr)
    if args.check:
        failed = [name for name, g in group_summary(outcomes).items() if not within(g)]
        if failed:
            print("error: outside tolerance: " + ", ".join(failed), file=sys.stderr)
            return 1
    return 0


def within(group: dict) -> bool:
    """True if the group has no tolerance, or its rows without kernel-side causes meet it."""
    tol, stats = group["tolerance"], group["serving"]
    if tol is None or not stats["n"]:
        return True
    return stats["median_abs_error"] <= tol[0] and stats["worst_abs_error"] <= tol[1]


def run_with_progress(jobs, workers: int, quiet: bool = False):
    from simdecode.validate.runner import run_jobs

    if quiet or not jobs:
        return run_jobs(jobs, workers)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console(file=sys.stderr)
    with Progress(TextColumn("[bold]validate"), BarColumn(), MofNCompleteColumn(), TextColumn("simulations"),
                  TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[last]}"),
                  console=console, transient=False) as progress:
        task = progress.add_task("validate", total=len(jobs), last="")

        def tick(job, outcomes) -> None:
            errs = ", ".join(f"{o.point.metric} {o.error:+.0%}" for o in outcomes if o.expressed)
            progress.update(task, advance=1, last=f"{job.key[:48]} {errs}"[:90])

        return run_jobs(jobs, workers, tick)


def write(outcomes, out_dir: Path, force: bool = False) -> list[str]:
    """Render every file in memory, then swap them in as ``out_dir`` at once (simdecode.io.outfiles)."""
    from simdecode.io.outfiles import atomic_out_dir
    from simdecode.validate.figure import figure_png
    from simdecode.validate.table import to_csv, to_json, to_markdown

    files = {"validation.md": to_markdown(outcomes).encode(), "validation.csv": to_csv(outcomes).encode(),
             "validation.json": to_json(outcomes).encode(), "validation.png": figure_png(outcomes)}
    with atomic_out_dir(out_dir, force) as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
    return sorted(files)
