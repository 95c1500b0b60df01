"""Substring search over a column of mostly distinct text, in C: the text index of a segment.

``contains`` means ``needle.casefold() in value.casefold()`` (``docs/semantics.md``). Over a column
whose values are nearly all distinct (``SqlText``, ``Message``), testing each distinct value in
Python costs about as much as testing every row. The text index instead keeps, per segment, the
case-folded values of the rows **in row order** as one UTF-8 ``bytes`` blob, each value followed by
a ``\\x00`` separator, and ``starts[r]``, the offset of row ``r``'s value (``starts[n]`` is the
blob's length). A needle is case-folded and encoded the same way and found with ``bytes.find``
(C); each match is mapped to its row by bisection over ``starts``, and the search goes on from
the next row, so every matching row is found once and the rows come out ascending, which is
contract order.

Exactness: UTF-8 is self-synchronising, so a code-point substring is exactly a byte substring of
the encodings (lone surrogates, which a JSON escape can make, are encoded with
``surrogatepass`` on both sides). A needle without ``\\x00`` cannot match across the separator
that ends a value, so every match lies inside one value, even a value that holds ``\\x00``
itself. ``casefold`` may change lengths (``ß`` -> ``ss``, ``İ`` -> ``i̇``): only the case-folded
text is searched, and positions are mapped through the offsets of the case-folded values. A
needle that is empty or holds ``\\x00`` is left to the per-value test (``has_text_path``).
"""

from __future__ import annotations

import bisect
import itertools
from array import array
from collections.abc import Callable, Iterator, Sequence

import attrs

from dsc_engine.query import ast

SEPARATOR = b"\x00"
#: A text column is one whose intern table has more than this share of a segment's rows.
DISTINCT_SHARE = 0.25
#: Testing one row's bytes on its own (a C-level ``find`` call) costs about as much as searching
#: this many rows of a span of the blob: candidates fewer than a tenth of their span are tested
#: one by one, denser ones by one search of the span; the planner costs a text path likewise.
SPAN_PER_ROW = 10


@attrs.frozen(eq=False)
class TextIndex:
    """The case-folded values of a segment's rows, one blob, and where each row's value starts.

    Nothing found is remembered: a needle costs the same the first time and every time after
    (``docs/store.md``, "Substring search")."""

    blob: bytes
    starts: array  # type: ignore[type-arg]  # 'q', n + 1 offsets

    @classmethod
    def build(cls, codes: Sequence[int], folded: Sequence[bytes]) -> TextIndex:
        """The index of a coded column (``folded[c]``: the case-folded UTF-8 of code ``c``)."""
        values = list(map(folded.__getitem__, codes))
        starts = array("q", itertools.accumulate(map((1).__add__, map(len, values)), initial=0))
        values.append(b"")
        return cls(SEPARATOR.join(values), starts)

    def rows(self, text: str, first: int = 0, stop: int | None = None) -> array:  # type: ignore[type-arg]
        """The rows of ``[first, stop)`` whose value contains ``text`` case-insensitively,
        ascending: only that part of the blob is searched (a time window is a run of rows)."""
        last = len(self.starts) - 1
        stop = last if stop is None else min(stop, last)
        rows = array("i")
        if first >= stop:
            return rows
        needle = folded_text(text)
        starts, find = self.starts, self.blob.find
        end = starts[stop]
        position = find(needle, starts[first], end)
        while position >= 0:
            row = bisect.bisect_right(starts, position, first, stop + 1) - 1
            rows.append(row)
            if row + 1 >= stop:
                break
            position = find(needle, starts[row + 1], end)
        return rows

    def among(self, text: str, rows: Sequence[int]) -> array:  # type: ignore[type-arg]
        """Those of ``rows`` (ascending) whose value contains ``text``: each row's bytes are
        searched on their own when the rows are few for their span, else the span at once."""
        if not len(rows):
            return array("i")
        first, stop = rows[0], rows[-1] + 1
        if len(rows) * SPAN_PER_ROW >= stop - first:
            found = frozenset(self.rows(text, first, stop)).__contains__
            return array("i", filter(found, rows))
        return array("i", itertools.compress(rows, self._hits(folded_text(text), rows)))

    def test(self, text: str) -> Callable[[int], bool]:
        """``row -> whether its value contains text``: one ``bytes.find`` over that row's bytes,
        until the test has been asked of a tenth of the rows (a scan, as a residual of a broad
        driver can be); the rest are answered from the rows of one search of the whole blob."""
        needle, starts, find = folded_text(text), self.starts, self.blob.find
        budget = (len(starts) - 1) // SPAN_PER_ROW
        found: frozenset[int] | None = None

        def contains(row: int) -> bool:
            nonlocal budget, found
            if found is not None:
                return row in found
            budget -= 1
            if budget < 0:
                found = frozenset(self.rows(text))
                return row in found
            return find(needle, starts[row], starts[row + 1]) >= 0

        return contains

    def _hits(self, needle: bytes, rows: Sequence[int]) -> Iterator[bool]:
        """Whether each row's value holds ``needle``, one C-level ``find`` per row (a needle
        without the separator cannot match the separator ending the row's value)."""
        begins = map(self.starts.__getitem__, rows)
        ends = map(self.starts.__getitem__, map((1).__add__, rows))
        return map((-1).__lt__, map(self.blob.find, itertools.repeat(needle), begins, ends))


def folded_text(text: str) -> bytes:
    """A string as the text index (and ``Intern.folded``) holds it: case-folded, UTF-8."""
    return text.casefold().encode("utf-8", "surrogatepass")


def has_text_path(node: ast.Node) -> bool:
    """Whether a text index answers ``node``: a ``contains`` whose needle is not empty and
    holds no separator once case-folded."""
    if not isinstance(node, ast.Contains):
        return False
    folded = node.text.casefold()
    return bool(folded) and "\x00" not in folded
