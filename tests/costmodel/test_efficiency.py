"""Shape-dependent efficiency (costmodel/efficiency.py): per-kernel fixed costs, thin tensor-core
tiles, dequantisation of weight-only formats; and the kernels an MLA + MoE layer launches.

Sources: vLLM fused-MoE benchmark on H100 (PR #24700: 26.6 us + 1.73 us per active expert);
vLLM/SGLang fused_moe configs (BLOCK_SIZE_M 16 at small batch); Marlin (arXiv 2408.11743) and
gpt-fast's README (int8 1069 GB/s, int4 863 GB/s vs bf16 1397 GB/s on A100); TensorRT-LLM's
DeepSeek-R1 blog (the kernels of one MLA + MoE layer).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel import efficiency as eff
from simdecode.costmodel import mla, moe
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan
from simdecode.scenario.schema import Scenario


def dep(model: str, gpu: str, tp: int, runtime: str = "default", **precision) -> Deployment:
    return Deployment.from_scenario(Scenario.model_validate({
        "model": model, "hardware": {"gpu": gpu}, "parallelism": {"tp": tp}, "runtime": runtime,
        "precision": precision or {"weights": "bf16"}}))


def test_padded_rows_and_tile_share() -> None:
    assert [eff.padded_rows(r) for r in (0, 1, 15, 16, 17, 100)] == [0, 16, 16, 16, 32, 112]


def test_dequant_seconds_by_hand() -> None:
    # 8.6e9 int8 weights (Llama-2-70B / 8), 2 instructions each at 19.5e12 / 2 instructions/s (A100)
    assert eff.dequant_seconds(8.6e9, 19.5e12) == pytest.approx(8.6e9 * 2 / 9.75e12)   # 1.764 ms
    assert eff.dequant_seconds(8.6e9, 19.5e12) == pytest.approx(1.764e-3, rel=1e-3)


def test_marlin_fp4_decode_by_hand() -> None:
    # vLLM marlin dequant<nv_bfloat162, kFE2M1f>: 7 INT32 instructions per call of 4 values
    assert eff.FP4_DEQUANT_INT_OPS_PER_WEIGHT == 7 / 4
    # one gpt-oss-120b expert at tp 2: 3 * 2880 * 2880 / 2 = 12,441,600 weights; an H100's 67 TFLOP/s of
    # FP32 = 33.5e12 FP32 lanes/s, half of that in INT32 lanes = 16.75e12/s, at vLLM's 0.55: 9.21e12/s
    weights = 3 * 2880 * 2880 / 2
    assert eff.fp4_dequant_seconds(weights, 67e12, 0.55) == pytest.approx(12_441_600 * 1.75 / 9.2125e12)
    assert eff.fp4_dequant_seconds(weights, 67e12, 0.55) == pytest.approx(2.363e-6, rel=1e-3)
    # the same expert's 6.6 MB of MXFP4 (0.53125 B per value) streams in 1.96 us at 0.7 x 4.8 TB/s (H200)
    # and 2.82 us at 0.7 x 3.35 TB/s (H100): on an H200 the integer pipe, not HBM, bounds it
    assert weights * 0.53125 / (0.7 * 4.8e12) < eff.fp4_dequant_seconds(weights, 67e12, 0.55) \
        < weights * 0.53125 / (0.7 * 3.35e12)


def test_mxfp4_experts_on_hopper_charge_marlins_decode_not_the_generic_one() -> None:
    from simdecode.costmodel import modules

    h200 = dep("gpt-oss-120b", "h200", 2, runtime="vllm", experts="mxfp4", weights="bf16")
    parts = [p for p in modules.mlp_parts(h200, 0, BatchShape.decode([1000] * 32)) if p.term == "experts"]
    union = 128 * (1 - (1 - 4 / 128) ** 32)               # 81.6 experts of 12,441,600 weights per GPU
    assert parts[0].dequant_s == pytest.approx(union * eff.fp4_dequant_seconds(12_441_600, 67e12, 0.55))
    # int8 weight-only keeps the generic two-instruction decode (gpt-fast's evidence)
    a100 = dep("llama-2-7b", "a100-80gb", 1, runtime="vllm", weights="int8")
    mlp = [p for p in modules.mlp_parts(a100, 0, BatchShape.decode([100])) if p.term == "mlp"][0]
    assert mlp.dequant_s == pytest.approx(eff.dequant_seconds(3 * 4096 * 11008, 19.5e12))
    # on a B200 (fp4 tensor cores) MXFP4 is not weight-only: nothing to decode
    b200 = dep("gpt-oss-120b", "b200", 2, runtime="vllm", experts="mxfp4", weights="bf16")
    assert all(p.dequant_s == 0 for p in modules.mlp_parts(b200, 0, BatchShape.decode([1000] * 32)))


def test_overlapped_dequant_hides_behind_the_stream_serial_adds() -> None:
    part = eff.Part("mlp", hbm_bytes=1e9, flops=0.0, kernels=3, flops_per_s=1e15, peak_flops_per_s=1e15,
                    dequant_s=2e-4)
    # 1 GB at 2 TB/s = 500 us; 3 kernels at 3 us = 9 us
    assert eff.part_seconds(part, 2e12, 3e-6, overlap=True) == pytest.approx((5e-4, 9e-6))
    assert eff.part_seconds(part, 2e12, 3e-6, overlap=False) == pytest.approx((7e-4, 9e-6))
    slow = eff.Part("mlp", 1e8, 0.0, 1, 1e15, 1e15, dequant_s=2e-4)       # 50 us of bytes < 200 us of dequant
    assert eff.part_seconds(slow, 2e12, 0.0, overlap=True)[0] == pytest.approx(2e-4)


def test_the_decode_decides_a_parts_time_only_when_it_outlasts_the_roofline() -> None:
    """explain's FP4-decode row (efficiency.dequant_bound_seconds). One gpt-oss-120b expert at tp 2:
    12,441,600 e2m1 weights, 6.6 MB, decoded in 12,441,600 x 7/4 / (67e12 / 2 x 0.5 x 0.55) = 2.363 us;
    streamed in 6.6e6 / (0.81 x 4.8e12) = 1.70 us on an H200 and 6.6e6 / (0.81 x 3.35e12) = 2.43 us on
    an H100."""
    decode = eff.fp4_dequant_seconds(12_441_600, 67e12, 0.55)
    part = eff.Part("experts", hbm_bytes=6.6e6, flops=0.0, kernels=2, flops_per_s=1e15, peak_flops_per_s=1e15,
                    dequant_s=decode)
    assert eff.dequant_bound_seconds(part, 0.81 * 4.8e12) == pytest.approx(2.363e-6, rel=1e-3)   # H200: decode binds
    assert eff.dequant_bound_seconds(part, 0.81 * 3.35e12) == 0.0                                # H100: the stream
    # without overlap (gpt-fast) the decode adds, whatever the stream: all of dequant_s is its own
    assert eff.dequant_bound_seconds(part, 0.81 * 3.35e12, overlap=False) == decode
    assert eff.dequant_bound_seconds(eff.Part("mlp", 6.6e6, 0.0, 2, 1e15, 1e15), 1e12) == 0.0


def test_vllm_fused_moe_benchmark_shape() -> None:
    # The H100 benchmark behind the vllm preset: batch 1, 8 experts of 4.72 MB (Qwen3-30B-A3B fp8:
    # 3 * 2048 * 768 B); 8 kernels at 3.3 us + 37.7 MB at 81% of 3.35 TB/s = 26.4 + 13.9 = 40.3 us
    # (measured 40.4 us). At 37.7 MB the bandwidth reached is 37.7 MB / 40.3 us = 0.94 TB/s, 28% of peak.
    nbytes = 8 * 3 * 2048 * 768
    t = nbytes / (0.81 * 3.35e12) + 8 * 3.3e-6
    assert t == pytest.approx(40.4e-6, rel=0.01)
    assert eff.achieved_bandwidth_Bps(nbytes, 8, 0.81 * 3.35e12, 3.3e-6) == pytest.approx(nbytes / t)


@given(small=st.floats(1e3, 1e9), factor=st.floats(1.01, 100), kernels=st.integers(1, 50))
def test_bigger_matrices_reach_more_of_the_bandwidth(small: float, factor: float, kernels: int) -> None:
    bw, t = 3e12, 3e-6
    a = eff.achieved_bandwidth_Bps(small, kernels, bw, t)
    b = eff.achieved_bandwidth_Bps(small * factor, kernels, bw, t)
    assert a < b < bw


def test_deepseek_v3_layer_kernel_counts_follow_the_architecture() -> None:
    # trt-llm: 10 kernels per dense GQA layer (5 + 5). DeepSeek-V3's MLA adds 4 (TRT-LLM's 8 attention
    # kernels vs GQA's 4) and its MoE block adds router GEMM + top-k + permute + unpermute (4) and one
    # shared expert's 3: attention 9, dense MLP 5, MoE 12; at tp 8 each module's norm runs inside
    # TensorRT-LLM's fused all-reduce (trtllm_allreduce.norm_kernels_fused): 8, 4, 11. One step:
    # 61 * 8 + 3 * 4 + 58 * 11 + embedding 1 + LM head and sampler 2 = 1,141 kernels.
    d = dep("deepseek-v3", "b200", 8, runtime="trt-llm", weights="nvfp4", attention="bf16")
    assert mla.EXTRA_KERNELS == 4 and moe.ROUTING_KERNELS + moe.PERMUTE_KERNELS == 4
    plan = build_stage_plan(d, 0, BatchShape.decode([1024]))
    kernels = fold(plan).launch_s / d.rates.kernel_s
    assert kernels == pytest.approx(61 * 8 + 3 * 4 + 58 * 11 + 1 + 2)
    # a dense Llama layer under the same runtime: 10 per layer, 32 layers + 3
    llama = dep("llama-2-7b", "h100-sxm", 1, runtime="trt-llm")
    assert fold(build_stage_plan(llama, 0, BatchShape.decode([10]))).launch_s / llama.rates.kernel_s == \
        pytest.approx(32 * 10 + 3)


def test_block_scaled_fp8_quantises_every_gemm_input_in_a_kernel_of_its_own() -> None:
    # DeepSeek-V3's own fp8 checkpoint (128 x 128 weight blocks) on 8 x H200 under TRT-LLM: each fp8
    # GEMM's bf16 input is quantised per 1 x 128 group first (fp8_quantize_1x128 before
    # fp8_block_scaling_gemm). MLA: fused_qkv_a, q_b, o_proj (3; W_UK/W_UV are bf16 batched GEMMs);
    # dense MLP: gate+up, down (2); MoE: the two grouped GEMMs (2) and the shared expert's two (2).
    # Attention 9 + 3 = 12, dense MLP 5 + 2 = 7, MoE 12 + 4 = 16, each less the norm TensorRT-LLM runs
    # inside its fused all-reduce at tp 8 (1): 61 * 11 + 3 * 6 + 58 * 15 + 3 = 1,562
    d = dep("deepseek-v3", "h200", 8, runtime="trt-llm", weights="fp8")  # as the checkpoint ships
    assert d.precision.block_scaled == ("attention", "mlp", "experts")
    assert mla.QUANTISED_GEMMS == 3 and moe.GROUPED_GEMMS == 2
    plan = build_stage_plan(d, 0, BatchShape.decode([1024] * 4))
    assert fold(plan).launch_s / d.rates.kernel_s == pytest.approx(61 * 11 + 3 * 6 + 58 * 15 + 3)
    # the same checkpoint on an A100 (no fp8 tensor cores: W8A16, dequantised in the GEMM): 1,141
    a100 = dep("deepseek-v3", "a100-80gb", 8, runtime="trt-llm", weights="fp8")
    assert fold(build_stage_plan(a100, 0, BatchShape.decode([1024] * 4))).launch_s / a100.rates.kernel_s == \
        pytest.approx(61 * 8 + 3 * 4 + 58 * 11 + 3)


def test_grouped_expert_gemms_stream_at_the_runtimes_measured_share() -> None:
    # vLLM's fused_moe on H100 (PR #24700): 1.73 us per active 4.7 MB expert = 2.72 TB/s of 3.35 = 0.81,
    # the vllm and sglang presets' grouped_gemm_efficiency. DeepSeek-V3 fp8 on 8 x H200 under SGLang,
    # 4 tokens: E[distinct] = 256 (1 - (1 - 8/256)^4) = 30.53 experts of 3 * 7168 * 2048 / 8 weights
    # at 1 + 4 / 128^2 B each, read at 0.81 * 4.8 TB/s
    from simdecode.costmodel import modules

    assert 4.7e6 / 1.73e-6 / 3.35e12 == pytest.approx(0.81, abs=0.005)
    d = dep("deepseek-v3", "h200", 8, runtime="sglang", weights="fp8")
    experts = [p for p in modules.mlp_parts(d, 3, BatchShape.decode([10] * 4)) if p.term == "experts"]
    routed, shared = experts
    assert routed.memory_efficiency == 0.81 and shared.memory_efficiency is None  # the shared one is a dense MLP
    distinct = 256 * (1 - (1 - 8 / 256) ** 4)
    nbytes = distinct * 3 * 7168 * 2048 / 8 * (1 + 4 / 128 ** 2)
    assert routed.hbm_bytes == pytest.approx(nbytes)
    op = build_stage_plan(d, 0, BatchShape.decode([10] * 4)).costs["mlp.moe"]
    busy = dict((t, b) for t, b, _ in op.terms)["experts"]
    shared_s = shared.hbm_bytes / (0.7 * 4.8e12)
    assert busy == pytest.approx(nbytes / (0.81 * 4.8e12) + shared_s, rel=1e-6)
    # MXFP4 experts on Hopper run Marlin's pipelined W4A16 kernel: the same stream share, its decode
    # bounded on its own; a runtime that decodes after the stream (gpt-fast) keeps memory_efficiency
    gpt = Deployment.from_scenario(Scenario.model_validate(
        {"model": "gpt-oss-120b", "hardware": {"gpu": "h200"}, "runtime": "vllm"}))
    assert moe.grouped_gemm_efficiency(gpt) == 0.81
    serial = Deployment.from_scenario(Scenario.model_validate(
        {"model": "gpt-oss-120b", "hardware": {"gpu": "h200"},
         "runtime": {"preset": "vllm", "dequant_overlap": False}}))
    assert moe.grouped_gemm_efficiency(serial) is None
    # a runtime without the figure keeps its memory_efficiency
    assert moe.grouped_gemm_efficiency(dep("deepseek-v3", "h200", 8, runtime="trt-llm", weights="fp8")) is None


def test_weight_only_int4_pays_dequant_and_bf16_math() -> None:
    # Llama-2-7B int4 g32 on one A100 with gpt-fast (serial dequant): the MLP of one layer holds
    # 3 * 4096 * 11008 = 135,266,304 weights: 0.625 B each = 84.5 MB; dequant 2 instr each at 9.75e12/s.
    d = dep("llama-2-7b", "a100-80gb", 1, runtime="gpt-fast", weights="int4", group_size=32)
    from simdecode.costmodel import modules

    (part,) = [p for p in modules.mlp_parts(d, 0, BatchShape.decode([10])) if p.term == "mlp"]
    assert part.hbm_bytes == pytest.approx(135_266_304 * 0.625)
    assert part.dequant_s == pytest.approx(135_266_304 * 2 / 9.75e12)
    assert part.peak_flops_per_s == 312e12                                  # bf16 tensor cores


def test_thin_expert_rows_run_at_their_share_of_the_tile() -> None:
    # DeepSeek-V3 fp8 on H200, 4 decoding tokens: 4 * 8 = 32 rows over E[distinct] = 30.53 experts,
    # 1.048 rows each, so the grouped GEMM's math runs at 1.048 / 16 of 1979 TFLOP/s * 0.449: DeepGEMM's
    # share at 256 rows per expert and below (costmodel/grouped_gemm_rate.py), under vllm's 0.55
    from simdecode.costmodel import modules

    d = dep("deepseek-v3", "h200", 8, runtime="vllm", weights="fp8")
    experts = [p for p in modules.mlp_parts(d, 3, BatchShape.decode([10] * 4)) if p.term == "experts"][0]
    distinct = 256 * (1 - (1 - 8 / 256) ** 4)
    share = 1 / (2 / 3 / 932 + 1 / 3 / 815) * 1e12 / 1979e12
    assert experts.flops_per_s == pytest.approx(1979e12 * share * (32 / distinct) / 16, rel=1e-9)
    assert experts.peak_flops_per_s == 1979e12


def test_mxfp4_experts_on_hopper_are_bound_by_marlins_integer_pipe() -> None:
    # gpt-oss-120b on one H200 (vllm: dequant_overlap true), one token: 4 experts of 3 * 2880 * 2880
    # weights = 99.5M weights at 0.53125 B = 52.9 MB (15.8 us at 0.7 * 4.8 TB/s); Marlin decodes them
    # with 7/4 INT32 instructions each at 67e12 / 4 * 0.55 = 9.21e12 per second: 18.9 us, longer than
    # the stream, so the part takes the decode's time (max of the two: the kernel overlaps them)
    from simdecode.costmodel import modules

    d = Deployment.from_scenario(Scenario.model_validate(
        {"model": "gpt-oss-120b", "hardware": {"gpu": "h200"}, "runtime": "vllm"}))   # native precision
    assert d.precision.experts == "mxfp4" and d.precision.attention == "bf16"
    experts = [p for p in modules.mlp_parts(d, 0, BatchShape.decode([10])) if p.term == "experts"][0]
    weights = 4 * 3 * 2880 * 2880
    assert experts.hbm_bytes == pytest.approx(weights * 0.53125)
    assert experts.dequant_s == pytest.approx(weights * 1.75 / (67e12 / 4 * 0.55))
    assert experts.dequant_s == pytest.approx(18.91e-6, rel=1e-3)
    assert experts.memory_efficiency == 0.81                # Marlin streams at the grouped-GEMM share
    busy, _ = eff.part_seconds(experts, 0.81 * 4.8e12, d.rates.kernel_s, d.runtime.dequant_overlap)
    assert weights * 0.53125 / (0.81 * 4.8e12) < busy == pytest.approx(experts.dequant_s)
    # on an H100 the same 52.9 MB stream in 52.9e6 / (0.81 * 3.35e12) = 19.5 us, just over the 18.9 us
    # decode: the two GPUs take within 3% of each other, where bandwidth alone would give 43%
    h100 = Deployment.from_scenario(Scenario.model_validate(
        {"model": "gpt-oss-120b", "hardware": {"gpu": "h100-sxm"}, "runtime": "vllm"}))
    e100 = [p for p in modules.mlp_parts(h100, 0, BatchShape.decode([10])) if p.term == "experts"][0]
    busy100, _ = eff.part_seconds(e100, 0.81 * 3.35e12, h100.rates.kernel_s, True)
    assert busy100 == pytest.approx(weights * 0.53125 / (0.81 * 3.35e12)) == pytest.approx(19.49e-6, rel=1e-3)
    assert busy100 / busy < 1.04


@given(attention=st.sampled_from(["bf16", "fp8", "nvfp4", "int4"]), experts=st.sampled_from(["bf16", "fp8", "mxfp4",
       "int8"]), gpu=st.sampled_from(["h100-sxm", "b200", "a100-80gb"]), batch=st.integers(1, 64))
def test_no_precision_mix_beats_the_roofline(attention: str, experts: str, gpu: str, batch: int) -> None:
    d = Deployment.from_scenario(Scenario.model_validate({
        "model": "mixtral-8x7b", "hardware": {"gpu": {"preset": gpu, "memory": "1 TB"}}, "parallelism": {"tp": 2},
        "precision": {"weights": "bf16", "attention": attention, "experts": experts}}))
    f = fold(build_stage_plan(d, 0, BatchShape.decode([500] * batch)))
    assert f.makespan_s >= f.ideal_s > 0


def test_fp4_decode_runs_at_the_gpus_int32_lanes_a100_twice_hopper():
    """Marlin's e2m1 decode (7 INT32 instructions per 4 weights) on the integer pipe: Hopper has 64 INT32
    of 128 FP32 lanes per SM, A100 64 of 64 (A100 whitepaper). One gpt-oss expert at tp 2, 12,441,600
    weights, at 19.5 TFLOP/s FP32 and compute efficiency 0.55: A100 12,441,600 * 1.75 / (9.75e12 * 1.0 *
    0.55) = 4.06 us; the same vector rate at Hopper's share takes twice that, 8.12 us."""
    from simdecode.costmodel.efficiency import fp4_dequant_seconds
    from simdecode.presets import preset
    from simdecode.scenario.hardware import GpuSpec

    a100 = GpuSpec.model_validate(preset("gpus", "a100-80gb"))
    h100 = GpuSpec.model_validate(preset("gpus", "h100-sxm"))
    assert (a100.int32_share, h100.int32_share) == (1.0, 0.5)
    t_a100 = fp4_dequant_seconds(12_441_600, 19.5e12, 0.55, a100.int32_share)
    assert t_a100 == pytest.approx(4.06e-6, rel=1e-3)
    assert fp4_dequant_seconds(12_441_600, 19.5e12, 0.55, h100.int32_share) == pytest.approx(2 * t_a100)


def test_marlin_passes_one_per_64_rows() -> None:
    # vLLM fused_marlin_moe's largest block_size_m is 64; more rows run the 64-row kernel again
    assert [eff.marlin_passes(r) for r in (None, 0, 1, 29, 64, 65, 128, 256, 8192)] == [1, 1, 1, 1, 1, 2, 2, 4, 128]


def test_hopper_presets_reach_two_thirds_of_the_peak_with_mma_sync() -> None:
    from simdecode.presets import preset
    from simdecode.scenario.hardware import GpuSpec

    shares = {g: GpuSpec.model_validate(preset("gpus", g)).warp_mma_share
              for g in ("h100-sxm", "h100-pcie", "h200", "h20", "h800", "a100-80gb", "l40s", "b200")}
    assert shares == {"h100-sxm": 0.667, "h100-pcie": 0.667, "h200": 0.667, "h20": 0.667, "h800": 0.667,
                      "a100-80gb": 1.0, "l40s": 1.0, "b200": 1.0}


def test_mxfp4_experts_at_prefill_run_marlins_mma_sync_after_its_decode_per_64_rows() -> None:
    # gpt-oss-120b at tp 2 on an H100 under vLLM, an 8,192-token prefill: 8192 * 4 / 128 = 256 rows for each
    # of the 128 experts (all of them active). Per GPU an expert holds 3 * 2880 * 2880 / 2 = 12,441,600 weights.
    # Math: 2 * 12,441,600 * 8192 * 4 = 815.4 GFLOP at 989e12 * 0.55 * 0.667 = 362.8 TFLOP/s = 2.248 ms
    # (1.499 ms at the wgmma rate). Decode: ceil(256 / 64) = 4 passes of 128 * 12,441,600 * 1.75 /
    # (67e12 / 4 * 0.55) = 4 * 302.4 us = 1.210 ms, in series with the math: 3.458 ms.
    from simdecode.costmodel import modules

    d = Deployment.from_scenario(Scenario.model_validate(
        {"model": "gpt-oss-120b", "hardware": {"gpu": "h100-sxm"}, "runtime": "vllm", "parallelism": {"tp": 2}}))
    shape = BatchShape.mixed([(0, 8192, True)], d.window)
    experts = [p for p in modules.mlp_parts(d, 0, shape) if p.term == "experts"][0]
    per_expert = 3 * 2880 * 2880 / 2
    assert experts.flops == pytest.approx(2 * per_expert * 8192 * 4)
    assert experts.flops_per_s == pytest.approx(989e12 * 0.55 * 0.667)
    assert experts.flops / experts.flops_per_s == pytest.approx(2.248e-3, rel=1e-3)
    one_pass = 128 * per_expert * 1.75 / (67e12 / 4 * 0.55)
    assert one_pass == pytest.approx(302.4e-6, rel=1e-3)
    # 256 rows is past one 16-row MMA block: the math is issued in series with the decode (sglang PR #38884)
    assert experts.dequant_s == pytest.approx(4 * one_pass) and experts.math_in_series
    assert eff.dequant_bound_seconds(experts, 0.81 * 3.35e12) == pytest.approx(4 * one_pass)  # the decode's share
    busy, _ = eff.part_seconds(experts, 0.81 * 3.35e12, d.rates.kernel_s, True)
    assert busy == pytest.approx(2.248e-3 + 1.210e-3, rel=1e-3)
    # at decode (one token: 4 rows) nothing changes: one pass, and the math is not what binds
    dec = [p for p in modules.mlp_parts(d, 0, BatchShape.decode([10])) if p.term == "experts"][0]
    assert dec.dequant_s == pytest.approx(4 * per_expert * 1.75 / (67e12 / 4 * 0.55))


def test_mma_sync_share_only_touches_marlins_fp4_parts() -> None:
    # the same H100 deployment's bf16 attention (cuBLAS/FA3, wgmma) keeps the full rate; on an A100
    # (mma.sync is its native instruction) the FP4 experts keep it too
    from simdecode.costmodel import modules

    h100 = Deployment.from_scenario(Scenario.model_validate(
        {"model": "gpt-oss-120b", "hardware": {"gpu": "h100-sxm"}, "runtime": "vllm", "parallelism": {"tp": 2}}))
    shape = BatchShape.mixed([(0, 1024, True)], h100.window)
    attn = modules.attention_parts(h100, 1, shape)[0]
    assert attn.flops_per_s == pytest.approx(989e12 * 0.55)
    a100 = Deployment.from_scenario(Scenario.model_validate(
        {"model": "gpt-oss-120b", "hardware": {"gpu": "a100-80gb"}, "runtime": "vllm", "parallelism": {"tp": 2}}))
    experts = [p for p in modules.mlp_parts(a100, 0, shape) if p.term == "experts"][0]
    e100 = [p for p in modules.mlp_parts(h100, 0, shape) if p.term == "experts"][0]
    # the same tile share on both (the rows per expert do not depend on the GPU): Hopper's is 0.667 of A100's
    assert experts.flops_per_s / (312e12 * 0.55) == pytest.approx(e100.flops_per_s / (989e12 * 0.55) / 0.667)
    assert experts.flops_per_s <= 312e12 * 0.55


def test_marlin_math_adds_to_its_decode_only_past_one_16_row_block() -> None:
    # one MMA block (at most 16 rows: decode) keeps max(stream, math, decode); more rows add math and decode
    assert [eff.marlin_math_in_series(r) for r in (None, 0, 1, 16, 16.01, 17, 64, 8192)] == \
        [False, False, False, False, True, True, True, True]


def test_marlin_prefill_layer_against_sglang_pr_38884_h100_profile() -> None:
    # sgl-project/sglang PR #38884, nsys of SGLang's Marlin W4A16 MoE on an H100: DeepSeek-V4-Flash's MXFP4 experts
    # (hidden 4096, intermediate 2048, 256 experts, top 6) split 4 ways, 16,384-token chunks: 384 rows per expert;
    # "1.237 TFLOP per layer per GPU in 4.863 ms", "reading 856 MB/layer". Per GPU: 256 / 4 x 3 x 4096 x 2048 =
    # 1.6106e9 weights (x 0.53125 B = 855.6 MB). Decode: ceil(384 / 64) = 6 passes x 1.6106e9 x 1.75 /
    # (67e12 / 4 x 0.55) = 1.836 ms; math 1.2369e12 / (989e12 x 0.55 x 0.667) = 3.409 ms; in series 5.245 ms,
    # +7.9% over the measurement (the overlapped max, 3.409 ms, was 29.9% under it).
    d = Deployment.from_scenario(Scenario.model_validate(
        {"model": "gpt-oss-120b", "hardware": {"gpu": "h100-sxm"}, "runtime": "sglang", "parallelism": {"tp": 2}}))
    weights = 256 / 4 * 3 * 4096 * 2048
    flops = 16384 * 6 * 3 * 4096 * 2048 * 2 / 4
    assert weights * 0.53125 == pytest.approx(855.6e6, rel=1e-3) and flops == pytest.approx(1.237e12, rel=1e-3)
    part = d.part("experts", weights, weights * 0.53125, flops, 2, "experts", rows=16384 * 6 / 256)
    decode = 6 * weights * 1.75 / (67e12 / 4 * 0.55)
    assert decode == pytest.approx(1.836e-3, rel=1e-3)
    assert flops / part.flops_per_s == pytest.approx(3.409e-3, rel=1e-3)
    busy, _ = eff.part_seconds(part, 0.81 * 3.35e12, d.rates.kernel_s, True)
    assert busy == pytest.approx(5.245e-3, rel=1e-3)
    assert busy / 4.863e-3 - 1 == pytest.approx(0.079, abs=0.002)


@given(rows=st.floats(min_value=0.5, max_value=4096))
def test_marlin_series_never_shortens_a_part_and_adds_exactly_its_math(rows: float) -> None:
    d = Deployment.from_scenario(Scenario.model_validate(
        {"model": "gpt-oss-120b", "hardware": {"gpu": "h200"}, "runtime": "vllm", "parallelism": {"tp": 2}}))
    w = 3 * 2880 * 2880 / 2
    part = d.part("experts", w, w * 0.53125, 2 * w * rows, 2, "experts", rows=rows)
    decode = eff.marlin_passes(rows) * eff.fp4_dequant_seconds(w, 67e12, 0.55, 0.5)
    math = part.flops / part.flops_per_s
    assert part.dequant_s == pytest.approx(decode) and part.math_in_series == (rows > 16)
    stream = part.hbm_bytes / (0.81 * 4.8e12)
    busy, _ = eff.part_seconds(part, 0.81 * 4.8e12, d.rates.kernel_s, True)
    assert busy >= max(stream, math, decode) * (1 - 1e-12)
    assert busy == pytest.approx(max(stream, math + decode) if rows > 16 else max(stream, math, decode))
    # explain's share of it that the decode decides never exceeds the decode itself
    assert 0.0 <= eff.dequant_bound_seconds(part, 0.81 * 4.8e12) <= decode * (1 + 1e-12)


def test_only_the_routed_experts_marlin_kernel_runs_its_math_in_series() -> None:
    # the measurement behind it is fused_marlin_moe's (sglang PR #38884); a dense Marlin GEMM (an FP4 dense
    # layer, a shared expert) at 64 rows keeps max(stream, math, decode): not measured
    d = Deployment.from_scenario(Scenario.model_validate(
        {"model": "llama-3.1-70b", "hardware": {"gpu": "h100-sxm"}, "runtime": "vllm", "parallelism": {"tp": 8},
         "precision": {"weights": "fp4"}}))
    w = 8192 * 8192
    dense = d.part("mlp", w, w * 0.5625, 2 * w * 64, 2, "mlp", rows=64)
    routed = d.part("experts", w, w * 0.5625, 2 * w * 64, 2, "experts", rows=64)
    assert dense.dequant_s == pytest.approx(routed.dequant_s) and dense.dequant_s > 0
    assert routed.math_in_series and not dense.math_in_series


def test_h20_decodes_fp4_on_its_own_cuda_cores_not_a_fraction_of_its_throttled_tensor_rate() -> None:
    """H20's export cap throttles the tensor cores (148 TFLOP/s bf16), not the CUDA cores: its preset
    states 44 TFLOP/s FP32 (spec sheet as quoted, 78 SMs), so Marlin's e2m1 decode of one gpt-oss
    expert at tp 2 (12,441,600 weights) under vLLM (0.55) takes by hand
    12,441,600 * 7/4 / (44e12 / 2 * 0.5 * 0.55) = 21,772,800 / 6.05e12 = 3.599 us,
    not the 17.1 us the bf16 / 16 fallback (9.25 TFLOP/s) would charge."""
    from simdecode.presets import preset
    from simdecode.scenario.hardware import GpuSpec

    h20 = GpuSpec.model_validate(preset("gpus", "h20"))
    assert h20.vector_flops_per_s == pytest.approx(44e12)
    t = eff.fp4_dequant_seconds(12_441_600, h20.vector_flops_per_s, 0.55, h20.int32_share)
    assert t == pytest.approx(3.599e-6, rel=1e-3)
    fallback = eff.fp4_dequant_seconds(12_441_600, h20.flops_per_s["bf16"] / 16, 0.55, h20.int32_share)
    assert fallback / t == pytest.approx(44e12 / 9.25e12, rel=1e-3)
