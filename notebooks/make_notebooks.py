"""Write (and with --execute, run and save with outputs) the teaching notebooks in this folder.

    PYTHONPATH=.. python make_notebooks.py --execute

The notebooks are generated from the cells below so that their source is reviewed as plain text;
edit here, not in the .ipynb files. Each notebook opens with its question, derives the analytic
answer, simulates, compares the two, and ends with a ``KEY_NUMBERS`` cell whose asserts
``tests/test_notebooks.py`` relies on. The logic lives in the simdecode package; cells only call it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
%matplotlib inline
import json
from simdecode import load_scenario
from simdecode.sweep import sweep
SCENARIOS = "../scenarios/"   # notebooks run from notebooks/"""

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

NOTEBOOKS["01-pipeline-does-not-speed-up-one-request.ipynb"] = [
    ("md", """\
# 01 · Why layer (pipeline) parallelism does not speed up one request

**Question.** Llama-3.1-70B in bf16 barely fits on two H100s. Split its 80 layers into pipeline stages, two
GPUs per stage, and add stages: pp = 1, 2, 4 uses 2, 4, 8 GPUs. Does *one* request decode faster? Does the
*server* serve more? And what happens to the time to first token (TTFT)?

A hint from the discussion this project started from: *what is in the KV cache when you start processing the
second token?* The first token's keys and values, which every layer wrote. Token 2 cannot start layer 1 before
token 1 has left layer 80."""),
    ("code", SETUP + """
from simdecode.analysis.pipeline import layout
scenario = load_scenario(SCENARIOS + "pipeline-depth-vs-ttft.yaml")
print(scenario.model.name, "tp", scenario.parallelism.tp, "per stage;", scenario.workload.prompt_tokens,
      "prompt tokens,", scenario.workload.output_tokens, "output tokens")"""),
    ("md", """\
## The analytic answer

One token of one request visits the stages in turn. With the tensor-parallel degree held fixed, stage *s* holds
1/pp of the layers and streams 1/pp of the weights from the same kind of GPU, so its time is about T₁/pp, where T₁
is the token time at pp = 1. Add pp − 1 stage-to-stage hops of activations (8 KiB here, a few µs):

T_token(pp) = Σₛ T₁/pp + (pp − 1)·T_hop = T₁ + (pp − 1)·T_hop ≥ T₁.

So one request never gets faster. Several requests can overlap — stage 2 works on micro-batch A while stage 1
works on B — but every micro-batch still streams all the weights once per token, so in a memory-bound step the
aggregate rate stays about B / T₁ too. Depth adds throughput when pp = 1 was short of something: **KV memory**
(each GPU holds 1/pp of the weights, leaving room for more requests in the batch) or **compute**.
`simdecode.analysis.pipeline.layout` evaluates this from the same step plans the simulator runs:"""),
    ("code", """\
analytic = {(pp, c): layout(scenario, pp, c) for pp in (1, 2, 4) for c in (1, 16)}
for (pp, c), a in analytic.items():
    print(f"pp {pp} ({a['gpus']} GPUs), {c:>2} in flight: token {a['token_s']*1e3:6.2f} ms -> "
          f"{a['per_request_tps']:5.1f} tok/s per request; KV cache holds {a['requests_fit']:>4} requests, "
          f"{a['in_flight']:>2} decode at once, ~{a['aggregate_tps']:4.0f} tok/s in all")"""),
    ("md", """\
## Simulate

The same question as a sweep: depth × requests in flight, every request and every step simulated
(`simdecode sweep scenarios/pipeline-depth-vs-ttft.yaml --out DIR` does the same from the shell)."""),
    ("code", """\
result = sweep(SCENARIOS + "pipeline-depth-vs-ttft.yaml",
               vary=["parallelism.pp=1,2,4", "workload.arrival.concurrency=1,16"],
               overrides=["workload.requests=16", "simulation.fidelity=step"])
for r in result.rows:
    print(f"pp {r['parallelism.pp']}, {r['workload.arrival.concurrency']:>2} in flight: "
          f"{r['per_request_tps.mean']:5.1f} tok/s per request, {r['aggregate_tps']:5.0f} tok/s in all, "
          f"TTFT {r['ttft_ms.mean']:7.1f} ms, bottleneck {r['bottleneck']}")"""),
    ("code", """\
from simdecode.plots import pipeline_figure
axes = pipeline_figure(result.rows)
axes[0].figure"""),
    ("md", """\
## Compare

At one request in flight the simulation and the formula agree: the per-request rate does not rise with depth
(it falls by the hops), and TTFT does not fall — the prompt's prefill also crosses every stage in turn. With 16
requests in flight, pp = 1 is short of KV memory (bottleneck `kv-capacity`: only a few requests fit), so pp = 2
serves several times more; beyond that, more stages add GPUs but little throughput. At pp ≥ 2 the analytic
aggregate is higher than the simulated one because it ignores the prefills that share the steps with decoding;
at pp 1 it is lower, because it counts only the 3 requests whose whole 640 tokens fit, while the paged cache
admits a fourth whenever the others' last tokens are not yet written (3.6 decode at once on average)."""),
    ("code", """\
sim = {(r["parallelism.pp"], r["workload.arrival.concurrency"]): r for r in result.rows}
single = [sim[pp, 1]["per_request_tps.mean"] for pp in (1, 2, 4)]
ttft = [sim[pp, 1]["ttft_ms.mean"] for pp in (1, 2, 4)]
busy = [sim[pp, 16]["aggregate_tps"] for pp in (1, 2, 4)]
KEY_NUMBERS = {
    "per_request_tps_pp1": single[0], "per_request_tps_pp4": single[2],
    "analytic_per_request_tps_pp1": analytic[1, 1]["per_request_tps"],
    "ttft_ms_pp1": ttft[0], "ttft_ms_pp4": ttft[2],
    "aggregate_tps_c16_pp1": busy[0], "aggregate_tps_c16_pp2": busy[1],
    "requests_fit_pp1": analytic[1, 16]["requests_fit"],
}
assert all(b <= a for a, b in zip(single, single[1:])), "one request got faster with depth"
assert all(b >= a for a, b in zip(ttft, ttft[1:])), "TTFT fell with depth"
assert abs(single[0] / analytic[1, 1]["per_request_tps"] - 1) < 0.01, "simulation and formula disagree"
assert sim[1, 16]["bottleneck"] == "kv-capacity" and busy[1] > 2.5 * busy[0]
print("KEY_NUMBERS", json.dumps(KEY_NUMBERS))"""),
]

NOTEBOOKS["02-where-all-reduce-becomes-the-bottleneck.ipynb"] = [
    ("md", """\
# 02 · Where the all-reduce becomes the bottleneck

**Question.** Tensor parallelism splits every weight matrix over *t* GPUs, so each token streams 1/t of the
weights per GPU: one request *does* get faster. But every layer then needs all-reduces, whose cost does not
shrink with *t*. Where does adding GPUs stop helping — over NVLink, over PCIe, over InfiniBand — and what do
schedules that hide or delay the all-reduce (delayed TP) buy?"""),
    ("code", SETUP + """
from simdecode.analysis.scaling import tp_scaling
TP = SCENARIOS + "tp-scaling-pcie-vs-nvlink.yaml"
"""),
    ("md", """\
## The analytic answer

Per token, with *t*-way tensor parallelism (docs/physics.md 2.5):

T(t) ≈ W / (t · BW · η) + 2L · A(t) + t_fixed,

*W* the weight bytes, *BW·η* the achieved memory bandwidth, *L* layers with two all-reduces each, *A(t)* one
all-reduce of a token's activations (latency α per step plus bytes over the link, β). The first term shrinks as
1/t, the second does not; speed stops rising near t\\*, where 2L·A(t\\*) = W / (t\\* · BW · η). A small model
(Llama-3.2-1B: little to stream) reaches it early:"""),
    ("code", """\
analytic = {}
for link in ("nvlink4", "pcie5"):
    s = tp_scaling(load_scenario(TP, [f"hardware.intra_node_link={link}"]))
    analytic[link] = s
    print(f"{link}: t* = {s.analytic_crossover_tp:.1f}; batch-1 tok/s by tp (from the step plans):",
          {t: round(v) for t, v in s.per_request_tps.items()}, "best tp:", s.crossover_tp or "still rising at 8")"""),
    ("md", "## Simulate: tp 1-8 over NVLink and PCIe (the scenario's own sweep block), then over InfiniBand"),
    ("code", """\
links = sweep(TP, overrides=["simulation.fidelity=step"])
from simdecode.plots import tp_figure
tp_figure(links.rows)[0].figure"""),
    ("code", """\
# one GPU per node: every all-reduce crosses InfiniBand NDR (16 us per hop)
ib = sweep(TP, vary=["hardware={gpus_per_node: 1, nodes: 8}"],
           overrides=["simulation.fidelity=step", "hardware.inter_node_link=ib-ndr"])
for r in ib.rows:
    print(f"tp {r['parallelism.tp']} over IB: {r['per_request_tps.mean']:5.0f} tok/s, "
          f"all-reduce {r['allreduce_share']:.0%} of the step")"""),
    ("md", """\
## Megatron against delayed tensor parallelism

Megatron waits for each all-reduce before the next module; *delayed* TP (a model trained for it) uses the
previous layer's reduced activations, so the all-reduce runs behind the next layer's compute. The
`allreduce-bottleneck-2b-8xh200` scenario is a 2B model at tp 8, where the all-reduce dominates:"""),
    ("code", """\
modes = sweep(SCENARIOS + "allreduce-bottleneck-2b-8xh200.yaml",
              vary=["parallelism={tp_mode: megatron},{tp_mode: delayed, tp_delay: 1}",
                    "hardware.intra_node_link=nvlink4,pcie5"],
              overrides=["simulation.fidelity=step"], use_file_sweep=False)
for r in modes.rows:
    print(f"{r['parallelism.tp_mode']:>8} over {r['hardware.intra_node_link']}: {r['per_request_tps.mean']:6.0f} "
          f"tok/s, exposed all-reduce {r['allreduce_share']:.0%}")"""),
    ("md", """\
## Compare

The simulated speeds match the step-plan estimates (both come from the same cost model; the simulation adds
scheduling and the prefill). Over PCIe speed peaks at tp 2: vLLM keeps its custom one-shot all-reduce for two
PCIe GPUs only and runs NCCL's ring (~25 µs) above that, so the analytic t\\* is 2 — while NVLink still gains
a little at tp 8. Over InfiniBand the 16 µs hops make the all-reduce most of the step: one request
is *slower* at tp 2 than on one GPU. Hiding the all-reduce (delayed TP) is worth more than a faster link here."""),
    ("code", """\
sim = {(r["hardware.intra_node_link"], r["parallelism.tp"]): r["per_request_tps.mean"] for r in links.rows}
best = {link: max((tp for l, tp in sim if l == link), key=lambda tp: sim[link, tp]) for link in ("nvlink4", "pcie5")}
ib_speed = {r["parallelism.tp"]: r["per_request_tps.mean"] for r in ib.rows}
mode = {(r["parallelism.tp_mode"], r["hardware.intra_node_link"]): r["per_request_tps.mean"] for r in modes.rows}
KEY_NUMBERS = {
    "best_tp_pcie5": best["pcie5"], "best_tp_nvlink4": best["nvlink4"],
    "analytic_t_star_pcie5": analytic["pcie5"].analytic_crossover_tp,
    "tps_tp8_nvlink4": sim["nvlink4", 8], "analytic_tps_tp8_nvlink4": analytic["nvlink4"].per_request_tps[8],
    "tps_tp1_ib": ib_speed[1], "tps_tp8_ib": ib_speed[8],
    "delayed_over_megatron_nvlink4": mode["delayed", "nvlink4"] / mode["megatron", "nvlink4"],
}
assert best["pcie5"] == 2 == analytic["pcie5"].crossover_tp and best["nvlink4"] == 8
assert abs(KEY_NUMBERS["tps_tp8_nvlink4"] / KEY_NUMBERS["analytic_tps_tp8_nvlink4"] - 1) < 0.01
assert ib_speed[2] < ib_speed[1] and ib_speed[8] < ib_speed[1]
assert KEY_NUMBERS["delayed_over_megatron_nvlink4"] > 1.5
print("KEY_NUMBERS", json.dumps(KEY_NUMBERS))"""),
]

NOTEBOOKS["03-speculative-decoding-and-mtp.ipynb"] = [
    ("md", """\
# 03 · Speculative decoding and MTP: when it pays, when batching eats it

**Question.** A small draft model (or the model's own multi-token-prediction heads) proposes *k* tokens; the big
model verifies all of them in one step. At batch 1 the verify step costs about as much as a normal step — both
stream the weights once — so every accepted token is nearly free. Why does the gain shrink as more requests
share the batch?"""),
    ("code", SETUP + """
from simdecode.costmodel import speculative
from simdecode.costmodel.deployment import Deployment
SPEC = SCENARIOS + "spec-vs-batch.yaml"
scenario = load_scenario(SPEC)
d = scenario.decoding
print(scenario.model.name, "with draft", d.draft_model.name, "k =", d.speculative_tokens, "acceptance", d.acceptance)"""),
    ("md", """\
## The analytic answer

With per-token acceptance *a* and *k* proposals, a verify step yields on average
E = (1 − a^(k+1)) / (1 − a) tokens (the accepted prefix plus the target's own token). The speed-up over standard
decoding is

S(B) = E · T_std(B) / (T_verify(B) + k · T_draft(B)).

At batch 1, T_verify ≈ T_std (memory-bound: the weights dominate), so S ≈ E / (1 + k·T_draft/T_std). At batch
*B* the verify step processes (k + 1)·B positions: once that pushes the step from memory-bound to
compute-bound, T_verify grows with B while T_std barely does, and S falls toward (and below) 1.
`speculative.estimate` folds the same step plans the simulator runs:"""),
    ("code", """\
E = speculative.expected_tokens_iid(d.acceptance, d.speculative_tokens)
context = scenario.workload.prompt_tokens + scenario.workload.output_tokens // 2
target = Deployment.from_scenario(scenario)
estimate = {b: speculative.estimate(target, scenario, context, b) for b in (1, 16, 64)}
print(f"E = {E:.2f} tokens per verify step")
for b, e in estimate.items():
    print(f"batch {b:>2}: standard {e.standard_s*1e3:.2f} ms, verify {e.verify_s*1e3:.2f} ms, "
          f"draft {e.draft_s*1e3:.2f} ms -> speed-up {e.speedup:.2f}x")"""),
    ("md", "## Simulate: the same scenario with 1, 16 and 64 requests in flight"),
    ("code", """\
batches = sweep(SPEC, vary=["workload.arrival.concurrency=1,16,64"],
                overrides=["workload.requests=64", "workload.warmup_requests=0", "workload.output_tokens=64"])
from simdecode.plots import speculative_figure
speculative_figure(batches.rows).figure"""),
    ("md", """\
## MTP on DeepSeek-V3: more heads, diminishing returns

The `mtp-deepseek-v3-8xb200` scenario sweeps 1, 2 and 3 MTP heads with measured mean accepted tokens (1.92, 2.58,
2.82). Each extra head adds a verify position and a draft pass but fewer and fewer accepted tokens:"""),
    ("code", """\
mtp = sweep(SCENARIOS + "mtp-deepseek-v3-8xb200.yaml", overrides=["simulation.fidelity=step"])
for r in mtp.rows:
    print(f"k = {r['resolved.decoding.speculative_tokens']}: {r['speculative.mean_accepted_tokens']:.2f} tokens "
          f"per verify step, speed-up {r['speculative.speedup_vs_standard']:.2f}x")"""),
    ("md", """\
## Compare

At batch 1 the simulated speed-up matches the estimate within a few percent (the simulation samples acceptance;
the estimate uses its mean). With 64 requests in flight the per-request gain shrinks and the aggregate gain
nearly vanishes: the verify step became compute-bound, exactly the term the formula says batching inflates.
For MTP the third head adds almost nothing over the second."""),
    ("code", """\
sim = {r["workload.arrival.concurrency"]: r for r in batches.rows}
per = [sim[b]["speculative.speedup_vs_standard"] for b in (1, 16, 64)]
agg = [sim[b]["speculative.aggregate_speedup"] for b in (1, 16, 64)]
heads = [r["speculative.speedup_vs_standard"] for r in mtp.rows]
KEY_NUMBERS = {"expected_tokens": E, "speedup_b1": per[0], "estimate_b1": estimate[1].speedup,
               "speedup_b64": per[2], "aggregate_speedup_b64": agg[2], "mtp_speedups": heads}
assert abs(per[0] / estimate[1].speedup - 1) < 0.05
assert per[0] > per[1] > 1 and per[2] < per[0] and agg[2] < 0.6 * agg[0]
assert heads[1] > heads[0] and heads[2] - heads[1] < heads[1] - heads[0]
print("KEY_NUMBERS", json.dumps(KEY_NUMBERS))"""),
]

NOTEBOOKS["04-what-tokens-per-second-says-about-active-parameters.ipynb"] = [
    ("md", """\
# 04 · What tokens per second says about a model's active parameters

**Question.** A claim from the discussion this project started from: *"tps is a reflection of VRAM memory
bandwidth during inference … comparing tps ratios between models at the same inference provider tells you a lot
about the active parameter count."* How far does that hold? When does a 2× speed difference mean 2× fewer active
parameters, and when does it not?"""),
    ("code", SETUP + """
from simdecode.present.explain import explain
COMMON = ["hardware.gpu=h200", "hardware.gpus_per_node=8", "precision.weights=fp8", "precision.kv_cache=fp8",
          "workload.requests=2", "workload.prompt_tokens=512", "workload.output_tokens=64",
          "simulation.fidelity=step"]
REFERENCE = "llama-3.1-70b"
"""),
    ("md", """\
## The analytic answer

At batch 1 a decode step reads every *active* weight once (a mixture-of-experts model reads only the experts its
token is routed to), so

T_token ≈ P_active · b / (t · BW · η)  +  L · (kernels · t_launch + 2 · A(t))
            (weight stream)               (fixed per-layer costs)

with *b* bytes per parameter, *t* GPUs in tensor parallel, *L* layers. If the weight stream dominates, tps ∝
1/P_active and the ratio of two models' tps is the inverse ratio of their active parameters: the claim. The
fixed per-layer costs — launches and all-reduce latency, which do not shrink with the model — compress the
ratio. We infer each model's active parameters from its tps relative to Llama-3.1-70B and compare with the
truth, on one H200 each and at tp 8 (what providers use)."""),
    ("code", """\
def infer(tp, models):
    res = sweep(SCENARIOS + "quickstart.yaml", vary=["model=" + ",".join(models)],
                overrides=COMMON + [f"parallelism.tp={tp}"])
    rows = {r["model"]: r for r in res.rows}
    scen = {r["model"]: res.sweep.scenarios[r["point"]] for r in res.rows}
    ref = rows[REFERENCE]
    ref_memory = explain(scen[REFERENCE])["parts_s"]["memory"]
    out = {}
    for name, r in rows.items():
        memory = explain(scen[name])["parts_s"]["memory"]    # the weight-stream part of the token time
        out[name] = {"true_B": r["model.active_params"] / 1e9, "tps": r["per_request_tps.mean"],
                     "from_tps_B": ref["model.active_params"] / 1e9 * ref["per_request_tps.mean"] / r["per_request_tps.mean"],
                     "from_memory_B": ref["model.active_params"] / 1e9 * memory / ref_memory,
                     "bottleneck": r["bottleneck"], "layers": scen[name].model.num_hidden_layers}
        print(f"tp {tp} {name:>16}: {out[name]['true_B']:5.1f} B active, {out[name]['tps']:5.0f} tok/s -> "
              f"{out[name]['from_tps_B']:5.1f} B from the tps ratio, {out[name]['from_memory_B']:5.1f} B from the "
              f"weight stream alone ({out[name]['bottleneck']})")
    return out

one_gpu = infer(1, ["llama-3.1-8b", "mixtral-8x7b", "llama-3.1-70b"])
print()
tp8 = infer(8, ["llama-3.1-8b", "mixtral-8x7b", "llama-3.1-70b", "qwen3-235b-a22b", "deepseek-v3"])"""),
    ("md", """\
## Compare

On one GPU the weight stream is most of the token time and the tps ratio is a rough proxy (it overestimates the
8B model by about half and Mixtral by two fifths: their per-layer kernel costs weigh more against a smaller weight
stream, and an MoE layer launches more kernels than a dense one). At tp 8 each GPU streams only an eighth of the
weights while the per-layer launches and all-reduce latencies stay: the step is launch-bound, the tps ratio is
compressed, and a 22B-active MoE looks like a ~75B dense model. The weight-stream part of the token time — which `simdecode explain`
reports — still tracks the active parameters: within 5% for the dense models and Mixtral, high for the two large
MoE models (Qwen3 by 7%, DeepSeek-V3 by 24%). Part of their attention is not split over the tp 8 GPUs but held
whole by each (Qwen3's 4 KV heads, DeepSeek-V3's latent-attention down-projections), so the GPUs together read
more than the active parameters: `simdecode explain` gives Qwen3 2.88 GB per GPU at tp 8 against 5.52 GB at
tp 4, where nothing is replicated. So tps ratios say something about active parameters only between
models served the same way *and* dominated by their weight stream; speculative decoding or MTP (notebook 03)
would inflate tps further."""),
    ("md", """\
## The same question with `simdecode estimate`

`simdecode estimate` (docs/estimate.md) turns the question around: given a speed, it simulates candidate
models of every size, each with a typical shape for its size, under the assumptions you give, and reports the
active sizes that run that fast. Give it Qwen3-235B-A22B's simulated speed at tp 8, with everything else
known (H200 x 8, fp8, vLLM, batch 1, an MoE of its total/active ratio and expert count):"""),
    ("code", """\
from simdecode.estimate import estimate
qwen = tp8["qwen3-235b-a22b"]
found = estimate(qwen["tps"], hardware="h200x8", precision="fp8", tp="8", runtime="vllm", batch="1",
                 context="512", speculation="none", arch="moe:10.6:128:8")
low, high = found["interval"]["active_params"]
shape = found["interval"]["low_end"]["model"]["name"]
layers = qwen["layers"]
print(f"{qwen['tps']:.0f} tok/s -> {low/1e9:.0f}B to {high/1e9:.0f}B active (typical shape: {shape}); "
      f"Qwen3-235B-A22B has {qwen['true_B']:.0f}B active in {layers} layers")"""),
    ("md", """\
Even the search misses, and the miss is the lesson: at tp 8 the per-layer fixed costs set the speed, so a
model with many thin layers (Qwen3: 94) runs as slowly as a typical model of three times its active size. A
speed says as much about the layer count and the serving stack as about the active parameters."""),
    ("code", """\
def error(entry, key):
    return abs(entry[key] / entry["true_B"] - 1)

KEY_NUMBERS = {
    "one_gpu_8b_from_tps_B": one_gpu["llama-3.1-8b"]["from_tps_B"],
    "tp8_8b_from_tps_B": tp8["llama-3.1-8b"]["from_tps_B"],
    "tp8_qwen_from_tps_B": tp8["qwen3-235b-a22b"]["from_tps_B"],
    "tp8_qwen_from_memory_B": tp8["qwen3-235b-a22b"]["from_memory_B"],
    "tp8_bottleneck_70b": tp8[REFERENCE]["bottleneck"],
    "estimate_qwen_low_B": low / 1e9, "estimate_qwen_high_B": high / 1e9, "qwen_layers": layers,
}
assert error(one_gpu["llama-3.1-8b"], "from_tps_B") < 0.6 and error(one_gpu["mixtral-8x7b"], "from_tps_B") < 0.4
assert error(one_gpu["llama-3.1-8b"], "from_tps_B") < error(tp8["llama-3.1-8b"], "from_tps_B")
assert error(tp8["llama-3.1-8b"], "from_tps_B") > 1.0 and error(tp8["qwen3-235b-a22b"], "from_tps_B") > 1.0
assert error(tp8["llama-3.1-8b"], "from_memory_B") < 0.1   # dense: the weight stream is the active bytes
assert all(error(e, "from_memory_B") < 0.15 for name, e in tp8.items() if name != "deepseek-v3")
assert low / 1e9 > qwen["true_B"]   # the typical-shape search overshoots a many-layer model
print("KEY_NUMBERS", json.dumps(KEY_NUMBERS))"""),
]


def build(name: str, cells: list[tuple[str, str]]):
    nb = new_notebook(cells=[new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main(argv: list[str]) -> None:
    execute = "--execute" in argv
    for name, cells in NOTEBOOKS.items():
        nb = build(name, cells)
        if execute:
            from nbclient import NotebookClient

            NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main(sys.argv[1:])
