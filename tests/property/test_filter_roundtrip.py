"""parse(render(ast)) == ast for every canonical AST of every record kind."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import asts

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query.parse import parse_filter
from dsc_engine.query.render import render


@pytest.mark.parametrize("kind", list(RecordKind), ids=lambda k: k.value)
@given(data=st.data())
def test_parse_of_render_is_identity(kind: RecordKind, data: st.DataObject) -> None:
    node = data.draw(asts(kind))
    text = render(node)
    assert parse_filter(text, kind) == node, text


@pytest.mark.parametrize("kind", list(RecordKind), ids=lambda k: k.value)
@given(data=st.data())
def test_render_is_a_fixed_point(kind: RecordKind, data: st.DataObject) -> None:
    """Canonical text renders back to itself: one spelling per AST."""
    text = render(data.draw(asts(kind)))
    assert render(parse_filter(text, kind)) == text


@given(node=asts(RecordKind.DMS_LOG))
def test_positions_point_into_the_text(node: ast.Node) -> None:
    text = render(node)
    parsed = parse_filter(text, RecordKind.DMS_LOG)
    stack = [parsed]
    while stack:
        current = stack.pop()
        assert 0 <= current.pos <= len(text)  # type: ignore[attr-defined]
        stack.extend(getattr(current, "items", ()))
        stack.extend(n for n in (getattr(current, "item", None), getattr(current, "condition", None)) if n)
