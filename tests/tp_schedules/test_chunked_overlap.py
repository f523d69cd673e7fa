from tests.tp_schedules.plans import exchanges, waits


def test_chunk_j_waits_only_for_chunk_j_of_the_previous_module():
    w = waits("chunked-overlap", tokens=2, tp_chunks=2)
    assert w["L0.mlp.0"] == {"L0.attn.allreduce.0"} and w["L0.mlp.1"] == {"L0.attn.allreduce.1"}
    assert w["L1.attn.1"] == {"L0.mlp.allreduce.1"}
    assert len(exchanges("chunked-overlap")) == 4  # one token: one chunk, the megatron plan
