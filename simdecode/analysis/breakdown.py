"""Where the time went, from a Result's accounting: GPU-time shares, the decode step's parts,
the all-reduce's latency and bandwidth halves, and the bottleneck they name (docs/metrics.md)."""

from __future__ import annotations

from simdecode.analysis import bottleneck as bottleneck_mod
from simdecode.analysis.load import kv_limited
from simdecode.metrics.summary import shares


def time_breakdown(result) -> dict[str, float]:
    """Shares of all GPU-seconds of the replicas' GPUs from the first arrival to the end."""
    par = result.scenario.parallelism
    gpus = par.tp * par.pp * par.dp
    span = result.simulated_s - (result.first_arrival_s or 0.0)
    total = gpus * span
    g = result.gpu
    # KV swaps stall every GPU of the replica on PCIe transfers: counted as communication
    swap = sum(result.swap_s.values()) * par.tp * par.pp
    busy = g.memory_s + g.math_s + g.dequant_s + g.serial_s + g.launch_s + g.host_s + g.comm_s + swap
    # with pipelining, a stage that waits while its replica has requests in flight (on other
    # stages, or in transfers) is in a pipeline bubble; without requests it is idle
    bubble = 0.0
    if par.pp > 1:
        for r, (stages, active) in enumerate(zip(result.stage_busy_s, result.replica_active_s)):
            stalled = result.swap_s.get(r, 0.0)
            bubble += sum(max(0.0, active - b - stalled) for b in stages) * par.tp
    idle = max(0.0, total - busy - bubble)
    return shares({
        "compute": g.memory_s + g.math_s + g.dequant_s + g.serial_s,
        "communication": g.comm_s + swap,
        "launch_overhead": g.launch_s + g.host_s,
        "pipeline_bubble": bubble,
        "idle": idle,
    })


def decode_shares(result) -> dict[str, float]:
    """Where one request's decode step time goes (shares of the mean decode step): the parts of
    :func:`decode_parts` with fixed costs (launches and host time) as one."""
    p = decode_parts(result)
    return shares({
        "memory": p["memory"], "compute": p["compute"], "weight_decode": p["dequant"], "k_loop": p["serial"],
        "communication": p["communication"], "launch_overhead": p["launch"] + p["host"], "pipeline": p["pipeline"],
    })


def decode_parts(result) -> dict[str, float]:
    """Seconds of the decode steps summed, by part (analysis/bottleneck.LABELS' keys, the split explain
    shows for one step)."""
    d = result.decode
    return {"memory": d.memory_s, "compute": d.math_s, "dequant": d.dequant_s, "serial": d.serial_s,
            "launch": d.launch_s, "host": d.host_s, "communication": d.comm_s, "pipeline": d.p2p_s}


def allreduce_split(result) -> dict[str, float]:
    """Exposed collective time of the mean decode step, ms, split into latency and bandwidth."""
    d = result.decode
    steps = max(d.steps, 1)
    return {"exposed_ms_per_step": 1e3 * d.comm_s / steps, "alpha_ms_per_step": 1e3 * d.alpha_s / steps,
            "beta_ms_per_step": 1e3 * d.beta_s / steps}


def bottleneck(result) -> str:
    """What most limits per-request speed (or, when the server is saturated, the throughput).

    The server is saturated when waiting dominates the time to first token: the requests'
    mean time out of the batch (before their first scheduling, plus after preemptions) is over
    half their mean TTFT and longer than two decode steps (so the wait for the next step
    boundary at light load does not count). Then the KV cache is the bottleneck if it held
    admission back for at least half of the time requests waited
    (:func:`~simdecode.analysis.load.kv_limited`), else it is plain queueing (the batch is
    full, or the GPUs are). Otherwise the largest part of the decode steps' time names it, by the
    rule ``explain`` uses for one step (:func:`simdecode.analysis.bottleneck.name`).
    """
    done = result.measured
    if done:
        n = len(done)
        # the wait at the scheduler: from when it got the request (after tokenising and hand-off)
        wait = sum(r.scheduled_s - (r.arrival_s if r.server_arrival_s is None else r.server_arrival_s)
                   + r.preempted_s for r in done) / n
        ttft = sum(r.ttft_s for r in done) / n
        tpot = sum(r.tpot_s for r in done) / n
        if wait > 0.5 * ttft and wait > 2 * tpot:
            return "kv-capacity" if kv_limited(result) else "queueing"
    parts = decode_parts(result)
    return bottleneck_mod.name(parts, _decode_label(result) if parts["dequant"] > 0 else None)


def _decode_label(result) -> str:
    """How the run's deployment decodes its weight-only formats, as a bottleneck label (explain's)."""
    from simdecode.costmodel.deployment import Deployment

    return bottleneck_mod.weight_decode(Deployment.from_scenario(result.scenario))["label"]
