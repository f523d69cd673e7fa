"""Engine micro-tests of :mod:`simdecode.engine.executor`: a stage running one step plan.

- hand-made plans with dyadic op times: exact elapsed times for the list-scheduling rule, at
  every fidelity;
- real plans (``build_stage_plan``): ``layer`` and ``op`` agree with ``step`` (the fold) to
  rel 1e-9 when nothing contends (docs/architecture.md, "The step plan and its fold");
- links shared by two TP groups make their collectives queue; private NVSwitch ports do not.
"""

from __future__ import annotations

import math

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from simdecode import tp_schedules
from simdecode import simulate
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import (
    OpCost,
    OpSlot,
    PlanTemplate,
    StepPlan,
    Stream,
    build_stage_plan,
)
from simdecode.engine.executor import Stage, step_timing
from simdecode.engine.topology import Fabric, Link, Topology
from simdecode.scenario.schema import Scenario

C, X = Stream.COMPUTE, Stream.COMM
FIDELITIES = ("step", "layer", "op")


def scenario(**sections) -> Scenario:
    data = {"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"},
            "workload": {"requests": 2, "prompt_tokens": 16, "output_tokens": 4}}
    data.update(sections)
    return Scenario.model_validate(data)


DEP = Deployment.from_scenario(scenario())


def hand_plan(*ops: tuple[str, Stream, float, tuple[int, ...]]) -> StepPlan:
    """A plan from (name, stream, seconds, after) rows; each op is its own kind."""
    slots = tuple(OpSlot(name, 0, stream, name, after) for name, stream, _, after in ops)
    costs = {name: OpCost(time_s) for name, _, time_s, _ in ops}
    return StepPlan(0, BatchShape.decode([1]), PlanTemplate(0, 1, slots, frozenset(costs)), costs, 1)


def run_stages(env: simpy.Environment, stages: list[Stage], plan: StepPlan) -> list[float]:
    """Start one step of ``plan`` on every stage at t = 0; return each stage's elapsed time."""
    timing = step_timing(plan)
    procs = [env.process(stage.run(plan, timing)) for stage in stages]
    env.run()
    return [p.value for p in procs]


def private_stage(env, fidelity: str, replica: int = 0) -> Stage:
    return Stage(env, replica, 0, Fabric([], ()), fidelity, DEP)


def sharing_stages(env, fidelity: str) -> list[Stage]:
    """Two TP groups whose collectives both cross one shared link."""
    link = Link(env, DEP.link, "shared", 0)
    return [Stage(env, r, 0, Fabric([], (link,)), fidelity, DEP) for r in (0, 1)]


# megatron-like: compute, its all-reduce, the next compute waits for it
BLOCKING = hand_plan(
    ("c0", C, 1.0, ()),
    ("x0", X, 2.0, (0,)),
    ("c1", C, 1.0, (0, 1)),
)
# delayed-like: c1 does not wait for x0, c2 does; x1 queues behind x0 on the comm stream
OVERLAPPED = hand_plan(
    ("c0", C, 1.0, ()),
    ("x0", X, 2.0, (0,)),
    ("c1", C, 1.0, (0,)),
    ("x1", X, 2.0, (2,)),
    ("c2", C, 1.0, (1, 2)),
)


# ---- hand-made plans: the scheduling rule, exactly --------------------------------------

@pytest.mark.parametrize("fidelity", FIDELITIES)
@pytest.mark.parametrize(("plan", "expected"), [
    (BLOCKING, 4.0),    # c0 0-1, x0 1-3, c1 3-4
    (OVERLAPPED, 5.0),  # c0 0-1, x0 1-3, c1 1-2, x1 3-5, c2 3-4; the step ends with x1 at 5
])
def test_hand_plan_elapsed_is_exact(plan, expected, fidelity):
    env = simpy.Environment()
    assert fold(plan).makespan_s == expected
    assert run_stages(env, [private_stage(env, fidelity)], plan) == [expected]
    assert env.now == expected


def test_fold_accounts_exposed_communication():
    t = fold(BLOCKING)
    assert (t.makespan_s, t.compute_s, t.comm_s, t.exposed_comm_s) == (4.0, 2.0, 2.0, 2.0)
    t = fold(OVERLAPPED)
    assert (t.makespan_s, t.compute_s, t.comm_s, t.exposed_comm_s) == (5.0, 3.0, 4.0, 2.0)


@pytest.mark.parametrize("fidelity", FIDELITIES)
def test_a_stage_runs_one_step_at_a_time(fidelity):
    """Two micro-batches on one stage queue: the second starts when the first ends."""
    env = simpy.Environment()
    stage = private_stage(env, fidelity)
    timing = step_timing(BLOCKING)
    ends = []

    def step():
        elapsed = yield from stage.run(BLOCKING, timing)
        ends.append((env.now, elapsed))

    env.process(step())
    env.process(step())
    env.run()
    assert ends == [(4.0, 4.0), (8.0, 4.0)]  # elapsed excludes the wait for the stage
    assert stage.busy_s == 8.0 and stage.contention_s == 0.0


@pytest.mark.parametrize("fidelity", ["layer", "op"])
def test_a_shared_link_queues_collectives_of_two_groups_exactly(fidelity):
    env = simpy.Environment()
    stages = sharing_stages(env, fidelity)
    # both c0 at 0-1; x0 of group 0 at 1-3, of group 1 at 3-5 (link busy); c1 at 3-4 and 5-6
    assert run_stages(env, stages, BLOCKING) == [4.0, 6.0]
    assert [s.contention_s for s in stages] == [0.0, 2.0]
    assert stages[0].fabric.shared[0].busy_s == 4.0


def test_private_fabrics_do_not_queue_collectives_of_two_groups():
    env = simpy.Environment()
    stages = [private_stage(env, "layer", 0), private_stage(env, "layer", 1)]
    assert run_stages(env, stages, BLOCKING) == [4.0, 4.0]


def test_step_fidelity_ignores_shared_links():
    env = simpy.Environment()
    assert run_stages(env, sharing_stages(env, "step"), BLOCKING) == [4.0, 4.0]


# ---- real plans ---------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(
    model=st.sampled_from(["llama-3.2-1b", "llama-2-7b"]),
    tp=st.sampled_from([1, 2, 4, 8]),
    pp=st.sampled_from([1, 2]),
    tp_mode=st.sampled_from(list(tp_schedules.names())),
    tp_delay=st.integers(min_value=0, max_value=3),
    allreduce=st.sampled_from(["auto", "ring", "tree", "one-shot", "two-shot"]),
    batch=st.integers(min_value=1, max_value=16),
    context=st.integers(min_value=1, max_value=4096),
    data=st.data(),
)
def test_every_fidelity_agrees_with_the_fold_on_one_plan(model, tp, pp, tp_mode, tp_delay, allreduce, batch,
                                                        context, data):
    s = scenario(model=model, hardware={"gpu": "h100-sxm", "nodes": 2},
                 parallelism={"tp": tp, "pp": pp, "tp_mode": tp_mode, "tp_delay": tp_delay, "allreduce": allreduce})
    dep = Deployment.from_scenario(s)
    stage_index = data.draw(st.integers(min_value=0, max_value=pp - 1))
    plan = build_stage_plan(dep, stage_index, BatchShape.decode([context] * batch))
    timing = step_timing(plan)
    hw = s.hardware
    elapsed = {}
    for fidelity in FIDELITIES:
        env = simpy.Environment()
        topo = Topology(env, link=dep.link, inter_link=hw.inter_node_link, gpus_per_node=hw.gpus_per_node,
                        nics_per_node=hw.nics_per_node, pcie_switches=hw.pcie_switches, tp=tp, pp=pp, dp=1)
        stage = Stage(env, 0, stage_index, topo.fabric(0, stage_index), fidelity, dep)
        (elapsed[fidelity],) = run_stages(env, [stage], plan)
        assert stage.contention_s == 0.0
    assert elapsed["step"] == timing.makespan_s
    assert math.isclose(elapsed["layer"], timing.makespan_s, rel_tol=1e-9)
    assert math.isclose(elapsed["op"], timing.makespan_s, rel_tol=1e-9)


def test_shared_host_path_contention_shows_in_a_simulation():
    """8x RTX 4090 without peer-to-peer as 2 replicas of tp 4: both groups' all-reduces cross the
    node's host path, so they queue at fidelity layer and op; NVSwitch groups never do. (A TP group
    that would straddle two nodes, and so share a NIC with another group, is refused.)"""
    def contention(gpu, fidelity):
        s = scenario(hardware={"gpu": gpu}, parallelism={"tp": 4, "dp": 2},
                     simulation={"fidelity": fidelity},
                     workload={"arrival": {"kind": "closed", "concurrency": 2}, "requests": 2,
                               "prompt_tokens": 16, "output_tokens": 4})
        result = simulate(s)
        assert {r.replica for r in result.requests} == {0, 1}
        return result.gpu.contention_s

    assert contention("rtx-4090", "layer") > 0
    assert contention("rtx-4090", "op") > 0
    assert contention("rtx-4090", "step") == 0  # step fidelity has no contention inside a step
    assert contention("h100-sxm", "layer") == 0  # NVSwitch: every group has its own ports
    assert contention("h100-sxm", "op") == 0
    with pytest.raises(ValidationError, match="straddle"):
        scenario(hardware={"gpu": "h100-pcie", "gpus_per_node": 5, "nodes": 3}, parallelism={"tp": 4, "dp": 3})


def test_groups_crossing_pcie_switches_contend_for_the_root_complex():
    """8 PCIe GPUs behind 4 switches (2 each) as 2 replicas of tp 4: each ring crosses between
    switches through the CPU's root complex, which both replicas share; behind 2 switches
    (4 GPUs each) each group stays inside its switch and nothing is shared."""
    def tpot(fidelity: str, switches: int) -> float:
        s = scenario(hardware={"gpu": "h100-pcie", "pcie_switches": switches}, parallelism={"tp": 4, "dp": 2},
                     simulation={"fidelity": fidelity},
                     workload={"arrival": {"kind": "closed", "concurrency": 2}, "requests": 2,
                               "prompt_tokens": 16, "output_tokens": 4})
        return simulate(s).summary()["tpot_ms"]["mean"]

    assert tpot("layer", 4) > tpot("step", 4) * (1 + 1e-6)
    assert tpot("layer", 2) == pytest.approx(tpot("step", 2), rel=1e-9)
