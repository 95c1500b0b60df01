"""Segments, every access path forced, deep pages across segments, errors and concurrency."""

from __future__ import annotations

import threading
from pathlib import Path
from collections import Counter

import attrs
import pytest
from oracle import Oracle, store_and_oracle

from dsc_engine.errors import StoreError
from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query.plan import Complement, IntersectOf, Plan, access_path, choose
from dsc_engine.sample import generate
from dsc_engine.store import Store
from dsc_engine.store.execute import hits
from dsc_engine.wire.catalog import FIELDS, PRIMARY_TIME

EQ = ast.CompareOp.EQ


def _loaded(kind: RecordKind, batches: list[int]) -> tuple[Store, Oracle]:
    return store_and_oracle(kind, batches, seed=11)  # type: ignore[no-any-return]


def test_small_batches_after_a_big_one_stay_separate_segments_until_they_add_up() -> None:
    store, _ = _loaded(RecordKind.AUDIT_LOG, [2_000, 100, 100])
    assert [s.n for s in store._version.segments] == [2_000, 200]
    store.insert(generate(RecordKind.AUDIT_LOG, 300, seed=99))
    assert [s.n for s in store._version.segments] == [2_500]


@pytest.mark.parametrize("kind", list(RecordKind))
def test_deep_pages_across_segments_equal_the_oracle(kind: RecordKind) -> None:
    store, oracle = _loaded(kind, [1_500, 300, 60, 12])
    assert len(store._version.segments) >= 3
    everything = oracle.ordered(ast.MatchAll())
    for offset in (0, 7, 255, 256, 257, 600, 1_000, 1_859, 1_871, 1_872, 5_000):
        page = store.query(ast.MatchAll(), offset, 10)
        assert page.total == len(everything)
        assert list(page.records) == everything[offset : offset + 10], offset


def _conjuncts(kind: RecordKind, records: list[object]) -> list[ast.Node]:
    first = records[0]
    if kind is RecordKind.AUDIT_LOG:
        return [
            ast.Compare("UserName", EQ, first.user_name),  # type: ignore[attr-defined]
            ast.InSet("ClientIp", (first.client_ip, "nowhere")),  # type: ignore[attr-defined]
            ast.Range("EffectRow", 2, 40),
            ast.Compare("ExecuteTime", EQ, first.execute_time),  # type: ignore[attr-defined]
            ast.InSet("ProductId", (1, 5)),
            ast.Contains("SqlText", "SELECT"),
            ast.Not(ast.EqualsIgnoreCase("OperateType", "select")),
            ast.Or((ast.Compare("RuleId", EQ, first.rule_id), ast.Range("EffectRow", None, 1))),  # type: ignore[attr-defined]
        ]
    if kind is RecordKind.MASKING_RUN:
        return [ast.Compare("Status", EQ, 1), ast.Range("MainProcessId", 1, None), ast.StartsWith("TaskId", "MTD")]
    entry = first.sensitive_data_log[0]  # type: ignore[attr-defined]
    return [
        ast.AnyEntry("SensitiveDataLog", ast.Compare("TableName", EQ, entry.table_name)),
        ast.AnyEntry(
            "SensitiveDataLog",
            ast.And((ast.Compare("TableName", EQ, entry.table_name), ast.Compare("ColumnName", EQ, entry.column_name))),
        ),
        ast.Compare("DbName", EQ, first.db_name),  # type: ignore[attr-defined]
        ast.Compare("ModuleName", EQ, "SQL_CONSOLE"),
    ]


@pytest.mark.parametrize("kind", list(RecordKind))
def test_every_access_path_forced_gives_the_oracle_answer(kind: RecordKind) -> None:
    store, oracle = _loaded(kind, [800, 150])
    version = store._version
    for node in _conjuncts(kind, oracle.records):
        path = access_path(node, version.stats)
        assert path is not None, node
        base = choose(node, version.stats)
        forced = Plan(base.source, base.time_field, base.window, path, node if not path.exact else ast.MatchAll(), 0, 0)
        rows = sorted(
            (segment.sort_key(row), segment.record(row))
            for segment in version.segments
            for row in hits(segment, forced)
        )
        assert [record for _, record in rows] == oracle.ordered(node), node
        assert rows, f"{node} should hit something in the sample"


@pytest.mark.parametrize("kind", list(RecordKind))
def test_complements_and_intersections_forced_give_the_oracle_answer(kind: RecordKind) -> None:
    store, oracle = _loaded(kind, [800, 150])
    version = store._version
    conjuncts = _conjuncts(kind, oracle.records)
    for node in conjuncts:
        inner = access_path(node, version.stats)
        assert inner is not None
        negated = ast.Not(node)
        rest = [path for item in conjuncts if item != node and (path := access_path(item, version.stats))]
        plans = [Plan(negated, "", None, Complement(inner), ast.MatchAll(), 0, 0)] if inner.exact else []
        plans.append(Plan(node, "", None, IntersectOf(inner, tuple(rest)), ast.conjunction(conjuncts), 0, 0))
        for plan in plans:
            rows = [(segment, row) for segment in version.segments for row in hits(segment, plan)]
            found = sorted((segment.sort_key(row), segment.record(row)) for segment, row in rows)
            source = plan.source if isinstance(plan.access, Complement) else ast.conjunction(conjuncts)
            assert [record for _, record in found] == oracle.ordered(source), plan
    for offset in (0, 5, 300, 900):  # pages of a complement (a lazy Difference) through the store
        node = ast.Not(conjuncts[0])
        assert (store.query(node, offset, 7).total, list(store.query(node, offset, 7).records)) == (
            oracle.query(node, offset, 7)
        )


def test_bad_calls_raise_store_errors() -> None:
    store = Store(RecordKind.AUDIT_LOG)
    with pytest.raises(StoreError, match="record 1 of the batch is a MaskingRun"):
        store.insert([generate(RecordKind.AUDIT_LOG, 1)[0], generate(RecordKind.MASKING_RUN, 1)[0]])
    assert len(store) == 0  # nothing of a refused batch is kept
    with pytest.raises(StoreError, match="must not be negative"):
        store.query(ast.MatchAll(), -1, 10)
    with pytest.raises(StoreError, match="cannot group by 'Nope'"):
        store.query(ast.MatchAll(), distinct="Nope")


def test_distinct_groups_absent_values_as_one() -> None:
    store, oracle = _loaded(RecordKind.AUDIT_LOG, [300])
    page = store.query(ast.MatchAll(), 0, None, distinct="PackageName")
    assert (page.total, list(page.records)) == oracle.query(ast.MatchAll(), 0, None, "PackageName")
    assert sum(1 for r in page.records if r.package_name is None) == 1  # type: ignore[attr-defined]


def test_readers_see_whole_batches_while_a_writer_inserts() -> None:
    batches = [generate(RecordKind.AUDIT_LOG, 400, seed=seed) for seed in range(8)]
    prefix_sizes = {400 * k for k in range(len(batches) + 1)}
    user = batches[0][0].user_name
    expected_users = {0}
    running = 0
    for batch in batches:
        running += sum(1 for r in batch if r.user_name == user)
        expected_users.add(running)
    store = Store(RecordKind.AUDIT_LOG)
    seen: list[tuple[int, int]] = []
    failures: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            total = store.query(ast.MatchAll(), 0, 5).total
            users = store.count(ast.Compare("UserName", EQ, user))
            if total not in prefix_sizes:
                failures.append(f"saw {total} rows: not a whole number of batches")
            if users not in expected_users:
                failures.append(f"saw {users} rows of {user}: not a prefix of batches")
            seen.append((total, users))

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    for batch in batches:
        store.insert(batch)
    done.set()
    for reader in readers:
        reader.join(timeout=30)
    assert not failures, failures[:3]
    assert len(store) == 3_200 and seen


def test_ints_beyond_64_bits_keep_working_through_merges() -> None:
    store, oracle = Store(RecordKind.AUDIT_LOG), Oracle(RecordKind.AUDIT_LOG)
    small = generate(RecordKind.AUDIT_LOG, 40, seed=3)
    huge = [attrs.evolve(r, effect_row=2**70 + i, creation_time=2**66 + i) for i, r in enumerate(small[:15])]
    for batch in (small, huge):
        store.insert(batch)
        oracle.insert(batch)
    assert len(store._version.segments) == 1  # merged: an int64 column and a list column
    for node in (ast.MatchAll(), ast.Range("EffectRow", 2**70 + 3, None), ast.Range("CreationTime", None, 2**66 + 5)):
        page = store.query(node, 0, None)
        assert (page.total, list(page.records)) == oracle.query(node, 0, None)


@pytest.mark.parametrize("kind", list(RecordKind))
def test_deep_pages_of_two_segments_equal_the_oracle(kind: RecordKind) -> None:
    store, oracle = _loaded(kind, [2_000, 100, 100])
    assert len(store._version.segments) == 2  # the two-part rank search
    everything = oracle.ordered(ast.MatchAll())
    for offset in (0, 256, 257, 300, 999, 1_000, 2_000, 2_189, 2_190, 2_199, 2_200, 2_300):
        page = store.query(ast.MatchAll(), offset, 10)
        assert page.total == len(everything)
        assert list(page.records) == everything[offset : offset + 10]


@pytest.mark.parametrize("kind", list(RecordKind))
def test_bulk_batches_are_spliced_into_one_segment(kind: RecordKind) -> None:
    store, oracle = _loaded(kind, [5_000, 1_000, 1_100])  # each batch under a quarter: spliced
    assert [s.n for s in store._version.segments] == [7_100]
    assert list(store.records_in_load_order()) == oracle.records
    everything = oracle.ordered(ast.MatchAll())
    assert list(store.iter_ordered(ast.MatchAll())) == everything
    for offset in (0, 999, 5_000, 7_095):
        assert list(store.query(ast.MatchAll(), offset, 10).records) == everything[offset : offset + 10]


def test_two_long_equalities_intersect_through_a_composite_index_only_when_one_was_built() -> None:
    store, oracle = _loaded(RecordKind.MASKING_RUN, [12_000])
    first = oracle.records[0]
    node = ast.And((ast.Compare("SrcType", EQ, first.src_type), ast.Compare("DstType", EQ, first.dst_type)))
    assert "probe hash index" in store.explain(node)
    segment = store._version.segments[0]
    built = segment.indexes()
    for offset in (0, 100, 1_000, 0, 100):  # asked again and again: no query builds an index
        page = store.query(node, offset, 10)
        assert (page.total, list(page.records)) == oracle.query(node, offset, 10)
    assert segment.pair_count() == 0 and segment.indexes() == built
    assert store.build_pair_indexes(["src_type", "dst_type"]) == 2  # what a save builds
    assert segment.pair_count() == 2
    for offset in (0, 100, 1_000):
        page = store.query(node, offset, 10)
        assert (page.total, list(page.records)) == oracle.query(node, offset, 10)
    window = ast.And((node, ast.Range("StartTime", None, first.start_time), ast.Compare("Status", EQ, 1)))
    page = store.query(window, 0, 10)
    assert (page.total, list(page.records)) == oracle.query(window, 0, 10)


def _retimed(kind: RecordKind, records: list[object], times: int) -> list[object]:
    """The records with their primary times folded onto a few values (many equal-time ties)."""
    store = Store(kind)
    attr = store._schema.time_attr
    firsts = [getattr(r, attr) for r in records[:times]]
    return [attrs.evolve(r, **{attr: firsts[i % times]}) for i, r in enumerate(records)]  # type: ignore[misc]


@pytest.mark.parametrize("kind", list(RecordKind))
@pytest.mark.parametrize("arrangement", ["random", "oldest-first", "newest-first", "ties"])
def test_splices_and_presorted_batches_equal_the_oracle(kind: RecordKind, arrangement: str) -> None:
    store, oracle = Store(kind), Oracle(kind)
    attr = store._schema.time_attr
    # a small batch first, then a big one (the older, smaller part is spliced into the newer),
    # then small ones spliced into the big one
    for seed, size in enumerate([300, 4_000, 900, 1_000]):
        batch = generate(kind, size, seed=seed + 31)
        if arrangement == "ties":
            batch = _retimed(kind, batch, 7)
        elif arrangement != "random":
            batch = sorted(batch, key=lambda r: getattr(r, attr), reverse=arrangement == "newest-first")
        store.insert(batch)
        oracle.insert(batch)
        everything = oracle.ordered(ast.MatchAll())
        assert list(store.iter_ordered(ast.MatchAll())) == everything
        assert list(store.records_in_load_order()) == oracle.records
    assert len(store._version.segments) == 1


def test_two_negations_answered_as_the_window_minus_a_union_equal_the_oracle() -> None:
    """``not ClientIp = top and not EffectRow in [1 33]`` (the benchmark's ``a12``): the planner
    widens the complement of the most frequent address by the rows of the range, and every page
    and the total through two segments equal the oracle's."""
    store, oracle = _loaded(RecordKind.AUDIT_LOG, [3_000, 400])
    top = Counter(r.client_ip for r in oracle.records).most_common(1)[0][0]
    node = ast.And((ast.Not(ast.Compare("ClientIp", ast.CompareOp.EQ, top)),
                    ast.Not(ast.Range("EffectRow", 1, 33))))
    assert "the window minus (union of (" in store.explain(node)
    for offset in (0, 9, 700, 1_500, 3_000):
        answer = store.query(node, offset, 25)
        assert (answer.total, list(answer.records)) == oracle.query(node, offset, 25), offset


def test_a_bulk_load_refuses_a_store_replaced_just_before_it_publishes(monkeypatch: pytest.MonkeyPatch) -> None:
    # The load coded its rows against the empty store's tables; a snapshot's store takes the
    # store's place (``replace_with``) while the load joins its batches, before it takes the
    # write lock: its codes mean nothing in the new tables, so it is refused, not merged in.
    from dsc_engine.store import store as store_module

    kind = RecordKind.AUDIT_LOG
    store, opened = Store(kind), Store(kind)
    opened.insert(generate(kind, 600, seed=31))  # tables larger than the load's own
    expected = list(opened.records_in_load_order())
    load = store.bulk()
    load.add(generate(kind, 1_500, seed=32))  # merged with the new store's segment when taken
    concat = store_module.concat_columns

    def concat_while_replaced(columns: list[object]) -> object:
        store.replace_with(opened)  # the first call replaces the empty store; then it has rows
        return concat(columns)

    monkeypatch.setattr(store_module, "concat_columns", concat_while_replaced)
    with pytest.raises(StoreError, match="replaced during the load"):
        load.finish()
    assert store.schema is opened.schema
    assert list(store.records_in_load_order()) == expected


def test_a_lookup_and_a_write_both_first_on_a_snapshot_table_lose_no_value() -> None:
    """A big intern table opened from a snapshot builds its value -> code map on first need. A
    query building it while a writer was first too built a second map that replaced the
    writer's, and the value the writer had just added lost its code (later looked up as absent,
    then interned again under another code). The map is now built once, under the table's lock."""
    import threading
    import time

    from dsc_engine.store.columns import Intern
    from dsc_engine.wire.catalog import FIELDS

    building = threading.Event()

    class SlowValues(list):  # type: ignore[type-arg]
        """The table's values; the query's map is published only after the writer has written."""

        def __iter__(self):  # type: ignore[no-untyped-def]
            yield from list.__iter__(self)
            if threading.current_thread().name == "query":  # read them all, not yet published
                building.set()
                time.sleep(0.3)

    table = Intern(FIELDS[RecordKind.MASKING_RUN]["TaskId"], SlowValues([None, *(f"t{i}" for i in range(70_000))]))
    reader = threading.Thread(target=table.code, args=("t5",), name="query")
    reader.start()
    assert building.wait(5)
    assert table.encode(["new-task"]) == [70_001]  # the writer, while the query builds the map
    reader.join(5)
    assert table.code("new-task") == 70_001 and table.code("t5") == 6
    assert table.encode(["new-task"]) == [70_001] and len(table) == 70_002


@pytest.mark.parametrize("kind", list(RecordKind))
def test_small_inserts_build_no_record_reader_nor_splice_check_nor_row_matrix(kind: RecordKind, monkeypatch: pytest.MonkeyPatch) -> None:
    """A load of a few records makes a segment and merges it with the last ones of similar size:
    10,000 loads of 10 audit logs took ~10 s, ~1 ms each, of which the record reader bound to
    every segment made (two a load, read by no query), the check of the columns' types a splice
    needs (made before asking whether the merge is a splice: a merge of similar sizes never is)
    and the row widths of a matrix gather that a few rows never use. None of them is made now
    until it is needed, and every answer is the oracle's."""
    from dsc_engine.store import build, segment as segment_module

    counts: Counter[str] = Counter()
    for module, name in ((segment_module, "record_reader"), (segment_module, "_uniform"), (build, "_width")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *args, real=real, name=name: counts.update([name]) or real(*args))
    store, oracle = _loaded(kind, [10] * 60)
    assert len(store) == 600 and len(store._version.segments) > 1
    # ~60 merges; only those of a part at most a quarter of the other's size (the splice's
    # condition, met at exactly a quarter) check the columns' types
    assert counts["record_reader"] == counts["_width"] == 0 and counts["_uniform"] <= 10
    total, expected = oracle.query(ast.MatchAll(), 0, None)
    page = store.query(ast.MatchAll(), 0, None)
    assert (page.total, page.records) == (total, expected)
    assert counts["record_reader"] == len(store._version.segments)  # once per segment read, then kept
    store.query(ast.MatchAll(), 0, None)
    assert counts["record_reader"] == len(store._version.segments)
    assert counts["_width"] == 0


@pytest.mark.parametrize("kind", list(RecordKind))
@pytest.mark.parametrize("newest", ["first", "last"])
def test_merges_of_loads_in_time_order_gather_nothing(kind: RecordKind, newest: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loads in time order (an incremental loader's, newest first or last) make segments that do
    not overlap: a merge of them puts the newer before the older, an identity permutation that
    gathers no column (a merge concatenated them in the order given and gathered every column
    through the permutation that swapped them)."""
    from dsc_engine.store import segment as segment_module

    records = generate(kind, 400, seed=12)
    time = FIELDS[kind][PRIMARY_TIME[kind]].get
    ordered = sorted(records, key=lambda r: (time(r), getattr(r, "id", 0)), reverse=newest == "first")
    moved: list[int] = []  # the rows of each permutation that is not the identity
    real = segment_module.permute_columns

    def permute(columns: dict[str, object], order: list[int], limits: object = None) -> object:
        if order != list(range(len(order))):
            moved.append(len(order))
        return real(columns, order, limits)  # type: ignore[arg-type]

    monkeypatch.setattr(segment_module, "permute_columns", permute)
    store, oracle = Store(kind), Oracle(kind)
    for start in range(0, len(ordered), 10):
        store.insert(ordered[start : start + 10])
        oracle.insert(ordered[start : start + 10])
    assert [n for n in moved if n > 10] == []  # only a load's own rows are ever reordered
    assert len(store._version.segments) < len(ordered) // 10  # merges took place
    total, expected = oracle.query(ast.MatchAll(), 0, None)
    page = store.query(ast.MatchAll(), 0, None)
    assert (page.total, page.records) == (total, expected)


def test_the_first_page_after_an_open_makes_no_record_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A segment of a load or an open has its record reader from the start: made on the first read
    instead, it cost the first query of each kind after an open 0.5-2 ms (its class's reader
    compiled), most of such a query's time. A small insert's segment still makes it when read."""
    from dsc_engine import Engine
    from dsc_engine.io import snapshot
    from dsc_engine.store import segment as segment_module

    engine = Engine()
    engine.load(generate(RecordKind.AUDIT_LOG, segment_module._READER_AT_ONCE, seed=5))
    path = tmp_path / "engine.dscsnap"
    snapshot.save(engine, path)
    made: list[int] = []
    real = segment_module.record_reader
    monkeypatch.setattr(segment_module, "record_reader", lambda *args: made.append(1) or real(*args))
    opened = Engine()
    opened.load(path)
    assert len(made) == 1  # by the open
    page = opened.query(RecordKind.AUDIT_LOG, 'UserName = "admin"', page_size=5)
    assert page.records and len(made) == 1


def test_many_small_loads_copy_each_row_a_number_of_times_that_grows_with_the_log_of_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every segment of ``_SPLICE_ROWS`` rows or more was spliced into the one before it, so once
    small loads had added up to that many rows the whole store was copied: 2,000 loads of 50
    audit logs wrote 47 rows a row loaded, 8,000 loads 172, a cost quadratic in the store. A
    splice now copies at most ``_SPLICE_SHARE`` rows a new row, and the rows written a row grow
    with the log of the store. Scaled down (a splice from 10 rows, loads of 10) so that a
    store of 8,000 rows shows it: doubling the loads added 200 rows written a row, now ~6."""
    from dsc_engine.store import segment as segment_module, store as store_module

    monkeypatch.setattr(store_module, "_SPLICE_ROWS", 10)
    written: list[int] = []
    real = segment_module.Segment.merge.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        segment_module.Segment, "merge",
        classmethod(lambda cls, schema, parts: written.append(sum(p.n for p in parts)) or real(cls, schema, parts)),
    )
    records = generate(RecordKind.AUDIT_LOG, 8_000, seed=13)
    store, oracle = Store(RecordKind.AUDIT_LOG), Oracle(RecordKind.AUDIT_LOG)
    per_row = []
    for half in (records[:4_000], records[4_000:]):
        for start in range(0, len(half), 10):
            store.insert(half[start : start + 10])
            oracle.insert(half[start : start + 10])
        per_row.append(sum(written) / len(store))
    assert per_row[1] - per_row[0] <= 10, per_row  # was 200.5, then 400.5
    assert len(store._version.segments) <= 4
    total, expected = oracle.query(ast.MatchAll(), 0, None)
    page = store.query(ast.MatchAll(), 0, None)
    assert (page.total, page.records) == (total, expected)
