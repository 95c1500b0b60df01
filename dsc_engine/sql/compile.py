"""The filter AST compiled to a SQL condition with sqlglot: the same records as the memory engine.

:func:`where` builds a sqlglot expression (rendered per dialect by :mod:`dialects`) and binds
every filter value through a :class:`Binder` as a query parameter, so no value is ever part of
the statement's text: quotes, backslashes, NUL or ``'; DROP TABLE`` in a value cannot change the
statement. Field names come from the field catalog (the AST holds only known fields) and are
quoted by sqlglot.

Exactness (``docs/backends.md``, "Semantics"):

- **Absent fields.** SQL compares ``NULL`` as unknown, and ``NOT unknown`` is unknown, so a plain
  ``NOT (x = 1)`` would drop the records without ``x`` that the memory engine returns (an absent
  field matches no leaf, so it matches the leaf's negation, ``docs/semantics.md`` §2.3). The
  compiler therefore carries the polarity down the tree (De Morgan) and writes a negated leaf as
  ``x IS NULL OR NOT (test)``: two-valued, exactly the complement. A positive leaf stays the plain
  ``test``: its unknown on ``NULL`` only ever meets AND/OR, which are monotone, so it acts as
  false.
- **Case folding.** Case-insensitive leaves compare ``str.casefold()`` of the needle (in Python)
  with the folded shadow column (``schema.py``), never SQL ``lower()``.
- **Empty needles.** ``contains ""`` and ``startswith ""`` hold for every present value (as in
  Python), written ``x IS NOT NULL`` rather than trusting each engine's ``position`` of ``''``.
- **Times.** DMS wall-clock values are bound as the microseconds the table stores.
- **Text without a UTF-8 form.** A needle holding a lone surrogate (``"\\ud800"`` in a filter, or
  an API parameter) cannot be sent to either engine, which take UTF-8 only; no stored value holds
  one (the tables refuse such text), so :func:`storable` rewrites its leaf to match nothing, as it
  matches nothing in memory, before anything is compiled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlglot import exp

from dsc_engine.query import ast, passes
from dsc_engine.query.passes import NOTHING
from dsc_engine.sql.dialects import Dialect, column
from dsc_engine.sql.schema import FieldColumns, sql_value
from dsc_engine.wire import types

#: The lambda variable of conditions on one entry of the list field.
ENTRY = "entry"

_COMPARE = {
    ast.CompareOp.EQ: exp.EQ,
    ast.CompareOp.LT: exp.LT,
    ast.CompareOp.LE: exp.LTE,
    ast.CompareOp.GT: exp.GT,
    ast.CompareOp.GE: exp.GTE,
}


class Binder:
    """The values of one statement, named ``p0``, ``p1`` ... in the order they are bound."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.values: dict[str, Any] = {}

    def bind(self, value: str | int | bool) -> exp.Expr:
        name = f"p{len(self.values)}"
        placeholder = self.dialect.placeholder(name, value)
        self.values[name] = value
        return placeholder

    def bind_set(self, values: Sequence[str | int | bool]) -> exp.Expr:
        """``values`` (of one type) as one array value (``Dialect.most_set_placeholders``)."""
        name = f"p{len(self.values)}"
        placeholder = self.dialect.set_placeholder(name, values)
        self.values[name] = list(values)
        return placeholder


def storable(node: ast.Node) -> ast.Node:
    """``node`` with every leaf whose text has no UTF-8 form (a lone surrogate) replaced by the
    filter matching nothing (an ``in`` set loses such values): no record of a SQL table holds that
    text, so the leaf matches no record there, as it matches none in memory (its negation every
    one); and the engines, which take UTF-8 only, are never sent it. ``node`` itself when no leaf
    holds such text (the usual case)."""
    if isinstance(node, ast.InSet):
        values = tuple(value for value in node.values if not no_utf8_form(value))
        if len(values) == len(node.values):
            return node
        return ast.InSet(node.field, values, pos=node.pos) if values else NOTHING
    if isinstance(node, ast.Compare):
        if not no_utf8_form(node.value):
            return node
        return ast.MatchAll() if node.op is ast.CompareOp.NE else NOTHING
    if isinstance(node, ast.EqualsIgnoreCase):
        return NOTHING if no_utf8_form(node.value) else node
    if isinstance(node, ast.Contains | ast.StartsWith):
        return NOTHING if no_utf8_form(node.text) else node
    return passes.map_children(node, storable)


def no_utf8_form(value: object) -> bool:
    """Whether ``value`` is text without a UTF-8 form (it holds a lone surrogate)."""
    if not isinstance(value, str) or value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def where(node: ast.Node, view: Mapping[str, FieldColumns], binder: Binder) -> exp.Expr:
    """The condition selecting the records ``node`` matches (``view``: the table's fields)."""
    return _Compiler(binder).condition(passes.optimize(node), view, None, False)


def _opaque(condition: exp.Expr) -> exp.Expr:
    """A connective operand as ``(condition) IS TRUE`` (``Dialect.most_bare_connectives``)."""
    if isinstance(condition.unnest(), exp.Connector):
        return exp.Is(this=exp.paren(condition.unnest(), copy=False), expression=exp.true())
    return condition


class _Compiler:
    def __init__(self, binder: Binder) -> None:
        self.binder = binder

    def condition(
        self, node: ast.Node, view: Mapping[str, FieldColumns], alias: str | None, negated: bool
    ) -> exp.Expr:
        """``node`` (or, ``negated``, its exact complement) over the columns of ``view``, read
        from the lambda variable ``alias`` inside an entry condition."""
        if isinstance(node, ast.MatchAll):
            return exp.false() if negated else exp.true()
        if isinstance(node, ast.Not):
            return self.condition(node.item, view, alias, not negated)
        if isinstance(node, ast.And | ast.Or):
            parts = [self.condition(item, view, alias, negated) for item in node.items]
            conjunctive = isinstance(node, ast.And) != negated  # De Morgan
            most = self.binder.dialect.most_bare_connectives
            if most is not None and len(parts) > most:
                parts = [_opaque(part) for part in parts]
            return exp.and_(*parts, copy=False) if conjunctive else exp.or_(*parts, copy=False)
        if isinstance(node, ast.AnyEntry):
            found = self.any_entry(node, view, alias)
            return exp.not_(found, copy=False) if negated else found
        if isinstance(node, ast.Compare) and node.op is ast.CompareOp.NE:  # a != b is not (a = b)
            equal = ast.Compare(node.field, ast.CompareOp.EQ, node.value)
            return self.condition(equal, view, alias, not negated)
        field = view[node.field]  # type: ignore[attr-defined]
        value = column(field.column, alias)
        test = self.leaf(node, field, value, alias)
        if not negated:
            return test
        absent = exp.Is(this=value.copy(), expression=exp.Null())
        return exp.or_(absent, exp.not_(exp.paren(test, copy=False), copy=False), copy=False)

    def any_entry(self, node: ast.AnyEntry, view: Mapping[str, FieldColumns], alias: str | None) -> exp.Expr:
        field = view[node.field]
        assert field.entries is not None, f"{node.field} holds no entries"
        inner = self.condition(node.condition, field.entries, ENTRY, False)
        matching = exp.ArrayFilter(
            this=column(field.column, alias),
            expression=exp.Lambda(this=inner, expressions=[exp.to_identifier(ENTRY)]),
        )
        return exp.GT(this=exp.ArraySize(this=matching), expression=exp.Literal.number(0))

    def leaf(self, node: ast.Node, field: FieldColumns, value: exp.Column, alias: str | None) -> exp.Expr:
        """The test of a leaf on a present value; unknown (``NULL``) when the value is absent."""
        present = exp.not_(exp.Is(this=value.copy(), expression=exp.Null()), copy=False)
        if isinstance(node, ast.Compare):
            return _COMPARE[node.op](this=value, expression=self.value(field, node.value))
        if isinstance(node, ast.InSet):
            most = self.binder.dialect.most_set_placeholders
            if most is not None and len(node.values) > most:
                values = [sql_value(field.type, v) for v in node.values]
                return exp.In(this=value, field=self.binder.bind_set(values))
            return exp.In(this=value, expressions=[self.value(field, v) for v in node.values])
        if isinstance(node, ast.Range):
            bounds: list[exp.Expr] = []
            if node.low is not None:
                low = exp.GTE if node.low_inclusive else exp.GT
                bounds.append(low(this=value.copy(), expression=self.value(field, node.low)))
            if node.high is not None:
                high = exp.LTE if node.high_inclusive else exp.LT
                bounds.append(high(this=value.copy(), expression=self.value(field, node.high)))
            return exp.and_(*bounds, copy=False) if bounds else present
        if isinstance(node, ast.EqualsIgnoreCase | ast.Contains | ast.StartsWith):
            needle = (node.value if isinstance(node, ast.EqualsIgnoreCase) else node.text).casefold()
            folded = self.folded(field, value, alias)
            if isinstance(node, ast.EqualsIgnoreCase):
                return exp.EQ(this=folded, expression=self.binder.bind(needle))
            if not needle:  # "" is in, and starts, every string
                return present
            if isinstance(node, ast.StartsWith):
                return exp.StartsWith(this=folded, expression=self.binder.bind(needle))
            position = exp.StrPosition(this=folded, substr=self.binder.bind(needle))
            return exp.GT(this=position, expression=exp.Literal.number(0))
        raise TypeError(f"not a filter node: {node!r}")

    def folded(self, field: FieldColumns, value: exp.Column, alias: str | None) -> exp.Expr:
        if field.folded is None or field.type is not types.STRING:
            raise TypeError(f"{field.column} is not a text field")
        return exp.Coalesce(this=column(field.folded, alias), expressions=[value.copy()])

    def value(self, field: FieldColumns, value: Any) -> exp.Expr:
        return self.binder.bind(sql_value(field.type, value))
