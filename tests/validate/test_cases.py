"""simdecode validate: conditions in words -> scenarios, both file schemas, table, figure, CLI."""

from __future__ import annotations

import json
import math

import pytest
import yaml

from simdecode.cli import main
from simdecode.validate import conditions as cond
from simdecode.validate import inferencex, published
from simdecode.validate.cases import Point, load
from simdecode.validate.runner import Outcome, run_job
from simdecode.validate.table import group_summary, to_csv, to_json, to_markdown


@pytest.mark.parametrize("text, preset", [
    ("Llama-2-7B", "llama-2-7b"), ("Llama-3.3-70B-Instruct", "llama-3.1-70b"), ("LLaMA2-Chat 13B", "llama-2-13b"),
    ("DeepSeek-R1 671B (37B active)", "deepseek-v3"), ("Megatron-530B fp16", "megatron-530b"),
    ("llama-3.1-70b-instruct", "llama-3.1-70b"),
])
def test_model_names_map_to_presets(text, preset):
    assert cond.model_key(text) == preset


def test_unknown_models_and_hardware_say_why():
    with pytest.raises(cond.NotExpressible, match="no preset"):
        cond.model("Laneformer 2B (DTP architecture)")
    with pytest.raises(cond.NotExpressible, match="no GPU preset"):
        cond.gpu("Cerebras CS-3 (WSE-3)")


def test_a_shape_in_words_becomes_an_architecture():
    m = cond.model("GPT-20B (44 layers, 48 heads x 128)")
    assert (m["num_hidden_layers"], m["hidden_size"], m["intermediate_size"]) == (44, 6144, 4 * 6144)


def test_gpu_phrases():
    assert cond.gpu("8x A100-80GB SXM, power-limited 330 W") == ("a100-80gb", 8, 330.0)
    assert cond.gpu("2x H100 80GB") == ("h100-sxm", 2, None)
    assert cond.gpu("2x H100 PCIe joined by NVLink bridge")[0] == "h100-pcie"
    assert cond.runtime("NVIDIA NIM 1.8.0 (TRT-LLM backend)") == "trt-llm"
    assert cond.weights_dtype("NVFP4 MoE/dense FFN, BF16 attention") == "fp4"
    assert cond.kv_dtype("fp8", "trt-llm") == "fp8" and cond.kv_dtype("fp8", "vllm") == "bf16"


def test_a_precision_scoped_to_modules_sets_each_modules_dtype():
    """DEC-12 states TensorRT-LLM's DeepSeek-R1 recipe: FFNs in NVFP4, attention in bf16."""
    assert cond.module_dtypes("NVFP4 MoE/dense FFN, BF16 attention") == {
        "experts": "fp4", "mlp": "fp4", "attention": "bf16"}
    assert cond.module_dtypes("fp16 / int4") == {}          # no module named: the weights' default only
    assert cond.module_dtypes("bf16 unless noted") == {}
    (job,) = published.case_jobs({"id": "DEC-99", "metric": "per_request_decode_tok_s", "value": 100, "conditions": {
        "gpus": "8x B200", "framework": "TensorRT-LLM", "model": "DeepSeek-R1 671B",
        "dtype": "NVFP4 MoE/dense FFN, BF16 attention", "concurrency": 1, "isl": 1024, "osl": 2048}}, {}).jobs
    precision = job.scenario["precision"]
    assert precision["weights"] == "fp4" and precision["attention"] == "bf16" and "experts" not in precision


SWEEP = {"scenario": "llama-3.1-70b-instruct-h200-fp8-vllm-tp8.yaml", "label": "1k8k",
         "absolute_tpot_us": {"4": 7900.0, "8": 8300.0}, "absolute_ttft_us": {"4": 76000.0, "8": 88000.0}}


def test_inferencex_sweep_becomes_three_waves_of_the_benchmark_client():
    cases = inferencex.sweep_jobs(SWEEP)
    assert len(cases.jobs) == 2 and not cases.skipped
    job = cases.jobs[0]
    w = job.scenario["workload"]
    assert w["arrival"] == {"kind": "closed", "concurrency": 4} and w["requests"] == 12
    assert w["prompt_tokens"] == {"dist": "uniform", "low": 819, "high": 1024}
    assert w["output_tokens"] == {"dist": "uniform", "low": 6553, "high": 8192}
    assert job.scenario["hardware"]["gpu"] == "h200" and job.scenario["parallelism"]["tp"] == 8
    assert [p.metric for p in job.points] == ["TPOT", "TTFT"]
    assert job.points[0].measured == pytest.approx(7.9) and job.bench == (4, 10)


def test_an_inexpressible_sweep_is_listed_with_its_reason():
    cases = inferencex.sweep_jobs({**SWEEP, "scenario": "llama-3.1-70b-instruct-mi355-fp8-vllm-tp8.yaml"})
    assert not cases.jobs and len(cases.skipped) == 4
    assert all("no preset" in p.reason for p in cases.skipped)


CASES = [
    {"id": "HW-99", "group": "1_hardware", "conditions": {"gpu": "X"}, "metric": "spec_sheet", "value": {}},
    {"id": "PP-99", "group": "5_pipeline_parallel", "metric": "end_to_end_latency", "unit": "ms", "value": 842,
     "conditions": {"gpus": "A100-80GB SuperPod nodes (8/node NVSwitch, 8x200Gb/s IB)", "framework": "FasterTransformer",
                    "model": "Megatron-530B fp16", "batch": 1, "input_len": 20, "output_len": 8},
     "series": [{"batch": 1, "tp16_ms": 565, "tp8pp3_ms": 842}]},
    {"id": "SPEC-99", "group": "6_speculative", "metric": "walltime_speedup", "value": "2-3", "unit": "x",
     "conditions": {"model": "T5-XXL"}},
]


def test_published_series_layouts_and_skips(tmp_path):
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump(CASES))
    cases = load([path])
    names = sorted(p.case for j in cases.jobs for p in j.points)
    assert names == ["PP-99[batch=1,tp=16]", "PP-99[batch=1,tp=8,pp=3]"]
    pp3 = next(j for j in cases.jobs if j.points[0].case.endswith("pp=3]"))
    assert pp3.scenario["parallelism"] == {"tp": 8, "pp": 3} and pp3.scenario["hardware"]["nodes"] == 3
    assert pp3.scenario["hardware"]["inter_node_link"] == "ib-hdr"
    assert pp3.scenario["scheduler"] == {"policy": "static"}
    reasons = {p.case: p.reason for p in cases.skipped}
    assert "datasheet" in reasons["HW-99"] and "range" in reasons["SPEC-99"]


def test_a_job_is_simulated_and_its_prediction_read():
    job = published.case_jobs({"id": "DEC-99", "metric": "per_request_decode_tok_s", "value": 100.0, "unit": "tok/s",
                               "conditions": {"gpus": "1x H100 80GB", "framework": "vLLM", "model": "Llama-3.2-1B",
                                              "dtype": "bf16", "prompt_len": 16, "output_len": 32}}, {}).jobs[0]
    (outcome,) = run_job(job)
    assert outcome.expressed and 100 < outcome.predicted < 2000  # a 1B model on an H100 at batch 1
    assert outcome.error == pytest.approx(outcome.predicted / 100.0 - 1)


def _outcomes() -> list[Outcome]:
    a = Point("A-1", "A", "x", "TPOT", "ms", 10.0)
    b = Point("A-2", "A", "x", "TPOT", "ms", 20.0, kernel_side="fp4 weights")
    c = Point("A-3", "A", "x", "TPOT", "ms", math.nan, reason="no hardware stated")
    return [Outcome(a, 11.0), Outcome(b, 10.0), Outcome(c)]


def test_group_statistics_and_formats():
    out = _outcomes()
    g = group_summary(out)["A"]
    assert g["all"]["n"] == 2 and g["all"]["median_abs_error"] == pytest.approx(0.3)
    assert g["all"]["worst_abs_error"] == pytest.approx(0.5)
    assert g["serving"]["n"] == 1 and g["serving"]["worst_abs_error"] == pytest.approx(0.1)
    assert g["not_expressible"] == [{"case": "A-3", "why": "no hardware stated"}]
    assert to_csv(out).splitlines()[0].startswith("case,group,conditions,metric,unit,measured,predicted,error")
    data = json.loads(to_json(out))
    assert data["rows"][0]["error"] == pytest.approx(0.1) and data["rows"][2]["predicted"] is None
    md = to_markdown(out)
    assert "| A-1 | A |" in md and "+10.0%" in md and "no hardware stated" in md


def test_figure_is_a_png():
    from simdecode.validate.figure import figure_png

    assert figure_png(_outcomes()).startswith(b"\x89PNG\r\n\x1a\n")


def test_cli_validates_a_users_file_and_writes_four_files(tmp_path, capsys):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump([
        {"id": "DEC-1", "metric": "per_request_decode_tok_s", "value": 150.0, "unit": "tok/s",
         "conditions": {"gpus": "1x H100 80GB", "framework": "vLLM", "model": "Llama-3.2-1B", "dtype": "bf16",
                        "prompt_len": 16, "output_len": 16}}]))
    out = tmp_path / "out"
    assert main(["validate", str(path), "--jobs", "1", "--out", str(out), "-q"]) == 0
    assert "| DEC-1 | DEC |" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir() if p.name != ".simdecode-output") == ["validation.csv", "validation.json", "validation.md",
                                                     "validation.png"]


def test_cli_rejects_a_file_of_the_wrong_kind(tmp_path, capsys):
    path = tmp_path / "cases.txt"
    path.write_text("nothing")
    assert main(["validate", str(path), "-q"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_inferencex_llama_runs_with_the_launch_scripts_fp8_kv_and_a_bf16_lm_head():
    """InferenceX's Llama-3.1-70B launch scripts set an FP8 KV cache for vLLM and TensorRT-LLM
    alike; an FP8 checkpoint keeps its embeddings and LM head in bf16."""
    precision = inferencex.sweep_jobs(SWEEP).jobs[0].scenario["precision"]
    assert precision == {"weights": "fp8", "embeddings": "bf16", "kv_cache": "fp8", "activations": "bf16"}
    trt = dict(SWEEP, scenario=SWEEP["scenario"].replace("-vllm-", "-trt-"))
    assert inferencex.sweep_jobs(trt).jobs[0].scenario["precision"]["kv_cache"] == "fp8"
    assert cond.embeddings_dtype("fp8") == {"embeddings": "bf16"} and cond.embeddings_dtype("bf16") == {}


def test_bat01_users_start_at_random_phases_of_one_steady_cycle():
    """The closed loop's users start at independent uniform times over one cycle (ramp: random),
    the cycle being the mean end-to-end time of a first simulation at that concurrency."""
    from simdecode.validate.runner import _ramped

    case = {"id": "BAT-99", "metric": "aggregate_output_tok_s_at_saturation", "conditions": {
        "gpus": "1x H100 80GB", "model": "Llama-3.2-1B", "dtype": "bf16", "framework": "vLLM",
        "input_len": 64, "output_len": 32}, "series": [{"concurrency": 4, "ttft_ms": 10.0, "itl_ms": 2.0}]}
    (job,) = published.case_jobs(case, {}).jobs
    assert job.ramp_from_single
    arrival = _ramped(job.scenario)["workload"]["arrival"]
    assert arrival["ramp"] == "random" and arrival["concurrency"] == 4
    assert float(arrival["ramp_up"].split()[0]) > 0
