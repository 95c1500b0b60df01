"""Planner passes: small pure rewrites of a filter AST into an equivalent, simpler one.

Each pass takes a node and returns a node that matches exactly the same records (under the
two-valued semantics of ``ast.py``: an absent field fails every leaf, so ``Not`` is the exact
complement and De Morgan's laws hold). :data:`PASSES` runs them in order, like sqlglot's
optimizer ``RULES``; :func:`optimize` applies the tuple.

What the passes may NOT do: turn ``not (x < 5)`` into ``x >= 5``. A record without ``x`` matches
the first and not the second, so a negated leaf stays a negated leaf.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from dsc_engine.query import ast

Pass = Callable[[ast.Node], ast.Node]

#: The filter that matches nothing (``not ()`` in filter text).
NOTHING: ast.Node = ast.Not(ast.MatchAll())

_INEQUALITY = {
    ast.CompareOp.GT: (False, None),
    ast.CompareOp.GE: (True, None),
    ast.CompareOp.LT: (None, False),
    ast.CompareOp.LE: (None, True),
}


def map_children(node: ast.Node, rewrite: Pass) -> ast.Node:
    """``node`` with ``rewrite`` applied to its direct boolean children (leaves are returned as
    is). A node none of whose children changed is returned itself, not rebuilt: planning a
    request's filter is on the path of its first answer."""
    if isinstance(node, (ast.And, ast.Or)):
        items = tuple(map(rewrite, node.items))
        if all(map(operator.is_, items, node.items)):
            return node
        return type(node)(items, pos=node.pos)
    if isinstance(node, ast.Not):
        item = rewrite(node.item)
        return node if item is node.item else ast.Not(item, pos=node.pos)
    if isinstance(node, ast.AnyEntry):
        condition = rewrite(node.condition)
        return node if condition is node.condition else ast.AnyEntry(node.field, condition, pos=node.pos)
    return node


def normalize_ne(node: ast.Node) -> ast.Node:
    """``a != b`` becomes ``not (a = b)``, its definition, so later passes see one negation form."""
    if isinstance(node, ast.Compare) and node.op is ast.CompareOp.NE:
        return ast.Not(ast.Compare(node.field, ast.CompareOp.EQ, node.value, pos=node.pos))
    return map_children(node, normalize_ne)


def flatten(node: ast.Node) -> ast.Node:
    """Flatten nested ``And``/``Or``, fold ``MatchAll``/``NOTHING`` operands, drop double negation
    and one-operand junctions."""
    node = map_children(node, flatten)
    if isinstance(node, ast.Not) and isinstance(node.item, ast.Not):
        return node.item.item
    if isinstance(node, ast.And):
        items: list[ast.Node] = []
        for item in node.items:
            if _is_nothing(item):
                return NOTHING
            if isinstance(item, ast.And):
                items.extend(item.items)
            elif not isinstance(item, ast.MatchAll):
                items.append(item)
        return _junction(ast.And, items, empty=ast.MatchAll(), node=node)
    if isinstance(node, ast.Or):
        items = []
        for item in node.items:
            if isinstance(item, ast.MatchAll):
                return ast.MatchAll()
            if isinstance(item, ast.Or):
                items.extend(item.items)
            elif not _is_nothing(item):
                items.append(item)
        return _junction(ast.Or, items, empty=NOTHING, node=node)
    return node


def _is_nothing(node: ast.Node) -> bool:
    """Whether ``node`` is :data:`NOTHING` (``not ()``), by its types (no ``__eq__`` call)."""
    return type(node) is ast.Not and type(node.item) is ast.MatchAll


def _junction(
    cls: type[ast.And] | type[ast.Or], items: list[ast.Node], empty: ast.Node, node: ast.Node | None = None
) -> ast.Node:
    """``cls`` of the distinct ``items`` in written order (``x and x`` is ``x``); ``node`` itself
    when it is that junction already, with these very items."""
    unique = list(dict.fromkeys(items))
    if not unique:
        return empty
    if len(unique) == 1:
        return unique[0]
    if type(node) is cls and len(unique) == len(node.items) and all(map(operator.is_, unique, node.items)):
        return node
    return cls(tuple(unique))


def push_not_down(node: ast.Node) -> ast.Node:
    """Move ``Not`` to the leaves with De Morgan's laws; ``not not x`` is ``x``."""
    if isinstance(node, ast.Not):
        inner = node.item
        if isinstance(inner, ast.Not):
            return push_not_down(inner.item)
        if isinstance(inner, ast.And):
            return ast.Or(tuple(push_not_down(ast.Not(item)) for item in inner.items))
        if isinstance(inner, ast.Or):
            return ast.And(tuple(push_not_down(ast.Not(item)) for item in inner.items))
        pushed = push_not_down(inner)
        return node if pushed is inner else ast.Not(pushed, pos=node.pos)
    return map_children(node, push_not_down)


def merge_ranges(node: ast.Node) -> ast.Node:
    """Turn ordering comparisons into ``Range`` and intersect the ranges on one field in an ``And``.

    ``x > 1 and x <= 5`` is ``Range(x, 1, 5, low_inclusive=False)``. Bounds of different Python
    types are left apart (their order is not defined). Ranges that do not meet (``x >= 5 and
    x <= 4``, ``x > 5 and x <= 5``) make the ``And`` :data:`NOTHING`: no value is in both, and a
    record without ``x`` is in neither.
    """
    node = map_children(node, merge_ranges)
    if isinstance(node, ast.Compare) and node.op in _INEQUALITY:
        low_inc, high_inc = _INEQUALITY[node.op]
        if low_inc is not None:
            return ast.Range(node.field, node.value, None, low_inc, True, pos=node.pos)
        return ast.Range(node.field, None, node.value, True, bool(high_inc), pos=node.pos)
    if not isinstance(node, ast.And):
        return node
    merged: dict[tuple[str, type], ast.Range] = {}
    slots: list[ast.Node | tuple[str, type]] = []
    for item in node.items:
        if isinstance(item, ast.Range) and (key := _range_key(item)) is not None:
            if key in merged:
                merged[key] = _intersect(merged[key], item)
                if _empty(merged[key]):
                    return NOTHING
                continue
            merged[key] = item
            slots.append(key)
        else:
            slots.append(item)
    items = [merged[slot] if isinstance(slot, tuple) else slot for slot in slots]
    return _junction(ast.And, items, empty=ast.MatchAll(), node=node)


def _range_key(node: ast.Range) -> tuple[str, type] | None:
    types = {type(v) for v in (node.low, node.high) if v is not None}
    if len(types) > 1:
        return None
    return (node.field, types.pop() if types else type(None))


def _intersect(a: ast.Range, b: ast.Range) -> ast.Range:
    low, low_inc = tighter_bound(a.low, a.low_inclusive, b.low, b.low_inclusive, lower=True)
    high, high_inc = tighter_bound(a.high, a.high_inclusive, b.high, b.high_inclusive, lower=False)
    return ast.Range(a.field, low, high, low_inc, high_inc, pos=a.pos)


def _empty(node: ast.Range) -> bool:
    """Whether no value is in ``node`` (its bounds reversed, or equal with one excluded)."""
    low: Any = node.low  # both bounds of one type (merge_ranges keys ranges by it)
    if low is None or node.high is None:
        return False
    if low == node.high:
        return not (node.low_inclusive and node.high_inclusive)
    return bool(low > node.high)


def tighter_bound(v1: Any, inc1: bool, v2: Any, inc2: bool, *, lower: bool) -> tuple[Any, bool]:
    """The stricter of two bounds on one side (``None`` is no bound)."""
    if v1 is None:
        return v2, inc2
    if v2 is None:
        return v1, inc1
    if v1 == v2:
        return v1, inc1 and inc2
    first_is_tighter = v1 > v2 if lower else v1 < v2
    return (v1, inc1) if first_is_tighter else (v2, inc2)


def merge_sets(node: ast.Node) -> ast.Node:
    """In an ``Or``, equalities and sets on one field become one ``InSet`` (one index probe); in an
    ``And``, their negations become one negated ``InSet``: ``not a and not b`` is ``not (a or b)``,
    a record lacking the field matching both. A filter excluding thousands of values is then one
    test, not thousands (a SQL engine plans a statement in time quadratic in its conditions, and
    ClickHouse refuses one over 256 KiB)."""
    node = map_children(node, merge_sets)
    if isinstance(node, ast.Or):
        return _merge(node, ast.Or, _set_values, NOTHING)
    if isinstance(node, ast.And):
        return _merge(node, ast.And, _excluded_values, ast.MatchAll())
    return node


def _merge(
    node: ast.And | ast.Or,
    cls: type[ast.And] | type[ast.Or],
    values_of: Callable[[ast.Node], tuple[str, tuple[Any, ...]] | None],
    empty: ast.Node,
) -> ast.Node:
    """``node`` with the items ``values_of`` reads as values of one field merged into one set
    (negated in an ``And``), where the first of them was."""
    groups: dict[str, list[Any]] = {}
    first: dict[str, ast.Node] = {}  # the first item of each field's group
    slots: list[ast.Node | str] = []
    for item in node.items:
        found = values_of(item)
        if found is None:
            slots.append(item)
            continue
        field, values = found
        if field not in groups:
            groups[field] = []
            first[field] = item
            slots.append(field)
        groups[field].append(values)
    if cls is ast.And and len(slots) == len(node.items):  # no field excluded twice: as it is
        return node
    items: list[ast.Node] = []
    for slot in slots:
        if isinstance(slot, str):
            if cls is ast.And and len(groups[slot]) == 1:  # excluded once: as it is
                items.append(first[slot])
                continue
            members = tuple(dict.fromkeys(value for values in groups[slot] for value in values))
            merged: ast.Node = (ast.Compare(slot, ast.CompareOp.EQ, members[0]) if len(members) == 1
                                else ast.InSet(slot, members))
            if cls is ast.And:
                merged = ast.Not(merged)
            items.append(first[slot] if merged == first[slot] else merged)  # a lone item stays itself
        else:
            items.append(slot)
    return _junction(cls, items, empty=empty, node=node)


def _set_values(node: ast.Node) -> tuple[str, tuple[Any, ...]] | None:
    """The field and values of an equality or a set."""
    if isinstance(node, ast.Compare) and node.op is ast.CompareOp.EQ:
        return node.field, (node.value,)
    if isinstance(node, ast.InSet):
        return node.field, node.values
    return None


def _excluded_values(node: ast.Node) -> tuple[str, tuple[Any, ...]] | None:
    """The field and values of a negated equality or set."""
    return _set_values(node.item) if isinstance(node, ast.Not) else None


#: The rewrite passes, in the order :func:`optimize` applies them.
PASSES: tuple[Pass, ...] = (normalize_ne, push_not_down, flatten, merge_ranges, merge_sets, flatten)


def optimize(node: ast.Node) -> ast.Node:
    """Apply every pass of :data:`PASSES` in order (none to a filter they would all return as
    it is: a request's usual filter, one leaf or a conjunction of leaves, skips six walks)."""
    if settled(node):
        return node
    for rewrite in PASSES:
        node = rewrite(node)
    return node


#: Leaves every pass returns as they are (a ``Compare`` other than ``=`` is respelled).
_SETTLED_LEAVES = (ast.Range, ast.InSet, ast.Contains, ast.StartsWith, ast.EqualsIgnoreCase)


def settled(node: ast.Node) -> bool:
    """Whether every pass returns ``node`` itself: a settled leaf (an equality, a range, a set,
    a text test, or one of these negated), or an ``And`` of two or more distinct settled leaves
    with at most one range and one negated equality or set per field (checked by the node types
    alone, without running a pass)."""
    if type(node) is ast.And:
        items = node.items
        if len(items) < 2 or not all(map(_settled_leaf, items)) or len(set(items)) < len(items):
            return False
        ranges = [item.field for item in items if type(item) is ast.Range]
        excluded = [found[0] for found in map(_excluded_values, items) if found is not None]
        return len(set(ranges)) == len(ranges) and len(set(excluded)) == len(excluded)
    return _settled_leaf(node)


def _settled_leaf(node: ast.Node) -> bool:
    kind = type(node)
    if kind is ast.Not:
        node = node.item  # type: ignore[attr-defined]
        kind = type(node)
    if kind is ast.Compare:
        return node.op is ast.CompareOp.EQ  # type: ignore[attr-defined]
    return kind in _SETTLED_LEAVES
