"""Alpha-beta cost of collectives and point-to-point transfers (physics.md section 2).

Every function returns a :class:`CollectiveCost`: total seconds split into the latency part
(alpha: launch, synchronisation, per-hop latency) and the bandwidth part (beta: bytes over the
link). Formulas:

- ring all-reduce, p ranks, n bytes:  base + 2(p-1) hop + 2(p-1)/p * n / bw
  (Patarasuk & Yuan 2009; latencies from NCCL's src/graph/tuning.cc, physics.md 2.2)
- tree all-reduce:   base + 2((p/N - 1) hop_intra + log2(N) hop_inter) + 2(p-1)/p * n / bw
- one-shot:          sync + (p-1) n / ingress_bw      (every rank reads all peers; TRT-LLM ONESHOT,
                     vLLM cross_device_reduce_1stage). On a mesh each peer has its own link: n / bw.
- two-shot:          2 sync + 2(p-1)/p * n / bw       (reduce-scatter then all-gather, direct)
  where a sync is a barrier in which each rank signals its p-1 peers and polls their flags
  (vLLM's barrier_at_start): (p-1) hops. With 0.6 us NVLink hops this is the growth with tp of
  gpt-fast's per-token time on 8x A100 (DEC-02, DEC-04): about 0.6 us per extra peer.
- NVLS (NVLink SHARP): 2 sync + n / (bw x 0.74)       (switch reduces and multicasts; the share
                     is CO-01's measured NVLS bandwidth, see NVLS_BW_SHARE)
- point-to-point:    hop + n / bw
- torus (TPU ICI):   dimension-ordered rings, :mod:`simdecode.costmodel.torus`

``auto`` picks what the runtime would: NCCL picks the ring or tree algorithm and protocol its own
model predicts fastest (that is what tuning.cc does); a runtime with custom all-reduce kernels
picks the fastest of its one-shot, two-shot and (on a multicast switch) multimem/NVLS kernels and
NCCL, as vLLM's custom all-reduce falls back to NCCL and TRT-LLM's MultiShot uses NVLS. The
runtime's ``custom_allreduce_max`` hands messages of that size or more to NCCL (vLLM's
``CustomAllreduce`` takes only messages below its 8 MiB buffer, ``should_custom_ar``), and
``allreduce_multimem: false`` leaves the multimem kernels out (vLLM 0.10 has none: its
symmetric-memory all-reduce, ``VLLM_ALLREDUCE_USE_SYMM_MEM``, is off by default there). ``auto``
leaves NCCL's own NVLS out: whether NCCL enables it depends on the driver, the fabric manager and
buffer registration, and CO-04's eager torch.distributed figures at 4-16 MB follow ring
bandwidth; name ``allreduce: nvls`` to model it (CO-01).
On PCIe, ring and tree steps that cross between PCIe switches or CPU sockets pay more
(:mod:`simdecode.costmodel.pcie`, ``pcie``: the node's hierarchy, None: flat).
Every collective also pays the runtime's fixed ``allreduce_overhead`` (kernel launch and
host/device synchronisation: ~5 us for eager NCCL, the gap between CO-04's measured 20.7 us at
16 KB and NCCL's own 15 us model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simdecode.costmodel.pcie import PcieHierarchy, chain_tree_crossings, crossing_penalty, ring_crossings
from simdecode.scenario.hardware import LinkSpec, RuntimeSpec

#: NCCL tuning.cc (v2.19): base latency per algorithm and protocol, seconds
NCCL_BASE_S = {
    ("ring", "LL"): 6.6e-6, ("ring", "LL128"): 14.0e-6, ("ring", "Simple"): 8.4e-6,
    ("tree", "LL"): 6.8e-6, ("tree", "LL128"): 14.0e-6, ("tree", "Simple"): 0.0,
}
#: NCCL tuning.cc hwLat per hop, by transport, algorithm and protocol, seconds
NCCL_HOP_S = {
    "nvlink": {("tree", "LL"): 0.6e-6, ("tree", "LL128"): 1.25e-6, ("tree", "Simple"): 28e-6,
               ("ring", "LL"): 0.6e-6, ("ring", "LL128"): 1.9e-6, ("ring", "Simple"): 3.4e-6},
    "pcie": {("tree", "LL"): 1.0e-6, ("tree", "LL128"): 1.9e-6, ("tree", "Simple"): 28e-6,
             ("ring", "LL"): 1.0e-6, ("ring", "LL128"): 2.5e-6, ("ring", "Simple"): 5.7e-6},
    "net": {("tree", "LL"): 5.0e-6, ("tree", "LL128"): 8.5e-6, ("tree", "Simple"): 28e-6,
            ("ring", "LL"): 2.7e-6, ("ring", "LL128"): 4.0e-6, ("ring", "Simple"): 14.0e-6},
}
#: NCCL NVLS latency (Simple), seconds: why NCCL does not pick NVLS for decode-size messages
NCCL_NVLS_S = 23e-6
#: NVLS moves n bytes each way per GPU but reaches only 274 GB/s algbw on 8x H100 (CO-01: busBW
#: 480 GB/s = algbw x 2(p-1)/p) against 369 GB/s of effective NVLink4 (450 x 0.82): 0.74
NVLS_BW_SHARE = 274 / 369
#: share of the link bandwidth each protocol delivers: LL moves 4 B of data per 8 B line,
#: LL128 120 B per 128 B (Demystifying NCCL, arXiv 2507.04786)
PROTOCOL_BW = {"LL": 0.5, "LL128": 120 / 128, "Simple": 1.0}

ALGORITHMS = ("ring", "tree", "one-shot", "two-shot", "nvls")


@dataclass(frozen=True, slots=True)
class CollectiveCost:
    """Seconds one collective takes, split into latency (alpha) and bandwidth (beta) parts."""

    alpha_s: float
    beta_s: float
    algorithm: str = "none"
    protocol: str = ""

    @property
    def time_s(self) -> float:
        return self.alpha_s + self.beta_s


ZERO = CollectiveCost(0.0, 0.0)


def _hop_s(link: LinkSpec, algorithm: str, protocol: str) -> float:
    """Per-hop latency: the link's (LL) latency scaled by NCCL's ratio for this protocol."""
    table = NCCL_HOP_S[link.transport]
    return link.latency_s * table[(algorithm, protocol)] / table[(algorithm, "LL")]


def _bw(link: LinkSpec, protocol: str = "Simple") -> float:
    return link.bandwidth_Bps * link.efficiency * PROTOCOL_BW[protocol]


def ring_all_reduce(nbytes: float, p: int, link: LinkSpec, protocol: str = "LL",
                    nodes: int = 1, inter: LinkSpec | None = None, nics: int = 1,
                    pcie: PcieHierarchy | None = None) -> CollectiveCost:
    """Ring all-reduce: 2(p-1) steps, each moving n/p bytes per rank.

    Across nodes NCCL counts 2*nodes of the 2(p-1) steps at the network's latency and the ring
    runs at the slower of the NVLink bandwidth and the node's network bandwidth: NCCL spreads its
    channels (parallel rings) over all ``nics`` NICs of a node, so the inter-node leg moves
    ``nics`` x one NIC's bandwidth (nccl-tests on 2 DGX A100 with 8 HDR NICs reach ~190 GB/s busBW).
    Inside one node on PCIe, the chain's steps that cross switches or sockets pay their crossing
    (:func:`simdecode.costmodel.pcie.crossing_penalty`) and the ring runs at its slowest step.
    """
    if p <= 1:
        return ZERO
    steps = 2 * (p - 1)
    inter_steps = 2 * nodes if nodes > 1 and inter is not None else 0
    alpha = NCCL_BASE_S[("ring", protocol)] + (steps - inter_steps) * _hop_s(link, "ring", protocol)
    bw = _bw(link, protocol)
    if inter_steps:
        alpha += inter_steps * _hop_s(inter, "ring", protocol)
        bw = min(bw, _bw(inter, protocol) * nics)
    else:
        extra_s, share = crossing_penalty(pcie, ring_crossings(pcie, p, steps), _hop_s(link, "ring", protocol))
        alpha, bw = alpha + extra_s, bw * share
    return CollectiveCost(alpha, 2 * (p - 1) / p * nbytes / bw, "ring", protocol)


@dataclass(frozen=True, slots=True)
class RingSchedule:
    """A ring all-reduce as its individual transfers (fidelity ``op``): a fixed start-up time,
    then ``rounds`` rounds in which every rank sends ``chunk_bytes`` to its neighbour, each
    transfer serialising for ``serialise_s`` and propagating for ``hop_s``. In isolation:
    fixed + rounds (serialise + hop) == the alpha-beta time of :func:`ring_all_reduce`."""

    fixed_s: float
    rounds: int
    chunk_bytes: float
    serialise_s: float
    hop_s: float


def ring_schedule(time_s: float, protocol: str, nbytes: float, p: int, link: LinkSpec) -> RingSchedule:
    """Expand a single-node ring all-reduce of ``time_s`` (alpha-beta, in ``protocol``) into its
    transfers."""
    rounds = 2 * (p - 1)
    hop = _hop_s(link, "ring", protocol)
    chunk = nbytes / p
    serialise = chunk / _bw(link, protocol)
    return RingSchedule(time_s - rounds * (hop + serialise), rounds, chunk, serialise, hop)


def tree_all_reduce(nbytes: float, p: int, link: LinkSpec, protocol: str = "LL",
                    nodes: int = 1, inter: LinkSpec | None = None, nics: int = 1,
                    pcie: PcieHierarchy | None = None) -> CollectiveCost:
    """NCCL double binary tree: chains inside nodes, a tree across them (tuning.cc); across nodes
    the node's ``nics`` NICs carry the channels in parallel, as for the ring."""
    if p <= 1:
        return ZERO
    per_node = max(1, p // max(nodes, 1))
    alpha = NCCL_BASE_S[("tree", protocol)] + 2 * (per_node - 1) * _hop_s(link, "tree", protocol)
    bw = _bw(link, protocol)
    if nodes > 1 and inter is not None:
        alpha += 2 * math.log2(nodes) * _hop_s(inter, "tree", protocol)
        bw = min(bw, _bw(inter, protocol) * nics)
    else:
        extra_s, share = crossing_penalty(pcie, chain_tree_crossings(pcie, p), _hop_s(link, "tree", protocol))
        alpha, bw = alpha + extra_s, bw * share
    return CollectiveCost(alpha, 2 * (p - 1) / p * nbytes / bw, "tree", protocol)


def _sync_s(p: int, link: LinkSpec) -> float:
    """A flag barrier among p ranks: each signals its p-1 peers, one hop each."""
    return (p - 1) * link.latency_s


def one_shot_all_reduce(nbytes: float, p: int, link: LinkSpec) -> CollectiveCost:
    """Every rank pulls all p-1 peers' buffers and reduces locally: one sync, O(p) bytes."""
    if p <= 1:
        return ZERO
    peers_sharing_ingress = 1 if link.topology == "mesh" else p - 1
    return CollectiveCost(_sync_s(p, link), peers_sharing_ingress * nbytes / _bw(link), "one-shot")


def two_shot_all_reduce(nbytes: float, p: int, link: LinkSpec) -> CollectiveCost:
    """Reduce-scatter then all-gather over direct peer links: two syncs, 2(p-1)/p n bytes."""
    if p <= 1:
        return ZERO
    per_link = 1.0 / (p - 1) if link.topology == "mesh" else 1.0
    return CollectiveCost(2 * _sync_s(p, link), 2 * (p - 1) / p * nbytes / _bw(link) * per_link, "two-shot")


def nvls_all_reduce(nbytes: float, p: int, link: LinkSpec, nccl: bool = True) -> CollectiveCost:
    """NVLink SHARP: the switch reduces and multicasts, so the data crosses each GPU's link once
    each way, whatever p is (at CO-01's measured share of the link bandwidth).

    NCCL's own model charges 23 us of latency (tuning.cc); custom multimem kernels pay two flag
    barriers among the p ranks, 2 (p-1) hops (TRT-LLM MultiShot, physics.md 2.1).
    """
    if p <= 1:
        return ZERO
    alpha = NCCL_NVLS_S if nccl else 2 * _sync_s(p, link)
    return CollectiveCost(alpha, nbytes / (_bw(link) * NVLS_BW_SHARE), "nvls", "Simple" if nccl else "")


def all_reduce(nbytes: float, p: int, link: LinkSpec, runtime: RuntimeSpec, algorithm: str = "auto",
               nodes: int = 1, inter: LinkSpec | None = None, nics: int = 1,
               pcie: PcieHierarchy | None = None) -> CollectiveCost:
    """Cost of one all-reduce of ``nbytes`` per rank over ``p`` ranks, as the runtime runs it.

    ``algorithm`` is ``auto`` or one of :data:`ALGORITHMS`. The runtime's fixed
    ``allreduce_overhead`` is added to the latency part of every collective.
    """
    if p <= 1:
        return ZERO
    candidates = _candidates(nbytes, p, link, runtime, algorithm, nodes, inter, nics, pcie)
    best = min(candidates, key=lambda c: c.time_s)
    return CollectiveCost(best.alpha_s + runtime.allreduce_overhead_s, best.beta_s, best.algorithm, best.protocol)


def scheduled_all_reduce(nbytes: float, p: int, link: LinkSpec, nodes: int = 1,
                         inter: LinkSpec | None = None) -> CollectiveCost:
    """An all-reduce a dataflow compiler schedules at compile time (Groq, Cerebras; Abts et al.
    ISCA 2022): every chip knows when its peers' data lands, so no flags or barriers are
    exchanged. Each rank sends its n bytes straight to every peer and reduces what arrives: one
    hop inside a node, one more across nodes, and the bytes over the rank's ingress ((p-1) n
    behind a switch, n per link on a mesh, where every peer has a link of its own)."""
    if p <= 1:
        return ZERO
    across = nodes > 1 and inter is not None
    alpha = link.latency_s + (inter.latency_s if across else 0.0)
    bw = min(_bw(link), _bw(inter)) if across else _bw(link)
    peers_sharing_ingress = 1 if link.topology == "mesh" else p - 1
    return CollectiveCost(alpha, peers_sharing_ingress * nbytes / bw, "direct")


def _candidates(nbytes, p, link, runtime, algorithm, nodes, inter, nics, pcie=None) -> list[CollectiveCost]:
    if link.topology == "torus" and not (nodes > 1 and inter is not None):
        if algorithm not in ("auto", "ring"):
            raise ValueError(f"allreduce {algorithm!r} has no form on a torus ({link.name!r}): its collectives "
                             "are dimension-ordered rings (auto or ring)")
        from simdecode.costmodel.torus import torus_all_reduce

        return [torus_all_reduce(nbytes, p, link)]
    if runtime.allreduce_impl == "scheduled":
        return [scheduled_all_reduce(nbytes, p, link, nodes if inter is not None else 1, inter)]
    nccl_impl = runtime.allreduce_impl == "nccl"
    cap = runtime.custom_allreduce_max_bytes
    if not nccl_impl and algorithm == "auto" and cap is not None and nbytes >= cap:
        nccl_impl = True  # larger than the custom kernels' buffer: the engine hands it to NCCL
    multi_node = nodes > 1 and inter is not None
    out: list[CollectiveCost] = []
    if algorithm in ("auto", "ring"):
        out += [ring_all_reduce(nbytes, p, link, proto, nodes, inter, nics, pcie) for proto in PROTOCOL_BW]
    if algorithm in ("auto", "tree"):
        out += [tree_all_reduce(nbytes, p, link, proto, nodes, inter, nics, pcie) for proto in PROTOCOL_BW]
    multimem = runtime.allreduce_multimem
    if algorithm == "nvls" or (algorithm == "auto" and not nccl_impl and multimem and link.multicast and p > 2
                               and not multi_node):
        if not link.multicast:
            raise ValueError(f"allreduce 'nvls' needs a multicast-capable switch; link {link.name!r} has none")
        out.append(nvls_all_reduce(nbytes, p, link, nccl=nccl_impl))
    direct_ok = not multi_node
    if algorithm == "one-shot" or (algorithm == "auto" and not nccl_impl and direct_ok):
        out.append(one_shot_all_reduce(nbytes, p, link))
    if algorithm == "two-shot" or (algorithm == "auto" and not nccl_impl and direct_ok):
        out.append(two_shot_all_reduce(nbytes, p, link))
    if not out:
        raise ValueError(f"unknown all-reduce algorithm {algorithm!r}")
    return out


def all_to_all(nbytes: float, p: int, link: LinkSpec, runtime: RuntimeSpec) -> CollectiveCost:
    """All-to-all where each rank sends ``nbytes`` in all to its p-1 peers (MoE dispatch or
    combine, DeepEP-style direct sends): a barrier with the p-1 peers, then the bytes over the
    rank's ingress (on a mesh, p-1 links in parallel) (physics.md 2.1 one-shot pattern)."""
    if p <= 1:
        return ZERO
    per_link = nbytes / (p - 1) if link.topology == "mesh" else nbytes
    return CollectiveCost(runtime.allreduce_overhead_s + _sync_s(p, link), per_link / _bw(link), "all-to-all")


def p2p(nbytes: float, link: LinkSpec, runtime: RuntimeSpec) -> CollectiveCost:
    """One send/receive between pipeline stages: launch + hop latency + n / bw."""
    return CollectiveCost(runtime.allreduce_overhead_s + link.latency_s, nbytes / _bw(link), "p2p")


def all_gather(nbytes_out: float, p: int, link: LinkSpec, runtime: RuntimeSpec,
               pcie: PcieHierarchy | None = None) -> CollectiveCost:
    """All-gather producing ``nbytes_out`` per rank. NCCL and the custom-kernel runtimes (vLLM,
    SGLang gather logits through torch.distributed): a ring, (p-1) hops, (p-1)/p n bytes, at the
    protocol NCCL would pick; on PCIe its chain's crossing steps pay as in :func:`ring_all_reduce`.
    An ``in-kernel`` runtime writes its shard straight into every peer's buffer:
    :func:`direct_all_gather`."""
    if p <= 1:
        return ZERO
    if link.topology == "torus":
        from simdecode.costmodel.torus import torus_all_gather

        c = torus_all_gather(nbytes_out, p, link)
        return CollectiveCost(c.alpha_s + runtime.allreduce_overhead_s, c.beta_s, c.algorithm)
    if runtime.allreduce_impl == "in-kernel":
        c = direct_all_gather(nbytes_out, p, link)
        return CollectiveCost(c.alpha_s + runtime.allreduce_overhead_s, c.beta_s, c.algorithm)
    candidates = []
    crossings = ring_crossings(pcie, p, p - 1)
    for proto in PROTOCOL_BW:
        extra_s, share = crossing_penalty(pcie, crossings, _hop_s(link, "ring", proto))
        alpha = NCCL_BASE_S[("ring", proto)] + (p - 1) * _hop_s(link, "ring", proto) + extra_s
        candidates.append(CollectiveCost(alpha, (p - 1) / p * nbytes_out / (_bw(link, proto) * share), "ring", proto))
    best = min(candidates, key=lambda c: c.time_s)
    return CollectiveCost(best.alpha_s + runtime.allreduce_overhead_s, best.beta_s, "all-gather", best.protocol)


def direct_all_gather(nbytes_out: float, p: int, link: LinkSpec) -> CollectiveCost:
    """Each rank stores its n/p shard into every peer's buffer and raises a flag (the one-shot
    pattern, physics.md 2.1, as KCCL-style in-kernel collectives do): one flag barrier, (p-1) hops,
    then the (p-1) shards arriving at a rank's ingress: behind a switch they share it, (p-1) n/p /
    bw; on a mesh each comes over its own link, n/p / bw. No LL protocol: the data is stored whole
    and a flag follows it.

    8 ranks gathering 8 x 64,128 B of fp16-model logits (fp32, 128,256 / 8 each): xGMI mesh (48 GB/s
    effective per link) 7 x 0.6 us + 64,128 / 48e9 = 4.2 + 1.34 = 5.54 us; NVLink4 (369 GB/s)
    4.2 + 7 x 64,128 / 369e9 = 4.2 + 1.22 = 5.42 us.
    """
    if p <= 1:
        return ZERO
    shard = nbytes_out / p
    arriving = shard if link.topology == "mesh" else (p - 1) * shard
    return CollectiveCost(_sync_s(p, link), arriving / _bw(link), "direct")


def reduce_scatter(nbytes_in: float, p: int, link: LinkSpec, runtime: RuntimeSpec,
                   pcie: PcieHierarchy | None = None) -> CollectiveCost:
    """Reduce-scatter of ``nbytes_in`` per rank (each ends with its n/p of the sums): the first half
    of a ring all-reduce, (p-1) hops and (p-1)/p n bytes over the link (Patarasuk & Yuan 2009), so
    the same alpha-beta cost as :func:`all_gather` of n bytes out (NCCL runs both as one ring pass;
    TensorRT-LLM's ``reducescatter`` after an attention-DP MoE block, costmodel/attention_dp.py)."""
    c = all_gather(nbytes_in, p, link, runtime, pcie)
    return CollectiveCost(c.alpha_s, c.beta_s, "reduce-scatter" if p > 1 else c.algorithm, c.protocol)
