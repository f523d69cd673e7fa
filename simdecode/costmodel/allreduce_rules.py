"""When an engine's custom all-reduce kernels run, and when it falls back to NCCL.

vLLM (``vllm/distributed/device_communicators/custom_all_reduce.py``, ``CustomAllreduce.__init__``)
disables its custom all-reduce, logging why, when:

- the world size is not one of 2, 4, 6, 8 (``_SUPPORTED_WORLD_SIZES``);
- more than two GPUs are not fully connected by NVLink ("Custom allreduce is disabled because
  it's not supported on more than two PCIe-only GPUs");
- the GPUs cannot access each other's memory ("your platform lacks GPU P2P capability");
- the group spans nodes (it needs CUDA IPC handles, i.e. one node).

It also hands messages of its buffer's size or more (``max_size``, 8 MiB) to NCCL; decode all-reduces
are far smaller (a 70B model's is 16 KB per token). That is the runtime key ``custom_allreduce_max``
(:mod:`simdecode.costmodel.collectives`), set where the engine's version is known (InferenceX's vLLM
0.10.2 launches, ``validate/inferencex_launch.py``), not decided here.
Other engines' custom kernels (TensorRT-LLM's, PyTorch's intra-node all-reduce in gpt-fast) keep
the runtime's ``allreduce_impl`` as given.
"""

from __future__ import annotations

VLLM_WORLD_SIZES = (2, 4, 6, 8)


def custom_allreduce_fallback(engine: str, impl: str, tp: int, link_transport: str, peer_to_peer: bool,
                              tp_nodes: int) -> str:
    """Why ``engine`` runs NCCL instead of its custom all-reduce for a TP group of ``tp`` GPUs
    over a link of ``link_transport`` ("nvlink", "pcie", "net"); '' when the custom kernels run
    (or the runtime does not use custom kernels)."""
    if impl != "custom" or engine != "vllm" or tp <= 1:
        return ""
    if tp_nodes > 1:
        return f"vLLM's custom all-reduce works inside one node; tp = {tp} spans {tp_nodes} nodes"
    if tp not in VLLM_WORLD_SIZES:
        return f"vLLM's custom all-reduce supports 2, 4, 6 or 8 GPUs, not {tp}"
    if tp > 2 and link_transport != "nvlink":
        return (f"vLLM disables its custom all-reduce on more than two PCIe-only GPUs (tp = {tp} over "
                f"{link_transport}): NCCL runs instead")
    if not peer_to_peer:
        return "vLLM's custom all-reduce needs GPU peer-to-peer access, which these GPUs lack"
    return ""
