"""``simdecode explain``: one token's critical path, from the same plans and folds the engine runs."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from simdecode import cli
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.collectives import p2p
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan
from simdecode.present.explain import explain, render_explanation
from simdecode.scenario.loader import load_scenario, scenario_from_dict

REPO = Path(__file__).resolve().parents[1]
TP8_A100 = REPO / "scenarios" / "llama-2-70b-a100-tp8.yaml"
PCIE_1B = {"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm", "intra_node_link": "pcie5"},
           "parallelism": {"tp": 8}}


def _pcie_1b(**changes):
    data = {**PCIE_1B, **changes}
    return scenario_from_dict(data)


@pytest.fixture(scope="module")
def tp8():
    scenario = load_scenario(TP8_A100)
    return scenario, explain(scenario)


def test_total_is_the_fold_makespan(tp8) -> None:
    scenario, data = tp8
    dep = Deployment.from_scenario(scenario)
    shape = BatchShape.decode([scenario.workload.prompt_tokens])
    makespan = sum(fold(build_stage_plan(dep, s, shape)).makespan_s for s in range(dep.pp))
    assert data["total_s"] == pytest.approx(makespan, rel=1e-12)
    assert data["tokens_per_s_per_request"] == pytest.approx(1.0 / makespan, rel=1e-12)
    assert data["aggregate_tokens_per_s"] == pytest.approx(1.0 / makespan, rel=1e-12)


def test_parts_sum_to_the_total(tp8) -> None:
    _, data = tp8
    assert math.isclose(sum(data["parts_s"].values()), data["total_s"], rel_tol=1e-9)
    for st in data["stages"]:
        parts = (st["memory_s"] + st["math_s"] + st["dequant_s"] + st["serial_s"] + st["launch_s"] + st["host_s"]
                 + st["exposed_comm_s"])
        assert math.isclose(parts, st["time_s"], rel_tol=1e-9)
    assert math.isclose(sum(data["shares"].values()), 1.0, rel_tol=1e-9)


def test_tp8_a100_numbers_come_from_the_plan(tp8) -> None:
    _, data = tp8
    (stage,) = data["stages"]
    ar = data["setup"]["allreduce"]
    assert ar["count"] == 160  # 80 layers x 2 modules, megatron
    assert ar["bytes"] == 8192 * 2
    assert math.isclose(ar["alpha_s"] + ar["beta_s"], ar["time_s"])
    assert stage["kernels"] > 1000  # gpt-fast: ~15 kernels per layer
    assert data["bottleneck"] == "memory-bandwidth"
    assert 0 < data["roofline_fraction"] < 1
    assert data["roofline_tokens_per_s"] > data["tokens_per_s_per_request"]
    text = " ".join(render_explanation(data).split())
    for unit in ("us", "ms", "GB", "tok/s"):
        assert unit in text
    assert "memory" in text.lower() and "160 x all-reduce" in text
    assert data["pipeline_note"] is None


def test_latency_bound_all_reduce_on_pcie() -> None:
    data = explain(_pcie_1b())
    assert data["bottleneck"] == "all-reduce"
    ar = data["setup"]["allreduce"]
    assert ar["alpha_s"] > 10 * ar["beta_s"]  # tiny messages: latency, not bandwidth
    text = " ".join(render_explanation(data).split())
    assert "Bottleneck: all-reduce" in text
    assert "all-reduces of" in data["verdict"] and "latency" in data["verdict"]
    assert f"{ar['count']} all-reduces" in data["verdict"]


def test_crossover_sentence_names_the_peak() -> None:
    data = explain(_pcie_1b(runtime="vllm"))
    scaling = data["tp_scaling"]
    assert scaling["crossover_tp"] == 2  # vLLM runs NCCL on more than two PCIe GPUs
    assert "tp = 2" in scaling["sentence"]
    assert f"{scaling['analytic_crossover_tp']:.1f}" in scaling["sentence"]
    assert "tp = 2" in render_explanation(data)


def test_vllm_custom_all_reduce_only_on_nvlink_or_two_pcie_gpus() -> None:
    """vLLM's custom_all_reduce.py: disabled on more than two PCIe-only GPUs; explain says so."""
    eight = explain(_pcie_1b(runtime="vllm"))
    assert eight["setup"]["allreduce_impl"] == "nccl"
    assert "more than two PCIe-only GPUs" in eight["setup"]["allreduce_fallback"]
    assert "NCCL" in render_explanation(eight)
    two = scenario_from_dict({"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm", "intra_node_link": "pcie5"},
                              "runtime": "vllm", "parallelism": {"tp": 2}})
    assert explain(two)["setup"]["allreduce_impl"] == "custom"
    nvlink = scenario_from_dict({"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"}, "runtime": "vllm",
                                 "parallelism": {"tp": 8}})
    assert explain(nvlink)["setup"]["allreduce_impl"] == "custom"


def test_pcie_switch_and_socket_crossings_are_explained() -> None:
    """8 PCIe GPUs default to two sockets of 4 (costmodel/pcie.py): NCCL's tree crosses between
    them twice on its 14-step chain, and the setup paragraph says so."""
    data = explain(_pcie_1b())
    pc = data["setup"]["pcie"]
    assert (pc["gpus_per_switch"], pc["gpus_per_socket"], pc["steps"]) == (4, 4, 14)
    assert pc["algorithm"] == data["setup"]["allreduce"]["algorithm"]
    assert pc["socket_steps"] == {"tree": 2, "ring": 4}[pc["algorithm"]]
    text = " ".join(render_explanation(data).split())
    assert "4 per CPU socket" in text and f"{pc['socket_steps']} of them between sockets (+0.6 us each" in text
    # four GPUs on one socket and one switch: nothing crosses
    four = scenario_from_dict({**PCIE_1B, "hardware": {**PCIE_1B["hardware"], "gpus_per_node": 4},
                               "parallelism": {"tp": 4}})
    assert explain(four)["setup"]["pcie"]["switch_steps"] == 0
    assert explain(_pcie_1b(hardware={"gpu": "h100-sxm"}))["setup"]["pcie"] is None  # NVLink


def test_pipeline_stages_are_explained() -> None:
    scenario = scenario_from_dict({"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"},
                                   "parallelism": {"tp": 2, "pp": 2}})
    data = explain(scenario)
    dep = Deployment.from_scenario(scenario)
    assert len(data["stages"]) == 2 and len(data["hops"]) == 1
    hop = p2p(scenario.model.hidden_size * dep.act_bytes_per_value, dep.pp_link, dep.runtime)
    assert data["hops"][0]["time_s"] == pytest.approx(hop.time_s)
    assert math.isclose(data["total_s"], sum(st["time_s"] for st in data["stages"]) + hop.time_s, rel_tol=1e-12)
    assert math.isclose(sum(data["parts_s"].values()), data["total_s"], rel_tol=1e-9)
    text = " ".join(render_explanation(data).split())  # undo the line wrapping
    assert "Pipeline hop stage 1 -> 2" in text
    assert "pipeline stages do not speed one request up" in text
    assert "every stage in turn" in text and "every stage in turn" in data["pipeline_note"]


def test_batch_and_context_are_used() -> None:
    scenario = _pcie_1b()
    one, many = explain(scenario, context_tokens=1000, batch=1), explain(scenario, context_tokens=1000, batch=8)
    assert one["context_tokens"] == 1000 and many["batch"] == 8
    assert many["stages"][0]["kv_bytes_per_gpu"] == pytest.approx(8 * one["stages"][0]["kv_bytes_per_gpu"])
    assert many["aggregate_tokens_per_s"] == pytest.approx(8 * many["tokens_per_s_per_request"])


# --- the command line ----------------------------------------------------------------------------


def test_cli_explain_prints_text(capsys) -> None:
    assert cli.main(["explain", str(TP8_A100)]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "Bottleneck:" in out and "tok/s" in out


def test_cli_explain_json(capsys) -> None:
    args = ["explain", str(TP8_A100), "--json", "--set", "parallelism.tp=4", "--context", "64", "--batch", "2"]
    assert cli.main(args) == cli.EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["setup"]["tp"] == 4 and data["context_tokens"] == 64 and data["batch"] == 2
    assert data["bottleneck"] in {"all-reduce", "memory-bandwidth", "launch-overhead", "compute", "pipeline"}


def test_cli_explain_bad_file(tmp_path: Path, capsys) -> None:
    assert cli.main(["explain", str(tmp_path / "missing.yaml")]) == cli.EXIT_USER
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: no-such-model\nhardware: {gpu: h100-sxm}\n")
    assert cli.main(["explain", str(bad)]) == cli.EXIT_USER
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert cli.main(["explain", str(TP8_A100), "--batch", "0"]) == cli.EXIT_USER


def test_speculative_paragraph_reads_plain_numbers_from_analysis() -> None:
    """analysis.speculative.speculative_step builds the deployments; explain only words them."""
    from simdecode.analysis.speculative import speculative_step

    scenario = load_scenario(REPO / "scenarios" / "draft-llama-70b-with-1b.yaml")
    step = speculative_step(scenario, 512, 1)
    assert all(isinstance(v, (int, float, str, bool)) for v in step.values())
    assert step["speedup"] == pytest.approx(
        step["mean_tokens"] * step["standard_s"] / (step["draft_s"] + step["verify_s"]), rel=1e-9)
    spec = explain(scenario, context_tokens=512)["speculation"]
    assert spec["speedup"] == step["speedup"] and f"{step['speedup']:.2f}x as fast" in spec["sentence"]
    assert speculative_step(_pcie_1b(), 512, 1) is None  # standard decoding


def test_dataflow_scheduled_all_reduce_is_named() -> None:
    """A dataflow runtime's collectives are placed by its compiler (allreduce_impl scheduled): explain
    names them instead of failing, and an 8-chip LPU all-reduce of one 4 KB activation (llama-3.2-1b,
    hidden 2,048 x 2 B fp16) is one hop (0.6 us) plus 4,096 B over 14 GB/s x 0.97."""
    scenario = scenario_from_dict({"model": "llama-3.2-1b", "precision": {"weights": "int8", "activations": "fp16",
                                                                           "kv_cache": "fp16"},
                                   "hardware": {"gpu": "groq-lpu", "gpus_per_node": 8},
                                   "runtime": "dataflow", "parallelism": {"tp": 8},
                                   "scheduler": {"memory_utilization": 1.0}})
    data = explain(scenario)
    text = render_explanation(data)
    assert "placed at compile time" in text
    ar = data["setup"]["allreduce"]
    assert ar["time_s"] == pytest.approx(0.6e-6 + 2048 * 2 / (14e9 * 0.97), rel=1e-3)


def _gpt_oss(gpu: str):
    return scenario_from_dict({"model": "gpt-oss-120b", "hardware": {"gpu": gpu}, "runtime": "vllm",
                               "workload": {"prompt_tokens": 1024, "output_tokens": 128}})


def test_marlin_fp4_decode_on_the_int32_pipe_is_named_when_it_binds() -> None:
    """gpt-oss-120b's MXFP4 experts on one H200 under vLLM (Marlin): at batch 16 the integer pipe,
    not HBM, decides the experts' time (costmodel/efficiency.py), so explain's breakdown has an FP4
    decode row and names it the bottleneck. The row is the experts' decode, layer by layer:
    36 layers x union x 3 x 2880 x 2880 weights x 7/4 INT32 instructions at 67e12 / 2 x 0.5 x 0.55 per s."""
    from simdecode.costmodel.efficiency import fp4_dequant_seconds
    from simdecode.costmodel.moe import expert_union

    scenario = _gpt_oss("h200")
    data = explain(scenario, 1024, 16)
    assert data["bottleneck"] == "fp4-weight-decode"
    dep = Deployment.from_scenario(scenario)
    union = expert_union(dep, BatchShape.decode([1024] * 16, dep.window))
    expected = 36 * fp4_dequant_seconds(union * 3 * 2880 * 2880, 67e12, 0.55)
    (stage,) = data["stages"]
    assert stage["dequant_s"] == pytest.approx(expected, rel=1e-6)
    assert data["parts_s"]["dequant"] == pytest.approx(expected, rel=1e-6)
    assert stage["dequant_hidden_s"] < stage["dequant_s"]          # the stream hides behind the decode
    assert math.isclose(sum(data["parts_s"].values()), data["total_s"], rel_tol=1e-9)
    text = " ".join(render_explanation(data).split())
    assert "FP4 weight decode" in text and "INT32 pipe" in text
    assert "Bottleneck: fp4-weight-decode. FP4 weight decode on the INT32 pipe is the bottleneck" in text
    assert "Memory bandwidth is the bottleneck" not in text


def test_on_an_h100_the_same_experts_stream_slower_than_they_decode() -> None:
    """H100: 3.35 TB/s, so the stream (2.43 us per expert at 81%) outlasts the decode (2.36 us): no
    decode row, memory bandwidth binds, as before."""
    data = explain(_gpt_oss("h100-sxm"), 1024, 16)
    assert data["bottleneck"] == "memory-bandwidth"
    assert data["parts_s"]["dequant"] == 0.0
    assert "FP4 weight decode" not in render_explanation(data)


def test_gpt_fast_int8_dequantisation_adds_and_has_its_own_row() -> None:
    """gpt-fast's int8 kernels do not overlap the conversion with the stream (dequant_overlap false):
    the whole decode adds and is its own row. Llama-2-7B on an A100: 32 layers x (4 x 4096^2 +
    3 x 4096 x 11008) + the 4096 x 32000 LM head = 6.608e9 int8 weights x 2 instructions at
    19.5 TFLOP/s / 2 = 1.355 ms; memory bandwidth still binds."""
    from simdecode.costmodel.efficiency import dequant_seconds

    scenario = scenario_from_dict({"model": "llama-2-7b", "hardware": {"gpu": "a100-80gb"}, "runtime": "gpt-fast",
                                   "precision": {"weights": "int8"}})
    data = explain(scenario, 512, 1)
    weights = 32 * (4 * 4096**2 + 3 * 4096 * 11008) + 4096 * 32000
    assert data["parts_s"]["dequant"] == pytest.approx(dequant_seconds(weights, 19.5e12), rel=1e-6)
    assert data["parts_s"]["dequant"] == pytest.approx(1.355e-3, rel=1e-3)
    assert data["bottleneck"] == "memory-bandwidth"
    assert data["stages"][0]["dequant_bytes"] == 0.0          # nothing hides behind a serial decode
    assert "weight dequantisation" in render_explanation(data)


def _llama_70b_b200(weights: str):
    return scenario_from_dict({"model": "llama-3.1-70b", "precision": {"weights": weights, "kv_cache": "fp8"},
                               "hardware": {"gpu": "b200", "gpus_per_node": 8}, "parallelism": {"tp": 8},
                               "runtime": "trt-llm"})


def test_nvfp4_k_loops_are_a_row_of_their_own_and_leave_the_stream_its_bandwidth() -> None:
    """Llama-3.1-70B NVFP4 on 8 x B200 under TensorRT-LLM, batch 4 at 1,024 tokens of context. Each
    layer's four NVFP4 GEMMs pay a serial k-loop (costmodel/fp4_gemm.py) of 0.705 ns per K value over
    K = 8192 (QKV) + 64 x 128 / 8 (O) + 8192 (gate+up) + 28672 / 8 (down) = 20,992: 80 x 14.80 us =
    1.1840 ms. The memory-bound row keeps only the streaming: every memory-bound kernel of trt-llm
    streams at its memory_efficiency 0.7 of the B200's 8 TB/s, so its bytes over its time are 5.6 TB/s
    (the k-loop inside it had made that 2.41 TB/s); the rows still add up to the stage time."""
    data = explain(_llama_70b_b200("nvfp4"), 1024, 4)
    (st,) = data["stages"]
    k_loop = 80 * 0.705e-9 * (8192 + 1024 + 8192 + 28672 // 8)
    assert k_loop == pytest.approx(1.18395e-3, rel=1e-5)
    assert st["serial_s"] == pytest.approx(k_loop, rel=1e-9)
    assert data["parts_s"]["serial"] == pytest.approx(k_loop, rel=1e-9)
    assert data["terms_s"]["fp4 k-loop"]["busy_s"] == pytest.approx(k_loop, rel=1e-9)  # the by-module entry
    assert st["memory_bytes"] / st["memory_s"] == pytest.approx(0.7 * 8e12, rel=1e-9)
    assert st["kv_bytes_per_gpu"] == 80 * 2 * 128 * 4 * 1024  # one fp8 KV head per GPU: part of the bytes
    rows = (st["memory_s"] + st["serial_s"] + st["math_s"] + st["dequant_s"] + st["launch_s"] + st["host_s"]
            + st["exposed_comm_s"])
    assert rows == pytest.approx(st["time_s"], rel=1e-9)
    assert math.isclose(sum(data["parts_s"].values()), data["total_s"], rel_tol=1e-9)
    text = render_explanation(data)
    assert re.search(r"memory-bound compute +895 us +5\.01 GB read at 5\.6 TB/s achieved \(70% of 8 TB/s peak\)", text)
    assert re.search(r"NVFP4 GEMM k-loops +1\.18 ms", text)
    assert "+ 1.18 ms NVFP4 GEMM k-loops +" in " ".join(text.split())
    # FP8 weights on the same GPUs run per-tensor FP8 GEMMs: no k-loop, no row
    fp8 = explain(_llama_70b_b200("fp8"), 1024, 4)
    assert fp8["stages"][0]["serial_s"] == 0.0 and "NVFP4 GEMM k-loops" not in render_explanation(fp8)


@pytest.mark.parametrize("name", ["groq-llama-2-70b-576xlpu", "cerebras-llama-3.1-70b-4xwse3", "taalas-hc1-llama-3.1-8b"])
def test_chips_that_are_not_gpus_are_not_called_gpus(name: str) -> None:
    """Groq's LPU, Cerebras' wafer and Taalas' HC1 are chips with vector and matrix units
    (``kind: sram`` / ``logic``): explain calls them so, never GPUs with CUDA or tensor cores."""
    data = explain(load_scenario(REPO / "scenarios" / f"{name}.yaml"))
    text = " ".join(render_explanation(data).split())
    assert data["setup"]["device_kind"] in ("sram", "logic")
    for gpu_word in ("GPU", "CUDA", "tensor core"):
        assert gpu_word not in text, gpu_word
    assert "per chip" in text
    if name.startswith("groq"):  # int8 weights without int8 rates: dequantised on the vector units
        assert data["bottleneck"] == "weight-dequantisation"
        assert "on the vector units" in text and "matrix units for the stored format" in text
    if name.startswith("taalas"):  # the weights are the wiring: compute binds, on the matrix units
        assert "weights wired into the logic (no memory)" in text
        assert "no weight bytes stream and the matrix units limit" in text and "1 sequences" not in text
    if name.startswith("cerebras"):  # 21 PB/s x 1/3 of the ports: '7 PB/s', not '7e+03 TB/s'
        assert "of 7 PB/s peak" in text and "e+" not in text


def test_tpus_are_tpu_chips_with_vector_and_matrix_units() -> None:
    """A TPU (``vendor: google``) is a GPU-kind device in the cost model (weights in HBM, XLA's
    programs), but explain calls it a TPU chip, never a GPU with CUDA or tensor cores."""
    data = explain(load_scenario(REPO / "scenarios" / "tpu-v5e-llama-3.1-70b-ici-torus.yaml"))
    text = " ".join(render_explanation(data).split())
    assert data["setup"]["device_kind"] == "gpu" and data["setup"]["device_vendor"] == "google"
    for gpu_word in ("GPU", "CUDA", "tensor core"):
        assert gpu_word not in text, gpu_word
    assert "of weights per TPU chip" in text


def test_amd_gpus_have_matrix_cores_not_tensor_cores() -> None:
    from simdecode.analysis.device_words import words
    from simdecode.presets import preset
    from simdecode.scenario.hardware import GpuSpec

    mi300x = GpuSpec.model_validate(preset("gpus", "mi300x"))
    w = words(mi300x.kind, mi300x.vendor)
    assert (w.one, w.matrix) == ("GPU", "matrix cores") and "CUDA" not in w.scalar
    h100 = GpuSpec.model_validate(preset("gpus", "h100-sxm"))
    assert words(h100.kind, h100.vendor).scalar == "CUDA cores"


def test_gpus_keep_their_words(tp8) -> None:
    _, data = tp8
    text = " ".join(render_explanation(data).split())
    assert data["setup"]["device_kind"] == "gpu"
    assert "of weights per GPU" in text and "chip" not in text


def test_alike_stages_and_hops_are_told_once() -> None:
    """Llama-2-70B over 36 LPU stages: 3-layer and 2-layer stages, each kind told once with its
    range, the 35 equal hops in one line, the stage times summed as counts (7 x 85.4 us), and the
    explanation a screen or two, not 600 lines. The numbers (JSON) keep every stage and hop."""
    data = explain(load_scenario(REPO / "scenarios" / "groq-llama-2-70b-576xlpu.yaml"))
    raw = render_explanation(data)
    text = " ".join(raw.split())
    assert len(data["stages"]) == 36 and len(data["hops"]) == 35
    assert "Stage 1 of 36: layers 0-2 (3 layers)" in text
    assert "Stages 2-8 of 36, each alike: layers 3-23 (3 layers each)" in text
    assert "Stages 9-35 of 36, each alike: layers 24-77 (2 layers each)" in text
    assert "Stage 36 of 36: layers 78-79 (2 layers)" in text
    assert "Pipeline hops stage 1 -> 2 to 35 -> 36, 35 alike: 16.4 KB over groq-c2c, 1.81 us each" in text
    assert "87.8 us + 7 x 85.4 us + 27 x 57 us + 97.3 us" in text
    assert raw.count("stage time") == 4 and len(raw.splitlines()) < 150
