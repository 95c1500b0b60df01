"""The CLI on a database: ``load --into URL``, then ``--data URL`` (or ``--backend URL``) for
query, call, export, replay and serve, with the same answers as from the files in memory."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from backends import SQL_NAMES, url_of

from clirun import run
from dsc_engine import sample
from dsc_engine.models import RecordKind
from dsc_engine.wire.codec import to_wire

AUDIT, RUNS = RecordKind.AUDIT_LOG, RecordKind.MASKING_RUN


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("exports")
    audits = [json.dumps(to_wire(r)) for r in sample.generate(AUDIT, 60, seed=9)]
    audits.insert(3, '{"CreationTime": "soon"}')
    (folder / "audit.jsonl").write_text("\n".join(audits) + "\n", encoding="utf-8")
    runs = "".join(json.dumps(to_wire(r)) + "\n" for r in sample.generate(RUNS, 15, seed=9))
    (folder / "runs.jsonl").write_text(runs, encoding="utf-8")
    return folder


@pytest.fixture(scope="module", params=SQL_NAMES)
def database(request: pytest.FixtureRequest, files: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database loaded from ``files`` by ``load --into``; its URL."""
    url = url_of(request.param)
    rejects = tmp_path_factory.mktemp("rejects") / "rejects.jsonl"
    code, out, err = run("--format", "json", "load", str(files), "--into", url, "--rejects", str(rejects))
    assert code == 3, err  # one record was rejected
    summary = json.loads(out)
    assert (summary["read"], summary["loaded_total"], summary["rejected"]) == (76, 75, 1)
    assert summary["into"] == url and len(rejects.read_text().splitlines()) == 1
    return url


QUERIES = [
    ("query", "audit", 'UserName = "admin" or not EffectRow > 100', "--page-size", "7", "--page", "2"),
    ("call", "DescribeAuditLogs", "--param", "PageSize=5", "--param", "RuleAggQuery=true",
     "--param", "AsyncRequestId=A", "--param", "Lang=en_us"),
    ("call", "DescribeDataMaskingRunHistory", "--param", "Status=2", "--param", "PageSize=3"),
]


@pytest.mark.parametrize("argv", QUERIES, ids=["query", "call-audit", "call-runs"])
@pytest.mark.parametrize("option", ["--data", "--backend"])
def test_a_database_answers_as_the_files_do(database: str, files: Path, argv: tuple[str, ...], option: str) -> None:
    code, from_files, err = run("--format", "json", *argv, "--data", str(files))
    assert code == 0, err
    code, from_database, err = run("--format", "json", *argv, option, database)
    assert code == 0, err
    strip = lambda text: {k: v for k, v in json.loads(text).items() if k != "RequestId"}  # noqa: E731
    assert strip(from_database) == strip(from_files)


def test_export_from_a_database_equals_the_export_from_files(database: str, files: Path) -> None:
    for fmt in ("jsonl", "csv", "pages"):
        code, from_files, _ = run("export", "audit", "WarnLevel = \"3\"", "--to", fmt, "--data", str(files))
        assert code == 0
        code, from_database, err = run("export", "audit", "WarnLevel = \"3\"", "--to", fmt, "--data", database)
        assert (code, from_database) == (0, from_files), err


def test_record_then_replay_on_a_database(database: str, tmp_path: Path) -> None:
    capture = tmp_path / "capture.jsonl"
    assert run("record", "--out", str(capture), "--data", database)[0] == 0
    code, out, err = run("replay", str(capture), "--data", database)
    assert code == 0, out + err


def test_explain_shows_the_sql_a_database_is_sent(database: str) -> None:
    code, out, err = run("query", "audit", 'UserName = "admin"', "--data", database, "--explain")
    assert code == 0, err
    assert "SELECT" in out and "bound values: p0 = 'admin'" in out


def test_a_url_beside_files_or_a_second_url_is_a_usage_error(database: str, files: Path) -> None:
    code, _, err = run("query", "audit", "--data", database, "--data", str(files))
    assert code == 2 and "names all the data" in err
    code, _, err = run("query", "audit", "--data", database, "--backend", "duckdb:///other.duckdb")
    assert code == 2 and "give one database URL" in err


def test_a_bad_url_is_a_data_error_naming_it(files: Path) -> None:
    code, _, err = run("query", "audit", "--data", "chdb:///x?colour=red")
    assert code == 3 and "unknown option 'colour'" in err
    code, _, err = run("load", str(files), "--into", "clickhouse://u:hush@host:1/1db")
    assert code == 3 and "clickhouse://u:***@host:1/1db: the database name '1db'" in err and "hush" not in err


def test_a_server_that_does_not_answer_is_one_line_on_stderr() -> None:
    """docs/cli.md: every failure prints one clear line on stderr. clickhouse-connect also logs a
    warning of its own ("Unexpected Http Driver Exception"), which Python prints on stderr when
    nothing configured logging: it came before the command's line, saying less."""
    import socket
    import subprocess
    import sys

    pytest.importorskip("clickhouse_connect")
    with socket.socket() as probe:  # a port of this machine that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "dsc_engine.cli", "query", "audit", "--data", f"clickhouse://u:hush@127.0.0.1:{port}/db"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr.startswith(f"dsc-engine query: clickhouse://u:***@127.0.0.1:{port}/db: ")
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "hush" not in done.stderr


@pytest.mark.parametrize("argv", [
    ("query", "audit", 'UserName = "admin"'),
    ("call", "DescribeAuditLogs", "--param", "PageSize=5"),
    ("export", "audit"),
])
def test_a_database_url_that_names_no_database_is_a_data_error_and_creates_none(tmp_path: Path, argv: tuple[str, ...]) -> None:
    """A mistyped path (or an empty database) would answer every question with nothing: the
    commands that read a database refuse one this engine has not made, and leave nothing behind."""
    typo = tmp_path / "logs.duckbd"
    code, out, err = run(*argv, "--data", f"duckdb://{typo}")
    assert code == 3 and "no database at" in err and "dsc-engine load FILES --into" in err, err
    assert not typo.exists() and out == ""
    folder = tmp_path / "no-such-chdb"
    code, _, err = run(*argv, "--backend", f"chdb://{folder}")
    assert code == 3 and "no database at" in err, err
    assert not folder.exists()


def test_a_database_without_this_engines_tables_is_a_data_error(tmp_path: Path) -> None:
    import duckdb

    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    code, _, err = run("query", "audit", "--data", f"duckdb://{other}")
    assert code == 3 and "holds none of this engine's tables" in err, err
    with duckdb.connect(str(other)) as connection:  # left as it was: no table created
        assert connection.execute("SELECT count(*) FROM information_schema.tables").fetchone() == (0,)


def test_shell_counts_by_a_field_on_a_database_as_on_the_files(
    database: str, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a database answered every 'count by' with "this record source cannot count by field"
    script = ("count by UserName\ncount by EffectRow where UserName = \"admin\"\ncount by TableName\n"
              "use masking\ncount by StartTime\ncount by Status where Status != 2\n"
              "use dms\ncount by TableName\ncount by ColumnName where SensitiveDataLog any (TableName = \"users\")\n"
              "count by hour(OpTime)\nuse audit\ncount by day(CreationTime) where UserName != \"admin\"\n")
    shown = []
    for data in (str(files), database):
        monkeypatch.setattr("sys.stdin", io.StringIO(script))
        code, out, err = run("--format", "jsonl", "shell", "--data", data)
        assert code == 0 and "error" not in out, out + err
        shown.append(out)
    assert shown[0] == shown[1]


def test_shell_lets_go_of_the_database_when_it_ends(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # the shell never closed its engine (every other command does, in a with block): the
    # database stayed held until the interpreter collected it
    from dsc_engine import Engine

    closed: list[Engine] = []
    close = Engine.close

    def counted_close(self: Engine) -> None:
        closed.append(self)
        close(self)

    monkeypatch.setattr(Engine, "close", counted_close)
    for script in ("kinds\n", "kinds\nquit\n", 'query UserName =\n'):
        closed.clear()
        monkeypatch.setattr("sys.stdin", io.StringIO(script))
        assert run("shell", "--data", database)[0] == (1 if "=\n" in script else 0)  # a failed script exits 1
        assert len(closed) == 1


def test_commands_that_read_a_duckdb_file_share_it_with_a_shell_open_on_it(files: Path, tmp_path: Path) -> None:
    """The reading commands opened a DuckDB file for writing, which takes it whole: with a shell
    open on the file, every other command on it failed on DuckDB's lock."""
    import subprocess
    import sys

    url = f"duckdb://{tmp_path}/logs.duckdb"
    assert run("load", str(files), "--into", url)[0] == 3  # one record rejected
    shell = subprocess.Popen(
        [sys.executable, "-m", "dsc_engine.cli", "--format", "json", "shell", "--data", url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert shell.stdin is not None and shell.stdout is not None
        shell.stdin.write("count by UserName\n")
        shell.stdin.flush()
        assert shell.stdout.readline()  # the shell has the file open and answers
        code, out, err = run("--format", "json", "call", "DescribeAuditLogs", "--data", url, "--param", "PageSize=1")
        assert code == 0, err
        assert json.loads(out)["TotalCount"] == 60
    finally:
        shell.communicate("quit\n", timeout=60)
    assert shell.returncode == 0
