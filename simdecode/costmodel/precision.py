"""Precision per module: each kind of weight has its own dtype, block-scale bytes and math dtype.

Checkpoints of the models people serve keep different parts in different formats (docs/physics-moe-
precision.md):

- DeepSeek-V3/R1 FP8: every linear layer in fp8 e4m3 with one fp32 scale per 128 x 128 block
  (``quantization_config: {quant_method: fp8, weight_block_size: [128, 128]}``), embeddings, LM head and
  router in bf16 (DeepSeek-V3 report, arXiv 2412.19437, section 3.3; DeepGEMM's block-scaled GEMM).
- DeepSeek-R1 NVFP4 (TensorRT-LLM, blog "Pushing Latency Boundaries ... on NVIDIA B200"): dense and MoE
  FFNs in NVFP4, attention, router and MTP in bf16.
- gpt-oss: only the MoE experts in MXFP4 (``modules_to_not_convert``: attention, router, embeddings,
  LM head), OpenAI gpt-oss model card.
- Weight-only int8 / int4 (gpt-fast, AWQ, GPTQ): integer weights with per-channel (int8) or per-group
  (int4: a bf16 scale and a bf16 zero per ``group_size`` values, gpt-fast's tinygemm layout) scales.

Block scales cost bytes on every read (OCP Microscaling spec v1.0: MXFP4 = 32 e2m1 values share one
e8m0 scale; NVIDIA NVFP4 = 16 e2m1 values share one e4m3 scale, plus one fp32 per tensor):

    bytes/value:  fp8 1 + 4/(128*128)   nvfp4 (fp4) 0.5 + 1/16 = 0.5625   mxfp4 0.5 + 1/32 = 0.53125
                  int8 1 (per-channel)  int4 0.5 + 4/group_size (0.625 at g32, 0.53125 at g128)

Block-scaled fp8 (a checkpoint shipped in fp8 with 128 x 128 weight blocks, as DeepSeek's) is served as
W8A8 with activations quantised per token and 128-value group at run time: one more kernel before every
GEMM (:func:`activation_quant_kernels`). An engine's fp8 copy of a bf16 checkpoint uses per-tensor scales
folded into the kernel before it.

Which tensor-core rate applies: a float format the GPU has tensor cores for runs the math in it (the
engine quantises activations on the fly: W8A8 fp8, W4A4 NVFP4); otherwise the weights are dequantised
in the kernel and the math runs in the activations' dtype (W8A16, W4A16: Marlin, arXiv 2408.11743;
gpt-fast int8/int4; MXFP4 on Hopper, which has no fp4 tensor cores). :mod:`.efficiency` charges the
dequantisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from simdecode.scenario.hardware import GpuSpec
from simdecode.scenario.types import DTYPE_BYTES, FLOAT_COMPUTE_DTYPES, TENSOR_CORE_KEY

#: weight modules with their own dtype; ``weights`` is the default of all of them
MODULES = ("attention", "mlp", "experts", "embeddings")
#: fp8 block scales: one fp32 per 128 x 128 block (DeepSeek-V3 config weight_block_size, DeepGEMM)
FP8_BLOCK_VALUES = 128 * 128
#: llama.cpp's GGUF block formats (ggml/src/ggml-common.h, the block_* structs): values per block and
#: the bytes of its scales. q8_0 / q4_0: one fp16 d per 32 values (block_q8_0 34 B, block_q4_0 18 B).
#: K-quants, 256 values per super-block: q4_k and q5_k carry fp16 d and dmin plus 12 B of 6-bit
#: sub-block scales and mins (block_q4_K 144 B, block_q5_K 176 B); q6_k 16 int8 scales and an fp16 d
#: (block_q6_K 210 B). Bytes per weight, all in: q8_0 1.0625, q6_k 0.8203, q5_k 0.6875, q4_k and
#: q4_0 0.5625 (4.5 bits).
GGUF_BLOCKS = {"q8_0": (32, 2), "q4_0": (32, 2), "q4_k": (256, 16), "q5_k": (256, 16), "q6_k": (256, 18)}
#: values per scale: NVFP4 16 (e4m3 scale), MXFP4 32 (e8m0 scale) (OCP MX spec v1.0; NVIDIA NVFP4)
SCALE_BYTES_PER_VALUE = {"fp8": 4.0 / FP8_BLOCK_VALUES, "fp4": 1.0 / 16, "nvfp4": 1.0 / 16, "mxfp4": 1.0 / 32,
                         **{name: scale_bytes / values for name, (values, scale_bytes) in GGUF_BLOCKS.items()}}


def weight_bytes_per_value(dtype: str, group_size: int = 128) -> float:
    """Bytes one stored weight costs on every read, block scales included (module docstring).

    >>> weight_bytes_per_value("nvfp4"), weight_bytes_per_value("mxfp4"), weight_bytes_per_value("int4", 32)
    (0.5625, 0.53125, 0.625)
    """
    if dtype == "int4":
        return DTYPE_BYTES[dtype] + 4.0 / group_size  # bf16 scale + bf16 zero per group
    return DTYPE_BYTES[dtype] + SCALE_BYTES_PER_VALUE.get(dtype, 0.0)


def tensor_core_key(dtype: str) -> str:
    """The ``flops`` key of a GPU whose rate a dtype's math would use (nvfp4, mxfp4 -> fp4)."""
    return TENSOR_CORE_KEY.get(dtype, dtype)


def math_dtype(gpu: GpuSpec, weights: str, activations: str) -> str:
    """The ``flops`` key matrix multiplies of ``weights`` run at: the weights' own float format when
    the GPU has tensor cores for it (activations quantised to it), else the activations' (weight-only
    formats are dequantised first)."""
    key = tensor_core_key(weights)
    if weights in FLOAT_COMPUTE_DTYPES and key in gpu.flops_per_s:
        return key
    if activations in gpu.flops_per_s:
        return activations
    for fallback in ("bf16", "fp16", "fp32"):
        if fallback in gpu.flops_per_s:
            return fallback
    return next(iter(gpu.flops_per_s))


def weight_only(gpu: GpuSpec, weights: str, activations: str) -> bool:
    """Are ``weights`` dequantised inside the GEMM (narrower than the math they feed)?"""
    math = math_dtype(gpu, weights, activations)
    return math != tensor_core_key(weights) and DTYPE_BYTES[weights] < DTYPE_BYTES[math]


@dataclass(frozen=True, slots=True)
class ModulePrecision:
    """Resolved dtypes of one deployment: per weight module, KV cache and activations."""

    attention: str
    mlp: str
    experts: str
    embeddings: str
    kv_cache: str
    activations: str
    group_size: int = 128
    #: modules whose fp8 weights are the checkpoint's own 128 x 128 block-scaled ones (module docstring)
    block_scaled: tuple[str, ...] = ()

    def bytes_of(self, module: str) -> float:
        """Bytes per stored weight value of ``module`` (block scales included)."""
        return weight_bytes_per_value(getattr(self, module), self.group_size)

    def as_dict(self) -> dict[str, str]:
        return {m: getattr(self, m) for m in (*MODULES, "kv_cache", "activations")}


def resolve(spec, native: dict | None = None) -> ModulePrecision:
    """Each module's dtype: the scenario's key for it, else the scenario's ``weights`` if given, else
    the model's ``native_precision`` for the module, else its native ``weights``, else bf16.

    ``spec`` is a :class:`~simdecode.scenario.schema.PrecisionSpec`; ``native`` a mapping of the same
    keys (a model's checkpoint format, from its Hugging Face ``quantization_config`` or the preset).
    """
    native = native or {}
    given = spec.model_fields_set
    default = spec.weights if "weights" in given else native.get("weights", spec.weights)

    def pick(module: str) -> str:
        own = getattr(spec, module)
        if own is not None:
            return own
        if "weights" in given:
            return spec.weights
        return native.get(module, default)

    kv = spec.kv_cache if "kv_cache" in given else native.get("kv_cache", spec.kv_cache)
    picked = {m: pick(m) for m in MODULES}
    shipped = {m: native.get(m, native.get("weights")) for m in MODULES}
    block = tuple(m for m in MODULES if picked[m] == "fp8" and shipped[m] == "fp8")
    return ModulePrecision(**picked, kv_cache=kv, activations=spec.activations, group_size=spec.group_size,
                           block_scaled=block)


def activation_quant_kernels(gpu: GpuSpec, prec: ModulePrecision, module: str, gemms: int) -> int:
    """Kernels that quantise the inputs of ``gemms`` GEMMs of ``module`` before they run: ``gemms``
    when the module's weights are block-scaled fp8 and the GPU multiplies in fp8 (W8A8 with dynamic
    1 x 128 activation groups), else 0.

    Every block-scaled fp8 linear layer quantises its bf16 input per token and 128-value group in a
    kernel of its own, then runs the block-scaled GEMM: TensorRT-LLM's ``FP8BlockScalesLinearMethod``
    on sm90 (``fp8_quantize_1x128`` then ``fp8_block_scaling_gemm``, tensorrt_llm/_torch/modules/
    linear.py), SGLang's and vLLM's ``per_token_group_quant_fp8`` before the Triton/DeepGEMM GEMM
    (``apply_w8a8_block_fp8_linear``; fused_moe quantises the input of each of its two GEMMs the same
    way). Per-tensor fp8 (an engine's own fp8 conversion of a bf16 checkpoint, ModelOpt FP8) instead
    folds one static scale into the kernel before it, so it launches nothing more."""
    if module not in prec.block_scaled or math_dtype(gpu, "fp8", prec.activations) != "fp8":
        return 0
    return gemms


def native_from_hf(quantization_config: object) -> dict[str, str] | None:
    """A checkpoint's per-module dtypes from its Hugging Face ``quantization_config`` (None if the
    method is not recognised). Embeddings and the LM head stay bf16 in all of these checkpoints.

    fp8 (DeepSeek-V3): every linear fp8. mxfp4 (gpt-oss): experts only. modelopt NVFP4: the FFNs
    (dense and MoE), attention excluded. awq / gptq / compressed-tensors int4: every linear int4.
    """
    if not isinstance(quantization_config, dict):
        return None
    method = str(quantization_config.get("quant_method", "")).lower()
    algo = str(quantization_config.get("quant_algo", "")).upper()
    if method == "fp8":
        return {"weights": "fp8", "embeddings": "bf16"}
    if method == "mxfp4":
        return {"weights": "bf16", "experts": "mxfp4"}
    if method == "modelopt" and algo == "NVFP4":
        return {"weights": "bf16", "mlp": "nvfp4", "experts": "nvfp4"}
    if method == "modelopt" and algo == "FP8":
        return {"weights": "fp8", "embeddings": "bf16"}
    if method in ("awq", "gptq", "compressed-tensors"):
        bits = quantization_config.get("bits", quantization_config.get("w_bit", 4))
        if bits == 4:
            return {"weights": "int4", "embeddings": "bf16"}
        if bits == 8:
            return {"weights": "int8", "embeddings": "bf16"}
    return None
