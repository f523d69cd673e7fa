"""Kernel and decode-step measurements on one GPU as validation cases (groups ``KER <GPU>``).

``benchmarks/device/measure_kernels.py`` times, on one NVIDIA GPU with PyTorch, whole decode steps and
prefill forwards of Llama-shaped models and the kernels they are made of (its docstring says how: every
figure is the median of several replays of one CUDA graph). Its output file (``kernels.json``: ``meta``,
``stream``, ``launch``, ``gemm``, ``attention``, ``decode_step``, ``prefill``) is read here as it is;
the package ships the runs in ``simdecode/validate/data/device/`` (byte-for-byte copies of
``benchmarks/device/runs/``, which tests/validate/test_device.py checks), so every measured value
comes from the file and none is typed in.

Three groups per GPU (``meta.device``, e.g. ``NVIDIA H200`` -> preset ``h200``, one GPU, bf16):

- ``KER H200 decode`` (:data:`STEP_GROUP`) and ``KER H200 prefill`` (:data:`PREFILL_GROUP`): whole
  steps, predicted by the cost model's step plan
  (:func:`simdecode.analysis.critical_path.critical_path`, what ``simdecode explain`` prints) for
  the model preset the record names at its batch and context. The program's traits set the runtime:
  ``torch.compile`` is gpt-fast's recipe, so the ``gpt-fast`` preset as it stands; ``eager ops``
  (plain PyTorch ops captured in one CUDA graph) is the same runtime with the kernels per layer the
  profiler counted in that very step (``kernels_per_step`` less the kernels the cost model puts
  outside the layers: embedding, LM head, sampler). A prefill forward of S tokens is one step
  holding one S-token prefill chunk (no server, no queue), with the kernel count of the same
  model's batch-1 decode step (the profiler counted decode steps only). The prefill rows have no
  tolerance: their agreement is errors cancelling (docs/measurements-h200.md: the GEMMs run faster
  and the unfused elementwise kernels and the attention slower than the part formula charges).
- ``KER H200 kernels`` (:data:`KERNEL_GROUP`, no tolerance): single kernels against the cost model's
  own part formula under the same runtime (costmodel/efficiency.py,
  t = max(b / (BW eta), f / F_eff) + n t_kernel with n = 1): the bf16 reduction and copy over
  1 MB .. 4 GB, a one-element kernel (the launch gap), bf16 and fp8 GEMMs at 1 and 16,384 rows,
  SDPA decode and causal prefill; and the per-kernel cost a decode step pays, derived from two
  records of the same step (plain ops less torch.compile, over the kernels torch.compile removed).

These rows measure PyTorch's kernels (cuBLAS, PyTorch's FlashAttention-2 and cuDNN SDPA, its
elementwise kernels), not vLLM's, SGLang's or TensorRT-LLM's: they test the cost model's physics
and the gpt-fast preset, and move no other engine's preset (docs/measurements-h200.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simdecode.validate import conditions as cond
from simdecode.validate.cases import SHIPPED_DATA, CaseSet, Job, Point

#: the device runs shipped with the package (copies of benchmarks/device/runs/*.json)
DEVICE_DATA = SHIPPED_DATA / "device"
STEP_GROUP = "KER {gpu} decode"
PREFILL_GROUP = "KER {gpu} prefill"
KERNEL_GROUP = "KER {gpu} kernels"
#: the runtime preset standing for the measuring program (PyTorch, CUDA graphs; gpt-fast's recipe)
RUNTIME = "gpt-fast"
#: the keys a measure_kernels.py output file has (how :func:`is_device_run` tells it from other .json)
RUN_KEYS = frozenset({"meta", "stream", "launch", "gemm", "attention", "decode_step", "prefill"})
#: the GEMM rows of the kernel group's table (the figure, docs/measurements-h200.md, shows them all)
GEMM_TABLE_ROWS = (1, 16384)
SOURCE = "benchmarks/device/measure_kernels.py"


def is_device_run(data: Any) -> bool:
    """Is ``data`` (a parsed .json file) a measure_kernels.py output?"""
    return isinstance(data, dict) and RUN_KEYS <= set(data)


def default_files() -> list[Path]:
    """The device runs shipped with the package (the newest complete run of each GPU)."""
    return sorted(DEVICE_DATA.glob("*.json"))


def load(path: Path, data: dict | None = None) -> CaseSet:
    """The cases of one measure_kernels.py output file (``data``: its parsed content, if read)."""
    if data is None:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    try:
        gpu, _, _ = cond.gpu(str(data["meta"]["device"]))
    except cond.NotExpressible as exc:
        raise ValueError(f"{path}: meta.device: {exc}") from exc
    label = str(data["meta"]["device"]).replace("NVIDIA", "").strip()
    where = f"1x {label}, {data['meta'].get('date_utc', '')[:10]}, {Path(path).name}"
    cases = CaseSet()
    cases.jobs += step_jobs(data, gpu, STEP_GROUP.format(gpu=label), PREFILL_GROUP.format(gpu=label), where)
    cases.jobs += kernel_jobs(data, gpu, KERNEL_GROUP.format(gpu=label), where)
    return cases


# ---- whole steps ---------------------------------------------------------------------------

def scenario(model: str, gpu: str, kernels_per_layer: int | None = None, weights: str = "bf16") -> dict[str, Any]:
    """The scenario mapping a measurement on one ``gpu`` stands for: ``model`` in ``weights``
    (bf16 KV cache and activations), the gpt-fast runtime, its kernels per layer replaced when given."""
    runtime: Any = RUNTIME if kernels_per_layer is None else {"preset": RUNTIME, "kernels_per_layer": kernels_per_layer}
    return {"name": f"device-{model}", "model": model,
            "precision": {"weights": weights, "kv_cache": "bf16", "activations": "bf16"},
            "hardware": {"gpu": gpu, "gpus_per_node": 1}, "runtime": runtime, "parallelism": {"tp": 1},
            "workload": {"arrival": {"kind": "closed", "concurrency": 1}, "requests": 1,
                         "prompt_tokens": 1024, "output_tokens": 16}}


def kernels_outside_layers(model: str, gpu: str) -> int:
    """Kernels the cost model charges a decode step outside its layers (embedding, LM head and
    sampler): the step's count with no kernels per layer."""
    from simdecode.analysis.critical_path import critical_path
    from simdecode.scenario.schema import Scenario

    data = critical_path(Scenario.model_validate(scenario(model, gpu, kernels_per_layer=0)), 1, 1)
    return sum(st["kernels"] for st in data["stages"])


def measured_kernels_per_layer(model: str, gpu: str, kernels_per_step: int) -> int:
    """The profiler's kernels per step as the runtime's ``kernels_per_layer`` (rounded: the field
    is an integer; at most half a kernel per layer off)."""
    from simdecode.scenario.schema import Scenario

    layers = Scenario.model_validate(scenario(model, gpu)).model.num_hidden_layers
    return round((kernels_per_step - kernels_outside_layers(model, gpu)) / layers)


def step_jobs(data: dict, gpu: str, group: str, prefill_group: str, where: str) -> list[Job]:
    jobs = []
    eager_counts: dict[str, int] = {}
    for r in data["decode_step"]:
        model, plain = r["model"], ops(r) == "eager ops"
        if plain and r["batch"] == 1 and r["model"] not in eager_counts:
            eager_counts[model] = r["kernels_per_step"]
        kpl = measured_kernels_per_layer(model, gpu, r["kernels_per_step"]) if plain else None
        traits = (f"plain PyTorch ops, one CUDA graph, {r['kernels_per_step']} kernels per step "
                  f"(runtime {RUNTIME}, {kpl} kernels per layer)" if plain else
                  f"torch.compile, one CUDA graph (runtime {RUNTIME} as preset)")
        case = f"KER-{gpu} {model} decode b={r['batch']} ctx={r['context']} ({'plain ops' if plain else 'torch.compile'})"
        point = Point(case, group, f"{where}; {model}, random {r['weights'].split()[-1]} weights, batch {r['batch']}, "
                      f"context {r['context']}; {traits}", "decode step", "ms", 1e3 * r["graph_step_s"],
                      source=SOURCE)
        jobs.append(Job(case, scenario(model, gpu, kpl), [point],
                        device={"what": "decode", "batch": r["batch"], "context": r["context"]}))
    for r in data["prefill"]:
        model = r["model"]
        if ops(r) != "eager ops" or model not in eager_counts:
            continue
        kpl = measured_kernels_per_layer(model, gpu, eager_counts[model])
        case = f"KER-{gpu} {model} prefill S={r['prompt']} (plain ops)"
        point = Point(case, prefill_group, f"{where}; {model}, random bf16 weights, one {r['prompt']}-token prompt, "
                      f"plain PyTorch ops in one CUDA graph (runtime {RUNTIME}, {kpl} kernels per layer, the "
                      f"batch-1 decode step's count)", "prefill forward", "ms", 1e3 * r["graph_forward_s"],
                      source=SOURCE)
        jobs.append(Job(case, scenario(model, gpu, kpl), [point], device={"what": "prefill", "tokens": r["prompt"]}))
    return jobs


def ops(record: dict) -> str:
    """How a step's record ran its model: ``eager ops`` or ``torch.compile`` (the first runs of the
    script, before it had a compiled section, record no ``ops``: plain ops)."""
    return str(record.get("ops", "eager ops"))


def step_seconds(data: dict[str, Any], spec: dict[str, Any]) -> float:
    """The cost model's time of one step (``spec``: a decode step of ``batch`` sequences at
    ``context`` cached tokens each, or a prefill chunk of ``tokens`` tokens) on the deployment of
    scenario mapping ``data``: the step plan of every stage, folded (what ``explain`` sums)."""
    from simdecode.analysis.critical_path import critical_path
    from simdecode.costmodel.batch import BatchShape
    from simdecode.costmodel.deployment import Deployment
    from simdecode.costmodel.fold import fold
    from simdecode.costmodel.plan import build_stage_plan
    from simdecode.scenario.schema import Scenario

    sc = Scenario.model_validate(data)
    if spec["what"] == "decode":
        return critical_path(sc, spec["context"], spec["batch"])["total_s"]
    dep = Deployment.from_scenario(sc)
    shape = BatchShape.mixed([(0, spec["tokens"], True)])
    return sum(fold(build_stage_plan(dep, s, shape)).makespan_s for s in range(dep.pp))


# ---- single kernels ------------------------------------------------------------------------

def kernel_jobs(data: dict, gpu: str, group: str, where: str) -> list[Job]:
    jobs: list[Job] = []

    def add(case: str, words: str, measured_s: float, spec: dict[str, Any], weights: str = "bf16") -> None:
        point = Point(case, group, f"{where}; {words}", spec["what"], "us", 1e6 * measured_s, source=SOURCE)
        jobs.append(Job(case, scenario("llama-3.1-8b", gpu, weights=weights), [point], device=spec))

    launch = data["launch"]
    if launch:
        add(f"KER-{gpu} launch gap", f"{launch['kernel']}, repeated in one CUDA graph", launch["graph_kernel_s"],
            {"what": "kernel", "bytes": 0, "flops": 0})
    for r in data["stream"]:
        mb = r["bytes"] / 2**20
        add(f"KER-{gpu} stream sum {mb:g} MiB", f"torch.sum of {mb:g} MiB of bf16 (one reduction)", r["sum_s"],
            {"what": "kernel", "bytes": r["bytes"], "flops": 0})
        add(f"KER-{gpu} stream copy {mb:g} MiB", f"copy_ of {mb:g} MiB of bf16 (reads and writes it)", r["copy_s"],
            {"what": "kernel", "bytes": 2 * r["bytes"], "flops": 0})
    for r in data["gemm"]:
        if r["m"] not in GEMM_TABLE_ROWS:
            continue
        add(f"KER-{gpu} gemm {r['dtype']} {r['shape']} m={r['m']}",
            f"{'F.linear' if r['dtype'] == 'bf16' else 'torch._scaled_mm'}, {r['m']} x {r['k']} by a "
            f"{r['k']} x {r['n']} {r['dtype']} weight", r["time_s"], gemm_spec(r), weights=r["dtype"])
    for r in data["attention"]:
        if "time_s" not in r:
            continue
        if r["kind"] == "decode":
            words = f"SDPA decode ({r['backend']}), batch {r['batch']}, {r['context']} cached tokens"
            case = f"KER-{gpu} sdpa decode b={r['batch']} ctx={r['context']}"
        else:
            words = f"SDPA causal prefill ({r['backend']}), {r['context']} tokens"
            case = f"KER-{gpu} sdpa prefill S={r['context']}"
        add(case, words + f", {r['heads']} query / {r['kv_heads']} KV heads of {r['head_dim']}", r["time_s"],
            attention_spec(r))
    for step in per_kernel_pairs(data["decode_step"]):
        plain, compiled = step
        add(f"KER-{gpu} per-kernel cost {plain['model']} b={plain['batch']} ctx={plain['context']}",
            f"(plain-ops step - torch.compile step) / ({plain['kernels_per_step']} - {compiled['kernels_per_step']} "
            f"kernels) of {plain['model']} decode, batch {plain['batch']}",
            (plain["graph_step_s"] - compiled["graph_step_s"]) / (plain["kernels_per_step"] - compiled["kernels_per_step"]),
            {"what": "kernel", "bytes": 0, "flops": 0})
    return jobs


def per_kernel_pairs(steps: list[dict]) -> list[tuple[dict, dict]]:
    """(plain ops, torch.compile) records of the same model, batch and context at batch 1: the
    same weights streamed, fewer kernels; at batch 1 the kernels torch.compile fuses away move
    next to nothing (a few hidden-state vectors), so the difference is their fixed cost."""
    out = []
    for c in steps:
        if ops(c) != "torch.compile" or c["batch"] != 1:
            continue
        for p in steps:
            if ops(p) == "eager ops" and (p["model"], p["batch"], p["context"]) == (c["model"], c["batch"], c["context"]):
                out.append((p, c))
    return out


def gemm_spec(r: dict) -> dict[str, Any]:
    """One GEMM of ``m`` rows by a k x n weight: the weight, the input and the bf16 output in bytes;
    2 m k n FLOPs."""
    wbytes = r["k"] * r["n"] * (2 if r["dtype"] == "bf16" else 1)
    abytes = r["m"] * r["k"] * (2 if r["dtype"] == "bf16" else 1)
    return {"what": "gemm", "params": r["k"] * r["n"], "bytes": wbytes + abytes + 2 * r["m"] * r["n"],
            "flops": 2.0 * r["m"] * r["k"] * r["n"]}


def attention_spec(r: dict) -> dict[str, Any]:
    """SDPA as the cost model's attention counts it: 4 d FLOPs per (query, key) pair per query head
    (costmodel/modules.py). Decode: one query per sequence over the ``context`` keys the benchmark
    gives it (the new token's own key is not among them), reading K and V of every sequence and
    writing one output row (bf16). Causal prefill: s (s + 1) / 2 pairs
    (:class:`~simdecode.costmodel.batch.BatchShape`), reading Q, K, V and writing the output."""
    from simdecode.costmodel.batch import BatchShape

    h, kv, d = r["heads"], r["kv_heads"], r["head_dim"]
    if r["kind"] == "decode":
        pairs = float(r["batch"] * r["context"])
        nbytes = 2 * kv * d * 2 * pairs + 2 * h * d * 2 * r["batch"]
    else:
        shape = BatchShape.mixed([(0, r["context"], True)])
        pairs = shape.attn_pairs
        nbytes = (2 * h + 2 * kv) * d * 2 * shape.new_tokens
    return {"what": "attention", "bytes": nbytes, "flops": 4.0 * h * d * pairs}


def kernel_seconds(data: dict[str, Any], spec: dict[str, Any]) -> float:
    """One kernel as the cost model's part formula charges it under the scenario's runtime
    (:func:`simdecode.costmodel.efficiency.part_seconds`, one kernel): a weight GEMM streams at the
    weight GEMMs' share (costmodel/gemm_stream.py, the runtime's share where it states none) and
    computes at its dtype's rate; anything else streams at the runtime's ``memory_efficiency`` and
    computes at the activations' rate."""
    from simdecode.costmodel import gemm_stream
    from simdecode.costmodel.deployment import Deployment
    from simdecode.costmodel.efficiency import part_seconds
    from simdecode.scenario.schema import Scenario

    dep = Deployment.from_scenario(Scenario.model_validate(data))
    rates = dep.rates
    if spec["what"] == "gemm":
        part = dep.part("gemm", spec["params"], spec["bytes"], spec["flops"], 1, "mlp")
        share = gemm_stream.gemm_efficiency(dep, "mlp")
        bandwidth = rates.bandwidth_Bps if share is None else rates.peak_bandwidth_Bps * share
    else:
        part = dep.part(spec["what"], 0.0, spec["bytes"], spec["flops"], 1, None)
        bandwidth = rates.bandwidth_Bps
    busy, launch = part_seconds(part, bandwidth, rates.kernel_s, dep.runtime.dequant_overlap)
    return busy + launch


def predict(data: dict[str, Any], spec: dict[str, Any]) -> float:
    """A device job's prediction in its points' unit: ms for a step, us for a kernel."""
    if spec["what"] in ("decode", "prefill"):
        return 1e3 * step_seconds(data, spec)
    return 1e6 * kernel_seconds(data, spec)
