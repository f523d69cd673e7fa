"""How long simdecode's commands take, as a user runs them: CPU seconds per command.

    PYTHONPATH=. python benchmarks/commands.py [--only NAME ...] [--repeat N] [--baseline DIR] [--json]

Each command runs as ``python -m simdecode ...`` in a fresh process whose working directory is
the tree being measured (so ``-m`` imports that tree's simdecode, whatever PYTHONPATH says), and
is timed in CPU seconds: its own and its worker processes' (``RUSAGE_CHILDREN``); wall seconds are
shown too. With ``--repeat N`` each command runs N times and the least CPU time is kept (the
neighbours on a shared machine only ever add). In the same run the script times a bare SimPy loop
of 1,000,000 ``timeout(1)`` events, and prints each command's CPU time in those units
(``x bare SimPy 1M``): a figure that moves less with the machine and its load than seconds do.
``events/s`` is given where the command says how many events it scheduled (``run --json``).

``--baseline DIR``: the same commands in the tree at DIR (an older checkout, e.g.
``git worktree add /tmp/base <commit>``), back to back with this tree, and the ratio.

Commands (see :data:`COMMANDS`): ``run`` of a small, a serving and a multi-node curated scenario
(as ``run --json``: the summary, no figures), ``validate`` of one InferenceX group (DeepSeek-V3,
60 rows, 30 closed-loop simulations of up to 3 x 8,192 decode steps), ``sweep`` of a curated
sweep (one process) and ``estimate --tps 42`` (issue 14's default search).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: name -> arguments of ``python -m simdecode`` ({out}: a fresh temporary folder)
COMMANDS: dict[str, list[str]] = {
    "run quickstart": ["run", "scenarios/quickstart.yaml", "--json"],
    "run poisson-llama-2-70b-8xh100": ["run", "scenarios/poisson-llama-2-70b-8xh100.yaml", "--json"],
    "run multi-node-tp16": ["run", "scenarios/multi-node-tp16.yaml", "--json"],
    "validate --group 'IX deepseek'": ["validate", "--group", "IX deepseek", "--jobs", "1", "-q"],
    "sweep concurrency-sweep-llama-70b-fp8-2xh100": ["sweep", "scenarios/concurrency-sweep-llama-70b-fp8-2xh100.yaml",
                                                     "--jobs", "1", "-q", "--out", "{out}"],
    "estimate --tps 42": ["estimate", "--tps", "42"],
}


def bare_simpy_cpu_s(events: int = 1_000_000) -> float:
    """CPU seconds of a bare SimPy loop of ``events`` timeouts, in this process: ``run.py``'s
    :func:`bare_simpy_rate` (one loop for both benchmarks), turned into seconds."""
    spec = importlib.util.spec_from_file_location("simdecode_benchmarks_run", Path(__file__).with_name("run.py"))
    run_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_py)
    return events / run_py.bare_simpy_rate(events)


def run_command(tree: Path, args: list[str]) -> dict:
    """Run ``python -m simdecode ARGS`` in ``tree``: CPU and wall seconds, and the events it
    reports (``run --json``)."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = [a.replace("{out}", str(Path(tmp) / "out")) for a in args]
        env = {**os.environ, "PYTHONPATH": str(tree)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "simdecode", *argv], cwd=tree, env=env,
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} in {tree} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    events = None
    if "--json" in args and args[0] == "run":
        events = json.loads(done.stdout)["simulation"]["events"]
    return {"cpu_s": cpu, "wall_s": wall, "events": events}


def measure(tree: Path, name: str, repeat: int) -> dict:
    runs = [run_command(tree, COMMANDS[name]) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["cpu_s"])
    return {"command": name, "tree": str(tree), **best, "cpu_s_all": [round(r["cpu_s"], 3) for r in runs]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list(COMMANDS), metavar="NAME",
                        help="this command only (repeatable): " + "; ".join(COMMANDS))
    parser.add_argument("--repeat", type=int, default=1, help="runs per command; the least CPU time is kept")
    parser.add_argument("--baseline", type=Path, metavar="DIR", help="also the simdecode tree at DIR, back to back")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON object on stdout")
    args = parser.parse_args(argv)
    trees = [ROOT] + ([args.baseline.resolve()] if args.baseline else [])
    bare_s = bare_simpy_cpu_s()
    rows = []
    for name in args.only or list(COMMANDS):
        for tree in trees:
            row = measure(tree, name, args.repeat)
            row["x_bare_simpy_1m"] = row["cpu_s"] / bare_s
            row["events_per_cpu_s"] = row["events"] / row["cpu_s"] if row["events"] else None
            rows.append(row)
            print(f"{name:48s} {'baseline' if tree != ROOT else 'this':8s} {row['cpu_s']:7.2f} CPU s", file=sys.stderr)
    if args.json:
        print(json.dumps({"bare_simpy_1m_cpu_s": bare_s, "rows": rows}, indent=1))
        return 0
    print(f"bare SimPy: 1,000,000 timeouts in {bare_s:.2f} CPU s ({1e6 / bare_s:,.0f} events per CPU second)\n")
    head = "| command | tree | cpu (s) | wall (s) | x bare SimPy 1M | events/s |" + (" after / before |" if args.baseline else "")
    print(head)
    print("|---|---|---:|---:|---:|---:|" + ("---:|" if args.baseline else ""))
    for i, row in enumerate(rows):
        rate = f"{row['events_per_cpu_s']:,.0f}" if row["events_per_cpu_s"] else ""
        tree = "baseline" if row["tree"] != str(ROOT) else "this"
        line = (f"| {row['command']} | {tree} | {row['cpu_s']:.2f} | {row['wall_s']:.2f} | "
                f"{row['x_bare_simpy_1m']:.2f} | {rate} |")
        if args.baseline:
            ratio = ""
            if tree == "baseline":
                ratio = f"{rows[i - 1]['cpu_s'] / row['cpu_s']:.2f}"
            line += f" {ratio} |"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
