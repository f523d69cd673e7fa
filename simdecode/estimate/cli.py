"""``simdecode estimate``: the subcommand's arguments and its output (registered by simdecode.cli).

    simdecode estimate --tps 42 [--hardware h200x8 | --gpu h200 --gpus 8] [--link nvlink4]
        [--precision bf16,fp8,fp4] [--tp 4,8] [--runtime vllm,trt-llm] [--batch 1..64]
        [--context 2000,16000] [--speculation none,mtp:3] [--arch dense,moe:10:160:8]
        [--attention gqa,mla]
        [--reference NAME:TPS[:ACTIVE] ...] [--gpu-hour-usd 3.0] [--price-usd-per-mtok 15]
        [--plot FILE.png] [--scenario-out FILE.yaml] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def add_parser(commands) -> argparse.ArgumentParser:
    p = commands.add_parser(
        "estimate", help="from an observed tokens/s to active parameters and cost",
        description="Which active-parameter counts explain an observed per-user decode speed, under ranges of "
        "assumptions (hardware, precision, tp, runtime, batch, context, speculation, architecture); the ratio "
        "method for reference models; the cost per million tokens. Searches over the simulator: each answer "
        "is a configuration `simdecode run` reproduces.")
    p.add_argument("--tps", type=_float, required=True, metavar="TOK_S",
                   help="observed per-user decode speed, tokens/s")
    p.add_argument("--tolerance", type=_float, default=0.1, metavar="FRACTION",
                   help="relative uncertainty of --tps (default 0.1 = ±10%%)")
    g = p.add_argument_group("assumptions (comma lists; integers also LO..HI = powers of two)")
    g.add_argument("--hardware", metavar="GPUxN,...",
                   help="GPUxN list, e.g. h200x8,b200x8 (default h100x8,h200x8,b200x8)")
    g.add_argument("--gpu", metavar="NAME", help="one GPU preset (with --gpus), instead of --hardware")
    g.add_argument("--gpus", type=int, metavar="N", help="GPUs in the node (with --gpu; default 8)")
    g.add_argument("--link", metavar="NAME", help="intra-node link preset (default: the GPU's own)")
    g.add_argument("--precision", metavar="DTYPE,...", help="weight dtypes (default bf16,fp8,fp4)")
    g.add_argument("--tp", metavar="N,...", help="tensor-parallel degrees (default: half and all of the GPUs, or the largest "
                   "divisor of them that splits 8 KV heads and half that)")
    g.add_argument("--runtime", metavar="NAME,...", help="runtime presets (default vllm,trt-llm)")
    g.add_argument("--batch", metavar="N,...", help="sequences decoding together per replica (default 1,16,64)")
    g.add_argument("--context", metavar="TOKENS,...", help="prompt tokens before decoding (default 2000,16000)")
    g.add_argument("--speculation", metavar="SPEC,...",
                   help="none and/or mtp:K (run's default per-position acceptance) or mtp:K:ACCEPTANCE (i.i.d.) "
                   "(default none,mtp:3)")
    g.add_argument("--arch", metavar="ARCH,...",
                   help="dense and/or moe:RATIO:EXPERTS:TOPK (default dense,moe:10:160:8)")
    g.add_argument("--attention", metavar="KIND,...", help="gqa and/or mla, crossed with --arch (default gqa)")
    g.add_argument("--output-tokens", type=int, default=512, metavar="TOKENS",
                   help="output tokens per request (default 512)")
    g.add_argument("--active-min", metavar="COUNT", help="smallest active size to consider, e.g. 1B")
    g.add_argument("--active-max", metavar="COUNT", help="largest active size to consider, e.g. 2T")
    p.add_argument("--reference", action="append", default=[], metavar="NAME:TPS[:ACTIVE]",
                   help="a model the same provider serves at TPS (a preset or a config.json path; ACTIVE "
                   "overrides its counted active parameters), for the ratio method (repeatable)")
    p.add_argument("--gpu-hour-usd", type=_float, metavar="USD",
                   help="price of one GPU-hour, US dollars: adds the cost section")
    p.add_argument("--price-usd-per-mtok", type=_float, metavar="USD", help="a price per million output tokens, US "
                   "dollars: margin and the "
                   "largest active size it allows (needs --gpu-hour-usd)")
    p.add_argument("--plot", type=Path, metavar="FILE", help="write the figure (PNG)")
    p.add_argument("--scenario-out", type=Path, metavar="FILE",
                   help="write the median explaining configuration as a scenario YAML for `simdecode run`")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")
    p.set_defaults(func=cmd_estimate)
    return p


def cmd_estimate(args: argparse.Namespace) -> int:
    from simdecode.estimate import estimate

    from simdecode.io.outfiles import check_file_target, write_file_atomic

    # every output target is checked before the search runs (a device, a folder, an unwritable place: exit 2)
    for path, flag in ((args.plot, "--plot"), (args.scenario_out, "--scenario-out")):
        if path is not None:
            check_file_target(path, flag)
    result = estimate(
        args.tps, tolerance=args.tolerance, hardware=args.hardware, gpu=args.gpu, gpus=args.gpus, link=args.link,
        precision=args.precision, tp=args.tp, runtime=args.runtime, batch=args.batch, context=args.context,
        speculation=args.speculation, arch=args.arch, attention=args.attention, output_tokens=args.output_tokens,
        active_min=args.active_min, active_max=args.active_max, references=args.reference,
        gpu_hour_usd=args.gpu_hour_usd, price_usd_per_mtok=args.price_usd_per_mtok, curves=args.plot is not None)
    if args.plot is not None:
        from simdecode.estimate.plot import estimate_png

        write_file_atomic(args.plot, estimate_png(result))
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.scenario_out is not None:
        import yaml

        write_file_atomic(args.scenario_out, yaml.safe_dump(result["baseline"]["scenario"], sort_keys=False).encode())
        print(f"wrote {args.scenario_out}", file=sys.stderr)
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2, allow_nan=False) + "\n")
    else:
        from simdecode.estimate.report import render

        sys.stdout.write(render(result))
    sys.stdout.flush()
    return 0
