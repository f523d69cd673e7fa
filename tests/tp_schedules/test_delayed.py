from tests.tp_schedules.plans import exchanges, waits


def test_delay_one_with_a_synchronous_start():
    """4 modules, delta 1, start sync: module 0's exchange is waited for at once by module 1 (sync),
    module 2 waits for module 0's (m - 1 - delta), module 3 for module 1's; module 3, the last
    delta modules, launches none; the lanes are averaged once before the head."""
    assert exchanges("delayed", tp_delay=1) == ["L0.attn.exchange", "L0.mlp.exchange", "L1.attn.exchange"]
    w = waits("delayed", tp_delay=1)
    assert (w["L0.attn"], w["L0.mlp"], w["L1.attn"], w["L1.mlp"]) == (
        {"embed.allreduce"}, {"L0.attn.exchange"}, {"L0.attn.exchange"}, {"L0.mlp.exchange"})
    assert w["lm_head"] == {"final.allreduce"}


def test_a_local_start_skips_the_first_exchanges_and_vocab_parallel_gathers_logits():
    assert exchanges("delayed", tp_delay=1, tp_delay_start="local") == ["L0.mlp.exchange", "L1.attn.exchange"]
    w = waits("delayed", tp_delay=1, tp_final="vocab-parallel")
    assert "final.allreduce" not in w["lm_head"]
