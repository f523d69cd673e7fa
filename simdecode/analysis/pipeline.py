"""Pipeline parallelism in words: what depth does to one request, to many, and to TTFT.

:func:`pipeline_lesson` compares the scenario's pipeline depth with ``pp = 1`` at the same tensor
parallelism (the same GPUs per stage), analytically, from the same step plans the engine runs:

- **one request**: a token visits the stages in turn and the next token needs the last stage's
  output, so the token takes the sum of the stage times plus the hops: never less than at pp 1;
- **many requests**: stages overlap only across micro-batches (``lanes`` of them, each a share of
  the requests in flight). Each micro-batch still streams every weight once per token, so when
  pp 1 already decoded all the requests at once in a memory-bound step, depth adds GPUs but no
  throughput. It adds throughput when pp 1 was short of **KV memory** (each GPU holds 1/pp of the
  layers, so the weights shrink and the KV cache grows: more requests decode at once) or of
  **compute** (a compute-bound step splits its FLOPs over more GPUs);
- **TTFT**: a prompt's prefill also crosses every stage in turn: at light load it does not fall
  with depth; under load it falls only when requests had waited for KV memory.

Estimates, not the simulation: the steady state of a closed loop with ``concurrency`` requests,
every sequence at the mean context (prompt + half the output). ``simdecode sweep`` measures it.
"""

from __future__ import annotations

import math
from typing import Any

from simdecode.analysis import device_words
from simdecode.costmodel import collectives, devices, memory
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan


def kv_capacity_tokens(scenario: Any, dep: Deployment) -> int:
    """Tokens of KV cache one replica holds, in whole blocks (:mod:`simdecode.costmodel.memory`,
    the same arithmetic the engine sizes its cache with)."""
    return memory.kv_capacity_blocks(scenario, dep) * scenario.scheduler.kv_block_tokens


def layout(scenario: Any, pp: int, concurrency: int) -> dict[str, Any]:
    """The steady state of ``concurrency`` requests on ``scenario`` with ``pp`` stages (tp kept)."""
    par = scenario.parallelism
    s = scenario.model_copy(update={"parallelism": par.model_copy(update={"pp": pp})})
    dep = Deployment.from_scenario(s)
    w = scenario.workload
    per_request = w.prompt_tokens + w.output_tokens
    capacity = kv_capacity_tokens(s, dep)
    fits = capacity // per_request
    in_flight = min(concurrency, fits, scenario.scheduler.max_batch_size)
    lanes = 1 if pp == 1 else (pp if par.microbatches == "auto" else par.microbatches)
    lanes = max(1, min(lanes, in_flight)) if in_flight else 1
    micro = math.ceil(in_flight / lanes) if in_flight else 0
    context = w.prompt_tokens + w.output_tokens // 2
    window = dep.model.sliding_window if dep.model.layer_types else None

    def stage_times(batch: int) -> tuple[list[float], float, float, float]:
        shape = BatchShape.decode([context] * batch, window)
        folds = [fold(build_stage_plan(dep, st, shape)) for st in range(pp)]
        hop = 0.0
        if pp > 1:
            message = shape.new_tokens * dep.model.hidden_size * dep.act_bytes_per_value
            hop = collectives.p2p(message, dep.pp_link, dep.runtime).time_s
        math_s = sum(f.compute_s - f.memory_s for f in folds)
        times = devices.stage_periods(dep.gpu, [f.makespan_s for f in folds])  # lock-step: the slowest's
        wait_s = sum(times) - sum(f.makespan_s for f in folds)
        return times, hop, math_s / max(sum(times), 1e-30), wait_s

    one, hop1, _, lockstep_s = stage_times(1)
    hop_one_s = hop1
    token_s = sum(one) + (pp - 1) * hop1
    prefill = BatchShape.mixed([(0, w.prompt_tokens, True)], window)
    prefill_s = sum(devices.stage_periods(dep.gpu, [fold(build_stage_plan(dep, st, prefill)).makespan_s
                                                    for st in range(pp)])) + (pp - 1) * \
        collectives.p2p(prefill.new_tokens * dep.model.hidden_size * dep.act_bytes_per_value, dep.pp_link,
                        dep.runtime).time_s \
        if pp > 1 else fold(build_stage_plan(dep, 0, prefill)).makespan_s
    aggregate = math_share = None
    if micro:
        times, hop, math_share, _ = stage_times(micro)
        # physics.md 3.2 (decode steady state, after GPipe and Megatron-LM's bubble analysis): a
        # micro-batch's next token waits for its trip through the stages, or for the busiest stage
        # to serve every lane once, whichever is longer: Tc = max(sum T_s + (p - 1) T_hop, m max T_s)
        cycle_s = max(sum(times) + (pp - 1) * hop, lanes * max(times))
        aggregate = lanes * micro / cycle_s
    return {"pp": pp, "tp": par.tp, "gpus": par.tp * pp, "kv_capacity_tokens": capacity, "request_tokens": per_request,
            "prompt_tokens": w.prompt_tokens,
            "requests_fit": fits, "in_flight": in_flight, "lanes": lanes, "micro_batch": micro,
            "token_s": token_s, "hop_s": hop_one_s, "lockstep_s": lockstep_s, "per_request_tps": 1.0 / token_s, "prefill_s": prefill_s,
            "aggregate_tps": aggregate, "math_share": math_share}


def pipeline_lesson(scenario: Any, concurrency: int | None = None) -> dict[str, Any] | None:
    """This depth against pp 1 (same tp) for one request and for ``concurrency`` requests (default:
    the closed loop's concurrency, at least ``pp``), with a ``sentence`` saying why.

    At pp 1 the lesson is given only when the KV cache is what limits: then it says what pp 2
    (twice the GPUs, tp kept) would change; otherwise None."""
    pp = scenario.parallelism.pp
    w = device_words.words(scenario.hardware.gpu.kind, scenario.hardware.gpu.vendor)
    if concurrency is None:
        concurrency = max(getattr(scenario.workload.arrival, "concurrency", 1) or 1, pp)
    base = layout(scenario, 1, concurrency)
    if pp == 1:
        if base["in_flight"] >= min(concurrency, scenario.scheduler.max_batch_size):
            return None
        here = layout(scenario, 2, concurrency)
        sentence = (f"At pp 1 the KV cache is the limit: {base['kv_capacity_tokens']:,} tokens hold "
                    f"{base['requests_fit']} of the {concurrency} requests, so only {base['in_flight']} decode at once "
                    f"(about {_tps(base['aggregate_tps'])}). A second pipeline stage (tp {base['tp']} x pp 2, "
                    f"{here['gpus']} {w.many}) would halve the weights on each {w.one} and hold "
                    f"{here['kv_capacity_tokens']:,} "
                    f"tokens: all {here['in_flight']} would decode (about {_tps(here['aggregate_tps'])}). One request "
                    f"would not get faster: its token would take {_ms(here['token_s'])} against {_ms(base['token_s'])} "
                    "now, because the stages take turns.")
        return {"concurrency": concurrency, "here": here, "pp1": base, "sentence": sentence}
    here = layout(scenario, pp, concurrency)
    return {"concurrency": concurrency, "here": here, "pp1": base, "sentence": _sentence(here, base, concurrency, w)}


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.4g} ms"


def _hops(count: int, hop_s: float) -> str:
    return f"{count} stage-to-stage hop{'s' if count != 1 else ''} of {hop_s * 1e6:.3g} us"


def _tps(rate: float | None) -> str:
    return "nothing (no request fits)" if rate is None else f"{rate:,.0f} tokens/s"


def _sentence(here: dict, base: dict, n: int, w: device_words.DeviceWords = device_words.GPU) -> str:
    pp, tp = here["pp"], here["tp"]
    one = (f"One request: at pp {pp} a token takes {_ms(here['token_s'])} ({here['per_request_tps']:.1f} tokens/s) "
           f"against {_ms(base['token_s'])} at pp 1 on tp {tp}: the stages take turns, so depth never speeds one "
           f"request up; it only adds {_hops(pp - 1, here['hop_s'])}"
           + (f" and {_ms(here['lockstep_s'])} of lock-step waits (every stage takes the slowest one's time)"
              if here.get("lockstep_s", 0.0) > 0 else "") + ".")
    if base["requests_fit"] == 0:
        many = (f"With {n} requests in flight: at pp 1 the weights do not leave room for even one "
                f"{base['request_tokens']}-token request in the KV cache, so depth is what makes serving possible; "
                f"at pp {pp}, {min(n, here['requests_fit'])} decode at once, about {_tps(here['aggregate_tps'])}.")
    elif base["in_flight"] < min(n, here["in_flight"]):
        many = (f"With {n} requests in flight, aggregate throughput does rise, because pp 1 is short of KV memory: "
                f"on {base['gpus']} {w.many} the weights leave {base['kv_capacity_tokens']:,} tokens of KV cache, room "
                f"for {base['requests_fit']} requests of {base['request_tokens']} tokens, so only {base['in_flight']} "
                f"decode at once (about {_tps(base['aggregate_tps'])}). At pp {pp} each {w.one} holds 1/{pp} of the "
                f"layers, the cache grows to {here['kv_capacity_tokens']:,} tokens and all {here['in_flight']} decode "
                f"in {here['lanes']} micro-batches of {here['micro_batch']} (about {_tps(here['aggregate_tps'])}).")
    elif (base["math_share"] or 0) > 0.5:
        many = (f"With {n} requests in flight, aggregate throughput can rise because the pp 1 step is compute-bound "
                f"({base['math_share']:.0%} of it is math): more stages split the FLOPs over more {w.many} (about "
                f"{_tps(base['aggregate_tps'])} at pp 1, {_tps(here['aggregate_tps'])} at pp {pp}).")
    else:
        many = (f"With {n} requests in flight, depth adds {w.many} but hardly any throughput: pp 1 already decodes all "
                f"{base['in_flight']} at once in a memory-bound step, and at pp {pp} each of the {here['lanes']} "
                f"micro-batches still streams every weight once per token (about {_tps(base['aggregate_tps'])} "
                f"at pp 1, {_tps(here['aggregate_tps'])} at pp {pp}). Depth pays when pp 1 is short of KV memory "
                "or compute.")
    ttft = (f"TTFT: a {here['prompt_tokens']}-token prompt also crosses every stage in turn: its "
            f"prefill takes {_ms(here['prefill_s'])} at pp {pp} against {_ms(base['prefill_s'])} at pp 1, so TTFT does "
            "not fall with depth at light load; under load it falls only where requests had waited for KV memory.")
    return " ".join([one, many, ttft])
