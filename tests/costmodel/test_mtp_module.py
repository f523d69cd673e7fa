"""The MTP module's own input work per draft pass (costmodel/mtp.py): enorm, hnorm, the
concatenation and ``eh_proj`` (2h -> h, bf16, row-parallel with an all-reduce), as TensorRT-LLM's
DeepseekV3MTP runs it; DeepSeek-V3 arXiv 2412.19437 section 2.2."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from simdecode import load_scenario
from simdecode.costmodel import mtp
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment, draft_deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "mtp-deepseek-v3-8xb200.yaml"


@pytest.fixture(scope="module")
def draft() -> Deployment:
    return draft_deployment(load_scenario(SCENARIO))


def test_eh_proj_is_205_5_MB_in_bf16_per_module_and_an_eighth_of_it_per_gpu_at_tp8(draft):
    assert (draft.model.hidden_size, draft.tp, draft.act_bytes_per_value) == (7168, 8, 2.0)
    # 2 x 7168 x 7168 = 102,760,448 parameters x 2 bytes = 205,520,896 B (205.5 MB) per module
    assert mtp.projection_params_per_gpu(draft) * draft.tp * 2.0 == 205_520_896
    assert mtp.projection_params_per_gpu(draft) == 12_845_056


def test_bytes_of_one_draft_pass_at_batch_1_by_hand(draft):
    # weights 12,845,056 x 2 = 25,690,112 B; norms + concat 8 x 7168 x 2 = 114,688 B;
    # the GEMM's input share and output (7168 x 2 / 8 + 7168) x 2 = 17,920 B
    assert mtp.projection_bytes(draft, 1) == 25_690_112 + 114_688 + 17_920
    plan = build_stage_plan(draft, 0, BatchShape.mixed([(1024, 1, 1)], draft.window))
    proj = [op for op in plan if op.kind == "mtp.proj"]
    assert len(proj) == 1
    assert proj[0].cost.hbm_bytes == 25_822_720
    assert proj[0].cost.flops == 2 * 12_845_056      # one token, 2 FLOPs per weight
    assert proj[0].cost.launch_s == pytest.approx(mtp.KERNELS * draft.rates.kernel_s)


def test_the_projection_is_summed_over_tp_before_the_block_reads_it(draft):
    plan = build_stage_plan(draft, 0, BatchShape.mixed([(1024, 1, 1)], draft.window))
    ops = plan.ops
    names = [op.name for op in ops]
    proj, reduce = names.index("mtp.proj"), names.index("mtp.proj.allreduce")
    first_attention = next(i for i, op in enumerate(ops) if op.kind.startswith("attn"))
    assert proj < reduce < first_attention and reduce in ops[first_attention].after
    assert ops[reduce].cost.net_bytes == 7168 * 2.0   # one token's h activations in bf16


def test_a_draft_pass_costs_more_with_the_module_input_than_without_and_the_target_has_none(draft):
    shape = BatchShape.mixed([(1024, 1, 1)], draft.window)
    bare = replace(draft, mtp_module=False, templates={}, step_costs={})
    with_proj, without = fold(build_stage_plan(draft, 0, shape)), fold(build_stage_plan(bare, 0, shape))
    assert with_proj.makespan_s > without.makespan_s
    target = Deployment.from_scenario(load_scenario(SCENARIO))
    assert not any(op.kind == "mtp.proj" for op in build_stage_plan(target, target.pp - 1, shape))


def test_the_mtp_layer_keeps_the_unquantised_dtype_of_an_ffn_only_fp4_recipe(draft):
    """NVIDIA's DeepSeek-R1 NVFP4 checkpoint excludes model.layers.61* (the MTP layer) from fp4:
    its experts are read in bf16, 2 bytes a value instead of NVFP4's 0.5625."""
    target = Deployment.from_scenario(load_scenario(SCENARIO))
    assert target.precision.experts == "nvfp4" and target.bytes_of("experts") == 0.5625
    assert (draft.precision.experts, draft.precision.mlp) == ("bf16", "bf16") and draft.bytes_of("experts") == 2.0
    fp8 = draft_deployment(load_scenario(SCENARIO, ["precision={weights: fp8}"]))
    assert fp8.precision.experts == fp8.precision.attention == "fp8"
