"""Collective microbenchmarks (group CO) as validation points: nccl-tests' ``all_reduce_perf``.

A case whose ``cmd`` runs ``all_reduce_perf`` and whose metric is a small-message all-reduce time
becomes a job that costs one all-reduce with the cost model: the GPUs from ``conditions.gpus``
(their preset's link, peer-to-peer and the node's default PCIe switches and sockets), ``-g`` of
them in one node, a message of ``-b`` bytes, NCCL choosing its algorithm. nccl-tests launch the
collectives back to back without CUDA graphs, so launches overlap the previous one and the
runtime's per-collective overhead is left out (as tests/physics/test_collective_calibration.py
does). Cases that force an algorithm the cost model does not have (NVLSTree) or run in CUDA
graphs stay not expressible, with the reason.
"""

from __future__ import annotations

import re
from typing import Any

from simdecode.validate import conditions as cond

PROBE = "allreduce_us"
METRICS = ("allreduce_latency_small",)


def expressible(case: dict) -> bool:
    """A case this module turns into a job (others keep the CO group's reason)."""
    c = case.get("conditions") or {}
    return str(case.get("metric")) in METRICS and "all_reduce_perf" in str(c.get("cmd", ""))


def scenario_and_message(case: dict) -> tuple[dict[str, Any], int]:
    """The scenario mapping whose deployment the all-reduce runs on, and the message in bytes
    (raises :class:`~simdecode.validate.conditions.NotExpressible`)."""
    c = case.get("conditions") or {}
    cmd, algo = str(c.get("cmd", "")), str(c.get("algo", ""))
    if "nvls" in algo.lower() or "NCCL_ALGO=NVLS" in cmd:
        raise cond.NotExpressible(f"algorithm {algo or 'NVLS'!r}: NCCL's NVLS tree is not modelled")
    if c.get("cuda_graphs") is True or re.search(r"(^|\s)-G\s*[1-9]", cmd):
        raise cond.NotExpressible("collectives replayed in CUDA graphs (launch and synchronisation not modelled)")
    gpu, count, _ = cond.gpu(str(c.get("gpus", "")))
    m = re.search(r"(?:^|\s)-g\s*(\d+)", cmd)
    ranks = int(m[1]) if m else count
    size = re.search(r"(?:^|\s)-b\s*(\d+)(?:\s|$)", cmd)
    if not ranks or ranks < 2 or not size:
        raise cond.NotExpressible("the command names no GPU count (-g) or message size (-b, in bytes)")
    scenario = {"name": f"{case['id']}-all-reduce", "model": "llama-3.2-1b",
                "hardware": {"gpu": gpu, "gpus_per_node": ranks}, "parallelism": {"tp": ranks}}
    return scenario, int(size[1])


def predict_us(scenario: dict[str, Any], nbytes: int) -> float:
    """One all-reduce of ``nbytes`` over the scenario's TP group, microseconds (NCCL, no
    per-collective launch overhead)."""
    from simdecode.costmodel.collectives import all_reduce
    from simdecode.costmodel.deployment import Deployment
    from simdecode.scenario.schema import Scenario

    dep = Deployment.from_scenario(Scenario.model_validate(scenario))
    nccl = dep.runtime.model_copy(update={"allreduce_impl": "nccl", "allreduce_overhead_s": 0.0})
    return all_reduce(nbytes, dep.tp, dep.link, nccl, "auto", 1, None, 1, dep.pcie).time_s * 1e6
