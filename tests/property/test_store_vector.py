"""The C-level row filters (``store/vector.py``) keep exactly the rows the row-by-row test keeps."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from strategies import asts

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.store import Store
from dsc_engine.store.execute import row_test
from dsc_engine.store.vector import row_filter
from dsc_engine.strategies import record_lists


@st.composite
def segment_and_filters(draw: st.DrawFn) -> tuple[Store, list[ast.Node]]:
    kind = draw(st.sampled_from(list(RecordKind)))
    store = Store(kind)
    for batch in draw(st.lists(record_lists(kind, max_size=30), min_size=1, max_size=3)):
        store.insert(batch)
    nodes = draw(st.lists(asts(kind, max_leaves=4), min_size=1, max_size=4))
    return store, [*nodes, ast.And(tuple(nodes)) if len(nodes) > 1 else nodes[0]]


@given(segment_and_filters(), st.data())
def test_row_filters_equal_the_row_test(setup: tuple[Store, list[ast.Node]], data: st.DataObject) -> None:
    store, nodes = setup
    for segment in store._version.segments:
        everything = range(segment.n)
        some = data.draw(st.lists(st.integers(0, max(segment.n - 1, 0)), unique=True).map(sorted))
        for node in nodes:
            vectorized = row_filter(segment, node)
            if vectorized is None or isinstance(node, ast.MatchAll):
                continue
            test = row_test(segment, node)
            for rows in (everything, some):
                assert list(vectorized(rows)) == [row for row in rows if test(row)]


@given(st.lists(record_lists(RecordKind.DMS_LOG, max_size=30), min_size=1, max_size=3), st.data())
def test_entry_pairs_equal_the_oracle(batches: list[list[object]], data: st.DataObject) -> None:
    from oracle import Oracle

    store, oracle = Store(RecordKind.DMS_LOG), Oracle(RecordKind.DMS_LOG)
    for batch in batches:
        store.insert(batch)
        oracle.insert(batch)
    entries = [e for r in oracle.records for e in r.sensitive_data_log or ()]  # type: ignore[attr-defined]
    tables = sorted({str(e.table_name) for e in entries} | {"nowhere"})
    columns = sorted({str(e.column_name) for e in entries} | {"nothing"})
    table, column = data.draw(st.sampled_from(tables)), data.draw(st.sampled_from(columns))
    pair = ast.And((ast.Compare("TableName", ast.CompareOp.EQ, table), ast.Compare("ColumnName", ast.CompareOp.EQ, column)))
    for node in (ast.AnyEntry("SensitiveDataLog", pair), ast.Not(ast.AnyEntry("SensitiveDataLog", pair))):
        page = store.query(node, 0, None)
        assert (page.total, list(page.records)) == oracle.query(node, 0, None)
