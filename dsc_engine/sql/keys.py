"""DuckDB's key tables: a filter's records found without scanning the kind's table.

A DuckDB table has no order a filter could use: the records are in load order, so a filter on
``UserName`` reads the column of every record, and at ten million records that alone takes longer
than a page may. For every field an API parameter matches by equality the kind has a *key table*
(``schema.KeyTable``): the field's value beside the record's order keys, written in runs sorted by
the value and then the kind's order, newest first. DuckDB's zone maps (the least and greatest value
of each block of rows) then lead a lookup straight to the few blocks holding a value, and within
them to the window's times.

**Runs.** Sorting the key tables at every insert would cost more than the insert, so they follow
the kind's table in runs: once :attr:`RunPolicy.rows` records (load numbers) have been inserted
past the last run, the insert that reaches the count also sorts their keys into each key table,
as one run, and notes the run in the kind's runs table (``schema.RunsTable``), all in the insert's
transaction. The records after the last run (the *tail*, fewer than ``rows``) are in no key table:
a lookup reads them from the kind's table, where their load numbers bound the scan to the last
blocks. When a kind has more than :attr:`RunPolicy.most` runs, the insert rewrites each key table
as one run.

**Which filters.** :func:`plan` accepts a filter that is a conjunction of equality conditions on
keyed fields (``=`` or ``in`` on an exact field, case-insensitive ``=`` on a folded one), at least
one, and conditions on the primary time (ranges, ``=``); anything else (negations, substrings,
other fields) scans the kind's table as before. The records matching such a filter are those of
the first condition's key table whose load numbers are in each other condition's (a semi-join,
used only when one condition is rare: :data:`SEMI_JOIN_SHARE`), plus the tail's; their total and
a page's load numbers come from that, in the kind's order, and the page's rows are then fetched
by load number through the kind's index on it. The answers are exactly the scan's: the
conditions compare the same values (the folded needle with the folded value), records lacking
the field have no key row and match no equality, and the order keys are the same columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from sqlglot import exp

from dsc_engine.query import ast, passes
from dsc_engine.sql.compile import Binder, where
from dsc_engine.sql.dialects import Dialect, column, identifier
from dsc_engine.sql.schema import FOLDED, SEQ, KeyTable, Table, sql_value
from dsc_engine.sql.statements import Statement, found, sliced
from dsc_engine.wire.catalog import PRIMARY_TIME


#: Several keyed conditions are answered by a semi-join of their key tables only when one of them
#: finds fewer than one record in this many of the kind's records (counted: the watermark is no
#: count, load numbers have gaps where listings reserved blocks): the semi-join of that one's few
#: key rows with the others' matching ones then costs about what a scan of one column of the
#: kind's table would; when every condition is common, scanning the kind's table reads less.
#: (Measured at 10 million audit logs: 41,000 ``InstanceName`` key rows against a million
#: ``RuleId`` ones took 18 ms, the scan over 100 ms; at a million masking runs, 200,000
#: ``SrcType`` key rows against 200,000 ``DstType`` ones took 45 ms, the scan 12 ms.) The count
#: that decides stops at this share, so that ruling a common value out costs little.
SEMI_JOIN_SHARE = 100


@attrs.frozen
class RunPolicy:
    """When the key tables take a run: every ``rows`` new records; ``most`` runs before they are
    rewritten as one. The defaults suit millions of records; the tests take small ones."""

    rows: int = 1_000_000
    most: int = 16

    def __attrs_post_init__(self) -> None:
        if self.rows < 1 or self.most < 1:
            raise ValueError(f"a run policy needs rows and most of 1 or more, not {self.rows} and {self.most}")


@attrs.frozen
class KeyLeaf:
    """One condition a key table answers: ``=``/``in`` on its field, or ``=`` ignoring case."""

    table: KeyTable
    node: ast.Compare | ast.InSet | ast.EqualsIgnoreCase


@attrs.frozen
class KeyPlan:
    """A filter answered from key tables: its keyed conditions (at least one), its conditions on
    the primary time (ranges, or ``=``), and the whole (optimized) filter, which the tail is read
    with."""

    node: ast.Node
    leaves: tuple[KeyLeaf, ...]
    times: tuple[ast.Range | ast.Compare, ...]


def plan(node: ast.Node, table: Table) -> KeyPlan | None:
    """How the key tables of ``table`` answer ``node``, or ``None`` when they cannot."""
    if not table.key_tables:
        return None
    optimized = passes.optimize(node)
    items = optimized.items if isinstance(optimized, ast.And) else (optimized,)
    exact = {keys.field: keys for keys in table.key_tables if not keys.folded}
    folded = {keys.field: keys for keys in table.key_tables if keys.folded}
    time = PRIMARY_TIME[table.kind]
    leaves: list[KeyLeaf] = []
    times: list[ast.Range | ast.Compare] = []
    for item in items:
        if isinstance(item, ast.Range | ast.Compare) and item.field == time:
            times.append(item)
        elif isinstance(item, ast.Compare) and item.op is ast.CompareOp.EQ and item.field in exact:
            leaves.append(KeyLeaf(exact[item.field], item))
        elif isinstance(item, ast.InSet) and item.field in exact:
            leaves.append(KeyLeaf(exact[item.field], item))
        elif isinstance(item, ast.EqualsIgnoreCase) and item.field in folded:
            leaves.append(KeyLeaf(folded[item.field], item))
        else:
            return None
    if not leaves:
        return None
    return KeyPlan(optimized, tuple(leaves), tuple(times))


class KeyStatements:
    """The statements that read and keep the key tables of one kind."""

    def __init__(self, table: Table, dialect: Dialect, database: str) -> None:
        self.table = table
        self.dialect = dialect
        self.ref = dialect.table(table.name, database)
        self.runs = dialect.table(table.runs.name, database)
        self.keys = {keys.name: dialect.table(keys.name, database) for keys in table.key_tables}
        self._watermark = self._watermark_statement()

    def _render(self, expression: exp.Expr, binder: Binder | None = None) -> Statement:
        return Statement.rendered(self.dialect, expression, binder)

    def _order(self) -> list[exp.Ordered]:
        return [exp.Ordered(this=column(key), desc=True) for key in self.table.order]

    # ---------------------------------------------------------------------------------- read

    def watermark(self) -> Statement:
        """The first load number in no run (0 without runs), and how many runs there are."""
        return self._watermark

    def _watermark_statement(self) -> Statement:
        last = exp.Add(this=exp.Max(this=column(self.table.runs.last)), expression=exp.Literal.number(1))
        first_free = exp.Coalesce(this=last, expressions=[exp.Literal.number(0)])
        return self._render(exp.select(first_free, exp.Count(this=exp.Star())).from_(self.runs.copy(), copy=False))

    def postings(self, key_plan: KeyPlan, cap: int) -> Statement:
        """One row: how many key rows each keyed condition of ``key_plan`` finds in the runs
        (within the time ranges), counting no further than ``cap`` (so that a common value costs
        no more than ``cap`` rows to rule out)."""
        binder = Binder(self.dialect)
        counts = []
        for leaf in key_plan.leaves:
            rows = (
                exp.select(exp.Literal.number(1))
                .from_(self.keys[leaf.table.name].copy(), copy=False)
                .where(self._leaf(leaf, key_plan, binder), copy=False)
                .limit(exp.Literal.number(cap), copy=False)
            )
            count = exp.select(exp.Count(this=exp.Star())).from_(rows.subquery("rows", copy=False), copy=False)
            counts.append(count.subquery(copy=False))
        return self._render(exp.select(*counts), binder)

    def found(self, key_plan: KeyPlan, watermark: int, offset: int, limit: int) -> Statement:
        """One row: the total of ``key_plan`` and the load numbers of the page ``[offset, offset
        + limit)`` in order (``statements.found``). With several keyed conditions, their
        semi-join is computed once (materialized) for both."""
        binder = Binder(self.dialect)
        hits = self._hits(key_plan, watermark, binder)
        query = found(hits, self.table.order, offset, limit, materialized=len(key_plan.leaves) > 1)
        return self._render(query, binder)

    def total(self, key_plan: KeyPlan, watermark: int) -> Statement:
        """How many records ``key_plan`` matches."""
        binder = Binder(self.dialect)
        hits = self._hits(key_plan, watermark, binder).subquery("hits", copy=False)
        return self._render(exp.select(exp.Count(this=exp.Star())).from_(hits, copy=False), binder)

    def page(self, key_plan: KeyPlan, watermark: int, offset: int, limit: int) -> Statement:
        """The load numbers of the page ``[offset, offset + limit)`` of ``key_plan``, in order."""
        binder = Binder(self.dialect)
        hits = self._hits(key_plan, watermark, binder).subquery("hits", copy=False)
        query = exp.select(column(SEQ)).from_(hits, copy=False).order_by(*self._order(), copy=False)
        return self._render(sliced(query, offset, limit), binder)

    def _hits(self, key_plan: KeyPlan, watermark: int, binder: Binder) -> exp.Union:
        """The order keys of the records ``key_plan`` matches: those of the first keyed
        condition's key table whose load numbers the other conditions' key tables hold, up to
        ``watermark``; the kind's table's own from ``watermark`` on (the tail)."""
        keys = [column(name) for name in self.table.order]
        first, *others = key_plan.leaves
        keyed = (
            exp.select(*keys)
            .from_(self.keys[first.table.name].copy(), copy=False)
            .where(self._leaf(first, key_plan, binder), copy=False)
        )
        for other in others:
            inner = (
                exp.select(column(SEQ))
                .from_(self.keys[other.table.name].copy(), copy=False)
                .where(self._leaf(other, key_plan, binder), copy=False)
            )
            keyed = keyed.where(exp.In(this=column(SEQ), query=inner.subquery(copy=False)), copy=False)
        tail_condition = where(key_plan.node, self.table.filter_view, binder)
        after = exp.GTE(this=column(SEQ), expression=binder.bind(watermark))
        tail = exp.select(*keys).from_(self.ref.copy(), copy=False).where(exp.and_(after, tail_condition, copy=False), copy=False)
        return exp.union(keyed, tail, distinct=False, copy=False)

    def _leaf(self, leaf: KeyLeaf, key_plan: KeyPlan, binder: Binder) -> exp.Expr:
        """A keyed condition on its key table, with the time ranges (a key table carries the
        time under its own name)."""
        key = column(leaf.table.column.name)
        field_type = self.table.filter_view[leaf.table.field].type
        node = leaf.node
        test: exp.Expr
        if isinstance(node, ast.EqualsIgnoreCase):
            test = exp.EQ(this=key, expression=binder.bind(node.value.casefold()))
        elif isinstance(node, ast.InSet):
            test = exp.In(this=key, expressions=[binder.bind(sql_value(field_type, v)) for v in node.values])
        else:
            test = exp.EQ(this=key, expression=binder.bind(sql_value(field_type, node.value)))
        if not key_plan.times:
            return test
        times = ast.And(key_plan.times) if len(key_plan.times) > 1 else key_plan.times[0]
        return exp.and_(test, where(times, self.table.filter_view, binder), copy=False)

    # --------------------------------------------------------------------------------- write

    def append_run(self, keys: KeyTable, first: int, end: int) -> Statement:
        """Sort the keys of the records numbered ``first`` to ``end - 1`` into ``keys``, as a run."""
        binder = Binder(self.dialect)
        value: exp.Expr = column(keys.field)
        if keys.folded:
            value = exp.Coalesce(this=column(keys.field + FOLDED), expressions=[column(keys.field)])
        rows = (
            exp.select(value, *(column(each.name) for each in keys.order))
            .from_(self.ref.copy(), copy=False)
            .where(exp.and_(
                _numbered(first, end, binder),
                exp.not_(exp.Is(this=column(keys.field), expression=exp.Null()), copy=False),
                copy=False,
            ), copy=False)
            .order_by(exp.Ordered(this=exp.Literal.number(1)), *self._order(), copy=False)
        )
        columns = [identifier(each.name) for each in keys.columns]
        return self._render(exp.insert(rows, self.keys[keys.name].copy(), columns=columns, copy=False), binder)

    def unsorted(self, first: int, end: int) -> Statement:
        """How many records are numbered ``first`` to ``end - 1`` (load numbers have gaps: a
        listing reserves a block)."""
        binder = Binder(self.dialect)
        rows = exp.select(exp.Count(this=exp.Star())).from_(self.ref.copy(), copy=False)
        rows = rows.where(_numbered(first, end, binder), copy=False)
        return self._render(rows, binder)

    def note_run(self, first: int, last: int) -> Statement:
        binder = Binder(self.dialect)
        values = exp.values([exp.Tuple(expressions=[binder.bind(first), binder.bind(last)])])
        columns = [identifier(self.table.runs.first), identifier(self.table.runs.last)]
        return self._render(exp.insert(values, self.runs.copy(), columns=columns, copy=False), binder)

    def first_run(self) -> Statement:
        """The first load number of the first run."""
        first = exp.Min(this=column(self.table.runs.first))
        return self._render(exp.select(first).from_(self.runs.copy(), copy=False))

    def empty(self) -> list[Statement]:
        """Delete every key row and every run (the kind's table emptied, or before a rewrite)."""
        tables = [self.runs, *self.keys.values()]
        return [self._render(exp.Delete(this=table.copy())) for table in tables]


def _numbered(first: int, end: int, binder: Binder) -> exp.Expr:
    """The records numbered ``first`` to ``end - 1``."""
    return exp.and_(
        exp.GTE(this=column(SEQ), expression=binder.bind(first)),
        exp.LT(this=column(SEQ), expression=binder.bind(end)),
        copy=False,
    )


def chunks(values: Sequence[int], size: int) -> list[Sequence[int]]:
    """``values`` in pieces of at most ``size`` (DuckDB fetches through its index up to 2,048
    values of an ``IN`` list)."""
    return [values[start:start + size] for start in range(0, len(values), size)]
