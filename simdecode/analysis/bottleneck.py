"""The bottleneck a decode step's parts name: one rule for ``simdecode explain`` and ``simdecode run``.

A step's time splits into parts (seconds, :class:`~simdecode.costmodel.fold.Fold`'s split): streaming
bytes (``memory``), FLOPs (``compute``), decoding weight-only formats where the decode outlasts the
stream (``dequant``), the NVFP4 GEMMs' serial k-loops (``serial``, costmodel/fp4_gemm.py), kernel
launches (``launch``), host time (``host``), exposed collectives (``communication``) and pipeline
hops and waits (``pipeline``). :func:`by_label` sums them by bottleneck label (launches and host time
are both fixed overheads; the weight decode is named by how the deployment decodes, :func:`weight_decode`);
:func:`name` picks the largest. ``explain`` feeds it one step's parts
(analysis/critical_path.py), a run the sums of its decode steps (analysis/breakdown.py), so both name
the same bottleneck for the same step.
"""

from __future__ import annotations

from typing import Any

from simdecode.analysis import device_words
from simdecode.costmodel import precision as precision_mod
from simdecode.costmodel.efficiency import FP4_FORMATS

#: part of a step -> bottleneck label (``dequant``: the label :func:`weight_decode` gives)
LABELS = {"memory": "memory-bandwidth", "compute": "compute", "dequant": None, "serial": "fp4-k-loop",
          "launch": "launch-overhead", "host": "launch-overhead", "communication": "all-reduce",
          "pipeline": "pipeline"}
#: the labels the weight decode can take (:func:`weight_decode`)
DECODE_LABELS = ("fp4-weight-decode", "weight-dequantisation")


def by_label(parts: dict[str, float], decode_label: str | None) -> dict[str, float]:
    """Seconds by bottleneck label, in the order of ``parts`` (keys of :data:`LABELS`).
    ``decode_label`` names the ``dequant`` part (:data:`DECODE_LABELS`); it may be None only when that
    part is 0.

    >>> by_label({"memory": 3e-3, "dequant": 8e-3, "launch": 2e-3, "host": 1e-3}, "fp4-weight-decode")
    {'memory-bandwidth': 0.003, 'fp4-weight-decode': 0.008, 'launch-overhead': 0.003}
    """
    out: dict[str, float] = {}
    for key, seconds in parts.items():
        label = LABELS[key] if key != "dequant" else decode_label
        if label is None:
            if seconds > 0:
                raise ValueError("a step with weight-decode time needs the deployment's decode label")
            continue
        out[label] = out.get(label, 0.0) + seconds
    return out


def name(parts: dict[str, float], decode_label: str | None) -> str:
    """The largest of :func:`by_label` (the first of equal ones, in the order of ``parts``).

    >>> name({"memory": 1.06e-3, "compute": 0.0, "dequant": 8.68e-3, "launch": 2.27e-3, "host": 0.3e-3},
    ...      "fp4-weight-decode")
    'fp4-weight-decode'
    """
    grouped = by_label(parts, decode_label)
    return max(grouped, key=grouped.get)


def weight_decode(dep) -> dict[str, Any]:
    """How this deployment's weight-only formats are decoded before the MMA (costmodel/efficiency.py):
    ``label`` (the bottleneck label when the decode binds), ``name`` (the breakdown row), ``how`` (a
    phrase), ``fp4`` (Marlin's e2m1 decode on the integer pipe) and ``int32_share`` (the GPU's INT32
    lanes per FP32 lane). ``dep``: a :class:`~simdecode.costmodel.deployment.Deployment`."""
    gpu, prec = dep.gpu, dep.precision
    fp4 = False
    if gpu is not None and prec is not None:
        fp4 = any(getattr(prec, m) in FP4_FORMATS and precision_mod.weight_only(gpu, getattr(prec, m), prec.activations)
                  for m in precision_mod.MODULES)
    share = getattr(gpu, "int32_share", None) if gpu is not None else None
    if fp4:
        return {"label": DECODE_LABELS[0], "name": "FP4 weight decode", "fp4": True, "int32_share": share,
                "how": ("on the INT32 pipe: no FP4 tensor cores, so Marlin turns each e2m1 weight into bf16 with "
                        "integer instructions (7 per 4 weights)")}
    scalar = device_words.words(getattr(gpu, "kind", None), getattr(gpu, "vendor", None)).scalar
    return {"label": DECODE_LABELS[1], "name": "weight dequantisation", "fp4": False, "int32_share": share,
            "how": f"on the {scalar}: each stored weight converted and scaled to the math dtype (2 instructions)"}
