"""The public library entry point: an :class:`Engine` holds one store per record kind and
answers the three APIs exactly as the cloud does, and the filter language.

    >>> from dsc_engine import Engine
    >>> engine = Engine.from_sample()
    >>> engine.call("DescribeAuditLogs", {"PageSize": "5", "Lang": "en_us"})["PageSize"]
    5
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from dsc_engine.api import router
from dsc_engine.api.read import INT32_MAX, invalid
from dsc_engine.errors import BackendError, RecordError
from dsc_engine.io.candidates import detect_kind
from dsc_engine.io.duplicates import new_records
from dsc_engine.io.importreport import ImportReport
from dsc_engine.io.imports import load_into
from dsc_engine.io.jsontext import refuse_lone_surrogate
from dsc_engine.io.stores import loading
from dsc_engine.models import RecordKind
from dsc_engine.models.kinds import keyed_kinds
from dsc_engine.models.records import Record
from dsc_engine.query import ast
from dsc_engine.query.parse import filter_zone, parse_filter
from dsc_engine.query.source import Page, RecordSource
from dsc_engine.store.store import Store
from dsc_engine.wire import times
from dsc_engine.wire.catalog import check_record
from dsc_engine.wire.codec import from_wire


#: The options ``Engine.load`` passes on to the importer with a path (``load_into``'s keywords).
PATH_OPTIONS = ("strict", "rejects_path", "progress", "keep_duplicates", "kinds", "csv_zone")


class Engine:
    """Records of the three kinds, answering the APIs and filter queries.

    Each kind's records live in a :class:`~dsc_engine.query.source.RecordSource`; ``Engine()``
    keeps them in memory (one :class:`~dsc_engine.store.Store` per kind), ``Engine.connect(url)``
    in the database a URL names (``docs/backends.md``). ``close`` (or a ``with`` block) lets go
    of a database.
    """

    def __init__(
        self,
        sources: Mapping[RecordKind, RecordSource] | None = None,
        *,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._sources: dict[RecordKind, RecordSource] = (
            dict(sources) if sources is not None else {kind: Store(kind) for kind in RecordKind}
        )
        self._on_close = on_close
        #: how the database is shown in messages (its URL, the password left out); set by ``connect``
        self._shown = ""
        self._closed = False

    @classmethod
    def connect(cls, url: str, *, create: bool = True, read_only: bool = False) -> Engine:
        """An engine over the records at ``url``: ``memory://`` (a new in-memory engine, as
        ``Engine()``), ``duckdb:///path/logs.duckdb``, ``chdb:///path/dir`` or
        ``clickhouse://user:pass@host:8123/db``. The database's tables are created when missing;
        what it already holds is answered at once. ``create=False`` opens only a database this
        engine has made (its tables there): a path that does not exist, or a database without
        them, is a ``BackendError``, and nothing is made. ``read_only=True`` (what the commands
        that only read use; it implies ``create=False``) opens a database this engine has made to
        read only: a load is a ``BackendError``, and a DuckDB file is shared with the other
        processes reading it (one opened for writing holds it alone). Raises ``BackendError``
        for a URL or database that cannot be used (and when the backend's package is not
        installed).
        """
        from dsc_engine.sql.url import Scheme, missing_package, parse_url

        parsed = parse_url(url)
        if parsed.scheme is Scheme.MEMORY:
            for option, given in (("read_only", read_only), ("create=False", not create)):
                if given:
                    raise BackendError(parsed.shown, f"an in-memory engine holds what is loaded into it, made"
                                       f" new: {option} applies to a database")
            return cls()
        try:
            from dsc_engine.sql.backend import connect
        except ImportError as exc:  # sqlglot or pyarrow: the extra is not installed
            raise missing_package(parsed, str(exc.name)) from None
        backend = connect(parsed, create=create, read_only=read_only)
        engine = cls(backend.sources, on_close=backend.close)
        engine._shown = parsed.shown
        return engine

    def close(self) -> None:
        """Let go of the database (nothing to do for the in-memory engine); idempotent."""
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()
            self._closed = True

    def _closed_error(self) -> BackendError:
        """What ``call`` and ``explain`` (which may need no connection to render a database's SQL)
        raise once the database was let go of, as every use of the database does."""
        from dsc_engine.sql.connection import closed_error

        return closed_error(self._shown)

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    @classmethod
    def from_sample(cls, kinds: RecordKind | str | Iterable[RecordKind | str] | None = None) -> Engine:
        """An engine loaded with the sample bundled in the package: every kind, or only those of
        ``kinds`` (one kind or its name, or several; the others empty; a command that reads one
        kind loads only that one)."""
        from dsc_engine.sample import bundled

        if isinstance(kinds, str | RecordKind) or not isinstance(kinds, Iterable | None):
            kinds = (kinds,)  # one name is one kind, as ``load(kinds=...)`` takes it (and a non-name is refused)
        engine = cls()
        wanted = {_kind(kind) for kind in kinds} if kinds is not None else set(RecordKind)
        for kind in RecordKind:
            if kind in wanted:
                engine.load(bundled(kind))
        return engine

    def store(self, kind: RecordKind | str) -> RecordSource:
        """The record source of one kind (``kind`` as a :class:`RecordKind` or its name or alias)."""
        return self._sources[_kind(kind)]

    def load(
        self,
        records_or_path: Iterable[Record | Mapping[str, Any]] | str | bytes | os.PathLike[str],
        kind: RecordKind | str | None = None,
        **options: Any,
    ) -> ImportReport:
        """Load records, or exported files; the :class:`ImportReport` of what was loaded.

        A path (a file, folder or glob; ``str``, ``bytes`` or path-like) goes to the importer (``dsc_engine.io.imports.load_into``,
        which takes ``options`` such as ``strict``, ``rejects_path`` and ``kinds``: only those kinds
        are loaded, and a snapshot's other kinds are not read). Otherwise each item is a
        record, or a record's wire JSON object (of ``kind``, or of the kind its keys tell, as the
        importer tells it); a bad item is a :class:`RecordError` and nothing of the call is loaded.
        Records are appended in the order given (later ones sort first among ties); a masking
        run whose ``Id`` is held already, or comes earlier in the call, is skipped when identical
        and a :class:`RecordError` when not, as in a file import. Loads into one engine, or into
        one database by several engines of this process, run one at a time (queries go on
        meanwhile): a run's ``Id`` is looked up, then inserted, and two loads of one run at once
        would both find it new.
        """
        with loading(self):
            return self._load(records_or_path, kind, options)

    def _load(
        self,
        records_or_path: Iterable[Record | Mapping[str, Any]] | str | bytes | os.PathLike[str],
        kind: RecordKind | str | None,
        options: dict[str, Any],
    ) -> ImportReport:
        if isinstance(records_or_path, bytes):  # a path as bytes, as ``open`` takes it
            records_or_path = os.fsdecode(records_or_path)
        if isinstance(records_or_path, str | os.PathLike):
            return self._load_path(records_or_path, kind, options)
        return self._load_records(records_or_path, kind, options)

    def _load_path(
        self, path: str | os.PathLike[str], kind: RecordKind | str | None, options: dict[str, Any]
    ) -> ImportReport:
        """A file, folder or glob, through the importer."""
        unknown = [name for name in options if name not in PATH_OPTIONS]
        if unknown:
            raise TypeError(
                f"load takes no option {unknown[0]!r} for a path; its options are: {', '.join(PATH_OPTIONS)}"
            )
        return load_into(self, path, kind=None if kind is None else _kind(kind), **options)

    def _load_records(
        self, records: object, kind: RecordKind | str | None, options: dict[str, Any]
    ) -> ImportReport:
        """Records or wire objects, each checked before any is loaded (:meth:`load`)."""
        if isinstance(records, Mapping) or type(records) in {k.record_class for k in RecordKind}:
            raise TypeError("load takes records (an iterable of them) or a path; put one record in a list")
        if not isinstance(records, Iterable):
            raise TypeError(
                f"load takes records (an iterable of them) or a path, not {type(records).__name__}"
            )
        if options:
            raise TypeError(f"options {', '.join(options)} apply to paths only")
        wanted = None if kind is None else _kind(kind)
        batches: dict[RecordKind, list[Record]] = {k: [] for k in RecordKind}
        # of each kind with a key (``KindFacts.key``), its records with their item index
        keyed: dict[RecordKind, list[tuple[int, Record]]] = {k: [] for k in keyed_kinds()}
        read = 0
        for index, item in enumerate(records):
            record = _record(item, wanted, index)
            read += 1
            each = RecordKind.of(record)
            if each in keyed:
                keyed[each].append((index, record))
            else:
                batches[each].append(record)
        for each, indexed in keyed.items():
            batches[each] = new_records(each, self._sources[each], indexed, lambda i: f"item {i}")
        for each, batch in batches.items():  # every kind before any: a refusal loads nothing
            self._sources[each].check(batch)
        loaded = {k: self._sources[k].insert(batch) if batch else 0 for k, batch in batches.items()}
        return ImportReport(
            files=0, read=read, loaded=loaded, rejected=0, duplicates_skipped=read - sum(loaded.values()),
            file_errors=(), rejects=(), rejects_path=None,
        )

    def call(
        self,
        action: str,
        params: Mapping[str, object],
        *,
        version: str | None = None,
        host: str = "localhost",
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Answer one API request as the cloud does; raise :class:`ApiError` when it refuses.

        ``params`` are the request parameters by wire name, as the wire carries them (strings)
        or as Python values. ``version=None`` (or ``""``) means the action's own version. A call
        on a database engine that was closed is a ``BackendError``, as any other use of it (not
        the ``InternalError`` of a failure the engine did not foresee).
        """
        if self._closed:
            raise self._closed_error()
        return router.call(
            self._sources, action, params, version=version, host=host, request_id=request_id
        )

    def describe_audit_logs(self, **params: object) -> dict[str, Any]:
        """``DescribeAuditLogs`` with PascalCase keyword parameters (``PageSize=5``)."""
        return self.call("DescribeAuditLogs", params)

    def describe_data_masking_run_history(self, **params: object) -> dict[str, Any]:
        """``DescribeDataMaskingRunHistory`` with PascalCase keyword parameters."""
        return self.call("DescribeDataMaskingRunHistory", params)

    def list_sensitive_data_audit_log(self, **params: object) -> dict[str, Any]:
        """``ListSensitiveDataAuditLog`` with PascalCase keyword parameters."""
        return self.call("ListSensitiveDataAuditLog", params)

    def query(
        self,
        kind: RecordKind | str,
        filter_text: str,
        page: int = 1,
        page_size: int = 10,
        *,
        zone: dt.tzinfo | str = times.UTC,
    ) -> Page:
        """Records of ``kind`` matching a filter-language text, newest first, one page of them.

        ``zone`` (a ``tzinfo`` or a name such as ``"Asia/Shanghai"`` or ``"+08:00"``) is the one
        Sddp time literals written without a zone are read in (``docs/filter-language.md``).
        Raises ``FilterSyntaxError``/``FilterFieldError`` for a bad filter and
        ``InvalidParameterError`` for an unknown kind, a filter that is not a string, a page below
        1, a size outside 1..2147483647 or an unknown zone.
        """
        for name, value in (("page", page), ("page_size", page_size)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INT32_MAX:
                raise invalid(
                    name,
                    value,
                    f"it must be an integer from 1 to {INT32_MAX}, got {value!r}",
                    f"它必须是 1 到 {INT32_MAX} 之间的整数，实际为 {value!r}",
                )
        resolved, node = _filter(kind, filter_text, zone)
        return self._sources[resolved].query(node, (page - 1) * page_size, page_size)

    def explain(self, kind: RecordKind | str, filter_text: str = "", *, zone: dt.tzinfo | str = times.UTC) -> str:
        """How the records of ``kind`` matching a filter-language text are found: the plan of
        the in-memory store, or the SQL statements a database backend sends (with their bound
        values). Raises as :meth:`query` does for a bad kind, filter or zone."""
        if self._closed:
            raise self._closed_error()
        resolved, node = _filter(kind, filter_text, zone)
        return self._sources[resolved].explain(node)


def _filter(kind: RecordKind | str, filter_text: str, zone: dt.tzinfo | str) -> tuple[RecordKind, ast.Node]:
    """The kind and the parsed filter of a :meth:`Engine.query` or :meth:`Engine.explain`."""
    resolved = _kind(kind)
    zone = filter_zone(zone)
    if not isinstance(filter_text, str):
        raise invalid(
            "filter_text",
            filter_text,
            f"a filter is a string, not {type(filter_text).__name__}",
            f"过滤条件必须是字符串，实际为 {type(filter_text).__name__}",
        )
    return resolved, parse_filter(filter_text, resolved, zone=zone)


def _kind(kind: RecordKind | str) -> RecordKind:
    try:
        return RecordKind.parse(kind)
    except ValueError as exc:
        raise invalid("kind", kind, str(exc), f"未知的记录类型 {kind!r}") from None


def _record(item: object, kind: RecordKind | None, index: int) -> Record:
    """A loaded item as a record of ``kind`` (a wire object is decoded; without ``kind``, its
    kind is told from its keys as the importer tells it)."""
    where = f"item {index}"
    if isinstance(item, Mapping):
        if kind is None:
            try:
                kind = detect_kind(item.keys())
            except ValueError as exc:
                raise RecordError("record", "", str(exc), where) from None
        refuse_lone_surrogate(kind.facts.label, item, where)
        return from_wire(kind, item, where)
    try:
        item_kind = RecordKind.of(item)
    except KeyError:
        hint = ""
        if isinstance(item, (str, os.PathLike)):  # load(["a.jsonl", "b.jsonl"]): paths, not records
            hint = "; a list is of records: load a path at a time, or a folder or glob of them"
        raise RecordError(
            "record", "", f"expected a record, got {type(item).__name__}{hint}", where
        ) from None
    if kind is not None and item_kind is not kind:
        raise RecordError(
            kind.value, "", f"a {item_kind.value} record where {kind.value} was asked", where
        )
    check_record(item_kind, item, where)  # checked as a wire object's values are (§1.3, §1.4)
    return item  # type: ignore[return-value]
