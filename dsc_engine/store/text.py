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

Several needles (an ``or`` of ``contains`` on the column) are one search: fewer than
``ALTERNATION`` a ``find`` each over the same span, their rows merged; more, a compiled
alternation of the escaped needles (``_alternation``), run over the blob as one needle's ``find``
is. A match of any needle is a match of the ``or``, and none crosses a separator.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from dsc_engine.query import ast

SEPARATOR = b"\x00"
#: A text column is one whose intern table has more than this share of a segment's rows.
DISTINCT_SHARE = 0.25
#: Testing one row's bytes on its own (a C-level ``find`` call) costs about as much as searching
#: this many rows of a span of the blob: candidates fewer than a tenth of their span are tested
#: one by one, denser ones by one search of the span; the planner costs a text path likewise.
SPAN_PER_ROW = 10
#: A search for this many needles or more is one search of their alternation; fewer are one
#: ``find`` each (a ``find`` scans about ten times as fast as a pattern that tries several
#: needles at each byte that may start one: 2-3 needles of digits, 5-7 ms as finds, 17-29 ms
#: as one pattern; at 10 they are even, at 50 the pattern takes 40-60 ms, the finds 120 ms).
ALTERNATION = 8


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

    def rows(self, texts: tuple[str, ...], first: int = 0, stop: int | None = None) -> array:  # type: ignore[type-arg]
        """The rows of ``[first, stop)`` whose value contains one of ``texts`` case-insensitively,
        ascending: only that part of the blob is searched (a time window is a run of rows).
        Fewer than ``ALTERNATION`` needles are a ``find`` each (a memory scan), their rows
        merged; more, one search of their alternation."""
        last = len(self.starts) - 1
        stop = last if stop is None else min(stop, last)
        if first >= stop:
            return array("i")
        needles = _needles(texts)
        if 1 < len(needles) < ALTERNATION:
            found = (self._rows(functools.partial(self.blob.find, needle), first, stop) for needle in needles)
            return array("i", sorted(set().union(*found)))
        return self._rows(self._finder(needles), first, stop)

    def _rows(self, find: Callable[[int, int], int], first: int, stop: int) -> array:  # type: ignore[type-arg]
        """The rows of ``[first, stop)`` where ``find`` (``_finder``) finds a match: each match
        is mapped to its row by bisection, and the search goes on from the next row."""
        rows = array("i")
        starts = self.starts
        end = starts[stop]
        position = find(starts[first], end)
        while position >= 0:
            row = bisect.bisect_right(starts, position, first, stop + 1) - 1
            rows.append(row)
            if row + 1 >= stop:
                break
            position = find(starts[row + 1], end)
        return rows

    def among(self, texts: tuple[str, ...], rows: Sequence[int]) -> array:  # type: ignore[type-arg]
        """Those of ``rows`` (ascending) whose value contains one of ``texts``: each row's bytes
        are searched on their own when the rows are few for their span, else the span at once."""
        if not len(rows):
            return array("i")
        first, stop = rows[0], rows[-1] + 1
        if len(rows) * SPAN_PER_ROW >= stop - first:
            found = frozenset(self.rows(texts, first, stop)).__contains__
            return array("i", filter(found, rows))
        return array("i", itertools.compress(rows, self._hits(texts, rows)))

    def test(self, texts: tuple[str, ...]) -> Callable[[int], bool]:
        """``row -> whether its value contains one of texts``: one search of that row's bytes,
        until the test has been asked of a tenth of the rows (a scan, as a residual of a broad
        driver can be); the rest are answered from the rows of one search of the whole blob."""
        find, starts = self._finder(_needles(texts)), self.starts
        budget = (len(starts) - 1) // SPAN_PER_ROW
        found: frozenset[int] | None = None

        def contains(row: int) -> bool:
            nonlocal budget, found
            if found is not None:
                return row in found
            budget -= 1
            if budget < 0:
                found = frozenset(self.rows(texts))
                return row in found
            return find(starts[row], starts[row + 1]) >= 0

        return contains

    def _finder(self, needles: tuple[bytes, ...]) -> Callable[[int, int], int]:
        """``(start, end) -> where the first match of one of needles in that part of the blob
        begins, or -1``: ``bytes.find`` for one needle, the needles' alternation for several."""
        if len(needles) == 1:
            return functools.partial(self.blob.find, needles[0])
        search, blob = _alternation(needles).search, self.blob

        def find(start: int, end: int) -> int:
            found = search(blob, start, end)
            return -1 if found is None else found.start()

        return find

    def _hits(self, texts: tuple[str, ...], rows: Sequence[int]) -> Iterator[Any]:
        """Whether each row's value holds one of ``texts`` (truth values), one C-level search
        per row (a needle without the separator cannot match the separator ending the row's
        value)."""
        needles = _needles(texts)
        begins = map(self.starts.__getitem__, rows)
        ends = map(self.starts.__getitem__, map((1).__add__, rows))
        if len(needles) == 1:
            return map((-1).__lt__, map(self.blob.find, itertools.repeat(needles[0]), begins, ends))
        return map(_alternation(needles).search, itertools.repeat(self.blob), begins, ends)


def _needles(texts: tuple[str, ...]) -> tuple[bytes, ...]:
    """``texts`` as the blob holds text (``folded_text``), each once."""
    if not texts:
        raise ValueError("a text search needs at least one needle")
    return tuple(dict.fromkeys(map(folded_text, texts)))


@functools.lru_cache(maxsize=16)
def _alternation(needles: tuple[bytes, ...]) -> re.Pattern[bytes]:
    """One pattern matching where any of ``needles`` occurs, their bytes escaped so that each
    stands for itself: the leftmost match of any needle, as ``find`` of each would give. The
    needles are written as a trie (``a(?:bc|d)`` for ``abc``, ``ad``), so that a search tries at
    most one branch per byte value at each level instead of every needle at each position (200
    needles of digits over 100,000 audit logs: 133 ms as a flat alternation, 41 ms), and a
    needle that starts with another is left out (it matches nowhere the other does not begin). A
    trie deeper than ``_TRIE_DEPTH`` branchings is written flat (the parser of patterns recurses
    per group). Kept for the few last sets of needles (a query searches each segment, and its
    plan's cost and its rows ask again)."""
    trie: dict[int, Any] = {}
    for needle in sorted(needles):  # a needle comes before those that start with it
        node = trie
        for byte in needle:
            if _END in node:
                break
            node = node.setdefault(byte, {})
        else:
            node.clear()
            node[_END] = None
    pattern = _branches(trie, 0)
    return re.compile(b"|".join(map(re.escape, needles)) if pattern is None else pattern)


#: The key of a trie node that ends a needle.
_END = -1
#: How many branchings deep a needles' trie is written as one.
_TRIE_DEPTH = 64


def _branches(node: dict[int, Any], depth: int) -> bytes | None:
    """The pattern of a trie node: each byte after it, then the pattern of what follows (a run
    of single children as one literal); ``None`` past ``_TRIE_DEPTH`` branchings."""
    if depth > _TRIE_DEPTH:
        return None
    parts = []
    for byte in sorted(node):
        child, literal = node[byte], bytes((byte,))
        while _END not in child and len(child) == 1:
            (byte, child), = child.items()
            literal += bytes((byte,))
        rest = b"" if _END in child else _branches(child, depth + 1)
        if rest is None:
            return None
        parts.append(re.escape(literal) + rest)
    return parts[0] if len(parts) == 1 else b"(?:" + b"|".join(parts) + b")"


def folded_text(text: str) -> bytes:
    """A string as the text index (and ``Intern.folded``) holds it: case-folded, UTF-8."""
    return text.casefold().encode("utf-8", "surrogatepass")


def needles(node: ast.Node) -> tuple[str, ...] | None:
    """The needles of a node a text index answers, ``None`` for any other: a ``contains`` whose
    needle is not empty and holds no separator once case-folded, or an ``or`` of such on one
    field (one search for them all)."""
    items = node.items if isinstance(node, ast.Or) else (node,)
    found: list[str] = []
    for item in items:
        if not isinstance(item, ast.Contains) or item.field != items[0].field:  # type: ignore[attr-defined]
            return None
        folded = item.text.casefold()
        if not folded or "\x00" in folded:
            return None
        found.append(item.text)
    return tuple(found) if found else None


def has_text_path(node: ast.Node) -> bool:
    """Whether a text index answers ``node`` (``needles``)."""
    return needles(node) is not None
