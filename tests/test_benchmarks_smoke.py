"""Smoke test of benchmarks/run.py: its workloads validate and the script prints JSON.

Fast: no workload but ``quickstart`` is simulated (the others are for ``make bench``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simdecode.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
RUN_PY = ROOT / "benchmarks" / "run.py"


def _load_run_module():
    spec = importlib.util.spec_from_file_location("simdecode_benchmarks_run", RUN_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_run_module()


@pytest.mark.parametrize("name", bench.WORKLOADS + bench.EXTRA_WORKLOADS)
def test_workload_scenarios_validate(name: str) -> None:
    runs = bench.build_workload(name)
    assert runs
    for labels, scenario in runs:
        assert isinstance(scenario, Scenario)
        assert labels["workload"].startswith(name)


def test_requirement_workload_is_the_specified_one() -> None:
    ((_, s),) = bench.build_workload(bench.REQUIREMENT)
    assert (s.model.name, s.hardware.gpu.name, s.runtime.name) == ("llama-3.1-70b", "h100-sxm", "vllm")
    assert s.precision.weights == "bf16"
    assert s.parallelism.tp == 8 and s.hardware.gpus_per_node == 8
    assert s.workload.arrival.kind == "closed" and s.workload.arrival.concurrency == 64
    assert (s.workload.requests, s.workload.prompt_tokens, s.workload.output_tokens) == (64, 128, 512)
    assert s.simulation.fidelity == "layer"
    ((_, step),) = bench.build_workload("llama-3.1-70b-tp8-64x512-step")
    assert step.simulation.fidelity == "step"


def test_vidur_workloads_are_vidurs_default_run_per_replica() -> None:
    for name, replicas, requests in (("vidur", 1, 128), ("vidur-x16-10k-step", 16, 10_000)):
        for _, s in bench.build_workload(name):
            assert (s.model.name, s.hardware.gpu.name, s.parallelism.tp) == ("llama-2-70b", "a100-80gb", 2)
            assert s.parallelism.dp == replicas and s.workload.requests == requests
            assert s.workload.arrival.kind == "poisson"
            assert s.workload.arrival.rate_per_s == pytest.approx(0.5 * replicas)
            assert s.scheduler.chunked_prefill and s.scheduler.max_batched_tokens == 512


def test_cluster_workloads_split_over_two_jobs() -> None:
    from simdecode.engine.parallel import split_reason

    runs = bench.workload_runs("cluster-10k-128x8")
    assert [jobs for _, _, jobs in runs] == [1, 2]
    ((_, big),) = bench.build_workload("cluster-1m-128x8")
    assert big.workload.requests == 1_000_000 and big.parallelism.dp == 128 and big.parallelism.tp == 8
    assert big.scheduler.router == "round-robin" and split_reason(big, None, 2) is None


def test_checks_flag_a_slow_layer_run_and_a_split_that_differs() -> None:
    root = str(bench.ROOT)
    rows = [
        {"workload": bench.REQUIREMENT, "tree": root, "cpu_s": 3.0},
        {"workload": "llama-3.1-70b-tp8-64x512-step", "tree": root, "cpu_s": 1.0},
        {"workload": "cluster-10k-128x8 jobs 1", "tree": root, "summary_exact": "a"},
        {"workload": "cluster-10k-128x8 jobs 2", "tree": root, "summary_exact": "b"},
    ]
    bench.checks(rows, root)
    assert rows[0]["pass"] is False and rows[0]["layer_over_step"] == 3.0  # 3x step > 2x
    assert rows[3]["pass"] is False


def test_bare_simpy_rate_is_positive() -> None:
    assert bench.bare_simpy_rate(1000) > 0


def test_linearity_workload_varies_layers_and_steps() -> None:
    runs = bench.build_workload("layer-cost-linearity")
    assert {s.model.num_hidden_layers for _, s in runs} == set(bench.LAYERS)
    assert {s.workload.output_tokens for _, s in runs} == set(bench.OUTPUT_TOKENS)


def test_unknown_workload_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="unknown workload"):
        bench.build_workload("nope")


def _script_json(script: Path, only: str, timeout_s: float) -> dict:
    """The JSON a benchmark script prints for ``--only ONLY --json``, run as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(script), "--only", only, "--json"], check=False,
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_run_py_only_quickstart_json() -> None:
    data = _script_json(RUN_PY, "quickstart", 60)
    (row,) = data["rows"]
    assert row["workload"] == "quickstart"
    assert row["events"] > 0 and row["wall_s"] > 0 and row["simulated_s"] > 0
    assert row["cpu_s"] > 0 and row["events_per_cpu_s"] > 0 and data["bare_simpy_events_per_cpu_s"] > 0


COMMANDS_PY = ROOT / "benchmarks" / "commands.py"


def test_commands_py_name_files_that_exist() -> None:
    spec = importlib.util.spec_from_file_location("simdecode_benchmarks_commands", COMMANDS_PY)
    commands = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(commands)
    files = [a for args in commands.COMMANDS.values() for a in args if a.endswith(".yaml")]
    assert len(files) == 4 and all((ROOT / f).is_file() for f in files)


def test_commands_py_times_a_run_in_cpu_seconds_and_events() -> None:
    data = _script_json(COMMANDS_PY, "run quickstart", 120)
    (row,) = data["rows"]
    assert row["command"] == "run quickstart" and row["tree"] == str(ROOT)
    assert row["cpu_s"] > 0 and row["events"] > 0 and row["events_per_cpu_s"] == row["events"] / row["cpu_s"]
    assert data["bare_simpy_1m_cpu_s"] > 0 and row["x_bare_simpy_1m"] == row["cpu_s"] / data["bare_simpy_1m_cpu_s"]
