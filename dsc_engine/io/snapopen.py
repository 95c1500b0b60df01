"""Opening a version 3 snapshot (:mod:`snapstore`): checked whole, then built aside as stores.

Opening checks, in this order, before the first array is allocated: the header against the file
(the directory must end it); the directory's checksum, shape and types; every section's place
(inside the file, before the directory, not overlapping another) and declared length (a whole
number of items, the count the directory implies); then the CRC-32 of every section, read a
megabyte at a time (the file's part of these checks is :mod:`snapfile`'s). Only then are arrays
allocated and filled (``readinto``, no per-value decoding), and checked against each other cheaply
in C: every code below its table's size, every row number inside its segment, offsets ascending,
the primary time present and the rows in contract order, load numbers distinct. A fault anywhere
is a :class:`SnapshotError` naming the section, and nothing is loaded. What these checks cannot
see is a file built on purpose with consistent but wrong indexes: it gives wrong answers for its
own data, never a crash or a read out of bounds.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
import re
import sys
from array import array
from collections.abc import Callable, Collection, Mapping
from typing import Any, BinaryIO

from dsc_engine.errors import RecordError, SnapshotError
from dsc_engine.io.snapfile import SnapshotFile, brief, read_directory, verify
from dsc_engine.io.snapstore import DT_ZERO, INDEX_KINDS, INDEX_NAMES, MICROSECOND
from dsc_engine.models import RecordKind
from dsc_engine.models.records import INT64_MAX, INT64_MIN
from dsc_engine.query.plan import IndexKind
from dsc_engine.store.build import shared_rows
from dsc_engine.store.columns import ABSENT_INT, Intern, Schema
from dsc_engine.store.indexes import PairPostings, Postings, SortedIndex
from dsc_engine.store.segment import Segment
from dsc_engine.store.store import Store
from dsc_engine.store.text import TextIndex
from dsc_engine.wire.codec import entries_from_wire, runs
from dsc_engine.wire.types import Storage

#: Values of a text table decoded at a time (bounds the temporary text).
_DECODE_STEP = 1 << 16

__all__ = ["read_directory", "read_stores", "verify"]


# ---------------------------------------------------------------------------------------------
# Reading: the stores, built from the checked sections
# ---------------------------------------------------------------------------------------------


def read_stores(
    raw: BinaryIO, size: int, head: bytes, kinds: Collection[RecordKind] | None = None
) -> tuple[dict[RecordKind, Store], dict[RecordKind, int]]:
    """Every store of a version 3 file, checked whole (``SnapshotError`` otherwise): the stores
    are new, so nothing of a bad file reaches the caller. With ``kinds``, only those kinds'
    stores are read, and the records of each other kind are counted from the directory (the
    second dict); every section's checksum is still verified, so a file that is bad anywhere is
    refused whichever kinds are asked for."""
    directory, sections = read_directory(raw, size, head)
    verify(raw, sections)
    file = SnapshotFile(raw, sections)
    stores: dict[RecordKind, Store] = {}
    unread: dict[RecordKind, int] = {}
    for kind, entry in _kind_entries(directory):
        if kinds is not None and kind not in kinds:
            rows = entry.get("rows")
            if type(rows) is not int or rows < 0:
                raise SnapshotError(f"{kind.value}: corrupt: the kind lacks its 'rows'")
            if rows:
                unread[kind] = rows
            continue
        try:
            stores[kind] = _read_kind(file, kind, entry)
        except SnapshotError as exc:
            raise SnapshotError(f"{kind.value}: {exc.reason}") from None
    return stores, unread


def _kind_entries(directory: dict[str, Any]) -> list[tuple[RecordKind, dict[str, Any]]]:
    """The directory's record kinds and their entries, each kind once."""
    found: dict[RecordKind, dict[str, Any]] = {}
    for entry in directory["kinds"]:
        label = entry.get("kind") if isinstance(entry, dict) else None
        try:
            kind = RecordKind(label)
        except (ValueError, TypeError):
            raise SnapshotError(f"corrupt: unknown record kind {brief(label)}") from None
        if kind in found:
            raise SnapshotError(f"corrupt: record kind {kind.value!r} appears twice")
        found[kind] = entry
    return list(found.items())


def _read_kind(file: SnapshotFile, kind: RecordKind, entry: dict[str, Any]) -> Store:
    store = Store(kind)
    schema = store.schema
    rows, tables, segments = entry.get("rows"), entry.get("tables"), entry.get("segments")
    if type(rows) is not int or rows < 0 or not isinstance(tables, list) or not isinstance(segments, list):
        raise SnapshotError("corrupt: the kind lacks its 'rows', 'tables' or 'segments'")
    read: set[tuple[object, str]] = set()
    for table in tables:
        attr, is_entry = (table.get("attr"), table.get("entry")) if isinstance(table, dict) else (None, None)
        owner = schema.entry_tables if is_entry is True else schema.tables
        if type(is_entry) is not bool or not isinstance(attr, str) or attr not in owner or (is_entry, attr) in read:
            raise SnapshotError(f"corrupt: unknown or repeated table {brief(attr)}")
        read.add((is_entry, attr))
        owner[attr] = Intern(owner[attr].spec, _table_values(file, table, owner[attr], f"table {attr}"))
    built = []
    total = 0
    for number, segment in enumerate(segments):
        if not isinstance(segment, dict) or type(segment.get("rows")) is not int or segment["rows"] < 1:
            raise SnapshotError(f"corrupt: segment {number} has no row count")
        total += segment["rows"]
        if total > rows:
            raise SnapshotError(f"corrupt: its segments hold more than its {rows} rows")
        built.append(_read_segment(file, schema, segment, f"segment {number}"))
    if total != rows:
        raise SnapshotError(f"corrupt: its segments hold {total} rows, not {rows}")
    _check_load_numbers(built, rows)
    store.adopt(built)
    return store


def _table_values(file: SnapshotFile, table: dict[str, Any], intern: Intern, where: str) -> list[Any]:
    count = table.get("count")
    if type(count) is not int or count < 0:
        raise SnapshotError(f"corrupt: {where} has no value count")
    spec = intern.spec
    if spec.type.json is str:
        offsets = file.array(file.section(table.get("offsets"), "q", f"{where}'s offsets", count + 1), "q")
        text = file.section(table.get("text"), "bytes", f"{where}'s text")
        _check_offsets(offsets, text.length, f"{where}'s offsets")
        return _texts(file.bytes(text), offsets, where)
    values = file.json(file.section(table.get("values"), "json", f"{where}'s values"), f"{where}'s values")
    expected = spec.type.json
    if not isinstance(values, list) or len(values) != count:
        raise SnapshotError(f"corrupt: {where} does not list its {count} values")
    for value in values:
        if type(value) is not expected or (isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX):
            raise SnapshotError(f"corrupt: {where}: {brief(value)} is not a {expected.__name__}")
    if len(set(map(_typed, values))) != count:
        raise SnapshotError(f"corrupt: {where} lists a value twice")
    return [None, *values]


def _typed(value: Any) -> tuple[type, Any]:
    return type(value), value


def _texts(blob: bytes, offsets: array, where: str) -> list[Any]:  # type: ignore[type-arg]
    """The values of a text table: UTF-8 decoded a run of values at a time, then sliced."""
    values: list[Any] = [None]
    count = len(offsets) - 1
    for first in range(0, count, _DECODE_STEP):
        last = min(first + _DECODE_STEP, count)
        base, end = offsets[first], offsets[last]
        try:
            text = blob[base:end].decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise SnapshotError(f"corrupt: {where} is not UTF-8") from None
        starts, stops = offsets[first:last], offsets[first + 1 : last + 1]
        if len(text) == end - base:  # one byte a character: slice the text itself
            shifted = map(base.__rsub__, starts), map(base.__rsub__, stops)
            values.extend(map(text.__getitem__, map(slice, *shifted)))
        else:  # each value on its own (a value must itself be whole UTF-8)
            try:
                values.extend(blob[a:b].decode("utf-8", "surrogatepass") for a, b in zip(starts, stops))
            except UnicodeDecodeError:
                raise SnapshotError(f"corrupt: a value of {where} is not UTF-8") from None
    return values


def _check_offsets(offsets: array, length: int, where: str) -> None:  # type: ignore[type-arg]
    """Offsets from 0 to ``length``, never decreasing (one C pass)."""
    if offsets[0] != 0 or offsets[-1] != length or not all(map(operator.le, offsets, itertools.islice(offsets, 1, None))):
        raise SnapshotError(f"corrupt: {where} do not run from 0 to {length} in order")


def _check_below(items: array, limit: int, where: str) -> None:  # type: ignore[type-arg]
    """Every item (unsigned: never negative) below ``limit``, in C."""
    if items and not _below(items, limit):
        raise SnapshotError(f"corrupt: {where} points outside its {limit} values")


def _below(items: array, limit: int) -> bool:  # type: ignore[type-arg]
    """Whether every unsigned 32-bit item is below ``limit``, without making an int of each.

    The items' bytes are compared a plane at a time, most significant first, with the digits of
    ``limit - 1``: each plane is a strided slice of the raw bytes. While every item still equals
    the digits so far, ``translate`` with ``delete`` finds any byte above its digit. Once only
    some do: when they are few (found by ``re.finditer`` over the marked plane), they are compared
    one by one; else they are followed as a mask (one byte an item, read as one big int): an item
    is above the limit when it is still tied and its byte on this plane is above the digit (the
    AND of two masks), and it stays tied when its byte equals the digit."""
    if limit > 0xFFFFFFFF:
        return True
    if limit <= 0:
        return not items
    raw = items.tobytes()
    order = (3, 2, 1, 0) if sys.byteorder == "little" else (0, 1, 2, 3)
    count = len(items)
    digits = (limit - 1).to_bytes(4, "big")
    tied: int | None = None  # None: every item equals the digits so far
    for level, (position, digit) in enumerate(zip(order, digits)):
        if digits[level:].count(0xFF) == 4 - level:
            return True  # no item can be above the limit on the planes left
        plane = raw[position::4]
        if tied is None:
            if plane.translate(None, _BYTES[: digit + 1]):
                return False  # an item is above the limit already on this plane
            if level == 3:
                return True
            if digit == 0:
                continue  # no byte above 0: every item is still tied (row numbers' high plane)
            same = plane.count(digit)
            if same == count:
                continue  # every item equals the digit: the next plane decides
            if same <= count >> 5:
                marks = plane.translate(_MARKS[digit])
                return all(items[match.start()] < limit for match in _ONE.finditer(marks))
            tied = int.from_bytes(plane.translate(_MARKS[digit]), "little")
        else:
            if tied & int.from_bytes(plane.translate(_ABOVE[digit]), "little"):
                return False  # a tied item is above its digit here
            if level == 3:
                return True
            tied &= int.from_bytes(plane.translate(_MARKS[digit]), "little")
        if not tied:
            return True  # every item is below the limit on this plane
    return True  # unreachable: the last plane returns above


_BYTES = bytes(range(256))
#: For each byte value, the table marking that value with 1 and every other with 0.
_MARKS = [bytes(digit) + b"\x01" + bytes(255 - digit) for digit in range(256)]
#: For each byte value, the table marking every value above it with 1 and the others with 0.
_ABOVE = [bytes(digit + 1) + b"\x01" * (255 - digit) for digit in range(256)]
_ONE = re.compile(b"\x01")


def _read_segment(file: SnapshotFile, schema: Schema, entry: dict[str, Any], where: str) -> Segment:
    n = entry["rows"]
    seq = file.array(file.section(entry.get("seq"), "q", f"{where}'s load numbers", n), "q")
    listed = entry.get("columns")
    if not isinstance(listed, list):
        raise SnapshotError(f"corrupt: {where} lacks its columns")
    columns: dict[str, Any] = {}
    for column in listed:
        attr = column.get("attr") if isinstance(column, dict) else None
        if not isinstance(attr, str) or attr not in schema.columns or attr in columns:
            raise SnapshotError(f"corrupt: {where} has an unknown or repeated column {brief(attr)}")
        columns[attr] = _read_column(file, schema, attr, column, n, f"{where} column {attr}")
    missing = [attr for attr in schema.columns if attr not in columns]
    if missing:
        raise SnapshotError(f"corrupt: {where} lacks the column {missing[0]}")
    _check_order(schema, columns, seq, where)
    segment = Segment(schema, seq, columns)
    indexes = entry.get("indexes")
    if not isinstance(indexes, list):
        raise SnapshotError(f"corrupt: {where} lacks its index list")
    for index in indexes:
        kind = INDEX_KINDS.get(str(index.get("kind"))) if isinstance(index, dict) else None
        attr = index.get("attr") if isinstance(index, dict) else None
        parts = index.get("sections") if isinstance(index, dict) else None
        if kind is None or not isinstance(attr, str) or not isinstance(parts, list) or len(parts) != 2:
            raise SnapshotError(f"corrupt: {where} lists an index it cannot read: {brief(index)}")
        label = f"{where} {INDEX_NAMES[kind]} of {attr}"
        segment.adopt(kind, attr, _read_index(file, schema, segment, kind, attr, parts, label))
    return segment


def _read_column(file: SnapshotFile, schema: Schema, attr: str, column: dict[str, Any], n: int, where: str) -> Any:
    spec = schema.columns[attr]
    form = column.get("form")
    if spec.storage == Storage.CODED and form == "codes":
        codes = file.array(file.section(column.get("data"), "I", where, n), "I")
        _check_below(codes, len(schema.tables[attr]), where)
        return codes
    if spec.storage == Storage.INT and form == "int":
        return file.array(file.section(column.get("data"), "q", where, n), "q")
    if spec.storage == Storage.INT and form == "json":
        values = file.json(file.section(column.get("data"), "json", where), where)
        if not isinstance(values, list) or len(values) != n or not all(
            v is None or (type(v) is int and INT64_MIN <= v <= INT64_MAX) for v in values
        ):
            raise SnapshotError(f"corrupt: {where} is not a list of {n} integers")
        return values
    if spec.entry_attr is not None and form == "code-lists":
        starts = file.array(file.section(column.get("starts"), "q", f"{where}'s starts", n + 1), "q")
        codes_section = file.section(column.get("codes"), "I", f"{where}'s codes")
        _check_offsets(starts, codes_section.length // 4, f"{where}'s starts")
        codes = file.array(codes_section, "I")
        _check_below(codes, len(schema.entry_tables[spec.entry_attr]), where)
        return shared_rows(runs(codes, starts))
    if attr == schema.entries_attr and form == "entries":
        wire = file.json(file.section(column.get("entries"), "json", f"{where}'s entries"), where)
        try:
            distinct = entries_from_wire(schema.kind, wire)
        except RecordError as exc:
            raise SnapshotError(f"corrupt: {where}: entry {exc.key}: {exc.reason}") from None
        starts = file.array(file.section(column.get("starts"), "q", f"{where}'s starts", n + 1), "q")
        ids_section = file.section(column.get("ids"), "I", f"{where}'s entry numbers")
        _check_offsets(starts, ids_section.length // 4, f"{where}'s starts")
        ids = file.array(ids_section, "I")
        _check_below(ids, len(distinct), where)
        return runs(tuple(map(distinct.__getitem__, ids)), starts)
    if spec.storage == Storage.OBJECT and form == "micros":
        micros = file.array(file.section(column.get("data"), "q", where, n), "q")
        if micros and (max(micros) >= _MAX_MICROS or any(ABSENT_INT < m < 0 for m in micros)):
            raise SnapshotError(f"corrupt: {where} holds a time outside years 1 to 9999")
        if ABSENT_INT in micros:
            return [None if m == ABSENT_INT else DT_ZERO + dt.timedelta(microseconds=m) for m in micros]
        zero = itertools.repeat(0)
        return list(map(DT_ZERO.__add__, map(dt.timedelta, zero, zero, micros)))  # (days, seconds, µs)
    raise SnapshotError(f"corrupt: {where} is stored as {brief(form)}, which this column cannot be")


_MAX_MICROS = (dt.datetime(9999, 12, 31, 23, 59, 59, 999999) - DT_ZERO) // MICROSECOND + 1


def _check_order(schema: Schema, columns: dict[str, Any], seq: array, where: str) -> None:  # type: ignore[type-arg]
    """The primary time (and the tie-break) present in every row, and the rows in contract
    order: time descending, then the tie-break descending, then load number descending."""
    times = columns[schema.time_attr]
    ids = columns[schema.tie_attr] if schema.tie_attr else None
    for column, name in ((times, schema.time_attr), (ids, schema.tie_attr)):
        if column is None:
            continue
        if (ABSENT_INT in column) if isinstance(column, array) else (None in column):
            raise SnapshotError(f"corrupt: {where}: a row lacks the required {name}")
    later = itertools.islice(times, 1, None)
    if not all(map(operator.ge, times, later)):
        raise SnapshotError(f"corrupt: {where}: the rows are not in order of time")
    # the rows that share their time with the next row, and that next row (each compared in C)
    ties = list(itertools.compress(range(len(times) - 1), map(operator.eq, times, itertools.islice(times, 1, None))))
    nexts = list(map((1).__add__, ties))
    keys: list[Any] = [ids, seq] if ids is not None else [seq]
    this = zip(*(map(column.__getitem__, ties) for column in keys))
    after = zip(*(map(column.__getitem__, nexts) for column in keys))
    for row in itertools.compress(ties, map(operator.le, this, after)):
        raise SnapshotError(f"corrupt: {where}: rows {row} and {row + 1} of one time are out of order")


def _check_load_numbers(segments: list[Segment], rows: int) -> None:
    seen: set[int] = set()
    for segment in segments:
        if segment.n and (min(segment.seq) < 0 or max(segment.seq) >= rows):
            raise SnapshotError(f"corrupt: a load number lies outside 0 to {rows - 1}")
        seen.update(segment.seq)
    if len(seen) != rows:
        raise SnapshotError("corrupt: two rows have one load number")


def _read_index(
    file: SnapshotFile, schema: Schema, segment: Segment, kind: IndexKind, attr: str, parts: list[Any], where: str
) -> Any:
    """The index of ``kind`` on ``attr``, read from its two sections (``parts``) by its kind's reader."""
    return _INDEX_READERS[kind](file, schema, segment.n, attr, parts, where)


def _text_index(file: SnapshotFile, schema: Schema, n: int, attr: str, parts: list[Any], where: str) -> TextIndex:
    if attr not in schema.tables or schema.tables[attr].spec.type.json is not str:
        raise SnapshotError(f"corrupt: {where}: not a text column")
    starts = file.array(file.section(parts[0], "q", f"{where}'s starts", n + 1), "q")
    blob = file.section(parts[1], "bytes", f"{where}'s text")
    _check_offsets(starts, blob.length, f"{where}'s starts")
    return TextIndex(file.bytes(blob), starts)


def _sorted_index(file: SnapshotFile, schema: Schema, n: int, attr: str, parts: list[Any], where: str) -> SortedIndex:
    if attr not in schema.columns or schema.columns[attr].storage != Storage.INT:
        raise SnapshotError(f"corrupt: {where}: not an integer column")
    rows_section = file.section(parts[1], "I", f"{where}'s rows")
    count = rows_section.length // 4
    if file.type_of(parts[0], f"{where}'s values") == "json":
        values: Any = file.json(file.section(parts[0], "json", f"{where}'s values"), where)
        if not isinstance(values, list) or len(values) != count or not all(type(v) is int for v in values):
            raise SnapshotError(f"corrupt: {where}: the values are not {count} integers")
    else:
        values = file.array(file.section(parts[0], "q", f"{where}'s values", count), "q")
    if not all(map(operator.le, values, itertools.islice(values, 1, None))):
        raise SnapshotError(f"corrupt: {where}: the values are not in order")
    rows = file.array(rows_section, "I")
    _check_below(rows, n, where)
    return SortedIndex(values, rows)


def _pair_postings(
    file: SnapshotFile, tables: Mapping[str, Intern], n: int, attr: str, parts: list[Any], where: str
) -> PairPostings:
    """A composite index: the rows of each pair of codes of two coded columns (``first|second``)."""
    first, _, second = attr.partition("|")
    if first not in tables or second not in tables or first == second:
        raise SnapshotError(f"corrupt: {where}: not two columns of one kind of index")
    spans_section = file.section(parts[0], "q", f"{where}'s spans")
    if spans_section.length % 32:
        raise SnapshotError(f"corrupt: {where}: its spans are not whole (code, code, start, stop) items")
    rows_section = file.section(parts[1], "I", f"{where}'s rows")
    flat = file.array(spans_section, "q")
    count = rows_section.length // 4
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    for a, b, start, stop in zip(*[iter(flat)] * 4):
        if not 0 <= start <= stop <= count or (a, b) in spans:
            raise SnapshotError(f"corrupt: {where}: a span lies outside its {count} rows or repeats")
        spans[a, b] = (start, stop)
    rows = file.array(rows_section, "I")
    _check_below(rows, n, where)
    return PairPostings(spans, rows)


def _postings(
    file: SnapshotFile, tables: Mapping[str, Intern], what: str, n: int, attr: str, parts: list[Any], where: str
) -> Postings:
    """A hash or entry index: the rows of each code of ``attr`` (``what`` it must be, for the message)."""
    if attr not in tables:
        raise SnapshotError(f"corrupt: {where}: not {what}")
    codes = len(tables[attr])
    starts_section = file.section(parts[0], "q", f"{where}'s starts")
    if not 1 <= starts_section.length // 8 <= codes + 1:
        raise SnapshotError(f"corrupt: {where}: its starts do not fit its {codes} codes")
    rows_section = file.section(parts[1], "I", f"{where}'s rows")
    starts = file.array(starts_section, "q")
    _check_offsets(starts, rows_section.length // 4, f"{where}'s starts")
    rows = file.array(rows_section, "I")
    _check_below(rows, n, where)
    return Postings(starts, rows)


def _hash_index(file: SnapshotFile, schema: Schema, n: int, attr: str, parts: list[Any], where: str) -> Postings:
    return _postings(file, schema.tables, "a coded column", n, attr, parts, where)


def _entry_index(file: SnapshotFile, schema: Schema, n: int, attr: str, parts: list[Any], where: str) -> Postings:
    return _postings(file, schema.entry_tables, "an entry attribute", n, attr, parts, where)


def _pair_index(file: SnapshotFile, schema: Schema, n: int, attr: str, parts: list[Any], where: str) -> PairPostings:
    return _pair_postings(file, schema.tables, n, attr, parts, where)


def _entry_pair_index(
    file: SnapshotFile, schema: Schema, n: int, attr: str, parts: list[Any], where: str
) -> PairPostings:
    return _pair_postings(file, schema.entry_tables, n, attr, parts, where)


_IndexReader = Callable[[SnapshotFile, Schema, int, str, list[Any], str], Any]
#: The reader of each index kind a snapshot holds (``snapstore.INDEX_NAMES``): one table, so a
#: kind without a reader is a ``KeyError``, never read with another kind's layout.
_INDEX_READERS: Mapping[IndexKind, _IndexReader] = {
    IndexKind.HASH: _hash_index,
    IndexKind.SORTED: _sorted_index,
    IndexKind.ENTRY: _entry_index,
    IndexKind.PAIR: _pair_index,
    IndexKind.ENTRY_PAIR: _entry_pair_index,
    IndexKind.TEXT: _text_index,
}
