"""Replicas split over processes (issue 15, part 4): identical results to one process.

Compared: every field of the summary but the simulator's own counters (wall time, events), and
every request record, exactly (no tolerance): the split must not change a single float.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simdecode import simulate
from simdecode.engine.parallel import blocks, split_reason
from simdecode.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
CONV = str(ROOT / "scenarios" / "traces" / "splitwise_conv.csv")


def scenario(**changes) -> Scenario:
    data = {
        "seed": 7, "model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm", "gpus_per_node": 8},
        "runtime": "vllm", "parallelism": {"tp": 2, "dp": 4},
        "workload": {"arrival": {"kind": "poisson", "rate": "40/s"}, "requests": 120, "warmup_requests": 10,
                     "prompt_tokens": {"dist": "empirical", "path": CONV, "column": "num_prefill_tokens"},
                     "output_tokens": {"dist": "uniform", "low": 1, "high": 40}},
        "scheduler": {"max_batched_tokens": 512, "memory_utilization": 0.3},
        "simulation": {"fidelity": "step"},
    }
    for key, value in changes.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    return Scenario.model_validate(data)


def comparable(result) -> dict:
    summary = result.summary()
    summary["simulation"].pop("wall_s")
    summary["simulation"].pop("events")
    return summary


@pytest.mark.parametrize("fidelity", ["step", "layer"])
def test_two_jobs_give_identical_results(fidelity: str) -> None:
    s = scenario(simulation={"fidelity": fidelity})
    assert split_reason(s, None, 2) is None
    one, two = simulate(s), simulate(s, jobs=2)
    assert comparable(one) == comparable(two)
    assert one.requests == two.requests  # every record, every float
    assert one.rejected == two.rejected
    assert one.stage_busy_s == two.stage_busy_s and one.replica_active_s == two.replica_active_s
    assert len({r.replica for r in one.requests}) == 4


def test_three_jobs_over_five_replicas_with_preemptions() -> None:
    # 0.0406 x 85.5 GB - 1.24 GB of weights - 2.14 GB of vLLM's workspace: ~0.09 GB of KV per GPU
    s = scenario(parallelism={"dp": 5}, hardware={"nodes": 2}, scheduler={"memory_utilization": 0.0406},
                 workload={"arrival": {"kind": "poisson", "rate": "400/s"},
                           "output_tokens": {"dist": "uniform", "low": 50, "high": 200}})
    one, three = simulate(s), simulate(s, jobs=3)
    assert one.summary()["requests"]["preempted"] > 0  # the KV cache is tight: the case is not trivial
    assert comparable(one) == comparable(three)
    assert one.requests == three.requests


def test_blocks_cover_every_replica_once() -> None:
    assert blocks(5, 3) == [[0], [1, 2], [3, 4]]
    assert blocks(2, 8) == [[0], [1]]
    for dp in range(1, 12):
        for jobs in range(1, 6):
            assert sorted(r for b in blocks(dp, jobs) for r in b) == list(range(dp))


def test_state_dependent_routers_and_closed_loops_stay_in_one_process() -> None:
    assert "router" in split_reason(scenario(scheduler={"router": "least-outstanding"}), None, 2)
    closed = scenario(workload={"arrival": {"kind": "closed", "concurrency": 4}})
    assert "closed-loop" in split_reason(closed, None, 2)
    assert "one replica" in split_reason(scenario(parallelism={"dp": 1}), None, 2)


def test_replicas_sharing_a_nic_stay_in_one_process() -> None:
    """Two replicas of tp 4 on one PCIe node of 4 switches: each ring crosses the node's root
    complex, so the replicas contend and cannot run apart."""
    shared = scenario(hardware={"gpu": "h100-pcie", "gpus_per_node": 8, "pcie_switches": 4},
                      parallelism={"tp": 4, "dp": 2})
    assert "share links" in split_reason(shared, None, 2)


def test_cli_says_why_it_runs_in_one_process(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("model: llama-3.2-1b\nhardware: {gpu: h100-sxm, gpus_per_node: 2}\nparallelism: {dp: 2}\n"
                    "scheduler: {router: least-outstanding}\n"
                    "workload: {arrival: {kind: poisson, rate: 5/s}, requests: 4, prompt_tokens: 16, "
                    "output_tokens: 4}\nsimulation: {fidelity: step}\n")
    proc = subprocess.run([sys.executable, "-m", "simdecode", "run", str(path), "--jobs", "2", "--json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "one process" in proc.stderr and "least-outstanding" in proc.stderr


def test_ray_executor_gives_identical_results() -> None:
    """The same split on Ray workers (skipped without the ``ray`` extra; ~10 s to start Ray)."""
    pytest.importorskip("ray")
    s = scenario()
    assert comparable(simulate(s, jobs=2, executor="ray")) == comparable(simulate(s))


def test_random_router_splits_identically_and_spreads_requests() -> None:
    s = scenario(scheduler={"router": "random"})
    assert split_reason(s, None, 2) is None
    one, two = simulate(s), simulate(s, jobs=2)
    assert comparable(one) == comparable(two) and one.requests == two.requests
    per_replica = [sum(1 for r in one.requests if r.replica == k) for k in range(4)]
    assert all(per_replica) and per_replica != [30, 30, 30, 30]  # drawn, not dealt in turn


def test_cli_jobs_two_prints_the_same_summary_as_one(tmp_path: Path) -> None:
    import json

    path = tmp_path / "s.yaml"
    path.write_text("model: llama-3.2-1b\nhardware: {gpu: h100-sxm, gpus_per_node: 2}\nparallelism: {dp: 2}\n"
                    "workload: {arrival: {kind: poisson, rate: 50/s}, requests: 40, prompt_tokens: 64, "
                    "output_tokens: {dist: uniform, low: 1, high: 30}}\nsimulation: {fidelity: step}\nseed: 5\n")
    outs = []
    for jobs in ("1", "2"):
        proc = subprocess.run([sys.executable, "-m", "simdecode", "run", str(path), "--jobs", jobs, "--json"],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "one process" not in proc.stderr  # it did split
        summary = json.loads(proc.stdout)
        summary["simulation"].pop("wall_s")
        summary["simulation"].pop("events")
        outs.append(summary)
    assert outs[0] == outs[1] and outs[0]["requests"]["completed"] == 40


# --- one executor vocabulary for `run` and `sweep` (new user walk-through) ----------------------

def test_run_and_sweep_offer_the_same_executor_names() -> None:
    from simdecode import cli
    from simdecode.engine.parallel import EXECUTORS

    parser = cli.build_parser()
    for command in ("run", "sweep"):
        sub = parser._command_parser(command)
        (action,) = [a for a in sub._actions if "--executor" in a.option_strings]
        assert tuple(action.choices) == EXECUTORS == ("local", "ray") and action.default == "local"
        assert any("--ray-address" in a.option_strings for a in sub._actions)


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_executor_process_still_means_local_with_a_note(command: str, capsys) -> None:
    from simdecode import cli

    argv = [command, "s.yaml", "--executor", "process"] + (["--out", "o"] if command == "sweep" else [])
    args = cli.build_parser().parse_args(argv)
    assert args.executor == "local"
    assert "--executor process is now spelled --executor local" in capsys.readouterr().err


def test_simulate_reads_process_as_local_and_refuses_an_unknown_executor() -> None:
    from simdecode.engine.parallel import executor_name

    assert executor_name("process") == "local" and executor_name("ray") == "ray"
    with pytest.raises(ValueError, match="choose from local, ray"):
        simulate(scenario(), executor="threads")


def test_run_executor_ray_without_ray_is_one_error_line(tmp_path: Path, monkeypatch, capsys) -> None:
    from simdecode import cli

    path = tmp_path / "s.yaml"
    path.write_text("model: llama-3.2-1b\nhardware: {gpu: h100-sxm, gpus_per_node: 2}\nparallelism: {dp: 2}\n"
                    "workload: {arrival: {kind: poisson, rate: 50/s}, requests: 4, prompt_tokens: 16, "
                    "output_tokens: 4}\nsimulation: {fidelity: step}\n")
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    assert cli.main(["run", str(path), "--jobs", "2", "--executor", "ray", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --executor ray needs Ray") and "Traceback" not in err
