"""The payload of a version 2 snapshot: each kind's records as columns, written and read in parts.

The payload is a sequence of *sections*, each an 8-byte big-endian length and that many bytes::

    manifest   JSON {"format": "dsc-engine snapshot", "version": 2, "kinds": [KIND, ...]}
    for each kind, in the manifest's order:
      table    JSON {"kind": KIND, "count": N, "columns": [{"key": KEY, "width": W}, ...]}
      for each column, in the table's order:
        values JSON {"values": [...]} (and "entries": [...] for SensitiveDataLog)
        index  N unsigned little-endian integers of W bytes (1, 2 or 4): 0 = absent, i = values[i-1]

A column lists each distinct wire value once; ``SensitiveDataLog`` lists distinct entry objects
once (``entries``) and each of its values is a list of entry positions. Nothing else may follow.

Reading keeps each column as its distinct values and its packed index (1 to 4 bytes a record), so
memory stays near what the stores themselves take; records are built only when asked for, a chunk
at a time (:meth:`PayloadTable.chunks`). Every value is checked as an import checks it, once per
distinct value (:func:`columns.decode_values`); the models have no cross-field rules, so a table
that reads without error also builds without error.

Nothing a payload declares is believed before it is checked against :class:`PayloadLimits`, what
the payload can hold at most: a section longer than the bytes left, a table counting more records
than the payload can hold, or an index whose length is not its count times its width is refused
before anything of that size is read or allocated, and a section is read a megabyte at a time, so
that memory follows the bytes actually there, not the length claimed.
"""

from __future__ import annotations

import itertools
import json
import operator
import struct
import sys
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO

import attrs

from dsc_engine.io.columns import ENTRIES_KEY, TableError, brief, decode_values
from dsc_engine.io.jsontext import utf8_text
from dsc_engine.wire.catalog import attr_for_key, required_keys
from dsc_engine.wire.codec import value_encoders
from dsc_engine.wire.generated import build_rows
from dsc_engine.models import RecordKind
from dsc_engine.models.records import Record

FORMAT_NAME = "dsc-engine snapshot"
VERSION = 2
#: Records handled at a time when writing, and built at a time when reading.
CHUNK = 65536
#: Records whose cells are gathered at a time while building (the cell lists are 8 bytes a value).
_BUILD_STEP = 16384
_LENGTH = struct.Struct(">Q")
#: Bytes read (or hashed) at a time from a long section or payload.
PIECE = 1 << 20
_WIDTHS = {1: "B", 2: "H", 4: "I"}


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _section(out: BinaryIO, data: bytes) -> None:
    out.write(_LENGTH.pack(len(data)))
    out.write(data)


def _json(value: object) -> bytes:
    return utf8_text(value, separators=(",", ":")).encode("utf-8")  # a lone surrogate escaped


class _Column:
    """The distinct values of one attribute (first-seen order) and each record's position."""

    def __init__(self) -> None:
        self.uniques: list[Any] = []
        self.by_type: dict[type, dict[Any, int]] = {}  # True and 1 stay apart
        self.index = array("I")
        self.plain = False  # a column of mostly distinct values lists every value, undeduplicated

    def add(self, values: Sequence[Any]) -> None:
        if self.plain:
            self._add_plainly(values)
            return
        self._add_distinct(values)
        if len(self.index) >= CHUNK and 10 * len(self.uniques) > 9 * len(self.index):
            # nearly every value distinct (times, object keys): a dictionary of them all would
            # only cost memory. Not at lower ratios: a column that is 50-60% distinct in its
            # first chunk (ClientPort, SqlText) repeats later, and listing every value would cost
            # the load ~130 MiB at 1M audit logs.
            self.plain, self.by_type = True, {}

    def _add_plainly(self, values: Sequence[Any]) -> None:
        first = len(self.uniques) + 1
        if None not in values:
            self.uniques.extend(values)
            self.index.extend(range(first, first + len(values)))
            return
        for value in values:
            if value is None:
                self.index.append(0)
            else:
                self.uniques.append(value)
                self.index.append(len(self.uniques))

    def _add_distinct(self, values: Sequence[Any]) -> None:
        types = set(map(type, values))
        types.discard(type(None))
        if len(types) > 1:
            for value in values:
                self.index.append(0 if value is None else self._position(type(value), value))
            return
        if not types:
            self.index.extend(itertools.repeat(0, len(values)))
            return
        seen = self._seen(types.pop())
        for value in dict.fromkeys(values):
            if value not in seen:
                self.uniques.append(value)
                seen[value] = len(self.uniques)
        self.index.extend(map(seen.__getitem__, values))

    def _seen(self, kind: type) -> dict[Any, int]:
        seen = self.by_type.get(kind)
        if seen is None:
            seen = self.by_type[kind] = {None: 0}
        return seen

    def _position(self, kind: type, value: Any) -> int:
        seen = self._seen(kind)
        position = seen.get(value)
        if position is None:
            self.uniques.append(value)
            position = seen[value] = len(self.uniques)
        return position

    def packed(self) -> tuple[int, bytes]:
        width = 1 if len(self.uniques) < 1 << 8 else 2 if len(self.uniques) < 1 << 16 else 4
        index = self.index if width == 4 else array(_WIDTHS[width], self.index)
        if sys.byteorder == "big":
            index.byteswap()
        return width, index.tobytes()


def write_payload(
    out: BinaryIO, records: Mapping[RecordKind, Sequence[Record]], progress: Callable[[int], None] | None = None
) -> dict[RecordKind, int]:
    """Write the payload of ``records`` (each kind's in load order) to ``out``; the counts.
    ``progress`` is called with the number of records read as they are read."""
    _section(out, _json({"format": FORMAT_NAME, "version": VERSION, "kinds": [k.value for k in RecordKind]}))
    counts = {}
    for kind in RecordKind:
        rows = records.get(kind, ())
        fields = value_encoders(kind)
        get = operator.attrgetter(*(attr for attr, _, _ in fields))
        columns = [_Column() for _ in fields]
        count = 0
        source = iter(rows)
        while chunk := list(itertools.islice(source, CHUNK)):
            count += len(chunk)
            if progress is not None:
                progress(len(chunk))
            for column, values in zip(columns, zip(*map(get, chunk))):
                column.add(values)
        counts[kind] = count
        kept = [(key, encode, column) for (_, key, encode), column in zip(fields, columns) if column.uniques]
        packed = [column.packed() for _, _, column in kept]
        header = {"kind": kind.value, "count": count,
                  "columns": [{"key": key, "width": width} for (key, _, _), (width, _) in zip(kept, packed)]}
        _section(out, _json(header))
        for (key, encode, column), (_, index) in zip(kept, packed):
            _section(out, _json(_values(key, encode, column.uniques)))
            _section(out, index)
    return counts


def _values(key: str, encode: Callable[[Any], Any], uniques: list[Any]) -> dict[str, Any]:
    if key != ENTRIES_KEY:
        return {"values": [encode(value) for value in uniques]}
    entries: dict[Any, int] = {}
    for entry in itertools.chain.from_iterable(uniques):
        entries.setdefault(entry, len(entries))
    wire = encode(list(entries))
    return {"entries": wire, "values": [[entries[e] for e in value] for value in uniques]}


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


@attrs.define
class PayloadTable:
    """One kind's records of a payload, checked, as columns: ``lookups[c][index[c][r]]`` is record r's value."""

    kind: RecordKind
    count: int
    names: list[str]
    lookups: list[list[Any]]
    indexes: list[array]  # type: ignore[type-arg]

    def chunks(self, size: int = CHUNK, first: int = 0) -> Iterator[list[Record]]:
        """The records in load order from record ``first`` on, ``size`` at a time."""
        build = build_rows(self.kind.record_class, tuple(self.names))
        step = min(size, _BUILD_STEP)
        for start in range(first, self.count, size):
            records: list[Record] = []
            for part in range(start, min(start + size, self.count), step):  # short-lived cell lists
                cells = [list(map(lookup.__getitem__, index[part : part + step]))
                         for lookup, index in zip(self.lookups, self.indexes)]
                records += build(zip(*cells))
            yield records


@attrs.frozen
class PayloadLimits:
    """What a payload can hold at most: ``size`` bytes once decompressed and ``records`` records
    in all its tables. ``why`` says where ``size`` comes from, for the messages."""

    size: int
    records: int
    why: str = ""


class _Reader:
    """The sections of a payload, each checked against what the payload can still hold."""

    def __init__(self, stream: BinaryIO, limits: PayloadLimits) -> None:
        self.stream = stream
        self.limits = limits
        self.bytes_left = limits.size
        self.records_left = limits.records

    def exact(self, size: int, what: str) -> bytes | bytearray:
        if size > self.bytes_left:
            raise TableError(
                f"the payload ends inside {what}: it claims {size} bytes, {self.bytes_left} at most"
                f" are left{self.limits.why}"
            )
        if size <= PIECE:
            data: bytes | bytearray = self.stream.read(size)
        else:  # a claimed length costs only what is really there
            data = bytearray()
            while len(data) < size and (piece := self.stream.read(min(PIECE, size - len(data)))):
                data += piece
        self.bytes_left -= len(data)
        if len(data) != size:
            raise TableError(f"the payload ends inside {what} ({len(data)} of its {size} bytes)")
        return data

    def length(self, what: str) -> int:
        (length,) = _LENGTH.unpack(self.exact(_LENGTH.size, what))
        return int(length)

    def section(self, what: str) -> bytes | bytearray:
        return self.exact(self.length(what), what)

    def json(self, what: str) -> Any:
        data = self.section(what)
        try:
            return json.loads(data.decode("utf-8"))
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise TableError(f"{what} is not UTF-8 JSON: {exc}") from None
        except RecursionError:
            raise TableError(f"{what} is nested too deeply") from None

    def count(self, kind: RecordKind, count: int) -> None:
        """Take ``count`` records of ``kind`` from what the payload can hold."""
        if count > self.records_left:
            raise TableError(
                f"{kind.value}: its 'count' of {count} records is more than the payload can hold"
                f" ({self.records_left} at most: one record per byte of the payload as stored)"
            )
        self.records_left -= count


def read_payload(stream: BinaryIO, limits: PayloadLimits) -> list[PayloadTable]:
    """Every table of a version 2 payload, checked; :class:`TableError` says what is wrong."""
    reader = _Reader(stream, limits)
    manifest = reader.json("the manifest")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise TableError(f"the payload is not a {FORMAT_NAME}")
    if manifest.get("version") != VERSION:
        raise TableError(f"payload version {brief(manifest.get('version'))} is not {VERSION}")
    labels = manifest.get("kinds")
    if not isinstance(labels, list):
        raise TableError("'kinds' is not a list")
    tables: list[PayloadTable] = []
    for label in labels:
        try:
            kind = RecordKind(label)
        except (ValueError, TypeError):
            raise TableError(f"unknown record kind {brief(label)}") from None
        if any(t.kind is kind for t in tables):
            raise TableError(f"record kind {label!r} appears twice")
        tables.append(_read_table(reader, kind))
    if stream.read(1):
        raise TableError("unexpected data after the last table")
    return tables


def _read_table(reader: _Reader, kind: RecordKind) -> PayloadTable:
    header = reader.json(f"the {kind.value} table")
    if not isinstance(header, dict) or header.get("kind") != kind.value:
        raise TableError(f"{kind.value}: the table header does not name its kind")
    count, specs = header.get("count"), header.get("columns")
    if type(count) is not int or count < 0:
        raise TableError(f"{kind.value}: 'count' is not a record count")
    reader.count(kind, count)
    if not isinstance(specs, list):
        raise TableError(f"{kind.value}: the table lacks its 'columns'")
    attrs_by_key = attr_for_key(kind)
    table = PayloadTable(kind, count, [], [], [])
    for spec in specs:
        key = spec.get("key") if isinstance(spec, dict) else None
        if not isinstance(key, str) or key not in attrs_by_key:
            raise TableError(f"{kind.value}: unknown column {brief(key if key is not None else spec)}")
        if attrs_by_key[key] in table.names:
            raise TableError(f"{kind.value}: column {key} appears twice")
        width = spec.get("width")
        if type(width) is not int or width not in _WIDTHS:
            raise TableError(f"{kind.value}: column {key}: index width {brief(width)} is not 1, 2 or 4")
        column = reader.json(f"the values of {kind.value} column {key}")
        if not isinstance(column, dict) or not isinstance(column.get("values"), list):
            raise TableError(f"{kind.value}: column {key}: 'values' is not a list")
        try:
            decoded = decode_values(kind, key, column, column["values"])
        except TableError as exc:
            raise TableError(f"{kind.value}: {exc}") from None
        what = f"the index of {kind.value} column {key}"
        length = reader.length(what)
        if length != width * count:  # refused before it is read
            raise TableError(
                f"{kind.value}: column {key}: the index does not fit its {count} records: it holds"
                f" {length} bytes, not {width * count}"
            )
        index = _index(reader.exact(length, what), width, count, len(decoded))
        if index is None:
            raise TableError(f"{kind.value}: column {key}: the index does not fit its {count} records and {len(decoded)} values")
        table.names.append(attrs_by_key[key])
        table.lookups.append([() if key == ENTRIES_KEY else None, *decoded])
        table.indexes.append(index)
    for required in required_keys(kind):
        attr = attrs_by_key[required]
        if count and (attr not in table.names or 0 in table.indexes[table.names.index(attr)]):
            raise TableError(f"{kind.value}: column {required}: a record lacks this required field")
    return table


def _index(raw: bytes | bytearray, width: int, count: int, values: int) -> array | None:  # type: ignore[type-arg]
    index = array(_WIDTHS[width])
    if index.itemsize != width or len(raw) != width * count:
        return None
    index.frombytes(raw)
    if sys.byteorder == "big":
        index.byteswap()
    if count and max(index) > values:
        return None
    return index
