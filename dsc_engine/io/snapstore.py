"""Version 3 snapshots: the store's own layout, written here and opened by :mod:`snapopen`.

A version 3 snapshot holds each store as it is in memory (``docs/formats.md``, "Snapshots"):
for every kind its intern tables (the distinct values of each coded attribute: text as one UTF-8
blob plus the offset of each value, other values as a JSON list), and for every segment its load
numbers, its columns as packed little-endian arrays and the indexes built so far (hash, sorted,
entry and text indexes). Layout (integers of the header big-endian)::

    offset  size  field
    0       8     magic              b"DSCSNAP\\n"
    8       2     format version     3
    10      1     flags              0
    11      8     directory offset   where the directory starts (it ends the file)
    19      8     directory length   in bytes
    27      4     directory CRC-32
    31      ...   sections           each at an offset that is a multiple of 8
    ...           directory          JSON: the kinds, their tables and segments, and every
                                     section's offset, length, type and CRC-32

Every array is written straight from memory (``memoryview``), row numbers of indexes as unsigned
items so that the reader checks one bound; ``docs/formats.md`` lists every section.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import struct
import sys
import zlib
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import Any, BinaryIO

from dsc_engine.io.jsontext import utf8_text
from dsc_engine.models import RecordKind
from dsc_engine.query.plan import IndexKind
from dsc_engine.store.columns import ABSENT_INT, Intern, Schema
from dsc_engine.store.indexes import PairPostings, Postings, SortedIndex
from dsc_engine.store.segment import Segment
from dsc_engine.store.store import Store
from dsc_engine.store.text import TextIndex
from dsc_engine.wire.codec import value_encoders
from dsc_engine.wire.types import Storage

VERSION = 3
FORMAT_NAME = "dsc-engine snapshot"
HEADER = struct.Struct(">8sHBQQI")
#: The longest directory read (a directory lists a few hundred sections).
MAX_DIRECTORY = 1 << 24
#: Bytes an item of each array section type takes.
ITEM_SIZES = {"q": 8, "i": 4, "I": 4}
#: DMS times are stored as microseconds since this moment.
DT_ZERO = dt.datetime(1, 1, 1)
MICROSECOND = dt.timedelta(microseconds=1)
#: The name of each index kind a snapshot holds (composite ones included).
INDEX_NAMES = {
    IndexKind.HASH: "hash", IndexKind.SORTED: "sorted", IndexKind.ENTRY: "entry", IndexKind.TEXT: "text",
    IndexKind.PAIR: "pair", IndexKind.ENTRY_PAIR: "entry pair",
}
INDEX_KINDS = {name: kind for kind, name in INDEX_NAMES.items()}
ProgressFn = Callable[[int], None]


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, out: BinaryIO, start: int, progress: ProgressFn | None) -> None:
        self.out = out
        self.start = start
        self.sections: list[dict[str, Any]] = []
        self.progress = progress

    def add(self, data: Any, kind: str) -> int:
        """Write one section (an array, bytes, or a JSON value); its number."""
        if kind == "json":
            data = utf8_text(data, separators=(",", ":")).encode("utf-8")  # a lone surrogate escaped
        elif kind in ITEM_SIZES:
            if not isinstance(data, array) or data.typecode != kind:
                data = array(kind, data)
            if sys.byteorder == "big":
                data = array(kind, data)
                data.byteswap()
        view = memoryview(data).cast("B")
        position = self.out.tell()
        padding = -(position - self.start) % 8
        self.out.write(bytes(padding))
        self.out.write(view)
        self.sections.append({"offset": position + padding - self.start, "length": len(view),
                              "type": kind, "crc32": zlib.crc32(view)})
        if self.progress is not None:
            self.progress(len(view))
        return len(self.sections) - 1


def write(out: BinaryIO, stores: Mapping[RecordKind, Store], progress: ProgressFn | None = None) -> dict[RecordKind, int]:
    """Write a version 3 snapshot of ``stores`` (each with every index it has) to a seekable
    ``out``; the record count of each kind."""
    start = out.tell()
    out.write(bytes(HEADER.size))
    writer = _Writer(out, start, progress)
    kinds = [_write_kind(writer, kind, store) for kind, store in stores.items()]
    directory = json.dumps({"format": FORMAT_NAME, "version": VERSION, "kinds": kinds,
                            "sections": writer.sections}, separators=(",", ":")).encode("utf-8")
    offset = out.tell() - start
    out.write(directory)
    end = out.tell()
    out.seek(start)
    out.write(HEADER.pack(b"DSCSNAP\n", VERSION, 0, offset, len(directory), zlib.crc32(directory)))
    out.seek(end)
    return {RecordKind(entry["kind"]): entry["rows"] for entry in kinds}


def _write_kind(writer: _Writer, kind: RecordKind, store: Store) -> dict[str, Any]:
    # one version, taken before the tables are read: an insert while the save writes (another
    # thread loading) publishes rows whose new codes the tables written earlier would lack
    held, rows = store.published()
    schema = store.schema
    tables = [_write_table(writer, attr, table, entry=False) for attr, table in schema.tables.items()]
    tables += [_write_table(writer, attr, table, entry=True) for attr, table in schema.entry_tables.items()]
    segments = [_write_segment(writer, schema, segment) for segment in held]
    return {"kind": kind.value, "rows": rows, "tables": tables, "segments": segments}


def _write_table(writer: _Writer, attr: str, table: Intern, *, entry: bool) -> dict[str, Any]:
    values = table.values[1:]
    out: dict[str, Any] = {"attr": attr, "entry": entry, "count": len(values)}
    if table.spec.type.json is str:
        encoded = [value.encode("utf-8", "surrogatepass") for value in values]
        out["offsets"] = writer.add(array("q", itertools.accumulate(map(len, encoded), initial=0)), "q")
        out["text"] = writer.add(b"".join(encoded), "bytes")
    else:
        out["values"] = writer.add(values, "json")
    return out


def _write_segment(writer: _Writer, schema: Schema, segment: Segment) -> dict[str, Any]:
    columns = [_write_column(writer, schema, attr, segment.columns[attr]) for attr in schema.columns]
    indexes = []
    for (kind, attr), index in segment.indexes().items():
        name = INDEX_NAMES[kind]  # every kind is kept, composite ones too
        if isinstance(index, PairPostings):  # each pair of codes and its run of rows
            spans = array("q", itertools.chain.from_iterable((a, b, start, stop) for (a, b), (start, stop) in index.spans.items()))
            parts = [writer.add(spans, "q"), writer.add(_unsigned(index.rows), "I")]
        elif isinstance(index, Postings):
            parts = [writer.add(index.starts, "q"), writer.add(_unsigned(index.rows), "I")]
        elif isinstance(index, SortedIndex):
            values = index.values
            form = "q" if isinstance(values, array) else "json"
            parts = [writer.add(values, form), writer.add(_unsigned(index.rows), "I")]
        else:
            assert isinstance(index, TextIndex)
            parts = [writer.add(index.starts, "q"), writer.add(index.blob, "bytes")]
        indexes.append({"kind": name, "attr": attr, "sections": parts})
    return {"rows": segment.n, "seq": writer.add(segment.seq, "q"), "columns": columns, "indexes": indexes}


def _unsigned(rows: array) -> array:  # type: ignore[type-arg]
    """Row numbers as unsigned 32-bit items (the same bytes: rows are never negative), so that
    the reader checks one bound only."""
    if rows.typecode == "I":
        return rows
    unsigned = array("I")
    unsigned.frombytes(rows.tobytes())
    return unsigned


def _write_column(writer: _Writer, schema: Schema, attr: str, column: Any) -> dict[str, Any]:
    spec = schema.columns[attr]
    if spec.storage == Storage.CODED:
        return {"attr": attr, "form": "codes", "data": writer.add(column, "I")}
    if spec.storage == Storage.INT:
        if isinstance(column, array):
            return {"attr": attr, "form": "int", "data": writer.add(column, "q")}
        return {"attr": attr, "form": "json", "data": writer.add(column, "json")}
    if spec.entry_attr is not None:  # per row, the sorted codes of one attribute of its entries
        return {"attr": attr, "form": "code-lists", **_lists(writer, column)}
    if attr == schema.entries_attr:
        distinct: dict[Any, int] = {}
        ids = array("I", (distinct.setdefault(e, len(distinct)) for row in column for e in row))
        starts = array("q", itertools.accumulate(map(len, column), initial=0))
        wire = _entries_encoder(schema.kind, attr)(list(distinct))
        return {"attr": attr, "form": "entries", "entries": writer.add(wire, "json"),
                "starts": writer.add(starts, "q"), "ids": writer.add(ids, "I")}
    micros = array("q", (ABSENT_INT if t is None else (t - DT_ZERO) // MICROSECOND for t in column))
    return {"attr": attr, "form": "micros", "data": writer.add(micros, "q")}


def _lists(writer: _Writer, column: Sequence[tuple[int, ...]]) -> dict[str, int]:
    starts = array("q", itertools.accumulate(map(len, column), initial=0))
    codes = array("I", itertools.chain.from_iterable(column))
    return {"starts": writer.add(starts, "q"), "codes": writer.add(codes, "I")}


def _entries_encoder(kind: RecordKind, attr: str) -> Callable[[Any], Any]:
    """The wire encoder of a kind's list of entries (a list of entry objects back)."""
    return next(encode for name, _, encode in value_encoders(kind) if name == attr)
