"""Opening a SQL backend: the connection, the three tables, a source per kind.

:func:`connect` opens the database a backend URL names, creates the tables of the three record
kinds when they are missing (refusing tables of other columns) and returns a :class:`Backend`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlglot import exp

from dsc_engine.errors import BackendError
from dsc_engine.models.kinds import RecordKind
from dsc_engine.sql.connection import Connection, open_connection
from dsc_engine.sql.keys import KeyStatements, RunPolicy
from dsc_engine.sql.schema import KEYED_BY, TABLES, Column, EntryColumn, KeyTable, Table
from dsc_engine.sql.source import SqlSource
from dsc_engine.sql.url import BackendUrl, Scheme, looks_like_url, parse_url


class Backend:
    """An open SQL database holding the three kinds' tables."""

    def __init__(self, url: BackendUrl, connection: Connection, runs: RunPolicy | None = None) -> None:
        self.url = url
        self.connection = connection
        self.sources: Mapping[RecordKind, SqlSource] = {
            kind: SqlSource(kind, connection, TABLES[kind], runs) for kind in RecordKind
        }

    def clear(self) -> None:
        """Delete every record of every kind (the tables stay): the database as newly created."""
        for source in self.sources.values():
            source.clear()

    def close(self) -> None:
        self.connection.close()


#: How a database that holds no records yet is made, for the messages refusing one.
MAKE = "load records into it first: dsc-engine load FILES --into URL, or Engine.connect(url).load(...)"


def connect(
    url: str | BackendUrl, runs: RunPolicy | None = None, *, create: bool = True, read_only: bool = False
) -> Backend:
    """Open the SQL database of ``url`` (``duckdb://``, ``chdb://`` or ``clickhouse://``), with its
    tables created if missing; :class:`BackendError` if it cannot be used. ``runs``: when DuckDB's
    key tables take a run (``keys.py``; the default suits millions of records). ``create=False``
    opens only a database this engine has made: a file or folder that does not exist, or a
    database without the kinds' tables, is a :class:`BackendError` (a mistyped path would
    otherwise answer every question with nothing), and nothing is made. ``read_only`` (implies
    ``create=False``; what the commands that only read use): the connection refuses every write
    and every load, and a DuckDB file is opened shared, so that other processes can read it at
    once; a database whose tables an older version made, which an open for writing completes,
    is refused."""
    create = create and not read_only
    parsed = url if isinstance(url, BackendUrl) else parse_url(url)
    if parsed.scheme is Scheme.MEMORY:
        raise BackendError(parsed.shown, "memory:// is the in-memory engine: Engine.connect opens it")
    if not create and parsed.scheme in (Scheme.DUCKDB, Scheme.CHDB) and parsed.location != ":memory:":
        place = Path(parsed.location).expanduser()
        if not place.exists():
            raise BackendError(parsed.shown, f"no database at {str(place)!r}: {MAKE}")
    connection = open_connection(parsed, read_only=read_only)
    try:
        if not create:
            _require_tables(connection)
        for kind in RecordKind:
            _create(connection, TABLES[kind])
    except BaseException:
        connection.close()
        raise
    return Backend(parsed, connection, runs)


def _require_tables(connection: Connection) -> None:
    """Refuse a database lacking a kind's table (``connect(create=False)``)."""
    dialect = connection.dialect
    missing = []
    for kind in RecordKind:
        query, values = dialect.columns_query(TABLES[kind].name, connection.database)
        if not connection.rows(dialect.render(query), values):
            missing.append(TABLES[kind].name)
    if len(missing) == len(RecordKind):
        raise BackendError(connection.shown, f"the database holds none of this engine's tables: {MAKE}")
    if missing:
        raise BackendError(connection.shown, f"the database lacks this engine's table {missing[0]!r}: {MAKE}")


def _create(connection: Connection, table: Table) -> None:
    """Create a kind's tables (and DuckDB's index and key tables) where missing; refuse an
    existing table of other columns. A database from before the key tables gets them, empty: its
    records are read from the kind's table until the next insert sorts them into a run. A key
    table missing beside runs (a file another version wrote, keying other fields) is filled with
    the records of the runs, in the transaction that creates it: the runs say every key table
    holds them."""
    dialect, database = connection.dialect, connection.database
    tables: list[tuple[str, tuple[Column | EntryColumn, ...]]] = [(table.name, table.columns)]
    if dialect.keyed:
        tables += [(table.runs.name, table.runs.columns)]
        tables += [(keys.name, keys.columns) for keys in table.key_tables]
    if connection.read_only:
        absent = _absent(connection, tables)
        if absent:
            reason = (f"the database lacks the table {sorted(absent)[0]!r}, which this version adds when it"
                      " opens the database for writing; a read-only open cannot: open it once without read_only")
            raise BackendError(connection.shown, reason)
        return
    with connection.writing():  # two engines opening one file at once fill a key table once
        absent = _absent(connection, tables)
        if dialect.keyed:
            _refuse_unknown_key_tables(connection, table)
        if not absent:
            return
        for statement in dialect.create_statements(table, database):
            connection.execute(dialect.render(statement))
        if dialect.keyed and table.runs.name not in absent:
            _fill(connection, table, [keys for keys in table.key_tables if keys.name in absent])


def _refuse_unknown_key_tables(connection: Connection, table: Table) -> None:
    """Refuse to write into a database holding a key table of ``table`` that this version does not
    make (a newer version's, keying a field more): its loads would not add to it, and that
    version's lookups would then miss every record loaded here. Reading it is fine."""
    known = {keys.name for keys in table.key_tables}
    prefix = f"{table.name}{KEYED_BY}"
    query = exp.select(exp.column("table_name")).from_(
        exp.Table(this=exp.to_identifier("tables"), db=exp.to_identifier("information_schema"))
    )
    found = sorted(str(row[0]) for row in connection.rows(connection.dialect.render(query)))
    unknown = [name for name in found if name.startswith(prefix) and name not in known]
    if unknown:
        raise BackendError(
            connection.shown,
            f"the database holds the key table {unknown[0]!r}, which this version does not make (a newer version"
            " wrote the file): a load from here would leave it stale; load with that version, or open the file"
            " read-only (Engine.connect(url, read_only=True))",
        )


def _absent(connection: Connection, tables: Sequence[tuple[str, tuple[Column | EntryColumn, ...]]]) -> set[str]:
    """The names of ``tables`` the database lacks; an existing one of other columns is refused."""
    dialect, absent = connection.dialect, set()
    for name, columns in tables:
        query, values = dialect.columns_query(name, connection.database)
        rows = connection.rows(dialect.render(query), values)
        if rows:
            _check_columns(connection, name, columns, rows)
            _check_engine(connection, name)
        else:
            absent.add(name)
    return absent


def _check_engine(connection: Connection, name: str) -> None:
    """Refuse an existing table whose storage engine would not keep every row inserted (a
    ClickHouse ``ReplacingMergeTree`` of the same columns merges records of equal keys away)."""
    dialect = connection.dialect
    asked = dialect.engine_query(name, connection.database)
    if asked is None:
        return
    query, values = asked
    found = str(connection.rows(dialect.render(query), values)[0][0])
    if found not in dialect.table_engines:
        engines = " or ".join(sorted(dialect.table_engines))
        raise BackendError(
            connection.shown,
            f"the table {name!r} exists but is not this engine's: its engine is {found}, not {engines}"
            " (which keep every record loaded); use another database",
        )


def _fill(connection: Connection, table: Table, missing: Sequence[KeyTable]) -> None:
    """Sort the records the runs hold (from the first run's first load number to the watermark)
    into the newly made key tables ``missing``, as one run of each."""
    statements = KeyStatements(table, connection.dialect, connection.database)
    watermark, runs = connection.rows(statements.watermark().sql)[0]
    if not runs or not missing:
        return
    first = connection.rows(statements.first_run().sql)[0][0]
    for keys in missing:
        run = statements.append_run(keys, int(first), int(watermark))
        connection.execute(run.sql, run.values)


def _check_columns(
    connection: Connection, name: str, columns: Sequence[Column | EntryColumn], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Refuse an existing table whose columns (names, in order, and types) are not those the
    engine creates: another program's table, or another version's."""
    expected = [column.name for column in columns]
    found = [row[0] for row in rows]
    what = ""
    if found != expected:
        missing = [c for c in expected if c not in found]
        extra = [c for c in found if c not in expected]
        what = f"lacks {', '.join(missing[:5])}" if missing else f"has other columns ({', '.join(extra[:5])})"
    else:
        for column, row in zip(columns, rows):
            wanted = connection.dialect.type_text(column)
            there = connection.dialect.found_type(row).replace('"', "").replace("`", "")  # names quoted or not
            if there != wanted:
                what = f"its column {column.name!r} is {there}, not {wanted}"
                break
    if what:
        raise BackendError(
            connection.shown,
            f"the table {name!r} exists but is not this engine's: {'it ' if not what.startswith('its') else ''}{what};"
            " use another database or file",
        )


__all__ = ["Backend", "BackendUrl", "RunPolicy", "SqlSource", "connect", "looks_like_url", "parse_url"]
