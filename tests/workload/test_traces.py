"""Trace files: replay of the shipped Splitwise trace, and clear errors for bad files (a trace is
untrusted input: read only where a scenario names it, bounded in size and rows)."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import pytest

from simdecode import simulate
from simdecode.errors import ScenarioError
from simdecode.scenario.loader import load_scenario, scenario_from_dict
from simdecode.scenario import traces

ROOT = Path(__file__).resolve().parents[2]
CONV = ROOT / "scenarios" / "traces" / "splitwise_conv.csv"


def _rows(path: Path, n: int) -> list[tuple[float, int, int]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return [(float(r["arrived_at"]), int(r["num_prefill_tokens"]), int(r["num_decode_tokens"]))
                for _, r in zip(range(n), reader)]


def _scenario(arrival: dict, **workload) -> dict:
    return {"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm", "gpus_per_node": 1},
            "workload": {"arrival": arrival, **workload}, "simulation": {"fidelity": "step"}}


def test_replay_gives_the_first_rows_of_the_splitwise_trace():
    n = 120
    s = scenario_from_dict(_scenario({"kind": "trace", "path": "scenarios/traces/splitwise_conv.csv", "limit": n}),
                           base_dir=ROOT)
    assert s.workload.total_requests == n
    records = sorted(simulate(s).requests, key=lambda r: r.id)
    assert len(records) == n
    expected = _rows(CONV, n)
    assert expected[0][0] == 0.0  # the file starts at 0 s, so replayed times equal the file's
    assert [(r.arrival_s, r.prompt_tokens, r.output_tokens) for r in records] == expected
    assert all(a.arrival_s <= b.arrival_s for a, b in zip(records, records[1:]))  # ids in arrival order


def test_whole_trace_is_read_and_requests_caps_it():
    s = scenario_from_dict(_scenario({"kind": "trace", "path": "scenarios/traces/splitwise_conv.csv"}), base_dir=ROOT)
    assert len(s.workload.arrival.trace) == 19_366 == s.workload.total_requests  # default requests: 20 ignored
    capped = scenario_from_dict(_scenario({"kind": "trace", "path": "scenarios/traces/splitwise_conv.csv", "limit": 50},
                                          requests=30), base_dir=ROOT)
    assert capped.workload.total_requests == 30


def test_time_scale_and_offset_of_a_jsonl_trace(tmp_path):
    rows = [{"arrival_s": 100.0, "prompt_tokens": 10, "output_tokens": 3},
            {"arrival_s": 100.5, "prompt_tokens": 20, "output_tokens": 1},
            {"arrival_s": 100.5, "prompt_tokens": 30.0, "output_tokens": "2"},
            {"arrival_s": 104.0, "prompt_tokens": 40, "output_tokens": 4, "other": "ignored"}]
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    s = scenario_from_dict(_scenario({"kind": "trace", "path": "t.jsonl", "time_scale": 0.5}), base_dir=tmp_path)
    records = sorted(simulate(s).requests, key=lambda r: r.id)
    assert [r.arrival_s for r in records] == [0.0, 0.25, 0.25, 2.0]  # from the first row, halved
    assert [(r.prompt_tokens, r.output_tokens) for r in records] == [(10, 3), (20, 1), (30, 2), (40, 4)]
    assert s.workload.prompt_tokens == 25  # the trace's mean, for one-request figures


# ---- bad files: errors name the scenario file, the key path, the trace file and its row ---------

def _load(tmp_path: Path, arrival: str, extra: str = "") -> ScenarioError:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(f"""\
        model: llama-3.2-1b
        hardware: {{gpu: h100-sxm, gpus_per_node: 1}}
        workload:
          requests: 5
          arrival: {arrival}
        {extra}"""), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


def test_missing_trace_file(tmp_path):
    err = _load(tmp_path, "{kind: trace, path: nowhere.csv}")
    text = str(err)
    assert text.startswith(f"{tmp_path / 'scenario.yaml'}:5: workload.arrival.path: ")
    assert "trace file not found: nowhere.csv" in text and str(tmp_path / "nowhere.csv") in text


def test_a_bad_row_names_file_row_and_column(tmp_path):
    (tmp_path / "bad.csv").write_text("arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,5,5\n"
                                      "0.1,7,3\n0.2,abc,3\n", encoding="utf-8")
    text = str(_load(tmp_path, "{kind: trace, path: bad.csv}"))
    assert text.startswith(f"{tmp_path / 'scenario.yaml'}:5: workload.arrival: ")
    assert "trace file bad.csv: row 3: num_prefill_tokens must be a positive integer, got 'abc' (line 4)" in text


@pytest.mark.parametrize("body, message", [
    ("arrival_s,prompt_tokens,output_tokens\n0,5,0\n", "row 1: output_tokens must be a positive integer, got '0'"),
    ("arrival_s,prompt_tokens,output_tokens\n0,5,2.5\n", "row 1: output_tokens must be a positive integer"),
    ("arrival_s,prompt_tokens,output_tokens\n1,5,2\n0.5,5,2\n", "row 2: arrival_s 0.5 s is earlier than the row"),
    ("arrival_s,prompt_tokens,output_tokens\nnan,5,2\n", "row 1: arrival_s must be a finite number of seconds"),
    ("arrival_s,prompt_tokens,output_tokens\n0,5\n", "row 1: expected 3 fields like the header, got 2"),
    ("arrival_s,prompt_tokens\n0,5\n", "no num_decode_tokens or output_tokens column in the header"),
    ("arrival_s,prompt_tokens,output_tokens\n", "has no rows"),
    ("", "is empty"),
    ("arrival_s,prompt_tokens,output_tokens\n0,3000000,2\n", "prompt_tokens must be at most 2,000,000"),
])
def test_malformed_csv_rows(tmp_path, body, message):
    (tmp_path / "t.csv").write_text(body, encoding="utf-8")
    text = str(_load(tmp_path, "{kind: trace, path: t.csv}"))
    assert "workload.arrival" in text and "trace file t.csv" in text and message in text


def test_malformed_jsonl(tmp_path):
    (tmp_path / "t.jsonl").write_text('{"arrival_s": 0, "prompt_tokens": 1, "output_tokens": 1}\n\n[1, 2]\n',
                                      encoding="utf-8")
    assert "row 2: expected a JSON object" in str(_load(tmp_path, "{kind: trace, path: t.jsonl}"))
    (tmp_path / "u.jsonl").write_text('{"arrival_s": 0, "prompt_tokens": 1}\n', encoding="utf-8")
    assert "row 1: no num_decode_tokens or output_tokens key (line 1)" in str(
        _load(tmp_path, "{kind: trace, path: u.jsonl}"))


def test_too_many_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(traces, "MAX_ROWS", 4)
    (tmp_path / "long.csv").write_text("arrival_s,prompt_tokens,output_tokens\n"
                                       + "".join(f"{i},5,5\n" for i in range(5)), encoding="utf-8")
    text = str(_load(tmp_path, "{kind: trace, path: long.csv}"))
    assert "trace file long.csv has more than 4 rows" in text and "workload.arrival" in text
    # a limit reads only the rows it needs
    s = load_scenario(_write(tmp_path, "{kind: trace, path: long.csv, limit: 3}"))
    assert len(s.workload.arrival.trace) == 3


def test_too_large_and_not_a_file(tmp_path, monkeypatch):
    monkeypatch.setattr(traces, "MAX_TRACE_BYTES", 100)
    (tmp_path / "big.csv").write_text("arrival_s,prompt_tokens,output_tokens\n" + "0,5,5\n" * 30, encoding="utf-8")
    assert "trace file big.csv is larger than" in str(_load(tmp_path, "{kind: trace, path: big.csv}"))
    (tmp_path / "adir").mkdir()
    assert "is a directory" in str(_load(tmp_path, "{kind: trace, path: adir}"))
    (tmp_path / "latin1.csv").write_bytes(b"arrival_s,prompt_tokens,output_tokens\n0,5,5\n\xff\n")
    assert "is not UTF-8 text (line 3)" in str(_load(tmp_path, "{kind: trace, path: latin1.csv}"))


def test_empirical_length_errors(tmp_path):
    text = str(_load(tmp_path, "{kind: poisson, rate: 1/s}",
                     "  prompt_tokens: {dist: empirical, path: sub/nowhere.csv, column: x}\n"))
    assert "workload.prompt_tokens.path: length file not found: sub/nowhere.csv" in text
    (tmp_path / "l.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    text = str(_load(tmp_path, "{kind: poisson, rate: 1/s}",
                     "  prompt_tokens: {dist: empirical, path: l.csv, column: num_prefill_tokens}\n"))
    assert ":6: workload.prompt_tokens: " in text
    assert "no num_prefill_tokens or prompt_tokens column in the header (line 1: 'a, b')" in text


def test_trace_lengths_cannot_be_overridden(tmp_path):
    (tmp_path / "conv.csv").write_bytes(CONV.read_bytes())
    text = str(_load(tmp_path, "{kind: trace, path: conv.csv}", "  output_tokens: 5\n"))
    assert "workload: output_tokens cannot be given with a trace arrival" in text


def _write(tmp_path: Path, arrival: str) -> Path:
    path = tmp_path / "ok.yaml"
    path.write_text(f"model: llama-3.2-1b\nhardware: {{gpu: h100-sxm, gpus_per_node: 1}}\n"
                    f"workload:\n  arrival: {arrival}\n", encoding="utf-8")
    return path


def test_scenarios_holding_trace_data_compare_and_pickle():
    import pickle

    data = _scenario({"kind": "trace", "path": "scenarios/traces/splitwise_code.csv", "limit": 30})
    with_lengths = _scenario({"kind": "poisson", "rate": 1.0}, prompt_tokens={
        "dist": "empirical", "path": "scenarios/traces/splitwise_code.csv", "column": "num_prefill_tokens"})
    for d in (data, with_lengths):
        a = scenario_from_dict(d, base_dir=ROOT)
        traces._load.cache_clear()  # b gets its own arrays, equal but not the same objects
        b = scenario_from_dict(d, base_dir=ROOT)
        assert a == b and a == pickle.loads(pickle.dumps(a))
        assert a != scenario_from_dict({**d, "seed": 1}, base_dir=ROOT)
