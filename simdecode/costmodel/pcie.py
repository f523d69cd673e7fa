"""The PCIe hierarchy of a node: which steps of a collective cross between PCIe switches or CPU sockets.

GPUs on PCIe links hang from PCIe switches (or straight from the CPU's root ports), and the
switches from one of the node's CPU sockets. A transfer between two GPUs under one switch stays
in the switch; one between switches goes up through the CPU's root complex; one between sockets
also crosses the socket interconnect (UPI, Infinity Fabric). ``nvidia-smi topo -m`` names these
paths PIX/PXB, PHB/NODE and SYS. What a crossing costs (physics.md 2.6):

- **between switches**: NCCL does not use peer-to-peer beyond a PCIe switch by default (its P2P
  level is PXB: src/graph/paths.cc, "By default don't use P2P across CPU Host Bridges and further
  apart"), so the step goes through host memory (NCCL's SHM transport): two PCIe crossings, the
  rule of :func:`simdecode.costmodel.deployment.effective_link` (twice the latency, half the
  bandwidth). GPUs without peer-to-peer (GeForce) take that path for every step already.
- **between sockets**: the step also crosses the socket interconnect: + :data:`SOCKET_HOP_S` of
  latency and :data:`SOCKET_BW_SHARE` of the bandwidth.

In a ring all-reduce the 2(p-1) steps form dependent chains (the chunk a rank forwards at step k
is the one it received at step k-1): the collective lasts as long as the chain with the most
crossing steps, :func:`chain_crossings`. A ring over ranks grouped by switch (or socket) crosses
once per group boundary, so a chain of 2(p-1) consecutive steps crosses about 2(p-1) s / p times
for s groups (4 of the 14 steps for 8 GPUs on two sockets). The ring then moves its bytes at the
speed of its slowest step. NCCL's tree is a chain inside the node, crossed twice per boundary
(up and down).

The ranks of a TP group are consecutive GPUs of one node; GPUs split evenly over the switches
and the switches over the sockets (``hardware.pcie_switches``, ``hardware.cpu_sockets``).
Across nodes only the network leg is modelled (the crossings inside each node are left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

#: extra latency of one step that crosses the CPU socket interconnect, seconds. Measured GPU-to-GPU
#: write latency on an 8x RTX PRO 6000 box with two AMD sockets (ASUS ESC8000A-E13P, CUDA
#: p2pBandwidthLatencyTest): 0.71-0.74 us within a NUMA node, 1.27-1.36 us across Infinity Fabric
#: (github.com/voipmonitor/rtx6kpro, hardware/asus-esc8000a-e13p-broadcom-switches.md): +0.6 us.
SOCKET_HOP_S = 0.6e-6
#: share of the bandwidth a ring keeps when it crosses sockets: NCCL all_reduce_perf busBW on
#: 8x RTX 5090 under two Xeon 8480+ is 28 GB/s over all 8 GPUs (both sockets) against 35 GB/s over
#: 4 (one socket) (NVIDIA/nccl#1639): 0.8.
SOCKET_BW_SHARE = 28 / 35


@dataclass(frozen=True, slots=True)
class PcieHierarchy:
    """Where a node's PCIe GPUs sit: ``gpus_per_switch`` consecutive GPUs share a PCIe switch (1:
    each GPU on its own root port), ``gpus_per_socket`` share a CPU socket; ``peer_to_peer``:
    the GPUs allow PCIe peer-to-peer (False: every step goes through host memory already)."""

    gpus_per_switch: int
    gpus_per_socket: int
    peer_to_peer: bool = True

    def boundaries(self, p: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """For ranks 0..p-1: the switch and the socket of each rank."""
        return (tuple(r // self.gpus_per_switch for r in range(p)),
                tuple(r // self.gpus_per_socket for r in range(p)))


@lru_cache(maxsize=4096)
def chain_crossings(groups: tuple[int, ...], steps: int) -> int:
    """The most group-crossing steps on any chain of ``steps`` consecutive ring steps, for a ring
    through ranks 0..p-1 (and back to 0) whose rank r sits in group ``groups[r]``.

    >>> chain_crossings((0, 0, 0, 0, 1, 1, 1, 1), 14)   # 8 GPUs, two sockets: 4 of 14 steps
    4
    """
    p = len(groups)
    crossing = [groups[r] != groups[(r + 1) % p] for r in range(p)]
    if not any(crossing):
        return 0
    return max(sum(crossing[(start + i) % p] for i in range(steps)) for start in range(p))


def tree_crossings(groups: tuple[int, ...]) -> int:
    """Crossing steps of NCCL's intra-node tree (a chain through the ranks in order, up then down)."""
    return 2 * sum(a != b for a, b in zip(groups, groups[1:]))


@dataclass(frozen=True, slots=True)
class Crossings:
    """Steps of one collective's critical chain that cross switches (``switch``, every socket
    crossing included) and sockets (``socket``)."""

    switch: int = 0
    socket: int = 0


def ring_crossings(pcie: PcieHierarchy | None, p: int, steps: int) -> Crossings:
    """The crossings of a ring collective's ``steps``-step chains over ``p`` ranks."""
    if pcie is None or p <= 1:
        return Crossings()
    switches, sockets = pcie.boundaries(p)
    return Crossings(chain_crossings(switches, steps), chain_crossings(sockets, steps))


def chain_tree_crossings(pcie: PcieHierarchy | None, p: int) -> Crossings:
    if pcie is None or p <= 1:
        return Crossings()
    switches, sockets = pcie.boundaries(p)
    return Crossings(tree_crossings(switches), tree_crossings(sockets))


def crossing_penalty(pcie: PcieHierarchy | None, crossings: Crossings, hop_s: float) -> tuple[float, float]:
    """(extra seconds, bandwidth factor) a collective pays for its crossing steps, ``hop_s``
    being one in-switch step's latency for its algorithm and protocol: through host memory
    (two PCIe crossings, half the bandwidth) for peer-to-peer GPUs, and the socket interconnect."""
    if pcie is None or crossings.switch == 0:
        return 0.0, 1.0
    extra_s, factor = 0.0, 1.0
    if pcie.peer_to_peer:  # without it the link is already the host path (effective_link)
        extra_s += crossings.switch * hop_s
        factor *= 0.5
    if crossings.socket:
        extra_s += crossings.socket * SOCKET_HOP_S
        factor *= SOCKET_BW_SHARE
    return extra_s, factor


def summary(pcie: PcieHierarchy | None, p: int, algorithm: str) -> dict | None:
    """Plain data for ``explain``: the hierarchy and how many steps of ``algorithm`` (ring or
    tree) over ``p`` ranks cross switches and sockets; None off PCIe or for one rank."""
    if pcie is None or p <= 1:
        return None
    steps = 2 * (p - 1)
    if algorithm == "tree":
        c = chain_tree_crossings(pcie, p)
    elif algorithm == "ring":
        c = ring_crossings(pcie, p, steps)
    else:  # direct kernels (one-/two-shot) are not charged for crossings
        c = Crossings()
    return {"gpus_per_switch": pcie.gpus_per_switch, "gpus_per_socket": pcie.gpus_per_socket,
            "peer_to_peer": pcie.peer_to_peer, "algorithm": algorithm, "steps": steps,
            "switch_steps": c.switch, "socket_steps": c.socket, "socket_hop_s": SOCKET_HOP_S,
            "socket_bw_share": SOCKET_BW_SHARE}
