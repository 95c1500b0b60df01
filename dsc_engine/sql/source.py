"""A record source whose records live in a SQL table (DuckDB, chDB or a ClickHouse server).

:class:`SqlSource` is the second implementation of the record-source seam
(``dsc_engine.query.source``): the API layer, imports, exports and snapshots use it exactly as they
use the in-memory store, and get the same answers (``docs/backends.md`` says how each rule is
kept). Every filter is compiled to SQL by ``compile.py``; every value is bound, never written
into a statement.

A page is its total and its slice. On ClickHouse (a ``MergeTree`` in the kind's order) these are
a ``COUNT(*)`` and the ordered slice of the records. On DuckDB the page is found first, as the
load numbers of its records: from the key tables when the filter is one they answer
(``keys.py``), else by reading the filter and order columns of the kind's table; the page's rows
are then fetched by load number through the index on it, so that only those rows are read in
full (``docs/backends.md``, "Performance").
"""

from __future__ import annotations

import contextlib
import collections
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import attrs

from dsc_engine.errors import StoreError
from dsc_engine.models.kinds import RecordKind
from dsc_engine.models.records import INT64_MAX, Record
from dsc_engine.query import ast
from dsc_engine.query.source import Listing, Page, counted, most_first
from dsc_engine.sql import keys
from dsc_engine.sql.compile import no_utf8_form, storable
from dsc_engine.sql.connection import Connection
from dsc_engine.sql.keys import KeyStatements, RunPolicy
from dsc_engine.sql.schema import SEQ, Column, EntryColumn, Table, fold_array
from dsc_engine.sql.statements import Statement, Statements
from dsc_engine.wire.batch import DecodedBatch
from dsc_engine.wire.codec import ABSENT
from dsc_engine.wire.catalog import FIELDS

#: Rows fetched per round trip when every matching record is read (exports, snapshots).
STREAM_CHUNK = 10_000
#: Load numbers reserved for one listing (a file the importer reads); ``2**63 / 2**32`` listings fit.
LISTING_BLOCK = 2**32
#: Load numbers per statement when a page's rows are fetched by load number (DuckDB looks up at
#: most 2,048 values of an ``IN`` list through its index).
FETCH_CHUNK = 1_000


class SqlSource:
    """The records of one kind in one table of a SQL database (a ``RecordSource``)."""

    def __init__(
        self, kind: RecordKind, connection: Connection, table: Table, runs: RunPolicy | None = None
    ) -> None:
        self._kind = kind
        self._connection = connection
        self._table = table
        self._statements = Statements(table, connection.dialect, connection.database)
        self._keys = KeyStatements(table, connection.dialect, connection.database) if connection.dialect.keyed else None
        self._runs = runs or RunPolicy()
        self._decode = table.decoder()

    @property
    def kind(self) -> RecordKind:
        return self._kind

    @property
    def statements(self) -> Statements:
        return self._statements

    def _rows(self, statement: Statement) -> list[tuple[Any, ...]]:
        return self._connection.rows(statement.sql, statement.values)

    def _scalar(self, statement: Statement) -> int:
        return int(self._rows(statement)[0][0])

    def __len__(self) -> int:
        return self._scalar(self._statements.size())

    # --------------------------------------------------------------------------------- write

    def loading(self) -> contextlib.AbstractContextManager[object]:
        """The database's write lock (``RecordSource.loading``): loads by every engine over the
        database in this process run one at a time. Every write (an insert, ``end_listing``,
        ``clear``) takes that one lock, and no other: a lock of the source's own taken before it
        would be taken after it by a load, and an insert beside a load would deadlock."""
        return self._connection.loading()

    def insert(self, records: Iterable[Record], *, listing: Listing | None = None) -> int:
        """Append records in load order, as one batch: all of it is stored or, on failure,
        none of it (a ClickHouse insert that fails midway is deleted again). A ``listing``'s
        records are numbered downward from the top of a block of :data:`LISTING_BLOCK` load
        numbers above every number in use, reserved at its first batch (load numbers order the
        rows; they need not be consecutive)."""
        batch = records if isinstance(records, DecodedBatch) else list(records)
        self._check_kinds(batch)
        if not batch:
            return 0
        columns = self._table.encode(batch, 0)
        with self._connection.writing():
            count, highest = self._rows(self._statements.next_seq())[0]
            free = 0 if not count else int(highest) + 1
            if listing is None:
                seqs = range(free, free + len(batch))
            else:
                if listing.top is None:
                    listing.top = free + LISTING_BLOCK - 1
                if listing.count + len(batch) > LISTING_BLOCK:
                    raise StoreError(self._kind.value, "insert", f"a listing holds at most {LISTING_BLOCK} records")
                first = listing.top - listing.count
                seqs = range(first, first - len(batch), -1)
            columns[SEQ] = list(seqs)
            data = _arrow(self._table, columns, batch)
            try:
                self._connection.insert(self._table.name, data)
            except BaseException:  # an error or an interrupt: what arrived of the batch goes
                if not self._connection.transactional:
                    discard = self._statements.discard_between(min(seqs), max(seqs))
                    self._connection.execute(discard.sql, discard.values)
                raise
            if self._keys is not None:
                if listing is not None:  # other batches are numbered above every run
                    self._keep_below_watermark(self._keys, min(seqs), max(seqs) + 1)
                # a listing's later batches are numbered below this one: until it ends, only the
                # records numbered below its block are final, and a run may take only those
                closed = max(seqs) + 1 if listing is None or listing.top is None else listing.top - LISTING_BLOCK + 1
                self._take_run(self._keys, closed)
        if listing is not None:
            listing.count += len(batch)
        return len(batch)

    def end_listing(self, listing: Listing) -> None:
        """The listing is complete, so its block is final: with key tables, take the run an
        insert would (else a file of API pages, such as a pull's, would stay in the tail, scanned
        by every lookup, until the next insert)."""
        if self._keys is None or listing.top is None:
            return
        with self._connection.writing():
            self._take_run(self._keys, listing.top + 1)

    def _check_kinds(self, records: Sequence[Record]) -> None:
        if isinstance(records, DecodedBatch) and records.kind is not self._kind:
            reason = f"the batch holds {records.kind.value} records"
            raise StoreError(self._kind.value, "insert", reason)
        for index, record in _records(records):
            if type(record) is not self._kind.record_class:
                reason = f"record {index} of the batch is a {type(record).__name__}"
                raise StoreError(self._kind.value, "insert", reason)

    def check(self, records: Sequence[Record]) -> None:
        """Refuse, storing nothing, a batch that :meth:`insert` would refuse for what it holds:
        a record of another kind, or text with a lone surrogate (no UTF-8 form)."""
        self._check_kinds(records)
        fields = FIELDS[self._kind]
        for index, record in _records(records):
            for name, spec in fields.items():
                if _lone_surrogate(spec.get(record)):
                    raise _surrogate_error(self._table, index, name, len(records))

    def _take_run(self, statements: KeyStatements, end: int) -> None:
        """Once :attr:`RunPolicy.rows` records are in no run, sort their keys into the key tables
        as a run (in the insert's transaction); past :attr:`RunPolicy.most` runs, rewrite every
        key table as one run (``keys.py``)."""
        watermark, runs = self._rows(statements.watermark())[0]
        if end - watermark < self._runs.rows:  # load numbers have gaps (listings): count as well
            return
        if self._scalar(statements.unsorted(watermark, end)) < self._runs.rows:
            return
        if runs >= self._runs.most:
            watermark = int(self._scalar(statements.first_run()))
            for statement in statements.empty():
                self._execute(statement)
        self._sort_in(statements, watermark, end)

    def _keep_below_watermark(self, statements: KeyStatements, first: int, end: int) -> None:
        """Sort the batch numbered ``first`` to ``end - 1`` into the key tables, as a run of its
        own, where it lies below the watermark: a listing continued after another load (another
        import, on another thread) took a run over its block is numbered there, where neither the
        runs nor the tail would hold it. A batch's load numbers are consecutive and new, so the
        range holds its records only."""
        watermark = int(self._rows(statements.watermark())[0][0])
        if first >= watermark:
            return
        self._sort_in(statements, first, min(end, watermark))

    def _sort_in(self, statements: KeyStatements, first: int, end: int) -> None:
        """The records numbered ``first`` to ``end - 1`` as a run of every key table."""
        for key_table in self._table.key_tables:
            self._execute(statements.append_run(key_table, first, end))
        self._execute(statements.note_run(first, end - 1))

    def _execute(self, statement: Statement) -> None:
        self._connection.execute(statement.sql, statement.values)

    def clear(self) -> None:
        """Delete every record (and key row): the table as newly created. On DuckDB in one
        transaction, so that key rows never outlive their records."""
        with self._connection.writing():
            self._execute(self._statements.truncate())
            if self._keys is not None:
                for statement in self._keys.empty():
                    self._execute(statement)

    # ---------------------------------------------------------------------------------- read

    def query(
        self, node: ast.Node, offset: int = 0, limit: int | None = 10, *, distinct: str | None = None
    ) -> Page:
        """The records matching ``node`` in the kind's order, ``[offset, offset + limit)``, with the
        true total; with ``distinct``, the newest record of each value of that field."""
        _check_slice(self._kind, offset, limit)
        if distinct is not None and distinct not in FIELDS[self._kind]:
            reason = f"cannot group by {distinct!r}: not a field of {self._kind.value} records"
            raise StoreError(self._kind.value, "query", reason)
        statements = self._statements
        node = storable(node)
        # the engines read LIMIT as a signed 64-bit integer: a larger one is every record from the
        # offset (an offset that large is past any total, and never sent)
        window = None if limit is None or limit > INT64_MAX else limit
        with self._connection.reading():
            if distinct is None and self._keys is not None and window is not None:
                total, seqs = self._locate(self._keys, node, offset, window)
                return Page(total, self._fetch(seqs), offset, limit)
            if distinct is None:
                total = self._scalar(statements.count(node))
                page = statements.page(node, offset, window)
            else:
                total = self._scalar(statements.groups(node, distinct))
                page = statements.newest_per_group(node, distinct, offset, window)
            if offset >= total or limit == 0:
                return Page(total, [], offset, limit)
            records = self._decode(self._rows(page))
        return Page(total, records, offset, limit)

    def _key_plan(self, statements: KeyStatements, node: ast.Node) -> tuple[keys.KeyPlan, int] | None:
        """The key plan of ``node`` and the watermark, when the key tables answer the filter: they
        hold a run, and of several keyed conditions one is rare (:data:`keys.SEMI_JOIN_SHARE`)."""
        key_plan = keys.plan(node, self._table)
        if key_plan is None:
            return None
        watermark, runs = self._rows(statements.watermark())[0]
        if not runs:
            return None
        if len(key_plan.leaves) > 1:  # a share of the records: load numbers have gaps (listings)
            cap = max(1, self._scalar(self._statements.size()) // keys.SEMI_JOIN_SHARE)
            if min(self._rows(statements.postings(key_plan, cap))[0]) >= cap:
                return None
        return key_plan, int(watermark)

    def _locate(self, statements: KeyStatements, node: ast.Node, offset: int, limit: int) -> tuple[int, list[int]]:
        """The total of ``node`` and the load numbers of the slice, in order (DuckDB). The first
        page comes with its total from one statement, as does any page of a semi-join of key
        tables (whose matches are few: :data:`keys.SEMI_JOIN_SHARE`); a later page is sliced once
        its total is known, so that a page past the end is never sorted for."""
        planned = self._key_plan(statements, node)
        if planned is not None and (offset == 0 or len(planned[0].leaves) > 1):
            found = statements.found(*planned, offset, limit)
        elif planned is None and offset == 0:
            found = self._statements.found(node, offset, limit)
        else:
            total = self._scalar(statements.total(*planned) if planned else self._statements.count(node))
            if offset >= total or limit == 0:
                return total, []
            page = statements.page(*planned, offset, limit) if planned else self._statements.page_keys(node, offset, limit)
            return total, [int(row[0]) for row in self._rows(page)]
        total, listed = self._rows(found)[0]
        return int(total), [int(seq) for seq in listed or ()]

    def _fetch(self, seqs: Sequence[int]) -> list[Record]:
        """The records numbered ``seqs``, in that order (fetched through the load-number index)."""
        found: dict[int, tuple[Any, ...]] = {}
        for chunk in keys.chunks(seqs, FETCH_CHUNK):
            for row in self._rows(self._statements.rows(chunk)):
                found[int(row[-1])] = row[:-1]
        return self._decode([found[seq] for seq in seqs])

    def count(self, node: ast.Node) -> int:
        node = storable(node)
        if self._keys is None:
            return self._scalar(self._statements.count(node))
        with self._connection.reading():
            planned = self._key_plan(self._keys, node)
            if planned is not None:
                return self._scalar(self._keys.total(*planned))
            return self._scalar(self._statements.count(node))

    def iter_ordered(self, node: ast.Node) -> Iterator[Record]:
        """Every matching record in order, fetched in chunks of :data:`STREAM_CHUNK` rows."""
        statement = self._statements.page(storable(node), 0, None)
        return self._stream(statement)

    def count_by(self, node: ast.Node, field: str) -> list[tuple[Any, int]]:
        """How many matching records hold each value of ``field`` (``None``: absent; an entry
        field's distinct values per record, :func:`counted`), counted over the records streamed
        as :meth:`iter_ordered` sends them, read by the field catalog's getters, so a value is
        the in-memory store's for the same record."""
        values = counted(self.kind, field)
        return most_first(collections.Counter(itertools.chain.from_iterable(map(values, self.iter_ordered(node)))))

    def _stream(self, statement: Statement) -> Iterator[Record]:
        for rows in self._connection.stream(statement.sql, statement.values, STREAM_CHUNK):
            yield from self._decode(rows)

    def records_in_load_order(self) -> Sequence[Record]:
        return _LoadOrderView(self)

    def explain(self, node: ast.Node) -> str:
        """The statements this source sends for the first page of ``node`` and its total."""
        node = storable(node)
        statements = self._statements
        dialect = self._connection.dialect
        lines = [
            f"{self._kind.value} table {statements.ref.sql(dialect=dialect.name)} in {self._connection.shown}"
            f" ({dialect.name} SQL)",
        ]
        steps: list[tuple[str, Statement, bool]]  # (title, statement, bound to the page found before)
        if self._keys is None:
            steps = [
                ("the total:", statements.count(node), False),
                ("the first page (the slice of any page is its LIMIT and OFFSET):", statements.page(node, 0, 10), False),
            ]
        else:
            with self._connection.reading():
                planned = self._key_plan(self._keys, node)
            if planned is not None:
                title = (
                    "the total and the first page's load numbers (any page: its LIMIT and OFFSET), from the"
                    f" key tables and the records from load number {planned[1]} on (in no run yet):"
                )
                steps = [(title, self._keys.found(*planned, 0, 10), False)]
            else:
                title = "the total and the first page's load numbers (any page: its LIMIT and OFFSET):"
                steps = [(title, statements.found(node, 0, 10), False)]
            steps.append((
                "then the page's rows, through the index on the load number (one value per record of the page):",
                statements.rows([0]),
                True,
            ))
        for title, statement, of_page in steps:
            lines += [f"-- {title}", f"{_pretty(statement.sql, dialect.name)};"]
            if of_page:
                values = ", ".join(f"{name} = the load numbers of the page the statement above found"
                                   for name in statement.values)
            else:
                values = ", ".join(f"{name} = {value!r}" for name, value in statement.values.items())
            lines.append(f"-- bound values: {values or 'none'}")
        return "\n".join(lines)


def _pretty(sql: str, dialect: str) -> str:
    import sqlglot

    return sqlglot.transpile(sql, read=dialect, write=dialect, pretty=True)[0]


def _check_slice(kind: RecordKind, offset: int, limit: int | None) -> None:
    valid = isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0
    if limit is not None:
        valid = valid and isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0
    if not valid:
        reason = f"offset {offset!r} and limit {limit!r} must be integers, not negative"
        raise StoreError(kind.value, "query", reason)


class _LoadOrderView(Sequence[Record]):
    """A source's records in load order, read from the database as they are asked for."""

    def __init__(self, source: SqlSource) -> None:
        self._source = source

    def __len__(self) -> int:
        return len(self._source)

    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Record]: ...
    def __getitem__(self, index: int | slice) -> Record | Sequence[Record]:
        statements, source = self._source.statements, self._source
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return list(self)[index]
            if stop <= start:
                return []
            return source._decode(source._rows(statements.by_load_order(start, stop - start)))
        size = len(self)
        position = index + size if index < 0 else index
        if not 0 <= position < size:
            raise IndexError("record index out of range")
        return source._decode(source._rows(statements.by_load_order(position, 1)))[0]

    def __iter__(self) -> Iterator[Record]:
        return self._source._stream(self._source.statements.by_load_order(0, None))


def _records(records: Sequence[Record]) -> Iterable[tuple[int, Any]]:
    """``(place in the batch, record)`` of each record to check: of a :class:`DecodedBatch`, the
    items that are not the fast path's structs (a struct holds Unicode text only, of its kind)."""
    return records.records() if isinstance(records, DecodedBatch) else enumerate(records)


def _arrow(table: Table, columns: dict[str, list[Any]], batch: Sequence[Record]) -> Any:
    """The batch as a ``pyarrow.Table`` of the table's column types (what both engines insert)."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    arrays: dict[str, Any] = {}
    fields = []
    for each in table.columns:
        kind = _arrow_type(pa, each)
        if isinstance(each, Column) and each.folds is not None:
            arrays[each.name] = fold_array(arrays[each.folds])
        else:
            try:
                arrays[each.name] = _array(pa, columns[each.name], kind)
            except (pa.ArrowException, UnicodeEncodeError):
                raise _unstorable(table, columns[each.name], each.name, batch) from None
        fields.append(pa.field(each.name, kind, nullable=not isinstance(each, Column) or each.nullable))
    return pa.Table.from_arrays([arrays[each.name] for each in table.columns], schema=pa.schema(fields))


def _array(pa: Any, values: list[Any], kind: Any) -> Any:
    """The Arrow array of a column's values. A :class:`DecodedBatch`'s columns hold a struct's
    absent value as :data:`ABSENT` (its record's ``None``), which Arrow refuses: only a column
    Arrow refuses is looked through for it, and then read with nulls in its place."""
    try:
        return pa.array(values, type=kind)
    except (pa.ArrowException, UnicodeEncodeError):
        if ABSENT not in values:
            raise
    return pa.array([None if value is ABSENT else value for value in values], type=kind)


def _arrow_type(pa: Any, column: Column | EntryColumn) -> Any:
    if isinstance(column, EntryColumn):
        return pa.list_(pa.struct([(member.name, _arrow_type(pa, member)) for member in column.members]))
    return getattr(pa, column.stored.arrow)()


def _unstorable(table: Table, values: list[Any], name: str, batch: Sequence[Record]) -> StoreError:
    """Why a column of a batch cannot be stored: text that is not valid Unicode (a lone surrogate,
    which a JSON ``\\ud800`` escape can make) has no UTF-8 form, which both engines require."""
    for index, value in enumerate(values):
        if _lone_surrogate(value):
            return _surrogate_error(table, index, name, len(batch))
    return StoreError(table.kind.value, "insert", f"{name}: the values cannot be converted for the database")


def _surrogate_error(table: Table, index: int, name: str, size: int) -> StoreError:
    """The refusal of a batch of ``size`` records whose record ``index`` holds a lone surrogate in
    field ``name``. Only a batch of others says that they were not loaded either: a batch of one
    is how a lenient import checks each record of a refused batch, and loads the others."""
    reason = (
        f"record {index} of the batch: {name} holds text with a lone surrogate (an unpaired"
        f" \\ud800-\\udfff escape), which has no UTF-8 form: the {table.kind.value} table cannot store it"
    )
    if size > 1:
        reason += "; nothing of the batch was loaded"
    return StoreError(table.kind.value, "insert", reason)


def _lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return no_utf8_form(value)
    if isinstance(value, (list, tuple)):
        return any(_lone_surrogate(item) for item in value)
    if isinstance(value, dict):
        return any(_lone_surrogate(item) for item in value.values())
    if attrs.has(type(value)):  # a nested entry
        return any(_lone_surrogate(item) for item in attrs.astuple(value, recurse=False))
    return False
