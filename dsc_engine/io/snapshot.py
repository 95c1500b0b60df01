"""Snapshots: every record of an engine, in load order, in one versioned, checksummed file.

A snapshot is data only, safe to open when it comes from someone else: no pickle, no code, and
every record is decoded by the same strict wire mapping as an import. Layout (all integers
big-endian)::

    offset  size  field
    0       8     magic            b"DSCSNAP\\n"
    8       2     format version   1
    10      1     flags            bit 0: the payload is gzip-compressed
    11      8     payload length   in bytes, as stored
    19      32    SHA-256          of the payload bytes as stored
    51      n     payload          UTF-8 JSON (gzip'd when flagged)

The payload is ``{"format": "dsc-engine snapshot", "version": 1, "kinds": {KIND: TABLE}}``, each
table holding a kind's records in load order as columns (:mod:`columns`), so that a loaded
snapshot orders ties exactly as the original engine did (CONTRACT.md section 4).

A file shorter than its header or payload, a checksum that does not match, an unknown version,
bytes after the payload or a payload that does not decode all raise :class:`SnapshotError`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import struct
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from dsc_engine.errors import SnapshotError
from dsc_engine.io import columns
from dsc_engine.models import RecordKind
from dsc_engine.models.records import Record
from dsc_engine.io.stores import HasStores

MAGIC = b"DSCSNAP\n"
VERSION = 1
FLAG_GZIP = 0x01
_HEADER = struct.Struct(">8sHBQ32s")
HEADER_SIZE = _HEADER.size
_FORMAT_NAME = "dsc-engine snapshot"


def is_snapshot(path: str | os.PathLike[str]) -> bool:
    """Whether a file starts with the snapshot magic bytes."""
    try:
        with open(path, "rb") as head:
            return head.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def encode(records: Mapping[RecordKind, Sequence[Record]], *, compress: bool = True) -> bytes:
    """The bytes of a snapshot holding ``records`` (each kind's list in load order)."""
    kinds = {kind.value: columns.encode_table(kind, records.get(kind, ())) for kind in RecordKind}
    document = {"format": _FORMAT_NAME, "version": VERSION, "kinds": kinds}
    payload = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if compress:
        payload = gzip.compress(payload, compresslevel=1, mtime=0)
    flags = FLAG_GZIP if compress else 0
    return _HEADER.pack(MAGIC, VERSION, flags, len(payload), hashlib.sha256(payload).digest()) + payload


def decode(data: bytes, name: str = "snapshot") -> dict[RecordKind, list[Record]]:
    """The records of a snapshot's bytes, by kind in load order; :class:`SnapshotError` if bad."""
    if len(data) < HEADER_SIZE:
        if len(data) < len(MAGIC) or not data.startswith(MAGIC):
            raise SnapshotError(f"{name}: not a dsc-engine snapshot (no {MAGIC!r} header)")
        raise SnapshotError(f"{name}: truncated: {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header")
    magic, version, flags, length, digest = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise SnapshotError(f"{name}: not a dsc-engine snapshot (no {MAGIC!r} header)")
    if version != VERSION:
        raise SnapshotError(
            f"{name}: snapshot format version {version} is not supported (this engine reads version {VERSION})"
        )
    if flags & ~FLAG_GZIP:
        raise SnapshotError(f"{name}: unknown snapshot flags 0x{flags:02x}")
    payload = data[HEADER_SIZE:]
    if len(payload) < length:
        raise SnapshotError(f"{name}: truncated: payload has {len(payload)} of its {length} bytes")
    if len(payload) > length:
        raise SnapshotError(f"{name}: corrupt: {len(payload) - length} unexpected bytes after the payload")
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
    if document.get("version") != VERSION:
        raise SnapshotError(f"{name}: payload version {document.get('version')!r} is not {VERSION}")
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


def save(engine: HasStores, path: str | os.PathLike[str], *, compress: bool = True) -> dict[RecordKind, int]:
    """Write every record of ``engine`` to ``path``; return how many of each kind."""
    records = {kind: list(engine.store(kind).records_in_load_order()) for kind in RecordKind}
    data = encode(records, compress=compress)
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, target)
    return {kind: len(rows) for kind, rows in records.items()}


def read(path: str | os.PathLike[str]) -> dict[RecordKind, list[Record]]:
    """The records of a snapshot file, by kind in load order."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SnapshotError(f"{os.fspath(path)}: cannot read: {exc.strerror or exc}") from None
    return decode(data, os.fspath(path))


def load(engine: HasStores, path: str | os.PathLike[str]) -> dict[RecordKind, int]:
    """Append a snapshot's records to ``engine``'s stores (nothing is loaded if it is bad)."""
    records = read(path)
    return {kind: engine.store(kind).insert(rows) for kind, rows in records.items()}
