"""A run killed at any point leaves ``--out`` as it was or complete, never a mix.

Two ways of killing: (1) in a forked child, ``os._exit`` before and after each file-system call
the writer makes (mkdir, rename, exchange, write, remove...), for every such point in turn; (2) a
real ``simdecode run --out`` subprocess killed with SIGKILL at moments spread over its run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simdecode.io import outfiles

OLD = {"summary.json": b'{"scenario": "old"}\n', "requests.csv": b"id\n0\n", "timeline.png": b"old png",
       "kv_occupancy.png": b"old kv"}
NEW = {"summary.json": b'{"scenario": "new"}\n', "requests.csv": b"id\n0\n1\n", "timeline.png": b"new png"}
KILLED = 77


def _write(out: Path, files: dict[str, bytes]) -> None:
    with outfiles.atomic_out_dir(out) as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)


def _state(out: Path) -> dict[str, bytes] | None:
    if not out.exists():
        return None
    return {p.name: p.read_bytes() for p in out.iterdir() if p.name != outfiles.MARKER}


def _kill_at(k: int, out: Path, exchange: bool) -> int:
    """Fork; in the child write NEW into ``out`` and die at the k-th point; return the exit status."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            count = [0]

            def point() -> None:
                count[0] += 1
                if count[0] == k:
                    os._exit(KILLED)

            def wrap(owner, name):
                real = getattr(owner, name)

                def wrapped(*args, **kwargs):
                    point()
                    result = real(*args, **kwargs)
                    point()
                    return result
                setattr(owner, name, wrapped)

            for name in ("mkdir", "rename", "replace", "rmdir", "unlink", "open", "write"):
                wrap(os, name)
            wrap(shutil, "rmtree")
            wrap(Path, "write_bytes")
            wrap(Path, "write_text")
            if exchange:
                wrap(outfiles, "_exchange")
            else:
                outfiles._RENAMEAT2[:] = [None]  # no renameat2: the two-rename fallback
            _write(out, NEW)
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2-exchange", "two-renames"])
def test_killed_at_every_file_system_step(tmp_path: Path, exchange: bool) -> None:
    if exchange and outfiles._renameat2() is None:
        pytest.skip("no renameat2 here")
    out = tmp_path / "out"
    points = 0
    for k in range(1, 200):
        _write(out, OLD)  # as it was (and removes what the last killed child left)
        code = _kill_at(k, out, exchange)
        state = _state(out)
        if state is None:  # only the fallback, killed between its two renames: the next run restores
            assert not exchange, f"killed at point {k}: --out vanished"
            outfiles._remove_stale(out)
            state = _state(out)
        assert state in (OLD, NEW), f"killed at point {k}: {state}"
        if code == 0:
            assert state == NEW
            break
        assert code == KILLED, f"the child failed at point {k} (exit {code})"
        points += 1
    else:
        pytest.fail("the writer never finished")
    assert points >= 10, "the writer's steps were all visited"
    _write(out, NEW)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    assert leftovers == [], "a later run removes what killed runs left"


def test_sigkill_during_real_runs(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    scenario = root / "scenarios" / "quickstart.yaml"
    out = tmp_path / "out"
    base = [sys.executable, "-m", "simdecode", "run", str(scenario), "--quiet", "--out", str(out),
            "--set", "workload.requests=3"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([*base, "--set", "name=old"], check=True, env=env, timeout=300)
    old = _state(out)
    started = time.perf_counter()
    ref = tmp_path / "ref"
    subprocess.run([*base[:-4], "--out", str(ref), "--set", "workload.requests=3", "--set", "name=new"],
                   check=True, env=env, timeout=300)
    duration = time.perf_counter() - started
    new_rows = (ref / "requests.csv").read_bytes()
    for fraction in (0.6, 0.9, 1.0):
        proc = subprocess.Popen([*base, "--set", "name=new"], env=env)
        time.sleep(duration * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = _state(out)
        assert state is not None
        if state != old:
            assert set(state) == set(old) and json.loads(state["summary.json"])["scenario"] == "new"
            assert state["requests.csv"] == new_rows
            subprocess.run([*base, "--set", "name=old"], check=True, env=env, timeout=300)
            old = _state(out)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_concurrent_writers_never_mix_their_files(tmp_path: Path) -> None:
    """Four processes write their own set of files into one --out, 15 times each, at once: the
    folder always ends as exactly one writer's set, and nothing is left beside it."""
    out = tmp_path / "out"
    sets = [{f"{name}": f"{w}:{name}".encode() for name in ("summary.json", "requests.csv", "timeline.png")}
            for w in range(4)]
    sets[3]["kv_occupancy.png"] = b"3:kv"
    children = []
    for files in sets:
        pid = os.fork()
        if pid == 0:
            try:
                for _ in range(15):
                    _write(out, files)
                os._exit(0)
            except BaseException:  # noqa: BLE001
                os._exit(3)
        children.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    assert codes == [0, 0, 0, 0]
    assert _state(out) in sets
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
