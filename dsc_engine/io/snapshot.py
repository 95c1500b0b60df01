"""Snapshots: every record of an engine, in load order, in one versioned, checksummed file.

A snapshot is data only, safe to open when it comes from someone else: no pickle, no code, and
every value is checked as an import checks it. Layout (all integers big-endian)::

    offset  size  field
    0       8     magic            b"DSCSNAP\\n"
    8       2     format version   2 (version 1 is still read)
    10      1     flags            bit 0: the payload is gzip-compressed
    11      8     payload length   in bytes, as stored
    19      32    SHA-256          of the payload bytes as stored
    51      n     payload          (gzip'd when flagged)

The version 2 payload is a sequence of sections, each kind's records as columns (:mod:`snaptables`),
written and read a part at a time so that neither saving nor loading holds the whole file or every
record at once; records keep their load order, so that a loaded snapshot orders ties exactly as the
original engine did (``docs/semantics.md`` §5.1). A version 1 payload is one JSON document (:mod:`columns`).

Reading checks everything before a single record is handed out, in this order (docs/formats.md,
"Snapshots"): the header against the file's size; the SHA-256 of the payload as stored, in a first
streaming pass, before anything is decompressed or decoded; then, while decoding, every declared
length and count against what the payload can hold (:class:`snaptables.PayloadLimits`: a gzip'd
payload expands at most :data:`MAX_EXPANSION` times, and holds at most one record per byte as
stored) before anything of that size is allocated; then every value. Any fault raises
:class:`SnapshotError` naming the file and what is wrong, and nothing is loaded.

Saving writes a temporary file of its own beside the target and renames it over the target only
once it is complete and on disk, so that two saves to one path, or a save that fails, never leave
a damaged snapshot behind.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import struct
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO

from dsc_engine.errors import SnapshotError, UsageError
from dsc_engine.io import columns, snapopen, snapstore, snaptables
from dsc_engine.io.atomic import replacing
from dsc_engine.io.duplicates import new_records
from dsc_engine.io.stores import HasStores, gc_paused, loading, wanted_kinds, warm_filter_parser
from dsc_engine.models import RecordKind
from dsc_engine.models.kinds import keyed_kinds
from dsc_engine.models.records import Record
from dsc_engine.store.store import Store

#: Called with the number of records written since the last call.
ProgressFn = Callable[[int], None]

MAGIC = b"DSCSNAP\n"
#: The version :func:`save` writes: the store's own layout (:mod:`snapstore`).
VERSION = snapstore.VERSION
#: The versions this engine reads.
VERSIONS = (1, 2, 3)
FLAG_GZIP = 0x01
_HEADER = struct.Struct(">8sHBQ32s")
HEADER_SIZE = _HEADER.size
_FORMAT_NAME = "dsc-engine snapshot"
#: Records per ``Store.insert`` when a snapshot is loaded (large: fewer segment merges).
INSERT_CHUNK = 1 << 18
#: A gzip'd payload may decompress to at most this many times its stored size. Snapshots of real
#: logs expand 2-7 times; a "zip bomb" up to ~1,000 times. :func:`write` stores a payload that
#: would break this (or the one-record-per-stored-byte rule) uncompressed instead.
MAX_EXPANSION = 64


def is_snapshot(path: str | os.PathLike[str]) -> bool:
    """Whether a file starts with the snapshot magic bytes."""
    try:
        with open(path, "rb") as head:
            return head.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


class _CountingWriter(io.RawIOBase):
    """Counts (and, with ``hashing``, hashes) what is written through it."""

    def __init__(self, out: Any, hashing: bool = False) -> None:
        self.out = out
        self.digest = hashlib.sha256() if hashing else None
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.digest is not None:
            self.digest.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)


def write(
    out: BinaryIO, records: Mapping[RecordKind, Sequence[Record]], *, compress: bool = True,
    progress: ProgressFn | None = None,
) -> dict[RecordKind, int]:
    """Write a snapshot of ``records`` (each kind's in load order) to a seekable ``out``;
    ``progress`` is called with the number of records written as they are.

    A gzip'd payload that the reader would refuse (it expands more than :data:`MAX_EXPANSION`
    times, or holds more records than bytes: nearly identical records) is written again
    uncompressed, so that whatever is saved loads (its progress then counts the records again)."""
    start = out.tell()
    if compress:
        counts, stored, expanded = _write(out, records, compress=True, progress=progress)
        if expanded <= MAX_EXPANSION * stored and sum(counts.values()) <= stored:
            return counts
        out.seek(start)
        out.truncate()
    return _write(out, records, compress=False, progress=progress)[0]


def _write(
    out: BinaryIO, records: Mapping[RecordKind, Sequence[Record]], *, compress: bool, progress: ProgressFn | None
) -> tuple[dict[RecordKind, int], int, int]:
    """Write a snapshot; its counts, its payload's stored size and its decompressed size."""
    start = out.tell()
    out.write(bytes(HEADER_SIZE))
    hashing = _CountingWriter(out, hashing=True)
    if compress:
        with gzip.GzipFile(fileobj=hashing, mode="wb", compresslevel=1, mtime=0) as packed:
            counting = _CountingWriter(packed)
            counts = snaptables.write_payload(counting, records, progress)  # type: ignore[arg-type]
        expanded = counting.size
    else:
        counts = snaptables.write_payload(hashing, records, progress)  # type: ignore[arg-type]
        expanded = hashing.size
    end = out.tell()
    out.seek(start)
    flags = FLAG_GZIP if compress else 0
    assert hashing.digest is not None
    out.write(_HEADER.pack(MAGIC, snaptables.VERSION, flags, hashing.size, hashing.digest.digest()))
    out.seek(end)
    return counts, hashing.size, expanded


def encode(records: Mapping[RecordKind, Sequence[Record]], *, compress: bool = True) -> bytes:
    """The bytes of a snapshot holding ``records`` (each kind's list in load order)."""
    out = io.BytesIO()
    write(out, records, compress=compress)
    return out.getvalue()


Contents = list[snaptables.PayloadTable] | dict[RecordKind, list[Record]] | dict[RecordKind, Store]


def _tables(
    raw: BinaryIO, size: int, name: str, kinds: Collection[RecordKind] | None = None
) -> tuple[Contents, dict[RecordKind, int]]:
    """Read and check a snapshot from a seekable ``raw`` (``size`` bytes in all): version 3 as
    whole stores (only those of ``kinds``, when given: the records of the others are counted,
    unread), version 2 as checked column tables, version 1 as records (every kind of these
    two: their reader filters)."""
    head = raw.read(HEADER_SIZE)
    if head.startswith(MAGIC) and len(head) >= len(MAGIC) + 2 and _version_of(head) == snapstore.VERSION:
        try:
            return snapopen.read_stores(raw, size, head[: snapstore.HEADER.size], kinds)
        except SnapshotError as exc:
            raise exc.located(name) from None
    if len(head) < HEADER_SIZE:
        if len(head) < len(MAGIC) or not head.startswith(MAGIC):
            raise SnapshotError(f"not a dsc-engine snapshot (no {MAGIC!r} header)", name)
        raise SnapshotError(f"truncated: {len(head)} bytes, shorter than the {HEADER_SIZE}-byte header", name)
    magic, version, flags, length, digest = _HEADER.unpack(head)
    if magic != MAGIC:
        raise SnapshotError(f"not a dsc-engine snapshot (no {MAGIC!r} header)", name)
    if version not in VERSIONS:
        raise SnapshotError(
            f"snapshot format version {version} is not supported (this engine reads version"
            f" {', '.join(map(str, VERSIONS[:-1]))} and {VERSIONS[-1]})",
            name,
        )
    if flags & ~FLAG_GZIP:
        raise SnapshotError(f"unknown snapshot flags 0x{flags:02x}", name)
    stored = size - HEADER_SIZE
    if stored < length:
        raise SnapshotError(f"truncated: payload has {stored} of its {length} bytes", name)
    if stored > length:
        raise SnapshotError(f"corrupt: {stored - length} unexpected bytes after the payload", name)
    _verify(raw, length, digest, name)
    raw.seek(HEADER_SIZE)
    packed = bool(flags & FLAG_GZIP)
    limits = _limits(length, packed)
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") if packed else contextlib.nullcontext(raw) as stream:
            if version == 1:
                return _version_1(_whole(stream, limits), limits), {}
            return snaptables.read_payload(stream, limits), {}  # type: ignore[arg-type]
    except (OSError, EOFError, zlib.error) as exc:
        reason = "payload does not decompress" if packed else "payload cannot be read"
        raise SnapshotError(f"corrupt: {reason}: {exc}", name) from None
    except SnapshotError as exc:
        raise exc.located(name) from None


def _version_of(head: bytes) -> int:
    (version,) = struct.unpack(">H", head[len(MAGIC) : len(MAGIC) + 2])
    return int(version)


def _verify(raw: BinaryIO, length: int, digest: bytes, name: str) -> None:
    """Hash the ``length`` payload bytes that follow, as stored: nothing is decoded before this."""
    hashing = hashlib.sha256()
    left = length
    while left and (piece := raw.read(min(left, snaptables.PIECE))):
        hashing.update(piece)
        left -= len(piece)
    if left:  # the file shrank since its size was taken
        raise SnapshotError(f"truncated: payload has {length - left} of its {length} bytes", name)
    if hashing.digest() != digest:
        raise SnapshotError("corrupt: the SHA-256 checksum of the payload does not match", name)


def _limits(length: int, packed: bool) -> snaptables.PayloadLimits:
    """What a payload of ``length`` stored bytes can hold (docs/formats.md, "Snapshots")."""
    if not packed:
        return snaptables.PayloadLimits(size=length, records=length)
    why = f" (a gzip'd payload expands at most {MAX_EXPANSION} times its {length} bytes as stored)"
    return snaptables.PayloadLimits(size=MAX_EXPANSION * length, records=length, why=why)


def _whole(stream: io.BufferedIOBase | BinaryIO, limits: snaptables.PayloadLimits) -> bytearray:
    """Everything ``stream`` holds, refused as soon as it is more than ``limits.size`` bytes."""
    data = bytearray()
    while piece := stream.read(snaptables.PIECE):
        data += piece
        if len(data) > limits.size:
            raise SnapshotError(f"corrupt: the payload is longer than {limits.size} bytes{limits.why}")
    return data


def _version_1(payload: bytearray, limits: snaptables.PayloadLimits) -> dict[RecordKind, list[Record]]:
    """A version 1 payload: one JSON document of column tables, decoded whole."""
    try:
        document = json.loads(payload.decode("utf-8"))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise SnapshotError(f"corrupt: payload is not UTF-8 JSON: {exc}") from None
    except RecursionError:
        raise SnapshotError("corrupt: the payload is nested too deeply") from None
    if not isinstance(document, dict) or document.get("format") != _FORMAT_NAME:
        raise SnapshotError(f"corrupt: the payload is not a {_FORMAT_NAME}")
    if document.get("version") != 1:
        raise SnapshotError(f"payload version {columns.brief(document.get('version'))} is not 1")
    kinds = document.get("kinds")
    if not isinstance(kinds, dict):
        raise SnapshotError("corrupt: 'kinds' is not an object")
    out: dict[RecordKind, list[Record]] = {kind: [] for kind in RecordKind}
    most = limits.records
    for label, table in kinds.items():
        try:
            kind = RecordKind(label)
        except ValueError:
            raise SnapshotError(f"unknown record kind {columns.brief(label)}") from None
        try:
            out[kind] = columns.decode_table(kind, table, most)
        except columns.TableError as exc:
            raise SnapshotError(f"{label}: {exc}") from None
        most -= len(out[kind])
    return out


def open_chunks(path: str | os.PathLike[str], size: int | None = None) -> Iterator[tuple[RecordKind, list[Record]]]:
    """Check a snapshot file whole, then return its records as ``(kind, records)`` chunks of at
    most ``size`` (:data:`INSERT_CHUNK`), kind by kind in load order. Every error is raised
    before the first chunk."""
    tables, _ = _read_file(path)
    return _chunks(tables, size or INSERT_CHUNK)


def _chunks(tables: Contents, size: int) -> Iterator[tuple[RecordKind, list[Record]]]:
    if isinstance(tables, dict):
        for kind, held in tables.items():
            records: Sequence[Record] = held.records_in_load_order() if isinstance(held, Store) else held
            for start in range(0, len(records), size):
                yield kind, list(records[start : start + size])
        return
    while tables:
        table = tables.pop(0)  # its columns are freed once its records are out
        for chunk in table.chunks(size):
            yield table.kind, chunk


def _read_file(
    path: str | os.PathLike[str], kinds: Collection[RecordKind] | None = None
) -> tuple[Contents, dict[RecordKind, int]]:
    name = os.fspath(path)
    try:
        with open(path, "rb") as raw:
            return _tables(raw, os.fstat(raw.fileno()).st_size, name, kinds)
    except OSError as exc:
        raise SnapshotError(f"cannot read: {exc.strerror or exc}", name) from None


def decode(data: bytes, name: str = "snapshot") -> dict[RecordKind, list[Record]]:
    """The records of a snapshot's bytes, by kind in load order; :class:`SnapshotError` if bad."""
    out: dict[RecordKind, list[Record]] = {kind: [] for kind in RecordKind}
    for kind, chunk in _chunks(_tables(io.BytesIO(data), len(data), name)[0], INSERT_CHUNK):
        out[kind].extend(chunk)
    return out


def save(
    engine: HasStores,
    path: str | os.PathLike[str],
    *,
    version: int = VERSION,
    compress: bool | None = None,
    progress: ProgressFn | None = None,
) -> dict[RecordKind, int]:
    """Write every record of ``engine`` to ``path`` atomically; return how many of each kind.

    ``version`` 3 (the default) writes each store's own layout with its indexes, first building
    those the APIs' parameters use (:func:`index_attrs`), so that a query after opening finds
    them; it is never compressed (``compress=True`` is a :class:`UsageError`). ``version`` 2
    writes the compact column tables, gzip'd unless ``compress`` is false. ``progress`` is
    called as the snapshot is written: with the bytes written (version 3), or the records
    (version 2).

    The snapshot is written to a temporary file of this save's own beside ``path``, flushed to
    disk, then renamed over ``path``: a reader sees the old snapshot or the new one, never part
    of one, and a save that fails leaves the old snapshot and no temporary file behind."""
    if type(version) is not int or version not in (2, snapstore.VERSION):
        raise UsageError("version", version, f"{version!r} is not a format version this engine writes (2 or 3)")
    if version == snapstore.VERSION and compress:
        raise UsageError("compress", compress, "format 3 is written as the store lays it out, uncompressed;"
                         " version=2 writes the compact gzip'd format")
    with replacing(path, binary=True) as out, gc_paused():
        if version == snapstore.VERSION:
            counts = snapstore.write(out, _stores(engine), progress)
        else:
            records = {kind: engine.store(kind).records_in_load_order() for kind in RecordKind}
            counts = write(out, records, compress=compress is not False, progress=progress)
    return counts


def _stores(engine: HasStores) -> dict[RecordKind, Store]:
    """Every kind's in-memory store (a copy for any other record source), with the indexes
    the APIs use built."""
    stores = {}
    for kind in RecordKind:
        source = engine.store(kind)
        if not isinstance(source, Store):
            copy = Store(kind)
            copy.insert(source.records_in_load_order())
            source = copy
        attrs = index_attrs(source)
        source.wait_for_indexes()  # a background builder would otherwise build them twice
        source.build_indexes(attrs)
        source.build_pair_indexes(attrs)
        stores[kind] = source
    return stores


def index_attrs(store: Store) -> list[str]:
    """The attributes whose indexes a snapshot always carries: those the operations' parameters
    filter or group on (``api/operations``), entry attributes included. Other indexes are kept
    when they were built, and otherwise built on first use."""
    from dsc_engine.api.operations import BY_KIND
    from dsc_engine.api.spec import Role

    schema = store.schema
    attrs = []
    for parameter in BY_KIND[store.kind].parameters:
        field = parameter.field
        if field is None or parameter.role not in (Role.FILTER, Role.GROUP_BY):
            continue
        attr = schema.attr_of.get(field) or schema.entry_attr_of.get(field)
        if attr is not None:
            attrs.append(attr)
    return list(dict.fromkeys(attrs))


def read(path: str | os.PathLike[str]) -> dict[RecordKind, list[Record]]:
    """The records of a snapshot file, by kind in load order."""
    out: dict[RecordKind, list[Record]] = {kind: [] for kind in RecordKind}
    for kind, chunk in open_chunks(path):
        out[kind].extend(chunk)
    return out


def load(
    engine: HasStores, path: str | os.PathLike[str], kinds: str | RecordKind | Iterable[str | RecordKind] | None = None
) -> dict[RecordKind, int]:
    """Append a snapshot's records to ``engine``'s stores (nothing is loaded if it is bad).

    A version 3 snapshot opened into an empty in-memory store becomes that store as it is, its
    indexes included; into a store that holds records, its records are appended in their load
    order (after the ones there, as any later load), except a masking run whose ``Id`` the
    engine holds: left out when identical, a :class:`RecordError` (before anything loads) when
    not. ``kinds`` loads only those kinds (a version 3 file's other stores are not read; their
    checksums are still verified). Loads into one engine (or database) run one at a time, as
    ``Engine.load`` does."""
    wanted = wanted_kinds(kinds)
    counts = dict.fromkeys(RecordKind, 0)
    warm_filter_parser()
    with loading(engine), gc_paused():
        contents, _ = _read_file(path, wanted)
        keyed = {kind: _new_records(engine, kind, contents, os.fspath(path))
                 for kind in keyed_kinds() if _appends_keyed(engine, kind, wanted)}
        if isinstance(contents, dict):
            for kind, opened in list(contents.items()):
                if isinstance(opened, Store) and adopt(engine, kind, opened):
                    counts[kind] = len(opened)
                    del contents[kind]
        for kind, chunk in _chunks(contents, INSERT_CHUNK):
            if wanted is None or kind in wanted:
                counts[kind] += engine.store(kind).insert(chunk)
        for kind, new in keyed.items():
            for start in range(0, len(new), INSERT_CHUNK):
                counts[kind] += engine.store(kind).insert(new[start : start + INSERT_CHUNK])
    return counts


def _appends_keyed(engine: HasStores, kind: RecordKind, wanted: Collection[RecordKind] | None) -> bool:
    """Whether the load appends records of ``kind``, a kind with a key (masking runs), to some
    the engine holds (into none, the snapshot's own records, whose keys its engine kept unique,
    are taken as they are, a version 3 store whole)."""
    return (wanted is None or kind in wanted) and len(engine.store(kind)) > 0


def _new_records(engine: HasStores, kind: RecordKind, contents: Contents, name: str) -> list[Record]:
    """The records of ``kind``, a kind with a key, of ``contents`` (taken out of it) that
    ``engine`` does not hold: an identical one is left out and a different one under a held key
    (a masking run's ``Id``) is a :class:`RecordError`, before anything is loaded, as for records
    given to ``Engine.load`` (docs/decisions.md)."""
    records: Iterable[Record]
    if isinstance(contents, dict):
        held = contents.pop(kind, [])
        records = held.records_in_load_order() if isinstance(held, Store) else held
    else:  # an older format's tables, decoded chunk by chunk as every load reads them
        tables = [table for table in contents if table.kind is kind]
        contents[:] = [table for table in contents if table.kind is not kind]
        records = (record for _, chunk in _chunks(tables, INSERT_CHUNK) for record in chunk)
    return new_records(kind, engine.store(kind), list(enumerate(records)), lambda index: f"{name}: {kind.facts.label} {index}")


def adopt(engine: HasStores, kind: RecordKind, opened: Store) -> bool:
    """Whether ``engine``'s store of ``kind`` became ``opened`` (it was an empty in-memory store)."""
    target = engine.store(kind)
    return isinstance(target, Store) and target.replace_with(opened)


def chunks(contents: Contents, size: int = INSERT_CHUNK) -> Iterator[tuple[RecordKind, list[Record]]]:
    """The records of what :func:`open_stores` gave, as ``(kind, records)`` chunks in load order."""
    return _chunks(contents, size)


def open_stores(
    path: str | os.PathLike[str], kinds: Collection[RecordKind] | None = None
) -> tuple[Contents, dict[RecordKind, int]]:
    """A snapshot file, checked whole: version 3 as stores (only those of ``kinds``, when
    given), older versions as tables/records of every kind (what :func:`load` and the importer
    take apart); and how many records of each other kind a version 3 file left unread."""
    return _read_file(path, kinds)
