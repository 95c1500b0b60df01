"""The rules of a request's head that the HTTP layer applies before the application runs, in
one place for the built-in host (``host.py``) and the mock's SDK requests (``inprocess.py``), so
that the two cannot drift apart (``docs/server.md``, "Limits" and "Errors the server answers
itself"): the limits on the request line, the header lines and fields and the whole head, the
header fields that no one value stands for, how the fields are handed to the application
(PEP 3333), and the JSON answer of a head refused.
"""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from dsc_engine.api.errors import new_request_id
from dsc_engine.api.spec import SDDP
from dsc_engine.errors import RequestRejected
from dsc_engine.server.app import ALLOW, CONTENT_TYPE, METHODS
from dsc_engine.server.arrivals import MAX_HEAD_BYTES
from dsc_engine.server.errors import to_api_error

log = logging.getLogger("dsc_engine.server")

#: The service code for each status ``http.server`` answers on its own, before the application
#: runs. The status sent is the code's own (``api/catalogue.py``), so a code always comes
#: with one status; any other status (none in the standard library today) is sent as
#: ``InvalidParameter``.
HTTP_LAYER_CODES: Mapping[HTTPStatus, str] = {
    HTTPStatus.BAD_REQUEST: "InvalidParameter",  # a malformed request line, version or header line
    HTTPStatus.REQUEST_URI_TOO_LONG: "RequestURITooLong",  # a request line above 64 KiB
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: "RequestHeaderFieldsTooLarge",
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED: "HTTPVersionNotSupported",  # HTTP/2.0 or later
    HTTPStatus.NOT_IMPLEMENTED: "UnsupportedHTTPMethod",  # sent as 405, as the application does
}

#: The ``Server`` header of every answer, the host's and the mock's (``docs/server.md``, "On the
#: wire"): the software's name alone, never the Python version ``wsgiref`` put there.
SERVER = "dsc-engine"

#: The longest request line ``wsgiref`` reads (a longer one is ``RequestURITooLong``).
MAX_REQUEST_LINE = 65536

#: The most header fields a request may have (431 beyond). ``http.server`` reads the limit from
#: ``http.client._MAXHEADERS``, a process-wide setting that other libraries change
#: (clickhouse-connect, the ClickHouse backend's driver, sets it to 10,000 when imported), so the
#: handler checks its own. ``http.client`` counts the blank line that ends the head among its 100
#: lines: 99 fields is its limit, and so the handler's, whatever the setting.
MAX_HEADERS = 99

#: What the HTTP layer answers, before the application runs, to a head it does not read: the
#: status and message the host's handler sends (``send_error``), or the mock answers.
Refusal = tuple[HTTPStatus, str | None]

#: A head that goes on past ``arrivals.MAX_HEAD_BYTES`` (no more of it is read).
HEADERS_TOO_LONG: Refusal = (HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Headers too long")
#: A header line above :func:`max_header_line`, as ``http.server``'s ``parse_request`` answers
#: ``http.client``'s ``LineTooLong``.
LINE_TOO_LONG: Refusal = (HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long")


def max_header_line() -> int:
    """The longest header line the handler reads: ``http.client``'s (``_MAXLINE``), which reads
    the header lines and refuses a longer one, read as it reads it, at each request."""
    return int(getattr(http.client, "_MAXLINE"))


def request_line_refusal(size: int) -> Refusal | None:
    """``RequestURITooLong`` for a request line of ``size`` bytes (its line end included) above
    :data:`MAX_REQUEST_LINE`, else ``None``."""
    return (HTTPStatus.REQUEST_URI_TOO_LONG, None) if size > MAX_REQUEST_LINE else None


def field_count_refusal(count: int) -> Refusal | None:
    """``RequestHeaderFieldsTooLarge`` for ``count`` header fields above :data:`MAX_HEADERS`,
    else ``None``."""
    return (HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers") if count > MAX_HEADERS else None


def head_refusal(request_line: bytes, fields: Iterable[bytes]) -> Refusal | None:
    """What the HTTP layer answers, before the application runs, to a request head of
    ``request_line`` and header ``fields`` (each line as sent, without its line end), as
    :class:`_Handler` reads one, or ``None`` for a head it reads: a request line too long
    (:func:`request_line_refusal`), a header line too long (:func:`max_header_line`), too many
    fields (:func:`field_count_refusal`), or a head past ``arrivals.MAX_HEAD_BYTES``, whichever
    is read first."""
    read = len(request_line) + 2
    refusal = request_line_refusal(read)
    if refusal is not None:
        return refusal
    longest = max_header_line()
    for count, field in enumerate(fields, start=1):
        line = len(field) + 2
        if read + min(line, longest + 1) > MAX_HEAD_BYTES:
            return HEADERS_TOO_LONG
        if line > longest:
            return LINE_TOO_LONG
        refusal = field_count_refusal(count)
        if refusal is not None:
            return refusal
        read += line
    if read + 2 > MAX_HEAD_BYTES:
        return HEADERS_TOO_LONG
    return None


def persistent(method: str, version: str, fields: Iterable[tuple[str, str]]) -> bool:
    """Whether a request's head lets its connection carry another request after the answer
    (``docs/server.md``, "Connections"): a GET or POST (the methods served, whose answer's body
    is the length it says) in HTTP/1.1, without ``close`` among its ``Connection`` options (RFC
    9112 section 9.3), and without a ``Transfer-Encoding`` (such a body is never read, so where
    it ends is not known). The host keeps a connection only when it also knows where the
    request ended and the answer says its length."""
    fields = list(fields)
    options = {option.strip().lower() for value in field_values(fields, "Connection") for option in value.split(",")}
    return (
        method in METHODS
        and version == "HTTP/1.1"
        and "close" not in options
        and not field_values(fields, "Transfer-Encoding")
    )


def field_values(fields: Iterable[tuple[str, str]], name: str) -> list[str]:
    """Every value of the header ``name`` among ``fields`` (name, value), read with ``_`` and
    ``-`` alike in its name, as PEP 3333 hands both spellings over (``content_type`` is a
    ``Content-Type``)."""
    wanted = name.lower()
    return [value for key, value in fields if key.lower().replace("_", "-") == wanted]


def repeated_field_refusal(fields: Iterable[tuple[str, str]]) -> Refusal | None:
    """What the HTTP layer answers to a head with header ``fields`` (name, value) that no one
    value stands for: more than one ``Host`` (HTTP/1.1 asks a 400) or ``Content-Type``
    (``wsgiref`` would keep the first and drop the others); ``None`` if neither."""
    fields = list(fields)
    if len([name for name, _ in fields if name.lower() == "host"]) > 1:
        return HTTPStatus.BAD_REQUEST, "more than one Host header"
    if len(field_values(fields, "Content-Type")) > 1:
        return HTTPStatus.BAD_REQUEST, "more than one Content-Type header"
    return None


def add_header_fields(environ: dict[str, Any], fields: Iterable[tuple[str, str]]) -> None:
    """Hand a request's header ``fields`` (name and value as read, in the order sent) to the
    application in ``environ`` (PEP 3333), as the built-in host does, and ``dsc_engine.mock`` for
    the SDKs' requests (``docs/server.md``, "On the wire").

    A field is ``HTTP_<NAME>`` (upper case, ``-`` as ``_``), its value stripped; a name sent more
    than once (``x_trace`` and ``X-Trace`` are one) is one key, its values joined with ``,`` in
    the order sent, as ``wsgiref`` does; a name that is a key of ``environ`` already
    (``PATH_INFO`` ...) is left out, as ``wsgiref`` leaves it. ``Content-Type`` is
    ``CONTENT_TYPE`` (the first: the HTTP layer refuses two, :func:`repeated_field_refusal`) and
    ``Content-Length`` ``CONTENT_LENGTH``, repeated ones joined with ``,`` (which the application
    refuses; ``wsgiref`` kept the first), either named with ``_`` too (which ``wsgiref`` dropped).
    """
    fields = list(fields)
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        environ.pop(key, None)
    types = field_values(fields, "Content-Type")
    if types:  # else none (wsgiref says text/plain, which was not sent)
        environ["CONTENT_TYPE"] = types[0]
    lengths = field_values(fields, "Content-Length")
    if lengths:
        environ["CONTENT_LENGTH"] = lengths[0] if len(lengths) == 1 else ",".join(v.strip() for v in lengths)
    for name, value in fields:
        key = name.replace("-", "_").upper()
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH") or key in environ:
            continue
        if f"HTTP_{key}" in environ:
            environ[f"HTTP_{key}"] += "," + value.strip()
        else:
            environ[f"HTTP_{key}"] = value.strip()


def http_layer_error(
    code: int, message: str | None, host: str, method: str = ""
) -> tuple[int, list[tuple[str, str]], bytes]:
    """``(status, headers, body)`` of the HTTP layer's own answer with ``code`` (an
    :class:`HTTPStatus` it sends), in the service's JSON error shape; ``host`` is the request's
    ``Host``, ``method`` its method (a HEAD is answered without a body)."""
    status = HTTPStatus(code)
    service_code = HTTP_LAYER_CODES.get(status)
    if service_code is None:
        log.warning("the HTTP layer refused a request with %d; answering InvalidParameter", code)
        service_code = "InvalidParameter"
    request_id = new_request_id()
    error = to_api_error(
        RequestRejected(service_code, f"{status.phrase}: {message or status.description}"),
        product=SDDP,
        request_id=request_id,
        host=host,
    )
    payload = json.dumps(error.body).encode("utf-8")
    headers = [
        ("Content-Type", CONTENT_TYPE),
        ("Content-Length", str(len(payload))),
        ("x-acs-request-id", request_id),
    ]
    if error.http_status == HTTPStatus.METHOD_NOT_ALLOWED:
        headers.append(("Allow", ALLOW))
    headers.append(("Connection", "close"))
    return error.http_status, headers, b"" if method == "HEAD" else payload


def origin_form(target: str) -> str:
    """A request target as its path and query: ``http://host/?a=1`` (the absolute form, which a
    client sends to a proxy and RFC 9112 has servers accept) is ``/?a=1``; any other is kept."""
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return target
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
