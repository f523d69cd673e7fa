"""The paged KV cache of one replica, as a ledger of blocks (architecture.md 4, after Vidur).

Capacity comes from memory: (memory_utilization x GPU memory - weights - workspace) per GPU,
divided by the KV bytes one token takes on that GPU, in blocks of ``block_tokens`` tokens. All
GPUs of a replica hold the same token positions (TP shards heads, PP shards layers), so one ledger
per replica suffices. Invariants (property-tested): 0 <= used <= capacity, and every allocation
is freed exactly once.
"""

from __future__ import annotations

from typing import Callable


class KVCacheFull(RuntimeError):
    """An allocation was attempted without enough free blocks."""


class KVCache:
    def __init__(self, capacity_blocks: int, block_tokens: int, on_change: Callable[[int], None] | None = None):
        if capacity_blocks < 0 or block_tokens < 1:
            raise ValueError("capacity_blocks must be >= 0 and block_tokens >= 1")
        self.capacity_blocks = capacity_blocks
        self.block_tokens = block_tokens
        self._held: dict[int, int] = {}
        self._used = 0
        self._on_change = on_change

    def blocks_for(self, tokens: int) -> int:
        return -(-tokens // self.block_tokens)

    def can_allocate(self, blocks: int) -> bool:
        return self._used + blocks <= self.capacity_blocks

    def allocate(self, request_id: int, blocks: int) -> None:
        if request_id in self._held:
            raise ValueError(f"request {request_id} already holds blocks")
        if not self.can_allocate(blocks):
            raise KVCacheFull(f"{blocks} blocks requested, {self.free_blocks} free")
        self._held[request_id] = blocks
        self._used += blocks
        if self._on_change:
            self._on_change(self._used)

    def free(self, request_id: int) -> int:
        blocks = self._held.pop(request_id)  # KeyError: freed twice or never allocated
        self._used -= blocks
        if self._on_change:
            self._on_change(self._used)
        return blocks

    @property
    def used_blocks(self) -> int:
        return self._used

    @property
    def free_blocks(self) -> int:
        return self.capacity_blocks - self._used

    @property
    def holders(self) -> int:
        return len(self._held)
