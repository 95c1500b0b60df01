"""Compile an AST into a plain Python predicate over whatever a catalog's getters read.

The store uses this for residual predicates (what its indexes do not answer), reading rows of its
columns; it is also the definition of what each node means. Semantics are those of ``ast.py``: an absent field (``None``)
matches no leaf, and ``Not`` is the exact complement.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from dsc_engine.query import ast
from dsc_engine.wire.catalog import FieldSpec

Predicate = Callable[[Any], bool]

_COMPARE = {
    ast.CompareOp.EQ: operator.eq,
    ast.CompareOp.LT: operator.lt,
    ast.CompareOp.LE: operator.le,
    ast.CompareOp.GT: operator.gt,
    ast.CompareOp.GE: operator.ge,
}


def compile_over(
    node: ast.Node,
    catalog: Mapping[str, FieldSpec],
    nested: Mapping[str, Mapping[str, FieldSpec]],
) -> Predicate:
    """The same meaning read through other getters: ``catalog``'s ``get`` functions take whatever
    the predicate is called with (the indexed store passes getters over its columns by row)."""
    if isinstance(node, ast.MatchAll):
        return lambda record: True
    if isinstance(node, ast.And):
        parts = [compile_over(item, catalog, nested) for item in node.items]
        return lambda record: all(part(record) for part in parts)
    if isinstance(node, ast.Or):
        parts = [compile_over(item, catalog, nested) for item in node.items]
        return lambda record: any(part(record) for part in parts)
    if isinstance(node, ast.Not):
        inner = compile_over(node.item, catalog, nested)
        return lambda record: not inner(record)
    if isinstance(node, ast.AnyEntry):
        entries = catalog[node.field].get
        condition = compile_over(node.condition, nested[node.field], {})
        return lambda record: any(condition(entry) for entry in entries(record))
    get = catalog[node.field].get  # type: ignore[attr-defined]
    if isinstance(node, ast.Compare) and node.op is ast.CompareOp.NE:
        literal = node.value  # a != b is not (a = b), so an absent field (None) matches it
        return lambda record: get(record) != literal
    test = _leaf_test(node)
    return lambda record: _present_and(get(record), test)


def _present_and(value: Any, test: Callable[[Any], bool]) -> bool:
    return value is not None and test(value)


def _leaf_test(node: ast.Node) -> Callable[[Any], bool]:
    """The test a present value must pass for a leaf node."""
    if isinstance(node, ast.Compare):
        compare, literal = _COMPARE[node.op], node.value
        return lambda value: compare(value, literal)
    if isinstance(node, ast.EqualsIgnoreCase):
        folded = node.value.casefold()
        return lambda value: value.casefold() == folded
    if isinstance(node, ast.Range):
        return _range_test(node)
    if isinstance(node, ast.InSet):
        members = frozenset(node.values)
        return lambda value: value in members
    if isinstance(node, ast.Contains):
        needle = node.text.casefold()
        return lambda value: needle in value.casefold()
    if isinstance(node, ast.StartsWith):
        prefix = node.text.casefold()
        return lambda value: value.casefold().startswith(prefix)
    raise TypeError(f"not a filter node: {node!r}")


def _range_test(node: ast.Range) -> Callable[[Any], bool]:
    low, high = node.low, node.high
    above = operator.ge if node.low_inclusive else operator.gt
    below = operator.le if node.high_inclusive else operator.lt
    return lambda value: (low is None or above(value, low)) and (
        high is None or below(value, high)
    )
