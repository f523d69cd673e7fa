"""The validation groups against their tolerances, in CI (``simdecode validate``'s cases).

Runs every published case of groups DEC, BAT, PP and SPEC and every InferenceX Llama-3.1-70B
FP8 sweep (about 360 simulations at step fidelity, three waves of each closed loop; about a
minute on 2 cores), and the decode steps timed on one H200 (group KER H200 decode, costed, not
simulated: a fraction of a second). Rows that wait for kernel-side physics (MoE, MLA, FP4, integer weights: issue 12) are left
out of the tolerances. Every prediction must also equal the published table's
(docs/validation/validation.json), so a change of physics that moves any row fails here until the
table is regenerated (docs/validation.md says how).
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest

from simdecode.validate import device
from simdecode.validate.cases import SHIPPED_DATA, load
from simdecode.validate.runner import run_jobs
from simdecode.validate.table import TOLERANCES

DATA = SHIPPED_DATA  # the in-repository copy: CI checks the same cases whatever lies beside the clone
PUBLISHED = Path(__file__).resolve().parents[2] / "docs" / "validation" / "validation.json"
GROUPS = ("DEC", "BAT", "PP", "SPEC")


#: groups of whole steps measured on one GPU (simdecode/validate/device.py), with their tolerance
DEVICE_GROUPS = ("KER H200 decode",)


def in_ci(job) -> bool:
    p = job.points[0]
    return p.group in GROUPS or p.group in DEVICE_GROUPS or (p.group.startswith("IX llama-3.1-70b") and not p.kernel_side)


@pytest.fixture(scope="module")
def outcomes():
    jobs = [j for j in load([DATA, *device.default_files()]).jobs if in_ci(j)]
    return run_jobs(jobs, workers=2)


def errors(outcomes, group: str, metric: str | None = None) -> list[float]:
    return [abs(o.error) for o in outcomes if o.point.group == group and o.expressed and not o.point.kernel_side
            and (metric is None or o.point.metric == metric)]


@pytest.mark.parametrize("group", ["DEC", "BAT", "PP", *DEVICE_GROUPS])
def test_dense_groups_median_10_worst_25_percent(outcomes, group):
    e = errors(outcomes, group)
    assert len(e) >= 10
    assert statistics.median(e) <= 0.10 and max(e) <= 0.25


#: the DEC rows the tolerance above leaves out, each with why (the table's kernel-side column): any
#: other row of DEC counts, so a new exclusion cannot pass unnoticed
DEC_LEFT_OUT = {
    "DEC-04[tp=8,quant=int8 weight-only]": "int8 weights",
    "DEC-04[tp=8,quant=int4 g32]": "int4 weights",
    "DEC-12": "MoE, MLA, fp4 weights",
    # Kog's engine on H200: the kog runtime's stage costs (0.9 us flag wait + 0.5 us HBM restart)
    # are Kog's MI300X measurements and Kog publishes none for its H200 port, so this row tests an
    # input simdecode does not have, not its physics (scenarios/kog-2b-8xmi300x.yaml lists what was
    # checked). Its error stays in the table: +33% (2,786 vs 2,100 tok/s), asserted below.
    "DEC-13[gpus=8× NVIDIA H200]": "kog kernel costs measured on mi300x",
}


def test_dec_rows_left_out_of_the_tolerance_are_these(outcomes):
    left_out = {o.point.case: o.point.kernel_side for o in outcomes if o.point.group == "DEC" and o.point.kernel_side}
    assert left_out == DEC_LEFT_OUT
    counted = {o.point.case for o in outcomes if o.point.group == "DEC" and o.expressed and not o.point.kernel_side}
    assert {"DEC-13", "DEC-15", "DEC-15[model=Llama3.1 8B]"} <= counted  # Kog MI300X and Cerebras are judged


def test_kog_h200_row_is_shown_with_its_open_gap(outcomes):
    """The model puts the H200 within 4% of the MI300X (same stage costs, 10% less HBM bandwidth)
    where Kog measured 1.43x: +33% on the H200. If a change of physics closes the gap, this fails:
    then the row should count toward the tolerance again."""
    (o,) = [o for o in outcomes if o.point.case == "DEC-13[gpus=8× NVIDIA H200]"]
    assert o.expressed and 0.30 < o.error < 0.45


def test_bat_throughput_itl_and_latency_median_within_10_percent(outcomes):
    """BAT-01's aggregate and ITL and BAT-06's latencies (the whole group, TTFT rows included, is
    held to 10% / 25% above)."""
    e = [abs(o.error) for o in outcomes if o.point.group == "BAT" and o.expressed and o.point.metric != "TTFT"]
    assert len(e) == 24 and statistics.median(e) <= 0.10
    itl = [abs(o.error) for o in outcomes if o.point.case.startswith("BAT-01") and o.point.metric == "ITL"]
    assert max(itl) <= 0.10


@pytest.mark.parametrize("c", [100, 250])
def test_bat01_saturated_aggregate_within_15_percent(outcomes, c):
    (o,) = [o for o in outcomes if o.point.case == f"BAT-01[concurrency={c} aggregate tokens/s]"]
    assert abs(o.error) <= 0.15


def test_inferencex_llama_tpot_median_within_10_percent(outcomes):
    e = errors(outcomes, "IX llama-3.1-70b TPOT")
    assert len(e) >= 100 and statistics.median(e) <= 0.10


def test_inferencex_llama_ttft_median_within_20_percent(outcomes):
    """Client TTFT with InferenceX's launch flags (FP8 KV cache, async/overlap scheduling,
    TensorRT-LLM batch waiting). Its worst rows (B200 vLLM, H100 tp 2 at concurrency 32-64) miss
    the 50% bound: see docs/validation.md."""
    e = errors(outcomes, "IX llama-3.1-70b TTFT")
    assert len(e) >= 100 and statistics.median(e) <= 0.20


def test_every_prediction_is_the_published_tables(outcomes):
    rows = {(r["case"], r["metric"]): r for r in json.loads(PUBLISHED.read_text(encoding="utf-8"))["rows"]}
    for o in outcomes:
        published = rows[(o.point.case, o.point.metric)]
        if not o.expressed:
            assert published["predicted"] is None
            continue
        assert published["predicted"] == pytest.approx(o.predicted, rel=1e-6), (
            f"{o.point.case} {o.point.metric}: {o.predicted:.6g} now, {published['predicted']:.6g} in "
            "docs/validation: regenerate the table (docs/validation.md) and explain the change in CHANGELOG.md")
    assert math.isfinite(sum(o.predicted for o in outcomes if o.expressed))


def test_device_step_groups_have_the_dense_tolerance(outcomes):
    """KER H200 decode: every decode step of the H200 run (11 rows), held to DEC's bounds."""
    for group in DEVICE_GROUPS:
        assert TOLERANCES[group] == TOLERANCES["DEC"]
        assert len([o for o in outcomes if o.point.group == group and o.expressed]) == 11
