"""Column storage: how a store lays out the fields of one record kind, and its interned values.

Every record attribute becomes one column of a segment (``segment.py``), by the field's type:

- coded (strings, booleans, enumerations): an ``array('I')`` of codes into the store's
  :class:`Intern` table of that attribute. Code 0 is "absent". Each distinct value is kept once
  (interning), and the codes double as the keys of the hash index.
- int (counts and Sddp times): an ``array('q')`` with :data:`ABSENT_INT` for "absent"; a plain
  list when a value does not fit 64 bits.
- object (DMS wall-clock times, nested entry tuples): a list.

A :class:`Schema` is shared by all segments of a store; its intern tables only ever grow, so a
code means the same value in every segment and every version.
"""

from __future__ import annotations

import datetime as dt
import itertools
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from dsc_engine.io.wire import attr_for_key, wire_key
from dsc_engine.models import MaskingRun, RecordKind, SensitiveDataEntry
from dsc_engine.query import ast
from dsc_engine.query.evaluate import compile_over
from dsc_engine.query.fields import (
    ENTRY_FIELDS,
    FIELDS,
    NESTED,
    PRIMARY_TIME,
    FieldSpec,
    FieldType,
)

#: The int-column marker of an absent value.
ABSENT_INT = -(2**63)
IntColumn = array | list  # type: ignore[type-arg]
Column = Any  # array('I') of codes, an IntColumn, or a list of objects

#: Column-name prefix of the per-row entry codes of a nested attribute (``entries.table_name``).
ENTRY_PREFIX = "entries."
#: How many filters an intern table remembers the matching codes of.
_CODESET_CACHE = 512


class Storage:
    CODED = "coded"
    INT = "int"
    OBJECT = "object"



def _identity(value: Any) -> Any:
    return value


class Intern:
    """The append-only value table of one coded attribute: code -> value, value -> code.

    ``values[c]`` is the attribute value of code ``c`` (what filters compare with). Readers may
    use the table while a writer appends: a code is published in ``values`` before any segment
    uses it.
    """

    def __init__(self, spec: FieldSpec) -> None:
        self.spec = spec
        self._codes: dict[Any, int] = {None: 0}
        self.values: list[Any] = [None]
        self._sets: dict[ast.Node, tuple[int, frozenset[int]]] = {}
        self._value_pred = _identity_catalog(spec)

    def __len__(self) -> int:
        return len(self.values)

    def encode(self, values: Iterable[Any]) -> list[int]:
        """The codes of ``values``, interning the new ones (writer only). A list: its items are
        the table's own int objects, so permuting it copies pointers (no int is made)."""
        values = values if isinstance(values, list) else list(values)
        codes = self._codes
        known = len(codes)
        # Each value is hashed once into a batch-local table (cheap for few distinct values),
        # only the distinct ones are looked up in the store's table, and the new ones are
        # numbered in first-seen order; all in C.
        fresh = list(itertools.filterfalse(codes.__contains__, dict.fromkeys(values)))
        if fresh:
            self.values.extend(fresh)
            codes.update(zip(fresh, itertools.count(known)))
        return list(map(codes.__getitem__, values))

    def code(self, value: Any) -> int:
        """The code of an attribute value (0: absent or never interned)."""
        return self._codes.get(value, 0)

    def matching(self, node: ast.Node) -> frozenset[int]:
        """The codes whose value satisfies ``node`` (a filter on this attribute's field only)."""
        if isinstance(node, ast.Compare) and node.op is ast.CompareOp.EQ:
            code = self._codes.get(node.value)
            return frozenset() if code is None or code == 0 else frozenset((code,))
        if isinstance(node, ast.InSet):
            found = (self._codes.get(value) for value in node.values)
            return frozenset(code for code in found if code)
        known = len(self.values)
        checked, codes = self._sets.get(node, (0, frozenset()))
        if checked < known:
            test = compile_over(node, self._value_pred, {})
            values = self.values
            codes = codes | {c for c in range(checked, known) if test(values[c])}
            if len(self._sets) >= _CODESET_CACHE:
                self._sets.clear()
            self._sets[node] = (known, codes)
        return codes


def _identity_catalog(spec: FieldSpec) -> Mapping[str, FieldSpec]:
    """A catalog whose one field reads the value itself (to test a filter on one value)."""
    return {spec.name: attrs.evolve(spec, get=_identity)}


def int_column(values: Sequence[int | None]) -> IntColumn:
    """A compact column of optional ints: ``array('q')`` if every value fits, else a list."""
    if ABSENT_INT in values:
        return list(values)
    try:
        return array("q", [ABSENT_INT if v is None else v for v in values])
    except OverflowError:
        return list(values)


def int_getter(column: IntColumn) -> Callable[[int], int | None]:
    if isinstance(column, list):
        return column.__getitem__

    def get(row: int) -> int | None:
        value = column[row]
        return None if value == ABSENT_INT else value

    return get


@attrs.frozen
class ColumnSpec:
    """One stored column: the attribute it holds and how."""

    attr: str
    storage: str
    field: FieldSpec | None  # the query field reading this attribute, if any
    derived: bool = False  # computed from other attributes (not passed to the constructor)
    entry_attr: str | None = None  # codes of this attribute of the nested entries, per row


class Schema:
    """The column layout of one record kind and its intern tables (shared by a store's segments)."""

    def __init__(self, kind: RecordKind) -> None:
        self.kind = kind
        self.cls: type = kind.record_class
        catalog = FIELDS[kind]
        by_attr = {attr: catalog[key] for key, attr in attr_for_key(kind).items()}
        columns = [
            ColumnSpec(a.name, _storage(by_attr.get(a.name)), by_attr.get(a.name))
            for a in attrs.fields(self.cls)
        ]
        self.entry_field: str | None = next(iter(NESTED[kind]), None)
        self.entry_attr_of = {wire_key(a.name): a.name for a in attrs.fields(SensitiveDataEntry)}
        self.entry_tables: dict[str, Intern] = {}
        if kind is RecordKind.DMS_LOG:
            columns.append(ColumnSpec("db_name", Storage.CODED, catalog["DbName"], derived=True))
            for key, attr in self.entry_attr_of.items():
                self.entry_tables[attr] = Intern(ENTRY_FIELDS[key])
                columns.append(
                    ColumnSpec(f"{ENTRY_PREFIX}{attr}", Storage.OBJECT, None, True, attr)
                )
        self.columns: dict[str, ColumnSpec] = {c.attr: c for c in columns}
        self.attr_of: dict[str, str] = {c.field.name: c.attr for c in columns if c.field}
        self.tables: dict[str, Intern] = {
            c.attr: Intern(c.field)  # type: ignore[arg-type]
            for c in columns
            if c.storage == Storage.CODED
        }
        self.time_attr = self.attr_of[PRIMARY_TIME[kind]]
        self.by_id = kind is RecordKind.MASKING_RUN
        self.entries_attr = self.attr_of[self.entry_field] if self.entry_field else ""

    def storage_of(self, field: str) -> str:
        return self.columns[self.attr_of[field]].storage


_DT_ZERO = dt.datetime(1, 1, 1)
_MICROSECOND = dt.timedelta(microseconds=1)


def negated_time(time: Any) -> Any:
    """The primary time mapped so that newer is smaller (rows are stored ascending in this)."""
    if isinstance(time, dt.datetime):
        return -((time - _DT_ZERO) // _MICROSECOND)
    return -time


def _storage(spec: FieldSpec | None) -> str:
    if spec is None or spec.type in (FieldType.ENTRIES, FieldType.DATETIME):
        return Storage.OBJECT
    # Integers with documented values (Status, SrcType ...) are categories: few distinct values,
    # coded like strings so that they get hash indexes and composite indexes of two columns.
    if spec.type in (FieldType.STRING, FieldType.BOOLEAN) or spec.documented is not None:
        return Storage.CODED
    return Storage.INT


def record_ident(record: Any) -> int:
    """The Id tie-break of a record (masking runs), 0 for kinds without one."""
    return record.id if isinstance(record, MaskingRun) else 0
