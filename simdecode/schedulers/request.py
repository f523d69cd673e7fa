"""A request's mutable state while it is in the system."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True, eq=False)
class Request:
    """One generation request: a prompt to prefill, then ``output_tokens`` tokens to decode.

    Times are seconds of simulated time. ``prefilled`` counts prompt tokens already in the KV
    cache; ``generated`` output tokens produced (the first comes out of the prefill step).
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
    token_times_s: list[float] = field(default_factory=list)

    @property
    def in_prefill(self) -> bool:
        return self.prefilled < self.prompt_tokens

    @property
    def context_tokens(self) -> int:
        """Tokens in this request's KV cache: prompt so far plus outputs fed back."""
        return self.prefilled + max(0, self.generated - 1) if not self.in_prefill else self.prefilled

    @property
    def done(self) -> bool:
        return self.generated >= self.output_tokens

    @property
    def max_tokens(self) -> int:
        """KV slots the request needs at most: its prompt and every output but the last."""
        return self.prompt_tokens + self.output_tokens - 1
