"""Hostile-input corpus: each case an input, its exit code, a fragment of its message, and no leak.

Every case runs ``simdecode`` on a scenario folder inside a "jail" whose parent holds secret files
(a CSV, a JSON config, a text file) with a token that must never be printed. A case that expects
exit 2 must also never reach the simulation (``simulate`` is replaced by a function that fails the
test), so it is refused before any work. The corpus grows from issue 9: reads escaping the
scenario's folder, writes onto devices and folders, crashes on odd parser input, unbounded work.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simdecode
from simdecode import cli

SECRET = "HOSTILE-SECRET-5e1d"
BASE = """\
name: hostile
model: llama-3.2-1b
hardware: {gpu: h100-sxm, gpus_per_node: 1}
workload: {requests: 2, prompt_tokens: 16, output_tokens: 4}
"""
TRACE_SCENARIO = BASE.replace("workload: {requests: 2, prompt_tokens: 16, output_tokens: 4}",
                              "workload: {arrival: {kind: trace, path: PATH}}")
LENGTH_SCENARIO = BASE.replace("prompt_tokens: 16", "prompt_tokens: {dist: empirical, path: PATH, column: x}")
HF_SCENARIO = BASE.replace("model: llama-3.2-1b", "model: {hf_config: PATH}")


@dataclass
class Case:
    id: str
    scenario: str                       # YAML text (PATH replaced by ``path``)
    path: str = ""
    args: tuple[str, ...] = ()
    code: int = 2
    fragment: str = ""
    setup: Callable[[Path], None] | None = None  # gets the scenario folder
    extra_secrets: tuple[str, ...] = field(default=())


def _symlink_out(folder: Path) -> None:
    (folder / "link.csv").symlink_to(folder.parent / "secret.csv")


def _symlinked_folder(folder: Path) -> None:
    (folder / "sub").symlink_to(folder.parent)


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / "pipe.csv")


def _leaky_header(folder: Path) -> None:
    (folder / "wide.csv").write_text("a" * 60 + SECRET + ",b\n1,2\n", encoding="utf-8")


def _config(text: str) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        (folder / "config.json").write_text(text, encoding="utf-8")
    return write


CONFIG = {"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128,
          "vocab_size": 100}

CASES = [
    # -- reads that leave the scenario's folder (part 1)
    Case("trace-dotdot", TRACE_SCENARIO, "../secret.csv", fragment="outside the scenario's folder"),
    Case("trace-absolute", TRACE_SCENARIO, "{top}/secret.csv", fragment="outside the scenario's folder"),
    Case("trace-symlink-out", TRACE_SCENARIO, "link.csv", setup=_symlink_out, fragment="outside the scenario's folder"),
    Case("trace-through-linked-folder", TRACE_SCENARIO, "sub/secret.csv", setup=_symlinked_folder,
         fragment="outside the scenario's folder"),
    Case("trace-etc-passwd", TRACE_SCENARIO, "/etc/passwd", fragment="outside the scenario's folder",
         extra_secrets=("root:x:", "/bin/")),
    Case("trace-dev-zero", TRACE_SCENARIO, "/dev/zero", fragment="outside the scenario's folder"),
    Case("length-dotdot", LENGTH_SCENARIO, "../secret.csv", fragment="outside the scenario's folder"),
    Case("hf-config-dotdot", HF_SCENARIO, "../secret.json", fragment="outside the scenario's folder"),
    Case("hf-config-absolute-folder", HF_SCENARIO, "{top}", fragment="outside the scenario's folder"),
    Case("trace-fifo", TRACE_SCENARIO, "pipe.csv", setup=_fifo, fragment="not a regular file"),
    Case("trace-folder", TRACE_SCENARIO, ".", fragment="is a directory"),
    Case("trace-header-excerpt", TRACE_SCENARIO, "wide.csv", setup=_leaky_header,
         fragment="no arrived_at or arrival_s column in the header (line 1: 'aaaa"),
    Case("trace-name-too-long", TRACE_SCENARIO, "x" * 300 + ".csv", fragment="File name too long"),
    Case("hf-config-name-too-long", HF_SCENARIO, "x" * 300 + "/config.json", fragment="File name too long"),
    Case("hf-config-nul", HF_SCENARIO, '"a\\0b.json"', fragment="cannot contain a NUL character"),
    Case("trace-path-too-long", TRACE_SCENARIO, "/".join(["d" * 200] * 30), fragment="too long"),
    # -- parsers (part 3)
    Case("hf-config-deep-json", HF_SCENARIO, "config.json", setup=_config("[" * 100_000 + "]" * 100_000),
         fragment="nests JSON 100000 levels deep"),
    Case("hf-config-text-config-list", HF_SCENARIO, "config.json", setup=_config('{"text_config": [1, 2]}'),
         fragment="text_config must be a JSON object"),
    Case("hf-config-text-config-string", HF_SCENARIO, "config.json", setup=_config('{"text_config": "x"}'),
         fragment="text_config must be a JSON object"),
    Case("hf-config-text-config-null", HF_SCENARIO, "config.json", setup=_config('{"text_config": null}'),
         fragment="text_config must be a JSON object"),
    Case("hf-config-nested-value", HF_SCENARIO, "config.json",
         setup=_config(json.dumps({**CONFIG, "hidden_size": {"a": [1]}})), fragment="hidden_size must be a number"),
    Case("hf-config-not-json", HF_SCENARIO, "config.json", setup=_config("{" + SECRET),
         fragment="is not valid JSON"),
    Case("yaml-bool-tag", BASE + "seed: !!bool yes\n", fragment="YAML tag '!!bool' is not accepted"),
    Case("yaml-timestamp-tag", BASE + "name: !!timestamp 2020-01-01\n", fragment="YAML tag '!!timestamp'"),
    Case("yaml-python-tag", BASE + "name: !!python/object/apply:os.system [echo]\n", fragment="YAML tag"),
    Case("set-bool-tag", BASE, args=("--set", "seed=!!bool yes"), fragment="YAML tag '!!bool' is not accepted"),
    Case("set-timestamp-tag", BASE, args=("--set", "seed=!!timestamp 2020-01-01"), fragment="YAML tag"),
    Case("bursty-cv-1e-200", BASE, args=("--set", "workload.arrival={kind: bursty, rate: 1/s, cv: 1e-200}"),
         fragment="cv (from --set workload.arrival={kind: bursty, rate: 1/s, cv: 1e-200}): expected a value >= 0.001"),
    Case("bursty-cv-1e-160", BASE, args=("--set", "workload.arrival={kind: bursty, rate: 1/s, cv: 1e-160}"),
         fragment="cv (from --set workload.arrival={kind: bursty, rate: 1/s, cv: 1e-160}): expected a value >= 0.001"),
    Case("poisson-tiny-rate", BASE, args=("--set", "workload.arrival={kind: poisson, rate: 1e-300/s}"),
         fragment="expected a value >= 1e-06, got 1e-300"),
    Case("histogram-huge", BASE + "decoding: {method: draft, draft_model: llama-3.2-1b, speculative_tokens: 1, "
         "acceptance: {histogram: [1e308, 1e308]}}\n", fragment="expected a value <= 1000000000000000"),
    Case("histogram-zero", BASE + "decoding: {method: draft, draft_model: llama-3.2-1b, speculative_tokens: 1, "
         "acceptance: {histogram: [0, 0]}}\n", fragment="must not all be zero"),
    Case("bare-bandwidth", BASE.replace("gpu: h100-sxm", "gpu: {preset: h100-sxm, memory_bandwidth: 3350}"),
         fragment="did you mean '3350 GB/s'?"),
    Case("slow-bandwidth", BASE.replace("gpu: h100-sxm", "gpu: {preset: h100-sxm, memory_bandwidth: '500 MB/s'}"),
         fragment="less than any real bandwidth"),
    Case("gpu-h100", BASE.replace("gpu: h100-sxm", "gpu: h100"), fragment="did you mean 'h100-sxm'"),
    # a per-kernel cost as a plain number: 2 seconds a kernel (TPOT 966 s), surely 2 us
    Case("bare-kernel-launch", BASE, args=("--set", "runtime.kernel_launch=2"),
         fragment="2 is read as 2 s, more than any one kernel, collective or hop takes: did you mean '2 us'?"),
    Case("bare-link-latency", BASE, args=("--set", "hardware.intra_node_link={preset: nvlink4, latency: 3}"),
         fragment="did you mean '3 us'?"),
    # -- a file the user names that is not a scenario: its content is never echoed
    Case("shadow-like-file", f"root:$6${SECRET}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
         fragment="not a simdecode scenario: none of its 2 top-level keys is a section"),
    Case("secret-mapping-file", f"api_token: {SECRET}\n{SECRET}: 1\n", fragment="the file's content is not shown"),
    Case("secret-mapping-file-with-set", f"{SECRET}: x\n", args=("--set", "model=llama-3.2-1b"),
         fragment="not a simdecode scenario"),
    # -- work bounds (part 4)
    Case("work-over-budget", BASE, args=("--set", "workload.requests=1000000", "--set", "workload.output_tokens=1536",
                                         "--fidelity", "step"), fragment="over the budget"),
    Case("explain-huge-batch", BASE, args=("EXPLAIN", "--batch", "1000000000"), fragment="expected at most 65,536"),
    # -- output targets, checked before simulating (part 2)
    Case("trace-onto-dev-null", BASE, args=("--trace", "/dev/null"), fragment="is not a regular file"),
    Case("trace-onto-folder", BASE, args=("--trace", "{folder}"), fragment="is a directory"),
    Case("trace-in-missing-folder", BASE, args=("--trace", "{folder}/nowhere/t.json"), fragment="does not exist"),
    Case("trace-in-unwritable-folder", BASE, args=("--trace", "/proc/t.json"), fragment="cannot write in /proc"),
    Case("trace-empty-name", BASE, args=("--trace", ""), fragment="expected a path, got an empty one"),
    Case("out-is-a-file", BASE, args=("--out", "{top}/secret.txt"), fragment="exists and is not a folder"),
    Case("out-foreign-folder", BASE, args=("--out", "{top}"), fragment="not simdecode's output"),
    Case("out-working-folder", BASE, args=("--out", ".", "--force"), fragment="is the working folder"),
    Case("out-name-too-long", BASE, args=("--out", "x" * 300), fragment="File name too long"),
    Case("out-path-too-long", BASE, args=("--out", "/".join(["d" * 200] * 30)), fragment="File name too long"),
    Case("out-below-a-file", BASE, args=("--out", "{top}/secret.txt/sub"), fragment="Not a directory"),
    Case("trace-path-too-long-out", BASE, args=("--trace", "/".join(["d" * 200] * 30)), fragment="too long"),
]


@pytest.fixture
def jail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path/top/`` holds the secrets and ``top/scenarios/`` the scenario; cwd is ``tmp_path``."""
    top = tmp_path / "top"
    folder = top / "scenarios"
    folder.mkdir(parents=True)
    (top / "secret.csv").write_text(f"arrival_s,prompt_tokens,output_tokens\n{SECRET},1,1\n", encoding="utf-8")
    (top / "secret.json").write_text(json.dumps({**CONFIG, "hidden_size": SECRET}), encoding="utf-8")
    (top / "secret.txt").write_text(SECRET, encoding="utf-8")
    (top / "config.json").write_text(json.dumps({**CONFIG, "name": SECRET}), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return folder


def _snapshot(path: Path) -> dict[str, tuple]:
    """Every entry under ``path`` with its type, size and content (files), to compare before and after."""
    out = {}
    for folder, dirs, files in os.walk(path):  # links are not followed
        for name in dirs + files:
            p = Path(folder) / name
            info = p.lstat()
            content = p.read_bytes() if stat.S_ISREG(info.st_mode) else b""
            out[str(p.relative_to(path))] = (stat.S_IFMT(info.st_mode), info.st_size, content)
    return out


def run_main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case(case: Case, jail: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    top = jail.parent
    if case.setup:
        case.setup(jail)
    def fill(text: str) -> str:
        return text.replace("{top}", str(top)).replace("{folder}", str(jail))

    path = fill(case.path)
    (jail / "s.yaml").write_text(textwrap.dedent(case.scenario).replace("PATH", path), encoding="utf-8")
    args = [fill(a) for a in case.args]
    command = "run"
    if args[:1] == ["EXPLAIN"]:
        command, args = "explain", args[1:]
    simulated = []
    monkeypatch.setattr(simdecode, "simulate", lambda *a, **k: simulated.append(a) or pytest.fail("simulated"),
                        raising=False)
    monkeypatch.delenv("SIMDECODE_DEBUG", raising=False)
    before = _snapshot(top)
    null_mode = os.stat("/dev/null").st_mode
    code, out, err = run_main([command, str(jail / "s.yaml"), *args])
    assert code == case.code, err
    assert case.fragment in err, err
    assert err.startswith("error: ") or "usage:" in err
    for secret in (SECRET, *case.extra_secrets):
        assert secret not in out and secret not in err, f"{secret!r} leaked: {err}"
    assert not simulated, "refused input must be refused before simulating"
    assert _snapshot(top) == before, "nothing written, nothing replaced"
    assert os.stat("/dev/null").st_mode == null_mode and stat.S_ISCHR(null_mode)


def test_proc_self_environ_is_refused_and_not_printed(tmp_path: Path) -> None:
    """A subprocess with a secret in its environment: the trace path /proc/self/environ exits 2
    without printing it (outside the folder); and a scenario kept in /proc is not readable either."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(TRACE_SCENARIO.replace("PATH", "/proc/self/environ"), encoding="utf-8")
    env = {**os.environ, "SIMDECODE_TEST_SECRET": SECRET}
    proc = subprocess.run([sys.executable, "-m", "simdecode", "run", str(scenario)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 2 and "outside the scenario's folder" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    # the scenario file itself may be anywhere the user names, but a pseudo-file is not a file
    proc = subprocess.run([sys.executable, "-m", "simdecode", "run", "/proc/self/environ"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 2 and SECRET not in proc.stdout + proc.stderr, proc.stderr


def test_symlinks_inside_the_folder_are_followed(jail: Path) -> None:
    """Confinement is about where a path ends up: a link to a file inside the folder is fine."""
    (jail / "data").mkdir()
    (jail / "data" / "t.csv").write_text("arrival_s,prompt_tokens,output_tokens\n0,8,2\n0.1,8,2\n", encoding="utf-8")
    (jail / "t.csv").symlink_to(jail / "data" / "t.csv")
    (jail / "s.yaml").write_text(TRACE_SCENARIO.replace("PATH", "t.csv"), encoding="utf-8")
    code, out, err = run_main(["run", str(jail / "s.yaml"), "--json"])
    assert code == 0, err
    assert json.loads(out)["requests"]["submitted"] == 2


def test_out_force_replaces_a_foreign_folder_whole(jail: Path) -> None:
    out = jail.parent / "results"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (jail / "s.yaml").write_text(BASE, encoding="utf-8")
    code, _, err = run_main(["run", str(jail / "s.yaml"), "--out", str(out), "--quiet"])
    assert code == 2 and "--force" in err and (out / "notes.txt").read_text() == "mine"
    code, _, err = run_main(["run", str(jail / "s.yaml"), "--out", str(out), "--quiet", "--force"])
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [".simdecode-output", "kv_occupancy.png", "requests.csv",
                                                     "summary.json", "timeline.png"]
    # simdecode's own output is replaced without --force
    code, _, err = run_main(["run", str(jail / "s.yaml"), "--out", str(out), "--quiet", "--seed", "1"])
    assert code == 0, err


def test_api_wrong_types_are_scenario_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    from simdecode import ScenarioError, load_scenario, simulate
    from simdecode.present.explain import explain
    from simdecode.scenario.loader import scenario_from_dict

    for call in (lambda: simulate(None), lambda: simulate({"model": "llama-3.2-1b"}), lambda: load_scenario(None),
                 lambda: load_scenario(3.5), lambda: load_scenario("scenarios/quickstart.yaml", [1]),
                 lambda: scenario_from_dict({"model": "llama-3.2-1b"}, base_dir=3),
                 lambda: explain(load_scenario("scenarios/quickstart.yaml"), batch=10**9),
                 lambda: explain(load_scenario("scenarios/quickstart.yaml"), context_tokens=-1)):
        with pytest.raises(ScenarioError):
            call()


class _Simulated(Exception):
    pass


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(option=st.sampled_from(["--out", "--trace"]),
       name=st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40)
       | st.sampled_from(["/", ".", "..", "~", "/dev/null", "/dev/stdout", "/proc/x", "/sys/x", "a/../..",
                          "/etc", "x" * 256, "./" * 300 + "x", "top/scenarios", "top/secret.txt"]))
def test_any_output_name_is_refused_or_accepted_before_simulating(option, name, jail, monkeypatch) -> None:
    """Whatever the user types as --out or --trace, the checks answer exit 2 or let the run go on
    (here: into a simulate() that stops it); they never crash, and refusing changes nothing."""
    (jail / "s.yaml").write_text(BASE, encoding="utf-8")
    monkeypatch.setattr(simdecode, "simulate", lambda *a, **k: (_ for _ in ()).throw(_Simulated()), raising=False)
    before = _snapshot(jail.parent.parent)
    code, out, err = run_main(["run", str(jail / "s.yaml"), option, name])
    if code == 1:
        assert "internal error: _Simulated" in err, err
    else:
        assert code == 2 and ("error: " in err), err
    assert _snapshot(jail.parent.parent) == before
