"""Token times are kept only for what reads them: the timeline plot and the summary's ITL."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdecode import load_scenario, simulate
from simdecode.engine.workload import KEEP_TOKEN_TIMES
from simdecode.io.output import jsonable

ROOT = Path(__file__).resolve().parents[2]
#: 240 requests of 24 tokens, 16 at a time, on two replicas: more than KEEP_TOKEN_TIMES requests
SMALL = ["workload.requests=240", "workload.warmup_requests=0", "workload.output_tokens=24",
         "workload.prompt_tokens=32", "workload.arrival={kind: closed, concurrency: 16}", "simulation.fidelity=step"]


def _scenario(*more: str):
    return load_scenario(ROOT / "scenarios" / "quickstart.yaml", [*SMALL, *more])


@pytest.fixture(scope="module")
def pair():
    """The same run with token times kept as by default, and with none kept."""
    scenario = _scenario()
    return simulate(scenario), simulate(scenario, keep_token_times=0)


def _without_wall(summary: dict) -> dict:
    out = jsonable(summary)
    out["simulation"].pop("wall_s")
    return out


def test_by_default_the_first_requests_keep_every_token_time(pair) -> None:
    result = pair[0]
    kept = {r.id for r in result.requests if r.token_times_s}
    assert kept == set(range(KEEP_TOKEN_TIMES))
    assert all(len(r.token_times_s) == r.output_tokens for r in result.requests if r.id in kept)
    assert result.summary()["itl_ms"]["mean"] is not None


def test_keeping_none_changes_nothing_but_the_itl(pair) -> None:
    full, bare = pair
    assert not any(r.token_times_s for r in bare.requests)
    # every other field of every record is the same
    strip = lambda r: (r.id, r.replica, r.arrival_s, r.scheduled_s, r.first_token_s, r.finished_s,  # noqa: E731
                       r.preemptions, r.server_arrival_s)
    assert [strip(r) for r in bare.requests] == [strip(r) for r in full.requests]
    a, b = _without_wall(full.summary()), _without_wall(bare.summary())
    assert b.pop("itl_ms") == {key: None for key in a["itl_ms"]}  # not kept: no ITL, not a wrong one
    a.pop("itl_ms")
    assert a == b


def test_keep_a_few() -> None:
    result = simulate(_scenario(), keep_token_times=5)
    assert {r.id for r in result.requests if r.token_times_s} == set(range(5))


def test_a_run_split_over_processes_honours_it() -> None:
    scenario = _scenario("parallelism.dp=2", "hardware.gpus_per_node=2")
    split = simulate(scenario, jobs=2, keep_token_times=0)
    assert not any(r.token_times_s for r in split.requests)
    assert {r.id for r in simulate(scenario, jobs=2).requests if r.token_times_s} == set(range(KEEP_TOKEN_TIMES))


@pytest.mark.parametrize("probe", ["tpot_ms", "ttft_ms", "e2e_ms", "per_request_tps", "aggregate_tps",
                                   "steady_aggregate_tps", "generate_tps"])
def test_validate_probes_read_no_token_times(pair, probe: str) -> None:
    """``simdecode validate`` keeps none (runner.run_job): every probe reads the same number."""
    from simdecode.validate.runner import PROBES

    class Job:  # what the probes read of a job
        scenario = {"workload": {"arrival": {"concurrency": 16}}}

    full, bare = pair
    assert PROBES[probe](bare, Job) == PROBES[probe](full, Job)
