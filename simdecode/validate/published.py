"""Published measurements (``published-measurements.yaml``) as validation jobs.

Each case has an ``id`` (its group is the prefix: DEC, BAT, PP, SPEC, CO, HW), ``conditions`` in
words, a ``metric``, a ``value`` and optionally a ``series`` of more points from the same table
(each entry overrides conditions such as ``tp``, ``batch`` or ``concurrency`` and gives its own
values). A series replaces the single value (which is one of its points).

How each metric is simulated (the workload the table's tool ran):

- ``per_request_decode_tok_s``: one request at a time (closed loop, concurrency 1), the stated
  prompt and output lengths; prediction: mean tokens/s of the request's decode.
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

Datasheet figures (HW) are inputs of the presets, not predictions; collective microbenchmarks
(CO), qualitative statements and ranges are listed as not expressible, with the reason.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from simdecode.validate import conditions as cond
from simdecode.validate.cases import CaseSet, Job, Point

#: outputs a framework's own benchmark generates when a table does not say (gpt-fast's
#: generate.py: ``--max_new_tokens`` default 200)
FRAMEWORK_OUTPUT_TOKENS = {"gpt-fast": 200}
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
    out = CaseSet()
    for case in data:
        if isinstance(case, dict) and "id" in case:
            out.extend(case_jobs(case, shapes))
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
    if group == "CO" or metric.startswith("allreduce"):
        return skip("a collective microbenchmark, not a decode (tests/physics/test_collective_calibration.py "
                    "checks the all-reduce model against it)")
    entries = case.get("series") or [{}]
    for entry in entries:
        try:
            rows = _rows(case, metric, entry)
        except cond.NotExpressible as exc:
            return skip(str(exc))
        merged = {**conditions, **{k: v for k, v in entry.items() if not _is_value_key(k)}}
        for label, metric_name, unit, measured, probe, layout in rows:
            name = f"{cid}[{label}]" if label else cid
            point = Point(name, group, _summary(merged, layout), metric_name, unit, measured, probe=probe, source=source)
            try:
                scenario = build_scenario(merged, metric, layout, shapes, case)
                kernel = cond.is_kernel_side(scenario["model"], scenario["precision"]["weights"])
            except cond.NotExpressible as exc:
                out.skipped.append(_replace(point, reason=str(exc)))
                continue
            point = _replace(point, kernel_side=kernel)
            key = repr(sorted(_flatten(scenario).items()))
            job = next((j for j in out.jobs if j.key == key), None)
            if job is None:
                job = Job(key, scenario, ramp_from_single=metric == "aggregate_output_tok_s_at_saturation")
                out.jobs.append(job)
            job.points.append(point)
    for job in out.jobs:
        job.key = job.points[0].case
    return out


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
        if "eagle" in unit.lower() or "lower bound" in unit.lower():
            raise cond.NotExpressible("a speculative method whose draft and acceptance are not stated, or a lower bound")
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
    parts = [_short(c[k]) for k in ("model", "gpus", "gpu", "hardware", "framework", "dtype") if c.get(k)]
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
    tp = layout.get("tp") or (c["tp"] if isinstance(c.get("tp"), int) else None) \
        or _first_int(c.get("parallel", ""), r"tp(\d+)") or count or 1
    pp = layout.get("pp", 1)
    per_node = 8 if (count or 0) >= 8 or "/node" in str(hw_text) or "superpod" in str(hw_text).lower() \
        or tp * pp > (count or 1) else (count or tp * pp)
    per_node = max(1, min(per_node, 8))
    nodes = -(-(tp * pp) // per_node)
    gpu_spec: Any = gpu if power is None else {"preset": gpu, "power_limit": f"{power:g} W"}
    hardware: dict[str, Any] = {"gpu": gpu_spec, "gpus_per_node": per_node, "nodes": nodes}
    if nodes > 1:
        gbps = _first_int(hw_text, r"(\d+)\s*Gb/s")
        hardware["inter_node_link"] = "ib-hdr" if gbps == 200 else "ib-ndr"
    prompt = _first_int(" ".join(f"{k}={c[k]}" for k in ("prompt_len", "input_len", "isl") if k in c), r"=(\d+)")
    output = _first_int(" ".join(f"{k}={c[k]}" for k in ("output_len", "osl") if k in c), r"=(\d+)")
    output = output or FRAMEWORK_OUTPUT_TOKENS.get(runtime)
    if prompt is None or output is None:
        raise cond.NotExpressible("prompt or output length not stated")
    batch = int(c.get("batch") or c.get("concurrency") or 1) if not isinstance(c.get("batch"), str) else 1
    workload: dict[str, Any] = {"arrival": {"kind": "closed", "concurrency": batch}, "requests": batch,
                                "prompt_tokens": prompt, "output_tokens": output}
    scenario: dict[str, Any] = {
        "name": str(case["id"]).lower(), "model": model,
        "precision": {"weights": weights, **cond.embeddings_dtype(weights), "kv_cache": cond.kv_dtype(weights, runtime),
                      "activations": "fp16" if weights == "fp16" else "bf16",
                      **{k: v for k, v in cond.module_dtypes(dtype_text).items() if v != weights}},
        "hardware": hardware, "runtime": runtime, "parallelism": {"tp": tp, "pp": pp},
        "workload": workload, "simulation": {"fidelity": "step"},
    }
    if metric.startswith("end_to_end_latency"):
        scenario["scheduler"] = {"policy": "static"}
    if metric == "aggregate_output_tok_s_at_saturation":
        workload.update(requests=(1 + MEASURED_WAVES) * batch, warmup_requests=batch)
    if metric == "tps_per_user_speedup":
        scenario["decoding"] = {"method": "mtp", "speculative_tokens": int(c["nextn"]),
                                "acceptance": {"mean_tokens": float(c["accept_len"])}}
    return scenario
