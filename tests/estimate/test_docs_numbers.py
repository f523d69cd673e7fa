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
        fp4=f"{effects['precision', 'fp4']:.2g}", spec=f"{effects['speculation', 'mtp:3']:.2g}",
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
    assert result["interval"]["clipped"]["high"]  # "is the largest model that fits 8x H200's memory"
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
            (Speculation(), Speculation(3))):
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


ROUND_TRIP_MD = _flat(_section(ESTIMATE_MD, "### The round trip", "## 6."))
HOLD = dict(hardware="h100x8", precision="bf16", tp=8, batch=1)


@pytest.fixture(scope="module")
def round_trips() -> dict:
    """The round trip's estimates at the speed the docs feed back: `run`'s, to the docs' 2 decimals."""
    tps = round(simulate(load_scenario(ROUND_TRIP)).summary()["per_request_tps"]["mean"], 2)
    return {"tps": tps, "a": estimate(tps, hardware="h100x8"), "b": estimate(tps, **HOLD),
            "c": estimate(tps, speculation="none", **HOLD), "spec": estimate(tps, speculation="mtp:3", **HOLD)}


def test_round_trip_section_and_readme(round_trips):
    """docs/estimate.md's round-trip table, excerpt and prose, and README's paragraph."""
    tps = round_trips.pop("tps")
    assert f"prints {tps:.2f} tok/s" in ROUND_TRIP_MD and f"estimate --tps {tps:.2f} " in ROUND_TRIP_MD
    assert f"{tps:.2f} tok/s; `simdecode estimate --tps {tps:.2f} --gpu h100-sxm --gpus 8`" in README_PARA
    spans = {}
    for key, r in round_trips.items():
        lo, hi = r["interval"]["active_params"]
        spans[key] = (params(lo), params(hi), f"{r['interval']['ratio']:.3g}")
        if key != "spec":
            assert lo < 70.6e9 < hi  # every run with the right assumptions free holds the true size
            assert f"| ({key}) |" in ROUND_TRIP_MD and f"| {spans[key][0]} .. {spans[key][1]} | {spans[key][2]}× |" \
                in ROUND_TRIP_MD
    assert round_trips["b"]["interval"]["ratio"] > 2 > round_trips["c"]["interval"]["ratio"]
    spec = next(b for b in round_trips["b"]["interval"]["bounds"]["high"] if b["axis"] == "speculation")
    assert spec["without"] == round_trips["c"]["interval"]["active_params"][1]
    # the excerpt is printed output
    block = re.search(r"^```\n(Active parameters consistent with \d.*?)^```",
                      _section(ESTIMATE_MD, "### The round trip", "## 6."), re.MULTILINE | re.DOTALL).group(1)
    printed = set(render(round_trips["b"]).splitlines())
    assert [line for line in block.splitlines() if line not in printed] == []
    assert f"({spans['spec'][0]} .. {spans['spec'][1]}, which does not hold 70.6B" in ROUND_TRIP_MD
    assert f"{spans['spec'][2]}× with `--speculation mtp:3`" in ROUND_TRIP_MD
    effect = next(e for e in round_trips["b"]["effects"] if e["axis"] == "speculation")["factor"][1]
    assert f"allows a model {effect:.3g}× larger" in ROUND_TRIP_MD
    a = spans["a"]
    for phrase in [f"answers {a[0]} to {a[1]}, which holds Llama's 70.6B",
                   f"pinned it is {spans['b'][0]} to {spans['b'][1]} ({spans['b'][2]}x)",
                   f"with speculation none it would be {params(spec['without'])}",
                   f"gives {spans['c'][0]} to {spans['c'][1]} ({spans['c'][2]}x)"]:
        assert phrase in README_PARA, f"README's round trip no longer says: {phrase!r}"


def test_round_trip_speculation_speedup_quoted():
    """'Llama-70B here: 14.37 ms against 13.27 ms ... 196.3 tok/s with MTP 3, 2.6x faster'."""
    ev = Evaluator(output_tokens=512)
    model = ModelSpec.model_validate(preset("models", "llama-3.1-70b"))
    plain, spec = (Assumptions(Hardware("h100-sxm", 8), "bf16", 8, "vllm", 1, 2000, s, Arch())
                   for s in (Speculation(), Speculation(3)))
    t_plain, t_spec = ev.step_seconds(plain, model, 2000), ev.step_seconds(spec, model, 2000)
    fast, slow = ev.tps(spec, model), ev.tps(plain, model)
    assert (f"here: {t_spec * 1e3:.2f} ms against {t_plain * 1e3:.2f} ms, three draft passes included) and yields "
            f"{Speculation(3).mean_tokens:.3g} tokens") in ROUND_TRIP_MD
    assert f"at {fast:.1f} tok/s with MTP 3, {fast / slow:.2g}× faster" in ROUND_TRIP_MD
