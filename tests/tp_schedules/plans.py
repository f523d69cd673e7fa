"""Helpers for the TP-schedule tests: a two-layer model's step plan, as who-waits-for-what."""

from __future__ import annotations

from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.plan import Stream, build_stage_plan
from simdecode.scenario.schema import Scenario


def deployment(tp_mode: str, tp: int = 2, layers: int = 2, **parallelism) -> Deployment:
    """Llama-3.2-1B cut to ``layers`` layers, ``tp`` GPUs of an H100 node, runtime ``default``
    (which shards the embedding by vocabulary: module 0 waits for ``embed.allreduce``)."""
    return Deployment.from_scenario(Scenario.model_validate({
        "model": {"preset": "llama-3.2-1b", "num_hidden_layers": layers},
        "hardware": {"gpu": "h100-sxm", "gpus_per_node": 8},
        "parallelism": {"tp": tp, "tp_mode": tp_mode, **parallelism},
    }))


def waits(tp_mode: str, tokens: int = 1, **parallelism) -> dict[str, set[str]]:
    """{compute op: the exchange ops it waits for} of stage 0's decode step of ``tokens`` sequences."""
    plan = build_stage_plan(deployment(tp_mode, **parallelism), 0, BatchShape.decode([100] * tokens))
    ops = plan.ops
    return {op.name: {ops[i].name for i in op.after if ops[i].stream is Stream.COMM}
            for op in ops if op.stream is Stream.COMPUTE}


def exchanges(tp_mode: str, **parallelism) -> list[str]:
    """The names of the exchange ops after modules, in plan order."""
    plan = build_stage_plan(deployment(tp_mode, **parallelism), 0, BatchShape.decode([100]))
    return [op.name for op in plan.ops if op.stream is Stream.COMM and op.name.startswith("L")]
