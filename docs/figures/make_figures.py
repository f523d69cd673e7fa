"""Regenerate the figures in docs/figures from the curated scenarios:

    PYTHONPATH=. .venv/bin/python docs/figures/make_figures.py
"""

from __future__ import annotations

from pathlib import Path

from simdecode import load_scenario, simulate
from simdecode.explain import explain
from simdecode.plots import save_figure, token_timeline
from simdecode.plots_parallel import pipeline_depth, tp_scaling
from simdecode.plots_step import step_terms
from simdecode.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent


def main() -> None:
    scenarios = ROOT / "scenarios"
    ax = token_timeline(simulate(load_scenario(scenarios / "quickstart.yaml")))
    save_figure(ax.figure, OUT / "quickstart-timeline.png")

    tp = scenarios / "tp-scaling-pcie-vs-nvlink.yaml"
    runs = [simulate(load_scenario(tp, [f"hardware.intra_node_link={link}"])) for link in ("nvlink4", "pcie5")]
    ax = tp_scaling(runs, labels=["Llama-3.2-1B on 8x H100, NVLink4", "the same over PCIe Gen5"])
    save_figure(ax.figure, OUT / "tp-scaling-pcie-vs-nvlink.png")

    pp = scenarios / "pipeline-depth-vs-ttft.yaml"
    runs = [simulate(load_scenario(pp, [f"parallelism.tp={8 // depth}", f"parallelism.pp={depth}"]))
            for depth in (1, 2, 4, 8)]
    ax = pipeline_depth(runs)
    save_figure(ax.figure, OUT / "pipeline-depth-vs-ttft.png")

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
