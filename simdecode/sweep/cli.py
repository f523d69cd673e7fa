"""``simdecode sweep``: the command-line face of :mod:`simdecode.sweep.run`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from simdecode.engine.budget import MAX_WORK


def add_parser(commands, override_type, positive_type) -> None:
    """Register ``sweep`` on the CLI's subparsers."""
    from simdecode.cli import _path, add_executor_arguments

    p = commands.add_parser(
        "sweep", help="run a grid of scenario variants into one table",
        description="Run the grid of a scenario's sweep: block and/or --vary axes (their product) in parallel "
        "and write one tidy table (sweep.csv, sweep.json, sweep.parquet with pyarrow) plus each point's "
        "resolved scenario and summary under DIR/points/.",
    )
    p.add_argument("file", metavar="SCENARIO", help="scenario YAML file")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="an axis of the grid, e.g. --vary parallelism.pp=1,2,4 or linked settings "
                   "--vary 'parallelism={tp: 8, pp: 1},{tp: 4, pp: 2}' (repeatable; replaces a sweep: "
                   "axis of the file on the same key)")
    p.add_argument("--no-file-sweep", action="store_true", help="ignore the scenario's own sweep: block")
    p.add_argument("--set", dest="overrides", action="append", default=[], type=override_type, metavar="KEY=VALUE",
                   help="override a key of every point (repeatable)")
    p.add_argument("--fidelity", choices=("step", "layer", "op"), help="shorthand for --set simulation.fidelity=...")
    p.add_argument("--jobs", type=positive_type, metavar="N", help="worker processes (default: the CPUs available)")
    add_executor_arguments(p, "--jobs processes on this machine")
    p.add_argument("--out", type=_path, required=True, metavar="DIR",
                   help="folder for the table and the points (new, empty or simdecode's own output), replaced whole")
    p.add_argument("--force", action="store_true",
                   help="let --out replace a folder that holds other files (they are deleted)")
    p.add_argument("--no-limit", action="store_true",
                   help="run points whose work, estimated beforehand, exceeds the budget of one run")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no messages")
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    from simdecode.cli import UserError
    from simdecode.io.outfiles import prepare_out_dir
    from simdecode.sweep.executors import ExecutorUnavailable
    from simdecode.sweep.run import plan_sweep, run_sweep, write_sweep

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    out = Path(args.out)
    prepare_out_dir(out, args.force)  # before anything runs; creates nothing (OutputError: exit 2)
    overrides = list(args.overrides)
    if args.fidelity:
        overrides.append(f"simulation.fidelity={args.fidelity}")
    plan = plan_sweep(args.file, overrides, args.vary, use_file_sweep=not args.no_file_sweep)
    for note in plan.notes:
        log(f"note: {note}")
    estimates = check_points_work(plan, None if args.no_limit else MAX_WORK, args.file)
    axes = " x ".join(f"{a.key} ({len(a.values)})" for a in plan.axes) or "no axes"
    n = len(plan.points)
    points = f"{n} point{'s' if n != 1 else ''}"
    # the machine's load is looked at (0.1 to 0.2 s) only when the estimate will be printed
    expected = None if args.quiet else expected_time(estimates, args.jobs)
    if expected is not None:
        log(f"sweeping {plan.scenarios[0].name}: {points}, {axes}, executor {args.executor}; {describe_time(expected)}")
    started = time.perf_counter()
    try:
        if args.quiet:
            result = run_sweep(plan, args.executor, args.jobs, args.ray_address)
        else:
            result = _with_progress_bar(plan, args)
    except ExecutorUnavailable as exc:
        raise UserError(str(exc)) from None
    try:
        written = write_sweep(result, out, args.force)
    except OSError as exc:
        raise UserError(f"--out {out}: {exc.strerror or exc}") from exc
    tables = ", ".join(str(p) for p in written if p.parent == out)
    if expected is not None:
        log(f"ran {points} in {time.perf_counter() - started:.1f} s (estimated {expected.wall_s:.1f} s); wrote {tables} "
            f"and {n} folder{'s' if n != 1 else ''} under {out / 'points'}")
    log(f"next: simdecode plot {out}")
    return 0


def check_points_work(plan, limit: float | None, file: str) -> list:
    """Every point's work fits one run's budget (:func:`simdecode.engine.budget.check_work`, a
    :class:`ScenarioError` naming the point otherwise); each point's
    :class:`~simdecode.engine.budget.WorkEstimate`, in grid order."""
    from simdecode.engine import budget
    from simdecode.errors import ScenarioError
    from simdecode.sweep.run import at_point

    estimates = []
    for point, scenario in zip(plan.points, plan.scenarios):
        try:
            # each point's summary measures the speed-up: a speculative point runs its baseline too
            estimates.append(budget.check_work(scenario, limit, file, baseline=True))
        except ScenarioError as exc:
            raise at_point(exc, point) from None
    return estimates


def expected_time(estimates: list, jobs: int | None):
    """The sweep's :class:`~simdecode.sweep.timing.SweepTime` on this machine, as loaded now."""
    from simdecode.sweep.timing import machine_load, point_seconds, sweep_time

    load = machine_load()
    return sweep_time([point_seconds(e) for e in estimates], jobs or load.cpus, load)


def describe_time(t) -> str:
    """``t`` (a :class:`~simdecode.sweep.timing.SweepTime`) in words, for the line before a sweep."""
    wall = f"about {t.wall_s:,.0f} s" if t.wall_s >= 1.5 else f"about {t.wall_s:.1f} s"
    processes = f"{t.workers} process{'es' if t.workers != 1 else ''}"
    load = f", {t.share:.0%} of a core each (other work is running)" if t.share < 1 else ""
    return f"{wall} with {processes}{load} (estimated; {t.cpu_s:,.1f} s of simulation on one core)"


def _with_progress_bar(plan, args):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    from simdecode.sweep.run import run_sweep

    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("points", total=len(plan.points))
        return run_sweep(plan, args.executor, args.jobs, args.ray_address,
                         progress=lambda done, total: bar.update(task, completed=done))
