"""Answers scanned for as far as a read needs (``lazyrows.Scanned``, ``execute._scanned``): every
read agrees with the rows built whole, the counts from the indexes are exact, and a first page
neither sorts a broad range nor merges the sets a complement excludes."""

from __future__ import annotations

import bisect
import collections
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import store_and_oracle

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query.plan import Complement, Plan, SortedLookup, UnionOf, access_path
from dsc_engine.store import Store, execute
from dsc_engine.store.execute import hits
from dsc_engine.store.lazyrows import Scanned

EQ = ast.CompareOp.EQ


@st.composite
def _windows(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    a = draw(st.integers(0, 50))
    b = draw(st.integers(a, a + 3_000))
    kept = sorted(draw(st.sets(st.integers(a, max(a, b - 1)), max_size=400)) - ({b} if a == b else set()))
    return a, b, [row for row in kept if a <= row < b]


@settings(max_examples=300)
@given(_windows(), st.integers(0, 7_000), st.data())
def test_every_read_of_a_scanned_answer_agrees_with_its_rows(
    window: tuple[int, int, list[int]], budget: int, data: st.DataObject
) -> None:
    a, b, kept = window
    members = set(kept)
    built: list[int] = []

    def rows() -> array[int]:
        built.append(1)
        return array("i", kept)

    def fresh() -> Scanned:
        return Scanned(a, b, len(kept), lambda rs: array("i", (r for r in rs if r in members)), rows, budget)

    scanned = fresh()
    assert len(scanned) == len(kept)
    start = data.draw(st.integers(0, len(kept) + 1))
    assert list(fresh().iter_from(start)) == kept[start:]  # as a merge across segments reads it
    built.clear()
    for _ in range(5):
        start = data.draw(st.integers(-len(kept) - 3, len(kept) + 3))
        stop = data.draw(st.integers(-len(kept) - 3, len(kept) + 3))
        step = data.draw(st.sampled_from([None, 1, 2, 3, -1, -2]))
        assert list(scanned[start:stop:step]) == kept[start:stop:step], (start, stop, step)
        if kept:
            index = data.draw(st.integers(-len(kept), len(kept) - 1))
            assert scanned[index] == kept[index]
    for index in (len(kept), -len(kept) - 1):
        with pytest.raises(IndexError):
            scanned[index]
    probe = data.draw(st.integers(a - 1, b + 1))
    assert bisect.bisect_left(scanned, probe) == bisect.bisect_left(kept, probe)
    assert list(scanned) == kept and list(scanned) == kept
    assert len(built) <= 1  # built once at most, whatever was read


def test_a_first_page_scans_a_little_and_a_far_read_builds_the_rows_once() -> None:
    kept = list(range(3, 100_000, 10))
    built: list[int] = []
    scanned_rows: list[int] = []

    def keep(rows: range) -> array[int]:
        scanned_rows.append(len(rows))
        return array("i", (r for r in rows if r % 10 == 3))

    def rows() -> array[int]:
        built.append(1)
        return array("i", kept)

    scanned = Scanned(0, 100_000, len(kept), keep, rows, budget=20_000)
    assert list(scanned[:50]) == kept[:50] and not built
    assert sum(scanned_rows) < 1_500  # about 500 rows hold the page
    assert list(scanned[:60]) == kept[:60] and not built  # more of the same scan, from where it stopped
    assert scanned[9_000] == kept[9_000] and built == [1]  # 90,000 rows away: past the budget
    assert list(scanned[5:7]) == kept[5:7] and list(scanned) == kept and built == [1]
    merged = Scanned(0, 100_000, len(kept), keep, rows, budget=10**6)  # read as a merge reads it
    assert list(merged.iter_from(5)) == kept[5:] and built == [1]


def test_a_count_the_scan_contradicts_is_an_error_not_a_short_page() -> None:
    scanned = Scanned(0, 100, 11, lambda rows: array("i", (r for r in rows if r % 10 == 0)), lambda: range(0), 10**6)
    with pytest.raises(RuntimeError, match="found 10 rows, not 11"):
        scanned[10]


# ------------------------------------------------------------------ through the store


@contextmanager
def _scanning_from(rows: int) -> Iterator[None]:
    with mock.patch.object(execute, "_SCAN_FROM", rows):
        yield


_ONE = store_and_oracle(RecordKind.AUDIT_LOG, [3_000], seed=31)
_TWO = store_and_oracle(RecordKind.AUDIT_LOG, [2_000, 400], seed=31)
_TOP_IP = collections.Counter(r.client_ip for r in _ONE[1].records).most_common(1)[0][0]  # type: ignore[attr-defined]


def _filters(low: int, high: int, ip: str, execute_low: int) -> list[ast.Node]:
    rows = ast.Range("EffectRow", low, high)
    return [
        rows,
        ast.Range("ExecuteTime", execute_low, None, low_inclusive=False),
        ast.InSet("ProductId", (1, 3, 5)),
        ast.And((ast.Not(ast.Compare("ClientIp", EQ, ip)), ast.Not(rows))),
        ast.And((ast.Not(ast.Range("ExecuteTime", None, execute_low)), ast.Not(rows))),
        ast.And((ast.Not(ast.InSet("ClientIp", (ip, "nowhere"))), ast.Not(ast.Compare("UserName", EQ, "admin")))),
    ]


def _forced(node: ast.Node, store: Store) -> Plan | None:
    """``node``'s plan with the path ``_scanned`` answers forced: a sorted lookup, or the window
    minus the union of the two negations' paths."""
    stats = store._version.stats
    if isinstance(node, ast.And):
        inner = [access_path(item.item, stats) for item in node.items]  # type: ignore[attr-defined]
        if None in inner:
            return None
        access: Any = Complement(UnionOf(tuple(inner)))  # type: ignore[arg-type]
    else:
        access = access_path(node, stats)
        if not isinstance(access, SortedLookup):
            return None
    return Plan(node, "CreationTime", None, access, ast.MatchAll(), 0, 0)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(-5, 2_000), st.integers(0, 3_000), st.sampled_from([_TOP_IP, "10.0.0.1"]), st.integers(0, 3_000),
    st.sampled_from([0, 40, 5_000]), st.data(),
)
def test_scanned_answers_equal_the_oracle(
    low: int, span: int, ip: str, execute_low: int, scan_from: int, data: st.DataObject
) -> None:
    """Forced on each segment (counts from the indexes, every read against the rows built whole),
    and through the store's own plans and pages, in one segment and across two."""
    for store, oracle in (_ONE, _TWO):
        for node in _filters(low, low + span, ip, execute_low):
            with _scanning_from(scan_from):
                plan = _forced(node, store)
                for segment in store._version.segments if plan is not None else ():
                    expected = _built(segment, plan)
                    assert expected == sorted(set(expected))
                    found = hits(segment, plan)
                    assert len(found) == len(expected), node
                    start = data.draw(st.integers(0, len(expected) + 2))
                    assert list(found[start : start + 7]) == expected[start : start + 7], (node, start)
                    assert list(found) == expected
                for offset in (0, data.draw(st.integers(0, 2_500))):
                    page = store.query(node, offset, 9)
                    assert (page.total, list(page.records)) == oracle.query(node, offset, 9), (node, offset)


def _built(segment: Any, plan: Plan) -> list[int]:
    with _scanning_from(10**9):  # the rows as built whole, never scanned
        return list(hits(segment, plan))


@pytest.mark.parametrize("store", [_ONE[0], _TWO[0]], ids=["one-segment", "two-segments"])
def test_the_store_scans_instead_of_sorting_a_broad_range_or_merging_a_complement(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planner's own choices on these filters are the scanned paths; a page near the start
    neither sorts the range nor merges what the complement excludes, a far page builds them."""
    oracle = _ONE[1] if store is _ONE[0] else _TWO[1]
    calls = collections.Counter[str]()
    for name in ("_sorted_rows", "_complement_rows"):
        built = getattr(execute, name)
        monkeypatch.setattr(execute, name, lambda *args, _b=built, _n=name: calls.update([_n]) or _b(*args))
    monkeypatch.setattr(execute, "_SCAN_FROM", 10)
    broad = ast.Range("EffectRow", 1, None, low_inclusive=False)  # a third of the rows
    neither = ast.And((ast.Not(ast.Compare("ClientIp", EQ, _TOP_IP)), ast.Not(ast.Range("EffectRow", 1, 40))))
    for node, path in ((broad, SortedLookup), (neither, Complement)):
        plan = store._plan(node, store._version)
        assert isinstance(plan.access, path), store.explain(node)
        assert isinstance(hits(store._version.segments[0], plan), Scanned), store.explain(node)
        page = store.query(node, 0, 10)
        assert (page.total, list(page.records)) == oracle.query(node, 0, 10)
    assert not calls, calls
    total = store.query(broad, 0, 1).total
    page = store.query(broad, total - 3, 10)  # the last page: past every budget
    assert (page.total, list(page.records)) == oracle.query(broad, total - 3, 10)
    assert calls["_sorted_rows"] >= 1
