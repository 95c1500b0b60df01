"""Thin adapters to the SQL engines: connect, run a statement with bound values, bulk insert.

Both take statements already rendered for their dialect (``dialects.py``) and values by name, and
translate the driver's failures into :class:`BackendError`. Neither builds SQL from values.

- :class:`DuckDBConnection`: the ``duckdb`` package; one database file (or ``:memory:``), a
  cursor per thread, reads of several statements in one transaction (a page and its total see the
  same records), inserts in a transaction.
- :class:`ClickHouseConnection`: ``clickhouse-connect``, for a server over HTTP and, with a
  ``chdb://`` URL, for chDB in this process (clickhouse-connect drives chDB through the same
  client class): the statements, the parameter encoding and the inserts are the same code for
  both. A client per statement running at once, reused by the next statements. ClickHouse has no
  multi-statement transactions: see ``docs/backends.md``.
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from sqlglot import exp

from dsc_engine.errors import BackendError
from dsc_engine.sql.dialects import CLICKHOUSE, DUCKDB, Dialect, column, identifier
from dsc_engine.sql.url import BackendUrl, Scheme, missing_package

Row = tuple[Any, ...]


class Connection(Protocol):
    """What a SQL record source needs of its database."""

    dialect: Dialect
    database: str
    shown: str  # the URL, without a password
    #: whether several statements can run in one transaction (a failed insert leaves nothing)
    transactional: bool
    #: opened to read only: :meth:`writing` raises ``BackendError`` (a DuckDB file is then shared
    #: with other processes reading it)
    read_only: bool

    def execute(self, sql: str, values: Mapping[str, Any] | None = None) -> None: ...

    def rows(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]: ...

    def stream(self, sql: str, values: Mapping[str, Any], chunk: int) -> Iterator[list[Row]]: ...

    def reading(self) -> contextlib.AbstractContextManager[None]: ...

    def writing(self) -> contextlib.AbstractContextManager[None]: ...

    def loading(self) -> contextlib.AbstractContextManager[object]:
        """The database's write lock, held by a load across its look-ups and inserts (it is
        reentrant: the inserts take it again); ``BackendError`` when opened read-only."""

    def insert(self, table: str, data: Any) -> None:
        """Insert a ``pyarrow.Table`` whose column names are the table's."""

    def close(self) -> None: ...


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]


class _WriteLock:
    """A reentrant lock that can be weakly referenced (``threading.RLock`` cannot), so the table
    below forgets a database's lock once no connection to it holds it. Reentrant: a load holds it
    across its look-ups and inserts, and each insert takes it again."""

    __slots__ = ("_lock", "__weakref__")

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


#: The write lock of each database this process has open (a DuckDB file, a chDB folder's database
#: by its real path; a ClickHouse server's database by host, port and name): one process may open
#: one several times (two ``Engine.connect``: a server and a loader), and their inserts must not
#: read the same highest load number at once, nor their loads look the same masking runs up at
#: once. Appends never conflict in these engines, so nothing else stops them. Other processes
#: loading into one ClickHouse server are not held back (docs/backends.md). Held weakly: an entry
#: lasts as long as a connection to its database.
_WRITE_LOCKS: weakref.WeakValueDictionary[str, _WriteLock] = weakref.WeakValueDictionary()
_WRITE_LOCKS_LOCK = threading.Lock()


def _write_lock(location: str, database: str = "") -> _WriteLock:
    """The lock serializing inserts into the database at ``location`` (and ``database`` in it) in
    this process; a new one for ``:memory:``."""
    if location == ":memory:":
        return _WriteLock()
    return _keyed_lock(f"{os.path.realpath(Path(location).expanduser())}?{database}")


def _server_lock(url: BackendUrl) -> _WriteLock:
    """The lock serializing this process's loads into one database of a ClickHouse server."""
    return _keyed_lock(f"clickhouse://{url.host.lower()}:{url.port}/{url.database}")


def _keyed_lock(key: str) -> _WriteLock:
    with _WRITE_LOCKS_LOCK:
        lock = _WRITE_LOCKS.get(key)
        if lock is None:
            lock = _WRITE_LOCKS[key] = _WriteLock()
        return lock


def closed_error(shown: str) -> BackendError:
    """The error of any use of an engine whose database was let go of (``Engine.close``)."""
    return BackendError(shown, "the engine was closed: connect again (Engine.connect) to use the database")


def _refuse_read_only(connection: Connection) -> None:
    if connection.read_only:
        raise BackendError(connection.shown, "the database was opened read-only: nothing can be loaded or changed"
                           " through this engine (Engine.connect(url) without read_only writes)")


class DuckDBConnection:
    """One DuckDB database (a file, or memory)."""

    dialect: Dialect = DUCKDB
    transactional = True

    def __init__(self, url: BackendUrl, *, read_only: bool = False) -> None:
        try:
            import duckdb
        except ImportError:
            raise missing_package(url, "duckdb") from None
        self._duckdb = duckdb
        self.shown = url.shown
        self.database = url.database
        location = url.location
        if location != ":memory:":
            parent = Path(location).expanduser().parent
            if not parent.is_dir():
                raise BackendError(self.shown, f"the folder {str(parent)!r} of the database file does not exist")
        self.read_only = read_only
        self._base, self._release = _open_duckdb(duckdb, location, read_only, self.shown)
        self._closed = False
        self._local = threading.local()
        self._write_lock = _write_lock(location)

    def _cursor(self) -> Any:
        if self._closed:
            raise closed_error(self.shown)
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._base.cursor()
        return cursor

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except self._duckdb.Error as exc:
            raise BackendError(self.shown, f"{what} failed: {_first_line(exc)}") from None

    def execute(self, sql: str, values: Mapping[str, Any] | None = None) -> None:
        with self._errors("a statement"):
            self._cursor().execute(sql, dict(values or {}))

    def rows(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        with self._errors("a query"):
            return self._cursor().execute(sql, dict(values or {})).fetchall()  # type: ignore[no-any-return]

    def stream(self, sql: str, values: Mapping[str, Any], chunk: int) -> Iterator[list[Row]]:
        if self._closed:
            raise closed_error(self.shown)
        cursor = self._base.cursor()  # its own: the caller may query between chunks
        try:
            with self._errors("a query"):
                cursor.execute(sql, dict(values))
            while True:
                with self._errors("a query"):
                    rows = cursor.fetchmany(chunk)
                if not rows:
                    return
                yield rows
        finally:
            cursor.close()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        if getattr(self._local, "depth", 0):
            yield
            return
        cursor = self._cursor()
        with self._errors("a transaction"):
            cursor.begin()
        self._local.depth = 1
        try:
            yield
        finally:
            self._local.depth = 0
            with self._errors("a transaction"):
                cursor.commit()

    def loading(self) -> _WriteLock:
        _refuse_read_only(self)  # before the load reads anything, and when it would insert nothing
        return self._write_lock

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        _refuse_read_only(self)
        with self._write_lock:
            cursor = self._cursor()
            with self._errors("a transaction"):
                cursor.begin()
            self._local.depth = 1
            try:
                yield
            except BaseException:
                self._local.depth = 0
                with contextlib.suppress(self._duckdb.Error):
                    cursor.rollback()
                raise
            self._local.depth = 0
            with self._errors("committing an insert"):
                cursor.commit()

    def insert(self, table: str, data: Any) -> None:
        view = "_dsc_insert_batch"
        names = [column(name) for name in data.column_names]
        statement = exp.insert(
            exp.select(*names).from_(exp.Table(this=identifier(view))),
            exp.Table(this=identifier(table)),
            columns=[identifier(name) for name in data.column_names],
        )
        cursor = self._cursor()
        with self._errors("an insert"):
            cursor.register(view, data)
            try:
                cursor.execute(self.dialect.render(statement))
            finally:
                cursor.unregister(view)

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(self._duckdb.Error):
            self._base.close()
        self._release()


#: The DuckDB connections this process has open on each file (by real path), by the mode DuckDB
#: opened it in (``True``: read-only). DuckDB opens a file in one mode per process: a read-only
#: connection beside one that writes is refused ("a different configuration"), and the other way
#: round. So a read-only engine of a file that an engine of this process writes reads it through
#: the writer's mode (this engine still refuses every write: ``read_only``), and a writer of a
#: file a read-only engine of this process holds is refused, saying so.
_DUCKDB_MODES: dict[str, collections.Counter[bool]] = {}
_DUCKDB_MODES_LOCK = threading.Lock()


def _open_duckdb(duckdb: Any, location: str, read_only: bool, shown: str) -> tuple[Any, Callable[[], object]]:
    """A DuckDB connection to ``location``, and what to call once it is closed (at most once)."""
    if location == ":memory:":  # a database of its own
        return _connect_duckdb(duckdb, location, read_only, shown), lambda: None
    key = os.path.realpath(Path(location).expanduser())
    with _DUCKDB_MODES_LOCK:
        modes = _DUCKDB_MODES.setdefault(key, collections.Counter())
        if not read_only and modes[True]:
            raise BackendError(shown, "the file is open read-only in this process (an engine opened with"
                               " read_only=True), and DuckDB opens a file in one mode per process: close it first")
        mode = read_only and not modes[False]
        base = _connect_duckdb(duckdb, location, mode, shown)
        modes[mode] += 1
    return base, weakref.finalize(base, _forget_duckdb, key, mode)


def _connect_duckdb(duckdb: Any, location: str, read_only: bool, shown: str) -> Any:
    try:
        return duckdb.connect(location, read_only=read_only)
    except duckdb.Error as exc:
        raise BackendError(shown, f"cannot open the database: {_first_line(exc)}") from None


def _forget_duckdb(key: str, mode: bool) -> None:
    with _DUCKDB_MODES_LOCK:
        modes = _DUCKDB_MODES[key]
        modes[mode] -= 1
        if not +modes:
            del _DUCKDB_MODES[key]


class ClickHouseConnection:
    """A ClickHouse database on a server, or in chDB (``chdb://``), through clickhouse-connect."""

    dialect: Dialect = CLICKHOUSE
    transactional = False

    def __init__(self, url: BackendUrl, *, read_only: bool = False) -> None:
        try:
            import clickhouse_connect
            from clickhouse_connect.driver.exceptions import ClickHouseError
        except ImportError:
            raise missing_package(url, "clickhouse-connect") from None
        self._errors_of = ClickHouseError
        self.read_only = read_only
        self.shown = url.shown
        self.database = url.database
        self._url = url
        self._connect_module = clickhouse_connect
        if url.scheme is Scheme.CHDB:
            try:
                import chdb  # noqa: F401  (clickhouse-connect drives it)
            except ImportError:
                raise missing_package(url, "chdb") from None
            if url.location != ":memory:":
                folder = Path(url.location).expanduser()
                if folder.exists() and not folder.is_dir():
                    raise BackendError(self.shown, f"{str(folder)!r} is a file, not a folder: chDB keeps its data in a folder")
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise BackendError(self.shown, f"cannot make the folder {str(folder)!r}: {exc.strerror or exc}") from None
        #: every client made (closed by :meth:`close`) and those no statement is using
        self._clients: list[Any] = []
        self._idle: list[Any] = []
        self._clients_lock = threading.Lock()
        self._closed = False
        embedded = url.scheme is Scheme.CHDB
        self._write_lock = _write_lock(url.location, url.database) if embedded else _server_lock(url)
        with self._client():  # connect now: a bad URL fails here, not at the first query
            pass

    def _new_client(self) -> Any:
        if self._closed:  # a new client would open the database again
            raise closed_error(self.shown)
        url = self._url
        if url.scheme is Scheme.CHDB:
            location = url.location if url.location == ":memory:" else str(Path(url.location).expanduser().resolve())
            try:
                with self._errors("connecting"):
                    return self._connect_module.get_client(dsn=f"chdb://{location}")
            except BackendError:
                if location != ":memory:" and _held_elsewhere(Path(location) / "status"):
                    raise BackendError(self.shown, "another process has this chDB folder open (chDB lets one"
                                       " process at a time use a folder): stop it, or ask it") from None
                raise
        with self._errors("connecting"):
            return self._connect_module.get_client(
                host=url.host, port=url.port, username=url.user, password=url.password, secure=url.secure,
                autogenerate_session_id=False,
            )

    @contextlib.contextmanager
    def _client(self) -> Iterator[Any]:
        """A client for one statement: an idle one, else a new one; idle again afterwards. The
        server answers each connection on a thread of its own, so a client per thread would grow
        without bound; there are as many as statements run at once."""
        with self._clients_lock:
            client = self._idle.pop() if self._idle else None
        if client is None:
            client = self._new_client()
            with self._clients_lock:
                if self._closed:  # closed meanwhile: close it too
                    client.close()
                    raise closed_error(self.shown)
                self._clients.append(client)
        try:
            yield client
        finally:
            with self._clients_lock:
                closed = self._closed
                if not closed:
                    self._idle.append(client)
            if closed:  # closed while the statement ran: the client goes too
                with contextlib.suppress(self._errors_of, OSError):
                    client.close()

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except self._errors_of as exc:
            raise BackendError(self.shown, f"{what} failed: {_first_line(exc)}") from None
        except OSError as exc:
            raise BackendError(self.shown, f"{what} failed: {exc}") from None

    def execute(self, sql: str, values: Mapping[str, Any] | None = None) -> None:
        with self._client() as client, self._errors("a statement"):
            client.command(sql, parameters=dict(values or {}))

    def rows(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        with self._client() as client, self._errors("a query"):
            return list(self._fitted(sql, lambda settings: client.query(
                sql, parameters=dict(values or {}), settings=settings
            )).result_rows)

    def _fitted(self, sql: str, run: Callable[[dict[str, Any]], Any]) -> Any:
        """``run(settings)`` with no settings or, when ClickHouse refuses the statement as larger
        than its parser takes (:data:`_TOO_BIG`), again with those limits raised to fit it
        (:func:`_fitting`): a filter of thousands of leaves, which the memory engine answers."""
        try:
            return run({})
        except self._errors_of as exc:
            if not any(sign in str(exc) for sign in _TOO_BIG):
                raise
        return run(_fitting(sql))

    def stream(self, sql: str, values: Mapping[str, Any], chunk: int) -> Iterator[list[Row]]:
        client = self._new_client()  # its own: the caller may query between chunks
        try:
            with self._errors("a query"):
                stream = self._fitted(sql, lambda settings: client.query_row_block_stream(
                    sql, parameters=dict(values), settings={"max_block_size": chunk, **settings}
                ))
            with stream:
                blocks = iter(stream)
                while True:
                    with self._errors("a query"):
                        block = next(blocks, None)
                    if block is None:
                        return
                    yield list(block)
        finally:
            client.close()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        yield

    def loading(self) -> _WriteLock:
        _refuse_read_only(self)  # before the load reads anything, and when it would insert nothing
        return self._write_lock

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        _refuse_read_only(self)
        with self._write_lock:
            yield

    def insert(self, table: str, data: Any) -> None:
        with self._client() as client, self._errors("an insert"):
            client.insert_arrow(table, data, database=self.database)

    def close(self) -> None:
        with self._clients_lock:
            self._closed = True
            clients, self._clients, self._idle = self._clients, [], []
        for client in clients:
            with contextlib.suppress(self._errors_of, OSError):
                client.close()


#: How ClickHouse says a statement is past its parser's limits: its size in bytes
#: (``max_query_size``, 256 KiB by default) or its syntax nodes (``max_ast_elements``, 50,000, and
#: ``max_expanded_ast_elements``, 500,000).
_TOO_BIG = ("Max query size exceeded", "(TOO_BIG_AST)")


def _fitting(sql: str) -> dict[str, Any]:
    """The parser's limits raised to fit ``sql``: twice its size (the client adds a ``FORMAT``
    clause), and four syntax nodes per byte (a node takes a byte of text or more, an operator's
    list of operands none)."""
    size = len(sql.encode("utf-8"))
    return {
        "max_query_size": 2 * size,
        "max_ast_elements": max(50_000, 4 * size),
        "max_expanded_ast_elements": max(500_000, 40 * size),
    }


def _held_elsewhere(status: Path) -> bool:
    """Whether another process holds the lock of a chDB folder's ``status`` file (ClickHouse
    takes it with ``flock`` for as long as it has the folder open; chDB's own refusal names
    nothing but a failed start)."""
    try:
        import fcntl
    except ImportError:  # no flock here: nothing to tell
        return False
    try:
        with open(status, "rb") as file:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(file, fcntl.LOCK_UN)
    except OSError:  # no status file (a folder chDB never opened), or one that cannot be read
        return False
    return False


def open_connection(url: BackendUrl, *, read_only: bool = False) -> Connection:
    """The connection of a ``duckdb://``, ``chdb://`` or ``clickhouse://`` URL; ``read_only``: one
    that refuses every write (and shares a DuckDB file with other processes that read it)."""
    if url.scheme is Scheme.DUCKDB:
        return DuckDBConnection(url, read_only=read_only)
    if url.scheme in (Scheme.CHDB, Scheme.CLICKHOUSE):
        return ClickHouseConnection(url, read_only=read_only)
    raise BackendError(url.shown, f"{url.scheme.value}:// is not a SQL backend")


__all__ = ["ClickHouseConnection", "Connection", "DuckDBConnection", "Row", "open_connection"]
