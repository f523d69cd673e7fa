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
  (:func:`simdecode.validate.published_figures.table_entries`).
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

This module turns cases into jobs; :mod:`simdecode.validate.published_figures` reads a case's
figures into points (series, quoted tables, rows per metric) and
:mod:`simdecode.validate.published_scenario` builds each point's scenario.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from simdecode.validate import conditions as cond
from simdecode.validate import harnesses, microbench, superseded
from simdecode.validate import published_figures as figures
from simdecode.validate.cases import CaseSet, Job, Point
from simdecode.validate.published_scenario import build_scenario, layout_words

#: conditions of a deployment that one case from a source states and another case from the same
#: source, on the same hardware and model, leaves unstated (SPEC-02's MTP rows and DEC-12's
#: no-MTP row are one table of one blog: the layout and precision DEC-12 states are SPEC-02's)
SHARED_CONDITIONS = ("parallel", "dtype")
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


def case_jobs(case: dict, shapes: dict[str, str]) -> CaseSet:
    out = CaseSet()
    cid, metric = str(case["id"]), str(case.get("metric", ""))
    group, conditions = group_of(cid), dict(case.get("conditions") or {})
    source = str(case.get("source_url", "")).split(" ")[0]
    summary = figures.summary(conditions)

    def skip(reason: str, value: Any = None) -> CaseSet:
        measured = figures.number(value if value is not None else case.get("value"))
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
    entries = case.get("series") or figures.table_entries(case) or figures.quoted_entries(case)
    failed: list[tuple[dict, str]] = []
    for entry in entries:
        try:
            rows = figures.figure_rows(case, metric, entry)
        except cond.NotExpressible as exc:
            failed.append((entry, str(exc)))
            continue
        merged = {**conditions, **{k: v for k, v in entry.items() if not figures.is_value_key(k)}}
        for label, metric_name, unit, measured, probe, layout in rows:
            name = f"{cid}[{label}]" if label else cid
            point = Point(name, group, figures.summary(merged, layout), metric_name, unit, measured, probe=probe, source=source)
            try:
                scenario = build_scenario(merged, metric, layout, shapes, case)
                gpu, rt = scenario["hardware"]["gpu"], scenario["runtime"]
                kernel = cond.is_kernel_side(scenario["model"], scenario["precision"]["weights"],
                                             gpu if isinstance(gpu, str) else gpu["preset"],
                                             rt if isinstance(rt, str) else rt["preset"])
            except cond.NotExpressible as exc:
                out.skipped.append(_replace(point, reason=str(exc)))
                continue
            words = layout_words(scenario, merged)
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
        merged = {**conditions, **{k: v for k, v in entry.items() if not figures.is_value_key(k)}}
        label = figures.label(entry, {})
        measured = figures.number(entry.get("tok_s"))
        unit = "tok/s" if "tok_s" in entry else str(case.get("unit", ""))  # a cell's own figure, not the case's
        out.skipped.append(Point(f"{cid}[{label}]" if label else cid, group, figures.summary(merged), metric,
                                 unit, measured if measured is not None else math.nan,
                                 reason=reason, source=source))
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
