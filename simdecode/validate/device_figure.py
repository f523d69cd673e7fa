"""The figure of docs/measurements-h200.md: kernels measured on one GPU against the cost model's part formula.

Left: the bandwidth a kernel reaches against the bytes it moves (bf16 reduction and copy, GEMMs at one
row, SDPA decode), with the part formula's curve b / (b / (BW eta) + t_kernel) under the runtime the
device cases use (:data:`simdecode.validate.device.RUNTIME`). Right: GEMM TFLOP/s against rows for
each weight shape, bf16 and fp8, measured (solid) and predicted (dashed). Everything is read from the
run file; the model's numbers come from :func:`simdecode.validate.device.kernel_seconds`. ::

    PYTHONPATH=. .venv/bin/python -m simdecode.validate.device_figure docs/figures/measurements-h200.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from simdecode.validate import conditions, device


def figure_png(run: dict) -> bytes:
    """The PNG as bytes (matplotlib's Agg backend, nothing written)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from simdecode.costmodel import gemm_stream
    from simdecode.costmodel.deployment import Deployment
    from simdecode.costmodel.efficiency import achieved_bandwidth_Bps
    from simdecode.scenario.schema import Scenario

    gpu, _, _ = conditions.gpu(run["meta"]["device"])
    sc = device.scenario("llama-3.1-8b", gpu)
    dep = Deployment.from_scenario(Scenario.model_validate(sc))
    rates = dep.rates
    fig = plt.figure(figsize=(15, 10.5), dpi=100)
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 1], hspace=0.32, wspace=0.18)
    ax = fig.add_subplot(grid[0, :])

    def tbps(nbytes: float, seconds: float) -> float:
        return nbytes / seconds / 1e12

    s = run["stream"]
    ax.plot([r["bytes"] / 1e6 for r in s], [tbps(r["bytes"], r["sum_s"]) for r in s], "o-", color="tab:blue",
            label="torch.sum (reads b)")
    ax.plot([2 * r["bytes"] / 1e6 for r in s], [tbps(2 * r["bytes"], r["copy_s"]) for r in s], "s-", color="tab:cyan",
            label="copy_ (reads and writes b/2)")
    for dtype, color, marker in (("bf16", "tab:red", "^"), ("fp8", "tab:orange", "v")):
        g = [r for r in run["gemm"] if r["dtype"] == dtype and r["m"] == 1]
        ax.scatter([r["bytes"] / 1e6 for r in g], [tbps(r["bytes"], r["time_s"]) for r in g], marker=marker, s=45,
                   color=color, zorder=3, label=f"{dtype} GEMM at 1 row (12 weight shapes)")
    att = [r for r in run["attention"] if r["kind"] == "decode" and "time_s" in r]
    ax.scatter([r["kv_bytes"] / 1e6 for r in att], [tbps(r["kv_bytes"], r["time_s"]) for r in att], marker="D", s=40,
               color="tab:purple", zorder=3, label="SDPA decode (FlashAttention-2 in PyTorch), batch 1..64")
    lo, hi = 0.5, 1.5e4
    xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    ax.plot(xs, [achieved_bandwidth_Bps(x * 1e6, 1, rates.bandwidth_Bps, rates.kernel_s) / 1e12 for x in xs], "k--", lw=2,
            label=f"model, one kernel: b / (b / {rates.bandwidth_Bps / 1e12:.2f} TB/s + {rates.kernel_s * 1e6:.1f} us)")
    share = gemm_stream.gemm_efficiency(dep, "mlp")  # the weight GEMMs' own share, where one applies
    if share is not None:
        weights_Bps = rates.peak_bandwidth_Bps * share
        ax.plot(xs, [achieved_bandwidth_Bps(x * 1e6, 1, weights_Bps, rates.kernel_s) / 1e12 for x in xs], ":",
                color="tab:red", lw=2, label=f"model, one weight GEMM: b / (b / {weights_Bps / 1e12:.2f} TB/s + "
                f"{rates.kernel_s * 1e6:.1f} us) (costmodel/stream_share.py)")
    ax.axhline(rates.peak_bandwidth_Bps / 1e12, color="grey", lw=1, ls=":", label="datasheet peak")
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, rates.peak_bandwidth_Bps / 1e12 * 1.08)
    ax.set_xlabel("bytes moved by the kernel (MB, log scale)")
    ax.set_ylabel("achieved bandwidth (TB/s)")
    ax.set_title("Memory-bound kernels: achieved bandwidth against bytes moved", fontsize=11)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8.5, loc="upper left")

    shapes = list(dict.fromkeys(r["shape"] for r in run["gemm"]))
    cmap = plt.get_cmap("tab20")
    for col, dtype in enumerate(("bf16", "fp8")):
        bx = fig.add_subplot(grid[1, col])
        wsc = device.scenario("llama-3.1-8b", gpu, weights=dtype)
        peak = Deployment.from_scenario(Scenario.model_validate(wsc)).part("gemm", 1, 0, 1, 0, "mlp").peak_flops_per_s
        for i, shape in enumerate(shapes):
            g = sorted((r for r in run["gemm"] if r["dtype"] == dtype and r["shape"] == shape), key=lambda r: r["m"])
            if not g:
                continue
            rows = [r["m"] for r in g]
            bx.plot(rows, [r["flops_per_s"] / 1e12 for r in g], "-", color=cmap(i), lw=1.4, label=shape)
            bx.plot(rows, [r["flops"] / device.kernel_seconds(wsc, device.gemm_spec(r)) / 1e12 for r in g], "--",
                    color=cmap(i), lw=1)
        bx.axhline(peak / 1e12, color="grey", lw=1, ls=":")
        bx.text(1.2, peak / 1e12 * 0.97, f"dense {dtype} peak {peak / 1e12:.0f} TFLOP/s", fontsize=8, va="top")
        bx.set_xscale("log", base=2)
        bx.set_ylim(0, peak / 1e12 * 1.08)
        bx.set_xlabel("rows (tokens) multiplied by the weight (log scale)")
        bx.set_ylabel("TFLOP/s")
        bx.set_title(f"{dtype} GEMMs: measured (solid) and model (dashed) against rows", fontsize=11)
        bx.grid(alpha=0.3, which="both")
        if col == 1:
            handles, labels = bx.get_legend_handles_labels()
            fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.055), ncol=6, fontsize=8.5,
                       title="weight shape (K x N as nn.Linear(K, N): benchmarks/device/measure_kernels.py)",
                       title_fontsize=9)
    meta = run["meta"]
    fig.suptitle(f"{meta['device']} ({meta['date_utc'][:10]}, PyTorch {meta['torch'].split('+')[0]}, CUDA {meta['cuda']}; "
                 f"each kernel timed in a CUDA graph, clocks left to the driver) against simdecode's part formula under "
                 f"the {device.RUNTIME} runtime\n(one kernel each: t = max(b / (BW x {dep.runtime.memory_efficiency:g}"
                 f"{'' if share is None else f'; weight GEMMs {share:.3g}'}), "
                 f"f / (peak x {dep.runtime.compute_efficiency:g})) + {rates.kernel_s * 1e6:.1f} us)", fontsize=11)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path("measurements-h200.png")
    run_file = Path(args[1]) if len(args) > 1 else device.default_files()[0]
    out.write_bytes(figure_png(json.loads(run_file.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
