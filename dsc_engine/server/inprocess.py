"""An SDK request answered by a WSGI application in-process, without a socket.

``dsc_engine.mock`` hands each request of the official SDKs (a ``DaraRequest`` or a
``TeaRequest``, complete: signed, every header set) to the server's own :class:`Application`:
:func:`wsgi_environ` makes the PEP 3333 environ the SDK's HTTP layer would have put on the wire,
:func:`call_wsgi` runs the application on it, and :func:`check_sendable` and
:func:`check_sendable_async` fail where the synchronous and asynchronous HTTP layers would.
:func:`routing` reads the host, action and version a request is for.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlencode


def hostname(host: str) -> str:
    """``host[:port]`` (perhaps with a scheme, as an SDK endpoint may be) -> the lower-case name."""
    name = host.strip().lower().split("://", 1)[-1].split("/", 1)[0]
    if name.startswith("["):
        return name[1:].split("]", 1)[0]
    return name.rsplit(":", 1)[0] if name.count(":") == 1 else name


def _headers(request: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (request.headers or {}).items() if v is not None}


def routing(request: Any) -> tuple[str, str | None, str | None]:
    """``(host, action, version)`` of an SDK request, from its headers or its query."""
    headers, query = _headers(request), request.query or {}
    action = headers.get("x-acs-action") or query.get("Action")
    version = headers.get("x-acs-version") or query.get("Version")
    return headers.get("host", ""), action, version


def _body(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    read = getattr(body, "read", None)
    if callable(read):
        return _body(read())
    if isinstance(body, Iterable):  # the SDK's own streams iterate over byte chunks
        return b"".join(_body(chunk) for chunk in body)
    raise TypeError(f"dsc_engine.mock cannot send a request body of type {type(body).__name__}")


def check_sendable(request: Any) -> None:
    """Fail as the synchronous HTTP layer fails on headers it cannot send.

    ``requests`` checks every header as it prepares the request (``check_header_validity``): a
    value that is neither text nor bytes (a number, ``None``), or one with a line break or
    leading whitespace, is ``InvalidHeader``. Then it hands the values to ``http.client``, which
    encodes each as Latin-1: a value outside it (a user agent in Chinese, say) raises
    ``UnicodeEncodeError``. Either is raised before anything is sent, and the SDK reports it.
    The same errors are raised here, by the same checks, so code that fails in production fails
    under the mock too. (The asynchronous layer, aiohttp, sends UTF-8.)
    """
    from requests.utils import check_header_validity  # the SDK's HTTP layer, there with the SDK

    for header in (request.headers or {}).items():
        check_header_validity(header)
    for value in (request.headers or {}).values():
        if isinstance(value, str):
            value.encode("latin-1")


def check_sendable_async(request: Any) -> None:
    """Fail as the asynchronous HTTP layer fails on headers it cannot send.

    aiohttp serializes the headers as it writes the request, as UTF-8: a value that is not a
    ``str`` (a number, ``None``, bytes) is a ``TypeError``, a control character (a line break)
    a ``ValueError``, before anything is sent. The installed aiohttp's own serializer is run
    here on the same headers, so the same error is raised.
    """
    from aiohttp import http_writer  # the SDK's asynchronous HTTP layer, there with the SDK
    from multidict import CIMultiDict

    serialize = getattr(http_writer, "_serialize_headers", None)
    if serialize is not None:  # an aiohttp without it: nothing to mirror
        serialize(f"{str(request.method or 'GET').upper()} / HTTP/1.1", CIMultiDict(request.headers or {}))


def wsgi_environ(request: Any) -> dict[str, Any]:
    """The PEP 3333 environ of an SDK request (``DaraRequest`` or ``TeaRequest``), as the SDK's
    HTTP layer would put it on the wire (the query encoded as its ``compose_url`` does)."""
    headers = _headers(request)
    body = _body(request.body)
    method = str(request.method or "GET").upper()
    path, _, inline_query = str(request.pathname or "/").partition("?")
    query = urlencode({str(k): str(v) for k, v in (request.query or {}).items() if v is not None})
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": unquote(path) or "/",
        "QUERY_STRING": "&".join(part for part in (inline_query, query) if part),
        "SERVER_NAME": hostname(headers.get("host", "")) or "localhost",
        "SERVER_PORT": str(request.port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": str(request.protocol or "http").lower(),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    if body or method not in ("GET", "HEAD"):  # what the HTTP layer sends (requests does this)
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def call_wsgi(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any]
) -> tuple[int, str, dict[str, str], bytes]:
    """``(status, reason, lower-case headers, body)`` of ``app``'s answer to ``environ``."""
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> Any:
        started.append((status, headers))
        return lambda data: None

    body = b"".join(app(environ, start_response))
    status, headers = started[-1]
    code, _, reason = status.partition(" ")
    return int(code), reason, {name.lower(): value for name, value in headers}, body
