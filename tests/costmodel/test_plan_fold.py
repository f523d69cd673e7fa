"""Step plans and their critical path (simdecode/costmodel/plan.py, fold.py).

Schedules (physics.md 1.5), with C = a module's compute time and A = one all-reduce:
  (a) megatron:        T_layer = C_a + A + C_m + A             (everything serial)
  (b) parallel-block:  T_layer = C_a + C_m + A                 (one all-reduce per layer)
  (c) ladder:          module n+2 waits for A_n                (exposed = max(0, A - C_next))
  (d) delayed (DTP):   module n+delta+1 waits for A_n          (exposed = max(0, A - sum of delta C))
For any two-stream list schedule: max(sum compute, sum comm) <= makespan <= sum of all ops
(docs/architecture.md, "Invariants the tests check": "Delayed-TP step time is <= plain-TP step time and >= max(total compute,
total comm)"; "TP = 1 yields zero network bytes").
"""

from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode import tp_schedules
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import Fold, fold, timeline
from simdecode.costmodel.plan import OpCost, OpSlot, PlanTemplate, StepPlan, Stream, build_stage_plan
from simdecode.scenario.schema import Scenario

REL = 1e-12  # summing the same float durations in two orders


@lru_cache(maxsize=None)
def deployment(model: str = "llama-2-7b", gpu: str = "a100-80gb", tp: int = 8, pp: int = 1, nodes: int = 1,
               runtime: str = "default", **parallelism: object) -> Deployment:
    scenario = Scenario.model_validate({
        "model": model,
        "runtime": runtime,
        "hardware": {"gpu": gpu, "nodes": nodes},
        "parallelism": {"tp": tp, "pp": pp, **parallelism},
    })
    return Deployment.from_scenario(scenario)


def plans(dep: Deployment, shape: BatchShape) -> list[StepPlan]:
    return [build_stage_plan(dep, stage, shape) for stage in range(dep.pp)]


def stream_sum(plan: StepPlan, stream: Stream | None = None) -> float:
    return sum(op.time_s for op in plan.ops if stream is None or op.stream is stream)


def comm_names(plan: StepPlan) -> list[str]:
    return [op.name for op in plan.ops if op.stream is Stream.COMM]


contexts = st.lists(st.integers(0, 4000), min_size=1, max_size=12)


# ---- tp = 1 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("tp_mode", list(tp_schedules.names()))
def test_tp1_moves_no_network_bytes(tp_mode: str) -> None:
    dep = deployment(tp=1, tp_mode=tp_mode)
    plan = build_stage_plan(dep, 0, BatchShape.decode([0, 500, 3000]))
    assert comm_names(plan) == []
    f = fold(plan)
    assert f.net_bytes == 0.0
    assert f.comm_s == 0.0
    assert f.exposed_comm_s == 0.0
    # one GPU, one stream: the step is the sum of its compute ops
    assert f.makespan_s == pytest.approx(stream_sum(plan, Stream.COMPUTE), rel=REL)


def test_tp8_does_move_bytes() -> None:
    # the counterpart, so the tp=1 test can fail: 64 all-reduces of 1 token * 4096 * 2 B = 8,192 B,
    # plus the vocab-parallel logits gather: 32000 / 8 ranks * 4 B (fp32) = 16,000 B per rank
    f = fold(build_stage_plan(deployment(tp=8), 0, BatchShape.decode([100])))
    # and the embedding all-reduce that completes the vocab-split lookup: 4096 * 2 B more
    assert f.net_bytes == 65 * 4096 * 2 + 32000 / 8 * 4 == 548_480


# ---- megatron: everything serial ----------------------------------------------------------------
@pytest.mark.parametrize("tp", [2, 4, 8])
@pytest.mark.parametrize("ctx", [[0], [100], [10, 2000, 4000, 64]])
def test_megatron_makespan_is_the_sum_of_all_ops(tp: int, ctx: list[int]) -> None:
    plan = build_stage_plan(deployment(tp=tp), 0, BatchShape.decode(ctx))
    assert fold(plan).makespan_s == pytest.approx(stream_sum(plan), rel=REL)


def test_megatron_makespan_is_serial_on_every_pipeline_stage() -> None:
    dep = deployment(model="llama-3.1-70b", gpu="h100-sxm", tp=4, pp=2)
    for plan in plans(dep, BatchShape.decode([100, 200])):
        assert fold(plan).makespan_s == pytest.approx(stream_sum(plan), rel=REL)


def test_parallel_block_makespan_is_the_sum_of_all_ops() -> None:
    # (b) T_layer = C_a + C_m + A: still blocking, just half the all-reduces
    plan = build_stage_plan(deployment(tp=8, tp_mode="parallel-block"), 0, BatchShape.decode([100]))
    assert fold(plan).makespan_s == pytest.approx(stream_sum(plan), rel=REL)


def test_megatron_step_by_hand() -> None:
    # Llama-2-7B, tp 8, A100-80GB (2039 GB/s, 312 TFLOP/s bf16), default runtime (MBU 0.7,
    # 15 kernels/layer = 7.5 per module at 2 us, NCCL + 5 us), NVLink3 (300 GB/s, 0.6 us, eff 0.82).
    # One sequence decoding after 100 cached tokens. Every module is memory-bound here.
    bw = 2039e9 * 0.7
    h, d, layers = 4096, 128, 32
    attn_params = 4 * h * h / 8                    # q,k,v,o sharded 8 ways: 8,388,608
    kv_bytes = (100 + 1) * (2 * 4 * d) * 2         # 100 read + 1 written, 4 KV heads per GPU, bf16
    mlp_params = 3 * h * 11008 / 8                 # 16,908,288
    head_params = 32000 * h / 8                    # vocab-parallel: 16,384,000
    embed_s = h * 2 / 8 / bw + 1 * 2e-6           # vocab-parallel table: 1/8 of the row per rank
    residual = 4 * h * 2                           # each block's fused residual add + norm, whole hidden, bf16
    attn_s = (attn_params * 2 + kv_bytes + residual) / bw + 7.5 * 2e-6
    mlp_s = (mlp_params * 2 + residual) / bw + 7.5 * 2e-6
    head_s = head_params * 2 / bw + 2 * 2e-6       # head + sampler kernels
    # ring LL: 6.6 + 14 * 0.6 = 15 us + 5 us overhead + 2*7/8 * 8192 B / (300e9 * 0.82 * 0.5)
    ar_s = 15.0e-6 + 5e-6 + 2 * 7 / 8 * (h * 2) / (300e9 * 0.82 * 0.5)
    # logits all-gather (LL): 6.6 + 7 * 0.6 = 10.8 us + 5 us + 7/8 * 128,000 B / (300e9 * 0.82 * 0.5)
    gather_s = 10.8e-6 + 5e-6 + 7 / 8 * (32000 * 4) / (300e9 * 0.82 * 0.5)
    expected_s = embed_s + ar_s + layers * (attn_s + ar_s + mlp_s + ar_s) + head_s + gather_s  # + embedding all-reduce
    f = fold(build_stage_plan(deployment(tp=8), 0, BatchShape.decode([100])))
    assert f.makespan_s == pytest.approx(expected_s, rel=1e-12)        # ~3.43 ms
    assert f.comm_s == pytest.approx((2 * layers + 1) * ar_s + gather_s, rel=1e-12)
    assert f.exposed_comm_s == pytest.approx(f.comm_s, rel=1e-9)       # nothing hidden
    assert f.launch_s == pytest.approx((1 + layers * 15 + 2) * 2e-6, rel=1e-12)
    assert f.hbm_bytes == h * 2 / 8 + layers * (attn_params * 2 + kv_bytes + mlp_params * 2 + 2 * residual) \
        + head_params * 2


# ---- overlapping schedules ---------------------------------------------------------------------
@given(
    tp=st.sampled_from([2, 4, 8]),
    mode_delay=st.sampled_from([("ladder", 1), ("delayed", 1), ("delayed", 2), ("delayed", 3)]),
    start=st.sampled_from(["sync", "local"]),
    final=st.sampled_from(["all-reduce", "vocab-parallel"]),
    ctx=contexts,
    model_gpu=st.sampled_from([("llama-2-7b", "a100-80gb"), ("llama-3.1-8b", "h100-sxm")]),
)
def test_overlapped_schedules_between_megatron_and_the_stream_bounds(
    tp: int, mode_delay: tuple[str, int], start: str, final: str, ctx: list[int], model_gpu: tuple[str, str]
) -> None:
    # docs/physics.md 1.5 (c), (d); docs/architecture.md, "Invariants the tests check"
    mode, delay = mode_delay
    model, gpu = model_gpu
    shape = BatchShape.decode(ctx)
    overlapped = build_stage_plan(
        deployment(model=model, gpu=gpu, tp=tp, tp_mode=mode, tp_delay=delay, tp_delay_start=start, tp_final=final),
        0, shape)
    megatron = build_stage_plan(deployment(model=model, gpu=gpu, tp=tp), 0, shape)
    f = fold(overlapped)
    assert f.makespan_s <= fold(megatron).makespan_s * (1 + REL)
    lower = max(stream_sum(overlapped, Stream.COMPUTE), stream_sum(overlapped, Stream.COMM))
    assert f.makespan_s >= lower * (1 - REL)
    assert f.makespan_s <= stream_sum(overlapped) * (1 + REL)   # no moment with both streams idle


def test_ladder_hides_every_all_reduce_but_the_last() -> None:
    # physics.md 1.5 (c): exposed per module = max(0, A - C_next). Here every module is slower
    # than an all-reduce (attention ~26.9 us, MLP ~38.7 us vs A ~20.1 us), so only the collectives
    # with no module after them show: the last MLP's all-reduce (the LM head waits for it) and the
    # logits gather after the head.
    shape = BatchShape.decode([100])
    plan = build_stage_plan(deployment(tp=8, tp_mode="ladder"), 0, shape)
    ops = {op.name: op for op in plan.ops}
    a_s = ops["L31.mlp.allreduce"].time_s
    assert a_s < min(ops["L0.attn"].time_s, ops["L0.mlp"].time_s)   # the premise
    f = fold(plan)
    # plus the embedding all-reduce, which the first module needs before it can start
    assert f.exposed_comm_s == pytest.approx(2 * a_s + ops["lm_head.gather"].time_s, rel=1e-9)
    assert f.makespan_s < fold(build_stage_plan(deployment(tp=8), 0, shape)).makespan_s


def test_ladder_waits_two_modules_back() -> None:
    # module m waits for the all-reduce of m-2: L1.attn (module 3, counting the embedding as 0)
    # needs L0.attn's all-reduce, not L0.mlp's
    ops = build_stage_plan(deployment(tp=8, tp_mode="ladder"), 0, BatchShape.decode([1])).ops
    index = {op.name: i for i, op in enumerate(ops)}
    after = ops[index["L1.attn"]].after
    assert index["L0.attn.allreduce"] in after
    assert index["L0.mlp.allreduce"] not in after
    assert index["L0.mlp"] in after                      # and the previous module, in stream order


def test_delayed_exchange_count() -> None:
    # physics.md 1.2 stage 3: the last delta modules launch no exchange (it would never land);
    # one final all-reduce averages the lanes before the LM head. 64 modules, delta 2:
    # 62 exchanges + final + logits gather
    names = comm_names(build_stage_plan(deployment(tp=8, tp_mode="delayed", tp_delay=2), 0, BatchShape.decode([9])))
    assert sum(".exchange" in n for n in names) == 64 - 2
    assert names[-2:] == ["final.allreduce", "lm_head.gather"]


def test_delayed_local_start_skips_the_first_exchanges() -> None:
    # tp_delay_start local (physics.md 1.2 stage 1: X_l <- X_l + sqrt(L) o_l, no communication)
    names = comm_names(build_stage_plan(
        deployment(tp=8, tp_mode="delayed", tp_delay=2, tp_delay_start="local"), 0, BatchShape.decode([9])))
    assert sum(".exchange" in n for n in names) == 64 - 2 - 2
    assert names[0] == "embed.allreduce"                 # completes the vocab-split embedding lookup
    assert names[1] == "L1.attn.exchange"                # modules 0 and 1 (L0 attn, L0 mlp) are local


def test_delayed_with_zero_delay_equals_megatron() -> None:
    shape = BatchShape.decode([100])
    delayed = fold(build_stage_plan(deployment(tp=8, tp_mode="delayed", tp_delay=0), 0, shape))
    megatron = fold(build_stage_plan(deployment(tp=8), 0, shape))
    assert delayed.makespan_s == pytest.approx(megatron.makespan_s, rel=1e-9)


def test_delayed_exchange_count_does_not_depend_on_pp() -> None:
    shape = BatchShape.decode([9])
    one = plans(deployment(tp=4, pp=1, tp_mode="delayed", tp_delay=2), shape)
    two = plans(deployment(tp=4, pp=2, tp_mode="delayed", tp_delay=2), shape)
    count = lambda ps: sum(".exchange" in n for p in ps for n in comm_names(p))  # noqa: E731
    assert count(one) == 64 - 2
    assert count(two) == count(one)


# ---- parallel block ------------------------------------------------------------------------------
def test_parallel_block_has_one_collective_per_layer_megatron_two() -> None:
    shape = BatchShape.decode([100])
    pb = comm_names(build_stage_plan(deployment(tp=8, tp_mode="parallel-block"), 0, shape))
    mg = comm_names(build_stage_plan(deployment(tp=8), 0, shape))
    assert sum(n.startswith("L") and n.endswith("allreduce") for n in pb) == 32   # Llama-2-7B: 32 layers
    assert sum(n.startswith("L") and n.endswith("allreduce") for n in mg) == 2 * 32
    assert sum(n.startswith("L7.") for n in pb) == 1
    assert sum(n.startswith("L7.") for n in mg) == 2
    # and it saves exactly 32 all-reduces of time (every op otherwise identical)
    a_s = next(op.time_s for op in build_stage_plan(deployment(tp=8), 0, shape).ops if op.name == "L0.attn.allreduce")
    saved = fold(build_stage_plan(deployment(tp=8), 0, shape)).makespan_s - fold(
        build_stage_plan(deployment(tp=8, tp_mode="parallel-block"), 0, shape)).makespan_s
    assert saved == pytest.approx(32 * a_s, rel=1e-9)


# ---- fold bookkeeping --------------------------------------------------------------------------
@given(
    tp=st.sampled_from([1, 2, 4, 8]),
    mode=st.sampled_from(list(tp_schedules.names())),
    delay=st.integers(0, 3),
    ctx=contexts,
    runtime=st.sampled_from(["default", "vllm", "gpt-fast", "monokernel"]),
)
def test_fold_bookkeeping(tp: int, mode: str, delay: int, ctx: list[int], runtime: str) -> None:
    plan = build_stage_plan(deployment(tp=tp, tp_mode=mode, tp_delay=delay, runtime=runtime), 0,
                            BatchShape.decode(ctx))
    f = fold(plan)
    assert f.exposed_alpha_s + f.exposed_beta_s == pytest.approx(f.exposed_comm_s, rel=REL, abs=1e-18)
    assert 0.0 <= f.exposed_alpha_s and 0.0 <= f.exposed_beta_s
    assert f.memory_s <= f.compute_s
    assert 0.0 <= f.exposed_comm_s <= f.comm_s * (1 + 1e-9)
    busy_s = f.compute_s + f.launch_s + f.host_s
    assert busy_s == pytest.approx(stream_sum(plan, Stream.COMPUTE), rel=REL)
    assert f.comm_s == pytest.approx(stream_sum(plan, Stream.COMM), rel=REL, abs=1e-18)
    assert f.makespan_s == pytest.approx(busy_s + f.exposed_comm_s, rel=1e-9)
    assert f.ideal_s <= f.compute_s * (1 + REL)          # 100% of peak is never slower


def test_exposed_split_follows_the_alpha_share() -> None:
    # megatron, decode: every collective is ~99% latency, so is the exposed part
    f = fold(build_stage_plan(deployment(tp=8), 0, BatchShape.decode([100])))
    assert f.exposed_alpha_s / f.exposed_comm_s > 0.99
    assert f.exposed_alpha_s + f.exposed_beta_s == pytest.approx(f.exposed_comm_s, rel=REL)


def test_host_overhead_is_reported_apart() -> None:
    # vLLM runtime: 300 us host time per step on stage 0, on the compute stream before the embedding
    f = fold(build_stage_plan(deployment(tp=8, runtime="vllm"), 0, BatchShape.decode([100])))
    assert f.host_s == pytest.approx(300e-6, rel=1e-12)
    assert f.makespan_s >= 300e-6


def _toy_plan(ladder: bool) -> StepPlan:
    """Four modules of 2 ms, each followed by a 3 ms all-reduce (1 ms of it latency), then a 1 ms
    head that waits for every all-reduce. Megatron: module m waits for the all-reduce of m - 1;
    ladder: of m - 2."""
    slots: list[OpSlot] = []
    compute: list[int] = []
    exchange: list[int] = []
    for m in range(4):
        back = 2 if ladder else 1
        waits = [exchange[m - back]] if m - back >= 0 else []
        slots.append(OpSlot(f"m{m}", m, Stream.COMPUTE, "module", tuple(sorted(compute[-1:] + waits))))
        compute.append(len(slots) - 1)
        slots.append(OpSlot(f"a{m}", m, Stream.COMM, "allreduce", (compute[-1],)))
        exchange.append(len(slots) - 1)
    slots.append(OpSlot("head", -1, Stream.COMPUTE, "head", tuple(sorted(compute[-1:] + exchange))))
    costs = {"module": OpCost(2e-3, hbm_bytes=1.0), "allreduce": OpCost(3e-3, alpha_s=1e-3), "head": OpCost(1e-3, memory_bound=False)}
    template = PlanTemplate(0, 1, tuple(slots), frozenset(costs))
    return StepPlan(0, BatchShape.decode([1]), template, costs, tp=2)


def test_fold_schedules_a_toy_plan_as_by_hand() -> None:
    """By hand, in ms. Megatron: m0 0-2, a0 2-5, m1 5-7, a1 7-10, m2 10-12, a2 12-15, m3 15-17,
    a3 17-20, head 20-21: makespan 21, compute busy 9, exposed 12 = all 4 all-reduces.
    Ladder: m0 0-2, a0 2-5, m1 2-4, a1 5-8 (the comm stream is busy until 5), m2 waits a0: 5-7,
    a2 8-11, m3 waits a1: 8-10, a3 11-14, head waits a3: 14-15: makespan 15, exposed 6."""
    megatron, ladder = fold(_toy_plan(False)), fold(_toy_plan(True))
    assert isinstance(megatron, Fold)
    assert (megatron.makespan_s, megatron.exposed_comm_s) == pytest.approx((21e-3, 12e-3), rel=1e-12)
    assert (ladder.makespan_s, ladder.exposed_comm_s) == pytest.approx((15e-3, 6e-3), rel=1e-12)
    assert (ladder.compute_s, ladder.memory_s, ladder.comm_s) == pytest.approx((9e-3, 8e-3, 12e-3), rel=1e-12)
    # the exposed time splits like the collectives: 1 ms of each 3 ms is latency
    assert (ladder.exposed_alpha_s, ladder.exposed_beta_s) == pytest.approx((2e-3, 4e-3), rel=1e-12)
    assert [end for _, _, end in timeline(_toy_plan(True))][-1] == pytest.approx(15e-3, rel=1e-12)


def test_vocab_parallel_embedding_is_all_reduced() -> None:
    dep = deployment(tp=8)
    assert dep.runtime.shard_lm_head and dep.embedding_params_per_gpu() == 32000 * 4096 / 8
    ops = build_stage_plan(dep, 0, BatchShape.decode([100])).ops
    index = {op.name: i for i, op in enumerate(ops)}
    first_layer = ops[index["L0.attn"]]
    waited = [ops[i] for i in first_layer.after if ops[i].stream is Stream.COMM]
    assert waited, "L0.attn must wait for the embedding's all-reduce"


# ---- chunked overlap: same work, split in token chunks -------------------------------------------
@pytest.mark.parametrize("tokens", [4, 8, 64])
def test_chunked_overlap_does_the_same_work_when_chunks_divide_evenly(tokens: int) -> None:
    # plan.py: chunked-overlap is "exact": the FLOPs and the all-reduced bytes equal megatron's
    shape = BatchShape.mixed([(0, tokens, True)])
    megatron = fold(build_stage_plan(deployment(tp=8), 0, shape))
    chunked = fold(build_stage_plan(deployment(tp=8, tp_mode="chunked-overlap", tp_chunks=2), 0, shape))
    assert chunked.flops == pytest.approx(megatron.flops, rel=1e-12)
    assert chunked.net_bytes == pytest.approx(megatron.net_bytes, rel=1e-12)
    assert chunked.makespan_s >= max(chunked.compute_s + chunked.launch_s, chunked.comm_s) * (1 - REL)


def test_chunked_overlap_does_the_same_work_for_uneven_chunks() -> None:
    shape = BatchShape.mixed([(0, 5, True)])
    megatron = fold(build_stage_plan(deployment(tp=8), 0, shape))
    chunked = fold(build_stage_plan(deployment(tp=8, tp_mode="chunked-overlap", tp_chunks=2), 0, shape))
    assert chunked.flops == pytest.approx(megatron.flops, rel=1e-9)


@pytest.mark.parametrize("spec, rows", [
    # Llama-3.1-70B NVFP4 on 8 x B200, TensorRT-LLM: NVFP4 GEMMs with their k-loops (costmodel/fp4_gemm.py)
    ({"model": "llama-3.1-70b", "precision": {"weights": "nvfp4", "kv_cache": "fp8"}, "runtime": "trt-llm",
      "hardware": {"gpu": "b200", "gpus_per_node": 8}, "parallelism": {"tp": 8}}, 4),
    # gpt-oss-120b on one H200, vLLM: Marlin's FP4 decode outlasts the experts' stream at batch 16
    ({"model": "gpt-oss-120b", "runtime": "vllm", "hardware": {"gpu": "h200"}}, 16),
    # Llama-2-7B int8 on an A100, gpt-fast: the dequantisation adds to the stream (no overlap)
    ({"model": "llama-2-7b", "precision": {"weights": "int8"}, "runtime": "gpt-fast", "hardware": {"gpu": "a100-80gb"}}, 1),
])
def test_the_fold_splits_compute_into_stream_math_decode_and_serial_latency(spec, rows) -> None:
    """stream_s + math_s + dequant_s + serial_s = compute_s, each part the sum over the ops of their
    OpCost fields (the one split explain and a run's accounting read), the same op by op."""
    from simdecode.costmodel.fold import fold_slots

    dep = Deployment.from_scenario(Scenario.model_validate(spec))
    plan = build_stage_plan(dep, 0, BatchShape.decode([1024] * rows))
    f, g = fold(plan), fold_slots(plan)
    for name in ("dequant_s", "dequant_memory_s", "serial_s", "serial_memory_s"):
        assert getattr(f, name) == pytest.approx(getattr(g, name), rel=REL)
    compute_ops = [op for op in plan if op.stream is Stream.COMPUTE and op.kind != "host"]
    assert f.serial_s == pytest.approx(sum(op.cost.serial_s for op in compute_ops), rel=REL)
    assert f.dequant_s == pytest.approx(sum(op.cost.dequant_bound_s for op in compute_ops), rel=REL)
    assert f.dequant_s + f.serial_s > 0
    assert f.stream_s + f.math_s + f.dequant_s + f.serial_s == pytest.approx(f.compute_s, rel=1e-9)
    if dep.gpu.compute_capability == 10.0:  # 80 layers x 0.705 ns x (8192 + 1024 + 8192 + 3584)
        assert f.serial_s == pytest.approx(80 * 0.705e-9 * 20992, rel=1e-9)
