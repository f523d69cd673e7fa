"""Smoke test of benchmarks/run.py: its workloads validate and the script prints JSON.

Fast: no workload but ``quickstart`` is simulated (the 70B ones are for ``make bench``).
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


@pytest.mark.parametrize("name", bench.WORKLOADS)
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


def test_linearity_workload_varies_layers_and_steps() -> None:
    runs = bench.build_workload("layer-cost-linearity")
    assert {s.model.num_hidden_layers for _, s in runs} == set(bench.LAYERS)
    assert {s.workload.output_tokens for _, s in runs} == set(bench.OUTPUT_TOKENS)


def test_unknown_workload_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="unknown workload"):
        bench.build_workload("nope")


def test_run_py_only_quickstart_json() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(RUN_PY), "--only", "quickstart", "--json"], check=False,
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    (row,) = data["rows"]
    assert row["workload"] == "quickstart"
    assert row["events"] > 0 and row["wall_s"] > 0 and row["simulated_s"] > 0
