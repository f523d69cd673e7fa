"""Links, the paths transfers take over them, and what a TP group's collectives hold.

A :class:`Link` is one direction of a wire: a transfer holds it while it serialises
(bytes / bandwidth) and releases it while the last byte propagates (latency), the ns-3 /
ASTRA-sim split. A transfer over a path of links holds them all at once (cut-through). GPUs are
numbered ``((replica * pp + stage) * tp + rank)``, filling nodes in order. Topologies:

- ``switch`` (NVSwitch): each GPU's port into the switch is its own egress link;
- ``mesh`` (xGMI): one link per ordered pair of GPUs;
- ``pcie``: each GPU has its own x16 link to one of ``pcie_switches`` switches per node;
  peer-to-peer traffic between two switches also crosses the CPU's root complex, one path per
  node shared by every group whose traffic leaves its switch;
- without peer-to-peer (GeForce cards) every transfer inside a node is written to host memory
  and read back, so it also crosses the node's one host path, shared by every group on the node;
- across nodes: the sender's NIC (GPUs share NICs when there are fewer NICs than GPUs).

Links used by more than one TP group (a PCIe root complex, a host path, shared NICs) are where contention appears:
at fidelity ``layer`` a collective holds every shared link its ring crosses for its whole
alpha-beta time; at fidelity ``op`` every ring transfer holds its own path.
Not modelled: packet interleaving, credit flow control, congestion control, losses.
"""

from __future__ import annotations

from itertools import count

import simpy

from simdecode.scenario.hardware import LinkSpec


class Link:
    """One direction of a wire."""

    def __init__(self, env: simpy.Environment, spec: LinkSpec, name: str, order: int, tracer=None):
        self.env, self.spec, self.name, self.order = env, spec, name, order
        self.tracer = tracer  # simdecode.metrics.trace.Tracer or None
        self.wire = simpy.Resource(env, capacity=1)
        self.busy_s = 0.0

    def transfer(self, serialise_s: float, propagate_s: float):
        """Process: hold the wire for ``serialise_s``, then let the data fly for ``propagate_s``."""
        yield from transfer([self], serialise_s, propagate_s)


def transfer(path: list[Link], serialise_s: float, propagate_s: float):
    """Process: hold every link of ``path`` (in a global order, so no deadlock) while the data
    serialises, release them, then wait out the propagation latency."""
    env = path[0].env
    ordered = sorted(path, key=lambda link: link.order)
    requests = [link.wire.request() for link in ordered]
    for req in requests:
        yield req
    begin = env.now
    yield env.timeout(serialise_s)
    for link, req in zip(ordered, requests):
        link.busy_s += serialise_s
        link.wire.release(req)
        if link.tracer is not None:
            link.tracer.span("links", link.name, "transfer", begin, env.now)
    if propagate_s > 0:
        yield env.timeout(propagate_s)


class Fabric:
    """The links a TP group's collectives cross, and which of them other groups share."""

    def __init__(self, ring: list[list[Link]], shared: tuple[Link, ...]):
        self.ring = ring        # ring[i]: the path from rank i to rank i+1
        self.shared = shared    # links another group may hold at the same time
        self.private = not shared


class Topology:
    def __init__(self, env: simpy.Environment, *, link: LinkSpec, inter_link: LinkSpec, gpus_per_node: int,
                 nics_per_node: int, pcie_switches: int, tp: int, pp: int, dp: int, peer_to_peer: bool = True,
                 tracer=None):
        self.env, self.link, self.inter_link, self.tracer = env, link, inter_link, tracer
        self.peer_to_peer = peer_to_peer
        self.gpus_per_node, self.nics_per_node = gpus_per_node, nics_per_node
        self.switches = max(1, min(pcie_switches, gpus_per_node))
        self.tp, self.pp, self.dp = tp, pp, dp
        self._links: dict[tuple, Link] = {}
        self._order = count()
        self._users: dict[Link, set[tuple[int, int]]] = {}
        self._fabrics = {}
        for replica in range(dp):
            for stage in range(pp):
                group = (replica, stage)
                ring = [self.path(g, self._next(g, group)) for g in self.group_gpus(*group)] if tp > 1 else []
                for path in ring:
                    for link in path:
                        self._users.setdefault(link, set()).add(group)
                self._fabrics[group] = ring
        self._fabrics = {
            group: Fabric(ring, tuple(sorted({l for p in ring for l in p if len(self._users[l]) > 1},
                                             key=lambda l: l.order)))
            for group, ring in self._fabrics.items()
        }

    def users(self) -> dict[Link, set[tuple[int, int]]]:
        """Every link a group's collectives or its activations to the next stage cross, with the
        (replica, stage) groups using it (links created on the way are the ones the run makes)."""
        users = {link: set(groups) for link, groups in self._users.items()}
        for replica in range(self.dp):
            for stage in range(self.pp - 1):
                src, dst = self.group_gpus(replica, stage)[0], self.group_gpus(replica, stage + 1)[0]
                for link in self.path(src, dst):
                    users.setdefault(link, set()).add((replica, stage))
        return users

    def group_gpus(self, replica: int, stage: int) -> range:
        first = (replica * self.pp + stage) * self.tp
        return range(first, first + self.tp)

    def _next(self, gpu: int, group: tuple[int, int]) -> int:
        gpus = self.group_gpus(*group)
        return gpus[(gpus.index(gpu) + 1) % len(gpus)]

    def fabric(self, replica: int, stage: int) -> Fabric:
        return self._fabrics[(replica, stage)]

    def path(self, src: int, dst: int) -> list[Link]:
        """The links a transfer from GPU ``src`` to GPU ``dst`` crosses."""
        node_s, node_d = divmod(src, self.gpus_per_node)[0], divmod(dst, self.gpus_per_node)[0]
        if node_s != node_d:
            local = src % self.gpus_per_node
            nic = local * self.nics_per_node // self.gpus_per_node
            return [self._get(("nic", node_s, nic), self.inter_link)]
        if self.link.topology == "mesh":
            return [self._get(("pair", src, dst), self.link)]
        path = [self._get(("port", src), self.link)]
        if not self.peer_to_peer:
            path.append(self._get(("host", node_s), self.link))
        if self.link.topology == "pcie":
            if self._switch(src) != self._switch(dst):
                path.append(self._get(("root-complex", node_s), self.link))
        return path

    def _switch(self, gpu: int) -> int:
        per_switch = -(-self.gpus_per_node // self.switches)
        return (gpu % self.gpus_per_node) // per_switch

    def _get(self, key: tuple, spec: LinkSpec) -> Link:
        link = self._links.get(key)
        if link is None:
            name = ".".join(str(k) for k in key)
            link = self._links[key] = Link(self.env, spec, name, next(self._order), self.tracer)
        return link

    @property
    def links(self) -> list[Link]:
        return list(self._links.values())
