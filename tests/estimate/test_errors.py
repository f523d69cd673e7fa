"""Bad input to `simdecode estimate`: one clear `error:` line, exit code 2, no traceback."""

from __future__ import annotations

import pytest

from simdecode.cli import main

SMALL = ["--precision", "bf16", "--tp", "8", "--runtime", "vllm", "--batch", "1", "--context", "1000",
         "--speculation", "none", "--arch", "dense"]


@pytest.mark.parametrize("args, expected", [
    (["--tps", "0", "--hardware", "h200x8"], "must be a positive number"),
    (["--tps", "-42", "--hardware", "h200x8"], "must be a positive number"),
    (["--tps", "nan", "--hardware", "h200x8"], "must be a positive number"),
    (  # 'h300' is as close to the h800 preset as to h200: a typo with one nearest preset
        ["--tps", "42", "--hardware", "h2000x8"], "unknown GPU 'h2000'; did you mean 'h200'?"),
    (["--tps", "42", "--hardware", "h200"], "expected GPUxCOUNT"),
    (["--tps", "42", "--gpu", "h2000"], "--gpu 'h2000': unknown GPU 'h2000'; did you mean 'h200'?"),  # not '--hardware'
    (["--tps", "42", "--gpu", "h200", "--gpus", "100"], "--gpus 100: 1 to 64 GPUs in one node"),
    (["--tps", "42", "--gpu", "h200", "--gpus", "8", "--hardware", "h200x8"], "not both"),
    (["--tps", "42", "--hardware", "h200x8", "--tp", "16"], "--tp 16 contradicts --hardware h200x8"),
    (["--tps", "42", "--hardware", "h200x8", "--batch", "64..1"], "contradictory range, 64 > 1"),
    (["--tps", "42", "--hardware", "h200x8", "--active-min", "100B", "--active-max", "10B"], "contradict"),
    (["--tps", "42", "--hardware", "h200x8", "--active-min", "10"],   # a bare number: the suffix forgotten
     "--active-min 10: read as 10 parameters, fewer than any language model; did you mean '10B'?"),
    (["--tps", "42", "--hardware", "h200x8", "--reference", "glm-4.7:143:32"], "did you mean '32B'?"),
    (["--tps", "42", "--hardware", "h200x8", "--arch", "moe:40:16:4"], "contradictory, a total/active ratio of 40"),
    (["--tps", "42", "--hardware", "h200x8", "--arch", "moe:5:8:8"], "top-k 8 must be below the 8 experts"),
    (["--tps", "42", "--hardware", "h200x8", "--speculation", "mtp:3:1.5"], "acceptance must be a probability"),
    (["--tps", "42", "--hardware", "h200x8", "--speculation", "mtp"], "expected none, mtp:K"),
    (["--tps", "42", "--hardware", "h200x8", "--speculation", "mtp:0"], "--speculation: 0 is outside 1..16"),
    (["--tps", "42", "--hardware", "h200x8", "--speculation", "eagle:3"], "expected none, mtp:K"),
    (["--tps", "42", "--hardware", "h200x8", "--precision", "fp3"], "unknown dtype"),
    (["--tps", "42", "--hardware", "h200x8", "--runtime", "vlm"], "did you mean 'vllm'?"),
    (["--tps", "42", "--hardware", "h200x8", "--tolerance", "1.5"], "relative tolerance"),
    (["--tps", "42", "--hardware", "h200x8", "--reference", "llama-3.1-70:70"],
     "--reference 'llama-3.1-70:70': unknown model preset 'llama-3.1-70'; did you mean 'llama-3.1-70b'?"),
    (["--tps", "42", "--hardware", "h200x8", "--reference", "llama-3.1-70b:fast"], "positive number of tokens/s"),
    (["--tps", "42", "--hardware", "h200x8", "--price-usd-per-mtok", "10"], "needs --gpu-hour-usd"),
    (["--tps", "42", "--hardware", "h200x8", "--plot", "/no/such/dir/x.png"], "does not exist"),
])
def test_bad_input_is_one_error_line(capsys, args, expected):
    assert main(["estimate", *args]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert expected in lines[0], err
    assert "Traceback" not in err


def test_too_fast_names_the_per_step_cost_bound(capsys):
    """100,000 tok/s per user: even the smallest model's step (launches, all-reduces) is slower."""
    assert main(["estimate", "--tps", "100000", "--hardware", "h200x8", *SMALL]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --tps 100000 tok/s") and "fixed per-step-cost bound" in err
    assert "runs its smallest model" in err and len(err.strip().splitlines()) == 1


def test_too_slow_names_the_memory_bound(capsys):
    """0.5 tok/s per user on one H100 in bf16: the largest model that fits (~35B) is much faster."""
    assert main(["estimate", "--tps", "0.5", "--hardware", "h100x1", *SMALL[:2], "--tp", "1",
                 *SMALL[4:]]) == 2
    err = capsys.readouterr().err
    assert "below the memory-capacity bound" in err and "the largest model that fits" in err
    assert len(err.strip().splitlines()) == 1


def test_nothing_fits(capsys):
    assert main(["estimate", "--tps", "20", "--hardware", "rtx-4090x1", "--tp", "1", "--batch", "4096",
                 "--context", "1000000", "--precision", "bf16", "--speculation", "none", "--arch", "dense",
                 "--runtime", "vllm"]) == 2
    assert "no model fits in memory" in capsys.readouterr().err


def test_too_slow_under_active_max_names_that_bound(capsys):
    assert main(["estimate", "--tps", "5", "--hardware", "h200x8", "--active-max", "10B", *SMALL]) == 2
    err = capsys.readouterr().err
    assert "below the --active-max bound" in err and "memory" not in err
