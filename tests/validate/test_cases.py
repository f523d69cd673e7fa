"""simdecode validate: conditions in words -> scenarios, both file schemas, table, figure, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from simdecode.cli import main
from simdecode.validate import conditions as cond
from simdecode.validate import inferencex, published, published_figures
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
        cond.model("T5-XXL")
    with pytest.raises(cond.NotExpressible, match="no GPU preset"):
        cond.gpu("Graphcore Bow IPU")


def test_cerebras_and_kog_map_to_their_device_runtime_and_stand_in():
    """DEC-15's 'Cerebras CS-3 (WSE-3, ...)' is one WSE-3 wafer on the cerebras-2024 runtime (its
    source names the engine); DEC-13's Laneformer 2B has no config.json here: it runs as the
    architecture its public sources give (conditions.STAND_INS), the curated Kog scenario's key for
    key, in the layout it was trained for."""
    assert cond.gpu("Cerebras CS-3 (WSE-3, weights in on-chip SRAM)") == ("cerebras-wse3", None, None)
    assert cond.runtime("https://cerebras.ai/blog/introducing-cerebras-inference-ai-at-instant-speed") == "cerebras-2024"
    assert cond.runtime("Kog Inference Engine (monokernel, KCCL, Delayed Tensor Parallelism)") == "kog"
    kog = yaml.safe_load((Path(__file__).resolve().parents[2] / "scenarios" / "kog-2b-8xmi300x.yaml").read_text())
    assert cond.model("Laneformer 2B (DTP architecture)") == kog["model"]
    assert {**cond.TRAINED_LAYOUTS["laneformer-2b"], "pp": 1} == {**kog["parallelism"], "pp": 1}
    assert cond.model_key("Llama3.1 8B") == "llama-3.1-8b" and cond.model_key("Llama3.1 70B") == "llama-3.1-70b"


@pytest.mark.parametrize("text, runtime, ep", [
    ("attention TP8, MoE mixed TP/EP", "trt-llm", 4),   # TensorRT-LLM's --tp 8 --ep 4: experts over 2 GPUs each
    ("attention TP8, MoE EP4TP2", "vllm", 4),
    ("attention TP8, MoE TP2EP4", "vllm", 4),
    ("EP8TP8", "trt-llm", 8),                           # the blog's baseline: every GPU its own 32 experts
    ("attention TP8, MoE TP2", "sglang", 4),            # experts TP 2 alone: 8 / 2 = 4 groups
    ("attention TP8, MoE EP", "sglang", 8),
    ("TP8", "trt-llm", 1),                              # nothing about experts: tensor-parallel experts
    ("", "trt-llm", 1),
])
def test_a_stated_expert_layout_gives_ep(text, runtime, ep):
    assert cond.expert_parallel(text, 8, runtime) == ep


def test_an_expert_layout_simdecode_cannot_read_says_why():
    with pytest.raises(cond.NotExpressible, match="no vllm recipe"):
        cond.expert_parallel("MoE mixed TP/EP", 8, "vllm")
    with pytest.raises(cond.NotExpressible, match="does not divide"):
        cond.expert_parallel("MoE EP3", 8, "vllm")


def test_figures_a_quote_ties_to_machines_and_models():
    assert cond.quoted_figures("3,000 output tokens/s per request on 8× AMD MI300X GPUs and 2,100 on 8× NVIDIA H200 "
                               "(FP16, no speculative decoding). This preview runs a 2B model") == [
        (3000.0, "on", "8× AMD MI300X GPUs"), (2100.0, "on", "8× NVIDIA H200")]
    assert cond.quoted_figures("delivers 1,800 tokens per second for Llama3.1 8B and 450 tokens per second for "
                               "Llama3.1 70B ... All this is achieved using native 16-bit weights") == [
        (1800.0, "for", "Llama3.1 8B"), (450.0, "for", "Llama3.1 70B")]
    assert cond.quoted_figures("| Without MTP |       1.00      |   111    |       1.00       |") == []


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


def test_groups_table_says_what_its_left_out_rows_are():
    """The column without the rows left out of the tolerances names what they are: SPEC's are
    kernel-side (DeepSeek-R1 MTP) and withdrawn by their source (EAGLE's A100 table), so a label
    'all kernel-side' would be false."""
    from simdecode.validate import superseded
    from simdecode.validate.table import groups_markdown

    def row(case: str, error: float, why: str) -> Outcome:
        return Outcome(Point(case, "S", "x", "speed-up", "x", 1.0, kernel_side=why), 1.0 + error)

    withdrawn = superseded.WITHDRAWN[0].why
    mixed = [row("S-1", 0.01, "MoE, MLA, fp4 weights"), row("S-2", 0.02, "MoE, MLA, fp4 weights"),
             row("S-3", 0.64, withdrawn)]
    assert group_summary(mixed)["S"]["left_out"] == {"kernel_side": 2, "withdrawn": 1}
    md = groups_markdown(mixed)
    assert "without kernel-side or withdrawn rows" in md.splitlines()[0]
    assert "| none (2 kernel-side, 1 withdrawn by their source) |" in md and "all kernel-side" not in md
    assert "| none (all 2 kernel-side) |" in groups_markdown(mixed[:2])
    assert "| none (all 1 withdrawn by their source) |" in groups_markdown(mixed[2:])
    some = groups_markdown([row("S-1", 0.01, ""), row("S-3", 0.64, withdrawn)])
    assert "| 1, 1.0%, 1.0% |" in some
    assert "kernel-side or withdrawn |" in to_markdown(mixed).split("## Rows")[1].splitlines()[2]


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


CO_09 = {"id": "CO-99", "group": "2_collectives", "metric": "allreduce_latency_small", "value": 43.5, "unit": "us",
         "conditions": {"gpus": "8x GeForce RTX 4090, PCIe only (no NVLink)",
                        "cmd": "./all_reduce_perf -g 8 -b 8 -e 128M -f 2 -n 200", "algo": "default (Ring)"}}


def test_an_nccl_tests_all_reduce_is_a_microbenchmark_job():
    """CO-09's conditions: 8 RTX 4090 (no peer-to-peer, two sockets of 4 by default), 8 B: NCCL's
    tree, 6.8 + 14 x 2.0 + 2 x 0.6 = 36.0 us (tests/costmodel/test_pcie.py has the sum)."""
    (job,) = published.case_jobs(CO_09, {}).jobs
    assert job.message_bytes == 8 and job.scenario["hardware"] == {"gpu": "rtx-4090", "gpus_per_node": 8}
    (outcome,) = run_job(job)
    assert outcome.predicted == pytest.approx(36.0, rel=1e-3)  # + 2.7 ns of bandwidth
    assert outcome.error == pytest.approx(36.0 / 43.5 - 1, rel=1e-2)


@pytest.mark.parametrize("change, reason", [
    ({"algo": "NVLSTree (forced)"}, "NVLS tree is not modelled"),
    ({"cuda_graphs": True}, "CUDA graphs"),
    ({"cmd": "./all_reduce_perf -e 128M"}, "no GPU count"),
])
def test_microbenchmarks_the_model_cannot_stand_for_say_why(change, reason):
    case = {**CO_09, "conditions": {**CO_09["conditions"], **change}}
    if "cmd" in change:
        case["conditions"]["gpus"] = "GeForce RTX 4090"
    cases = published.case_jobs(case, {})
    assert not cases.jobs and reason in cases.skipped[0].reason

def test_inferencex_llama_sweeps_take_the_launch_scripts_flags():
    """InferenceX's 70b_fp8_h200_slurm.sh: kv-cache-dtype fp8, async-scheduling, 8192 batched tokens,
    --max-num-seqs $CONC; 70b_fp8_h200_trt_slurm.sh: fp8 KV, --max_num_tokens 16384, batch waiting
    (ratio 0.9, 20 iterations) for 1k1k below tp 8 only."""
    vllm = inferencex.sweep_jobs(SWEEP).jobs[1].scenario
    assert vllm["precision"]["kv_cache"] == "fp8"
    assert vllm["scheduler"] == {"overlap": True, "max_batched_tokens": 8192, "max_batch_size": 8}
    b200 = inferencex.sweep_jobs({**SWEEP, "scenario": "llama-3.1-70b-instruct-b200-fp8-vllm-tp8.yaml"}).jobs[0]
    assert b200.scenario["scheduler"]["max_batch_size"] == 512  # 70b_fp8_b200_docker.sh: --max-num-seqs 512
    trt = {**SWEEP, "scenario": "llama-3.1-70b-instruct-h200-fp8-trt-tp4.yaml", "label": "1k1k"}
    job = inferencex.sweep_jobs(trt).jobs[0]
    assert job.scenario["scheduler"] == {"overlap": True, "max_batched_tokens": 16384, "batch_wait_iters": 20,
                                         "batch_wait_tokens_ratio": 0.9}
    # batch waiting couples the waves: the whole benchmark (10 c requests) is simulated
    assert job.scenario["workload"]["requests"] == 40
    tp8 = inferencex.sweep_jobs({**trt, "scenario": "llama-3.1-70b-instruct-h200-fp8-trt-tp8.yaml"}).jobs[0]
    assert "batch_wait_iters" not in tp8.scenario["scheduler"] and tp8.scenario["workload"]["requests"] == 12
    other = inferencex.sweep_jobs({**SWEEP, "label": "1k1k", "scenario": "gpt-oss-120b-b200-fp4-vllm-tp2.yaml"})
    assert "scheduler" not in other.jobs[0].scenario  # no launch flags described: the engine's defaults


@pytest.mark.parametrize("deployment", ["llama-3.1-70b-instruct-h200-fp8-trt-tp4.yaml", "deepseek-v3-h200-fp8-trt-tp8.yaml"])
def test_inferencex_tensorrt_llm_runs_the_trtllm_serve_preset(deployment: str):
    """Every InferenceX TensorRT-LLM sweep launched trtllm-serve (the PyTorch backend): its jobs name the
    trtllm-serve preset, which is the trt-llm preset with the two keys the launch used to override
    (decode-only CUDA graphs, cuBLASLt's Hopper GEMM share): the same runtime but for its name; the
    FP8 KV cache still follows TensorRT-LLM's engine word."""
    from simdecode.presets import resolve
    from simdecode.scenario.hardware import RuntimeSpec

    job = inferencex.sweep_jobs({**SWEEP, "scenario": deployment, "label": "1k1k"}).jobs[0]
    assert job.scenario["runtime"] == {"preset": "trtllm-serve"}
    assert job.scenario["precision"]["kv_cache"] == "fp8"
    serve = RuntimeSpec.model_validate(resolve("runtimes", job.scenario["runtime"])).model_dump()
    overridden = RuntimeSpec.model_validate(resolve("runtimes", {"preset": "trt-llm", "prefill_graph_tokens": 0,
                                                                 "gemm_efficiency": 0.82})).model_dump()
    assert {k: v for k, v in serve.items() if k != "name"} == {k: v for k, v in overridden.items() if k != "name"}


def test_inferencex_llama_h100_vllm_never_read_its_config_file():
    """70b_fp8_h100_{slurm,docker}.sh pass --config=config.yaml, one argument vLLM v0.10.2's parser does
    not expand (it looks for '--config' on its own): the YAML's fp8 cache and async scheduling never
    applied; its 8192 batched tokens are V1's default there anyway. The H200 and B200 scripts pass
    --config config.yaml and get the file."""
    from simdecode.validate.inferencex_launch import launch_keys

    h100 = launch_keys("llama-3.1-70b", "h100", "vllm", "8k1k", 2, 64)
    assert h100["precision"] == {"kv_cache": "bf16"}
    assert h100["scheduler"] == {"overlap": False, "max_batched_tokens": 8192, "max_batch_size": 64}
    assert h100["runtime"]["prefill_graph_tokens"] == 128  # --max-num-seqs is on the command line
    assert "precision" not in launch_keys("llama-3.1-70b", "h200", "vllm", "8k1k", 2, 64)
    job = inferencex.sweep_jobs({**SWEEP, "scenario": "llama-3.1-70b-instruct-h100-fp8-vllm-tp2.yaml"}).jobs[0]
    assert job.scenario["precision"] == {"weights": "fp8", "embeddings": "bf16", "kv_cache": "bf16",
                                         "activations": "bf16"}
    assert job.scenario["scheduler"]["overlap"] is False


def test_inferencex_gpt_oss_serves_the_mxfp4_checkpoint_as_shipped_with_its_launch_flags():
    """gptoss_fp4_h100.sh / gptoss_fp4_h200.sh (InferenceX cec542a9a): vllm serve openai/gpt-oss-120b with
    max-num-batched-tokens 8192, max-cudagraph-capture-size 2048, --max-num-seqs $CONC, async scheduling
    (vLLM's default since v0.14), no kv-cache-dtype. The checkpoint keeps everything but the experts in bf16 (config.json
    quantization_config), so an "fp4" sweep is MXFP4 experts (0.53125 B per value), not NVFP4 everywhere."""
    from simdecode.scenario.schema import Scenario
    from simdecode.costmodel.deployment import Deployment

    sweep = {**SWEEP, "scenario": "gpt-oss-120b-h100-fp4-vllm-tp2.yaml"}
    job = inferencex.sweep_jobs(sweep).jobs[1]
    assert job.scenario["precision"] == {"kv_cache": "bf16", "activations": "bf16"}
    assert job.scenario["scheduler"] == {"overlap": True, "max_batched_tokens": 8192, "max_batch_size": 8}
    # config.yaml's max-cudagraph-capture-size: 2048 (not vLLM's min(2 max_num_seqs, 512) default, which
    # Llama's scripts keep): prefill steps of up to 2048 tokens replay piecewise graphs at every concurrency
    assert job.scenario["runtime"] == {"preset": "vllm", "prefill_graph_tokens": 2048}
    s = Scenario.model_validate({k: v for k, v in job.scenario.items() if k != "name"})
    prec = Deployment.from_scenario(s).precision
    assert (prec.experts, prec.attention, prec.embeddings, prec.kv_cache) == ("mxfp4", "bf16", "bf16", "bf16")
    assert prec.bytes_of("experts") == 0.53125
    # a checkpoint whose own format is what the sweep names resolves to it; a 16-bit one is quantised
    assert cond.weight_precision("gpt-oss-120b", "fp4") == {} == cond.weight_precision("deepseek-v3", "fp8")
    assert cond.weight_precision("llama-3.1-70b", "fp8") == {"weights": "fp8", "embeddings": "bf16"}
    assert cond.weight_precision("gpt-oss-120b", "bf16") == {"weights": "bf16"}


def test_inferencex_deepseek_sglang_takes_the_scripts_chunk_and_memory_flags():
    """dsr1_fp8_h200.sh: --chunked-prefill-size 32768, --mem-fraction-static 0.82, --max-running-requests
    512 for 1k1k and 256 otherwise (SGLang's own chunk on a 141 GB card would be 8192)."""
    sweep = {**SWEEP, "scenario": "deepseek-v3-h200-fp8-sglang-tp8.yaml", "label": "1k1k"}
    assert inferencex.sweep_jobs(sweep).jobs[0].scenario["scheduler"] == {
        "max_batched_tokens": 32768, "max_batch_size": 512, "memory_utilization": 0.82}
    long = inferencex.sweep_jobs({**sweep, "label": "8k1k"}).jobs[0].scenario["scheduler"]
    assert long["max_batch_size"] == 256 and long["max_batched_tokens"] == 32768
    assert inferencex.sweep_jobs(sweep).jobs[0].scenario["parallelism"] == {"tp": 8}  # SGLang: plain tp 8


def test_inferencex_deepseek_trt_runs_expert_parallel_and_attention_dp_above_the_scripts_thresholds():
    """dsr1_fp8_h200_trt_slurm.sh (e06929c70): --ep_size $TP; enable_attention_dp when CONC > 64 (1k1k,
    1k8k) or > 32 (8k1k), with enable_balance and timeout_iters 60; free_gpu_memory_fraction 0.75;
    --max_num_tokens (CONC + ISL + 64 + 63) / 64 * 64."""
    from simdecode.validate.inferencex_launch import launch_keys, trt_dsr1_max_num_tokens

    assert trt_dsr1_max_num_tokens(4, 1024) == 1152 and trt_dsr1_max_num_tokens(64, 8192) == 8320
    assert trt_dsr1_max_num_tokens(64, 1024) == 1152  # 64 + 1024 + 64 + 63 = 1215, floor(1215 / 64) = 18
    assert trt_dsr1_max_num_tokens(128, 1024) == 1216  # 1279 -> 19 x 64
    keys = {(label, c): launch_keys("deepseek-v3", "h200", "trt-llm", label, 8, c)
            for label in ("1k1k", "1k8k", "8k1k") for c in (32, 64, 128)}
    adp = {k for k, v in keys.items() if v["parallelism"]["attention_dp"]}
    assert adp == {("1k1k", 128), ("1k8k", 128), ("8k1k", 64), ("8k1k", 128)}
    assert all(v["parallelism"]["ep"] == 8 for v in keys.values())
    assert keys["8k1k", 64]["scheduler"] == {"overlap": True, "memory_utilization": 0.75, "max_batched_tokens": 8320,
                                              "adp_balance_iters": 60}
    assert "adp_balance_iters" not in keys["8k1k", 32]["scheduler"]
    sweep = {**SWEEP, "scenario": "deepseek-v3-h200-fp8-trt-tp8.yaml", "label": "8k1k",
             "absolute_tpot_us": {"32": 1.0, "64": 1.0}, "absolute_ttft_us": {"32": 1.0, "64": 1.0}}
    jobs = {job.scenario["workload"]["arrival"]["concurrency"]: job.scenario for job in inferencex.sweep_jobs(sweep).jobs}
    assert jobs[64]["parallelism"] == {"tp": 8, "ep": 8, "attention_dp": True}
    assert jobs[32]["parallelism"] == {"tp": 8, "ep": 8, "attention_dp": False}


def test_bench_probe_is_the_plain_mean_when_every_wave_was_simulated():
    from types import SimpleNamespace

    from simdecode.validate.runner import PROBES

    # 2 waves of c = 2: ttft 1, 3 (burst) and 5, 7 s; with all waves simulated the client's mean is 4 s
    recs = [SimpleNamespace(id=i, ttft_s=t, tpot_s=0.0) for i, t in enumerate((1.0, 3.0, 5.0, 7.0))]
    result = SimpleNamespace(measured=recs)
    assert PROBES["bench_ttft"](result, SimpleNamespace(bench=(2, 2))) == pytest.approx(4000.0)
    # 10 waves benchmarked, 2 simulated: (burst mean 2 + 9 x steady mean 6) / 10 = 5.6 s
    assert PROBES["bench_ttft"](result, SimpleNamespace(bench=(2, 10))) == pytest.approx(5600.0)

def test_inferencex_llama_runs_with_the_launch_scripts_fp8_kv_and_a_bf16_lm_head():
    """InferenceX's Llama-3.1-70B launch scripts set an FP8 KV cache for vLLM and TensorRT-LLM
    alike; an FP8 checkpoint keeps its embeddings and LM head in bf16."""
    precision = inferencex.sweep_jobs(SWEEP).jobs[0].scenario["precision"]
    assert precision == {"weights": "fp8", "embeddings": "bf16", "kv_cache": "fp8", "activations": "bf16"}
    trt = dict(SWEEP, scenario=SWEEP["scenario"].replace("-vllm-", "-trt-"))
    assert inferencex.sweep_jobs(trt).jobs[0].scenario["precision"]["kv_cache"] == "fp8"
    assert cond.embeddings_dtype("fp8") == {"embeddings": "bf16"} and cond.embeddings_dtype("bf16") == {}
    # ModelOpt NVFP4 (nvidia/Llama-3.3-70B-Instruct-FP4): exclude_modules [lm_head] -> the head stays bf16
    fp4 = dict(SWEEP, scenario=SWEEP["scenario"].replace("-fp8-vllm-", "-fp4-trt-"))
    assert inferencex.sweep_jobs(fp4).jobs[0].scenario["precision"]["embeddings"] == "bf16"
    assert cond.embeddings_dtype("fp4") == {"embeddings": "bf16"} and cond.embeddings_dtype("int4") == {}


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


DEC13 = {"id": "DEC-13", "group": "3_decode_bs1", "metric": "per_request_decode_tok_s", "value": 3000, "unit": "tok/s",
         "source_url": "https://blog.kog.ai/real-time-llm-inference-on-standard-gpus-3-000-tokens-s-per-request/",
         "quote": "3,000 output tokens/s per request on 8× AMD MI300X GPUs and 2,100 on 8× NVIDIA H200 (FP16, no "
                  "speculative decoding). This preview runs a 2B model",
         "conditions": {"gpus": "8x MI300X", "engine": "Kog Inference Engine (monokernel, KCCL, Delayed Tensor "
                        "Parallelism)", "model": "Laneformer 2B (DTP architecture)", "dtype": "fp16", "batch": 1}}


def test_kog_case_gives_both_quoted_machines_and_flags_the_one_its_costs_were_not_measured_on():
    """Both of the quote's figures become rows; the H200 row runs the kog runtime's MI300X stage
    costs, so it is listed as waiting for kernel-side figures (shown in the table, left out of the
    tolerance: tests/validate/test_accuracy_groups.py names it)."""
    cases = published.case_jobs(DEC13, {})
    assert not cases.skipped
    (mi300x,), (h200,) = (j.points for j in cases.jobs)
    assert (mi300x.case, mi300x.measured, mi300x.kernel_side) == ("DEC-13", 3000.0, "")
    assert (h200.case, h200.measured) == ("DEC-13[gpus=8× NVIDIA H200]", 2100.0)
    assert h200.kernel_side == "kog kernel costs measured on mi300x"
    s = cases.jobs[1].scenario
    assert s["hardware"]["gpu"] == "h200" and s["runtime"] == "kog"
    assert s["parallelism"] == {"tp": 8, "pp": 1, "tp_mode": "delayed", "tp_delay": 4, "tp_delay_start": "sync",
                                "tp_final": "all-reduce"}
    # no lengths stated: a short turn (published_scenario.UNSTATED_LENGTHS)
    assert (s["workload"]["prompt_tokens"], s["workload"]["output_tokens"]) == (128, 256)


def test_where_a_runtimes_costs_were_measured_is_read_from_its_preset():
    """runtimes.yaml's ``measured_on:`` key, not a table in validate: kog's stage costs are MI300X
    figures; a runtime with GPU-independent costs, an unknown name or none marks nothing."""
    assert cond.runtime_measured_on("kog") == "mi300x"
    assert cond.runtime_measured_on("vllm") == cond.runtime_measured_on("no-such-runtime") == ""
    assert cond.runtime_measured_on(None) == ""
    assert cond.is_kernel_side("llama-3.1-8b", "bf16", "h200", "kog") == "kog kernel costs measured on mi300x"
    assert cond.is_kernel_side("llama-3.1-8b", "bf16", "mi300x", "kog") == ""
    assert cond.is_kernel_side("llama-3.1-8b", "bf16", "h200", "vllm") == ""


def test_cerebras_case_spreads_each_model_over_the_wafers_that_hold_it():
    """Llama-3.1-70B in bf16: 70.55e9 x 2 B = 141.1 GB over 44 GB wafers -> 4 (3.2 rounded up), a
    4-stage pipeline of CS-3 systems, one wafer each, over the wafer's own 1.2 Tb/s link;
    Llama-3.1-8B: 8.03e9 x 2 B = 16.1 GB -> 1 wafer."""
    case = {"id": "DEC-15", "metric": "per_request_decode_tok_s", "value": 450, "unit": "tok/s",
            "source_url": "https://cerebras.ai/blog/introducing-cerebras-inference-ai-at-instant-speed",
            "quote": "Cerebras inference delivers 1,800 tokens per second for Llama3.1 8B and 450 tokens per second "
                     "for Llama3.1 70B ... All this is achieved using native 16-bit weights",
            "conditions": {"hardware": "Cerebras CS-3 (WSE-3, weights in on-chip SRAM)", "model": "Llama-3.1-70B",
                           "dtype": "16-bit", "scope": "hosted API, per request"}}
    cases = published.case_jobs(case, {})
    assert not cases.skipped
    big, small = (j.scenario for j in cases.jobs)
    assert [p.case for j in cases.jobs for p in j.points] == ["DEC-15", "DEC-15[model=Llama3.1 8B]"]
    assert big["hardware"] == {"gpu": "cerebras-wse3", "gpus_per_node": 1, "nodes": 4, "nics_per_node": 1,
                               "inter_node_link": "cerebras-100gbe"}
    assert big["parallelism"] == {"tp": 1, "pp": 4} and big["runtime"] == "cerebras-2024"
    assert big["precision"]["weights"] == "bf16" and big["scheduler"]["memory_utilization"] == 1.0
    assert small["model"] == "llama-3.1-8b" and small["parallelism"] == {"tp": 1, "pp": 1}
    assert small["hardware"]["nodes"] == 1


def test_a_case_takes_the_layout_and_precision_another_case_of_its_source_states(tmp_path):
    """SPEC-02 (the blog's MTP rows) states neither layout nor per-module precision; DEC-12 (the
    same table's no-MTP row, same GPUs and model) states both: SPEC-02 runs with them."""
    url = "https://github.com/NVIDIA/TensorRT-LLM/blob/main/docs/blog1.md"
    dec = {"id": "DEC-98", "metric": "per_request_decode_tok_s", "value": 111, "source_url": url,
           "conditions": {"gpus": "8x B200", "framework": "TensorRT-LLM", "model": "DeepSeek-R1 671B (37B active)",
                          "dtype": "NVFP4 MoE/dense FFN, BF16 attention", "parallel": "attention TP8, MoE mixed TP/EP",
                          "concurrency": 1, "isl": 1024, "osl": 2048}}
    spec = {"id": "SPEC-98", "metric": "tps_per_user_speedup", "value": 1.78, "source_url": url,
            "conditions": {"gpus": "8x B200", "framework": "TensorRT-LLM", "model": "DeepSeek-R1 (NVFP4)",
                           "concurrency": 1, "isl": 1024, "osl": 2048},
            "series": [{"nextn": 1, "accept_len": 1.92, "speedup": 1.78}]}
    other = {**spec, "id": "SPEC-97", "source_url": "https://example.org/another-blog"}
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump([dec, spec, other]))
    jobs = {j.points[0].case: j.scenario for j in load([path]).jobs}
    for name in ("DEC-98", "SPEC-98[nextn=1]"):
        assert jobs[name]["parallelism"]["ep"] == 4 and jobs[name]["precision"]["attention"] == "bf16"
    assert "ep" not in jobs["SPEC-97[nextn=1]"]["parallelism"]  # another source: nothing taken
    assert "attention" not in jobs["SPEC-97[nextn=1]"]["precision"]


def test_int4_group_size_is_read_from_the_table_or_the_engines_default():
    """'int4 g32' states 32 values per bf16 scale and zero: 0.5 + 4/32 = 0.625 B per weight, not the
    schema's g128 0.53125 (DEC-04's int4 row ran at g128 before). gpt-fast quantises with groups of 32
    when a table names int4 alone (quantize.py ``--groupsize`` default 32); other engines keep 128."""
    assert cond.group_size("int4 g32", "int4", "vllm") == 32
    assert cond.group_size("4-bit (G=32)", "int4", "vllm") == 32
    assert cond.group_size("int4, group size 64", "int4", "trt-llm") == 64
    assert cond.group_size("fp16 / int4", "int4", "gpt-fast") == 32
    assert cond.group_size("int4", "int4", "vllm") is None
    assert cond.group_size("int8 weight-only", "int8", "gpt-fast") is None
    case = {"id": "DEC-99", "metric": "per_request_decode_tok_s", "value": 90.77, "unit": "tok/s",
            "conditions": {"gpus": "8x A100-80GB SXM", "framework": "gpt-fast", "model": "Llama-2-70B", "tp": 8,
                           "prompt_len": 5, "dtype": "bf16 unless noted"},
            "series": [{"tp": 8, "quant": "int4 g32", "tok_s": 90.77}, {"tp": 8, "tok_s": 62.5}]}
    jobs = published.case_jobs(case, {}).jobs
    int4, bf16 = (j.scenario["precision"] for j in jobs)
    assert int4["weights"] == "int4" and int4["group_size"] == 32
    assert bf16["weights"] == "bf16" and "group_size" not in bf16


EAGLE_TABLE = {
    "id": "SPEC-96", "group": "6_speculative", "metric": "per_request_decode_tok_s", "value": 71.5,
    "unit": "tok/s (fp16 with EAGLE)",
    "source_url": "https://github.com/SafeAILab/EAGLE/blob/main/README.md (v1.1 'With gpt-fast' section)",
    "quote": "| gpt-fast          | 33.2 tokens/s      | 47.4 tokens/s     | | EAGLE+gpt-fast    | 71.5 tokens/s "
             "(2.15x)    | 82.5 tokens/s (1.74x)     |",
    "conditions": {"gpus": "1x A100", "model": "LLaMA2-Chat 13B", "dataset": "MT-bench", "dtype": "fp16 / int4",
                   "batch": 1},
}


def test_a_quoted_table_gives_one_point_per_cell_and_the_speculative_rows_say_why():
    """The README's table: columns named by 'dtype: fp16 / int4', rows by engine or method. The
    gpt-fast baselines are simulated (int4 in gpt-fast's groups of 32); EAGLE's chain draft has no
    published acceptance length, so its two cells are listed with that reason."""
    assert [(e["framework"], e["dtype"], e["tok_s"]) for e in published_figures.table_entries(EAGLE_TABLE)] == [
        ("gpt-fast", "fp16", 33.2), ("gpt-fast", "int4", 47.4),
        ("EAGLE+gpt-fast", "fp16", 71.5), ("EAGLE+gpt-fast", "int4", 82.5)]
    cases = published.case_jobs(EAGLE_TABLE, {})
    jobs = {j.points[0].case: j for j in cases.jobs}
    assert set(jobs) == {"SPEC-96[framework=gpt-fast,dtype=fp16]", "SPEC-96[framework=gpt-fast,dtype=int4]"}
    fp16, int4 = jobs["SPEC-96[framework=gpt-fast,dtype=fp16]"], jobs["SPEC-96[framework=gpt-fast,dtype=int4]"]
    assert fp16.scenario["precision"]["weights"] == "fp16" and "group_size" not in fp16.scenario["precision"]
    assert int4.scenario["precision"]["weights"] == "int4" and int4.scenario["precision"]["group_size"] == 32
    assert fp16.scenario["hardware"]["gpu"] == "a100-80gb"
    skipped = {p.case: p for p in cases.skipped}
    assert set(skipped) == {"SPEC-96[framework=EAGLE+gpt-fast,dtype=fp16]", "SPEC-96[framework=EAGLE+gpt-fast,dtype=int4]"}
    assert all("chain of 3 tokens" in p.reason for p in skipped.values())
    assert skipped["SPEC-96[framework=EAGLE+gpt-fast,dtype=int4]"].measured == 82.5


def test_a_table_its_source_withdrew_is_shown_but_left_out_of_the_tolerances():
    """EAGLE's A100 table (SPEC-08) was replaced a day after it was posted (validate/superseded.py):
    its rows carry the withdrawal in the column of rows left out of the tolerances; the RTX 3090 table
    that replaced it, and a case from another source quoting the same figure, do not."""
    for job in published.case_jobs(EAGLE_TABLE, {}).jobs:
        assert job.points[0].kernel_side.startswith("withdrawn by its source: EAGLE's README replaced")
    later = {**EAGLE_TABLE, "quote": EAGLE_TABLE["quote"].replace("33.2", "55.1").replace("47.4", "106.9")}
    assert [j.points[0].kernel_side for j in published.case_jobs(later, {}).jobs] == ["", "int4 weights"]
    elsewhere = {**EAGLE_TABLE, "source_url": "https://github.com/pytorch-labs/gpt-fast/blob/main/README.md"}
    assert all(not j.points[0].kernel_side.startswith("withdrawn") for j in published.case_jobs(elsewhere, {}).jobs)


def test_eagles_mt_bench_harness_sets_lengths_cache_and_clock():
    """EAGLE's gpt-fast harness (eaglefast branch): 2,000 KV positions allocated, 420-token prompts and
    306-token answers a turn (derived in validate/harnesses.py), the clock around the whole generate
    call; the table's conditions column says so, and that the A100's size was assumed."""
    job = next(j for j in published.case_jobs(EAGLE_TABLE, {}).jobs if j.points[0].case.endswith("fp16]"))
    s = job.scenario
    assert s["runtime"] == {"preset": "gpt-fast", "static_kv_cache_tokens": 2000}
    assert (s["workload"]["prompt_tokens"], s["workload"]["output_tokens"]) == (420, 306)
    (point,) = job.points
    assert point.probe == "generate_tps"
    assert "KV cache of 2000 positions, timed with prefill" in point.conditions
    assert "A100 size not stated: the 80 GB SXM4 assumed" in point.conditions
    # the same table from another repository, or another engine, has no harness: lengths unstated
    other = {**EAGLE_TABLE, "source_url": "https://example.org/blog (gpt-fast)"}
    reasons = [p.reason for p in published.case_jobs(other, {}).skipped if "[framework=gpt-fast," in p.case]
    assert len(reasons) == 2 and all("length not stated" in r for r in reasons)


def test_generate_probe_divides_the_tokens_by_the_whole_request_time():
    """tokens / (prefill + decode): a 306-token answer whose request took 6.0 s end to end, of which
    0.1 s prefill, is 51.0 tok/s by the harness's clock, 51.9 by the decode alone."""
    job = next(j for j in published.case_jobs(EAGLE_TABLE, {}).jobs if j.points[0].case.endswith("fp16]"))
    (outcome,) = run_job(job)
    from simdecode import simulate
    from simdecode.scenario.schema import Scenario

    (r,) = simulate(Scenario.model_validate(job.scenario)).measured
    assert outcome.predicted == pytest.approx(r.output_tokens / r.e2e_s)
    assert outcome.predicted < 1 / r.tpot_s  # the prefill is inside the clock


@pytest.mark.parametrize("argv, hint", [(["DCE-01"], "did you mean 'DEC-01'?"),
                                        (["--group", "DCE"], "did you mean --group 'DEC'?")])
def test_a_filter_matching_nothing_says_what_was_meant_and_lists_the_groups(argv, hint, capsys):
    assert main(["validate", *argv, "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no validation case matches") and len(err.splitlines()) == 1
    assert hint in err and "(groups: BAT, CO, DEC," in err


def test_a_group_matches_in_any_case():
    """Group names mix cases ('IX llama-3.1-70b TPOT'); a user typing them in lower case gets them."""
    from simdecode.validate import command

    keep = command._group_filter(["ix LLAMA", "dec"])
    assert keep("IX llama-3.1-70b TPOT") and keep("DEC") and not keep("BAT")
    assert command._group_filter([])("BAT")


def test_a_missing_measurement_file_is_called_missing_not_an_unmatched_case(capsys):
    assert main(["validate", "measurements/none.yaml", "-q"]) == 2
    assert capsys.readouterr().err == ("error: measurements/none.yaml: no such file or folder (CASES are "
                                       "measurement files or folders, or case-name prefixes such as DEC-01)\n")
