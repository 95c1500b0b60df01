"""Duplicates in an import: a file saved twice, and audit and DMS logs loaded twice.

The rules (docs/formats.md, "Duplicates"):

- **Files.** A regular file whose bytes, as stored, are those of a file read earlier in the same
  import is skipped whole: it is the same export saved twice (``page-010 (1).json``). Only files
  of equal size are compared, so an import of files of different sizes hashes nothing.
- **Audit alert logs and DMS logs** have no identifying key. One is a duplicate when its full
  wire form is that of a record loaded from an *earlier* file of the import or already held by
  the target: exports that overlap, or a snapshot loaded beside the files it was made from.
  Identical records *within one file* all load: an export lists each event once, and two
  identical events can really happen (the same query run twice in one second). For the same
  reason a snapshot's own records are never compared with each other.
- Records of a kind with a key (``KindFacts.key``: masking runs carry an ``Id``) keep their
  own rule, one :class:`KnownKeys` per kind and load: for records given to ``Engine.load`` and
  snapshots appended by ``snapshot.load`` (:func:`new_records`) as for files (``imports``).

Records are remembered by a 12-byte BLAKE2b digest of a canonical form (:func:`record_digest`),
about 80 bytes each in memory with the set that holds them, never by the record itself. Two
different records share a digest with a chance of about n²/2⁹⁷: 10⁻¹⁵ for ten million records.
"""

from __future__ import annotations

import hashlib
import marshal
import operator
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from pathlib import Path

from dsc_engine.errors import RecordError
from dsc_engine.io.stores import HasStores
from dsc_engine.models import RecordKind
from dsc_engine.models.records import Record
from dsc_engine.query import ast
from dsc_engine.query.source import RecordSource
from dsc_engine.wire.catalog import KEY, PRIMARY_TIME, wire_fields
from dsc_engine.wire.codec import ABSENT, line_decoder, struct_values, to_wire

#: The most Ids one query looks up among the held masking runs, so that no statement grows with
#: the load: DuckDB binds a placeholder per Id (ClickHouse binds a long set as one array value).
HELD_IDS_PER_QUERY = 1_000


class _Held:
    """The records a source held when a load began, read by the values of one field as the load
    asks about them: each value once, :data:`HELD_IDS_PER_QUERY` values a query (``InSet``, which
    a store answers from an index or its time order), never every record."""

    def __init__(self, source: RecordSource, field: str) -> None:
        self._source = source
        self._field = field
        self._asked: set[Any] = set()
        self._empty = not len(source)

    def records(self, values: Iterable[Any]) -> Iterator[Record]:
        """The held records whose field holds one of ``values`` not asked about before."""
        if self._empty:
            return
        asked = self._asked
        wanted = tuple(value for value in dict.fromkeys(values) if value not in asked)
        asked.update(wanted)
        for start in range(0, len(wanted), HELD_IDS_PER_QUERY):
            node = ast.InSet(self._field, wanted[start : start + HELD_IDS_PER_QUERY])
            yield from self._source.query(node, 0, None).records


class KnownKeys:
    """The records of one kind with a key (``KindFacts.key``: a masking run's ``Id``, which breaks
    ties of StartTime, docs/semantics.md §5.1) one load has met, by key. Those the source already
    held are read as the load asks about their keys (:meth:`look_up`, :data:`HELD_IDS_PER_QUERY`
    keys per query), never all at once: a load of ten runs into a source holding a million reads
    at most ten. The load's own records (or structs of the import's fast path) are remembered as
    they come."""

    def __init__(self, kind: RecordKind, source: RecordSource) -> None:
        key = kind.facts.key
        if key is None:
            raise ValueError(f"a {kind.facts.label} has no key to be known by")
        self.kind = kind
        self._key = operator.attrgetter(key)
        self._held = _Held(source, KEY[kind])
        #: the first record met with each key: held by the source, or the load's own
        self._first: dict[Any, Any] = {}

    def look_up(self, records: Iterable[Any]) -> None:
        """Read the records the source holds with the key of any of ``records`` (records, or
        structs) it was not asked about before."""
        first, key = self._first, self._key
        for held in self._held.records(map(key, records)):
            first.setdefault(key(held), held)

    def first(self, record: Any) -> Any | None:
        """The record met before with ``record``'s key (which :meth:`look_up` was asked about),
        or ``None``: ``record`` is the first, and is remembered."""
        value = self._key(record)
        first = self._first.get(value)
        if first is None:
            self._first[value] = record
        return first

    def clash(self, record: Any, where: str) -> RecordError:
        """The refusal of ``record``, at ``where``, whose key came before with other content."""
        key = KEY[self.kind]
        return RecordError(
            self.kind.facts.label, key, f"{key} {self._key(record)} is already loaded with different content", where
        )


def new_records(
    kind: RecordKind, source: RecordSource, records: Sequence[tuple[int, Record]], where: Callable[[int], str]
) -> list[Record]:
    """The records of a load of ``kind`` (a kind with a key) that are new, in order
    (:class:`KnownKeys`): a record whose key the source holds, or an earlier record of the load
    has, is left out when identical and refused when not, as a file import does (docs/formats.md,
    "Duplicates"). ``records`` are ``(position, record)``; ``where`` says where a position is,
    for the :class:`RecordError` of a refused record."""
    known = KnownKeys(kind, source)
    known.look_up(record for _, record in records)
    new: list[Record] = []
    for index, record in records:
        first = known.first(record)
        if first is None:
            new.append(record)
        elif first != record:
            raise known.clash(record, where(index))
    return new


#: Bytes of a record's digest (a bytes object of 12 takes 48 bytes of memory, one of 16 takes 56).
DIGEST_SIZE = 12
#: Bytes of a file's digest.
FILE_DIGEST_SIZE = 16
_PIECE = 1 << 20

Digest = Callable[[Record], bytes]


def record_digest(kind: RecordKind) -> Digest:
    """The function giving a record of ``kind`` its digest: equal records, equal digests.

    The canonical form is the record's values in field order, serialised by ``marshal`` format
    0 (which, unlike later formats, writes every value out in full, so equal values give equal
    bytes whatever objects hold them). When some field's model value is not its wire value (a
    DMS time, nested entries), the record's wire form is serialised instead.
    """
    fields = wire_fields(kind)
    blake2b = hashlib.blake2b
    dumps = marshal.dumps
    if all(spec.type.form == "exact" for spec in fields):  # the model value is the wire value
        values = operator.attrgetter(*(spec.attr for spec in fields))
        return lambda record: blake2b(dumps(values(record), 0), digest_size=DIGEST_SIZE).digest()
    return lambda record: blake2b(dumps(to_wire(record), 0), digest_size=DIGEST_SIZE).digest()


def struct_digest(kind: RecordKind) -> Digest:
    """The digest of a typed struct of the import's fast path (``wire.codec.line_decoder``),
    equal to :func:`record_digest` of the record it stands for. Of a kind whose fields are all
    exact, its absent values (``ABSENT``) count as the record's ``None``, and as a struct's
    fields are the kind's wire fields in order, its values come out in one C call
    (``struct_values``); of another kind (DMS times, entries), the struct's record is digested."""
    fields = wire_fields(kind)
    if not all(spec.type.form == "exact" for spec in fields):
        record, digest = line_decoder(kind).convert, record_digest(kind)
        return lambda struct: digest(record(struct))
    blake2b = hashlib.blake2b
    dumps = marshal.dumps
    return lambda struct: blake2b(
        dumps(tuple([None if value is ABSENT else value for value in struct_values(struct)]), 0),
        digest_size=DIGEST_SIZE,
    ).digest()


class HeldRecords:
    """The digests of the records one kind's source holds, read as an import asks about the
    times of its records (:meth:`look_up`): the held records at those times (a set of the kind's
    primary time, :data:`HELD_IDS_PER_QUERY` times per query, which a store answers from its
    time order), never all of them. A load of a day's export into a store of a month reads the
    held records of that day's times: 10 DMS logs into a store of 100,000 read every one of them
    (9.7 s in memory, 11.8 s from DuckDB), and now those at their 10 times.

    No look-up finds a record of the import itself (a database takes each batch of 50,000 as it
    comes): every time is looked up before the first record of the import at that time is kept,
    and once only."""

    def __init__(self, kind: RecordKind, source: RecordSource) -> None:
        self._held = _Held(source, PRIMARY_TIME[kind])
        self._digest = record_digest(kind)
        self.digests: set[bytes] = set()

    def look_up(self, times: Iterable[Any]) -> None:
        """Read the digests of the held records at any of ``times`` not asked about before."""
        self.digests.update(map(self._digest, self._held.records(times)))


class IdenticalRecords:
    """Which audit and DMS logs of an import repeat one from an earlier file or already held.

    What the target held before the import is read as the import's records ask about it
    (:class:`HeldRecords`); the digests of the import's earlier files are kept as they are
    read. Every record of the import passes through :meth:`fresh` (or is of the import's last
    file, when nothing came before it: the importer skips those), so the store holds nothing
    else undigested at that moment. The current file's own digests are kept apart (its records
    are not duplicates of each other) and join the others when :meth:`end_file` is called.
    """

    def __init__(self, target: HasStores) -> None:
        self._target = target
        self._digest = {kind: record_digest(kind) for kind in RecordKind}
        self._struct_digest = {kind: struct_digest(kind) for kind in RecordKind}
        #: of the kinds whose structs hold values that are not yet the record's (DMS times), what
        #: makes a struct its record
        self._convert = {kind: line_decoder(kind).convert for kind in RecordKind
                         if not all(spec.type.form == "exact" for spec in wire_fields(kind))}
        self._held: dict[RecordKind, HeldRecords] = {}
        #: the digests of the import's earlier files' records
        self._before: dict[RecordKind, set[bytes]] = {kind: set() for kind in RecordKind}
        self._current: dict[RecordKind, set[bytes]] = {kind: set() for kind in RecordKind}

    def nothing_before(self, kind: RecordKind) -> bool:
        """Whether no record of ``kind`` came before the current file."""
        return not self._before[kind] and not len(self._target.store(kind))

    def fresh(self, kind: RecordKind, objects: Sequence[Any], *, structs: bool = False) -> list[Any]:
        """The ``objects`` (records, or the fast path's ``structs``) that repeat nothing from
        before the current file."""
        if not objects:
            return []
        held = self._held.get(kind)
        if held is None:
            held = self._held[kind] = HeldRecords(kind, self._target.store(kind))
        convert = self._convert.get(kind) if structs else None
        keys: Sequence[Any] = objects
        digest = self._struct_digest[kind] if structs else self._digest[kind]
        if convert is not None:  # a struct's time is not yet the record's: each read as its record, once
            keys, digest = list(map(convert, objects)), self._digest[kind]
        held.look_up(map(operator.attrgetter(kind.facts.primary_time), keys))
        current, earlier, digests = self._current[kind], self._before[kind], held.digests
        kept = []
        for obj, key in zip(objects, keys):
            value = digest(key)
            if value not in earlier and value not in digests:
                current.add(value)
                kept.append(obj)
        return kept

    def end_file(self) -> None:
        """The current file is done: its records count as earlier ones from now on."""
        for kind, current in self._current.items():
            if not current:
                continue
            before = self._before[kind]
            if len(current) > len(before):  # add the smaller set to the larger
                current.update(before)
                self._before[kind] = current
            else:
                before.update(current)
            self._current[kind] = set()


class SameFiles:
    """Which files of an import repeat the bytes of one read earlier in it."""

    def __init__(self, files: Iterable[Path]) -> None:
        sizes = [_size(path) for path in files]
        counts = Counter(size for size in sizes if size)  # an empty file repeats nothing: its own error
        self._shared = {size for size, n in counts.items() if n > 1}
        self._seen: dict[tuple[int, bytes], Path] = {}

    def earlier_copy(self, path: Path) -> Path | None:
        """The file read earlier in this import with the same bytes as ``path``, if any (a file
        that cannot be read is left for the reader to report)."""
        size = _size(path)
        if size not in self._shared or size is None:
            return None
        try:
            key = (size, _file_digest(path))
        except OSError:
            return None
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = path
        return first


def _size(path: Path) -> int | None:
    """The size of a regular file; ``None`` for a pipe, a device or what cannot be stat'ed."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_size if os.path.isfile(path) else None


def _file_digest(path: Path) -> bytes:
    hashing = hashlib.blake2b(digest_size=FILE_DIGEST_SIZE)
    with open(path, "rb") as raw:
        while piece := raw.read(_PIECE):
            hashing.update(piece)
    return hashing.digest()
