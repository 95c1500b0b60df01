"""Every example filter in docs/filter-language.md parses for the record kind it is shown with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsc_engine.models import RecordKind
from dsc_engine.query.parse import parse_filter
from dsc_engine.query.render import render

DOC = Path(__file__).parents[3] / "docs" / "filter-language.md"
_BLOCK = re.compile(r"\(`(audit_log|masking_run|dms_log)`\):\n\n```text\n(.*?)```", re.S)


def _examples() -> list[tuple[RecordKind, str]]:
    found = [
        (RecordKind(kind), line)
        for kind, block in _BLOCK.findall(DOC.read_text(encoding="utf-8"))
        for line in block.splitlines()
        if line.strip()
    ]
    assert len(found) >= 9, "the examples section of docs/filter-language.md moved"
    return found


@pytest.mark.parametrize(("kind", "text"), _examples(), ids=lambda v: getattr(v, "value", v))
def test_documented_example_parses_and_renders_stably(kind: RecordKind, text: str) -> None:
    node = parse_filter(text, kind)
    assert parse_filter(render(node), kind) == node
