"""render: the canonical spelling, minimal parentheses, and ASTs the parser never builds."""

from __future__ import annotations

import datetime as dt

import pytest

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query.parse import parse_filter
from dsc_engine.query.render import render

EQ = ast.CompareOp.EQ
A = ast.Compare("UserName", EQ, "a")
B = ast.Compare("UserName", EQ, "b")
C = ast.Compare("UserName", EQ, "c")


@pytest.mark.parametrize(
    ("node", "text"),
    [
        (ast.MatchAll(), ""),
        (ast.Compare("UserName", EQ, 'say "hi"\n'), r'UserName = "say \"hi\"\n"'),
        (ast.Compare("UserName", EQ, "中文"), 'UserName = "中文"'),
        (ast.Compare("EffectRow", ast.CompareOp.GE, -3), "EffectRow >= -3"),
        (ast.Compare("InWhiteList", ast.CompareOp.NE, False), "InWhiteList != false"),
        (ast.Compare("OpTime", EQ, dt.datetime(2024, 5, 1, 10, 0)), 'OpTime = "2024-05-01 10:00:00"'),
        (ast.Compare("OpTime", EQ, dt.datetime(2024, 5, 1, 10, 0, 0, 5)), 'OpTime = "2024-05-01 10:00:00.000005"'),
        (ast.EqualsIgnoreCase("OperateType", "drop"), 'OperateType ieq "drop"'),
        (ast.Contains("SqlText", "x"), 'SqlText contains "x"'),
        (ast.StartsWith("SqlText", "x"), 'SqlText startswith "x"'),
        (ast.Range("ExecuteTime", 1000, 2000), "ExecuteTime in [1000 2000]"),
        (ast.Range("EffectRow", 1, 33, False, True), "EffectRow in (1 33]"),
        (ast.Range("CreationTime", None, 5, True, False), "CreationTime in [* 5)"),
        (ast.InSet("OperateType", ("Drop", "Delete")), 'OperateType in {"Drop", "Delete"}'),
        (ast.AnyEntry("SensitiveDataLog", ast.MatchAll()), "SensitiveDataLog any ()"),
        (
            ast.AnyEntry("SensitiveDataLog", ast.Or((A, B))),
            'SensitiveDataLog any (UserName = "a" or UserName = "b")',
        ),
        (ast.Not(ast.MatchAll()), "not ()"),
        (ast.Not(ast.Not(A)), 'not not UserName = "a"'),
        (ast.Not(ast.And((A, B))), 'not (UserName = "a" and UserName = "b")'),
        (ast.And((ast.Or((A, B)), C)), '(UserName = "a" or UserName = "b") and UserName = "c"'),
        (ast.Or((ast.And((A, B)), C)), 'UserName = "a" and UserName = "b" or UserName = "c"'),
        (ast.And((ast.Not(A), B)), 'not UserName = "a" and UserName = "b"'),
    ],
)
def test_canonical_text(node: ast.Node, text: str) -> None:
    assert render(node) == text


@pytest.mark.parametrize(
    ("node", "text", "meaning"),
    [
        # Same-kind nesting merges on the way back (the parser flattens And/Or).
        (ast.And((A, ast.And((B, C)))), 'UserName = "a" and (UserName = "b" and UserName = "c")', ast.And((A, B, C))),
        (ast.And(()), "()", ast.MatchAll()),
        (ast.Or(()), "not ()", ast.Not(ast.MatchAll())),
        (ast.Or((A,)), 'UserName = "a"', A),
        (ast.InSet("UserName", ()), "not ()", ast.Not(ast.MatchAll())),
    ],
)
def test_non_canonical_asts_render_to_text_of_the_same_meaning(
    node: ast.Node, text: str, meaning: ast.Node
) -> None:
    assert render(node) == text
    assert parse_filter(text, RecordKind.AUDIT_LOG) == meaning


def test_render_rejects_what_is_not_a_node() -> None:
    with pytest.raises(TypeError, match="not a filter node"):
        render(ast.Node())
