"""A kind's records as dictionary-encoded columns: the compact, fast-loading snapshot table.

A table is ``{"count": N, "columns": [COLUMN, ...]}``, one column per wire key that any record
has. A column lists each distinct wire value once (``values``) and, per record in load order, the
position of its value (``index``: base64 of little-endian unsigned 32-bit integers; 0 means
absent, ``i`` means ``values[i - 1]``). ``SensitiveDataLog`` adds a level: ``entries`` lists each
distinct entry object once and each of its ``values`` is a list of entry positions.

Loading checks everything a wire decode checks, but once per distinct value instead of once per
record: strings, integers (within 64 bits) and booleans by their exact JSON type, DMS times with
the wire's parser, and entries through the wire codec itself. A required field must be present
in every record.
"""

from __future__ import annotations

import base64
import binascii
import reprlib
import sys
from array import array
from collections.abc import Callable, Sequence
from typing import Any

from dsc_engine.errors import RecordError, SnapshotError
from dsc_engine.models import RecordKind
from dsc_engine.models.records import INT64_MAX, INT64_MIN, Record
from dsc_engine.wire import types
from dsc_engine.wire.catalog import FIELDS, attr_for_key, required_keys
from dsc_engine.wire.codec import entries_from_wire, to_wire, wire_keys
from dsc_engine.wire.times import parse_dms_time

ENTRIES_KEY = "SensitiveDataLog"
_INDEX_TYPE = "I"



class TableError(SnapshotError):
    """A table does not decode; the message says which column and why."""


def brief(value: object) -> str:
    """``repr`` of a value from a file, kept short: a long or deeply nested value is abridged
    (``[[[[[[...]]]]]]``) instead of filling the message or exhausting the stack."""
    return reprlib.repr(value)


def _pack(index: array) -> str:  # type: ignore[type-arg]
    if sys.byteorder == "big":
        index = array(_INDEX_TYPE, index)
        index.byteswap()
    return base64.b64encode(index.tobytes()).decode("ascii")


def _unpack(text: object, count: int, limit: int, key: str) -> array:  # type: ignore[type-arg]
    if not isinstance(text, str):
        raise TableError(f"column {key}: index is not a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise TableError(f"column {key}: index is not base64: {exc}") from None
    index = array(_INDEX_TYPE)
    if index.itemsize != 4 or len(raw) != 4 * count:
        raise TableError(f"column {key}: index holds {len(raw)} bytes, not 4 per record ({count})")
    index.frombytes(raw)
    if sys.byteorder == "big":
        index.byteswap()
    if count and max(index) > limit:
        raise TableError(f"column {key}: index points past its {limit} values")
    return index


def _distinct(values: Sequence[Any], token: Callable[[Any], Any]) -> tuple[list[Any], array]:  # type: ignore[type-arg]
    """The distinct values in first-seen order and the 1-based position of each (0: absent)."""
    seen: dict[Any, int] = {}
    uniques: list[Any] = []
    index = array(_INDEX_TYPE)
    for value in values:
        if value is None:
            index.append(0)
            continue
        key = token(value)
        position = seen.get(key)
        if position is None:
            uniques.append(value)
            position = seen[key] = len(uniques)
        index.append(position)
    return uniques, index


def _typed(value: Any) -> tuple[type, Any]:
    return type(value), value  # True and 1 stay apart


def _entry_token(entry: Any) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(entry.items()))  # an entry's wire values are all strings


def encode_table(kind: RecordKind, records: Sequence[Record]) -> dict[str, Any]:
    """The column table of ``records`` (all of ``kind``, in load order)."""
    wires = [to_wire(record) for record in records]
    columns: list[dict[str, Any]] = []
    for key in wire_keys(kind):
        cells = [wire.get(key) for wire in wires]
        if all(cell is None for cell in cells):
            continue
        if key == ENTRIES_KEY:
            entries, _ = _distinct([e for cell in cells for e in cell or ()], _entry_token)
            positions = {_entry_token(e): i for i, e in enumerate(entries)}
            lists = [None if not cell else [positions[_entry_token(e)] for e in cell] for cell in cells]
            values, index = _distinct(lists, tuple)
            columns.append({"key": key, "entries": entries, "values": values, "index": _pack(index)})
        else:
            values, index = _distinct(cells, _typed)
            columns.append({"key": key, "values": values, "index": _pack(index)})
    return {"count": len(records), "columns": columns}


def decode_table(kind: RecordKind, table: object, most: int) -> list[Record]:
    """The records of a column table, in load order; :class:`TableError` if it is not valid or
    counts more than ``most`` records (what the file can hold)."""
    if not isinstance(table, dict) or not isinstance(table.get("columns"), list):
        raise TableError("table lacks its 'columns'")
    count = table.get("count")
    if type(count) is not int or count < 0:
        raise TableError("table 'count' is not a record count")
    if count > most:
        raise TableError(
            f"its 'count' of {count} records is more than the payload can hold ({most} at most: one"
            " record per byte of the payload as stored)"
        )
    attrs_by_key = attr_for_key(kind)
    names: list[str] = []
    cells: list[list[Any]] = []
    for column in table["columns"]:
        key = column.get("key") if isinstance(column, dict) else None
        if not isinstance(key, str) or key not in attrs_by_key:
            raise TableError(f"unknown column {brief(key if key is not None else column)}")
        if attrs_by_key[key] in names:
            raise TableError(f"column {key} appears twice")
        values = column.get("values")
        if not isinstance(values, list):
            raise TableError(f"column {key}: 'values' is not a list")
        decoded = decode_values(kind, key, column, values)
        index = _unpack(column.get("index"), count, len(decoded), key)
        absent: Any = () if key == ENTRIES_KEY else None
        lookup = [absent, *decoded]
        names.append(attrs_by_key[key])
        cells.append([lookup[i] for i in index])
    for required in required_keys(kind):
        attr = attrs_by_key[required]
        if count and (attr not in names or None in cells[names.index(attr)]):
            raise TableError(f"column {required}: a record lacks this required field")
    cls = kind.record_class
    return [cls(**dict(zip(names, row))) for row in (zip(*cells) if cells else ((),) * count)]


def decode_values(kind: RecordKind, key: str, column: dict[str, Any], values: list[Any]) -> list[Any]:
    spec = FIELDS[kind][key]
    if key == ENTRIES_KEY:
        entries = column.get("entries")
        if not isinstance(entries, list):
            raise TableError(f"column {key}: 'entries' is not a list")
        try:
            decoded = [entries_from_wire(kind, [entry])[0] for entry in entries]
        except RecordError as exc:
            raise TableError(f"column {key}{exc.key.removeprefix('[0]')}: {exc.reason}") from None
        out = []
        for positions in values:
            if not isinstance(positions, list) or not all(
                type(p) is int and 0 <= p < len(decoded) for p in positions
            ):
                raise TableError(f"column {key}: an entry list points past its {len(decoded)} entries")
            out.append(tuple(decoded[p] for p in positions))
        return out
    if spec.type is types.WALL_CLOCK:
        try:
            return [parse_dms_time(value) for value in values]
        except ValueError:
            for value in values:  # the first at fault, shown in brief (it may be any JSON value)
                try:
                    parse_dms_time(value)
                except ValueError:
                    raise TableError(f"column {key}: {brief(value)} is not a 'yyyy-MM-dd HH:mm:ss' time") from None
            raise
    expected = spec.type.json
    for value in values:
        if type(value) is not expected:
            raise TableError(f"column {key}: {brief(value)} is not a {expected.__name__}")
        if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
            raise TableError(f"column {key}: an integer beyond the signed 64-bit range")
    return values
