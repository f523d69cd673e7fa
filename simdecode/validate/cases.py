"""Validation cases: a measurement, the scenario that stands for it, and how to read the prediction.

A file of measurements (either schema: :mod:`simdecode.validate.published` reads the YAML list of
published figures, :mod:`simdecode.validate.inferencex` the InferenceX serving sweeps) becomes a
list of :class:`Job`: one simulation each, with the :class:`Point` s it predicts (a serving
sweep's point gives TPOT and TTFT from one run). A case simdecode cannot stand for becomes a
:class:`Point` with no job and a ``reason``, so the table lists it instead of dropping it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Point:
    """One measured number and, once run, its prediction.

    ``probe`` names how the prediction is read from the simulation (see
    :data:`simdecode.validate.runner.PROBES`); ``kernel_side`` says why the case's accuracy waits
    for kernel-side physics (issue 12), '' if it does not; ``reason`` why a case is not
    expressible ('' if it is).
    """

    case: str
    group: str
    conditions: str
    metric: str
    unit: str
    measured: float
    probe: str = ""
    kernel_side: str = ""
    reason: str = ""
    source: str = ""


@dataclass
class Job:
    """One simulation: a scenario mapping (validated by the worker) and the points it predicts."""

    key: str
    scenario: dict[str, Any]
    points: list[Point] = field(default_factory=list)
    #: closed-loop benchmark waves: (concurrency, waves the benchmark ran) for probes that weight
    #: the first (burst) wave as the benchmark does; None for other jobs
    bench: tuple[int, int] | None = None
    #: spread the first wave over one request's lifetime (an E2E simulated alone first): a
    #: steady-state measurement of fixed-length requests (see runner.run_job)
    ramp_from_single: bool = False
    #: a collective microbenchmark (simdecode.validate.microbench): the all-reduce's message in
    #: bytes, costed on the scenario's deployment instead of simulated; None for simulations
    message_bytes: int | None = None
    #: a step or kernel measured on one GPU (simdecode.validate.device): what to cost with the cost
    #: model instead of simulating ({"what": "decode" | "prefill" | "gemm" | ...}); None for simulations
    device: dict[str, Any] | None = None


@dataclass
class CaseSet:
    """Everything read from one or more files: jobs to run and points that cannot be run."""

    jobs: list[Job] = field(default_factory=list)
    skipped: list[Point] = field(default_factory=list)

    def extend(self, other: CaseSet) -> None:
        self.jobs += other.jobs
        self.skipped += other.skipped

    @property
    def points(self) -> list[Point]:
        return [p for job in self.jobs for p in job.points] + self.skipped


#: the measurements shipped with the package (a copy of the project's shared validation data)
SHIPPED_DATA = Path(__file__).resolve().parent / "data"


def default_data_dir(repo: Path | None = None) -> Path:
    """The measurements to validate against: the project's shared data, ../shared/validation beside
    the repository (for a checkout nested deeper, a git worktree, the nearest ancestor's), which may
    hold newer cases; else the copy shipped with the package (simdecode/validate/data, the same
    files, with their sources in its README), so validate and its tests never run without data."""
    root = repo or Path(__file__).resolve().parents[2]
    for folder in root.parents:
        candidate = folder / "shared" / "validation"
        if candidate.is_dir():
            return candidate
    return SHIPPED_DATA


def load(paths: list[Path]) -> CaseSet:
    """Read every file (or every known file in a folder) into a :class:`CaseSet`.

    A ``.json`` file is read as a device run (benchmarks/device/measure_kernels.py's output:
    :mod:`simdecode.validate.device`) when it has that file's sections, else as InferenceX serving
    sweeps; a ``.yaml``/``.yml`` file as published measurements; anything else is an error
    (ValueError naming the file)."""
    import json

    from simdecode.validate import device, inferencex, published

    cases = CaseSet()
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".json", ".yaml", ".yml"))
            if not found:
                raise ValueError(f"{path}: no .yaml or .json measurement files in this folder")
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise ValueError(f"{path}: no such file or folder")
    for file in files:
        if file.suffix == ".json":
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{file}: not valid JSON ({exc})") from exc
            cases.extend(device.load(file, data) if device.is_device_run(data) else inferencex.load(file))
        elif file.suffix in (".yaml", ".yml"):
            cases.extend(published.load(file))
        else:
            raise ValueError(f"{file}: expected a .yaml (published measurements) or .json (serving sweeps) file")
    return cases
