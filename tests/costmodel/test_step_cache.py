"""Step costs cached per distinct shape, and the one-pass fold (issue 15, part 1).

The cost of the ops that do not read the context (MLP, all-reduces, embedding, head) is kept per
(stage, chunks, seqs, new tokens, logit tokens); attention is computed every step. If a cached
kind came to depend on anything else in the shape, a step sharing the key but not that field would
reuse a wrong cost: these tests walk random shapes that share keys and differ in everything else,
through deployments that persist between examples (so the cache is warm, as in a simulation), and
compare with costs computed from scratch. The one-pass fold (sums by kind, chains summed) is
compared with the op-by-op list scheduling it replaced.
"""

from __future__ import annotations

import math
from functools import lru_cache

from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold, fold_slots
from simdecode.costmodel.plan import _kind_costs, build_stage_plan
from simdecode.scenario.schema import Scenario

LAYOUTS = [
    # (model, gpu, tp, pp, parallelism extras, runtime)
    ("llama-2-7b", "h100-sxm", 8, 1, {}, "vllm"),
    ("llama-2-7b", "mi300x", 4, 2, {"tp_mode": "ladder"}, "default"),
    ("llama-3.2-1b", "h100-pcie", 2, 1, {"tp_mode": "delayed", "tp_delay": 1}, "default"),
    ("llama-3.2-1b", "h100-sxm", 4, 1, {"tp_mode": "chunked-overlap", "tp_chunks": 3}, "default"),
    ("llama-3.2-1b", "h100-sxm", 2, 1, {"tp_mode": "parallel-block"}, "default"),
    ("mixtral-8x7b", "h100-sxm", 8, 1, {"ep": 8}, "vllm"),
    ("mixtral-8x7b", "h100-sxm", 2, 1, {}, "default"),
    ("deepseek-v3", "h200", 8, 2, {}, "vllm"),  # MLA and MoE
    ("gpt-oss-120b", "h100-sxm", 4, 1, {}, "vllm"),  # sliding-window layers
    ("llama-3.1-8b", "h100-sxm", 1, 1, {}, "vllm"),
    ("qwen3.5-397b-a17b", "b200", 8, 1, {}, "vllm"),  # linear attention: a fixed state per sequence
    ("deepseek-v3.2", "b200", 8, 2, {}, "vllm"),  # DSA: the indexer reads the whole context
    ("nemotron-nano-9b-v2", "h100-sxm", 2, 1, {}, "vllm"),  # Mamba-2, attention or MLP alone per layer
    # DeepSeek-V4: window, compressed-sparse and heavily-compressed layers (two token caps)
    ("deepseek-v4-flash", "h200", 8, 2, {}, "vllm"),
    ("deepseek-v4-pro", "b200", 8, 1, {"ep": 8}, "vllm"),
    # attention data parallelism: attention, dense MLPs, shared experts on the busiest rank's share
    ("deepseek-v3", "h200", 8, 1, {"ep": 8, "attention_dp": True}, "trt-llm"),
    ("mixtral-8x7b", "h100-sxm", 4, 1, {"ep": 2, "attention_dp": True}, "sglang"),
    # consecutive tokens of a sequence share experts: the MoE's cost reads the sequence count
    ({"preset": "mixtral-8x7b", "routing_correlation": 0.5}, "h100-sxm", 4, 1, {}, "vllm"),
]


@lru_cache(maxsize=None)
def deployment(index: int) -> Deployment:
    model, gpu, tp, pp, extra, runtime = LAYOUTS[index]
    model = dict(model) if isinstance(model, dict) else model
    return Deployment.from_scenario(Scenario.model_validate({
        "model": model, "runtime": runtime, "hardware": {"gpu": gpu, "nodes": 2},
        "parallelism": {"tp": tp, "pp": pp, **extra},
    }))


def fresh(index: int) -> Deployment:
    """The same deployment with empty caches."""
    dep = deployment(index)
    return Deployment(**{name: getattr(dep, name) for name in Deployment.__dataclass_fields__
                         if name not in ("templates", "step_costs")})


parts = st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 600), st.booleans()), min_size=1, max_size=8)


@st.composite
def shapes(draw) -> BatchShape:
    """Shapes from small domains, so that a run of them often shares some fields and not others."""
    seqs = draw(st.integers(1, 3))
    new = draw(st.integers(seqs, seqs + 2))
    kv = draw(st.integers(0, 10**6))
    pairs = draw(st.integers(new, 10**7))
    return BatchShape(seqs, new, draw(st.integers(0, seqs)), kv, pairs, draw(st.integers(0, kv)),
                      draw(st.integers(new, pairs)), sparse_kv_read_tokens=draw(st.integers(0, kv)),
                      sparse_attn_pairs=draw(st.integers(new, pairs)))


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, len(LAYOUTS) - 1), run=st.lists(shapes(), min_size=2, max_size=12))
def test_cached_costs_equal_costs_from_scratch(index: int, run: list[BatchShape]) -> None:
    dep = fresh(index)  # one cache for the run of shapes, as in one simulation
    for shape in run:
        for stage in range(dep.pp):
            cached = build_stage_plan(dep, stage, shape)
            scratch_dep = fresh(index)
            template = build_stage_plan(scratch_dep, stage, shape).template
            assert cached.costs == _kind_costs(scratch_dep, template, shape, template.kinds), shape


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, len(LAYOUTS) - 1), parts=parts)
def test_one_pass_fold_equals_list_scheduling(index: int, parts) -> None:
    dep = deployment(index)
    for stage in range(dep.pp):
        plan = build_stage_plan(dep, stage, BatchShape.mixed(parts, dep.window))
        a, b = fold(plan), fold_slots(plan)
        for name in a.__dataclass_fields__:
            x, y = getattr(a, name), getattr(b, name)
            assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12 * a.makespan_s), name


def test_chain_plans_are_recognised() -> None:
    """Megatron, parallel-block and tp 1 plans are chains; ladder and chunked overlap are not."""
    shape = BatchShape.decode([100, 200])
    chain = {i: build_stage_plan(deployment(i), 0, shape).template.is_chain for i in range(len(LAYOUTS))}
    assert chain[0] and chain[4] and chain[5] and chain[6] and chain[9]
    assert not chain[1] and not chain[3]


def test_a_ladder_plan_is_shorter_than_its_ops_summed() -> None:
    """The ladder's makespan is list-scheduled, not summed: overlap shows (a check that could fail
    if non-chains were summed)."""
    dep = deployment(1)
    plan = build_stage_plan(dep, 0, BatchShape.decode([1000] * 4))
    f = fold(plan)
    assert f.makespan_s < f.compute_s + f.launch_s + f.host_s + f.comm_s
    assert f.exposed_comm_s < f.comm_s
