"""The PCIe hierarchy (simdecode/costmodel/pcie.py): collective steps that cross PCIe switches or
CPU sockets, by hand and against published NCCL measurements."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.costmodel.collectives import all_reduce, ring_all_reduce, tree_all_reduce
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.pcie import SOCKET_HOP_S, PcieHierarchy, chain_crossings, tree_crossings
from simdecode.presets import preset
from simdecode.scenario.hardware import LinkSpec, RuntimeSpec
from simdecode.scenario.schema import Scenario

NCCL_TESTS = RuntimeSpec.model_validate(preset("runtimes", "default")).model_copy(update={"allreduce_overhead_s": 0.0})
PCIE5 = LinkSpec.model_validate(preset("links", "pcie5"))


def deployment(gpu: str, gpus: int = 8, **hardware) -> Deployment:
    return Deployment.from_scenario(Scenario.model_validate(
        {"model": "llama-3.2-1b", "hardware": {"gpu": gpu, "gpus_per_node": gpus, **hardware},
         "parallelism": {"tp": gpus}}))


def test_chain_crossings_by_hand():
    # 8 GPUs, 4 per socket: the ring crosses at 3->4 and 7->0; a chain of 14 steps starting at
    # 3 meets 3, 7, 3, 7: four crossings
    assert chain_crossings((0, 0, 0, 0, 1, 1, 1, 1), 14) == 4
    # 4 GPUs, 2 per switch: crossings at 1->2 and 3->0; 6 steps from 1: 1, 3, 1 -> three
    assert chain_crossings((0, 0, 1, 1), 6) == 3
    assert chain_crossings((0, 1), 2) == 2            # two GPUs on two switches: both steps cross
    assert chain_crossings((0, 0, 0, 0), 6) == 0      # one switch: none
    assert chain_crossings((0, 0, 1, 1, 2, 2, 3, 3), 14) == 7   # every other step
    assert tree_crossings((0, 0, 0, 0, 1, 1, 1, 1)) == 2          # the chain crosses once, up and down


def test_default_sockets_for_pcie_boxes():
    """8 PCIe GPUs: two sockets of 4 (nccl-tests#307's and NVIDIA/nccl#1639's 8-GPU boxes); 4 or
    fewer: one; NVLink: no PCIe hierarchy at all."""
    assert deployment("rtx-4090").pcie == PcieHierarchy(4, 4, peer_to_peer=False)
    assert deployment("rtx-4090", 4).pcie == PcieHierarchy(4, 4, peer_to_peer=False)
    assert deployment("rtx-pro-6000", pcie_switches=4).pcie == PcieHierarchy(2, 4, peer_to_peer=True)
    assert deployment("rtx-4090", cpu_sockets=1).pcie == PcieHierarchy(8, 8, peer_to_peer=False)
    assert deployment("h100-sxm").pcie is None


def test_rtx4090_box_all_reduce_by_hand():
    """8x RTX 4090 (no peer-to-peer: every step through host memory, 2 x 1.0 us; NCCL tuning.cc
    LL), two sockets of 4, 8 B:
    ring: 6.6 + 14 x 2.0 + 4 socket crossings x 0.6 = 37.0 us;
    tree: 6.8 + 14 x 2.0 + 2 x 0.6 = 36.0 us, NCCL's pick (CO-09 measured 43.5 us ring, 42.6 tree).
    Without the sockets it was 6.6 + 28 = 34.6 us."""
    dep = deployment("rtx-4090")
    assert dep.link.latency_s == pytest.approx(2.0e-6)
    assert SOCKET_HOP_S == pytest.approx(0.6e-6)
    ring = ring_all_reduce(8, 8, dep.link, "LL", pcie=dep.pcie)
    tree = tree_all_reduce(8, 8, dep.link, "LL", pcie=dep.pcie)
    assert ring.alpha_s == pytest.approx(37.0e-6)
    assert tree.alpha_s == pytest.approx(36.0e-6)
    assert all_reduce(8, 8, dep.link, NCCL_TESTS, pcie=dep.pcie).time_s == pytest.approx(36.0e-6, rel=1e-3)
    assert ring_all_reduce(8, 8, dep.link, "LL").alpha_s == pytest.approx(34.6e-6)


def test_switch_crossings_for_peer_to_peer_gpus_by_hand():
    """8x RTX PRO 6000 (peer-to-peer, PCIe 5: 1.0 us per step), 2 GPUs per switch, 4 per socket
    (ASUS ESC8000A-E13P): NCCL goes through host memory between switches (2.0 us instead of 1.0).
    256 B, tree LL: 6.8 + 14 x 1.0 + 6 switch crossings x 1.0 + 2 socket crossings x 0.6 = 28.0 us
    (measured 27.1 us, NCCL column of the rtx6kpro page); 4 GPUs on one socket, two switches:
    6.8 + 6 x 1.0 + 2 x 1.0 = 14.8 us (measured 14.1 us)."""
    eight, four = deployment("rtx-pro-6000", pcie_switches=4), deployment("rtx-pro-6000", 4, pcie_switches=2)
    assert eight.link.name == "pcie5" and eight.link.latency_s == pytest.approx(1.0e-6)
    t8 = all_reduce(256, 8, eight.link, NCCL_TESTS, pcie=eight.pcie)
    t4 = all_reduce(256, 4, four.link, NCCL_TESTS, pcie=four.pcie)
    assert t8.alpha_s == pytest.approx(28.0e-6) and t8.algorithm == "tree"
    assert t4.alpha_s == pytest.approx(14.8e-6)
    assert t8.time_s == pytest.approx(27.1e-6, rel=0.10)
    assert t4.time_s == pytest.approx(14.1e-6, rel=0.10)


def test_crossing_bandwidth_by_hand():
    """A ring over two sockets moves its bytes at its slowest step: through host memory (half of
    PCIe 5's 64 GB/s x 0.8) and the socket link (x 0.8): 64e9 x 0.8 x 0.5 x 0.8 = 20.48 GB/s;
    1 GB, 8 ranks, Simple: 2 x 7/8 x 1e9 / 20.48e9 = 85.4 ms of bandwidth."""
    pcie = PcieHierarchy(4, 4, peer_to_peer=True)
    ring = ring_all_reduce(1e9, 8, PCIE5, "Simple", pcie=pcie)
    assert ring.beta_s == pytest.approx(2 * 7 / 8 * 1e9 / 20.48e9)


@settings(max_examples=60, deadline=None)
@given(p=st.sampled_from([2, 4, 8]), per_switch=st.sampled_from([1, 2, 4, 8]), per_socket=st.sampled_from([2, 4, 8]),
       p2p=st.booleans(), nbytes=st.floats(8, 1e9))
def test_crossings_never_make_a_collective_faster(p, per_switch, per_socket, p2p, nbytes):
    pcie = PcieHierarchy(min(per_switch, per_socket), per_socket, p2p)
    flat = all_reduce(nbytes, p, PCIE5, NCCL_TESTS)
    assert all_reduce(nbytes, p, PCIE5, NCCL_TESTS, pcie=pcie).time_s >= flat.time_s * (1 - 1e-12)
    # a group inside one switch pays nothing
    inside = PcieHierarchy(8, 8, p2p)
    assert all_reduce(nbytes, p, PCIE5, NCCL_TESTS, pcie=inside).time_s == pytest.approx(flat.time_s)
