"""Devices that are not discrete GPUs (simdecode/costmodel/devices.py): dataflow SRAM chips,
spatial wafers, weights in logic, unified memory, rack-scale NVLink domains; hand-computed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.costmodel import collectives, devices
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan
from simdecode.costmodel.roofline import DeviceRates
from simdecode.costmodel.feasibility import check_fits
from simdecode.engine.simulation import kv_capacity_blocks
from simdecode.errors import ScenarioError
from simdecode.present.explain import explain
from simdecode.presets import preset
from simdecode.scenario.hardware import GpuSpec, LinkSpec, RuntimeSpec
from simdecode.scenario.loader import load_scenario
from simdecode.scenario.schema import Scenario

GiB = 2**30


def gpu(name: str, **over) -> GpuSpec:
    return GpuSpec.model_validate({**preset("gpus", name), **over})


def scenario(**parts) -> Scenario:
    base = {"model": "llama-3.1-8b", "hardware": {"gpu": "h100-sxm", "gpus_per_node": 1},
            "workload": {"prompt_tokens": 16, "output_tokens": 16}}
    return Scenario.model_validate({**base, **parts})


# ---- workspace and memory --------------------------------------------------------------------


def test_workspace_is_the_engines_on_gpus_and_none_on_sram_chips_unless_given() -> None:
    assert devices.workspace_bytes(gpu("h100-sxm")) is None  # costmodel/memory.py sizes it
    assert devices.workspace_bytes(gpu("groq-lpu")) == 0.0
    assert devices.workspace_bytes(gpu("groq-lpu", workspace="20 MB")) == 20e6
    assert devices.workspace_bytes(gpu("h100-sxm", workspace="0 B")) == 0.0


def test_unified_memory_leaves_the_os_its_share() -> None:
    # 0.9 x (512 GiB - 128 GiB kept by macOS) = 345.6 GiB for weights, KV and workspace
    assert devices.usable_memory_bytes(gpu("apple-m3-ultra"), 0.9) == pytest.approx(0.9 * 384 * GiB)
    assert devices.usable_memory_bytes(gpu("h100-sxm"), 0.9) == pytest.approx(0.9 * 81559 * 2**20)


def test_chips_to_hold_llama_2_70b_int8_on_groq() -> None:
    # 68.98e9 B of int8 weights / 230e6 B per chip = 299.9 -> 300 chips (nothing else on them)
    assert devices.chips_to_hold(68.98e9, 0.0, gpu("groq-lpu"), 1.0) == 300
    # the 1 GiB workspace of a GPU is taken from each device first
    assert devices.chips_to_hold(180e9, 0.0, gpu("h100-sxm"), 1.0) == 3  # 180 / (85.5 - 1.07) = 2.13


def test_a_model_too_big_for_the_chips_says_how_many_it_needs() -> None:
    s = scenario(model="llama-2-70b", precision={"weights": "int8", "kv_cache": "fp16"},
                 hardware={"gpu": "groq-lpu", "gpus_per_node": 8, "nodes": 8, "intra_node_link": "groq-c2c"},
                 parallelism={"tp": 8, "pp": 8}, runtime="dataflow", scheduler={"memory_utilization": 1.0},
                 workload={"prompt_tokens": 1, "output_tokens": 1})
    with pytest.raises(ScenarioError, match="needs at least 300 chips"):
        check_fits(s)


def test_unified_memory_check_counts_the_os_share() -> None:
    # GPT-OSS-120B in fp4 (~58 GB) fits a GB10 (121.6 GiB) but not one whose OS keeps 80 GB
    fits = scenario(model="gpt-oss-120b", precision={"weights": "fp4"}, hardware={"gpu": "gb10", "gpus_per_node": 1})
    assert fits.hardware.gpu.unified_memory
    check_fits(fits)
    crowded = scenario(model="gpt-oss-120b", precision={"weights": "fp4"},
                       hardware={"gpu": {"preset": "gb10", "os_reserved": "80 GB"}, "gpus_per_node": 1})
    with pytest.raises(ScenarioError, match="kept by the OS"):
        check_fits(crowded)


# ---- no kernel launches, weights in logic -------------------------------------------------------


def test_dataflow_chips_launch_no_kernels_whatever_the_runtime_says() -> None:
    rt = RuntimeSpec.model_validate(preset("runtimes", "default"))
    assert DeviceRates.of(gpu("groq-lpu"), rt, "int8", "fp16").kernel_s == 0.0
    assert DeviceRates.of(gpu("h100-sxm"), rt, "bf16", "bf16").kernel_s == pytest.approx(2e-6)


def test_weights_in_logic_take_no_memory_and_no_bandwidth() -> None:
    logic = {"name": "hardwired", "kind": "logic", "memory": "16 GB", "memory_bandwidth": "1 TB/s",
             "flops": {"fp16": "100 TFLOP/s"}, "tdp": "250 W"}
    s = scenario(hardware={"gpu": logic, "gpus_per_node": 1}, runtime="dataflow")
    dep = Deployment.from_scenario(s)
    assert dep.weight_bytes_per_value == 0.0 and dep.max_weight_bytes_per_gpu() == 0.0
    plan = build_stage_plan(dep, 0, BatchShape.decode([1000]))
    # only the KV cache is read: 1000 (+1) tokens x 32 layers x 2 x 8 x 128 x 2 B
    assert fold(plan).hbm_bytes == pytest.approx(1001 * 32 * 2 * 8 * 128 * 2)
    # an MLP reads nothing and computes 2 FLOPs per weight (3 x 4096 x 14336) at 100 TFLOP/s
    mlp = plan.costs["mlp"]
    assert mlp.hbm_bytes == 0.0
    assert mlp.time_s == pytest.approx(2 * 3 * 4096 * 14336 / 100e12)


# ---- a spatial wafer: each layer owns a region of cores ------------------------------------------


def test_spatial_wafer_batch_1_token_is_dependent_steps_times_resident_bytes_over_bandwidth() -> None:
    """Llama-3.1-8B bf16 on one WSE-3: 32 layers x (3 attention + 2 MLP steps) + the LM head = 161
    dependent steps, each (resident weight bytes / 7 PB/s: the matrix's port, a third of the quoted
    21 PB/s) = 16.06 GB / 7 PB/s = 2.29 us (the embedding is a one-row gather on the cores that
    hold the row)."""
    s = scenario(hardware={"gpu": "cerebras-wse3", "gpus_per_node": 1}, runtime="dataflow",
                 scheduler={"memory_utilization": 1.0})
    dep = Deployment.from_scenario(s)
    resident = dep.weight_bytes_per_gpu(0)
    assert resident == pytest.approx(16.06e9, rel=0.001)
    step = fold(build_stage_plan(dep, 0, BatchShape.decode([0])))
    assert step.makespan_s == pytest.approx(161 * resident / 7e15, rel=1e-3)  # 369 us: ~2,710 tok/s
    # the same chip, not spatial, streams every weight once (the embedding table but its row): 161x faster
    table = 128256 * 4096 * 2
    flat = Deployment.from_scenario(s.model_copy(update={"hardware": s.hardware.model_copy(
        update={"gpu": s.hardware.gpu.model_copy(update={"spatial": False})})}))
    flat_step = fold(build_stage_plan(flat, 0, BatchShape.decode([0])))
    assert flat_step.makespan_s == pytest.approx((resident - table + 4096 * 2) / 7e15, rel=1e-3)


@given(st.floats(1e6, 1e12), st.integers(1, 4))
def test_spatial_share_is_the_modules_weight_share_over_its_steps(module_bytes: float, steps_key: int) -> None:
    kind = ["embed", "mlp", "attn", "mlp.moe"][steps_key - 1]

    class Dep:
        spatial = True

        @staticmethod
        def weight_bytes_per_gpu(stage: int) -> float:
            return 2e12

    share = devices.spatial_share(Dep, 0, kind, module_bytes)
    assert share == pytest.approx(min(1.0, module_bytes / (2e12 * devices.DEPENDENT_STEPS[kind])))
    assert 0 < share <= 1


# ---- SRAM ports: what a matrix-vector product streams ---------------------------------------------


def test_wse_matrix_streams_through_one_of_three_ports() -> None:
    """Two 64-bit reads and one 64-bit write per core per cycle (Lie, Hot Chips 34): an AXPY
    (y += A[:, j] x_j) reads A and y and writes y, so A gets 1 of the 3 ports: 21 PB/s -> 7 PB/s."""
    wse = gpu("cerebras-wse3")
    assert devices.matrix_stream_share(wse) == pytest.approx(1 / 3)
    rt = RuntimeSpec.model_validate(preset("runtimes", "dataflow"))
    assert DeviceRates.of(wse, rt, "bf16", "bf16").peak_bandwidth_Bps == pytest.approx(7e15)
    # the quoted figure is the ports' sum: WSE-2's 850,000 cores x 24 B x 1.1 GHz = 22.4 PB/s (~"20 PB/s")
    assert 850_000 * (2 * 8 + 8) * 1.1e9 == pytest.approx(22.44e15)
    # a device without ports (Groq's MEM feeds the streams whole) keeps its bandwidth
    assert devices.matrix_stream_share(gpu("groq-lpu")) == 1.0
    assert DeviceRates.of(gpu("groq-lpu"), rt, "int8", "fp16").peak_bandwidth_Bps == pytest.approx(80e12)


@given(st.integers(1, 8), st.integers(0, 8))
def test_matrix_stream_share_is_the_free_read_ports_over_all_ports(reads: int, writes: int) -> None:
    share = devices.matrix_stream_share(gpu("cerebras-wse3", memory_ports={"reads": reads, "writes": writes}))
    assert share == pytest.approx((reads - 1) / (reads + writes))
    assert 0 <= share < 1  # the accumulator always takes a read


def test_memory_ports_reject_unknown_keys_and_zero_reads() -> None:
    with pytest.raises(ValueError):
        gpu("cerebras-wse3", memory_ports={"reads": 0, "writes": 1})
    with pytest.raises(ValueError):
        gpu("cerebras-wse3", memory_ports={"read": 2, "writes": 1})


# ---- a lock-step pipeline: every stage takes the slowest stage's time -------------------------


def test_lockstep_stages_all_take_the_slowest_stages_time() -> None:
    """Llama-2-70B over 36 stages, by hand: 8 stages of 3 layers at 85.4 us and 28 of 2 at 57 us
    take 8 x 85.4 + 28 x 57 = 2.279 ms one after another, but in lock-step 36 x 85.4 = 3.074 ms
    (GroqFlow: one inference's latency is the pipelining stage's cycles times the chips)."""
    times = [85.4e-6] * 8 + [57e-6] * 28
    assert sum(times) == pytest.approx(2.2792e-3)
    lpu = gpu("groq-lpu")
    assert lpu.lockstep_pipeline
    assert sum(devices.stage_periods(lpu, times)) == pytest.approx(3.0744e-3)
    assert devices.stage_periods(gpu("cerebras-wse3"), times) == times  # its wafers each take their own time
    assert devices.stage_periods(gpu("h100-sxm"), times) == times
    assert devices.stage_periods(None, times) == times
    assert devices.stage_periods(lpu, [57e-6]) == [57e-6]  # one stage: nothing to wait for


@given(st.lists(st.floats(1e-7, 1e-2), min_size=1, max_size=64))
def test_lockstep_periods_are_the_max_and_never_shorten_a_stage(times: list[float]) -> None:
    periods = devices.stage_periods(gpu("groq-lpu"), times)
    assert len(periods) == len(times)
    assert all(p >= t for p, t in zip(periods, times))
    assert sum(periods) == pytest.approx(len(times) * max(times))
    assert sum(periods) >= sum(times) * (1 - 1e-12)


def test_groq_70b_token_is_36_periods_of_the_slowest_stage_plus_35_hops_in_explain_and_run() -> None:
    """scenarios/groq-llama-2-70b-576xlpu.yaml (tp 16 x pp 36 of LPUs): the last stage (2 layers and
    the LM head) is the slowest; explain's token is 36 of its periods plus 35 C2C hops of 0.6 us +
    16,384 B / (14 GB/s x 0.97), and the simulated TPOT is the same (one request, nothing else in
    the pipeline)."""
    s = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "groq-llama-2-70b-576xlpu.yaml")
    got = explain(s)
    own = [st["time_s"] for st in got["stages"]]
    hop = 0.6e-6 + 16384 / (14e9 * 0.97)
    assert got["hops"][0]["time_s"] == pytest.approx(hop, rel=1e-3)
    hand = 36 * max(own) + 35 * hop
    assert got["total_s"] == pytest.approx(hand, rel=1e-9)
    assert got["lockstep_wait_s"] == pytest.approx(36 * max(own) - sum(own), rel=1e-9)
    assert 1 / got["total_s"] == pytest.approx(300, rel=0.25)  # Groq's ~300 tok/s (TechPowerUp, Feb 2024)
    from simdecode import simulate
    result = simulate(s)
    tpots = [r.tpot_s for r in result.requests]
    assert tpots == pytest.approx([got["total_s"]] * len(tpots), rel=0.01)


def test_lpu_converts_int8_weights_on_its_vector_unit() -> None:
    """Groq VXM: 5,120 ALUs x 900 MHz = 4.608e12 ops/s, 2 ops (convert + scale) per weight: the
    160 M int8 weights of a 3-layer Llama-2-70B stage on one of 16 chips take 69.4 us."""
    from simdecode.costmodel.efficiency import dequant_seconds

    lpu = gpu("groq-lpu")
    assert lpu.vector_flops_per_s == pytest.approx(2 * 5120 * 900e6)
    assert dequant_seconds(160e6, lpu.vector_flops_per_s) == pytest.approx(160e6 * 2 / 4.608e12)
    assert dequant_seconds(160e6, lpu.vector_flops_per_s) == pytest.approx(69.44e-6, rel=1e-3)


# ---- Taalas HC1: Llama-3.1-8B wired in ------------------------------------------------------------


def test_hc1_flops_are_the_rate_its_claim_implies() -> None:
    """17,000 tok/s x 2 FLOPs x the 7.504e9 matrix weights of Llama-3.1-8B (32 x 218.1 M + the
    128,256 x 4,096 LM head) = 255 TFLOP/s: a rate implied by the vendor's figure, not measured."""
    layer = 4096 * 4096 * 2 + 4096 * 1024 * 2 + 3 * 4096 * 14336
    weights = 32 * layer + 128256 * 4096
    assert weights == pytest.approx(7.504e9, rel=1e-3)
    hc1 = gpu("taalas-hc1")
    assert hc1.kind == "logic"
    assert hc1.flops_per_s["bf16"] == pytest.approx(17_000 * 2 * weights, rel=0.001)


def test_hc1_kv_sram_holds_one_1k_in_1k_out_conversation() -> None:
    """256 MiB / (32 layers x 2 x 8 heads x 128 x 2 B = 128 KiB per token) = 2,048 tokens."""
    hc1 = gpu("taalas-hc1")
    kv_per_token = 32 * 2 * 8 * 128 * 2
    assert hc1.memory_bytes / kv_per_token == 2048
    assert devices.workspace_bytes(hc1) == 0.0 and not devices.stores_weights(hc1)


# ---- collectives a compiler schedules ------------------------------------------------------------


def test_scheduled_all_reduce_is_one_hop_and_one_link_on_a_mesh() -> None:
    c2c = LinkSpec.model_validate(preset("links", "groq-c2c"))
    cost = collectives.scheduled_all_reduce(16384, 8, c2c)
    assert cost.alpha_s == pytest.approx(0.6e-6)
    assert cost.beta_s == pytest.approx(16384 / (14e9 * 0.97))
    # across two nodes: one more hop
    two = collectives.scheduled_all_reduce(16384, 16, c2c, nodes=2, inter=c2c)
    assert two.alpha_s == pytest.approx(1.2e-6)
    # behind a switch every peer's copy shares the rank's port: (p-1) n
    nv = LinkSpec.model_validate(preset("links", "nvlink4"))
    assert collectives.scheduled_all_reduce(1e6, 8, nv).beta_s == pytest.approx(7e6 / (450e9 * 0.82))


def test_dataflow_runtime_uses_the_scheduled_all_reduce() -> None:
    rt = RuntimeSpec.model_validate(preset("runtimes", "dataflow"))
    c2c = LinkSpec.model_validate(preset("links", "groq-c2c"))
    got = collectives.all_reduce(16384, 8, c2c, rt)
    assert got.algorithm == "direct" and got.time_s == pytest.approx(0.6e-6 + 16384 / (14e9 * 0.97))


# ---- rack-scale NVLink domains ---------------------------------------------------------------


def test_nvl72_is_one_node_of_72_gpus() -> None:
    s = Scenario.model_validate({
        "model": "deepseek-v3", "precision": {"weights": "fp4", "kv_cache": "fp8"},
        "hardware": {"gpu": "gb200", "gpus_per_node": 72, "nics_per_node": 72},
        "parallelism": {"tp": 16, "dp": 4}, "workload": {"prompt_tokens": 16, "output_tokens": 16},
    })
    dep = Deployment.from_scenario(s)
    assert dep.tp_nodes == 1 and dep.link.name == "nvlink5"  # TP inside the NVLink domain


def test_tp_groups_may_not_straddle_nodes() -> None:
    # 16-GPU groups on 24-GPU nodes: the second group would span GPUs 16-31, across two nodes
    with pytest.raises(ValueError, match="straddle"):
        Scenario.model_validate({
            "model": "deepseek-v3", "precision": {"weights": "fp4"},
            "hardware": {"gpu": "gb200", "gpus_per_node": 24, "nodes": 2},
            "parallelism": {"tp": 16, "dp": 2}, "workload": {"prompt_tokens": 16, "output_tokens": 16},
        })


def test_gpus_per_node_is_capped_at_the_largest_nvlink_domain() -> None:
    with pytest.raises(ValueError, match="576"):
        scenario(hardware={"gpu": "gb200", "gpus_per_node": 577})


# ---- linear-attention state in the KV ledger ---------------------------------------------------


def test_state_pool_for_max_batch_size_sequences_comes_off_the_kv_cache() -> None:
    from simdecode.costmodel import memory
    from simdecode.scenario.engines import engine_of

    base = {"model": "qwen3.5-397b-a17b", "precision": {"weights": "fp8", "kv_cache": "fp8"},
            "hardware": {"gpu": "h200", "gpus_per_node": 8}, "parallelism": {"tp": 8},
            "workload": {"prompt_tokens": 16, "output_tokens": 16}, "scheduler": {"max_batch_size": 1}}
    one = Scenario.model_validate(base)
    many = Scenario.model_validate({**base, "scheduler": {"max_batch_size": 257}})
    dep = Deployment.from_scenario(one)
    state = dep.state_bytes_per_sequence_per_gpu()  # 45 x 1,085,440 x 1 B / 8 = 6,105,600 B
    assert state == pytest.approx(6_105_600)
    # the budget loses 256 more states, besides the larger activation workspace (logits of 256 more)
    workspace = [memory.activation_workspace_bytes(dep, s.scheduler.max_batched_tokens, s.scheduler.max_batch_size)
                 for s in (one, many)]
    share = one.scheduler.memory_utilization if engine_of(one).memory_of == "free" else 1.0
    drop = memory.kv_budget_bytes(one, dep) - memory.kv_budget_bytes(many, dep)
    assert drop == pytest.approx(256 * state + share * (workspace[1] - workspace[0]))


def test_cerebras_70b_token_is_the_sum_over_wafers_of_steps_plus_hops_plus_one_host_transaction() -> None:
    """Llama-3.1-70B bf16 on 4 WSE-3 (scenarios/cerebras-llama-3.1-70b-4xwse3.yaml), one token at
    128 tokens of context, by hand: a layer holds 2 x (2 x 8192^2 + 2 x 8192 x 1024 + 3 x 8192 x
    28672) B = 1.711 GB, a wafer 20 of them (34.22 GB) plus the 2.101 GB embedding (first) or LM
    head (last). Each wafer's 100 (last: 101) dependent steps take (resident bytes / 7 PB/s); the
    three wafer-to-wafer hops each 2.7 us + 16,384 B / (150 GB/s x 0.96); the first wafer also
    waits 200 us for the host transaction of the cerebras-2024 runtime. The KV cache read (128 x
    20 layers x 2 x 1024 x 2 B per wafer) is 0.3% more."""
    s = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "cerebras-llama-3.1-70b-4xwse3.yaml")
    assert s.runtime.name == "cerebras-2024"
    layer = 2 * (2 * 8192**2 + 2 * 8192 * 1024 + 3 * 8192 * 28672)
    table = 2 * 128256 * 8192
    bw = 21e15 / 3
    host = 200e-6
    stages = [100 * (20 * layer + table) / bw + host, 100 * 20 * layer / bw, 100 * 20 * layer / bw,
              101 * (20 * layer + table) / bw]
    hops = 3 * (2.7e-6 + 16384 / (1200e9 / 8 * 0.96))
    hand = sum(stages) + hops
    assert hand == pytest.approx(2.229e-3, rel=1e-3)  # 449 tok/s; Cerebras published 450
    got = explain(s)
    assert got["total_s"] == pytest.approx(hand, rel=0.005)
    assert [st["time_s"] for st in got["stages"]] == pytest.approx(stages, rel=0.005)


def test_cerebras_2024_runtime_is_dataflow_plus_one_200_us_host_transaction_per_step() -> None:
    """The Cerebras SDK's host link: "the overhead of TCP is about 200 us" per transaction
    (csl-examples bandwidthTest); the launch software ran wafer I/O in step with compute. So the
    runtime is the dataflow one with step_overhead 200 us, and nothing else differs."""
    launch = RuntimeSpec.model_validate(preset("runtimes", "cerebras-2024"))
    flow = RuntimeSpec.model_validate(preset("runtimes", "dataflow"))
    assert launch.step_overhead_s == pytest.approx(200e-6)
    assert launch.model_dump(exclude={"name", "step_overhead_s"}) == flow.model_dump(exclude={"name", "step_overhead_s"})


def test_cerebras_8b_token_is_161_steps_plus_the_host_transaction() -> None:
    """Llama-3.1-8B bf16 on one WSE-3, by hand: 161 dependent steps of 16.06 GB / 7 PB/s = 2.29 us
    (369 us) plus the 200 us host transaction = 569 us, 1,757 tok/s against the published 1,800
    (-2%); on the dataflow runtime (no transaction) it would be 2,710 (+51%). The 200 us is the
    same for any model, so it is 35% of the 8B's token and 9% of the 70B's."""
    s = scenario(hardware={"gpu": "cerebras-wse3", "gpus_per_node": 1}, runtime="cerebras-2024",
                 scheduler={"memory_utilization": 1.0})
    dep = Deployment.from_scenario(s)
    resident = dep.weight_bytes_per_gpu(0)
    step = fold(build_stage_plan(dep, 0, BatchShape.decode([0])))
    hand = 161 * resident / 7e15 + 200e-6
    assert hand == pytest.approx(569e-6, rel=2e-3)
    assert step.makespan_s == pytest.approx(hand, rel=1e-3)
    assert 1 / step.makespan_s == pytest.approx(1800, rel=0.25)  # DEC-15's 8B figure
