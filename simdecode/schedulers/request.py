"""A request's mutable state while it is in the system."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True, eq=False)
class Request:
    """One generation request: a prompt to prefill, then ``output_tokens`` tokens to decode.

    Times are seconds of simulated time. ``prefilled`` counts prompt tokens already in the KV
    cache; ``generated`` output tokens produced (the first comes out of the prefill step).

    Preemption (vLLM): with ``recompute`` the request loses its KV cache and must prefill its
    prompt and the ``generated`` outputs so far again (``recompute_tokens``) before it decodes on;
    the outputs already produced are kept. With ``swap`` its ``swapped_tokens`` of KV wait in host
    memory until it resumes. ``preemptions`` counts both kinds.
    """

    id: int
    arrival_s: float
    prompt_tokens: int
    output_tokens: int
    replica: int = 0
    lane: int = -1
    prefilled: int = 0
    generated: int = 0
    scheduled_s: float = -1.0
    first_token_s: float = -1.0
    finished_s: float = -1.0
    keep_token_times: bool = False
    warmup: bool = False  # a warm-up request: simulated, left out of the metrics
    token_times_s: list[float] = field(default_factory=list)
    preemptions: int = 0
    recompute_tokens: int = 0
    swapped_tokens: int = 0
    preempted_s: float = 0.0     # time spent out of the batch after preemptions
    preempted_at: float = -1.0   # when the current preemption began (-1: not preempted)
    server_arrival_s: float = -1.0  # when the engine's scheduler got it (-1: at arrival_s)

    @property
    def prefill_tokens(self) -> int:
        """Tokens the current prefill must put in the KV cache: the prompt, plus the outputs
        produced before a recompute preemption."""
        return self.prompt_tokens + self.recompute_tokens

    @property
    def in_prefill(self) -> bool:
        return self.prefilled < self.prefill_tokens

    @property
    def context_tokens(self) -> int:
        """Tokens in this request's KV cache: prompt so far plus outputs fed back."""
        return self.prompt_tokens + max(0, self.generated - 1) if not self.in_prefill else self.prefilled

    @property
    def done(self) -> bool:
        return self.generated >= self.output_tokens

    @property
    def max_tokens(self) -> int:
        """KV slots the request needs at most: its prompt and every output but the last."""
        return self.prompt_tokens + self.output_tokens - 1
