"""A measurement's stated conditions, in words, turned into scenario keys.

Published tables say "8x A100-80GB SXM, power-limited 330 W", "Llama-3.3-70B-Instruct", "NIM 1.8.0
(TRT-LLM backend)", "fp8". Each function here reads one such phrase and returns the preset (or
scenario keys) it names, or raises :class:`NotExpressible` saying why simdecode cannot stand for
it. The rules are general (names, aliases of identical architectures, engine defaults), never
per case: a case is expressed only from what it states.
"""

from __future__ import annotations

import re
from typing import Any

from simdecode.tp_schedules.delayed import SCHEDULE as DELAYED_TP


class NotExpressible(ValueError):
    """A condition simdecode has no way to represent; the message says which and why."""


# --------------------------------------------------------------------------- models
#: names of models whose architecture (config.json) equals a preset's: fine-tunes and re-releases
MODEL_ALIASES = {
    # Llama-3.3-70B reuses Llama-3.1-70B's architecture (Meta's model cards: same config.json keys)
    "llama-3.3-70b": "llama-3.1-70b",
    # DeepSeek-R1 is post-trained DeepSeek-V3-Base (DeepSeek-R1 report, arXiv 2501.12948): same architecture
    "deepseek-r1": "deepseek-v3",
    # Vicuna v1.5 and Llama-2-Chat are fine-tunes of Llama-2 (same architecture)
    "vicuna-13b": "llama-2-13b", "vicuna-7b": "llama-2-7b", "llama2-13b": "llama-2-13b",
    "llama2-7b": "llama-2-7b", "llama2-70b": "llama-2-70b",
}
_MODEL_SUFFIXES = ("-instruct", "-chat", "-base", "-hf")


def model_key(text: str) -> str:
    """A preset name for a model as a table writes it: 'Llama-2-7B' -> 'llama-2-7b',
    'LLaMA2-Chat 13B' -> 'llama-2-13b', 'DeepSeek-R1 671B (37B active)' -> 'deepseek-v3'."""
    from simdecode.presets import names

    words = re.sub(r"\(.*?\)", "", str(text)).strip().lower()
    words = re.sub(r"\s+(fp16|bf16|fp8|fp4|int8|int4)\b", "", words)
    words = re.sub(r"\s+", "-", words)
    for suffix in _MODEL_SUFFIXES:
        words = words.replace(suffix, "")
    known = set(names("models")) | set(STAND_INS)
    # as written; then without a trailing total size ("deepseek-r1-671b" -> "deepseek-r1"); then
    # with the family and its version apart ("llama3.1-8b" -> "llama-3.1-8b", as Meta's repos spell it)
    spaced = re.sub(r"^(llama)(\d)", r"\1-\2", words)
    for name in (words, re.sub(r"-\d+b$", "", words), spaced):
        name = MODEL_ALIASES.get(name, name)
        if name in known:
            return name
    raise NotExpressible(f"model {text!r} has no preset")


def gpt_model(text: str) -> dict[str, Any]:
    """A GPT-style model described by its shape in the text, e.g. FasterTransformer's
    'GPT-20B (44 layers, 48 heads x 128)': learned positions, a GELU MLP of 4 x hidden and
    tied embeddings (FasterTransformer's GPT, docs/gpt_guide.md), its 51,200-token vocabulary
    (the GPT-2 BPE padded to a multiple of 1024, as Megatron-LM pads it)."""
    m = re.search(r"(\d+)\s*layers?,\s*(\d+)\s*heads?\s*x\s*(\d+)", text)
    if not m:
        raise NotExpressible(f"model {text!r}: no preset, and no 'N layers, H heads x D' shape to build one")
    layers, heads, head_dim = (int(g) for g in m.groups())
    hidden = heads * head_dim
    return {"name": re.sub(r"\s*\(.*", "", text).strip(), "num_hidden_layers": layers, "hidden_size": hidden,
            "num_attention_heads": heads, "intermediate_size": 4 * hidden, "vocab_size": 51200,
            "mlp_gated": False, "tie_word_embeddings": True}


#: models whose config.json simdecode holds no copy of, each with its architecture as its public
#: sources give it (inline, not a preset: presets hold config.json files only), what is derived
#: from them and what is still assumed (docs/assumptions.md §6, "Laneformer 2B").
#: - Kog's Laneformer 2B (kogai/laneformer-2b-it; DEC-13): "a Llama-style decoder-only
#:   architecture" (its model card, huggingface.co/kogai/laneformer-2b-it), "2.3B-parameter"
#:   (blog.kog.ai/kog-laneformer-2b-the-latency-first-model-behind-kog-inference-engine/);
#:   15 layers, GQA with 32 query and 16 KV heads, 10 of the 15 layers sliding-window, a
#:   4,096-token context, a Llama 2 tokenizer (Kog's Hugging Face post, huggingface.co/blog/kogai/
#:   kog-laneformer-2b-the-latency-first-model, as a stored third-party summary gives it); exactly
#:   2,320,069,632 parameters (OpenMed's manifest test for its MLX copy of kogai/laneformer-2b-it,
#:   github.com/maziyarpanahi/openmed tests/unit/core/test_manifest_schema.py). Derived: with
#:   heads of hidden_size / num_attention_heads (Kog's modeling code), SwiGLU, one norm scale per
#:   module and Llama 2's 32,000 tokens, 15 (3d^2 + 3 d f + 2d) + 2 x 32,000 d + d = 2,320,069,632
#:   holds for d = 3,072 with f = 12,288 = 4d and an untied LM head, and for no other multiple of
#:   64 from 1,024 to 8,192 with a whole f (tests/validate/test_laneformer_architecture.py).
#:   Assumed: the 512-token window (a third-party ONNX-export study of the model; Kog's code puts
#:   the window on the first sliding_window_n_layers layers), which DEC-13's <= 384-token
#:   contexts never reach.
STAND_INS: dict[str, dict[str, Any]] = {
    "laneformer-2b": {"name": "laneformer-2b-it", "num_hidden_layers": 15, "hidden_size": 3072,
                      "num_attention_heads": 32, "num_key_value_heads": 16, "intermediate_size": 12288,
                      "vocab_size": 32000, "tie_word_embeddings": False, "sliding_window": 512,
                      "layer_types": ["sliding_attention"] * 10 + ["full_attention"] * 5},
}

#: models trained for one layout, which they run only in: Laneformer's lanes keep residual streams
#: that diverge by design (docs/physics.md 1.2), so the lane count and the delay are the model's,
#: not a deployment choice. Laneformer 2B: "8 lanes (supports DTP with 2-layer delay)" (Kog's
#: Hugging Face post, as summarised above; third-party notes give broadcast_delay 2, num_lanes 8).
#: Kog's code counts broadcast_delay in layers, each stream (attention, MLP) on its own: layer i
#: folds in the other lanes' outputs of layer i - 2, so module m waits for the exchange of
#: m - 1 - 4, i.e. tp_delay 4 modules, the first 4 all-reduced (use_early_comm: layers i < 2), the
#: lanes averaged before the LM head (lm_head_type "replicate", assumed: Kog's default).
TRAINED_LAYOUTS: dict[str, dict[str, Any]] = {
    "laneformer-2b": {"tp": 8, "tp_mode": DELAYED_TP.name, "tp_delay": 4, "tp_delay_start": "sync",
                      "tp_final": "all-reduce"},
}


def model(text: str) -> str | dict[str, Any]:
    """A preset name, an architecture from public prose (:data:`STAND_INS`), or an inline architecture for
    a shape given in words."""
    try:
        key = model_key(text)
        return dict(STAND_INS[key]) if key in STAND_INS else key
    except NotExpressible:
        if re.search(r"\d+\s*layers?", text):
            return gpt_model(text)
        raise


# --------------------------------------------------------------------------- GPUs
def gpu(text: str) -> tuple[str, int | None, float | None]:
    """(GPU preset, count or None, power limit in W or None) from e.g.
    '8x A100-80GB SXM, power-limited 330 W' or '2x H100 80GB'."""
    t = str(text)
    low = t.lower()
    count = None
    m = re.search(r"(\d+)\s*[x×]\s*", t)
    if m:
        count = int(m[1])
    power = None
    m = re.search(r"power[- ]limit\w*\s*(\d+)\s*w", low)
    if m:
        power = float(m[1])
    if "h100" in low:
        name = "h100-pcie" if "pcie" in low else "h100-sxm"
    elif "h200" in low:
        name = "h200"
    elif "b200" in low:
        name = "b200"
    elif "a100" in low:
        # an A100 without a size is the 80 GB SXM4 part (the one in DGX A100 / SuperPods since 2021)
        name = "a100-40gb" if "40gb" in low.replace(" ", "") else "a100-80gb"
    elif "mi300x" in low:
        name = "mi300x"
    elif "l40s" in low:
        name = "l40s"
    elif "4090" in low:
        name = "rtx-4090"
    elif "3090" in low:
        name = "rtx-3090"
    elif "wse-3" in low or "cs-3" in low:
        # a Cerebras CS-3 system holds one WSE-3 wafer (cerebras.ai/system)
        name = "cerebras-wse3"
    else:
        raise NotExpressible(f"hardware {text!r} has no GPU preset")
    return name, count, power


def gpu_assumption(text: str) -> str:
    """What :func:`gpu` assumes for a GPU the text does not pin down, in words for the validation
    table ('' when nothing is assumed): an A100 of unstated size is read as the 80 GB SXM4 part.

    >>> gpu_assumption("1x A100"), gpu_assumption("8x A100-80GB SXM")
    ('A100 size not stated: the 80 GB SXM4 assumed', '')
    """
    low = str(text).lower().replace(" ", "")
    if "a100" in low and "40gb" not in low and "80gb" not in low:
        return "A100 size not stated: the 80 GB SXM4 assumed"
    return ""


# --------------------------------------------------------------------------- engines
#: engine names as tables write them -> runtime presets (first match wins; order matters)
RUNTIMES = (
    # Kog's own engine (its monokernel, KCCL collectives): the kog preset's stage costs
    ("kog inference engine", "kog"),
    # Cerebras Inference (the engine its hosted API runs): the one Cerebras runtime preset, the
    # software as launched in Aug 2024 (host I/O in step with the wafer); Cerebras' Oct 2024
    # release (asynchronous wafer I/O, speculative decoding) has none
    ("cerebras", "cerebras-2024"),
    ("gpt-fast", "gpt-fast"),
    ("fastertransformer", "fastertransformer"),
    ("tensorrt-llm", "trt-llm"), ("trt-llm", "trt-llm"), ("trt", "trt-llm"), ("nim", "trt-llm"),
    ("sglang", "sglang"),
    ("vllm", "vllm"),
    ("llama.cpp", "llama.cpp"),
)


def runtime(text: str) -> str:
    low = str(text).lower()
    for needle, preset in RUNTIMES:
        if needle in low:
            return preset
    raise NotExpressible(f"engine {text!r} has no runtime preset")


# --------------------------------------------------------------------------- speculative methods
#: speculative methods a table names without the draft and acceptance simdecode needs, each with what
#: is missing. EAGLE's gpt-fast integration (SafeAILab/EAGLE branch ``eaglefast``, January 2024:
#: ``model/ea_model.py`` ``eagenerate`` -> ``chaintopK_genrate(sk=3)``, ``chaintree_decoding``) drafts a
#: greedy chain of 3 tokens with the EAGLE head and verifies them in one base-model pass, not the
#: tree of the EAGLE paper (arXiv 2401.15077), whose average acceptance lengths are for that tree.
#: No acceptance length of the chain is published.
SPECULATIVE_METHODS = (
    ("eagle+gpt-fast", "EAGLE on gpt-fast drafts a chain of 3 tokens (SafeAILab/EAGLE eaglefast branch, "
                       "chaintopK_genrate), not the paper's tree: no acceptance length is published for it"),
    ("eagle", "EAGLE: a speculative method whose draft tree and acceptance length are not stated"),
    ("medusa", "Medusa: a speculative method whose heads and acceptance length are not stated"),
)


def speculative_method(text: str) -> str:
    """Why a figure of a speculative method the text names cannot be simulated, or '' when it names none.

    >>> speculative_method("gpt-fast"), speculative_method("EAGLE+gpt-fast")[:29]
    ('', 'EAGLE on gpt-fast drafts a ch')
    """
    low = re.sub(r"\s+", "", str(text).lower())
    return next((why for name, why in SPECULATIVE_METHODS if name in low), "")


# --------------------------------------------------------------------------- expert layout
#: an engine's split for a layout stated as "mixed TP/EP" without sizes: the GPUs that share each
#: expert (the experts' TP group; ep = tp / this). TensorRT-LLM: its DeepSeek-R1 min-latency blog
#: (docs/source/blogs/tech_blog/blog1_..._on_NVIDIA_B200_GPUs.md) names the layout "mixed TP/EP"
#: (Mixed ETP) and its per-user figures at MTP 1-5 (111 TPS/user without MTP, 253 with MTP 3) were
#: run at the row "Introduce EP4TP2 for better workload balance | 253 | Use --tp 8 --ep 4": each
#: expert over 2 GPUs, 4 expert groups. (The same blog calls TP4EP2 best in its Mixed ETP
#: section; that is the later row with the TRTLLM MoE backend, 299 TPS/user.)
MIXED_EXPERT_TP = {"trt-llm": 2}


def expert_parallel(text: str, tp: int, runtime_name: str) -> int:
    """The expert-parallel degree ``ep`` a layout in words states (experts split ``ep`` ways, each
    over tp / ep GPUs: TensorRT-LLM's ``--tp``/``--ep``, simdecode's ``parallelism.ep``).

    The phrase about the experts ('MoE ...', 'experts ...'; else the whole text) is read as:
    ``EP<n>`` anywhere (EP4TP2, TP2EP4, 'EP4 x TP2', 'ep 4') -> n; a MoE ``TP<m>`` alone -> tp / m;
    'mixed TP/EP' without sizes -> the engine's split (:data:`MIXED_EXPERT_TP`); 'EP' alone ->
    tp (every GPU its own experts); nothing about experts -> 1 (the engine's default, experts
    tensor-parallel: TensorRT-LLM's Mapping sets moe_tp_size = tp when no ep is given).
    'attention TP8, MoE mixed TP/EP' on TensorRT-LLM -> 4.
    """
    low = str(text).lower()
    phrases = [p for p in re.split(r"[,;]", low) if re.search(r"\bmoe\b|expert", p)]
    if not phrases and not re.search(r"\bep\s*\d", low):
        return 1
    phrase = " ".join(phrases) or low
    ep_size = re.search(r"\bep\s*(\d+)|--ep\s+(\d+)", phrase)
    tp_size = re.search(r"\btp\s*(\d+)", phrase)
    if ep_size:
        ep = int(ep_size[1] or ep_size[2])
    elif tp_size:
        ep = tp // int(tp_size[1]) if int(tp_size[1]) else 0
    elif "mixed" in phrase:
        if runtime_name not in MIXED_EXPERT_TP:
            raise NotExpressible(f"layout {text!r}: mixed TP/EP without sizes, and no {runtime_name} recipe for it")
        ep = tp // MIXED_EXPERT_TP[runtime_name]
    elif re.search(r"\bep\b|expert[- ]parallel", phrase):
        ep = tp
    else:
        ep = 1
    if ep < 1 or tp % ep:
        raise NotExpressible(f"layout {text!r}: ep {ep} does not divide tp {tp}")
    return ep


# --------------------------------------------------------------------------- figures in a quote
_FIGURE = re.compile(
    r"(?P<value>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*"            # 3,000 / 450 / 2.5
    r"(?:output\s+)?(?:tokens?\s*(?:/\s*s|per\s+second)(?:\s+per\s+request)?\s+)?"
    r"(?P<word>on|for)\s+(?P<what>[^,;()]+?)(?=\s+and\b|\s*[,;()]|\s*\.(?:\s|\.|$)|$)", re.IGNORECASE)


def quoted_figures(quote: str) -> list[tuple[float, str, str]]:
    """Figures a quote ties to a machine or a model, in order: (value, 'on' | 'for', what).

    '3,000 output tokens/s per request on 8x MI300X GPUs and 2,100 on 8x H200' ->
    [(3000, 'on', '8x MI300X GPUs'), (2100, 'on', '8x H200')]; '1,800 tokens per second for
    Llama3.1 8B and 450 tokens per second for Llama3.1 70B' -> [(1800, 'for', 'Llama3.1 8B'),
    (450, 'for', 'Llama3.1 70B')]. 'on' names the hardware, 'for' the model."""
    return [(float(m["value"].replace(",", "")), m["word"].lower(), m["what"].strip())
            for m in _FIGURE.finditer(str(quote))]


# --------------------------------------------------------------------------- precision
_DTYPES = (("nvfp4", "fp4"), ("mxfp4", "fp4"), ("fp4", "fp4"), ("int4", "int4"), ("int8", "int8"),
           ("fp8", "fp8"), ("bf16", "bf16"), ("fp16", "fp16"), ("16-bit", "bf16"))


def weights_dtype(text: str) -> str:
    """The weights' dtype: the first one named ('fp16 / int4' -> fp16; 'bf16 unless noted' -> bf16)."""
    low = str(text).lower()
    found = [(low.find(k), v) for k, v in _DTYPES if k in low]
    if not found:
        raise NotExpressible(f"precision {text!r} names no dtype simdecode knows")
    return min(found)[1]


#: an engine's int4 group size when a table names int4 without one: gpt-fast's quantize.py
#: (``--groupsize``, default 32 since 2023-10; README "4-bit (G=32)", checkpoints ``model_int4.g32.pth``);
#: the EAGLE repository's gpt-fast branch quantises the same way (``model/quantize_llama.py``, default 32)
INT4_GROUP_SIZE = {"gpt-fast": 32}
_GROUP = re.compile(r"\bg\s*=?\s*(\d+)\b|group[- ]?size\s*=?\s*(\d+)", re.IGNORECASE)


def group_size(text: str, weights: str, runtime_name: str) -> int | None:
    """Values per scale and zero of int4 weights: as stated ('int4 g32', '4-bit (G=32)', 'group size
    64'), else the engine's default (:data:`INT4_GROUP_SIZE`), else None (the scenario's default,
    128). Only int4 has groups here (gpt-fast's int8 is per channel).

    >>> group_size("int4 g32", "int4", "vllm"), group_size("fp16 / int4", "int4", "gpt-fast")
    (32, 32)
    >>> group_size("int4", "int4", "vllm") is None, group_size("bf16", "bf16", "gpt-fast") is None
    (True, True)
    """
    if weights != "int4":
        return None
    m = _GROUP.search(str(text))
    if m:
        return int(m[1] or m[2])
    return INT4_GROUP_SIZE.get(runtime_name)


#: module words a precision phrase may scope its dtype to -> PrecisionSpec keys
_MODULE_WORDS = (("attention", ("attention",)), ("moe", ("experts",)), ("expert", ("experts",)),
                 ("ffn", ("mlp",)), ("mlp", ("mlp",)), ("embedding", ("embeddings",)), ("lm head", ("embeddings",)))


def module_dtypes(text: str) -> dict[str, str]:
    """Per-module dtypes a precision stated in words scopes to modules, phrase by phrase (phrases
    split at commas and semicolons): 'NVFP4 MoE/dense FFN, BF16 attention' ->
    {'experts': 'fp4', 'mlp': 'fp4', 'attention': 'bf16'} (TensorRT-LLM's DeepSeek-R1 recipe keeps
    attention in bf16). A phrase without a module word ('fp16 / int4') scopes nothing: its dtype
    is the weights' default (:func:`weights_dtype`)."""
    out: dict[str, str] = {}
    for phrase in re.split(r"[,;]", str(text).lower()):
        found = [(phrase.find(k), v) for k, v in _DTYPES if k in phrase]
        if not found:
            continue
        dtype = min(found)[1]
        for word, keys in _MODULE_WORDS:
            if word in phrase:
                for key in keys:
                    out.setdefault(key, dtype)
    return out


def kv_dtype(weights: str, runtime_name: str) -> str:
    """The engine's default KV-cache dtype for a checkpoint of ``weights``: TensorRT-LLM serves
    NVIDIA's FP8/FP4 checkpoints (ModelOpt, ``kv_cache_quant_algo: FP8``) with an FP8 cache;
    vLLM and SGLang default to ``kv_cache_dtype=auto``, the model's 16-bit dtype."""
    if weights in ("fp8", "fp4") and runtime_name == "trt-llm":
        return "fp8"
    return "fp16" if weights == "fp16" else "bf16"


def embeddings_dtype(weights: str) -> dict[str, str]:
    """The embedding table's and LM head's dtype in a checkpoint of ``weights``, as a precision
    override: FP8 and NVFP4 checkpoints keep them in bf16 (NVIDIA ModelOpt FP8, e.g. nvidia/Llama-3.1-
    70B-Instruct-FP8: ``exclude_modules: [lm_head]``; llm-compressor FP8: ``ignore: [lm_head]``;
    DeepSeek-V3: only the linear layers in fp8; costmodel/precision.native_from_hf). ModelOpt's NVFP4
    export does the same: its default quantiser config disables ``*lm_head*`` and the exported
    ``hf_quant_config.json`` says ``quant_algo: NVFP4, group_size: 16, exclude_modules: [lm_head]``
    (the InferenceX FP4 sweeps serve nvidia/Llama-3.3-70B-Instruct-FP4, ModelOpt 0.23; the embedding
    table is no linear layer and stays bf16 too). The LM head is read every step: 2.10 GB at bf16 for
    Llama-70B's 128,256 x 8192, not 1.05 GB in fp8 or 0.59 GB in NVFP4 (0.5625 B per value)."""
    return {"embeddings": "bf16"} if weights in ("fp8", "fp4", "nvfp4") else {}


#: a checkpoint's quantised weight formats -> the precision word a benchmark names them by
_FAMILY = {"mxfp4": "fp4", "nvfp4": "fp4", "fp4": "fp4", "fp8": "fp8", "int4": "int4", "int8": "int8"}


def weight_precision(model_name: str, weights: str) -> dict[str, str]:
    """The ``precision`` keys for weights named ``weights`` on a model preset: the checkpoint as
    shipped when its own quantised formats are what ``weights`` names, else ``weights`` everywhere
    (an engine's or a vendor's quantised copy of a 16-bit checkpoint) with :func:`embeddings_dtype`.

    gpt-oss-120b is published only in MXFP4 and the InferenceX runs serve ``openai/gpt-oss-120b``
    as shipped (``benchmarks/single_node/gptoss_fp4_h100.sh``: ``vllm serve $MODEL`` with no
    quantisation flag): its config.json ``quantization_config`` keeps attention, router,
    embeddings and LM head in bf16 and only the experts in MXFP4 (0.53125 B per value), so an
    "fp4" sweep of it is not every matrix in NVFP4. DeepSeek-V3's FP8 checkpoint resolves to the
    same keys either way ({weights: fp8, embeddings: bf16}); Llama-3.1-70B's checkpoint is bf16,
    so its "fp8" sweeps keep weights fp8 with bf16 embeddings.
    """
    from simdecode.presets import PresetError, resolve

    try:
        native = resolve("models", model_name).get("native_precision") or {}
    except PresetError:  # not a preset: no checkpoint to read
        native = {}
    quantised = {_FAMILY.get(v) for v in native.values() if v not in ("bf16", "fp16", "fp32")}
    if quantised == {weights}:
        return {}  # the checkpoint's own per-module dtypes (costmodel/precision.resolve)
    return {"weights": weights, **embeddings_dtype(weights)}


def runtime_measured_on(runtime_name: str | None) -> str:
    """The GPU preset a runtime preset's kernel costs were measured on (its ``measured_on:`` key in
    runtimes.yaml), '' for a runtime whose costs hold on any GPU or that is no preset. On another
    GPU they are an assumption, not physics the case can test (kog: Kog's 0.9 us flag wait and
    0.5 us HBM restart per stage, measured on MI300X; Kog publishes none for its H200 port)."""
    from simdecode import presets

    if not isinstance(runtime_name, str) or runtime_name not in presets.names("runtimes"):
        return ""
    return presets.measured_on("runtimes", runtime_name)


def is_kernel_side(model_spec: Any, weights: str, gpu_name: str | None = None, runtime_name: str | None = None) -> str:
    """Why a case's accuracy waits for kernel-side physics (MoE, MLA, FP4, weight-only integer
    dequantisation: issue 12; an engine's kernel costs measured on another GPU,
    :func:`runtime_measured_on`), or '' if it does not."""
    from simdecode.presets import resolve
    from simdecode.scenario.model import ModelSpec

    spec = ModelSpec.model_validate(resolve("models", model_spec)) if not isinstance(model_spec, ModelSpec) else model_spec
    why = []
    if spec.is_moe:
        why.append("MoE")
    if spec.uses_mla:
        why.append("MLA")
    if weights in ("fp4", "int4", "int8"):
        why.append(f"{weights} weights")
    measured_on = runtime_measured_on(runtime_name)
    if measured_on and gpu_name and gpu_name != measured_on:
        why.append(f"{runtime_name} kernel costs measured on {measured_on}")
    return ", ".join(why)
