"""Per-user decode speed of one configuration, from the same step plans ``simdecode run`` executes.

The configuration is an :class:`~simdecode.estimate.space.Assumptions` plus a model. Its
*equivalent scenario* (:func:`Evaluator.scenario_dict`) is a closed loop of ``batch`` requests
that arrive together, each with ``context`` prompt tokens and ``output_tokens`` output tokens,
on one replica of ``tp`` GPUs. In that scenario every request prefills in the first step and
then the ``batch`` sequences decode in lock-step: decode step i (i = 0 .. N-2) runs ``batch``
sequences of ``context + i`` cached tokens each. ``run`` reports per_request_tps = (N - 1) / (c_r
- f_r), the mean over those N - 1 steps; at step fidelity each step lasts the critical-path fold
of its plan (:func:`simdecode.costmodel.fold.fold`), which every fidelity reproduces when nothing
contends. So

    tps = (N - 1) / sum_{c = P}^{P + N - 2} T(batch, c)

with T the fold's makespan: the same number ``run`` prints, without the event loop (a test checks
it). T is convex in c (each op's roofline time is a max of affine functions of the context, and
the fold composes them with + and max), so the sum is exact from a few folds: where T is affine
on a range its midpoint lies on the chord and the sum is (n terms) x (mean of the ends);
elsewhere the range is halved.

With MTP speculation (k proposals, acceptance a_1..a_k per position) each step runs k draft passes
of the MTP module and one verify pass of k + 1 positions per sequence, and yields
E = 1 + a_1 + a_1 a_2 + ... + a_1...a_k tokens on average (simdecode.costmodel.speculative; for
an i.i.d. a, (1 - a^(k+1)) / (1 - a)), so tps = E (N - 1) / sum_c T_spec(c): the expectation of
what ``run`` samples. Without a stated acceptance both use the same per-position default
(:func:`simdecode.costmodel.speculative.default_acceptance`): the equivalent scenario leaves the
acceptance out, so ``run`` falls back on it too.

Memory: a configuration fits when the KV cache left after the weights and the activation
workspace (the engine's own :func:`~simdecode.engine.simulation.kv_capacity_blocks`) holds every
sequence's prompt and output, so ``run`` never preempts.
"""

from __future__ import annotations

from dataclasses import replace

from simdecode.costmodel.batch import BatchShape
from simdecode.costmodel.deployment import Deployment
from simdecode.costmodel.fold import fold
from simdecode.costmodel.plan import build_stage_plan
from simdecode.costmodel.deployment import draft_deployment, draft_passes
from simdecode.estimate.space import Assumptions, Hardware
from simdecode.scenario.model import ModelSpec
from simdecode.scenario.engines import engine_defaults
from simdecode.scenario.schema import (DecodingSpec, ParallelismSpec, PrecisionSpec, Scenario, SchedulerSpec,
                                       WorkloadSpec)

#: sequences one replica batches at most (the scheduler's default max_batch_size)
MAX_BATCH = engine_defaults("generic", "", 0.0).max_batch_size  # the generic engine's sequences per step


def _prefill_budget(a: Assumptions) -> int:
    """Tokens per step: every prompt prefills in the first step (the schema's limit allowing), so
    the sequences then decode in lock-step."""
    return min(10_000_000, max(8192, a.batch * a.context))


def convex_sum(f, a: int, b: int, cache: dict[int, float]) -> float:
    """sum_{c=a}^{b} f(c) for f convex in c, exactly where f is piecewise affine (see the
    module docstring); ``cache`` keeps the values already computed."""
    def value(c: int) -> float:
        if c not in cache:
            cache[c] = f(c)
        return cache[c]

    if b < a:
        return 0.0
    if b - a <= 1:
        return value(a) + (value(b) if b > a else 0.0)
    fa, fb = value(a), value(b)
    m = (a + b) // 2
    chord = fa + (fb - fa) * (m - a) / (b - a)
    if abs(value(m) - chord) <= 1e-12 * max(abs(chord), 1e-300):
        return (b - a + 1) * (fa + fb) / 2.0
    return convex_sum(f, a, m, cache) + convex_sum(f, m + 1, b, cache)


class Evaluator:
    """Speeds and memory checks of configurations, with every plan and deployment cached.

    ``output_tokens``: N, the output length of the equivalent scenario (the contexts decoded run
    from the prompt to prompt + N - 2).
    """

    def __init__(self, output_tokens: int = 512):
        self.output_tokens = output_tokens
        self._bases: dict[tuple, Scenario] = {}
        self._deps: dict[tuple, tuple[Scenario, Deployment, Deployment | None]] = {}
        self._tps: dict[tuple, float] = {}
        self._templates: dict[tuple, dict] = {}  # plan templates, shared by deployments of one shape
        self._capacity: dict[tuple, int] = {}
        self._steps: dict[tuple, dict[int, float]] = {}
        self.evaluations = 0  # distinct (configuration, model) speeds computed
        self.folds = 0

    # ---- scenarios ------------------------------------------------------------------------
    def base(self, hardware: Hardware, runtime: str) -> Scenario:
        """A validated scenario on ``hardware`` with ``runtime`` (its model is replaced later)."""
        key = (hardware, runtime)
        if key not in self._bases:
            hw = {"gpu": hardware.gpu, "gpus_per_node": hardware.gpus}
            if hardware.link:
                hw["intra_node_link"] = hardware.link
            self._bases[key] = Scenario.model_validate(
                {"name": "estimate", "model": "llama-3.2-1b", "hardware": hw, "runtime": runtime,
                 "simulation": {"fidelity": "step"}})
        return self._bases[key]

    def scenario(self, a: Assumptions, model: ModelSpec) -> Scenario:
        """The equivalent scenario as a Scenario object (not re-validated: the search builds
        thousands; :meth:`scenario_dict` gives the same as a mapping ``run`` validates)."""
        base = self.base(a.hardware, a.runtime)
        decoding = (DecodingSpec(method="mtp", speculative_tokens=a.speculation.tokens,
                                 acceptance=a.speculation.acceptance)
                    if a.speculation.enabled else DecodingSpec())
        return base.model_copy(update={
            "name": f"estimate {model.name}",
            "model": model,
            "precision": PrecisionSpec(weights=a.precision, kv_cache=a.kv_dtype),
            "parallelism": ParallelismSpec(tp=a.tp, dp=1),
            "decoding": decoding,
            "workload": WorkloadSpec(arrival={"kind": "closed", "concurrency": a.batch}, requests=a.batch,
                                     prompt_tokens=a.context, output_tokens=self.output_tokens),
            # the base's scheduler carries the runtime's engine defaults (block size, memory
            # fraction, admission); only the step limits change
            "scheduler": base.scheduler.model_copy(update={"max_batch_size": max(MAX_BATCH, a.batch),
                                                           "max_batched_tokens": _prefill_budget(a)}),
        })

    def scenario_dict(self, a: Assumptions, model: ModelSpec) -> dict:
        """The equivalent scenario as a plain mapping: ``simdecode run`` on it (after dumping it
        to YAML) reports the per-user speed :meth:`tps` predicts."""
        model_keys = model.model_dump(exclude_defaults=True)
        model_keys.setdefault("num_nextn_predict_layers", model.num_nextn_predict_layers)
        hw = {"gpu": a.hardware.gpu, "gpus_per_node": a.hardware.gpus}
        if a.hardware.link:
            hw["intra_node_link"] = a.hardware.link
        out = {
            "name": f"estimate-{model.name}",
            "seed": 0,
            "model": model_keys,
            "precision": {"weights": a.precision, "kv_cache": a.kv_dtype},
            "hardware": hw,
            "runtime": a.runtime,
            "parallelism": {"tp": a.tp},
            "workload": {"arrival": {"kind": "closed", "concurrency": a.batch}, "requests": a.batch,
                         "prompt_tokens": a.context, "output_tokens": self.output_tokens},
            "scheduler": {"max_batch_size": max(MAX_BATCH, a.batch),
                          "max_batched_tokens": _prefill_budget(a)},
            "simulation": {"fidelity": "step"},
        }
        if a.speculation.enabled:
            out["decoding"] = {"method": "mtp", "speculative_tokens": a.speculation.tokens}
            if a.speculation.acceptance is not None:  # else run's default, as here
                out["decoding"]["acceptance"] = a.speculation.acceptance
        return out

    def _deployments(self, a: Assumptions, model: ModelSpec):
        key = (a.hardware, a.runtime, a.precision, a.tp, a.speculation, model)
        hit = self._deps.get(key)
        if hit is None:
            scn = self.scenario(a, model)
            dep = self._share_templates(Deployment.from_scenario(scn), a, model)
            draft = None
            if a.speculation.enabled:  # the MTP passes (costmodel/mtp.py), templates shared like the target's
                module = draft_deployment(scn)
                draft = draft_passes(scn, replace(module, templates={}))
                shared = self._templates.setdefault((module.model, a.tp, a.runtime, "mtp passes"), {})
                draft = tuple(replace(p, dep=replace(p.dep, templates=shared)) for p in draft)
            hit = self._deps[key] = (scn, dep, draft)
        return hit

    def _share_templates(self, dep: Deployment, a: Assumptions, model: ModelSpec) -> Deployment:
        """``dep`` with a plan-template cache shared by every deployment whose templates are the
        same: templates depend on the model's layers, tp and the runtime (vocab-parallel head,
        host step), not on the GPU or the precision."""
        key = (model, a.tp, a.runtime, dep.runtime.step_overhead_s > 0)
        return replace(dep, templates=self._templates.setdefault(key, {}))

    # ---- memory -----------------------------------------------------------------------------
    def capacity_sequences(self, a: Assumptions, model: ModelSpec) -> int:
        """Sequences of ``context + output_tokens`` tokens the replica's KV cache holds once the
        weights and workspace are in (0: the weights alone do not fit)."""
        from simdecode.engine.simulation import kv_capacity_blocks

        scn, dep, _ = self._deployments(a, model)
        block = scn.scheduler.kv_block_tokens
        per_seq = -(-(a.context + self.output_tokens) // block)
        # the engine's activation workspace grows with its batch and token budget: the batch and
        # context belong in the key
        key = (a.hardware, a.runtime, a.precision, a.tp, a.batch, a.context, model)
        if key not in self._capacity:
            self._capacity[key] = kv_capacity_blocks(scn, dep)
        return self._capacity[key] // per_seq

    def fits(self, a: Assumptions, model: ModelSpec) -> bool:
        """Every one of the ``batch`` sequences fits in the KV cache for its whole length."""
        return self.capacity_sequences(a, model) >= a.batch

    # ---- speed ------------------------------------------------------------------------------
    def step_seconds(self, a: Assumptions, model: ModelSpec, context: int) -> float:
        """One decode step of ``batch`` sequences of ``context`` cached tokens (with speculation:
        the draft passes plus the verify pass), seconds."""
        _, dep, draft = self._deployments(a, model)
        b = a.batch
        self.folds += 1
        if draft is None:
            return fold(build_stage_plan(dep, 0, BatchShape.decode([context] * b, dep.window))).makespan_s
        k = a.speculation.tokens
        seconds = fold(build_stage_plan(dep, 0, BatchShape.mixed([(context, k + 1, k + 1)] * b, dep.window))).makespan_s
        for level, p in enumerate(draft):
            shape = BatchShape.mixed([(context + level, p.tokens, p.logits)] * b, p.dep.window)
            seconds += fold(build_stage_plan(p.dep, 0, shape)).makespan_s
        self.folds += k
        return seconds

    def tps(self, a: Assumptions, model: ModelSpec) -> float:
        """Per-user decode tokens/s (see the module docstring); the model must :meth:`fit`."""
        key = (a, model)
        hit = self._tps.get(key)
        if hit is not None:
            return hit
        self.evaluations += 1
        first = a.context
        last = a.context + self.output_tokens - 2
        steps = self._steps.setdefault(key, {})
        total_s = convex_sum(lambda c: self.step_seconds(a, model, c), first, last, steps)
        tokens = float(self.output_tokens - 1)
        tokens *= a.speculation.mean_tokens
        value = self._tps[key] = tokens / total_s
        return value
