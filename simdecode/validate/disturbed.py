"""Disturbed measurements in a closed-loop serving sweep: a data-quality rule (docs/validation.md).

A serving sweep (InferenceX, :mod:`simdecode.validate.inferencex`) measures one deployment under a
closed loop at doubling client concurrencies c: c requests in flight, each completion sending the
next. Raising c never lightens the server's work: the decode batch grows, more prefills interleave
with the decode steps and more requests wait for admission. So on an undisturbed run the mean TPOT
and the mean TTFT do not fall as c rises. A disturbance (a stall of the server or the client,
another job on the node, a slow first wave) only adds time. Hence the rule, stated once for every
point of every sweep:

    the point at concurrency c is **disturbed** if, for some higher concurrency c' of the same sweep,
      (1) mean TTFT(c) > TTFT_INVERSION x mean TTFT(c'), or
      (2) mean TPOT(c) > TPOT_INVERSION x mean TPOT(c'), c' not itself disturbed by (1).

The slower, lower-concurrency point of an inverted pair is the disturbed one, because a disturbance
cannot make a run faster than its deployment. The one way it makes a point look faster is (2)'s
exception: a point whose requests waited seconds for their first token had fewer of them decoding at
once, which lowers its TPOT. By Little's law a request spends (osl - 1) TPOT of its TTFT + (osl - 1)
TPOT in flight decoding, so c in flight put c (osl - 1) TPOT / (TTFT + (osl - 1) TPOT) into the
decode batch on average (:func:`decoding_in_flight`): InferenceX's gpt-oss-120b on one H200, 8k1k,
c = 16 (TTFT 10,983 ms, TPOT 12.18 ms, osl about 922) decoded about 8 at a time, as its c = 8 point
did (TTFT 501 ms, TPOT 10.42 ms: 7.6), so its TPOT is that of a batch of 8, not 16, and it is no
measurement of c = 16.

A disturbed point's TTFT and TPOT come from the same run, so both are left out, with the reason in
the table's not-expressible column. Tolerances, from the sweeps themselves: each mean is over 10 c
requests (the client's ``--num-prompts``), and the undisturbed inversions in the shipped data are
at most 1.4% in TPOT (at c = 4 -> 8, where a larger batch costs almost nothing) and 17% in TTFT (at
c <= 8, where a request's wait for the step boundary is a large part of its TTFT; vLLM and
TensorRT-LLM alike); a factor of 2 in TTFT and 5% in TPOT lie well above both (the flagged
inversions are 11-52x in TTFT, 8-20% in TPOT). A deployment whose engine switched to a faster
kernel at a larger batch could step faster at higher concurrency; the 5% tolerance is above every
such case the data shows.
"""

from __future__ import annotations

from typing import Mapping

from simdecode.validate.implied import implied

#: mean TTFT above this multiple of a higher concurrency's mean TTFT (same sweep) marks a disturbed point
TTFT_INVERSION = 2.0
#: mean TPOT above this multiple of a higher concurrency's mean TPOT (same sweep) marks a disturbed point
TPOT_INVERSION = 1.05


def disturbed_points(tpot: Mapping[int, float], ttft: Mapping[int, float],
                     unit: str = "ms") -> dict[int, tuple[str, str]]:
    """The disturbed concurrencies of one sweep, each with (the metric that shows it, "TTFT" or
    "TPOT", and why in words) (module docstring's rule).

    ``tpot`` and ``ttft``: concurrency -> mean TPOT and mean TTFT of the sweep's points, in ``unit``
    (any: the rule compares ratios; the unit only labels the numbers in the words). A concurrency
    missing from one mapping is checked on the other alone.

    >>> disturbed_points({8: 10.4, 16: 12.2, 32: 24.9}, {8: 501.0, 16: 10983.0, 32: 983.0})[16]
    ('TTFT', 'mean TTFT 10,983 ms is 11.2x the 983 ms measured at concurrency 32')
    """
    why: dict[int, tuple[str, str]] = {}
    for c in sorted(ttft):
        for higher in sorted(k for k in ttft if k > c):
            if ttft[c] > TTFT_INVERSION * ttft[higher]:
                why[c] = ("TTFT", f"mean TTFT {ttft[c]:,.0f} {unit} is {ttft[c] / ttft[higher]:.1f}x the "
                          f"{ttft[higher]:,.0f} {unit} measured at concurrency {higher}")
                break
    for c in sorted(tpot):
        if c in why:
            continue
        for higher in sorted(k for k in tpot if k > c and k not in why):
            if tpot[c] > TPOT_INVERSION * tpot[higher]:
                why[c] = ("TPOT", f"mean TPOT {tpot[c]:.3g} {unit} is {tpot[c] / tpot[higher]:.2f}x the "
                          f"{tpot[higher]:.3g} {unit} measured at concurrency {higher}")
                break
    return why


def reason(concurrency: int, why: str, decoding: float | None = None) -> str:
    """The table's not-expressible text of a disturbed point (``why`` from :func:`disturbed_points`;
    ``decoding``: its requests decoding at once by :func:`decoding_in_flight`, for a point
    disturbed in TTFT; None to leave it out)."""
    text = f"measurement disturbed at concurrency {concurrency}: {why} of the same sweep"
    if decoding is not None:
        text += f"; only {decoding:.1f} of its {concurrency} requests were decoding at once (Little's law)"
    return text + ("; a closed loop's mean TTFT and TPOT do not fall as concurrency rises "
                   "(simdecode/validate/disturbed.py)")


def decoding_in_flight(concurrency: float, ttft_s: float, tpot_s: float, output_tokens: float) -> float:
    """Requests decoding at once, on average, in a closed loop of ``concurrency`` (Little's law):
    c (osl - 1) TPOT / (TTFT + (osl - 1) TPOT), ``output_tokens`` the mean osl: :func:`implied.implied`'s
    running sequences when none holds the cache before its first token. Seconds in, a count out.

    >>> round(decoding_in_flight(16, 10.983, 12.18e-3, 922), 1)
    8.1
    """
    return implied(concurrency, ttft_s, tpot_s, 0.0, output_tokens, prefill_s=0.0).running
