"""Paging over the hits of several segments without sorting or building the whole result.

Each segment's hits are ascending rows, i.e. already in contract order; the global order merges
them by :meth:`Segment.sort_key`, which is unique per row (it ends with the load number).

- one segment with hits: the page is a plain slice;
- several, near the start: a lazy k-way merge that stops after the page;
- several, deep: a binary search for the row at global rank ``offset`` (about
  ``k * log(n)`` key probes per segment tried), then a merge of ``limit`` rows from there.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from dsc_engine.store.indexes import RowSeq
from dsc_engine.store.segment import Segment
from dsc_engine.store.lazyrows import Scanned, Union
from dsc_engine.wire.types import Storage

Part = tuple[Segment, RowSeq]
Hit = tuple[Segment, int]

#: Up to this offset a merge walk is cheaper than the rank search.
_WALK = 256


def page(parts: Sequence[Part], offset: int, limit: int | None) -> list[Hit]:
    """The hits ``[offset, offset + limit)`` of the merged order (``None``: to the end)."""
    live = [(segment, rows) for segment, rows in parts if len(rows)]
    if limit is not None and offset + limit > sys.maxsize:  # past any list: the rest (as islice takes it)
        limit = None
    end = None if limit is None else offset + limit
    if len(live) == 1:
        segment, rows = live[0]
        return [(segment, row) for row in rows[offset:end]]
    if not live:
        return []
    starts = _split(live, offset) if offset > _WALK else None
    skip = 0 if starts is not None else offset
    merged = _merge(live, starts or [0] * len(live))
    return list(itertools.islice(merged, skip, None if limit is None else skip + limit))


def iterate(parts: Sequence[Part]) -> Iterator[Hit]:
    """Every hit in contract order."""
    live = [(segment, rows) for segment, rows in parts if len(rows)]
    return _merge(live, [0] * len(live))


def _merge(live: Sequence[Part], starts: Sequence[int]) -> Iterator[Hit]:
    streams = [
        _keyed(segment, index, _tail(rows, start))
        for index, ((segment, rows), start) in enumerate(zip(live, starts, strict=True))
    ]
    for _, index, row in heapq.merge(*streams):
        yield live[index][0], row


def _keyed(segment: Segment, index: int, rows: Iterable[int]) -> Iterator[tuple[Any, int, int]]:
    return ((segment.sort_key(row), index, row) for row in rows)


def _tail(rows: RowSeq, start: int) -> Iterable[int]:
    """The rows from ``start`` on, for a merge that may take only the first few: a lazy
    ``Union``'s lists are merged as they are read, not whole (``lazyrows.Union``), and a
    ``Scanned`` answer is scanned for as it is read."""
    if isinstance(rows, array):
        return memoryview(rows)[start:]
    if isinstance(rows, Scanned):
        return rows.iter_from(start)
    tail = rows[start:]
    return heapq.merge(*tail.lists) if isinstance(tail, Union) else tail


def _split(live: Sequence[Part], offset: int) -> list[int] | None:
    """For each part, how many of its hits precede global rank ``offset`` (``None``: past the end)."""
    if len(live) == 2:
        return _split_two(live, offset)

    def rank(part: int, key: tuple[Any, ...]) -> int:  # hits of ``part`` ordered before ``key``
        segment, rows = live[part]
        return bisect.bisect_left(rows, key, key=segment.sort_key)

    others = range(len(live))
    for s in sorted(others, key=lambda i: -len(live[i][1])):
        segment, rows = live[s]
        lo, hi = 0, len(rows)
        while lo < hi:
            mid = (lo + hi) // 2
            key = segment.sort_key(rows[mid])
            before = mid + sum(rank(t, key) for t in others if t != s)
            if before < offset:
                lo = mid + 1
            elif before > offset:
                hi = mid
            else:
                return [mid if t == s else rank(t, key) for t in others]
    return None


def _split_two(live: Sequence[Part], offset: int) -> list[int] | None:
    """``_split`` of two parts: the k-th of two sorted sequences, ``O(log)`` key probes.

    The hits of ``a`` among the first ``offset`` are the ``i`` for which ``a[i]`` is the first
    not ordered before ``b[offset - i - 1]``; that test is monotone in ``i``.
    """
    (seg_a, rows_a), (seg_b, rows_b) = live
    if offset >= len(rows_a) + len(rows_b):
        return None
    lo, hi = max(0, offset - len(rows_b)), min(offset, len(rows_a))
    while lo < hi:
        i = (lo + hi) // 2
        j = offset - i
        if j > 0 and seg_a.sort_key(rows_a[i]) < seg_b.sort_key(rows_b[j - 1]):
            lo = i + 1
        else:
            hi = i
    return [lo, offset - lo]


def distinct(parts: Sequence[Part], field: str) -> list[Hit]:
    """The newest hit of each value of ``field`` (absent counting as one value), in order."""
    newest: dict[Any, tuple[tuple[Any, ...], Segment, int]] = {}
    for segment, rows in parts:
        for value, row in _firsts(segment, rows, field).items():
            key = segment.sort_key(row)
            if value not in newest or key < newest[value][0]:
                newest[value] = (key, segment, row)
    return [(segment, row) for _, segment, row in sorted(newest.values(), key=lambda h: h[0])]


def _firsts(segment: Segment, rows: RowSeq, field: str) -> dict[Any, int]:
    """The first (newest) row of each value among ``rows``."""
    schema = segment.schema
    attr = schema.attr_of[field]
    coded = schema.columns[attr].storage == Storage.CODED
    if coded and isinstance(rows, range):  # a window: probe each value's posting list
        postings = segment.postings(attr)
        firsts = {}
        for code in range(len(postings.starts) - 1):
            posting = postings.of(code)
            i = bisect.bisect_left(posting, rows.start)
            if i < len(posting) and posting[i] < rows.stop:
                firsts[code] = posting[i]
        return firsts
    get = segment.columns[attr].__getitem__ if coded else segment.field_getter(field)
    seen: dict[Any, int] = {}
    for row in rows:
        value = get(row)
        if value not in seen:
            seen[value] = row
    return seen
