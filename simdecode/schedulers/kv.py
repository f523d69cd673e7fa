"""The paged KV cache of one replica, as a ledger of blocks (docs/architecture.md, "The engine loop", after Vidur).

Capacity comes from memory: (memory_utilization x GPU memory - weights - workspace) per GPU,
divided by the KV bytes one token takes on that GPU, in blocks of ``block_tokens`` tokens. All
GPUs of a replica hold the same token positions (TP shards heads, PP shards layers), so one ledger
per replica suffices. Invariants (property-tested): 0 <= used <= capacity, and every allocation
is freed exactly once.

Paging (vLLM's PagedAttention, Kwon et al. SOSP 2023): a request holds blocks for the tokens it
has written so far, not for its whole length. It gets its first blocks when admitted
(:meth:`KVCache.allocate`), one more whenever its sequence crosses a block boundary
(:meth:`KVCache.grow`), and gives all of them back at once when it finishes or is preempted
(:meth:`KVCache.free`). ``allocated_total`` and ``freed_total`` count blocks over the whole run,
so a drained cache must show them equal.
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
        #: called with the blocks in use after every change (a monitor subscribes here)
        self.on_change = on_change
        self.allocated_total = 0  # blocks handed out over the run
        self.freed_total = 0      # blocks given back over the run

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
        self._take(blocks)

    def grow(self, request_id: int, blocks: int) -> None:
        """Add ``blocks`` to what ``request_id`` holds (a new holder is allocated); raises KVCacheFull."""
        if request_id not in self._held:
            self.allocate(request_id, blocks)
            return
        if not self.can_allocate(blocks):
            raise KVCacheFull(f"{blocks} blocks requested, {self.free_blocks} free")
        self._held[request_id] += blocks
        self._take(blocks)

    def _take(self, blocks: int) -> None:
        self._used += blocks
        self.allocated_total += blocks
        if self.on_change:
            self.on_change(self._used)

    def free(self, request_id: int) -> int:
        """Give back every block ``request_id`` holds; KeyError if it holds none (a double free)."""
        blocks = self._held.pop(request_id)  # KeyError: freed twice or never allocated
        self._used -= blocks
        self.freed_total += blocks
        if self.on_change:
            self.on_change(self._used)
        return blocks

    def shrink(self, request_id: int, blocks: int) -> None:
        """Give back ``blocks`` of what ``request_id`` holds (speculative slots that were
        rejected); it keeps at least one block."""
        held = self._held[request_id]
        blocks = min(blocks, held - 1)
        if blocks <= 0:
            return
        self._held[request_id] = held - blocks
        self._used -= blocks
        self.freed_total += blocks
        if self.on_change:
            self.on_change(self._used)

    def held(self, request_id: int) -> int:
        """Blocks ``request_id`` holds now (0 if none)."""
        return self._held.get(request_id, 0)

    def covers(self, request_id: int, tokens: int) -> bool:
        """True if the blocks ``request_id`` holds have room for ``tokens`` tokens."""
        return self._held.get(request_id, 0) * self.block_tokens >= tokens

    @property
    def used_blocks(self) -> int:
        return self._used

    @property
    def free_blocks(self) -> int:
        return self.capacity_blocks - self._used

    @property
    def holders(self) -> int:
        return len(self._held)
