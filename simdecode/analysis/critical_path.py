"""One decode token's critical path (what ``simdecode explain`` reports), from a scenario.

:func:`critical_path` builds the batch-``B`` decode step of every pipeline stage (the same step
plans the engine runs), folds each on its two streams (compute, communication) and splits the
per-token time into memory-bound compute, math-bound compute, weight decode (the busy time the
dequantisation of weight-only formats decides: Marlin's FP4 decode on the INT32 pipe,
costmodel/efficiency.dequant_bound_seconds), the NVFP4 GEMMs' serial k-loops (costmodel/fp4_gemm.py),
kernel launches, host time, exposed communication and pipeline hops (physics.md 0, 5.1): the fold's
split (costmodel/fold.Fold), which a run's accounting uses too. The largest part names the
bottleneck, by the rule a run's summary applies (analysis/bottleneck.py). No
simulation, no simpy: every number comes from the plan, its fold and the collective cost model.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from simdecode.analysis import bottleneck as bottleneck_mod
from simdecode.analysis.bottleneck import weight_decode
from simdecode.analysis.scaling import TpScaling, tp_scaling
from simdecode.costmodel import attention_dp, collectives, devices
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.feasibility import check_fits
from simdecode.costmodel.pcie import summary as pcie_summary
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import CHANGES_MODEL, Stream, build_stage_plan

COLLECTIVE_NAMES = {"allreduce": "all-reduce", "allreduce.final": "final all-reduce (lane average)",
                    "allreduce.embed": "embedding all-reduce", "gather": "all-gather of the logits"}
#: the MoE exchanges under attention data parallelism (costmodel/attention_dp.py)
ADP_COLLECTIVE_NAMES = {"dispatch": "MoE all-gather of every rank's tokens",
                        "combine": "MoE reduce-scatter back to each rank"}
#: a compute op's named parts (costmodel/efficiency.Part.term) in words, in display order
TERM_NAMES = {"attention": "attention", "mlp": "dense MLP", "experts": "MoE experts",
              "routing": "MoE routing and permute", "embedding": "embedding", "lm_head": "LM head and sampler",
              "residual stream": "residual add + norm", "fp4 k-loop": "NVFP4 GEMM k-loops",
              "mtp": "MTP input norms and projection", "mtp_glue": "MTP draft sampling and input shifting"}


def critical_path(scenario, context_tokens: int | None = None, batch: int = 1,
                  scaling: TpScaling | None = None) -> dict[str, Any]:
    """One decode step of ``batch`` sequences, each with ``context_tokens`` cached (default: the
    workload's prompt length), on ``scenario``'s deployment: where one token's time goes.

    Returns plain numbers (seconds, bytes, FLOPs): the setup, each stage's parts, the pipeline
    hops, ``parts_s`` and ``total_s`` of one token, ``shares`` by bottleneck label, the
    ``bottleneck`` (with ``parts_by_label_s``, seconds by bottleneck label), ``terms_s`` (compute
    seconds by module: attention, MoE experts, MoE routing and permute, ..., each busy and launch), the roofline and
    ``tp_scaling`` (``scaling``: a :func:`tp_scaling` already computed for this context)."""
    if context_tokens is None:
        context_tokens = scenario.workload.prompt_tokens
    dep = Deployment.from_scenario(scenario)
    check_fits(scenario, dep)
    rates, par, hw = dep.rates, scenario.parallelism, scenario.hardware
    window = dep.model.sliding_window if dep.model.layer_types else None
    shape = BatchShape.decode([context_tokens] * batch, window)

    stages, hops, chosen = [], [], None
    for s in range(dep.pp):
        plan = build_stage_plan(dep, s, shape)
        f = fold(plan)
        mem_bytes = flops = launch = dequant_bytes = dequant_hidden_s = 0.0
        coll: Counter[str] = Counter()
        busy_by_term: Counter[str] = Counter()
        launch_by_term: Counter[str] = Counter()
        for op in plan:
            if op.stream is Stream.COMM:
                coll[op.kind] += 1
            elif op.kind != "host":
                for term, busy, kernels_s in op.cost.terms:
                    busy_by_term[term] += busy
                    launch_by_term[term] += kernels_s
                launch += op.cost.launch_s
                # the bytes and FLOPs that hide behind the weight decode leave the memory or math row
                # with its time (the fold's split, costmodel/fold.Fold)
                dequant_bytes += op.cost.dequant_bound_bytes
                dequant_hidden_s += op.cost.dequant_hidden_s
                if op.cost.memory_bound:
                    mem_bytes += op.cost.hbm_bytes - op.cost.dequant_bound_bytes
                else:
                    flops += op.cost.flops - op.cost.dequant_bound_flops
        groups = []
        for kind, count in coll.items():
            c = plan.costs[kind]
            name = ADP_COLLECTIVE_NAMES[kind] if dep.attention_dp and kind in ADP_COLLECTIVE_NAMES else \
                COLLECTIVE_NAMES.get(kind, kind)
            groups.append({"kind": kind, "name": name, "count": count, "bytes": c.net_bytes,
                           "time_s": c.time_s, "alpha_s": c.alpha_s, "beta_s": c.time_s - c.alpha_s,
                           "algorithm": c.algorithm, "protocol": c.protocol})
            if kind.startswith("allreduce") and (chosen is None or kind == "allreduce"):
                chosen = groups[-1]  # the per-module all-reduce when there is one
        layers = dep.stage_layers(s)
        stages.append({
            "stage": s, "first_layer": layers.start, "last_layer": layers.stop - 1, "layers": len(layers),
            "weight_bytes_per_gpu": dep.weight_bytes_per_gpu(s),
            # attention DP: one GPU caches only its rank's sequences (costmodel/attention_dp.py)
            "kv_bytes_per_gpu": dep.kv_bytes_per_token_per_gpu(s) * attention_dp.rank_shape(dep, shape).kv_read_tokens,
            "hbm_bytes": f.hbm_bytes, "memory_bytes": mem_bytes, "memory_s": f.stream_s,
            "math_flops": flops, "math_s": f.math_s,
            "dequant_s": f.dequant_s, "dequant_bytes": dequant_bytes, "dequant_hidden_s": dequant_hidden_s,
            "serial_s": f.serial_s,
            "kernels": round(launch / rates.kernel_s) if rates.kernel_s > 0 else 0, "kernel_s": rates.kernel_s,
            "launch_s": f.launch_s, "host_s": f.host_s, "collectives": groups, "comm_s": f.comm_s,
            "hidden_comm_s": max(0.0, f.comm_s - f.exposed_comm_s), "exposed_comm_s": f.exposed_comm_s,
            "exposed_alpha_s": f.exposed_alpha_s, "exposed_beta_s": f.exposed_beta_s,
            "ideal_s": f.ideal_s, "time_s": f.makespan_s,
            "terms": {term: {"busy_s": busy_by_term[term], "launch_s": launch_by_term[term]}
                      for term in TERM_NAMES if term in busy_by_term},
        })
        if s + 1 < dep.pp:
            msg = shape.new_tokens * dep.model.hidden_size * dep.act_bytes_per_value
            c = collectives.p2p(msg, dep.pp_link, dep.runtime)
            hops.append({"from_stage": s, "to_stage": s + 1, "bytes": msg, "link": dep.pp_link.name,
                         "time_s": c.time_s, "alpha_s": c.alpha_s, "beta_s": c.beta_s})

    # a lock-step pipeline (Groq) holds every stage for the slowest one's time: the rest is a wait
    periods = devices.stage_periods(dep.gpu, [st["time_s"] for st in stages])
    for st, period in zip(stages, periods):
        st["lockstep_wait_s"] = period - st["time_s"]
    lockstep_s = sum(st["lockstep_wait_s"] for st in stages)
    parts = {
        "memory": sum(st["memory_s"] for st in stages), "compute": sum(st["math_s"] for st in stages),
        "dequant": sum(st["dequant_s"] for st in stages), "serial": sum(st["serial_s"] for st in stages),
        "launch": sum(st["launch_s"] for st in stages), "host": sum(st["host_s"] for st in stages),
        "communication": sum(st["exposed_comm_s"] for st in stages), "pipeline": sum(h["time_s"] for h in hops) + lockstep_s,
    }
    total = sum(st["time_s"] for st in stages) + parts["pipeline"]
    ideal = sum(st["ideal_s"] for st in stages)
    terms: dict[str, dict[str, float]] = {}  # compute time by module over the stages (busy and launches)
    for st in stages:
        for term, v in st["terms"].items():
            acc = terms.setdefault(term, {"busy_s": 0.0, "launch_s": 0.0})
            acc["busy_s"] += v["busy_s"]
            acc["launch_s"] += v["launch_s"]
    decode = weight_decode(dep)
    grouped = bottleneck_mod.by_label(parts, decode["label"])
    bottleneck = bottleneck_mod.name(parts, decode["label"])
    if scaling is None:
        scaling = tp_scaling(scenario, context_tokens)
    data = {
        "scenario": scenario.name, "context_tokens": context_tokens, "batch": batch,
        "setup": {"model": dep.model.name, "gpu": hw.gpu.name, "gpus": dep.tp * dep.pp, "total_gpus": hw.total_gpus,
                  "device_kind": hw.gpu.kind, "device_vendor": hw.gpu.vendor,
                  "tp": dep.tp, "pp": dep.pp, "dp": par.dp, "tp_mode": dep.tp_mode, "runtime": dep.runtime.name,
                  "ep": dep.ep, "attention_dp": dep.attention_dp,
                  "link": dep.link.name, "allreduce_requested": dep.allreduce, "allreduce": chosen,
                  **_allreduce_impl(scenario, dep),
                  "pcie": pcie_summary(dep.pcie if dep.tp_nodes == 1 else None, dep.tp,
                                       chosen["algorithm"] if chosen else ""),
                  "changes_model": dep.tp > 1 and dep.tp_mode in CHANGES_MODEL,
                  "peak_bandwidth_Bps": rates.peak_bandwidth_Bps, "bandwidth_Bps": rates.bandwidth_Bps,
                  "peak_flops_per_s": rates.peak_flops_per_s, "flops_per_s": rates.flops_per_s,
                  "weight_decode": decode},
        "stages": stages, "hops": hops, "lockstep_wait_s": lockstep_s, "parts_s": parts, "total_s": total,
        "terms_s": terms,
        "shares": {k: v / total for k, v in grouped.items()},
        "tokens_per_s_per_request": 1.0 / total, "aggregate_tokens_per_s": batch / total,
        "roofline_tokens_per_s": 1.0 / ideal, "roofline_fraction": ideal / total,
        "bottleneck": bottleneck,
        "tp_scaling": scaling.as_dict(),
        "parts_by_label_s": dict(grouped),
    }
    return data


def _allreduce_impl(scenario, dep: Deployment) -> dict[str, str]:
    """The all-reduce implementation that runs (``allreduce_impl``), why the engine runs NCCL
    instead of its custom kernels (``allreduce_fallback``, '' if it does not), and the engine's own
    rule for picking among its kernels (``allreduce_rule``, '' where simdecode picks the fastest)."""
    from simdecode.costmodel.allreduce_rules import custom_allreduce_fallback

    rt = scenario.runtime
    why = custom_allreduce_fallback(rt.engine, rt.allreduce_impl, dep.tp, dep.link.transport,
                                    scenario.hardware.gpu.peer_to_peer, dep.tp_nodes)
    rule = ""
    if rt.engine == "trt-llm" and dep.runtime.allreduce_impl == "custom" and dep.allreduce == "auto" and dep.tp > 1:
        rule = ("TensorRT-LLM's AUTO strategy: one-shot up to 128 tokens whatever the size, two-shot above, NCCL "
                "past its IPC workspace (costmodel/trtllm_allreduce.py)")
    return {"allreduce_impl": dep.runtime.allreduce_impl, "allreduce_fallback": why, "allreduce_rule": rule}
