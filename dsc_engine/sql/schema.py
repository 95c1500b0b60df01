"""The tables of the SQL backends: one per record kind, its columns told from the field catalog.

A kind's table (``docs/backends.md`` shows the DDL per dialect) has:

- one column per wire field, named by its wire name, of the field type's stored type
  (:data:`STORED`); a field a record lacks is ``NULL``. The kind's required fields are ``NOT NULL``.
- one column per derived field the filters read (DMS ``DbName``), computed at insert.
- a *folded shadow* ``<Name>__folded`` beside every text field: ``str.casefold()`` of the value,
  computed in Python at insert, or ``NULL`` where folding leaves the value as it is (most values:
  the filters then read the column itself). Case-insensitive filters compare the folded needle with
  ``coalesce(<Name>__folded, <Name>)``, so they fold exactly as the memory engine does; SQL
  ``lower()`` is never used (it does not fold 'ß', 'ς' or 'İ' the way ``casefold`` does).
- the list field (``SensitiveDataLog``) as an array of structs (DuckDB ``STRUCT(...)[]``,
  ClickHouse ``Array(Tuple(...))``), each entry with its own fields and folded shadows, so
  conditions on one entry hold in that entry.
- ``_load_seq``: the load number of the record (0, 1, 2 ... across every insert), the last key
  of the order, so that ties come back in load order, loaded last first.

DuckDB also keeps, per kind, a *key table* for every field an API parameter matches by equality
(:class:`KeyTable`: the field's value beside the order keys, in runs sorted by value, so that its
zone maps find a value's records without scanning the kind's table) and the table of those runs
(:class:`RunsTable`); ``keys.py`` maintains and reads them (``docs/backends.md``, "Key tables").

Values are stored as the record holds them (text, 64-bit integers, booleans) except DMS wall-clock
times, kept as 64-bit microseconds since 1970-01-01 00:00:00 with no zone: exact for every year
from 1 to 9999, which ClickHouse's own date types cannot hold.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
from sqlglot.expressions.datatypes import DType

from dsc_engine.api.operations import BY_KIND
from dsc_engine.api.spec import Match
from dsc_engine.models.kinds import RecordKind
from dsc_engine.models.records import Record
from dsc_engine.wire import types
from dsc_engine.wire.batch import DecodedBatch
from dsc_engine.wire.catalog import FIELDS, NESTED, PRIMARY_TIME, FieldSpec, wire_fields, wire_key
from dsc_engine.wire.generated import build_rows


#: The load-number column of every table.
SEQ = "_load_seq"
#: The infix of a kind's key tables: ``audit_log__by_UserName``.
KEYED_BY = "__by_"
#: The suffix of a text column's folded shadow.
FOLDED = "__folded"

_EPOCH = dt.datetime(1970, 1, 1)
_MICROSECOND = dt.timedelta(microseconds=1)


def _micros(value: dt.datetime) -> int:
    """A naive wall-clock time as microseconds since 1970-01-01 00:00:00 (negative before)."""
    return (value.replace(tzinfo=None) - _EPOCH) // _MICROSECOND


def _wall_clock(micros: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=micros)


def _same(value: Any) -> Any:
    return value


@attrs.frozen
class Stored:
    """How values of one field type are stored: the SQL type, the Arrow type name of a bulk
    insert, and the conversions between a model value and a stored value (both for present
    values; ``None`` stays ``None``)."""

    dtype: DType
    arrow: str  # a pyarrow type factory: "string", "int64", "bool_"
    to_sql: Callable[[Any], Any] = _same
    from_sql: Callable[[Any], Any] = _same

    @property
    def converts(self) -> bool:
        return self.to_sql is not _same


#: The one table from field type to stored type; a type missing here cannot be stored (raises).
STORED: Mapping[types.FieldType, Stored] = {
    types.STRING: Stored(DType.TEXT, "string"),
    types.INTEGER: Stored(DType.BIGINT, "int64"),
    types.TIME_MS: Stored(DType.BIGINT, "int64"),
    types.BOOLEAN: Stored(DType.BOOLEAN, "bool_"),
    types.WALL_CLOCK: Stored(DType.BIGINT, "int64", _micros, _wall_clock),
}


def stored(field_type: types.FieldType) -> Stored:
    """The stored type of a field type (``TypeError`` for one the SQL tables do not know)."""
    try:
        return STORED[field_type]
    except KeyError:
        raise TypeError(f"no SQL storage for {field_type!r}") from None


def sql_value(field_type: types.FieldType, value: Any) -> Any:
    """A filter value of a field of ``field_type`` as the table stores it."""
    return stored(field_type).to_sql(value)


@attrs.frozen
class Column:
    """One scalar column: its name, stored type, whether it may be ``NULL``, and the field it
    holds (``folds`` names the text column this one is the folded shadow of)."""

    name: str
    stored: Stored
    nullable: bool = True
    folds: str | None = None


@attrs.frozen
class EntryColumn:
    """The list field: an array of entries, each with ``members`` (fields, then folded shadows)."""

    name: str
    members: tuple[Column, ...]
    entry_class: type
    attrs_: tuple[str, ...]  # the entry attributes of the wire members, in order
    keys: tuple[str, ...]  # their wire names


@attrs.frozen
class FieldColumns:
    """What the filter compiler reads for one field: its column, its folded shadow (text) and
    its type; for the list field, the entries' own catalog of these."""

    column: str
    type: types.FieldType
    folded: str | None = None
    entries: Mapping[str, FieldColumns] | None = None


def _scalar_columns(catalog: Iterable[FieldSpec]) -> tuple[list[Column], list[Column]]:
    plain, shadows = [], []
    for spec in catalog:
        plain.append(Column(spec.name, stored(spec.type), nullable=not spec.required))
        if spec.type is types.STRING:
            shadows.append(Column(spec.name + FOLDED, STORED[types.STRING], folds=spec.name))
    return plain, shadows


def _filter_view(catalog: Mapping[str, FieldSpec], nested: Mapping[str, Mapping[str, FieldSpec]]) -> dict[str, FieldColumns]:
    view = {}
    for name, spec in catalog.items():
        if spec.type is types.ENTRIES:
            view[name] = FieldColumns(name, spec.type, entries=_filter_view(nested[name], {}))
        else:
            folded = name + FOLDED if spec.type is types.STRING else None
            view[name] = FieldColumns(name, spec.type, folded)
    return view


@attrs.frozen
class KeyTable:
    """A key table (DuckDB): the values of one field an API parameter matches by equality, each
    beside its record's order keys, written in runs sorted by the value and then the kind's order
    (newest first), so that a value's records sit together and the column's zone maps skip the
    rest. Records lacking the field have no row. ``folded`` tables (case-insensitive parameters:
    ``OperateType``) hold ``str.casefold()`` of every value, in a column named as its shadow."""

    kind: RecordKind
    field: str
    column: Column
    folded: bool
    order: tuple[Column, ...]

    @property
    def name(self) -> str:
        return f"{self.kind.value}{KEYED_BY}{self.column.name}"

    @property
    def columns(self) -> tuple[Column, ...]:
        return (self.column, *self.order)


@attrs.frozen
class RunsTable:
    """The runs the key tables of a kind hold: records ``first_seq`` to ``last_seq`` (load
    numbers), one row per run. Records numbered after the last run are in no key table yet."""

    kind: RecordKind
    first: str = "first_seq"
    last: str = "last_seq"

    @property
    def name(self) -> str:
        return f"{self.kind.value}__key_runs"

    @property
    def columns(self) -> tuple[Column, ...]:
        integer = STORED[types.INTEGER]
        return (Column(self.first, integer, nullable=False), Column(self.last, integer, nullable=False))


def _key_tables(kind: RecordKind, order: Sequence[Column]) -> tuple[KeyTable, ...]:
    """A key table per field the kind's API operation matches by equality (``api/operations``),
    folded for the case-insensitive ones, in the order the operation lists its parameters."""
    tables: dict[str, KeyTable] = {}
    for parameter in BY_KIND[kind].parameters:
        if parameter.match not in (Match.EXACT, Match.IEQUAL) or parameter.field is None:
            continue
        spec = FIELDS[kind][parameter.field]
        folded = parameter.match is Match.IEQUAL
        name = spec.name + FOLDED if folded else spec.name
        key = Column(name, stored(spec.type), nullable=False, folds=spec.name if folded else None)
        tables.setdefault(name, KeyTable(kind, spec.name, key, folded, tuple(order)))
    return tuple(tables.values())


class Table:
    """The table of one record kind: its columns, order, and how records become rows and back."""

    def __init__(self, kind: RecordKind) -> None:
        self.kind = kind
        self.name = kind.value
        facts = kind.facts
        self._wire = wire_fields(kind)
        self._derived = tuple(spec for spec in FIELDS[kind].values() if spec.derived)
        self.entries: EntryColumn | None = None
        wire: list[Column | EntryColumn] = []
        for spec in self._wire:
            if spec.type is types.ENTRIES:
                assert facts.entry_class is not None
                entry_specs = list(NESTED[kind][spec.name].values())
                members, entry_shadows = _scalar_columns(entry_specs)
                self.entries = EntryColumn(
                    spec.name, (*members, *entry_shadows), facts.entry_class,
                    tuple(s.attr for s in entry_specs), tuple(s.name for s in entry_specs),
                )
                wire.append(self.entries)
            else:
                wire.extend(_scalar_columns([spec])[0])
        derived, _ = _scalar_columns(self._derived)
        _, shadows = _scalar_columns(s for s in (*self._wire, *self._derived) if s.type is not types.ENTRIES)
        #: every column in DDL (and insert) order: wire fields (the list field in its place),
        #: derived fields, folded shadows, the load number
        self.columns: tuple[Column | EntryColumn, ...] = (
            *wire, *derived, *shadows, Column(SEQ, STORED[types.INTEGER], nullable=False),
        )
        #: the columns a record is rebuilt from, in wire order
        self.record_columns = tuple(spec.name for spec in self._wire)
        self._record_attrs = tuple(spec.attr for spec in self._wire)
        self.filter_view: Mapping[str, FieldColumns] = _filter_view(FIELDS[kind], NESTED[kind])
        tie = [wire_key(facts.tie_break)] if facts.tie_break else []
        #: the kind's total order, every key descending (docs/semantics.md §5.1)
        self.order: tuple[str, ...] = (PRIMARY_TIME[kind], *tie, SEQ)
        by_name = {column.name: column for column in self.columns if isinstance(column, Column)}
        #: DuckDB's key tables of the kind and the table of their runs (``keys.py``)
        self.key_tables = _key_tables(kind, [by_name[name] for name in self.order])
        self.runs = RunsTable(kind)
        #: the name of the index on the load number (DuckDB: a page's rows are fetched through it)
        self.seq_index = f"{kind.value}_{SEQ}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    # ------------------------------------------------------------------------------ rows in

    def encode(self, records: Sequence[Record], first_seq: int) -> dict[str, list[Any]]:
        """The column values of ``records`` (loaded as numbers ``first_seq`` ...), by column name:
        every column but the folded shadows, which :func:`fold_array` makes from their columns.
        A :class:`DecodedBatch` (an import's batch) is read column by column, its structs never
        made records; other records attribute by attribute. The values are the same, except that
        a struct's absent value is ``ABSENT`` (``DecodedBatch.columns``) where a record's is
        ``None``: both are stored as ``NULL``."""
        specs = (*self._wire, *self._derived)
        getters = [spec.attr for spec in specs]
        if isinstance(records, DecodedBatch):
            by_attr = records.columns(getters)
            transposed: Sequence[Sequence[Any]] = [by_attr[attr] for attr in getters]
        elif len(getters) > 1:
            rows = list(map(operator.attrgetter(*getters), records))
            transposed = list(zip(*rows)) if rows else [() for _ in getters]
        else:
            transposed = [[getattr(r, getters[0]) for r in records]]
        columns: dict[str, list[Any]] = {}
        for spec, values in zip(specs, transposed):
            if spec.type is types.ENTRIES:
                assert self.entries is not None
                encode_entries = _entries_encoder(self.entries)
                columns[spec.name] = [encode_entries(entries) for entries in values]
                continue
            convert = stored(spec.type)
            columns[spec.name] = (
                [None if v is None else convert.to_sql(v) for v in values] if convert.converts else list(values)
            )
        columns[SEQ] = list(range(first_seq, first_seq + len(records)))
        return columns

    # ----------------------------------------------------------------------------- rows out

    def decoder(self) -> Callable[[Iterable[Sequence[Any]]], list[Record]]:
        """A function turning rows of :attr:`record_columns` into records."""
        build = build_rows(self.kind.record_class, self._record_attrs)
        fixes: list[tuple[int, Callable[[Any], Any]]] = []
        for index, spec in enumerate(self._wire):
            if spec.type is types.ENTRIES:
                assert self.entries is not None
                fixes.append((index, _entries_decoder(self.entries)))
            elif stored(spec.type).converts:
                convert = stored(spec.type).from_sql
                fixes.append((index, lambda v, c=convert: None if v is None else c(v)))  # type: ignore[misc]
        if not fixes:
            return lambda rows: build(rows)

        def decode(rows: Iterable[Sequence[Any]]) -> list[Record]:
            fixed = []
            for row in rows:
                values = list(row)
                for index, fix in fixes:
                    values[index] = fix(values[index])
                fixed.append(values)
            return build(fixed)

        return decode


def fold_array(array: Any) -> Any:
    """The folded shadow of a ``pyarrow`` text column: ``casefold()`` where it changes the value,
    else null. For ASCII text ``casefold`` is ASCII lowering, done by Arrow for the whole column;
    the other values (few) are folded by Python's own ``casefold``."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    lowered = pc.ascii_lower(array)
    shadow = pc.if_else(pc.equal(lowered, array), pa.scalar(None, pa.string()), lowered)
    other = pc.invert(pc.fill_null(pc.string_is_ascii(array), True))
    if not pc.any(other).as_py():
        return shadow
    values = pc.filter(array, other).to_pylist()
    return pc.replace_with_mask(shadow, other, pa.array(fold_column(values), pa.string()))


def fold_column(values: Iterable[str | None]) -> list[str | None]:
    """The folded shadow of text values: ``casefold()`` where it changes the value, else ``None``."""
    out: list[str | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        folded = value.casefold()
        out.append(None if folded == value else folded)
    return out


def _entries_encoder(column: EntryColumn) -> Callable[[Sequence[Any]], list[dict[str, Any]]]:
    """``entries -> their rows`` (member name -> value, folded shadows computed) for the lists of
    one column: an import's equal entries are one record (``codec.LineDecoder``), whose row is
    made once and shared, so each entry record is encoded once per column (by identity: the
    column's lists hold every entry until the rows are made)."""
    made: dict[int, dict[str, Any]] = {}

    def encode(entries: Sequence[Any]) -> list[dict[str, Any]]:
        out = []
        for entry in entries:
            row = made.get(id(entry))
            if row is None:
                row = made[id(entry)] = _encode_entry(column, entry)
            out.append(row)
        return out

    return encode


def _encode_entry(column: EntryColumn, entry: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for attr, key in zip(column.attrs_, column.keys):
        row[key] = getattr(entry, attr)
    for member in column.members:
        if member.folds is not None:
            value = row[member.folds]
            folded = None if value is None else value.casefold()
            row[member.name] = None if folded == value else folded
    return row


def _entries_decoder(column: EntryColumn) -> Callable[[Any], tuple[Any, ...]]:
    build = build_rows(column.entry_class, column.attrs_)
    keys = column.keys

    def decode(entries: Any) -> tuple[Any, ...]:
        if not entries:
            return ()
        rows = [
            tuple(entry[key] for key in keys) if isinstance(entry, Mapping) else tuple(entry[: len(keys)])
            for entry in entries
        ]
        return tuple(build(rows))

    return decode


TABLES: Mapping[RecordKind, Table] = {kind: Table(kind) for kind in RecordKind}
