"""Opening a SQL backend: the connection, the three tables, a source per kind.

:func:`connect` opens the database a backend URL names, creates the tables of the three record
kinds when they are missing (refusing tables of other columns) and returns a :class:`Backend`.
"""

from __future__ import annotations

from collections.abc import Mapping

from dsc_engine.errors import BackendError
from dsc_engine.models.kinds import RecordKind
from dsc_engine.sql.connection import Connection, open_connection
from dsc_engine.sql.keys import RunPolicy
from dsc_engine.sql.schema import TABLES, Table
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
    tables = [(table.name, table.column_names)]
    if dialect.keyed:
        tables += [(table.runs.name, tuple(c.name for c in table.runs.columns))]
        tables += [(keys.name, tuple(c.name for c in keys.columns)) for keys in table.key_tables]
    absent = False
    for name, expected in tables:
        query, values = dialect.columns_query(name, database)
        found = [row[0] for row in connection.rows(dialect.render(query), values)]
        absent = absent or not found
        if found and found != list(expected):
            missing = [c for c in expected if c not in found]
            extra = [c for c in found if c not in expected]
            what = f"lacks {', '.join(missing[:5])}" if missing else f"has other columns ({', '.join(extra[:5])})"
            raise BackendError(
                connection.shown,
                f"the table {name!r} exists but is not this engine's: it {what}; use another database or file",
            )
    if absent:
        for statement in dialect.create_statements(table, database):
            connection.execute(dialect.render(statement))


__all__ = ["Backend", "BackendUrl", "RunPolicy", "SqlSource", "connect", "looks_like_url", "parse_url"]
