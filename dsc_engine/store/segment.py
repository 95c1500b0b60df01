"""A segment: an immutable block of rows of one kind, stored in contract order, with its indexes.

Row 0 is the newest record (``docs/semantics.md`` §5.1: primary time descending, then ``Id``
descending for masking runs, then load order, the record loaded last first). ``seq`` holds each
row's global load number, which makes the order total across segments.

Indexes (their structures are ``indexes.py``'s) are built on first use and then kept (a segment
never changes):

- hash index of a coded column: CSR posting lists, the rows of each code in row order
  (``starts[c]:starts[c+1]`` of ``rows``);
- sorted index of an int column: the rows having a value, sorted by (value, row);
- entry index of a nested list attribute: for each code, the rows having an entry with it.

A row's record is rebuilt by the reader of ``reader.py``, bound to the segment's columns.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import operator
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, cast

from dsc_engine.models.records import Record
from dsc_engine.query import ast
from dsc_engine.query.plan import IndexKind, Window
from dsc_engine.store.columns import (
    ABSENT_INT,
    ENTRY_PREFIX,
    Column,
    Schema,
    int_column,
    int_getter,
    negated_time,
)
from dsc_engine.wire.types import Storage
from dsc_engine.store.build import concat_columns, encode_columns, permute_columns
from dsc_engine.store.indexes import PairPostings, Postings, RowSeq, SortedIndex, csr
from dsc_engine.store.reader import record_reader
from dsc_engine.store.text import DISTINCT_SHARE, TextIndex, needles


_LATEST = dt.datetime.max


def _descending_key(time: Any) -> Callable[[Any], Any]:
    """A C-level key that orders primary times newest first, as rows are stored: ``-t`` for
    epoch milliseconds, ``datetime.max - t`` (a ``timedelta``) for a DMS time."""
    return _LATEST.__sub__ if isinstance(time, dt.datetime) else operator.neg


#: The rows from which a segment makes its record reader when it is made (see ``Segment._record``).
_READER_AT_ONCE = 4096


class Segment:
    """Rows ``0..n-1`` in contract order; ``columns[attr]`` holds one attribute of every row."""

    def __init__(self, schema: Schema, seq: array, columns: dict[str, Column]) -> None:  # type: ignore[type-arg]
        self.schema = schema
        self.n = len(seq)
        self.seq = seq
        self.columns = columns
        self._time = self._getter(schema.time_attr)
        #: a segment of a load or an open has its reader at once, so that its first page does not
        #: pay for making it (compiling its class's reader, once a process: 0.5-2 ms); a small one,
        #: an insert's that a merge soon replaces, makes it on its first read (:meth:`record`)
        self._record: Callable[[int], Record] | None = (
            record_reader(schema, columns) if self.n >= _READER_AT_ONCE else None
        )
        self._ident = self._getter(schema.tie_attr) if schema.tie_attr else None
        self._indexes: dict[tuple[IndexKind, str], Any] = {}
        self._row_catalog: Any = None
        self._lock = threading.Lock()

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def from_records(cls, schema: Schema, records: Sequence[Record], first_seq: int) -> Segment:
        """A segment of ``records`` (loaded in this order, numbered from ``first_seq``)."""
        # Columns are read and coded in load order (the records lie in memory in that order;
        # reading them permuted costs about four times as much in cache misses), then the
        # compact columns are permuted into contract order.
        return cls.from_columns(schema, encode_columns(schema, records), len(records), first_seq)

    @classmethod
    def from_columns(
        cls, schema: Schema, columns: dict[str, Column], n: int, first_seq: int,
        load_order: Sequence[int] | None = None,
    ) -> Segment:
        """A segment of ``n`` rows given as coded columns (``encode_columns``; the dict is
        emptied), numbered from ``first_seq`` in load order: the rows' own order, or
        ``load_order`` (the rows, first loaded first). One sort into contract order, then every
        column permuted at once (``build.permute_columns``, with the load numbers); the coded and
        int columns come packed from ``encode_columns``."""
        times = columns[schema.time_attr]
        key: Callable[[int], Any] = times.__getitem__
        if schema.tie_attr:
            idents = columns[schema.tie_attr]
            key = lambda i: (times[i], idents[i])  # noqa: E731
        # A stable descending sort keeps equal keys in input order: feed the last loaded first.
        if load_order is None:
            order = sorted(range(n - 1, -1, -1), key=key, reverse=True)
            seqs = array("q", range(first_seq, first_seq + n))
        else:
            order = sorted(reversed(load_order), key=key, reverse=True)
            seqs = array("q", bytes(8 * n))
            for number, row in enumerate(load_order, first_seq):
                seqs[row] = number
        columns[_SEQ] = seqs
        del seqs
        permuted = permute_columns(columns, order, functools.partial(_code_limits, schema))
        seqs = cast("array[int]", permuted.pop(_SEQ))
        return cls(schema, seqs, permuted)

    @classmethod
    def merge(cls, schema: Schema, parts: Sequence[Segment]) -> Segment:
        """One segment holding the rows of ``parts``, in contract order.

        Each part is already sorted, so the keys are built column-wise (no per-row method call)
        and the sort of their concatenation is a linear merge of runs; every column is then
        gathered through the resulting permutation, no record is rebuilt.
        """
        if len(parts) == 2:
            big, small = sorted(parts, key=lambda part: -part.n)
            if small.n * _SPLICE_RATIO <= big.n and _uniform(schema, parts):
                return cls._splice(schema, big, small)
        # newest first: parts that do not overlap (loads in time order, either way) are then
        # already in order, and the permutation below is the identity, which gathers nothing
        parts = sorted(parts, key=lambda part: part.sort_key(0) if part.n else ())
        keys: list[tuple[Any, ...]] = []
        for part in parts:
            keys.extend(part.sort_keys())
        perm = sorted(range(len(keys)), key=keys.__getitem__)
        del keys
        columns = {attr: concat_columns([part.columns[attr] for part in parts]) for attr in schema.columns}
        columns[_SEQ] = concat_columns([part.seq for part in parts])
        permuted = permute_columns(columns, perm, functools.partial(_code_limits, schema))
        seq = cast("array[int]", permuted.pop(_SEQ))
        for attr, column in permuted.items():
            if schema.columns[attr].storage == Storage.INT and not isinstance(column, array):
                permuted[attr] = int_column(column)  # packed again if the parts' ints now fit
        return cls(schema, seq, permuted)

    @classmethod
    def _splice(cls, schema: Schema, big: Segment, small: Segment) -> Segment:
        """``merge`` of a small segment into a big one: each row of ``small`` finds its place in
        ``big`` by binary search, and every column is copied as slices of runs (memory copies),
        so the cost is about ``len(small) * log(len(big))`` key probes, not a pass per row."""
        places = _fast_places(schema, big, small)
        if places is None:
            places = []
            low = 0
            times = big.columns[schema.time_attr]
            negated: Callable[[int], Any] = big._negated_time
            if isinstance(times, array):
                negated = lambda row: -times[row]  # noqa: E731
            for key in small.sort_keys():
                low = _place(big, negated, key, low)
                places.append(low)
        runs: list[tuple[int, int, int, int]] = []  # big[a:b] then small[c:d]
        start = 0
        first = 0
        for row in range(1, small.n + 1):
            if row == small.n or places[row] != places[first]:
                runs.append((start, places[first], first, row))
                start, first = places[first], row
        pieces = _Pieces(runs, big.n)
        columns = {
            attr: _spliced(big.columns[attr], small.columns[attr], pieces)
            for attr in schema.columns
        }
        return cls(schema, _spliced(big.seq, small.seq, pieces), columns)

    def sort_keys(self) -> Iterable[tuple[Any, ...]]:
        """``sort_key`` of every row, in row order (ascending), built column by column."""
        negated_seq = map(operator.neg, self.seq)
        times = self.columns[self.schema.time_attr]
        if isinstance(times, array):
            negated = map(operator.neg, times)  # a primary time is never absent
        else:
            negated = map(negated_time, times)
        if not self.schema.tie_attr:
            return zip(negated, itertools.repeat(0), negated_seq)
        idents = self.columns[self.schema.tie_attr]
        if isinstance(idents, array):
            return zip(negated, map(operator.neg, idents), negated_seq)
        return zip(negated, (-(ident or 0) for ident in idents), negated_seq)

    # -- reading -------------------------------------------------------------------------------

    def _getter(self, attr: str) -> Callable[[int], Any]:
        column = self.columns[attr]
        storage = self.schema.columns[attr].storage
        if storage == Storage.CODED:
            values = self.schema.tables[attr].values
            return lambda row: values[column[row]]
        if storage == Storage.INT:
            return int_getter(column)
        return column.__getitem__  # type: ignore[no-any-return]

    def attr_getter(self, attr: str) -> Callable[[int], Any]:
        """``row -> the value of attribute attr`` (``None`` when absent)."""
        return self._getter(attr)

    def values(self, attr: str) -> Iterable[Any]:
        """Every row's value of attribute ``attr``, in row order (``None`` when absent), read a
        column at a time (no per-row call)."""
        column = self.columns[attr]
        storage = self.schema.columns[attr].storage
        if storage == Storage.CODED:
            return map(self.schema.tables[attr].values.__getitem__, column)
        if storage == Storage.INT and isinstance(column, array) and ABSENT_INT in column:
            return [None if value == ABSENT_INT else value for value in column]
        return column  # type: ignore[no-any-return]

    def field_getter(self, field: str) -> Callable[[int], Any]:
        """``row -> the query value of field`` (what ``FieldSpec.get`` gives for the record)."""
        return self._getter(self.schema.attr_of[field])

    def sort_key(self, row: int) -> tuple[Any, ...]:
        """Ascending in contract order, comparable across segments of one store."""
        ident = self._ident(row) if self._ident is not None else 0
        return (negated_time(self._time(row)), -ident, -self.seq[row])

    def record(self, row: int) -> Record:
        """Rebuild the record of ``row`` (only the records of a page are ever rebuilt)."""
        reader = self._record
        if reader is None:  # a small segment's, made on its first read (see _READER_AT_ONCE)
            reader = self._record = record_reader(self.schema, self.columns)
        return reader(row)

    def window(self, window: Window | None) -> tuple[int, int]:
        """The rows ``[a, b)`` whose primary time lies in ``window``."""
        if window is None:
            return 0, self.n
        # Rows run newest first: the time column is searched through a key that reverses its
        # order and is itself a C function, so a bisection makes no Python call per step.
        times = self.columns[self.schema.time_attr]
        a, b = 0, self.n
        if window.high is not None:
            key = _descending_key(window.high)
            find = bisect.bisect_left if window.high_inclusive else bisect.bisect_right
            a = find(times, key(window.high), key=key)
        if window.low is not None:
            key = _descending_key(window.low)
            find = bisect.bisect_right if window.low_inclusive else bisect.bisect_left
            b = find(times, key(window.low), key=key)
        return a, max(a, b)

    def _negated_time(self, row: int) -> Any:
        return negated_time(self._time(row))

    # -- indexes (built once, on first use) ----------------------------------------------------

    def cached(self, kind: IndexKind, attr: str, build: Callable[[], Any]) -> Any:
        """The segment's ``kind`` index of ``attr`` (attributes joined by ``|`` for a composite
        one), built by ``build`` on first use and then kept: a segment never changes."""
        key = (kind, attr)
        index = self._indexes.get(key)
        if index is None:
            # Built outside the lock, so that a query needing another index (or a background
            # builder) never waits for this one; two builds of one index keep the first.
            built = build()
            with self._lock:
                index = self._indexes.setdefault(key, built)
        return index

    def row_catalog(self, build: Callable[[], Any]) -> Any:
        """The kind's field catalog reading this segment's rows (built by ``build`` once)."""
        if self._row_catalog is None:
            with self._lock:
                if self._row_catalog is None:
                    self._row_catalog = build()
        return self._row_catalog

    def postings(self, attr: str) -> Postings:
        return self.cached(IndexKind.HASH, attr, lambda: csr(enumerate(self.columns[attr])))  # type: ignore[no-any-return]

    def index(self, kind: IndexKind, attr: str) -> Any:
        """The ``kind`` index of ``attr`` (a single-attribute kind), built now if need be."""
        return _BUILDERS[kind](self, attr)

    def has_index(self, kind: IndexKind, attr: str) -> bool:
        return (kind, attr) in self._indexes

    def indexes(self) -> dict[tuple[IndexKind, str], Any]:
        """The indexes built so far (what a snapshot keeps)."""
        return dict(self._indexes)

    def adopt(self, kind: IndexKind, attr: str, index: Any) -> None:
        """Keep an index built elsewhere (read from a snapshot, checked there)."""
        with self._lock:
            self._indexes.setdefault((kind, attr), index)

    def pair_postings(self, first: str, second: str) -> PairPostings:
        """The composite index of two coded columns, built now if it is not there (a query only
        uses one that is: ``Store.build_pair_indexes`` builds them at a save)."""
        return self.cached(IndexKind.PAIR, f"{first}|{second}", lambda: self._build_pair(first, second))  # type: ignore[no-any-return]

    def pair_count(self) -> int:
        return sum(1 for kind, _ in self._indexes if kind is IndexKind.PAIR)

    def has_pair(self, first: str, second: str) -> bool:
        return (IndexKind.PAIR, f"{first}|{second}") in self._indexes

    def _build_pair(self, first: str, second: str) -> PairPostings:
        codes_a, codes_b = self.columns[first], self.columns[second]
        width = max(codes_b, default=0) + 1
        keys = list(map(operator.add, map(width.__mul__, codes_a), codes_b))
        order = sorted(range(self.n), key=keys.__getitem__)  # stable: rows ascending per pair
        ordered = list(map(keys.__getitem__, order))
        spans = {
            divmod(key, width): (bisect.bisect_left(ordered, key), bisect.bisect_right(ordered, key))
            for key in set(keys)
        }
        return PairPostings(spans, array("i", order))

    def text_rows(self, attr: str, node: ast.Node, first: int = 0, stop: int | None = None) -> RowSeq | None:
        """The rows of ``[first, stop)`` matching ``node`` by the column's text index, when
        ``node`` is a substring test, or an ``or`` of them, on a column of mostly distinct text
        (``text.py``); else ``None``."""
        texts = self.text_needles(attr, node)
        return None if texts is None else self.text_index(attr).rows(texts, first, stop)

    def text_needles(self, attr: str, node: ast.Node) -> tuple[str, ...] | None:
        """The needles ``node`` has the text index of ``attr`` search for (see ``text_rows``),
        or ``None`` when the index does not answer it."""
        return needles(node) if self.is_text(attr) else None

    def has_text_path(self, attr: str, node: ast.Node) -> bool:
        """Whether the text index of ``attr`` answers ``node`` (see ``text_rows``)."""
        return self.text_needles(attr, node) is not None

    def has_text_branch(self, attr: str, node: ast.Node) -> bool:
        """Whether ``node`` (on the coded column ``attr``), or a branch of it (of an ``and``,
        an ``or``, a ``not``), is answered by the text index of ``attr``: its set of matching
        codes (``Intern.matching``) would test every distinct text of the column in Python,
        where the index answers that branch by a search in C."""
        if self.has_text_path(attr, node):
            return True
        if isinstance(node, (ast.And, ast.Or)):
            return any(self.has_text_branch(attr, item) for item in node.items)
        return isinstance(node, ast.Not) and self.has_text_branch(attr, node.item)

    def is_text(self, attr: str) -> bool:
        """Whether ``attr`` is a coded column of mostly distinct strings in this segment."""
        table = self.schema.tables.get(attr)
        return (
            table is not None
            and table.spec.type.json is str
            and len(table) > DISTINCT_SHARE * self.n
        )

    def text_index(self, attr: str) -> TextIndex:
        build = lambda: TextIndex.build(self.columns[attr], self.schema.tables[attr].folded())  # noqa: E731
        return self.cached(IndexKind.TEXT, attr, build)  # type: ignore[no-any-return]

    def sorted_index(self, attr: str) -> SortedIndex:
        return self.cached(IndexKind.SORTED, attr, lambda: self._build_sorted(attr))  # type: ignore[no-any-return]

    def _build_sorted(self, attr: str) -> SortedIndex:
        column = self.columns[attr]
        if isinstance(column, array):  # in C: the absent marker is the least value, cut off
            order = sorted(range(self.n), key=column.__getitem__)  # stable: rows ascending
            del order[: column.count(ABSENT_INT)]
            return SortedIndex(array("q", map(column.__getitem__, order)), array("i", order))
        get = int_getter(column)
        present = [row for row in range(self.n) if get(row) is not None]
        present.sort(key=cast(Callable[[int], int], get))  # stable: rows of one value stay in row order
        return SortedIndex(int_column([get(row) for row in present]), array("i", present))

    def entry_postings(self, entry_attr: str) -> Postings:
        return self.cached(IndexKind.ENTRY, entry_attr, lambda: self._build_entry(entry_attr))  # type: ignore[no-any-return]

    def entry_pair_postings(self, first: str, second: str) -> PairPostings:
        """Rows having one entry with each code pair of two entry attributes (built on first use)."""
        build = lambda: self._build_entry_pair(first, second)  # noqa: E731
        return self.cached(IndexKind.ENTRY_PAIR, f"{first}|{second}", build)  # type: ignore[no-any-return]

    def _build_entry_pair(self, first: str, second: str) -> PairPostings:
        code_a = self.schema.entry_tables[first].code
        code_b = self.schema.entry_tables[second].code
        get_a, get_b = operator.attrgetter(first), operator.attrgetter(second)
        buckets: dict[tuple[int, int], list[int]] = {}
        for row, entries in enumerate(self.columns[self.schema.entries_attr]):
            for pair in {(code_a(get_a(e)), code_b(get_b(e))) for e in entries or ()}:
                buckets.setdefault(pair, []).append(row)
        rows = array("i")
        spans: dict[tuple[int, int], tuple[int, int]] = {}
        for pair, members in buckets.items():
            spans[pair] = (len(rows), len(rows) + len(members))
            rows.extend(members)
        return PairPostings(spans, rows)

    def _build_entry(self, entry_attr: str) -> Postings:
        codes_by_row = self.columns[f"{ENTRY_PREFIX}{entry_attr}"]
        return csr((row, code) for row, codes in enumerate(codes_by_row) for code in codes)


#: How each single-attribute index kind is had (built on first use) from a segment.
_BUILDERS: dict[IndexKind, Callable[[Segment, str], Any]] = {
    IndexKind.HASH: Segment.postings,
    IndexKind.SORTED: Segment.sorted_index,
    IndexKind.ENTRY: Segment.entry_postings,
    IndexKind.TEXT: Segment.text_index,
}


def _place(big: Segment, negated: Callable[[int], Any], key: tuple[Any, ...], low: int) -> int:
    """The first row of ``big`` from ``low`` whose sort key is not below ``key`` (by time first,
    the whole key only on equal times)."""
    high = big.n
    time = key[0]
    while low < high:
        mid = (low + high) // 2
        probe = negated(mid)
        if probe < time or (probe == time and big.sort_key(mid) < key):
            low = mid + 1
        else:
            high = mid
    return low


#: ``merge`` splices a segment into one at least this many times bigger (instead of a full sort).
_SPLICE_RATIO = 4
#: The key of the load numbers among the columns a segment's rows are permuted with.
_SEQ = "\0seq"


def _code_limits(schema: Schema) -> dict[str, int]:
    """A bound of each coded column's codes: its intern table's size (what they are below)."""
    return {attr: len(table) for attr, table in schema.tables.items()}


def _uniform(schema: Schema, parts: Sequence[Segment]) -> bool:
    """Whether every column has the same container type in all parts (slices can be joined)."""
    for attr in schema.columns:
        kinds = {(type(part.columns[attr]), getattr(part.columns[attr], "typecode", "")) for part in parts}
        if len(kinds) > 1:
            return False
    return True


class _Pieces:
    """The runs of a splice (``big[a:b]`` then ``small[c:d]``, ..., then the rest of ``big``),
    with their byte slices per item size, made once for all columns."""

    def __init__(self, runs: list[tuple[int, int, int, int]], n: int) -> None:
        self.runs = runs
        self.n = n
        self._slices: dict[int, list[slice]] = {}

    def slices(self, size: int) -> list[slice]:
        found = self._slices.get(size)
        if found is None:
            found = []
            for a, b, c, d in self.runs:
                found.append(slice(a * size, b * size))
                found.append(slice(c * size, d * size))
            found.append(slice((self.runs[-1][1] if self.runs else 0) * size, self.n * size))
            self._slices[size] = found
        return found


def _spliced(big: Column, small: Column, pieces: _Pieces) -> Column:
    """The rows of ``big`` and ``small`` interleaved by ``pieces``. An array is joined as bytes
    from memoryview slices made in C (no Python step per run); a list run by run."""
    if isinstance(big, array):
        views = (big.tobytes(), small.tobytes())
        joined = array(big.typecode)
        parts: Iterator[bytes] = map(operator.getitem, itertools.cycle(views), pieces.slices(big.itemsize))
        joined.frombytes(b"".join(parts))
        return joined
    rows: list[Any] = []
    for a, b, c, d in pieces.runs:
        rows.extend(big[a:b])
        rows.extend(small[c:d])
    rows.extend(big[pieces.runs[-1][1] if pieces.runs else 0 : pieces.n])
    return rows


def _fast_places(schema: Schema, big: Segment, small: Segment) -> list[int] | None:
    """Where each row of ``small`` goes in ``big``, by C binary searches over the time column,
    when the time alone decides (no ``Id`` tie-break, int times, and all of ``small`` loaded
    after or all before ``big``: on equal times the later load goes first); else ``None``."""
    big_times, small_times = big.columns[schema.time_attr], small.columns[schema.time_attr]
    if schema.tie_attr or not isinstance(big_times, array) or not isinstance(small_times, array):
        return None
    if min(small.seq) > max(big.seq):
        find = bisect.bisect_left  # before the big rows of an equal time
    elif max(small.seq) < min(big.seq):
        find = bisect.bisect_right
    else:
        return None
    search = functools.partial(find, big_times, key=operator.neg)
    return list(map(search, map(operator.neg, small_times)))
