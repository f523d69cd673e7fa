"""The canonical sweep figures, drawn from hand-made tables: what each line holds, zero-based rates,
units on axes, legends, titles that say what was held fixed; and which figure a table calls for."""

from __future__ import annotations

import pytest

from simdecode.plots.choose import choose_figure
from simdecode.plots.sweeps import (distinct, pareto_figure, pipeline_figure, points_figure, speculative_figure,
                                    tp_figure)


#: summary columns (the rest of a row's keys before them are the varied keys)
METRICS = ("per_request_tps.mean", "ttft_ms.mean", "aggregate_tps", "kv_cache.capacity_tokens", "bottleneck",
           "allreduce_share", "speculative.speedup_vs_standard", "speculative.aggregate_speedup", "speculative.method")


def row(**kw):
    """A table row in the table's column order: point, label, varied keys, overrides, the rest."""
    varied = {k: v for k, v in kw.items() if not k.startswith("resolved.") and k not in METRICS}
    base = {"point": 0, "label": "x", **varied, "overrides": "", "resolved.model.name": "m",
            "resolved.hardware.gpu.name": "g",
            "resolved.parallelism.tp": 2, "resolved.parallelism.pp": 1, "resolved.parallelism.dp": 1,
            "resolved.workload.prompt_tokens": 512, "resolved.workload.output_tokens": 128}
    base.update(kw)
    return base


def pipeline_rows():
    rows = []
    for pp, speed, ttft in ((1, 30.0, 72.0), (2, 30.0, 72.5), (4, 29.9, 73.0)):
        for load, agg in ((1, speed), (16, 90.0 if pp == 1 else 400.0 + pp)):
            rows.append(row(**{"parallelism.pp": pp, "workload.arrival.concurrency": load,
                               "resolved.parallelism.pp": pp, "resolved.workload.arrival.concurrency": load,
                               "per_request_tps.mean": speed if load == 1 else 25.0, "ttft_ms.mean": ttft,
                               "aggregate_tps": agg, "kv_cache.capacity_tokens": 2272 if pp == 1 else 400000,
                               "bottleneck": "kv-capacity" if pp == 1 and load == 16 else "memory-bandwidth"}))
    return rows


def test_pipeline_figure_draws_one_request_and_one_aggregate_line_per_load():
    speed, ttft, agg = pipeline_figure(pipeline_rows())
    assert list(speed.get_lines()[0].get_xdata()) == [1, 2, 4]
    assert list(speed.get_lines()[0].get_ydata()) == [30.0, 30.0, 29.9]    # concurrency 1 only
    assert list(ttft.get_lines()[0].get_ydata()) == [72.0, 72.5, 73.0]
    labels = [t.get_text() for t in agg.get_legend().get_texts()]
    assert labels == ["1", "16", "KV cache full (bottleneck)"]
    assert list(agg.get_lines()[1].get_ydata()) == [90.0, 402.0, 404.0]
    for ax in (speed, ttft, agg):
        assert ax.get_ylim()[0] == 0 and "(" in ax.get_xlabel()
        assert ax.get_ylabel()
    assert "tokens/s" in speed.get_ylabel() and "(ms)" in ttft.get_ylabel()
    title = speed.figure._suptitle.get_text()
    assert "tp 2 per stage held fixed" in title
    assert any("~3 of the 16" in t.get_text() for t in agg.texts)   # 2272 tokens // 640 per request


def test_pipeline_figure_with_linked_layouts_gives_each_layout_a_slot():
    rows = [row(**{"parallelism.tp": tp, "parallelism.pp": pp, "resolved.parallelism.tp": tp,
                   "resolved.parallelism.pp": pp, "resolved.workload.arrival.concurrency": 1,
                   "per_request_tps.mean": 10.0 * tp, "ttft_ms.mean": 5.0, "aggregate_tps": 10.0 * tp})
            for tp, pp in ((16, 1), (32, 1), (8, 3))]
    speed, _, _ = pipeline_figure(rows)
    assert [t.get_text() for t in speed.get_xticklabels()] == ["tp 16 x pp 1\n(16 GPUs)", "tp 32 x pp 1\n(32 GPUs)",
                                                                "tp 8 x pp 3\n(24 GPUs)"]
    assert list(speed.get_lines()[0].get_ydata()) == [160.0, 320.0, 80.0]
    assert "tensor against pipeline" in speed.figure._suptitle.get_text()


def test_tp_figure_one_line_per_link_with_the_allreduce_share_under_it():
    rows = [row(**{"hardware.intra_node_link": link, "parallelism.tp": tp, "resolved.parallelism.tp": tp,
                   "resolved.workload.arrival.concurrency": 1, "per_request_tps.mean": rate, "allreduce_share": share})
            for link, pairs in (("nvlink4", ((1, 500, 0.0), (2, 700, 0.1))), ("pcie5", ((1, 500, 0.0), (2, 600, 0.3))))
            for tp, rate, share in pairs]
    top, bottom = tp_figure(rows)
    assert [t.get_text() for t in top.get_legend().get_texts()] == ["link nvlink4", "link pcie5"]
    assert list(bottom.get_lines()[1].get_ydata()) == pytest.approx([0.0, 30.0])   # percent
    assert top.get_ylim()[0] == 0 and bottom.get_ylim() == (0, 100)
    assert "concurrency = 1" in top.get_title()


def test_tp_figure_names_each_peak_in_the_legend_and_the_gpus_shared_by_dp_x_tp():
    """dp-vs-tp.yaml: the same 8 GPUs as tp x dp; each load's speed peaks inside the range. The peak
    is a ring and a legend entry (a text under the point sat on the line falling away from it), and
    the title says the GPUs in all are held fixed."""
    rows = [row(**{"parallelism.tp": tp, "parallelism.dp": 8 // tp, "workload.arrival.rate": load,
                   "resolved.parallelism.tp": tp, "resolved.parallelism.dp": 8 // tp,
                   "per_request_tps.mean": rate, "allreduce_share": 0.1})
            for load, rates in (("64/s", (100, 140, 142, 86)), ("160/s", (72, 81, 66, 52)))
            for tp, rate in zip((1, 2, 4, 8), rates)]
    top, _ = tp_figure(rows)
    assert [t.get_text() for t in top.get_legend().get_texts()] == ["rate 64/s, peaks at tp 4",
                                                                     "rate 160/s, peaks at tp 2"]
    assert not top.texts
    rings = [line for line in top.get_lines() if line.get_markersize() > 10]
    assert [(list(r.get_xdata()), list(r.get_ydata())) for r in rings] == [([4], [142]), ([2], [81])]
    assert "8 GPUs in all (dp x tp)" in top.get_title()
    one = [r for r in rows if r["workload.arrival.rate"] == "64/s"]
    for r in one:
        del r["workload.arrival.rate"]
    top, _ = tp_figure(one)   # one line, no other label: the legend still names the peak
    assert [t.get_text() for t in top.get_legend().get_texts()] == ["peaks at tp 4"]


def test_pareto_figure_puts_per_gpu_on_x():
    rows = [row(**{"workload.arrival.concurrency": c, "resolved.workload.arrival.concurrency": c,
                   "per_request_tps.mean": 60.0 / c ** 0.5, "aggregate_tps": 60.0 * c ** 0.5}) for c in (1, 4, 16)]
    ax = pareto_figure(rows)
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == pytest.approx([30.0, 60.0, 120.0])   # aggregate / 2 GPUs
    assert list(line.get_ydata()) == pytest.approx([60.0, 30.0, 15.0])
    assert ax.get_xlim()[0] == 0 and ax.get_ylim()[0] == 0
    assert [t.get_text() for t in ax.texts] == ["1", "4", "16"]


def test_speculative_figure_against_batch_has_break_even():
    rows = [row(**{"workload.arrival.concurrency": c, "resolved.workload.arrival.concurrency": c,
                   "speculative.speedup_vs_standard": s, "speculative.aggregate_speedup": s - 0.1,
                   "speculative.method": "draft"}) for c, s in ((1, 2.5), (16, 1.8), (64, 1.2))]
    ax = speculative_figure(rows)
    assert ax.get_xscale() == "log" and ax.get_ylim()[0] == 0
    assert list(ax.get_lines()[0].get_ydata()) == [2.5, 1.8, 1.2]
    assert any(list(line.get_ydata()) == [1.0, 1.0] for line in ax.get_lines())   # break-even
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["per request", "aggregate"]


def test_points_figure_is_the_fallback():
    rows = [row(**{"runtime": r, "per_request_tps.mean": 10.0, "aggregate_tps": 20.0}) for r in ("a", "b")]
    ax = points_figure(rows)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["runtime a", "runtime b"]


@pytest.mark.parametrize("points", [2, 23, 120])
def test_points_figure_stays_at_most_12_inches_tall_with_every_point_labelled(points: int):
    rows = [row(**{"runtime": f"r{i}", "per_request_tps.mean": 10.0, "aggregate_tps": 20.0}) for i in range(points)]
    ax = points_figure(rows)
    assert ax.figure.get_size_inches()[1] == pytest.approx(min(1.5 + 0.45 * points, 12.0))
    labels = ax.get_yticklabels()
    assert len(labels) == points
    row_pt = 72 * (ax.figure.get_size_inches()[1] - 1.5) / points  # the height of one row, in points
    assert labels[0].get_fontsize() <= max(row_pt, 3.0) + 1e-9  # labels no taller than their rows


def test_points_figure_labels_tell_points_apart_and_the_title_holds_what_they_share():
    """A linked setting only some points carry is left out of their labels (not "allreduce None"),
    one all points share goes to the title, and the title is the figure's (long labels narrow the
    axes: an axes title was cut off at the right edge)."""
    rows = [row(**{"parallelism.tp": 8, "parallelism.tp_mode": mode, "parallelism.allreduce": allreduce,
                   "parallelism.tp_delay": delay, "resolved.parallelism.tp": 8,
                   "resolved.workload.arrival.concurrency": 1, "per_request_tps.mean": 100.0, "aggregate_tps": 100.0})
            for mode, allreduce, delay in (("megatron", "ring", None), ("megatron", None, None), ("delayed", None, 2))]
    ax = points_figure(rows)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["tp_mode megatron, allreduce ring", "tp_mode megatron",
                                                             "tp_mode delayed, tp_delay 2"]
    title = ax.figure._suptitle.get_text()
    assert title == "m on g, tp = 8, pp = 1, concurrency = 1: tokens/s per point" and not ax.get_title()
    ax.figure.canvas.draw()   # the legend under the axes, not over the longest bars
    (legend,) = ax.figure.legends
    assert ax.get_legend() is None and legend.get_window_extent().y1 <= ax.get_window_extent().y0
    models = [dict(r, **{"model": m, "resolved.model.name": m}) for r, m in zip(rows, ("a", "b", "c"))]
    assert points_figure(models).figure._suptitle.get_text().startswith("on g, tp = 8")   # the GPU, still held


def test_choose_figure_from_what_varies():
    assert choose_figure(pipeline_rows()) == "pipeline"
    tp_rows = [row(**{"resolved.parallelism.tp": t}) for t in (1, 2)]
    assert choose_figure(tp_rows) == "tp"
    loads = [row(**{"resolved.workload.arrival.concurrency": c}) for c in (1, 2)]
    assert choose_figure(loads) == "pareto"
    spec = [dict(r, **{"speculative.speedup_vs_standard": 1.5}) for r in loads]
    assert choose_figure(spec) == "speculative"
    assert choose_figure([row()]) == "points"


def test_a_column_linked_to_x_draws_no_line_of_its_own():
    # requests = 2 x concurrency (a linked setting) must not split the curve into one-point lines
    rows = [row(**{"workload.arrival.concurrency": c, "workload.requests": 2 * c, "hardware.intra_node_link": link,
                   "resolved.workload.arrival.concurrency": c, "per_request_tps.mean": 60.0 / c,
                   "aggregate_tps": 60.0})
            for link in ("nvlink4", "pcie5") for c in (1, 4)]
    ax = pareto_figure(rows)
    assert [len(line.get_xdata()) for line in ax.get_lines()] == [2, 2]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["link nvlink4", "link pcie5"]


def test_distinct_keeps_lists_and_mappings_of_a_hand_edited_table_as_json_text() -> None:
    """A sweep.json cell edited into a mapping (found by tests/hostile/test_results_fuzz.py) is a
    value like any other, not an internal error: distinct gives its JSON text, once."""
    rows = [{"k": {"b": 1, "a": 2}}, {"k": {"a": 2, "b": 1}}, {"k": [1, 2]}, {"k": "bf16"}, {"k": None}]
    assert distinct(rows, "k") == ['{"a": 2, "b": 1}', "[1, 2]", "bf16"]
