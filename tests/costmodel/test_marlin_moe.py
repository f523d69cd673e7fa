"""vLLM's fused_marlin_moe: block_size_m, per-expert padding to it, and its activation kernel (costmodel/marlin_moe.py).

Source: vLLM v0.18 ``model_executor/layers/fused_moe/fused_marlin_moe.py`` ("M block size selection
logic": the first of 8, 16, 32, 48, 64 with M * topk / E / block < 0.9; ``moe_align_block_size``;
``activation_func`` between the two ``moe_wna16_marlin_gemm`` calls) and
``csrc/moe/marlin_moe_wna16/ops.cu`` (``thread_m_blocks = div_ceil(moe_block_size, 16)``).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel import architecture as arch
from simdecode.costmodel import marlin_moe, modules
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.scenario.schema import Scenario


def dep(gpu: str = "h100-sxm", tp: int = 2, **precision) -> Deployment:
    spec = {"model": "gpt-oss-120b", "hardware": {"gpu": gpu}, "parallelism": {"tp": tp}, "runtime": "vllm"}
    if precision:
        spec["precision"] = precision
    return Deployment.from_scenario(Scenario.model_validate(spec))


def experts_parts(d: Deployment, tokens: int):
    shape = BatchShape.mixed([(0, tokens, True)], d.window)
    return [p for p in modules.mlp_parts(d, 0, shape) if p.term == "experts"]


def test_block_size_is_the_first_whose_mean_fill_is_under_nine_tenths() -> None:
    # gpt-oss: 128 experts, top 4. 921 tokens: 921 * 4 / 128 = 28.78 rows per expert, 28.78 / 32 = 0.899 < 0.9
    assert marlin_moe.block_rows(921, 4, 128) == 32
    # 925 tokens: 28.91 / 32 = 0.903 is not under 0.9; 28.91 / 48 = 0.602 is
    assert marlin_moe.block_rows(925, 4, 128) == 48
    # 460 tokens: 14.375 / 16 = 0.898 -> 16; one decode token: 0.03 / 8 -> 8
    assert marlin_moe.block_rows(460, 4, 128) == 16
    assert marlin_moe.block_rows(1, 4, 128) == 8
    # an 8k prefill: 230.5 rows per expert; none under 0.9 of its block: 64
    assert marlin_moe.block_rows(7376, 4, 128) == 64


def test_each_expert_computes_whole_blocks_of_sixteen_row_mma_blocks() -> None:
    assert marlin_moe.padded_rows(28.9, 48) == 48      # one block of 3 x 16 rows
    assert marlin_moe.padded_rows(230.5, 64) == 256    # 4 blocks of 64
    assert marlin_moe.padded_rows(65, 64) == 128       # a 65th row costs a second block
    assert marlin_moe.padded_rows(2, 8) == 16          # block 8 still runs one m16 MMA block
    assert marlin_moe.padded_rows(0, 48) == 0


@given(rows=st.floats(0.01, 2000), tokens=st.integers(1, 16384))
def test_padding_never_loses_rows_and_adds_under_one_block(rows: float, tokens: int) -> None:
    # ceil(rows / block) blocks of m = 16 ceil(block / 16) rows: at least the rows, under one block more
    # (a block of 8 runs 16 rows: 9 rows take 2 blocks, 32 rows)
    block = marlin_moe.block_rows(tokens, 4, 128)
    m = 16 * -(-block // 16)
    padded = marlin_moe.padded_rows(rows, block)
    assert rows <= padded < (rows / block + 1) * m + 1e-9


def test_activation_kernel_bytes_by_hand() -> None:
    # 925 tokens x top 4 rows; gpt-oss's 2880-wide experts at tp 2: 1,440 columns per GPU. Reads 2 x 1,440
    # and writes 1,440 bf16 values per row: 3,700 x 3 x 1,440 x 2 B = 31,968,000 B
    assert marlin_moe.activation_bytes(925, 4, 1440, 2) == 31_968_000


def test_gpt_oss_1k_prefill_pays_48_row_blocks_and_the_activation_pass() -> None:
    # gpt-oss-120b at tp 2 on an H100 under vLLM (MXFP4 experts: Marlin), a 925-token prefill: all 128
    # experts are hit (128 (1 - (1 - 4/128)^925) = 128.0), 925 * 4 / 128 = 28.906 rows each, block 48:
    # the math runs at 28.906 / 48 = 0.602 of Marlin's rate 989e12 x 0.55 x 0.667 (was 28.906 / 32 = 0.903)
    d = dep()
    union = arch.expected_distinct_experts(128, 4, 925)
    assert union == pytest.approx(128.0, rel=1e-9)
    rows = 925 * 4 / union
    grouped, activation = experts_parts(d, 925)
    assert grouped.flops_per_s == pytest.approx(989e12 * 0.55 * 0.667 * rows / 48)
    assert grouped.flops_per_s == pytest.approx(218.5e12, rel=1e-3)
    assert activation.flops == 0 and activation.kernels == 0
    assert activation.hbm_bytes == pytest.approx(31_968_000)


def test_block_size_counts_the_experts_this_gpu_holds_under_expert_parallelism() -> None:
    # fused_marlin_moe's E is w1.size(0), the experts one GPU holds: with ep 2 that is 64 of 128 while M * topk
    # still counts every routed row (the others' map to -1), so 925 * 4 / 64 = 57.8: 57.8 / 48 = 1.20 and
    # 57.8 / 64 = 0.903 are not under 0.9, block 64; each expert's 28.906 rows then fill 28.906 / 64 of it
    spec = {"model": "gpt-oss-120b", "hardware": {"gpu": "h100-sxm"}, "parallelism": {"tp": 2, "ep": 2},
            "runtime": "vllm"}
    d = Deployment.from_scenario(Scenario.model_validate(spec))
    grouped = experts_parts(d, 925)[0]
    rows = 925 * 4 / arch.expected_distinct_experts(128, 4, 925)
    assert grouped.flops_per_s == pytest.approx(989e12 * 0.55 * 0.667 * rows / 64)
    assert grouped.flops_per_s < experts_parts(dep(), 925)[0].flops_per_s  # block 48 at ep 1


def test_experts_without_marlin_keep_sixteen_row_tiles_and_no_activation_part() -> None:
    # the same 925-token prefill with bf16 experts (vLLM's Triton fused_moe): 16-row tiles, 28.906 / 32
    d = dep(weights="bf16")
    (grouped,) = experts_parts(d, 925)
    rows = 925 * 4 / arch.expected_distinct_experts(128, 4, 925)
    assert grouped.flops_per_s == pytest.approx(989e12 * 0.55 * rows / 32)
    assert not marlin_moe.runs_in_marlin(d)
    # on a B200 the MXFP4 experts have FP4 tensor cores: no Marlin either
    assert not marlin_moe.runs_in_marlin(dep(gpu="b200"))
    assert marlin_moe.runs_in_marlin(dep(gpu="h200"))


def test_decode_is_unchanged_by_the_block_rule() -> None:
    # 64 decoding sequences: 64 * 4 / 128 = 2 rows per expert on average -> block 8 -> one 16-row MMA block,
    # the same 16 rows a 16-row tile pads to: the grouped GEMM's rate does not change at decode
    d = dep()
    shape = BatchShape.decode([1000] * 64, d.window)
    grouped = [p for p in modules.mlp_parts(d, 0, shape) if p.term == "experts"][0]
    union = arch.expected_distinct_experts(128, 4, 64)
    assert grouped.flops_per_s == pytest.approx(989e12 * 0.55 * 0.667 * (64 * 4 / union) / 16)
