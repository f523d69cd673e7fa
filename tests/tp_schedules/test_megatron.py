from tests.tp_schedules.plans import exchanges, waits


def test_every_module_all_reduces_and_the_next_waits_for_it():
    assert exchanges("megatron") == ["L0.attn.allreduce", "L0.mlp.allreduce", "L1.attn.allreduce", "L1.mlp.allreduce"]
    w = waits("megatron")
    assert (w["L0.attn"], w["L0.mlp"], w["L1.attn"], w["L1.mlp"]) == (
        {"embed.allreduce"}, {"L0.attn.allreduce"}, {"L0.mlp.allreduce"}, {"L1.attn.allreduce"})
    assert w["lm_head"] == set(exchanges("megatron"))  # every exchange lands before the head reads
