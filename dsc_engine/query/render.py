"""AST -> canonical filter text, the inverse of ``parse.parse_filter``.

For every AST in canonical form (what the parser builds: ``And``/``Or`` with at least two items
and no operand of their own kind, values of each field's query type, set values without
duplicates), ``parse_filter(render(node), kind) == node``. Other ASTs render to text of the same
meaning: nested ``And``/``Or`` merge, an empty ``And`` is ``()`` and an empty ``Or`` is ``not ()``.

Canonical spelling: lower-case keywords, the field's catalog name, one space around operators,
strings as JSON strings, Sddp times as UNIX milliseconds, DMS times as ``"yyyy-MM-dd HH:mm:ss"``,
parentheses only where precedence (not > and > or) needs them.
"""

from __future__ import annotations

import enum

from dsc_engine.query import ast
from dsc_engine.wire.types import render_value


class _Level(enum.IntEnum):
    """Binding strength of the text around a node; a looser node inside is parenthesised."""

    OR = 1
    AND = 2
    NOT = 3


def render(node: ast.Node) -> str:
    """The canonical filter text of ``node`` (empty text for a top-level ``MatchAll``)."""
    if isinstance(node, ast.MatchAll):
        return ""
    return _render(node, _Level.OR)


def _render(node: ast.Node, level: _Level) -> str:
    if isinstance(node, ast.MatchAll):
        return "()"
    if isinstance(node, ast.Or | ast.And):
        return _junction(node, level)
    if isinstance(node, ast.Not):
        return f"not {_render(node.item, _Level.NOT)}"
    return _leaf(node)


def _junction(node: ast.And | ast.Or, level: _Level) -> str:
    own = _Level.OR if isinstance(node, ast.Or) else _Level.AND
    if not node.items:
        return "()" if own is _Level.AND else "not ()"
    if len(node.items) == 1:
        return _render(node.items[0], level)
    keyword = " or " if own is _Level.OR else " and "
    text = keyword.join(_render(item, _Level(own + 1)) for item in node.items)
    return f"({text})" if own < level else text


def _leaf(node: ast.Node) -> str:
    if isinstance(node, ast.Compare):
        return f"{node.field} {node.op.value} {literal(node.value)}"
    if isinstance(node, ast.EqualsIgnoreCase):
        return f"{node.field} ieq {literal(node.value)}"
    if isinstance(node, ast.Contains):
        return f"{node.field} contains {literal(node.text)}"
    if isinstance(node, ast.StartsWith):
        return f"{node.field} startswith {literal(node.text)}"
    if isinstance(node, ast.Range):
        return f"{node.field} in {range_text(node)}"
    if isinstance(node, ast.InSet):
        if not node.values:
            return "not ()"  # a set of no values matches nothing
        return f"{node.field} in {{{', '.join(literal(v) for v in node.values)}}}"
    if isinstance(node, ast.AnyEntry):
        inner = "" if isinstance(node.condition, ast.MatchAll) else render(node.condition)
        return f"{node.field} any ({inner})"
    raise TypeError(f"not a filter node: {node!r}")


def range_text(node: ast.Range) -> str:
    """``[low high]`` with ``(``/``)`` for exclusive bounds and ``*`` for an open one."""
    low = "*" if node.low is None else literal(node.low)
    high = "*" if node.high is None else literal(node.high)
    opening = "[" if node.low_inclusive else "("
    closing = "]" if node.high_inclusive else ")"
    return f"{opening}{low} {high}{closing}"


def literal(value: ast.Value) -> str:
    """A value as the filter language writes it."""
    return render_value(value)
