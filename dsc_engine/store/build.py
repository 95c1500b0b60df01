"""Building columns: a kind's attributes read off records (or the wire layer's structs) and coded,
columns permuted into contract order, and columns of several parts joined.

Used by ``segment.py`` (building and merging segments) and ``store.py`` (bulk loads).
"""

from __future__ import annotations

import itertools
import operator
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dsc_engine.store.columns import ABSENT_INT, Column, Schema
from dsc_engine.wire.types import Storage


def permuter(order: list[int]) -> Callable[[Column], Column]:
    """``column -> column[order]`` (an array stays an array of its type); no copy when ``order``
    is the identity, one reversed slice when it is the reverse (files sorted either way)."""
    n = len(order)
    if all(map(operator.eq, order, range(n))):
        return _identity
    if all(map(operator.eq, order, range(n - 1, -1, -1))):
        return operator.itemgetter(slice(None, None, -1))

    gather = operator.itemgetter(*order)  # one C call per column (n >= 2 here: a tuple back)

    def permute(column: Column) -> Column:
        gathered = gather(column)
        return array(column.typecode, gathered) if isinstance(column, array) else list(gathered)

    return permute


def _identity(column: Column) -> Column:
    return column


#: ``objects -> {attribute: its values in order}``: how a bulk load may read a batch's attributes
#: a column at a time (the wire layer's typed structs, ``wire.codec.struct_columns``).
Transpose = Callable[[Sequence[Any]], Mapping[str, Sequence[Any]]]


def encode_columns(
    schema: Schema, records: Sequence[Any], absent: Any = None, transpose: Transpose | None = None
) -> dict[str, Column]:
    """Every column of ``records`` in load order: coded columns as lists of codes (the intern
    table's own ints), int columns as lists of the objects' own ints, so that permuting them
    copies pointers and makes no int (``Segment.from_columns`` packs both); the records may
    be any objects with the kind's attributes (``absent``: the marker of a missing
    value besides ``None``; an entry attribute is a tuple of entry records), read one attribute
    at a time, or all at once by ``transpose``."""
    columns: dict[str, Column] = {}
    read = transpose(records) if transpose is not None else None
    flat: list[Any] = []  # every entry of the batch, and where each record's run of them ends
    ends: list[int] = []
    if schema.entries_attr:
        lists = list(map(operator.attrgetter(schema.entries_attr), records))
        flat = list(itertools.chain.from_iterable(lists))
        ends = list(itertools.accumulate(map(len, lists)))
    for spec in schema.columns.values():
        if spec.entry_attr is not None:  # per record, the sorted codes of one entry attribute
            codes = schema.entry_tables[spec.entry_attr].encode(list(map(operator.attrgetter(spec.entry_attr), flat)))
            columns[spec.attr] = [
                tuple(sorted(set(codes[start:end]))) for start, end in zip([0, *ends], ends)
            ]
            continue
        values = read[spec.attr] if read is not None else list(map(operator.attrgetter(spec.attr), records))
        if spec.storage == Storage.CODED:  # packed once in contract order (``from_columns``)
            columns[spec.attr] = schema.tables[spec.attr].encode(values, absent)
        elif absent is not None and absent in values:
            columns[spec.attr] = [None if v is absent else v for v in values]
        else:
            columns[spec.attr] = list(values)
    return columns


def concat_columns(columns: list[Column]) -> Column:
    """One column holding the rows of ``columns`` in turn (an array when all are arrays of one
    type; else a list, the int marker of absence read back as ``None``)."""
    if len(columns) == 1:
        return columns[0]
    if all(isinstance(c, array) for c in columns) and len({c.typecode for c in columns}) == 1:
        joined = array(columns[0].typecode)
        for column in columns:
            joined.extend(column)
        return joined
    joined_list: list[Any] = []
    for column in columns:
        if isinstance(column, array) and column.typecode == "q":
            joined_list.extend(None if v == ABSENT_INT else v for v in column)
        else:
            joined_list.extend(column)
    return joined_list
