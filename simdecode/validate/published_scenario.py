"""The scenario of one published point: its conditions (hardware, model, engine, precision,
layout, lengths, concurrency) as a scenario mapping, with the workload the source's tool ran
(:mod:`simdecode.validate.published` says which per metric), and devices whose weights live in
SRAM spread over the chips that hold them.
"""

from __future__ import annotations

import re
from typing import Any

from simdecode.validate import conditions as cond
from simdecode.validate import harnesses

#: outputs a framework's own benchmark generates when a table does not say (gpt-fast's
#: generate.py: ``--max_new_tokens`` default 200)
FRAMEWORK_OUTPUT_TOKENS = {"gpt-fast": 200}
#: a per-request decode speed that states no lengths (a vendor's headline figure: Kog, Cerebras) is
#: simulated as a short chat turn of this many prompt and output tokens; at batch 1 the decode of
#: such a turn is the weights' stream (Llama-3.1-70B's KV at 384 tokens of context is 0.1% of its
#: bf16 weights), so the figure hardly depends on the choice
UNSTATED_LENGTHS = {"per_request_decode_tok_s": (128, 256)}
#: genai-perf measures a stable window: this many waves of c requests after one warm-up wave
MEASURED_WAVES = 3


def _first_int(text: Any, pattern: str) -> int | None:
    m = re.search(pattern, str(text), re.IGNORECASE)
    return int(m[1]) if m else None


def build_scenario(c: dict, metric: str, layout: dict, shapes: dict[str, str], case: dict) -> dict[str, Any]:
    """The scenario mapping for one point's conditions (raises NotExpressible)."""
    hw_text = c.get("gpus") or c.get("gpu") or c.get("hardware")
    if not hw_text or "not specified" in str(hw_text).lower():
        raise cond.NotExpressible("no hardware stated")
    gpu, count, power = cond.gpu(str(hw_text))
    model_text = str(c.get("model") or c.get("models") or "")
    if not model_text:
        raise cond.NotExpressible("no model stated")
    short = re.sub(r"\s+(fp16|bf16|fp8|fp4|int8|int4)$", "", re.sub(r"\s*\(.*", "", model_text).strip(), flags=re.I)
    model = cond.model(shapes.get(short.lower(), model_text))
    engine_text = c.get("framework") or c.get("engine") or case.get("source_url", "")
    runtime = cond.runtime(str(engine_text))
    dtype_text = " ".join(str(c[k]) for k in ("quant", "dtype") if c.get(k)) or model_text
    weights = cond.weights_dtype(dtype_text)
    trained = next((cond.TRAINED_LAYOUTS[k] for k, arch in cond.STAND_INS.items()
                    if model == arch and k in cond.TRAINED_LAYOUTS), {})
    tp = layout.get("tp") or (c["tp"] if isinstance(c.get("tp"), int) else None) \
        or _first_int(c.get("parallel", ""), r"tp(\d+)") or trained.get("tp") or count or 1
    pp = layout.get("pp", 1)
    per_node = 8 if (count or 0) >= 8 or "/node" in str(hw_text) or "superpod" in str(hw_text).lower() \
        or tp * pp > (count or 1) else (count or tp * pp)
    per_node = max(1, min(per_node, 8))
    nodes = -(-(tp * pp) // per_node)
    gpu_spec: Any = gpu if power is None else {"preset": gpu, "power_limit": f"{power:g} W"}
    hardware: dict[str, Any] = {"gpu": gpu_spec, "gpus_per_node": per_node, "nodes": nodes}
    on_chip = _device_kind(gpu) != "gpu" and count is None
    if nodes > 1 and not on_chip:
        gbps = _first_int(hw_text, r"(\d+)\s*Gb/s")
        hardware["inter_node_link"] = "ib-hdr" if gbps == 200 else "ib-ndr"
    prompt = _first_int(" ".join(f"{k}={c[k]}" for k in ("prompt_len", "input_len", "isl") if k in c), r"=(\d+)")
    output = _first_int(" ".join(f"{k}={c[k]}" for k in ("output_len", "osl") if k in c), r"=(\d+)")
    bench = harnesses.find(str(case.get("source_url", "")), c, runtime)
    if bench and prompt is None and output is None:
        prompt, output = bench.prompt_tokens, bench.output_tokens
    runtime_spec: Any = runtime
    if bench and bench.static_kv_cache_tokens:
        runtime_spec = {"preset": runtime, "static_kv_cache_tokens": bench.static_kv_cache_tokens}
    output = output or FRAMEWORK_OUTPUT_TOKENS.get(runtime)
    if prompt is None and output is None and metric in UNSTATED_LENGTHS:
        prompt, output = UNSTATED_LENGTHS[metric]
    if prompt is None or output is None:
        raise cond.NotExpressible("prompt or output length not stated")
    batch = int(c.get("batch") or c.get("concurrency") or 1) if not isinstance(c.get("batch"), str) else 1
    workload: dict[str, Any] = {"arrival": {"kind": "closed", "concurrency": batch}, "requests": batch,
                                "prompt_tokens": prompt, "output_tokens": output}
    scenario: dict[str, Any] = {
        "name": str(case["id"]).lower(), "model": model,
        "precision": {"weights": weights, **cond.embeddings_dtype(weights), "kv_cache": cond.kv_dtype(weights, runtime),
                      "activations": "fp16" if weights == "fp16" else "bf16",
                      **{k: v for k, v in cond.module_dtypes(dtype_text).items() if v != weights},
                      **({"group_size": group} if (group := cond.group_size(dtype_text, weights, runtime)) else {})},
        "hardware": hardware, "runtime": runtime_spec, "parallelism": {"tp": tp, "pp": pp},
        "workload": workload, "simulation": {"fidelity": "step"},
    }
    ep = cond.expert_parallel(str(c.get("parallel", "")), tp, runtime)
    if ep > 1:
        scenario["parallelism"]["ep"] = ep
    scenario["parallelism"].update({k: v for k, v in trained.items() if k != "tp"})
    if on_chip:
        _spread_on_chips(scenario)
    if metric.startswith("end_to_end_latency"):
        scenario["scheduler"] = {"policy": "static"}
    if metric == "aggregate_output_tok_s_at_saturation":
        workload.update(requests=(1 + MEASURED_WAVES) * batch, warmup_requests=batch)
    if metric == "tps_per_user_speedup":
        scenario["decoding"] = {"method": "mtp", "speculative_tokens": int(c["nextn"]),
                                "acceptance": {"mean_tokens": float(c["accept_len"])}}
    return scenario


def layout_words(scenario: dict[str, Any], c: dict) -> str:
    """What a scenario reads into the stated layout, for the table's conditions: '; ep 4',
    '; tp 8 delayed (delay 2)', '; pp 4 chips'."""
    par, words = scenario["parallelism"], []
    if par.get("ep", 1) > 1:
        words.append(f"ep {par['ep']}")
    if "tp_delay" in par:
        words.append(f"tp {par['tp']} {par['tp_mode']} (delay {par['tp_delay']})")
    if scenario["hardware"].get("gpus_per_node") == 1 and par.get("pp", 1) > 1 and "pp" not in c:
        words.append(f"pp {par['pp']} chips")
    return "".join(f"; {w}" for w in words)


def _device_kind(gpu: str) -> str:
    from simdecode.presets import resolve

    return str(resolve("gpus", gpu).get("kind", "gpu"))


def _spread_on_chips(scenario: dict[str, Any]) -> None:
    """A device whose weights live in its own SRAM (``kind: sram``), in a number the case does not
    state: the fewest chips that hold the weights and one request's KV at full use of the SRAM
    (:func:`simdecode.costmodel.devices.chips_to_hold`; no engine keeps SRAM back), as a layer
    pipeline (``pp``: a model larger than one chip is split into layer groups, docs/assumptions.md
    section 4), one chip per system (a Cerebras CS-3 holds one wafer), the systems joined by the
    chip's own link (its preset's ``default_link``: the CS-3's 12 x 100 GbE as one 1.2 Tb/s port).
    Llama-3.1-70B bf16 on WSE-3 (44 GB): 4 chips; Llama-3.1-8B: 1."""
    from simdecode.costmodel import devices
    from simdecode.costmodel.feasibility import memory_need
    from simdecode.presets import resolve
    from simdecode.scenario.schema import Scenario

    hw = scenario["hardware"]
    gpu = resolve("gpus", hw["gpu"])
    scenario["scheduler"] = {**scenario.get("scheduler", {}), "memory_utilization": 1.0}
    one = {**scenario, "hardware": {**hw, "gpus_per_node": 1, "nodes": 1}, "parallelism": {"tp": 1, "pp": 1}}
    s = Scenario.model_validate(one)
    need = memory_need(s)
    chips = max(1, devices.chips_to_hold(need.weights, need.kv, s.hardware.gpu, 1.0))
    hw.update(gpus_per_node=1, nodes=chips, nics_per_node=1, inter_node_link=gpu["default_link"])
    scenario["parallelism"] = {**scenario["parallelism"], "tp": 1, "pp": chips}
