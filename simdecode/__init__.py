"""simdecode: a discrete-event simulator of transformer decoding on multi-GPU clusters.

The public API::

    from simdecode import load_scenario, simulate
    result = simulate(load_scenario("scenarios/quickstart.yaml"))
    result.summary()

Names are imported lazily, so ``import simdecode.costmodel`` stays free of the SimPy engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_scenario": "simdecode.scenario.loader",
    "simulate": "simdecode.engine.simulation",
    "Result": "simdecode.result",
    "Scenario": "simdecode.scenario.schema",
    "ScenarioError": "simdecode.errors",
}

__all__ = ["Result", "Scenario", "ScenarioError", "__version__", "load_scenario", "simulate"]

if TYPE_CHECKING:
    from simdecode.engine.simulation import simulate
    from simdecode.errors import ScenarioError
    from simdecode.result import Result
    from simdecode.scenario.loader import load_scenario
    from simdecode.scenario.schema import Scenario


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simdecode' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))
