"""Annotated field types for the scenario schema: quantities with units and dtypes.

A field typed ``Bandwidth`` accepts ``"450 GB/s"``, ``"400 Gb/s"`` or a plain number of bytes per
second and stores the SI float; see :mod:`simdecode.units`. Values no hardware has (a bandwidth
under 1 GB/s, a plain ``3350`` meant as GB/s) are refused with a hint
(:mod:`simdecode.scenario.plausible`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from simdecode.scenario.plausible import check_per_op, check_plausible
from simdecode.units import parse_quantity


def _quantity(kind: str, per_op: bool = False):
    def parse(value: object) -> float:
        si = check_plausible(value, parse_quantity(value, kind), kind)
        return check_per_op(value, si) if per_op else si

    return BeforeValidator(parse)


Bytes = Annotated[float, _quantity("bytes"), Field(ge=0)]
Bandwidth = Annotated[float, _quantity("bandwidth"), Field(gt=0)]
Duration = Annotated[float, _quantity("time"), Field(ge=0)]
#: the duration of one kernel, collective, link hop or token: a plain 2 is refused ("did you mean '2 us'?")
PerOpDuration = Annotated[float, _quantity("time", per_op=True), Field(ge=0)]
Rate = Annotated[float, _quantity("rate"), Field(gt=0)]
FlopRate = Annotated[float, _quantity("flops"), Field(gt=0)]
Power = Annotated[float, _quantity("power"), Field(gt=0)]
Fraction = Annotated[float, Field(gt=0, le=1)]

DType = Literal["fp32", "bf16", "fp16", "fp8", "int8", "fp4", "nvfp4", "mxfp4", "int4",
                "q8_0", "q6_k", "q5_k", "q4_k", "q4_0"]

#: bytes per element of each dtype (fp4 / int4 pack two values per byte). Block scales are NOT
#: included here: simdecode.costmodel.precision adds them for weights (fp4 = nvfp4, one fp8 scale
#: per 16 values; mxfp4 one e8m0 per 32; int4 a bf16 scale and zero per group). The q* formats are
#: llama.cpp's GGUF blocks (ggml/src/ggml-common.h): their quants here, their block scales in
#: simdecode.costmodel.precision (q6_k: 4 + 2 bits per weight = 0.75 B; q5_k: 4 + 1 bits).
DTYPE_BYTES: dict[str, float] = {
    "fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "fp4": 0.5, "nvfp4": 0.5, "mxfp4": 0.5,
    "int4": 0.5, "q8_0": 1.0, "q6_k": 0.75, "q5_k": 0.625, "q4_k": 0.5, "q4_0": 0.5,
}

#: dtypes whose matrix multiplies run natively on tensor cores (weight-only integer formats are
#: dequantised and multiplied in the activation dtype)
FLOAT_COMPUTE_DTYPES = ("fp32", "bf16", "fp16", "fp8", "fp4", "nvfp4", "mxfp4")

#: the tensor-core rate (key of a GPU's ``flops``) a float weight format computes at
TENSOR_CORE_KEY: dict[str, str] = {"nvfp4": "fp4", "mxfp4": "fp4"}
