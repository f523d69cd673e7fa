"""Shared test configuration: hypothesis profiles, ``--update-golden``, small scenario files.

Hypothesis profiles: ``ci`` (30 examples, no deadline: simulations are slow and CI machines
noisy) is loaded when the ``CI`` environment variable is set, ``dev`` otherwise. Pick one
explicitly with ``pytest --hypothesis-profile=dev``.

``pytest --update-golden`` rewrites the golden summaries instead of comparing with them; tests
read it through the ``update_golden`` fixture (or ``request.config.getoption("update_golden")``).
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=30, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        dest="update_golden",
        help="rewrite tests/golden/*.json from the current results instead of comparing with them",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when pytest runs with ``--update-golden``."""
    return bool(request.config.getoption("update_golden"))


TINY_SCENARIO = """\
# Covers: the smallest useful run, for tests. Expected: two short requests on one GPU.
name: tiny
seed: 0
model: llama-3.2-1b
hardware:
  gpu: h100-sxm
  gpus_per_node: 1
workload:
  arrival: {kind: closed, concurrency: 1}
  requests: 2
  prompt_tokens: 16
  output_tokens: 8
"""


@pytest.fixture
def scenario_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a scenario YAML into ``tmp_path`` and return its path.

    ``scenario_file()`` writes :data:`TINY_SCENARIO` (llama-3.2-1b on one h100-sxm, 2 requests of
    16 prompt and 8 output tokens); ``scenario_file(text, name="x.yaml")`` writes ``text``.
    """

    def write(text: str = TINY_SCENARIO, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
