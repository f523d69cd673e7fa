"""``simdecode estimate``: from an observed per-user tokens/s to active parameters and cost.

    from simdecode.estimate import estimate
    result = estimate(42, hardware="h200x8", references=["llama-3.1-70b:70"])
    result["interval"]["active_params"]      # [low, high], parameters

Modules: :mod:`.space` (the assumption axes), :mod:`.shapes` (synthetic models of a given size),
:mod:`.evaluate` (per-user speed from the step plans ``run`` executes), :mod:`.search` (per
combination, the sizes that give the observed speed), :mod:`.core` (the whole estimate),
:mod:`.ratio` (the ratio method for reference models), :mod:`.cost` ($ per million tokens),
:mod:`.report` (the terminal text), :mod:`.plot` (the figure), :mod:`.cli` (the subcommand).
"""

from simdecode.present.lazy import lazy_exports

#: what the package exports, by the module that defines it: imported on first use (PEP 562), so
#: that ``simdecode --help`` and the other commands, which register ``estimate``'s options through
#: :mod:`.cli`, do not load the search and the cost model
_EXPORTS = {"estimate": "core", "EstimateError": "space"}

__all__ = ["estimate", "EstimateError"]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
