"""Backend URLs: where an engine's records live, as ``Engine.connect`` and ``--data URL`` take it.

============================================  ==============================================
``memory://``                                 the in-memory store (``Engine()``)
``duckdb:///abs/path/logs.duckdb``            one DuckDB file (created when missing)
``duckdb://relative/logs.duckdb``             the same, relative to the working directory
``duckdb://:memory:``                         a DuckDB database in this process's memory
``chdb:///abs/path/dir``                      chDB (ClickHouse in-process), data in ``dir``
``chdb://:memory:``                           chDB without files
``clickhouse://user:pass@host:8123/db``       a ClickHouse server over HTTP (``?secure=1``: HTTPS)
============================================  ==============================================

chDB and ClickHouse keep the tables in a database, ``dsc`` unless the URL names one (the path of
a ``clickhouse://`` URL, ``?database=`` for ``chdb://``). ``docs/backends.md`` has the details.
"""

from __future__ import annotations

import enum
import os
import re
import urllib.parse

import attrs

from collections.abc import Sequence

from dsc_engine.errors import BackendError, InvalidParameterError, Reason

DEFAULT_DATABASE = "dsc"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}\Z")


class Scheme(enum.Enum):
    MEMORY = "memory"
    DUCKDB = "duckdb"
    CHDB = "chdb"
    CLICKHOUSE = "clickhouse"

    @property
    def extra(self) -> str:
        """The package extra that installs what this backend needs (``dsc-engine[duckdb]``);
        ``KeyError`` for ``memory``, which needs none."""
        return _EXTRAS[self]


_EXTRAS = {Scheme.DUCKDB: "duckdb", Scheme.CHDB: "clickhouse", Scheme.CLICKHOUSE: "clickhouse"}


def missing_package(url: BackendUrl, package: str) -> BackendError:
    """The error of a backend whose ``package`` is not installed, naming the extra that installs it."""
    extra = url.scheme.extra
    return BackendError(url.shown, f"the {package} package is not installed: pip install 'dsc-engine[{extra}]'")


@attrs.frozen(kw_only=True)
class BackendUrl:
    """A parsed backend URL. ``location`` is a file or folder (``:memory:`` for none) for the
    embedded engines, ``host`` and ``port`` for a server."""

    scheme: Scheme
    text: str = attrs.field(repr=False)
    location: str = ""
    database: str = DEFAULT_DATABASE
    host: str = ""
    port: int = 8123
    user: str = "default"
    password: str = attrs.field(default="", repr=False)
    secure: bool = False

    @property
    def shown(self) -> str:
        """The URL as messages and ``explain`` show it: any password left out."""
        return redact(self.text)


def redact(text: str) -> str:
    """A URL with the password of its ``user:password@`` part replaced by ``***``."""
    scheme, sep, rest = text.partition("://")
    authority, slash, tail = rest.partition("/")
    credentials, at, host = authority.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return text
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}{slash}{tail}"


def looks_like_url(text: str) -> bool:
    """Whether ``text`` names a backend (``scheme://...`` of a known scheme), not a file."""
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in {s.value for s in Scheme}


def data_url(entries: Sequence[str], option: str = "--data") -> tuple[str | None, list[str]]:
    """Split the values of a ``--data`` option into the one backend URL among them (if any) and
    the file paths. A database URL names all the data of a command: a second URL, or files beside
    one, is an :class:`InvalidParameterError` (nothing is loaded into a database by a query)."""
    urls = [entry for entry in entries if looks_like_url(entry)]
    paths = [entry for entry in entries if not looks_like_url(entry)]
    for path in paths:
        _refuse_a_url_without_slashes(path)
    if len(urls) > 1:
        shown = ", ".join(redact(u) for u in urls)
        raise InvalidParameterError(option, shown, Reason(
            f"give one database URL, not {len(urls)} ({shown})", f"只能给出一个数据库 URL，实际为 {len(urls)} 个"))
    if urls and paths:
        raise InvalidParameterError(option, paths[0], Reason(
            f"a database URL ({redact(urls[0])}) names all the data: load files into it with"
            f" 'dsc-engine load FILES --into {redact(urls[0])}', not beside it",
            "数据库 URL 已指明全部数据：请先用 'dsc-engine load ... --into URL' 导入文件"))
    return (urls[0] if urls else None), paths


_SCHEME_ONLY = re.compile(r"([A-Za-z]+):(?!//)")


def _refuse_a_url_without_slashes(path: str) -> None:
    """A ``--data`` path that starts with a known scheme and a colon but not ``://``
    (``duckdb:logs.duckdb``) and names no file is a mistyped URL: say so, rather than "no such
    file"."""
    found = _SCHEME_ONLY.match(path)
    if found is None or found.group(1).lower() not in {s.value for s in Scheme} or os.path.lexists(path):
        return
    scheme = Scheme(found.group(1).lower())
    if scheme is Scheme.MEMORY:  # names no file: what followed the colon has no place in it
        raise BackendError("memory://", "no such file, and not a backend URL: write memory:// (it takes no path)")
    meant = redact(f"{scheme.value}://{path[found.end():]}")
    files = "" if scheme is Scheme.CLICKHOUSE else " (a path after the two slashes, a third one when it is absolute)"
    raise BackendError(meant, f"no such file, and not a backend URL: write {meant}{files}")


def parse_url(text: str) -> BackendUrl:
    """Read a backend URL; :class:`BackendError` says what is wrong with a bad one."""
    if not isinstance(text, str) or not looks_like_url(text):
        known = ", ".join(f"{s.value}://" for s in Scheme)
        raise BackendError(redact(str(text)), f"not a backend URL: expected one of {known}")
    try:
        return _parse(text)
    except BackendError as exc:
        raise BackendError(redact(text), exc.reason) from None


def _parse(text: str) -> BackendUrl:
    scheme_text, _, rest = text.partition("://")
    scheme = Scheme(scheme_text.lower())
    path, _, query_text = rest.partition("?")
    try:
        pairs = urllib.parse.parse_qsl(query_text, keep_blank_values=True, strict_parsing=bool(query_text))
    except ValueError:
        raise BackendError(text, f"cannot read the query {query_text!r}") from None
    query = dict(pairs)
    if len(query) < len(pairs):  # which one would win is a guess: refuse it
        twice = next(name for index, (name, _) in enumerate(pairs) if name in dict(pairs[:index]))
        raise BackendError(text, f"the option {twice!r} is given twice")
    allowed = {Scheme.MEMORY: set(), Scheme.DUCKDB: set(), Scheme.CHDB: {"database"},
               Scheme.CLICKHOUSE: {"secure"}}[scheme]
    unknown = sorted(set(query) - allowed)
    if unknown:
        what = ", ".join(sorted(allowed)) or "none"
        raise BackendError(text, f"unknown option {unknown[0]!r} (options of {scheme.value}://: {what})")
    if scheme is Scheme.MEMORY:
        if path:
            raise BackendError(text, "memory:// takes no path")
        return BackendUrl(scheme=scheme, text=text)
    if scheme is Scheme.CLICKHOUSE:
        return _server(text, query)
    location = urllib.parse.unquote(path)
    if not location:
        raise BackendError(text, f"{scheme.value}:// needs a path (or :memory:)")
    if "\x00" in location:  # the engines would cut the path there, and open another file
        raise BackendError(text, "the path holds a NUL character")
    database = _database(text, query.get("database", DEFAULT_DATABASE))
    return BackendUrl(scheme=scheme, text=text, location=location, database=database)


def _server(text: str, query: dict[str, str]) -> BackendUrl:
    try:
        parts = urllib.parse.urlsplit(text)
    except ValueError as exc:  # an unclosed IPv6 bracket
        raise BackendError(text, f"cannot read the host: {exc}") from None
    if not parts.hostname:
        raise BackendError(text, "clickhouse:// needs a host: clickhouse://user:pass@host:8123/db")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is None:
        port = 8123
    elif not 1 <= port <= 65535:
        raise BackendError(text, "the port is not a number from 1 to 65535")
    secure = query.get("secure", "0").lower()
    if secure not in ("0", "1", "true", "false"):
        raise BackendError(text, f"secure must be 1 or 0, not {secure!r}")
    database = _database(text, urllib.parse.unquote(parts.path.lstrip("/")) or DEFAULT_DATABASE)
    return BackendUrl(
        scheme=Scheme.CLICKHOUSE, text=text, host=parts.hostname, port=port,
        user=urllib.parse.unquote(parts.username or "default"),
        password=urllib.parse.unquote(parts.password or ""),
        database=database, secure=secure in ("1", "true"),
    )


#: ClickHouse's own databases, which hold its system tables: never the engine's.
_RESERVED_DATABASES = frozenset({"system", "information_schema", "INFORMATION_SCHEMA"})


def _database(text: str, name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise BackendError(text, f"the database name {name!r} must be letters, digits and _, not starting with a digit")
    if name in _RESERVED_DATABASES:
        raise BackendError(text, f"the database name {name!r} is ClickHouse's own (its system tables):"
                                 f" name another, or leave it out for {DEFAULT_DATABASE!r}")
    return name
