from tests.tp_schedules.plans import exchanges, waits


def test_one_all_reduce_per_layer_after_the_mlp():
    assert exchanges("parallel-block") == ["L0.mlp.allreduce", "L1.mlp.allreduce"]
    w = waits("parallel-block")
    # attention and MLP of a layer read the same input: the MLP waits for nothing new
    assert (w["L0.attn"], w["L0.mlp"], w["L1.attn"], w["L1.mlp"]) == (
        {"embed.allreduce"}, set(), {"L0.mlp.allreduce"}, set())
