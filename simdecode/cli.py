"""The ``simdecode`` command line.

    simdecode run FILE [--set KEY=VALUE ...] [--json] [--out DIR [--force]] [--trace FILE] [--fidelity F] [--seed N]
                  [--no-limit] [--baseline] [--quiet] [--jobs N] [--executor local|ray] [--ray-address ADDRESS]
    simdecode explain FILE [--set KEY=VALUE ...] [--context N] [--batch B] [--json]
    simdecode estimate --tps TPS [--hardware GPUxN] [--reference NAME:TPS] [...]   (simdecode.estimate.cli)
    simdecode sweep FILE [--vary KEY=V1,V2 ...] [--jobs N] [--executor local|ray] --out DIR   (simdecode.sweep.cli)
    simdecode plot PATH [--figure NAME] [--out FILE]                                      (simdecode.plots.cli)
    simdecode compare RESULT RESULT [...] [--json]                                        (simdecode.present.compare)
    simdecode presets [models|gpus|links|runtimes [NAME]] [--wide]

Streams: results go to stdout (a table, or with ``--json`` exactly one JSON object and nothing
else); progress and errors go to stderr. ``--out DIR``, ``--trace FILE`` and ``plot`` are the
only things that write files.

Exit codes (README.md, docs/security.md): 0 success; 2 the user's input is wrong (scenario file,
override, missing file, unwritable ``--out``): one ``error: ...`` line, no traceback; 1 a bug
in simdecode: one ``internal error: ...`` line, and the traceback when ``SIMDECODE_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import json
import contextlib
import difflib
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence

from simdecode.scenario.limits import MAX_BATCH_SIZE, MAX_TOKENS

EXIT_OK, EXIT_INTERNAL, EXIT_USER = 0, 1, 2
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a tool that SIGPIPE ended
DEBUG_ENV = "SIMDECODE_DEBUG"
PRESET_KINDS = ("models", "gpus", "links", "runtimes")
FIDELITIES = ("step", "layer", "op")
MAX_EXPLAIN_BATCH = MAX_BATCH_SIZE  # the largest scheduler.max_batch_size (simdecode.present.explain.MAX_BATCH)
MAX_EXPLAIN_CONTEXT = MAX_TOKENS  # the longest request, tokens (simdecode.present.explain.MAX_CONTEXT)


class UserError(Exception):
    """A mistake in what the user asked for, outside the scenario itself (exit code 2)."""


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("simdecode")
    except metadata.PackageNotFoundError:
        return "unknown"


def _override(text: str) -> str:
    key, sep, _ = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (e.g. parallelism.tp=4), got {text!r}")
    return text


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty one")
    return text


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _executor(text: str) -> str:
    """``--executor`` of ``run`` and ``sweep``: one vocabulary (``local``, ``ray``). ``process``,
    ``run``'s first name for local processes, still works, with a note."""
    from simdecode.engine.parallel import EXECUTOR_ALIASES

    if text in EXECUTOR_ALIASES:
        print(f"note: --executor {text} is now spelled --executor {EXECUTOR_ALIASES[text]} (as in run and sweep "
              f"alike); '{text}' will be removed in a later release", file=sys.stderr)
        return EXECUTOR_ALIASES[text]
    return text


def add_executor_arguments(parser: argparse.ArgumentParser, local_help: str) -> None:
    """``--executor {local,ray}`` and ``--ray-address``, spelled alike on every command that runs
    simulations in parallel (``run --jobs``, ``sweep``)."""
    from simdecode.engine.parallel import EXECUTORS

    parser.add_argument("--executor", type=_executor, choices=EXECUTORS, default="local",
                        help=f"where the work runs: local, {local_help} (default); ray, Ray workers "
                             "(pip install 'simdecode[ray]')")
    parser.add_argument("--ray-address", metavar="ADDRESS",
                        help="with --executor ray: the Ray cluster to join (default: start a local Ray for the run)")


def _bounded(parse: Callable[[str], int], most: int) -> Callable[[str], int]:
    def parse_bounded(text: str) -> int:
        value = parse(text)
        if value > most:
            raise argparse.ArgumentTypeError(f"expected at most {most:,}, got {text!r}")
        return value

    return parse_bounded


class _Parser(argparse.ArgumentParser):
    """argparse with a "did you mean" for a mistyped choice (command, catalogue, figure) or option."""

    def _check_value(self, action: argparse.Action, value: object) -> None:
        if action.choices is not None and value not in action.choices:
            choices = [str(c) for c in action.choices]
            if set(choices) == set(PRESET_KINDS):  # `presets h100-sxm`: a preset named without its catalogue
                from simdecode import presets

                kinds = [k for k in PRESET_KINDS if str(value) in presets.names(k)]
                if kinds:
                    raise argparse.ArgumentError(action, f"{value!r} is a preset of {kinds[0]}, not a catalogue; "
                                                         f"did you mean 'simdecode presets {kinds[0]} {value}'?")
            close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
            if close:
                raise argparse.ArgumentError(action, f"invalid choice: {value!r}; did you mean {close[0]!r}? "
                                                     f"(choose from {', '.join(choices)})")
        super()._check_value(action, value)

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            sub = self._command_parser(getattr(parsed, "command", None))
            options = [o for action in sub._actions for o in action.option_strings]
            words = []
            given = list(sys.argv[1:] if args is None else args)
            for extra in extras:
                close = difflib.get_close_matches(extra.split("=")[0], options, n=1, cutoff=0.6) \
                    if extra.startswith("-") else []
                split = _split_value(given, extra)
                words.append(f"{extra} (did you mean {close[0]}?)" if close
                             else f"{extra} (did you mean --set '{split} {extra}'? a value with a space needs quotes)"
                             if split else extra)
            sub.error("unrecognized arguments: " + " ".join(words))
        return parsed

    def _command_parser(self, command: str | None) -> argparse.ArgumentParser:
        """The subcommand's parser (its options and usage), or this one."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction) and command in action.choices:
                return action.choices[command]
        return self


def _split_value(given: list[str], extra: str) -> str | None:
    """``KEY=3`` when ``extra`` ("TB/s") follows ``--set KEY=3`` on the command line: the shell split
    an unquoted ``--set KEY=3 TB/s`` at the space."""
    if extra.startswith("-") or extra not in given:
        return None
    i = given.index(extra)
    before = given[i - 1] if i >= 1 else ""
    if before.startswith("--set="):
        return before.removeprefix("--set=")
    if i >= 2 and given[i - 2] == "--set" and "=" in before:
        return before
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="simdecode",
        description="Discrete-event simulation of transformer decoding on multi-GPU clusters.",
        epilog=f"Set {DEBUG_ENV}=1 to see tracebacks.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="simulate one scenario file", description="Simulate one scenario file.")
    run.add_argument("file", metavar="FILE", help="scenario YAML file")
    run.add_argument(
        "--set", dest="overrides", action="append", default=[], type=_override, metavar="KEY=VALUE",
        help="override a scenario key before validation, e.g. --set parallelism.tp=4 (repeatable)",
    )
    run.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    run.add_argument("--out", type=_path, metavar="DIR",
                     help="write summary.json, requests.csv, timeline.png and kv_occupancy.png to DIR (new, "
                     "empty or simdecode's own output), replacing it whole")
    run.add_argument("--force", action="store_true",
                     help="let --out replace a folder that holds other files (they are deleted)")
    run.add_argument("--trace", type=_path, metavar="FILE",
                     help="write a Chrome/Perfetto trace of GPU streams, links and requests (open in ui.perfetto.dev)")
    run.add_argument("--baseline", action="store_true",
                     help="speculative decoding: also simulate standard decoding to measure the speed-up")
    run.add_argument("--fidelity", choices=FIDELITIES, help="shorthand for --set simulation.fidelity=...")
    run.add_argument("--seed", type=_seed, metavar="N", help="shorthand for --set seed=N")
    run.add_argument("--no-limit", action="store_true",
                     help="run even when the work estimated beforehand exceeds the budget (docs/security.md)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress messages and no table (errors still shown)")
    run.add_argument("--jobs", type=_positive, default=1, metavar="N",
                     help="split the replicas over N processes (identical results; only where replicas are "
                          "independent: round-robin router, open-loop arrivals; stderr says when not)")
    add_executor_arguments(run, "--jobs processes on this machine")
    run.set_defaults(func=cmd_run)

    explain = commands.add_parser(
        "explain", help="explain one token's critical path", description="Explain where one decode token's time goes."
    )
    explain.add_argument("file", metavar="FILE", help="scenario YAML file")
    explain.add_argument("--set", dest="overrides", action="append", default=[], type=_override, metavar="KEY=VALUE",
                         help="override a scenario key before validation (repeatable)")
    explain.add_argument("--context", type=_bounded(_seed, MAX_EXPLAIN_CONTEXT), metavar="N",
                         help=f"cached tokens per sequence, at most {MAX_EXPLAIN_CONTEXT:,} (default: prompt_tokens)")
    explain.add_argument("--batch", type=_bounded(_positive, MAX_EXPLAIN_BATCH), default=1, metavar="B",
                         help=f"sequences in the step, at most {MAX_EXPLAIN_BATCH:,} (default 1)")
    explain.add_argument("--json", action="store_true", help="print the explanation as one JSON object on stdout")
    explain.set_defaults(func=cmd_explain)

    from simdecode.estimate.cli import add_parser as add_estimate
    from simdecode.sweep.cli import add_parser as add_sweep
    from simdecode.plots.cli import add_parser as add_plot
    from simdecode.present.compare import add_parser as add_compare

    add_estimate(commands)
    add_sweep(commands, _override, _positive)
    add_plot(commands)
    add_compare(commands)

    presets = commands.add_parser("presets", help="list the preset catalogues",
                                  description="List the presets, or show one as its catalogue writes it.")
    presets.add_argument("kind", nargs="?", choices=PRESET_KINDS, help="one catalogue (default: all)")
    presets.add_argument("name", nargs="?", metavar="NAME",
                         help="one preset of the catalogue: its entry as written, with the comments citing each figure")
    presets.add_argument("--wide", action="store_true",
                         help="one line per preset with its source, however wide the terminal (as when piped)")
    presets.set_defaults(func=cmd_presets)

    from simdecode.validate.command import register as register_validate

    register_validate(commands)
    return parser


def _stderr_logger(quiet: bool) -> Callable[[str], None]:
    def log(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr, flush=True)

    return log


def _load(load_scenario: Callable, file: str, overrides: list[str]):
    """The validated scenario; a missing or unreadable scenario file is the user's error.

    The loader reports those as :class:`ScenarioError` itself; an :class:`OSError` naming the
    scenario file is turned into one here as a safety net, any other is simdecode's (exit 1).
    """
    try:
        return load_scenario(file, overrides)
    except OSError as exc:  # only about the scenario file itself; other files are simdecode's
        if exc.filename is None or os.path.abspath(exc.filename) != os.path.abspath(file):
            raise
        raise UserError(f"{file}: {exc.strerror or exc}") from exc


def cmd_run(args: argparse.Namespace) -> int:
    from simdecode.scenario.loader import load_scenario

    log = _stderr_logger(args.quiet)
    overrides = list(args.overrides)
    if args.fidelity is not None:
        overrides.append(f"simulation.fidelity={args.fidelity}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    from simdecode.io.outfiles import check_file_target, prepare_out_dir

    # every output target is checked before anything is simulated; nothing is created yet
    out_dir = args.out
    if out_dir is not None:
        prepare_out_dir(out_dir, args.force)
    if args.trace is not None:
        check_file_target(args.trace, "--trace")

    # with --json, stdout carries the JSON object only: stray prints from inside go to stderr
    stdout_guard = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    with stdout_guard:
        scenario = _load(load_scenario, args.file, overrides)
        from simdecode import simulate
        from simdecode.engine import budget

        budget.check_work(scenario, None if args.no_limit else budget.MAX_WORK, args.file,  # before anything runs
                          baseline=args.baseline, jobs=1 if args.trace else args.jobs)  # a trace: one process
        from simdecode.costmodel.feasibility import check_fits

        check_fits(scenario)  # does it fit memory? an error now, not after "simulating ..."
        from simdecode.io.output import summary_json, write_outputs
        from simdecode.io.provenance import describe

        if scenario.sweep:
            keys = ", ".join(scenario.sweep)
            log(f"note: {args.file} has a sweep: block ({keys}); run simulates the base scenario only. "
                f"For the grid: simdecode sweep {args.file} --out DIR")

        log(f"simulating {scenario.name} (fidelity {scenario.simulation.fidelity}, seed {scenario.seed}) ...")
        started = time.perf_counter()
        tracer = None
        if args.trace is not None:
            from simdecode.metrics.trace import Tracer

            tracer = Tracer()
        progress = None if args.quiet else _ProgressLine()
        result = simulate(scenario, tracer=tracer, jobs=args.jobs, executor=args.executor, ray_address=args.ray_address,
                          log=lambda message: print(f"note: {message}", file=sys.stderr), progress=progress)
        if progress is not None:
            progress.finish()
        log(f"simulated in {time.perf_counter() - started:.2f} s")
        summary = describe(result.summary(baseline=args.baseline), scenario, overrides)
        if out_dir is not None:
            try:
                written = write_outputs(result, out_dir, force=args.force, summary=summary)
            except OSError as exc:
                raise UserError(f"--out {out_dir}: {exc.strerror or exc}") from exc
            log("wrote " + ", ".join(str(path) for path in written))
        if tracer is not None:
            from simdecode.io.outfiles import write_file_atomic

            try:
                write_file_atomic(args.trace, json.dumps(tracer.to_json({"scenario": scenario.name})).encode())
            except OSError as exc:
                raise UserError(f"--trace {args.trace}: {exc.strerror or exc}") from exc
            dropped = f" ({tracer.dropped:,} op spans beyond the cap left out)" if tracer.dropped else ""
            log(f"wrote trace {args.trace}{dropped}: open it in https://ui.perfetto.dev")

    if args.json:
        sys.stdout.write(summary_json(summary))
        sys.stdout.flush()
    elif not args.quiet:
        from rich.console import Console

        from simdecode.present.report import render_summary

        render_summary(summary, Console())
    return EXIT_OK


class _ProgressLine:
    """Progress of a long run on stderr: simulated time and requests done (one line updated in
    place on a terminal, else one line per report)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.shown = False

    def __call__(self, simulated_s: float, done: int, total: int) -> None:
        text = f"  simulated {simulated_s:,.3f} s, {done:,} of {total:,} requests done"
        print(f"\r{text}" if self.tty else text, end="" if self.tty else "\n", file=sys.stderr, flush=True)
        self.shown = True

    def finish(self) -> None:
        if self.shown and self.tty:
            print(file=sys.stderr, flush=True)


def cmd_explain(args: argparse.Namespace) -> int:
    from simdecode.scenario.loader import load_scenario

    scenario = _load(load_scenario, args.file, list(args.overrides))
    from simdecode.present.explain import explain, render_explanation

    data = explain(scenario, args.context, args.batch)
    if args.json:
        import json

        sys.stdout.write(json.dumps(data, indent=2, allow_nan=False) + "\n")
    else:
        sys.stdout.write(render_explanation(data))
    sys.stdout.flush()
    return EXIT_OK


def cmd_presets(args: argparse.Namespace) -> int:
    from rich.console import Console

    from simdecode.present.report import print_presets

    if args.name:
        from simdecode import presets

        sys.stdout.write(presets.entry_text(args.kind, args.name))
        if presets.base(args.kind, args.name):
            sys.stdout.write(f"# the keys it does not set are {presets.base(args.kind, args.name)}'s: "
                             f"simdecode presets {args.kind} {presets.base(args.kind, args.name)}\n")
        return EXIT_OK
    console = Console()
    for kind in [args.kind] if args.kind else PRESET_KINDS:
        print_presets(kind, console, wide=args.wide)
    return EXIT_OK


def _user_error_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [UserError]
    with contextlib.suppress(ImportError):
        from simdecode.errors import ScenarioError

        types.append(ScenarioError)
    with contextlib.suppress(ImportError):
        from simdecode.presets import PresetError

        types.append(PresetError)
    with contextlib.suppress(ImportError):
        from simdecode.estimate.space import EstimateError

        types.append(EstimateError)
    with contextlib.suppress(ImportError):
        from simdecode.engine.parallel import ExecutorUnavailable

        types.append(ExecutorUnavailable)
    with contextlib.suppress(ImportError):
        from simdecode.io.outfiles import OutputError

        types.append(OutputError)
    return tuple(types)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors (argparse uses exit code 2)
        return exc.code if isinstance(exc.code, int) else EXIT_USER
    debug = os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`simdecode presets | head`): stop quietly, as `cat` does
        with contextlib.suppress(OSError):  # and let the interpreter's final flush write nowhere
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - the one place every error becomes an exit code
        if debug:
            traceback.print_exc()
        if isinstance(exc, _user_error_types()):
            for line in (str(exc).strip() or type(exc).__name__).splitlines():  # one line per problem
                print(f"error: {line}", file=sys.stderr)
            return EXIT_USER
        first = (str(exc).strip().splitlines() or [""])[0]
        print(f"internal error: {type(exc).__name__}: {first}".rstrip(": "), file=sys.stderr)
        if not debug:
            print(f"(set {DEBUG_ENV}=1 for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
