"""The documentation stays true to the code: the generated scenario reference is current, links
resolve, scenario files say what they cover, and the README's quick start and Python API match
the Makefile and the package."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import simdecode
from simdecode.present.reference import REGENERATE, scenario_reference_markdown

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
REFERENCE = ROOT / "docs" / "scenario-reference.md"

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HTML_LINK = re.compile(r"""<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")


# ---- helpers ----------------------------------------------------------------------------------
def _prose(text: str) -> str:
    """Markdown without code blocks and code spans (links there are examples, not links)."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def _links(text: str) -> list[str]:
    prose = _prose(text)
    return [m.group(1) for pattern in (INLINE_LINK, REFERENCE_LINK, HTML_LINK) for m in pattern.finditer(prose)]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = text.replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for match in HEADING.finditer(FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = _slug(match.group(1))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def _section(text: str, title: str) -> str:
    """The body of the ``## title`` section of a Markdown text (up to the next ## heading)."""
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def _code_blocks(text: str) -> list[str]:
    return [m.group(0).split("\n", 1)[1].rsplit("\n", 1)[0] for m in FENCE.finditer(text)]


# ---- (a) the generated scenario reference -----------------------------------------------------
def test_scenario_reference_is_current():
    expected = scenario_reference_markdown()
    actual = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    assert actual == expected, f"docs/scenario-reference.md is stale; regenerate it from the repository root:\n{REGENERATE}"


def test_scenario_reference_is_deterministic_and_short():
    first = scenario_reference_markdown()
    assert scenario_reference_markdown() == first
    # one row per key, one per TP schedule and one per preset catalogue
    assert len(first.splitlines()) < 280, "the scenario reference should stay under 280 lines"
    assert "Generated" in first.split("\n## ", 1)[0] and REGENERATE in first


def test_scenario_reference_lists_every_preset():
    from simdecode import presets

    text = scenario_reference_markdown()
    for kind in presets.KINDS:
        for name in presets.names(kind):
            assert f"`{name}`" in text, f"{kind} preset {name!r} missing from the scenario reference"


# ---- (b) links --------------------------------------------------------------------------------
@pytest.mark.parametrize("doc", [README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path):
    broken = []
    for target in _links(doc.read_text(encoding="utf-8")):
        if EXTERNAL.match(target):
            continue
        path_part, _, fragment = target.partition("#")
        path_part = path_part.split("?", 1)[0]
        file = (doc.parent / path_part).resolve() if path_part else doc
        if not file.exists():
            broken.append(f"{target} (no such file: {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file})")
        elif fragment and file.suffix == ".md" and fragment.lower() not in _anchors(file):
            broken.append(f"{target} (no heading #{fragment} in {file.name})")
    assert not broken, f"broken links in {doc.relative_to(ROOT)}:\n  " + "\n  ".join(broken)


def test_readme_links_every_doc():
    linked = {(README.parent / t.partition("#")[0]).resolve() for t in _links(README.read_text(encoding="utf-8"))}
    missing = [str(d.relative_to(ROOT)) for d in DOCS if d.resolve() not in linked]
    assert not missing, f"README.md's documentation section should link {missing}"


# ---- (c) scenario headers ---------------------------------------------------------------------
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_scenario_files_open_with_covers_and_expected(scenario: Path):
    lines = scenario.read_text(encoding="utf-8").splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    assert header, f"{scenario.name} must start with a comment header ('# Covers: ...', '# Expected: ...')"
    text = "\n".join(header)
    for word in ("Covers:", "Expected:"):
        assert word in text, f"{scenario.name}'s opening comment has no {word!r}"


def test_there_are_scenarios():
    assert SCENARIOS, "scenarios/*.yaml is empty"


# ---- (d) the quick start ----------------------------------------------------------------------
def test_quick_start_is_make_demo_and_make_test():
    section = _section(README.read_text(encoding="utf-8"), "Quick start")
    commands = [
        line.split("#", 1)[0].strip()
        for block in _code_blocks(section)
        for line in block.splitlines()
        if line.split("#", 1)[0].strip()
    ]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"Makefile has no {target!r} target"


# ---- (e) the Python API -----------------------------------------------------------------------
def _documented_imports() -> list[tuple[str, str]]:
    """(module, name) for every ``from simdecode... import ...`` in the README's Python API section."""
    section = _section(README.read_text(encoding="utf-8"), "Python API")
    out = []
    for block in _code_blocks(section):
        for module, names in re.findall(r"^\s*from\s+(simdecode[\w.]*)\s+import\s+(.+)$", block, re.MULTILINE):
            for name in names.split("#", 1)[0].strip("() ").split(","):
                if name.strip():
                    out.append((module, name.strip().split(" as ")[0].strip()))
    return out


def test_readme_python_api_matches_all():
    documented = {name for module, name in _documented_imports() if module == "simdecode"}
    assert {"load_scenario", "simulate"} <= documented, "the README's Python API should show load_scenario and simulate"
    assert documented <= set(simdecode.__all__), (
        f"the README's Python API imports {sorted(documented - set(simdecode.__all__))} from simdecode, "
        "which are not in simdecode.__all__"
    )
    for name in simdecode.__all__:
        assert hasattr(simdecode, name), f"simdecode.__all__ names {name!r}, which simdecode does not define"


def test_readme_python_api_imports_exist():
    for module, name in _documented_imports():
        assert hasattr(importlib.import_module(module), name), f"README imports {name} from {module}, which lacks it"


# ---- docs/assumptions.md quotes the runtime presets ---------------------------------------------
def test_assumptions_runtime_table_matches_presets():
    from simdecode import presets

    text = (ROOT / "docs" / "assumptions.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    header = next((r for r in rows if r.startswith("| preset |") and "memory_efficiency" in r), None)
    assert header, "docs/assumptions.md should hold the table of runtime presets"
    keys = [c.strip() for c in header.strip("|").split("|")]
    table = {}
    for row in rows[rows.index(header) + 1:]:
        cells = [c.strip().strip("`") for c in row.strip("|").split("|")]
        if len(cells) != len(keys) or set(cells[0]) <= {"-"}:
            continue
        if cells[0] not in presets.names("runtimes"):
            break
        table[cells[0]] = dict(zip(keys[1:], cells[1:]))
    assert set(table) == set(presets.names("runtimes")), "the runtime table should list every runtime preset"
    for name, values in table.items():
        preset = presets.preset("runtimes", name)
        for key, shown in values.items():
            expected = str(preset[key]).lower() if isinstance(preset[key], bool) else str(preset[key])
            assert shown == expected, f"docs/assumptions.md: runtime {name} {key} is {shown!r}, the preset says {expected!r}"


# ---- no citations of design notes outside the repository ----------------------------------------
#: ../shared/validation is the measurements' default location (simdecode validate reads it, as the
#: project's shared data beside the repository); any other ../shared path is a design note
OUTSIDE_CITATION = re.compile(r"architecture\.md\s+§?\d|scenario-format|\.\./shared(?!/validation)|/work/shared")
ARCHITECTURE_SECTION = re.compile(r'docs/architecture\.md[,(]?\s*\(?"([^"]+)"')


def _repo_text_files() -> list[Path]:
    """Every text file of the package, docs, README, scenarios, notebooks, tests and benchmarks."""
    files = [README]
    for folder in ("simdecode", "docs", "scenarios", "notebooks", "tests", "benchmarks"):
        files += [p for p in sorted((ROOT / folder).rglob("*"))
                  if p.is_file() and p.suffix in {".py", ".md", ".yaml", ".yml", ".ipynb", ".txt", ".json"}
                  and "__pycache__" not in p.parts]
    return [p for p in files if p != Path(__file__).resolve()]


def test_no_citation_of_design_notes_outside_the_repository():
    """The repository cites only what it holds: no "architecture.md <section number>" (the outside
    design notes' numbering), no "scenario-format", no ../shared (but the validation data's
    default location, ../shared/validation) or /work/shared."""
    offenders = [f"{p.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
                 for p in _repo_text_files()
                 for text in [p.read_text(encoding="utf-8", errors="replace")]
                 for m in OUTSIDE_CITATION.finditer(text)]
    assert not offenders, "cite docs/ inside the repository instead:\n" + "\n".join(offenders)


def test_architecture_citations_name_existing_headings():
    headings = set(HEADING.findall((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")))
    cited = {(p.relative_to(ROOT), m.group(1)) for p in _repo_text_files()
             for m in ARCHITECTURE_SECTION.finditer(p.read_text(encoding="utf-8", errors="replace"))}
    assert cited, "expected some code to cite a section of docs/architecture.md"
    missing = sorted(f"{path}: {name!r}" for path, name in cited if name not in headings)
    assert not missing, "no such heading in docs/architecture.md:\n" + "\n".join(missing)
