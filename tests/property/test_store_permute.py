"""Permuting a segment's columns (``store/build.py``): the row-matrix gather of the packed
columns gives exactly ``column[order]``, whatever the widths, blocks and values."""

from __future__ import annotations

from array import array
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracle import Oracle

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.sample import generate
from dsc_engine.store import Store, build
from dsc_engine.store.columns import ABSENT_INT
from dsc_engine.wire.types import Storage

INT64 = st.integers(-(2**63), 2**63 - 1)


@st.composite
def columns_and_order(draw: st.DrawFn) -> tuple[dict[str, Any], list[int], dict[str, int]]:
    n = draw(st.integers(0, 40))
    columns: dict[str, Any] = {}
    limits: dict[str, int] = {}
    for j in range(draw(st.integers(2, 7))):  # at least two packed columns: the matrix is used
        shape = draw(st.sampled_from(["codes", "codes-unbounded", "ints", "list"] if j >= 2 else ["codes", "ints"]))
        if shape.startswith("codes"):
            # around each width's edge: 1, 2 and 4 bytes a code
            limit = draw(st.sampled_from([1, 2, 255, 256, 257, 65_535, 65_536, 65_537, 2**32]))
            codes = st.one_of(st.just(limit - 1), st.integers(0, limit - 1))  # the top code often
            columns[f"c{j}"] = array("I", draw(st.lists(codes, min_size=n, max_size=n)))
            if shape == "codes":
                limits[f"c{j}"] = limit
        elif shape == "ints":
            values = st.one_of(INT64, st.just(ABSENT_INT), st.integers(0, 2**41))
            columns[f"c{j}"] = array("q", draw(st.lists(values, min_size=n, max_size=n)))
        else:
            items = st.one_of(st.none(), st.integers(), st.tuples(st.integers(0, 9)))
            columns[f"c{j}"] = draw(st.lists(items, min_size=n, max_size=n))
    order = draw(st.one_of(st.permutations(range(n)), st.just(list(range(n))), st.just(list(range(n))[::-1])))
    return columns, order, limits


@given(columns_and_order(), st.integers(1, 5))
def test_permuted_columns_are_the_columns_gathered_by_the_order(
    setup: tuple[dict[str, Any], list[int], dict[str, int]], block: int
) -> None:
    columns, order, limits = setup
    expected = {
        attr: (array(c.typecode, [c[i] for i in order]) if isinstance(c, array) else [c[i] for i in order])
        for attr, c in columns.items()
    }
    given_columns = dict(columns)
    with pytest.MonkeyPatch.context() as patch:  # the matrix path from two rows on, in small blocks
        patch.setattr(build, "_MATRIX_ROWS", 2)
        patch.setattr(build, "_BLOCK", block)
        permuted = build.permute_columns(given_columns, order, lambda: limits)
    assert permuted == expected
    assert list(permuted) == list(columns)  # the columns' order kept
    assert given_columns == {}  # each input column handed over
    for attr, column in permuted.items():
        assert type(column) is type(columns[attr])


@pytest.mark.parametrize("limit", [1, 2, 255, 256, 257, 65_535, 65_536, 65_537, 2**32])
def test_codes_at_each_width_edge_travel_whole(limit: int) -> None:
    codes = array("I", [limit - 1, 0, limit // 2, limit - 1, 1 % limit])
    ints = array("q", [ABSENT_INT, -1, 2**62, 0, 7])
    order = [3, 1, 4, 0, 2]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build, "_MATRIX_ROWS", 2)
        permuted = build.permute_columns({"codes": codes, "ints": ints}, order, lambda: {"codes": limit})
    assert permuted == {"codes": array("I", [codes[i] for i in order]), "ints": array("q", [ints[i] for i in order])}


@pytest.mark.parametrize("kind", list(RecordKind))
@pytest.mark.parametrize("bulk", [False, True])
def test_a_segment_built_out_of_order_through_the_matrix_equals_the_oracle(kind: RecordKind, bulk: bool) -> None:
    records = generate(kind, 6_000, seed=5)  # not in contract order: one segment, gathered by rows
    assert build._MATRIX_ROWS <= len(records)
    store, oracle = Store(kind), Oracle(kind)
    if bulk:
        load = store.bulk()
        load.add(records)
        load.finish()
    else:
        store.insert(records)
    oracle.insert(records)
    _assert_one_segment_equals(store, oracle)


@pytest.mark.parametrize("kind", list(RecordKind))
def test_two_segments_merged_through_the_matrix_equal_the_oracle(kind: RecordKind) -> None:
    store, oracle = Store(kind), Oracle(kind)
    for seed in (6, 7):  # two equal segments: merged (not spliced), 6,000 rows gathered by rows
        records = generate(kind, 3_000, seed=seed)
        store.insert(records)
        oracle.insert(records)
    _assert_one_segment_equals(store, oracle)


def _assert_one_segment_equals(store: Store, oracle: Oracle) -> None:
    assert [segment.n for segment in store.segments()] == [6_000]
    page = store.query(ast.MatchAll(), 0, None)
    assert list(page.records) == oracle.ordered(ast.MatchAll())
    assert list(store.records_in_load_order()) == oracle.records  # each row kept its load number


def test_a_bulk_load_holds_its_batches_packed() -> None:
    # 4 bytes a code and 8 an int until the file's sort, not a list's pointer and int object each
    store = Store(RecordKind.AUDIT_LOG)
    load = store.bulk()
    load.add(generate(RecordKind.AUDIT_LOG, 3_000, seed=8))
    load._encode()
    storages = {attr: spec.storage for attr, spec in store.schema.columns.items()}
    for chunk in load._chunks:
        for attr, column in chunk.items():
            expected = {Storage.CODED: "I", Storage.INT: "q"}[storages[attr]]
            assert isinstance(column, array) and column.typecode == expected, attr
    assert load.finish() == 3_000
