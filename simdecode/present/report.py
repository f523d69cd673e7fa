"""Terminal tables: the summary of one run, and the preset catalogues.

:func:`render_summary` reads only the summary dict (the JSON contract), so it can render a saved
``summary.json`` too, and every value may be missing or ``None`` (shown as a dash).
:func:`preset_table` lists one catalogue for ``simdecode presets``.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from simdecode.analysis import device_words

DASH = "—"

#: (summary key, label, unit) of the distributions shown with mean and percentiles
DISTRIBUTIONS = (
    ("ttft_ms", "TTFT", "ms"),
    ("tpot_ms", "TPOT", "ms"),
    ("e2e_ms", "E2E latency", "ms"),
    ("per_request_tps", "per-request speed", "tok/s"),
)
PERCENTILES = ("mean", "p50", "p90", "p99")


def fmt(value: Any, digits: int = 4) -> str:
    """A number with about ``digits`` significant figures and thousands separators; None -> dash."""
    if value is None or isinstance(value, bool):
        return DASH if value is None else str(value)
    if not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def pct(value: Any) -> str:
    """A share from 0 to 1 as a percentage; None -> dash."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return DASH
    return f"{100 * value:.1f}%"


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def latency_table(summary: dict[str, Any]) -> Table:
    requests = summary.get("requests") or {}
    caption = (
        f"requests: {fmt(requests.get('completed'))} completed of {fmt(requests.get('submitted'))} "
        f"submitted, {fmt(requests.get('preempted'))} preempted"
    )
    title = escape(f"simdecode: {summary.get('scenario') or 'scenario'}")
    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    table.add_column("per request")
    table.add_column("unit", style="dim")
    for name in PERCENTILES:
        table.add_column(name, justify="right")
    for key, label, unit in DISTRIBUTIONS:
        stats = summary.get(key)
        table.add_row(label, unit, *(fmt(_get(stats, name)) for name in PERCENTILES))
    return table


def duration(seconds: Any) -> str:
    """Seconds as '24.6 ms' below one second and '3.21 s' above; None -> dash."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return DASH
    return f"{fmt(seconds * 1e3, 3)} ms" if abs(seconds) < 1 else f"{fmt(seconds, 3)} s"


def totals_table(summary: dict[str, Any]) -> Table:
    table = Table(show_header=False, box=box.SIMPLE)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("note", style="dim")

    roofline = summary.get("roofline_tps")
    mean_tps = _get(summary, "per_request_tps", "mean")
    share = None
    if isinstance(roofline, (int, float)) and roofline and isinstance(mean_tps, (int, float)):
        share = mean_tps / roofline
    table.add_row("aggregate throughput", f"{fmt(summary.get('aggregate_tps'))} tok/s", "output tokens / makespan")
    table.add_row(
        "roofline, one request", f"{fmt(roofline)} tok/s",
        f"mean request at {pct(share)}" if share is not None else "no overheads",
    )
    breakdown = summary.get("time_breakdown") or {}
    device = device_words.words(_get(summary, "resolved_scenario", "hardware", "gpu", "kind"),
                                _get(summary, "resolved_scenario", "hardware", "gpu", "vendor")).one
    if isinstance(breakdown, dict):
        for i, (name, value) in enumerate(breakdown.items()):
            table.add_row(f"  {name.replace('_', ' ')}", pct(value), f"share of {device} time" if i == 0 else "")
    table.add_row("all-reduce share", pct(summary.get("allreduce_share")), "exposed, of a decode step")
    bottleneck = summary.get("bottleneck")
    table.add_row("bottleneck", Text(str(bottleneck), style="bold") if bottleneck else DASH, "")
    spec = summary.get("speculative")
    if isinstance(spec, dict):
        speedup = spec.get("speedup_vs_standard")
        if speedup is None:  # the baseline run was not asked for
            table.add_row("speculative speed-up", DASH, "not measured: rerun with --baseline")
        else:
            table.add_row("speculative speed-up", f"{fmt(speedup, 3)}x", "vs standard decoding")
        table.add_row("  accepted per step", fmt(spec.get("mean_accepted_tokens"), 3), "tokens")
        table.add_row("  acceptance rate", pct(spec.get("acceptance_rate")), "of proposed tokens")
    sim = summary.get("simulation") or {}
    table.add_row(
        "simulation", f"{fmt(sim.get('events'))} events",
        f"{duration(sim.get('simulated_s'))} simulated in {duration(sim.get('wall_s'))}",
    )
    return table


def render_summary(summary: dict[str, Any], console: Console | None = None) -> None:
    """Print the summary of one run to ``console`` (stdout by default)."""
    console = console or Console()
    if console.is_terminal:
        console.print(latency_table(summary))
        console.print(totals_table(summary))
        return
    text = io.StringIO()  # piped: the same lines without the spaces that pad them to the table's width
    plain = Console(file=text, width=console.width, color_system=None, highlight=False)
    plain.print(latency_table(summary))
    plain.print(totals_table(summary))
    console.file.write("".join(line.rstrip() + "\n" for line in text.getvalue().splitlines()))


# --- preset catalogues (``simdecode presets``) -------------------------------------------------


def params(count: Any) -> str:
    """A parameter count as 1.23 T / 70.6 B / 125 M."""
    if not isinstance(count, (int, float)):
        return DASH
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(count) >= scale:
            return f"{fmt(count / scale, 3)} {suffix}"
    return fmt(count, 3)


_TEXT_COLUMNS = {"name", "link", "topology", "transport", "graphs", "all-reduce", "kind", "source", "base"}


def _catalogue(title: str, caption: str, columns: tuple[str, ...]) -> Table:
    """An empty catalogue table: two spaces between columns, none at the edges, so that the values
    of every catalogue fit 80 columns once :data:`NARROW_DROP` columns move below it."""
    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left", box=box.SIMPLE_HEAD,
                  padding=(0, 1), collapse_padding=True, pad_edge=False, show_edge=False)
    for column in columns:
        table.add_column(column, no_wrap=column != "source", justify="left" if column in _TEXT_COLUMNS else "right",
                         overflow="fold" if column == "source" else "ellipsis")
    return table


def _models_table(names: list[str], entry: Callable[[str], dict[str, Any]]) -> Table:
    from simdecode.costmodel.architecture import parameter_counts
    from simdecode.scenario.model import ModelSpec

    table = _catalogue(
        "models", "heads: query/KV; experts: active/routed (+shared); params: total and active per token",
        ("name", "layers", "hidden", "heads", "experts", "params", "active"),
    )
    for name in names:
        spec = ModelSpec.model_validate(entry(name))
        counts = parameter_counts(spec)
        experts = DASH
        if spec.is_moe:
            experts = f"{spec.num_experts_per_tok}/{spec.num_local_experts}"
            if spec.n_shared_experts:
                experts += f" +{spec.n_shared_experts}"
        table.add_row(
            name, str(spec.num_hidden_layers), f"{spec.hidden_size:,}",
            f"{spec.num_attention_heads}/{spec.kv_heads}", experts, params(counts.total), params(counts.active),
        )
    return table


def _gpus_table(names: list[str], entry: Callable[[str], dict[str, Any]]) -> Table:
    from simdecode.scenario.hardware import GpuSpec

    dtypes = ("bf16", "fp8", "fp4")
    table = _catalogue(
        "gpus", "memory in GB, bandwidth in TB/s, dense peak TFLOP/s per dtype, board power in W; kind: "
        "gpu (tpu: Google's; weights in device memory, one kernel after another), sram (weights in on-chip SRAM), spatial (sram with a region of cores per layer), logic (weights "
        "wired into the chip), unified (memory shared with the OS)",
        ("name", "kind", "memory", "bandwidth", *dtypes, "TDP", "link"),
    )
    for name in names:
        gpu = GpuSpec.model_validate(entry(name))
        flops = (gpu.flops_per_s.get(dtype) for dtype in dtypes)
        kind = "unified" if gpu.unified_memory else "spatial" if gpu.spatial else (
            "tpu" if gpu.kind == "gpu" and gpu.vendor == "google" else gpu.kind)  # a TPU is no GPU
        table.add_row(
            name, kind, fmt(gpu.memory_bytes / 1e9, 3), fmt(gpu.memory_bandwidth_Bps / 1e12, 3),
            *(DASH if value is None else fmt(value / 1e12, 4) for value in flops),
            DASH if gpu.tdp_W is None else fmt(gpu.tdp_W, 3), gpu.default_link,
        )
    return table


def _links_table(names: list[str], entry: Callable[[str], dict[str, Any]]) -> Table:
    from simdecode.scenario.hardware import LinkSpec

    table = _catalogue(
        "links", "bandwidth per direction in GB/s, latency per hop in us, achievable share of line rate",
        ("name", "bandwidth", "latency", "efficiency", "topology", "transport"),
    )
    for name in names:
        link = LinkSpec.model_validate(entry(name))
        table.add_row(
            name, fmt(link.bandwidth_Bps / 1e9, 3), fmt(link.latency_s * 1e6, 3), pct(link.efficiency),
            link.topology, link.transport,
        )
    return table


def _runtimes_table(names: list[str], entry: Callable[[str], dict[str, Any]]) -> Table:
    from simdecode import presets
    from simdecode.scenario.hardware import RuntimeSpec

    table = _catalogue(
        "runtimes", "MBU/MFU: achieved share of peak memory bandwidth/FLOP/s; GEMM: share of peak bandwidth "
        "the dense weight GEMMs stream at on Hopper, where measured (else MBU); launch: us per kernel; kernels: "
        "per layer; graphs: CUDA graphs (decode: for decode-only steps; <=N: and steps holding a prefill of up "
        "to N tokens); "
        "all-reduce: implementation and fixed us per collective; base: the preset this one starts from",
        ("name", "MBU", "MFU", "GEMM", "launch", "kernels", "graphs", "all-reduce", "base"),
    )
    for name in names:
        rt = RuntimeSpec.model_validate(entry(name))
        graphs = "no" if not rt.cuda_graphs else "yes" if rt.prefill_graph_tokens is None else (
            "decode" if rt.prefill_graph_tokens == 0 else f"<={rt.prefill_graph_tokens}")
        table.add_row(
            name, f"{rt.memory_efficiency:.0%}", f"{rt.compute_efficiency:.0%}",
            DASH if rt.gemm_efficiency is None else f"{rt.gemm_efficiency:.0%}", fmt(rt.kernel_launch_s * 1e6, 3),
            str(rt.kernels_per_layer), graphs, f"{rt.allreduce_impl} +{fmt(rt.allreduce_overhead_s * 1e6, 3)}",
            presets.base("runtimes", name) or DASH,
        )
    return table


_PRESET_TABLES = {"models": _models_table, "gpus": _gpus_table, "links": _links_table, "runtimes": _runtimes_table}


def preset_table(kind: str) -> Table:
    """A table of every preset of one kind (``models``, ``gpus``, ``links``, ``runtimes``), one row
    each, ending with the source of its figures."""
    from simdecode import presets

    names = presets.names(kind)
    table = _PRESET_TABLES[kind](names, lambda name: presets.preset(kind, name))
    # every catalogue ends with where each preset's figures come from (rows are in name order)
    with_source = _catalogue(table.title, table.caption, tuple(str(c.header) for c in table.columns) + ("source",))
    for name, row in zip(names, zip(*(column.cells for column in table.columns))):
        with_source.add_row(*row, _source_words(kind, name))
    return with_source


def _source_words(kind: str, name: str) -> str:
    from simdecode import presets

    source, on = presets.source(kind, name), presets.measured_on(kind, name)
    return f"{source} (costs measured on {on})" if on else source


#: columns a catalogue leaves out of its table, in this order, until the table fits the terminal:
#: they are listed below it with the sources instead (``simdecode presets`` in a narrow terminal)
#: (below 80 columns, the later ones too; any column but the name, from the right, after them)
NARROW_DROP = {"models": ("hidden", "layers", "heads", "experts"),
               "gpus": ("link", "TDP", "kind", "fp4", "fp8"),
               "links": ("transport", "topology", "efficiency"),
               "runtimes": ("base", "all-reduce", "graphs", "GEMM", "kernels", "launch")}


def _without(table: Table, drop: tuple[str, ...]) -> Table:
    """``table`` less the columns named in ``drop``."""
    keep = [c for c in table.columns if str(c.header) not in drop]
    out = _catalogue(table.title, table.caption, tuple(str(c.header) for c in keep))
    for row in zip(*(column.cells for column in keep)):
        out.add_row(*row)
    return out


def _natural_width(console: Console, table: Table) -> int:
    """Columns ``table`` takes when nothing limits it (rich's own measure stops at the console's width)."""
    return console.measure(table, options=console.options.update_width(10**6)).maximum


def print_presets(kind: str, console: Console, wide: bool = False) -> None:
    """Print one catalogue. Where its whole table (values and source, one row per preset) fits
    ``console``, or ``wide`` is set, or the console is no terminal (piped: nothing is cut), that
    table; otherwise the values that fit, then each preset's source (and the columns left out)
    below it, wrapped to the width."""
    full = preset_table(kind)
    if wide or not console.is_terminal:
        width = max(_natural_width(console, full), 40)
        if console.is_terminal:
            Console(file=console.file, width=width, height=console.height, color_system=console.color_system,
                    highlight=False).print(full)
            return
        text = io.StringIO()  # piped: plain lines without the padding to the table's width
        Console(file=text, width=width, height=25, color_system=None, highlight=False).print(full)
        console.file.write("".join(line.rstrip() + "\n" for line in text.getvalue().splitlines()))
        return
    if _natural_width(console, full) <= console.width:
        console.print(full)
        return
    values = _without(full, ("source",))
    dropped: list[str] = []
    rightmost = [str(c.header) for c in reversed(full.columns) if str(c.header) not in ("name", "source")]
    for column in dict.fromkeys([*NARROW_DROP[kind], *rightmost]):  # no value is cut: whole columns move below
        if _natural_width(console, values) <= console.width or len(values.columns) <= 2:
            break
        dropped.append(column)
        values = _without(full, ("source", *dropped))
    console.print(values)
    cells = {str(c.header): list(c.cells) for c in full.columns}
    console.print()
    console.print(Text("sources" + "".join(f", {column}" for column in dropped)
                       + " (one line per preset with --wide, or when piped)", style="bold"))
    for i, name in enumerate(cells["name"]):
        extra = "".join(f", {column} {cells[column][i]}" for column in dropped if cells[column][i] != DASH)
        for line in textwrap.wrap(f"{name}{extra}: {cells['source'][i]}", max(console.width, 20), subsequent_indent="    ",
                                  break_on_hyphens=False):
            console.print(Text(line), soft_wrap=True)
