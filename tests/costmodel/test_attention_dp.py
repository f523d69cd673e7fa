"""Attention data parallelism (costmodel/attention_dp.py): memory, KV capacity, step costs, collectives, checks."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.costmodel import attention_dp, collectives, memory
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.plan import Stream, build_stage_plan
from simdecode.costmodel.residual import residual_bytes
from simdecode.errors import ScenarioError
from simdecode.scenario.loader import scenario_from_dict
from simdecode.scenario.schema import Scenario

#: DeepSeek-V3's MLA projections per layer (config.json: h 7168, q_lora 1536, kv_lora 512, 128 heads,
#: qk_nope 128, qk_rope 64, v 128): q_a 7168 x 1536, q_b 1536 x 128 x 192, kv_a 7168 x 576,
#: kv_b 512 x 128 x 256, o 128 x 128 x 7168
Q_A, Q_B, KV_A, KV_B, O = 11_010_048, 37_748_736, 4_128_768, 16_777_216, 117_440_512
MLA_PARAMS = Q_A + Q_B + KV_A + KV_B + O  # 187,105,280


def scenario(adp: bool = True, tp: int = 8, model: str = "deepseek-v3", runtime: str = "trt-llm", **extra) -> Scenario:
    """A scenario through the loader's path (a bad one raises one ScenarioError naming the key)."""
    par = {"tp": tp, "ep": tp, "attention_dp": adp, **extra.pop("parallelism", {})}
    return scenario_from_dict({
        "model": model, "precision": {"weights": "fp8", "kv_cache": "fp8", "activations": "bf16"},
        "hardware": {"gpu": "h200"}, "runtime": runtime, "parallelism": par, **extra})


def dep(adp: bool = True, **kw) -> Deployment:
    return Deployment.from_scenario(scenario(adp, **kw))


# ---- memory -------------------------------------------------------------------------------------

def test_attention_weights_are_whole_on_every_gpu():
    # tp 8: q_a and kv_a replicated, the rest split 8 ways; attention DP: all of it on every GPU
    assert MLA_PARAMS == 187_105_280
    assert dep(False).attention_params_per_gpu(5) == Q_A + KV_A + (Q_B + KV_B + O) / 8 == 36_634_624
    assert dep(True).attention_local.attention_params_per_gpu(5) == MLA_PARAMS


def test_weights_per_gpu_add_the_replicated_attention_dense_shared_and_head():
    a, t = dep(True), dep(False)
    b = a.bytes_of  # fp8 with its block scales, per module
    # 61 MLA layers: 187,105,280 - 36,634,624 = 150,470,656 more each; 3 dense MLPs (3 x 7168 x 18432 x 3)
    # and 58 shared experts (3 x 7168 x 2048) whole instead of 1/8; embedding and LM head (129,280 x 7168
    # each) whole instead of vocab-parallel
    extra = (61 * 150_470_656 * b("attention") + 1_189_085_184 * 7 / 8 * b("mlp")
             + 58 * 44_040_192 * 7 / 8 * b("mlp") + 2 * 926_679_040 * 7 / 8 * b("embeddings"))
    assert a.weight_bytes_per_gpu(0) - t.weight_bytes_per_gpu(0) == pytest.approx(extra, rel=1e-12)
    # the routed experts stay split: 58 x 256 x 44,040,192 / 8 in both
    assert extra / 1e9 == pytest.approx(14.08, abs=0.01)


def test_kv_capacity_is_per_rank_and_the_replica_holds_tp_times_one_gpus():
    s = scenario(True)
    a = Deployment.from_scenario(s)
    # MLA: 576 cached values per token per layer, fp8, 61 layers = 35,136 B on the GPU serving it
    assert a.kv_bytes_per_token_per_gpu() == 576 * 61 == 35_136
    per_gpu_blocks = int(memory.kv_budget_bytes(s, a) / 35_136) // s.scheduler.kv_block_tokens
    assert memory.kv_capacity_blocks(s, a) == 8 * per_gpu_blocks
    # TP replicates the latent on all 8: the replica holds only one GPU's worth
    t_s = scenario(False)
    t = Deployment.from_scenario(t_s)
    assert memory.kv_capacity_blocks(t_s, t) == int(memory.kv_budget_bytes(t_s, t) / 35_136) // 32
    assert memory.kv_capacity_blocks(s, a) > 5 * memory.kv_capacity_blocks(t_s, t)


# ---- the busiest rank ---------------------------------------------------------------------------

def test_decodes_spread_ceil_over_the_ranks_longest_context_first():
    # 10 decodes (contexts 1000, 900, ..., 100) over 4 ranks, longest first, each to the rank with the
    # fewest (new, cached) tokens, ties to the lowest index: 1000 900 800 700 to r0..r3; 600 to r3,
    # 500 to r2, 400 to r1, 300 to r0 (each then holds 2 and 1300 cached); 200 to r0, 100 to r1.
    # r0 {1000, 300, 200}: 3 sequences, 1500 cached tokens, the busiest
    parts = [(c, 1, True) for c in range(100, 1001, 100)]
    rank = attention_dp.busiest_rank(parts, 4)
    assert (rank.seqs, rank.new_tokens, rank.logit_tokens, rank.kv_read_tokens) == (3, 3, 3, 1500)
    assert attention_dp.busiest_rank(parts, 1) == BatchShape.mixed(parts)


def test_a_prefill_chunk_sets_its_ranks_work_alone():
    # one 1000-token prefill and 7 decodes over 8 ranks: the prefill's rank is the busiest, alone
    parts = [(0, 1000, True)] + [(500, 1, True)] * 7
    rank = attention_dp.busiest_rank(parts, 8)
    assert (rank.seqs, rank.new_tokens, rank.kv_read_tokens) == (1, 1000, 0)
    assert rank.attn_pairs == 1000 * 1001 / 2


def test_even_rank_takes_ceil_of_the_sequences():
    shape = BatchShape.decode([1000] * 64)
    rank = attention_dp.even_rank(shape, 8)
    assert rank.seqs == 8 and rank.kv_read_tokens == 8_000 and rank.attn_pairs == 8 * 1001
    odd = attention_dp.even_rank(BatchShape.decode([1000] * 9), 8)
    assert odd.seqs == 2 and odd.kv_read_tokens == 2_000


# ---- collectives --------------------------------------------------------------------------------

def test_gather_and_scatter_bytes_by_hand():
    a = dep(True)
    # 64 tokens: hidden state 7168 x 2 B, plus 8 x (int32 id + fp32 weight)
    assert attention_dp.gather_bytes(a, 64) == 64 * (7168 * 2 + 8 * 8) == 921_600
    assert attention_dp.scatter_bytes(a, 64) == 64 * 7168 * 2 == 917_504


def test_reduce_scatter_costs_one_ring_pass_like_an_all_gather():
    a = dep(True)
    rs = collectives.reduce_scatter(917_504, 8, a.link, a.runtime)
    ag = collectives.all_gather(917_504, 8, a.link, a.runtime)
    assert rs.time_s == ag.time_s and rs.algorithm == "reduce-scatter"
    # (p - 1)/p of the bytes over the link: 7/8 x 917,504 B at NVLink4's bandwidth share is tens of us
    assert 7 / 8 * 917_504 / a.link.bandwidth_Bps < rs.beta_s < 3 * 7 / 8 * 917_504 / a.link.bandwidth_Bps
    assert collectives.reduce_scatter(1e6, 1, a.link, a.runtime).time_s == 0.0


# ---- the step plan ------------------------------------------------------------------------------

def test_plan_has_no_all_reduce_and_a_gather_and_scatter_around_each_moe_block():
    a = dep(True)
    plan = build_stage_plan(a, 0, BatchShape.decode([1000] * 16))
    kinds = [op.kind for op in plan]
    assert "allreduce" not in kinds and "allreduce.embed" not in kinds and "gather" not in kinds
    moe_layers = 61 - 3
    assert kinds.count("dispatch") == kinds.count("combine") == kinds.count("mlp.moe") == moe_layers
    for i, op in enumerate(plan.ops):
        if op.kind == "dispatch":
            assert op.stream is Stream.COMM and plan.ops[i + 1].kind == "mlp.moe"


def test_attention_runs_the_busiest_ranks_sequences_with_whole_weights():
    a = dep(True)
    parts = [(1000, 1, True)] * 8
    shape = replace(BatchShape.mixed(parts), rank=attention_dp.busiest_rank(parts, 8))
    attn = next(op for op in build_stage_plan(a, 0, shape) if op.kind == "attn").cost
    # one sequence on the rank: the whole MLA weights (fp8 + block scales), its 1000 cached + 1 new latent
    # entries (576 fp8 values each) and the residual stream of its one token
    expected = MLA_PARAMS * a.bytes_of("attention") + 1001 * 576 + residual_bytes(1, 7168, 2)
    assert attn.hbm_bytes == pytest.approx(expected, rel=1e-9)
    # tp 8 reads 1/8 of the projections but every sequence's latent
    t = dep(False)
    tattn = next(op for op in build_stage_plan(t, 0, BatchShape.mixed(parts)) if op.kind == "attn").cost
    assert tattn.hbm_bytes == pytest.approx(36_634_624 * t.bytes_of("attention") + 8 * 1001 * 576
                                            + residual_bytes(8, 7168, 2), rel=1e-9)


def test_shared_experts_and_router_run_the_ranks_tokens_routed_experts_all():
    a = dep(True)
    parts = [(1000, 1, True)] * 64
    shape = replace(BatchShape.mixed(parts), rank=attention_dp.busiest_rank(parts, 8))
    moe = next(op for op in build_stage_plan(a, 0, shape) if op.kind == "mlp.moe").cost
    t_moe = next(op for op in build_stage_plan(dep(False), 0, BatchShape.mixed(parts)) if op.kind == "mlp.moe").cost
    # routed experts: 2 x (expert / 8) x 64 tokens x 8 choices FLOPs on both; the shared expert: whole
    # for 8 tokens under attention DP (2 x 44,040,192 x 8), 1/8 for 64 under tp (the same FLOPs)
    routed = 2 * 44_040_192 / 8 * 64 * 8
    router_adp, router_tp = 2 * 7168 * 256 * 8, 2 * 7168 * 256 * 64
    permute = 2 * 64 * 8 * 7168
    assert moe.flops == pytest.approx(routed + 2 * 44_040_192 * 8 + router_adp + permute)
    assert t_moe.flops == pytest.approx(routed + 2 * 44_040_192 / 8 * 64 + router_tp + permute)


def test_trtllm_expert_parallel_without_attention_dp_keeps_the_all_reduce():
    kinds = [op.kind for op in build_stage_plan(dep(False), 0, BatchShape.decode([100] * 4))]
    assert "dispatch" not in kinds and kinds.count("allreduce") == 2 * 61
    # an engine that dispatches (SGLang's DeepEP path, as the model stood): all-to-all at each MoE block
    sg = [op.kind for op in build_stage_plan(dep(False, runtime="sglang"), 0, BatchShape.decode([100] * 4))]
    assert sg.count("dispatch") == 58 and sg.count("allreduce") == 61 + 3


def test_a_step_lasts_at_least_as_long_as_the_busiest_rank_needs():
    # the same 64 decodes, once spread evenly and once with one rank holding 15 of them
    a = dep(True)
    even = [(1000, 1, True)] * 64
    shape = BatchShape.mixed(even)
    balanced = build_stage_plan(a, 0, replace(shape, rank=attention_dp.busiest_rank(even, 8)))
    skewed = build_stage_plan(a, 0, replace(shape, rank=BatchShape.decode([1000] * 15)))
    t = lambda plan: sum(op.time_s for op in plan if op.kind == "attn")  # noqa: E731
    assert t(skewed) > t(balanced)


# ---- invariants ---------------------------------------------------------------------------------

MOE_MODELS = ("deepseek-v3", "mixtral-8x7b", "qwen3-235b-a22b", "gpt-oss-120b", "qwen3.5-397b-a17b")


@settings(max_examples=20, deadline=None)
@given(model=st.sampled_from(MOE_MODELS), tp=st.sampled_from((2, 4, 8)))
def test_attention_dp_never_adds_kv_bytes_per_request(model, tp):
    """Summed over a replica's GPUs, one request's KV bytes per token never grow under attention DP
    (equal when TP splits the KV heads evenly, tp times less when TP replicates them: MLA's latent);
    the GPU holding it holds at most the model's whole cache per token."""
    try:
        a, t = dep(True, tp=tp, model=model), dep(False, tp=tp, model=model)
    except ScenarioError:  # a split the model does not allow (ep must divide its experts, tp its heads)
        return
    adp_total = a.kv_bytes_per_token_per_gpu()          # on the one GPU that serves the request
    tp_total = tp * t.kv_bytes_per_token_per_gpu()       # on every GPU of the group
    assert adp_total <= tp_total + 1e-9
    assert adp_total == pytest.approx(dep(False, tp=1, model=model, parallelism={"ep": 1}).kv_bytes_per_token_per_gpu())


@settings(max_examples=25, deadline=None)
@given(contexts=st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 600)), min_size=1, max_size=40),
       ranks=st.integers(1, 8))
def test_busiest_rank_holds_a_share_and_no_sequence_is_lost(contexts, ranks):
    """Every sequence lands on one rank: the busiest holds at least the mean share of the new tokens
    and at most all of them, and at least one sequence."""
    parts = [(c, n, True) for c, n in contexts]
    whole = BatchShape.mixed(parts)
    rank = attention_dp.busiest_rank(parts, ranks)
    assert 1 <= rank.seqs <= whole.seqs
    assert whole.new_tokens / ranks - 1e-9 <= rank.new_tokens <= whole.new_tokens
    assert rank.seqs >= -(-whole.seqs // ranks) or rank.new_tokens > whole.new_tokens / ranks


@settings(max_examples=6, deadline=None)
@given(layout=st.sampled_from((("deepseek-v3", 8), ("qwen3-235b-a22b", 4), ("mixtral-8x7b", 2))),
       concurrency=st.integers(1, 40), balance=st.sampled_from((0, 3, 60)), seed=st.integers(0, 2**16))
def test_simulation_conserves_requests_and_returns_every_kv_block(layout, concurrency, balance, seed):
    """Every request submitted finishes with all its tokens, and the pooled KV blocks all come back,
    whatever the ranks, the load and the balancing wait."""
    from simdecode.engine.simulation import simulate

    model, tp = layout
    n = 2 * concurrency
    s = scenario(True, tp=tp, model=model, seed=seed,
                 workload={"arrival": {"kind": "closed", "concurrency": concurrency}, "requests": n,
                           "prompt_tokens": {"dist": "uniform", "low": 200, "high": 900},
                           "output_tokens": {"dist": "uniform", "low": 8, "high": 40}},
                 scheduler={"adp_balance_iters": balance}, simulation={"fidelity": "step"})
    result = simulate(s)
    assert len(result.requests) == n and not result.rejected
    assert all(r.finished_s >= r.first_token_s > 0 for r in result.requests)
    kv = result.monitors["kv_blocks"][0]
    assert kv.last_v == 0 and kv.max > 0  # every block back once the last request finished


# ---- checks -------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, words", [
    ({"model": "llama-3.1-8b", "parallelism": {"ep": 1}}, "mixture-of-experts"),
    ({"tp": 1, "parallelism": {"ep": 1}}, "tp > 1"),
    ({"tp": 4, "parallelism": {"pp": 2}}, "pipeline"),
    ({"parallelism": {"tp_mode": "parallel-block"}}, "tp_mode"),
    ({"decoding": {"method": "mtp", "speculative_tokens": 1}}, "speculative"),
])
def test_invalid_combinations_name_the_key(change, words):
    kw = dict(change)
    with pytest.raises(ScenarioError) as info:
        scenario(True, **kw)
    assert "parallelism.attention_dp" in str(info.value) and words in str(info.value)


def test_balancing_without_attention_dp_is_refused():
    with pytest.raises(ScenarioError) as info:
        scenario(False, scheduler={"adp_balance_iters": 60})
    assert "scheduler.adp_balance_iters" in str(info.value)


def test_explain_names_the_layout_the_exchanges_and_one_ranks_kv():
    from simdecode.present.explain import explain, render_explanation

    data = explain(scenario(True), context_tokens=1000, batch=64)
    text = " ".join(render_explanation(data).split())  # unwrapped
    assert "attention data-parallel over 8 ranks" in text and "ep 8" in text
    assert "58 x MoE all-gather" in text and "58 x MoE reduce-scatter" in text
    # 8 of the 64 sequences on one GPU: 8 x 1000 tokens x 35,136 B = 281 MB (TP: all 64, 2.25 GB)
    assert data["stages"][0]["kv_bytes_per_gpu"] == 8 * 1000 * 35_136


def test_a_tie_in_tokens_goes_to_the_rank_with_more_sequences():
    """Sequences (cached, new) = (0, 2), (0, 1), (0, 1) over 2 ranks: the 2-token one lands on rank 0,
    the two 1-token ones on rank 1; both hold 2 new tokens and 0 cached, and the busiest is rank 1,
    with its 2 sequences (hypothesis found the tie; the first rank used to win it)."""
    rank = attention_dp.busiest_rank([(0, 1, True), (0, 1, True), (0, 2, True)], 2)
    assert (rank.seqs, rank.new_tokens) == (2, 2)
