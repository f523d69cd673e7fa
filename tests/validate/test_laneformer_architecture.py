"""Laneformer 2B's architecture (DEC-13, issue 13) as its public sources give it: 15 layers, GQA 32/16
heads, 10 sliding-window layers, 8 lanes with a 2-layer delay (Kog's Hugging Face post), 2.3B
parameters (Kog's blog), exactly 2,320,069,632 (OpenMed's manifest for its MLX copy of
kogai/laneformer-2b-it). The width, MLP width, vocabulary and tying are derived from that count
(simdecode/validate/conditions.py); these tests redo the arithmetic by hand."""

from __future__ import annotations

from simdecode.costmodel.architecture import parameter_counts
from simdecode.scenario.schema import ModelSpec
from simdecode.tp_schedules.delayed import SCHEDULE as DELAYED
from simdecode.validate import conditions as cond

PUBLISHED_PARAMETERS = 2_320_069_632
LAYERS, HEADS, KV_HEADS, LLAMA2_VOCAB = 15, 32, 16, 32_000


def _total(d: int, f: int, vocab: int, tied: bool) -> int:
    """Kog's modeling code: q and o d x d, k and v d x d/2 (16 of 32 heads of width d/32), SwiGLU
    3 d f, two RMSNorm scales of d per layer, one final norm; the LM head d x vocab unless tied."""
    per_layer = 3 * d * d + 3 * d * f + 2 * d
    return LAYERS * per_layer + (1 if tied else 2) * vocab * d + d


def test_d_3072_f_12288_untied_is_the_published_parameter_count():
    # 15 x (3 x 3072^2 + 3 x 3072 x 12288 + 2 x 3072) = 15 x 141,563,904 = 2,123,458,560
    # + 2 x 32,000 x 3072 = 196,608,000, + 3072 = 2,320,069,632
    assert _total(3072, 12288, LLAMA2_VOCAB, tied=False) == 2_123_458_560 + 196_608_000 + 3072 == PUBLISHED_PARAMETERS


def test_no_other_width_fits_the_count_with_a_whole_mlp_width():
    """Every multiple of 64 from 1,024 to 8,192, tied or not: only d 3072, untied, leaves a whole
    SwiGLU width (then exactly 4d)."""
    fits = []
    for d in range(1024, 8193, 64):
        for tied in (False, True):
            rest = PUBLISHED_PARAMETERS - _total(d, 0, LLAMA2_VOCAB, tied)
            if rest > 0 and rest % (3 * d * LAYERS) == 0:
                fits.append((d, rest // (3 * d * LAYERS), tied))
    assert fits == [(3072, 12288, False)]


def test_simdecode_counts_the_same_parameters():
    """simdecode counts matrices, not norm scales: its total plus (2 x 15 + 1) x 3072 is the
    published count; fp16 over 8 GPUs is 580.0 MB each."""
    model = ModelSpec.model_validate(cond.STAND_INS["laneformer-2b"])
    total = parameter_counts(model).total
    assert total + (2 * LAYERS + 1) * 3072 == PUBLISHED_PARAMETERS
    assert (model.num_hidden_layers, model.num_attention_heads, model.kv_heads) == (LAYERS, HEADS, KV_HEADS)
    assert model.head_width == 3072 // HEADS == 96
    assert total * 2 / 8 == 579_993_600


def test_a_delay_of_two_layers_is_four_modules():
    """Kog's code (modeling_laneformer.py, ReduceMode.PAST): layer i folds in the other lanes'
    attention outputs of layer i - 2 after its attention (module 2i) and their MLP outputs of layer
    i - 2 after its MLP (module 2i + 1), so the module after each waits for the exchange of the
    module 4 before the one folding it in; layers 0 and 1 (modules 0-3) all-reduce at once
    (use_early_comm). tp_delay 4 with a sync start is that schedule, module by module."""
    layout = cond.TRAINED_LAYOUTS["laneformer-2b"]
    delta, start = layout["tp_delay"], layout["tp_delay_start"]
    assert (layout["tp"], delta, start) == (8, 4, "sync")
    broadcast_delay = 2
    for layer in range(broadcast_delay, LAYERS):
        for fold in (2 * layer, 2 * layer + 1):  # attention, then MLP, of this layer
            waiting = fold + 1
            if waiting >= 2 * LAYERS:
                continue
            assert DELAYED.waits(lambda k: [k], waiting, waiting, 0, delta, start) == [fold - 2 * broadcast_delay]
    for module in range(1, 2 * broadcast_delay + 1):  # the synchronous start: the module before, too
        assert DELAYED.waits(lambda k: [k], module, module, 0, delta, start)[0] == module - 1
    assert [DELAYED.exchanges("attn", g, 2 * LAYERS, delta, start) for g in range(2 * LAYERS)] == \
        [True] * (2 * LAYERS - delta) + [False] * delta  # the last 2 layers' outputs are never folded in
