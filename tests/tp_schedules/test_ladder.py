from tests.tp_schedules.plans import exchanges, waits


def test_module_m_waits_for_the_all_reduce_of_m_minus_2():
    assert len(exchanges("ladder")) == 4
    w = waits("ladder")
    assert (w["L0.attn"], w["L0.mlp"], w["L1.attn"], w["L1.mlp"]) == (
        {"embed.allreduce"}, set(), {"L0.attn.allreduce"}, {"L0.mlp.allreduce"})
