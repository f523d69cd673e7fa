"""Does compiling a whole decoder stack as one graph keep more activations alive than eager ops?

A check of one lead for a vLLM 0.10.2 launch that compiles the model with ``splitting_ops: []``
(one Inductor graph, attention inside it) and holds ~21 GB less KV cache than its accounting: if
Inductor's buffer planning kept each layer's activations alive across the graph, the memory
profile's peak would grow with the number of layers. Llama-3.1-70B layer shapes (hidden 8192,
64/8 heads, intermediate 28672), random bf16 weights, one 8,192-token prefill; peak memory above
what is allocated before the forward, for eager ops, one compiled graph of all layers, and one
compiled graph per layer, at 2 and 4 layers. Writes DIR/compile_memory.json.

    python3 benchmarks/device/compile_memory.py --out DIR
"""
import argparse, json, os, time
import torch
import torch.nn.functional as F

H, NH, NKV, D, I, S = 8192, 64, 8, 128, 28672, 8192


def layer(x, w):
    h = F.rms_norm(x, (H,), w["ln1"], 1e-5)
    q, k, v = F.linear(h, w["qkv"]).split([NH * D, NKV * D, NKV * D], dim=-1)
    q = q.view(1, S, NH, D).transpose(1, 2)
    k = k.view(1, S, NKV, D).transpose(1, 2)
    v = v.view(1, S, NKV, D).transpose(1, 2)
    a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    x = x + F.linear(a.transpose(1, 2).reshape(1, S, NH * D), w["o"])
    h = F.rms_norm(x, (H,), w["ln2"], 1e-5)
    g, u = F.linear(h, w["gu"]).chunk(2, dim=-1)
    return x + F.linear(F.silu(g) * u, w["down"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)
    res = {"shapes": {"hidden": H, "heads": NH, "kv_heads": NKV, "intermediate": I, "tokens": S},
           "torch": torch.__version__, "runs": []}
    t0 = time.time()
    for n in (2, 4):
        ws = [{"ln1": torch.ones(H, device="cuda", dtype=torch.bfloat16), "ln2": torch.ones(H, device="cuda", dtype=torch.bfloat16),
               "qkv": torch.randn(H + 2 * NKV * D, H, device="cuda", dtype=torch.bfloat16) * 0.02,
               "o": torch.randn(H, NH * D, device="cuda", dtype=torch.bfloat16) * 0.02,
               "gu": torch.randn(2 * I, H, device="cuda", dtype=torch.bfloat16) * 0.02,
               "down": torch.randn(H, I, device="cuda", dtype=torch.bfloat16) * 0.02} for _ in range(n)]

        def stack(x, ws=ws):
            for w in ws:
                x = layer(x, w)
            return x
        per_layer = torch.compile(layer, dynamic=False)

        def stack_per_layer(x, ws=ws):
            for w in ws:
                x = per_layer(x, w)
            return x
        for mode, fn in (("eager", stack), ("one graph", torch.compile(stack, dynamic=False, fullgraph=True)),
                         ("graph per layer", stack_per_layer)):
            x = torch.randn(1, S, H, device="cuda", dtype=torch.bfloat16)
            with torch.no_grad():
                fn(x)  # compile / warm up
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
                y = fn(x)
                torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() - base
            res["runs"].append({"layers": n, "mode": mode, "peak_above_base_bytes": peak})
            print(f"[{time.time() - t0:5.1f}s] layers={n} {mode:16s} peak above base {peak / 2**30:.3f} GiB", flush=True)
            del y, x
            with open(os.path.join(out, "compile_memory.json"), "w") as f:
                json.dump(res, f, indent=1)
        del ws
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
