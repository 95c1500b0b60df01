"""``any`` over nested entries equals the naive oracle: sets, negations, multi-entry records;
and so does ``count_by`` of an entry field (each distinct value of a record's entries counts it once).

A record can have several entries matching one ``in {...}`` set; its row must then be counted and
returned once. The filters are drawn over the bundled sample (where the planner picks the entry
indexes) and over drawn multi-entry records, on every backend (``backends.NAMES``); with every
entry path of the in-memory store forced, too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import attrs
import pytest
from backends import NAMES, Opened, examples, open_backend
from hypothesis import given
from hypothesis import strategies as st
from oracle import Oracle

import dsc_engine.strategies as pools
from dsc_engine.errors import StoreError
from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query.plan import Complement, Plan, access_path, choose
from dsc_engine.query.source import RecordSource
from dsc_engine.sample import bundled
from dsc_engine.store import Store
from dsc_engine.store.execute import hits

DMS = RecordKind.DMS_LOG
ENTRIES = "SensitiveDataLog"


@pytest.fixture(scope="module", params=NAMES)
def backend(request: pytest.FixtureRequest) -> Iterator[Opened]:
    opened = open_backend(request.param)
    yield opened
    opened.close()


@functools.cache
def _sample() -> tuple[Store, Oracle]:
    store, oracle = Store(DMS), Oracle(DMS)
    records = bundled(DMS)
    store.insert(records)
    oracle.insert(records)
    return store, oracle


def _sample_on(backend: Opened) -> tuple[RecordSource, Oracle]:
    """The bundled DMS sample in ``backend`` (loaded once per module and backend)."""
    source = backend.engine.store(DMS)
    if not len(source):
        source.insert(bundled(DMS))
    return source, _sample()[1]


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


def _same(store: RecordSource, oracle: Oracle, node: ast.Node) -> None:
    everything = oracle.ordered(node)
    assert store.count(node) == len(everything), node
    page = store.query(node, 0, len(everything) + 1)
    assert page.total == len(everything), node
    assert list(page.records) == everything, node


def test_any_with_sets_and_negations_over_the_sample_equals_the_oracle(backend: Opened) -> None:
    store, oracle = _sample_on(backend)

    @examples(backend.name)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        node = data.draw(_filters(_entry_values()))
        _same(store, oracle, node)
        for offset in (0, 3, 50):
            expected = oracle.query(node, offset, 7)
            page = store.query(node, offset, 7)
            assert (page.total, list(page.records)) == expected, (node, offset)

    check()


def test_any_in_a_set_counts_a_record_with_two_matching_entries_once(backend: Opened) -> None:
    store, oracle = _sample_on(backend)
    tables = ast.InSet("TableName", ("shipments", "refunds"))
    columns = ast.InSet("ColumnName", ("phone", "card_no"))
    for node in (ast.AnyEntry(ENTRIES, tables), ast.Not(ast.AnyEntry(ENTRIES, columns))):
        _same(store, oracle, node)


def _multi_entry_logs() -> st.SearchStrategy[list[list[object]]]:
    entries = st.lists(pools.sensitive_data_entries(), min_size=2, max_size=5).map(tuple)
    logs = pools.dms_logs().flatmap(
        lambda log: entries.map(lambda found: attrs.evolve(log, sensitive_data_log=found))
    )
    return st.lists(st.lists(logs, min_size=1, max_size=30), min_size=1, max_size=3)


@st.composite
def _multi_entry_stores(draw: st.DrawFn) -> tuple[Store, Oracle]:
    store, oracle = Store(DMS), Oracle(DMS)
    for batch in draw(_multi_entry_logs()):
        store.insert(batch)
        oracle.insert(batch)
    return store, oracle


_POOL_VALUES = {"TableName": pools.TABLE_NAMES, "ColumnName": pools.COLUMN_NAMES}


def test_multi_entry_records_equal_the_oracle(backend: Opened) -> None:
    @examples(backend.name)
    @given(_multi_entry_logs(), _filters(_POOL_VALUES))
    def check(batches: list[list[object]], node: ast.Node) -> None:
        source, oracle = backend.fresh(DMS), Oracle(DMS)
        for batch in batches:
            source.insert(batch)  # type: ignore[arg-type]
            oracle.insert(batch)
        _same(source, oracle, node)

    check()


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


#: The fields of a DMS log's entries, which ``count_by`` counts by as well as the log's own.
_ENTRY_FIELDS = ("TableName", "ColumnName", "SecurityLevel", "ColumnPermissionType", "DesensitizationRule")


def test_count_by_an_entry_field_over_the_sample_equals_the_oracle(backend: Opened) -> None:
    """``count by TableName`` of DMS logs was refused (not a field of the logs); each log counts
    once under each distinct value its entries hold."""
    store, oracle = backend.fresh(DMS), _sample()[1]  # emptied: a drawn test before it left its logs there
    store.insert(bundled(DMS))
    users = ast.AnyEntry(ENTRIES, ast.Compare("TableName", ast.CompareOp.EQ, "users"))
    for node in (ast.MatchAll(), users, ast.Not(users)):
        for field in _ENTRY_FIELDS:
            assert store.count_by(node, field) == oracle.count_by(node, field), (node, field)
    everything = store.count_by(ast.MatchAll(), "TableName")
    assert sum(count for _, count in everything) > len(oracle.records)  # logs of several tables count in each
    with pytest.raises(StoreError, match="'Nope' is not a field of dms_log records or their entries"):
        store.count_by(ast.MatchAll(), "Nope")
    with pytest.raises(StoreError, match="'TableName' is not a field of masking_run records$"):
        backend.engine.store(RecordKind.MASKING_RUN).count_by(ast.MatchAll(), "TableName")


def test_count_by_an_entry_field_of_drawn_logs_equals_the_oracle(backend: Opened) -> None:
    """Drawn logs: several entries of one table (counted once), entries without the field, logs
    without entries (both counted once as absent, ``None``), over a filter or none."""
    @examples(backend.name)
    @given(_multi_entry_logs(), st.lists(pools.dms_logs(), max_size=5), st.one_of(st.just(ast.MatchAll()), _filters(_POOL_VALUES)),
           st.sampled_from(_ENTRY_FIELDS))
    def check(batches: list[list[object]], few: list[object], node: ast.Node, field: str) -> None:
        source, oracle = backend.fresh(DMS), Oracle(DMS)
        for batch in [*batches, few] if few else batches:
            source.insert(batch)  # type: ignore[arg-type]
            oracle.insert(batch)
        assert source.count_by(node, field) == oracle.count_by(node, field)

    check()
