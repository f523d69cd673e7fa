"""Little's-law readings of closed-loop measurements (simdecode.validate.implied), and what they say
about the vLLM Llama-3.1-70B sweeps' KV caches against simdecode's (docs/validation.md)."""

import json

import pytest
from hypothesis import given, strategies as st

from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.memory import kv_capacity_blocks
from simdecode.scenario.schema import Scenario
from simdecode.validate import inferencex as ix
from simdecode.validate.implied import implied, sweep_implied
from simdecode.validate.cases import SHIPPED_DATA


def test_hand_computed_h100_tp2_8k1k_c64():
    # TTFT 59.1754 s, TPOT 52.4064 ms, n = 0.9 x 1024 = 921.6, p = 0.9 x 8192 = 7372.8, prefill 0.7375 s
    # decode: 920.6 x 0.0524064 = 48.2453 s; X = 64 / (59.1754 + 48.2453) = 0.595788 /s
    # N = 0.595788 x (0.7375 + 48.2453) = 29.183; K = 29.183 x (7372.8 + 460.8) = 228,610 tokens
    r = implied(64, 59.1754, 0.0524064, 7372.8, 921.6, 0.7375)
    assert r.throughput_rps == pytest.approx(0.595788, rel=1e-5)
    assert r.running == pytest.approx(29.183, rel=1e-4)
    assert r.kv_tokens == pytest.approx(228_610, rel=1e-4)
    assert r.waiting == pytest.approx(64 - 29.183, rel=1e-4)


def test_no_queue_means_everyone_runs():
    # TTFT = prefill time: nobody waits, so N = c and K = c x (p + n/2)
    r = implied(16, 0.5, 0.02, 1000.0, 101.0, 0.5)
    assert r.running == pytest.approx(16.0)
    assert r.kv_tokens == pytest.approx(16 * 1050.5)
    assert r.throughput_rps == pytest.approx(16 / (0.5 + 100 * 0.02))


@given(c=st.integers(1, 512), ttft=st.floats(0.01, 100), tpot=st.floats(1e-3, 0.5),
       frac=st.floats(0, 1), n=st.floats(1, 8192))
def test_running_between_zero_and_concurrency(c, ttft, tpot, frac, n):
    r = implied(c, ttft, tpot, 1000.0, n, frac * ttft)
    assert 0 <= r.running <= c * (1 + 1e-12)


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        implied(0, 1.0, 0.01, 100.0, 10.0, 0.1)
    with pytest.raises(ValueError):
        implied(4, -1.0, 0.01, 100.0, 10.0, 0.1)


def _sweeps():
    data = json.loads((SHIPPED_DATA / "inferencex-serving.json").read_text(encoding="utf-8"))
    return {(s["scenario"], s["label"]): s for s in data["anchors"]}


def _capacity_tokens(name: str, label: str, c: int) -> int:
    job = next(j for j in ix.sweep_jobs(_sweeps()[(name, label)]).jobs if j.key.endswith(f"{label} c={c}"))
    scenario = Scenario.model_validate(job.scenario)
    return kv_capacity_blocks(scenario, Deployment.from_scenario(scenario)) * scenario.scheduler.kv_block_tokens


def _implied_kv(name: str, label: str, c: int) -> float:
    isl, osl = ix.LABELS[label]
    mean = (1 + ix.RANGE_RATIO) / 2
    return sweep_implied(_sweeps()[(name, label)], mean * isl, mean * osl)[c].kv_tokens


def test_h200_tp1_server_held_what_simdecode_gives_it():
    # the one KV-bound vLLM sweep that agrees: the same image, checkpoint and flags as the H100 runs
    name = "llama-3.1-70b-instruct-h200-fp8-vllm-tp1.yaml"
    ratio = _implied_kv(name, "8k1k", 64) / _capacity_tokens(name, "8k1k", 64)
    assert 0.9 < ratio <= 1.02


def test_h100_tp2_server_held_what_its_16_bit_cache_gives():
    # the measured server ran ~29 sequences at 8k1k c=32 and c=64 (same TPOT): ~228k tokens, half of the
    # ~470k an FP8 cache would give; InferenceX's H100 script passed --config=config.yaml, which vLLM
    # v0.10.2 never reads (validate/inferencex_launch.py), so it served vLLM's default 16-bit cache: ~235k
    name = "llama-3.1-70b-instruct-h100-fp8-vllm-tp2.yaml"
    capacity = _capacity_tokens(name, "8k1k", 64)
    assert capacity == pytest.approx(470_224 / 2, rel=2e-3)
    for c in (32, 64):
        assert 0.93 < _implied_kv(name, "8k1k", c) / capacity < 1.0


def test_reads_everyone_running_where_nothing_queues():
    # 8 H200s hold every 8k/1k request at c=64 (simdecode and the measured TTFT agree): N ~ c
    sweep = _sweeps()[("llama-3.1-70b-instruct-h200-fp8-vllm-tp8.yaml", "8k1k")]
    r = sweep_implied(sweep, 0.9 * 8192, 0.9 * 1024)
    assert all(abs(r[c].running / c - 1) < 0.05 for c in (16, 32, 64))


def test_module_prints_table(capsys):
    from simdecode.validate.implied import main

    main()
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("llama-3.1-70b-instruct-h100-fp8-vllm-tp2") and " 8k1k " in x
                and x.split()[2] == "64")
    assert float(line.split()[3]) == pytest.approx(29.2, abs=0.05)


def test_accounting_of_h100_tp2_by_hand():
    # vLLM: 0.9 x total - weights - workspace, over one token's KV, in blocks of 16 (costmodel/memory.py)
    # total 81,559 MiB = 85,520,809,984 B; weights per GPU: 80 layers x 855,638,016 linear params (q, o
    # 8192^2; k, v 8192 x 1024; gate, up, down 8192 x 28672) at 1 B = 68.451e9, + embedding and LM head
    # 2 x 128,256 x 8192 at 2 B = 4.2028e9 -> 72.654e9 (+ norms, 2.6 MB), half at tp 2 = 36.328e9;
    # workspace 2^30 + 8192 x 2 x (2 x 8192 + 3 x 28672 / 2) + 64 x 128,256 x 8 = 2.1123e9;
    # KV 0.9 x 85.5208e9 - 36.328e9 - 2.1123e9 = 38.528e9 over (80 layers x 2 x 4 heads x 128) values
    # per token: 81,920 B in FP8 = 470.3k tokens, 163,840 B in bf16 (what the H100 runs served) = 235.2k
    from simdecode.validate.implied import accounting_tokens

    job = next(j for j in ix.sweep_jobs(_sweeps()[("llama-3.1-70b-instruct-h100-fp8-vllm-tp2.yaml", "8k1k")]).jobs
               if j.key.endswith("c=64"))
    assert job.scenario["precision"]["kv_cache"] == "bf16"
    tokens = accounting_tokens(job.scenario)
    assert tokens == pytest.approx(235_150, rel=0.002)
    assert tokens % 16 == 0
    fp8 = {**job.scenario, "precision": {**job.scenario["precision"], "kv_cache": "fp8"}}
    assert accounting_tokens(fp8) == pytest.approx(470_300, rel=0.002)


def test_holdings_reads_the_queued_point_per_deployment():
    from simdecode.validate.implied import holdings

    data = {"anchors": [s for (name, _), s in _sweeps().items()
                        if name in ("llama-3.1-70b-instruct-h100-fp8-vllm-tp2.yaml",
                                    "llama-3.1-70b-instruct-h200-fp8-vllm-tp8.yaml")]}
    rows = {h.deployment: h for h in holdings(data)}
    h100 = rows["llama-3.1-70b-instruct-h100-fp8-vllm-tp2"]
    # the point where the server kept most requests waiting: 8k1k c=64, N = 29.2, K = 228.6k of the
    # 235.1k its 16-bit cache holds
    assert (h100.label, h100.concurrency) == ("8k1k", 64)
    assert h100.queued and h100.held_share == pytest.approx(228_610 / 235_104, rel=2e-3)
    # 8 H200s admit everyone at every point: the share is a lower bound, far below 1
    h200 = rows["llama-3.1-70b-instruct-h200-fp8-vllm-tp8"]
    assert not h200.queued and h200.held_share < 0.1


def test_holding_share_and_queue_flag():
    from simdecode.validate.implied import QUEUED_SHARE, Holding

    h = Holding("d", "8k1k", 64, running=0.5 * 64, kv_tokens=250_000.0, accounting_tokens=500_000)
    assert h.held_share == pytest.approx(0.5) and h.queued
    full = Holding("d", "8k1k", 64, running=QUEUED_SHARE * 64 + 0.1, kv_tokens=1.0, accounting_tokens=0)
    assert not full.queued and full.held_share == float("inf")
