"""``simdecode explain``: one token's critical path, in words a student can follow.

:func:`explain` takes the numbers of :func:`simdecode.analysis.critical_path.critical_path` (one
decode step of every pipeline stage, folded, split into memory, math, launches, host time,
exposed communication and pipeline hops; physics.md 0, 5.1) and adds the sentences: the verdict
on the bottleneck, where TP stops paying, the pipeline and speculation notes.
:func:`render_explanation` turns the result into plain text. No simulation, no simpy.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Callable
from typing import Any

from simdecode import tp_schedules
from simdecode.scenario.limits import MAX_BATCH_SIZE, MAX_TOKENS
from simdecode.analysis.critical_path import TERM_NAMES, critical_path
from simdecode.analysis.device_words import words
from simdecode.analysis.scaling import tp_scaling
from simdecode.costmodel import fp4_gemm
WIDTH = 100


# ---- units ---------------------------------------------------------------------------------

def t(seconds: float) -> str:
    """A duration in us below 1 ms, ms below 1 s, else s (3 significant figures)."""
    if abs(seconds) < 1e-10:  # float noise of subtracting equal sums
        seconds = 0.0
    a = abs(seconds)
    if a < 1e-3:
        return f"{seconds * 1e6:.3g} us"
    return f"{seconds * 1e3:.3g} ms" if a < 1 else f"{seconds:.3g} s"


def b(nbytes: float) -> str:
    """Bytes with a decimal prefix (KB, MB, GB, TB)."""
    for scale, unit in ((1e15, "PB"), (1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB")):
        if abs(nbytes) >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes:.3g} B"


def fl(flops: float) -> str:
    return f"{flops / 1e12:.3g} TFLOP" if flops >= 1e12 else f"{flops / 1e9:.3g} GFLOP"


def pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def tps(rate: float) -> str:
    return f"{rate:,.0f} tok/s" if rate >= 100 else f"{rate:.3g} tok/s"


# ---- the analysis --------------------------------------------------------------------------

#: the largest step explain() describes: scheduler.max_batch_size's and a request's upper bounds
MAX_BATCH, MAX_CONTEXT = MAX_BATCH_SIZE, MAX_TOKENS


def _check_step(batch: object, context_tokens: object) -> None:
    from simdecode.errors import ScenarioError

    for name, value, most in (("batch", batch, MAX_BATCH), ("context_tokens", context_tokens, MAX_CONTEXT)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
            raise ScenarioError(f"explain(): {name} must be an integer from 0 to {most:,}, got {value!r}")
    if batch < 1:
        raise ScenarioError(f"explain(): batch must be at least 1, got {batch}")


def explain(scenario, context_tokens: int | None = None, batch: int = 1) -> dict[str, Any]:
    """One decode step of ``batch`` sequences, each with ``context_tokens`` cached (default: the
    workload's prompt length), on ``scenario``'s deployment: where one token's time goes, with
    the sentences that say so (:func:`simdecode.analysis.critical_path.critical_path`'s numbers)."""
    if context_tokens is None:
        context_tokens = scenario.workload.prompt_tokens
    _check_step(batch, context_tokens)
    scaling = tp_scaling(scenario, context_tokens)
    data = critical_path(scenario, context_tokens, batch, scaling)
    grouped = Counter(data["parts_by_label_s"])
    data["terms_sentence"] = _terms_sentence(data["terms_s"], data["total_s"])
    data["verdict"] = _verdict(data, grouped)
    data["tp_scaling"]["sentence"] = _scaling_sentence(data, scaling)
    data["pipeline_note"] = _pipeline_note(data) if data["setup"]["pp"] > 1 else None
    from simdecode.analysis.pipeline import pipeline_lesson

    data["pipeline"] = pipeline_lesson(scenario)
    data["speculation"] = _speculation(scenario, context_tokens, batch)
    return data


def _terms_sentence(terms: dict[str, dict[str, float]], total: float) -> str:
    """The compute time by module, each with its kernels' fixed costs ("MoE routing and permute:
    0.9 ms of 4.1 ms, 0.8 ms of it kernel launches")."""
    pieces = []
    for term, v in terms.items():
        both = v["busy_s"] + v["launch_s"]
        pieces.append(f"{TERM_NAMES[term]}: {t(both)} of {t(total)}"
                      + (f" ({t(v['launch_s'])} of it fixed per-kernel costs)" if v["launch_s"] > 0.3 * both else ""))
    return "By module: " + "; ".join(pieces) + "; the rest is waiting on collectives and the host."


def _speculation(scenario, context_tokens: int, batch: int) -> dict[str, Any] | None:
    """Where a speculative step's time goes, against a standard step (physics.md 4.3-4.4): the
    numbers of :func:`simdecode.analysis.speculative.speculative_step`, with the sentence."""
    from simdecode.analysis.speculative import speculative_step

    e = speculative_step(scenario, context_tokens, batch)
    if e is None:
        return None
    grows = e["verify_s"] / e["standard_s"] - 1
    byte_ratio, flop_ratio = e["verify_bytes_ratio"], e["verify_flops_ratio"]
    if byte_ratio > 1.1 and e["is_moe"]:
        why = (f"it reads {byte_ratio:.2f}x the bytes: the {e['verify_positions']} positions of each sequence route "
               "to more distinct experts than one token does (physics.md 4.4)")
    elif flop_ratio > 1.5 and grows > 0.3:
        why = (f"it does {flop_ratio:.1f}x the FLOPs and at this batch the {words(scenario.hardware.gpu.kind, scenario.hardware.gpu.vendor).many} "
               "are compute-bound: verifying "
               "costs as much as the tokens it checks, so speculation has little left to win (physics.md 4.3)")
    else:
        why = ("it still streams the weights once and pays one set of collectives and launches for all its "
               "positions")
    k = e["proposals"]
    sentence = (
        f"{e['method']} with {k} proposals: {k} draft passes take {t(e['draft_s'])} and one verify step "
        f"of {e['verify_positions']} positions per sequence takes {t(e['verify_s'])}, {pct(abs(grows))} "
        f"{'more' if grows >= 0 else 'less'} than a standard step ({t(e['standard_s'])}) because {why}. A verify "
        f"step yields {e['mean_tokens']:.2f} tokens on average, so one request decodes {e['speedup']:.2f}x as fast "
        f"(tokens x standard step / (draft + verify)).")
    keys = ("proposals", "verify_positions", "mean_tokens", "standard_s", "verify_s", "draft_s",
            "verify_bytes_ratio", "verify_flops_ratio", "speedup")
    return {key: e[key] for key in keys} | {"sentence": sentence}


def _verdict(d: dict, grouped: Counter) -> str:
    setup, stages, total = d["setup"], d["stages"], d["total_s"]
    w = words(setup.get("device_kind"), setup.get("device_vendor"))
    part = grouped[d["bottleneck"]]
    share = f"{t(part)} of the {t(total)} token ({pct(part / total)})"
    match d["bottleneck"]:
        case "all-reduce":
            ar = setup["allreduce"] or max((g for st in stages for g in st["collectives"]), key=lambda g: g["time_s"])
            n = sum(g["count"] for st in stages for g in st["collectives"] if g["kind"] == ar["kind"])
            text = (f"The all-reduce is the bottleneck: waiting on collectives takes {share}. There are {n} "
                    f"{ar['name']}s of {b(ar['bytes'])} per token, {t(ar['time_s'])} each, and ")
            if ar["alpha_s"] >= ar["beta_s"]:
                text += (f"they are almost pure latency: the bandwidth part is only {t(ar['beta_s'])} and "
                         f"{t(ar['alpha_s'])} is start-up and hops. A faster link would not help")
                if d["tp_scaling"]["crossover_tp"] is not None and d["tp_scaling"]["crossover_tp"] <= setup["tp"]:
                    text += f", nor would more {w.many}"
                fewer = [n for n, sch in tp_schedules.schedules().items() if sch.fewer_sync_points]
                fix = ("a larger tp_delay" if tp_schedules.get(setup["tp_mode"]).defers_exchanges
                       else "tp_mode " + (", ".join(fewer[:-1]) + " or " + fewer[-1] if len(fewer) > 1 else fewer[0]))
                return text + (f"; fewer or overlapped sync points would ({fix}), or a lower-latency "
                               "all-reduce kernel.")
            return text + (f"moving the bytes takes {t(ar['beta_s'])} of each (latency {t(ar['alpha_s'])}): "
                           "a faster link or smaller messages (fewer tokens per step) would help.")
        case "fp4-weight-decode" | "weight-dequantisation":
            wd = setup["weight_decode"]
            nbytes = sum(st["dequant_bytes"] for st in stages)
            stream = sum(st["dequant_hidden_s"] for st in stages)
            if wd["fp4"]:
                lanes = wd["int32_share"]
                text = (f"FP4 weight decode on the INT32 pipe is the bottleneck: this {w.one} has no FP4 {w.matrix}, so "
                        "Marlin decodes every e2m1 weight to bf16 with integer instructions (7 per 4 weights)"
                        + (f" on its INT32 lanes ({lanes:g} per FP32 lane)" if lanes else "")
                        + f"; that takes {share}")
            else:
                text = ("Weight dequantisation is the bottleneck: the stored weights are converted and scaled to the "
                        f"math dtype on the {w.scalar} before each matrix multiply; that takes {share}")
            if nbytes > 0:
                text += (f", while streaming the {b(nbytes)} those kernels read would take only {t(stream)} "
                         "(it hides behind the decode)")
            return text + (". More memory bandwidth or fewer bytes would not help; more integer throughput, "
                           f"{w.matrix} for the stored format (FP4 on Blackwell) or a cheaper decode would."
                           if wd["fp4"] else
                           ". More memory bandwidth would not help; a kernel that overlaps the conversion with "
                           f"the weight stream, or {w.matrix} for the stored format, would.")
        case "fp4-k-loop":
            return (f"The NVFP4 GEMMs' serial k-loops are the bottleneck: with at most {fp4_gemm.SCALE_TILE_ROWS} "
                    "tokens per step each GEMM runs one 128-row tile whose CTAs walk the whole reduction dimension "
                    "one k-block at a time, loading weights and scale tiles with no math to hide the latency "
                    f"({fp4_gemm.K_LATENCY_S_PER_VALUE * 1e9:.3g} ns per K value); that takes {share}. More "
                    "bandwidth would not help; more tokens per step (up to the tile, at no extra k-loop cost), "
                    f"more {w.many} in tensor parallel (a shorter K for the row-parallel GEMMs) or a kernel that splits "
                    "K across CTAs would.")
        case "memory-bandwidth":
            nbytes = sum(st["memory_bytes"] for st in stages) / len(stages)
            where = f"per {w.one}" if len(stages) == 1 else f"per {w.one} per stage (mean)"
            seconds = sum(st["memory_s"] for st in stages)
            achieved = sum(st["memory_bytes"] for st in stages) / seconds if seconds > 0 else setup["bandwidth_Bps"]
            return (f"Memory bandwidth is the bottleneck: every token must read all weights (and its KV cache) "
                    f"from memory, {b(nbytes)} {where}, at {b(achieved)}/s achieved "
                    f"({pct(achieved / setup['peak_bandwidth_Bps'])} of the "
                    f"{b(setup['peak_bandwidth_Bps'])}/s peak); that takes {share}. Only more bandwidth "
                    f"(more {w.many} in tensor parallel, faster memory), fewer bytes (quantised weights) or better "
                    "kernels (closer to peak) would help.")
        case "launch-overhead":
            kernels = sum(st["kernels"] for st in stages)
            host = sum(st["host_s"] for st in stages)
            text = (f"Fixed overheads are the bottleneck: {kernels:,} kernels per token at "
                    f"{t(stages[0]['kernel_s'])} each cost {t(sum(st['launch_s'] for st in stages))}")
            if host > 0:
                text += f", plus {t(host)} of host (scheduler, Python) time per step"
            return text + (f": {share}, more than streaming the weights "
                           f"({t(d['parts_s']['memory'])}). Fewer, fused kernels (CUDA graphs, a megakernel) "
                           "would help; more bandwidth would not.")
        case "compute":
            flops = sum(st["math_flops"] for st in stages)
            feeds = ("the weights are the chip's wiring, so no weight bytes stream and" if setup.get("device_kind") == "logic"
                     else f"with {_n(d['batch'], 'sequence')} per step each weight byte feeds enough math that")
            return (f"Compute is the bottleneck: {feeds} the {w.matrix} limit: {fl(flops)} at "
                    f"{setup['flops_per_s'] / 1e12:.3g} TFLOP/s achieved take {share}. More or faster {w.many} "
                    "would help; more memory bandwidth would not.")
    hop = d["hops"][0]
    return (f"The pipeline is the bottleneck: {_n(len(d['hops']), 'hop')} between stages of {t(hop['time_s'])} each "
            f"take {share}. Fewer stages (more tensor parallelism instead) would help.")


def _scaling_sentence(d: dict, scaling) -> str:
    rates = scaling.per_request_tps
    if len(rates) <= 1:
        only = next(iter(rates), 1)
        return (f"Only tp = {only} is possible for this model on this hardware (heads, nodes and memory "
                "decide), so there is no TP scaling to show.")
    listed = ", ".join(f"tp {k}: {tps(v)}" for k, v in rates.items())
    star = scaling.analytic_crossover_tp
    analytic = (f"the analytic estimate (physics.md 2.5: where the all-reduces take as long as the weight "
                f"stream) is t* = {star:.1f}" if star is not None else
                "the analytic estimate (physics.md 2.5) puts it beyond tp = 4096")
    if scaling.crossover_tp is not None:
        w = words(d["setup"].get("device_kind"), d["setup"].get("device_vendor"))
        head = f"More {w.many} stop speeding up one request above tp = {scaling.crossover_tp}"
        head += _why_it_stops(scaling, w.one)
    else:
        head = f"One request still gets faster up to tp = {max(rates)}, the most this hardware allows"
    return f"{head}; {analytic} (batch 1, {d['context_tokens']} tokens of context: {listed})."


def _why_it_stops(scaling, one: str = "GPU") -> str:
    """Between the crossover tp and the next: what more GPUs save and what the all-reduce adds."""
    degrees = sorted(scaling.per_request_tps)
    here = scaling.crossover_tp
    nxt = degrees[degrees.index(here) + 1]

    def parts(tp: int) -> tuple[float, float]:
        step = 1.0 / scaling.per_request_tps[tp]
        comm = scaling.allreduce_share[tp] * step
        return comm, step - comm

    comm_a, rest_a = parts(here)
    comm_b, rest_b = parts(nxt)
    return (f": going from tp {here} to tp {nxt} saves {t(rest_a - rest_b)} of weight streaming and "
            f"launches per token but adds {t(comm_b - comm_a)} of exposed all-reduce time, because "
            f"every all-reduce waits on more ranks while each {one}'s share of the weights shrinks; the all-reduce "
            f"caps tensor parallelism here")


def _pipeline_note(d: dict) -> str:
    pp, stages, hops = d["setup"]["pp"], d["stages"], d["hops"]
    times = " + ".join(f"{len(run)} x {run[0]}" if len(run) > 1 else run[0]
                       for run in _alike([t(st["time_s"]) for st in stages], key=lambda text: text))
    lockstep = d.get("lockstep_wait_s", 0.0) > 0
    stage_sum = (f"{pp} periods of the slowest stage ({t(max(st['time_s'] for st in stages))}: the stages run in "
                 f"lock-step, so each waits for it; their own times are {times})" if lockstep
                 else f"the sum of the stages ({times})")
    return (f"Why the {pp} pipeline stages do not speed one request up: each token visits every stage in "
            "turn (stage 2 needs stage 1's output, and the next token needs the last stage's output), so "
            f"only one stage works on a request at any moment. The token takes {stage_sum} "
            f"plus {_n(len(hops), 'hop')} of {t(hops[0]['time_s'])}: the pipeline adds memory, and "
            "throughput when many requests are in flight, not speed for one request.")


# ---- rendering -----------------------------------------------------------------------------

def _para(text: str, indent: str = "") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False)


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _pcie(pc: dict[str, Any], one: str = "GPU") -> str:
    """The PCIe hierarchy sentence of the setup paragraph (costmodel/pcie.py)."""
    text = (f"PCIe: {_n(pc['gpus_per_switch'], one)} per switch, {pc['gpus_per_socket']} per CPU socket; ")
    if pc["algorithm"] not in ("ring", "tree"):
        return text + f"{pc['algorithm']} kernels are not charged for crossings."
    if not pc["switch_steps"]:
        return text + "no step leaves a switch."
    how = "through host memory" if pc["peer_to_peer"] else "through host memory, as every step does without peer-to-peer"
    text += (f"{pc['switch_steps']} of the {pc['algorithm']}'s {pc['steps']} steps on its longest chain cross "
             f"between switches ({how})")
    if pc["socket_steps"]:
        text += (f", {pc['socket_steps']} of them between sockets (+{t(pc['socket_hop_s'])} each, "
                 f"{pc['socket_bw_share']:.2g} of the bandwidth)")
    return text + "."


def _stage_block(st: dict[str, Any], s: dict[str, Any]) -> tuple[str, list[str]]:
    """One stage of the explanation: what its heading says after the layers (weights and KV per
    device) and its rows (the parts of its time, its stage time, its lock-step wait)."""
    w = words(s.get("device_kind"), s.get("device_vendor"))
    weights = (f"{b(st['weight_bytes_per_gpu'])} of weights per {w.one}" if s.get("device_kind") != "logic"
               else "weights wired into the logic (no memory)")
    holds = f"{weights}, KV cache of the context {b(st['kv_bytes_per_gpu'])} per {w.one}"
    lines: list[str] = []
    # the bytes over their time: kernels with their own measured share (weight GEMMs, grouped
    # experts) move the average off the runtime's memory_efficiency
    achieved = st["memory_bytes"] / st["memory_s"] if st["memory_s"] > 0 else s["bandwidth_Bps"]
    rows = [("memory-bound compute", st["memory_s"],
             (f"{b(st['memory_bytes'])} read at {b(achieved)}/s achieved "
             f"({pct(achieved / s['peak_bandwidth_Bps'])} of {b(s['peak_bandwidth_Bps'])}/s peak)"))]
    if st["serial_s"] > 0:
        rows.append((TERM_NAMES[fp4_gemm.TERM], st["serial_s"],
                     f"one M tile's k-blocks in series, {fp4_gemm.K_LATENCY_S_PER_VALUE * 1e9:.3g} ns per K value "
                     "(costmodel/fp4_gemm.py)"))
    rows.append(("math-bound compute", st["math_s"],
                 f"{fl(st['math_flops'])} at {s['flops_per_s'] / 1e12:.3g} TFLOP/s achieved"
                 if st["math_flops"] else "no op is math-bound at this batch size"))
    if st["dequant_s"] > 0:
        wd = s["weight_decode"]
        note = wd["how"]
        if st["dequant_bytes"] > 0:
            note += (f"; the {b(st['dequant_bytes'])} these kernels read stream behind it "
                     f"(in {t(st['dequant_hidden_s'])} alone)")
        rows.append((wd["name"], st["dequant_s"], note))
    rows.append(("launch overhead", st["launch_s"],
                 f"{st['kernels']:,} kernels x {t(st['kernel_s'])}" if st["kernel_s"] else "no per-kernel cost"))
    groups = st["collectives"]
    coll = "; ".join(f"{g['count']} x {g['name']} of {b(g['bytes'])}, {t(g['time_s'])}{' each' if g['count'] > 1 else ''} "
                     f"({t(g['alpha_s'])} latency + {t(g['beta_s'])} bandwidth)" for g in groups)
    rows.append(("exposed communication", st["exposed_comm_s"],
                 f"{coll}; {t(st['comm_s'])} in all, {t(st['hidden_comm_s'])} hidden behind compute by "
                 f"the {s['tp_mode']} schedule" if groups else "no collectives (tp 1)"))
    rows.append(("host overhead", st["host_s"], "runtime's per-step CPU time" if st["host_s"] else "none"))
    for name, value, note in rows:
        lines.append(_para(f"{name:<22} {t(value):>9}   {note}", "  "))
    lines += [f"  {'stage time':<22} {t(st['time_s']):>9}"]
    if st.get("lockstep_wait_s", 0.0) > 0:
        lines.append(_para(f"{'lock-step wait':<22} {t(st['lockstep_wait_s']):>9}   the rest of the pipeline's "
                         "common period (the slowest stage's time): its chips run one schedule in step", "  "))
    return holds, lines


def _alike(items: list[Any], key: Callable[[Any], Any]) -> list[list[Any]]:
    """``items`` in runs of consecutive ones with equal ``key`` (a 36-stage pipeline of one layer
    count is told once per kind of stage, not 36 times)."""
    runs: list[list[Any]] = []
    for item in items:
        if runs and key(runs[-1][0]) == key(item):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def render_explanation(d: dict[str, Any]) -> str:
    """Plain text of :func:`explain`'s result."""
    s = d["setup"]
    w = words(s.get("device_kind"), s.get("device_vendor"))
    out = [f"simdecode explain: {d['scenario']}", ""]
    layout = f"tp {s['tp']}, pp {s['pp']}, tp_mode {s['tp_mode']}"
    if s.get("ep", 1) > 1:
        layout += f", ep {s['ep']}"
    if s.get("attention_dp"):  # costmodel/attention_dp.py
        layout += f", attention data-parallel over {s['tp']} ranks (the busiest rank's share of the batch)"
    line = (f"Setup: {s['model']} on {s['gpus']} x {s['gpu']} ({layout}) "
            f"over {s['link']}, runtime {s['runtime']}; one decode step of {_n(d['batch'], 'sequence')} with "
            f"{d['context_tokens']} tokens of context.")
    ar = s["allreduce"]
    if ar:
        algo = ar["algorithm"] + (f"/{ar['protocol']}" if ar["protocol"] else "")
        line += (f" All-reduce: {algo} (asked for: {s['allreduce_requested']}); one of {b(ar['bytes'])} takes "
                 f"{t(ar['time_s'])} = {t(ar['alpha_s'])} latency (alpha) + {t(ar['beta_s'])} bandwidth (beta).")
    if ar and s.get("pcie"):
        line += " " + _pcie(s["pcie"], w.one)
    if ar and s.get("allreduce_impl"):
        impl = {"nccl": "NCCL", "custom": "the runtime's custom all-reduce kernels",
                "in-kernel": "collectives inside the kernel",
                "scheduled": "collectives placed at compile time"}[s["allreduce_impl"]]
        line += f" All-reduce implementation: {impl}"
        line += f" ({s['allreduce_fallback']})." if s.get("allreduce_fallback") else "."
        if s.get("allreduce_rule"):
            line += f" Kernel per message: {s['allreduce_rule']}."
    if s["changes_model"]:
        line += f" Note: tp_mode {s['tp_mode']} changes the model (it must be trained that way)."
    out += [_para(line), ""]
    blocks = [(st, *_stage_block(st, s)) for st in d["stages"]]
    for run in _alike(blocks, key=lambda blk: (blk[0]["layers"], blk[1], blk[2])):
        first, last = run[0][0], run[-1][0]
        if len(run) == 1:
            head = (f"Stage {first['stage'] + 1} of {s['pp']}: layers {first['first_layer']}-{first['last_layer']} "
                    f"({first['layers']} layers)")
        else:
            head = (f"Stages {first['stage'] + 1}-{last['stage'] + 1} of {s['pp']}, each alike: layers "
                    f"{first['first_layer']}-{last['last_layer']} ({first['layers']} layers each)")
        out.append(_para(f"{head}, {run[0][1]}"))
        out += run[0][2] + [""]
    for run in _alike(d["hops"], key=lambda h: (h["bytes"], h["link"], h["time_s"], h["alpha_s"], h["beta_s"])):
        h, end = run[0], run[-1]
        where = (f"Pipeline hop stage {h['from_stage'] + 1} -> {h['to_stage'] + 1}" if len(run) == 1 else
                 f"Pipeline hops stage {h['from_stage'] + 1} -> {h['to_stage'] + 1} to "
                 f"{end['from_stage'] + 1} -> {end['to_stage'] + 1}, {len(run)} alike")
        out.append(_para(f"{where}: {b(h['bytes'])} over {h['link']}, {t(h['time_s'])}{' each' if len(run) > 1 else ''} "
                         f"({t(h['alpha_s'])} latency + {t(h['beta_s'])} bandwidth)"))
    if d["hops"]:
        out.append("")
    p = d["parts_s"]
    out.append(_para(
        f"One token takes {t(d['total_s'])} = {t(p['memory'])} memory + {t(p['compute'])} math + "
        + (f"{t(p['dequant'])} {s['weight_decode']['name']} + " if p["dequant"] > 0 else "")
        + (f"{t(p['serial'])} {TERM_NAMES[fp4_gemm.TERM]} + " if p["serial"] > 0 else "")
        + f"{t(p['launch'])} launches + {t(p['host'])} host + {t(p['communication'])} exposed communication + "
        f"{t(p['pipeline'])} pipeline hops"
        + (f" and lock-step waits ({t(d['lockstep_wait_s'])})" if d.get("lockstep_wait_s", 0.0) > 0 else "")
        + f": {tps(d['tokens_per_s_per_request'])} for one request"
        + (f", {tps(d['aggregate_tokens_per_s'])} for all {d['batch']:,}" if d["batch"] > 1 else "") + "."))
    out.append(_para(d["terms_sentence"]))
    out.append(_para(
        f"Roofline (every byte and FLOP at 100% of peak, no launches, no communication): "
        f"{tps(d['roofline_tokens_per_s'])}; this reaches {pct(d['roofline_fraction'])} of it."))
    out += ["", _para(f"Bottleneck: {d['bottleneck']}. {d['verdict']}"), "",
            _para(f"TP scaling: {d['tp_scaling']['sentence']}")]
    if d["pipeline_note"]:
        out += ["", _para(f"Pipeline: {d['pipeline_note']}")]
    if d.get("pipeline"):
        out += ["", _para(f"Pipeline depth: {d['pipeline']['sentence']}")]
    if d.get("speculation"):
        out += ["", _para(f"Speculation: {d['speculation']['sentence']}")]
    return "\n".join(out) + "\n"
