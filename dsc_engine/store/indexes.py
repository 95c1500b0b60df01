"""The structures of a segment's indexes, plain arrays that a snapshot writes and reads back as
they are: :class:`Postings` (the CSR posting lists of a hash or an entry index, made by
:func:`csr`), :class:`SortedIndex`, and :class:`PairPostings` (a composite index). Which index a
column has, and building it from the segment's columns, is ``segment.py``'s; the text index is
``text.py``'s.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence

import attrs

RowSeq = Sequence[int]  # ascending row numbers: a range, an array or a memoryview of one


@attrs.frozen
class Postings:
    """CSR posting lists: the rows of code ``c`` are ``rows[starts[c]:starts[c + 1]]``."""

    starts: array  # type: ignore[type-arg]
    rows: array  # type: ignore[type-arg]

    def of(self, code: int) -> RowSeq:
        if code + 1 >= len(self.starts):
            return range(0)
        return memoryview(self.rows)[self.starts[code] : self.starts[code + 1]]

    def count(self, code: int) -> int:
        if code + 1 >= len(self.starts):
            return 0
        return int(self.starts[code + 1] - self.starts[code])


@attrs.frozen
class SortedIndex:
    """Rows with a value, sorted by (value, row): ``values[i]`` is the value of ``rows[i]``."""

    values: Sequence[int]
    rows: array  # type: ignore[type-arg]


@attrs.frozen
class PairPostings:
    """A composite hash index of two coded columns: the rows of each code pair, in row order."""

    spans: dict[tuple[int, int], tuple[int, int]]
    rows: array  # type: ignore[type-arg]

    def of(self, first: int, second: int) -> RowSeq:
        start, stop = self.spans.get((first, second), (0, 0))
        return memoryview(self.rows)[start:stop]


def csr(pairs: Iterable[tuple[int, int]]) -> Postings:
    """Posting lists from ``(row, code)`` pairs given in row order."""
    buckets: list[list[int]] = []
    for row, code in pairs:
        while code >= len(buckets):
            buckets.append([])
        buckets[code].append(row)
    starts = array("q", [0])
    rows = array("i")
    for bucket in buckets:
        rows.extend(bucket)
        starts.append(len(rows))
    return Postings(starts, rows)
