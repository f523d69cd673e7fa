"""An overlap scheduler that returns a step's tokens after launching the next (engine/emission.py).

- the formula with hand-computed numbers;
- which engines do it (SGLang and TensorRT-LLM's PyTorch backend, with their overlap scheduler on);
- a simulation: two prompts prefilled one per step, eagerly, by TensorRT-LLM's PyTorch backend.
  The first prompt's token waits for the second prefill's whole host dispatch; the second one's
  only for the graphed decode step after it.
"""

from __future__ import annotations

import pytest

from simdecode import simulate
from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.plan import build_stage_plan
from simdecode.engine import emission
from simdecode.scenario.schema import Scenario


def test_two_eager_prefills_in_a_row_hand_computed():
    # each prefill host-bound at 59.1 ms (DeepSeek-V3 under trtllm-serve): 0 + 59.1 + 59.1 ms
    assert emission.emitted_s(0.0, 59.1e-3, 59.1e-3, 59.1e-3) == pytest.approx(118.2e-3, rel=1e-12)


def test_after_a_graphed_decode_step_nothing_waits():
    # a 14 ms decode step whose host work (0.1 ms) and the next one's (0.1 ms) end long before it
    assert emission.emitted_s(2.0, 2.014, 1e-4, 1e-4) == 2.014


def test_a_gpu_bound_prefill_hides_the_next_dispatch():
    # an 8k prefill: 276 ms on the GPU, 59.1 ms of host, then a 59.1 ms eager step: 118.2 < 276
    assert emission.emitted_s(0.0, 0.276, 59.1e-3, 59.1e-3) == 0.276


def test_host_seconds_of_a_step():
    assert emission.step_host_s(0.0591, 1e-4) == 0.0591  # eager: its dispatch floor
    assert emission.step_host_s(0.0, 1e-4) == 1e-4  # graphed: the per-step host work


@pytest.mark.parametrize("engine, overlap, expected", [
    ("sglang", True, True), ("trt-llm", True, True), ("sglang", False, False), ("trt-llm", False, False),
    ("vllm", True, False), ("generic", True, False)])
def test_which_engines_return_results_after_the_next_launch(engine, overlap, expected):
    assert emission.delays_results(engine, overlap) is expected


def _scenario() -> Scenario:
    # trtllm-serve: no prefill step is graphed; one 512-token prompt per step (no chunking, 600 tokens)
    return Scenario.model_validate({
        "model": "llama-3.2-1b", "hardware": {"gpu": "h100-sxm"}, "runtime": "trtllm-serve",
        "scheduler": {"overlap": True, "max_batched_tokens": 600, "chunked_prefill": False},
        "workload": {"arrival": {"kind": "closed", "concurrency": 2}, "requests": 2, "prompt_tokens": 512, "output_tokens": 4}})


def test_first_prompt_waits_for_the_second_prefills_dispatch(monkeypatch):
    scenario = _scenario()
    dep = Deployment.from_scenario(scenario)
    first = build_stage_plan(dep, 0, BatchShape.mixed([(0, 512, True)], None))
    assert first.host_floor_s > 0  # eager
    delayed = {r.id: r.first_token_s for r in simulate(scenario).requests}
    monkeypatch.setattr(emission, "RESULTS_AFTER_NEXT_LAUNCH", frozenset())
    plain = {r.id: r.first_token_s for r in simulate(scenario).requests}
    # both steps host-bound (a 1B model's 512 tokens take the GPU far less than their dispatch):
    # the second prefill's host floor, the same number of kernels as the first's
    assert delayed[0] - plain[0] == pytest.approx(first.host_floor_s, rel=1e-6)
    # the step after the second prefill is a graphed decode step: only its host work
    assert delayed[1] - plain[1] == pytest.approx(dep.runtime.step_overhead_s, rel=1e-6)
