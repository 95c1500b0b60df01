"""The statements a SQL record source sends, built with sqlglot's expression builder.

Each function returns a :class:`Statement`: the text rendered for the dialect and the values bound
to its placeholders. Statements over a filter share one :class:`~dsc_engine.sql.compile.Binder`,
so a page and its total send the same values. Slices (``LIMIT``/``OFFSET``) are Python integers
the source has checked, written as numbers by sqlglot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from sqlglot import exp

from dsc_engine.query import ast
from dsc_engine.sql.compile import Binder, where
from dsc_engine.sql.dialects import Dialect, column
from dsc_engine.sql.schema import SEQ, Table

#: The column of a window's rank in a RuleAggQuery page.
RANK = "_rank"


@attrs.frozen
class Statement:
    sql: str
    values: Mapping[str, Any]


class Statements:
    """The statements of one kind's table in one database."""

    def __init__(self, table: Table, dialect: Dialect, database: str) -> None:
        self.table = table
        self.dialect = dialect
        self.database = database
        self.ref = dialect.table(table.name, database)

    def _from(self) -> exp.Table:
        return self.ref.copy()

    def _order(self) -> list[exp.Ordered]:
        return [exp.Ordered(this=column(key), desc=True) for key in self.table.order]

    def _records(self) -> list[exp.Column]:
        return [column(name) for name in self.table.record_columns]

    def _render(self, expression: exp.Expression, binder: Binder | None = None) -> Statement:
        return Statement(self.dialect.render(expression), dict(binder.values) if binder else {})

    def condition(self, node: ast.Node) -> tuple[exp.Expr, Binder]:
        binder = Binder(self.dialect)
        return where(node, self.table.filter_view, binder), binder

    def count(self, node: ast.Node) -> Statement:
        condition, binder = self.condition(node)
        query = exp.select(exp.Count(this=exp.Star())).from_(self._from()).where(condition)
        return self._render(query, binder)

    def size(self) -> Statement:
        return self._render(exp.select(exp.Count(this=exp.Star())).from_(self._from()))

    def page(self, node: ast.Node, offset: int, limit: int | None) -> Statement:
        """The records matching ``node`` in the kind's order, ``[offset, offset + limit)``."""
        condition, binder = self.condition(node)
        query = exp.select(*self._records()).from_(self._from()).where(condition).order_by(*self._order())
        return self._render(_slice(query, offset, limit), binder)

    def groups(self, node: ast.Node, field: str) -> Statement:
        """How many values of ``field`` the matching records hold (absent: one more group)."""
        condition, binder = self.condition(node)
        grouped = exp.select(column(field)).from_(self._from()).where(condition).group_by(column(field))
        query = exp.select(exp.Count(this=exp.Star())).from_(grouped.subquery("grouped"))
        return self._render(query, binder)

    def newest_per_group(self, node: ast.Node, field: str, offset: int, limit: int | None) -> Statement:
        """The newest matching record of each value of ``field``, in order, sliced (RuleAggQuery).

        The records are ranked within their group on the order keys alone (a narrow window), the
        winners of the page picked by load number, and only those rows read in full."""
        condition, binder = self.condition(node)
        rank = exp.Window(
            this=exp.RowNumber(), partition_by=[column(field)], order=exp.Order(expressions=self._order())
        )
        keys = [column(key) for key in self.table.order]
        ranked = exp.select(*keys, exp.alias_(rank, RANK, quoted=True)).from_(self._from()).where(condition)
        winners = (
            exp.select(column(SEQ))
            .from_(ranked.subquery("ranked"))
            .where(exp.EQ(this=column(RANK), expression=exp.Literal.number(1)))
            .order_by(*self._order())
        )
        query = (
            exp.select(*self._records())
            .from_(self._from())
            .where(exp.In(this=column(SEQ), query=_slice(winners, offset, limit).subquery()))
            .order_by(*self._order())
        )
        return self._render(query, binder)

    def by_load_order(self, offset: int, limit: int | None) -> Statement:
        """Every record in load order, sliced."""
        query = (
            exp.select(*self._records())
            .from_(self._from())
            .order_by(exp.Ordered(this=column(SEQ), desc=False))
        )
        return self._render(_slice(query, offset, limit))

    def next_seq(self) -> Statement:
        """How many rows the table has and its highest load number."""
        query = exp.select(exp.Count(this=exp.Star()), exp.Max(this=column(SEQ))).from_(self._from())
        return self._render(query)

    def discard_between(self, low_seq: int, high_seq: int) -> Statement:
        """Delete the rows numbered ``low_seq`` to ``high_seq`` (a failed insert without
        transactions)."""
        binder = Binder(self.dialect)
        condition = exp.Between(this=column(SEQ), low=binder.bind(low_seq), high=binder.bind(high_seq))
        return self._render(exp.Delete(this=self._from(), where=exp.Where(this=condition)), binder)

    def truncate(self) -> Statement:
        """Delete every record of the table."""
        return self._render(exp.TruncateTable(expressions=[self._from()]))

    def columns(self) -> Statement:
        """The column names of the existing table, in order (to check it is this engine's)."""
        query, values = self.dialect.columns_query(self.table.name, self.database)
        return Statement(self.dialect.render(query), values)


def _slice(query: exp.Select, offset: int, limit: int | None) -> exp.Select:
    if limit is not None:
        query = query.limit(exp.Literal.number(limit))
    if offset:
        query = query.offset(exp.Literal.number(offset))
    return query
