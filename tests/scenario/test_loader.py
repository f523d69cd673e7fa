"""The scenario loader: untrusted YAML in, a validated Scenario or a ScenarioError out.

Every bad input gets a test asserting that the message names the file, the line, the key path
and what was expected, since that message is all a user sees (exit code 2, no traceback).
"""

from __future__ import annotations

import json
import pickle
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdecode.errors import MAX_SHOWN, Problem, ScenarioError
from simdecode.costmodel.feasibility import check_fits
from simdecode.scenario.loader import (
    MAX_ALIASES,
    MAX_FILE_BYTES,
    apply_overrides,
    load_scenario,
    parse_yaml,
    scenario_from_dict,
)

MINIMAL = """\
model: llama-3.2-1b
hardware:
  gpu: h100-sxm
"""


@pytest.fixture
def write(tmp_path: Path):
    """write(text, name="s.yaml") -> path of a scenario file in tmp_path (text dedented)."""

    def _write(text: str, name: str = "s.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


def load_error(path: Path, overrides: list[str] | tuple[str, ...] = ()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


def assert_names(err: ScenarioError, path: Path, line: int | None, key_path: str) -> str:
    """The first problem is at file:line, key path; return str(err) for further checks."""
    text = str(err)
    assert err.file == str(path)
    assert err.line == line, text
    assert err.key_path == key_path, text
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert text.startswith(where + (f"{key_path}: " if key_path else "")), text
    assert "\n" not in text or len(err.problems) > 1
    return text


# --- good input ---------------------------------------------------------------------------------


def test_minimal_scenario_loads_with_defaults(write) -> None:
    s = load_scenario(write(MINIMAL))
    assert s.model.name == "llama-3.2-1b" and s.model.num_hidden_layers == 16
    assert s.hardware.gpu.name == "h100-sxm"
    assert s.hardware.gpu.memory_bandwidth_Bps == pytest.approx(3.35e12)
    assert (s.parallelism.tp, s.parallelism.pp, s.parallelism.dp) == (1, 1, 1)
    assert s.runtime.name == "default"
    assert s.workload.requests == 20 and s.workload.arrival.kind == "closed"
    assert s.precision.weights == "bf16" and s.slo is None and s.sweep is None


def test_preset_with_overrides(write) -> None:
    s = load_scenario(write("""\
        model: llama-3.2-1b
        hardware:
          gpu: {preset: h100-sxm, memory_bandwidth: "3.0 TB/s"}
        """))
    assert s.hardware.gpu.memory_bandwidth_Bps == pytest.approx(3.0e12)
    assert s.hardware.gpu.memory_bytes == pytest.approx(81559 * 2**20)  # the rest from the preset
    assert s.hardware.gpu.name == "h100-sxm*"


def test_inline_gpu_and_yaml_anchors(write) -> None:
    s = load_scenario(write("""\
        model: llama-3.2-1b
        hardware:
          gpu: &card
            memory: 24 GiB
            memory_bandwidth: 1 TB/s
            flops: {bf16: 165 TFLOP/s}
            tdp: 450 W
          gpus_per_node: 1
        sweep:
          hardware.gpu: [*card]
        """))
    assert s.hardware.gpu.memory_bytes == 24 * 2**30
    assert s.sweep == {"hardware.gpu": [{"memory": "24 GiB", "memory_bandwidth": "1 TB/s",
                                         "flops": {"bf16": "165 TFLOP/s"}, "tdp": "450 W"}]}


def test_hf_config_is_read_relative_to_the_scenario_file(write, tmp_path: Path, monkeypatch) -> None:
    config = {"num_hidden_layers": 4, "hidden_size": 256, "num_attention_heads": 8, "num_key_value_heads": 2,
              "intermediate_size": 1024, "vocab_size": 1000, "torch_dtype": "bfloat16", "model_type": "llama"}
    (tmp_path / "scen" / "models" / "tiny").mkdir(parents=True)
    (tmp_path / "scen" / "models" / "tiny" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    path = write("model: {hf_config: models/tiny/config.json}\nhardware: {gpu: h100-sxm}\n", "scen/x.yaml")
    monkeypatch.chdir(tmp_path / "scen" / "models")  # not the scenario's folder
    s = load_scenario(path)
    assert (s.model.num_hidden_layers, s.model.hidden_size, s.model.kv_heads) == (4, 256, 2)
    assert s.model.name == "tiny"


def test_hf_config_missing_file(write) -> None:
    path = write("hardware: {gpu: h100-sxm}\nmodel: {hf_config: nowhere/config.json}\n")
    text = assert_names(load_error(path), path, 2, "model")
    assert "hf_config file not found" in text and "nowhere" in text


def test_scenario_from_dict_and_lines() -> None:
    s = scenario_from_dict({"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"}})
    assert s.model.name == "llama-3.2-1b"
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"}, "seed": "x"},
                           file="inline.yaml", lines={("seed",): 7})
    assert str(info.value) == "inline.yaml:7: seed: expected an integer, got 'x'"
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"}, "[key]": 1})
    assert info.value.file == "<dict>" and "unknown key '[key]'" in str(info.value)


def test_loader_writes_nothing(write, tmp_path: Path) -> None:
    path = write(MINIMAL)
    before = sorted(tmp_path.rglob("*"))
    load_scenario(path, ["parallelism.tp=2"])
    assert sorted(tmp_path.rglob("*")) == before


# --- unknown keys, wrong types, bad values ----------------------------------------------------


def test_a_file_with_no_section_is_refused_without_echoing_it(write) -> None:
    """`simdecode run /etc/shadow`: not one "unknown key" per line quoting it, one error that
    shows none of the content; a misspelt-only file gets the section it is closest to, by line."""
    err = load_error(write("zqroot:$6$abcdefgh:19000:0:99999:7:::\nzqbin:*:19000:0:99999:7:::\n"))
    text = str(err)
    assert "not a simdecode scenario: none of its 2 top-level keys is a section" in text
    assert "zqroot" not in text and "abcdefgh" not in text and "zqbin" not in text and err.hint is None
    err = load_error(write("modle: llama-3.2-1b\nhardwre: {gpu: h100-sxm}\n"))
    assert "modle" not in str(err) and "hardwre" not in str(err)
    assert err.hint == "did you mean the section 'model' (line 1)?"


def test_unknown_key_suggests_the_section(write) -> None:
    path = write(MINIMAL + "paralelism:\n  tp: 8\n")
    err = load_error(path)
    text = assert_names(err, path, 4, "paralelism")
    assert "unknown key 'paralelism'" in text
    assert err.hint == "did you mean 'parallelism'?" and text.endswith("did you mean 'parallelism'?")


def test_section_key_at_top_level_suggests_its_path(write) -> None:
    path = write(MINIMAL + "tp: 8\n")
    err = load_error(path)
    assert_names(err, path, 4, "tp")
    assert err.hint == "did you mean 'parallelism.tp'?"


def test_key_of_a_subsection_one_level_up_suggests_its_path(write) -> None:
    """`memory_bandwidth` belongs to hardware.gpu and `concurrency` to workload.arrival: written one
    level up (in the file or with --set) the hint gives the full path."""
    path = write(MINIMAL.replace("  gpu: h100-sxm\n", "  gpu: h100-sxm\n  memory_bandwidth: 3 TB/s\n"))
    err = load_error(path)
    assert_names(err, path, 4, "hardware.memory_bandwidth")
    assert err.hint == "did you mean 'hardware.gpu.memory_bandwidth'?"
    err = load_error(write(MINIMAL), ["workload.concurrency=4"])
    assert err.hint == "did you mean 'workload.arrival.concurrency'?"
    err = load_error(write(MINIMAL), ["parallelism.memory_bandwidth=4"])
    assert err.hint is None  # not a key of any section under parallelism


def test_changing_the_kind_with_set_keeps_the_old_kinds_key_and_says_so(write) -> None:
    """--set workload.arrival.kind=poisson on a closed loop leaves its concurrency behind: the error
    is about that key, so the hint says it belongs to the other kind and how to set the section whole."""
    path = write(MINIMAL + "workload:\n  arrival: {kind: closed, concurrency: 4}\n")
    err = load_error(path, ["workload.arrival.kind=poisson", "workload.arrival.rate=4/s"])
    assert_names(err, path, 5, "workload.arrival.concurrency")
    assert err.hint == ("'concurrency' is a key of kind closed; to change the kind, set the section whole: "
                        "--set 'workload.arrival={kind: poisson, rate: ...}'")


@pytest.mark.parametrize(("override", "hint"), [
    # the names vLLM's flags and everyday words give a key, which spelling alone does not find
    ("runtime.launch_overhead=3us", "did you mean 'kernel_launch'?"),   # spelling alone: 'allreduce_overhead'
    ("hardware.gpu.memory_capacity=80GB", "did you mean 'memory'?"),    # spelling alone: 'memory_ports'
    ("parallelism.tensor_parallel_size=2", "did you mean 'tp'?"),
    ("scheduler.max_num_seqs=2", "did you mean 'max_batch_size'?"),
    ("workload.max_concurrency=2", "did you mean 'workload.arrival.concurrency'?"),
])
def test_other_tools_names_for_a_key_suggest_it(write, override: str, hint: str) -> None:
    assert load_error(write(MINIMAL), [override]).hint == hint


def test_unknown_key_inside_a_preset_override(write) -> None:
    path = write("""\
        model: llama-3.2-1b
        hardware:
          gpu:
            preset: h100-sxm
            memory_bandwith: 3 TB/s
        """)
    err = load_error(path)
    assert_names(err, path, 5, "hardware.gpu.memory_bandwith")
    assert err.hint == "did you mean 'memory_bandwidth'?"


def test_unknown_model_key_suggests_hugging_face_names(write) -> None:
    path = write("model:\n  preset: llama-3.2-1b\n  num_hiden_layers: 4\nhardware: {gpu: h100-sxm}\n")
    err = load_error(path)
    assert_names(err, path, 3, "model.num_hiden_layers")
    assert err.hint == "did you mean 'num_hidden_layers'?"


def test_wrong_type(write) -> None:
    path = write(MINIMAL + 'parallelism:\n  tp: "eight"\n')
    text = assert_names(load_error(path), path, 5, "parallelism.tp")
    assert "expected an integer, got 'eight'" in text


def test_unit_typo_in_inline_gpu(write) -> None:
    path = write("""\
        model: llama-3.2-1b
        hardware:
          gpu:
            memory: 80 GB
            memory_bandwidth: 450 GB/z
            flops: {bf16: 989 TFLOP/s}
            tdp: 700 W
        """)
    err = load_error(path)
    text = assert_names(err, path, 5, "hardware.gpu.memory_bandwidth")
    assert "unknown bandwidth unit 'GB/z'" in text and "expected e.g. '450 GB/s'" in text
    assert "did you mean 450 GB/s?" in text
    assert "Value error" not in text


def test_choice_typo_and_union_of_int_or_auto(write) -> None:
    path = write(MINIMAL + "parallelism:\n  tp_mode: megatorn\n  microbatches: many\n")
    err = load_error(path)
    assert len(err.problems) == 2
    first, second = err.problems
    assert (first.line, first.key_path, first.hint) == (5, "parallelism.tp_mode", "did you mean 'megatron'?")
    assert "expected megatron, parallel-block" in first.message
    assert (second.line, second.key_path) == (6, "parallelism.microbatches")
    assert second.message == "expected an integer or auto, got 'many'"


def test_union_tags_are_not_in_key_paths(write) -> None:
    path = write(MINIMAL + "workload:\n  arrival: {concurrency: lots}\n")
    text = assert_names(load_error(path), path, 5, "workload.arrival.concurrency")
    assert "closed" not in text


def test_unknown_arrival_kind(write) -> None:
    path = write(MINIMAL + "workload:\n  arrival:\n    kind: poison\n    rate: 2/s\n")
    err = load_error(path)
    text = assert_names(err, path, 6, "workload.arrival.kind")
    assert "closed" in text and "poisson" in text and err.hint == "did you mean 'poisson'?"


def test_unknown_dtype_key_in_flops(write) -> None:
    path = write("model: llama-3.2-1b\nhardware:\n  gpu:\n    preset: h100-sxm\n    flops: {bf17: 1e15}\n")
    err = load_error(path)
    text = assert_names(err, path, 5, "hardware.gpu.flops.bf17")
    assert "unknown key 'bf17'" in text and err.hint == "did you mean 'bf16'?"


def test_missing_required_keys_of_an_inline_spec(write) -> None:
    path = write("model: llama-3.2-1b\nhardware:\n  gpu:\n    memory_bandwidth: 1 TB/s\n")
    err = load_error(path)
    # tdp is optional (Google publishes none for its TPUs); memory and flops are not
    assert {p.key_path for p in err.problems} == {"hardware.gpu.memory", "hardware.gpu.flops"}
    assert all(p.line == 3 and p.message.startswith("missing required key") for p in err.problems)


def test_missing_model(write) -> None:
    path = write("hardware: {gpu: h100-sxm}\n")
    err = load_error(path)
    assert (err.line, err.key_path) == (None, "model")
    assert str(err).startswith(f"{path}: model: missing required key 'model'")


def test_unknown_preset_name(write) -> None:
    path = write("model: llama-3.2-1b\nhardware:\n  gpu: h100-sxn\n")
    text = assert_names(load_error(path), path, 3, "hardware.gpu")
    assert "unknown gpu preset 'h100-sxn'" in text and "did you mean 'h100-sxm'" in text


def test_section_of_the_wrong_shape(write) -> None:
    path = write("model: 5\nhardware: {gpu: h100-sxm}\nparallelism: 8\n")
    err = load_error(path)
    assert [(p.line, p.key_path, p.message) for p in err.problems] == [
        (1, "model", "expected a preset name or a mapping, got 5"),
        (3, "parallelism", "expected a mapping, got 8"),
    ]


def test_bounds_from_the_schema(write) -> None:
    path = write(MINIMAL + "workload:\n  requests: 100000000\n")
    text = assert_names(load_error(path), path, 5, "workload.requests")
    assert "expected a value <= 1000000" in text


# --- cross-field checks (simdecode/scenario/checks.py) -----------------------------------------


def test_tp_must_divide_heads(write) -> None:
    path = write("model: llama-2-70b\nhardware:\n  gpu: h100-sxm\nparallelism:\n  tp: 3\n")
    err = load_error(path)
    text = assert_names(err, path, 5, "parallelism.tp")
    assert "heads" in err.message and "tp" in err.message and "64" in text


def test_model_that_does_not_fit(write) -> None:
    """Loading validates what the file says; whether it fits memory is checked where the scenario
    becomes a deployment, with the same located error."""
    path = write("model: llama-3.1-405b\nhardware:\n  gpu: a100-80gb\n  gpus_per_node: 1\n")
    scenario = load_scenario(path)
    with pytest.raises(ScenarioError) as info:
        check_fits(scenario)
    err = info.value
    text = assert_names(err, path, 1, "model")
    assert "does not fit" in text and "llama-3.1-405b" in text


# --- files --------------------------------------------------------------------------------------


def test_missing_file_suggests_a_close_name(write, tmp_path: Path) -> None:
    write(MINIMAL, "llama.yaml")
    err = load_error(tmp_path / "lama.yaml")
    assert str(err).startswith(f"{tmp_path / 'lama.yaml'}: file not found")
    assert err.file == str(tmp_path / "lama.yaml") and err.line is None
    assert err.hint is not None and "llama.yaml" in err.hint


def test_directory_is_not_a_scenario(tmp_path: Path) -> None:
    err = load_error(tmp_path)
    assert err.file == str(tmp_path) and "is a directory" in str(err)


def test_too_large_file(write) -> None:
    path = write(MINIMAL + "#" * MAX_FILE_BYTES + "\n")
    err = load_error(path)
    assert err.file == str(path) and "larger than 1024 KiB" in str(err)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"model: llama-3.2-1b\nname: caf\xe9\n")
    err = load_error(path)
    assert (err.file, err.line) == (str(path), 2) and "UTF-8" in str(err)


def test_empty_file_and_non_mapping_top_level(write) -> None:
    err = load_error(write("# nothing\n"))
    assert "empty scenario" in str(err) and "'model' and 'hardware'" in str(err)
    path = write("- model: llama-3.2-1b\n", "list.yaml")
    err = load_error(path)
    assert (err.line, err.key_path) == (1, "") and "top level must be a mapping" in str(err)


# --- malformed and hostile YAML -----------------------------------------------------------------


def test_malformed_yaml_reports_the_line(write) -> None:
    path = write("model: llama-3.2-1b\nhardware:\n  gpu: h100-sxm\n bad: indent\n")
    err = load_error(path)
    assert (err.file, err.line) == (str(path), 4)
    assert str(err).startswith(f"{path}:4: malformed YAML")


def test_unclosed_flow_mapping(write) -> None:
    path = write("model: llama-3.2-1b\nhardware: {gpu: h100-sxm\nseed: 1\n")
    err = load_error(path)
    assert err.line is not None and err.line >= 2 and "malformed YAML" in str(err)


def test_duplicate_keys_name_both_lines(write) -> None:
    path = write(MINIMAL + "parallelism:\n  tp: 2\n  pp: 1\n  tp: 4\n")
    err = load_error(path)
    text = assert_names(err, path, 7, "parallelism.tp")
    assert "duplicate key 'tp'" in text and "line 5" in text


def test_yaml_bomb_is_refused(write) -> None:
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        levels.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    err = load_error(write("\n".join(levels) + "\n"))
    assert err.line is not None and f"more than {MAX_ALIASES} YAML aliases" in str(err)


def test_alias_expansion_is_bounded(write) -> None:
    # 29 aliases, but 3**10 * 2 = 118098 values once expanded
    levels = ["a: &a [x, x, x]"]
    for prev, name in zip("abcdefghi", "bcdefghij"):
        levels.append(f"{name}: &{name} [*{prev}, *{prev}, *{prev}]")
    levels.append("k: [*j, *j]")
    err = load_error(write("\n".join(levels) + "\n"))
    assert "YAML aliases are expanded" in str(err)


def test_recursive_alias(write) -> None:
    err = load_error(write("model: &m [x, *m]\n"))
    assert (err.line, "recursive") == (1, "recursive") and "recursive" in str(err)


def test_deep_nesting(write) -> None:
    err = load_error(write("sweep: " + "[" * 200 + "]" * 200 + "\n"))
    assert err.line == 1 and "nesting deeper than" in str(err)


def test_python_tags_are_not_constructed(write, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = write(MINIMAL + f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    err = load_error(path)
    assert err.line == 4 and not marker.exists() and "YAML tag '!!python/object/apply:os.system' is not accepted" in str(err)


def test_unreadable_scalar_values(write) -> None:
    err = load_error(write(MINIMAL + "seed: 2024-13-45\n"))  # not a date: plain YAML has none
    assert err.line == 4 and "seed: expected an integer, got '2024-13-45'" in str(err)
    assert load_scenario(write(MINIMAL + "name: 2024-01-31\n")).name == "2024-01-31"
    err = load_error(write(MINIMAL + "seed: " + "9" * 5000 + "\n"))
    assert err.line == 4 and len(str(err)) < 400


def test_control_characters_are_escaped(write) -> None:
    path = write(MINIMAL + 'seed: "\\e[31mred"\n')
    text = str(load_error(path))
    assert "\x1b" not in text and "\\x1b" in text


def test_yaml_merge_keys_keep_lines(write) -> None:
    path = write("""\
        model: llama-3.2-1b
        hardware: {gpu: h100-sxm, gpus_per_node: 8}
        sweep:
          base: &base {tp: 2, pp: 1}
        parallelism:
          <<: *base
          tp_mode: sideways
        """)
    err = load_error(path)
    assert [(p.line, p.key_path) for p in err.problems] == [(4, "sweep.base"), (7, "parallelism.tp_mode")]
    s = load_scenario(path, ["parallelism.tp_mode=megatron", "sweep={}"])
    assert (s.parallelism.tp, s.parallelism.pp) == (2, 1)


def test_parse_yaml_records_key_lines() -> None:
    data, lines = parse_yaml("a:\n  b: 1\n  c:\n    - x\n    - {d: 2}\n")
    assert data == {"a": {"b": 1, "c": ["x", {"d": 2}]}}
    assert lines[("a",)] == 1 and lines[("a", "b")] == 2 and lines[("a", "c", 1, "d")] == 5


# --- overrides (--set) --------------------------------------------------------------------------


def test_overrides_change_values(write) -> None:
    s = load_scenario(write(MINIMAL), [
        "parallelism.tp=4",
        "hardware.gpu=h200",
        "workload.arrival={kind: poisson, rate: 2/s}",
        "workload.requests=5",
    ])
    assert s.parallelism.tp == 4 and s.hardware.gpu.name == "h200"
    assert s.workload.arrival.kind == "poisson" and s.workload.arrival.rate_per_s == 2.0
    assert s.workload.requests == 5


def test_override_refines_a_preset_name(write) -> None:
    s = load_scenario(write(MINIMAL), ["hardware.gpu.memory_bandwidth=3.0 TB/s"])
    assert s.hardware.gpu.memory_bandwidth_Bps == pytest.approx(3.0e12)
    assert s.hardware.gpu.memory_bytes == pytest.approx(81559 * 2**20)


def test_apply_overrides_copies() -> None:
    data = {"parallelism": {"tp": 1}, "hardware": {"gpu": "h100-sxm"}}
    out = apply_overrides(data, ["parallelism.tp=2", "sweep.parallelism.pp=[1, 2]", "slo.ttft=2 s"])
    assert out == {"parallelism": {"tp": 2}, "hardware": {"gpu": "h100-sxm"},
                   "sweep": {"parallelism.pp": [1, 2]}, "slo": {"ttft": "2 s"}}
    assert data == {"parallelism": {"tp": 1}, "hardware": {"gpu": "h100-sxm"}}


def test_override_with_an_unknown_key_says_it_came_from_set(write) -> None:
    path = write(MINIMAL + "parallelism:\n  tp: 1\n")
    err = load_error(path, ["parallelism.tpp=4"])
    assert (err.key_path, err.line, err.origin) == ("parallelism.tpp", None, "--set parallelism.tpp=4")
    assert err.hint == "did you mean 'tp'?"
    assert str(err).startswith(f"{path}: parallelism.tpp (from --set parallelism.tpp=4): unknown key 'tpp'")


def test_override_that_breaks_a_check_says_so(write) -> None:
    path = write("model: llama-2-70b\nhardware:\n  gpu: h100-sxm\nparallelism:\n  tp: 8\n")
    err = load_error(path, ["parallelism.tp=3"])
    assert (err.key_path, err.origin) == ("parallelism.tp", "--set parallelism.tp=3")
    assert "heads" in err.message


def test_override_below_a_scalar(write) -> None:
    err = load_error(write(MINIMAL), ["hardware.nodes.count=2"])
    assert (err.key_path, err.origin) == ("hardware.nodes", "--set hardware.nodes.count=2")
    err = load_error(write(MINIMAL + "workload:\n  requests: 3\n"), ["workload.requests.x=2"])
    assert (err.key_path, err.origin) == ("workload.requests.x", "--set workload.requests.x=2")
    assert "cannot set 'x' inside 3" in err.message


@pytest.mark.parametrize("override", ["parallelism.tp", "=4", "parallelism..tp=4"])
def test_malformed_override(write, override: str) -> None:
    text = str(load_error(write(MINIMAL), [override]))
    assert override in text
    assert "key.path=value" in text or "empty key" in text


def test_override_with_malformed_yaml_value(write) -> None:
    err = load_error(write(MINIMAL), ["workload.arrival={kind: poisson"])
    assert err.key_path == "workload.arrival" and "--set workload.arrival={kind: poisson" in str(err)


# --- the error object ---------------------------------------------------------------------------


def test_error_lists_at_most_a_few_problems() -> None:
    problems = [Problem(f"bad {i}", "f.yaml", i + 1, f"k{i}") for i in range(MAX_SHOWN + 3)]
    err = ScenarioError.from_problems(problems)
    lines = str(err).splitlines()
    assert lines[0] == "f.yaml:1: k0: bad 0" and lines[-1] == "... and 3 more errors"
    assert len(lines) == MAX_SHOWN + 1
    assert (err.file, err.line, err.key_path, err.message) == ("f.yaml", 1, "k0", "bad 0")


def test_error_survives_pickling() -> None:
    err = ScenarioError("expected an integer", file="x.yaml", line=3, key_path="seed", hint="did you mean 3?")
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err) == "x.yaml:3: seed: expected an integer; did you mean 3?"
    assert copy.problems == err.problems


# --- any input: a Scenario or a ScenarioError, never a crash ------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
                     st.text(max_size=12), st.sampled_from(["h100-sxm", "llama-3.2-1b", "2/s", "1 TB/s", "auto"]))
_keys = st.one_of(st.sampled_from(["model", "hardware", "gpu", "parallelism", "tp", "workload", "arrival", "kind",
                                   "preset", "memory_bandwidth", "sweep", "slo", "ttft", "flops", "bf16"]),
                  st.text(max_size=8))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(_keys, inner, max_size=4)), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=6))
def test_any_mapping_is_a_scenario_or_a_scenario_error(data: dict) -> None:
    try:
        scenario_from_dict({"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"}, **data})
    except ScenarioError as err:
        assert str(err) and err.problems


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_scenario_or_a_scenario_error(text: str) -> None:
    try:
        parse_yaml(text)
    except ScenarioError as err:
        assert str(err)


def test_absurd_amounts_of_work_are_refused_not_simulated(tmp_path):
    """Untrusted input: every count is bounded, and so is their product (no file that hangs)."""
    path = tmp_path / "huge.yaml"
    path.write_text("model: llama-3.2-1b\nhardware: {gpu: h100-sxm}\n"
                    "workload: {requests: 1000000, prompt_tokens: 1000, output_tokens: 1000}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert "huge.yaml" in message and "workload.requests" in message and "fidelity" in message
    # the same work at step fidelity is allowed
    assert load_scenario(path, ["simulation.fidelity=step"]).workload.requests == 1_000_000
