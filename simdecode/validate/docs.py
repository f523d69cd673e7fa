"""The published validation results in docs/: regenerate them from the saved data.

``simdecode validate --out docs/validation`` writes the full table (validation.md, .csv, .json)
and the figure (validation.png) there. docs/validation.md, the page users read, carries the
per-group summary between two markers; this module rebuilds that block and the full table from
docs/validation/validation.json, so a test can check both are what the data says::

    PYTHONPATH=. .venv/bin/python -m simdecode validate --out docs/validation
    PYTHONPATH=. .venv/bin/python -m simdecode.validate.docs
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from simdecode.validate.cases import Point
from simdecode.validate.runner import Outcome
from simdecode.validate.table import groups_markdown, to_markdown

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "validation.md"
DATA = ROOT / "docs" / "validation"
START, END = "<!-- groups:start (generated: python -m simdecode.validate.docs) -->", "<!-- groups:end -->"


def outcomes_from_json(text: str) -> list[Outcome]:
    """The outcomes a validation.json holds (rows in their order)."""
    rows = json.loads(text)["rows"]

    def num(x) -> float:
        return math.nan if x is None else float(x)

    return [Outcome(Point(r["case"], r["group"], r["conditions"], r["metric"], r["unit"], num(r["measured"]),
                          kernel_side=r["kernel_side"] or "", reason=r["not_expressible"] or "",
                          source=r["source"]), num(r["predicted"])) for r in rows]


def page_with_groups(page: str, outcomes: list[Outcome]) -> str:
    """``page`` with the block between the markers replaced by the groups table."""
    head, _, rest = page.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{groups_markdown(outcomes)}{END}{tail}"


def main() -> None:
    outcomes = outcomes_from_json((DATA / "validation.json").read_text(encoding="utf-8"))
    (DATA / "validation.md").write_text(to_markdown(outcomes), encoding="utf-8")
    PAGE.write_text(page_with_groups(PAGE.read_text(encoding="utf-8"), outcomes), encoding="utf-8")


if __name__ == "__main__":
    main()
