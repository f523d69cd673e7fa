"""Events only where something can contend (issue 15, parts 2 and 3).

- a layer-fidelity step on links no other group holds is one event, and gives the step
  fidelity's numbers exactly; where a link is shared it is still expanded (and contends);
- at op fidelity a private ring all-reduce is one event; shared, it is its transfers;
- when and on which links each collective of a one-event step ran is still known
  (``Stage.private_collectives``) and the trace shows the step's ops as they would have run;
- the event count is SimPy's own counter; the garbage collector is paused during a run only.
"""

from __future__ import annotations

import gc

import simpy

from simdecode import simulate
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import timeline
from simdecode.costmodel.plan import Stream, build_stage_plan
from simdecode.engine.executor import Stage, step_timing
from simdecode.engine.simulation import collector_paused, events_scheduled
from simdecode.engine.topology import Fabric, Link
from simdecode.metrics.trace import Tracer
from simdecode.scenario.schema import Scenario


def scenario(fidelity: str, **sections) -> Scenario:
    data = {"model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm", "gpus_per_node": 8},
            "parallelism": {"tp": 4}, "seed": 3,
            "workload": {"arrival": {"kind": "poisson", "rate": "20/s"}, "requests": 12,
                         "prompt_tokens": 100, "output_tokens": 6},
            "simulation": {"fidelity": fidelity}}
    data.update(sections)
    return Scenario.model_validate(data)


def test_private_layer_step_is_one_event_and_equals_step_fidelity() -> None:
    step, layer = simulate(scenario("step")), simulate(scenario("layer"))
    assert layer.events == step.events  # one event a step, like step fidelity
    assert layer.requests == step.requests  # every time, exactly
    assert layer.gpu == step.gpu


def test_shared_links_are_still_expanded_at_layer_fidelity() -> None:
    """Two tp 4 groups on one PCIe node of 4 switches share the root complex: their layer steps
    are module by module, with a collective holding the shared link."""
    shared = {"hardware": {"gpu": "h100-pcie", "gpus_per_node": 8, "pcie_switches": 4},
              "parallelism": {"tp": 4, "dp": 2}}
    step, layer = simulate(scenario("step", **shared)), simulate(scenario("layer", **shared))
    steps = layer.gpu.steps
    assert layer.events > 10 * steps  # far more than one event per step
    assert step.events < 2 * steps


def test_op_fidelity_private_ring_is_one_event_per_collective() -> None:
    dep = Deployment.from_scenario(scenario("op", parallelism={"tp": 8, "allreduce": "ring"}))
    plan = build_stage_plan(dep, 0, BatchShape.decode([64, 64]))
    timing = step_timing(plan)
    counts = {}
    for fabric_name, fabric in (("private", None), ("shared", "x")):
        env = simpy.Environment()
        ring_links = [[Link(env, dep.link, f"l{i}", i)] for i in range(8)]
        shared = (ring_links[0][0],) if fabric else ()
        stage = Stage(env, 0, 0, Fabric(ring_links, shared), "op", dep)
        proc = env.process(stage.run(plan, timing))
        env.run()
        assert abs(proc.value - timing.makespan_s) <= 1e-9 * timing.makespan_s
        counts[fabric_name] = events_scheduled(env)
    collectives = sum(1 for slot in plan.template.slots if slot.stream is Stream.COMM)
    assert counts["private"] <= 5 * len(plan.template.slots)  # a few events per op (start, wait, timeout, end)
    assert counts["shared"] > counts["private"] + collectives * 14 * 8  # 2(p-1) rounds of p transfers each


def test_private_collectives_follow_the_fold_without_events() -> None:
    dep = Deployment.from_scenario(scenario("layer"))
    plan = build_stage_plan(dep, 0, BatchShape.decode([300, 10]))
    env = simpy.Environment()
    links = [[Link(env, dep.link, f"port{i}", i)] for i in range(4)]
    stage = Stage(env, 0, 0, Fabric(links, ()), "layer", dep)
    spans = list(stage.private_collectives(plan, 5.0))
    expected = [(i, 5.0 + b, 5.0 + e) for i, b, e in timeline(plan) if plan.template.slots[i].stream is Stream.COMM]
    assert len(spans) == len(expected) == sum(1 for s in plan.template.slots if s.stream is Stream.COMM) > 0
    for (slot, start, end, on), (i, b, e) in zip(spans, expected):
        assert slot is plan.template.slots[i] and (start, end) == (b, e)
        assert on == [link for path in links for link in path]


def test_layer_trace_of_a_one_event_step_shows_real_not_synthetic_ops() -> None:
    tracer = Tracer()
    simulate(scenario("layer", workload={"requests": 1, "prompt_tokens": 8, "output_tokens": 2}), tracer=tracer)
    ops = [e for e in tracer.events if e.get("ph") == "X" and e["name"].startswith("L0.")]
    assert ops and not any(e.get("args", {}).get("synthetic") for e in ops)
    assert any(e["name"].endswith("allreduce") for e in ops)  # collectives drawn on the comm stream


def test_event_count_is_simpys_own_counter() -> None:
    env = simpy.Environment()

    def proc():
        for _ in range(5):
            yield env.timeout(1)

    env.process(proc())
    env.run()
    assert events_scheduled(env) == 1 + 5 + 1  # the start, five timeouts, the process's end


def test_collector_paused_during_the_run_only() -> None:
    was = gc.isenabled()
    gc.enable()
    try:
        with collector_paused():
            assert not gc.isenabled()
            assert gc.get_freeze_count() > 0
        assert gc.isenabled() and gc.get_freeze_count() == 0
        gc.disable()
        with collector_paused():  # a caller that had it off keeps it off
            pass
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
