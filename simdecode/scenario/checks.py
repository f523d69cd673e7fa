"""Cross-field checks of a scenario: rules that tie sections together.

Raised as :class:`CheckError` (a ValueError carrying the offending key path) from inside the
Scenario validator, so they reach the user like any other validation error: the file, the line
of that key, what was expected. Only rules about what the file says live here; whether the model
fits the GPUs' memory is physics, checked where the scenario becomes a deployment
(:mod:`simdecode.costmodel.feasibility`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simdecode import tp_schedules
from simdecode.scenario.limits import MAX_TOTAL_TOKENS

if TYPE_CHECKING:
    from simdecode.scenario.schema import Scenario


class CheckError(ValueError):
    """A rule across keys was broken; ``key_path`` names the key to change."""

    def __init__(self, key_path: str, message: str):
        super().__init__(message)
        self.key_path = key_path


def check_scenario(s: Scenario) -> None:
    """Raise :class:`CheckError` for the first broken rule (see the module docstring)."""
    m, par, hw = s.model, s.parallelism, s.hardware
    heads, kv = m.num_attention_heads, m.kv_heads
    if heads % par.tp:
        valid = [t for t in range(1, min(heads, 64) + 1) if heads % t == 0 and (m.uses_mla or kv % t == 0 or t % kv == 0)]
        raise CheckError(
            "parallelism.tp",
            f"tp = {par.tp} must divide the model's {heads} attention heads: one of {valid}",
        )
    if m.has_compressed_attention and m.o_groups % par.tp:  # DeepSeek-V4: whole output groups per rank
        valid = [t for t in range(1, m.o_groups + 1) if m.o_groups % t == 0 and heads % t == 0]
        raise CheckError("parallelism.tp", f"tp = {par.tp} must divide the model's {m.o_groups} output-projection "
                         f"groups (o_groups; each rank holds whole groups, as vLLM's DeepSeek-V4): one of {valid}")
    if not m.uses_mla and kv % par.tp and par.tp % kv:
        raise CheckError(
            "parallelism.tp", f"tp = {par.tp} and the model's {kv} KV heads must divide one another"
        )
    if par.pp > m.num_hidden_layers:
        raise CheckError("parallelism.pp", f"pp = {par.pp} exceeds the model's {m.num_hidden_layers} layers")
    if par.tp < hw.gpus_per_node and hw.gpus_per_node % par.tp and _tp_group_straddles(par.tp, par.tp * par.pp * par.dp,
                                                                                      hw.gpus_per_node):
        raise CheckError(
            "parallelism.tp",
            f"tp = {par.tp} must divide gpus_per_node = {hw.gpus_per_node}, or some TP group would straddle two nodes",
        )
    if par.tp > hw.gpus_per_node and par.tp % hw.gpus_per_node:
        raise CheckError(
            "parallelism.tp",
            f"a TP group larger than a node must span whole nodes: tp = {par.tp} with {hw.gpus_per_node} GPUs per node",
        )
    needed = par.tp * par.pp * par.dp
    if needed > hw.total_gpus:
        raise CheckError(
            "parallelism",
            f"tp x pp x dp = {par.tp} x {par.pp} x {par.dp} = {needed} GPUs, but the hardware has "
            f"{hw.gpus_per_node} x {hw.nodes} = {hw.total_gpus}",
        )
    if par.ep > 1:
        if not m.is_moe:
            raise CheckError("parallelism.ep", f"ep = {par.ep} needs a mixture-of-experts model; {m.name} is dense")
        if par.tp % par.ep:
            raise CheckError("parallelism.ep", f"ep = {par.ep} must divide tp = {par.tp} (the experts are spread "
                             "over the GPUs of the TP group)")
        if m.num_local_experts % par.ep:
            raise CheckError("parallelism.ep", f"ep = {par.ep} must divide the model's {m.num_local_experts} experts")
        if not tp_schedules.get(par.tp_mode).expert_parallel:
            able = [name for name, sch in tp_schedules.schedules().items() if sch.expert_parallel]
            raise CheckError("parallelism.ep", f"expert parallelism is modelled with tp_mode {' or '.join(able)}, "
                             f"not {par.tp_mode!r}")
    if par.attention_dp:
        _check_attention_dp(s)
    elif s.scheduler.adp_balance_iters:
        raise CheckError("scheduler.adp_balance_iters", "adp_balance_iters balances prefills over attention-DP "
                         "ranks: it needs parallelism.attention_dp: true")
    if par.allreduce in ("one-shot", "two-shot", "nvls") and par.tp > hw.gpus_per_node:
        raise CheckError(
            "parallelism.allreduce",
            f"'{par.allreduce}' reads peers' memory directly and works inside one node; tp = {par.tp} spans "
            f"{-(-par.tp // hw.gpus_per_node)} nodes: use ring, tree or auto",
        )
    if par.allreduce == "nvls" and not hw.link.multicast:
        raise CheckError("parallelism.allreduce", f"'nvls' needs an NVSwitch with multicast; {hw.link.name} has none")
    _check_torus(s)
    _check_decoding(s)
    _check_size(s)
    _check_sweep_keys(s)


def _check_attention_dp(s: Scenario) -> None:
    """Attention data parallelism as modelled (costmodel/attention_dp.py): a MoE model, tp > 1 in one
    node, one pipeline stage, the megatron schedule, standard decoding."""
    par, m, hw = s.parallelism, s.model, s.hardware
    key = "parallelism.attention_dp"
    if not m.is_moe:
        raise CheckError(key, f"attention_dp needs a mixture-of-experts model (its ranks meet at the experts); "
                         f"{m.name} is dense: use dp for independent replicas")
    if par.tp <= 1:
        raise CheckError(key, "attention_dp spreads requests over the tp GPUs of a replica: it needs tp > 1 "
                         f"(tp = {par.tp})")
    if par.tp > hw.gpus_per_node:
        raise CheckError(key, f"attention_dp is modelled inside one node: tp = {par.tp} spans "
                         f"{-(-par.tp // hw.gpus_per_node)} nodes of {hw.gpus_per_node} GPUs")
    if par.pp > 1:
        raise CheckError(key, f"attention_dp is modelled with one pipeline stage, not pp = {par.pp}")
    if par.tp_mode != tp_schedules.DEFAULT:
        raise CheckError(key, f"attention_dp exchanges tokens at the MoE blocks only; it is modelled with "
                         f"tp_mode {tp_schedules.DEFAULT}, not {par.tp_mode!r}")
    if s.decoding.method != "standard":
        raise CheckError(key, f"attention_dp is not modelled with speculative decoding (decoding.method "
                         f"{s.decoding.method!r}): use method standard")


def _check_torus(s: Scenario) -> None:
    """A torus link's slice shape must hold the node's chips, and a TP group must be a block of it."""
    hw, link = s.hardware, s.hardware.link
    if link.topology != "torus":
        return
    from math import prod

    from simdecode.scenario.hardware import group_dims

    if prod(link.torus_dims) != hw.gpus_per_node:
        raise CheckError("hardware.intra_node_link.torus_dims",
                         f"the torus {list(link.torus_dims)} holds {prod(link.torus_dims)} chips, but gpus_per_node is "
                         f"{hw.gpus_per_node}: give the slice's shape (e.g. [2, 4] for 8 chips)")
    if s.parallelism.allreduce not in ("auto", "ring"):
        raise CheckError("parallelism.allreduce", f"'{s.parallelism.allreduce}' has no form on a torus: its "
                         "collectives are dimension-ordered rings (auto or ring)")
    if s.parallelism.tp <= hw.gpus_per_node:
        try:
            group_dims(s.parallelism.tp, link.torus_dims)
        except ValueError as exc:
            raise CheckError("parallelism.tp", str(exc)) from None


def _tp_group_straddles(tp: int, gpus: int, per_node: int) -> bool:
    """Does any of the consecutive TP groups of ``tp`` GPUs (``gpus`` in all, filling nodes of
    ``per_node`` in order) cross a node boundary? (tp 16 x 4 groups fit one 72-GPU NVLink domain.)"""
    return any(first // per_node != (first + tp - 1) // per_node for first in range(0, gpus, tp))


def _check_sweep_keys(s: Scenario) -> None:
    """Every sweep key names a scenario key (dotted path, through any member of a union)."""
    for path in s.sweep or {}:
        models = [type(s)]
        for part in path.split("."):
            fields = {key: f for model in models for key, f in _fields(model).items()}
            if part not in fields:
                raise CheckError(f"sweep.{path}", f"sweep key {path!r} names no scenario key ({part!r} is unknown)")
            models = _models_in(fields[part].annotation)


def _fields(model: type) -> dict:
    out = {}
    for name, f in model.model_fields.items():
        out[name] = f
        if f.alias:
            out[f.alias] = f
    return out


def _models_in(annotation: object) -> list[type]:
    """The pydantic model classes inside an annotation (``GpuSpec | None``, a discriminated
    union of arrival kinds, ``Annotated[...]``), searched recursively."""
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type] = []
    for arg in get_args(annotation):
        found += _models_in(arg)
    return found


def _check_decoding(s: Scenario) -> None:
    d = s.decoding
    if d.method == "standard":
        return
    if d.method == "draft" and d.draft_model is None:
        raise CheckError("decoding.draft_model", "the draft method needs a draft_model (e.g. llama-3.2-1b)")
    if d.method == "mtp" and s.model.num_nextn_predict_layers < 1:
        raise CheckError("decoding.method", f"{s.model.name} has no multi-token-prediction modules "
                         "(num_nextn_predict_layers = 0); use method: draft")
    message = _acceptance_problem(d.acceptance, d.proposals, d.tree is not None)
    if message:
        raise CheckError("decoding.acceptance", message)


def _acceptance_problem(acc, k: int, tree: bool) -> str | None:
    """What is wrong with an acceptance model for ``k`` proposals (None: nothing). The models
    themselves are :func:`simdecode.costmodel.speculative.acceptance_for`'s."""
    if isinstance(acc, list):
        if tree:
            return "a token tree takes one per-candidate acceptance probability"
        if len(acc) < k:
            return f"acceptance lists {len(acc)} positions, speculative_tokens is {k}"
        return None
    histogram = getattr(acc, "histogram", None)
    if histogram is not None:
        if len(histogram) != k + 1:
            return f"the histogram needs k + 1 = {k + 1} entries (0..{k} accepted), got {len(histogram)}"
        if any(c < 0 for c in histogram) or sum(histogram) <= 0:
            return "histogram entries must be non-negative and not all zero"
        return None
    mean = getattr(acc, "mean_tokens", None)
    if mean is not None and not 1.0 <= mean <= k + 1:
        return f"a mean of {mean} tokens per verify step is impossible with k = {k} (1..{k + 1})"
    return None


def _check_size(s: Scenario) -> None:
    w = s.workload
    count = w.total_requests
    total = count * (w.prompt_tokens + w.output_tokens)
    limit = MAX_TOTAL_TOKENS[s.simulation.fidelity]
    if total > limit:
        raise CheckError(
            "workload.requests",
            f"{count:,} requests x {w.prompt_tokens + w.output_tokens:,} tokens = {total:.3g} tokens is more than "
            f"fidelity {s.simulation.fidelity!r} simulates in reasonable time (at most {limit:.0e}); use fewer "
            "requests or tokens, or simulation.fidelity: step",
        )
