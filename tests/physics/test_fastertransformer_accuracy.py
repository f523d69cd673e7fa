"""FasterTransformer's GPT-20B tables on A100-80GB (DEC-08: TP 1-8 at batch 1; BAT-06: batch 1-256
at TP1 and TP8), predicted with the presets as they are (nothing fitted to these cases).

GPT-20B as FasterTransformer's GPT guide describes it: 44 layers, 48 heads x 128 (hidden 6144),
a GELU MLP of 4 x hidden, fp16. The band is the serving issue's 25%.
"""

from __future__ import annotations

import pytest

from simdecode import simulate
from simdecode.scenario.schema import Scenario

GPT_20B = {"name": "gpt-20b (FasterTransformer guide)", "num_hidden_layers": 44, "hidden_size": 6144,
           "num_attention_heads": 48, "intermediate_size": 24576, "vocab_size": 51200, "mlp_gated": False,
           "tie_word_embeddings": True}


def e2e_ms(tp: int, batch: int, prompt: int, output: int) -> float:
    s = Scenario.model_validate({
        "model": GPT_20B, "precision": {"weights": "fp16", "kv_cache": "fp16", "activations": "fp16"},
        "hardware": {"gpu": "a100-80gb", "intra_node_link": "nvlink3"}, "runtime": "fastertransformer",
        "parallelism": {"tp": tp}, "scheduler": {"policy": "static"},
        "workload": {"arrival": {"kind": "closed", "concurrency": batch}, "requests": batch,
                     "prompt_tokens": prompt, "output_tokens": output},
        "simulation": {"fidelity": "step"},
    })
    return simulate(s).summary()["e2e_ms"]["mean"]


@pytest.mark.parametrize("tp, published_ms", [(1, 5609), (2, 3532), (4, 2438), (8, 2053)])
def test_dec08_batch1_latency_over_tp(tp, published_ms):
    """DEC-08: 80 prompt + 200 output tokens, batch 1."""
    assert e2e_ms(tp, 1, 80, 200) == pytest.approx(published_ms, rel=0.25)


@pytest.mark.parametrize("batch, tp8_ms, tp1_ms", [(1, 212, 560), (32, 325, 933), (256, 1152, 4141)])
def test_bat06_latency_over_batch(batch, tp8_ms, tp1_ms):
    """BAT-06: 60 prompt + 20 output tokens; latency grows far less than the batch (memory-bound
    decode turning compute-bound)."""
    assert e2e_ms(8, batch, 60, 20) == pytest.approx(tp8_ms, rel=0.25)
    assert e2e_ms(1, batch, 60, 20) == pytest.approx(tp1_ms, rel=0.25)
