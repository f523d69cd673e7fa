"""Engine micro-tests of :mod:`simdecode.engine.topology`: links, paths and fabrics.

A transfer holds its links while it serialises and releases them while the last byte propagates
(docs/architecture.md, "The engine loop"). Times are dyadic fractions (0.5, 0.25, ...) so every sum is exact in binary
floating point and the logs compare with ``==``.
"""

from __future__ import annotations

import math

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.engine.topology import Link, Topology, transfer
from simdecode.presets import resolve
from simdecode.scenario.hardware import LinkSpec


def link_spec(name: str) -> LinkSpec:
    return LinkSpec.model_validate(resolve("links", name))


NVLINK = link_spec("nvlink4")


def topology(link: str = "nvlink4", *, gpus_per_node=8, nics_per_node=8, pcie_switches=1, tp=4, pp=1, dp=1):
    return Topology(simpy.Environment(), link=link_spec(link), inter_link=link_spec("ib-ndr"),
                    gpus_per_node=gpus_per_node, nics_per_node=nics_per_node, pcie_switches=pcie_switches,
                    tp=tp, pp=pp, dp=dp)


@pytest.fixture
def env() -> simpy.Environment:
    return simpy.Environment()


@pytest.fixture
def log() -> list:
    return []


def sender(env, path, name, serialise_s: float, propagate_s: float, log: list):
    """Process: one transfer over ``path`` (a Link or a list of links), logging (name, start, arrival)."""
    start = env.now
    if isinstance(path, Link):
        yield from path.transfer(serialise_s, propagate_s)
    else:
        yield from transfer(path, serialise_s, propagate_s)
    log.append((name, start, env.now))


# ---- one link -------------------------------------------------------------------------------

def test_isolated_transfer_ends_at_serialise_plus_propagate(env, log):
    link = Link(env, NVLINK, "a->b", 0)
    env.process(sender(env, link, "t0", 0.5, 0.25, log))
    env.run()
    assert log == [("t0", 0, 0.75)]
    assert link.busy_s == 0.5
    assert link.wire.count == 0  # released


def test_concurrent_transfers_serialise_on_the_wire(env, log):
    link = Link(env, NVLINK, "a->b", 0)
    env.process(sender(env, link, "t0", 0.5, 0.25, log))
    env.process(sender(env, link, "t1", 0.5, 0.25, log))
    env.run()
    # t1 waits for t0's serialisation only (0.5), not its propagation: ends at 2 x 0.5 + 0.25
    assert log == [("t0", 0, 0.75), ("t1", 0, 1.25)]
    assert link.busy_s == 1.0


def test_wire_is_free_during_propagation(env, log):
    link = Link(env, NVLINK, "a->b", 0)
    env.process(sender(env, link, "t0", 0.5, 2.0, log))

    def watcher():
        yield env.timeout(0.25)  # ask for the wire while t0 is still serialising
        with link.wire.request() as req:
            yield req
            log.append(("wire-free", env.now))

    env.process(watcher())
    env.run()
    # the watcher gets the wire at 0.5, when t0's last byte left; t0 arrives at 2.5
    assert log == [("wire-free", 0.5), ("t0", 0, 2.5)]


def test_zero_propagation(env, log):
    link = Link(env, link_spec("pcie5"), "a->b", 0)
    env.process(sender(env, link, "t0", 0.125, 0.0, log))
    env.run()
    assert log == [("t0", 0, 0.125)]


@settings(max_examples=40, deadline=None)
@given(
    serialise=st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    propagate=st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    n=st.integers(min_value=1, max_value=6),
)
def test_k_th_of_n_transfers_arrives_at_k_serialise_plus_propagate(serialise, propagate, n):
    env, log = simpy.Environment(), []
    link = Link(env, NVLINK, "a->b", 0)
    for k in range(n):
        env.process(sender(env, link, k, serialise, propagate, log))
    env.run()
    assert [name for name, _, _ in log] == list(range(n))  # FIFO
    for k, (_, start, end) in enumerate(log, start=1):
        assert start == 0
        assert math.isclose(end, k * serialise + propagate, rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(link.busy_s, n * serialise, rel_tol=1e-12, abs_tol=1e-15)


@pytest.mark.parametrize(("serialise", "propagate"), [(1e-6, 6e-7), (3.3e-5, 1e-6), (0.1, 0.2)])
def test_isolated_transfer_is_the_float_sum(serialise, propagate):
    env, log = simpy.Environment(), []
    env.process(sender(env, Link(env, NVLINK, "x", 0), "t", serialise, propagate, log))
    env.run()
    assert log == [("t", 0, serialise + propagate)]


# ---- paths of several links ---------------------------------------------------------------

def test_a_path_holds_all_its_links_while_it_serialises(env, log):
    a, b = Link(env, NVLINK, "a", 0), Link(env, NVLINK, "b", 1)
    env.process(sender(env, [a, b], "ab", 0.5, 0.25, log))
    env.process(sender(env, [b], "b", 0.5, 0.25, log))
    env.process(sender(env, [a], "a", 0.25, 0.0, log))
    env.run()
    # "b" and "a" both wait for "ab" to leave its links at 0.5
    assert sorted(log) == [("a", 0, 0.75), ("ab", 0, 0.75), ("b", 0, 1.25)]
    assert a.busy_s == 0.75 and b.busy_s == 1.0


def test_crossing_paths_do_not_deadlock(env, log):
    a, b = Link(env, NVLINK, "a", 0), Link(env, NVLINK, "b", 1)
    env.process(sender(env, [a, b], "ab", 0.5, 0.0, log))
    env.process(sender(env, [b, a], "ba", 0.5, 0.0, log))  # acquired in link order, not path order
    env.run()
    assert log == [("ab", 0, 0.5), ("ba", 0, 1.0)]


# ---- topologies -----------------------------------------------------------------------------

def test_gpus_fill_groups_in_order():
    topo = topology(tp=4, pp=2, dp=2, gpus_per_node=8, nics_per_node=8)
    assert list(topo.group_gpus(0, 0)) == [0, 1, 2, 3]
    assert list(topo.group_gpus(0, 1)) == [4, 5, 6, 7]
    assert list(topo.group_gpus(1, 0)) == [8, 9, 10, 11]


def test_switch_paths_are_the_sender_port_and_groups_share_nothing():
    topo = topology("nvlink4", tp=4, dp=2)
    assert [l.name for l in topo.path(0, 1)] == ["port.0"]
    assert topo.path(0, 1) == topo.path(0, 3)  # one egress port per GPU
    for replica in (0, 1):
        fabric = topo.fabric(replica, 0)
        assert fabric.private and fabric.shared == ()
        assert len(fabric.ring) == 4
    ring0 = {l for p in topo.fabric(0, 0).ring for l in p}
    ring1 = {l for p in topo.fabric(1, 0).ring for l in p}
    assert ring0.isdisjoint(ring1)


def test_mesh_paths_are_one_link_per_ordered_pair():
    topo = topology("xgmi", tp=8)
    assert [l.name for l in topo.path(0, 1)] == ["pair.0.1"]
    assert topo.path(0, 1) != topo.path(1, 0)


def test_pcie_traffic_between_switches_crosses_the_root_complex():
    topo = topology("pcie5", pcie_switches=2, tp=8)  # GPUs 0-3 on switch 0, 4-7 on switch 1
    assert [l.name for l in topo.path(0, 1)] == ["port.0"]
    assert [l.name for l in topo.path(3, 4)] == ["port.3", "root-complex.0"]
    assert [l.name for l in topo.path(7, 0)] == ["port.7", "root-complex.0"]  # one path per node, shared


def test_across_nodes_the_sender_nic_is_the_path():
    topo = topology("nvlink4", gpus_per_node=4, nics_per_node=2, tp=8)
    assert [l.name for l in topo.path(3, 4)] == ["nic.0.1"]  # local GPU 3 of 4 -> NIC 3 * 2 // 4 = 1
    assert [l.name for l in topo.path(7, 0)] == ["nic.1.1"]


def test_no_tensor_parallelism_no_ring():
    fabric = topology("pcie5", tp=1, dp=4).fabric(2, 0)
    assert fabric.ring == [] and fabric.private


def test_groups_sharing_a_nic_see_it_as_shared():
    # 5 GPUs per node, one NIC: group 1 (GPUs 4-7) and group 2 (8-11) both cross node 1's NIC
    topo = topology("pcie5", gpus_per_node=5, nics_per_node=1, tp=4, dp=3)
    assert topo.fabric(0, 0).private
    assert [l.name for l in topo.fabric(1, 0).shared] == ["nic.1.0"]
    assert [l.name for l in topo.fabric(2, 0).shared][0] == "nic.1.0"


def test_without_peer_to_peer_every_group_on_a_node_shares_the_host_path():
    """GPUs without P2P (consumer cards) bounce every transfer through host memory: one path per
    node that all TP groups on it cross, so their collectives contend."""
    topo = Topology(simpy.Environment(), link=link_spec("pcie4"), inter_link=link_spec("ib-ndr"), gpus_per_node=8,
                    nics_per_node=8, pcie_switches=1, tp=4, pp=1, dp=2, peer_to_peer=False)
    assert [l.name for l in topo.path(0, 1)] == ["port.0", "host.0"]
    for replica in (0, 1):
        assert [l.name for l in topo.fabric(replica, 0).shared] == ["host.0"]
