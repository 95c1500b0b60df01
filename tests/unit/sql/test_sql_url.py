"""Backend URLs: every form docs/backends.md lists, and a clear BackendError for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsc_engine import Engine

from dsc_engine.errors import BackendError
from dsc_engine.sql.url import Scheme, data_url, looks_like_url, parse_url, redact


@pytest.mark.parametrize("text, scheme, location, database", [
    ("memory://", Scheme.MEMORY, "", "dsc"),
    ("duckdb:///data/logs.duckdb", Scheme.DUCKDB, "/data/logs.duckdb", "dsc"),
    ("duckdb://logs.duckdb", Scheme.DUCKDB, "logs.duckdb", "dsc"),
    ("duckdb://:memory:", Scheme.DUCKDB, ":memory:", "dsc"),
    ("DUCKDB:///a%20b.duckdb", Scheme.DUCKDB, "/a b.duckdb", "dsc"),
    ("chdb:///data/ch", Scheme.CHDB, "/data/ch", "dsc"),
    ("chdb:///data/ch?database=audit_2026", Scheme.CHDB, "/data/ch", "audit_2026"),
])
def test_embedded_urls_name_a_place_and_a_database(text: str, scheme: Scheme, location: str, database: str) -> None:
    url = parse_url(text)
    assert (url.scheme, url.location, url.database) == (scheme, location, database)


def test_a_server_url_names_host_port_user_password_and_database() -> None:
    url = parse_url("clickhouse://reader:p%40ss@ch.internal:8443/audit?secure=1")
    assert (url.host, url.port, url.user, url.password, url.database, url.secure) == (
        "ch.internal", 8443, "reader", "p@ss", "audit", True)
    plain = parse_url("clickhouse://localhost")
    assert (plain.port, plain.user, plain.database, plain.secure) == (8123, "default", "dsc", False)


def test_the_password_is_left_out_of_what_is_shown() -> None:
    url = parse_url("clickhouse://reader:s3cret@host:8123/db")
    assert url.shown == "clickhouse://reader:***@host:8123/db" and "s3cret" not in repr(url)
    with pytest.raises(BackendError) as caught:
        parse_url("clickhouse://reader:s3cret@host:8123/1db")
    assert "s3cret" not in str(caught.value)
    assert redact("duckdb:///a@b:c/x") == "duckdb:///a@b:c/x"


@pytest.mark.parametrize("text, reason", [
    ("logs.jsonl", "not a backend URL"),
    ("postgres://x/y", "not a backend URL"),
    ("memory://x", "memory:// takes no path"),
    ("duckdb://", "needs a path"),
    ("chdb:///x?db=y", "unknown option 'db'"),
    ("duckdb:///x?database=y", "unknown option 'database'"),
    ("chdb:///x?database=drop%20table", "must be letters, digits and _"),
    # ClickHouse's own databases: the engine's tables would be made among its system tables
    ("chdb:///x?database=system", "'system' is ClickHouse's own"),
    ("clickhouse://h/INFORMATION_SCHEMA", "'INFORMATION_SCHEMA' is ClickHouse's own"),
    ("clickhouse://h/information_schema", "'information_schema' is ClickHouse's own"),
    ("clickhouse://", "needs a host"),
    ("clickhouse://h:99999", "the port is not a number"),
    ("clickhouse://h?secure=maybe", "secure must be 1 or 0"),
    ("clickhouse://h:0/db", "the port is not a number from 1 to 65535"),
    ("clickhouse://[::1/db", "cannot read the host"),
    ("clickhouse://h/db?secure=1&secure=0", "the option 'secure' is given twice"),
    ("chdb:///x?database=a&database=b", "the option 'database' is given twice"),
    ("duckdb:///tmp/a\x00b.duckdb", "the path holds a NUL character"),
    ("chdb:///tmp/a\x00b", "the path holds a NUL character"),
])
def test_a_bad_url_is_a_backend_error_saying_why(text: str, reason: str) -> None:
    with pytest.raises(BackendError, match=reason):
        parse_url(text)


def test_only_known_schemes_look_like_urls() -> None:
    assert looks_like_url("duckdb:///x") and looks_like_url("ClickHouse://h")
    assert not looks_like_url("exports/") and not looks_like_url("s3://bucket/x") and not looks_like_url("C:/x")


def test_a_chdb_path_naming_a_file_is_a_backend_error(tmp_path: Path) -> None:
    """chDB keeps its data in a folder; a file there (a DuckDB file given the wrong scheme) is
    refused by name, not a FileExistsError from making the folder."""
    taken = tmp_path / "logs.duckdb"
    taken.write_bytes(b"not a folder")
    with pytest.raises(BackendError, match="is a file, not a folder"):
        Engine.connect(f"chdb://{taken}")
    assert taken.read_bytes() == b"not a folder"


def test_a_chdb_folder_another_process_has_open_is_named_as_such(tmp_path: Path) -> None:
    """chDB lets one process at a time use a folder; a second one (a ``call`` beside a ``serve``)
    is told that, not chDB's "Error initializing EmbeddedServer: . (BAD_ARGUMENTS)"."""
    import subprocess
    import sys

    folder = tmp_path / "ch"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from dsc_engine import Engine; held = Engine.connect(sys.argv[1]);"
         " print('open', flush=True); sys.stdin.read()", f"chdb://{folder}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        second = subprocess.run([sys.executable, "-m", "dsc_engine.cli", "call", "DescribeAuditLogs",
                                 "--data", f"chdb://{folder}"], capture_output=True, text=True, timeout=120)
    finally:
        holder.communicate("", timeout=120)
    assert second.returncode == 3
    assert "another process has this chDB folder open" in second.stderr, second.stderr


@pytest.mark.parametrize("text", ["duckdb:logs.duckdb", "duckdb:/data/logs.duckdb", "ClickHouse:host/db", "chdb:dir"])
def test_a_data_path_that_is_a_url_missing_its_slashes_is_named_as_such(tmp_path: Path, text: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BackendError, match=r"no such file, and not a backend URL: write \w+://"):
        data_url([text])


@pytest.mark.parametrize("text", ["memory:", "Memory:x"])
def test_memory_without_its_slashes_is_told_to_take_no_path(tmp_path: Path, text: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # memory:// names no file: the hint about where a path goes would mislead, and 'memory://x'
    # would only fail again (memory:// takes no path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BackendError) as caught:
        data_url([text])
    assert caught.value.reason == "no such file, and not a backend URL: write memory:// (it takes no path)"


def test_a_file_whose_name_starts_like_a_url_is_still_a_file(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "duckdb:x.jsonl").write_text("")
    assert data_url(["duckdb:x.jsonl", "exports/"]) == (None, ["duckdb:x.jsonl", "exports/"])


def test_a_server_url_missing_its_slashes_keeps_its_password_out_of_the_message() -> None:
    with pytest.raises(BackendError) as caught:
        data_url(["clickhouse:reader:s3cret@host:8123/db"])
    assert "s3cret" not in str(caught.value) and "write clickhouse://reader" in str(caught.value)
