"""The statements a SQL record source sends, built with sqlglot's expression builder.

Each function returns a :class:`Statement`: the text rendered for the dialect and the values bound
to its placeholders. Statements over a filter share one :class:`~dsc_engine.sql.compile.Binder`,
so a page and its total send the same values. Slices (``LIMIT``/``OFFSET``) are Python integers
the source has checked, written as numbers by sqlglot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    """One statement to send: its text rendered for the dialect and the values bound to its
    placeholders."""

    sql: str
    values: Mapping[str, Any]

    @classmethod
    def rendered(cls, dialect: Dialect, expression: exp.Expr, binder: Binder | None = None) -> Statement:
        """``expression`` rendered for ``dialect``, with the values ``binder`` bound (none without)."""
        return cls(dialect.render(expression), dict(binder.values) if binder else {})


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

    def _render(self, expression: exp.Expr, binder: Binder | None = None) -> Statement:
        return Statement.rendered(self.dialect, expression, binder)

    def condition(self, node: ast.Node) -> tuple[exp.Expr, Binder]:
        binder = Binder(self.dialect)
        return where(node, self.table.filter_view, binder), binder

    def count(self, node: ast.Node) -> Statement:
        condition, binder = self.condition(node)
        query = exp.select(exp.Count(this=exp.Star())).from_(self._from(), copy=False).where(condition, copy=False)
        return self._render(query, binder)

    def size(self) -> Statement:
        return self._render(exp.select(exp.Count(this=exp.Star())).from_(self._from(), copy=False))

    def page(self, node: ast.Node, offset: int, limit: int | None) -> Statement:
        """The records matching ``node`` in the kind's order, ``[offset, offset + limit)``."""
        condition, binder = self.condition(node)
        query = (
            exp.select(*self._records())
            .from_(self._from(), copy=False)
            .where(condition, copy=False)
            .order_by(*self._order(), copy=False)
        )
        return self._render(sliced(query, offset, limit), binder)

    def found(self, node: ast.Node, offset: int, limit: int) -> Statement:
        """One row: the total of ``node`` and the load numbers of the page ``[offset, offset +
        limit)``, in order (:func:`found`; DuckDB, which then fetches the rows by :meth:`rows`).
        Only the filter and order columns are read, never every column of a page's blocks."""
        condition, binder = self.condition(node)
        hits = exp.select(*(column(key) for key in self.table.order)).from_(self._from(), copy=False)
        return self._render(found(hits.where(condition, copy=False), self.table.order, offset, limit), binder)

    def page_keys(self, node: ast.Node, offset: int, limit: int) -> Statement:
        """The load numbers of the page ``[offset, offset + limit)`` of ``node``, in order (DuckDB:
        a page after the first, once its total is known)."""
        condition, binder = self.condition(node)
        query = (
            exp.select(column(SEQ))
            .from_(self._from(), copy=False)
            .where(condition, copy=False)
            .order_by(*self._order(), copy=False)
        )
        return self._render(sliced(query, offset, limit), binder)

    def rows(self, seqs: Sequence[int]) -> Statement:
        """The records numbered ``seqs`` (any order), each followed by its load number: DuckDB
        finds them through the index on the load number."""
        binder = Binder(self.dialect)
        wanted = exp.In(this=column(SEQ), expressions=[binder.bind(seq) for seq in seqs])
        query = exp.select(*self._records(), column(SEQ)).from_(self._from(), copy=False).where(wanted, copy=False)
        return self._render(query, binder)

    def groups(self, node: ast.Node, field: str) -> Statement:
        """How many values of ``field`` the matching records hold (absent: one more group)."""
        condition, binder = self.condition(node)
        grouped = (
            exp.select(column(field))
            .from_(self._from(), copy=False)
            .where(condition, copy=False)
            .group_by(column(field), copy=False)
        )
        query = exp.select(exp.Count(this=exp.Star())).from_(grouped.subquery("grouped"), copy=False)
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
        ranked = (
            exp.select(*keys, exp.alias_(rank, RANK, quoted=True))
            .from_(self._from(), copy=False)
            .where(condition, copy=False)
        )
        winners = (
            exp.select(column(SEQ))
            .from_(ranked.subquery("ranked"), copy=False)
            .where(exp.EQ(this=column(RANK), expression=exp.Literal.number(1)))
            .order_by(*self._order(), copy=False)
        )
        query = (
            exp.select(*self._records())
            .from_(self._from(), copy=False)
            .where(exp.In(this=column(SEQ), query=sliced(winners, offset, limit).subquery(copy=False)))
            .order_by(*self._order(), copy=False)
        )
        return self._render(query, binder)

    def by_load_order(self, offset: int, limit: int | None) -> Statement:
        """Every record in load order, sliced."""
        query = (
            exp.select(*self._records())
            .from_(self._from(), copy=False)
            .order_by(exp.Ordered(this=column(SEQ), desc=False), copy=False)
        )
        return self._render(sliced(query, offset, limit))

    def next_seq(self) -> Statement:
        """How many rows the table has and its highest load number."""
        query = exp.select(exp.Count(this=exp.Star()), exp.Max(this=column(SEQ))).from_(self._from(), copy=False)
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


def sliced(query: exp.Select, offset: int, limit: int | None) -> exp.Select:
    """``query`` with ``LIMIT``/``OFFSET`` of a checked slice, written as numbers."""
    if limit is not None:
        query = query.limit(exp.Literal.number(limit), copy=False)
    if offset:
        query = query.offset(exp.Literal.number(offset), copy=False)
    return query


def found(hits: exp.Query, order: tuple[str, ...], offset: int, limit: int, *, materialized: bool = False) -> exp.Select:
    """One row over ``hits`` (the order keys ``order`` of the matching records): how many there
    are, and the load numbers of the slice ``[offset, offset + limit)`` in the order, as a list
    (``NULL`` when the slice is empty). The matching records are found twice (once for each) unless
    ``materialized``, which keeps them for the second: worth it when finding them costs more than
    keeping them."""
    name = exp.to_identifier("hits")
    descending = [exp.Ordered(this=column(key), desc=True) for key in order]
    total = exp.select(exp.Count(this=exp.Star())).from_(exp.Table(this=name.copy()), copy=False)
    every = exp.select(exp.Star()).from_(exp.Table(this=name.copy()), copy=False).order_by(*descending, copy=False)
    ordered = exp.Order(this=column(SEQ), expressions=[each.copy() for each in descending])
    page = sliced(every, offset, limit).subquery("page", copy=False)
    listed = exp.select(exp.ArrayAgg(this=ordered)).from_(page, copy=False)
    query = exp.select(total.subquery(copy=False), listed.subquery(copy=False))
    cte = exp.CTE(this=hits, alias=exp.TableAlias(this=name), materialized=materialized)
    query.set("with_", exp.With(expressions=[cte]))
    return query
