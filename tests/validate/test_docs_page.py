"""docs/validation.md and docs/validation/ are what the saved validation data says."""

from __future__ import annotations

from simdecode.validate.docs import DATA, END, PAGE, START, outcomes_from_json, page_with_groups
from simdecode.validate.table import TOLERANCES, to_markdown


def saved():
    return outcomes_from_json((DATA / "validation.json").read_text(encoding="utf-8"))


def test_page_groups_table_is_regenerable_from_the_data():
    page = PAGE.read_text(encoding="utf-8")
    assert START in page and END in page
    assert page == page_with_groups(page, saved()), "run: python -m simdecode.validate.docs"


def test_full_table_is_regenerable_from_the_data():
    assert (DATA / "validation.md").read_text(encoding="utf-8") == to_markdown(saved())


def test_page_shows_the_figure_and_every_group_with_a_tolerance():
    page = PAGE.read_text(encoding="utf-8")
    assert "validation/validation.png" in page and (DATA / "validation.png").stat().st_size > 10_000
    groups = {o.point.group for o in saved()}
    assert set(TOLERANCES) <= groups
    assert all(f"| {g} |" in page for g in groups)
