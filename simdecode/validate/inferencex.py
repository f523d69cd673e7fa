"""InferenceX serving sweeps (``inferencex-serving.json``) as validation jobs.

Each sweep names a deployment, ``<model>-<gpu>-<precision>-<framework>-tp<N>.yaml``: that model on
N GPUs of one node, tensor parallel N, with the engine's defaults; and a workload label
(``1k1k`` = 1024 input / 1024 output tokens, ``1k8k``, ``8k1k``). Its points are the mean TPOT
and mean TTFT the benchmark client measured at each concurrency.

The client (InferenceMAX's ``benchmark_serving.py``, SemiAnalysis InferenceX README): random
prompts with ``--random-range-ratio 0.8`` (input and output lengths uniform in [0.8 L, L]),
``--num-prompts 10 x concurrency``, ``--max-concurrency`` c, ``--request-rate inf``,
``--ignore-eos``. So the c first requests arrive at once (a burst) and every completion sends the
next one: a closed loop. The means are over all 10 c requests. The server prefilled the lengths
the client asked for (plus one BOS token, left out here): each client version InferenceX ran
re-encodes the decoded random ids and cuts them to length (docs/validation.md, "The prompts the
server saw"; benchmarks/client_prompt_lengths.py).

Simulating all ten waves would cost ten times the work for little: after the first wave the
loop is in a steady state. The job simulates three waves (3 c requests): the first (the burst),
the second (steady, measured) and a third that keeps the batch full while the second finishes.
The benchmark's mean is then (first-wave mean + 9 x second-wave mean) / 10 (probe ``bench``).
Where the engine holds prefills back to batch them (TensorRT-LLM's batch waiting), when a prefill
runs depends on when the next requests arrive, and the bunched second wave after the burst is
not yet the steady state (its TTFT is 30-50% above the later waves'): such jobs simulate all ten
waves and the probe takes the plain mean over the 10 c requests, as the client does.

A point whose run was disturbed (slower than a higher concurrency of its sweep: the rule of
:mod:`simdecode.validate.disturbed`) is listed as not expressible, with the numbers that show it.

Engine flags: as InferenceX's launch scripts set them (:mod:`simdecode.validate.inferencex_launch`),
where they are described there; the engine's defaults otherwise.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from simdecode.validate import conditions as cond
from simdecode.validate import disturbed
from simdecode.validate.cases import CaseSet, Job, Point
from simdecode.validate.inferencex_launch import launch_keys

#: InferenceMAX client: num_prompts = 10 x concurrency; lengths uniform in [0.8 L, L]
BENCH_WAVES = 10
SIMULATED_WAVES = 3
RANGE_RATIO = 0.8
LABELS = {"1k1k": (1024, 1024), "1k8k": (1024, 8192), "8k1k": (8192, 1024)}
#: InferenceX GPU names -> presets (its H100 nodes are HGX H100 SXM)
GPUS = {"h100": "h100-sxm", "h200": "h200", "b200": "b200"}
#: KV-cache dtypes the InferenceX launch scripts set, by model (SemiAnalysisAI/InferenceX,
#: benchmarks/70b_fp8_{h100,h200,b200}_slurm.sh: vLLM ``kv-cache-dtype: fp8``; 70b_fp8_*_trt_slurm.sh
#: and 70b_fp4_b200_trt_slurm.sh: TensorRT-LLM ``kv_cache_config: dtype: fp8``). Models not listed
#: take the engine's default (conditions.kv_dtype). Where a script's setting never reached the engine
#: (vLLM on H100: inferencex_launch.VLLM_CONFIG_FILE_IGNORED) the launch keys override it.
KV_CACHE_DTYPE = {"llama-3.1-70b": "fp8"}
_NAME = re.compile(r"^(?P<model>.+)-(?P<gpu>[a-z0-9]+)-(?P<prec>fp8|fp4|bf16|fp16)-(?P<fw>[a-z]+)-tp(?P<tp>\d+)\.yaml$")


def group_of(model: str, metric: str) -> str:
    return f"IX {model} {metric}"


def load(path: Path) -> CaseSet:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    anchors = data.get("anchors") if isinstance(data, dict) else None
    if not isinstance(anchors, list):
        raise ValueError(f"{path}: expected an object with an 'anchors' list (InferenceX serving sweeps)")
    out = CaseSet()
    for sweep in anchors:
        out.extend(sweep_jobs(sweep))
    return out


def sweep_jobs(sweep: dict) -> CaseSet:
    out = CaseSet()
    name, label = str(sweep.get("scenario", "")), str(sweep.get("label", ""))
    stem = name.removesuffix(".yaml")
    m = _NAME.match(name)
    tpot, ttft = sweep.get("absolute_tpot_us", {}), sweep.get("absolute_ttft_us", {})
    model_text = m["model"] if m else stem
    try:
        model_name = cond.model_key(model_text)
    except cond.NotExpressible:
        model_name = model_text
    reason, scenario, kernel = "", None, ""
    try:
        if not m:
            raise cond.NotExpressible(f"deployment name {name!r} is not <model>-<gpu>-<precision>-<engine>-tp<N>.yaml")
        if label not in LABELS:
            raise cond.NotExpressible(f"workload label {label!r} is not one of {', '.join(LABELS)}")
        if m["gpu"] not in GPUS:
            raise cond.NotExpressible(f"GPU {m['gpu']!r} has no preset")
        runtime = cond.runtime(m["fw"])
        weights = m["prec"]
        tp = int(m["tp"])
        scenario = {
            "model": model_name,
            "precision": {**cond.weight_precision(model_name, weights),
                          "kv_cache": KV_CACHE_DTYPE.get(model_name, cond.kv_dtype(weights, runtime)), "activations": "bf16"},
            "hardware": {"gpu": GPUS[m["gpu"]], "gpus_per_node": 8},
            "runtime": runtime,
            "parallelism": {"tp": tp},
            "simulation": {"fidelity": "step"},
        }
        kernel = cond.is_kernel_side(model_name, weights)
    except cond.NotExpressible as exc:
        reason = str(exc)
    # a point whose run was disturbed is no measurement of the deployment (validate/disturbed.py)
    bad = disturbed.disturbed_points({int(c): v / 1e3 for c, v in tpot.items()},
                                     {int(c): v / 1e3 for c, v in ttft.items()})
    for c_text in sorted(set(tpot) | set(ttft), key=lambda k: int(k)):
        c = int(c_text)
        case = f"{stem} {label} c={c}"
        conditions = f"{label}, concurrency {c}"
        why = reason
        if not why and c in bad:
            shown_by, text = bad[c]
            decoding = None
            if shown_by == "TTFT" and label in LABELS and c_text in tpot:
                osl_mean = (RANGE_RATIO * LABELS[label][1] + LABELS[label][1]) / 2
                decoding = disturbed.decoding_in_flight(c, ttft[c_text] / 1e6, tpot[c_text] / 1e6, osl_mean)
            why = disturbed.reason(c, text, decoding)
        points = [Point(case, group_of(model_name, metric), conditions, metric, "ms", values[c_text] / 1e3,
                        probe=f"bench_{metric.lower()}", kernel_side=kernel, reason=why, source="InferenceX")
                  for metric, values in (("TPOT", tpot), ("TTFT", ttft)) if c_text in values]
        if scenario is None or why:
            out.skipped += points
            continue
        isl, osl = LABELS[label]
        keys = launch_keys(model_name, m["gpu"], scenario["runtime"], label, int(m["tp"]), c)
        # batch waiting ties each prefill to when the next ones arrive: the burst's bunched second
        # wave is no steady state, so the whole benchmark is simulated (the probe's plain mean)
        waves = BENCH_WAVES if keys.get("scheduler", {}).get("batch_wait_iters") else SIMULATED_WAVES
        job_scenario = {**scenario, "name": f"{stem}-{label}-c{c}",
                        **({"precision": {**scenario["precision"], **keys["precision"]}} if "precision" in keys else {}),
                        **({"scheduler": keys["scheduler"]} if "scheduler" in keys else {}),
                        **({"parallelism": {**scenario["parallelism"], **keys["parallelism"]}}
                           if "parallelism" in keys else {}),
                        **({"runtime": {"preset": scenario["runtime"], **keys["runtime"]}} if "runtime" in keys else {}),
                        "workload": {
            "arrival": {"kind": "closed", "concurrency": c}, "requests": waves * c,
            "prompt_tokens": {"dist": "uniform", "low": int(RANGE_RATIO * isl), "high": isl},
            "output_tokens": {"dist": "uniform", "low": int(RANGE_RATIO * osl), "high": osl}}}
        out.jobs.append(Job(case, job_scenario, points, bench=(c, BENCH_WAVES)))
    return out
