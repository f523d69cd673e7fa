"""GPU measurements (benchmarks/device) as validation cases: simdecode/validate/device.py."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from simdecode.cli import main
from simdecode.validate import device
from simdecode.validate.cases import load
from simdecode.validate.runner import run_job

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "device" / "runs" / "h200-run2.json"
SHIPPED = device.DEVICE_DATA / "h200-run2.json"


@pytest.fixture(scope="module")
def run():
    return json.loads(SHIPPED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cases():
    return load([SHIPPED])


def test_the_shipped_run_is_the_committed_measurement_byte_for_byte():
    assert device.default_files() == [SHIPPED]
    assert SHIPPED.read_bytes() == RUN.read_bytes()


def test_a_device_run_is_told_from_other_json(tmp_path):
    assert device.is_device_run(json.loads(RUN.read_text()))
    assert not device.is_device_run({"anchors": []}) and not device.is_device_run([1, 2])
    other = tmp_path / "x.json"
    other.write_text(json.dumps({"meta": {}}))
    with pytest.raises(ValueError, match="anchors"):  # neither schema: the InferenceX reader says what it expected
        load([other])
    bad = tmp_path / "y.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load([bad])


def test_every_measured_value_is_the_files(run, cases):
    by_case = {p.case: p for p in cases.points}
    steps = [p for p in cases.points if p.group in ("KER H200 decode", "KER H200 prefill")]
    assert len(steps) == len(run["decode_step"]) + len(run["prefill"]) == 15
    r = run["decode_step"][0]
    p = by_case[f"KER-h200 {r['model']} decode b={r['batch']} ctx={r['context']} (plain ops)"]
    assert p.measured == 1e3 * r["graph_step_s"] and p.unit == "ms"
    g = next(r for r in run["gemm"] if r["shape"] == "llama70b_tp8.qkv" and r["dtype"] == "bf16" and r["m"] == 1)
    assert by_case["KER-h200 gemm bf16 llama70b_tp8.qkv m=1"].measured == 1e6 * g["time_s"]
    assert by_case["KER-h200 launch gap"].measured == 1e6 * run["launch"]["graph_kernel_s"]


def test_kernels_per_layer_from_the_profilers_count():
    """The cost model charges 3 kernels outside the layers (embedding 1, LM head and sampler 2), so
    964 kernels of a 32-layer Llama-3.1-8B step are (964 - 3) / 32 = 30.03 -> 30 per layer; 468 of the
    16-layer Llama-3.2-1B: 465 / 16 = 29.06 -> 29."""
    assert device.kernels_outside_layers("llama-3.1-8b", "h200") == 3
    assert device.measured_kernels_per_layer("llama-3.1-8b", "h200", 964) == 30
    assert device.measured_kernels_per_layer("llama-3.2-1b", "h200", 468) == 29


def test_the_model_presets_are_the_measured_models_shapes(run):
    """The script's weight bytes (every tensor, norms included) against the presets' weights per GPU:
    they differ by the norm vectors the cost model leaves out (65 x 4096 x 2 B = 0.53 MB for 8B)."""
    from simdecode.costmodel.deployment import Deployment
    from simdecode.scenario.schema import Scenario

    for r in run["decode_step"]:
        dep = Deployment.from_scenario(Scenario.model_validate(device.scenario(r["model"], "h200")))
        assert dep.weight_bytes_per_gpu(0) == pytest.approx(r["weight_bytes"], rel=1e-4)


def test_kernel_formula_by_hand():
    """gpt-fast on an H200: 0.8 x 4.8 TB/s, 2.4 us per kernel, bf16 at 0.6 x 989 TFLOP/s; its weight
    GEMMs at 0.8 x 0.933 / 0.858 = 0.86993 of 4.8 TB/s = 4.1757e12 B/s (costmodel/stream_share.py:
    gpt-fast's share was chosen on an A100-80GB).
    - 4 GiB read: 4,294,967,296 / 3.84e12 = 1118.5 us + 2.4 = 1120.9 us;
    - Llama-8B gate_up at 1 row: 4096 x 28672 x 2 + 4096 x 2 + 28672 x 2 = 234,946,560 B
      / 4.1757e12 = 56.27 us + 2.4 = 58.67 us (63.58 us at 0.8);
    - the same at 16,384 rows: 2 x 16384 x 4096 x 28672 = 3.848e12 FLOP / 593.4e12 = 6485 us + 2.4;
    - a kernel that moves nothing: 2.4 us."""
    sc = device.scenario("llama-3.1-8b", "h200")
    assert device.kernel_seconds(sc, {"what": "kernel", "bytes": 4 * 2**30, "flops": 0}) == pytest.approx(1120.9e-6, rel=1e-4)
    row = {"m": 1, "k": 4096, "n": 28672, "dtype": "bf16"}
    assert device.kernel_seconds(sc, device.gemm_spec(row)) == pytest.approx(58.67e-6, rel=1e-3)
    big = dict(row, m=16384)
    assert device.kernel_seconds(sc, device.gemm_spec(big)) == pytest.approx(2 * 16384 * 4096 * 28672 / (0.6 * 989e12) + 2.4e-6,
                                                                             rel=1e-6)
    assert device.kernel_seconds(sc, {"what": "kernel", "bytes": 0, "flops": 0}) == pytest.approx(2.4e-6)


def test_attention_counts_by_hand():
    """Decode, batch 2 at 1,024 cached tokens, 8 KV heads of 128: K and V = 2 x 8 x 128 x 2 B x 2048
    = 8,388,608 B (+ 2 x 32 x 128 x 2 B x 2 of query and output); causal prefill of 4 tokens: 10 pairs x
    4 x 32 x 128 FLOPs."""
    dec = device.attention_spec({"kind": "decode", "batch": 2, "context": 1024, "heads": 32, "kv_heads": 8, "head_dim": 128})
    assert dec["bytes"] == 8_388_608 + 32_768 and dec["flops"] == 4 * 32 * 128 * 2048
    pre = device.attention_spec({"kind": "prefill", "context": 4, "heads": 32, "kv_heads": 8, "head_dim": 128})
    assert pre["flops"] == 10 * 4 * 32 * 128 and pre["bytes"] == (64 + 16) * 128 * 2 * 4


def test_compiled_step_is_what_explain_prints(cases):
    """The torch.compile row is the gpt-fast preset as it stands: its prediction is explain's step."""
    from simdecode.present.explain import explain
    from simdecode.scenario.schema import Scenario

    (job,) = [j for j in cases.jobs if j.key == "KER-h200 llama-3.1-8b decode b=64 ctx=1024 (torch.compile)"]
    (o,) = run_job(job)
    step = explain(Scenario.model_validate(device.scenario("llama-3.1-8b", "h200")), 1024, 64)["total_s"]
    assert o.predicted == pytest.approx(1e3 * step, rel=1e-9)


def test_decode_group_within_10_percent_median_25_worst(cases):
    """Whole decode steps on the H200 (also in test_accuracy_groups.py's run)."""
    outs = [o for j in cases.jobs if j.points[0].group == "KER H200 decode" for o in run_job(j)]
    errors = [abs(o.error) for o in outs]
    assert len(errors) == 11 and statistics.median(errors) <= 0.10 and max(errors) <= 0.25


def test_prefill_rows_use_the_batch_1_decode_steps_kernel_count(cases):
    (p,) = [p for p in cases.points if p.case == "KER-h200 llama-3.1-8b prefill S=2048 (plain ops)"]
    (job,) = [j for j in cases.jobs if j.key == p.case]
    assert p.group == "KER H200 prefill" and job.scenario["runtime"]["kernels_per_layer"] == 30
    assert job.device == {"what": "prefill", "tokens": 2048}


def test_cli_group_ker_runs_both_groups(capsys):
    assert main(["validate", "--group", "KER", "--jobs", "1", "-q"]) == 0
    out = capsys.readouterr().out
    assert "| KER H200 decode | 11 |" in out and "| KER H200 prefill | 4 |" in out
    assert "| KER H200 kernels |" in out and "| DEC |" not in out


def test_a_run_without_the_later_sections_still_loads():
    """Run 1 (no stream, no torch.compile, records without ``ops``): plain-ops steps, no per-kernel pair."""
    cases = load([RUN.with_name("h200-run1.json")])
    names = {p.case for p in cases.points}
    assert "KER-h200 llama-3.1-8b decode b=1 ctx=1024 (plain ops)" in names
    assert not any("torch.compile" in n or "per-kernel cost" in n or "stream" in n for n in names)
    assert len([p for p in cases.points if p.group == "KER H200 decode"]) == 9


def test_the_figure_is_a_png(run):
    from simdecode.validate.device_figure import figure_png

    assert figure_png(run).startswith(b"\x89PNG\r\n\x1a\n")


def test_a_run_on_a_gpu_without_a_preset_is_one_error_line(tmp_path, run, capsys):
    other = dict(run, meta=dict(run["meta"], device="NVIDIA A2"))
    path = tmp_path / "a2.json"
    path.write_text(json.dumps(other))
    assert main(["validate", str(path), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "a2.json: meta.device" in err and "Traceback" not in err
