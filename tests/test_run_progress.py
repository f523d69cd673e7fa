"""Progress of a long run: reported on stderr, without changing the simulation."""

from __future__ import annotations

from simdecode import cli, simulate
from simdecode.engine import simulation
from simdecode.scenario.schema import Scenario

SCENARIO = {"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm", "gpus_per_node": 1},
            "workload": {"arrival": {"kind": "closed", "concurrency": 4}, "requests": 12, "prompt_tokens": 32,
                         "output_tokens": 16}, "simulation": {"fidelity": "step"}}


def test_reporting_steps_the_same_events_and_reports_requests_done(monkeypatch):
    scenario = Scenario.model_validate(SCENARIO)
    plain = simulate(scenario)
    monkeypatch.setattr(simulation, "PROGRESS_AFTER_S", 0.0)
    monkeypatch.setattr(simulation, "PROGRESS_EVERY_S", 0.0)
    monkeypatch.setattr(simulation, "PROGRESS_EVERY_EVENTS", 10)
    reports = []
    reported = simulate(scenario, progress=lambda t, done, total: reports.append((t, done, total)))
    assert reported.events == plain.events
    summary, expected = reported.summary(), plain.summary()
    for key in ("ttft_ms", "tpot_ms", "aggregate_tps", "requests"):
        assert summary[key] == expected[key]
    assert reports, "no progress reported"
    times = [t for t, _, _ in reports]
    done = [d for _, d, _ in reports]
    assert times == sorted(times) and done == sorted(done)
    assert {total for _, _, total in reports} == {12} and max(done) <= 12


def test_cli_run_quiet_reports_nothing(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("model: llama-3.2-1b\nhardware: {gpu: h100-sxm, gpus_per_node: 1}\n"
                    "workload: {requests: 2, prompt_tokens: 8, output_tokens: 4}\n")
    assert cli.main(["run", str(path), "-q"]) == 0
    assert capsys.readouterr().err == ""
