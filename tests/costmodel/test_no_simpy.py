"""Architecture test: the cost model is pure and never imports simpy (docs/architecture.md, "Invariants the tests check",
simdecode/costmodel/__init__.py: "It never imports simpy (a test enforces it)").

Each check runs in a fresh interpreter: in this pytest process simpy is usually imported already.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path


REPO_ROOT = Path(__file__).resolve().parents[2]
COSTMODEL_DIR = REPO_ROOT / "simdecode" / "costmodel"


def _run(code: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, check=check,
                          capture_output=True, text=True, timeout=120)


def test_costmodel_does_not_import_simpy() -> None:
    # the check exactly in its simplest form
    _run("import sys, simdecode.costmodel.plan, simdecode.costmodel.fold; assert 'simpy' not in sys.modules")


_WITHOUT_PACKAGE_INIT = (
    "import sys, types\n"
    "pkg = types.ModuleType('simdecode'); pkg.__path__ = [{path!r}]; sys.modules['simdecode'] = pkg\n"
)


def test_costmodel_modules_themselves_are_simpy_free() -> None:
    # The same check with simdecode/__init__.py bypassed (a bare package object): everything the
    # cost model imports transitively (scenario, presets, units) is simpy-free, and a real plan
    # can be built and folded.
    code = _WITHOUT_PACKAGE_INIT.format(path=str(REPO_ROOT / "simdecode")) + (
        "from simdecode.costmodel import architecture, batch, collectives, deployment, fold, modules, plan, roofline\n"
        "from simdecode.scenario.schema import Scenario\n"
        "s = Scenario.model_validate({'model': 'llama-2-7b', 'hardware': {'gpu': 'a100-80gb'}, 'parallelism': {'tp': 8}})\n"
        "dep = deployment.Deployment.from_scenario(s)\n"
        "f = fold.fold(plan.build_stage_plan(dep, 0, batch.BatchShape.decode([10])))\n"
        "assert f.makespan_s > 0\n"
        "assert 'simpy' not in sys.modules, sorted(m for m in sys.modules if 'simpy' in m)\n"
        "assert not any(m.startswith(('simdecode.engine', 'simdecode.schedulers')) for m in sys.modules)\n"
    )
    _run(code)


def test_the_subprocess_check_can_fail() -> None:
    # guard against a vacuous check: an import of simpy through the same harness IS detected
    code = _WITHOUT_PACKAGE_INIT.format(path=str(REPO_ROOT / "simdecode")) + (
        "import simpy\nassert 'simpy' not in sys.modules\n"
    )
    assert _run(code, check=False).returncode != 0


def test_no_costmodel_source_file_imports_simpy_or_the_engine() -> None:
    # static view of the same rule: no import statement in simdecode/costmodel/*.py names simpy,
    # the engine or the schedulers (which may use simpy)
    forbidden = ("simpy", "simdecode.engine", "simdecode.schedulers", "simdecode.metrics")
    files = sorted(COSTMODEL_DIR.glob("*.py"))
    assert len(files) >= 8
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
