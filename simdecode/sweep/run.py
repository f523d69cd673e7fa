"""Plan, run and write a sweep.

    sweep = plan_sweep("scenarios/pipeline-depth-vs-ttft.yaml", vary=["parallelism.pp=1,2,4,8"])
    result = run_sweep(sweep, jobs=4)          # SweepResult: rows (the tidy table) and summaries
    write_sweep(result, "out/pp")              # sweep.csv/.json/.parquet + points/<label>/...

Every point is loaded and validated before anything runs, so a bad value fails in a second
with one ``error:`` line, not after an hour of simulation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from simdecode.errors import ScenarioError
from simdecode.sweep.executors import default_jobs, execute
from simdecode.sweep.grid import Axis, Point, axes_from_block, combine, grid, parse_vary
from simdecode.sweep.table import make_row


@dataclass
class Sweep:
    """A planned sweep: the base file and overrides, the axes, and each point's resolved scenario."""

    file: str
    overrides: list[str]
    axes: list[Axis]
    points: list[Point]
    scenarios: list[Any]
    notes: list[str] = field(default_factory=list)

    @property
    def varied(self) -> list[str]:
        """The table's varied columns, in order."""
        seen: dict[str, None] = {}
        for point in self.points:
            seen.update(dict.fromkeys(point.columns()))
        return list(seen)

    def describe(self) -> dict[str, Any]:
        """What was run (the ``sweep`` object of sweep.json)."""
        from simdecode import __version__

        return {
            "scenario_file": self.file,
            "scenario": self.scenarios[0].name if self.scenarios else None,
            "overrides": list(self.overrides),
            "axes": [{"key": a.key, "values": list(a.values), "origin": a.origin} for a in self.axes],
            "varied": self.varied,
            "points": len(self.points),
            "simdecode_version": __version__,
        }


@dataclass
class SweepResult:
    """A finished sweep: its plan, the summaries (grid order) and the tidy table's rows."""

    sweep: Sweep
    summaries: list[dict[str, Any]]
    rows: list[dict[str, Any]]


def plan_sweep(file: str | os.PathLike[str], overrides: Iterable[str] = (), vary: Iterable[str | Axis] = (),
               use_file_sweep: bool = True) -> Sweep:
    """Read the scenario, build the grid and validate every point (raises :class:`ScenarioError`)."""
    from simdecode.scenario.loader import load_scenario

    file, overrides = str(file), list(overrides)
    base = load_scenario(file, overrides)
    file_axes = axes_from_block(base.sweep) if use_file_sweep else []
    vary_axes = [v if isinstance(v, Axis) else parse_vary(v) for v in vary]
    axes, notes = combine(file_axes, vary_axes)
    points = grid(axes)
    scenarios = []
    for point in points:
        try:
            scenarios.append(load_scenario(file, [*overrides, *point.overrides(), "sweep=null"]))
        except ScenarioError as exc:
            raise at_point(exc, point) from None
    notes += _unreached_concurrency(points, scenarios)
    return Sweep(file, overrides, axes, points, scenarios, notes)


def _unreached_concurrency(points: list[Point], scenarios: list[Any]) -> list[str]:
    """Notes for points whose closed loop asks for more requests in flight than it has requests."""
    notes = []
    for point, scenario in zip(points, scenarios):
        w = scenario.workload
        concurrency = getattr(w.arrival, "concurrency", None)
        if concurrency is not None and concurrency > w.total_requests:
            notes.append(f"point {point.label()}: concurrency {concurrency} but only {w.total_requests} requests, "
                         f"so at most {w.total_requests} are ever in flight (raise workload.requests)")
    return notes


def at_point(exc: ScenarioError, point: Point) -> ScenarioError:
    """``exc`` saying which point of the grid it came from."""
    where = "sweep point " + ", ".join(f"{k}={v}" for k, v in point.columns().items())
    ours = {f"--set {o}" for o in point.overrides()}
    return ScenarioError.from_problems([
        replace(p, origin=where) if p.origin in ours else replace(p, message=f"at {where}: {p.message}")
        for p in exc.problems])


def run_sweep(sweep: Sweep, executor: str = "local", jobs: int | None = None, address: str | None = None,
              progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Run every point; ``progress(done, total)`` after each one."""
    summaries: list[dict[str, Any] | None] = [None] * len(sweep.scenarios)
    count = 0

    def done(index: int, summary: dict[str, Any]) -> None:
        nonlocal count
        summaries[index] = summary
        count += 1
        if progress is not None:
            progress(count, len(summaries))

    execute(executor, sweep.scenarios, jobs or default_jobs(), done, address)
    from simdecode.io.provenance import resolved_scenario

    # every row holds every varied column (None where its point does not set the key, e.g. a linked
    # setting only some points carry), so the columns stay together ahead of ``overrides``
    varied = sweep.varied
    rows = [make_row({key: point.columns().get(key) for key in varied}, point.label(), point.index,
                     sweep.overrides, summary, resolved_scenario(scenario))
            for point, scenario, summary in zip(sweep.points, sweep.scenarios, summaries)]
    return SweepResult(sweep, summaries, rows)  # type: ignore[arg-type]


def sweep_files(result: SweepResult) -> dict[str, bytes]:
    """Every file of the sweep folder, rendered in memory: relative path -> bytes."""
    import json

    import yaml

    from simdecode.io.output import jsonable, summary_json
    from simdecode.io.provenance import describe, resolved_scenario
    from simdecode.sweep.table import to_csv, to_parquet

    s = result.sweep
    files: dict[str, bytes] = {
        "sweep.csv": to_csv(result.rows).encode(),
        "sweep.json": (json.dumps(jsonable({"sweep": s.describe(), "rows": result.rows}), indent=1,
                                  allow_nan=False) + "\n").encode(),
    }
    parquet = to_parquet(result.rows)
    if parquet is not None:
        files["sweep.parquet"] = parquet
    for point, scenario, summary in zip(s.points, s.scenarios, result.summaries):
        folder = f"points/{point.label()}"
        overrides = [*s.overrides, *point.overrides()]
        files[f"{folder}/summary.json"] = summary_json(describe(summary, scenario, overrides)).encode()
        files[f"{folder}/scenario.yaml"] = yaml.safe_dump(resolved_scenario(scenario), sort_keys=False).encode()
    return files


def write_sweep(result: SweepResult, out: str | os.PathLike[str], force: bool = False) -> list[Path]:
    """Write the sweep folder; the paths written.

    Everything is rendered in memory first, then written into a fresh folder that replaces
    ``out`` whole (:func:`simdecode.io.outfiles.atomic_out_dir`): an error or a kill leaves ``out``
    as it was. ``out`` may be absent, empty or simdecode's own output; a folder of other files
    is refused unless ``force``.
    """
    from simdecode.io.outfiles import atomic_out_dir

    files = sweep_files(result)
    out = Path(out)
    with atomic_out_dir(out, force) as tmp:
        for name, data in files.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return [out / name for name in files]


def sweep(file: str | os.PathLike[str], vary: Sequence[str] = (), overrides: Sequence[str] = (),
          jobs: int = 1, executor: str = "local", use_file_sweep: bool = True) -> SweepResult:
    """Plan and run in one call (for notebooks and scripts): ``sweep(file, vary=[...]).rows``."""
    return run_sweep(plan_sweep(file, overrides, vary, use_file_sweep), executor=executor, jobs=jobs)
