"""llama.cpp's GGUF block formats and its runtime preset (issue 13, the RTX Pro 6000 + llama.cpp
system): bytes per weight from ggml-common.h's block structs, and the preset checked against
llama.cpp's own llama-bench figures on another GPU (RTX 6000 Ada, ggml-org/llama.cpp PR #19053),
not against the scenario it serves."""

from __future__ import annotations

import pytest

from simdecode.costmodel.precision import weight_bytes_per_value
from simdecode.scenario.loader import scenario_from_dict
from simdecode import simulate


@pytest.mark.parametrize(("dtype", "block_bytes", "block_values"), [
    ("q8_0", 2 + 32, 32),                   # fp16 d + 32 int8
    ("q4_0", 2 + 16, 32),                   # fp16 d + 32 nibbles
    ("q4_k", 2 + 2 + 12 + 128, 256),        # fp16 d, dmin + 12 B of 6-bit scales/mins + 256 nibbles
    ("q5_k", 2 + 2 + 12 + 32 + 128, 256),   # as q4_k + 32 B of fifth bits
    ("q6_k", 128 + 64 + 16 + 2, 256),       # 4 low bits + 2 high bits + 16 int8 scales + fp16 d
])
def test_gguf_bytes_per_weight_are_the_block_structs_sizes(dtype, block_bytes, block_values):
    assert weight_bytes_per_value(dtype) == pytest.approx(block_bytes / block_values)


def test_q4_k_is_four_and_a_half_bits_and_q6_k_six_and_nine_sixteenths():
    assert weight_bytes_per_value("q4_k") * 8 == pytest.approx(4.5)
    assert weight_bytes_per_value("q6_k") * 8 == pytest.approx(6.5625)


#: RTX 6000 Ada Generation: 48 GB GDDR6 at 960 GB/s (NVIDIA datasheet); the L40S is the same AD102
#: board with the same memory system, its preset gives the FLOP rates.
ADA = {"preset": "l40s", "memory_bandwidth": "960 GB/s", "memory": "48 GB"}
LLAMA_3_2_3B = dict(name="llama-3.2-3b", num_hidden_layers=28, hidden_size=3072, num_attention_heads=24,
                    num_key_value_heads=8, intermediate_size=8192, vocab_size=128256, tie_word_embeddings=True)


def _tg_tps(model, precision) -> float:
    """llama-bench tg: one sequence, a short context, tokens generated one at a time."""
    scenario = scenario_from_dict(dict(
        name="llama-bench-tg", seed=0, model=model,
        precision=dict(precision, kv_cache="fp16", activations="fp16"),
        hardware=dict(gpu=ADA, gpus_per_node=1), runtime="llama.cpp",
        workload=dict(arrival={"kind": "closed", "concurrency": 1}, requests=1, prompt_tokens=16,
                      output_tokens=32)))
    return simulate(scenario).summary()["per_request_tps"]["mean"]


def test_llamacpp_preset_reproduces_llama_bench_8b_q4_0_on_an_rtx_6000_ada():
    """PR #19053: Llama-3.1-8B Q4_0, tg128, 168.87 tok/s. 4.37 GB per token (7.0e9 linear weights
    x 0.5625 B + the 525e6-weight output matrix in q6_k x 0.82 B) at 0.9 x 960 GB/s = 5.06 ms,
    + 32 x 19 + 2 kernels x 1.3 us = 0.79 ms, + 50 us: 5.9 ms = 169 tok/s. The preset's
    memory_efficiency comes from this point, so it must land close."""
    tps = _tg_tps("llama-3.1-8b", {"weights": "q4_0", "embeddings": "q6_k"})
    assert tps == pytest.approx(168.87, rel=0.05)


def test_llamacpp_preset_predicts_llama_bench_3b_q4_k_m_on_an_rtx_6000_ada():
    """The same PR's Llama-3.2-3B Q4_K_M, tg128: 315.5 tok/s, a point the preset was not set from.
    A smaller model: the kernel boundaries are a larger share of its token."""
    tps = _tg_tps(LLAMA_3_2_3B, {"attention": "q4_k", "mlp": "q4_k", "embeddings": "q6_k"})
    assert tps == pytest.approx(315.5, rel=0.10)
