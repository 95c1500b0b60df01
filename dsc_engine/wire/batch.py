"""A batch of one kind's records on its way to a SQL table, some of them still the import's structs.

The bulk import's typed fast path (``codec.line_decoder``) decodes a JSON Lines line into a
``msgspec`` struct. The in-memory store reads a batch of structs column by column, never making
their records; a SQL table takes a batch as columns too (``sql/schema.Table.encode`` builds the
Arrow table of the insert from them). A :class:`DecodedBatch` holds a batch in load order, each
item either a record (the precise path's: a line the fast path declined, a snapshot's record) or
a struct, and gives its columns (:meth:`DecodedBatch.columns`: attribute -> values, each value
the one the item's record holds) without making a record of a struct: a struct is made its
record only when one is asked for (an item of the sequence, such as for a reject's text).

A struct holds only what the fast path accepted: Unicode text with a UTF-8 form (``msgspec``
refuses a lone surrogate escape, and the line then takes the precise path), of its own kind's
struct type. :meth:`DecodedBatch.records` gives the items that are records, which the source
checks as it checks any record.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator, Sequence
from typing import Any, overload

import msgspec

from dsc_engine.models.kinds import RecordKind
from dsc_engine.models.records import Record
from dsc_engine.wire.codec import ABSENT, LineDecoder, absent_defaults

#: An absent exact value is left :data:`ABSENT` in a batch's columns, read as ``None``: which is
#: what a record holds there (an optional field's default) for every kind.
if any(default is not None for kind in RecordKind for default in absent_defaults(kind).values()):
    raise RuntimeError("an optional exact field has a default other than None: DecodedBatch.columns reads it as None")


class DecodedBatch(Sequence[Record]):
    """Records of ``kind`` in load order, each a record or a struct of ``decoder`` (the import's
    line decoder of the kind, which remembers equal entries as one record for the whole import).
    As a sequence, its items are records (a struct's made when asked for)."""

    def __init__(self, kind: RecordKind, items: list[Any], decoder: LineDecoder) -> None:
        if decoder.kind is not kind:
            raise ValueError(f"a {decoder.kind.value} decoder cannot read a batch of {kind.value} records")
        self.kind = kind
        self.items = items
        self._decoder = decoder
        #: whether each item is a struct (``isinstance`` mapped in C)
        self._structs = list(map(isinstance, items, itertools.repeat(msgspec.Struct)))

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Record]: ...
    def __getitem__(self, index: int | slice) -> Record | Sequence[Record]:
        if isinstance(index, slice):
            return [self._record(item) for item in self.items[index]]
        return self._record(self.items[index])

    def __iter__(self) -> Iterator[Record]:
        return map(self._record, self.items)

    def _record(self, item: Any) -> Record:
        return self._decoder.convert(item) if isinstance(item, msgspec.Struct) else item  # type: ignore[no-any-return]

    def records(self) -> Iterator[tuple[int, Any]]:
        """``(place in the batch, item)`` of each item that is not a struct (a struct holds only
        what the fast path accepted, see the module docstring)."""
        return itertools.compress(enumerate(self.items), map(operator.not_, self._structs))

    def columns(self, attributes: Sequence[str]) -> dict[str, Sequence[Any]]:
        """``{attribute: the value of each item, in order}`` for ``attributes`` (the kind's wire
        attributes and derived ones), each value the one the item's record holds, except that a
        struct's absent value of an exact field stays :data:`ABSENT` (its record holds ``None``,
        the field's default, checked when this module is imported), for the caller to find only
        where it must (Arrow refuses the marker in C, ``sql/source.py``; looking for it in every
        column in Python took ~5% of an import). Consecutive structs are read column by column
        (``LineDecoder.columns``: DMS times parsed, entries made records, derived attributes
        computed); records attribute by attribute."""
        if not self.items:
            return {attr: [] for attr in attributes}
        if all(self._structs):
            return self._struct_columns(self.items, attributes)
        runs = itertools.groupby(zip(self._structs, self.items), operator.itemgetter(0))
        parts = [
            (self._struct_columns if structs else _record_columns)([item for _, item in run], attributes)
            for structs, run in runs
        ]
        if len(parts) == 1:
            return parts[0]
        return {attr: list(itertools.chain.from_iterable(part[attr] for part in parts)) for attr in attributes}

    def _struct_columns(self, structs: list[Any], attributes: Sequence[str]) -> dict[str, Sequence[Any]]:
        read = self._decoder.columns(structs)
        return {attr: read[attr] for attr in attributes}


def _record_columns(records: list[Any], attributes: Sequence[str]) -> dict[str, Sequence[Any]]:
    if len(attributes) == 1:
        return {attributes[0]: [getattr(record, attributes[0]) for record in records]}
    rows = list(map(operator.attrgetter(*attributes), records))
    return dict(zip(attributes, zip(*rows))) if rows else {attr: () for attr in attributes}


__all__ = ["DecodedBatch"]
