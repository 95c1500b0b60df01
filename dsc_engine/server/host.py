"""Hosting the WSGI application on the standard library's threaded server.

``wsgiref`` with ``socketserver.ThreadingMixIn``: one thread per connection, a socket timeout so a
stalled client cannot hold a thread, and JSON (never HTML, never a traceback) even for the errors
the HTTP layer answers before the application runs (an over-long request line, a malformed one).
"""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import threading
from http import HTTPStatus
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from dsc_engine.api.errors import SDDP, ApiError, new_request_id
from dsc_engine.server.app import CONTENT_TYPE, WsgiApp

log = logging.getLogger("dsc_engine.server")

#: Seconds a connection may stay silent (mid-request) before the server drops it.
SOCKET_TIMEOUT = 30.0
#: Codes for the few errors the HTTP layer answers itself (see ``docs/server.md``).
_HTTP_LAYER_CODES = {
    HTTPStatus.REQUEST_URI_TOO_LONG: "RequestURITooLong",
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: "RequestHeaderFieldsTooLarge",
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED: "HTTPVersionNotSupported",
    HTTPStatus.NOT_IMPLEMENTED: "UnsupportedHTTPMethod",
}


class _Handler(WSGIRequestHandler):
    timeout = SOCKET_TIMEOUT

    def handle(self) -> None:
        try:
            super().handle()
        except (TimeoutError, ConnectionError) as exc:
            log.debug("connection from %s dropped: %s", self.client_address[0], exc)

    def get_environ(self) -> dict[str, Any]:
        """``wsgiref``'s environ, except that duplicate Content-Length headers stay visible.

        ``wsgiref`` keeps the first Content-Length and drops the others; joining them with ``,``
        (as it does for other repeated headers) lets the application refuse the request.
        """
        environ: dict[str, Any] = super().get_environ()
        lengths = self.headers.get_all("Content-Length") or []
        if len(lengths) > 1:
            environ["CONTENT_LENGTH"] = ",".join(value.strip() for value in lengths)
        return environ

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors of the HTTP layer itself, in the service's JSON error shape."""
        status = HTTPStatus(code)
        error = ApiError(
            _HTTP_LAYER_CODES.get(status, "InvalidParameter"),
            f"{status.phrase}: {message or status.description}",
            code,
            product=SDDP,
            request_id=new_request_id(),
            host=self.headers.get("Host", "localhost") if getattr(self, "headers", None) else "localhost",
        )
        payload = json.dumps(error.body).encode("utf-8")
        # A malformed request line leaves the version at HTTP/0.9, which would drop the status
        # line and headers; answer such a client as HTTP/1.0 so it still gets a full response.
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"
        self.close_connection = True
        self.send_response(code, status.phrase)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        log.debug("%s - %s", self.address_string(), format % args)


class ThreadingWsgiServer(socketserver.ThreadingMixIn, WSGIServer):
    """``wsgiref``'s server, one daemon thread per connection, without reverse-DNS at bind time."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog of 5 makes a 6th simultaneous connect wait for a SYN
    # retry (about 1 s); benchmarks/RESULTS.md measured p99 1.2 s at 16 clients with it.
    request_queue_size = 128

    def __init__(
        self, host: str, port: int, app: WsgiApp, socket_timeout: float = SOCKET_TIMEOUT
    ) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        handler = type("_TimedHandler", (_Handler,), {"timeout": socket_timeout})
        super().__init__((host, port), handler)
        self.set_app(app)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()


class RunningServer:
    """A server answering in a background thread; ``stop()`` (or leaving ``with``) shuts it down."""

    def __init__(
        self,
        app: WsgiApp,
        host: str = "127.0.0.1",
        port: int = 0,
        socket_timeout: float = SOCKET_TIMEOUT,
    ) -> None:
        self._server = ThreadingWsgiServer(host, port, app, socket_timeout)
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"dsc-engine-server:{self.port}", daemon=True,
        )
        self._thread.start()

    @property
    def endpoint(self) -> str:
        """``host:port`` as an SDK ``Config(endpoint=...)`` wants it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
