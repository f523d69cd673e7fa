"""How many prompt tokens a server saw from InferenceX's benchmark client, per client version.

The client (``benchmark_serving.py --dataset-name random``) builds each prompt from token ids,
``[(offset_i + i + j) % vocab_size for j in range(L_i)]``, decodes them to TEXT and sends the text
to the completions endpoint, which tokenizes it again. BPE does not round-trip, so the server may
see another count than the L_i the client asked for (and reports). What each client version did
about it (SemiAnalysisAI/InferenceX history; docs/validation.md, "The prompts the server saw"):

- ``raw``: decode only (vLLM's ``benchmark_serving.py`` before vLLM PR #17408). No InferenceX
  sweep ran it; measured for scale.
- ``once``: decode, re-encode, cut to L_i, decode (kimbochen/bench_serving, which InferenceX's
  scripts ``git clone``d until 2026-01-21; the same code is in NVIDIA/srt-slurm's copy of
  2025-10-20, commit dc29d446). The Llama-3.1-70B (2025-10) and DeepSeek TensorRT-LLM (2025-11-02)
  sweeps.
- ``retry``: re-encode, cut or pad with random ids, decode, up to 10 times, until the text
  re-encodes to exactly L_i (InferenceX ``utils/bench_serving`` from d053ae24e, 2026-01-21, which
  prints the residual as ``avg_token_mismatch``). Every 2026 sweep.

The server's count is ``encode(text, add_special_tokens=True)``: the completions endpoint's
default in vLLM, SGLang and trtllm-serve (a BOS token for Llama 3 and DeepSeek, none for
gpt-oss's o200k_harmony). The lengths are drawn as the client draws them (``--seed 0``, its
default: ``np.random.seed(0)``, then input lengths uniform in [int(0.8 L), L], output lengths,
offsets), so ``--concurrency C`` reproduces a sweep point's 10 C prompts exactly.

Needs ``transformers`` (the client's tokenizer class, ``AutoTokenizer``; 4.56 ran in the vLLM
v0.10.2 image) and a folder holding the model's ``tokenizer.json`` and ``tokenizer_config.json``.
Without either it says so and exits 0::

    python benchmarks/client_prompt_lengths.py TOKENIZER_DIR [...] [--prompts 64 | --concurrency C]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

import numpy as np

MAX_RETRIES = 10  # InferenceX utils/bench_serving/benchmark_serving.py, sample_random_requests


def prompt_raw(tok: Any, ids: list[int], target: int, rng: np.random.RandomState) -> str:
    """The decoded ids, as sent by a client that never re-encodes."""
    return tok.decode(ids)


def prompt_once(tok: Any, ids: list[int], target: int, rng: np.random.RandomState) -> str:
    """kimbochen/bench_serving: the decoded text re-encoded, cut to ``target`` tokens, decoded."""
    return tok.decode(tok.encode(tok.decode(ids), add_special_tokens=False)[:target])


def prompt_retry(tok: Any, ids: list[int], target: int, rng: np.random.RandomState) -> str:
    """InferenceX since 2026-01-21: cut or pad (random ids) and decode again, until the text
    re-encodes to ``target`` tokens or ten rounds have passed."""
    prompt = tok.decode(ids)
    for _ in range(MAX_RETRIES):
        tokens = tok.encode(prompt, add_special_tokens=False)
        if len(tokens) < target:
            tokens.extend(rng.randint(0, tok.vocab_size, size=target - len(tokens)).tolist())
        elif len(tokens) > target:
            tokens = tokens[:target]
        else:
            break
        prompt = tok.decode(tokens)
    return prompt


PROCEDURES: dict[str, Callable[..., str]] = {"raw": prompt_raw, "once": prompt_once, "retry": prompt_retry}


def server_tokens(tok: Any, prompt: str) -> int:
    """Tokens the completions endpoint prefills for ``prompt`` (special tokens added, as by default)."""
    return len(tok.encode(prompt, add_special_tokens=True))


def client_requests(vocab_size: int, input_len: int, num_prompts: int, range_ratio: float = 0.8,
                    output_len: int = 1024, seed: int = 0) -> list[list[int]]:
    """The token ids of the client's random prompts, drawn in its order (prefix of 0 tokens, input
    lengths, output lengths, offsets) from ``np.random.seed(seed)``."""
    rs = np.random.RandomState(seed)
    rs.randint(0, vocab_size, size=0)
    lens = rs.randint(int(input_len * range_ratio), input_len + 1, size=num_prompts)
    rs.randint(int(output_len * range_ratio), output_len + 1, size=num_prompts)
    offsets = rs.randint(0, vocab_size, size=num_prompts)
    return [[int((offsets[i] + i + j) % vocab_size) for j in range(lens[i])] for i in range(num_prompts)]


def measure(tok: Any, input_len: int, num_prompts: int, procedure: str) -> dict[str, float]:
    """Requested and server-side prompt tokens over the client's prompts for one procedure."""
    rng = np.random.RandomState(1)  # padding ids of the retry loop: they do not change its counts
    asked, seen = [], []
    for ids in client_requests(tok.vocab_size, input_len, num_prompts):
        asked.append(len(ids))
        seen.append(server_tokens(tok, PROCEDURES[procedure](tok, ids, len(ids), rng)))
    a, s = np.array(asked), np.array(seen)
    return {"requested_mean": float(a.mean()), "server_mean": float(s.mean()), "ratio": float(s.sum() / a.sum()),
            "min_diff": int((s - a).min()), "max_diff": int((s - a).max())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tokenizers", nargs="*", help="folders holding tokenizer.json and tokenizer_config.json")
    ap.add_argument("--lengths", type=int, nargs="+", default=[1024, 8192], help="the labels' L (default 1024 8192)")
    ap.add_argument("--prompts", type=int, default=64, help="prompts per length (default 64)")
    ap.add_argument("--concurrency", type=int, help="a sweep point's 10 x C prompts instead of --prompts")
    args = ap.parse_args(argv)
    if not args.tokenizers:
        print("skipped: give one or more tokenizer folders (tokenizer.json + tokenizer_config.json)")
        return 0
    try:
        from transformers import AutoTokenizer
    except ImportError:
        print("skipped: needs transformers (pip install transformers), the client's tokenizer class")
        return 0
    n = 10 * args.concurrency if args.concurrency else args.prompts
    print(f"{'tokenizer':40s} {'L':>5s} {'client':6s} {'asked':>8s} {'server':>8s} {'ratio':>7s} diff min/max")
    for path in args.tokenizers:
        tok = AutoTokenizer.from_pretrained(path)
        for length in args.lengths:
            for procedure in PROCEDURES:
                r = measure(tok, length, n, procedure)
                print(f"{path[-40:]:40s} {length:5d} {procedure:6s} {r['requested_mean']:8.1f} {r['server_mean']:8.1f} "
                      f"{r['ratio']:7.4f} {r['min_diff']}/{r['max_diff']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
