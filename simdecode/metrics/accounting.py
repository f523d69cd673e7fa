"""Plain counters the engine accumulates and a :class:`~simdecode.result.Result` keeps.

Past-tense sums, no behaviour beyond adding: the engine's recorder fills them while the run goes,
and the Result holds them afterwards (they pickle as plain data, with nothing of the engine).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TimeSums:
    """Seconds summed over steps (multiply by GPUs for GPU-seconds).

    The busy time of the compute kernels is split as the step's fold splits it (costmodel/fold.Fold):
    ``memory_s`` streaming bytes, ``math_s`` doing FLOPs, ``dequant_s`` decoding weight-only formats
    where that decode outlasts the stream, ``serial_s`` the NVFP4 GEMMs' serial k-loops."""

    steps: int = 0
    total_s: float = 0.0
    memory_s: float = 0.0
    math_s: float = 0.0
    dequant_s: float = 0.0
    serial_s: float = 0.0
    launch_s: float = 0.0
    host_s: float = 0.0
    comm_s: float = 0.0
    alpha_s: float = 0.0
    beta_s: float = 0.0
    p2p_s: float = 0.0
    contention_s: float = 0.0

    def add(self, timing, elapsed_s: float, weight: float = 1.0) -> None:
        """Add one step: ``timing`` is its :class:`~simdecode.costmodel.fold.Fold` (seconds),
        ``elapsed_s`` the time it really took (more when it queued for shared links)."""
        self.steps += 1
        extra = elapsed_s - timing.makespan_s  # queueing for shared links
        if extra <= 1e-9 * timing.makespan_s:  # float noise of summing the same op times
            extra = 0.0
        self.total_s += weight * elapsed_s
        self.memory_s += weight * timing.stream_s
        self.math_s += weight * timing.math_s
        self.dequant_s += weight * timing.dequant_s
        self.serial_s += weight * timing.serial_s
        self.launch_s += weight * timing.launch_s
        self.host_s += weight * timing.host_s
        self.comm_s += weight * (timing.exposed_comm_s + extra)
        self.alpha_s += weight * timing.exposed_alpha_s
        self.beta_s += weight * (timing.exposed_beta_s + extra)
        self.contention_s += weight * extra


@dataclass
class SpeculationStats:
    """Counts over all verify steps of one replica (one per speculating sequence and step)."""

    verifies: int = 0
    tokens: int = 0          # tokens emitted by verify steps (accepted proposals + bonus)
    proposed: int = 0        # proposals offered
    accepted: int = 0        # proposals accepted
    histogram: list[int] = field(default_factory=list)  # verify steps by accepted proposals


@dataclass(frozen=True)
class KVLedger:
    """A replica's KV cache at the end of the run, in blocks: ``capacity_blocks``, the blocks and
    requests still holding some (``used_blocks``, ``holders``: 0 once drained) and the blocks
    handed out and given back over the run (equal once drained)."""

    capacity_blocks: int
    used_blocks: int
    holders: int
    allocated_total: int
    freed_total: int

    @classmethod
    def of(cls, kv) -> KVLedger:
        """The end state of a :class:`~simdecode.schedulers.kv.KVCache`."""
        return cls(kv.capacity_blocks, kv.used_blocks, kv.holders, kv.allocated_total, kv.freed_total)
