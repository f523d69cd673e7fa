"""What a closed-loop serving measurement says about the server's running batch and KV cache.

A benchmark client with ``c`` users and no think time (InferenceX's ``benchmark_serving.py``:
``--max-concurrency c --request-rate inf``) keeps exactly c requests in the system. Little's law
(Little, Operations Research 9(3), 1961: L = X W) then gives, from the client's own means alone:

    throughput        X = c / (TTFT + (n - 1) x TPOT)                      requests/s
    running batch     N = X x (t_prefill + (n - 1) x TPOT)                 sequences
    KV tokens held    K = N x (p + n / 2)                                  tokens

with n the mean output length, p the mean prompt length, TTFT and TPOT the measured means (s),
and t_prefill the time a request holds the KV cache before its first token when it does not
queue (taken as the sweep's TTFT at its lowest concurrency, where nothing queues). A request is
admitted (holds KV blocks) from its prefill to its last token; outputs grow linearly, so a running
sequence holds its prompt and on average half its outputs. The rest of each request's TTFT is
time spent waiting for admission.

These are model-free readings of a measurement, used to check a simulated KV capacity against
what the measured server must have held (docs/validation.md): :func:`holdings` sets each
deployment's most loaded point beside the KV tokens simdecode's memory accounting gives it. K is an upper bound when the
server preempted: a preempted request's TPOT includes time it held no blocks.

Example (hand-computed in tests/validate/test_implied.py): vLLM, Llama-3.1-70B FP8 on 2x H100,
8k/1k at c = 64: TTFT 59.175 s, TPOT 52.406 ms, n = 921.6, p = 7372.8, t_prefill 0.7375 s:
X = 64 / (59.175 + 920.6 x 0.052406) = 0.5958/s, N = 0.5958 x (0.7375 + 48.245) = 29.2,
K = 29.2 x 7833.6 = 228.6k tokens.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Implied:
    """A closed-loop point read through Little's law (see the module docstring)."""

    concurrency: int  #: requests in the system (the client's users)
    throughput_rps: float  #: completed requests per second
    running: float  #: sequences admitted (holding KV) on average
    kv_tokens: float  #: KV tokens those sequences hold on average

    @property
    def waiting(self) -> float:
        """Requests in the system but not admitted, on average (c - N)."""
        return self.concurrency - self.running


def implied(concurrency: int, ttft_s: float, tpot_s: float, prompt_tokens: float, output_tokens: float,
            prefill_s: float) -> Implied:
    """Little's-law reading of one closed-loop point (units: seconds and tokens, means).

    ``prefill_s``: the time a request holds the KV cache before its first token when it does not
    queue; it must not exceed ``ttft_s`` (the rest of TTFT is waiting)."""
    if concurrency < 1 or output_tokens < 1:
        raise ValueError("concurrency and output_tokens must be >= 1")
    if min(ttft_s, tpot_s, prefill_s, prompt_tokens) < 0:
        raise ValueError("times and lengths must be >= 0")
    prefill_s = min(prefill_s, ttft_s)
    decode_s = (output_tokens - 1) * tpot_s
    throughput = concurrency / (ttft_s + decode_s)
    running = throughput * (prefill_s + decode_s)
    return Implied(concurrency, throughput, running, running * (prompt_tokens + output_tokens / 2))


def sweep_implied(sweep: dict, prompt_tokens: float, output_tokens: float) -> dict[int, Implied]:
    """Every concurrency of an InferenceX sweep (``absolute_ttft_us`` / ``absolute_tpot_us``, in
    microseconds) read through :func:`implied`; the prefill time is the sweep's TTFT at its
    lowest concurrency."""
    ttft = {int(c): v / 1e6 for c, v in sweep["absolute_ttft_us"].items()}
    tpot = {int(c): v / 1e6 for c, v in sweep["absolute_tpot_us"].items()}
    prefill_s = ttft[min(ttft)]
    return {c: implied(c, ttft[c], tpot[c], prompt_tokens, output_tokens, prefill_s)
            for c in sorted(set(ttft) & set(tpot))}


def accounting_tokens(scenario: dict) -> int:
    """KV tokens the simulated engine's own memory accounting gives a scenario (a mapping, as a
    validation job holds it): :func:`simdecode.costmodel.memory.kv_capacity_blocks` in whole
    blocks. For vLLM, 0.9 x total memory less weights and the profiled workspace, over the KV
    bytes of one token (``gpu_worker.determine_available_memory``)."""
    from simdecode.costmodel.deployment import Deployment
    from simdecode.costmodel.memory import kv_capacity_blocks
    from simdecode.scenario.schema import Scenario

    s = Scenario.model_validate(scenario)
    return kv_capacity_blocks(s, Deployment.from_scenario(s)) * s.scheduler.kv_block_tokens


#: N / c below which a point counts as queued for admission: where nothing queues the reading gives
#: N / c of 0.97 to 1.0 (a prefill under load takes a little longer than the lowest-concurrency TTFT
#: this reading charges it; every Llama and gpt-oss sweep at 8k1k c = 64 that simdecode does not queue)
QUEUED_SHARE = 0.95


@dataclass(frozen=True)
class Holding:
    """A deployment's most loaded closed-loop point against its accounting (see :func:`holdings`)."""

    deployment: str  #: the sweep's scenario name, without .yaml
    label: str  #: workload label of the point
    concurrency: int
    running: float  #: N, Little's law
    kv_tokens: float  #: K, Little's law
    accounting_tokens: int  #: what the engine's memory accounting gives the cache (simdecode)

    @property
    def held_share(self) -> float:
        """K over the accounting. Where N ~ c nothing queued and the share is only a lower bound of
        what the cache could hold. Where N is well below c the server kept requests waiting: if it
        waited for KV blocks (a full cache, steady across concurrencies), K is what its cache held
        (an upper bound if it preempted) and the share reads its capacity; an isolated stall at one
        point (a TTFT spike not seen at the next concurrency) queues too, with K far below the
        accounting, and says nothing about memory."""
        return self.kv_tokens / self.accounting_tokens if self.accounting_tokens else float("inf")

    @property
    def queued(self) -> bool:
        """Did the server keep requests waiting (N < :data:`QUEUED_SHARE` c)?"""
        return self.running < QUEUED_SHARE * self.concurrency


def _load_key(running: float, concurrency: int, kv_tokens: float) -> tuple[float, float]:
    return round(running / concurrency, 2), -kv_tokens


def holdings(data: dict, engine: str = "vllm", min_concurrency: int = 16) -> list[Holding]:
    """Per deployment of ``engine`` in an InferenceX file (its ``anchors``), its most loaded point
    (any label, concurrency >= ``min_concurrency``): the one with the smallest N / c to two
    decimals (the most requests kept waiting), the largest KV among equals, with the KV tokens
    simdecode's accounting gives that deployment (:func:`accounting_tokens`)."""
    from simdecode.validate.inferencex import LABELS, RANGE_RATIO, sweep_jobs

    mean = (1 + RANGE_RATIO) / 2  # lengths uniform in [0.8 L, L]
    best: dict[str, Holding] = {}
    for sweep in data["anchors"]:
        name = str(sweep.get("scenario", "")).removesuffix(".yaml")
        if sweep.get("label") not in LABELS or f"-{engine}-" not in name:
            continue
        jobs = {j.key.rsplit("c=", 1)[1]: j for j in sweep_jobs(sweep).jobs}
        if not jobs:
            continue
        isl, osl = LABELS[sweep["label"]]
        for c, r in sweep_implied(sweep, mean * isl, mean * osl).items():
            if c < min_concurrency or str(c) not in jobs:
                continue
            if name not in best or _load_key(r.running, c, r.kv_tokens) < _load_key(
                    best[name].running, best[name].concurrency, best[name].kv_tokens):
                best[name] = Holding(name, sweep["label"], c, r.running, r.kv_tokens,
                                     accounting_tokens(jobs[str(c)].scenario))
    return [best[k] for k in sorted(best)]


def main() -> None:
    """Print the Little's-law reading of every shipped InferenceX sweep point at concurrency >= 16
    (``python -m simdecode.validate.implied``): running sequences N against the client's c, the
    KV tokens they held, and what simdecode's memory accounting gives the cache; then, per vLLM
    deployment, its most loaded point (:func:`holdings`)."""
    import json

    from simdecode.validate.cases import SHIPPED_DATA
    from simdecode.validate.inferencex import LABELS, RANGE_RATIO

    data = json.loads((SHIPPED_DATA / "inferencex-serving.json").read_text(encoding="utf-8"))
    mean = (1 + RANGE_RATIO) / 2  # lengths uniform in [0.8 L, L]
    print(f"{'sweep':<52} {'label':<5} {'c':>4} {'running':>8} {'KV tokens':>10}")
    for sweep in data["anchors"]:
        if sweep.get("label") not in LABELS:
            continue
        isl, osl = LABELS[sweep["label"]]
        for c, r in sweep_implied(sweep, mean * isl, mean * osl).items():
            if c >= 16:
                print(f"{sweep['scenario'].removesuffix('.yaml'):<52} {sweep['label']:<5} {c:>4} {r.running:>8.1f} "
                      f"{r.kv_tokens:>10,.0f}")
    print()
    print("vLLM deployments, most loaded point: KV held (Little's law) against simdecode's accounting")
    print(f"{'deployment':<52} {'label':<5} {'c':>4} {'running':>8} {'KV held':>10} {'accounting':>11} "
          f"{'held/acct':>9}  server")
    for h in holdings(data):
        reading = "queued" if h.queued else "all admitted"
        print(f"{h.deployment:<52} {h.label:<5} {h.concurrency:>4} {h.running:>8.1f} {h.kv_tokens:>10,.0f} "
              f"{h.accounting_tokens:>11,} {h.held_share:>9.2f}  {reading}")


if __name__ == "__main__":
    main()
