"""Opening a SQL backend: the connection, the three tables, a source per kind.

:func:`connect` opens the database a backend URL names, creates the tables of the three record
kinds when they are missing (refusing tables of other columns) and returns a :class:`Backend`.
"""

from __future__ import annotations

from collections.abc import Mapping

from dsc_engine.errors import BackendError
from dsc_engine.models.kinds import RecordKind
from dsc_engine.sql.connection import Connection, open_connection
from dsc_engine.sql.schema import TABLES
from dsc_engine.sql.source import SqlSource
from dsc_engine.sql.statements import Statements
from dsc_engine.sql.url import BackendUrl, Scheme, looks_like_url, parse_url


class Backend:
    """An open SQL database holding the three kinds' tables."""

    def __init__(self, url: BackendUrl, connection: Connection) -> None:
        self.url = url
        self.connection = connection
        self.sources: Mapping[RecordKind, SqlSource] = {
            kind: SqlSource(kind, connection, TABLES[kind]) for kind in RecordKind
        }

    def clear(self) -> None:
        """Delete every record of every kind (the tables stay): the database as newly created."""
        for source in self.sources.values():
            truncate = source.statements.truncate()
            self.connection.execute(truncate.sql, truncate.values)

    def close(self) -> None:
        self.connection.close()


def connect(url: str | BackendUrl) -> Backend:
    """Open the SQL database of ``url`` (``duckdb://``, ``chdb://`` or ``clickhouse://``), with its
    tables created if missing; :class:`BackendError` if it cannot be used."""
    parsed = url if isinstance(url, BackendUrl) else parse_url(url)
    if parsed.scheme is Scheme.MEMORY:
        raise BackendError(parsed.shown, "memory:// is the in-memory engine: Engine.connect opens it")
    connection = open_connection(parsed)
    try:
        for kind in RecordKind:
            _create(connection, TABLES[kind].name, Statements(TABLES[kind], connection.dialect, connection.database))
    except BaseException:
        connection.close()
        raise
    return Backend(parsed, connection)


def _create(connection: Connection, name: str, statements: Statements) -> None:
    """Create a kind's table if missing; refuse an existing table of other columns."""
    existing = statements.columns()
    found = [row[0] for row in connection.rows(existing.sql, existing.values)]
    expected = list(statements.table.column_names)
    if found and found != expected:
        missing = [c for c in expected if c not in found]
        extra = [c for c in found if c not in expected]
        what = f"lacks {', '.join(missing[:5])}" if missing else f"has other columns ({', '.join(extra[:5])})"
        raise BackendError(
            connection.shown,
            f"the table {name!r} exists but is not this engine's: it {what}; use another database or file",
        )
    if not found:
        for statement in connection.dialect.create_statements(statements.table, connection.database):
            connection.execute(connection.dialect.render(statement))


__all__ = ["Backend", "BackendUrl", "SqlSource", "connect", "looks_like_url", "parse_url"]
