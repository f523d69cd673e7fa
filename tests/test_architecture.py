"""The layers of docs/architecture.md and the one rule per arrow, enforced.

Two kinds of check: static (every ``import`` in a package's source, function-level ones included,
parsed with ``ast``) and dynamic (a fresh interpreter imports a module, does real work with it and
lists what ``sys.modules`` then holds).
"""

from __future__ import annotations

import ast
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "simdecode"


def imports_of(folder_or_file: Path) -> dict[str, set[str]]:
    """{module file (relative): every simdecode/simpy/matplotlib module it imports, anywhere in it}."""
    files = [folder_or_file] if folder_or_file.is_file() else sorted(folder_or_file.rglob("*.py"))
    out: dict[str, set[str]] = {}
    for path in files:
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        out[str(path.relative_to(ROOT))] = names
    return out


def offending(folder_or_file: Path, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    bad = {}
    for file, names in imports_of(folder_or_file).items():
        hits = sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))
        if hits:
            bad[file] = hits
    return bad


def fresh_python(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


LOADED = ("sorted({m.split('.')[0] if m == 'simpy' else '.'.join(m.split('.')[:2]) for m in sys.modules "
          "if m.startswith(('simdecode.costmodel', 'simdecode.engine', 'simdecode.workloads', "
          "'simdecode.analysis')) or m == 'simpy'})")


# ---- scenario: specs and validation, below the cost model ----------------------------------------

def test_the_scenario_package_imports_neither_cost_model_nor_engine_nor_workloads() -> None:
    assert offending(PACKAGE / "scenario", ("simdecode.costmodel", "simdecode.engine", "simdecode.workloads",
                                            "simdecode.analysis", "simpy")) == {}


def test_loading_every_curated_scenario_loads_no_cost_model_or_engine() -> None:
    """``import simdecode.scenario`` and then reading and validating every scenarios/*.yaml (trace
    files included) leave simdecode.costmodel, simdecode.engine and simpy out of sys.modules."""
    out = fresh_python(
        "import sys, glob, simdecode.scenario\n"
        f"print('import:', {LOADED})\n"
        "from simdecode.scenario.loader import load_scenario\n"
        "names = [load_scenario(p).name for p in sorted(glob.glob('scenarios/*.yaml'))]\n"
        f"print('loaded', len(names), 'scenarios:', {LOADED})\n")
    assert out.splitlines()[0] == "import: []"
    assert out.splitlines()[1].endswith("scenarios: []") and " 0 scenarios" not in out


# ---- cost model: pure physics, no simulation, no scenario types beyond the specs ------------------

def test_the_cost_model_imports_no_engine_analysis_or_simpy() -> None:
    assert offending(PACKAGE / "costmodel", ("simdecode.engine", "simdecode.analysis", "simdecode.result",
                                             "simpy", "simdecode.scenario.schema", "simdecode.scenario.loader")) \
        == {"simdecode/costmodel/speculative.py": ["simdecode.scenario.schema",
                                                   "simdecode.scenario.schema.AcceptanceHistogram",
                                                   "simdecode.scenario.schema.AcceptanceMean"]}


def test_the_cost_model_imports_nothing_of_presentation_or_files() -> None:
    assert offending(PACKAGE / "costmodel", ("simdecode.present", "simdecode.io", "simdecode.plots",
                                             "simdecode.cli", "matplotlib")) == {}


# ---- engine: never plots ------------------------------------------------------------------------

def test_the_engine_never_plots_or_analyses() -> None:
    assert offending(PACKAGE / "engine", ("matplotlib", "simdecode.plots", "simdecode.analysis",
                                          "simdecode.present", "simdecode.io", "simdecode.cli")) == {}


# ---- result: pure data, nothing of the engine ---------------------------------------------------

def test_the_result_module_imports_nothing_of_the_engine() -> None:
    assert offending(PACKAGE / "result.py", ("simdecode.engine", "simpy")) == {}
    assert fresh_python(f"import sys, simdecode.result\nprint({LOADED})") == "[]"


def test_a_pickled_result_names_no_engine_class() -> None:
    from simdecode import load_scenario, simulate

    data = pickle.dumps(simulate(load_scenario(ROOT / "scenarios" / "quickstart.yaml", ["workload.requests=2"])))
    assert b"simdecode.engine" not in data and b"simpy" not in data


@pytest.mark.parametrize("package", ["analysis", "metrics"])
def test_analyses_and_metrics_never_plot(package: str) -> None:
    assert offending(PACKAGE / package, ("matplotlib", "simdecode.plots")) == {}


def test_tp_schedules_are_a_leaf_and_their_names_live_only_there() -> None:
    """The schedules' package imports nothing else of simdecode; outside it no source file spells a
    schedule's name (except the docstrings that explain one)."""
    own = {n for names in imports_of(PACKAGE / "tp_schedules").values() for n in names}
    assert {n for n in own if n.startswith("simdecode") and not n.startswith("simdecode.tp_schedules")} == set()
    from simdecode import tp_schedules

    spelled = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "tp_schedules" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                      and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
        hits = sorted({n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and id(n) not in docstrings
                       and n.value in tp_schedules.names()})
        if hits:
            spelled[str(path.relative_to(ROOT))] = hits
    assert spelled == {}


# ---- the top level: the public API, the CLI and the shared basics only ---------------------------

def test_the_top_level_holds_the_api_the_cli_and_the_basics_only() -> None:
    """Everything else lives in the package of its layer (docs/architecture.md)."""
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == [
        "__init__.py", "__main__.py", "cli.py", "errors.py", "result.py", "units.py"]


# ---- io: files in and out, nothing of the engine ---------------------------------------------------

def test_io_imports_nothing_of_the_engine_cost_model_or_presentation() -> None:
    assert offending(PACKAGE / "io", ("simdecode.engine", "simdecode.costmodel", "simdecode.analysis",
                                      "simdecode.present", "simdecode.sweep", "simdecode.cli", "simpy")) == {}


@pytest.mark.parametrize("leaf", ["userfiles.py", "outfiles.py"])
def test_the_reader_and_the_writer_of_files_are_leaves(leaf: str) -> None:
    """The scenario loader reads through io/userfiles.py, so it may import nothing else of simdecode."""
    own = next(iter(imports_of(PACKAGE / "io" / leaf).values()))
    assert {n for n in own if n.startswith("simdecode")} == set()


def test_below_presentation_only_the_two_file_leaves_of_io_are_imported() -> None:
    """input, physics, simulation, data and analysis import from io/ only its reader and writer, and
    nothing of present/."""
    below = [PACKAGE / d for d in ("scenario", "tp_schedules", "presets", "costmodel", "schedulers", "workloads",
                                   "engine", "metrics", "analysis")] + [PACKAGE / "result.py"]
    bad = {}
    for folder in below:
        for file, names in imports_of(folder).items():
            hits = sorted(n for n in names if n.startswith(("simdecode.present", "simdecode.io"))
                          and not n.startswith(("simdecode.io.userfiles", "simdecode.io.outfiles"))
                          and n != "simdecode.io")
            if hits:
                bad[file] = hits
    assert bad == {}


# ---- present: words and tables, never the engine ---------------------------------------------------

def test_presentation_never_runs_the_engine() -> None:
    assert offending(PACKAGE / "present", ("simdecode.engine", "simpy")) == {}


def test_presentation_builds_no_deployment() -> None:
    """Deployments, plans and collectives are the cost model's objects: analysis/ builds them and
    hands present/ plain data (explain's speculative paragraph reads analysis.speculative's numbers,
    its all-reduce implementation comes from analysis.critical_path)."""
    assert offending(PACKAGE / "present", ("simdecode.costmodel.deployment", "simdecode.costmodel.plan",
                                           "simdecode.costmodel.collectives", "simdecode.costmodel.speculative",
                                           "simdecode.costmodel.allreduce_rules")) == {}


def test_explaining_a_scenario_loads_no_engine() -> None:
    """``explain`` (present/explain.py) of a curated scenario in a fresh interpreter leaves
    simdecode.engine and simpy out of sys.modules."""
    out = fresh_python(
        "import sys\n"
        "from simdecode import load_scenario\n"
        "from simdecode.present.explain import explain, render_explanation\n"
        "text = render_explanation(explain(load_scenario('scenarios/quickstart.yaml')))\n"
        "print(len(text) > 0, sorted(m for m in sys.modules if m.startswith('simdecode.engine') or m == 'simpy'))\n")
    assert out == "True []"


def test_building_the_command_line_loads_no_matplotlib_no_cost_model_and_no_simpy():
    """``simdecode --help`` and the parser every command builds first import what registering the
    subcommands needs, not what running them does (about half a CPU second per invocation)."""
    loaded = fresh_python("import sys; from simdecode.cli import build_parser; build_parser(); "
                          "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(('matplotlib', 'simpy'))} "
                          "| {'.'.join(m.split('.')[:2]) for m in sys.modules if m.startswith(('simdecode.costmodel', "
                          "'simdecode.plots.base', 'simdecode.estimate.core'))}))")
    assert loaded == "[]"


def test_the_plot_command_offers_every_sweep_figure():
    from simdecode.plots.choose import FIGURES
    from simdecode.plots.cli import FIGURE_NAMES

    assert FIGURE_NAMES == ("auto", *FIGURES, "gantt")


def test_the_plots_and_estimate_packages_still_export_their_names():
    import simdecode.estimate
    import simdecode.plots

    for package in (simdecode.plots, simdecode.estimate):
        for name in package.__all__:
            assert getattr(package, name) is not None, name
        with pytest.raises(AttributeError):
            package.no_such_name  # noqa: B018
