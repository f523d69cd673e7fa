"""A model placed on GPUs: what each GPU of each pipeline stage holds and how fast it runs.

:class:`Deployment` bundles the resolved specs a step plan needs (architecture, precision,
device rates, links, runtime, parallel layout) and precomputes the per-GPU weight shares, so
plans are cheap to build on every step. Pure data; no simulation.

Sharding (Megatron-LM, Shoeybi et al. 2019, arXiv 1909.08053):
- attention heads split over the TP group; KV heads too when there are at least ``tp`` of them,
  else each GPU keeps one replicated KV head (vLLM's rule);
- MLA latent projections (q_a, kv_a) and the latent KV cache are replicated on every TP rank;
- MLP and expert matrices split over the TP group;
- the LM head is split only if the runtime shards it (vocab-parallel), and the embedding with it;
- pipeline stages take contiguous, equal runs of layers; the first holds the embedding and the
  last the LM head (when the embedding is tied, both stages hold a copy).

Whether it fits the GPUs' memory is :mod:`simdecode.costmodel.memory`'s and
:mod:`simdecode.costmodel.feasibility`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

from simdecode import tp_schedules
from simdecode.costmodel import architecture as arch
from simdecode.costmodel import blackwell_gemm, compressed
from simdecode.costmodel import layers as mixers
from simdecode.costmodel import precision as precision_mod
from simdecode.costmodel.batch import Caps
from simdecode.costmodel.devices import workspace_bytes
from simdecode.costmodel.efficiency import (FP4_FORMATS, Part, dequant_seconds, fp4_dequant_seconds,
                                           marlin_math_in_series, marlin_passes)
from simdecode.costmodel.pcie import PcieHierarchy
from simdecode.costmodel.roofline import DeviceRates, dtype_bytes, power_throttle
from simdecode.scenario.hardware import GpuSpec, LinkSpec, RuntimeSpec
from simdecode.scenario.model import ModelSpec


def effective_link(link: LinkSpec, peer_to_peer: bool) -> LinkSpec:
    """The path GPU-to-GPU data really takes. Without peer-to-peer (GeForce cards) every transfer
    is written to host memory and read back by the peer (NCCL's SHM transport): two PCIe
    crossings, so twice the latency and half the bandwidth (HW-08 notes; CO-09: 8x RTX 4090
    all-reduce of 8 B takes 43.5 us against ~20 us on NVLink)."""
    if peer_to_peer:
        return link
    return link.model_copy(update={"latency_s": 2 * link.latency_s, "bandwidth_Bps": link.bandwidth_Bps / 2,
                                   "name": f"{link.name} via host"})


def pcie_hierarchy(hw) -> PcieHierarchy | None:
    """The PCIe switches and CPU sockets of a node of ``hw`` (a HardwareSpec) on a PCIe link;
    None on any other link. GPUs split evenly over the switches, the switches over the sockets."""
    if hw.link.topology != "pcie":
        return None
    n = hw.gpus_per_node
    return PcieHierarchy(gpus_per_switch=-(-n // hw.switch_groups), gpus_per_socket=-(-n // hw.sockets),
                         peer_to_peer=hw.gpu.peer_to_peer)


def _runtime_as_run(scenario, link: LinkSpec, tp_nodes: int) -> RuntimeSpec:
    """The runtime with NCCL in place of custom all-reduce kernels where the engine itself
    falls back (:mod:`simdecode.costmodel.allreduce_rules`)."""
    from simdecode.costmodel.allreduce_rules import custom_allreduce_fallback

    rt, hw = scenario.runtime, scenario.hardware
    why = custom_allreduce_fallback(rt.engine, rt.allreduce_impl, scenario.parallelism.tp, link.transport,
                                    hw.gpu.peer_to_peer, tp_nodes)
    return rt.model_copy(update={"allreduce_impl": "nccl"}) if why else rt


@dataclass(frozen=True)
class Deployment:
    model: ModelSpec
    rates: DeviceRates
    runtime: RuntimeSpec
    link: LinkSpec                 # intra-node link of the TP group
    inter_link: LinkSpec           # between nodes
    tp: int
    pp: int
    allreduce: str
    tp_mode: str
    tp_delay: int
    tp_delay_start: str            # delayed mode: "sync" | "local" first modules
    tp_final: str                  # delayed mode: "all-reduce" | "vocab-parallel" before the LM head
    tp_chunks: int                 # chunked-overlap mode: token chunks per module
    tp_nodes: int                  # nodes one TP group spans
    ep: int                        # expert-parallel degree inside the TP group
    gpus_per_node: int
    nics_per_node: int
    pp_link: LinkSpec              # link between consecutive stages
    weight_bytes_per_value: float  # bytes per stored parameter (dtype size with block scales)
    kv_bytes_per_value: float      # bytes per cached element
    act_bytes_per_value: float     # bytes per activation element (collectives, p2p)
    templates: dict = field(default_factory=dict, compare=False, repr=False)  # plan templates by (stage, chunks)
    #: op costs that do not read the step's context, by (stage, chunks, seqs, new, logit tokens): costmodel.plan
    step_costs: dict = field(default_factory=dict, compare=False, repr=False)
    precision: precision_mod.ModulePrecision | None = None  # dtypes per module (None: weight_bytes_per_value for all)
    gpu: GpuSpec | None = None
    spatial: bool = False          # weights pinned to the cores that use them (costmodel/devices.py)
    workspace_bytes: float | None = None  # kept free on every device; None: the engine's (costmodel/memory.py)
    pcie: PcieHierarchy | None = None  # PCIe switches and sockets of the node (costmodel/pcie.py); None: flat
    mtp_module: bool = False       # an MTP draft pass: the module's norms and eh_proj run first (costmodel/mtp.py)
    mtp_glue_kernels: int = 0      # an MTP draft pass: small kernels after its LM head (costmodel/mtp.py)
    attention_dp: bool = False     # attention, dense MLPs and shared experts per rank, tp 1 (costmodel/attention_dp.py)

    @classmethod
    def from_scenario(cls, scenario) -> Deployment:
        """Resolve a :class:`~simdecode.scenario.schema.Scenario` into a deployment.

        The one place a scenario becomes a deployment (with :func:`deployment_with_tp` and
        :func:`draft_deployment` below, which call it on a changed scenario): the rest of the cost
        model takes a Deployment, specs and numbers, never a scenario."""
        par, hw, prec = scenario.parallelism, scenario.hardware, scenario.precision
        tp_nodes = max(1, -(-par.tp // hw.gpus_per_node))
        # a pipeline hop stays inside a node while a replica's GPUs fit in one
        stage_crosses_node = par.tp * par.pp > hw.gpus_per_node
        link = effective_link(hw.link, hw.gpu.peer_to_peer)
        native = scenario.model.native_precision
        modules = precision_mod.resolve(prec, native.model_dump(exclude_none=True) if native else None)
        in_memory = hw.gpu.kind != "logic"
        return cls(
            model=scenario.model,
            rates=DeviceRates.of(hw.gpu, scenario.runtime, modules.mlp, prec.activations),
            runtime=_runtime_as_run(scenario, link, tp_nodes),
            link=link,
            inter_link=hw.inter_node_link,
            tp=par.tp, pp=par.pp, allreduce=par.allreduce, tp_mode=par.tp_mode, tp_delay=par.tp_delay,
            tp_delay_start=par.tp_delay_start, tp_final=par.tp_final, tp_chunks=par.tp_chunks,
            tp_nodes=tp_nodes, gpus_per_node=hw.gpus_per_node, nics_per_node=hw.nics_per_node, ep=par.ep,
            pp_link=hw.inter_node_link if stage_crosses_node else link,
            weight_bytes_per_value=(precision_mod.weight_bytes_per_value(modules.mlp, prec.group_size)
                                    if in_memory else 0.0),
            kv_bytes_per_value=dtype_bytes(modules.kv_cache),
            act_bytes_per_value=dtype_bytes(prec.activations),
            # weights wired into logic (kind: logic) take no memory and no bandwidth: no module dtypes
            precision=modules if in_memory else None,
            gpu=hw.gpu,
            spatial=hw.gpu.kind == "sram" and hw.gpu.spatial,
            workspace_bytes=workspace_bytes(hw.gpu),
            pcie=pcie_hierarchy(hw),
            attention_dp=par.attention_dp and par.tp > 1,
        )

    @cached_property
    def attention_local(self) -> Deployment:
        """Under attention data parallelism, the deployment one rank runs its attention, dense MLPs,
        shared experts, embedding and LM head on: the same GPU, tensor-parallel degree 1, no expert
        parallelism (costmodel/attention_dp.py); this deployment itself otherwise."""
        if not self.attention_dp:
            return self
        return replace(self, tp=1, ep=1, tp_nodes=1, attention_dp=False, tp_mode=tp_schedules.DEFAULT,
                       templates={}, step_costs={})

    # ---- precision per module ----------------------------------------------------------------
    def bytes_of(self, module: str) -> float:
        """Bytes per stored weight of ``module`` (attention, mlp, experts, embeddings)."""
        return self.precision.bytes_of(module) if self.precision else self.weight_bytes_per_value

    def quant_kernels(self, module: str, gemms: int) -> int:
        """Activation-quantisation kernels before ``gemms`` GEMMs of ``module`` (block-scaled fp8 only:
        precision.activation_quant_kernels)."""
        if self.gpu is None or self.precision is None:
            return 0
        return precision_mod.activation_quant_kernels(self.gpu, self.precision, module, gemms)

    def part(self, term: str, params: float, hbm_bytes: float, flops: float, kernels: float,
             module: str | None, tile_share: float = 1.0, rows: float | None = None) -> Part:
        """A :class:`~simdecode.costmodel.efficiency.Part` whose math runs at ``module``'s dtype (None:
        the activations'), charging the dequantisation of ``params`` weights if the format is weight-only;
        ``tile_share`` is the useful share of the tensor-core tiles (thin GEMMs, efficiency.padded_rows).
        FP4 weight-only parts run in Marlin: its e2m1 decode is repeated for every 64 of the ``rows``
        (tokens) each weight meets, and its mma.sync math reaches ``gpu.warp_mma_share`` of the peak
        (efficiency.marlin_passes); in the routed experts (``fused_marlin_moe``) past one 16-row MMA block
        its math adds to its decode rather than hiding behind it (efficiency.marlin_math_in_series:
        ``Part.math_in_series``; the dense Marlin GEMM keeps the overlap: not measured)."""
        key = ("part rates", module, params, tile_share, rows)
        rates = self.step_costs.get(key)
        if rates is None:
            rates = self.step_costs[key] = self._part_rates(params, module, tile_share, rows)
        rate, peak, dequant, in_series = rates
        return Part(term, hbm_bytes, flops, kernels, rate, peak, dequant, math_in_series=in_series)

    def _part_rates(self, params: float, module: str | None, tile_share: float,
                    rows: float | None) -> tuple[float, float, float, bool]:
        """What :meth:`part` charges besides the bytes, FLOPs and kernels it is given: (achieved
        FLOP/s, peak FLOP/s, dequantisation seconds, math in series with the decode). They depend
        only on the arguments (and this deployment), so :meth:`part` keeps them in ``step_costs``
        by (module, params, tile_share, rows): a step's attention asks for the same ones every step."""
        gpu, prec = self.gpu, self.precision
        if gpu is None or prec is None:
            return self.rates.flops_per_s * tile_share, self.rates.peak_flops_per_s, 0.0, False
        weights = getattr(prec, module) if module in precision_mod.MODULES else prec.activations
        key = precision_mod.math_dtype(gpu, weights, prec.activations)
        throttle = power_throttle(gpu)
        peak = gpu.flops_per_s[key] * throttle
        # NVFP4 math on Blackwell reaches less of its peak than the fp8 the efficiency holds (blackwell_gemm.py)
        rate = blackwell_gemm.large_gemm_flops_per_s(peak, self.runtime.compute_efficiency, gpu.compute_capability, key)
        dequant, mma_share, in_series = 0.0, 1.0, False
        if module in precision_mod.MODULES and params > 0 and precision_mod.weight_only(gpu, weights, prec.activations):
            vector = gpu.vector_flops_per_s or gpu.flops_per_s.get("bf16", peak) / 16
            if weights in FP4_FORMATS:  # Marlin's e2m1 decode, bound by the integer pipe, once per 64 rows
                dequant = marlin_passes(rows) * fp4_dequant_seconds(
                    params, vector * throttle, self.runtime.compute_efficiency, gpu.int32_share)
                mma_share = gpu.warp_mma_share  # Marlin multiplies with mma.sync
                # fused_marlin_moe past one 16-row block: math after the decode (dense Marlin: not measured)
                in_series = module == "experts" and marlin_math_in_series(rows)
            else:
                dequant = dequant_seconds(params, vector * throttle)
        return rate * tile_share * mma_share, peak, dequant, in_series

    @property
    def window(self) -> int | Caps | None:
        """The token cap of capped attention layers: the sliding window of sliding-attention
        layers, or DSA's top-k (a model has at most one of them); None: every layer reads it all.
        DeepSeek-V4: both, as :class:`~simdecode.costmodel.batch.Caps` (the window of every layer,
        and m x index_topk tokens for its compressed-sparse layers)."""
        m = self.model
        if m.has_compressed_attention:
            sparse = m.index_topk * m.rates[compressed.CSA] if m.index_topk is not None else None
            return Caps(m.sliding_window, sparse)
        if m.layer_types is not None and "sliding_attention" in m.layer_types:
            return m.sliding_window
        return m.index_topk

    # ---- layout -------------------------------------------------------------------------
    def stage_layers(self, stage: int) -> range:
        """Layers held by pipeline stage ``stage`` (equal contiguous runs; the first stages
        take one more layer when the split is uneven)."""
        n, p = self.model.num_hidden_layers, self.pp
        base, extra = divmod(n, p)
        start = stage * base + min(stage, extra)
        return range(start, start + base + (1 if stage < extra else 0))

    @cached_property
    def counts(self) -> arch.ParameterCounts:
        return arch.parameter_counts(self.model)

    @cached_property
    def kv_heads_per_gpu(self) -> float:
        return max(self.model.kv_heads / self.tp, 1.0)

    def attention_params_per_gpu(self, layer: int | None = None) -> float:
        """Token-mixing weights one TP rank holds for layer ``layer`` (default: an attention
        layer); see the module docstring and :mod:`simdecode.costmodel.layers`."""
        m, t = self.model, self.tp
        stateful = None if layer is None else mixers.mixer_params(m, layer)
        if stateful is not None:  # Gated DeltaNet, Mamba-2, or no mixer
            return stateful / t
        if m.has_compressed_attention:  # DeepSeek-V4 (costmodel/compressed.py)
            return compressed.params_per_gpu(m, 0 if layer is None else layer, t)
        h = m.hidden_size
        gate = mixers.output_gate_params(m) / t
        if m.uses_mla:
            replicated = h * (m.q_lora_rank or 0) + h * ((m.kv_lora_rank or 0) + (m.qk_rope_head_dim or 0))
            return replicated + (arch.attention_params_per_layer(m) - replicated) / t + mixers.indexer_params(m)
        d = m.head_width
        return 2 * h * d * m.num_attention_heads / t + 2 * h * d * self.kv_heads_per_gpu + gate

    def kv_elements_per_gpu_per_layer(self) -> float:
        """Cached values per token per layer on one TP rank."""
        m = self.model
        if m.uses_mla:
            return arch.kv_elements_per_token_per_layer(m)
        return 2 * self.kv_heads_per_gpu * m.head_width

    def kv_bytes_per_token_per_gpu(self, stage: int = 0) -> float:
        """KV-cache bytes one token of context takes on one GPU of ``stage`` (its layers that
        cache keys and values; linear-attention layers hold a fixed state instead). DeepSeek-V4: the
        compressed entries per token, amortised (its cache is replicated on every TP rank). Under
        attention DP a token's whole cache sits on the one GPU that serves its request."""
        return self._once_per_stage("kv bytes per token", stage, self._kv_bytes_per_token_per_gpu)

    def _kv_bytes_per_token_per_gpu(self, stage: int) -> float:
        if self.attention_dp:
            return self.attention_local.kv_bytes_per_token_per_gpu(stage)
        if self.model.has_compressed_attention:
            return compressed.kv_bytes_per_token(self.model, self.kv_bytes_per_value, self.stage_layers(stage))
        return (mixers.kv_layers(self.model, self.stage_layers(stage)) * self.kv_elements_per_gpu_per_layer()
                * self.kv_bytes_per_value)

    def state_bytes_per_sequence_per_gpu(self, stage: int = 0) -> float:
        """Fixed recurrent-state bytes one running sequence holds on one GPU of ``stage``
        (DeepSeek-V4: its windows and compressor states, replicated on every TP rank)."""
        return self._once_per_stage("state bytes per sequence", stage, self._state_bytes_per_sequence_per_gpu)

    def _state_bytes_per_sequence_per_gpu(self, stage: int) -> float:
        if self.attention_dp:
            return self.attention_local.state_bytes_per_sequence_per_gpu(stage)
        if self.model.has_compressed_attention:
            return compressed.fixed_bytes(self.model, self.kv_bytes_per_value, self.stage_layers(stage))
        return mixers.state_elements(self.model, self.stage_layers(stage)) / self.tp * self.kv_bytes_per_value

    @property
    def vocab_parallel(self) -> bool:
        """The LM head (and the embedding) are split by vocabulary over the TP group: the
        runtime does it, or delayed TP gives each lane a vocabulary shard (``tp_final``). Never under
        attention DP: each rank holds the whole head for its own requests."""
        if self.tp <= 1 or self.attention_dp:
            return False
        return self.runtime.shard_lm_head or tp_schedules.get(self.tp_mode).vocab_parallel_head(self.tp_final)

    def lm_head_params_per_gpu(self) -> float:
        head = self.counts.lm_head or self.counts.embedding
        return head / self.tp if self.vocab_parallel else head

    def embedding_params_per_gpu(self) -> float:
        emb = self.counts.embedding
        return emb / self.tp if self.vocab_parallel else emb

    def mlp_params_per_gpu(self, layer: int) -> float:
        """MLP (or MoE: router + shared + all routed experts) weights one GPU stores for a layer."""
        m, c = self.model, self.counts
        if not mixers.has_mlp(m, layer):
            return 0.0
        if arch.layer_is_moe(m, layer):
            # E/ep whole experts split tp/ep ways = E/tp expert-equivalents either way
            experts = (c.num_experts + c.shared_experts) * c.expert / self.tp
            return m.hidden_size * c.num_experts + experts
        return arch.mlp_params(m, m.intermediate_size) / self.tp

    def weight_bytes_per_gpu(self, stage: int) -> float:
        """Bytes of weights one GPU of ``stage`` stores (all experts included), each module in its
        own dtype with its block scales; the router in the activations' dtype (bf16). Under attention DP
        everything but the routed experts is replicated: held as at tp 1 (:attr:`attention_local`).
        Summed over the stage's layers once per (deployment, stage) (:meth:`_once_per_stage`)."""
        return self._once_per_stage("weight bytes", stage, self._weight_bytes_per_gpu)

    @cached_property
    def _per_stage(self) -> dict:
        """Sums over a stage's layers, by (what, stage) (:meth:`_once_per_stage`)."""
        return {}

    def _once_per_stage(self, what: str, stage: int, compute) -> float:
        """``compute(stage)``, a sum over the stage's layers, computed once per (deployment, stage): a
        deployment never changes (a copy made with ``dataclasses.replace`` starts with no sums), and
        ``estimate`` asks for the weights, KV and state bytes of thousands of deployments, for every
        batch and context it tries, and models of hundreds of layers."""
        memo = self._per_stage
        if (what, stage) not in memo:
            memo[what, stage] = compute(stage)
        return memo[what, stage]

    def _weight_bytes_per_gpu(self, stage: int) -> float:
        nbytes = 0.0
        local = self.attention_local
        for i in self.stage_layers(stage):
            if self.model.has_compressed_attention:  # fp8 projections, bf16 compressors
                nbytes += compressed.weight_bytes_per_gpu(self.model, i, local.tp, self.bytes_of("attention"))
            else:
                nbytes += local.attention_params_per_gpu(i) * self.bytes_of("attention")
            if arch.layer_is_moe(self.model, i):
                c = self.counts
                nbytes += self.model.hidden_size * c.num_experts * self.act_bytes_per_value  # router, bf16
                nbytes += c.num_experts * c.expert / self.tp * self.bytes_of("experts")
                nbytes += c.shared_experts * c.expert / local.tp * self.bytes_of("mlp")
            else:
                nbytes += local.mlp_params_per_gpu(i) * self.bytes_of("mlp")
        if stage == 0:
            nbytes += local.embedding_params_per_gpu() * self.bytes_of("embeddings")
        if stage == self.pp - 1 and (not self.model.tie_word_embeddings or self.pp > 1):
            nbytes += local.lm_head_params_per_gpu() * self.bytes_of("embeddings")
        return nbytes

    def max_weight_bytes_per_gpu(self) -> float:
        return max(self.weight_bytes_per_gpu(s) for s in range(self.pp))


def deployment_with_tp(scenario, tp: int) -> Deployment:
    """``scenario``'s deployment with tensor-parallel degree ``tp`` (everything else unchanged)."""
    par = scenario.parallelism.model_copy(update={"tp": tp})
    return Deployment.from_scenario(scenario.model_copy(update={"parallelism": par}))


def draft_deployment(scenario) -> Deployment:
    """The deployment one draft pass of ``scenario``'s speculative decoding runs (see
    simdecode.engine.speculation):

    - ``mtp``: a one-layer copy of the target (the MTP block) with its embedding and LM head,
      same TP, one stage, plus the module's own input work (two RMSNorms, the concatenation and
      the 2h x h projection ``eh_proj`` with its all-reduce: costmodel/mtp.py), its MLP and
      experts stored in the attention's dtype (the MTP layer is left out of FFN-only quantisation);
    - ``draft``: the draft model with the target's tp on the target's GPUs when its heads allow
      (``draft_placement: shared``), else tp 1 (and always tp 1 on a GPU of its own).
    Draft passes run in the same captured graph as the verify step: no host step overhead."""
    d, par = scenario.decoding, scenario.parallelism
    runtime = scenario.runtime.model_copy(update={"step_overhead_s": 0.0})
    if d.method == "mtp":
        module = scenario.model.model_copy(update={
            "name": f"{scenario.model.name} MTP module", "num_hidden_layers": 1, "first_k_dense_replace": 0,
            "num_nextn_predict_layers": 0, "layer_types": None,
            # DeepSeek-V4's MTP block attends through the window only (config.json compress_ratios
            # gives it 0, the entry past the main layers)
            **({"compress_ratios": (0,)} if scenario.model.has_compressed_attention else {}),
        })
        layout = par.model_copy(update={"pp": 1})
        dep = Deployment.from_scenario(scenario.model_copy(update={"model": module, "parallelism": layout,
                                                                   "runtime": runtime}))
        # the MTP layer is stored like the layers a quantisation recipe leaves alone (attention):
        # NVIDIA's DeepSeek-R1 NVFP4 checkpoint excludes ``model.layers.61*`` (the MTP layer) from
        # fp4 (hf_quant_config exclude_modules), DeepSeek's own FP8 checkpoint quantises it like
        # attention (fp8); TensorRT-LLM's eh_proj is in the model dtype (costmodel/mtp.py)
        prec = dep.precision
        if prec is not None:
            prec = replace(prec, mlp=prec.attention, experts=prec.attention)
        return replace(dep, mtp_module=True, precision=prec, templates={}, step_costs={})
    draft = d.draft_model
    tp = 1
    if d.draft_placement == "shared":
        kv = draft.kv_heads
        fits = draft.num_attention_heads % par.tp == 0 and (kv % par.tp == 0 or par.tp % kv == 0)
        tp = par.tp if fits else 1
    layout = par.model_copy(update={"tp": tp, "pp": 1, "ep": 1, "tp_mode": tp_schedules.DEFAULT})
    return Deployment.from_scenario(scenario.model_copy(update={"model": draft, "parallelism": layout,
                                                                "runtime": runtime}))


@dataclass(frozen=True)
class DraftPass:
    """One draft pass of a speculative step: the deployment it runs on, the tokens each sequence
    runs through it, and the positions it needs logits at (a count > 1 keeps a multi-token
    pass in the decode form of attention, like a verify step; the head's few extra rows cost
    nothing next to its weights)."""

    dep: Deployment
    tokens: int
    logits: int


def draft_passes(scenario, draft: Deployment | None = None) -> tuple[DraftPass, ...]:
    """The draft passes before one verify step of ``scenario``, in order (``draft``: the
    deployment :func:`draft_deployment` returns, if already built).

    A draft model or a token tree: one pass per level, each sequence running the level's
    candidates. MTP (costmodel/mtp.py): k passes whose tokens per sequence follow
    ``decoding.mtp_mode`` (vanilla k each; eagle k + 1, then 1), each followed by its sampling
    and input-shifting kernels, the first also by the verify step's acceptance kernels."""
    from simdecode.costmodel import mtp

    d = scenario.decoding
    draft = draft if draft is not None else draft_deployment(scenario)
    if d.method != "mtp":
        return tuple(DraftPass(draft, w, w) for w in d.draft_widths)
    k = d.proposals
    tokens = d.draft_widths if d.tree is not None else mtp.pass_tokens(d.mtp_mode, k)
    variants: dict[int, Deployment] = {}
    templates: dict = {}  # the passes share their ops (a template with the glue op), not their costs
    out = []
    for n, glue in zip(tokens, mtp.glue_kernels(d.mtp_mode, k)):
        dep = variants.get(glue)
        if dep is None:
            dep = variants[glue] = replace(draft, mtp_glue_kernels=glue, templates=templates, step_costs={})
        out.append(DraftPass(dep, n, n))
    return tuple(out)
