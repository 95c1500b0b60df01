"""``any`` over nested entries equals the naive oracle: sets, negations, multi-entry records.

A record can have several entries matching one ``in {...}`` set; its row must then be counted and
returned once. The filters are drawn over the bundled sample (where the planner picks the entry
indexes) and over drawn multi-entry records with every entry path forced.
"""

from __future__ import annotations

import functools

import attrs

from hypothesis import given
from hypothesis import strategies as st
from oracle import Oracle

import dsc_engine.strategies as pools
from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query.plan import Complement, Plan, access_path, choose
from dsc_engine.sample import bundled
from dsc_engine.store import Store
from dsc_engine.store.execute import hits

DMS = RecordKind.DMS_LOG
ENTRIES = "SensitiveDataLog"


@functools.cache
def _sample() -> tuple[Store, Oracle]:
    store, oracle = Store(DMS), Oracle(DMS)
    records = bundled(DMS)
    store.insert(records)
    oracle.insert(records)
    return store, oracle


@functools.cache
def _entry_values() -> dict[str, tuple[str, ...]]:
    values: dict[str, set[str]] = {"TableName": set(), "ColumnName": set()}
    for record in _sample()[1].records:
        for entry in record.sensitive_data_log:
            if entry.table_name is not None:
                values["TableName"].add(entry.table_name)
            if entry.column_name is not None:
                values["ColumnName"].add(entry.column_name)
    for pool, field in ((pools.TABLE_NAMES, "TableName"), (pools.COLUMN_NAMES, "ColumnName")):
        values[field].update(pool)
    return {field: tuple(sorted(found)) for field, found in values.items()}


def _entry_leaf(values: dict[str, tuple[str, ...]]) -> st.SearchStrategy[ast.Node]:
    def leaf(field: str) -> st.SearchStrategy[ast.Node]:
        members = st.lists(st.sampled_from(values[field]), min_size=1, max_size=4, unique=True)
        return st.one_of(
            members.map(lambda items: ast.InSet(field, tuple(items))),
            st.sampled_from(values[field]).map(lambda v: ast.Compare(field, ast.CompareOp.EQ, v)),
        )

    one = st.one_of(leaf("TableName"), leaf("ColumnName"))
    return st.one_of(
        one,
        st.builds(lambda a, b: ast.And((a, b)), leaf("TableName"), leaf("ColumnName")),
        st.builds(lambda a, b: ast.Or((a, b)), one, one),
        one.map(ast.Not),
    )


def _filters(values: dict[str, tuple[str, ...]]) -> st.SearchStrategy[ast.Node]:
    anys = _entry_leaf(values).map(lambda condition: ast.AnyEntry(ENTRIES, condition))
    negated = anys.map(ast.Not)
    return st.one_of(
        anys,
        negated,
        st.builds(lambda a, b: ast.And((a, b)), st.one_of(anys, negated), st.one_of(anys, negated)),
        st.builds(lambda a, b: ast.Or((a, b)), anys, anys),
    )


def _same(store: Store, oracle: Oracle, node: ast.Node) -> None:
    everything = oracle.ordered(node)
    assert store.count(node) == len(everything), node
    page = store.query(node, 0, len(everything) + 1)
    assert page.total == len(everything), node
    assert list(page.records) == everything, node


@given(st.data())
def test_any_with_sets_and_negations_over_the_sample_equals_the_oracle(data: st.DataObject) -> None:
    store, oracle = _sample()
    node = data.draw(_filters(_entry_values()))
    _same(store, oracle, node)
    for offset in (0, 3, 50):
        expected = oracle.query(node, offset, 7)
        page = store.query(node, offset, 7)
        assert (page.total, list(page.records)) == expected, (node, offset)


def test_any_in_a_set_counts_a_record_with_two_matching_entries_once() -> None:
    store, oracle = _sample()
    tables = ast.InSet("TableName", ("shipments", "refunds"))
    columns = ast.InSet("ColumnName", ("phone", "card_no"))
    for node in (ast.AnyEntry(ENTRIES, tables), ast.Not(ast.AnyEntry(ENTRIES, columns))):
        _same(store, oracle, node)


@st.composite
def _multi_entry_stores(draw: st.DrawFn) -> tuple[Store, Oracle]:
    store, oracle = Store(DMS), Oracle(DMS)
    entries = st.lists(pools.sensitive_data_entries(), min_size=2, max_size=5).map(tuple)
    logs = pools.dms_logs().flatmap(
        lambda log: entries.map(lambda found: attrs.evolve(log, sensitive_data_log=found))
    )
    for batch in draw(st.lists(st.lists(logs, min_size=1, max_size=30), min_size=1, max_size=3)):
        store.insert(batch)
        oracle.insert(batch)
    return store, oracle


_POOL_VALUES = {"TableName": pools.TABLE_NAMES, "ColumnName": pools.COLUMN_NAMES}


@given(_multi_entry_stores(), _filters(_POOL_VALUES))
def test_every_entry_path_forced_equals_the_oracle(setup: tuple[Store, Oracle], node: ast.Node) -> None:
    store, oracle = setup
    _same(store, oracle, node)
    version = store._version
    inner = node.item if isinstance(node, ast.Not) else node
    path = access_path(inner, version.stats)
    if path is None:
        return
    base = choose(node, version.stats)
    if isinstance(node, ast.Not):
        if not path.exact:
            return
        forced = Plan(node, base.time_field, None, Complement(path), ast.MatchAll(), 0, 0)
    else:
        forced = Plan(node, base.time_field, None, path, ast.MatchAll() if path.exact else node, 0, 0)
    found = [
        (segment.sort_key(row), segment.record(row))
        for segment in version.segments
        for row in hits(segment, forced)
    ]
    assert len({key for key, _ in found}) == len(found), f"a row returned twice by {forced.access}"
    assert [record for _, record in sorted(found)] == oracle.ordered(node), forced.access
