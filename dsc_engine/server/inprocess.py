"""An SDK request answered by a WSGI application in-process, without a socket.

``dsc_engine.mock`` hands each request of the official SDKs (a ``DaraRequest`` or a
``TeaRequest``, complete: signed, every header set) to the server's own :class:`Application`:
:func:`wsgi_environ` makes the PEP 3333 environ the SDK's HTTP layer would have put on the wire,
:func:`call_wsgi` runs the application on it, and :func:`check_sendable` and
:func:`check_sendable_async` fail where the synchronous and asynchronous HTTP layers would.
:func:`routing` reads the host, action and version a request is for, :func:`intercepts` whether
the mock answers it.
"""

from __future__ import annotations

import io
import ipaddress
import os
import ssl
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any, NamedTuple
from urllib.parse import unquote
from wsgiref.handlers import format_date_time

from dsc_engine.api.common import endpoint_product, hostname
from dsc_engine.api.operations import OPERATIONS
from dsc_engine.server.head import (
    SERVER,
    add_header_fields,
    head_refusal,
    http_layer_error,
    origin_form,
    persistent,
    repeated_field_refusal,
)


#: Milliseconds the SDK cores wait to connect and to read when the runtime options say nothing
#: (``DEFAULT_CONNECT_TIMEOUT`` and ``DEFAULT_READ_TIMEOUT`` of ``darabonba.core`` and ``Tea.core``).
SDK_DEFAULT_TIMEOUTS_MS = (5_000, 10_000)


def _header_text(value: object) -> str:
    """A header value as a server reads it: bytes are sent as they are (``requests`` takes them;
    ``http.client`` puts them on the wire unchanged), and read back as Latin-1, as
    ``http.server`` reads every header."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return str(value)


def _fields(headers: Mapping[Any, Any] | Iterable[tuple[Any, Any]] | None) -> list[tuple[str, str]]:
    """Header fields (name, value), in order, as a server reads them off the wire."""
    items = headers.items() if isinstance(headers, Mapping) else headers or ()
    return [(str(k), _header_text(v)) for k, v in items if v is not None]


def _headers(headers: Mapping[Any, Any] | Iterable[tuple[Any, Any]] | None) -> dict[str, str]:
    """Header names (lower case) and values as a server reads them (a repeated name: the last)."""
    return {name.lower(): value for name, value in _fields(headers)}


class Sent(NamedTuple):
    """What the HTTP layer puts on the wire for an SDK request: the request target (the path
    and query of its request line) and the header fields, in the order written; ``prepared``
    are the headers of the request it was handed (``requests``' prepared request), without
    those the layer below adds as it writes."""

    target: str
    headers: list[tuple[str, Any]]
    prepared: Mapping[str, Any]


def routing(request: Any) -> tuple[str, str | None, str | None]:
    """``(host, action, version)`` of an SDK request, from its headers or its query."""
    headers, query = _headers(request.headers), request.query or {}
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


def sdk_proxy(protocol: str, runtime_option: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> str | None:
    """The proxy the SDK's cores hand their HTTP layer for a request over ``protocol``: the
    runtime options' ``httpProxy`` (``httpsProxy`` for HTTPS), or else ``HTTP_PROXY`` or
    ``http_proxy`` (``HTTPS_PROXY``, ``https_proxy``) of the environment, read at each call."""
    if str(protocol).upper() == "HTTPS":
        return runtime_option.get("httpsProxy") or environ.get("HTTPS_PROXY") or environ.get("https_proxy")
    return runtime_option.get("httpProxy") or environ.get("HTTP_PROXY") or environ.get("http_proxy")


def check_sendable(
    request: Any,
    url: str,
    runtime_option: Mapping[str, Any] | None = None,
    *,
    retry_error: Callable[[str], Exception] = OSError,
) -> Sent:
    """Fail as the synchronous HTTP layer fails on a request it cannot send; ``url`` is the one
    the SDK's core composed for it (``compose_url``), ``runtime_option`` what the SDK passed,
    ``retry_error`` the core's ``RetryError``, which it raises for an ``IOError`` of the send.
    Return what it would send: the prepared request's target and headers (credentials in the
    endpoint, ``user:password@host``, replace the signature with HTTP Basic authentication).

    ``requests`` prepares the request first (``PreparedRequest.prepare``): a URL it cannot parse
    (an endpoint with a space in it, a port that is not a number) is ``InvalidURL``; a header
    value that is neither text nor bytes (a number, ``None``), or one with a line break or
    leading whitespace, is ``InvalidHeader``. It has no connection adapter for a scheme other than
    ``http``/``https`` (``Config(protocol="ftp")``): ``InvalidSchema``; its adapter parses the
    proxy the core gives it (``sdk_proxy``) before it connects, and one it cannot parse (no
    host, a port that is not a number) is ``InvalidURL``; it finds no CA bundle or client
    certificate at the path given (``ca``, ``cert``): ``OSError``; the core reports each of
    these as a ``RetryError``. The adapter refuses a timeout of zero or less: ``ValueError``.
    Then it hands the header values to ``http.client``, which encodes each as Latin-1: a value
    outside it (a user agent in Chinese, say) raises ``UnicodeEncodeError``.
    Each is raised before anything is sent, and the SDK reports it. The same errors are raised
    here, by the same code where it can be called alone, so code that fails in production fails
    under the mock too. (The asynchronous layer, aiohttp, sends UTF-8.)
    """
    from requests import PreparedRequest  # the SDK's HTTP layer, there with the SDK
    from requests.adapters import HTTPAdapter
    from requests.exceptions import InvalidSchema, InvalidURL
    from urllib3.exceptions import LocationValueError
    from urllib3.util import Timeout as TimeoutSauce  # what requests builds its timeouts with

    body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
    prepared = PreparedRequest()
    prepared.prepare(method=str(request.method).upper(), url=url, data=body, headers=request.headers)
    option = runtime_option or {}
    verify = not option.get("ignoreSSL", False) and option.get("ca", True)  # as the core computes it
    verify = True if verify is None else verify
    proxies = {  # as the core gives them (a no_proxy there is not read by the adapter)
        scheme: proxy for scheme in ("http", "https") if (proxy := sdk_proxy(scheme, option)) is not None
    }
    try:  # the session's send: the core reports its IOError as a RetryError
        if not url.lower().startswith(("https://", "http://")):  # the adapters a Session mounts
            raise InvalidSchema(f"No connection adapters were found for {url!r}")
        adapter = HTTPAdapter()
        try:  # the adapter's send up to the connection (a pool: nothing connects yet)
            if hasattr(adapter, "get_connection_with_tls_context"):
                pool = adapter.get_connection_with_tls_context(prepared, verify, proxies=proxies, cert=option.get("cert"))
            else:  # requests before 2.32
                pool = adapter.get_connection(url, proxies)
        except LocationValueError as exc:
            raise InvalidURL(exc, request=prepared) from None
        adapter.cert_verify(pool, url, verify, option.get("cert"))
    except OSError as exc:
        raise retry_error(str(exc)) from None
    connect, read = (  # as the core computes them
        int(option.get(name) or option.get("timeout") or default) / 1000
        for name, default in zip(("connectTimeout", "readTimeout"), SDK_DEFAULT_TIMEOUTS_MS, strict=True)
    )
    try:
        TimeoutSauce(connect=connect, read=read)
    except ValueError:  # as requests words it
        raise ValueError(
            f"Invalid timeout {(connect, read)}. Pass a (connect, read) timeout tuple, "
            f"or a single float to set both timeouts to the same value."
        ) from None
    for value in (request.headers or {}).values():
        if isinstance(value, str):
            value.encode("latin-1")
    headers = list(prepared.headers.items())
    if "Accept-Encoding" not in prepared.headers:  # what http.client's putrequest writes first
        headers.insert(0, ("Accept-Encoding", "identity"))
    return Sent(str(prepared.path_url), headers, prepared.headers)


def check_sendable_async(
    request: Any, url: str, runtime_option: Mapping[str, Any] | None = None, *, certificates: bool = True
) -> Sent:
    """Fail as the asynchronous HTTP layer fails on a request it cannot send; ``url`` is the one
    the SDK's core composed for it (``compose_url``), ``runtime_option`` what the SDK passed.
    Return what it would send: the URL's target, the request's headers.

    For HTTPS a core that reads them (``certificates``: ``darabonba``'s, not the older ``Tea``'s)
    first loads the CA bundle (``ca``) and client certificate (``cert``) given into an SSL
    context: a path where there is none is ``FileNotFoundError``. aiohttp parses
    the URL: one it cannot parse (a port that is not a number) is ``InvalidUrlClientError``, a
    scheme other than ``http``/``https`` ``NonHttpUrlClientError``. It parses the proxy the core
    gives it (``sdk_proxy``): one it cannot parse is ``InvalidURL``. Credentials in the URL
    (an endpoint ``user:password@host``) along with the signature's ``Authorization`` header are
    a ``ValueError``; a proxy with no host is ``InvalidURL``. It
    serializes the headers as it writes the request, as UTF-8: a value that is not a ``str`` (a
    number, ``None``, bytes) is a ``TypeError``, a control character (a line break) a
    ``ValueError``, before anything is sent. The same steps of ``ssl`` and the installed
    aiohttp's own classes and serializer are used here, so the same error is raised.
    """
    import aiohttp  # the SDK's asynchronous HTTP layer, there with the SDK
    from aiohttp import http_writer
    from multidict import CIMultiDict
    from yarl import URL

    option = runtime_option or {}
    verify = not option.get("ignoreSSL", False) and (True if option.get("ca") is None else option["ca"])
    cert = option.get("cert")
    if certificates and str(request.protocol).upper() == "HTTPS" and (isinstance(verify, str) or cert is not None):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # as the core builds it, bar the defaults
        if isinstance(verify, str):
            context.load_verify_locations(verify)
        if cert is not None and (isinstance(verify, str) or verify):
            chain = cert if isinstance(cert, list | tuple) else (cert,)
            context.load_cert_chain(certfile=chain[0], keyfile=chain[1] if len(chain) > 1 else None)
    # an aiohttp without them raises InvalidURL, and checks no scheme of its own
    invalid_url = getattr(aiohttp, "InvalidUrlClientError", aiohttp.InvalidURL)
    not_http = getattr(aiohttp, "NonHttpUrlClientError", None)
    try:
        parsed = URL(url)
    except ValueError as exc:
        raise invalid_url(url) from exc
    if not_http is not None and parsed.scheme not in aiohttp.TCPConnector.allowed_protocol_schema_set:
        raise not_http(parsed)
    proxy = sdk_proxy(str(request.protocol), option)
    proxy_url = None
    if proxy is not None:
        try:  # as the session reads it
            proxy_url = URL(proxy)
        except ValueError as exc:
            raise aiohttp.InvalidURL(proxy) from exc
    if (parsed.raw_user is not None or parsed.raw_password is not None) and "Authorization" in CIMultiDict(
        request.headers or {}
    ):
        raise ValueError("Cannot combine AUTHORIZATION header with AUTH argument or credentials encoded in URL")
    if proxy_url and not proxy_url.raw_host:  # the connector's request to the proxy: no host
        raise aiohttp.InvalidURL(proxy_url)
    serialize = getattr(http_writer, "_serialize_headers", None)
    if serialize is not None:  # an aiohttp without it: nothing to mirror
        serialize(f"{str(request.method or 'GET').upper()} / HTTP/1.1", CIMultiDict(request.headers or {}))
    return Sent(str(parsed.raw_path_qs), _aiohttp_headers(request), request.headers or {})


def _aiohttp_headers(request: Any) -> list[tuple[str, Any]]:
    """The header fields aiohttp writes for an SDK request: the request's, then those it adds
    when they are missing (its defaults, the body's length, a POST's content type)."""
    import aiohttp
    from multidict import CIMultiDict

    given: CIMultiDict[Any] = CIMultiDict()
    for name, value in (request.headers or {}).items():
        if str(name).lower() == "host":  # aiohttp sets Host (the last given, any case), other fields add
            given[name] = value
        else:
            given.add(name, value)
    headers = list(given.items())
    added: dict[str, str] = dict(getattr(aiohttp.ClientRequest, "DEFAULT_HEADERS", {}))
    added["User-Agent"] = aiohttp.http.SERVER_SOFTWARE
    added["Content-Length"] = str(len(_body(request.body)))  # the core always sends a body, b"" at least
    if str(request.method or "GET").upper() in ("POST", "PUT", "PATCH"):
        added["Content-Type"] = "application/octet-stream"
    headers.extend((name, value) for name, value in added.items() if name not in given)
    return headers


def wsgi_environ(request: Any, sent: Sent) -> dict[str, Any]:
    """The PEP 3333 environ of an SDK request (``DaraRequest`` or ``TeaRequest``), as the server
    reads it off the wire; ``sent`` is what the HTTP layer sends (what :func:`check_sendable` or
    :func:`check_sendable_async` return: the path and query of the URL the core composed, the
    endpoint's own path included, and the headers), read as the server's HTTP layer reads it
    (``head.add_header_fields``: a header sent twice, ``x_trace`` beside ``X-Trace`` too, is one,
    its values joined with ``,``)."""
    body = _body(request.body)
    method = str(request.method or "GET").upper()
    path, _, query = origin_form(sent.target).partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": unquote(path, "iso-8859-1"),
        "QUERY_STRING": query,
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
    add_header_fields(environ, _fields(sent.headers))
    environ["SERVER_NAME"] = hostname(environ.get("HTTP_HOST", "")) or "localhost"
    if body or method not in ("GET", "HEAD"):  # what the HTTP layer sends (requests does this)
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def serve_request(
    app: Callable[..., Iterable[bytes]], request: Any, sent: Sent, now: float | None = None
) -> tuple[int, str, dict[str, str], bytes]:
    """The server's answer to an SDK request the HTTP layer sends as ``sent``: what its HTTP
    layer answers to a head it does not read (``head.head_refusal``: a request line or header
    line too long, too many header fields; ``head.repeated_field_refusal``: two ``Host`` or
    ``Content-Type`` fields), else the application's (:func:`call_wsgi`)."""
    method = str(request.method or "GET").upper()
    lines = (
        str(name).encode("utf-8") + b": " + (bytes(value) if isinstance(value, bytes | bytearray) else str(value).encode("utf-8"))
        for name, value in sent.headers
        if value is not None
    )
    refusal = head_refusal(f"{method} {sent.target} HTTP/1.1".encode("utf-8"), lines) or repeated_field_refusal(
        _fields(sent.headers)
    )
    if refusal is None:
        kept = persistent(method, "HTTP/1.1", _fields(sent.headers))  # the body is always announced
        return call_wsgi(app, wsgi_environ(request, sent), now, kept=kept)
    status, headers, body = http_layer_error(refusal[0], refusal[1], _headers(sent.headers).get("host", ""), method)
    return status, HTTPStatus(status).phrase, _served(headers, now, kept=False), body


def _served(headers: Iterable[tuple[str, str]], now: float | None, *, kept: bool) -> dict[str, str]:
    """Lower-case answer headers, with those the server's HTTP layer adds to every answer that
    does not set them: ``Date`` (at ``now``, epoch seconds; the time of the call if ``None``),
    ``Server``, and, unless the connection is ``kept`` for a next request, ``Connection: close``."""
    answered = {name.lower(): value for name, value in headers}
    answered.setdefault("date", format_date_time(time.time() if now is None else now))
    answered.setdefault("server", SERVER)
    if not kept:
        answered.setdefault("connection", "close")
    return answered


def call_wsgi(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any], now: float | None = None, *, kept: bool = False
) -> tuple[int, str, dict[str, str], bytes]:
    """``(status, reason, lower-case headers, body)`` of ``app``'s answer to ``environ``, with the
    headers the server's HTTP layer adds to every answer the application does not set
    (:func:`_served`; ``kept``: the request's connection would be kept after it)."""
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> Any:
        started.append((status, headers))
        return lambda data: None

    body = b"".join(app(environ, start_response))
    status, headers = started[-1]
    code, _, reason = status.partition(" ")
    return int(code), reason, _served(headers, now, kept=kept), body


# -- which requests are the engine's ------------------------------------------------------------

def _is_loopback(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def intercepts(host: str, action: str | None, version: str | None) -> bool:
    """Whether the mock answers a request to ``host`` for ``action``/``version`` (the module
    docstring of ``dsc_engine.mocking`` says which)."""
    name = hostname(host)
    if _is_loopback(name):
        return False
    if endpoint_product(name) is not None:
        return True
    operation = OPERATIONS.get(action or "")
    return operation is not None and version in (None, operation.version)
