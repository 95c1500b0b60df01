"""The C-level row filters (``store/vector.py``) keep exactly the rows the row-by-row test keeps."""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Sequence
from typing import Any
from unittest import mock

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracle import matches
from strategies import asts

from dsc_engine.models import RecordKind
from dsc_engine.query import ast, plan
from dsc_engine.store import Store
from dsc_engine.sample import generate
from dsc_engine.store.execute import _residual_filters, row_test
from dsc_engine.store.reader import _check_plain, record_reader
from dsc_engine.store import vector
from dsc_engine.store.vector import _column_selector, either, row_filter
from dsc_engine.strategies import record_lists
from dsc_engine.wire.catalog import FIELDS, NESTED


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


@functools.cache
def _audit_segment() -> tuple[list[Any], Any, list[str]]:
    """500 audit logs in one segment, and their client addresses, sorted (made once: a segment
    never changes)."""
    store = Store(RecordKind.AUDIT_LOG)
    records = generate(RecordKind.AUDIT_LOG, 500, seed=2)
    store.insert(records)
    return records, store._version.segments[0], sorted({r.client_ip for r in records if r.client_ip is not None})


def test_an_or_of_several_fields_conditions_is_filtered_in_c() -> None:
    """An ``or`` whose branches read different fields (``(ClientIp = a and EffectRow != 1) or
    ...``) had no C form, so a scan tested every branch on every row (300 branches over 100,000
    records: 22 s, now 2.7 s); it is the union of what each branch's C filter keeps."""
    records, segment, ips = _audit_segment()
    node = ast.Or(tuple(
        ast.And((ast.Compare("ClientIp", ast.CompareOp.EQ, ip), ast.Not(ast.Compare("EffectRow", ast.CompareOp.EQ, i))))
        for i, ip in enumerate(ips[:20])
    ) + (ast.Compare("UserName", ast.CompareOp.EQ, records[0].user_name),))
    vectorized = row_filter(segment, node)
    assert vectorized is not None
    test = row_test(segment, node)
    expected = [row for row in range(segment.n) if test(row)]
    assert 0 < len(expected) < segment.n
    assert list(vectorized(range(segment.n))) == expected
    assert list(vectorized(expected[::2])) == expected[::2]


_INT_BRANCH = st.one_of(
    st.builds(lambda low, width, a, b: ast.Range("EffectRow", low, None if width is None else low + width, a, b),
              st.integers(-5, 60), st.none() | st.integers(0, 40), st.booleans(), st.booleans()),
    st.builds(lambda high, b: ast.Range("EffectRow", None, high, True, b), st.integers(-5, 60), st.booleans()),
    st.builds(lambda v: ast.Compare("EffectRow", ast.CompareOp.EQ, v), st.integers(-5, 60)),
    st.builds(lambda vs: ast.InSet("EffectRow", tuple(vs)), st.lists(st.integers(-5, 5_000), min_size=1, max_size=5, unique=True)),
)


@given(st.lists(_INT_BRANCH, min_size=2, max_size=8), st.sampled_from([0, 4_096, 10**6]))
def test_an_or_of_one_int_fields_ranges_and_values_is_one_selector(branches: list[ast.Node], wide: int) -> None:
    """An ``or`` of ranges and values of one int field had no C form of its own: each branch
    was a pass over the rows (500 ranges of ``EffectRow`` over 100,000 records: 5.7 s, now
    0.08 s). It is one selector, a set of the values or a binary search of the intervals'
    bounds (``wide`` widens a range past the set's size)."""
    records = [attrs.evolve(r, effect_row=None if i % 7 == 0 else (i * 13) % 70 - 5 + (wide if i % 5 == 0 else 0))
               for i, r in enumerate(generate(RecordKind.AUDIT_LOG, 200, seed=5))]
    store = Store(RecordKind.AUDIT_LOG)
    store.insert(records)
    segment = store._version.segments[0]
    if wide:
        branches = [*branches, ast.Range("EffectRow", 100, 100 + wide)]
    node = ast.Or(tuple(branches))
    assert _column_selector(segment, node) is not None
    test = row_test(segment, node)
    for each in (node, ast.Not(node)):
        vectorized = row_filter(segment, each)
        assert vectorized is not None
        expected = [row for row in range(segment.n) if test(row) == (each is node)]
        assert list(vectorized(range(segment.n))) == expected
        assert list(vectorized(range(0, segment.n, 3))) == expected_of(expected, range(0, segment.n, 3))


def expected_of(rows: list[int], among: range) -> list[int]:
    return [row for row in rows if row in among]


def test_an_or_tests_each_field_once_and_each_branch_only_on_rows_no_branch_kept() -> None:
    """``CreationTime in [a b] or ClientIp = v or ...`` (300 of each): the branches of one field
    are one selector, so the rows are read once per field and not once per branch (5.3 s over
    100,000 records, now 0.08 s); and a branch is tested only on the rows no earlier branch
    kept, once a branch keeps many (300 branches each keeping nearly every row: 14 s, now 0.4 s)."""
    records, segment, ips = _audit_segment()
    node = ast.Or(tuple(
        item for i, r in enumerate(records[:40])
        for item in (ast.Range("CreationTime", r.creation_time, r.creation_time + 1_000), ast.Compare("ClientIp", ast.CompareOp.EQ, ips[i]))
    ))
    made: list[object] = []
    real = vector._over
    with mock.patch.object(vector, "_over", lambda *found: made.append(found) or real(*found)):
        vectorized = row_filter(segment, node)
    assert vectorized is not None and len(made) == 2  # one per field, not 80
    test = row_test(segment, node)
    assert list(vectorized(range(segment.n))) == [row for row in range(segment.n) if test(row)]
    tested: list[int] = []

    def part(keep: Callable[[int], bool]) -> Callable[[Sequence[int]], Sequence[int]]:
        return lambda rows: tested.append(len(rows)) or [row for row in rows if keep(row)]  # type: ignore[func-returns-value]

    parts = [part(lambda row: row % 10 != 0), part(lambda row: row % 10 == 0), part(lambda row: True)]
    assert list(either(parts)(range(1_000))) == list(range(1_000))
    assert tested == [1_000, 100]  # the second part tests what the first left; nothing is left for the third
    # rows kept by a part that keeps few stay among those left; what is kept is the rows less
    # those left that no part kept, not a sort of everything kept (~96,000 rows a conjunct)
    parts = [part(lambda row: row in (5, 7, 8)), part(lambda row: row % 2 == 0), part(lambda row: row == 9)]
    with mock.patch.object(vector, "sorted", create=True, side_effect=AssertionError("sorted")):
        assert list(either(parts)(range(1_000))) == sorted({5, 7, 9, *range(0, 1_000, 2)})


@pytest.mark.parametrize("second", ["ClientIp", "EffectRow", "EffectRow >="])
def test_an_and_of_ors_of_coded_fields_reads_each_field_once_per_row(second: str) -> None:
    """``(UserName = u or ClientIp = v or DatabaseName = d) and ...``: each conjunct was an
    ``or`` read in a pass per field over every candidate (300 conjuncts keeping ~40,000 of
    100,000 audit logs: ~10 s; with ``EffectRow = n`` for ``ClientIp = v``, 1,000 conjuncts
    keeping ~4,000: 3.4 s; 300 with ``EffectRow >= n or EffectRow = i``: 4.8 s); one mask of
    the conjuncts a row satisfies reads each field once per row, whatever the number of
    conjuncts."""
    records, segment, ips = _audit_segment()
    eq = ast.CompareOp.EQ
    users = sorted({r.user_name for r in records if r.user_name is not None})
    common = collections.Counter(r.database_name for r in records if r.database_name).most_common(1)[0][0]
    node = ast.And(tuple(
        ast.Or((ast.Compare("UserName", eq, users[i % len(users)]),
                ast.Compare("ClientIp", eq, ips[i]) if second == "ClientIp" else ast.Compare("EffectRow", eq, i),
                *([ast.Range("EffectRow", i % 4, None)] if second == "EffectRow >=" else []),
                ast.Compare("DatabaseName", eq, common)))
        for i in range(60)
    ))
    test = row_test(segment, node)
    expected = [row for row in range(segment.n) if test(row)]
    assert 0 < len(expected) < segment.n
    read: list[int] = []
    real = vector._values_at

    def counted(column: Any, rows: Any) -> Any:
        read.append(len(rows))
        return real(column, rows)

    with mock.patch.object(vector, "_values_at", counted):
        rows: Sequence[int] = range(segment.n)
        for apply in _residual_filters(segment, node.items, segment.n):
            rows = apply(rows)
    assert list(rows) == expected
    assert sum(read) <= 3 * segment.n  # three fields, each read once per row (was ~3 per conjunct)


def test_the_usual_residual_is_not_read_for_a_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leaves on fields of their own, and an ``or`` beside them reading other fields, can share no
    column: the mask is not tried for them (grouping their branches took ~6-10 µs a segment)."""
    records, segment, ips = _audit_segment()
    monkeypatch.setattr(vector, "_mask_groups", mock.Mock(side_effect=AssertionError("grouped")))
    eq = ast.CompareOp.EQ
    usual = [
        (ast.Compare("ClientIp", eq, ips[0]), ast.Range("EffectRow", 1, None), ast.Not(ast.Compare("UserName", eq, "a"))),
        (ast.Or((ast.Compare("ClientIp", eq, ips[0]), ast.Compare("UserName", eq, "a"))), ast.Compare("OperateType", eq, "x")),
    ]
    for conjuncts in usual:
        assert vector.clauses_filter(segment, conjuncts, segment.n) == (None, set())
        assert _residual_filters(segment, conjuncts, segment.n)


@st.composite
def ors_of_coded_fields(draw: st.DrawFn) -> list[ast.Node]:
    """Conjuncts over ``_audit_segment()``: ``or``s of conditions on its coded fields (values it
    holds and others, negated, sets, text tests) and on ``EffectRow``, now and then a conjunct of
    any other form."""
    records, _, _ = _audit_segment()
    fields = {"UserName": "user_name", "ClientIp": "client_ip", "DatabaseName": "database_name", "OperateType": "operate_type"}

    @st.composite
    def leaf(draw: st.DrawFn) -> ast.Node:
        field = draw(st.sampled_from(sorted(fields)))
        if draw(st.integers(0, 3)) == 0:  # an int field: values, sets and ranges of few values
            low = draw(st.sampled_from([r.effect_row for r in records[:30] if r.effect_row is not None] + [-1, 0]))
            found: ast.Node = draw(st.sampled_from([
                ast.Compare("EffectRow", ast.CompareOp.EQ, low), ast.InSet("EffectRow", (low, low + 2)),
                ast.Range("EffectRow", low, low + 3), ast.Range("EffectRow", low, None),
            ]))
            return ast.Not(found) if draw(st.integers(0, 4)) == 0 else found
        value = draw(st.sampled_from([getattr(r, fields[field]) for r in records[:30]] + ["zz", ""]))
        value = "x" if value is None else value
        found = draw(st.sampled_from([
            ast.Compare(field, ast.CompareOp.EQ, value), ast.InSet(field, (value, "zz")),
            ast.EqualsIgnoreCase(field, value.upper()), ast.Contains(field, value[:2]),
        ]))
        return ast.Not(found) if draw(st.integers(0, 4)) == 0 else found

    clause = st.one_of(
        st.lists(leaf(), min_size=1, max_size=4).map(lambda items: items[0] if len(items) == 1 else ast.Or(tuple(items))),
        asts(RecordKind.AUDIT_LOG, max_leaves=3),
    )
    return draw(st.lists(clause, min_size=2, max_size=6))


@given(ors_of_coded_fields(), st.data())
def test_the_mask_of_several_ors_equals_the_row_test(nodes: list[ast.Node], data: st.DataObject) -> None:
    records, segment, _ = _audit_segment()
    node = ast.And(tuple(nodes))
    masked, taken = vector.clauses_filter(segment, nodes, segment.n)
    if masked is None:
        return
    kept = [row for row in range(segment.n) if all(row_test(segment, nodes[i])(row) for i in taken)]
    some = data.draw(st.lists(st.integers(0, segment.n - 1), unique=True).map(sorted))
    assert list(masked(range(segment.n))) == kept
    assert list(masked(some)) == [row for row in some if row in set(kept)]
    test = row_test(segment, node)
    rows: Sequence[int] = range(segment.n)
    for apply in _residual_filters(segment, nodes, segment.n):
        rows = apply(rows)
    assert list(rows) == [row for row in range(segment.n) if test(row)]


def test_an_entry_condition_on_several_fields_is_filtered_in_c() -> None:
    """``SensitiveDataLog any (TableName = t and ColumnName = c)``, or'ed 200 times or written as
    one ``any`` of an ``or``, was tested entry by entry in Python on every row (100,000 DMS logs:
    13-18 s). The condition is decided once per combination of the values of its fields, the
    ``any``s of one list field in an ``or`` are one ``any`` of the ``or`` of their conditions,
    and the rows are filtered in C (0.1-0.15 s)."""
    store = Store(RecordKind.DMS_LOG)
    records = generate(RecordKind.DMS_LOG, 600, seed=6)
    store.insert(records[:500])
    store.insert(records[500:])
    entries = [e for r in records for e in r.sensitive_data_log]  # type: ignore[attr-defined]
    tables = sorted({e.table_name for e in entries})
    columns = sorted({e.column_name for e in entries})
    eq = ast.CompareOp.EQ

    def pair(i: int) -> ast.Node:
        return ast.And((ast.Compare("TableName", eq, tables[i % len(tables)]), ast.Compare("ColumnName", eq, columns[(3 * i) % len(columns)])))

    pairs = [pair(i) for i in range(40)]
    nodes = [
        ast.Or(tuple(ast.AnyEntry("SensitiveDataLog", p) for p in pairs)),
        ast.AnyEntry("SensitiveDataLog", ast.Or(tuple(pairs))),
        ast.AnyEntry("SensitiveDataLog", ast.And((ast.Contains("TableName", "a"), ast.Not(ast.Compare("SecurityLevel", eq, "High"))))),
        ast.Or((ast.AnyEntry("SensitiveDataLog", pairs[0]), ast.Compare("UserName", eq, "admin"))),
    ]
    for segment in store._version.segments:
        for node in nodes:
            made: list[object] = []
            real = vector._entries_filter
            with mock.patch.object(vector, "_entries_filter", lambda *args: made.append(args) or real(*args)):
                vectorized = row_filter(segment, node)
            assert vectorized is not None and len(made) == 1  # the 40 any's of the first are one
            test = row_test(segment, node)
            expected = [row for row in range(segment.n) if test(row)]
            assert list(vectorized(range(segment.n))) == expected
            assert list(vectorized(range(1, segment.n, 2))) == [row for row in expected if row % 2]
    matched = store.query(nodes[0], 0, None)
    assert 0 < matched.total < len(records) and matched.total == store.query(nodes[1], 0, None).total


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


@given(st.sampled_from(list(RecordKind)).flatmap(lambda k: st.tuples(st.just(k), st.lists(record_lists(k, max_size=30), min_size=1, max_size=3))))
def test_a_row_is_rebuilt_into_the_record_that_was_stored(setup: tuple[RecordKind, list[list[object]]]) -> None:
    """``Segment.record`` (a reader written out per segment, setting the record's slots) gives
    back each stored record: absent values, a DMS log without entries (its default ``()``)."""
    kind, batches = setup
    records = [record for batch in batches for record in batch]
    store = Store(kind)
    for batch in batches:
        store.insert(batch)
    rebuilt = {segment.seq[row]: segment.record(row) for segment in store._version.segments for row in range(segment.n)}
    assert [rebuilt[seq] for seq in sorted(rebuilt)] == records
    for seq, record in rebuilt.items():
        assert type(record) is type(records[seq]) and hash(record) == hash(records[seq])


def test_an_absent_value_of_a_field_whose_default_is_not_none_rebuilds_as_that_default() -> None:
    """No import or snapshot stores ``None`` for a DMS log's entries (an empty list is ``()``);
    should a column hold it, the record gets the field's default, as the constructor would."""
    store = Store(RecordKind.DMS_LOG)
    store.insert(generate(RecordKind.DMS_LOG, 5, seed=1))
    segment = store._version.segments[0]
    entries = segment.columns[segment.schema.entries_attr]
    entries[0] = None  # the column the reader was written against, in place
    assert segment.record(0).sensitive_data_log == ()  # type: ignore[attr-defined]


def test_a_record_class_whose_init_does_more_than_set_slots_is_refused() -> None:
    @attrs.frozen
    class Checked:
        name: str = attrs.field(validator=attrs.validators.instance_of(str))

    @attrs.frozen
    class Hooked:
        name: str

        def __attrs_post_init__(self) -> None:
            pass

    for cls in (Checked, Hooked):
        with pytest.raises(TypeError, match="not a plain slotted record class"):
            _check_plain(cls)


def test_a_record_class_the_reader_would_build_differently_from_its_init_is_refused() -> None:
    """What a reader setting slots cannot match: a cached hash (``__init__`` sets its slot, else
    ``hash`` raises), a default made from the record itself, a hand-written ``__init__``, a field
    no column holds (its slot would stay unset)."""

    @attrs.frozen(cache_hash=True)
    class HashCached:
        name: str | None = None

    @attrs.frozen
    class FromSelf:
        name: str | None = None
        names: tuple[str | None, ...] = attrs.field(default=attrs.Factory(lambda self: (self.name,), takes_self=True))

    @attrs.frozen(init=False)
    class OwnInit:
        name: str | None = None

        def __init__(self, name: str | None = None) -> None:
            self.__attrs_init__(name=name or "anonymous")

    for cls in (HashCached, FromSelf, OwnInit):
        with pytest.raises(TypeError, match="not a plain slotted record class"):
            _check_plain(cls)
    store = Store(RecordKind.MASKING_RUN)
    store.insert(generate(RecordKind.MASKING_RUN, 3, seed=1))
    segment = store._version.segments[0]

    @attrs.frozen(kw_only=True)
    class Wider:  # a masking run with one more field, which no column holds
        id: int
        start_time: int
        extra: str | None = None

    schema = mock.Mock(wraps=segment.schema, cls=Wider, columns={"id": segment.schema.columns["id"],
                       "start_time": segment.schema.columns["start_time"]}, tables={})
    with pytest.raises(TypeError, match="no column holds its field extra"):
        record_reader(schema, segment.columns)


def test_the_record_reader_is_compiled_once_per_class_not_per_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A segment is made at every insert and merge; compiling its reader cost ~0.5 ms each, so
    10,000 one-record inserts paid seconds. The reader is compiled once per record class and
    form of the columns, then bound to each segment's columns."""
    from dsc_engine.store import reader as reader_module

    compiled: list[str] = []
    real = reader_module.compile_function
    monkeypatch.setattr(reader_module, "compile_function", lambda *args: compiled.append(args[1]) or real(*args))
    reader_module._reader_maker.cache_clear()
    store = Store(RecordKind.MASKING_RUN)
    records = generate(RecordKind.MASKING_RUN, 40, seed=4)
    for record in records:
        store.insert([record])
    rebuilt = [segment.record(row) for segment in store._version.segments for row in range(segment.n)]
    assert sorted(rebuilt, key=lambda r: r.id) == sorted(records, key=lambda r: r.id)  # type: ignore[attr-defined]
    assert compiled == ["make"]


def test_a_filter_on_several_low_cardinality_coded_fields_is_one_pass() -> None:
    """``not ((SrcType = a and Status = b and DstType = c) or ...)`` over masking runs (100 such
    conjunctions over 100,000 runs: 1.4 s as 100 ``or``s of three negated leaves, each a pass or
    three over nearly every row). The filter reads three coded fields of few values, so it is
    decided once per combination of their codes and the rows are read in one pass."""
    store = Store(RecordKind.MASKING_RUN)
    records = generate(RecordKind.MASKING_RUN, 2_400, seed=8)
    store.insert(records[:1_600])
    store.insert(records[1_600:])
    eq = ast.CompareOp.EQ
    triples = sorted({(r.src_type, r.status, r.dst_type) for r in records[::7]}, key=repr)
    node = ast.And(tuple(
        ast.Or((ast.Not(ast.Compare("SrcType", eq, s)), ast.Not(ast.Compare("Status", eq, t)), ast.Not(ast.Compare("DstType", eq, d))))
        for s, t, d in triples if None not in (s, t, d)
    ))
    assert len(node.items) >= 10
    (segment,) = store._version.segments
    passes: list[int] = []

    def counted(parts: list[vector.RowFilter]) -> vector.RowFilter:
        apply = either(parts)
        return lambda rows: passes.append(len(rows)) or apply(rows)  # type: ignore[func-returns-value]

    test = row_test(segment, node)
    expected = [row for row in range(segment.n) if test(row)]
    assert 0 < len(expected) < segment.n
    with mock.patch.object(vector, "either", counted):
        filters = _residual_filters(segment, node.items, segment.n)
        assert len(filters) == 1  # one filter of the whole conjunction
        assert list(filters[0](range(segment.n))) == expected
        assert list(filters[0](range(1, segment.n, 3))) == [row for row in expected if row % 3 == 1]
        assert not passes  # no or was read in passes of its own
        # a conjunct alone is one pass too
        (alone,) = _residual_filters(segment, node.items[:1], segment.n)
        assert list(alone(range(segment.n))) == [row for row in range(segment.n) if row_test(segment, node.items[0])(row)]
        assert not passes
        # a few candidates are filtered as before: nothing is decided for them
        few = _residual_filters(segment, node.items, 3)
        rows: Sequence[int] = range(3)
        for apply in few:
            rows = apply(rows)
        assert list(rows) == [row for row in expected if row < 3] and passes
    page = store.query(node, 0, None)
    expected_records = [r for r in records if matches(node, r, FIELDS[RecordKind.MASKING_RUN], NESTED[RecordKind.MASKING_RUN])]
    assert page.total == len(expected_records)
    assert collections.Counter(page.records) == collections.Counter(expected_records)


def test_the_one_pass_filter_reads_the_fields_of_each_conjunct_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked for each segment of each query, the one-pass filter of coded fields walked each
    conjunct twice to learn its fields (once to see it was not on one field, once for the
    fields of the whole filter)."""
    store = Store(RecordKind.MASKING_RUN)
    store.insert(generate(RecordKind.MASKING_RUN, 1_100, seed=8))
    (segment,) = store._version.segments
    eq = ast.CompareOp.EQ
    conjuncts = [ast.Compare("SrcType", eq, 1), ast.Compare("Status", eq, 2),
                 ast.Or((ast.Compare("DstType", eq, 1), ast.Compare("Status", eq, 1)))]
    test = row_test(segment, ast.And(tuple(conjuncts)))
    walked: list[ast.Node] = []
    real = plan.fields_read

    def counted(node: ast.Node) -> Any:
        walked.extend(item for item in conjuncts if item is node)
        return real(node)

    monkeypatch.setattr(plan, "fields_read", counted)
    monkeypatch.setattr(vector, "fields_read", counted)
    combined = vector.codes_filter(segment, conjuncts, segment.n)
    assert combined is not None
    assert collections.Counter(map(id, walked)) == collections.Counter(map(id, conjuncts))
    assert list(combined(range(segment.n))) == [row for row in range(segment.n) if test(row)]


_LARGE: dict[RecordKind, Store] = {}


def _large_store(kind: RecordKind) -> Store:
    """1,100 generated records of ``kind`` in one segment (past the one-pass filter's 1,024 rows)."""
    if kind not in _LARGE:
        store = Store(kind)
        store.insert(generate(kind, 1_100, seed=9))
        _LARGE[kind] = store
    return _LARGE[kind]


@st.composite
def coded_filters(draw: st.DrawFn) -> tuple[RecordKind, list[ast.Node]]:
    """Conjuncts on coded fields of few values of ``_large_store(kind)``: equalities, sets,
    negations and text tests of their values (and of values no record holds), and/or/not-ed."""
    kind = draw(st.sampled_from(list(RecordKind)))
    schema = _large_store(kind)._schema
    fields = sorted(
        field for field, attr in schema.attr_of.items()
        if attr in schema.tables and not schema.columns[attr].derived and 1 < len(schema.tables[attr]) <= 12
    )
    values = {field: [v for v in schema.tables[schema.attr_of[field]].values if v is not None] for field in fields}

    def leaf(field: str) -> st.SearchStrategy[ast.Node]:
        value = st.sampled_from(values[field]) if values[field] else st.just("x")
        other = st.one_of(value, st.sampled_from(["", "a", "zz"]) if isinstance(values[field][0], str) else st.integers(-2, 9))
        eq, ne = ast.CompareOp.EQ, ast.CompareOp.NE
        found = [other.map(lambda v: ast.Compare(field, eq, v)), other.map(lambda v: ast.Compare(field, ne, v)),
                 st.lists(other, min_size=1, max_size=3).map(lambda vs: ast.InSet(field, tuple(vs)))]
        if isinstance(values[field][0], str):
            found.append(st.sampled_from(["", "a", "O", "ss"]).map(lambda t: ast.Contains(field, t)))
        return st.one_of(found)

    leaves = st.sampled_from(fields).flatmap(leaf)
    tree = st.recursive(leaves, lambda inner: st.one_of(
        inner.map(ast.Not),
        st.lists(inner, min_size=2, max_size=3).map(lambda items: ast.And(tuple(items))),
        st.lists(inner, min_size=2, max_size=3).map(lambda items: ast.Or(tuple(items))),
    ), max_leaves=6)
    return kind, draw(st.lists(tree, min_size=1, max_size=3))


@given(coded_filters())
def test_the_one_pass_filter_of_coded_fields_equals_the_row_test(setup: tuple[RecordKind, list[ast.Node]]) -> None:
    kind, nodes = setup
    (segment,) = _large_store(kind)._version.segments
    for conjuncts in (nodes, nodes[:1]):
        combined = vector.codes_filter(segment, conjuncts, segment.n)
        if combined is None:
            continue
        node = ast.conjunction(conjuncts)
        kept = [row for row in range(segment.n) if matches(node, segment.record(row), FIELDS[kind], NESTED[kind])]
        assert list(combined(range(segment.n))) == kept  # the naive meaning, on the rebuilt records
        assert list(combined(range(3, segment.n, 2))) == [row for row in kept if row >= 3 and row % 2]


def test_the_matching_code_combinations_are_decided_once_while_the_tables_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The combinations of codes a filter on several coded fields matches depend on the filter and
    the tables only: they were decided again for every segment of every query (~30 ms for 148
    three-field conjunctions over 20,000 runs). Kept on the schema, they are decided again only
    when a table grew, and the answers stay the row test's."""
    store = Store(RecordKind.MASKING_RUN)
    records = generate(RecordKind.MASKING_RUN, 3_000, seed=8)
    store.insert(records[:2_400])
    eq = ast.CompareOp.EQ
    node = ast.And(tuple(
        ast.Or((ast.Not(ast.Compare("SrcType", eq, r.src_type)), ast.Not(ast.Compare("Status", eq, r.status)),
                ast.Not(ast.Compare("DstType", eq, r.dst_type))))
        for r in records[:40] if None not in (r.src_type, r.status, r.dst_type)
    ))
    decided: list[int] = []
    real = vector._tuple_test
    monkeypatch.setattr(vector, "_tuple_test", lambda *args: decided.append(1) or real(*args))

    def answered() -> list[int]:
        (segment,) = store._version.segments
        (apply,) = _residual_filters(segment, node.items, segment.n)
        test = row_test(segment, node)
        rows = list(apply(range(segment.n)))
        assert rows == [row for row in range(segment.n) if test(row)]
        return rows

    first = answered()
    assert answered() == first and len(decided) == 1
    store.insert([attrs.evolve(r, src_type=99, id=r.id + 10**6) for r in records[2_400:]])  # a new code
    answered()
    assert len(decided) == 2
