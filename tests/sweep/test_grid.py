"""The grid: axes from a sweep block and --vary, linked settings, the product, and its errors."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdecode.errors import ScenarioError
from simdecode.sweep.grid import Axis, axes_from_block, combine, flatten, grid, parse_vary, split_top_level


def test_product_of_axes_first_slowest_with_linked_settings():
    axes = axes_from_block({"parallelism": [{"tp": 8, "pp": 1}, {"tp": 4, "pp": 2}],
                            "workload.arrival.concurrency": [1, 16]})
    points = grid(axes)
    assert [p.settings for p in points] == [
        {"parallelism.tp": 8, "parallelism.pp": 1, "workload.arrival.concurrency": 1},
        {"parallelism.tp": 8, "parallelism.pp": 1, "workload.arrival.concurrency": 16},
        {"parallelism.tp": 4, "parallelism.pp": 2, "workload.arrival.concurrency": 1},
        {"parallelism.tp": 4, "parallelism.pp": 2, "workload.arrival.concurrency": 16},
    ]
    assert [p.index for p in points] == [0, 1, 2, 3]
    # a linked setting's value is set whole (one level), as JSON that YAML reads back
    assert points[3].overrides() == ["parallelism.tp=4", "parallelism.pp=2", "workload.arrival.concurrency=16"]
    assert points[1].label() == "001-tp-8-pp-1-concurrency-16"


def test_linked_value_that_is_a_mapping_is_set_whole_but_flattened_in_columns():
    axis = Axis("decoding", ({"method": "mtp", "acceptance": {"mean_tokens": 1.9}},))
    point = grid([axis])[0]
    assert point.overrides() == ['decoding.method="mtp"', 'decoding.acceptance={"mean_tokens": 1.9}']
    assert point.columns() == {"decoding.method": "mtp", "decoding.acceptance.mean_tokens": 1.9}


def test_no_axes_is_one_point():
    assert [p.settings for p in grid([])] == [{}]


@pytest.mark.parametrize("text, parts", [
    ("1,2,4", ["1", "2", "4"]),
    ("{tp: 8, pp: 1},{tp: 4, pp: 2}", ["{tp: 8, pp: 1}", "{tp: 4, pp: 2}"]),
    ("[1, 2], 3", ["[1, 2]", "3"]),
    ("'a,b',c", ["'a,b'", "c"]),
])
def test_split_top_level_ignores_commas_inside_brackets_and_quotes(text, parts):
    assert split_top_level(text) == parts


def test_parse_vary_reads_values_as_yaml():
    axis = parse_vary("parallelism={tp: 8, pp: 1},{tp: 4, pp: 2}")
    assert axis.key == "parallelism" and axis.values == ({"tp": 8, "pp": 1}, {"tp": 4, "pp": 2})
    assert parse_vary("workload.arrival.rate=64/s, 0.5").values == ("64/s", 0.5)


@pytest.mark.parametrize("text", ["parallelism.pp", "=1,2", "parallelism.pp=", "parallelism.pp=1,,2"])
def test_malformed_vary_is_a_scenario_error(text):
    with pytest.raises(ScenarioError):
        parse_vary(text)


def test_vary_replaces_overlapping_file_axes_only():
    file_axes = axes_from_block({"parallelism": [{"tp": 8, "pp": 1}], "workload.arrival.concurrency": [1, 2]})
    axes, notes = combine(file_axes, [parse_vary("parallelism.pp=1,2")])
    assert [a.key for a in axes] == ["workload.arrival.concurrency", "parallelism.pp"]
    assert notes == ["--vary parallelism.pp=1,2 replaces the scenario's sweep.parallelism"]
    # a key in another section does not overlap
    assert not Axis("parallelism.tp", (1,)).overlaps(Axis("parallelism.tp_mode", ("megatron",)))


def test_too_many_points_is_refused_before_expanding():
    axes = [Axis(f"k{i}", tuple(range(10))) for i in range(5)]  # 100,000 points
    with pytest.raises(ScenarioError, match="100,000 points"):
        grid(axes)


def test_flatten_joins_keys_with_dots_and_keeps_empty_mappings():
    assert flatten({"a": {"b": 1, "c": {"d": None}}, "e": {}}) == {"a.b": 1, "a.c.d": None, "e": {}}


@given(st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=4, unique=True), min_size=0, max_size=4))
def test_grid_is_the_product_each_combination_once_first_axis_slowest(value_lists):
    axes = [Axis(f"k{i}", tuple(values)) for i, values in enumerate(value_lists)]
    points = grid(axes)
    assert len(points) == math.prod(len(v) for v in value_lists)
    combos = [tuple(p.settings[f"k{i}"] for i in range(len(axes))) for p in points]
    assert combos == list(itertools.product(*value_lists))     # every combination, once, in order
    assert [p.index for p in points] == list(range(len(points)))
    assert len({p.label() for p in points}) == len(points)      # one folder per point
