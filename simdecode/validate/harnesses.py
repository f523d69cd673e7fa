"""Benchmark harnesses a measurement's source ran, read from that source's code.

A table that says "MT-bench, batch 1" leaves the lengths, the KV cache and what the clock covered to
the harness its authors ran. Where the source's repository publishes that harness, its settings are
here, keyed by (repository, dataset, engine), and a case naming all three is simulated with them:

- SafeAILab/EAGLE's gpt-fast branch (``eaglefast``, January 2024; the README's "With gpt-fast"
  tables), ``evaluation/gen_baseline_answer_llama2chat.py`` on MT-bench (80 questions of two turns,
  ``data/mt_bench/question.jsonl``): each turn is one call of ``ea_model.naivegenerate`` with its
  defaults ``max_new_tokens=512`` and ``max_length=2000``, timed from before the call to after it
  (``torch.cuda.synchronize()`` on both sides), so the prompt's prefill is inside the time; the speed
  is the answer's tokens over that time (``evaluation/speed.py``). ``setup_caches(1, 2000)``
  allocates a static KV cache of 2,000 positions that gpt-fast's attention reads in full every step
  (costmodel/static_kv.py). Lengths: the prompt is LLaMA-2-chat's system prompt (508 characters)
  with the question, and in the second turn the first answer and the second question as well. The
  repository's own LLaMA2-Chat answers on MT-bench (``outputs/llama-2-chat-70b-fp16-ea-in-temperature-
  0.0.jsonl``, 160 turns: 347.9 tokens a turn, 306.0 with each turn stopped at 512 tokens as
  naivegenerate stops it; 3.93 characters per token) give prompts of 225.5 tokens in the first turn
  and 614.8 in the second (templates 20 and 30 tokens): 420 a turn, answers of 306.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Harness:
    """prompt_tokens, output_tokens: one request's (a turn's) mean lengths; static_kv_cache_tokens: the
    KV cache the harness allocates per sequence (None: the engine's own); with_prefill: the clock
    covers the whole generate call (tokens / (prefill + decode)), else the decode alone."""

    name: str
    prompt_tokens: int
    output_tokens: int
    static_kv_cache_tokens: int | None
    with_prefill: bool

    def words(self) -> str:
        """The harness as the validation table's conditions column states it."""
        cache = f", KV cache of {self.static_kv_cache_tokens} positions" if self.static_kv_cache_tokens else ""
        clock = ", timed with prefill" if self.with_prefill else ""
        return f"{self.name}: prompt {self.prompt_tokens}, output {self.output_tokens} tokens{cache}{clock}"


HARNESSES: dict[tuple[str, str, str], Harness] = {
    ("github.com/safeailab/eagle", "mt-bench", "gpt-fast"):
        Harness("EAGLE's MT-bench harness", 420, 306, 2000, True),
}


def find(source_url: str, conditions: dict, runtime_name: str) -> Harness | None:
    """The harness of a case whose source lies in a repository of :data:`HARNESSES` and whose
    conditions name its dataset, on its engine; None otherwise.

    >>> find("https://github.com/SafeAILab/EAGLE/blob/main/README.md", {"dataset": "MT-bench"}, "gpt-fast").output_tokens
    306
    >>> find("https://github.com/SafeAILab/EAGLE/blob/main/README.md", {"dataset": "MT-bench"}, "vllm") is None
    True
    """
    url = str(source_url).lower()
    dataset = str(conditions.get("dataset", "")).strip().lower()
    for (repo, data, engine), harness in HARNESSES.items():
        if repo in url and data == dataset and engine == runtime_name:
            return harness
    return None
