"""The Ray executor, on a local Ray with 2 CPUs, gives the same table as the local executor."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdecode.sweep import plan_sweep, run_sweep

ray = pytest.importorskip("ray", reason="the Ray executor needs the ray extra (make test installs it)")


def test_ray_table_equals_local_table(tiny_sweep: Path):
    local = run_sweep(plan_sweep(tiny_sweep), executor="local", jobs=1)
    seen = []
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = run_sweep(plan_sweep(tiny_sweep), executor="ray", jobs=2,
                           progress=lambda done, total: seen.append((done, total)))
    finally:
        ray.shutdown()
    assert remote.rows == local.rows
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]

