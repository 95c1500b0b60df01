"""The store of one record kind: records in the contract's total order, answering filter ASTs.

Order (``docs/semantics.md`` §5.1): newest first by the kind's primary time; ties by ``Id`` descending
for masking runs; then by load order, the record loaded last first.

Layout: a store is a :class:`_Version`, an immutable tuple of segments (``segment.py``), each a
columnar block of rows kept in that order with its own indexes. An insert builds a new segment
(and merges small segments into bigger ones, size-tiered) off to the side, then swaps the one
``_version`` reference; a query reads that reference once, so it sees the store before or after
a whole batch and never waits for a load. Queries are planned by ``dsc_engine.query.plan`` and
run by ``execute.py``; ``paging.py`` merges the segments' hits. ``docs/store.md`` has the
details and measurements.
"""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from dsc_engine.errors import StoreError
from dsc_engine.models import RecordKind
from dsc_engine.models.records import Record
from dsc_engine.query import ast, plan
from dsc_engine.query.plan import IndexKind
from dsc_engine.query.source import Listing, Page, count_field, most_first
from dsc_engine.store import paging
from dsc_engine.store.columns import ENTRY_PREFIX, Column, Schema
from dsc_engine.store.execute import Statistics, hits
from dsc_engine.wire.catalog import FIELDS
from dsc_engine.wire.types import Storage
from dsc_engine.store.build import Transpose, concat_columns, encode_columns, shared_rows
from dsc_engine.store.segment import Segment

#: A new segment is merged into the previous one when it is at least this fraction of its size.
_MERGE_RATIO = 4
#: A segment of at least this many rows is also merged into the previous one (a bulk load ends
#: in one segment) when it is at least 1/``_SPLICE_SHARE`` of it, so that a merge copies at most
#: that many rows a new row (a splice); smaller ones wait until they add up, keeping the big
#: one's indexes. ``docs/store.md``, "Inserts and concurrency".
_SPLICE_ROWS = 1_000
_SPLICE_SHARE = 64
#: Coded columns of at most this many codes get their composite indexes built ahead
#: (``Store.build_pair_indexes``), at most this many columns of a kind.
PAIR_CODES = 16
PAIRS_BUILT = 3
PAIR_ROWS = 1 << 18
#: Plans kept per store (the cache is cleared when it fills up).
_PLAN_CACHE = 1024


class _Version:
    """One immutable state of a store: its segments, newest-built last."""

    __slots__ = ("segments", "rows", "next_seq", "stats", "_load_order", "_lock")

    def __init__(self, schema: Schema, segments: tuple[Segment, ...], next_seq: int) -> None:
        self.segments = segments
        self.rows = sum(segment.n for segment in segments)
        self.next_seq = next_seq
        self.stats = Statistics(schema, segments)
        self._load_order: list[tuple[Segment, int]] | None = None
        self._lock = threading.Lock()

    def load_order(self) -> list[tuple[Segment, int]]:
        """``(segment, row)`` of every record by load number (built once per version)."""
        if self._load_order is None:
            with self._lock:
                if self._load_order is None:
                    where: list[tuple[Segment, int]] = [None] * self.rows  # type: ignore[list-item]
                    for segment in self.segments:
                        for row, seq in enumerate(segment.seq):
                            where[seq] = (segment, row)
                    self._load_order = where
        return self._load_order


class _LoadOrderView(Sequence[Record]):
    """The records of a version in load order, rebuilt one at a time as they are read."""

    def __init__(self, version: _Version) -> None:
        self._version = version

    def __len__(self) -> int:
        return self._version.rows

    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Record]: ...
    def __getitem__(self, index: int | slice) -> Record | Sequence[Record]:
        where = self._version.load_order()
        if isinstance(index, slice):
            return [segment.record(row) for segment, row in where[index]]
        segment, row = where[index]
        return segment.record(row)

    def __iter__(self) -> Iterator[Record]:
        for segment, row in self._version.load_order():
            yield segment.record(row)


class Store:
    """All records of one kind, queried by filter AST with exact paging (a ``RecordSource``)."""

    def __init__(self, kind: RecordKind) -> None:
        self.kind = kind
        self._schema = Schema(kind)
        self._version = _Version(self._schema, (), 0)
        self._write_lock = threading.Lock()
        self._loading = threading.RLock()
        self._plans: dict[ast.Node, tuple[int, plan.Plan]] = {}
        self._indexer: threading.Thread | None = None

    def __len__(self) -> int:
        return self._version.rows

    def loading(self) -> threading.RLock:
        """The lock a load into this store holds (``RecordSource.loading``)."""
        return self._loading

    def end_listing(self, listing: Listing) -> None:
        """Nothing to do: this store takes no listing (see :meth:`insert`)."""

    def check(self, records: Sequence[Record]) -> None:
        """Refuse a batch holding a record of another kind (any text can be stored here)."""
        for index, record in enumerate(records):
            if RecordKind.of(record) is not self.kind:
                reason = f"record {index} of the batch is a {type(record).__name__}"
                raise StoreError(self.kind.value, "insert", reason)

    def insert(self, records: Iterable[Record], *, listing: Listing | None = None) -> int:
        """Add records in load order (later records sort first among equal keys); one atomic
        batch. A listing in several batches loads through :meth:`bulk` (``BulkLoad.mark`` and
        ``reverse_since``) here, where load numbers are consecutive: ``listing`` is refused."""
        if listing is not None:
            raise StoreError(self.kind.value, "insert", "the in-memory store takes a listing through Store.bulk()")
        batch = list(records)
        self.check(batch)
        if not batch:
            return 0
        with self._write_lock:
            current = self._version
            segment = Segment.from_records(self._schema, batch, current.next_seq)
            segments = _compact(self._schema, (*current.segments, segment))
            self._version = _Version(self._schema, segments, current.next_seq + len(batch))
        return len(batch)

    def bulk(self) -> BulkLoad:
        """A bulk load into this store: records (or typed structs of this kind, see
        :meth:`BulkLoad.add`) coded into columns as they come, sorted once and published as one
        segment by :meth:`BulkLoad.finish` (no splice per batch)."""
        return BulkLoad(self)

    def segments(self) -> tuple[Segment, ...]:
        """The segments of the current version (what a snapshot keeps, with their indexes)."""
        return self._version.segments

    def published(self) -> tuple[tuple[Segment, ...], int]:
        """The segments and the row count of one version, read together: an insert meanwhile
        publishes a new version and changes neither. Every code they hold is in the intern
        tables, which only grow, as read at any time after this call."""
        version = self._version
        return version.segments, version.rows

    @property
    def schema(self) -> Schema:
        return self._schema

    def records_column(self, attr: str) -> list[Any]:
        """Every record's value of ``attr`` (in no particular order; ``None`` when absent)."""
        values: list[Any] = []
        for segment in self._version.segments:
            get = segment.attr_getter(attr)
            values.extend(map(get, range(segment.n)))
        return values

    def replace_with(self, other: Store) -> bool:
        """Become ``other`` (a store of this kind that nobody else holds, say one just read from
        a snapshot), schema and segments, when this store holds no record; ``False`` (nothing
        done) when it holds some, so that the caller appends them in load order instead."""
        with self._write_lock:
            if self._version.rows or other.kind is not self.kind:
                return False
            self._schema, self._version, self._plans = other._schema, other._version, {}
        return True

    def adopt(self, segments: Sequence[Segment]) -> bool:
        """Take ``segments`` (built over this store's schema, load numbers ``0..rows-1``) as the
        whole content of an empty store; ``False`` (nothing done) when the store holds records."""
        with self._write_lock:
            if self._version.rows:
                return False
            rows = sum(segment.n for segment in segments)
            self._version = _Version(self._schema, tuple(segments), rows)
        return True

    def build_indexes(self, attrs: Iterable[str] | None = None) -> int:
        """Build now, on every segment, the indexes queries on ``attrs`` (all columns: ``None``)
        use: a hash index per coded column (a text index instead for mostly distinct text), a
        sorted index per int column, an entry index per entry attribute; how many were built."""
        wanted = set(self._schema.columns if attrs is None else attrs)
        built = 0
        for segment in self._version.segments:
            for kind, attr in index_plan(self._schema, segment, wanted):
                if not segment.has_index(kind, attr):
                    segment.index(kind, attr)
                    built += 1
        return built

    def build_pair_indexes(self, attrs: Iterable[str]) -> int:
        """Build now the composite indexes a query on two of ``attrs`` may use; how many: on
        segments of at most :data:`PAIR_ROWS` rows (4 bytes a row each), every ordered pair of
        coded columns with at most :data:`PAIR_CODES` codes (at most :data:`PAIRS_BUILT` columns,
        the first ones), and on every segment the entry pair indexes (:meth:`build_entry_pairs`).
        On a bigger segment no composite index of two columns is built ahead (no query builds
        one either: ``docs/store.md``, "composite index"); its intersections probe the driver's
        rows in C."""
        wanted = list(dict.fromkeys(attrs))
        schema = self._schema
        small = [a for a in wanted if a in schema.tables and len(schema.tables[a]) <= PAIR_CODES][:PAIRS_BUILT]
        built = 0
        for segment in self._version.segments:
            if segment.n > PAIR_ROWS:
                continue
            for first, second in itertools.permutations(small, 2):
                if not segment.has_pair(first, second):
                    segment.pair_postings(first, second)
                    built += 1
        return built + self.build_entry_pairs(wanted)

    def build_entry_pairs(self, attrs: Iterable[str]) -> int:
        """Build now, on every segment, the entry pair index of each ordered pair of the entry
        attributes among ``attrs``; how many. A query needing one would otherwise build it (one
        pass over every entry: ~2.3 s at 1,000,000 DMS logs), and its size is that of the entries
        (4 bytes per distinct pair of a row), so no segment is too big for it."""
        entries = [a for a in dict.fromkeys(attrs) if a in self._schema.entry_tables]
        built = 0
        for segment in self._version.segments:
            for first, second in itertools.permutations(entries, 2):
                if not segment.has_index(IndexKind.ENTRY_PAIR, f"{first}|{second}"):
                    segment.entry_pair_postings(first, second)
                    built += 1
        return built

    def _build_for_queries(self, attrs: list[str] | None) -> None:
        self.build_indexes(attrs)
        # the composite indexes a save builds too (entry pairs included), so that an import is
        # answered as the snapshot it would save is
        self.build_pair_indexes([*self._schema.tables, *self._schema.entry_tables] if attrs is None else attrs)

    def index_in_background(self, attrs: Iterable[str] | None = None) -> None:
        """:meth:`build_indexes` and :meth:`build_pair_indexes` in a daemon thread, one index at
        a time; a query meanwhile builds any index it needs itself (the first one built is kept),
        so every answer is the same. :meth:`wait_for_indexes` waits for it."""
        chosen = None if attrs is None else list(attrs)
        thread = threading.Thread(target=self._build_for_queries, args=(chosen,), daemon=True,
                                  name=f"dsc-engine index {self.kind.value}")
        self._indexer = thread
        thread.start()

    def wait_for_indexes(self, timeout: float | None = None) -> bool:
        """Wait for the background index builder, if any; whether it is done."""
        thread = self._indexer
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def records_in_load_order(self) -> Sequence[Record]:
        """Every record in the order it was loaded (what a snapshot keeps)."""
        return _LoadOrderView(self._version)

    def _plan(self, node: ast.Node, version: _Version) -> plan.Plan:
        cached = self._plans.get(node)
        if cached is not None and _similar(cached[0], version.rows):
            return cached[1]
        chosen = plan.choose(node, version.stats)
        if len(self._plans) >= _PLAN_CACHE:
            self._plans.clear()
        self._plans[node] = (version.rows, chosen)
        return chosen

    def _parts(self, node: ast.Node, version: _Version) -> list[paging.Part]:
        chosen = self._plan(node, version)
        return [(segment, hits(segment, chosen)) for segment in version.segments]

    def query(
        self,
        node: ast.Node,
        offset: int = 0,
        limit: int | None = 10,
        *,
        distinct: str | None = None,
    ) -> Page:
        """The records matching ``node`` in contract order, sliced ``[offset, offset+limit)``.

        With ``distinct`` (a field name), only the first (newest) record of each value of that
        field counts, and ``total`` counts those; records without the field form one group.
        """
        if offset < 0 or (limit is not None and limit < 0):
            reason = f"offset {offset} and limit {limit} must not be negative"
            raise StoreError(self.kind.value, "query", reason)
        if distinct is not None and distinct not in FIELDS[self.kind]:
            reason = f"cannot group by {distinct!r}: not a field of {self.kind.value} records"
            raise StoreError(self.kind.value, "query", reason)
        version = self._version
        parts = self._parts(node, version)
        if distinct is not None:
            unique = paging.distinct(parts, distinct)
            end = None if limit is None else offset + limit
            records = [segment.record(row) for segment, row in unique[offset:end]]
            return Page(len(unique), records, offset, limit)
        total = sum(len(rows) for _, rows in parts)
        if offset >= total or limit == 0:
            return Page(total, [], offset, limit)
        records = [segment.record(row) for segment, row in paging.page(parts, offset, limit)]
        return Page(total, records, offset, limit)

    def count(self, node: ast.Node) -> int:
        """How many records match ``node`` (no record is built)."""
        return sum(len(rows) for _, rows in self._parts(node, self._version))

    def count_by(self, node: ast.Node, field: str) -> list[tuple[Any, int]]:
        """How many records matching ``node`` hold each value of ``field`` (``None``: absent),
        most first, then by value's text; counted over codes, no record built. A field of the
        entries is counted over each row's distinct entry codes (:func:`~dsc_engine.query.source.counted`)."""
        if count_field(self.kind, field)[1]:
            return self._count_by_entry(node, self._schema.entry_attr_of[field])
        counts: collections.Counter[Any] = collections.Counter()
        attr = self._schema.attr_of[field]
        coded = self._schema.columns[attr].storage == Storage.CODED
        for segment, rows in self._parts(node, self._version):
            if coded:
                column, values = segment.columns[attr], self._schema.tables[attr].values
                for code, count in collections.Counter(map(column.__getitem__, rows)).items():
                    counts[values[code]] += count
            else:
                counts.update(map(segment.field_getter(field), rows))
        return most_first(counts)

    def _count_by_entry(self, node: ast.Node, entry_attr: str) -> list[tuple[Any, int]]:
        """``count_by`` of an entry attribute: each row's distinct codes of it are a column
        (``entries.<attr>``, shared tuples), so the rows are counted per combination of codes,
        and each combination counts once for each value in it; a row whose entries hold none
        (no entry, or code 0 alone: the attribute absent) counts once as ``None``."""
        combinations: collections.Counter[tuple[int, ...]] = collections.Counter()
        for segment, rows in self._parts(node, self._version):
            combinations.update(map(segment.columns[f"{ENTRY_PREFIX}{entry_attr}"].__getitem__, rows))
        values = self._schema.entry_tables[entry_attr].values
        counts: collections.Counter[Any] = collections.Counter()
        for codes, count in combinations.items():
            held = [values[code] for code in codes if code]
            for value in held or (None,):
                counts[value] += count
        return most_first(counts)

    def iter_ordered(self, node: ast.Node) -> Iterator[Record]:
        """Every matching record in contract order (for exports), from the store as it is now."""
        parts = self._parts(node, self._version)
        return (segment.record(row) for segment, row in paging.iterate(parts))

    def explain(self, node: ast.Node) -> str:
        """The plan the store runs for ``node``, in readable form."""
        version = self._version
        chosen = self._plan(node, version)
        sizes = ", ".join(str(segment.n) for segment in version.segments) or "none"
        header = f"{self.kind.value} store: {version.rows} rows in segments of {sizes}"
        return f"{header}\n{chosen.explain()}"


def _similar(planned_rows: int, rows: int) -> bool:
    """Whether a plan made at ``planned_rows`` still fits (the store has not doubled since)."""
    return rows <= 2 * planned_rows and (planned_rows > 0 or rows == 0)


def _compact(schema: Schema, segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
    """Merge the newest segments while the last is not much smaller than the one before it (size
    tiers), or is a bulk batch (spliced in, see ``Segment.merge``) not too small for it. A merge
    then copies a bounded number of rows per row it adds, and the total is about linear in the
    rows loaded: when every segment of 1,000 rows was spliced in whatever the size of the one
    before it, small loads copied the whole store every 1,000 rows (2,000 loads of 50 audit logs
    wrote 47 rows a row loaded, 8,000 loads 172)."""
    merged = list(segments)
    while len(merged) >= 2 and (
        merged[-1].n * _MERGE_RATIO >= merged[-2].n  # similar sizes: a full merge
        or (merged[-1].n >= _SPLICE_ROWS and merged[-1].n * _SPLICE_SHARE >= merged[-2].n)  # spliced in
    ):
        last = merged.pop()
        merged[-1] = Segment.merge(schema, [merged[-1], last])
    return tuple(merged)


def index_plan(schema: Schema, segment: Segment, attrs: set[str]) -> list[tuple[IndexKind, str]]:
    """The indexes of ``segment`` that queries on ``attrs`` use (see ``Store.build_indexes``)."""
    plan: list[tuple[IndexKind, str]] = []
    for attr, spec in schema.columns.items():
        if spec.derived and spec.entry_attr is not None:
            if spec.entry_attr in attrs or schema.entries_attr in attrs:
                plan.append((IndexKind.ENTRY, spec.entry_attr))
            continue
        if attr not in attrs or attr == schema.time_attr:
            continue
        if spec.storage == Storage.CODED:
            plan.append((IndexKind.TEXT if segment.is_text(attr) else IndexKind.HASH, attr))
        elif spec.storage == Storage.INT:
            plan.append((IndexKind.SORTED, attr))
    return plan


class BulkLoad:
    """One bulk load into a store (``Store.bulk``): objects added in load order are coded into
    columns a batch at a time (so the objects themselves need not be kept), and ``finish`` sorts
    all rows once into one segment and publishes it with a single version swap."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._chunks: list[dict[str, Column]] = []
        self._objects: list[Any] = []
        self._absent: Any = None
        self._transpose: Transpose | None = None
        self._schema: Schema | None = None
        self.rows = 0
        #: ``[start, stop)`` ranges of rows (in the order added) that load in reverse order
        self._reversed: list[tuple[int, int]] = []

    def _coded_with(self, schema: Schema) -> None:
        """Codes mean one table's values: a store replaced meanwhile (``replace_with``) cannot
        take what was coded for its old tables."""
        if self._schema is None:
            self._schema = schema
        elif schema is not self._schema:
            raise StoreError(self._store.kind.value, "bulk load", "the store was replaced during the load")

    @property
    def pending(self) -> int:
        """How many rows were added and are not published yet."""
        return self.rows + len(self._objects)

    def mark(self) -> int:
        """Where the next row added will stand (for :meth:`reverse_since`)."""
        return self.pending

    def reverse_since(self, mark: int) -> None:
        """The rows added since ``mark`` load in the reverse of the order they were added: they
        are a listing, newest first (a file: ``docs/semantics.md`` §5.1), whose first row is the
        last load among them."""
        if self.pending - mark > 1:
            self._reversed.append((mark, self.pending))

    def add(self, objects: Sequence[Any], absent: Any = None, transpose: Transpose | None = None) -> None:
        """Append ``objects`` of the store's kind: records, or any objects with the record's
        attributes whose missing values are ``absent`` (the wire layer's typed structs, read a
        batch at a time by ``transpose``, see ``build.encode_columns``)."""
        if not objects:
            return
        if self._objects and (absent is not self._absent or transpose is not self._transpose):
            self._encode()
        self._absent, self._transpose = absent, transpose
        self._objects.extend(objects)
        if len(self._objects) >= _BULK_BATCH:
            self._encode()

    def _encode(self) -> None:
        if not self._objects:
            return
        store = self._store
        with store._write_lock:  # the intern tables have one writer at a time
            self._coded_with(store._schema)
            self._chunks.append(encode_columns(store._schema, self._objects, self._absent, self._transpose))
        self.rows += len(self._objects)
        self._objects = []

    def finish(self) -> int:
        """Publish every row added as one sorted segment (merged into what the store holds);
        how many rows."""
        self._encode()
        chunks, self._chunks = self._chunks, []
        rows, self.rows = self.rows, 0
        reversed_ranges, self._reversed = self._reversed, []
        if not rows:
            self._schema = None
            return 0
        load_order: list[int] | None = None
        if reversed_ranges:
            load_order = list(range(rows))
            for start, stop in reversed_ranges:
                load_order[start:stop] = range(stop - 1, start - 1, -1)
        store = self._store
        coded_with = self._schema
        assert coded_with is not None  # rows were coded (``_encode``)
        columns: dict[str, Column] = {}  # each attribute's pieces are freed once joined
        for attr, spec in coded_with.columns.items():
            columns[attr] = concat_columns([chunk.pop(attr) for chunk in chunks])
            if spec.entry_attr is not None:  # equal rows of entry codes: one tuple for the whole load
                columns[attr] = shared_rows(columns[attr])
        del chunks
        with store._write_lock:
            # the store's schema as of now, under the lock: one replaced (``replace_with``) while
            # the batches were joined holds other tables, and the rows coded here are refused
            schema = store._schema
            self._coded_with(schema)
            current = store._version
            segment = Segment.from_columns(schema, columns, rows, current.next_seq, load_order)
            del columns
            segments = _compact(schema, (*current.segments, segment))
            store._version = _Version(schema, segments, current.next_seq + rows)
        self._schema = None
        return rows


#: Objects a bulk load codes into columns at a time.
_BULK_BATCH = 1024
