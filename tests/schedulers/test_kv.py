"""The KV cache ledger (:mod:`simdecode.schedulers.kv`) against a plain dict model.

Invariants (docs/architecture.md, "The engine loop"): 0 <= used <= capacity after every operation, every allocation is
freed exactly once (a second free or a free of an unknown id raises KeyError), the cache is
empty again when every holder has freed, and the run totals balance (allocated = freed + used).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from simdecode.schedulers.kv import KVCache, KVCacheFull


class KVCacheMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.changes: list[int] = []
        self.kv: KVCache | None = None
        self.model: dict[int, int] = {}

    @precondition(lambda self: self.kv is None)
    @rule(capacity=st.integers(min_value=0, max_value=64), block=st.integers(min_value=1, max_value=32))
    def create(self, capacity, block):
        self.capacity = capacity
        self.kv = KVCache(capacity, block, on_change=self.changes.append)

    @precondition(lambda self: self.kv is not None)
    @rule(rid=st.integers(min_value=0, max_value=20), blocks=st.integers(min_value=0, max_value=40))
    def allocate(self, rid, blocks):
        used = sum(self.model.values())
        before = len(self.changes)
        if rid in self.model:
            with pytest.raises(ValueError):
                self.kv.allocate(rid, blocks)
        elif used + blocks > self.capacity:
            assert not self.kv.can_allocate(blocks)
            with pytest.raises(KVCacheFull):
                self.kv.allocate(rid, blocks)
        else:
            assert self.kv.can_allocate(blocks)
            self.kv.allocate(rid, blocks)
            self.model[rid] = blocks
            assert self.changes[before:] == [used + blocks]
            return
        assert len(self.changes) == before  # a refused allocation changes nothing

    @precondition(lambda self: self.kv is not None)
    @rule(rid=st.integers(min_value=0, max_value=20), blocks=st.integers(min_value=0, max_value=40))
    def grow(self, rid, blocks):
        used = sum(self.model.values())
        if used + blocks > self.capacity:
            with pytest.raises(KVCacheFull):
                self.kv.grow(rid, blocks)
            return
        self.kv.grow(rid, blocks)  # a new id is allocated
        self.model[rid] = self.model.get(rid, 0) + blocks
        assert self.changes[-1] == used + blocks

    @precondition(lambda self: self.kv is not None)
    @rule(rid=st.integers(min_value=0, max_value=20), tokens=st.integers(min_value=0, max_value=2000))
    def covers(self, rid, tokens):
        assert self.kv.held(rid) == self.model.get(rid, 0)
        assert self.kv.covers(rid, tokens) == (self.model.get(rid, 0) * self.kv.block_tokens >= tokens)

    @precondition(lambda self: self.kv is not None)
    @rule(rid=st.integers(min_value=0, max_value=20))
    def free(self, rid):
        if rid in self.model:
            assert self.kv.free(rid) == self.model.pop(rid)
            assert self.changes[-1] == sum(self.model.values())
        else:
            with pytest.raises(KeyError):
                self.kv.free(rid)

    @precondition(lambda self: self.kv is not None and self.model)
    @rule()
    def free_all(self):
        for rid in list(self.model):
            self.kv.free(rid)
            del self.model[rid]
        assert self.kv.used_blocks == 0 and self.kv.holders == 0
        assert self.kv.free_blocks == self.capacity

    @invariant()
    def ledger_matches_model(self):
        if self.kv is None:
            return
        used = self.kv.used_blocks
        assert 0 <= used <= self.kv.capacity_blocks
        assert used == sum(self.model.values())
        assert self.kv.free_blocks == self.capacity - used
        assert self.kv.holders == len(self.model)
        assert all(0 <= c <= self.capacity for c in self.changes)
        assert self.kv.allocated_total == self.kv.freed_total + used


TestKVCacheMachine = KVCacheMachine.TestCase
TestKVCacheMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


@settings(max_examples=50, deadline=None)
@given(tokens=st.integers(min_value=0, max_value=10**6), block=st.integers(min_value=1, max_value=4096))
def test_blocks_for_is_the_ceiling(tokens, block):
    kv = KVCache(10, block)
    blocks = kv.blocks_for(tokens)
    assert blocks * block >= tokens > (blocks - 1) * block or tokens == blocks == 0


def test_free_twice_raises_key_error():
    kv = KVCache(8, 16)
    kv.allocate(1, 3)
    kv.free(1)
    with pytest.raises(KeyError):
        kv.free(1)
    assert kv.used_blocks == 0


def test_exactly_full_is_allowed_one_more_is_not():
    kv = KVCache(4, 16)
    kv.allocate(0, 4)
    assert kv.free_blocks == 0 and kv.can_allocate(0) and not kv.can_allocate(1)
    with pytest.raises(KVCacheFull):
        kv.allocate(1, 1)


@pytest.mark.parametrize(("capacity", "block"), [(-1, 16), (4, 0)])
def test_bad_construction_is_refused(capacity, block):
    with pytest.raises(ValueError):
        KVCache(capacity, block)
