"""Regenerate the figures in docs/figures from the curated scenarios:

    PYTHONPATH=. .venv/bin/python docs/figures/make_figures.py

Each figure is drawn by the same function ``simdecode plot`` uses, from the same sweep that
``simdecode sweep`` runs, so a reader can reproduce any of them from the command line (the
command is in each entry of FIGURES).
"""

from __future__ import annotations

from pathlib import Path

from simdecode import load_scenario, simulate
from simdecode.present.explain import explain
from simdecode.plots import save_figure, token_gantt, token_timeline
from simdecode.plots.choose import draw
from simdecode.plots.step import step_terms
from simdecode.scenario.schema import Scenario
from simdecode.sweep import sweep

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
SCENARIOS = ROOT / "scenarios"

#: file -> (scenario, --vary axes, --set overrides, figure); the shell equivalent is
#: simdecode sweep scenarios/<scenario> [--vary ...] [--set ...] --out DIR && simdecode plot DIR --figure <figure>
FIGURES = {
    "pipeline-depth-vs-ttft.png": ("pipeline-depth-vs-ttft.yaml",
                                   ["parallelism.pp=1,2,4,8", "workload.arrival.concurrency=1,4,16"], [], "pipeline"),
    "tp-scaling-pcie-vs-nvlink.png": ("tp-scaling-pcie-vs-nvlink.yaml", [], [], "tp"),
    "concurrency-per-user-vs-per-gpu.png": ("concurrency-sweep-llama-70b-fp8-2xh100.yaml", [], [], "pareto"),
    "speculative-vs-batch.png": ("spec-vs-batch.yaml", [], [], "speculative"),
}


def main() -> None:
    ax = token_timeline(simulate(load_scenario(SCENARIOS / "quickstart.yaml")))
    save_figure(ax.figure, OUT / "quickstart-timeline.png")
    ax = token_gantt(load_scenario(SCENARIOS / "pipeline-depth-vs-ttft.yaml"))
    save_figure(ax.figure, OUT / "token-gantt-tp2-pp2.png")
    for name, (scenario, vary, overrides, figure) in FIGURES.items():
        result = sweep(SCENARIOS / scenario, vary=vary, overrides=overrides, jobs=2)
        save_figure(draw(figure, result.rows), OUT / name)
        print("wrote", OUT / name)

    save_figure(deepseek_step_terms().figure, OUT / "deepseek-v3-step-terms.png")


def deepseek_step_terms():
    """One DeepSeek-V3 decode step at batch 1, 16 and 128 split into its terms (docs/physics-moe-precision.md)."""
    scenario = Scenario.model_validate({
        "name": "deepseek-v3-h200-step", "model": "deepseek-v3", "runtime": "vllm",
        "hardware": {"gpu": "h200", "gpus_per_node": 8}, "parallelism": {"tp": 8},
        "precision": {"kv_cache": "bf16"},
    })
    runs = [explain(scenario, context_tokens=1024, batch=b) for b in (1, 16, 128)]
    return step_terms(runs, "One DeepSeek-V3 decode step split into its terms, by batch size\n"
                            "held fixed: 8x H200, tp 8, vllm runtime, fp8 weights, bf16 KV, 1,024-token context")


if __name__ == "__main__":
    main()
