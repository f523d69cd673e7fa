"""Published measurements (``published-measurements.yaml``) as validation jobs.

Each case has an ``id`` (its group is the prefix: DEC, BAT, PP, SPEC, CO, HW), ``conditions`` in
words, a ``metric``, a ``value`` and optionally a ``series`` of more points from the same table
(each entry overrides conditions such as ``tp``, ``batch`` or ``concurrency`` and gives its own
values). A series replaces the single value (which is one of its points).

How each metric is simulated (the workload the table's tool ran):

- ``per_request_decode_tok_s``: one request at a time (closed loop, concurrency 1), the stated
  prompt and output lengths; prediction: mean tokens/s of the request's decode. A case whose source
  repository publishes the harness it ran (:mod:`simdecode.validate.harnesses`) takes that harness's
  lengths and KV cache, and when its clock covered the prefill the prediction is output tokens over
  the whole request's time. A quoted Markdown table of engines by dtype gives one point per cell
  (:func:`_table_entries`).
- ``end_to_end_latency`` (FasterTransformer): a static batch of ``batch`` requests; prediction:
  mean end-to-end latency.
- ``ITL``: closed loop at the stated concurrency; prediction: mean TPOT (time between tokens).
- ``aggregate_output_tok_s_at_saturation`` (NIM / genai-perf): closed loop at each concurrency c,
  c warm-up requests then 3 c measured (genai-perf reports a stable window); predictions: mean
  TTFT, mean ITL and aggregate output tokens/s, one row each. The requests have fixed lengths,
  so a simultaneous start would keep them in lock-step waves forever in a deterministic
  simulation, and so would any even spacing (a clump of arrivals queues for prefill at the rate
  it is served, wave after wave). Real servers' jitter spreads the users out of step: in the
  stable window genai-perf measures, each user is at an unrelated point of its cycle. The c users
  therefore start at independent uniform times over one cycle at this concurrency (``ramp:
  random``; the cycle from a first simulation, runner._ramped), and their arrivals collide for
  prefill as often as independent users' do.
- ``tps_per_user_speedup`` (MTP): multi-token prediction with ``nextn`` proposals fed the
  published mean accepted length; prediction: per-user speed-up over standard decoding.

- ``allreduce_latency_small`` measured with nccl-tests' ``all_reduce_perf`` (CO): one all-reduce
  costed on the stated GPUs (:mod:`simdecode.validate.microbench`); prediction: microseconds.

Datasheet figures (HW) are inputs of the presets, not predictions; the other collective
microbenchmarks (CO), qualitative statements and ranges are listed as not expressible, with the
reason.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from simdecode.validate import conditions as cond
from simdecode.validate import harnesses, microbench, superseded
from simdecode.validate.cases import CaseSet, Job, Point

#: outputs a framework's own benchmark generates when a table does not say (gpt-fast's
#: generate.py: ``--max_new_tokens`` default 200)
FRAMEWORK_OUTPUT_TOKENS = {"gpt-fast": 200}
#: a per-request decode speed that states no lengths (a vendor's headline figure: Kog, Cerebras) is
#: simulated as a short chat turn of this many prompt and output tokens; at batch 1 the decode of
#: such a turn is the weights' stream (Llama-3.1-70B's KV at 384 tokens of context is 0.1% of its
#: bf16 weights), so the figure hardly depends on the choice
UNSTATED_LENGTHS = {"per_request_decode_tok_s": (128, 256)}
#: conditions of a deployment that one case from a source states and another case from the same
#: source, on the same hardware and model, leaves unstated (SPEC-02's MTP rows and DEC-12's
#: no-MTP row are one table of one blog: the layout and precision DEC-12 states are SPEC-02's)
SHARED_CONDITIONS = ("parallel", "dtype")
#: genai-perf measures a stable window: this many waves of c requests after one warm-up wave
MEASURED_WAVES = 3
_LAYOUT_MS = re.compile(r"^(?:tp(?P<tp>\d+)(?:pp(?P<pp>\d+))?_)?ms$")
NOT_DECODE = {
    "spec_sheet": "a datasheet figure: an input of the GPU and link presets, not a prediction",
    "nvlink_bw_per_gpu_bidir": "a datasheet figure: an input of the link presets, not a prediction",
    "link_bandwidth": "a datasheet figure: an input of the link presets, not a prediction",
    "qualitative_direction": "a qualitative statement, not a number (sign-checked by tests/physics/test_pipeline_accuracy.py)",
    "sync_and_launch_overheads": "a monokernel's internal overheads, not an end-to-end figure",
    "allreduce_speedup_vs_ring": "an upper bound ('up to 3x'), not a measurement",
}


def load(path: Path) -> CaseSet:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a YAML list of cases (id, group, conditions, metric, value)")
    shapes = _model_shapes(data)
    data = _share_conditions(data)
    out = CaseSet()
    for case in data:
        if isinstance(case, dict) and "id" in case:
            out.extend(case_jobs(case, shapes))
    return out


def _deployment(case: dict) -> tuple[str, str, str] | None:
    """(source, hardware, model preset) of a case, or None when any is missing or unknown."""
    c = (case or {}).get("conditions") or {}
    hw = c.get("gpus") or c.get("gpu") or c.get("hardware")
    try:
        model = cond.model_key(str(c.get("model", "")))
    except cond.NotExpressible:
        return None
    source = str(case.get("source_url", "")).split(" ")[0]
    return (source, str(hw).strip().lower(), model) if source and hw else None


def _share_conditions(cases: list) -> list:
    """Cases with the :data:`SHARED_CONDITIONS` they leave unstated taken from the one case of the
    same source, hardware and model that states them (when two such cases state different values,
    none is taken)."""
    stated: dict[tuple, dict[str, set]] = {}
    for case in cases:
        key = _deployment(case) if isinstance(case, dict) else None
        for k in SHARED_CONDITIONS:
            if key and (case.get("conditions") or {}).get(k):
                stated.setdefault(key, {}).setdefault(k, set()).add(str(case["conditions"][k]))
    out = []
    for case in cases:
        key = _deployment(case) if isinstance(case, dict) else None
        given = {k: next(iter(v)) for k, v in stated.get(key, {}).items() if len(v) == 1}
        missing = {k: v for k, v in given.items() if not (case.get("conditions") or {}).get(k)}
        out.append({**case, "conditions": {**case["conditions"], **missing}} if missing else case)
    return out


def _model_shapes(cases: list) -> dict[str, str]:
    """Models whose shape one case states ('GPT-20B (44 layers, 48 heads x 128)'), by name, so
    that another case naming the same model ('GPT-20B fp16') is expressed with that shape."""
    shapes = {}
    for case in cases:
        text = str(((case or {}).get("conditions") or {}).get("model", ""))
        if re.search(r"\d+\s*layers?", text):
            shapes[re.sub(r"\s*\(.*", "", text).strip().lower()] = text
    return shapes


def group_of(case_id: str) -> str:
    return str(case_id).split("-")[0]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


def case_jobs(case: dict, shapes: dict[str, str]) -> CaseSet:
    out = CaseSet()
    cid, metric = str(case["id"]), str(case.get("metric", ""))
    group, conditions = group_of(cid), dict(case.get("conditions") or {})
    source = str(case.get("source_url", "")).split(" ")[0]
    summary = _summary(conditions)

    def skip(reason: str, value: Any = None) -> CaseSet:
        measured = _number(value if value is not None else case.get("value"))
        out.skipped.append(Point(cid, group, summary, metric, str(case.get("unit", "")),
                                 measured if measured is not None else math.nan, reason=reason, source=source))
        return out

    if metric in NOT_DECODE:
        return skip(NOT_DECODE[metric])
    if microbench.expressible(case):
        try:
            scenario, nbytes = microbench.scenario_and_message(case)
        except cond.NotExpressible as exc:
            return skip(str(exc))
        point = Point(cid, group, summary + f"; all-reduce of {nbytes} B", "all-reduce time", "us",
                      float(case["value"]), probe=microbench.PROBE, source=source)
        out.jobs.append(Job(cid, scenario, [point], message_bytes=nbytes))
        return out
    if group == "CO" or metric.startswith("allreduce"):
        return skip("a collective microbenchmark, not a decode (tests/physics/test_collective_calibration.py "
                    "checks the all-reduce model against it)")
    entries = case.get("series") or _table_entries(case) or _quoted_entries(case)
    failed: list[tuple[dict, str]] = []
    for entry in entries:
        try:
            rows = _rows(case, metric, entry)
        except cond.NotExpressible as exc:
            failed.append((entry, str(exc)))
            continue
        merged = {**conditions, **{k: v for k, v in entry.items() if not _is_value_key(k)}}
        for label, metric_name, unit, measured, probe, layout in rows:
            name = f"{cid}[{label}]" if label else cid
            point = Point(name, group, _summary(merged, layout), metric_name, unit, measured, probe=probe, source=source)
            try:
                scenario = build_scenario(merged, metric, layout, shapes, case)
                gpu, rt = scenario["hardware"]["gpu"], scenario["runtime"]
                kernel = cond.is_kernel_side(scenario["model"], scenario["precision"]["weights"],
                                             gpu if isinstance(gpu, str) else gpu["preset"],
                                             rt if isinstance(rt, str) else rt["preset"])
            except cond.NotExpressible as exc:
                out.skipped.append(_replace(point, reason=str(exc)))
                continue
            words = _layout_words(scenario, merged)
            bench = harnesses.find(str(case.get("source_url", "")), merged, rt if isinstance(rt, str) else rt["preset"])
            if bench:
                words += f"; {bench.words()}"
                if bench.with_prefill and probe == "per_request_tps":  # the clock covered the prefill too
                    point = _replace(point, probe="generate_tps")
            assumed = cond.gpu_assumption(str(merged.get("gpus") or merged.get("gpu") or merged.get("hardware") or ""))
            words += f"; {assumed}" if assumed else ""
            kernel = superseded.withdrawn(str(case.get("source_url", "")), str(case.get("quote", ""))) or kernel
            point = _replace(point, kernel_side=kernel, conditions=point.conditions + words)
            key = repr(sorted(_flatten(scenario).items()))
            job = next((j for j in out.jobs if j.key == key), None)
            if job is None:
                job = Job(key, scenario, ramp_from_single=metric == "aggregate_output_tok_s_at_saturation")
                out.jobs.append(job)
            job.points.append(point)
    if failed and not out.jobs and not out.skipped:  # nothing of the case expressible: one row, one reason
        return skip(failed[0][1])
    for entry, reason in failed:  # some figures of a table expressible, these not: each listed with its reason
        merged = {**conditions, **{k: v for k, v in entry.items() if not _is_value_key(k)}}
        label = _label(entry, {})
        measured = _number(entry.get("tok_s"))
        unit = "tok/s" if "tok_s" in entry else str(case.get("unit", ""))  # a cell's own figure, not the case's
        out.skipped.append(Point(f"{cid}[{label}]" if label else cid, group, _summary(merged), metric,
                                 unit, measured if measured is not None else math.nan,
                                 reason=reason, source=source))
    for job in out.jobs:
        job.key = job.points[0].case
    return out


#: a cell's figure: '33.2 tokens/s', '71.5 tokens/s (2.15x)', '47.4'
_CELL_FIGURE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:tokens?\s*/\s*s|tok/s)?\b")


def _table_entries(case: dict) -> list[dict]:
    """A per-request speed quoted as a Markdown table whose columns are the alternatives a condition
    lists with '/' ('dtype: fp16 / int4'), one row per engine or method: one entry per cell, the row's
    label as its ``framework``, the column as that condition. EAGLE's README ('| gpt-fast | 33.2
    tokens/s | 47.4 tokens/s | | EAGLE+gpt-fast | 71.5 tokens/s (2.15x) | 82.5 tokens/s (1.74x) |',
    dtype 'fp16 / int4') -> gpt-fast at fp16 33.2 and int4 47.4, EAGLE+gpt-fast at 71.5 and 82.5.
    Only when the case's own value is one of the cells; else [] (the case is read otherwise)."""
    if case.get("metric") != "per_request_decode_tok_s":
        return []
    conditions = case.get("conditions") or {}
    columns = next(((k, [a.strip() for a in str(v).split("/")]) for k, v in conditions.items()
                    if isinstance(v, str) and "/" in v and k in ("dtype", "quant")), None)
    if columns is None:
        return []
    key, names = columns
    entries = []
    for row in re.split(r"\|\s*\|", str(case.get("quote", ""))):
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) != len(names) + 1:
            continue
        figures = [_CELL_FIGURE.match(c) for c in cells[1:]]
        if not cells[0] or not all(figures):
            continue
        entries += [{"framework": cells[0], key: name, "tok_s": float(f[1])} for name, f in zip(names, figures)]
    if _number(case.get("value")) not in [e["tok_s"] for e in entries]:
        return []
    return entries


def _quoted_entries(case: dict) -> list[dict]:
    """A case without a series, as the points of its quote: a quote that ties several per-request
    speeds to machines ('on 8x MI300X ... and 2,100 on 8x H200') or models ('for Llama3.1 8B and 450
    ... for Llama3.1 70B') gives one entry per figure, the case's own value as stated (entry {})
    and each other figure with its machine ('on': the case's hardware key) or model ('for').
    Any other case is its value alone: [{}]."""
    if case.get("metric") != "per_request_decode_tok_s":
        return [{}]
    figures = cond.quoted_figures(case.get("quote", ""))
    value = _number(case.get("value"))
    if len(figures) < 2 or value not in [v for v, _, _ in figures]:
        return [{}]
    conditions = case.get("conditions") or {}
    hw_key = next((k for k in ("gpus", "gpu", "hardware") if conditions.get(k)), "gpus")
    own = next(f for f in figures if f[0] == value)
    entries: list[dict] = [{}]
    for v, word, what in figures:
        if (v, word, what) != own:
            entries.append({hw_key if word == "on" else "model": what, "tok_s": v})
    return entries


def _replace(point: Point, **changes) -> Point:
    from dataclasses import replace

    return replace(point, **changes)


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix: repr(d)}


def _is_value_key(key: str) -> bool:
    return key in ("tok_s", "speedup", "ttft_ms", "itl_ms", "tput_tok_s", "tps_user",
                   "approx_tok_s", "reported_mem_bw_GBps") or bool(_LAYOUT_MS.match(key))


def _label(entry: dict, layout: dict) -> str:
    parts = [f"{k}={v}" for k, v in entry.items() if not _is_value_key(k)]
    parts += [f"{k}={v}" for k, v in layout.items()]
    return ",".join(parts)


def _rows(case: dict, metric: str, entry: dict) -> list[tuple[str, str, str, float, str, dict]]:
    """(label, metric, unit, measured, probe, layout overrides) for one series entry."""
    value = case.get("value")
    unit = str(case.get("unit", ""))
    if metric == "per_request_decode_tok_s":
        v = _number(entry.get("tok_s", value if not entry else None))
        if v is None:
            raise cond.NotExpressible(f"no single figure ({value!r}, {unit})")
        method = cond.speculative_method(str(entry["framework"]) if "framework" in entry else unit)
        if method:
            raise cond.NotExpressible(method)
        if not entry and "lower bound" in unit.lower():
            raise cond.NotExpressible("a lower bound ('over'), not a measured figure")
        return [(_label(entry, {}), "tokens/s per request", "tok/s", v, "per_request_tps", {})]
    if metric.startswith("end_to_end_latency"):
        rows = []
        keys = [k for k in entry if _LAYOUT_MS.match(k)] or ["ms"]
        for k in keys:
            m = _LAYOUT_MS.match(k)
            layout = {}
            if m["tp"]:
                layout["tp"] = int(m["tp"])
            if m["pp"]:
                layout["pp"] = int(m["pp"])
            if not layout and metric.endswith("_tp8"):
                layout["tp"] = 8
            v = _number(entry.get(k, value if not entry else None))
            if v is not None:
                rows.append((_label(entry, layout), "end-to-end latency", "ms", v, "e2e_ms", layout))
        return rows
    if metric == "ITL":
        return [(_label(entry, {}), "ITL", "ms", float(value), "tpot_ms", {})]
    if metric == "aggregate_output_tok_s_at_saturation":
        rows = []
        for key, name, unit_, probe in (("ttft_ms", "TTFT", "ms", "ttft_ms"), ("itl_ms", "ITL", "ms", "tpot_ms"),
                                        ("tput_tok_s", "aggregate tokens/s", "tok/s", "steady_aggregate_tps")):
            if _number(entry.get(key)) is not None:
                rows.append((_label(entry, {}) + f" {name}", name, unit_, float(entry[key]), probe, {}))
        return rows
    if metric == "tps_per_user_speedup":
        if not entry.get("nextn") or _number(entry.get("speedup")) is None:
            return []
        return [(_label({"nextn": entry["nextn"]}, {}), "speed-up per user", "x", float(entry["speedup"]), "speedup", {})]
    raise cond.NotExpressible(f"metric {metric!r} ({value!r} {unit}): "
                              + ("a range, not a figure" if isinstance(value, str) else "no workload stated to reproduce it"))


def _short(text: object) -> str:
    """A condition's first phrase: '8x A100-80GB SXM, power-limited 330 W, ...' -> '8x A100-80GB SXM'."""
    return re.split(r"[,(;]", str(text))[0].strip()


def _summary(c: dict, layout: dict | None = None) -> str:
    parts = [_short(c[k]) for k in ("model", "gpus", "gpu", "hardware", "framework", "engine", "dtype") if c.get(k)]
    for k in ("tp", "batch", "concurrency", "nextn", "quant"):
        if k in c and not isinstance(c[k], str) or k in ("quant",) and c.get(k):
            parts.append(f"{k} {c[k]}")
    for k, v in (layout or {}).items():
        parts.append(f"{k} {v}")
    return "; ".join(parts)


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


def _layout_words(scenario: dict[str, Any], c: dict) -> str:
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
