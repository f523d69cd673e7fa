"""Where a stage spends events: the predicates :class:`simdecode.engine.executor.Stage` uses to
choose how a step runs, kept free of SimPy so the work estimate made before a run
(:mod:`simdecode.engine.budget`) counts events by the same rule the engine follows.

``private``: no other TP group's collectives cross this group's links
(:attr:`simdecode.engine.topology.Fabric.private`).
"""

from __future__ import annotations


def one_event_step(fidelity: str, private: bool) -> bool:
    """Does a step run as one timeout of its fold? At ``step`` always; at ``layer`` where the
    group's links are private (nothing could delay any op, so the walk would give the fold)."""
    return fidelity == "step" or (fidelity == "layer" and private)


def expands_rings(fidelity: str, tp_nodes: int, pp: int, private: bool) -> bool:
    """Is a ring all-reduce run as its 2(p - 1) rounds of p transfers? Only at ``op``, inside one
    node (uniform hops), and only where something else may use the ring's links: another group,
    or (pp > 1) the activations sent on from the group's first GPU. Else a collective is one event."""
    return fidelity == "op" and tp_nodes == 1 and not (private and pp == 1)
