"""TP schedules are data: every name is read from simdecode.tp_schedules, and adding a schedule is
adding its module (and its test), nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import typing
from pathlib import Path

import pytest

from simdecode import load_scenario, simulate, tp_schedules
from simdecode.costmodel.plan import CHANGES_MODEL
from simdecode.present.reference import scenario_reference_markdown
from simdecode.scenario.schema import ParallelismSpec

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"


def test_the_schema_the_plan_and_the_docs_read_the_registry():
    names = tp_schedules.names()
    assert names[:2] == ("megatron", "parallel-block") and len(names) == len(set(names)) >= 5
    assert typing.get_args(ParallelismSpec.model_fields["tp_mode"].annotation) == names
    assert CHANGES_MODEL == {n for n, s in tp_schedules.schedules().items() if not s.exact}
    reference = scenario_reference_markdown()
    assert all(f"| `{n}` |" in reference for n in names)
    with pytest.raises(ValueError, match="expected one of megatron"):
        tp_schedules.get("megatronn")


@pytest.mark.parametrize("name", tp_schedules.names())
def test_every_schedule_simulates_and_explains(name):
    from simdecode.present.explain import explain

    s = load_scenario(QUICKSTART, ["hardware.gpus_per_node=2", "parallelism.tp=2", f"parallelism.tp_mode={name}",
                                   "workload.requests=1", "workload.output_tokens=3", "simulation.fidelity=step"])
    assert simulate(s).summary()["requests"]["completed"] == 1
    assert explain(s)["setup"]["tp_mode"] == name


TOY = '''
"""A toy schedule for the test: only attention modules all-reduce."""
from simdecode.tp_schedules import TpSchedule


class AttentionOnly(TpSchedule):
    def exchanges(self, part, g, total, delta, start):
        return part == "attn"


SCHEDULE = AttentionOnly(name="toy-attention-only", order=99, exact=False, summary="only attention all-reduces")
'''


def test_adding_a_schedule_is_adding_its_module(tmp_path: Path) -> None:
    """A module dropped into the package's search path (here a temporary folder, so the source tree
    stays untouched) is a schedule everywhere: the scenario accepts it, the plan follows its rules,
    simulate and explain run it, the generated reference lists it."""
    (tmp_path / "toy.py").write_text(TOY, encoding="utf-8")
    code = textwrap.dedent(f"""
        import simdecode.tp_schedules as t
        t.__path__.append({str(tmp_path)!r})  # as if toy.py were in simdecode/tp_schedules/
        from simdecode import load_scenario, simulate
        from simdecode.costmodel.deployment import Deployment
        from simdecode.costmodel.batch import BatchShape
        from simdecode.costmodel.plan import CHANGES_MODEL, Stream, build_stage_plan
        from simdecode.present.explain import explain
        from simdecode.present.reference import scenario_reference_markdown
        s = load_scenario({str(QUICKSTART)!r}, ["hardware.gpus_per_node=2", "parallelism.tp=2",
                          "parallelism.tp_mode=toy-attention-only", "workload.requests=1", "workload.output_tokens=3"])
        plan = build_stage_plan(Deployment.from_scenario(s), 0, BatchShape.decode([10]))
        comm = [op.name for op in plan.ops if op.stream is Stream.COMM and op.name.startswith("L")]
        print(len(comm), all(".attn." in n for n in comm), s.model.num_hidden_layers)
        print(simulate(s).summary()["requests"]["completed"], explain(s)["setup"]["tp_mode"])
        print("toy-attention-only" in CHANGES_MODEL, "| `toy-attention-only` | no" in scenario_reference_markdown())
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["32 True 32", "1 toy-attention-only", "True True"]
