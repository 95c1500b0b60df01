"""The indexed store answers exactly like the naive oracle: totals, pages, order, distinct."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from oracle import Oracle
from strategies import asts

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.store import Store
from dsc_engine.strategies import record_lists

KINDS = list(RecordKind)
DISTINCT = {
    RecordKind.AUDIT_LOG: "RuleId",
    RecordKind.MASKING_RUN: "TaskId",
    RecordKind.DMS_LOG: "UserName",
}


@st.composite
def loaded(draw: st.DrawFn, kind: RecordKind) -> tuple[Store, Oracle]:
    """A store and an oracle holding the same records, inserted in the same batches."""
    store, oracle = Store(kind), Oracle(kind)
    for batch in draw(st.lists(record_lists(kind, max_size=25), min_size=1, max_size=4)):
        store.insert(batch)
        oracle.insert(batch)
    return store, oracle


def _same_everywhere(store: Store, oracle: Oracle, node: ast.Node, size: int) -> None:
    everything = oracle.ordered(node)
    assert store.count(node) == len(everything)
    assert list(store.iter_ordered(node)) == everything
    for offset in range(0, len(everything) + size, size):
        page = store.query(node, offset, size)
        assert page.total == len(everything)
        assert list(page.records) == everything[offset : offset + size]


@given(st.sampled_from(KINDS).flatmap(lambda k: st.tuples(loaded(k), asts(k))), st.integers(1, 7))
def test_pages_equal_the_oracle(setup: tuple[tuple[Store, Oracle], ast.Node], size: int) -> None:
    (store, oracle), node = setup
    _same_everywhere(store, oracle, node, size)


@given(st.sampled_from(KINDS).flatmap(lambda k: st.tuples(loaded(k), asts(k))), st.integers(0, 40))
def test_distinct_equals_the_oracle(setup: tuple[tuple[Store, Oracle], ast.Node], offset: int) -> None:
    (store, oracle), node = setup
    field = DISTINCT[store.kind]
    page = store.query(node, offset, 5, distinct=field)
    assert (page.total, list(page.records)) == oracle.query(node, offset, 5, distinct=field)


@given(st.sampled_from(KINDS).flatmap(loaded))
def test_load_order_is_kept(setup: tuple[Store, Oracle]) -> None:
    store, oracle = setup
    assert list(store.records_in_load_order()) == oracle.records
    assert len(store) == len(oracle.records)
