"""benchmarks/client_prompt_lengths.py: the InferenceX client's three prompt procedures, checked by
hand on a toy tokenizer whose decode and encode do not round-trip (as BPE's do not)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "client_prompt_lengths.py"


def _script():
    spec = importlib.util.spec_from_file_location("simdecode_client_prompt_lengths", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ToyTokenizer:
    """Characters a, b, c; one merge rule, "ab"; a token "ca" that encoding never produces; BOS.

    So decode -> encode shortens "ab" (2 ids -> 1) and lengthens "ca" (1 id -> 2)."""

    pieces = {0: "a", 1: "b", 2: "c", 3: "ab", 4: "ca"}
    ids = {"a": 0, "b": 1, "c": 2}
    vocab_size = 5
    bos = 5

    def decode(self, ids):
        return "".join(self.pieces[i] for i in ids)

    def encode(self, text, add_special_tokens=True):
        out, i = [], 0
        while i < len(text):
            if text[i:i + 2] == "ab":
                out.append(3)
                i += 2
            else:
                out.append(self.ids[text[i]])
                i += 1
        return ([self.bos] if add_special_tokens else []) + out


class FixedRng:
    """Pads with "c" (id 2), which merges with nothing."""

    def randint(self, low, high, size):
        return np.full(size, 2)


def test_raw_prompt_reaches_the_server_with_another_length():
    s, tok = _script(), ToyTokenizer()
    # [4, 4] decodes to "caca", which encodes as c, a, c, a: 4 tokens + BOS for 2 asked
    assert s.server_tokens(tok, s.prompt_raw(tok, [4, 4], 2, FixedRng())) == 5
    # [0, 1, 0, 1] decodes to "abab", which encodes as ab, ab: 2 tokens + BOS for 4 asked
    assert s.server_tokens(tok, s.prompt_raw(tok, [0, 1, 0, 1], 4, FixedRng())) == 3


def test_once_cuts_what_grew_but_keeps_what_shrank():
    s, tok = _script(), ToyTokenizer()
    # "caca" -> [c, a, c, a] cut to 2 -> "ca" -> c, a: the 2 asked + BOS
    assert s.prompt_once(tok, [4, 4], 2, FixedRng()) == "ca"
    assert s.server_tokens(tok, s.prompt_once(tok, [4, 4], 2, FixedRng())) == 3
    # "abab" re-encodes to 2 tokens, fewer than the 4 asked: nothing pads it
    assert s.server_tokens(tok, s.prompt_once(tok, [0, 1, 0, 1], 4, FixedRng())) == 3


def test_retry_pads_until_the_text_has_the_length_asked():
    s, tok = _script(), ToyTokenizer()
    # "abab" -> [ab, ab] + two pads "c" -> "ababcc" -> ab, ab, c, c: 4 tokens, exact
    prompt = s.prompt_retry(tok, [0, 1, 0, 1], 4, FixedRng())
    assert prompt == "ababcc"
    assert s.server_tokens(tok, prompt) == 5


def test_client_draws_lengths_in_the_clients_order():
    s = _script()
    reqs = s.client_requests(vocab_size=1000, input_len=10, num_prompts=3, seed=0)
    rs = np.random.RandomState(0)
    rs.randint(0, 1000, size=0)
    lens = rs.randint(8, 11, size=3)
    rs.randint(819, 1025, size=3)
    offsets = rs.randint(0, 1000, size=3)
    assert [len(r) for r in reqs] == lens.tolist()
    assert all(8 <= len(r) <= 10 for r in reqs)
    # prompt i starts at offset_i + i and counts up by one id (mod vocab)
    assert [r[0] for r in reqs] == [(int(offsets[i]) + i) % 1000 for i in range(3)]
    assert reqs[1][1] == (reqs[1][0] + 1) % 1000


def test_without_tokenizer_folders_the_script_skips(capsys):
    assert _script().main([]) == 0
    assert "skipped" in capsys.readouterr().out
