"""Kernel and decode-step measurements on one NVIDIA GPU, the source of simdecode's KER validation cases.

Run on a machine with PyTorch and one CUDA GPU (not part of `make test`; CI has no GPU):

    python3 benchmarks/device/measure_kernels.py --out DIR

It writes DIR/kernels.json: what the GPU, driver and PyTorch were, then one record per measurement.
Every timing is the median of several replays of one CUDA graph holding ``reps`` back-to-back calls,
divided by ``reps``: launch gaps inside a graph are included (as they are in a graph-replayed decode
step), the host's launch cost is not. Inputs that would stay in L2 between calls are rotated over
enough copies to exceed three times the L2, so each call reads its bytes from HBM.

Sections:
- ``stream``: a bf16 reduction (``torch.sum``) and a copy over 1 MB .. 4 GB: the bandwidth a
  kernel reaches against the bytes it moves.
- ``launch``: a one-element kernel repeated in a graph (the per-kernel gap) and eagerly (the host).
- ``gemm``: ``F.linear`` in bf16 and ``torch._scaled_mm`` in fp8 (e4m3, per-tensor scales, bf16
  out) for the weight shapes of Llama-3.1-8B (tp 1), Llama-3.1-70B (tp 8), and MoE experts, at
  1 .. 16,384 rows.
- ``attention``: ``scaled_dot_product_attention`` decode (one query per sequence, GQA 32/8,
  head dim 128) over 1k .. 16k cached tokens, and causal prefill at 1k .. 8k tokens.
- ``decode_step``: a Llama-3.1-8B-shaped model (random bf16 weights, plain PyTorch ops, static KV
  cache) whose whole decode step is one CUDA graph: step time at batch 1 .. 64, kernels per step
  counted with the profiler; and a prefill forward at 512 .. 8,192 tokens.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import time

import torch
import torch.nn.functional as F

T0 = time.time()
RESULTS: dict = {"meta": {}, "stream": [], "launch": {}, "gemm": [], "attention": [], "decode_step": [],
                 "prefill": [], "errors": []}


def log(msg: str) -> None:
    print(f"[{time.time() - T0:6.1f}s] {msg}", flush=True)


def save(out: str) -> None:
    tmp = os.path.join(out, "kernels.json.tmp")
    with open(tmp, "w") as f:
        json.dump(RESULTS, f, indent=1)
    os.replace(tmp, os.path.join(out, "kernels.json"))


def smi(query: str) -> str:
    try:
        return subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception as e:  # noqa: BLE001 - provenance only
        return f"unavailable: {e}"


def graph_time_s(fn, reps: int, trials: int = 7) -> float:
    """Seconds per call of ``fn(i)``: median over ``trials`` replays of a graph of ``reps`` calls."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for i in range(3):
            fn(i)
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for i in range(reps):
            fn(i)
    g.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(trials):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        g.replay()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / 1e3 / reps)
    del g
    return statistics.median(times)


def copies_for(nbytes: float, l2: int) -> int:
    return max(1, math.ceil(3 * l2 / max(nbytes, 1)))


def reps_for(estimate_s: float, lo: int = 4, hi: int = 200) -> int:
    return int(min(hi, max(lo, math.ceil(0.02 / max(estimate_s, 1e-7)))))


def meta(args) -> None:
    p = torch.cuda.get_device_properties(0)
    RESULTS["meta"] = {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "device": p.name, "sm_count": p.multi_processor_count, "l2_bytes": int(p.L2_cache_size),
        "memory_bytes": int(p.total_memory), "compute_capability": f"{p.major}.{p.minor}",
        "torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
        "cublas_workspace": os.environ.get("CUBLAS_WORKSPACE_CONFIG", "default"),
        "smi_static": smi("name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit"),
        "timing": "median of 7 replays of one CUDA graph of `reps` calls, divided by reps",
    }


def stream(l2: int) -> None:
    free = torch.cuda.mem_get_info()[0]
    for mb in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096):
        nbytes = mb * 2**20
        n = copies_for(nbytes, l2)
        if 2 * n * nbytes > 0.6 * free:
            continue
        xs = [torch.ones(nbytes // 2, dtype=torch.bfloat16, device="cuda") for _ in range(n)]
        ys = [torch.empty_like(x) for x in xs]
        acc = torch.empty((), dtype=torch.float32, device="cuda")
        est = nbytes / 4e12 + 3e-6
        reps = reps_for(est)
        t_sum = graph_time_s(lambda i: torch.sum(xs[i % n], dim=0, dtype=torch.float32, out=acc), reps)
        t_copy = graph_time_s(lambda i: ys[i % n].copy_(xs[i % n]), reps)
        RESULTS["stream"].append({"bytes": nbytes, "copies": n, "reps": reps,
                                  "sum_s": t_sum, "sum_Bps": nbytes / t_sum,
                                  "copy_s": t_copy, "copy_Bps": 2 * nbytes / t_copy})
        log(f"stream {mb:5d} MB: sum {nbytes / t_sum / 1e12:.2f} TB/s, copy {2 * nbytes / t_copy / 1e12:.2f} TB/s")
        del xs, ys
        torch.cuda.empty_cache()


def launch() -> None:
    x = torch.zeros(1, device="cuda")
    t_graph = graph_time_s(lambda i: x.add_(1.0), 2000)
    torch.cuda.synchronize()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(200):
        x.add_(1.0)
    torch.cuda.synchronize()
    a.record()
    for _ in range(5000):
        x.add_(1.0)
    b.record()
    b.synchronize()
    RESULTS["launch"] = {"graph_kernel_s": t_graph, "eager_kernel_s": a.elapsed_time(b) / 1e3 / 5000,
                         "kernel": "x.add_(1.0) on one float32"}
    log(f"launch: graph {t_graph * 1e6:.2f} us/kernel, eager {RESULTS['launch']['eager_kernel_s'] * 1e6:.2f} us/kernel")


GEMM_SHAPES = {  # name: (K in, N out) of one weight, as nn.Linear(K, N)
    "llama8b.qkv": (4096, 6144), "llama8b.o": (4096, 4096), "llama8b.gate_up": (4096, 28672),
    "llama8b.down": (14336, 4096), "llama8b.lm_head": (4096, 128256),
    "llama70b_tp8.qkv": (8192, 1280), "llama70b_tp8.o": (1024, 8192),
    "llama70b_tp8.gate_up": (8192, 7168), "llama70b_tp8.down": (3584, 8192),
    "deepseek_v3.expert_gate_up": (7168, 4096), "deepseek_v3.expert_down": (2048, 7168),
    "gpt_oss.expert_gate_up": (2880, 5760),
}
GEMM_ROWS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)


def gemm(l2: int, deadline_s: float) -> None:
    fp8 = hasattr(torch, "float8_e4m3fn") and hasattr(torch, "_scaled_mm")
    one = torch.ones((), dtype=torch.float32, device="cuda")
    for name, (k, n) in GEMM_SHAPES.items():
        for dtype in ("bf16", "fp8") if fp8 else ("bf16",):
            if time.time() - T0 > deadline_s:
                RESULTS["errors"].append(f"gemm {name} {dtype}: skipped, past the deadline")
                continue
            wbytes = k * n * (2 if dtype == "bf16" else 1)
            copies = copies_for(wbytes, l2)
            w = [torch.randn(n, k, device="cuda", dtype=torch.bfloat16) * 0.02 for _ in range(copies)]
            if dtype == "fp8":
                w = [t.to(torch.float8_e4m3fn) for t in w]
            for m in GEMM_ROWS:
                x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
                if dtype == "bf16":
                    def fn(i, x=x):
                        return F.linear(x, w[i % copies])
                else:
                    x = x.to(torch.float8_e4m3fn)

                    def fn(i, x=x):
                        return torch._scaled_mm(x, w[i % copies].t(), scale_a=one, scale_b=one,
                                                out_dtype=torch.bfloat16)
                flops = 2.0 * m * k * n
                abytes = m * k * (2 if dtype == "bf16" else 1)
                obytes = m * n * 2
                est = max((wbytes + abytes + obytes) / 4e12, flops / (6e14 if dtype == "bf16" else 1.2e15)) + 3e-6
                try:
                    t = graph_time_s(fn, reps_for(est, hi=100))
                except Exception as e:  # noqa: BLE001 - record and go on
                    RESULTS["errors"].append(f"gemm {name} {dtype} m={m}: {type(e).__name__}: {str(e)[:200]}")
                    continue
                RESULTS["gemm"].append({"shape": name, "dtype": dtype, "m": m, "k": k, "n": n, "time_s": t,
                                        "weight_bytes": wbytes, "bytes": wbytes + abytes + obytes,
                                        "flops": flops, "flops_per_s": flops / t,
                                        "Bps": (wbytes + abytes + obytes) / t})
            done = [r for r in RESULTS["gemm"] if r["shape"] == name and r["dtype"] == dtype]
            if done:
                log(f"gemm {name} {dtype}: m={done[0]['m']} {done[0]['time_s'] * 1e6:.1f} us, "
                    f"m={done[-1]['m']} {done[-1]['flops_per_s'] / 1e12:.0f} TFLOP/s")
            del w
            torch.cuda.empty_cache()


def sdpa(q, k, v, causal: bool):
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)


#: SDPA backends tried in this order; the first that runs is timed. FlashAttention-2 comes first, so
#: this section times PyTorch's FA2 kernel, which is not the one a plain ``sdpa`` call in the decode
#: steps picks on an H200 (cuDNN's: docs/measurements-h200.md)
SDPA_BACKENDS = ("FLASH_ATTENTION", "EFFICIENT_ATTENTION", "default")


def time_sdpa(rec: dict, fn, reps: int) -> float | None:
    """Seconds per call of ``fn(i)`` under the first of :data:`SDPA_BACKENDS` that runs; records the
    backend and time in ``rec`` (and each backend that failed, with why); None if none ran."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    for backend in SDPA_BACKENDS:
        try:
            if backend == "default":
                t = graph_time_s(fn, reps)
            else:
                with sdpa_kernel([getattr(SDPBackend, backend)]):
                    t = graph_time_s(fn, reps)
        except Exception as e:  # noqa: BLE001 - record and try the next backend
            rec.setdefault("failed", []).append(f"{backend}: {type(e).__name__}: {str(e)[:120]}")
            continue
        rec.update(backend=backend, time_s=t)
        return t
    return None


def attention() -> None:
    heads, kv_heads, d = 32, 8, 128
    for b in (1, 8, 32, 64):
        for ctx in (1024, 4096, 16384):
            kvb = 2 * b * kv_heads * ctx * d * 2
            copies = copies_for(kvb, 60 * 2**20)
            if copies * kvb > 40e9:
                continue
            q = torch.randn(b, heads, 1, d, device="cuda", dtype=torch.bfloat16)
            ks = [torch.randn(b, kv_heads, ctx, d, device="cuda", dtype=torch.bfloat16) for _ in range(copies)]
            vs = [torch.randn(b, kv_heads, ctx, d, device="cuda", dtype=torch.bfloat16) for _ in range(copies)]
            rec = {"kind": "decode", "batch": b, "context": ctx, "kv_bytes": kvb, "heads": heads,
                   "kv_heads": kv_heads, "head_dim": d}
            t = time_sdpa(rec, lambda i: sdpa(q, ks[i % copies], vs[i % copies], False), reps_for(kvb / 4e12 + 5e-6))
            if t is not None:
                rec.update(Bps=kvb / t)
            RESULTS["attention"].append(rec)
            if "time_s" in rec:
                log(f"attention decode b={b} ctx={ctx}: {rec['time_s'] * 1e6:.1f} us ({rec['backend']}), {rec['Bps'] / 1e12:.2f} TB/s")
            del ks, vs
            torch.cuda.empty_cache()
    for s in (1024, 4096, 8192):
        q = torch.randn(1, heads, s, d, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(1, kv_heads, s, d, device="cuda", dtype=torch.bfloat16)
        v = torch.randn(1, kv_heads, s, d, device="cuda", dtype=torch.bfloat16)
        flops = 4.0 * heads * d * s * s / 2  # QK^T and PV, causal half
        rec = {"kind": "prefill", "batch": 1, "context": s, "flops": flops, "heads": heads, "kv_heads": kv_heads, "head_dim": d}
        t = time_sdpa(rec, lambda i: sdpa(q, k, v, True), reps_for(flops / 4e14))
        if t is not None:
            rec.update(flops_per_s=flops / t)
        RESULTS["attention"].append(rec)
        if "time_s" in rec:
            log(f"attention prefill s={s}: {rec['time_s'] * 1e3:.3f} ms ({rec['backend']}), {rec['flops_per_s'] / 1e12:.0f} TFLOP/s")


# Llama-3.1-8B (meta-llama/Llama-3.1-8B config.json): hidden 4096, 32 layers, 32 heads, 8 KV heads,
# head dim 128, intermediate 14336, vocab 128256, rms_norm_eps 1e-5, rope_theta 500000, untied head.
LLAMA8B = {"name": "llama-3.1-8b", "hidden": 4096, "layers": 32, "heads": 32, "kv_heads": 8, "head_dim": 128,
           "intermediate": 14336, "vocab": 128256, "eps": 1e-5, "rope_theta": 500000.0, "tied": False}
# Llama-3.2-1B (meta-llama/Llama-3.2-1B config.json): hidden 2048, 16 layers, 32 heads, 8 KV heads, head dim 64,
# intermediate 8192, vocab 128256, tied embeddings.
LLAMA1B = {"name": "llama-3.2-1b", "hidden": 2048, "layers": 16, "heads": 32, "kv_heads": 8, "head_dim": 64,
           "intermediate": 8192, "vocab": 128256, "eps": 1e-5, "rope_theta": 500000.0, "tied": True}


class Llama:
    """A Llama decoder in plain PyTorch ops (no fusion beyond what each op does), random weights."""

    def __init__(self, c: dict, max_pos: int):
        self.c = c
        h, kvd = c["hidden"], c["kv_heads"] * c["head_dim"]
        g = torch.Generator(device="cuda").manual_seed(0)

        def rnd(*shape):
            return (torch.randn(*shape, device="cuda", dtype=torch.bfloat16, generator=g) * 0.02)
        self.embed = rnd(c["vocab"], h)
        self.layers = [{"ln1": torch.ones(h, device="cuda", dtype=torch.bfloat16),
                        "wqkv": rnd(h + 2 * kvd, h), "wo": rnd(h, h),
                        "ln2": torch.ones(h, device="cuda", dtype=torch.bfloat16),
                        "wgu": rnd(2 * c["intermediate"], h), "wd": rnd(h, c["intermediate"])}
                       for _ in range(c["layers"])]
        self.norm = torch.ones(h, device="cuda", dtype=torch.bfloat16)
        self.head = self.embed if c["tied"] else rnd(c["vocab"], h)
        d = c["head_dim"]
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, d, 2, device="cuda", dtype=torch.float32) / d))
        ang = torch.outer(torch.arange(max_pos, device="cuda", dtype=torch.float32), inv)
        self.cos, self.sin = ang.cos().to(torch.bfloat16), ang.sin().to(torch.bfloat16)

    def weight_bytes(self) -> int:
        n = self.embed.numel() + self.norm.numel() + (0 if self.c["tied"] else self.head.numel())
        n += sum(t.numel() for lay in self.layers for t in lay.values())
        return 2 * n

    def rope(self, x, start: int, length: int):
        cos = self.cos[start:start + length].view(1, 1, length, -1)
        sin = self.sin[start:start + length].view(1, 1, length, -1)
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
        return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)

    def forward(self, tokens, kc, vc, start: int):
        """tokens [B, S]; kc/vc: per layer [B, kv_heads, max_pos, d]; positions start .. start+S-1."""
        c = self.c
        b, s = tokens.shape
        hd, nh, nkv = c["head_dim"], c["heads"], c["kv_heads"]
        x = F.embedding(tokens, self.embed)
        for li, lay in enumerate(self.layers):
            h = F.rms_norm(x, (c["hidden"],), lay["ln1"], c["eps"])
            qkv = F.linear(h, lay["wqkv"])
            q, k, v = qkv.split([nh * hd, nkv * hd, nkv * hd], dim=-1)
            q = self.rope(q.view(b, s, nh, hd).transpose(1, 2), start, s)
            k = self.rope(k.view(b, s, nkv, hd).transpose(1, 2), start, s)
            v = v.view(b, s, nkv, hd).transpose(1, 2)
            kc[li][:, :, start:start + s] = k
            vc[li][:, :, start:start + s] = v
            a = F.scaled_dot_product_attention(q, kc[li][:, :, : start + s], vc[li][:, :, : start + s],
                                               is_causal=s > 1, enable_gqa=True)
            x = x + F.linear(a.transpose(1, 2).reshape(b, s, nh * hd), lay["wo"])
            h = F.rms_norm(x, (c["hidden"],), lay["ln2"], c["eps"])
            gate, up = F.linear(h, lay["wgu"]).chunk(2, dim=-1)
            x = x + F.linear(F.silu(gate) * up, lay["wd"])
        x = F.rms_norm(x[:, -1:], (c["hidden"],), self.norm, c["eps"])
        return F.linear(x, self.head).argmax(dim=-1)


def count_kernels(fn) -> tuple[int, dict]:
    from torch.profiler import ProfilerActivity, profile
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    names: dict = {}
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA and not e.name.startswith(("Memcpy", "Memset")):
            names[e.name] = names.get(e.name, 0) + 1
    short: dict = {}  # names cut to 90 characters; kernels whose names share those add up
    for k, v in names.items():
        short[k[:90]] = short.get(k[:90], 0) + v
    return sum(names.values()), dict(sorted(short.items(), key=lambda kv: -kv[1])[:25])


def decode_step(c: dict, points, prompts, deadline_s: float, compiled: bool = False) -> None:
    """Decode steps at (batch, context) ``points`` and prefill forwards at ``prompts`` tokens.
    ``compiled``: the forward goes through ``torch.compile`` (Inductor's default mode: fused Triton
    kernels, no CUDA graphs of its own) before being captured in the graph, as gpt-fast does."""
    max_pos = 8192 + 16
    model = Llama(c, max_pos)
    fwd = torch.compile(model.forward, dynamic=False) if compiled else model.forward
    tag = "torch.compile" if compiled else "eager ops"
    wbytes = model.weight_bytes()
    log(f"decode: model weights {wbytes / 1e9:.2f} GB")
    for b, ctx in points:
        if time.time() - T0 > deadline_s:
            RESULTS["errors"].append(f"decode b={b} ctx={ctx}: skipped, past the deadline")
            continue
        kc = [torch.zeros(b, c["kv_heads"], ctx + 1, c["head_dim"], device="cuda", dtype=torch.bfloat16) for _ in range(c["layers"])]
        vc = [torch.zeros_like(t) for t in kc]
        tok = torch.randint(0, c["vocab"], (b, 1), device="cuda")
        try:
            c0 = time.perf_counter()
            fwd(tok, kc, vc, ctx)
            torch.cuda.synchronize()
            first_call_s = time.perf_counter() - c0
            step = lambda i: fwd(tok, kc, vc, ctx)  # noqa: E731 - writes position ctx
            t = graph_time_s(step, 1, trials=20)
            torch.cuda.synchronize()
            e0 = time.perf_counter()
            for _ in range(5):
                fwd(tok, kc, vc, ctx)
            torch.cuda.synchronize()
            eager = (time.perf_counter() - e0) / 5
            kernels, top = count_kernels(lambda: fwd(tok, kc, vc, ctx))
        except Exception as e:  # noqa: BLE001
            RESULTS["errors"].append(f"decode b={b} ctx={ctx}: {type(e).__name__}: {str(e)[:200]}")
            continue
        kvb = 2 * c["layers"] * b * c["kv_heads"] * (ctx + 1) * c["head_dim"] * 2
        RESULTS["decode_step"].append({"model": c["name"], "weights": "random bf16", "ops": tag, "batch": b, "context": ctx,
                                       "first_call_s": first_call_s,
                                       "graph_step_s": t, "eager_step_s": eager, "kernels_per_step": kernels,
                                       "weight_bytes": wbytes, "kv_bytes_read": kvb, "top_kernels": top})
        log(f"decode {c['name']} ({tag}) b={b} ctx={ctx}: graph {t * 1e3:.3f} ms ({b / t:.0f} tok/s), eager {eager * 1e3:.2f} ms, {kernels} kernels")
        del kc, vc
        torch.cuda.empty_cache()
        save(ARGS.out)
    for s in prompts:
        if time.time() - T0 > deadline_s:
            RESULTS["errors"].append(f"prefill s={s}: skipped, past the deadline")
            continue
        kc = [torch.zeros(1, c["kv_heads"], s, c["head_dim"], device="cuda", dtype=torch.bfloat16) for _ in range(c["layers"])]
        vc = [torch.zeros_like(t) for t in kc]
        tok = torch.randint(0, c["vocab"], (1, s), device="cuda")
        try:
            t = graph_time_s(lambda i: fwd(tok, kc, vc, 0), 1, trials=7)
        except Exception as e:  # noqa: BLE001
            RESULTS["errors"].append(f"prefill s={s}: {type(e).__name__}: {str(e)[:200]}")
            continue
        RESULTS["prefill"].append({"model": c["name"], "weights": "random bf16", "ops": tag, "batch": 1, "prompt": s,
                                   "graph_forward_s": t})
        log(f"prefill {c['name']} s={s}: {t * 1e3:.2f} ms")
        del kc, vc
        torch.cuda.empty_cache()
    del model
    torch.cuda.empty_cache()


def main() -> None:
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-s", type=float, default=400.0, help="skip what is left after this many seconds")
    ap.add_argument("--only", default="meta,stream,launch,gemm,attention,decode,decode1b,compiled")
    ARGS = ap.parse_args()
    os.makedirs(ARGS.out, exist_ok=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    l2 = int(torch.cuda.get_device_properties(0).L2_cache_size)
    meta(ARGS)
    save(ARGS.out)
    sections = ARGS.only.split(",")
    for name, fn in (("launch", launch), ("stream", lambda: stream(l2)),
                     ("decode", lambda: decode_step(LLAMA8B, ((1, 1024), (8, 1024), (32, 1024), (64, 1024), (1, 8192), (16, 8192)),
                                                    (512, 2048, 8192), ARGS.budget_s * 0.5)),
                     ("decode1b", lambda: decode_step(LLAMA1B, ((1, 1024), (8, 1024), (64, 1024)), (2048,), ARGS.budget_s * 0.6)),
                     ("gemm", lambda: gemm(l2, ARGS.budget_s * 0.7)), ("attention", attention),
                     ("compiled", lambda: decode_step(LLAMA8B, ((1, 1024), (64, 1024)), (), ARGS.budget_s * 0.9, compiled=True))):
        if name not in sections:
            continue
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - keep what the other sections measured
            RESULTS["errors"].append(f"{name}: {type(e).__name__}: {str(e)[:300]}")
            log(f"{name} failed: {e}")
        RESULTS["meta"][f"smi_after_{name}"] = smi("clocks.sm,clocks.mem,power.draw,temperature.gpu")
        save(ARGS.out)
    RESULTS["meta"]["elapsed_s"] = time.time() - T0
    save(ARGS.out)
    log("done")


if __name__ == "__main__":
    main()
