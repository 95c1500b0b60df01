"""Opening a SQL backend: the connection, the three tables, a source per kind.

:func:`connect` opens the database a backend URL names, creates the tables of the three record
kinds when they are missing (refusing tables of other columns) and returns a :class:`Backend`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dsc_engine.errors import BackendError
from dsc_engine.models.kinds import RecordKind
from dsc_engine.sql.connection import Connection, open_connection
from dsc_engine.sql.keys import RunPolicy
from dsc_engine.sql.schema import TABLES, Column, EntryColumn, Table
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


def connect(url: str | BackendUrl, runs: RunPolicy | None = None) -> Backend:
    """Open the SQL database of ``url`` (``duckdb://``, ``chdb://`` or ``clickhouse://``), with its
    tables created if missing; :class:`BackendError` if it cannot be used. ``runs``: when DuckDB's
    key tables take a run (``keys.py``; the default suits millions of records)."""
    parsed = url if isinstance(url, BackendUrl) else parse_url(url)
    if parsed.scheme is Scheme.MEMORY:
        raise BackendError(parsed.shown, "memory:// is the in-memory engine: Engine.connect opens it")
    connection = open_connection(parsed)
    try:
        for kind in RecordKind:
            _create(connection, TABLES[kind])
    except BaseException:
        connection.close()
        raise
    return Backend(parsed, connection, runs)


def _create(connection: Connection, table: Table) -> None:
    """Create a kind's tables (and DuckDB's index and key tables) where missing; refuse an
    existing table of other columns. A database from before the key tables gets them, empty: its
    records are read from the kind's table until the next insert sorts them into a run."""
    dialect, database = connection.dialect, connection.database
    tables: list[tuple[str, tuple[Column | EntryColumn, ...]]] = [(table.name, table.columns)]
    if dialect.keyed:
        tables += [(table.runs.name, table.runs.columns)]
        tables += [(keys.name, keys.columns) for keys in table.key_tables]
    absent = False
    for name, columns in tables:
        query, values = dialect.columns_query(name, database)
        rows = connection.rows(dialect.render(query), values)
        absent = absent or not rows
        if rows:
            _check_columns(connection, name, columns, rows)
    if absent:
        for statement in dialect.create_statements(table, database):
            connection.execute(dialect.render(statement))


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
            wanted, there = connection.dialect.type_text(column), connection.dialect.found_type(row)
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
