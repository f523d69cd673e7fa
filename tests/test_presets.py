"""The preset catalogues (simdecode/presets/*.yaml): they validate, cross-reference, carry their
sources, and hold the published figures."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from simdecode import presets
from simdecode.presets import PresetError
from simdecode.scenario.hardware import GpuSpec, LinkSpec
from simdecode.scenario.model import HF_KEYS, ModelSpec

SPECS = {"gpus": GpuSpec, "links": LinkSpec, "models": ModelSpec}

EXPECTED = {
    "gpus": {"a100-40gb", "a100-80gb", "h100-sxm", "h100-pcie", "h200", "b200", "mi300x", "l40s", "rtx-4090", "rtx-3090",
             "h20", "h800", "b300", "gb200", "gb300", "mi325x", "mi355x", "rtx-pro-6000", "apple-m3-ultra",
             "apple-m4-max", "gb10", "strix-halo", "groq-lpu", "cerebras-wse3", "taalas-hc1",
             "tpu-v5e", "tpu-v5p", "tpu-v6e"},
    "links": {"nvlink3", "nvlink4", "nvlink5", "pcie4", "pcie5", "xgmi", "ib-hdr", "ib-ndr", "nvlink4-h800",
              "groq-c2c", "cerebras-100gbe", "ici-v5e", "ici-v5p", "ici-v6e"},
    "models": {
        "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b",
        "llama-3.2-1b", "mixtral-8x7b", "deepseek-v3", "gpt-oss-120b", "qwen3-235b-a22b", "megatron-530b",
        "qwen3.5-397b-a17b", "qwen3-4b", "qwen3-8b", "llama-3.3-70b", "gpt-oss-20b", "deepseek-v3.1",
        "deepseek-v3.2", "kimi-k2.5", "glm-4.7", "glm-5", "minimax-m2.5", "nemotron-nano-9b-v2",
        "deepseek-v4-flash", "deepseek-v4-pro",
    },
}
#: GPUs whose tensor cores run FP4 natively (Blackwell, CDNA 4)
FP4_GPUS = {"b200", "b300", "gb200", "gb300", "mi355x", "rtx-pro-6000", "gb10"}

TOP_LEVEL_KEY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*):\s*$")


def _all(kind: str) -> list[tuple[str, str]]:
    return [(kind, name) for name in sorted(EXPECTED[kind])]


def _raw(kind: str) -> str:
    return resources.files("simdecode.presets").joinpath(f"{kind}.yaml").read_text(encoding="utf-8")


def _comment_blocks(kind: str) -> dict[str, list[str]]:
    """Each top-level key of a catalogue file with the comment lines directly above it."""
    lines = _raw(kind).splitlines()
    blocks: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        match = TOP_LEVEL_KEY.match(line)
        if not match:
            continue
        block: list[str] = []
        above = index - 1
        while above >= 0 and lines[above].startswith("#"):
            block.insert(0, lines[above])
            above -= 1
        blocks[match.group(1)] = block
    return blocks


def gpu(name: str) -> GpuSpec:
    return GpuSpec.model_validate(presets.preset("gpus", name))


def link(name: str) -> LinkSpec:
    return LinkSpec.model_validate(presets.preset("links", name))


def model(name: str) -> ModelSpec:
    return ModelSpec.model_validate(presets.preset("models", name))


# ---------------------------------------------------------------------------------------------
# every preset validates; the catalogues hold exactly the presets asked for


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_catalogue_holds_the_expected_presets(kind: str) -> None:
    assert set(presets.names(kind)) == EXPECTED[kind]


@pytest.mark.parametrize(("kind", "name"), _all("gpus") + _all("links") + _all("models"))
def test_every_preset_validates_against_its_spec(kind: str, name: str) -> None:
    spec = SPECS[kind].model_validate(presets.preset(kind, name))
    assert spec.name == name


@pytest.mark.parametrize("name", sorted(EXPECTED["models"]))
def test_model_presets_use_only_hugging_face_keys(name: str) -> None:
    keys = set(presets.catalogue("models")[name])
    assert keys <= HF_KEYS, sorted(keys - HF_KEYS)
    assert "name" not in keys  # the loader adds it


# ---------------------------------------------------------------------------------------------
# cross-references


@pytest.mark.parametrize("name", sorted(EXPECTED["gpus"]))
def test_default_link_of_every_gpu_is_a_link_preset(name: str) -> None:
    assert gpu(name).default_link in presets.names("links")


@pytest.mark.parametrize(
    ("name", "link_name"),
    [
        ("a100-40gb", "nvlink3"), ("a100-80gb", "nvlink3"), ("h100-sxm", "nvlink4"), ("h200", "nvlink4"),
        ("b200", "nvlink5"), ("mi300x", "xgmi"), ("h100-pcie", "pcie5"), ("l40s", "pcie4"), ("rtx-4090", "pcie4"),
    ],
)
def test_default_links_are_the_ones_each_gpu_ships_with(name: str, link_name: str) -> None:
    assert gpu(name).default_link == link_name


# ---------------------------------------------------------------------------------------------
# every entry names its source


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_every_top_level_key_is_preceded_by_a_comment(kind: str) -> None:
    blocks = _comment_blocks(kind)
    assert set(blocks) == EXPECTED[kind]  # the raw-text parse found every entry
    uncommented = [name for name, block in blocks.items() if not block]
    assert uncommented == []


@pytest.mark.parametrize("name", sorted(EXPECTED["models"]))
def test_every_model_names_its_config_json_and_published_parameters(name: str) -> None:
    text = "\n".join(_comment_blocks("models")[name])
    assert "Source:" in text and "Published parameters:" in text
    if "arXiv" in text:  # a model without a Hugging Face release cites its paper
        return
    assert "config.json" in text
    assert re.search(r"huggingface\.co/[\w.-]+/[\w.-]+", text), "the Hugging Face repository"


# ---------------------------------------------------------------------------------------------
# the published GPU figures (HW-01..HW-08 of the validation file)


def test_h100_sxm_figures() -> None:
    h100 = gpu("h100-sxm")
    assert h100.memory_bytes == 81559 * 2**20  # nvidia-smi's total, not the datasheet's "80GB"
    assert h100.memory_bandwidth_Bps == pytest.approx(3.35e12)
    assert h100.flops_per_s["bf16"] == pytest.approx(989e12)
    assert h100.flops_per_s["fp8"] == pytest.approx(1979e12)
    assert h100.tdp_W == 700


@pytest.mark.parametrize(
    ("name", "memory", "bandwidth", "bf16", "tdp"),
    [
        ("a100-40gb", 40 * 2**30, 1555e9, 312e12, 400),
        ("a100-80gb", 80 * 2**30, 2039e9, 312e12, 400),
        ("h100-pcie", 81559 * 2**20, 2.0e12, 756e12, 350),
        ("h200", 143771 * 2**20, 4.8e12, 989e12, 700),
        ("b200", 183359 * 2**20, 8.0e12, 2250e12, 1000),
        ("mi300x", 192 * 2**30, 5.3e12, 1307.4e12, 750),
        ("l40s", 46068 * 2**20, 864e9, 362.05e12, 350),
        ("rtx-4090", 24564 * 2**20, 1008e9, 165.2e12, 450),
        ("rtx-3090", 24576 * 2**20, 936.2e9, 71e12, 350),
        ("h20", 96 * 2**30, 4.0e12, 148e12, 400),
        ("gb200", 186 * 2**30, 8.0e12, 2500e12, 1200),
        ("mi355x", 288 * 2**30, 8.0e12, 2516.6e12, 1400),
        ("rtx-pro-6000", 97252 * 2**20, 1792e9, 500e12, 600),
        ("gb10", 121.63 * 2**30, 273e9, 125e12, 140),
        ("strix-halo", 128 * 2**30, 256e9, 59.4e12, 120),
    ],
)
def test_gpu_spot_checks(name: str, memory: float, bandwidth: float, bf16: float, tdp: float) -> None:
    spec = gpu(name)
    assert spec.memory_bytes == pytest.approx(memory)
    assert spec.memory_bandwidth_Bps == pytest.approx(bandwidth)
    assert spec.flops_per_s["bf16"] == pytest.approx(bf16)
    assert spec.tdp_W == pytest.approx(tdp)


#: the datasheet's capacity ("80GB", HW-01..HW-08), which the driver's figure reads as GiB
DATASHEET_GB = {"a100-40gb": 40, "a100-80gb": 80, "h100-sxm": 80, "h100-pcie": 80, "h200": 141, "b200": 180,
                "mi300x": 192, "l40s": 48, "rtx-4090": 24, "rtx-3090": 24}


@pytest.mark.parametrize("name", sorted(DATASHEET_GB))
def test_memory_is_the_drivers_figure_in_binary_units(name: str) -> None:
    """The driver reports about the datasheet's number in GiB (ECC and reserved memory take a
    little: an L40S's 48 GB are 45 GiB usable), i.e. 7% more bytes than the decimal reading for
    the 80 GB parts. A preset in decimal GB would hold ~7% less KV cache than the card does."""
    gib = gpu(name).memory_bytes / 2**30
    assert 0.93 * DATASHEET_GB[name] <= gib <= 1.001 * DATASHEET_GB[name]
    if name.startswith(("a100", "h100")):
        assert gpu(name).memory_bytes > 1.06 * DATASHEET_GB[name] * 1e9


def test_only_native_tensor_dtypes_are_listed() -> None:
    assert "fp8" not in gpu("a100-80gb").flops_per_s  # no FP8 on Ampere
    assert "fp4" in gpu("b200").flops_per_s and gpu("b200").flops_per_s["fp4"] == pytest.approx(9e15)
    assert all("fp4" not in gpu(name).flops_per_s for name in EXPECTED["gpus"] - FP4_GPUS)
    assert all("fp4" in gpu(name).flops_per_s for name in FP4_GPUS)


@pytest.mark.parametrize("name", ["h100-sxm", "h100-pcie", "h200", "b200", "mi300x", "l40s", "h20", "h800", "b300",
                                  "gb200", "gb300", "mi325x", "mi355x", "rtx-pro-6000", "gb10"])
def test_peaks_are_dense_fp8_is_twice_bf16(name: str) -> None:
    """Datasheets quote sparse peaks; a preset that took one for fp8 but not bf16 (or the reverse)
    breaks the 2:1 ratio every one of these GPUs has between dense fp8 and dense bf16."""
    flops = gpu(name).flops_per_s
    assert flops["fp8"] / flops["bf16"] == pytest.approx(2.0, rel=0.02)


# ---------------------------------------------------------------------------------------------
# links: per direction, NCCL per-hop latencies, topology


@pytest.mark.parametrize(
    ("name", "bandwidth", "latency", "topology", "transport", "multicast"),
    [
        ("nvlink3", 300e9, 0.6e-6, "switch", "nvlink", False),
        ("nvlink4", 450e9, 0.6e-6, "switch", "nvlink", True),
        ("nvlink5", 900e9, 0.6e-6, "switch", "nvlink", True),
        ("pcie4", 32e9, 1.0e-6, "pcie", "pcie", False),
        ("pcie5", 64e9, 1.0e-6, "pcie", "pcie", False),
        ("xgmi", 64e9, 0.6e-6, "mesh", "nvlink", False),
        ("ib-hdr", 25e9, 16e-6, "switch", "net", False),
        ("ib-ndr", 50e9, 16e-6, "switch", "net", False),
        ("nvlink4-h800", 200e9, 0.6e-6, "switch", "nvlink", True),
        ("groq-c2c", 14e9, 0.6e-6, "mesh", "nvlink", False),
        ("cerebras-100gbe", 150e9, 2.7e-6, "switch", "net", False),
    ],
)
def test_link_figures(
    name: str, bandwidth: float, latency: float, topology: str, transport: str, multicast: bool
) -> None:
    spec = link(name)
    assert spec.bandwidth_Bps == pytest.approx(bandwidth)
    assert spec.latency_s == pytest.approx(latency)
    assert spec.topology == topology
    assert spec.transport == transport
    assert spec.multicast is multicast


def test_nvlink4_efficiency_matches_nccl_ring_busbw() -> None:
    # CO-02: ring busBW ~370 GB/s of the 450 GB/s line rate
    spec = link("nvlink4")
    assert spec.bandwidth_Bps * spec.efficiency == pytest.approx(370e9, rel=0.01)


@pytest.mark.parametrize("name", sorted(EXPECTED["links"]))
def test_link_efficiency_is_a_plausible_share(name: str) -> None:
    assert 0.5 <= link(name).efficiency < 1.0


# ---------------------------------------------------------------------------------------------
# models: values from their config.json


def test_deepseek_v3_is_mla_moe_with_mtp() -> None:
    ds = model("deepseek-v3")
    assert ds.uses_mla and ds.is_moe
    assert (ds.kv_lora_rank, ds.q_lora_rank, ds.qk_rope_head_dim, ds.qk_nope_head_dim, ds.v_head_dim) == (
        512, 1536, 64, 128, 128,
    )
    assert (ds.num_local_experts, ds.num_experts_per_tok, ds.moe_intermediate_size) == (256, 8, 2048)
    assert (ds.n_shared_experts, ds.first_k_dense_replace, ds.intermediate_size) == (1, 3, 18432)
    assert ds.num_nextn_predict_layers == 1
    assert (ds.num_hidden_layers, ds.hidden_size, ds.vocab_size) == (61, 7168, 129280)


def test_gpt_oss_alternates_sliding_and_full_attention() -> None:
    oss = model("gpt-oss-120b")
    assert oss.sliding_window == 128
    assert oss.layer_types is not None and len(oss.layer_types) == 36
    assert list(oss.layer_types) == ["sliding_attention", "full_attention"] * 18
    assert (oss.num_local_experts, oss.num_experts_per_tok, oss.head_dim) == (128, 4, 64)


def test_qwen3_moe_experts() -> None:
    qwen = model("qwen3-235b-a22b")
    assert (qwen.num_local_experts, qwen.num_experts_per_tok, qwen.moe_intermediate_size) == (128, 8, 1536)
    assert (qwen.num_hidden_layers, qwen.kv_heads, qwen.head_width) == (94, 4, 128)


def test_llama_3_2_1b_ties_its_embeddings() -> None:
    assert model("llama-3.2-1b").tie_word_embeddings is True
    assert model("llama-3.1-8b").tie_word_embeddings is False


def _dense_or_mixtral_params(spec: ModelSpec) -> tuple[float, float]:
    """Matrix parameters (total, active) of a Llama-style model, from its config alone."""
    h, layers = spec.hidden_size, spec.num_hidden_layers
    attention = h * spec.head_width * (2 * spec.num_attention_heads + 2 * spec.kv_heads)
    mlp = 3 * h * spec.intermediate_size
    experts, k = (spec.num_local_experts, spec.num_experts_per_tok) if spec.is_moe else (1, 1)
    router = h * experts if spec.is_moe else 0
    embeddings = spec.vocab_size * h * (1 if spec.tie_word_embeddings else 2)
    total = embeddings + layers * (attention + router + experts * mlp)
    active = embeddings + layers * (attention + router + k * mlp)
    return total, active


@pytest.mark.parametrize(
    ("name", "total", "active"),
    [
        ("llama-2-7b", 6.74e9, 6.74e9),
        ("llama-2-13b", 13.0e9, 13.0e9),
        ("llama-2-70b", 69.0e9, 69.0e9),
        ("llama-3.1-8b", 8.03e9, 8.03e9),
        ("llama-3.1-70b", 70.6e9, 70.6e9),
        ("llama-3.1-405b", 405e9, 405e9),
        ("llama-3.2-1b", 1.24e9, 1.24e9),
        ("mixtral-8x7b", 46.7e9, 12.9e9),
    ],
)
def test_configs_reproduce_published_parameter_counts(name: str, total: float, active: float) -> None:
    """A mistyped width or layer count in the YAML moves the count by far more than 1%."""
    got_total, got_active = _dense_or_mixtral_params(model(name))
    assert got_total == pytest.approx(total, rel=0.01)
    assert got_active == pytest.approx(active, rel=0.01)


@pytest.mark.parametrize(
    ("name", "checkpoint_params"),
    [
        ("llama-2-7b", 6_738_415_616),
        ("llama-2-13b", 13_015_864_320),
        ("llama-2-70b", 68_976_648_192),
        ("llama-3.1-8b", 8_030_261_248),
        ("llama-3.1-70b", 70_553_706_496),
        ("llama-3.2-1b", 1_235_814_400),
    ],
)
def test_dense_configs_reproduce_checkpoint_parameter_counts_exactly(name: str, checkpoint_params: int) -> None:
    """Exact element counts of the released checkpoints (matrices plus the 2L+1 RMSNorm weight
    vectors): any change to any width, head count, layer count or vocabulary shows up here."""
    spec = model(name)
    total, _ = _dense_or_mixtral_params(spec)
    norms = (2 * spec.num_hidden_layers + 1) * spec.hidden_size
    assert total + norms == checkpoint_params


@pytest.mark.parametrize(
    ("name", "total", "active", "active_tolerance"),
    [
        # published totals within 2%; active counts within the stated share: publishers round, and
        # leave the input embedding (a row gather, not a matrix read) out of "active"
        ("qwen3.5-397b-a17b", 397e9, 17e9, 0.03),
        ("kimi-k2.5", 1.04e12, 32e9, 0.03),
        ("glm-4.7", 355e9, 32e9, 0.06),
        ("glm-5", 744e9, 40e9, 0.05),
        ("minimax-m2.5", 229e9, 10e9, 0.11),
        ("deepseek-v3.2", 671e9, 37e9, 0.04),
        ("deepseek-v4-flash", 284e9, 13e9, 0.07),
        ("deepseek-v4-pro", 1.6e12, 49e9, 0.02),
        ("gpt-oss-20b", 20.9e9, 3.6e9, 0.17),
        ("nemotron-nano-9b-v2", 8.89e9, 8.89e9, 0.01),
    ],
)
def test_moe_configs_reproduce_published_parameter_counts(name: str, total: float, active: float,
                                                          active_tolerance: float) -> None:
    from simdecode.costmodel.architecture import parameter_counts

    counts = parameter_counts(model(name))
    assert counts.total == pytest.approx(total, rel=0.02)
    assert counts.active == pytest.approx(active, rel=active_tolerance)


@pytest.mark.parametrize(("kind", "name"), [(k, n) for k in presets.KINDS for n in presets.names(k)])
def test_every_preset_carries_its_source(kind: str, name: str) -> None:
    """``simdecode presets`` prints each preset's source: every entry has one, and it names a
    document (an address, a paper, a datasheet), not a placeholder."""
    source = presets.source(kind, name)
    assert len(source) > 12
    assert "source" not in presets.preset(kind, name)  # kept out of the spec's keys


@pytest.mark.parametrize("name", presets.names("runtimes"))
def test_a_runtime_measured_on_one_gpu_names_a_gpu_preset(name: str) -> None:
    """``measured_on:`` says which GPU a runtime's kernel costs are measurements of; it must name a
    GPU preset (or be absent) and stays out of the runtime spec's keys."""
    on = presets.measured_on("runtimes", name)
    assert on == "" or on in presets.names("gpus")
    assert "measured_on" not in presets.preset("runtimes", name)


def test_kogs_stage_costs_are_marked_as_mi300x_measurements_and_no_other_runtime_is() -> None:
    measured = {n: presets.measured_on("runtimes", n) for n in presets.names("runtimes")}
    assert {n: on for n, on in measured.items() if on} == {"kog": "mi300x"}


def test_sram_chips_and_unified_memory_machines() -> None:
    groq, wafer = gpu("groq-lpu"), gpu("cerebras-wse3")
    assert groq.kind == wafer.kind == "sram"
    assert groq.memory_bytes == pytest.approx(220 * 2**20) and groq.memory_bandwidth_Bps == pytest.approx(80e12)
    assert wafer.memory_bytes == pytest.approx(44e9) and wafer.memory_bandwidth_Bps == pytest.approx(21e15)
    assert wafer.spatial and not groq.spatial
    for name in ("apple-m3-ultra", "apple-m4-max", "gb10", "strix-halo"):
        assert gpu(name).unified_memory
    # macOS wires about 75% of memory for the GPU by default
    m3 = gpu("apple-m3-ultra")
    assert m3.os_reserved_bytes == pytest.approx(0.25 * m3.memory_bytes)


# ---------------------------------------------------------------------------------------------
# unknown names


@pytest.mark.parametrize(
    ("kind", "typo", "suggestion"),
    [("gpus", "h100-sxn", "h100-sxm"), ("links", "nvlink-4", "nvlink4"), ("models", "llama-3.1-8", "llama-3.1-8b")],
)
def test_unknown_preset_raises_with_a_suggestion(kind: str, typo: str, suggestion: str) -> None:
    with pytest.raises(PresetError, match=rf"did you mean '{re.escape(suggestion)}'"):
        presets.preset(kind, typo)


def test_an_unknown_model_says_how_to_describe_any_other_model() -> None:
    with pytest.raises(PresetError, match=r"hf_config: path/to/config.json") as info:
        presets.preset("models", "kimi-k3")
    assert "huggingface.co" in str(info.value)
    with pytest.raises(PresetError) as gpu_error:  # the hint is for models only
        presets.preset("gpus", "h300")
    assert "hf_config" not in str(gpu_error.value)


def test_a_hybrid_linear_attention_config_json_reads_its_layer_mix(tmp_path) -> None:
    """A Qwen3.5-style config.json (text_config nested, linear_* keys, layer_types) becomes a
    model with 3 linear-attention layers per full-attention layer and no KV in the former."""
    import json

    from simdecode.costmodel.architecture import kv_bytes_per_token

    text = {key: value for key, value in presets.preset("models", "qwen3.5-397b-a17b").items()
            if key not in ("name", "n_shared_experts", "full_attention_interval", "native_precision")}
    text["layer_types"] = (["linear_attention"] * 3 + ["full_attention"]) * 15
    text["mtp_num_hidden_layers"] = 1  # a key simdecode does not know: dropped
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "qwen3_5_moe", "text_config": text}))
    spec = ModelSpec.model_validate(presets.resolve("models", {"hf_config": "config.json"},
                                                    {"base_dir": str(tmp_path)}))
    assert spec.layer_type(0) == "linear_attention" and spec.layer_type(3) == "full_attention"
    assert kv_bytes_per_token(spec, 2.0) == 30_720


# ---------------------------------------------------------------------------------------------
# a preset may start from another (base:)


def test_trtllm_serve_is_trt_llm_with_the_pytorch_backends_gemms_and_graphs() -> None:
    """trtllm-serve (TensorRT-LLM's PyTorch backend) is written as ``base: trt-llm`` plus two keys: its
    fp8 GEMMs stream at the Hopper cuBLASLt share (costmodel/gemm_stream.py) and its CUDA graphs hold
    decode steps only. Every other key is trt-llm's, so a change there reaches both."""
    from simdecode.costmodel.gemm_stream import HOPPER_FP8_GEMM_STREAM_SHARE
    from simdecode.scenario.hardware import RuntimeSpec

    serve, trt = presets.preset("runtimes", "trtllm-serve"), presets.preset("runtimes", "trt-llm")
    assert {k: v for k, v in serve.items() if k not in ("name", "gemm_efficiency", "prefill_graph_tokens")} == \
        {k: v for k, v in trt.items() if k != "name"}
    assert serve["gemm_efficiency"] == HOPPER_FP8_GEMM_STREAM_SHARE and serve["prefill_graph_tokens"] == 0
    assert "gemm_efficiency" not in trt and "prefill_graph_tokens" not in trt  # NIM's C++ executor
    spec = RuntimeSpec.model_validate(serve)
    assert (spec.name, spec.engine) == ("trtllm-serve", "trt-llm")
    assert presets.base("runtimes", "trtllm-serve") == "trt-llm" and presets.base("runtimes", "trt-llm") == ""
    assert "base" not in serve and presets.source("runtimes", "trtllm-serve") != presets.source("runtimes", "trt-llm")


def test_a_base_chain_resolves_in_order() -> None:
    entries = {"a": {"x": 1, "y": 1, "z": 1}, "b": {"base": "a", "y": 2}, "c": {"base": "b", "z": 3}}
    resolved = presets.inherit("runtimes", entries)
    assert resolved["c"] == {"x": 1, "y": 2, "z": 3}
    assert resolved["b"] == {"x": 1, "y": 2, "z": 1}
    assert resolved["a"] == entries["a"] and entries["c"] == {"base": "b", "z": 3}  # the input is left as written


def test_an_unknown_base_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(PresetError, match=r"runtimes\.yaml: preset 'serve': base 'trt-lm' is not a runtime preset; "
                                          r"did you mean 'trt-llm'\?"):
        presets.inherit("runtimes", {"trt-llm": {"x": 1}, "serve": {"base": "trt-lm"}})
    with pytest.raises(PresetError, match="base 3 is not a runtime preset"):
        presets.inherit("runtimes", {"a": {"base": 3}})


@pytest.mark.parametrize(("entries", "loop"), [
    ({"a": {"base": "a"}}, "'a' -> 'a'"),
    ({"a": {"base": "b"}, "b": {"base": "a"}}, "'a' -> 'b' -> 'a'"),
    ({"a": {"x": 1}, "b": {"base": "c"}, "c": {"base": "d"}, "d": {"base": "b"}}, "'b' -> 'c' -> 'd' -> 'b'"),
])
def test_a_cycle_of_bases_is_an_error(entries, loop: str) -> None:
    with pytest.raises(PresetError, match=re.escape(f"runtimes.yaml: base keys form a cycle: {loop}")):
        presets.inherit("runtimes", entries)


def test_a_base_passes_on_where_its_costs_were_measured_not_its_source() -> None:
    entries = {"kog": {"x": 1}, "kog-h200": {"base": "kog", "x": 2}, "again": {"base": "kog-h200"},
               "own": {"base": "kog"}}
    meta = {"kog": {"source": "blog", "measured_on": "mi300x"}, "kog-h200": {"source": "port", "measured_on": ""},
            "again": {"source": "", "measured_on": ""}, "own": {"source": "", "measured_on": "h200"}}
    out = presets.inherit_meta(entries, meta)
    assert out["kog-h200"] == {"source": "port", "measured_on": "mi300x", "base": "kog"}
    assert out["again"]["measured_on"] == "mi300x" and out["again"]["source"] == ""   # through two bases
    assert out["own"]["measured_on"] == "h200"                                         # stated: kept
    assert out["kog"] == {"source": "blog", "measured_on": "mi300x", "base": ""}
    assert presets.measured_on("runtimes", "trtllm-serve") == presets.measured_on("runtimes", "trt-llm") == ""
