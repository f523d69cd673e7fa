"""The words explanations use for a device, by its kind (``hardware.gpu.kind``,
:mod:`simdecode.costmodel.devices`): a GPU has CUDA cores and tensor cores; a dataflow chip with
its weights in SRAM (Groq LPU, Cerebras WSE) or one with its weights wired into logic (Taalas
HC1) is a *chip*, with vector and matrix units.

Groq's TSP, for one, has a vector execution module (VXM) and a matrix execution module (MXM) (Abts
et al., "Think Fast: A Tensor Streaming Processor", ISCA 2020); "vector units" and "matrix units"
name such units on any of these chips without any vendor's term.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeviceWords:
    """one/many: the device ('GPU', 'GPUs'); scalar: where element-wise work such as weight
    dequantisation runs; matrix: where the matrix multiplies run."""

    one: str
    many: str
    scalar: str
    matrix: str


GPU = DeviceWords("GPU", "GPUs", "CUDA cores", "tensor cores")
CHIP = DeviceWords("chip", "chips", "vector units", "matrix units")
#: by ``hardware.gpu.vendor`` for GPU-kind devices: AMD's CDNA/RDNA compute units and Matrix Cores
#: (AMD CDNA 3 white paper), a TPU's vector and matrix units (VPU, MXU: Google Cloud TPU system
#: architecture), Apple's GPU cores (its GPUs have no separate matrix engine; simdgroup matrix
#: instructions run on the same ALUs)
BY_VENDOR = {
    "nvidia": GPU,
    "amd": DeviceWords("GPU", "GPUs", "compute units' vector ALUs", "matrix cores"),
    "google": DeviceWords("TPU chip", "TPU chips", "vector units (VPU)", "matrix units (MXU)"),
    "apple": DeviceWords("GPU", "GPUs", "GPU cores", "GPU cores' matrix instructions"),
}


def words(kind: str | None, vendor: str | None = None) -> DeviceWords:
    """The words for a device of ``kind`` ('gpu', 'sram', 'logic') made by ``vendor`` ('nvidia',
    'amd', 'google', 'apple'); an NVIDIA GPU's where unknown.

    >>> words("sram").one, words("logic").matrix, words("gpu").scalar, words(None).many
    ('chip', 'matrix units', 'CUDA cores', 'GPUs')
    >>> words("gpu", "google").many, words("gpu", "amd").matrix
    ('TPU chips', 'matrix cores')
    """
    if kind in ("sram", "logic"):
        return CHIP
    return BY_VENDOR.get(vendor or "nvidia", GPU)
