"""EAGLE's gpt-fast tables (SafeAILab/EAGLE README, "With gpt-fast"), through validate's reading of them.

Two revisions of one README section, both measured with the ``eaglefast`` branch's MT-bench harness
(validate/harnesses.py: a static KV cache of 2,000 positions, prefill inside the clock, int4 in
groups of 32):

- 2024-01-17 (SPEC-08): LLaMA2-Chat 13B on one A100 (size not stated): gpt-fast fp16 33.2 tok/s, int4 47.4;
- 2024-01-18 until EAGLE-2 (2024-06): LLaMA2-Chat 7B on one RTX 3090: fp16 55.1, int4 106.9.
"""

from __future__ import annotations

import pytest

from simdecode.validate import published
from simdecode.validate.runner import run_job

SOURCE = "https://github.com/SafeAILab/EAGLE/blob/main/README.md (v1.1 'With gpt-fast' section)"


def _predicted(gpus: str, model: str, quote: str, value: float) -> dict[str, tuple[float, float]]:
    case = {"id": "SPEC-95", "metric": "per_request_decode_tok_s", "value": value, "unit": "tok/s",
            "source_url": SOURCE, "quote": quote,
            "conditions": {"gpus": gpus, "model": model, "dataset": "MT-bench", "dtype": "fp16 / int4", "batch": 1}}
    out = {}
    for job in published.case_jobs(case, {}).jobs:
        for o in run_job(job):
            out[o.point.case.split("dtype=")[1].rstrip("]")] = (o.point.measured, o.predicted)
    return out


@pytest.fixture(scope="module")
def rtx3090():
    return _predicted("1x RTX 3090", "LLaMA2-chat 7B", "| vanilla | 24.5 tokens/s | N/A | | gpt-fast | 55.1 tokens/s "
                      "| 106.9 tokens/s | | EAGLE+gpt-fast | 100.2 tokens/s | 160.4 tokens/s |", 55.1)


@pytest.fixture(scope="module")
def a100():
    return _predicted("1x A100", "LLaMA2-Chat 13B", "| gpt-fast | 33.2 tokens/s | 47.4 tokens/s | | EAGLE+gpt-fast "
                      "| 71.5 tokens/s (2.15x) | 82.5 tokens/s (1.74x) |", 71.5)


def test_rtx3090_points_with_the_harness_cache(rtx3090):
    """int4 within 5% once the attention reads the 2,000 allocated positions (1.05 GB a token for
    Llama-2-7B's K and V, 1.4 ms at 80% of 936 GB/s): +20% without them. fp16 within 10% (-7%; -12%
    while the weights streamed at gpt-fast's 0.8 of the A100 it was chosen on: the RTX 3090's read
    stream reaches 0.915 of its datasheet, the A100-80GB's 0.858, so its 13.5 GB of bf16 weights now
    stream at 0.8 x 0.915 / 0.858 = 0.853, costmodel/stream_share.py). The rest of the fp16 gap is
    not found: the harness needs >= 0.857 with the launches in the clock. int4 weights (tinygemm,
    dequantised after the load) keep 0.8."""
    (m16, p16), (m4, p4) = rtx3090["fp16"], rtx3090["int4"]
    assert (m16, m4) == (55.1, 106.9)
    assert p4 == pytest.approx(m4, rel=0.05)
    assert p16 == pytest.approx(m16, rel=0.10) and p16 < m16


def test_a100_points_are_the_model_plus_a_constant_it_does_not_have(a100):
    """SPEC-08 on the A100 (80 GB assumed): both measured points take 10.5-12.5 ms a token more than
    simdecode's (fp16 30.1 ms vs 18.4, int4 21.1 vs 10.2), while fp16 -> int4 saves 9.0 ms measured
    and 8.2 simulated (the 17.9 GB int4 g32 does not read, 2.0 TB/s): the int4 costs are right; the
    missing time is the same at both precisions, not found (docs/physics-moe-precision.md section 5).
    If a change of physics closes it, this fails: the table's SPEC-08 rows should then count."""
    (m16, p16), (m4, p4) = a100["fp16"], a100["int4"]
    gaps = [1 / m - 1 / p for m, p in ((m16, p16), (m4, p4))]
    assert all(10.5e-3 < g < 12.5e-3 for g in gaps)
    saved_measured, saved_predicted = 1 / m16 - 1 / m4, 1 / p16 - 1 / p4
    assert saved_measured == pytest.approx(9.0e-3, abs=0.1e-3)
    assert saved_predicted == pytest.approx(saved_measured, rel=0.15)
