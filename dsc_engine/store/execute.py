"""Running a plan on one segment: window -> candidate rows -> residual test -> hit rows.

Hits are ascending row numbers, which is contract order. When the plan has no residual, the hits
are the candidate sequence itself (a ``range``, or a zero-copy ``memoryview`` of a posting list),
so counting them and slicing a page cost nothing per row.
"""

from __future__ import annotations

import bisect
import itertools
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query.evaluate import compile_over
from dsc_engine.wire.catalog import FIELDS, NESTED, FieldSpec
from dsc_engine.query.plan import (
    ACCESS_PATHS,
    Access,
    Complement,
    EntryLookup,
    EntryPairLookup,
    FullScan,
    HashLookup,
    IndexKind,
    IntersectOf,
    NoRows,
    Plan,
    SortedLookup,
    TimeLookup,
    UnionOf,
    Window,
    single_field,
)
from dsc_engine.store.columns import ENTRY_PREFIX, Schema
from dsc_engine.store.indexes import RowSeq
from dsc_engine.store.lazyrows import Difference, Scanned, Union
from dsc_engine.store.segment import Segment
from dsc_engine.store.text import SPAN_PER_ROW
from dsc_engine.store.vector import (
    RowFilter, chained, clauses_filter, codes_filter, joined_negations, row_count, row_filter,
)
from dsc_engine.wire.types import Storage

RowTest = Callable[[int], bool]
_EMPTY: RowSeq = range(0)
#: A driver of at least this many candidates intersects through a composite index of two columns.
_PAIR_FROM = 256
#: ... when both columns have at most this many distinct values.
_PAIR_CODES = 1_024
#: The cost of visiting one posting list, in rows (a scan tests a row in C, a list costs Python).
_PER_LIST = 16
#: Above this many codes, a window estimate scales the whole count instead of cutting each list.
_EXACT_CODES = 64
#: Rows of disjoint posting lists above which their union is kept lazy (merging this many
#: costs about what finding a page in the lists does).
_LAZY_UNION = 1024
#: ... when there are at most this many lists (a row of a lazy union bisects each of them).
_LAZY_LISTS = 16
#: Answers of at least this many rows whose count the indexes give are found by scanning the
#: window as far as a page needs (``_scanned``) instead of being built whole.
_SCAN_FROM = 4_096


class Statistics:
    """The planner's view of one version of a store (``plan.Statistics``)."""

    def __init__(self, schema: Schema, segments: Sequence[Segment]) -> None:
        self.schema = schema
        self.segments = segments

    @property
    def kind(self) -> RecordKind:
        return self.schema.kind

    def index_kind(self, field: str) -> IndexKind | None:
        storage = self.schema.storage_of(field)
        if storage == Storage.CODED:
            return IndexKind.HASH
        if storage == Storage.INT:
            return IndexKind.SORTED
        return None

    def entry_indexed(self, field: str, entry_field: str) -> bool:
        return field == self.schema.entry_field and entry_field in self.schema.entry_attr_of

    def window_rows(self, window: Window | None) -> int:
        total = 0
        for segment in self.segments:
            a, b = segment.window(window)
            total += b - a
        return total

    def cost(self, access: Access, window: Window | None) -> int:
        total = 0
        for segment in self.segments:
            bounds = segment.window(window)
            total += _cost(segment, access, bounds)
        return total


def _cost(segment: Segment, access: Access, bounds: tuple[int, int]) -> int:
    """About how many rows producing ``access``'s candidates touches (sorting counts double)."""
    return _EXECUTORS[type(access)].cost(segment, access, bounds)


def _codes(segment: Segment, access: HashLookup | EntryLookup) -> tuple[Any, frozenset[int]]:
    schema = segment.schema
    if isinstance(access, HashLookup):
        attr = schema.attr_of[access.field]
        return segment.postings(attr), schema.tables[attr].matching(access.node)
    attr = schema.entry_attr_of[access.entry_field]
    return segment.entry_postings(attr), schema.entry_tables[attr].matching(access.node)


def _cut(rows: RowSeq, a: int, b: int, n: int) -> RowSeq:
    """The part of ascending ``rows`` within ``[a, b)``."""
    if a == 0 and b == n:
        return rows
    return rows[bisect.bisect_left(rows, a) : bisect.bisect_left(rows, b)]


def _sorted_slices(segment: Segment, access: SortedLookup) -> list[RowSeq]:
    """Slices of the sorted index, one per value interval of the lookup."""
    index = segment.sorted_index(segment.schema.attr_of[access.field])
    values, rows = index.values, memoryview(index.rows)
    node = access.node
    spans: list[tuple[int, int]] = []
    if isinstance(node, ast.Range):
        i = 0 if node.low is None else _find(values, node.low, left=node.low_inclusive)
        j = len(values) if node.high is None else _find(values, node.high, left=not node.high_inclusive)
        spans.append((i, max(i, j)))
    else:
        members = (node.value,) if isinstance(node, ast.Compare) else node.values  # type: ignore[attr-defined]
        for value in members:
            spans.append((_find(values, value, left=True), _find(values, value, left=False)))
    return [rows[i:j] for i, j in spans if j > i]


def _find(values: Sequence[int], value: Any, *, left: bool) -> int:
    return (bisect.bisect_left if left else bisect.bisect_right)(values, value)


def candidates(segment: Segment, access: Access, a: int, b: int) -> RowSeq:
    """The rows of ``[a, b)`` that ``access`` yields, ascending."""
    if a >= b and not isinstance(access, FullScan):
        return _EMPTY
    return _EXECUTORS[type(access)].candidates(segment, access, a, b)


def _union(lists: list[RowSeq], *, overlapping: bool) -> RowSeq:
    """The ascending union of ascending row lists (``overlapping``: a row may be in several).

    Disjoint lists of more than :data:`_LAZY_UNION` rows in all stay apart as a lazy ``Union``
    when they are at most :data:`_LAZY_LISTS`: a page of them is found without merging them all
    (``lazyrows.Union``; finding a row bisects every list, so many lists are merged instead)."""
    if not lists:
        return _EMPTY
    if len(lists) == 1:
        return lists[0]
    if not overlapping and len(lists) <= _LAZY_LISTS and sum(map(len, lists)) > _LAZY_UNION:
        return Union(lists)
    rows = itertools.chain.from_iterable(lists)
    return array("i", sorted(set(rows) if overlapping else rows))


def _entry_pair_rows(segment: Segment, access: EntryPairLookup, a: int, b: int) -> RowSeq:
    schema = segment.schema
    codes: list[int] = []
    for node in (access.first, access.second):
        attr = schema.entry_attr_of[node.field]
        found = schema.entry_tables[attr].matching(node)
        if not found:
            return _EMPTY
        codes.append(next(iter(found)))
    first, second = (schema.entry_attr_of[node.field] for node in (access.first, access.second))
    return _cut(segment.entry_pair_postings(first, second).of(*codes), a, b, segment.n)


def _pair_start(segment: Segment, access: IntersectOf, a: int, b: int) -> tuple[RowSeq, list[Access]]:
    """The driver's candidates and the probes left: when the driver and a probe are each one
    value of a low-cardinality coded column and the driver is long, the composite index of the
    two columns, when the segment has one, gives their intersection at once. A query never
    builds one (that would make some later query wait for it): see ``docs/store.md``."""
    rows = candidates(segment, access.driver, a, b)
    probes = list(access.probes)
    driver = access.driver
    if len(rows) < _PAIR_FROM or not isinstance(driver, HashLookup):
        return rows, probes
    schema = segment.schema
    first = schema.attr_of[driver.field]
    code = _one_code(schema.tables[first], driver.node)
    if code is None:
        return rows, probes
    for index, probe in enumerate(probes):
        if not isinstance(probe, HashLookup) or probe.field == driver.field:
            continue
        second = schema.attr_of[probe.field]
        other = _one_code(schema.tables[second], probe.node)
        if other is None or not segment.has_pair(first, second):
            continue
        del probes[index]
        return _cut(segment.pair_postings(first, second).of(code, other), a, b, segment.n), probes
    return rows, probes


def _one_code(table: Any, node: ast.Node) -> int | None:
    """The one code of a small table matching ``node``, if one alone does (a large table's
    codes are not asked for: a condition on a column of distinct texts may test every one)."""
    if len(table) > _PAIR_CODES:
        return None
    codes = table.matching(node)
    return next(iter(codes)) if len(codes) == 1 else None


def _conjunct_filter(segment: Segment, node: ast.Node) -> RowFilter:
    """``rows -> matching rows`` for one conjunct: in C when it can, else a row test."""
    vectorized = row_filter(segment, node)
    if vectorized is not None:
        return vectorized
    test = row_test(segment, node)
    return lambda rows: array("i", filter(test, rows))


# ----------------------------------------------------------------------------- the executors

Cost = Callable[[Segment, Any, tuple[int, int]], int]
Candidates = Callable[[Segment, Any, int, int], RowSeq]


@attrs.frozen
class Executor:
    """How one access path runs on a segment: its estimated cost and its candidate rows."""

    cost: Cost
    candidates: Candidates


def _window_cost(segment: Segment, access: Access, bounds: tuple[int, int]) -> int:
    return bounds[1] - bounds[0]


def _text_rows(segment: Segment, access: HashLookup | EntryLookup, a: int, b: int) -> RowSeq | None:
    """A hash lookup's rows of ``[a, b)`` from the column's text index, when it answers it."""
    if not isinstance(access, HashLookup):
        return None
    return segment.text_rows(segment.schema.attr_of[access.field], access.node, a, b)


def _lookup_cost(segment: Segment, access: HashLookup | EntryLookup, bounds: tuple[int, int]) -> int:
    a, b = bounds
    if isinstance(access, HashLookup):
        attr = segment.schema.attr_of[access.field]
        if segment.has_text_path(attr, access.node):
            # Estimated, not searched (a search costs what answering does): one search of the
            # window's text, in C, against the candidates of the other paths (docs/store.md).
            return (b - a) // SPAN_PER_ROW
        if segment.has_text_branch(attr, access.node):
            # (``not SqlText contains x``): its codes would be a test of every distinct text;
            # it never drives, and a probe of it is a search of its candidates' text
            return b - a
    postings, codes = _codes(segment, access)
    if len(codes) > _EXACT_CODES:
        rows = sum(postings.count(code) for code in codes)
        rows = rows * (b - a) // max(segment.n, 1)
    else:
        rows = sum(len(_cut(postings.of(code), a, b, segment.n)) for code in codes)
    return int(rows) if len(codes) <= 1 else int(rows) * 2 + len(codes) * _PER_LIST


def _lookup_rows(segment: Segment, access: HashLookup | EntryLookup, a: int, b: int) -> RowSeq:
    found = _text_rows(segment, access, a, b)
    if found is not None:
        return found
    # A row holds one code of a scalar column, but may hold several entry codes (two
    # entries matching one set): entry lists overlap, so their union drops repeated rows.
    return _union(_posting_lists(segment, access, a, b), overlapping=isinstance(access, EntryLookup))


def _posting_lists(segment: Segment, access: HashLookup | EntryLookup, a: int, b: int) -> list[RowSeq]:
    """The non-empty posting lists of the codes ``access`` matches, each cut to ``[a, b)``."""
    postings, codes = _codes(segment, access)
    lists = [_cut(postings.of(code), a, b, segment.n) for code in codes]
    return [rows for rows in lists if len(rows)]


def _sorted_cost(segment: Segment, access: SortedLookup, bounds: tuple[int, int]) -> int:
    lists = _sorted_slices(segment, access)
    rows = sum(len(rows) for rows in lists)
    return rows if len(lists) == 1 and isinstance(access.node, ast.Compare) else rows * 2


def _sorted_rows(segment: Segment, access: SortedLookup, a: int, b: int) -> RowSeq:
    lists = _sorted_slices(segment, access)
    if len(lists) == 1 and isinstance(access.node, ast.Compare):
        return _cut(lists[0], a, b, segment.n)  # one value: already in row order
    merged = sorted(itertools.chain.from_iterable(lists))
    return _cut(array("i", merged), a, b, segment.n)


def _time_slices(segment: Segment, access: TimeLookup, a: int, b: int) -> list[range]:
    """The non-empty slices of ``[a, b)`` in the access's windows, in row order (the windows of
    a set's values are disjoint)."""
    slices = []
    for window in access.windows:
        low, high = segment.window(window)
        if max(low, a) < min(high, b):
            slices.append(range(max(low, a), min(high, b)))
    slices.sort(key=lambda rows: rows.start)
    return slices


def _time_rows(segment: Segment, access: TimeLookup, a: int, b: int) -> RowSeq:
    slices = _time_slices(segment, access, a, b)
    if len(slices) == 1:
        return slices[0]
    return array("i", itertools.chain.from_iterable(slices))


def _union_rows(segment: Segment, access: UnionOf, a: int, b: int) -> RowSeq:
    parts = [candidates(segment, item, a, b) for item in _joined(segment, access.items)]
    if len(parts) == 1:
        return parts[0]
    return array("i", sorted(set(itertools.chain.from_iterable(parts))))


def _joined(segment: Segment, items: tuple[Access, ...]) -> list[Access]:
    """The paths of a union, its hash lookups of one field joined into one lookup of the ``or``
    of their conditions: the substrings that the field's text index answers into one search of
    the text for them all (``text.py``; 50 needles were 50 searches), the others into one set
    of matching codes (``Intern.matching``: one pass for an ``or`` of 100,000 ``startswith``),
    whose posting lists share no row."""
    groups: dict[tuple[str, bool], list[HashLookup]] = {}
    found: list[Access | list[HashLookup]] = []
    for item in items:
        if not isinstance(item, HashLookup):
            found.append(item)
            continue
        key = (item.field, segment.has_text_path(segment.schema.attr_of[item.field], item.node))
        if key not in groups:
            found.append(groups.setdefault(key, []))
        groups[key].append(item)
    return [
        path if not isinstance(path, list)
        else path[0] if len(path) == 1
        else HashLookup(path[0].field, ast.Or(tuple(lookup.node for lookup in path)))
        for path in found
    ]


def _complement_rows(segment: Segment, access: Complement, a: int, b: int) -> RowSeq:
    excluded = candidates(segment, access.inner, a, b)
    if isinstance(excluded, Union):  # a Difference bisects what it excludes: merge it once
        excluded = array("i", excluded)
    return Difference(a, b, excluded) if len(excluded) else range(a, b)


def _intersect_rows(segment: Segment, access: IntersectOf, a: int, b: int) -> RowSeq:
    rows, probes = _pair_start(segment, access, a, b)
    # probes first; a hash lookup's conjunct is its node, another probe's is asked for when read
    ahead = [probe.node if isinstance(probe, HashLookup) else probe for probe in probes]
    for item in joined_negations(segment, [*ahead, *access.tests]):
        if not len(rows):
            break
        conjunct = item if isinstance(item, ast.Node) else item.conjunct()
        rows = _filtered(_conjunct_filter(segment, conjunct), rows)
    return rows


def _filtered(apply: RowFilter, rows: RowSeq) -> RowSeq:
    """``apply(rows)``; a lazy ``Union`` is filtered list by list, and what each list keeps is
    still ascending and disjoint from the others: the rows are never merged to be filtered
    (``a14_in_sets``: 125,000 rows of two values merged, ~15 ms, then ~28,000 kept)."""
    if isinstance(rows, Union):
        return _union([kept for kept in map(apply, rows.lists) if len(kept)], overlapping=False)
    return apply(rows)


#: The executor of every access path of ``query/plan.py``; a path without one is refused below,
#: when this module is imported, so no plan can silently fall back to a scan.
_EXECUTORS: dict[type[Access], Executor] = {
    FullScan: Executor(_window_cost, lambda segment, access, a, b: range(a, b)),
    NoRows: Executor(lambda segment, access, bounds: 0, lambda segment, access, a, b: _EMPTY),
    HashLookup: Executor(_lookup_cost, _lookup_rows),
    EntryLookup: Executor(_lookup_cost, _lookup_rows),
    SortedLookup: Executor(_sorted_cost, _sorted_rows),
    TimeLookup: Executor(
        lambda segment, access, bounds: sum(map(len, _time_slices(segment, access, *bounds))) + len(access.windows),
        _time_rows,
    ),
    EntryPairLookup: Executor(
        lambda segment, access, bounds: len(_entry_pair_rows(segment, access, *bounds)), _entry_pair_rows
    ),
    UnionOf: Executor(
        lambda segment, access, bounds: sum(_cost(segment, item, bounds) for item in _joined(segment, access.items))
        * 2,
        _union_rows,
    ),
    Complement: Executor(lambda segment, access, bounds: _cost(segment, access.inner, bounds), _complement_rows),
    IntersectOf: Executor(lambda segment, access, bounds: _cost(segment, access.driver, bounds), _intersect_rows),
}
_UNHANDLED = [path.__name__ for path in ACCESS_PATHS if path not in _EXECUTORS]
if _UNHANDLED:
    raise TypeError(f"access paths without an executor: {', '.join(_UNHANDLED)}")


def hits(segment: Segment, plan: Plan) -> RowSeq:
    """The rows of ``segment`` matching ``plan``, ascending (contract order).

    The residual's conjuncts that have a C-level form (``vector.py``) run first, over all
    candidates at once; the others are tested row by row on what is left.
    """
    a, b = segment.window(plan.window)
    lazy = _scanned(segment, plan, a, b)
    if lazy is not None:
        return lazy
    rows = candidates(segment, plan.access, a, b)
    if isinstance(plan.residual, ast.MatchAll) or not len(rows):
        return rows
    node = plan.residual
    conjuncts = node.items if isinstance(node, ast.And) else (node,)
    for apply in _residual_filters(segment, conjuncts, len(rows)):
        if not len(rows):
            break
        rows = _filtered(apply, rows)
    return rows


def _scanned(segment: Segment, plan: Plan, a: int, b: int) -> Scanned | None:
    """The answer as a lazy ``Scanned`` when its count comes from the indexes and building its
    rows would sort or merge many of them (``docs/store.md``, "scanned answers"): a sorted range
    or set of several values over the whole segment (its rows are in value order), or the window
    minus the union of two exact paths. ``None``: build the rows."""
    access = plan.access
    if not isinstance(plan.residual, ast.MatchAll):
        return None
    if isinstance(access, SortedLookup) and not isinstance(access.node, ast.Compare):
        return _scanned_range(segment, access, a, b)
    if isinstance(access, Complement) and isinstance(access.inner, UnionOf) and len(access.inner.items) == 2:
        return _scanned_complement(segment, access, access.inner.items, a, b)
    return None


def _scanned_range(segment: Segment, access: SortedLookup, a: int, b: int) -> Scanned | None:
    if (a, b) != (0, segment.n):  # counting the rows of a window would read them all
        return None
    keep = row_filter(segment, access.node)
    if keep is None:
        return None
    size = sum(map(len, _sorted_slices(segment, access)))
    if size < _SCAN_FROM:
        return None
    # Sorting a row costs about what scanning two does: past that, the rows are built.
    budget = max(2 * size, _SCAN_FROM)
    return Scanned(a, b, size, keep, lambda: _sorted_rows(segment, access, a, b), budget)


def _scanned_complement(
    segment: Segment, access: Complement, items: tuple[Access, ...], a: int, b: int
) -> Scanned | None:
    """The window minus ``X`` and ``Y``: ``n - |X| - |Y| + |X and Y|`` rows, the intersection
    counted by testing the smaller one's rows (in any order) against the other's column."""
    if not all(isinstance(item, (HashLookup, SortedLookup)) for item in items):
        return None  # only their rows are had unordered (``_unordered``)
    keeps = [row_filter(segment, ast.Not(item.conjunct())) for item in items]
    counts = [row_count(segment, item.conjunct()) for item in items]
    if None in keeps or None in counts:
        return None
    first, second = (_unordered(segment, item, a, b) for item in items)
    if first is None or second is None:
        return None
    parts = (first, second)
    sizes = [sum(map(len, part)) for part in parts]
    if (b - a) - max(sizes) < _SCAN_FROM:  # at most this many rows are kept
        return None
    small = 0 if sizes[0] <= sizes[1] else 1
    both = counts[1 - small](itertools.chain.from_iterable(parts[small]))  # type: ignore[misc]
    size = (b - a) - sizes[0] - sizes[1] + both
    rows = lambda: _complement_rows(segment, access, a, b)  # noqa: E731
    return Scanned(a, b, size, chained(keeps), rows, max(sum(sizes), _SCAN_FROM))  # type: ignore[arg-type]


def _unordered(segment: Segment, access: Access, a: int, b: int) -> list[RowSeq] | None:
    """The candidates of a hash or sorted path within ``[a, b)`` as lists that hold each row
    once, in no particular order, built without a merge or a sort (``None`` when they cannot be:
    a range of a sorted index cut to a window)."""
    if isinstance(access, HashLookup):  # a scalar column: its codes' lists share no row
        return _posting_lists(segment, access, a, b)
    if isinstance(access, SortedLookup):
        if isinstance(access.node, ast.Compare):  # one value: its rows are in row order
            return [candidates(segment, access, a, b)]
        if (a, b) == (0, segment.n):
            return _sorted_slices(segment, access)
    return None


def _residual_filters(segment: Segment, conjuncts: Sequence[ast.Node], rows: int) -> list[RowFilter]:
    """The filters of the residual ``conjuncts`` over ``rows`` candidates, in C first. Conjuncts
    on a few coded fields of few values, all of them or one, are decided per combination of
    their codes and read in one pass (``vector.codes_filter``), when the candidates are many;
    ``or``s of conditions on coded and int columns that share a column are read together
    through one mask (``vector.clauses_filter``); the ``not``s of substrings one text index
    answers are one search (``vector.joined_negations``)."""
    conjuncts = joined_negations(segment, conjuncts)
    combined = codes_filter(segment, conjuncts, rows)
    if combined is not None:
        return [combined]
    masked, taken = clauses_filter(segment, conjuncts, rows)
    fast: list[RowFilter] = [] if masked is None else [masked]
    tests: list[RowTest] = []
    for index, item in enumerate(conjuncts):
        if index in taken:
            continue
        vectorized = codes_filter(segment, (item,), rows) or row_filter(segment, item)
        if vectorized is not None:
            fast.append(vectorized)
        else:
            tests.append(row_test(segment, item))
    if tests:
        test = tests[0] if len(tests) == 1 else lambda row: all(t(row) for t in tests)
        fast.append(lambda rows: array("i", filter(test, rows)))
    return fast


def row_test(segment: Segment, node: ast.Node) -> RowTest:
    """``row -> bool`` for ``node`` over the segment's columns, one row at a time.

    A sub-filter on one coded field is decided by its set of matching codes, so text tests
    (``contains``, case-insensitive equality) run once per distinct value, not once per row.
    """
    schema = segment.schema
    field = single_field(node)
    if field is not None and schema.storage_of(field) == Storage.CODED:
        attr = schema.attr_of[field]
        texts = segment.text_needles(attr, node)
        if texts is not None:
            return segment.text_index(attr).test(texts)
        matching = schema.tables[attr].matching(node)
        codes = segment.columns[attr]
        return lambda row: codes[row] in matching
    if isinstance(node, ast.AnyEntry) and (entry := single_field(node.condition)) is not None:
        attr = schema.entry_attr_of[entry]
        matching = schema.entry_tables[attr].matching(node.condition)
        per_row = segment.columns[f"{ENTRY_PREFIX}{attr}"]
        return lambda row: any(code in matching for code in per_row[row])
    if isinstance(node, (ast.And, ast.Or)):
        parts = [row_test(segment, item) for item in node.items]
        combine = all if isinstance(node, ast.And) else any
        return lambda row: combine(part(row) for part in parts)
    if isinstance(node, ast.Not):
        inner = row_test(segment, node.item)
        return lambda row: not inner(row)
    catalog = segment.row_catalog(lambda: _row_catalog(segment))
    return compile_over(node, catalog, NESTED[schema.kind])


def _row_catalog(segment: Segment) -> Mapping[str, FieldSpec]:
    """The kind's field catalog with getters that read a row of ``segment``."""
    return {
        name: attrs.evolve(spec, get=segment.field_getter(name))
        for name, spec in FIELDS[segment.schema.kind].items()
    }
