"""The numbers docs/estimate.md's worked example and README's estimate paragraph quote are what the
code computes now: each is rebuilt here from one ``estimate()`` call (and, for the reasons the prose
gives, from ``simdecode explain`` and the estimate's evaluator), with the docs' rounding, so a change
to the cost model that moves them fails here instead of leaving the docs stale."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from simdecode import simulate
from simdecode.cli import main
from simdecode.estimate import estimate
from simdecode.estimate.evaluate import Evaluator
from simdecode.estimate.report import params, render
from simdecode.estimate.shapes import active_params, moe, total_params
from simdecode.estimate.space import Arch, Assumptions, Hardware, Speculation
from simdecode.presets import preset
from simdecode.scenario.loader import load_scenario
from simdecode.scenario.model import ModelSpec

ROOT = Path(__file__).resolve().parents[2]
ESTIMATE_MD = (ROOT / "docs" / "estimate.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
ROUND_TRIP = ROOT / "scenarios" / "estimate-round-trip-llama-3.1-70b-8xh100.yaml"
#: the worked example's command, as the docs show it (the README's omits only the price)
COMMAND = "simdecode estimate --tps 42 --hardware h200x8"
REFERENCES = ["llama-3.1-70b:70", "glm-4.7:143:32B"]


def _flat(text: str) -> str:
    """Prose with every run of whitespace as one space, so line wrapping does not matter."""
    return re.sub(r"\s+", " ", text)


def _section(text: str, start: str, end: str) -> str:
    i = text.index(start)
    return text[i:text.index(end, i)]


WORKED = _section(ESTIMATE_MD, "## 8. Worked example", "## 9.")
WORKED_PROSE = _flat(_section(WORKED, "What it says about the argument", "![")).replace("×", "x")
README_PARA = _flat(_section(README, "## What does a speed say about a model's size?", "## Curated scenarios"))


@pytest.fixture(scope="module")
def result() -> dict:
    return estimate(42, hardware="h200x8", references=REFERENCES, gpu_hour_usd=3.0, price_usd_per_mtok=25.0)


@pytest.fixture(scope="module")
def quoted(result) -> dict:
    """The worked example's figures, formatted as the docs round them."""
    ref = result["references"]
    pair = ref["pairs"][0]
    at_1, at_64 = pair["simulated"]
    same = ref["per_reference"][0]["breaks"][0]
    assert same["case"].startswith("same assumptions")
    effects = {(e["axis"], e["to"]): e["factor"][1] for e in result["effects"]}
    calibrated = {r["reference"]: r["calibrated"] for r in ref["per_reference"]}
    lo, hi = result["interval"]["active_params"]
    return dict(
        naive=(params(ref["naive_range"][0]), params(ref["naive_range"][1])),
        interval=(params(lo), params(hi)), interval_ratio=f"{result['interval']['ratio']:.3g}",
        same=params(same["active"]), same_factor=f"{same['factor']:.3g}",
        ratio_1=f"{at_1['ratio']:.3g}", ratio_64=f"{at_64['ratio']:.3g}",
        naive_ratio=f"{pair['naive_ratio']:.3g}", observed_ratio=f"{pair['observed_ratio']:.2g}",
        tps_1=tuple(f"{v:.3g}" for v in at_1["tps"]),
        fp4=f"{effects['precision', 'fp4']:.2g}", spec=f"{effects['speculation', 'mtp:3:0.7']:.2g}",
        batch64=f"{effects['batch', '64']:.2g}", moe=f"{effects['arch', 'moe:10:160:8']:.2g}",
        cost=tuple(f"{v:.3g}" for v in result["cost"]["at_observed_speed"]["usd_per_mtok"]),
        calibrated=calibrated,
    )


def test_docs_show_the_command_the_test_runs():
    assert COMMAND in _flat(_section(ESTIMATE_MD, "```sh", "```\n\n```python")).replace("\\ ", "")
    for name in REFERENCES:
        assert f"--reference {name}" in _flat(ESTIMATE_MD) and f"--reference {name}" in README_PARA
    assert "glm-4.7-config.json" not in README_PARA + WORKED


def test_worked_example_output_block_is_what_estimate_prints(result):
    """Every line of the example's (abridged) output is a line the report prints today."""
    block = re.search(r"^```\n(Active parameters consistent.*?)^```", WORKED, re.MULTILINE | re.DOTALL).group(1)
    printed = set(render(result).splitlines())
    shown = [line for line in block.splitlines() if line.strip() and line.strip() != "..."]
    assert len(shown) >= 25
    stale = [line for line in shown if line not in printed]
    assert not stale, "docs/estimate.md section 8 quotes output the estimate no longer prints:\n" + "\n".join(stale)


def test_worked_example_prose(result, quoted):
    q, text = quoted, WORKED_PROSE
    assert result["interval"]["clipped"]["high"]  # "its high end is the largest model that fits"
    llama, glm = q["calibrated"]["llama-3.1-70b"], q["calibrated"]["glm-4.7"]
    for phrase in [
        f"runs Llama-70B at {q['tps_1'][0]} tok/s and GLM-4.7 at {q['tps_1'][1]} tok/s at batch 1",
        f"a ratio of {q['ratio_1']} where the naive ratio says {q['naive_ratio']} and the provider shows "
        f"{q['observed_ratio']}",
        f"GLM-4.7 is {q['ratio_64']}x *slower*",
        f"the simulator's answer is {q['same']} (x{q['same_factor']} of the naive answer)",
        f"4-bit weights x{q['fp4']}, speculation x{q['spec']}, a 64-user batch x{q['batch64']}, "
        f"a sparse MoE x{q['moe']}",
        f"spans {q['interval_ratio']}x ({q['interval'][0]} to {q['interval'][1]})",
        f"costs ${q['cost'][0]}/Mtok (tp 4, 64 users) to ${q['cost'][1]}/Mtok (tp 8, one user)",
        f"GLM-4.7 at 143 tok/s in {glm['reproduced']} of the {glm['settings']} shared settings, at "
        f"{glm['batches'][0]} to {glm['batches'][1]} users",
        f"Llama-70B at 70 tok/s in {llama['reproduced']}, at {llama['batches'][0]} to {llama['batches'][1]} users",
    ]:
        assert phrase in text, f"docs/estimate.md section 8 no longer says: {phrase!r}"
    assert result["cost"]["at_observed_speed"]["cheapest"]["tp"] == 4
    assert result["cost"]["at_observed_speed"]["cheapest"]["batch"] == 64


def test_readme_paragraph(quoted):
    q, text = quoted, README_PARA
    for phrase in [
        f"the naive answer ({q['naive'][0]} to {q['naive'][1]})",
        f"the simulated speed ratio Llama / GLM is {q['ratio_1']}",
        f"GLM is {q['ratio_64']}x *slower*",
        f"With everything shared the answer is {q['same']};",
        f"the interval over all assumptions is {q['interval'][0]} to {q['interval'][1]}",
        f"fp4 weights x{q['fp4']}, speculation x{q['spec']}, 64 users x{q['batch64']}, a sparse MoE x{q['moe']}",
        f"${q['cost'][0]} to ${q['cost'][1]} per million tokens at 42 tok/s",
    ]:
        assert phrase in text, f"README's estimate paragraph no longer says: {phrase!r}"


def _explain(capsys, model: str) -> dict:
    """`simdecode explain` of the pair's shared setting (bf16, tp 8 on 8x H200, vLLM, batch 1, 2,000 tokens)."""
    assert main(["explain", str(ROUND_TRIP), "--set", f"model={model}", "--set", "hardware.gpu=h200", "--json"]) == 0
    (stage,) = json.loads(capsys.readouterr().out)["stages"]
    return stage


def test_why_glm_is_not_faster(capsys, quoted):
    """The prose's reasons: half the bytes, more kernels and all-reduces (README and section 8)."""
    llama, glm = _explain(capsys, "llama-3.1-70b"), _explain(capsys, "glm-4.7")
    allreduces = [next(c["count"] for c in s["collectives"] if c["kind"] == "allreduce") for s in (llama, glm)]
    assert (f"streams half the bytes ({glm['memory_s'] * 1e3:.1f} ms against {llama['memory_s'] * 1e3:.1f} ms per "
            f"token)") in WORKED_PROSE
    assert (f"launch {glm['kernels']:,} kernels against Llama's {llama['kernels']:,} "
            f"({glm['launch_s'] * 1e3:.1f} ms against {llama['launch_s'] * 1e3:.1f} ms) and make {allreduces[1]} "
            f"all-reduces against {allreduces[0]}") in WORKED_PROSE
    assert f"launches {glm['kernels']:,} kernels per token against {llama['kernels']:,}" in README_PARA


def test_glm_is_almost_never_the_faster_under_shared_settings():
    """Section 8: 'GLM-4.7 is the faster in only K of the N shared settings on 8x H200 that fit both
    models ... by under 1% ...: the ratio runs from LO to HI'."""
    llama = ModelSpec.model_validate(preset("models", "llama-3.1-70b"))
    glm = ModelSpec.model_validate(preset("models", "glm-4.7"))
    ev = Evaluator(output_tokens=512)
    ratios = []
    for precision, tp, runtime, batch, context, spec in itertools.product(
            ("bf16", "fp8", "fp4"), (4, 8), ("vllm", "trt-llm"), (1, 4, 16, 64), (2000, 16000),
            (Speculation(), Speculation(3, 0.7))):
        a = Assumptions(Hardware("h200", 8), precision, tp, runtime, batch, context, spec, Arch())
        if ev.fits(a, llama) and ev.fits(a, glm):
            ratios.append(ev.tps(a, llama) / ev.tps(a, glm))
    faster = [r for r in ratios if r < 1]
    assert min(ratios) > 0.99 and len(faster) <= 0.05 * len(ratios)  # where GLM-4.7 wins, by under 1%
    assert (f"GLM-4.7 is the faster in only {len(faster)} of the {len(ratios)} shared settings on 8x H200 that fit "
            f"both models (precision, tp, runtime, batch 1 to 64, context, speculation), by under 1%: the ratio "
            f"runs from {min(ratios):.3g} to {max(ratios):.3g}") in WORKED_PROSE


def test_round_trip_speed_quoted_in_section_3():
    """Section 3: the round-trip scenario's speed in `simdecode run` and in the estimate's evaluation."""
    run_tps = simulate(load_scenario(ROUND_TRIP)).summary()["per_request_tps"]["mean"]
    a = Assumptions(Hardware("h100-sxm", 8), "bf16", 8, "vllm", 1, 2000, Speculation(), Arch())
    predicted = Evaluator(output_tokens=512).tps(a, ModelSpec.model_validate(preset("models", "llama-3.1-70b")))
    assert predicted == pytest.approx(run_tps, rel=1e-9)
    section = _flat(_section(ESTIMATE_MD, "## 3.", "## 4."))
    assert f"runs at {run_tps:.2f} tok/s per request in `simdecode run`" in section
    assert f"gives the same {predicted:.2f}" in section


def test_moe_shape_quoted_in_section_2():
    m = moe(32e9, Arch("moe", 11.1, 160, 8), 8)
    phrase = (f"{m.num_hidden_layers} layers of {m.hidden_size} with experts of {m.moe_intermediate_size}, "
              f"{total_params(m) / 1e9:.0f}B total")
    assert phrase in _flat(_section(ESTIMATE_MD, "## 2.", "## 3."))
    assert active_params(m) == pytest.approx(32e9, rel=0.06)
