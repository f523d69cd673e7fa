"""simdecode: a discrete-event simulator of transformer decoding on multi-GPU clusters.

The public API::

    from simdecode import load_scenario, simulate
    result = simulate(load_scenario("scenarios/quickstart.yaml"))
    result.summary()
"""

__version__ = "0.1.0"

from simdecode.engine.simulation import simulate  # noqa: E402
from simdecode.errors import ScenarioError  # noqa: E402
from simdecode.result import Result  # noqa: E402
from simdecode.scenario.loader import load_scenario  # noqa: E402
from simdecode.scenario.schema import Scenario  # noqa: E402

__all__ = ["Result", "Scenario", "ScenarioError", "__version__", "load_scenario", "simulate"]
