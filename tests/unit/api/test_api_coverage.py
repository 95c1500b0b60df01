"""docs/coverage.md is what the operation descriptions say, and says it of every page parameter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsc_engine.api import coverage
from dsc_engine.api.operations import OPERATIONS

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT.parent / "shared" / "spec"


def test_the_committed_coverage_page_is_generated_from_the_descriptions() -> None:
    committed = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    assert committed == coverage.render(), "run: python3 -m dsc_engine.api.coverage > docs/coverage.md"


@pytest.mark.parametrize("action", list(OPERATIONS))
def test_every_parameter_the_page_lists_is_described(action: str) -> None:
    page = SPEC / f"{action}.txt"
    if not page.exists():
        pytest.skip("the API pages are not beside the project")
    text = page.read_text(encoding="utf-8")
    section = text[text.index("Request parameters") : text.index("Response")]
    lines = [line.strip() for line in section.splitlines() if line.strip()]
    listed = {
        lines[i] for i in range(len(lines) - 2)
        if re.fullmatch(r"[A-Z]\w+", lines[i]) and lines[i + 1] in ("string", "integer", "boolean", "long")
    }
    listed |= set(re.findall(r"^([A-Z]\w+)(?:string|integer|long|boolean)(?:Yes|No)", section, re.MULTILINE))
    assert listed, "no parameter found on the page"
    assert listed <= OPERATIONS[action].names


def test_lang_is_said_to_set_warn_level_name_only_where_items_have_one() -> None:
    """Masking runs have no WarnLevelName: their Lang sets the language of errors alone."""
    page = coverage.render()
    rows = {
        action: next(line for line in section.splitlines() if line.startswith("| `Lang` |"))
        for action, section in zip(OPERATIONS, page.split("\n## ")[1:])
        if "| `Lang` |" in section
    }
    assert "WarnLevelName" in rows["DescribeAuditLogs"]
    assert "WarnLevelName" not in rows["DescribeDataMaskingRunHistory"]


def test_paging_is_said_to_be_echoed_only_where_the_response_echoes_it() -> None:
    """The DMS response carries no PageSize/PageNumber (semantics §5.3): its page must not say they
    are echoed, while the Sddp ones do echo CurrentPage and PageSize."""
    page = coverage.render()
    for action, section in zip(OPERATIONS, page.split("\n## ")[1:]):
        operation = OPERATIONS[action]
        for parameter in operation.parameters:
            if parameter.name not in ("PageSize", "PageNumber", "CurrentPage"):
                continue
            row = next(line for line in section.splitlines() if line.startswith(f"| `{parameter.name}` |"))
            treatment = row.split(" | ")[3]
            assert ("echoed" in treatment) == (parameter.name in operation.response), (action, row)
