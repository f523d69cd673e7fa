"""simdecode's performance benchmarks: how fast the simulator itself runs.

    PYTHONPATH=. python benchmarks/run.py [--only NAME] [--json]

Workloads (see :data:`WORKLOADS`):
- ``quickstart``: scenarios/quickstart.yaml as is.
- ``llama-3.1-70b-tp8-64x512-layer``: Llama-3.1-70B bf16 on 8x H100 SXM, tp 8, vLLM runtime,
  64 requests at closed concurrency 64, 128 prompt and 512 output tokens, layer fidelity.
  Requirement: under :data:`LIMIT_S` seconds of wall time on a 2-core machine (PASS/FAIL).
- ``llama-3.1-70b-tp8-64x512-step``: the same at step fidelity.
- ``llama-3.1-8b-tp8-op``: Llama-3.1-8B on 8x H100, tp 8, 2 requests of 128 + 16 tokens at op
  fidelity, where every ring all-reduce is its 14 rounds of 8 link transfers.
- ``poisson-10k-step``: Llama-3.1-8B bf16 on one H100 SXM, vLLM runtime, 10,000 requests
  arriving as a Poisson process at 10/s, prompt and output lengths drawn from the Splitwise
  conversation trace (scenarios/traces/splitwise_conv.csv), step fidelity. Requirement: under
  :data:`POISSON_LIMIT_S` seconds on a 2-core machine (PASS/FAIL).
- ``layer-cost-linearity``: llama-3.2-1b on one GPU, one request, layer fidelity, with
  num_hidden_layers x output_tokens on a grid: events / (layers x steps) should stay flat.

This is a script, not a test; tests/test_benchmarks_smoke.py checks that it still works.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from anywhere without installing
    sys.path.insert(0, str(ROOT))

from simdecode import simulate
from simdecode.scenario.loader import load_scenario, scenario_from_dict
from simdecode.scenario.schema import Scenario

LIMIT_S = 10.0
REQUIREMENT = "llama-3.1-70b-tp8-64x512-layer"
LAYERS = (8, 16, 32)
OUTPUT_TOKENS = (64, 128, 256)


def _llama70b_tp8(fidelity: str) -> dict[str, Any]:
    return {
        "name": f"llama-3.1-70b-tp8-64x512-{fidelity}",
        "seed": 0,
        "model": "llama-3.1-70b",
        "precision": {"weights": "bf16", "kv_cache": "bf16", "activations": "bf16"},
        "hardware": {"gpu": "h100-sxm", "gpus_per_node": 8},
        "runtime": "vllm",
        "parallelism": {"tp": 8},
        "workload": {"arrival": {"kind": "closed", "concurrency": 64}, "requests": 64,
                     "prompt_tokens": 128, "output_tokens": 512},
        "simulation": {"fidelity": fidelity},
    }


def _op_fidelity() -> dict[str, Any]:
    return {
        "name": "llama-3.1-8b-tp8-op",
        "seed": 0,
        "model": "llama-3.1-8b",
        "hardware": {"gpu": "h100-sxm", "gpus_per_node": 8},
        "runtime": "default",
        "parallelism": {"tp": 8, "allreduce": "ring"},
        "workload": {"arrival": {"kind": "closed", "concurrency": 2}, "requests": 2,
                     "prompt_tokens": 128, "output_tokens": 16},
        "simulation": {"fidelity": "op"},
    }


def _poisson_10k() -> dict[str, Any]:
    conv = "scenarios/traces/splitwise_conv.csv"
    return {
        "name": "poisson-10k-step",
        "seed": 0,
        "model": "llama-3.1-8b",
        "hardware": {"gpu": "h100-sxm", "gpus_per_node": 1},
        "runtime": "vllm",
        "workload": {"arrival": {"kind": "poisson", "rate": "10/s"}, "requests": 10_000,
                     "prompt_tokens": {"dist": "empirical", "path": conv, "column": "num_prefill_tokens"},
                     "output_tokens": {"dist": "empirical", "path": conv, "column": "num_decode_tokens"}},
        "simulation": {"fidelity": "step"},
    }


def _small(layers: int, output_tokens: int) -> dict[str, Any]:
    return {
        "name": f"llama-3.2-1b-L{layers}-out{output_tokens}",
        "seed": 0,
        "model": {"preset": "llama-3.2-1b", "num_hidden_layers": layers},
        "hardware": {"gpu": "h100-sxm", "gpus_per_node": 1},
        "workload": {"arrival": {"kind": "closed", "concurrency": 1}, "requests": 1,
                     "prompt_tokens": 32, "output_tokens": output_tokens},
        "simulation": {"fidelity": "layer"},
    }


WORKLOADS = ("quickstart", "llama-3.1-70b-tp8-64x512-layer", "llama-3.1-70b-tp8-64x512-step", "llama-3.1-8b-tp8-op",
             "poisson-10k-step", "layer-cost-linearity")
POISSON_LIMIT_S = 20.0
#: workload -> wall-time limit, seconds, on a 2-core machine
LIMITS = {REQUIREMENT: LIMIT_S, "poisson-10k-step": POISSON_LIMIT_S}


def build_workload(name: str) -> list[tuple[dict[str, Any], Scenario]]:
    """The runs of workload ``name``: (labels for the table, validated scenario) pairs."""
    if name == "quickstart":
        return [({"workload": name}, load_scenario(ROOT / "scenarios" / "quickstart.yaml"))]
    if name.startswith("llama-3.1-70b-tp8-64x512-"):
        fidelity = name.rsplit("-", 1)[1]
        return [({"workload": name}, scenario_from_dict(_llama70b_tp8(fidelity), file=name))]
    if name == "llama-3.1-8b-tp8-op":
        return [({"workload": name}, scenario_from_dict(_op_fidelity(), file=name))]
    if name == "poisson-10k-step":
        return [({"workload": name}, scenario_from_dict(_poisson_10k(), file=name, base_dir=ROOT))]
    if name == "layer-cost-linearity":
        return [({"workload": f"{name} L{layers} out{out}", "layers": layers, "output_tokens": out},
                 scenario_from_dict(_small(layers, out), file=name))
                for layers in LAYERS for out in OUTPUT_TOKENS]
    raise KeyError(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")


def run_one(labels: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    start = time.perf_counter()
    result = simulate(scenario)
    wall = time.perf_counter() - start
    row = {**labels, "fidelity": scenario.simulation.fidelity, "events": result.events, "wall_s": wall,
           "events_per_s": result.events / wall if wall > 0 else None, "simulated_s": result.simulated_s,
           "steps": result.gpu.steps}
    if "layers" in labels:
        row["events_per_layer_step"] = result.events / (labels["layers"] * row["steps"])
        row["wall_us_per_layer_step"] = 1e6 * wall / (labels["layers"] * row["steps"])
    if labels["workload"] in LIMITS:
        row["limit_s"] = LIMITS[labels["workload"]]
        row["pass"] = wall < row["limit_s"]
    return row


def print_tables(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 140)  # piped: do not wrap at 80 columns
    table = Table(title="simdecode benchmarks")
    for col in ("workload", "fidelity", "events", "wall (s)", "events/s", "simulated (s)", "steps", "check"):
        table.add_column(col, justify="left" if col in ("workload", "fidelity", "check") else "right",
                         no_wrap=col in ("workload", "check"))
    for r in rows:
        check = ""
        if "pass" in r:
            check = f"[green]PASS[/] < {r['limit_s']:g} s" if r["pass"] else f"[red]FAIL[/] >= {r['limit_s']:g} s"
        table.add_row(r["workload"], r["fidelity"], f"{r['events']:,}", f"{r['wall_s']:.3f}",
                      f"{r['events_per_s']:,.0f}", f"{r['simulated_s']:.4g}", f"{r['steps']:,}", check)
    console.print(table)

    linear = [r for r in rows if "layers" in r]
    if linear:
        lt = Table(title="layer-fidelity cost vs layers x steps (flat ratios = linear cost)")
        for col in ("layers", "output tokens", "steps", "layers x steps", "events", "wall (s)",
                    "events / (layers x steps)", "wall us / (layers x steps)"):
            lt.add_column(col, justify="right")
        for r in linear:
            ls = r["layers"] * r["steps"]
            lt.add_row(str(r["layers"]), str(r["output_tokens"]), f"{r['steps']:,}", f"{ls:,}",
                       f"{r['events']:,}", f"{r['wall_s']:.3f}", f"{r['events_per_layer_step']:.3f}",
                       f"{r['wall_us_per_layer_step']:.2f}")
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
    parser.add_argument("--only", choices=WORKLOADS, help="run one workload")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON object on stdout")
    args = parser.parse_args(argv)
    rows = [run_one(labels, scenario)
            for name in ([args.only] if args.only else WORKLOADS)
            for labels, scenario in build_workload(name)]
    if args.json:
        print(json.dumps({"rows": rows}, indent=2))
    else:
        print_tables(rows)
    return 0 if all(r.get("pass", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
