"""DuckDB's key tables (``dsc_engine/sql/keys.py``): which filters they answer, how they follow
inserts in runs, and that what they answer is exactly the memory engine's answer, on the key
tables, their tail and rewritten runs alike; pages are fetched through the load-number index."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from backends import url_of

from dsc_engine import Engine, sample
from dsc_engine.api.operations import BY_KIND
from dsc_engine.api.spec import Match
from dsc_engine.errors import BackendError
from dsc_engine.io import export, loader
from dsc_engine.models import AuditLog, MaskingRun, RecordKind, SensitiveDataAuditLog
from dsc_engine.query.parse import parse_filter
from dsc_engine.query.source import Listing
from dsc_engine.sql import keys
from dsc_engine.sql.backend import Backend, connect
from dsc_engine.sql.keys import RunPolicy
from dsc_engine.sql.schema import TABLES

AUDIT, RUNS, DMS = RecordKind.AUDIT_LOG, RecordKind.MASKING_RUN, RecordKind.DMS_LOG


def _open(policy: RunPolicy, url: str | None = None) -> tuple[Backend, Engine]:
    backend = connect(url or url_of("duckdb"), policy)
    return backend, Engine(backend.sources, on_close=backend.close)


@pytest.fixture
def database() -> Iterator[tuple[Backend, Engine]]:
    backend, engine = _open(RunPolicy(rows=5, most=2))
    yield backend, engine
    engine.close()


def _runs(backend: Backend, kind: RecordKind) -> list[tuple[int, int]]:
    return sorted(backend.connection.rows(f'SELECT * FROM "{TABLES[kind].runs.name}"'))


def _agree(sql: Engine, memory: Engine, kind: RecordKind, text: str, sizes: tuple[int, ...] = (10, 3, 1, 0)) -> None:
    for size in sizes:
        for page in (1, 2, 5, 1000):
            expected = memory.query(kind, text, page=page, page_size=size) if size else None
            if size == 0:
                node = parse_filter(text, kind)
                got, want = sql.store(kind).query(node, 7, 0), memory.store(kind).query(node, 7, 0)
                assert (got.total, list(got.records)) == (want.total, list(want.records)), text
                continue
            got = sql.query(kind, text, page=page, page_size=size)
            assert expected is not None
            assert (got.total, list(got.records)) == (expected.total, list(expected.records)), (text, page, size)
    node = parse_filter(text, kind)
    assert sql.store(kind).count(node) == memory.store(kind).count(node), text


# ------------------------------------------------------------------------------ which filters


@pytest.mark.parametrize("kind", list(RecordKind))
def test_a_kind_has_a_key_table_per_equality_parameter_of_its_api(kind: RecordKind) -> None:
    wanted = {
        (parameter.field, parameter.match is Match.IEQUAL)
        for parameter in BY_KIND[kind].parameters
        if parameter.match in (Match.EXACT, Match.IEQUAL)
    }
    assert {(table.field, table.folded) for table in TABLES[kind].key_tables} == wanted


@pytest.mark.parametrize("text, fields", [
    ('UserName = "a"', ["UserName"]),
    ('UserName = "a" and CreationTime > 5 and CreationTime <= 9', ["UserName"]),
    ('CreationTime = 5 and ClientIp = "x"', ["ClientIp"]),
    ('UserName in {"a", "b"} and ClientIp = "x"', ["UserName", "ClientIp"]),
    ('OperateType ieq "drop" and ProductId = 5', ["OperateType", "ProductId"]),
    ('UserName = "a" and UserName = "b"', ["UserName", "UserName"]),
])
def test_the_key_tables_answer_conjunctions_of_keyed_equalities_and_times(text: str, fields: list[str]) -> None:
    plan = keys.plan(parse_filter(text, AUDIT), TABLES[AUDIT])
    assert plan is not None and [leaf.table.field for leaf in plan.leaves] == fields


@pytest.mark.parametrize("text", [
    "", "CreationTime > 5", 'OperateType = "Drop"', 'UserName ieq "a"', 'not UserName = "a"',
    'UserName != "a"', 'UserName = "a" or ClientIp = "b"', 'UserName contains "a"', 'SqlText = "x"',
    'UserName = "a" and EffectRow > 5', 'UserName = "a" and LogTime > 5',
])
def test_other_filters_scan_the_kinds_table(text: str) -> None:
    assert keys.plan(parse_filter(text, AUDIT), TABLES[AUDIT]) is None


# ----------------------------------------------------------------------------------- runs


def test_runs_are_taken_every_policy_rows_and_rewritten_as_one_past_most(database: tuple[Backend, Engine]) -> None:
    backend, engine = database
    logs = [AuditLog(creation_time=i % 4, user_name=f"u{i % 3}", client_ip=None if i % 2 else "ip") for i in range(17)]
    engine.load(logs[:4])
    assert _runs(backend, AUDIT) == []  # 4 records: fewer than a run's 5
    engine.load(logs[4:7])
    assert _runs(backend, AUDIT) == [(0, 6)]
    engine.load(logs[7:12])
    assert _runs(backend, AUDIT) == [(0, 6), (7, 11)]
    engine.load(logs[12:17])  # a third run would pass most=2: one run of everything
    assert _runs(backend, AUDIT) == [(0, 16)]
    rows = backend.connection.rows('SELECT * FROM "audit_log__by_UserName"')
    expected = sorted(((log.user_name, log.creation_time, seq) for seq, log in enumerate(logs)),
                      key=lambda row: (row[0], -row[1], -row[2]))
    assert rows == expected  # sorted by value, then newest first
    ips = backend.connection.rows('SELECT "_load_seq" FROM "audit_log__by_ClientIp"')
    assert sorted(seq for (seq,) in ips) == [seq for seq, log in enumerate(logs) if log.client_ip]


def test_clearing_a_database_empties_its_key_tables(database: tuple[Backend, Engine]) -> None:
    backend, engine = database
    engine.load([AuditLog(creation_time=i, user_name="a") for i in range(6)])
    backend.clear()
    assert _runs(backend, AUDIT) == [] and backend.connection.rows('SELECT * FROM "audit_log__by_UserName"') == []
    engine.load([AuditLog(creation_time=i, user_name="b") for i in range(6)])
    assert _runs(backend, AUDIT) == [(0, 5)]
    assert engine.query(AUDIT, 'UserName = "b"').total == 6


# ------------------------------------------------------------------------------- answers


def _loaded(policy: RunPolicy, batches: int) -> tuple[Engine, Engine]:
    """Sample records of each kind in both engines, in ``batches`` loads."""
    _, sql = _open(policy)
    memory = Engine()
    for kind, n in ((AUDIT, 400), (RUNS, 200), (DMS, 200)):
        records = sample.generate(kind, n, seed=11)
        step = -(-n // batches)
        for start in range(0, n, step):
            sql.load(records[start:start + step])
            memory.load(records[start:start + step])
    return sql, memory


FILTERS = {
    AUDIT: ['UserName = "root"', 'UserName = "root" and CreationTime >= 1792000000000',
            'OperateType ieq "DROP" and CreationTime < 1792500000000', 'ClientUa in {"dms", "JDBC"}',
            'UserName = "root" and RuleId = "994007"', 'ProductId = 5 and OperateType ieq "select"',
            'UserName = "nobody"', 'IpType = "default" and InstanceName = "rm-b626cf966714"'],
    RUNS: ['Status = 1', 'TaskId in {"a", "b"} and StartTime > 0', 'SrcType = 5 and DstType = 4', 'Status = 3 and Id = 5'],
    DMS: ['UserName = "root"', 'DbName = "risk_ctrl" and OpTime >= "2026-10-15 00:00:00"', 'ModuleName = "SQL_CONSOLE" and Tid = 3002'],
}


@pytest.mark.parametrize("policy, batches", [
    (RunPolicy(rows=50, most=100), 9),   # runs and a tail
    (RunPolicy(rows=50, most=2), 9),     # rewritten runs and a tail
    (RunPolicy(rows=1000, most=2), 3),   # no run yet: every record in the tail
    (RunPolicy(rows=1, most=1000), 1),   # one run of everything, no tail
])
def test_key_tables_answer_as_the_memory_engine(policy: RunPolicy, batches: int) -> None:
    sql, memory = _loaded(policy, batches)
    try:
        for kind, texts in FILTERS.items():
            for text in texts:
                _agree(sql, memory, kind, text)
    finally:
        sql.close()


@pytest.mark.parametrize("kind", list(RecordKind))
def test_an_api_pages_file_is_sorted_into_the_key_tables_at_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: RecordKind
) -> None:
    """A pull writes every page into one file: the whole file is one listing, and its records
    must not stay in the tail (scanned by every lookup) once the import has read it."""
    monkeypatch.setattr(loader, "BATCH_SIZE", 7)  # the listing arrives in several batches
    records = sample.generate(kind, 60, seed=17)
    path = tmp_path / "pages.jsonl"
    with open(path, "w", encoding="utf-8") as out:  # the memory engine reads it as the same listing
        export.write_pages(records, kind, out, total=len(records), page_size=10)
    backend, sql = _open(RunPolicy(rows=5, most=100))
    memory = Engine()
    try:
        sql.load(str(path))
        memory.load(str(path))
        (highest,), = backend.connection.rows(f'SELECT max("_load_seq") FROM "{TABLES[kind].name}"')
        assert max(last for _, last in _runs(backend, kind)) == highest  # no record left in the tail
        for text in FILTERS[kind]:
            _agree(sql, memory, kind, text)
    finally:
        sql.close()


@pytest.mark.parametrize("policy", [RunPolicy(rows=2, most=100), RunPolicy(rows=2, most=2), RunPolicy(rows=1000, most=2)])
def test_a_listing_loaded_in_batches_is_in_the_key_tables_or_their_tail(policy: RunPolicy) -> None:
    """A listing (API pages: the first listed loads last) is numbered downward in its block, so a
    run taken during it must leave its later batches in the tail, never between run and tail; and
    its block's gap in the load numbers does not count as records towards a run."""
    backend, sql = _open(policy)
    memory = Engine()
    try:
        for kind, n in ((AUDIT, 40), (RUNS, 30), (DMS, 30)):
            records = sample.generate(kind, n, seed=13)
            before, listed, after = records[:7], records[7:n - 5], records[n - 5:]
            sql.load(before)
            listing = Listing()
            for start in range(0, len(listed), 4):
                sql.store(kind).insert(listed[start:start + 4], listing=listing)
            memory.load(before + listed[::-1])
            for text in FILTERS[kind]:
                _agree(sql, memory, kind, text, sizes=(10, 3))
            for value in sorted({getattr(record, "user_name", None) for record in records} - {None})[:4]:
                _agree(sql, memory, kind, f'UserName = "{value}"', sizes=(5,))
            sql.load(after)
            memory.load(after)
            for text in FILTERS[kind]:
                _agree(sql, memory, kind, text, sizes=(10, 3))
            if policy.rows > n:
                assert _runs(backend, kind) == []
    finally:
        sql.close()


@pytest.mark.parametrize("policy", [RunPolicy(rows=3, most=100), RunPolicy(rows=3, most=2)])
def test_a_listing_continued_after_another_load_took_a_run_over_its_block_keeps_its_records(policy: RunPolicy) -> None:
    """Another load (a second import on another thread) can insert while a listing is open: its
    records are numbered above the listing's block, so a run it takes covers the block, and the
    listing's later batches, numbered below their earlier ones, fall below the watermark: they
    must go into the key tables then, not be lost between the runs and the tail."""
    _, sql = _open(policy)
    memory = Engine()
    try:
        for kind, n in ((AUDIT, 60), (RUNS, 40), (DMS, 40)):
            records = sample.generate(kind, n, seed=17)
            first, other, second, third = records[:9], records[9:20], records[20:31], records[31:]
            listing, later = Listing(), Listing()
            sql.store(kind).insert(first, listing=listing)
            sql.store(kind).insert(other)  # another load, meanwhile: a run over the listing's block
            sql.store(kind).insert(second, listing=listing)
            sql.store(kind).insert(third[:5], listing=later)  # a second listing, above the first's
            sql.store(kind).insert(third[5:], listing=listing)
            memory.load(third[5:][::-1] + second[::-1] + first[::-1] + other + third[:5][::-1])
            for text in FILTERS[kind]:
                _agree(sql, memory, kind, text, sizes=(10, 3))
            for value in {getattr(record, "user_name", None) for record in records} - {None}:
                _agree(sql, memory, kind, f'UserName = "{value}"', sizes=(5,))
    finally:
        sql.close()


def test_api_calls_answered_from_key_tables_are_the_memory_engines() -> None:
    sql, memory = _loaded(RunPolicy(rows=60, most=4), 7)
    try:
        calls = [
            ("DescribeAuditLogs", {"UserName": "root", "StartTime": "1791500000000", "EndTime": "1793000000000"}),
            ("DescribeAuditLogs", {"OperateType": "dRoP", "PageSize": "3", "CurrentPage": "2"}),
            ("DescribeAuditLogs", {"InstanceName": "rm-b626cf966714", "RuleId": "994007", "PageSize": "50"}),
            ("DescribeAuditLogs", {"ClientIp": "10.0.0.1", "CurrentPage": "100000"}),
            ("DescribeDataMaskingRunHistory", {"Status": "1", "SrcType": "5", "PageSize": "7", "CurrentPage": "3"}),
            ("ListSensitiveDataAuditLog", {"OpUserName": "root", "StartTime": "2026-10-01 00:00:00",
                                           "EndTime": "2026-11-30 00:00:00", "PageSize": "5", "PageNumber": "2"}),
        ]
        for action, params in calls:
            fixed = {"AsyncRequestId": "A"} if action == "DescribeAuditLogs" else {}
            got = sql.call(action, {**params, **fixed}, request_id="R")
            assert got == memory.call(action, {**params, **fixed}, request_id="R"), (action, params)
    finally:
        sql.close()


FOLDING = ["STRASSE", "straße", "Straße", "İstanbul", "istanbul", "ΣΊΣΥΦΟΣ", "σίσυφος", "ﬁle", "FILE", "ǅ", "drop"]


def test_folded_key_tables_fold_as_python_casefold(database: tuple[Backend, Engine]) -> None:
    _, sql = database
    records = [AuditLog(creation_time=i % 3, operate_type=value) for i, value in enumerate(FOLDING * 2)]
    sql.load(records)
    memory = Engine()
    memory.load(records)
    for needle in ("strasse", "STRASSE", "ß", "i̇stanbul", "σίσυφοσ", "fi", "ǆ", "DROP"):
        _agree(sql, memory, AUDIT, f'OperateType ieq "{needle}"', sizes=(10, 2))


def test_wall_clock_windows_on_dms_key_tables(database: tuple[Backend, Engine]) -> None:
    _, sql = database
    times = [dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59), dt.datetime(1969, 12, 31), dt.datetime(2024, 2, 29)]
    records = [SensitiveDataAuditLog(op_time=t, user_name="u", tid=i % 2) for i, t in enumerate(times * 3)]
    sql.load(records)
    memory = Engine()
    memory.load(records)
    for text in ('UserName = "u" and OpTime < "1970-01-01 00:00:00"', 'Tid = 1 and OpTime >= "2024-02-29 00:00:00"',
                 'UserName = "u" and OpTime = "0001-01-01 00:00:00"'):
        _agree(sql, memory, DMS, text)


def test_ties_on_the_time_come_back_by_id_then_loaded_last_first(database: tuple[Backend, Engine]) -> None:
    _, sql = database
    runs = [MaskingRun(id=i % 3, start_time=7, task_id="t") for i in range(12)]
    sql.load(runs[:6])
    sql.load(runs[6:])
    memory = Engine()
    memory.load(runs[:6])
    memory.load(runs[6:])
    _agree(sql, memory, RUNS, 'TaskId = "t"')


# --------------------------------------------------------------------------- which path


def test_a_semi_join_of_key_tables_is_used_only_when_one_condition_is_rare(database: tuple[Backend, Engine]) -> None:
    _, sql = database
    logs = [AuditLog(creation_time=i, user_name="rare" if i < 2 else f"u{i % 2}", ip_type="vpc") for i in range(400)]
    sql.load(logs)
    assert "from the key tables" in sql.explain(AUDIT, 'UserName = "rare" and IpType = "vpc"')
    assert "from the key tables" not in sql.explain(AUDIT, 'UserName = "u1" and IpType = "vpc"')
    assert "from the key tables" in sql.explain(AUDIT, 'UserName = "u1"')
    memory = Engine()
    memory.load(logs)
    for text in ('UserName = "rare" and IpType = "vpc"', 'UserName = "u1" and IpType = "vpc"'):
        _agree(sql, memory, AUDIT, text, sizes=(10,))


def test_rare_is_counted_in_records_not_in_load_numbers_after_a_listing(database: tuple[Backend, Engine]) -> None:
    """A listing's block leaves a gap of 2**32 load numbers, so the watermark is no count of the
    runs' records: a share of it would call every condition rare and semi-join common ones."""
    _, sql = database
    logs = [AuditLog(creation_time=i, user_name="rare" if i < 2 else f"u{i % 2}", ip_type="vpc") for i in range(400)]
    sql.store(AUDIT).insert(logs[:200], listing=Listing())
    sql.load(logs[200:])  # a run over the listing's block: the watermark is past 2**32
    assert "from the key tables" in sql.explain(AUDIT, 'UserName = "rare" and IpType = "vpc"')
    assert "from the key tables" not in sql.explain(AUDIT, 'UserName = "u1" and IpType = "vpc"')


def test_a_pages_rows_are_fetched_through_the_load_number_index(database: tuple[Backend, Engine]) -> None:
    backend, sql = database
    sql.load(sample.generate(AUDIT, 50, seed=3))
    statement = sql.store(AUDIT).statements.rows([3, 40, 7])
    plan = backend.connection.rows("EXPLAIN ANALYZE " + statement.sql, statement.values)[0][1]
    assert "Index Scan" in plan


# ------------------------------------------------------------------------ older databases


def test_a_database_without_key_tables_gets_them_and_answers_from_its_table(tmp_path: Path) -> None:
    path = tmp_path / "older.duckdb"
    logs = sample.generate(AUDIT, 40, seed=5)
    with Engine.connect(f"duckdb://{path}") as engine:
        engine.load(logs[:30])
    with duckdb.connect(str(path)) as older:  # as the engine left it before key tables
        older.execute('DROP INDEX "audit_log__load_seq"')
        for table in (TABLES[AUDIT].runs, *TABLES[AUDIT].key_tables):
            older.execute(f'DROP TABLE "{table.name}"')
    memory = Engine()
    memory.load(logs[:30])
    backend, sql = _open(RunPolicy(rows=5, most=3), f"duckdb://{path}")
    try:
        assert _runs(backend, AUDIT) == []
        _agree(sql, memory, AUDIT, 'UserName = "root"', sizes=(10,))
        sql.load(logs[30:])
        memory.load(logs[30:])
        assert _runs(backend, AUDIT) == [(0, 39)]  # the next insert sorts every record into a run
        _agree(sql, memory, AUDIT, 'UserName = "root"', sizes=(10,))
    finally:
        sql.close()


@pytest.mark.parametrize("folded", [False, True], ids=["exact", "folded"])
def test_a_key_table_missing_beside_runs_is_filled_with_the_records_of_the_runs(tmp_path: Path, folded: bool) -> None:
    """A file whose key tables are not this version's (one keyed field fewer, as a version with
    one equality parameter fewer wrote it) holds runs that the missing key table never took: made
    empty, it answered 0 records below the watermark."""
    path = tmp_path / "fewer.duckdb"
    field = "OperateType" if folded else "ClientIp"
    logs = sample.generate(AUDIT, 40, seed=5)
    backend, sql = _open(RunPolicy(rows=5, most=3), f"duckdb://{path}")
    with sql:
        sql.load(logs[:30])
        assert _runs(backend, AUDIT)
    missing = next(table for table in TABLES[AUDIT].key_tables if table.field == field)
    with duckdb.connect(str(path)) as older:
        older.execute(f'DROP TABLE "{missing.name}"')
    memory = Engine()
    memory.load(logs[:30])
    value = next(getattr(log, "operate_type" if folded else "client_ip") for log in logs[:30])
    text = f"{field} {'ieq' if folded else '='} {json.dumps(value.upper() if folded else value)}"
    backend, sql = _open(RunPolicy(rows=5, most=3), f"duckdb://{path}")
    with sql:
        assert "from the key tables" in sql.explain(AUDIT, text)
        _agree(sql, memory, AUDIT, text, sizes=(10, 3))
        sql.load(logs[30:])
        memory.load(logs[30:])
        _agree(sql, memory, AUDIT, text, sizes=(10, 3))


def _altered(path: Path, statement: str) -> Path:
    """A DuckDB file of 30 audit logs (one user, one client IP) changed by ``statement``, as
    another version of the engine would have left it."""
    with Engine.connect(f"duckdb://{path}") as engine:
        engine.load([AuditLog(creation_time=i, user_name="u", client_ip="ip") for i in range(30)])
    with duckdb.connect(str(path)) as other:
        other.execute(statement)
    return path


def test_a_read_only_open_of_a_file_lacking_a_key_table_says_to_open_it_for_writing(tmp_path: Path) -> None:
    """A read-only open cannot make or fill the key table an older version did not make; it
    says so, rather than answering 0 records on that field."""
    path = _altered(tmp_path / "fewer.duckdb", 'DROP TABLE "audit_log__by_ClientIp"')
    with pytest.raises(BackendError, match="lacks the table 'audit_log__by_ClientIp'.*open it once without read_only"):
        Engine.connect(f"duckdb://{path}", read_only=True)
    with Engine.connect(f"duckdb://{path}") as engine:  # an open for writing completes it
        pass
    with Engine.connect(f"duckdb://{path}", read_only=True) as engine:
        assert engine.query(AUDIT, 'ClientIp = "ip"').total == 30


def test_a_file_with_a_key_table_this_version_does_not_make_is_not_written(tmp_path: Path) -> None:
    """A newer version's file (a key table more) was loaded into: this version's inserts skipped
    the key table it does not know, and that version's lookups on its field then missed every
    record loaded here. It is refused for writing, and still read."""
    path = _altered(tmp_path / "newer.duckdb", 'CREATE TABLE "audit_log__by_Colour" ("Colour" VARCHAR, "CreationTime" BIGINT)')
    with pytest.raises(BackendError, match="key table 'audit_log__by_Colour', which this version does not make"):
        Engine.connect(f"duckdb://{path}")
    with Engine.connect(f"duckdb://{path}", read_only=True) as engine:
        assert engine.query(AUDIT, 'UserName = "u"').total == 30


def test_two_engines_opening_a_file_at_once_fill_a_missing_key_table_once(tmp_path: Path) -> None:
    """Both engines saw the key table missing before either made it, and both filled it: every
    record of the runs was in it twice, and totals on its field doubled."""
    path = tmp_path / "twice.duckdb"
    backend, sql = _open(RunPolicy(rows=5, most=3), f"duckdb://{path}")
    with sql:
        sql.load([AuditLog(creation_time=i, client_ip="ip") for i in range(30)])
    with duckdb.connect(str(path)) as older:
        older.execute('DROP TABLE "audit_log__by_ClientIp"')
    start = threading.Barrier(2)
    opened: list[Engine] = []

    def open_it() -> None:
        start.wait()
        opened.append(_open(RunPolicy(rows=5, most=3), f"duckdb://{path}")[1])

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(opened) == 2
        assert [engine.call("DescribeAuditLogs", {"ClientIp": "ip"})["TotalCount"] for engine in opened] == [30, 30]
    finally:
        for engine in opened:
            engine.close()


def test_a_key_table_of_other_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    Engine.connect(f"duckdb://{path}").close()
    with duckdb.connect(str(path)) as other:
        other.execute('DROP TABLE "audit_log__by_UserName"')
        other.execute('CREATE TABLE "audit_log__by_UserName" ("UserName" TEXT, "Colour" TEXT)')
    with pytest.raises(BackendError, match="the table 'audit_log__by_UserName' exists but is not this engine's"):
        Engine.connect(f"duckdb://{path}")


def test_a_run_policy_takes_whole_numbers_of_one_or_more() -> None:
    with pytest.raises(ValueError, match="rows and most of 1 or more"):
        RunPolicy(rows=0)


# ------------------------------------------------------------------- absent fields, failures


def test_records_lacking_a_keyed_field_match_no_equality_in_runs_or_tail(database: tuple[Backend, Engine]) -> None:
    backend, sql = database
    logs = [
        AuditLog(creation_time=i % 5, user_name=None if i % 3 else "a", operate_type=None if i % 4 else "Drop",
                 client_ip="ip" if i % 2 else None)
        for i in range(22)
    ]
    memory = Engine()
    for start in range(0, 22, 3):
        sql.load(logs[start:start + 3])
        memory.load(logs[start:start + 3])
    assert _runs(backend, AUDIT) == [(0, 17)]  # runs of 5, rewritten as one past 2; a tail of 4
    keyed = [(seq,) for seq, log in enumerate(logs[:18]) if log.user_name is not None]
    assert sorted(backend.connection.rows('SELECT "_load_seq" FROM "audit_log__by_UserName"')) == keyed
    for text in ('UserName = "a"', 'UserName in {"a", "b"}', 'OperateType ieq "DROP"', 'ClientIp = "ip"',
                 'UserName = "a" and ClientIp = "ip"', 'OperateType ieq "drop" and UserName = "a"',
                 'UserName = "a" and CreationTime >= 3', 'not UserName = "a"', 'UserName != "a"'):
        _agree(sql, memory, AUDIT, text, sizes=(10, 2))


def test_a_run_that_fails_leaves_neither_the_batch_nor_its_key_rows(
    database: tuple[Backend, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, sql = database
    logs = [AuditLog(creation_time=i, user_name="a") for i in range(9)]
    sql.load(logs[:3])

    def broken(self: keys.KeyStatements, first: int, last: int) -> keys.Statement:
        return keys.Statement('INSERT INTO "no_such_table" VALUES (1)', {})

    with monkeypatch.context() as patched:
        patched.setattr(keys.KeyStatements, "note_run", broken)
        with pytest.raises(BackendError, match="no_such_table"):
            sql.load(logs[3:6])  # reaches a run of 5: the run fails, so does the insert
    assert len(sql.store(AUDIT)) == 3
    assert _runs(backend, AUDIT) == [] and backend.connection.rows('SELECT * FROM "audit_log__by_UserName"') == []
    sql.load(logs[3:9])
    assert _runs(backend, AUDIT) == [(0, 8)]
    assert [log.creation_time for log in sql.query(AUDIT, 'UserName = "a"').records] == list(range(8, -1, -1))


def test_a_failed_clear_leaves_the_records_and_their_key_rows(
    database: tuple[Backend, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, sql = database
    logs = [AuditLog(creation_time=i, user_name="a") for i in range(7)]
    sql.load(logs)
    source = backend.sources[AUDIT]
    executed = source._execute

    def failing_on_key_tables(statement: keys.Statement) -> None:
        if "__by_" in statement.sql:
            raise BackendError("test", "a key table cannot be emptied")
        executed(statement)

    monkeypatch.setattr(source, "_execute", failing_on_key_tables)
    with pytest.raises(BackendError, match="a key table cannot be emptied"):
        backend.clear()
    monkeypatch.undo()
    assert len(sql.store(AUDIT)) == 7 and _runs(backend, AUDIT) == [(0, 6)]
    assert sql.query(AUDIT, 'UserName = "a"').total == 7


def test_clickhouse_keeps_no_key_tables() -> None:
    from dsc_engine.sql.dialects import CLICKHOUSE

    statements = [CLICKHOUSE.render(s) for kind in RecordKind for s in CLICKHOUSE.create_statements(TABLES[kind], "dsc")]
    assert not CLICKHOUSE.keyed and not any("__by_" in s or "__key_runs" in s or "INDEX" in s for s in statements)
