"""Where a decode step's time goes: every kernel of one step, with its duration, on one NVIDIA GPU.

Companion of ``measure_kernels.py`` (it imports its Llama model and graph timer). For each step it
records the step's time as one CUDA graph (``graph_time_s``: median of 10 replays) and, from one
eager call under ``torch.profiler``, every kernel's name, count and summed duration (``by_kernel``:
name -> [count, microseconds]). A graph replay has no host launches, so the graph's time less the
kernels' summed durations, over the kernel count, is the gap between two kernels of the graph.

    python3 benchmarks/device/profile_steps.py --out DIR      # ~90 s on an H200; writes DIR/profile.json

Steps: Llama-3.1-8B (plain ops) decode at batch 1 and 64 (1,024 cached tokens) and prefill of 2,048
and 8,192 tokens; Llama-3.2-1B decode at batch 1 and 64 and prefill of 2,048; Llama-3.1-8B through
torch.compile, decode at batch 1 and 64. ``runs/h200-profile.json`` was measured with this code
(run inline from the session's checkout, 2026-11-28, the same H200 model as runs/h200-run2.json).
"""

import argparse
import json
import os

import torch
from torch.profiler import ProfilerActivity, profile

import measure_kernels as mk

R = {"torch": torch.__version__, "runs": []}


def kern(fn):
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as p:
        fn()
        torch.cuda.synchronize()
    k = {}
    for e in p.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            n = e.name[:160]
            c, t = k.get(n, (0, 0.0))
            k[n] = (c + 1, t + e.time_range.elapsed_us())
    return k


def run(c, pts, pre, comp, out):
    m = mk.Llama(c, 8192 + 16)
    f = torch.compile(m.forward, dynamic=False) if comp else m.forward
    for b, ctx, s in [(b, ctx, 1) for b, ctx in pts] + [(1, 0, s) for s in pre]:
        L, T = c["layers"], ctx + s
        kc = [torch.zeros(b, c["kv_heads"], T, c["head_dim"], device="cuda", dtype=torch.bfloat16) for _ in range(L)]
        vc = [torch.zeros_like(x) for x in kc]
        tok = torch.randint(0, c["vocab"], (b, s), device="cuda")
        fn = lambda: f(tok, kc, vc, ctx)  # noqa: E731
        g = mk.graph_time_s(lambda i: fn(), 1, trials=10)
        k = kern(fn)
        tot = sum(t for _, t in k.values())
        n = sum(x for x, _ in k.values())
        r = {"model": c["name"], "compiled": comp, "batch": b, "context": ctx, "new_tokens": s, "graph_step_s": g,
             "kernels": n, "kernel_busy_us": tot,
             "by_kernel": {a: [x, round(t, 2)] for a, (x, t) in sorted(k.items(), key=lambda z: -z[1][1])}}
        R["runs"].append(r)
        print(c["name"], comp, b, ctx, s, "graph %.3f ms, %d kernels, busy %.3f ms, gap/kernel %.2f us"
              % (g * 1e3, n, tot / 1e3, (g * 1e6 - tot) / n), flush=True)
        json.dump(R, open(os.path.join(out, "profile.json"), "w"), indent=1)
        del kc, vc
        torch.cuda.empty_cache()
    del m, f
    torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    run(mk.LLAMA8B, [(1, 1024), (64, 1024)], [2048, 8192], False, out)
    run(mk.LLAMA1B, [(1, 1024), (64, 1024)], [2048], False, out)
    run(mk.LLAMA8B, [(1, 1024), (64, 1024)], [], True, out)
    print("done")


if __name__ == "__main__":
    main()
