"""TP scaling and the roofline bound: regressions found in review."""

from __future__ import annotations

from simdecode import simulate
from simdecode.costmodel.deployment import Deployment
from simdecode.analysis.scaling import tp_scaling, valid_tp_degrees
from simdecode.costmodel.scaling import analytic_crossover
from simdecode.scenario.schema import Scenario


def scenario(**kw) -> Scenario:
    return Scenario.model_validate({"hardware": {"gpu": kw.pop("gpu", "h100-sxm")}, **kw})


def test_analytic_crossover_uses_the_weights_one_token_reads_for_a_mixture_of_experts():
    """W in physics.md 2.5 is what a batch-1 step streams: Mixtral reads 2 of its 8 experts, so its
    t* must sit near a dense model of its active size, not of its total size."""
    def t_star(model) -> float:
        return analytic_crossover(Deployment.from_scenario(scenario(model=model, parallelism={"tp": 8})))

    mixtral = t_star("mixtral-8x7b")                                   # 12.9B active of 46.7B
    every_expert = t_star({"preset": "mixtral-8x7b", "num_experts_per_tok": 8})
    dense_13b = t_star("llama-2-13b")                                   # a dense model of that size
    assert mixtral < 0.75 * every_expert
    assert abs(mixtral - dense_13b) < 0.25 * dense_13b


def test_sliding_window_models_keep_roofline_above_the_simulated_speed():
    """GPT-OSS alternates sliding-window layers: at a 100k context the bound and the scaling curve
    must read only the window's KV in those layers, as the engine does."""
    s = scenario(model="gpt-oss-120b", precision={"weights": "fp4"}, parallelism={"tp": 2},
                 workload={"requests": 1, "prompt_tokens": 100_000, "output_tokens": 8},
                 simulation={"fidelity": "step"})
    summary = simulate(s).summary()
    assert summary["per_request_tps"]["mean"] < summary["roofline_tps"]
    assert summary["tp_scaling"]["per_request_tps"]["2"] >= 0.95 * summary["per_request_tps"]["mean"]


def test_tp_degrees_that_do_not_fit_memory_are_left_out():
    s = scenario(model="llama-3.1-405b", hardware={"gpu": "h100-sxm", "gpus_per_node": 8, "nodes": 2},
                 parallelism={"tp": 16})
    degrees = valid_tp_degrees(s)
    assert degrees == [16]                       # 810 GB of bf16 weights need 16 H100s
    assert list(tp_scaling(s).per_request_tps) == [16]
