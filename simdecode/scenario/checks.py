"""Cross-field checks of a scenario: rules that tie sections together.

Raised as :class:`CheckError` (a ValueError carrying the offending key path) from inside the
Scenario validator, so they reach the user like any other validation error: the file, the line
of that key, what was expected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simdecode.units import format_si

if TYPE_CHECKING:
    from simdecode.scenario.schema import Scenario

#: tokens (prompt + output, summed over requests) one scenario may ask for, by fidelity: a guard
#: against a file that would keep a laptop busy for days (~1e5-1e6 tokens per second of wall time
#: at step fidelity, ~10x fewer at layer, ~1000x fewer at op)
MAX_TOTAL_TOKENS = {"step": 2e9, "layer": 2e8, "op": 2e6}


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
    if not m.uses_mla and kv % par.tp and par.tp % kv:
        raise CheckError(
            "parallelism.tp", f"tp = {par.tp} and the model's {kv} KV heads must divide one another"
        )
    if par.pp > m.num_hidden_layers:
        raise CheckError("parallelism.pp", f"pp = {par.pp} exceeds the model's {m.num_hidden_layers} layers")
    if par.tp < hw.gpus_per_node and hw.gpus_per_node % par.tp and par.tp * par.pp * par.dp > par.tp:
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
        if par.tp_mode not in ("megatron", "parallel-block"):
            raise CheckError("parallelism.ep", f"expert parallelism is modelled with tp_mode megatron or "
                             f"parallel-block, not {par.tp_mode!r}")
    if par.allreduce in ("one-shot", "two-shot", "nvls") and par.tp > hw.gpus_per_node:
        raise CheckError(
            "parallelism.allreduce",
            f"'{par.allreduce}' reads peers' memory directly and works inside one node; tp = {par.tp} spans "
            f"{-(-par.tp // hw.gpus_per_node)} nodes: use ring, tree or auto",
        )
    if par.allreduce == "nvls" and not hw.link.multicast:
        raise CheckError("parallelism.allreduce", f"'nvls' needs an NVSwitch with multicast; {hw.link.name} has none")
    _check_decoding(s)
    _check_memory(s)
    _check_size(s)
    _check_sweep_keys(s)


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


def _check_memory(s: Scenario) -> None:
    from simdecode.costmodel.deployment import Deployment
    from simdecode.costmodel.memory import memory_split

    dep = Deployment.from_scenario(s)
    # a typical request: fixed lengths, or the mean of a distribution or trace (longer draws that
    # cannot fit the whole cache are rejected at run time, one by one, with their reason)
    typical = s.workload.prompt_tokens + s.workload.output_tokens
    block = s.scheduler.kv_block_tokens
    typical_in_blocks = -(-typical // block) * block  # the cache is handed out in whole blocks
    for stage in range(dep.pp):
        split = memory_split(s, dep, stage)
        kv_one = dep.kv_bytes_per_token_per_gpu(stage) * typical_in_blocks
        if split["kv"] >= kv_one:
            continue
        gpus = s.parallelism.tp * s.parallelism.pp
        raise CheckError(
            "model",
            f"{s.model.name} does not fit: each of the {gpus} GPU(s) has {format_si(split['total'], 'B')}, "
            f"holds {format_si(split['weights'], 'B')} of weights and keeps {format_si(split['workspace'], 'B')} of "
            f"activation workspace ({s.scheduler.max_batched_tokens} tokens per step), which with memory_utilization "
            f"{s.scheduler.memory_utilization:g} leaves {format_si(max(0.0, split['kv']), 'B')} of KV cache, less than "
            f"one {typical}-token request needs ({format_si(kv_one, 'B')}); raise parallelism.tp or parallelism.pp, "
            "use a smaller precision.weights, fewer scheduler.max_batched_tokens, or a GPU with more memory",
        )


def _check_decoding(s: Scenario) -> None:
    d = s.decoding
    if d.method == "standard":
        return
    if d.method == "draft" and d.draft_model is None:
        raise CheckError("decoding.draft_model", "the draft method needs a draft_model (e.g. llama-3.2-1b)")
    if d.method == "mtp" and s.model.num_nextn_predict_layers < 1:
        raise CheckError("decoding.method", f"{s.model.name} has no multi-token-prediction modules "
                         "(num_nextn_predict_layers = 0); use method: draft")
    proposals = d.tree.depth if d.tree else d.speculative_tokens
    from simdecode.costmodel.speculative import acceptance_for

    try:
        acceptance_for(d, proposals)
    except ValueError as exc:
        raise CheckError("decoding.acceptance", str(exc)) from None


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
