"""The record-source seam: what the API layer asks of wherever the records live.

A :class:`RecordSource` holds the records of one kind and answers a filter AST in the kind's
total order (newest first by the primary time, then the tie-break, then the record loaded last,
``docs/semantics.md`` §5.1): one :class:`Page` of it with the true total, the newest record of
each value of a field (RuleAggQuery), a count, every record in order (exports) and the plan it
runs (``explain``), how many hold each value of a field (``count_by``, the shell's ``count by``),
and every record in load order (snapshots). The in-memory store (``dsc_engine.store``) is one implementation; the API
layer, imports and exports need nothing else from a source.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import attrs

from dsc_engine.errors import StoreError
from dsc_engine.models.kinds import RecordKind
from dsc_engine.models.records import Record
from dsc_engine.query import ast
from dsc_engine.wire.catalog import COUNTABLE, FIELDS, NESTED, FieldSpec


@attrs.define
class Listing:
    """The records of one listing (a file read by the importer: newest first, as the service
    lists them, ``docs/semantics.md`` §5.1) inserted in several batches: the first record listed
    is the last load among them. A source numbers a listing's records downward from ``top``,
    fixed at its first batch; ``count`` says how many it has numbered."""

    top: int | None = None
    count: int = 0


@attrs.frozen
class Page:
    """One page of an ordered result: the true ``total`` and the records of the slice
    ``[offset, offset + limit)`` (``limit=None``: to the end)."""

    total: int
    records: Sequence[Record]
    offset: int = 0
    limit: int | None = None

    @property
    def page(self) -> int:
        """The 1-based page number of the slice, for page-sized slices."""
        return 1 if not self.limit else self.offset // self.limit + 1

    @property
    def page_size(self) -> int | None:
        return self.limit


class RecordSource(Protocol):
    """The records of one kind, answering filter ASTs in the kind's total order."""

    @property
    def kind(self) -> RecordKind: ...

    def __len__(self) -> int:
        """How many records the source holds."""

    def insert(self, records: Iterable[Record], *, listing: Listing | None = None) -> int:
        """Append records of this kind in load order (one atomic batch); how many. With
        ``listing``, the records continue that listing: they load before the ones of its earlier
        batches, the first of them last (a source that cannot do so raises ``StoreError``)."""

    def loading(self) -> contextlib.AbstractContextManager[object]:
        """A reentrant lock that a load holds while it looks its records up among the held ones
        and inserts them, so that two loads of the same records at once do not both find them
        new: one per in-memory store; for a SQL source, one per database in this process (a
        DuckDB file, a chDB database, a ClickHouse server's database: two engines over it share
        it). Queries never wait for it. A source that takes no load (a database opened
        read-only) raises ``BackendError`` here, before the load reads anything."""

    def end_listing(self, listing: Listing) -> None:
        """No batch will continue ``listing``: its records are final (a source that files them
        away, such as DuckDB's key tables, may do so now)."""

    def check(self, records: Sequence[Record]) -> None:
        """Raise ``StoreError`` if :meth:`insert` would refuse ``records`` for what they hold
        (another kind, text the source cannot store); store nothing. A strict import checks
        every kind's batch before it inserts any, so a refusal leaves nothing loaded."""

    def query(
        self, node: ast.Node, offset: int = 0, limit: int | None = 10, *, distinct: str | None = None
    ) -> Page:
        """The records matching ``node`` in order, sliced; with ``distinct`` (a field name) only
        the newest record of each value of that field counts (records lacking it form one group)."""

    def count(self, node: ast.Node) -> int:
        """How many records match ``node``."""

    def iter_ordered(self, node: ast.Node) -> Iterator[Record]:
        """Every record matching ``node``, in order."""

    def count_by(self, node: ast.Node, field: str) -> list[tuple[Any, int]]:
        """How many records matching ``node`` hold each value of ``field`` (a catalog name, or
        one of the kind's entry fields: :func:`counted`; ``None``: absent), in :func:`most_first`
        order; an unknown field is a ``StoreError``."""

    def explain(self, node: ast.Node) -> str:
        """The plan the source runs for ``node``, readably."""

    def records_in_load_order(self) -> Sequence[Record]:
        """Every record in the order it was loaded (what a snapshot keeps)."""


def most_first(counts: Mapping[Any, int]) -> list[tuple[Any, int]]:
    """``(value, count)`` pairs, the most frequent first, then by value (numbers as numbers,
    times as times, text as text, a list of entries by its text), absent last: the one order of
    every source's ``count_by``."""
    return sorted(counts.items(), key=lambda item: (-item[1], *_tie_key(item[0])))


def _tie_key(value: Any) -> tuple[bool, Any]:
    """How tied values of one field order: by value, the absent one last (one field's values are
    of one type; a list of entries, whose items do not order, by its text)."""
    if value is None:
        return True, ""
    return False, value if isinstance(value, int | str | dt.datetime) else str(value)


def count_field(kind: RecordKind, field: str) -> tuple[FieldSpec, bool]:
    """The field ``count_by`` counts by (:data:`~dsc_engine.wire.catalog.COUNTABLE`), and
    whether it is a field of the kind's entries; an unknown one is a ``StoreError``."""
    spec = COUNTABLE[kind].get(field)
    if spec is None:
        entries = " or their entries" if NESTED[kind] else ""
        raise StoreError(kind.value, "count_by", f"{field!r} is not a field of {kind.value} records{entries}")
    return spec, field not in FIELDS[kind]


def counted(kind: RecordKind, field: str) -> Callable[[Record], Iterable[Any]]:
    """The values one record counts under in ``count_by(field)``: its value of a field of its
    own (``None``: absent); for a field of its entries, each distinct value they hold, once,
    or ``None`` once when none holds one (no entry, or none with the field: ``docs/cli.md``)."""
    spec, entry = count_field(kind, field)
    if not entry:
        get = spec.get
        return lambda record: (get(record),)
    entries = FIELDS[kind][next(iter(NESTED[kind]))].get

    def values(record: Record) -> Iterable[Any]:
        held = {value for e in entries(record) if (value := spec.get(e)) is not None}
        return held or (None,)

    return values
