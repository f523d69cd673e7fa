"""Calibrate the work estimate (simdecode.engine.budget) against real runs of the curated scenarios.

For each scenario in scenarios/*.yaml and each fidelity (step, layer, op) it prints the estimated
SimPy events and units of work beside the events the run scheduled and the CPU seconds it took,
and at the end a fit of the CPU time to the three kinds of work the estimate counts,

    cpu_s = s_event x events + s_stage x stage-steps + s_seq x sequence-steps + s_run,

least squares on relative error over the runs of at least ``--min-cpu`` seconds (events as the
run counted them, steps as estimated). One unit is one event: s_event is
:data:`simdecode.engine.budget.SECONDS_PER_UNIT`, s_stage / s_event :data:`simdecode.engine.budget.STEP_OVERHEAD_UNITS`
and s_seq / s_event :data:`simdecode.engine.budget.SEQUENCE_UNITS`; s_run, a simulation's fixed cost
(building it, collecting and summarising its result: the CPU time is of ``simulate`` and ``summary``),
is :data:`simdecode.sweep.timing.RUN_SETUP_S` (times vary with the machine and its load; event counts
do not).

    PYTHONPATH=. python benchmarks/budget_calibration.py                   # every scenario, 3 fidelities
    PYTHONPATH=. python benchmarks/budget_calibration.py --only quickstart --fidelity layer
    PYTHONPATH=. python benchmarks/budget_calibration.py --compare-to OLD/budget.py   # also an older estimate

Runs estimated at more than ``--max-units`` are cut to fewer requests (``workload.requests``, or
``workload.arrival.limit`` for a trace) so the whole table takes a few minutes on one core.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIDELITIES = ("step", "layer", "op")


def _load_module(path: Path):
    spec = importlib.util.spec_from_file_location("budget_compared", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _fit(scenario_path: Path, fidelity: str, max_units: float):
    """The scenario at ``fidelity``, with fewer requests where its estimate is over ``max_units``
    (or where ``op`` refuses its size), keeping more than its warm-up requests."""
    from simdecode.engine.budget import estimate_work
    from simdecode.errors import ScenarioError
    from simdecode.scenario.loader import load_scenario

    overrides = [f"simulation.fidelity={fidelity}"]
    base = load_scenario(scenario_path)
    key = "workload.arrival.limit" if base.workload.arrival.kind == "trace" else "workload.requests"
    floor = base.workload.warmup_requests + 8
    try:
        scenario = load_scenario(scenario_path, overrides)
    except ScenarioError:  # too large for this fidelity as it is
        return load_scenario(scenario_path, overrides + [f"{key}={floor}"]), overrides
    units = estimate_work(scenario).units
    if units <= max_units:
        return scenario, overrides
    requests = max(floor, int(scenario.workload.total_requests * max_units / units))
    overrides.append(f"{key}={requests}")
    return load_scenario(scenario_path, overrides), overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="scenario name (file stem), repeatable")
    parser.add_argument("--fidelity", action="append", choices=FIDELITIES, help="repeatable; default all three")
    parser.add_argument("--max-units", type=float, default=1e6, help="cut a run estimated beyond this (default 1e6)")
    parser.add_argument("--min-cpu", type=float, default=0.05, help="runs shorter than this (s) are left out of the fit")
    parser.add_argument("--compare-to", type=Path, metavar="BUDGET_PY", help="an older simdecode/engine/budget.py to print too")
    args = parser.parse_args(argv)

    from simdecode import simulate
    from simdecode.engine.budget import SECONDS_PER_UNIT, SEQUENCE_UNITS, STEP_OVERHEAD_UNITS, estimate_work
    from simdecode.costmodel.feasibility import check_fits
    from simdecode.errors import ScenarioError

    old = _load_module(args.compare_to) if args.compare_to else None
    paths = sorted((ROOT / "scenarios").glob("*.yaml"))
    if args.only:
        paths = [p for p in paths if p.stem in args.only]
    header = f"{'scenario':<48} {'fid':<5} {'est events':>10} {'events':>10} {'ev x':>6} {'est units':>10} " \
             f"{'cpu s':>7} {'us/unit':>7} {'est s':>7}"
    if old is not None:
        header += f" {'old est s':>9} {'old x':>6}"
    print(header + "   (ev x: estimated / measured events; est s, old est s: CPU seconds; old x: old est / cpu)")
    per_unit, rows = [], []
    for path in paths:
        for fidelity in args.fidelity or FIDELITIES:
            try:
                scenario, overrides = _fit(path, fidelity, args.max_units)
                check_fits(scenario)
            except ScenarioError as exc:
                print(f"{path.stem:<48} {fidelity:<5} skipped: {exc}", file=sys.stderr)
                continue
            estimate = estimate_work(scenario)
            started = time.process_time()
            result = simulate(scenario)
            result.summary()
            cpu_s = time.process_time() - started
            per_unit.append(cpu_s / estimate.units)
            if cpu_s >= args.min_cpu:
                runs = estimate.runs * estimate.steps
                rows.append((result.events, runs * estimate.stages, runs * estimate.batch, cpu_s))
            line = (f"{path.stem:<48} {fidelity:<5} {estimate.events:>10.3g} {result.events:>10.3g} "
                    f"{estimate.events / result.events:>6.2f} {estimate.units:>10.3g} {cpu_s:>7.2f} "
                    f"{1e6 * cpu_s / estimate.units:>7.2f} {estimate.seconds:>7.2f}")
            if old is not None:
                old_s = old.estimate_work(scenario).seconds
                line += f" {old_s:>9.2f} {old_s / cpu_s:>6.2f}"
            print(line, flush=True)
    if per_unit:
        print(f"\nCPU seconds per unit: median {statistics.median(per_unit) * 1e6:.2f} us, "
              f"range {min(per_unit) * 1e6:.2f} to {max(per_unit) * 1e6:.2f} us "
              f"(SECONDS_PER_UNIT is {SECONDS_PER_UNIT * 1e6:.2f} us)")
    if len(rows) >= 4:
        import numpy as np

        from simdecode.sweep.timing import RUN_SETUP_S

        a = np.array([[e / c, st / c, sq / c, 1 / c] for e, st, sq, c in rows])
        (s_event, s_stage, s_seq, s_run), *_ = np.linalg.lstsq(a, np.ones(len(rows)), rcond=None)
        print(f"fit over {len(rows)} runs of >= {args.min_cpu} s: {s_event * 1e6:.2f} us per event, "
              f"{s_stage * 1e6:.2f} us per stage-step, {s_seq * 1e6:.3f} us per sequence-step, "
              f"{s_run * 1e3:.1f} ms per run: "
              f"SECONDS_PER_UNIT ~ {s_event:.2g} (set: {SECONDS_PER_UNIT:.2g}), STEP_OVERHEAD_UNITS ~ "
              f"{s_stage / s_event:.1f} (set: {STEP_OVERHEAD_UNITS}), SEQUENCE_UNITS ~ {s_seq / s_event:.2f} "
              f"(set: {SEQUENCE_UNITS}), RUN_SETUP_S ~ {s_run:.2g} (set: {RUN_SETUP_S:.2g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
