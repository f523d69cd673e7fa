"""The ratio method: "same provider, so tokens/s is inversely proportional to active parameters".

Given reference models the same provider serves (``NAME:TPS[:ACTIVE]``), the naive answer is

    A_target = A_ref x tps_ref / tps_target                       (one answer per reference)

which assumes a decode step costs time proportional to the active parameters and nothing else.
The simulator checks that assumption three ways:

- **pairs**: the simulated speed ratio of two references under the same assumptions, against
  the observed one (GLM-4.7 against Llama-3.1-70B: fixed per-step costs and GLM's depth flatten
  the ratio at batch 1; the union of experts 16 tokens touch inverts it at batch 16);
- **calibrated**: for every setting of the shared assumptions (hardware, precision, tp, runtime,
  context, speculation) the batch at which the *reference* runs at its observed speed is found
  (the provider's load, inferred); the target is then solved at that batch for every
  architecture. Settings where no batch reproduces the reference drop out;
- **breaks**: starting from one shared setting (batch 1, no speculation, the first hardware and
  precision, the largest tp), the target is solved with the simulated reference speed scaled by
  the observed ratio (the provider-specific efficiency cancels, as the ratio method assumes),
  then with ONE thing different for the target: its architecture, both at a large batch, a
  larger batch than the reference, speculation, narrower weights, other hardware. Each row says
  how far the ratio's answer moves when that assumption breaks.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, replace

from simdecode.costmodel.architecture import parameter_counts
from simdecode.estimate.search import Searcher, Solution
from simdecode.estimate.space import (AXES, Arch, Assumptions, EstimateError, Space, Speculation, parse_count)
from simdecode.scenario.model import ModelSpec
from simdecode.scenario.types import DTYPE_BYTES


@dataclass(frozen=True)
class Reference:
    name: str
    model: ModelSpec
    tps: float
    active: float
    active_given: bool

    @property
    def arch(self) -> Arch:
        """The reference's own family, for "the same kind of model" comparisons."""
        c = parameter_counts(self.model)
        if not self.model.is_moe:
            return Arch()
        return Arch("moe", c.total / c.active, c.num_experts, c.experts_per_token)


def parse_reference(text: str) -> Reference:
    """``NAME:TPS[:ACTIVE]``; NAME is a model preset or a path to a config.json."""
    from simdecode.presets import preset, read_hf_config

    parts = str(text).split(":")
    if len(parts) not in (2, 3) or not parts[0]:
        raise EstimateError(f"--reference {text!r}: expected NAME:TPS or NAME:TPS:ACTIVE, e.g. llama-3.1-70b:70 "
                            "or glm-4.7:143:32B")
    name = parts[0]
    try:
        tps = float(parts[1])
    except ValueError:
        tps = float("nan")
    if not tps > 0 or tps == float("inf"):
        raise EstimateError(f"--reference {text!r}: the observed speed must be a positive number of tokens/s")
    if os.path.exists(name):
        keys = read_hf_config(name)
    else:
        from simdecode.presets import PresetError

        try:
            keys = preset("models", name)
        except PresetError as exc:  # its suggestion, said of the option it came from
            raise EstimateError(f"--reference {text!r}: {exc}") from None
    try:
        model = ModelSpec.model_validate(keys)
    except ValueError as exc:
        raise EstimateError(f"--reference {text!r}: not a usable model config: {str(exc).splitlines()[0]}") from None
    counted = parameter_counts(model).active
    active = parse_count(parts[2], f"--reference {text!r} ACTIVE") if len(parts) == 3 else counted
    return Reference(model.name, model, tps, active, len(parts) == 3)


def _ref_speed(searcher: Searcher, a: Assumptions, ref: Reference) -> float | None:
    ev = searcher.ev
    return ev.tps(a, ref.model) if ev.fits(a, ref.model) else None


def _calibrate_batch(searcher: Searcher, a: Assumptions, ref: Reference, tolerance: float) -> int | None:
    """The batch at which ``ref`` runs closest to its observed speed under ``a`` (None: no batch
    the KV cache allows comes within the tolerance)."""
    ev = searcher.ev
    cap = min(ev.capacity_sequences(replace(a, batch=1), ref.model), 4096)
    if cap < 1:
        return None
    speed = lambda b: ev.tps(replace(a, batch=b), ref.model)  # noqa: E731
    lo_t, hi_t = ref.tps / (1 + tolerance), ref.tps * (1 + tolerance)
    if speed(1) < lo_t or speed(cap) > hi_t:
        return None
    if speed(1) <= ref.tps:
        return 1
    if speed(cap) >= ref.tps:
        return cap
    lo, hi = 1, cap  # speed(lo) > tps >= speed(hi)
    while hi - lo > 1:
        mid = int(round((lo * hi) ** 0.5))
        mid = min(max(mid, lo + 1), hi - 1)
        if speed(mid) > ref.tps:
            lo = mid
        else:
            hi = mid
    return lo if abs(speed(lo) / ref.tps - 1) <= abs(speed(hi) / ref.tps - 1) else hi


def _shared_settings(space: Space):
    """Every combination of the assumptions a reference and the target share (not batch, not arch)."""
    shared = [axis for axis in AXES if axis not in ("batch", "arch")]
    for values in itertools.product(*(space.values(axis) for axis in shared)):
        kw = dict(zip(shared, values))
        hw, tp = kw["hardware"], kw["tp"]
        if tp <= hw.gpus and hw.gpus % tp == 0:
            yield kw


def _calibrated(ref: Reference, tps: float, tolerance: float, space: Space, searcher: Searcher) -> dict:
    from simdecode.estimate.core import solution_dict

    t_lo, t_hi = tps / (1 + tolerance), tps * (1 + tolerance)
    settings = list(_shared_settings(space))
    solved: list[Solution] = []
    batches: list[int] = []
    for kw in settings:
        probe = Assumptions(batch=1, arch=space.arch[0], **kw)
        batch = _calibrate_batch(searcher, probe, ref, tolerance)
        if batch is None:
            continue
        batches.append(batch)
        for arch in space.arch:
            s = searcher.solve(replace(probe, batch=batch, arch=arch), tps, t_lo, t_hi)
            if s.ok:
                solved.append(s)
    out: dict = {"settings": len(settings), "reproduced": len(batches),
                 "batches": [min(batches), max(batches)] if batches else None}
    if solved:
        low = min(solved, key=lambda s: s.active_lo)
        high = max(solved, key=lambda s: s.active_hi)
        out.update(active_params=[low.active_lo, high.active_hi], low_end=solution_dict(low),
                   high_end=solution_dict(high))
    else:
        out["active_params"] = None
    return out


def _baseline(space: Space, ref: Reference) -> Assumptions:
    return Assumptions(hardware=space.hardware[0], precision=space.precision[0],
                       tp=max(t for t in space.tp if t <= space.hardware[0].gpus and space.hardware[0].gpus % t == 0),
                       runtime=space.runtime[0], batch=1, context=min(space.context), speculation=Speculation(),
                       arch=ref.arch)


def _breaks(ref: Reference, tps: float, tolerance: float, space: Space, searcher: Searcher) -> list[dict]:
    """One row per assumption the naive ratio takes for granted (see the module docstring)."""
    base = _baseline(space, ref)
    big = max(max(space.batch), 16)
    other_arch = next((a for a in space.arch if a.is_moe != ref.arch.is_moe),
                      Arch() if ref.arch.is_moe else Arch("moe", 10, 160, 8))
    spec = next((s for s in space.speculation if s.enabled), Speculation(3))
    narrow = min(space.precision, key=lambda p: DTYPE_BYTES[p])
    if DTYPE_BYTES[narrow] >= DTYPE_BYTES[base.precision]:
        narrow = "fp4"
    rows = [
        ("same assumptions (batch 1, no speculation): fixed per-step costs and depth", {}, {}),
        (f"the target is {'dense' if other_arch.kind == 'dense' else 'a mixture of experts'} ({other_arch})",
         {}, {"arch": other_arch}),
        (f"both at batch {big}: weights shared by the batch, experts' union grows", {"batch": big}, {"batch": big}),
        (f"the target at batch {big}, the reference at batch 1", {}, {"batch": big}),
        (f"the target speculates ({spec}), the reference does not", {}, {"speculation": spec}),
        (f"the target's weights in {narrow}, the reference's in {base.precision}", {}, {"precision": narrow}),
    ]
    others = [h for h in space.hardware if h != base.hardware]
    if others:
        rows.append((f"the target on {others[-1]}, the reference on {base.hardware}", {}, {"hardware": others[-1]}))
    naive = ref.active * ref.tps / tps
    out = []
    for label, ref_change, target_change in rows:
        ra = replace(base, **ref_change)
        ta = replace(base, **{**ref_change, **target_change})
        if ta.tp > ta.hardware.gpus:
            ta = replace(ta, tp=ta.hardware.gpus)
        row = {"case": label, "reference": ra.as_dict(), "target": ta.as_dict()}
        sim_ref = _ref_speed(searcher, ra, ref)
        if sim_ref is None:
            out.append({**row, "status": "reference does not fit", "active": None, "factor": None})
            continue
        scaled = sim_ref * tps / ref.tps  # the target's speed in the simulator's units
        s = searcher.solve(ta, scaled, scaled / (1 + tolerance), scaled * (1 + tolerance))
        active = s.active if s.ok else None
        # the band reaches the largest (smallest) model but the speed itself needs a larger (smaller)
        # one: say so ("beyond memory", "even the smallest is slower") rather than a bare "ok" 
        status = s.status if active is not None or not s.ok else ("too-slow" if s.clipped_hi else "too-fast")
        out.append({**row, "reference_sim_tps": sim_ref, "target_sim_tps": scaled, "status": status,
                    "active": active, "factor": active / naive if active else None,
                    "largest_fitting_active": s.largest_active, "smallest_active": s.smallest_active})
    return out


def _pairs(refs: list[Reference], space: Space, searcher: Searcher) -> list[dict]:
    out = []
    for a, b in itertools.combinations(refs, 2):
        row = {"pair": [a.name, b.name], "observed_ratio": a.tps / b.tps, "naive_ratio": b.active / a.active,
               "simulated": []}
        base = _baseline(space, a)
        for batch in sorted({1, max(max(space.batch), 16)}):
            setting = replace(base, batch=batch)
            sa, sb = _ref_speed(searcher, setting, a), _ref_speed(searcher, setting, b)
            row["simulated"].append({"assumptions": setting.as_dict() | {"arch": "(own)"},
                                     "ratio": sa / sb if sa and sb else None,
                                     "tps": [sa, sb]})
        out.append(row)
    return out


def ratio_method(refs: list[Reference], tps: float, tolerance: float, space: Space, searcher: Searcher,
                 solutions: list[Solution]) -> dict:
    naive = [{"reference": r.name, "tps": r.tps, "active": r.active, "active_given": r.active_given,
              "params_per_s": r.active * r.tps, "target_active": r.active * r.tps / tps} for r in refs]
    return {
        "naive": naive,
        "naive_range": [min(n["target_active"] for n in naive), max(n["target_active"] for n in naive)],
        "pairs": _pairs(refs, space, searcher),
        "per_reference": [{"reference": r.name,
                           "calibrated": _calibrated(r, tps, tolerance, space, searcher),
                           "breaks": _breaks(r, tps, tolerance, space, searcher)} for r in refs],
    }
