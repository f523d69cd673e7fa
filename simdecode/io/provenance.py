"""What makes a result describe itself: the resolved scenario and the ``--set`` overrides.

The summary already names the scenario, its seed and the simdecode version; :func:`describe`
adds the overrides the user gave and the **resolved** scenario (every preset expanded, every
default filled in), so a summary.json read months later says exactly what was simulated. The
resolved scenario is itself a valid scenario: ``simdecode run`` reads it back (relative file
paths inside it, such as a trace, are relative to the original scenario's folder).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping


def resolved_scenario(scenario: Any) -> dict[str, Any]:
    """The validated scenario as plain data (JSON types), ``sweep`` left out."""
    from simdecode.io.output import jsonable

    data = scenario.model_dump(mode="json", by_alias=True)
    data.pop("sweep", None)
    return jsonable(data)


def describe(summary: Mapping[str, Any], scenario: Any, overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of ``summary`` with ``overrides`` (the ``--set`` strings, in order) and
    ``resolved_scenario`` added at the end."""
    out = dict(summary)
    out["overrides"] = list(overrides)
    out["resolved_scenario"] = resolved_scenario(scenario)
    return out
