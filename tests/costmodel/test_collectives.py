"""Alpha-beta cost of all-reduce and friends (simdecode/costmodel/collectives.py).

Sources: NCCL src/graph/tuning.cc (baseLat, hwLat per hop; physics.md 2.2), the alpha-beta forms of
Thakur, Rabenseifner & Gropp 2005 and Patarasuk & Yuan 2009 (physics.md 2.1), the bus-bandwidth
bound time >= 2(p-1)/p * S / B (nccl-tests PERFORMANCE.md; architecture.md section 8, "All-reduce
bound"), link constants from simdecode/presets/links.yaml (physics.md 2.4).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel import collectives as coll
from simdecode.presets import preset
from simdecode.scenario.hardware import LinkSpec, RuntimeSpec

KB = 1024
MB = 1024 * 1024


def link(name: str, **overrides: object) -> LinkSpec:
    return LinkSpec.model_validate({**preset("links", name), **overrides})


def runtime(name: str = "default", **overrides: object) -> RuntimeSpec:
    return RuntimeSpec.model_validate({**preset("runtimes", name), **overrides})


NVLINK4 = link("nvlink4")      # 450 GB/s per direction, 0.6 us hop, eff 0.82, switch, multicast
NVLINK3 = link("nvlink3")      # 300 GB/s, 0.6 us, eff 0.82, switch, no multicast
PCIE5 = link("pcie5")          # 64 GB/s, 1.0 us, eff 0.8, shared-bus, transport pcie
XGMI = link("xgmi")            # 64 GB/s per pair link, 0.6 us, eff 0.75, full mesh
NCCL = runtime("default")      # allreduce_impl nccl, allreduce_overhead 5 us
CUSTOM = runtime("trt-llm")    # allreduce_impl custom (one-/two-shot, multimem), overhead 4 us


# ---- ring, NCCL's latency model ------------------------------------------------------------------
def test_ring_ll_8_nvlink_gpus_16_KB() -> None:
    # physics.md 2.2 (tuning.cc): ring-LL latency = baseLat 6.6 us + 2(p-1) hops of 0.6 us
    #   = 6.6 + 14 * 0.6 = 15.0 us
    # bandwidth part: 2(p-1)/p * n / (bw * eff * LL share) = 2*7/8 * 16384 / (450e9 * 0.82 * 0.5)
    cost = coll.ring_all_reduce(16 * KB, 8, NVLINK4, "LL")
    assert cost.alpha_s == pytest.approx(6.6e-6 + 14 * 0.6e-6, rel=1e-12)
    assert cost.alpha_s == pytest.approx(15.0e-6, rel=1e-12)
    expected_beta_s = 2 * 7 / 8 * 16384 / (450e9 * 0.82 * 0.5)   # = 0.1554 us
    assert cost.beta_s == pytest.approx(expected_beta_s, rel=1e-12)
    assert cost.time_s == pytest.approx(15.0e-6 + expected_beta_s, rel=1e-12)
    assert (cost.algorithm, cost.protocol) == ("ring", "LL")


def test_ring_ll_pcie_and_16_gpus_match_physics_md() -> None:
    # physics.md 2.2 model predictions: "PCIe = 20.6 us; 16 GPUs NVLink = 24.6 us"
    assert coll.ring_all_reduce(0, 8, PCIE5, "LL").alpha_s == pytest.approx(6.6e-6 + 14 * 1.0e-6, rel=1e-12)
    assert coll.ring_all_reduce(0, 8, PCIE5, "LL").alpha_s == pytest.approx(20.6e-6, rel=1e-12)
    assert coll.ring_all_reduce(0, 16, NVLINK4, "LL").alpha_s == pytest.approx(6.6e-6 + 30 * 0.6e-6, rel=1e-12)
    assert coll.ring_all_reduce(0, 16, NVLINK4, "LL").alpha_s == pytest.approx(24.6e-6, rel=1e-12)


def test_ring_ll128_and_simple_hops_scale_by_ncclratio() -> None:
    # tuning.cc NVLink ring hwLat {LL 0.6, LL128 1.9, Simple 3.4} us; baseLat {6.6, 14.0, 8.4} us
    ll128 = coll.ring_all_reduce(16 * KB, 8, NVLINK4, "LL128")
    simple = coll.ring_all_reduce(16 * KB, 8, NVLINK4, "Simple")
    assert ll128.alpha_s == pytest.approx(14.0e-6 + 14 * 1.9e-6, rel=1e-12)     # 40.6 us
    assert simple.alpha_s == pytest.approx(8.4e-6 + 14 * 3.4e-6, rel=1e-12)     # 56.0 us
    # LL128 delivers 120 of 128 bytes, Simple the full effective rate
    assert ll128.beta_s == pytest.approx(2 * 7 / 8 * 16384 / (450e9 * 0.82 * 120 / 128), rel=1e-12)
    assert simple.beta_s == pytest.approx(2 * 7 / 8 * 16384 / (450e9 * 0.82), rel=1e-12)


def test_hop_latency_follows_the_link_latency() -> None:
    # a link with 1.2 us hops (twice NCCL's 0.6) doubles every per-hop term: 6.6 + 14 * 1.2 = 23.4 us
    slow = link("nvlink4", latency="1.2 us")
    assert coll.ring_all_reduce(0, 8, slow, "LL").alpha_s == pytest.approx(23.4e-6, rel=1e-12)
    assert coll.ring_all_reduce(0, 8, slow, "Simple").alpha_s == pytest.approx(8.4e-6 + 14 * 6.8e-6, rel=1e-12)


def test_tree_ll_single_node() -> None:
    # tuning.cc tree: baseLat 6.8 + 2 * ((p/nNodes - 1) * 0.6) = 6.8 + 2 * 7 * 0.6 = 15.2 us
    cost = coll.tree_all_reduce(16 * KB, 8, NVLINK4, "LL")
    assert cost.alpha_s == pytest.approx(15.2e-6, rel=1e-12)
    assert cost.beta_s == pytest.approx(2 * 7 / 8 * 16384 / (450e9 * 0.82 * 0.5), rel=1e-12)


def test_tree_across_nodes_adds_log2_nodes_network_hops() -> None:
    # 16 ranks on 2 nodes: 6.8 + 2 * ((8 - 1) * 0.6 + log2(2) * 16) = 6.8 + 2 * 20.2 = 47.2 us
    # (16 us: the IB presets' effective network step, CO-09 notes), bandwidth limited by the
    # slower link (IB NDR 50 GB/s * 0.96)
    ib = link("ib-ndr")
    cost = coll.tree_all_reduce(16 * KB, 16, NVLINK4, "LL", nodes=2, inter=ib)
    assert cost.alpha_s == pytest.approx(6.8e-6 + 2 * (7 * 0.6e-6 + 1 * 16e-6), rel=1e-12)
    assert cost.beta_s == pytest.approx(2 * 15 / 16 * 16384 / (50e9 * 0.96 * 0.5), rel=1e-12)


def test_ring_across_nodes_is_slower_and_uses_the_slower_link() -> None:
    ib = link("ib-ndr")
    one_node = coll.ring_all_reduce(256 * MB, 16, NVLINK4, "Simple")
    two_nodes = coll.ring_all_reduce(256 * MB, 16, NVLINK4, "Simple", nodes=2, inter=ib)
    assert two_nodes.alpha_s > one_node.alpha_s           # some hops pay NET's 14 us instead of 3.4
    assert two_nodes.beta_s == pytest.approx(2 * 15 / 16 * 256 * MB / (50e9 * 0.96), rel=1e-12)


# ---- auto: what the runtime would pick -------------------------------------------------------
def test_auto_nccl_picks_ring_ll_for_16_KB() -> None:
    # ring LL 15.0 us beats tree LL 15.2 us, LL128 40.6 us and Simple 56 us; then + 5 us overhead
    cost = coll.all_reduce(16 * KB, 8, NVLINK4, NCCL)
    assert (cost.algorithm, cost.protocol) == ("ring", "LL")
    assert cost.alpha_s == pytest.approx(15.0e-6 + 5e-6, rel=1e-12)   # = CO-04's measured 20.7 us - beta
    assert cost.beta_s == pytest.approx(2 * 7 / 8 * 16384 / (450e9 * 0.82 * 0.5), rel=1e-12)


@pytest.mark.parametrize("nv_link", [NVLINK3, NVLINK4], ids=["nvlink3", "nvlink4"])
def test_auto_nccl_picks_a_bandwidth_protocol_for_256_MB(nv_link: LinkSpec) -> None:
    # 256 MB on NVLink4: ring LL = 15 us + 2*7/8 * 268 MB / 184.5 GB/s = 2.56 ms,
    # ring Simple = 56 us + 1.273 ms = 1.33 ms: LL's half-rate lines lose for large messages
    cost = coll.all_reduce(256 * MB, 8, nv_link, NCCL)
    assert cost.protocol in ("LL128", "Simple")
    assert cost.algorithm in ("ring", "tree")       # NCCL's own NVLS is left out of auto
    ll = coll.ring_all_reduce(256 * MB, 8, nv_link, "LL")
    assert cost.time_s < ll.time_s


def test_auto_custom_runtime_picks_one_shot_for_16_KB() -> None:
    # one-shot: (p-1) hop sync 7 * 0.6 = 4.2 us + 7 * 16384 / 369e9 = 0.31 us; beats two-shot
    # (8.4 us), multimem (8.4 us) and NCCL ring (15 us); + trt-llm's 4 us overhead
    cost = coll.all_reduce(16 * KB, 8, NVLINK4, CUSTOM)
    assert cost.algorithm == "one-shot"
    assert cost.alpha_s == pytest.approx(7 * 0.6e-6 + 4e-6, rel=1e-12)
    assert cost.beta_s == pytest.approx(7 * 16384 / (450e9 * 0.82), rel=1e-12)


def test_p_equal_1_costs_nothing() -> None:
    # a TP group of one GPU has nothing to reduce: no overhead either
    for fn in (coll.ring_all_reduce, coll.tree_all_reduce):
        assert fn(16 * KB, 1, NVLINK4).time_s == 0.0
    assert coll.one_shot_all_reduce(16 * KB, 1, NVLINK4).time_s == 0.0
    assert coll.two_shot_all_reduce(16 * KB, 1, NVLINK4).time_s == 0.0
    assert coll.nvls_all_reduce(16 * KB, 1, NVLINK4).time_s == 0.0
    assert coll.all_reduce(16 * KB, 1, NVLINK4, NCCL).time_s == 0.0
    assert coll.all_reduce(256 * MB, 1, NVLINK4, CUSTOM, "one-shot").time_s == 0.0
    assert coll.all_gather(16 * KB, 1, NVLINK4, NCCL).time_s == 0.0


# ---- direct algorithms -----------------------------------------------------------------------
def test_one_shot_on_a_switch() -> None:
    # physics.md 2.1: T ~= alpha_sync + (p-1) n / BW_ingress; the sync is a flag barrier of
    # (p-1) hops: 7 * 0.6 us = 4.2 us; 7 * 16384 / (450e9 * 0.82) = 0.311 us
    cost = coll.one_shot_all_reduce(16 * KB, 8, NVLINK4)
    assert cost.alpha_s == pytest.approx(7 * 0.6e-6, rel=1e-12)
    assert cost.beta_s == pytest.approx(7 * 16384 / (450e9 * 0.82), rel=1e-12)


def test_one_shot_on_a_mesh_reads_each_peer_over_its_own_link() -> None:
    # xGMI full mesh (physics.md 2.4): each peer has its own 64 GB/s link: n / (64e9 * 0.75)
    cost = coll.one_shot_all_reduce(16 * KB, 8, XGMI)
    assert cost.alpha_s == pytest.approx(7 * 0.6e-6, rel=1e-12)
    assert cost.beta_s == pytest.approx(16384 / (64e9 * 0.75), rel=1e-12)


def test_two_shot_on_a_switch_and_a_mesh() -> None:
    # physics.md 2.1: T ~= 2 alpha_sync + 2(p-1)/p n / BW: 2 * 7 * 0.6 = 8.4 us sync
    switch = coll.two_shot_all_reduce(1 * MB, 8, NVLINK4)
    assert switch.alpha_s == pytest.approx(2 * 7 * 0.6e-6, rel=1e-12)
    assert switch.beta_s == pytest.approx(2 * 7 / 8 * MB / (450e9 * 0.82), rel=1e-12)
    # on a mesh the 2(p-1)/p n bytes spread over p-1 links: 2/p n / (64e9 * 0.75)
    mesh = coll.two_shot_all_reduce(1 * MB, 8, XGMI)
    assert mesh.alpha_s == pytest.approx(8.4e-6, rel=1e-12)
    assert mesh.beta_s == pytest.approx(2 * 7 / 8 * MB / (64e9 * 0.75) / 7, rel=1e-12)


def test_sync_grows_by_one_hop_per_extra_peer() -> None:
    # (p-1)-hop barrier: going from tp 4 to tp 8 adds 4 hops = 2.4 us to one-shot, 4.8 us to two-shot
    d1 = coll.one_shot_all_reduce(0, 8, NVLINK4).alpha_s - coll.one_shot_all_reduce(0, 4, NVLINK4).alpha_s
    d2 = coll.two_shot_all_reduce(0, 8, NVLINK4).alpha_s - coll.two_shot_all_reduce(0, 4, NVLINK4).alpha_s
    assert d1 == pytest.approx(4 * 0.6e-6, rel=1e-12)
    assert d2 == pytest.approx(8 * 0.6e-6, rel=1e-12)


def test_nvls_needs_multicast() -> None:
    with pytest.raises(ValueError, match="multicast"):
        coll.all_reduce(16 * KB, 8, NVLINK3, NCCL, "nvls")
    with pytest.raises(ValueError, match="multicast"):
        coll.all_reduce(16 * KB, 8, PCIE5, CUSTOM, "nvls")
    # auto never tries it on a link without multicast (no error, something else is chosen)
    assert coll.all_reduce(256 * MB, 8, NVLINK3, CUSTOM).algorithm != "nvls"


def test_nvls_costs() -> None:
    # NCCL models NVLS at a flat 23 us (tuning.cc, physics.md 2.2), whatever p is;
    # custom multimem kernels pay two (p-1)-hop syncs: 2 * 7 * 0.6 = 8.4 us (TRT-LLM MultiShot).
    # Bandwidth: CO-01 (NVIDIA/nccl-tests#212): algbw ~274 GB/s on 8x H100 = 450e9 * 0.82 * 274/369
    nccl = coll.nvls_all_reduce(1 * MB, 8, NVLINK4, nccl=True)
    custom = coll.nvls_all_reduce(1 * MB, 8, NVLINK4, nccl=False)
    assert nccl.alpha_s == coll.nvls_all_reduce(1 * MB, 4, NVLINK4, nccl=True).alpha_s == pytest.approx(23e-6)
    assert custom.alpha_s == pytest.approx(8.4e-6, rel=1e-12)
    assert nccl.beta_s == custom.beta_s == pytest.approx(MB / 274e9, rel=1e-12)


def test_explicit_nvls_with_nccl_runtime() -> None:
    cost = coll.all_reduce(16 * KB, 8, NVLINK4, NCCL, "nvls")
    assert (cost.algorithm, cost.protocol) == ("nvls", "Simple")
    assert cost.alpha_s == pytest.approx(23e-6 + 5e-6, rel=1e-12)


def test_unknown_algorithm_raises() -> None:
    with pytest.raises(ValueError, match="unknown all-reduce algorithm"):
        coll.all_reduce(16 * KB, 8, NVLINK4, NCCL, "butterfly")


# ---- the runtime's fixed overhead ----------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["ring", "tree", "one-shot", "two-shot", "nvls"])
def test_runtime_overhead_added_exactly_once(algorithm: str) -> None:
    # all_reduce = best candidate + allreduce_overhead on the alpha side, once (not per hop)
    base = coll.all_reduce(64 * KB, 8, NVLINK4, runtime("default", allreduce_overhead="0 us"), algorithm)
    plus = coll.all_reduce(64 * KB, 8, NVLINK4, runtime("default", allreduce_overhead="7 us"), algorithm)
    assert plus.alpha_s - base.alpha_s == pytest.approx(7e-6, rel=1e-9)
    assert plus.beta_s == base.beta_s
    assert plus.algorithm == base.algorithm


def test_overhead_matches_ring_formula_plus_constant() -> None:
    raw = coll.ring_all_reduce(16 * KB, 8, NVLINK4, "LL")
    full = coll.all_reduce(16 * KB, 8, NVLINK4, NCCL, "ring")
    assert full.alpha_s == pytest.approx(raw.alpha_s + NCCL.allreduce_overhead_s, rel=1e-12)
    assert full.beta_s == raw.beta_s


def test_p2p_and_all_gather() -> None:
    # p2p: overhead + one hop + n / (bw * eff): 5 + 0.6 us + 16384 / 369e9
    p2p = coll.p2p(16 * KB, NVLINK4, NCCL)
    assert p2p.alpha_s == pytest.approx(5e-6 + 0.6e-6, rel=1e-12)
    assert p2p.beta_s == pytest.approx(16384 / (450e9 * 0.82), rel=1e-12)
    # ring all-gather, small message -> LL: 6.6 + (p-1) * 0.6 = 10.8 us, + 5 us overhead;
    # (p-1)/p of the output bytes cross each link: 7/8 * 16000 / (300e9 * 0.82 * 0.5)
    ag = coll.all_gather(16000, 8, NVLINK3, NCCL)
    assert ag.protocol == "LL"
    assert ag.alpha_s == pytest.approx(10.8e-6 + 5e-6, rel=1e-12)
    assert ag.beta_s == pytest.approx(7 / 8 * 16000 / (300e9 * 0.82 * 0.5), rel=1e-12)


def test_in_kernel_all_gather_is_direct_one_barrier_and_one_shard_per_mesh_link() -> None:
    """8 ranks gather 8 x 64,128 B (fp32 logits of a 128,256 vocabulary split 8 ways). Direct: one
    flag barrier of 7 x 0.6 us = 4.2 us; on the xGMI mesh each peer's shard has a link of its own:
    64,128 / (64e9 x 0.75) = 1.336 us; behind NVSwitch the 7 shards share the ingress:
    7 x 64,128 / (450e9 x 0.82) = 1.217 us. Plus the kog runtime's 1 us overhead. NCCL's ring on the
    mesh would push 7/8 of the 513 KB through one link at LL's half rate: 18.7 us."""
    kog = runtime("kog")
    mesh = coll.all_gather(8 * 64128, 8, XGMI, kog)
    assert mesh.algorithm == "direct"
    assert mesh.alpha_s == pytest.approx(4.2e-6 + 1e-6, rel=1e-12)
    assert mesh.beta_s == pytest.approx(64128 / (64e9 * 0.75), rel=1e-12)
    switch = coll.all_gather(8 * 64128, 8, NVLINK4, kog)
    assert switch.beta_s == pytest.approx(7 * 64128 / (450e9 * 0.82), rel=1e-12)
    ring = coll.all_gather(8 * 64128, 8, XGMI, NCCL)
    assert ring.beta_s == pytest.approx(7 / 8 * 8 * 64128 / (64e9 * 0.75 * 0.5), rel=1e-12)
    assert mesh.time_s < ring.time_s / 3


# ---- bandwidth limits --------------------------------------------------------------------------
@pytest.mark.parametrize("p", [2, 4, 8, 16])
def test_large_message_ring_approaches_bus_bandwidth_form(p: int) -> None:
    # time -> 2(p-1)/p * n / (bw * eff) as n -> inf (Patarasuk & Yuan 2009): at n = 1 TB the
    # ~56 us of latency is < 1e-4 of the ~4.7 s of bandwidth time
    n = 1e12
    cost = coll.all_reduce(n, p, NVLINK4, NCCL, "ring")
    asymptote_s = 2 * (p - 1) / p * n / (450e9 * 0.82)
    assert cost.protocol == "Simple"
    assert cost.time_s == pytest.approx(asymptote_s, rel=1e-4)
    assert cost.time_s > asymptote_s


@given(
    nbytes=st.floats(1, 1e11, allow_nan=False),
    p=st.integers(2, 16),
    algorithm=st.sampled_from(["auto", "ring", "tree", "one-shot", "two-shot"]),
    which=st.sampled_from(["nvlink3", "nvlink4", "nvlink5", "pcie4", "pcie5"]),
    impl=st.sampled_from(["default", "trt-llm"]),
)
def test_all_reduce_never_beats_the_bus_bandwidth_bound(
    nbytes: float, p: int, algorithm: str, which: str, impl: str
) -> None:
    # docs/architecture.md, "Invariants the tests check": time >= 2(p-1)/p * S / B with B the per-GPU line rate
    # (each rank must send and receive 2(p-1)/p of the data). Switch/bus topologies only: on a mesh
    # B is the sum of the p-1 links. NVLS is exempt: the switch reduces in-network, and measured
    # NVLS busBW (480 GB/s, CO-01) does exceed NVLink4's 450 GB/s line rate.
    lk = link(which)
    cost = coll.all_reduce(nbytes, p, lk, runtime(impl), algorithm)
    if cost.algorithm == "nvls":
        return
    bound_s = 2 * (p - 1) / p * nbytes / lk.bandwidth_Bps
    assert cost.time_s >= bound_s
    assert cost.beta_s >= bound_s


@given(
    n1=st.floats(0, 1e10, allow_nan=False),
    n2=st.floats(0, 1e10, allow_nan=False),
    p=st.integers(2, 16),
    impl=st.sampled_from(["default", "trt-llm", "monokernel"]),
)
def test_auto_time_is_monotone_in_bytes(n1: float, n2: float, p: int, impl: str) -> None:
    small, large = sorted((n1, n2))
    rt = runtime(impl)
    assert coll.all_reduce(small, p, NVLINK4, rt).time_s <= coll.all_reduce(large, p, NVLINK4, rt).time_s


@given(
    nbytes=st.floats(0, 1e10, allow_nan=False),
    bw1=st.floats(1e9, 2e12),
    bw2=st.floats(1e9, 2e12),
    p=st.integers(2, 16),
)
def test_more_bandwidth_never_slows_an_all_reduce(nbytes: float, bw1: float, bw2: float, p: int) -> None:
    slow_bw, fast_bw = sorted((bw1, bw2))
    slow = coll.all_reduce(nbytes, p, link("nvlink4", bandwidth=slow_bw), NCCL)
    fast = coll.all_reduce(nbytes, p, link("nvlink4", bandwidth=fast_bw), NCCL)
    assert fast.time_s <= slow.time_s


def test_decode_message_is_pure_latency() -> None:
    # physics.md 2.1: "bandwidth term at 450 GB/s for 16 KB = 0.036 us": alpha is > 99% of the time
    cost = coll.all_reduce(16 * KB, 8, NVLINK4, NCCL)
    assert cost.beta_s / cost.time_s < 0.01


def test_link_from_scenario_keys_matches_the_preset() -> None:
    # the same NVLink4 written out with the scenario's key names and units (links.yaml, physics.md 2.4)
    custom = LinkSpec.model_validate({
        "bandwidth": "900 GB/s", "latency": "600 ns", "efficiency": 0.82,
        "topology": "switch", "transport": "nvlink", "multicast": True,
    })
    assert custom.bandwidth_Bps == 900e9 and custom.latency_s == pytest.approx(0.6e-6, rel=1e-15)
    # 900 GB/s is the bidirectional figure: halving it gives the preset, and the ring's alpha
    # does not depend on bandwidth at all
    half = LinkSpec.model_validate({**custom.model_dump(by_alias=True), "bandwidth": "450 GB/s"})
    got, preset_cost = coll.ring_all_reduce(16 * KB, 8, half, "LL"), coll.ring_all_reduce(16 * KB, 8, NVLINK4, "LL")
    assert got.alpha_s == pytest.approx(preset_cost.alpha_s, rel=1e-12)   # "600 ns" vs "0.6 us": float noise
    assert got.beta_s == pytest.approx(preset_cost.beta_s, rel=1e-12)
    assert coll.ring_all_reduce(16 * KB, 8, custom, "LL").alpha_s == pytest.approx(15.0e-6, rel=1e-12)
    assert coll.ring_all_reduce(16 * KB, 8, custom, "LL").beta_s == pytest.approx(
        coll.ring_all_reduce(16 * KB, 8, NVLINK4, "LL").beta_s / 2, rel=1e-12)


# ---- an engine's own dispatch: custom kernels below a size, NCCL above (vLLM 0.10.2) --------------
NVLINK5 = link("nvlink5")      # 900 GB/s per direction, 0.6 us hop, eff 0.82, switch, multicast
VLLM_0_10 = runtime("vllm", custom_allreduce_max="8 MiB", allreduce_multimem=False)


def test_vllm_0_10_hands_messages_of_8_MiB_or_more_to_nccl() -> None:
    """vLLM v0.10.2: CustomAllreduce.should_custom_ar takes inp_size < max_size (8192 * 1024), and its
    symmetric-memory all-reduce (the only multimem kernel) is off by default (VLLM_ALLREDUCE_USE_SYMM_MEM
    "0"), so CudaCommunicator.all_reduce sends larger messages to pynccl. A 1k-token prefill of
    Llama-70B all-reduces 1024 x 8192 x 2 B = 16 MiB; 8 B200s over NVLink5.

    NCCL (bandwidth 900e9 x 0.82 = 738 GB/s; LL128 moves 120 of 128 B):
      tree LL128: 14 us base + 14 hops x 1.25 us = 31.5 us; 2 x 7/8 x 16 MiB / (738e9 x 120/128) = 42.44 us
      ring LL128: 14 us + 14 x 1.9 us = 40.6 us + 42.44 us;  ring Simple: 8.4 + 14 x 3.4 = 56 us + 39.78 us
    so tree LL128, 73.94 us, + vLLM's 5 us. The custom kernels at the same size (no cap, no multimem):
    two-shot, 2 x 7 x 0.6 = 8.4 us + 39.78 us = 48.18 us, + 5 us."""
    n = 16 * MB
    cost = coll.all_reduce(n, 8, NVLINK5, VLLM_0_10)
    assert (cost.algorithm, cost.protocol) == ("tree", "LL128")
    assert cost.alpha_s == pytest.approx(14e-6 + 14 * 1.25e-6 + 5e-6, rel=1e-12)
    assert cost.beta_s == pytest.approx(2 * 7 / 8 * n / (738e9 * 120 / 128), rel=1e-12)
    assert cost.time_s - 5e-6 == pytest.approx(73.94e-6, rel=1e-3)
    uncapped = coll.all_reduce(n, 8, NVLINK5, runtime("vllm", allreduce_multimem=False))
    assert uncapped.algorithm == "two-shot"
    assert uncapped.alpha_s == pytest.approx(2 * 7 * 0.6e-6 + 5e-6, rel=1e-12)
    assert uncapped.time_s - 5e-6 == pytest.approx(48.18e-6, rel=1e-3)


def test_below_the_cap_vllm_0_10_runs_its_one_and_two_shot_kernels_only() -> None:
    # 4 MiB on 8 B200s: multimem would be 8.4 us + 4 MiB / (738e9 x 274/369) = 16.05 us; without it the
    # two-shot kernel, 8.4 us + 2 x 7/8 x 4 MiB / 738e9 = 18.35 us (one-shot: 4.2 us + 7 x 5.68 us = 44 us)
    n = 4 * MB
    with_multimem = coll.all_reduce(n, 8, NVLINK5, runtime("vllm"))
    assert with_multimem.algorithm == "nvls"
    cost = coll.all_reduce(n, 8, NVLINK5, VLLM_0_10)
    assert cost.algorithm == "two-shot"
    assert cost.time_s == pytest.approx(8.4e-6 + 2 * 7 / 8 * n / 738e9 + 5e-6, rel=1e-12)
    assert cost.time_s - 5e-6 == pytest.approx(18.35e-6, rel=1e-3)
    # the cap is exclusive: one byte below it stays with the custom kernels
    assert coll.all_reduce(8 * MB - 16, 8, NVLINK5, VLLM_0_10).algorithm == "two-shot"
    assert coll.all_reduce(8 * MB, 8, NVLINK5, VLLM_0_10).algorithm in ("ring", "tree")


def test_the_cap_and_multimem_keys_leave_nccl_and_named_algorithms_alone() -> None:
    # an NCCL runtime has no custom kernels to cap; a named algorithm is costed as named
    nccl = runtime("default", custom_allreduce_max="8 MiB", allreduce_multimem=False)
    assert coll.all_reduce(64 * MB, 8, NVLINK5, nccl).time_s == coll.all_reduce(64 * MB, 8, NVLINK5, NCCL).time_s
    assert coll.all_reduce(64 * MB, 8, NVLINK5, VLLM_0_10, "two-shot").algorithm == "two-shot"
    assert coll.all_reduce(64 * MB, 8, NVLINK5, VLLM_0_10, "nvls").algorithm == "nvls"


@given(n1=st.floats(0, 1e10, allow_nan=False), n2=st.floats(0, 1e10, allow_nan=False), p=st.integers(2, 8))
def test_capped_custom_all_reduce_is_monotone_in_bytes(n1: float, n2: float, p: int) -> None:
    # crossing the cap never makes a larger message cheaper: NCCL's ring or tree costs at least the
    # two-shot kernel's bytes over the link, plus more latency
    small, large = sorted((n1, n2))
    assert coll.all_reduce(small, p, NVLINK5, VLLM_0_10).time_s <= coll.all_reduce(large, p, NVLINK5, VLLM_0_10).time_s
