"""A tiny scenario with a sweep block, for sweep tests (step fidelity: each point runs in ms)."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_SWEEP = """\
name: tiny-sweep
seed: 3
model: llama-3.2-1b
hardware: {gpu: h100-sxm, gpus_per_node: 8}
runtime: vllm
parallelism: {tp: 1}
workload:
  arrival: {kind: closed, concurrency: 1}
  requests: 4
  prompt_tokens: 64
  output_tokens: 8
simulation: {fidelity: step}
sweep:
  parallelism.pp: [1, 2]
  workload.arrival.concurrency: [1, 4]
"""


@pytest.fixture
def tiny_sweep(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-sweep.yaml"
    path.write_text(TINY_SWEEP)
    return path
