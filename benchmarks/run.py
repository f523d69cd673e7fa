"""simdecode's performance benchmarks: how fast the simulator itself runs.

    PYTHONPATH=. python benchmarks/run.py [--only NAME ...] [--json] [--baseline DIR]

Every run is a fresh Python process (``python -c`` with the tree first on ``sys.path``), timed in
CPU seconds: the process's own and those of any worker processes it waited for (``--jobs``). On a
shared machine CPU seconds are the fair measure; wall seconds are shown too. In the same run the
script measures a bare SimPy loop (one process yielding ``timeout(1)``) and reports each
workload's events per CPU second and how many times slower than bare SimPy each of its events is.

``--baseline DIR``: run every workload in the simdecode tree at DIR as well (an older checkout,
``git worktree add /tmp/base <commit>``), back to back with this tree, and print both.

Workloads (see :data:`WORKLOADS`; CPU-second limits in :data:`LIMITS`, PASS/FAIL):
- ``quickstart``: scenarios/quickstart.yaml as is.
- ``llama-3.1-70b-tp8-64x512-layer`` / ``-step``: Llama-3.1-70B bf16 on 8x H100 SXM, tp 8, vLLM
  runtime, 64 requests at closed concurrency 64, 128 prompt and 512 output tokens. The layer run
  must take at most :data:`LAYER_OVER_STEP` times the step run's CPU time.
- ``llama-3.1-8b-tp8-op``: Llama-3.1-8B on 8x H100, tp 8, 2 requests of 128 + 16 tokens at op
  fidelity (ring all-reduces private to the group: one event each).
- ``poisson-10k-step``: Llama-3.1-8B on one H100, 10,000 Poisson requests at 10/s, Splitwise
  conversation lengths (scenarios/traces/splitwise_conv.csv), step fidelity.
- ``poisson-10k-70b-tp8-step``: the same arrivals and lengths on Llama-3.1-70B, tp 8 on 8x H100.
- ``vidur``: Vidur's default workload: Llama-2-70B bf16, tp 2 on 2x A100-80GB, vLLM runtime,
  Splitwise conversation lengths, chunked prefill of 512 tokens, 128 Poisson requests at 0.5/s.
- ``vidur-x16-10k-step`` / ``-layer``: the same on 16 replicas (32 GPUs, one node each), 10,000
  requests at 0.5/s per replica (8/s in all), round-robin.
- ``cluster-10k-128x8``: Llama-3.1-70B tp 8 on 128 replicas of 8x H100, round-robin, 10,000
  Poisson requests at 10/s per replica (1,280/s), Splitwise lengths, step fidelity; run with
  ``--jobs 1`` and ``--jobs 2``, which must give identical summaries.
- ``cluster-1m-128x8``: the same with 1,000,000 requests, ``--jobs 2`` (minutes: not in the default
  set; name it with ``--only``). Limit: :data:`CLUSTER_1M_WALL_S` s of wall time.
- ``layer-cost-linearity``: llama-3.2-1b, tp 2 on PCIe GPUs whose rings share the root complex
  with another replica's (so layer fidelity walks modules), one request, layer fidelity, with
  num_hidden_layers x output_tokens on a grid: events / (layers x steps) should stay flat.

This is a script, not a test; tests/test_benchmarks_smoke.py checks that it still works.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from anywhere without installing
    sys.path.insert(0, str(ROOT))

from simdecode.scenario.loader import load_scenario, scenario_from_dict  # noqa: E402
from simdecode.scenario.schema import Scenario  # noqa: E402

REQUIREMENT = "llama-3.1-70b-tp8-64x512-layer"
LAYERS = (8, 16, 32)
OUTPUT_TOKENS = (64, 128, 256)
CONV = "scenarios/traces/splitwise_conv.csv"
SPLITWISE = {"prompt_tokens": {"dist": "empirical", "path": CONV, "column": "num_prefill_tokens"},
             "output_tokens": {"dist": "empirical", "path": CONV, "column": "num_decode_tokens"}}
#: the layer run of the 70B tp8 workload may take at most this many times the step run's CPU time
LAYER_OVER_STEP = 2.0
CLUSTER_1M_WALL_S = 600.0
#: workload -> limit on CPU seconds (one simulation, this 2-core machine)
LIMITS = {
    REQUIREMENT: 10.0,
    "poisson-10k-step": 20.0,
    "poisson-10k-70b-tp8-step": 2.0,
    "vidur-x16-10k-step": 10.0,
    "vidur-x16-10k-layer": 30.0,
}


def _llama70b_tp8(fidelity: str) -> dict[str, Any]:
    return {
        "name": f"llama-3.1-70b-tp8-64x512-{fidelity}", "seed": 0, "model": "llama-3.1-70b",
        "precision": {"weights": "bf16", "kv_cache": "bf16", "activations": "bf16"},
        "hardware": {"gpu": "h100-sxm", "gpus_per_node": 8}, "runtime": "vllm", "parallelism": {"tp": 8},
        "workload": {"arrival": {"kind": "closed", "concurrency": 64}, "requests": 64,
                     "prompt_tokens": 128, "output_tokens": 512},
        "simulation": {"fidelity": fidelity},
    }


def _op_fidelity() -> dict[str, Any]:
    return {
        "name": "llama-3.1-8b-tp8-op", "seed": 0, "model": "llama-3.1-8b",
        "hardware": {"gpu": "h100-sxm", "gpus_per_node": 8}, "runtime": "default",
        "parallelism": {"tp": 8, "allreduce": "ring"},
        "workload": {"arrival": {"kind": "closed", "concurrency": 2}, "requests": 2,
                     "prompt_tokens": 128, "output_tokens": 16},
        "simulation": {"fidelity": "op"},
    }


def _poisson(name: str, model: str, tp: int, requests: int = 10_000, dp: int = 1, rate: float = 10.0,
             fidelity: str = "step") -> dict[str, Any]:
    return {
        "name": name, "seed": 0, "model": model,
        "hardware": {"gpu": "h100-sxm", "gpus_per_node": max(tp, 1), "nodes": dp}, "runtime": "vllm",
        "parallelism": {"tp": tp, "dp": dp},
        "workload": {"arrival": {"kind": "poisson", "rate": f"{rate * dp:g}/s"}, "requests": requests, **SPLITWISE},
        "simulation": {"fidelity": fidelity},
    }


def _vidur(name: str, fidelity: str, replicas: int = 1, requests: int = 128) -> dict[str, Any]:
    """Vidur's default run (vidur/config: 128 synthetic requests, Poisson at 0.5 QPS, Splitwise
    conversation lengths, Sarathi chunks of 512) on Llama-2-70B tp 2 on 2x A100-80GB, per replica."""
    return {
        "name": name, "seed": 0, "model": "llama-2-70b",
        "precision": {"weights": "bf16", "kv_cache": "bf16", "activations": "bf16"},
        "hardware": {"gpu": "a100-80gb", "gpus_per_node": 2, "nodes": replicas}, "runtime": "vllm",
        "parallelism": {"tp": 2, "dp": replicas},
        "workload": {"arrival": {"kind": "poisson", "rate": f"{0.5 * replicas:g}/s"}, "requests": requests,
                     **SPLITWISE},
        "scheduler": {"policy": "continuous", "chunked_prefill": True, "max_batched_tokens": 512},
        "simulation": {"fidelity": fidelity},
    }


def _small(layers: int, output_tokens: int) -> dict[str, Any]:
    return {
        "name": f"llama-3.2-1b-L{layers}-out{output_tokens}", "seed": 0,
        "model": {"preset": "llama-3.2-1b", "num_hidden_layers": layers},
        # two tp 2 groups whose rings cross the node's PCIe root complex: links shared, so layer
        # fidelity walks the step module by module (on private links a step is one event)
        "hardware": {"gpu": "h100-pcie", "gpus_per_node": 4, "pcie_switches": 4},
        "parallelism": {"tp": 2, "dp": 2},
        "workload": {"arrival": {"kind": "closed", "concurrency": 1}, "requests": 1,
                     "prompt_tokens": 32, "output_tokens": output_tokens},
        "simulation": {"fidelity": "layer"},
    }


WORKLOADS = ("quickstart", "llama-3.1-70b-tp8-64x512-layer", "llama-3.1-70b-tp8-64x512-step", "llama-3.1-8b-tp8-op",
             "poisson-10k-step", "poisson-10k-70b-tp8-step", "vidur", "vidur-x16-10k-step", "vidur-x16-10k-layer",
             "cluster-10k-128x8", "layer-cost-linearity")
#: named with --only, never run by default
EXTRA_WORKLOADS = ("cluster-1m-128x8",)


def workload_runs(name: str) -> list[tuple[dict[str, Any], dict[str, Any] | Path, int]]:
    """The runs of workload ``name``: (labels, scenario dict or file, jobs) triples."""
    if name == "quickstart":
        return [({"workload": name}, ROOT / "scenarios" / "quickstart.yaml", 1)]
    if name.startswith("llama-3.1-70b-tp8-64x512-"):
        return [({"workload": name}, _llama70b_tp8(name.rsplit("-", 1)[1]), 1)]
    if name == "llama-3.1-8b-tp8-op":
        return [({"workload": name}, _op_fidelity(), 1)]
    if name == "poisson-10k-step":
        return [({"workload": name}, _poisson(name, "llama-3.1-8b", 1), 1)]
    if name == "poisson-10k-70b-tp8-step":
        return [({"workload": name}, _poisson(name, "llama-3.1-70b", 8), 1)]
    if name == "vidur":
        return [({"workload": f"{name} {f}"}, _vidur(name, f), 1) for f in ("step", "layer")]
    if name.startswith("vidur-x16-10k-"):
        return [({"workload": name}, _vidur(name, name.rsplit("-", 1)[1], 16, 10_000), 1)]
    if name == "cluster-10k-128x8":
        data = _poisson(name, "llama-3.1-70b", 8, 10_000, dp=128)
        return [({"workload": f"{name} jobs {j}", "jobs": j}, data, j) for j in (1, 2)]
    if name == "cluster-1m-128x8":
        return [({"workload": name, "jobs": 2}, _poisson(name, "llama-3.1-70b", 8, 1_000_000, dp=128), 2)]
    if name == "layer-cost-linearity":
        return [({"workload": f"{name} L{layers} out{out}", "layers": layers, "output_tokens": out},
                 _small(layers, out), 1)
                for layers in LAYERS for out in OUTPUT_TOKENS]
    raise KeyError(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS + EXTRA_WORKLOADS)}")


def build_workload(name: str) -> list[tuple[dict[str, Any], Scenario]]:
    """The runs of workload ``name``: (labels for the table, validated scenario) pairs."""
    out = []
    for labels, source, _ in workload_runs(name):
        if isinstance(source, Path):
            out.append((labels, load_scenario(source)))
        else:
            out.append((labels, scenario_from_dict(source, file=name, base_dir=ROOT)))
    return out


#: runs one simulation in a fresh interpreter: argv = tree, JSON payload; prints one JSON row
CHILD = r"""
import hashlib, json, resource, sys, time
tree, payload = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, tree)
from simdecode import simulate
from simdecode.scenario.loader import load_scenario, scenario_from_dict
src = payload["scenario"]
sc = load_scenario(src) if isinstance(src, str) else scenario_from_dict(src, file=payload["name"], base_dir=payload["root"])
kwargs = {"jobs": payload["jobs"]} if payload["jobs"] > 1 else {}
def children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
cpu0, kids0, wall0 = time.process_time(), children(), time.perf_counter()
result = simulate(sc, **kwargs)
wall = time.perf_counter() - wall0
cpu = time.process_time() - cpu0 + children() - kids0
summary = result.summary()
summary["simulation"].pop("wall_s", None)
summary["simulation"].pop("events", None)
summary.pop("simdecode_version", None)
def rounded(v):
    if isinstance(v, float):
        return 0.0 if abs(v) < 1e-9 else float(f"{v:.6g}")
    if isinstance(v, dict):
        return {k: rounded(x) for k, x in v.items()}
    if isinstance(v, list):
        return [rounded(x) for x in v]
    return v
digest = lambda s: hashlib.sha256(json.dumps(s, sort_keys=True).encode()).hexdigest()[:12]
print(json.dumps({"events": result.events, "cpu_s": cpu, "wall_s": wall, "simulated_s": result.simulated_s,
                  "steps": (result.gpu if hasattr(result, "gpu") else result.recorder.gpu).steps,
                  "summary_exact": digest(summary),
                  "summary_6sig": digest(rounded(summary))}))
"""


def run_in(tree: Path, labels: dict[str, Any], source: dict[str, Any] | Path, jobs: int) -> dict[str, Any]:
    """One run of a workload in a fresh interpreter on the simdecode tree ``tree``."""
    payload = {"scenario": str(source) if isinstance(source, Path) else source, "name": labels["workload"],
               "root": str(ROOT), "jobs": jobs}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tree), json.dumps(payload)], capture_output=True,
                          text=True, check=False, env={**os.environ, "PYTHONPATH": str(tree)})
    if proc.returncode != 0:
        raise RuntimeError(f"{labels['workload']} on {tree} failed:\n{proc.stderr[-2000:]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    fidelity = source.get("simulation", {}).get("fidelity", "?") if isinstance(source, dict) else "file"
    row = {**labels, "tree": str(tree), "fidelity": fidelity, "jobs": jobs, **row}
    row["events_per_cpu_s"] = row["events"] / row["cpu_s"] if row["cpu_s"] > 0 else None
    if "layers" in labels:
        row["events_per_layer_step"] = row["events"] / (labels["layers"] * row["steps"])
        row["cpu_us_per_layer_step"] = 1e6 * row["cpu_s"] / (labels["layers"] * row["steps"])
    return row


def bare_simpy_rate(events: int = 300_000) -> float:
    """Events per CPU second of SimPy alone: one process yielding ``timeout(1)`` over and over."""
    import simpy

    env = simpy.Environment()

    def loop():
        for _ in range(events):
            yield env.timeout(1.0)

    env.process(loop())
    start = time.process_time()
    env.run()
    return next(env._eid) / (time.process_time() - start)


def checks(rows: list[dict[str, Any]], tree: str) -> None:
    """Add ``check`` (text) and ``pass`` (bool) to the rows of ``tree`` that have a requirement."""
    mine = [r for r in rows if r["tree"] == tree]
    by_name = {r["workload"]: r for r in mine}
    for r in mine:
        name = r["workload"]
        if name in LIMITS:
            r["limit_cpu_s"] = LIMITS[name]
            r["pass"] = r["cpu_s"] <= LIMITS[name]
            r["check"] = f"cpu <= {LIMITS[name]:g} s"
    layer, step = by_name.get(REQUIREMENT), by_name.get("llama-3.1-70b-tp8-64x512-step")
    if layer and step:
        ratio = layer["cpu_s"] / step["cpu_s"]
        layer["layer_over_step"] = ratio
        layer["pass"] = layer.get("pass", True) and ratio <= LAYER_OVER_STEP
        layer["check"] = f"cpu <= {LIMITS[REQUIREMENT]:g} s and <= {LAYER_OVER_STEP:g}x step ({ratio:.2f}x)"
    one, two = by_name.get("cluster-10k-128x8 jobs 1"), by_name.get("cluster-10k-128x8 jobs 2")
    if one and two:
        two["pass"] = one["summary_exact"] == two["summary_exact"]
        two["check"] = "summary identical to jobs 1"
    big = by_name.get("cluster-1m-128x8")
    if big:
        big["pass"] = big["wall_s"] <= CLUSTER_1M_WALL_S
        big["check"] = f"wall <= {CLUSTER_1M_WALL_S:g} s"


def print_tables(rows: list[dict[str, Any]], bare: float) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 180)  # piped: do not wrap at 80 columns
    console.print(f"bare SimPy timeout loop: {bare:,.0f} events per CPU second")
    table = Table(title="simdecode benchmarks (CPU seconds include worker processes)")
    cols = ("workload", "tree", "fidelity", "events", "cpu (s)", "wall (s)", "events/cpu s", "x bare SimPy",
            "simulated (s)", "steps", "summary", "check")
    for col in cols:
        table.add_column(col, justify="left" if col in ("workload", "tree", "fidelity", "summary", "check")
                         else "right", no_wrap=col in ("workload", "check"))
    for r in rows:
        check = ""
        if "pass" in r:
            check = ("[green]PASS[/] " if r["pass"] else "[red]FAIL[/] ") + r.get("check", "")
        rate = r["events_per_cpu_s"]
        table.add_row(r["workload"], Path(r["tree"]).name, r["fidelity"], f"{r['events']:,}", f"{r['cpu_s']:.3f}",
                      f"{r['wall_s']:.3f}", f"{rate:,.0f}" if rate else "-", f"{bare / rate:.1f}" if rate else "-",
                      f"{r['simulated_s']:.4g}", f"{r['steps']:,}", r["summary_6sig"], check)
    console.print(table)
    console.print("x bare SimPy: CPU time per event relative to a bare SimPy timeout loop measured in this run. "
                  "summary: digest of the summary as the golden tests compare it (floats to 6 significant "
                  "figures, below 1e-9 as 0; wall time and event count left out): equal digests, equal results.")

    linear = [r for r in rows if "layers" in r and r["tree"] == str(ROOT)]
    if linear:
        lt = Table(title="layer-fidelity cost vs layers x steps (flat ratios = linear cost)")
        for col in ("layers", "output tokens", "steps", "layers x steps", "events", "cpu (s)",
                    "events / (layers x steps)", "cpu us / (layers x steps)"):
            lt.add_column(col, justify="right")
        for r in linear:
            ls = r["layers"] * r["steps"]
            lt.add_row(str(r["layers"]), str(r["output_tokens"]), f"{r['steps']:,}", f"{ls:,}",
                       f"{r['events']:,}", f"{r['cpu_s']:.3f}", f"{r['events_per_layer_step']:.3f}",
                       f"{r['cpu_us_per_layer_step']:.2f}")
        console.print(lt)
        a, b, c = fit_events(linear)
        console.print(f"least-squares fit: events = {a:.3f} x layers x steps + {b:.3f} x steps + {c:.1f} "
                      "(cost linear in layers x steps, plus a per-step constant)")


def fit_events(rows: list[dict[str, Any]]) -> tuple[float, float, float]:
    """Fit events = a * layers * steps + b * steps + c over the linearity rows."""
    import numpy as np

    x = np.array([[r["layers"] * r["steps"], r["steps"], 1.0] for r in rows], dtype=float)
    y = np.array([r["events"] for r in rows], dtype=float)
    a, b, c = np.linalg.lstsq(x, y, rcond=None)[0]
    return float(a), float(b), float(c)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=WORKLOADS + EXTRA_WORKLOADS, metavar="NAME",
                        help="run this workload only (repeatable): " + ", ".join(WORKLOADS + EXTRA_WORKLOADS))
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON object on stdout")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also run each workload on the simdecode tree at DIR, back to back (before/after)")
    args = parser.parse_args(argv)
    trees = [ROOT] + ([args.baseline.resolve()] if args.baseline else [])
    bare = bare_simpy_rate()
    rows = []
    for name in args.only or WORKLOADS:
        for labels, source, jobs in workload_runs(name):
            for tree in reversed(trees):  # the baseline first, then this tree
                if tree != ROOT and jobs > 1:
                    continue  # an older tree may not split replicas
                rows.append(run_in(tree, labels, source, jobs))
    checks(rows, str(ROOT))
    if args.json:
        print(json.dumps({"bare_simpy_events_per_cpu_s": bare, "rows": rows}, indent=2))
    else:
        print_tables(rows, bare)
    return 0 if all(r.get("pass", True) for r in rows if r["tree"] == str(ROOT)) else 1


if __name__ == "__main__":
    sys.exit(main())
