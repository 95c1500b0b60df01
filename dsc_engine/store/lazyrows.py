"""Lazy row sequences: answers whose rows are found as they are read, so a page costs about
the page and not the whole answer.

- ``Difference``: the rows of a window not in an excluded list (a complement, ``not X``);
- ``Union``: the ascending union of disjoint posting lists (an ``in`` set of a scalar column);
- ``Scanned``: the rows of a window a row filter keeps, scanned for only as far as a read
  needs (an answer whose count the indexes give without its rows).

Each is a ``Sequence[int]`` of ascending row numbers, as every candidate and hit list of a
segment is (``indexes.RowSeq``); ``execute.py`` makes them and ``paging.py`` reads them.
"""

from __future__ import annotations

import bisect
import itertools
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import overload

from dsc_engine.store.indexes import RowSeq


class Difference(Sequence[int]):
    """The rows of ``[a, b)`` not in ``excluded`` (ascending rows within ``[a, b)``), lazily.

    What ``not X`` leaves of a window when ``X`` has an index path: its length is a subtraction,
    its ``i``-th row a binary search over ``excluded``, and a slice is another ``Difference``, so
    a page of a broad negation costs about the page, not the window.
    """

    __slots__ = ("a", "b", "excluded")

    def __init__(self, a: int, b: int, excluded: RowSeq) -> None:
        self.a, self.b, self.excluded = a, b, excluded

    def __len__(self) -> int:
        return self.b - self.a - len(self.excluded)

    def __iter__(self) -> Iterator[int]:
        excluded = self.excluded
        starts = itertools.chain((self.a,), map((1).__add__, excluded))
        stops = itertools.chain(excluded, (self.b,))
        return itertools.chain.from_iterable(map(range, starts, stops))

    def _row(self, index: int) -> int:
        # the index-th kept row is a + index + (how many excluded rows e_j precede it), and
        # e_j precedes it exactly when the kept rows before e_j (e_j - a - j) are at most index
        excluded, a = self.excluded, self.a
        low, high = 0, len(excluded)
        while low < high:
            mid = (low + high) // 2
            if excluded[mid] - a - mid <= index:
                low = mid + 1
            else:
                high = mid
        return a + index + low

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...
    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        size = len(self)
        if isinstance(index, slice):
            start, stop, step = index.indices(size)
            if step != 1:
                return list(self)[index]
            if stop <= start:
                return range(0)
            first, last = self._row(start), self._row(stop - 1)
            excluded = self.excluded
            cut = excluded[bisect.bisect_left(excluded, first) : bisect.bisect_right(excluded, last)]
            return Difference(first, last + 1, cut)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(index)
        return self._row(index)


class Union(Sequence[int]):
    """The ascending union of two or more disjoint, non-empty ascending row lists, lazily.

    What an ``in`` set of a scalar column gives (each row holds one value, so its values' posting
    lists never share a row): its length is a sum, its ``i``-th row a binary search over row
    numbers (how many rows of each list are at or below a row is a bisection of that list), and
    a slice is another ``Union`` of the lists' cuts, so the first page of a broad set costs about
    the page, not a merge of every list. Iterating merges the lists once; the merge is kept for
    this object's later reads (the object lives for one query).
    """

    __slots__ = ("lists", "_size", "_merged")

    def __init__(self, lists: Sequence[RowSeq]) -> None:
        self.lists = lists
        self._size = sum(map(len, lists))
        self._merged: array[int] | None = None

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows())

    def _rows(self) -> array[int]:
        if self._merged is None:
            self._merged = array("i", sorted(itertools.chain.from_iterable(self.lists)))
        return self._merged

    def _row(self, index: int) -> int:
        """The ``index``-th row: the smallest row with more than ``index`` rows at or below it."""
        lists = self.lists
        low, high = min(rows[0] for rows in lists), max(rows[-1] for rows in lists)
        while low < high:
            mid = (low + high) // 2
            if sum(bisect.bisect_right(rows, mid) for rows in lists) > index:
                high = mid
            else:
                low = mid + 1
        return low

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...
    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        size = self._size
        if isinstance(index, slice):
            start, stop, step = index.indices(size)
            if step != 1 or self._merged is not None:
                return self._rows()[index]
            if stop <= start:
                return range(0)
            first = self._row(start)
            end = None if stop == size else self._row(stop)  # the first row left out
            cuts = []
            for rows in self.lists:
                i = bisect.bisect_left(rows, first)
                j = len(rows) if end is None else bisect.bisect_left(rows, end)
                if j > i:
                    cuts.append(rows[i:j])
            return cuts[0] if len(cuts) == 1 else Union(cuts)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(index)
        return self._merged[index] if self._merged is not None else self._row(index)


class Scanned(Sequence[int]):
    """The ``size`` rows of ``[a, b)`` that ``keep`` keeps, found by scanning the window from its
    start only as far as a read needs.

    For answers whose count the indexes give without their rows (``execute._scanned``): a broad
    range of a sorted index (its rows are in value order, and putting them in row order is a
    sort of all of them) or a window minus two indexed sets (their union is a merge of both).
    A page near the start scans a few times its length in C (``keep`` is a ``vector.row_filter``); the
    scan grows by doubling and keeps what it found. A read that would scan more than ``budget``
    rows of the window (about what ``rows()`` costs) takes ``rows()`` instead, once: it builds
    them all from the indexes, as an answer that is not scanned is built.
    """

    __slots__ = ("a", "b", "size", "keep", "rows", "budget", "_found", "_next", "_all")

    def __init__(
        self, a: int, b: int, size: int, keep: Callable[[RowSeq], RowSeq], rows: Callable[[], RowSeq], budget: int
    ) -> None:
        self.a, self.b, self.size, self.keep, self.rows, self.budget = a, b, size, keep, rows, budget
        self._found = array("i")
        self._next = a  # the first row not scanned yet
        self._all: RowSeq | None = None

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[int]:
        return iter(self._upto(self.size))

    def iter_from(self, start: int) -> Iterator[int]:
        """The rows from the ``start``-th on, scanned for as they are read (a merge across
        segments takes a page of them)."""
        want = start + 32
        while start < self.size:
            rows = self._upto(min(want, self.size))
            yield from rows[start:]
            start, want = len(rows), 2 * len(rows)

    def _upto(self, count: int) -> RowSeq:
        """Rows in order, at least the first ``count`` of them."""
        if self._all is not None:
            return self._all
        found = self._found
        if len(found) >= count:
            return found
        # the rows of the window left to scan for the rows missing, at the answer's density
        ahead = (count - len(found)) * max(self.b - self.a, 1) / max(self.size, 1e-9)
        if self._next - self.a + ahead > self.budget:
            self._all = self.rows()
            return self._all
        step = int(ahead * 1.25) + 256
        while len(found) < count and self._next < self.b:
            stop = min(self.b, self._next + step)
            found.extend(self.keep(range(self._next, stop)))
            self._next, step = stop, step * 2
        if self._next >= self.b and len(found) != self.size:  # the count and the scan disagree
            raise RuntimeError(f"a scan of rows {self.a}-{self.b} found {len(found)} rows, not {self.size}")
        return found

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...
    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        size = self.size
        if isinstance(index, slice):
            start, stop, step = index.indices(size)
            if step < 0:  # from the end backwards: every row
                return self._upto(size)[index]
            return self._upto(max(start, stop))[start:stop:step]
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(index)
        return self._upto(index + 1)[index]
