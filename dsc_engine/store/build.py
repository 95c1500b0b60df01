"""Building columns: a kind's attributes read off records (or the wire layer's structs) and coded,
columns permuted into contract order, and columns of several parts joined.

Used by ``segment.py`` (building and merging segments) and ``store.py`` (bulk loads).
"""

from __future__ import annotations

import itertools
import operator
import re
import sys
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, cast

from dsc_engine.store.columns import ABSENT_INT, Column, Schema, int_column
from dsc_engine.wire.codec import runs
from dsc_engine.wire.types import Storage


def permute_columns(
    columns: dict[str, Column], order: list[int], limits: Callable[[], Mapping[str, int]] | None = None
) -> dict[str, Column]:
    """``{attr: column[order]}`` for every column (an array stays an array of its type; the
    dict given is emptied as it goes). No copy when ``order`` is the identity, one reversed
    slice when it is the reverse (files sorted either way). ``limits``: gives, for a column of
    codes, a bound its codes are below (its intern table's size), so that it travels in fewer
    bytes; asked only when the rows are gathered as a matrix (a few rows never are).

    A gather costs a random memory access per value, so the packed columns (int arrays) are
    gathered together as the rows of one matrix (:func:`_gather_packed`), one access per row
    instead of one per row and column; the other columns one at a time (``docs/store.md``, "The
    gather, by rows")."""
    n = len(order)
    if all(map(operator.eq, order, range(n))):
        permuted = dict(columns)
        columns.clear()
        return permuted
    if all(map(operator.eq, order, range(n - 1, -1, -1))):
        return {attr: columns.pop(attr)[::-1] for attr in list(columns)}
    permuted = dict.fromkeys(columns, cast(Column, []))  # each filled below, in this order
    bounds: Mapping[str, int] = {}
    packed: list[str] = []
    if n >= _MATRIX_ROWS:  # (a few rows are gathered one column at a time: no bounds asked)
        bounds = limits() if limits is not None else {}
        packed = [attr for attr, column in columns.items() if _width(column, bounds.get(attr))]
    if len(packed) >= 2:
        arrays = [cast("array[int]", columns.pop(attr)) for attr in packed]  # emptied by the gather
        permuted.update(zip(packed, _gather_packed(arrays, order, [bounds.get(attr) for attr in packed])))
    gather = operator.itemgetter(*order)  # n >= 2 here (else the identity): a tuple back
    for attr in list(columns):
        column = columns.pop(attr)  # each input column is freed once permuted
        gathered = gather(column)
        permuted[attr] = array(column.typecode, gathered) if isinstance(column, array) else list(gathered)
    return permuted


#: Rows from which the packed columns are gathered as one matrix (fewer: a column at a time).
_MATRIX_ROWS = 4096
#: Rows of the matrix copied at a time (a block of it stays in the CPU caches).
_BLOCK = 16384
_FORMATS: dict[int, Literal["B", "H", "I", "Q"]] = {1: "B", 2: "H", 4: "I", 8: "Q"}
_LOW_FIRST = sys.byteorder == "little"


def _width(column: Column, limit: int | None) -> int:
    """The bytes a value of ``column`` takes in the row matrix (0: the column is not packed)."""
    if not isinstance(column, array):
        return 0
    if column.typecode == "q" and column.itemsize == 8:
        return 8
    if column.typecode == "I" and column.itemsize == 4:  # codes: as few bytes as their bound needs
        return 4 if limit is None or limit > 1 << 16 else 2 if limit > 1 << 8 else 1
    return 0


def _low_bytes(column: array[int], width: int) -> memoryview:
    """The low ``width`` bytes of each value of ``column``, an item per value (a strided view)."""
    step = column.itemsize // width
    return memoryview(column).cast("B").cast(_FORMATS[width])[(0 if _LOW_FIRST else step - 1) :: step]


def _gather_packed(columns: list[array[int]], order: list[int], limits: list[int | None]) -> list[array[int]]:
    """``column[order]`` of each packed column, gathered in one pass over the rows.

    Each row's values are laid side by side in a row of a matrix (widest first, so that each
    lies aligned to its width), the rows are cut into bytes objects (one ``re.findall``), and
    the permutation is one gather of those objects joined back, from which each column's
    values are copied out; every copy is a strided memoryview copy in C, a block of rows at a
    time. ``columns`` is emptied once the matrix holds their values (their memory is freed
    before the rows are cut)."""
    n = len(order)
    widths = [_width(column, limit) for column, limit in zip(columns, limits)]
    types = [(column.typecode, column.itemsize) for column in columns]
    offsets = [0] * len(columns)
    stride = 0
    for j in sorted(range(len(columns)), key=lambda j: -widths[j]):
        offsets[j] = stride
        stride += widths[j]
    stride = -(-stride // 8) * 8  # a multiple of every width: each value stays aligned
    matrix = bytearray(n * stride)
    views = {width: memoryview(matrix).cast(_FORMATS[width]) for width in set(widths)}
    plan = [(width, offset // width, stride // width) for width, offset in zip(widths, offsets)]
    sources = [_low_bytes(column, width) for column, width in zip(columns, widths)]
    for start in range(0, n, _BLOCK):
        stop = min(n, start + _BLOCK)
        for (width, at, per), source in zip(plan, sources):
            views[width][start * per + at : stop * per : per] = source[start:stop]
    del views, sources
    columns.clear()
    rows = re.compile(b".{%d}" % stride, re.DOTALL).findall(matrix)
    del matrix
    gathered = [array(typecode, bytes(n * itemsize)) for typecode, itemsize in types]
    targets = [_low_bytes(column, width) for column, width in zip(gathered, widths)]
    for start in range(0, n, _BLOCK):
        block = b"".join(map(rows.__getitem__, order[start : start + _BLOCK]))
        stop = start + len(block) // stride
        views = {width: memoryview(block).cast(_FORMATS[width]) for width in set(widths)}
        for (width, at, per), target in zip(plan, targets):
            target[start:stop] = views[width][at::per]
    return gathered


#: ``objects -> {attribute: its values in order}``: how a bulk load may read a batch's attributes
#: a column at a time (the wire layer's typed structs, ``wire.codec.struct_columns``).
Transpose = Callable[[Sequence[Any]], Mapping[str, Sequence[Any]]]


def encode_columns(
    schema: Schema, records: Sequence[Any], absent: Any = None, transpose: Transpose | None = None
) -> dict[str, Column]:
    """Every column of ``records`` in load order: coded columns as ``array('I')`` of codes, int
    columns packed (``int_column``), the others as lists; the records may be any objects with
    the kind's attributes (``absent``: the marker of a missing value besides ``None``; an entry
    attribute is a tuple of entry records), read one attribute at a time, or all at once by
    ``transpose``. Packed a batch at a time, a bulk load's columns take half the memory of lists
    and are joined by memory copies (``concat_columns``)."""
    columns: dict[str, Column] = {}
    read = transpose(records) if transpose is not None else None
    flat: list[Any] = []  # every entry of the batch, and where each record's run of them starts
    starts: list[int] = []
    if schema.entries_attr:
        lists = read[schema.entries_attr] if read is not None else list(map(operator.attrgetter(schema.entries_attr), records))
        flat = list(itertools.chain.from_iterable(lists))
        starts = [0, *itertools.accumulate(map(len, lists))]
    for spec in schema.columns.values():
        if spec.entry_attr is not None:  # per record, the sorted codes of one entry attribute
            codes = schema.entry_tables[spec.entry_attr].encode(list(map(operator.attrgetter(spec.entry_attr), flat)))
            columns[spec.attr] = _distinct_sorted(runs(codes, starts))
            continue
        values = read[spec.attr] if read is not None else list(map(operator.attrgetter(spec.attr), records))
        if spec.storage == Storage.CODED:
            columns[spec.attr] = array("I", schema.tables[spec.attr].encode(values, absent))
        elif spec.storage == Storage.INT:
            columns[spec.attr] = int_column(values, absent)
        elif absent is not None and absent in values:
            columns[spec.attr] = [None if v is absent else v for v in values]
        else:
            columns[spec.attr] = list(values)
    return columns


def _distinct_sorted(rows: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Each row's codes, distinct and sorted, as a tuple, shared by the rows with the same codes
    (a batch's rows repeat few combinations of the few values an entry attribute has, so each
    combination is sorted once)."""
    combinations = dict.fromkeys(rows)
    made = shared_rows([tuple(sorted(set(row))) for row in combinations])
    return list(map(dict(zip(combinations, made)).__getitem__, rows))


def shared_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``rows``, equal tuples replaced by the first of them. A column of entry codes holds one
    tuple per distinct combination, as a bulk load finishes it and as a snapshot reads it back:
    100,000 DMS logs held 103 MiB after an open, 79 MiB with the tuples shared."""
    first: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    return list(map(first.setdefault, rows, rows))


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
