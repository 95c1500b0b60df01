"""The lazy union of an ``in`` set's posting lists (``lazyrows.Union``): every read agrees with the
merged rows, and the store pages through it as through any other candidates."""

from __future__ import annotations

import bisect
import collections
import itertools
from collections.abc import Sequence
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import Oracle

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query import plan as plan_module
from dsc_engine.store import execute, paging
from dsc_engine.store.store import Store
from dsc_engine.store.lazyrows import Difference, Union
from dsc_engine.sample import generate


@st.composite
def _disjoint_lists(draw: st.DrawFn) -> list[array]:
    """Two to five non-empty ascending lists sharing no row (rows of an ``in`` set's values)."""
    rows = sorted(draw(st.sets(st.integers(0, 5_000), min_size=2, max_size=120)))
    count = draw(st.integers(2, min(5, len(rows))))
    owner = draw(st.lists(st.integers(0, count - 1), min_size=len(rows), max_size=len(rows)))
    owner[:count] = range(count)  # each list gets a row
    return [array("i", (row for row, o in zip(rows, owner) if o == i)) for i in range(count)]


@settings(max_examples=300)
@given(_disjoint_lists(), st.data())
def test_every_read_of_a_union_agrees_with_the_merged_rows(lists: list[array], data: st.DataObject) -> None:
    merged = sorted(row for rows in lists for row in rows)
    union = Union(lists)
    assert len(union) == len(merged)
    for index in data.draw(st.lists(st.integers(-len(merged), len(merged) - 1), max_size=8)):
        assert union[index] == merged[index]
    for _ in range(4):  # slices, and slices of slices, stay lazy and agree
        start = data.draw(st.integers(-len(merged) - 2, len(merged) + 2))
        stop = data.draw(st.integers(-len(merged) - 2, len(merged) + 2))
        part = union[start:stop]
        assert list(part) == merged[start:stop] and len(part) == len(merged[start:stop])
        if isinstance(part, Union) and len(part) > 1:
            assert list(part[1:]) == merged[start:stop][1:]
    probe = data.draw(st.integers(-1, 5_001))
    assert bisect.bisect_left(union, probe) == bisect.bisect_left(merged, probe)
    assert list(union) == merged and list(union) == merged  # the merge, then what it kept
    assert union[::2] == array("i", merged[::2]) and list(union[3:9]) == merged[3:9]


@pytest.mark.parametrize("second", [3_000, 500], ids=["one-segment", "two-segments"])
def test_a_broad_in_set_pages_through_a_lazy_union_like_the_oracle(second: int) -> None:
    """An ``in`` set of two values over more than ``_LAZY_UNION`` rows: candidates stay a lazy
    ``Union``; every page and the total equal the oracle's, in one segment (a slice of the
    union) and in two (a merge across segments that reads the union's lists as it goes)."""
    kind = RecordKind.MASKING_RUN
    store, oracle = Store(kind), Oracle(kind)
    batches = [generate(kind, 9_000, seed=1), generate(kind, second, seed=2)]
    for batch in batches:
        store.insert(batch)
        oracle.insert(batch)
    node = ast.InSet("Status", (2, 4))  # about a seventh of the runs: the hash path drives
    version = store._version
    plan = store._plan(node, version)
    first = version.segments[0]
    assert len(version.segments) == (1 if second == 3_000 else 2)
    assert isinstance(execute.hits(first, plan), Union), store.explain(node)
    for offset, limit in ((0, 10), (7, 25), (300, 50), (1_000, 100), (1_700, 20), (5_000, 5)):
        answer = store.query(node, offset, limit)
        assert (answer.total, list(answer.records)) == oracle.query(node, offset, limit), (offset, limit)


def test_a_union_of_many_lists_is_merged_and_a_complement_never_bisects_a_lazy_one() -> None:
    """Finding a row of a lazy ``Union`` bisects every list: with thousands of lists (``contains``
    on a column of many values) that cost 10-80x a plain merge, and a complement (``Difference``)
    bisecting its excluded rows paid it a few dozen times a page. Many lists are merged; a lazy
    union excluded by a complement is merged first."""
    kind = RecordKind.AUDIT_LOG
    store = Store(kind)
    store.insert(generate(kind, 6_000, seed=5))
    segment = store._version.segments[0]
    few = [array("i", range(start, 6_000, 3)) for start in range(3)]
    many = [array("i", range(start, 6_000, 40)) for start in range(40)]
    assert isinstance(execute._union(few, overlapping=False), Union)
    assert isinstance(execute._union(many, overlapping=False), array)
    users = collections.Counter(segment.record(row).user_name for row in range(segment.n))
    top = tuple(name for name, _ in users.most_common(4))
    lazy = plan_module.HashLookup("UserName", ast.InSet("UserName", top))
    assert isinstance(execute.candidates(segment, lazy, 0, segment.n), Union)  # the case in point
    rows = execute.candidates(segment, plan_module.Complement(lazy), 0, segment.n)
    assert isinstance(rows, Difference) and not isinstance(rows.excluded, Union)
    expected = [r for r in range(segment.n) if r not in set(execute.candidates(segment, lazy, 0, segment.n))]
    assert list(rows[:50]) == expected[:50] and len(rows) == len(expected)


def test_a_merge_across_segments_reads_a_lazy_union_as_it_goes() -> None:
    """The tail of a lazy ``Union`` a cross-segment merge starts from is a lazy merge of its lists
    (a page takes a few rows of it), not the union merged whole."""
    union = Union([array("i", range(0, 3_000, 2)), array("i", range(1, 3_000, 2))])
    tail = paging._tail(union, 5)
    assert not isinstance(tail, Sequence) and union._merged is None
    assert list(itertools.islice(tail, 4)) == [5, 6, 7, 8] and union._merged is None


def test_a_lazy_union_is_filtered_list_by_list_and_stays_lazy() -> None:
    """An ``in`` set driving an intersection, then a residual: each list is filtered on its own
    (what it keeps is still ascending and disjoint from the others), so the rows are never merged
    to be filtered; every page and the total equal the oracle's."""
    kind = RecordKind.MASKING_RUN
    store, oracle = Store(kind), Oracle(kind)
    batch = generate(kind, 12_000, seed=1)
    store.insert(batch)
    oracle.insert(batch)
    statuses = plan_module.HashLookup("Status", ast.InSet("Status", (1, 2)))
    kinds = plan_module.HashLookup("Type", ast.Compare("Type", ast.CompareOp.EQ, 2))
    residual = ast.Not(ast.Compare("SrcType", ast.CompareOp.EQ, 5))
    node = ast.And((statuses.node, kinds.node, residual))
    segment = store._version.segments[0]
    forced = plan_module.Plan(node, "StartTime", None, plan_module.IntersectOf(statuses, (kinds,)), residual, 0, 0)
    rows = execute.hits(segment, forced)
    assert isinstance(rows, Union) and len(rows.lists) == 2
    expected = oracle.ordered(node)
    assert [segment.record(row) for row in rows] == expected
    for offset, limit in ((0, 10), (333, 40), (len(expected) - 5, 10)):
        page = rows[offset : offset + limit]
        assert [segment.record(row) for row in page] == expected[offset : offset + limit]
        answer = store.query(node, offset, limit)
        assert (answer.total, list(answer.records)) == oracle.query(node, offset, limit)
