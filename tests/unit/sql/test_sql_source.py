"""The SQL record source as a RecordSource: atomic inserts, refusals, slices, load order, explain,
files reopened, tables that are not the engine's; and Engine.connect/close."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from backends import SQL_NAMES, Opened, open_backend, url_of

from dsc_engine import Engine
from dsc_engine.errors import BackendError, StoreError
from dsc_engine.models import AuditLog, MaskingRun, RecordKind
from dsc_engine.query import ast
from dsc_engine.sample import bundled
from dsc_engine.sql.connection import ClickHouseConnection
from dsc_engine.sql.schema import fold_array, fold_column
from dsc_engine.store import Store

AUDIT, RUNS = RecordKind.AUDIT_LOG, RecordKind.MASKING_RUN


@pytest.fixture(scope="module", params=SQL_NAMES)
def backend(request: pytest.FixtureRequest) -> Iterator[Opened]:
    opened = open_backend(request.param)
    yield opened
    opened.close()


def test_a_batch_with_a_lone_surrogate_is_refused_whole(backend: Opened) -> None:
    source = backend.fresh(AUDIT)
    batch = [AuditLog(creation_time=1, user_name="ok"), AuditLog(creation_time=2, sql_text="a\ud800b")]
    with pytest.raises(StoreError, match=r"record 1 of the batch: SqlText holds text with a lone surrogate"):
        source.insert(batch)
    assert len(source) == 0


def test_a_record_of_another_kind_is_refused(backend: Opened) -> None:
    source = backend.fresh(AUDIT)
    with pytest.raises(StoreError, match="record 1 of the batch is a MaskingRun"):
        source.insert([AuditLog(creation_time=1), MaskingRun(id=1, start_time=1)])  # type: ignore[list-item]
    assert len(source) == 0


@pytest.mark.parametrize("offset, limit", [(-1, 10), (0, -1), (True, 10), (0, 1.5)])
def test_a_bad_slice_is_a_store_error(backend: Opened, offset: object, limit: object) -> None:
    with pytest.raises(StoreError, match="must be integers, not negative"):
        backend.engine.store(AUDIT).query(ast.MatchAll(), offset, limit)  # type: ignore[arg-type]


@pytest.mark.parametrize("offset, limit", [(0, 2**63), (1, 2**64), (0, 10**30), (2**63, 2**63)])
@pytest.mark.parametrize("distinct", [None, "RuleId"])
def test_a_slice_past_64_bits_is_answered_as_in_memory(
    backend: Opened, offset: int, limit: int, distinct: str | None
) -> None:
    """A limit past the 64-bit range means every record from the offset, as in memory; it was
    written into the statement, which both engines refused (a BackendError)."""
    records = [AuditLog(creation_time=n, rule_id=str(n % 2)) for n in range(3)]
    source, memory = backend.fresh(AUDIT), Store(AUDIT)
    source.insert(records)
    memory.insert(records)
    got = source.query(ast.MatchAll(), offset, limit, distinct=distinct)
    expected = memory.query(ast.MatchAll(), offset, limit, distinct=distinct)
    assert (got.total, list(got.records), got.limit) == (expected.total, list(expected.records), limit)


@pytest.mark.parametrize("offset, limit", [(0, 2**63), (1, 2**64), (3, 10**30)])
def test_a_slice_past_64_bits_over_records_of_several_loads_is_every_record_from_the_offset(
    backend: Opened, offset: int, limit: int
) -> None:
    """A load a fraction of the records before it stays a part of its own in memory, and a page
    is then merged from the parts: a limit past ``sys.maxsize`` was a ``ValueError`` from
    ``itertools.islice`` there, where the SQL backends answered every record from the offset."""
    first = [AuditLog(creation_time=n % 7, user_name="a") for n in range(40)]
    second = [AuditLog(creation_time=3, user_name="b"), AuditLog(creation_time=9)]
    source, memory = backend.fresh(AUDIT), Store(AUDIT)
    for batch in (first, second):
        source.insert(batch)
        memory.insert(batch)
    for node in (ast.MatchAll(), ast.Compare("CreationTime", ast.CompareOp.GE, 3)):
        expected = source.query(node, offset, limit)
        got = memory.query(node, offset, limit)
        assert (got.total, list(got.records)) == (expected.total, list(expected.records))
        assert len(got.records) == got.total - offset


def test_grouping_by_an_unknown_field_is_a_store_error(backend: Opened) -> None:
    with pytest.raises(StoreError, match="not a field of audit_log records"):
        backend.engine.store(AUDIT).query(ast.MatchAll(), distinct="Colour")


def test_a_load_of_twenty_thousand_runs_beside_held_ones_looks_their_ids_up_in_pieces(backend: Opened) -> None:
    """``Engine.load`` looked the runs' Ids up among the held ones in one ``Id in {...}``
    statement: 20,000 placeholders were past ClickHouse's largest query (256 KiB), and the load
    failed with a BackendError where the memory engine loads."""
    from dsc_engine.io.duplicates import HELD_IDS_PER_QUERY

    source = backend.fresh(RUNS)
    runs = [MaskingRun(start_time=i, id=i) for i in range(20_000)]
    backend.engine.load(runs[:2])
    asked: list[int] = []
    query = source.query

    def counted(node: ast.Node, *args: Any, **kwargs: Any) -> Any:
        if isinstance(node, ast.InSet) and node.field == "Id":
            asked.append(len(node.values))
        return query(node, *args, **kwargs)

    source.query = counted  # type: ignore[method-assign]
    report = backend.engine.load(runs)
    assert (report.loaded[RUNS], report.duplicates_skipped) == (19_998, 2)
    assert len(backend.engine.store(RUNS)) == 20_000
    assert sum(asked) == 20_000 and max(asked) == HELD_IDS_PER_QUERY  # every Id, a thousand at a time


def test_the_load_order_view_reads_like_a_list(backend: Opened) -> None:
    source = backend.fresh(RUNS)
    records = list(bundled(RUNS)[:30])
    source.insert(records[:10])
    source.insert(records[10:])
    view = source.records_in_load_order()
    assert len(view) == 30
    assert view[0] == records[0] and view[-1] == records[-1] and view[12] == records[12]
    assert list(view[5:15]) == records[5:15] and list(view[::7]) == records[::7] and list(view[20:3]) == []
    with pytest.raises(IndexError):
        view[30]
    memory = Store(RUNS)
    memory.insert(records)
    assert list(source.iter_ordered(ast.MatchAll())) == list(memory.iter_ordered(ast.MatchAll()))


def test_explain_shows_the_statements_and_the_bound_values(backend: Opened) -> None:
    text = backend.engine.explain("audit", 'UserName = "x\'; DROP TABLE audit_log" and EffectRow > 5')
    assert "SELECT" in text and "COUNT(*)" in text and "ORDER BY" in text
    assert "DROP TABLE audit_log\" and" not in text.split("-- bound values")[0]
    assert "bound values: p0 = \"x'; DROP TABLE audit_log\", p1 = 5" in text


def test_explain_shows_each_statement_with_its_own_bound_values(backend: Opened) -> None:
    text = backend.engine.explain("audit", 'SqlText contains "drop"')
    statements = [part for part in text.split(";\n") if "SELECT" in part]
    after = [part.split("\n", 1)[0] for part in text.split(";\n")[1:]]
    assert len(after) == len(statements) and all(line.startswith("-- bound values: ") for line in after)
    assert after[0] == "-- bound values: p0 = 'drop'"
    if "load number" in text:  # the rows of the page are read by their load numbers
        assert after[-1] == "-- bound values: p0 = the load numbers of the page the statement above found"


def test_a_reopened_database_keeps_its_records_and_load_order(tmp_path: Path) -> None:
    for name in SQL_NAMES:
        url = url_of(name)
        first = [AuditLog(creation_time=5, user_name=str(i)) for i in range(3)]
        with Engine.connect(url) as engine:
            engine.load(first)
        later = [AuditLog(creation_time=5, user_name="later")]
        with Engine.connect(url) as engine:
            assert list(engine.store(AUDIT).records_in_load_order()) == first
            engine.load(later)
            names = [r.user_name for r in engine.query(AUDIT, "").records]  # type: ignore[attr-defined]
            assert names == ["later", "2", "1", "0"], name


def test_a_table_that_is_not_the_engines_is_refused(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "other.duckdb"
    with duckdb.connect(str(path)) as other:
        other.execute('CREATE TABLE "audit_log" ("CreationTime" BIGINT, "Colour" VARCHAR)')
    with pytest.raises(BackendError, match="the table 'audit_log' exists but is not this engine's"):
        Engine.connect(f"duckdb://{path}")


@pytest.mark.parametrize("name", SQL_NAMES)
def test_a_table_of_the_same_columns_and_other_types_is_refused(name: str) -> None:
    """Same names, another type (another program's table, or a hand-made one): refused when
    opened, rather than loaded into (text compared as text, times sorted as text) or failing at
    the first filter with the engine's own message."""
    from dsc_engine.sql.backend import connect

    url = url_of(name)
    backend = connect(url)
    table = backend.connection.dialect.table("masking_run", backend.connection.database).sql(dialect=backend.connection.dialect.name)
    other = "VARCHAR" if name == "duckdb" else "Nullable(String)"
    alter = f'ALTER TABLE {table} ALTER "Status" TYPE {other}' if name == "duckdb" else f'ALTER TABLE {table} MODIFY COLUMN "Status" {other}'
    if name == "duckdb":  # the index on the load number depends on the table
        backend.connection.execute('DROP INDEX "masking_run__load_seq"')
    backend.connection.execute(alter)
    backend.close()
    with pytest.raises(BackendError, match=r"the table 'masking_run' exists but is not this engine's: its column 'Status' is (VARCHAR|Nullable\(String\)), not "):
        Engine.connect(url)


def test_a_missing_package_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pytest.raises(BackendError, match=r"pip install 'dsc-engine\[duckdb\]'"):
        Engine.connect(f"duckdb://{tmp_path}/x.duckdb")


def test_a_missing_extra_is_a_backend_error_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m.startswith("dsc_engine.sql.") and m != "dsc_engine.sql.url"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sqlglot", None)  # the first optional import of the backend
    with pytest.raises(BackendError, match=r"the sqlglot package is not installed: pip install 'dsc-engine\[clickhouse\]'"):
        Engine.connect("chdb://:memory:")


def test_each_database_scheme_names_an_extra_that_installs_its_packages() -> None:
    """The extra a missing package's error names (Scheme.extra, one table) is the package's own."""
    import tomllib

    from dsc_engine.sql.url import Scheme

    extras = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    packages = {Scheme.DUCKDB: ("duckdb", "sqlglot", "pyarrow"), Scheme.CHDB: ("chdb", "clickhouse-connect", "sqlglot"),
                Scheme.CLICKHOUSE: ("clickhouse-connect", "sqlglot", "pyarrow")}
    for scheme in Scheme:
        if scheme is Scheme.MEMORY:
            with pytest.raises(KeyError):
                scheme.extra
            continue
        named = {requirement.split(">")[0].split("=")[0] for requirement in extras[scheme.extra]}
        assert set(packages[scheme]) <= named, scheme


def test_a_missing_folder_is_a_backend_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="does not exist"):
        Engine.connect(f"duckdb://{tmp_path}/no/such/x.duckdb")


def test_a_failed_clickhouse_insert_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = open_backend("chdb")
    try:
        source = backend.fresh(AUDIT)
        source.insert([AuditLog(creation_time=1)])
        real = ClickHouseConnection.insert

        def half_done(self: ClickHouseConnection, table: str, data: object) -> None:
            real(self, table, data)  # the rows arrive, then the connection fails
            raise BackendError(self.shown, "an insert failed: connection reset")

        monkeypatch.setattr(ClickHouseConnection, "insert", half_done)
        with pytest.raises(BackendError, match="connection reset"):
            source.insert([AuditLog(creation_time=2), AuditLog(creation_time=3)])
        monkeypatch.undo()
        assert list(source.records_in_load_order()) == [AuditLog(creation_time=1)]
        source.insert([AuditLog(creation_time=4)])
        assert [r.creation_time for r in source.records_in_load_order()] == [1, 4]  # type: ignore[attr-defined]
    finally:
        backend.close()


def test_a_clickhouse_insert_interrupted_midway_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while a batch is on its way (``dsc-engine load --into chdb://...``) left the rows
    that had arrived in the table: only a ``BackendError`` deleted them, and ClickHouse has no
    transaction to roll back."""
    backend = open_backend("chdb")
    try:
        source = backend.fresh(AUDIT)
        source.insert([AuditLog(creation_time=1)])
        real = ClickHouseConnection.insert

        def interrupted(self: ClickHouseConnection, table: str, data: object) -> None:
            real(self, table, data)
            raise KeyboardInterrupt

        monkeypatch.setattr(ClickHouseConnection, "insert", interrupted)
        with pytest.raises(KeyboardInterrupt):
            source.insert([AuditLog(creation_time=2), AuditLog(creation_time=3)])
        monkeypatch.undo()
        assert list(source.records_in_load_order()) == [AuditLog(creation_time=1)]
    finally:
        backend.close()


def test_a_clickhouse_connection_keeps_no_client_per_ended_thread() -> None:
    """The server answers each connection on a thread of its own: a client per thread, kept until
    the engine closed, grew without bound (and cost a new client per request); clients are
    reused once a statement is done with them, so their number is the most used at once."""
    backend = open_backend("chdb")
    try:
        source = backend.fresh(RUNS)
        source.insert(list(bundled(RUNS)[:5]))
        answers = []

        def ask() -> None:
            answers.append(backend.engine.call("DescribeDataMaskingRunHistory", {"PageSize": "2"})["TotalCount"])

        for _ in range(20):
            thread = threading.Thread(target=ask)
            thread.start()
            thread.join()
        assert answers == [5] * 20
        connection = source._connection  # type: ignore[attr-defined]
        assert len(connection._clients) <= 2
    finally:
        backend.close()


@pytest.mark.parametrize("name", SQL_NAMES)
def test_two_engines_on_one_database_load_at_once_without_sharing_load_numbers(name: str) -> None:
    """One process may open a DuckDB file or a chDB database twice (two ``Engine.connect``: a
    server and a loader); their loads used to read the same highest load number and number their
    records alike, so ties came back in any order and DuckDB's pages, fetched by load number,
    lost and repeated records."""
    if name == "clickhouse":
        pytest.skip("a server is shared by processes: one loader at a time (docs/backends.md)")
    url = url_of(name)
    first, second = Engine.connect(url), Engine.connect(url)
    try:
        def load(engine: Engine, tag: str) -> None:
            for batch in range(8):
                engine.load([AuditLog(creation_time=1, user_name=f"{tag}{batch}-{i}") for i in range(50)])

        threads = [threading.Thread(target=load, args=(engine, tag)) for engine, tag in ((first, "a"), (second, "b"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        loaded = list(first.store(AUDIT).records_in_load_order())
        page = first.query(AUDIT, "", page_size=800).records
        assert len({r.user_name for r in page}) == 800  # type: ignore[attr-defined]
        assert list(page) == loaded[::-1]  # one time: loaded last first
    finally:
        first.close()
        second.close()


def test_a_databases_write_lock_is_forgotten_once_no_engine_has_it_open(tmp_path: Path) -> None:
    """The process-wide table of write locks held one entry per database ever opened; it now
    lasts as long as a connection to the database."""
    import gc

    from dsc_engine.sql import connection

    url = f"duckdb://{tmp_path}/x.duckdb"
    first, second = Engine.connect(url), Engine.connect(url)
    key = f"{os.path.realpath(tmp_path / 'x.duckdb')}?"
    assert key in connection._WRITE_LOCKS  # shared by both while they are open
    first.close()
    del first
    gc.collect()
    assert key in connection._WRITE_LOCKS
    second.close()
    del second
    gc.collect()
    assert key not in connection._WRITE_LOCKS


def test_connect_memory_is_a_new_in_memory_engine() -> None:
    engine = Engine.connect("memory://")
    assert isinstance(engine.store(AUDIT), Store) and len(engine.store(AUDIT)) == 0
    engine.close()
    engine.close()  # idempotent


def test_close_lets_go_of_a_duckdb_file(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path}/x.duckdb"
    engine = Engine.connect(url)
    engine.load([AuditLog(creation_time=1)])
    engine.close()
    import duckdb

    with duckdb.connect(str(tmp_path / "x.duckdb")) as again:  # the file is free again
        assert again.execute('SELECT COUNT(*) FROM "audit_log"').fetchall() == [(1,)]


@given(st.lists(st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["ß", "İ", "ΣΑΣ", "ǅ", "ﬁ", "ABC"]))))
def test_the_vectorised_fold_is_python_casefold(values: list[str | None]) -> None:
    import pyarrow as pa

    assert fold_array(pa.array(values, pa.string())).to_pylist() == fold_column(values)


@pytest.mark.parametrize("name", SQL_NAMES)
def test_a_read_only_engine_answers_and_refuses_every_load(name: str) -> None:
    if name == "clickhouse":
        pytest.skip("the live server's database is shared by the suite")
    url = url_of(name)
    with Engine.connect(url) as writer:
        writer.load([MaskingRun(id=1, start_time=1), AuditLog(creation_time=1, user_name="a")])
    with Engine.connect(url, read_only=True) as reader:
        before = len(reader.store(AUDIT))
        assert reader.query(AUDIT, 'UserName = "a"').total >= 1
        for records in ([AuditLog(creation_time=2)], [MaskingRun(id=2, start_time=2)]):
            with pytest.raises(BackendError, match="opened read-only"):
                reader.load(records)
        assert len(reader.store(AUDIT)) == before


@pytest.mark.parametrize(
    ("options", "says"),
    [({"read_only": True}, "read_only applies to a database"),
     # create=False opens only what exists; an in-memory engine is always made new
     ({"create": False}, "create=False applies to a database")],
    ids=["read-only", "no-create"],
)
def test_an_open_of_memory_as_an_existing_database_is_a_backend_error(options, says) -> None:
    with pytest.raises(BackendError, match=says):
        Engine.connect("memory://", **options)


def test_a_read_only_open_makes_nothing(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="no database at"):
        Engine.connect(f"duckdb://{tmp_path}/none.duckdb", read_only=True)
    assert not (tmp_path / "none.duckdb").exists()


@pytest.mark.parametrize("table_engine", ["ReplacingMergeTree", "Memory"])
def test_a_clickhouse_table_of_the_same_columns_and_another_engine_is_refused(table_engine: str) -> None:
    """A ``ReplacingMergeTree`` of the engine's very columns was taken: its merges drop records
    of equal sort keys, so totals shrank later, silently."""
    from dsc_engine.sql.backend import connect

    url = url_of("chdb")
    backend = connect(url)
    connection = backend.connection
    table = connection.dialect.table("masking_run", connection.database).sql(dialect="clickhouse")
    shape = connection.rows(f"SHOW CREATE TABLE {table}")[0][0]
    connection.execute(f"DROP TABLE {table}")
    made = shape.split("ENGINE")[0] + f"ENGINE = {table_engine}" + ("" if table_engine == "Memory" else " ORDER BY Id")
    connection.execute(made)
    backend.close()
    with pytest.raises(BackendError, match=f"the table 'masking_run' exists but is not this engine's: its engine is {table_engine}, not MergeTree"):
        Engine.connect(url)


@pytest.mark.parametrize("name", ["duckdb", "chdb"])
def test_an_insert_made_beside_a_load_into_one_database_does_not_deadlock(name: str, tmp_path: Path) -> None:
    """A load holds the database's write lock (``RecordSource.loading``) and then inserts; a
    direct insert (``engine.store(kind).insert``) took its source's own insert lock first and then
    the write lock. One of each at once held one lock each and waited for the other, for good."""
    import time

    url = f"duckdb://{tmp_path}/x.duckdb" if name == "duckdb" else url_of(name)
    with Engine.connect(url) as engine:
        source = engine.store(AUDIT)
        before = len(source)
        loading, direct_started = threading.Event(), threading.Event()

        def load() -> None:  # as a load does: the lock first, its look-ups, then its inserts
            with source.loading():
                loading.set()
                direct_started.wait(10)
                time.sleep(0.3)  # the direct insert is now waiting for the lock held here
                source.insert([AuditLog(creation_time=1, user_name="loaded")])

        def direct() -> None:
            loading.wait(10)
            direct_started.set()
            source.insert([AuditLog(creation_time=2, user_name="direct")])

        threads = [threading.Thread(target=load, daemon=True), threading.Thread(target=direct, daemon=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        assert not any(thread.is_alive() for thread in threads), "the load and the insert wait for each other"
        assert len(source) == before + 2


@pytest.mark.parametrize("name", ["duckdb", "chdb"])
def test_a_read_only_engine_refuses_a_load_that_would_add_nothing_and_before_reading_a_file(
    name: str, tmp_path: Path
) -> None:
    """docs/backends.md: a load through a read-only engine is a ``BackendError``. One of no
    records, or of runs all held already, inserted nothing and so was reported loaded; and a
    file was read whole (strict) before its first insert was refused."""
    import json

    url = f"duckdb://{tmp_path}/x.duckdb" if name == "duckdb" else url_of(name)
    with Engine.connect(url) as writer:
        writer.load([MaskingRun(id=7, start_time=7)])
    held = tmp_path / "held.jsonl"
    held.write_text(json.dumps({"Id": 7, "StartTime": 7}) + "\n", encoding="utf-8")
    with Engine.connect(url, read_only=True) as reader:
        for load in (lambda: reader.load([]), lambda: reader.load(held), lambda: reader.load(held, strict=True)):
            with pytest.raises(BackendError, match="opened read-only"):
                load()


def test_connections_to_one_clickhouse_server_database_share_its_write_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two engines of one process over one ClickHouse server database (a server and a loader)
    each had a lock of their own: their loads could number records alike and look the same
    masking runs up at once. They now share one, as two engines over one DuckDB file do."""
    import clickhouse_connect

    from dsc_engine.sql.url import parse_url

    class Client:
        def close(self) -> None:
            pass

    monkeypatch.setattr(clickhouse_connect, "get_client", lambda **options: Client())
    first = ClickHouseConnection(parse_url("clickhouse://loader:secret@Logs.example:8123/audit"))
    second = ClickHouseConnection(parse_url("clickhouse://server@logs.example:8123/audit"))
    other = ClickHouseConnection(parse_url("clickhouse://logs.example:8123/elsewhere"))
    assert first.loading() is second.loading()
    assert other.loading() is not first.loading()


def _long_statement(operands: int) -> str:
    """A statement past ClickHouse's default 256 KiB (as an ``or`` of thousands of filter
    conditions compiles): one bound condition ``operands`` times."""
    return "SELECT 1 WHERE " + " OR ".join(["{p0:Int64} = 1"] * operands)


def test_chdb_answers_a_statement_past_clickhouses_default_size_limits() -> None:
    """An ``or`` of 5,000 conditions was refused on chDB ("Max query size exceeded"; 2,000 with
    more syntax nodes: TOO_BIG_AST) where memory and DuckDB answer it: under chDB's own default
    limits, such a statement is sent again with limits that fit it."""
    from dsc_engine.sql.url import parse_url

    connection = ClickHouseConnection(parse_url(url_of("chdb")))  # chDB takes one data folder per process
    try:
        sql = _long_statement(15_000)
        assert len(sql) > 256 * 1024
        assert connection.rows(sql, {"p0": 1}) == [(1,)]
        assert connection.rows(sql, {"p0": 2}) == []
    finally:
        connection.close()


def test_a_clickhouse_server_refusing_a_statement_as_too_big_is_asked_again_with_limits_that_fit() -> None:
    """A server parses a statement under its limits (256 KiB by default): one it refuses as too
    big is sent again with the limits raised to fit it; a statement of the usual size carries no
    settings (a read-only profile refuses any setting)."""
    from clickhouse_connect.driver.exceptions import DatabaseError

    from dsc_engine.sql.url import parse_url

    given: list[dict[str, Any]] = []

    class Answer:
        result_rows: list[tuple[int]] = [(1,)]

    class Client:
        def query(self, sql: str, parameters: object, settings: dict[str, Any]) -> Answer:
            given.append(settings)
            if len(sql) > 256 * 1024 and settings.get("max_query_size", 0) <= len(sql):
                raise DatabaseError("Code: 62. DB::Exception: Max query size exceeded: failed at position 262145")
            return Answer()

        def close(self) -> None:
            pass

    import clickhouse_connect

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clickhouse_connect, "get_client", lambda **options: Client())
        connection = ClickHouseConnection(parse_url("clickhouse://logs.example:8123/audit"))
        long = _long_statement(15_000)
        assert connection.rows("SELECT 1") == [(1,)] and given == [{}]
        assert connection.rows(long) == [(1,)]
    assert given[1] == {} and given[2]["max_query_size"] > len(long) and given[2]["max_ast_elements"] > 50_000


@pytest.mark.parametrize("name", ["duckdb", "chdb"])
def test_a_read_only_engine_opens_beside_a_writer_of_the_database_in_one_process(name: str) -> None:
    url = url_of(name)
    with Engine.connect(url) as writer:
        writer.load([AuditLog(creation_time=1, user_name="a")])
        with Engine.connect(url, read_only=True) as reader:
            assert reader.query(AUDIT, "").total == 1
            writer.load([AuditLog(creation_time=2, user_name="b")])
            assert reader.query(AUDIT, 'UserName = "b"').total == 1
            with pytest.raises(BackendError, match="opened read-only"):
                reader.load([AuditLog(creation_time=3)])
        assert writer.query(AUDIT, "").total == 2  # the reader's close leaves the writer's database open
        writer.load([AuditLog(creation_time=3)])
    with Engine.connect(url, read_only=True) as reader:  # no writer left: shared with other processes
        assert reader.query(AUDIT, "").total == 3


def test_a_writer_of_a_duckdb_file_a_read_only_engine_holds_in_this_process_says_why(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path}/x.duckdb"
    Engine.connect(url).close()
    with Engine.connect(url, read_only=True) as reader:
        with pytest.raises(BackendError, match=r"open read-only in this process.*close it first"):
            Engine.connect(url)
        assert reader.query(AUDIT, "").total == 0
    with Engine.connect(url) as writer:  # the reader closed: the file is free
        writer.load([AuditLog(creation_time=1)])


@pytest.mark.parametrize("name", SQL_NAMES)
def test_a_closed_engine_refuses_every_use_saying_so(name: str) -> None:
    """``close`` lets go of the database on every backend: a chDB engine used after it opened its
    folder again (it answered, and loaded), where a DuckDB one failed on its closed connection."""
    engine = Engine.connect(url_of(name))
    engine.load([AuditLog(creation_time=1)])
    engine.close()
    uses = [
        lambda: engine.query(AUDIT, ""),
        lambda: engine.load([AuditLog(creation_time=2)]),
        lambda: len(engine.store(AUDIT)),
        lambda: list(engine.store(AUDIT).iter_ordered(ast.MatchAll())),
        lambda: engine.explain(AUDIT, ""),
        # a call too: it was answered InternalError (500, "unknown error"), its traceback logged as a bug's
        lambda: engine.call("DescribeAuditLogs", {}),
        lambda: engine.describe_audit_logs(PageSize=5),
    ]
    for use in uses:
        with pytest.raises(BackendError, match="the engine was closed"):
            use()
    engine.close()  # idempotent
