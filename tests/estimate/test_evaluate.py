"""The estimate's speed of a configuration is `simdecode run`'s per-user speed on its equivalent scenario."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode import simulate
from simdecode.costmodel.speculative import default_acceptance, expected_tokens_iid
from simdecode.estimate.evaluate import Evaluator, convex_sum
from simdecode.estimate.shapes import dense, moe
from simdecode.estimate.space import Arch, Assumptions, Hardware, Speculation
from simdecode.presets import preset
from simdecode.scenario.model import ModelSpec
from simdecode.scenario.schema import Scenario

LLAMA_70B = ModelSpec.model_validate(preset("models", "llama-3.1-70b"))
MOE = Arch("moe", 10, 160, 8)


def run_tps(ev: Evaluator, a: Assumptions, model: ModelSpec, requests: int | None = None,
            fidelity: str = "step") -> float:
    mapping = ev.scenario_dict(a, model)
    mapping["simulation"]["fidelity"] = fidelity
    if requests is not None:
        mapping["workload"]["requests"] = requests
    return simulate(Scenario.model_validate(mapping)).summary()["per_request_tps"]["mean"]


@pytest.mark.parametrize("model, a", [
    (LLAMA_70B, Assumptions(Hardware("h100-sxm", 8), "bf16", 8, "vllm", 1, 128, Speculation(), Arch())),
    (dense(20e9, 8), Assumptions(Hardware("h200", 8), "fp8", 4, "trt-llm", 8, 500, Speculation(), Arch())),
    # 16 tokens touch ~87 of 160 experts: the union the cost model reads
    (moe(30e9, MOE, 8), Assumptions(Hardware("h200", 8), "fp8", 8, "vllm", 16, 300, Speculation(), MOE)),
    (dense(3e9, 8), Assumptions(Hardware("b200", 8), "fp4", 2, "vllm", 4, 64, Speculation(), Arch())),
], ids=["llama-70b-tp8-b1", "dense20b-fp8-tp4-b8", "moe30b-b16", "dense3b-fp4-tp2-b4"])
def test_prediction_equals_run(model, a):
    ev = Evaluator(output_tokens=96)
    predicted = ev.tps(a, model)
    assert ev.fits(a, model)
    assert predicted == pytest.approx(run_tps(ev, a, model), rel=1e-9)


def test_prediction_equals_run_at_layer_fidelity():
    """The scenario's fidelity does not matter: every fidelity folds to the same step times."""
    ev = Evaluator(output_tokens=64)
    a = Assumptions(Hardware("h100-sxm", 8), "bf16", 8, "default", 2, 256, Speculation(), Arch())
    assert ev.tps(a, LLAMA_70B) == pytest.approx(run_tps(ev, a, LLAMA_70B, fidelity="layer"), rel=1e-9)


@pytest.mark.parametrize("spec", [Speculation(3, 0.7), Speculation(3)], ids=["iid-0.7", "run-default"])
def test_speculation_prediction_is_runs_expectation(spec):
    """With MTP, run samples accepted lengths; its mean speed tends to the predicted expectation.
    ``Speculation(3)`` states no acceptance: the equivalent scenario leaves it out, so run uses its
    per-position default, and the estimate the same one."""
    ev = Evaluator(output_tokens=256)
    a = Assumptions(Hardware("h200", 8), "fp8", 8, "vllm", 4, 300, spec, MOE)
    assert ("acceptance" in ev.scenario_dict(a, moe(30e9, MOE, 8))["decoding"]) == (spec.acceptance is not None)
    model = moe(30e9, MOE, 8)
    assert ev.tps(a, model) == pytest.approx(run_tps(ev, a, model, requests=32), rel=0.02)


def test_speculation_speed_is_tokens_over_step_time():
    """Hand check of the formula at one context (output 2 tokens: one decode step at the prompt):
    tps = E[tokens] / (verify + k draft passes), E = (1 - a^(k+1)) / (1 - a) = 2.533 for k=3, a=0.7."""
    ev = Evaluator(output_tokens=2)
    a = Assumptions(Hardware("h200", 8), "bf16", 8, "vllm", 1, 1000, Speculation(3, 0.7), Arch())
    model = dense(20e9, 8)
    step = ev.step_seconds(a, model, 1000)
    assert expected_tokens_iid(0.7, 3) == pytest.approx(2.533, abs=1e-3)
    assert ev.tps(a, model) == pytest.approx(2.533 / step, rel=1e-3)


def test_default_acceptance_is_runs_default():
    """mtp:K without an acceptance: the per-position default of simdecode.costmodel.speculative
    (0.92, 0.72, 0.36), so E = 1 + 0.92 + 0.92 x 0.72 + 0.92 x 0.72 x 0.36 = 1 + 0.92 + 0.6624 +
    0.238464 = 2.820864 tokens per verify step; tps = E / (verify + 3 draft passes)."""
    spec = Speculation(3)
    assert spec.rates == tuple(default_acceptance(3)) == (0.92, 0.72, 0.36)
    assert spec.mean_tokens == pytest.approx(2.820864, abs=1e-9)
    assert str(spec) == "mtp:3" and "default acceptance (0.92, 0.72, 0.36" in spec.describe()
    ev = Evaluator(output_tokens=2)
    a = Assumptions(Hardware("h200", 8), "bf16", 8, "vllm", 1, 1000, spec, Arch())
    model = dense(20e9, 8)
    assert ev.tps(a, model) == pytest.approx(2.820864 / ev.step_seconds(a, model, 1000), rel=1e-9)


def test_default_acceptance_has_one_source(monkeypatch):
    """The estimate reads run's default, not a copy: changing it in costmodel.speculative changes both."""
    import simdecode.costmodel.speculative as speculative

    monkeypatch.setattr(speculative, "DEFAULT_PER_POSITION", (0.5, 0.5))
    assert Speculation(2).rates == (0.5, 0.5)
    assert Speculation(2).mean_tokens == pytest.approx(1 + 0.5 + 0.25)


def test_capacity_counts_whole_sequences():
    """8x H200 bf16, Llama-3.1-70B, vLLM: (0.9 x 143,771 MiB - 141.1 GB / 8 - 1.78 GB of workspace)
    / (80 x 1 KV head x 128 x 2 x 2 B) = (135.68 - 17.64 - 1.78) GB / 40960 B = 2.84M tokens per GPU
    = 177,399 blocks of 16; sequences of 2000 + 512 tokens take 157 blocks: 1129 of them. The
    workspace: 1 GiB + 8192 tokens x 2 B x (2 x 8192 + 3 x 28672 / 8) + 256 x 128256 x 8 B."""
    ws = 2**30 + 8192 * 2 * (2 * 8192 + 3 * 28672 / 8) + 256 * 128256 * 8
    assert ws == pytest.approx(1.781e9, rel=1e-3)
    assert int((0.9 * 143771 * 2**20 - 141.1e9 / 8 - ws) / 40960) // 16 // 157 == pytest.approx(1129, abs=2)
    ev = Evaluator(output_tokens=512)
    a = Assumptions(Hardware("h200", 8), "bf16", 8, "vllm", 1, 2000, Speculation(), Arch())
    assert ev.capacity_sequences(a, LLAMA_70B) == pytest.approx(1129, abs=2)
    assert ev.fits(a, LLAMA_70B)
    assert not ev.fits(Assumptions(Hardware("h200", 8), "bf16", 8, "vllm", 1200, 2000, Speculation(), Arch()),
                       LLAMA_70B)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 50), st.integers(1, 60), st.floats(0.1, 5), st.floats(0, 3), st.floats(-2, 2))
def test_convex_sum_is_exact(a, n, slope1, slope2, offset):
    """The sum of a convex piecewise-linear function (max of two lines) over integers equals the
    brute-force sum, from a few evaluations."""
    def f(c):
        return max(1.0 + slope1 * c, offset + 5.0 + slope2 * c * 0.5)

    b = a + n
    calls: dict[int, float] = {}
    assert convex_sum(f, a, b, calls) == pytest.approx(sum(f(c) for c in range(a, b + 1)), rel=1e-12)
    assert len(calls) <= n + 1


def test_convex_sum_of_affine_takes_three_values():
    calls: dict[int, float] = {}
    assert convex_sum(lambda c: 2.0 + 0.5 * c, 10, 1009, calls) == pytest.approx(sum(2.0 + 0.5 * c for c in range(10, 1010)))
    assert len(calls) == 3


def test_mla_prediction_equals_run():
    """Multi-head latent attention (DeepSeek-V3 proportions): the latent KV is replicated on every
    TP rank, which the same plans cost in both."""
    arch = Arch("moe", 15, 256, 8, "mla")
    model = moe(20e9, arch, 8)
    assert model.uses_mla and model.num_attention_heads % 8 == 0
    ev = Evaluator(output_tokens=64)
    a = Assumptions(Hardware("h200", 8), "fp8", 8, "vllm", 8, 1000, Speculation(), arch)
    assert ev.tps(a, model) == pytest.approx(run_tps(ev, a, model), rel=1e-9)
