"""Batching policies: plain synchronous objects, free of SimPy, tested without an event loop.

The engine's replica loop asks a policy for the next step's work and tells it when the step is
done (architecture.md section 4). Policies decide; the engine only lets time pass.
"""

from simdecode.schedulers.kv import KVCache, KVCacheFull
from simdecode.schedulers.policies import BatchingPolicy, ContinuousBatching, StaticBatching, make_policy
from simdecode.schedulers.step import StepWork
from simdecode.schedulers.request import Request

__all__ = [
    "BatchingPolicy", "ContinuousBatching", "KVCache", "KVCacheFull", "Request", "StaticBatching", "StepWork",
    "make_policy",
]
