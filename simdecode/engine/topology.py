"""Links and interconnect resources, and which of them a transfer or collective holds.

A :class:`Link` is one direction of a point-to-point path: a transfer holds the wire while it
serialises (bytes / bandwidth) and releases it while the last byte propagates (latency), the
ns-3 / ASTRA-sim split. A :class:`Fabric` is what one TP group's collectives occupy:

- ``switch`` (NVSwitch) and ``mesh`` (xGMI): the GPUs' own ports; private to the group, so
  collectives of different groups never contend;
- ``shared-bus`` (PCIe behind one switch per node): one bus per node, shared by every group on
  that node, so replicas' all-reduces queue behind one another.

Not modelled: packet-level interleaving, credit flow control, congestion control, losses.
"""

from __future__ import annotations

import simpy

from simdecode.scenario.hardware import LinkSpec


class Link:
    """One direction of a link between two pipeline stages."""

    def __init__(self, env: simpy.Environment, spec: LinkSpec, name: str):
        self.env, self.spec, self.name = env, spec, name
        self.wire = simpy.Resource(env, capacity=1)
        self.busy_s = 0.0

    def transfer(self, serialise_s: float, propagate_s: float):
        """Process: hold the wire for ``serialise_s``, then let the data fly for ``propagate_s``."""
        with self.wire.request() as req:
            yield req
            yield self.env.timeout(serialise_s)
            self.busy_s += serialise_s
        if propagate_s > 0:
            yield self.env.timeout(propagate_s)


class Fabric:
    """The interconnect resources a TP group's collectives hold while they run."""

    def __init__(self, resources: tuple[simpy.Resource, ...], private: bool):
        self.resources = resources
        self.private = private  # nobody else uses them: holding them cannot delay anyone


class Topology:
    """Maps TP groups (replica, stage) to the fabric their collectives use."""

    def __init__(self, env: simpy.Environment, link: LinkSpec, gpus_per_node: int, tp: int, pp: int):
        self.env, self.link = env, link
        self.gpus_per_node, self.tp, self.pp = gpus_per_node, tp, pp
        self._node_bus: dict[int, simpy.Resource] = {}

    def fabric(self, replica: int, stage: int) -> Fabric:
        first_gpu = (replica * self.pp + stage) * self.tp
        if self.link.topology == "shared-bus" and self.tp > 1:
            nodes = range(first_gpu // self.gpus_per_node, (first_gpu + self.tp - 1) // self.gpus_per_node + 1)
            return Fabric(tuple(self._bus(n) for n in nodes), private=False)
        return Fabric((simpy.Resource(self.env, capacity=1),), private=True)

    def _bus(self, node: int) -> simpy.Resource:
        if node not in self._node_bus:
            self._node_bus[node] = simpy.Resource(self.env, capacity=1)
        return self._node_bus[node]
