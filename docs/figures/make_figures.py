"""Regenerate the figures in docs/figures from the curated scenarios:

    PYTHONPATH=. .venv/bin/python docs/figures/make_figures.py
"""

from __future__ import annotations

from pathlib import Path

from simdecode import load_scenario, simulate
from simdecode.plots import save_figure, token_timeline
from simdecode.plots.parallel import pipeline_depth, tp_scaling

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


if __name__ == "__main__":
    main()
