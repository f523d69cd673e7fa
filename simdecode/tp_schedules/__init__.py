"""Tensor-parallel schedules as data: one module per schedule, found by looking.

A schedule decides which exchange (all-reduce) each module of the network waits for and which
modules launch one (physics.md 1.2, 1.5). Each module of this package defines one
:class:`TpSchedule` as ``SCHEDULE``; :func:`schedules` imports every module here and lists them.
Everything that names schedules reads them from there: the scenario schema's choices for
``parallelism.tp_mode``, the step plan (:mod:`simdecode.costmodel.plan`), the checks (expert
parallelism), ``simdecode explain`` and the generated scenario reference. Adding a schedule is
adding a module here (and its test); nothing else changes.

Modules are numbered over one pipeline stage (``m``) and over the whole network (``g``); attention
and MLP are separate modules (``part``). ``of(k)`` gives the exchange slots of this stage's module
``k`` (all chunks; ``of(k, j)`` chunk ``j``), empty for ``k < 0`` or a module without exchange.

This package is a leaf: it imports nothing else of simdecode, so the scenario package and the
cost model can both read it.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

#: the schedule a scenario gets when it names none
DEFAULT = "megatron"

Of = Callable[..., list[int]]


@dataclass(frozen=True)
class TpSchedule:
    """One tensor-parallel schedule. Subclasses override :meth:`exchanges` and :meth:`waits`."""

    name: str
    #: position in every list of schedules (schema choices, docs)
    order: int
    #: one line for the scenario reference and ``explain``: what waits for what
    summary: str
    #: the forward pass computes the same function as the unsplit model (no retraining needed)
    exact: bool
    #: supports expert parallelism (``parallelism.ep`` > 1): an all-to-all per MoE block
    expert_parallel: bool = False
    #: cuts or defers synchronisation points: what ``explain`` suggests against an all-reduce
    #: bottleneck made of latency
    fewer_sync_points: bool = False
    #: already defers its exchanges past the next module: against a latency-bound all-reduce
    #: ``explain`` suggests a longer delay (``tp_delay``) rather than another schedule
    defers_exchanges: bool = False
    #: splits the step's tokens into ``tp_chunks`` chunks, each with its own exchange
    chunked: bool = False
    #: the name of a module's exchange op in plans and traces
    exchange_label: str = "allreduce"

    def exchanges(self, part: str, g: int, total: int, delta: int, start: str) -> bool:
        """Does the network's module ``g`` (of ``total``; ``part`` "attn" or "mlp") launch an exchange?"""
        return True

    def waits(self, of: Of, m: int, g: int, j: int, delta: int, start: str) -> list[int]:
        """Exchange slots chunk ``j`` of this stage's module ``m`` (the network's ``g``) waits for.
        Exchanges of earlier stages have all landed before the activations left their stage."""
        return of(m - 1)

    def averages_lanes(self, delta: int, final: str) -> bool:
        """Must the lanes' residual streams be averaged by one all-reduce before the LM head?"""
        return False

    def vocab_parallel_head(self, final: str) -> bool:
        """Does every lane compute a vocabulary shard of the logits (which are then gathered)?"""
        return False


def schedules() -> dict[str, TpSchedule]:
    """Every schedule of this package by name, in :attr:`TpSchedule.order`."""
    global _CACHE
    if _CACHE is None:
        found: list[TpSchedule] = []
        for info in pkgutil.iter_modules(__path__):
            module = importlib.import_module(f"{__name__}.{info.name}")
            schedule = getattr(module, "SCHEDULE", None)
            if isinstance(schedule, TpSchedule):
                found.append(schedule)
        found.sort(key=lambda s: (s.order, s.name))
        names = [s.name for s in found]
        if len(set(names)) != len(names):
            raise RuntimeError(f"two TP schedules share a name: {names}")
        _CACHE = {s.name: s for s in found}
    return _CACHE


_CACHE: dict[str, TpSchedule] | None = None


def names() -> tuple[str, ...]:
    """The schedules' names, in order."""
    return tuple(schedules())


def get(name: str) -> TpSchedule:
    """The schedule called ``name``; ValueError naming the known ones otherwise."""
    try:
        return schedules()[name]
    except KeyError:
        raise ValueError(f"unknown tp_mode {name!r}: expected one of {', '.join(names())}") from None
