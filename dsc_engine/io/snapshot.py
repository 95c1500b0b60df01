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
original engine did (CONTRACT.md section 4). A version 1 payload is one JSON document (:mod:`columns`).

Reading checks everything before a single record is handed out: a file shorter than its header or
payload, a checksum that does not match, an unknown version or flag, bytes after the payload or a
payload that does not decode all raise :class:`SnapshotError`, and nothing is loaded.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import struct
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from dsc_engine.errors import SnapshotError
from dsc_engine.io import columns, snaptables
from dsc_engine.io.stores import HasStores, gc_paused
from dsc_engine.models import RecordKind
from dsc_engine.models.records import Record

MAGIC = b"DSCSNAP\n"
VERSION = snaptables.VERSION
#: The versions this engine reads.
VERSIONS = (1, 2)
FLAG_GZIP = 0x01
_HEADER = struct.Struct(">8sHBQ32s")
HEADER_SIZE = _HEADER.size
_FORMAT_NAME = "dsc-engine snapshot"
#: Records per ``Store.insert`` when a snapshot is loaded (large: fewer segment merges).
INSERT_CHUNK = 1 << 18


def is_snapshot(path: str | os.PathLike[str]) -> bool:
    """Whether a file starts with the snapshot magic bytes."""
    try:
        with open(path, "rb") as head:
            return head.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


class _HashingWriter(io.RawIOBase):
    """Counts and hashes what is written through it."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.digest.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)


class _HashingReader(io.RawIOBase):
    """Reads at most ``length`` bytes of ``raw`` and hashes them."""

    def __init__(self, raw: BinaryIO, length: int) -> None:
        self.raw = raw
        self.left = length
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(min(len(buffer), self.left))
        self.left -= len(data)
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> bytes:
        """Hash what was not read yet; the digest of the whole payload."""
        while self.left and (data := self.raw.read(min(self.left, 1 << 20))):
            self.left -= len(data)
            self.digest.update(data)
        return self.digest.digest()


def write(out: BinaryIO, records: Mapping[RecordKind, Sequence[Record]], *, compress: bool = True) -> dict[RecordKind, int]:
    """Write a snapshot of ``records`` (each kind's in load order) to a seekable ``out``."""
    start = out.tell()
    out.write(bytes(HEADER_SIZE))
    hashing = _HashingWriter(out)
    if compress:
        with gzip.GzipFile(fileobj=hashing, mode="wb", compresslevel=1, mtime=0) as packed:
            counts = snaptables.write_payload(packed, records)  # type: ignore[arg-type]
    else:
        counts = snaptables.write_payload(hashing, records)  # type: ignore[arg-type]
    end = out.tell()
    out.seek(start)
    flags = FLAG_GZIP if compress else 0
    out.write(_HEADER.pack(MAGIC, VERSION, flags, hashing.size, hashing.digest.digest()))
    out.seek(end)
    return counts


def encode(records: Mapping[RecordKind, Sequence[Record]], *, compress: bool = True) -> bytes:
    """The bytes of a snapshot holding ``records`` (each kind's list in load order)."""
    out = io.BytesIO()
    write(out, records, compress=compress)
    return out.getvalue()


def _tables(raw: BinaryIO, size: int, name: str) -> list[snaptables.Table] | dict[RecordKind, list[Record]]:
    """Read and check a snapshot from ``raw`` (``size`` bytes in all)."""
    head = raw.read(HEADER_SIZE)
    if len(head) < HEADER_SIZE:
        if len(head) < len(MAGIC) or not head.startswith(MAGIC):
            raise SnapshotError(f"{name}: not a dsc-engine snapshot (no {MAGIC!r} header)")
        raise SnapshotError(f"{name}: truncated: {len(head)} bytes, shorter than the {HEADER_SIZE}-byte header")
    magic, version, flags, length, digest = _HEADER.unpack(head)
    if magic != MAGIC:
        raise SnapshotError(f"{name}: not a dsc-engine snapshot (no {MAGIC!r} header)")
    if version not in VERSIONS:
        raise SnapshotError(
            f"{name}: snapshot format version {version} is not supported (this engine reads version"
            f" {' and '.join(map(str, VERSIONS))})"
        )
    if flags & ~FLAG_GZIP:
        raise SnapshotError(f"{name}: unknown snapshot flags 0x{flags:02x}")
    stored = size - HEADER_SIZE
    if stored < length:
        raise SnapshotError(f"{name}: truncated: payload has {stored} of its {length} bytes")
    if stored > length:
        raise SnapshotError(f"{name}: corrupt: {stored - length} unexpected bytes after the payload")
    if version == 1:
        return _version_1(raw.read(length), digest, flags, name)
    hashing = _HashingReader(raw, length)
    try:
        stream: BinaryIO = (
            gzip.GzipFile(fileobj=hashing, mode="rb") if flags & FLAG_GZIP else io.BufferedReader(hashing, 1 << 20)  # type: ignore[assignment]
        )
        tables = snaptables.read_payload(stream)
    except (OSError, EOFError, zlib.error) as exc:
        _check_digest(hashing, digest, name)
        raise SnapshotError(f"{name}: corrupt: payload does not decompress: {exc}") from None
    except SnapshotError as exc:
        _check_digest(hashing, digest, name)
        raise SnapshotError(f"{name}: {exc}") from None
    _check_digest(hashing, digest, name)
    return tables


def _check_digest(hashing: _HashingReader, digest: bytes, name: str) -> None:
    if hashing.drain() != digest:
        raise SnapshotError(f"{name}: corrupt: the SHA-256 checksum of the payload does not match")


def _version_1(payload: bytes, digest: bytes, flags: int, name: str) -> dict[RecordKind, list[Record]]:
    """A version 1 payload: one JSON document of column tables, decoded whole."""
    if hashlib.sha256(payload).digest() != digest:
        raise SnapshotError(f"{name}: corrupt: the SHA-256 checksum of the payload does not match")
    if flags & FLAG_GZIP:
        try:
            payload = gzip.decompress(payload)
        except (OSError, EOFError, zlib.error) as exc:
            raise SnapshotError(f"{name}: corrupt: payload does not decompress: {exc}") from None
    try:
        document = json.loads(payload)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise SnapshotError(f"{name}: corrupt: payload is not UTF-8 JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != _FORMAT_NAME:
        raise SnapshotError(f"{name}: corrupt: the payload is not a {_FORMAT_NAME}")
    if document.get("version") != 1:
        raise SnapshotError(f"{name}: payload version {document.get('version')!r} is not 1")
    kinds = document.get("kinds")
    if not isinstance(kinds, dict):
        raise SnapshotError(f"{name}: corrupt: 'kinds' is not an object")
    out: dict[RecordKind, list[Record]] = {kind: [] for kind in RecordKind}
    for label, table in kinds.items():
        try:
            kind = RecordKind(label)
        except ValueError:
            raise SnapshotError(f"{name}: unknown record kind {label!r}") from None
        try:
            out[kind] = columns.decode_table(kind, table)
        except columns.TableError as exc:
            raise SnapshotError(f"{name}: {label}: {exc}") from None
    return out


def open_chunks(path: str | os.PathLike[str], size: int | None = None) -> Iterator[tuple[RecordKind, list[Record]]]:
    """Check a snapshot file whole, then return its records as ``(kind, records)`` chunks of at
    most ``size`` (:data:`INSERT_CHUNK`), kind by kind in load order. Every error is raised
    before the first chunk."""
    tables = _read_file(path)
    return _chunks(tables, size or INSERT_CHUNK)


def _chunks(tables: list[snaptables.Table] | dict[RecordKind, list[Record]], size: int) -> Iterator[tuple[RecordKind, list[Record]]]:
    if isinstance(tables, dict):
        for kind, records in tables.items():
            for start in range(0, len(records), size):
                yield kind, records[start : start + size]
        return
    while tables:
        table = tables.pop(0)  # its columns are freed once its records are out
        for chunk in table.chunks(size):
            yield table.kind, chunk


def _read_file(path: str | os.PathLike[str]) -> list[snaptables.Table] | dict[RecordKind, list[Record]]:
    name = os.fspath(path)
    try:
        with open(path, "rb") as raw:
            return _tables(raw, os.fstat(raw.fileno()).st_size, name)
    except OSError as exc:
        raise SnapshotError(f"{name}: cannot read: {exc.strerror or exc}") from None


def decode(data: bytes, name: str = "snapshot") -> dict[RecordKind, list[Record]]:
    """The records of a snapshot's bytes, by kind in load order; :class:`SnapshotError` if bad."""
    out: dict[RecordKind, list[Record]] = {kind: [] for kind in RecordKind}
    for kind, chunk in _chunks(_tables(io.BytesIO(data), len(data), name), INSERT_CHUNK):
        out[kind].extend(chunk)
    return out


def save(engine: HasStores, path: str | os.PathLike[str], *, compress: bool = True) -> dict[RecordKind, int]:
    """Write every record of ``engine`` to ``path``; return how many of each kind."""
    records = {kind: engine.store(kind).records_in_load_order() for kind in RecordKind}
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    with open(partial, "wb") as out, gc_paused():
        counts = write(out, records, compress=compress)
    os.replace(partial, target)
    return counts


def read(path: str | os.PathLike[str]) -> dict[RecordKind, list[Record]]:
    """The records of a snapshot file, by kind in load order."""
    out: dict[RecordKind, list[Record]] = {kind: [] for kind in RecordKind}
    for kind, chunk in open_chunks(path):
        out[kind].extend(chunk)
    return out


def load(engine: HasStores, path: str | os.PathLike[str]) -> dict[RecordKind, int]:
    """Append a snapshot's records to ``engine``'s stores (nothing is loaded if it is bad)."""
    counts = dict.fromkeys(RecordKind, 0)
    with gc_paused():
        for kind, chunk in open_chunks(path):
            counts[kind] += engine.store(kind).insert(chunk)
    return counts
