"""Figures their own source withdrew: shown in the table, left out of the tolerances.

A quoted figure that its authors replaced in the next revision of the same page, with the same
harness and no erratum, is no longer the source's statement. validate still runs it (the row keeps
its measured and predicted values, so the disagreement stays visible) and marks it in the table's
"kernel-side" column, the column of rows left out of the tolerances with why (docs/validation.md).

A withdrawal is recognised by the source's repository and a fragment of the quote, never by a
measured value, and each entry cites the revisions that show it:

- SafeAILab/EAGLE, README "With gpt-fast": the table of LLaMA2-Chat 13B on one A100 (gpt-fast fp16
  33.2 tok/s, int4 47.4; EAGLE+gpt-fast 71.5, 82.5) was added in commit e62e432 (2024-01-17) and
  replaced about 22 hours later in 642d027 (2024-01-18) by LLaMA2-Chat 7B on one RTX 3090 (fp16 55.1,
  int4 106.9), which stood until EAGLE-2 (bfeb532, 2024-06-27). Run through the same harness
  (validate/harnesses.py), the A100 figures equal simdecode's step plus a constant 10.9-11.8 ms per
  token at both precisions, which the RTX 3090 revision does not show
  (tests/physics/test_eagle_gpt_fast.py holds both).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """repository: a lower-case fragment of the case's source URL; quote: a fragment of the quoted
    table that only the withdrawn revision holds; why: the words the table shows."""

    repository: str
    quote: str
    why: str


#: how every withdrawal's ``why`` starts: the table tells withdrawn rows from kernel-side ones by it
PREFIX = "withdrawn by its source: "

WITHDRAWN: tuple[Withdrawal, ...] = (
    Withdrawal("github.com/safeailab/eagle", "33.2 tokens/s",
               PREFIX + "EAGLE's README replaced this A100 table (e62e432, 2024-01-17) "
               "22 hours later with LLaMA2-Chat 7B on an RTX 3090 (642d027)"),
)


def is_withdrawn(why: str) -> bool:
    """True if a row's left-out reason (the table's kernel-side column) is a withdrawal.

    >>> is_withdrawn(WITHDRAWN[0].why), is_withdrawn("MoE, MLA, fp4 weights")
    (True, False)
    """
    return str(why).startswith(PREFIX)


def withdrawn(source_url: str, quote: str) -> str:
    """Why the case's quoted figures were withdrawn by their source; '' if they were not.

    >>> withdrawn("https://github.com/SafeAILab/EAGLE/blob/main/README.md", "| gpt-fast | 33.2 tokens/s |")[:26]
    'withdrawn by its source: E'
    >>> withdrawn("https://github.com/SafeAILab/EAGLE/blob/main/README.md", "| gpt-fast | 55.1 tokens/s |")
    ''
    """
    url, text = str(source_url).lower(), str(quote)
    return next((w.why for w in WITHDRAWN if w.repository in url and w.quote in text), "")
