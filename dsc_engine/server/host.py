"""Hosting the WSGI application on the standard library's threaded server.

``wsgiref`` with ``socketserver.ThreadingMixIn``, bounded so slow or idle clients cannot take the
server down (``docs/server.md``, "Limits"):

* a connection is given a thread only once its whole request has arrived: until then one thread
  gathers the requests of all connections (``arrivals.py``, at most ``MAX_WAITING`` at once), so
  clients sending slowly never hold a thread, and never delay a client that sends at once;
* at most ``limits.max_connections`` requests are served at once, each by its own thread; the
  next whole request waits until a thread is free (it is not refused);
* a thread ends once the application has answered: what the connection did not take at once is
  written by one more thread as the client reads it (``departures.py``), so clients that read
  large answers slowly, or not at all, never hold a thread;
* a connection has ``limits.request_timeout`` seconds from its accept to deliver its whole
  request (request line, headers, body), and may stay silent at most the socket timeout at any
  point; a client trickling a byte at a time is dropped at the deadline (while sending the body,
  it is answered ``RequestTimeout``);
* answers are HTTP/1.1, and a connection whose request asks it and whose end is known from what
  arrived is kept: once answered (and its answer written), it goes back to the gathering thread
  for its next request, so an idle connection holds no thread either (``_Handler.keeps``);
* errors the HTTP layer answers before the application runs (an over-long request line, a
  malformed one, too many headers) are JSON in the service's error shape, never HTML, with the
  ``x-acs-request-id`` header of every answer; HTTP/2's connection preface alone is answered in
  HTTP/2 (:data:`HTTP2_REFUSAL`), which is all its client reads.
"""

from __future__ import annotations

import email.errors
import io
import logging
import re
import socket
import socketserver
import threading
import time
from http import HTTPStatus
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, cast
from wsgiref.headers import Headers
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from dsc_engine.server.app import Application, WsgiApp
from dsc_engine.server.arrivals import Arrival, Gatherer, bytes_after_head, request_end
from dsc_engine.server.config import DEFAULT_REQUEST_TIMEOUT, Limits
from dsc_engine.server.departures import Sender
from dsc_engine.server.head import (
    HEADERS_TOO_LONG,
    MAX_REQUEST_LINE,
    SERVER,
    add_header_fields,
    field_count_refusal,
    field_values,
    http_layer_error,
    origin_form,
    persistent,
    repeated_field_refusal,
    request_line_refusal,
)
from dsc_engine.server.request import BODY_WITHOUT_LENGTH, content_length, header_text

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

log = logging.getLogger("dsc_engine.server")

#: Seconds a connection may stay silent (mid-request) before the server drops it.
SOCKET_TIMEOUT = 30.0
#: Seconds ``RunningServer.stop`` waits for the requests being served to be answered.
STOP_GRACE = 10.0


#: What ``email`` (under ``http.client``) records for a header line that is no header field: a
#: line without a colon, or with a space before it, ends the header section there and the lines
#: after it are dropped; a first line starting with a space belongs to no field.
_MALFORMED_HEAD = (email.errors.MissingHeaderBodySeparatorDefect, email.errors.FirstHeaderLineIsContinuationDefect)

#: Bytes of an answer kept for the sender at most while the application is still answering: past
#: them, a streamed answer's next part waits for the client to read (as it did before any sender).
MAX_PENDING = 64 * 1024 * 1024

#: What a header value may not hold: a line break (a value folded onto the next line) or a NUL.
_FOLDED_OR_NUL = re.compile(r"[\r\n\x00]")

#: An HTTP version as RFC 9112 section 2.3 writes it: ``HTTP/``, a digit, a dot and a digit
#: (ASCII digits, upper-case ``HTTP``); ``HTTP/1.10`` and ``HTTP/01.1`` are none.
_HTTP_VERSION = re.compile(r"HTTP/[0-9]\.[0-9]")

#: The first line of the connection preface of an HTTP/2 client that does not ask first (RFC 9113
#: section 3.4; ``curl --http2-prior-knowledge``): ``PRI * HTTP/2.0``, then an empty line, ``SM``
#: and an empty line.
_HTTP2_PREFACE_LINE = b"PRI * HTTP/2.0\r\n"
#: HTTP/2's error code for "use HTTP/1.1" (RFC 9113 section 7).
_HTTP_1_1_REQUIRED = 0xD


def _http2_frame(kind: int, payload: bytes) -> bytes:
    """An HTTP/2 frame of type ``kind`` on the connection (stream 0), without flags (RFC 9113 4.1)."""
    return len(payload).to_bytes(3, "big") + bytes((kind, 0)) + (0).to_bytes(4, "big") + payload


#: The answer to an HTTP/2 client's preface (``docs/server.md``, "Errors the server answers
#: itself"): the server's preface, an empty SETTINGS frame (type 4), which RFC 9113 section 3.4 has
#: come first, then a GOAWAY frame (type 7) saying that no stream was processed (last stream 0)
#: and ``HTTP_1_1_REQUIRED``, its debug data (which clients show) why. The connection is then closed.
HTTP2_REFUSAL = _http2_frame(0x4, b"") + _http2_frame(
    0x7,
    (0).to_bytes(4, "big")
    + _HTTP_1_1_REQUIRED.to_bytes(4, "big")
    + b"this server speaks HTTP/1.1 (and 1.0) only; send HTTP/1.1",
)


class _HeadTooLong(Exception):
    """The request's head went on past what was read ahead (``arrivals.MAX_HEAD_BYTES``)."""


class _DeadlineReader(io.RawIOBase):
    """A connection's input: first what arrived before it was given a thread, then the socket,
    never waiting past the request's deadline.

    Each socket read waits at most ``idle`` seconds (the socket timeout) and never beyond
    ``deadline`` (``time.monotonic()`` seconds); past it, reading raises :class:`TimeoutError`.
    With ``more=False`` nothing is read after ``arrived``: reading on raises :class:`_HeadTooLong`.
    ``ended``: the client closed its sending side, and every byte it sent was read.
    """

    def __init__(
        self, sock: socket.socket, idle: float | None, deadline: float, arrived: bytes = b"", *, more: bool = True
    ) -> None:
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)
        self._idle = idle
        self._deadline = deadline
        self._arrived = memoryview(arrived)
        self._more = more
        self.ended = False
        #: bytes were read from the socket, past what had arrived (where the request ends, and
        #: what the client sent after it, are then not known from what arrived)
        self.read_socket = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        if self._arrived:
            with memoryview(buffer) as target:
                count = min(len(target), len(self._arrived))
                target[:count] = self._arrived[:count]
            self._arrived = self._arrived[count:]
            return count
        if not self._more:
            raise _HeadTooLong
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in full within limits.request_timeout")
        self._sock.settimeout(remaining if self._idle is None else min(self._idle, remaining))
        self.read_socket = True
        read = self._raw.readinto(buffer)
        self.ended = read == 0
        return read

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _ResponseWriter(io.BufferedIOBase):
    """A connection's output: sent at each flush, and never waiting for its client to read.

    What is written is gathered until :meth:`flush` (``wsgiref`` flushes after each part of the
    body, with the status line and headers before the first; the HTTP layer's own answers are
    flushed as the handler finishes), so an answer goes out in one send rather than one per
    header line: on a kept connection, small sends after the first waited for the client's
    delayed ACK. Each flush sends what the connection takes at once (what fits in the socket's
    send buffer); the rest is kept (``pending``), to be written by the :class:`Sender` once the
    application has answered, so the request's thread never waits for a client that reads slowly
    or not at all. Without a sender (a socket handed over directly, or the server stopping),
    :meth:`send_pending` writes it from this thread, each write bounded by the socket timeout; so
    it does when more than :data:`MAX_PENDING` bytes would be kept (an answer streamed in parts
    waits for its client rather than gather in memory).

    A client that stops reading its answer is dropped when a write times out, as a client that
    goes away is: ``wsgiref`` printed the timeout's traceback on stderr, as a server fault."""

    def __init__(self, sock: socket.socket, idle: float | None) -> None:
        self._sock = sock
        self._idle = idle
        self._unsent = bytearray()  # written since the last flush
        self.pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        with memoryview(data) as view:
            self._unsent += view
            size = view.nbytes
        if len(self._unsent) >= MAX_PENDING:  # a large part: sent (or kept) as it comes
            self.flush()
        return size

    def flush(self) -> None:
        data, self._unsent = self._unsent, bytearray()
        if not data:
            return
        with memoryview(data) as view:
            size = view.nbytes
            if len(self.pending) + size > MAX_PENDING:  # a streamed answer: its client reads first
                self.send_pending()
            if self.pending:
                self.pending += view
                return
            self._sock.settimeout(0.0)
            sent = 0
            try:
                while sent < size:
                    sent += self._sock.send(view[sent:])
            except BlockingIOError:
                self.pending += view[sent:]

    def send_pending(self) -> None:
        """Write what is pending from this thread (bounded by the socket timeout)."""
        self._sock.settimeout(self._idle)
        data, self.pending = self.pending, bytearray()
        try:
            self._sock.sendall(data)
        except TimeoutError as exc:  # wsgiref lets a client that hangs up go quietly, not this
            log.debug("connection dropped: its client read no more of the answer for %s s", self._idle)
            raise ConnectionAbortedError("the client stopped reading the answer") from exc

    def fileno(self) -> int:
        return self._sock.fileno()


def _has_unread(sock: socket.socket) -> bool:
    """Whether the client has sent bytes that were not read (a pipelined request): closing the
    connection then would reset it, and the client lose what of its answer it had not read."""
    try:
        sock.settimeout(0.0)
        return bool(sock.recv(1, socket.MSG_PEEK))
    except OSError:  # nothing to read (BlockingIOError), or the client is gone
        return False


class _AnswerHandler(ServerHandler):
    """``wsgiref``'s answer to one request, in HTTP/1.1: ``Connection: close`` when the
    connection is closed after it (:meth:`_Handler.keeps` says whether it is kept), so a client
    knows not to send a next request on it."""

    headers: Headers  # set by start_response, before the headers are sent (typeshed leaves it out)
    request_handler: _Handler  # wsgiref logs the request through it
    bytes_sent: int  # the body's bytes written so far (typeshed leaves it out)
    server_software = SERVER
    http_version = "1.1"

    def cleanup_headers(self) -> None:
        super().cleanup_headers()
        if not self.request_handler.keeps(self.headers):
            self.headers["Connection"] = "close"

    def close(self) -> None:
        self.request_handler.answered(self.bytes_sent)  # before wsgiref forgets it
        super().close()


class _Handler(WSGIRequestHandler):
    raw_requestline: bytes  # set by ``wsgiref``'s handle(), which typeshed leaves untyped
    server_version = SERVER  # the environ's SERVER_SOFTWARE too
    protocol_version = "HTTP/1.1"  # the status line of the answers the HTTP layer sends itself
    timeout = SOCKET_TIMEOUT
    #: Seconds the connection has to deliver its whole request (``limits.request_timeout``).
    request_timeout = DEFAULT_REQUEST_TIMEOUT

    def setup(self) -> None:
        """``StreamRequestHandler.setup``, with input bounded by the request deadline: the request
        that arrived (an :class:`Arrival`), then the socket."""
        self._after_head = 0
        #: where the request's head ends and where it does, when all of it arrived (``request_end``)
        self._framing: tuple[int, int] | None = None
        #: the connection is kept after the answer, whose body is this many bytes (:meth:`keeps`)
        self._keep_length: int | None = None
        if isinstance(self.request, Arrival):
            arrival: Arrival = self.request
            self.connection = arrival.sock
            self._after_head = bytes_after_head(arrival.data)
            self._framing = None if arrival.head_too_long else request_end(arrival.data)
            reader = _DeadlineReader(
                arrival.sock, self.timeout, arrival.deadline, bytes(arrival.data), more=not arrival.head_too_long
            )
        else:  # a socket handed over directly (``socketserver``'s own paths)
            self.connection = self.request
            reader = _DeadlineReader(self.connection, self.timeout, time.monotonic() + self.request_timeout)
        self._input = reader
        self.rfile = io.BufferedReader(reader)
        self.wfile = self._writer = _ResponseWriter(self.connection, self.timeout)

    def handle_expect_100(self) -> bool:
        """``100 Continue`` was sent, if the client waits for it, by the thread gathering the
        request (``arrivals.py``), which has its body now: not sent again."""
        return True

    def keeps(self, answer: Headers) -> bool:
        """Whether the connection is kept for the client's next request after ``answer``
        (``docs/server.md``, "Connections"): the request asks it (:func:`persistent`), every byte
        of it arrived before it was served and nothing more was read, the length its head says is
        where the host found it to end (a POST without one is refused: its body may follow), and
        the answer says its length; not once the server is stopping."""
        lengths = self.header_values("Content-Length")
        if not lengths:
            announced: int | None = None if self.command == "POST" else 0
        else:
            announced = content_length(lengths[0]) if len(lengths) == 1 else None
        length = content_length(answer.get("Content-Length", ""))
        server: ThreadingWsgiServer = self.server  # type: ignore[assignment]
        keep = (
            self._framing is not None
            and not self._input.read_socket
            and persistent(self.command, self.request_version, self.headers.items())
            and announced == self._framing[1] - self._framing[0]
            and length is not None
            and server.keeps_connections()
        )
        self._keep_length = length if keep else None
        return keep

    def answered(self, sent: int) -> None:
        """The answer's body was ``sent`` bytes: a connection is kept only after an answer whose
        body was the length it said (an application that failed part way did not send it all)."""
        if self._keep_length != sent:
            self._keep_length = None

    def _hand_back(self) -> bool:
        """Give a kept connection back to the thread gathering requests, with what its client
        sent after this request, once its answer is written (by the :class:`Sender` when the
        connection did not take it all at once); ``False`` if that cannot be (the server is
        stopping): the connection is then closed after its answer."""
        arrival = self.request
        if self._keep_length is None or self._framing is None or not isinstance(arrival, Arrival):
            return False
        server: ThreadingWsgiServer = self.server  # type: ignore[assignment]
        rest = bytes(arrival.data[self._framing[1] :])

        def resume() -> None:
            server.resume(arrival.sock, arrival.address, rest)

        if self._writer.pending:
            if not server.send_later(arrival, self._writer.pending, then=resume):
                return False
        else:
            resume()
        arrival.departed = True
        return True

    def finish(self) -> None:
        """Hand a kept connection back (:meth:`_hand_back`); else hand what is left of the answer
        to the server's :class:`Sender` (the connection is then its to close), or write it from
        this thread when it takes none."""
        super().finish()
        if self._hand_back():
            return
        unread = False
        if not self._writer.pending:
            unread = _has_unread(self.connection)
            if not unread:
                return
        server: ThreadingWsgiServer = self.server  # type: ignore[assignment]
        data = self._writer.pending  # handed over as it is (no copy): this thread writes no more of it
        if isinstance(self.request, Arrival) and server.send_later(self.request, data, unread=unread):
            self.request.departed = True
            return
        if not data:
            return
        try:
            self._writer.send_pending()
        except (TimeoutError, ConnectionError) as exc:
            log.debug("connection from %s dropped: %s", self.client_address[0], exc)

    def parse_request(self) -> bool:
        """``http.server``'s parsing, with the header count held to ``head.MAX_HEADERS``,
        HTTP/0.9 refused (``http.server`` takes ``GET /path`` as an HTTP/0.9 request, whose
        answer is the bare body, without a status line or headers), and so is a head that would
        be read otherwise than it was sent: a line that is no header field, a value folded over
        lines or holding a NUL, two ``Host`` or two ``Content-Type`` headers (or no ``Host`` in an
        HTTP/1.1 request, which RFC 9112 has servers refuse)."""
        while self.raw_requestline in (b"\r\n", b"\n"):  # ignored before the request line (RFC 9112 2.2)
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
        too_long = request_line_refusal(len(self.raw_requestline))  # as wsgiref checks the first line read
        if too_long is not None:
            self.requestline = self.request_version = self.command = ""
            self.send_error(*too_long)
            return False
        if self.raw_requestline == _HTTP2_PREFACE_LINE:  # an HTTP/2 client: told so in HTTP/2
            log.debug("connection from %s opened with HTTP/2's preface; answered GOAWAY", self.client_address[0])
            self.close_connection = True
            self.wfile.write(HTTP2_REFUSAL)
            return False
        # the line as http.server reads it: its last word, when it has three or more, is the version
        line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = line.split()
        if len(words) >= 3 and not _HTTP_VERSION.fullmatch(words[-1]):
            # http.server reads any number of digits, of any script (HTTP/1.10 as HTTP/1.x, HTTP/10.0
            # as a version it does not speak): RFC 9112 2.3 has exactly one ASCII digit on each side
            self.requestline, self.request_version, self.command = line, "", ""
            self.send_error(
                HTTPStatus.BAD_REQUEST,
                f"Bad request version ({words[-1]!r}): a version is HTTP/, a digit, a dot and a digit,"
                " such as HTTP/1.1",
            )
            return False
        if not super().parse_request():
            if self.raw_requestline and not self.requestline.split():  # http.server answers nothing
                self.send_error(HTTPStatus.BAD_REQUEST, "the request line is blank")
            return False
        if self._input.ended:
            # the client closed its side before the blank line that ends a head (RFC 9112 2.1):
            # http.client reads the end of the input as that line; refused, as a body cut short is
            self.send_error(
                HTTPStatus.BAD_REQUEST,
                "the request's head ended before the empty line that ends it (the client closed its side)",
            )
            return False
        if any(isinstance(defect, _MALFORMED_HEAD) for defect in self.headers.defects):
            # ``http.client`` stops reading header fields at a line that is none (no colon, a
            # space before the colon, a NUL in the name) and drops that line and every one after
            # it, a Content-Length or Authorization too: RFC 9112 section 5.1 asks a 400.
            self.send_error(HTTPStatus.BAD_REQUEST, "a header line is not 'Name: value'")
            return False
        if any(_FOLDED_OR_NUL.search(value) for value in self.headers.values()):
            # RFC 9112 5.2 and RFC 9110 5.5: a value folded over lines (obs-fold) or holding a NUL
            # is refused, never read with its line break (a folded Content-Length was '\r\n 3')
            self.send_error(HTTPStatus.BAD_REQUEST, "a header value is folded over lines or holds a NUL")
            return False
        if self.request_version == "HTTP/0.9":
            self.send_error(HTTPStatus.BAD_REQUEST, "HTTP/0.9 is not served; send HTTP/1.0 or HTTP/1.1")
            return False
        self.path = origin_form(self.path)
        too_many = field_count_refusal(len(self.headers))
        if too_many is not None:
            self.send_error(*too_many)
            return False
        repeated = repeated_field_refusal(self.headers.items())
        if repeated is not None:
            self.send_error(*repeated)
            return False
        if "Host" not in self.headers and self.request_version != "HTTP/1.0":  # RFC 9112 3.2: a 400
            self.send_error(HTTPStatus.BAD_REQUEST, "an HTTP/1.1 request must have a Host header")
            return False
        if any(not value.strip(" \t") for value in self.header_values("Content-Length")):
            # PEP 3333 hands an empty CONTENT_LENGTH over as none: the body would go unread
            self.send_error(HTTPStatus.BAD_REQUEST, "a Content-Length header is empty; send the body's byte count")
            return False
        return True

    def handle(self) -> None:
        try:
            self._handle_one()
        except _HeadTooLong:
            self.send_error(*HEADERS_TOO_LONG)
        except (TimeoutError, ConnectionError) as exc:
            log.debug("connection from %s dropped: %s", self.client_address[0], exc)

    def _handle_one(self) -> None:
        """``WSGIRequestHandler.handle``, answering through :class:`_AnswerHandler` (an over-long
        request line is refused by :meth:`parse_request`)."""
        self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
        if not self.parse_request():  # the HTTP layer answered already
            return
        output = cast("IO[bytes]", self.wfile)  # a _ResponseWriter, which writes as a binary file does
        handler = _AnswerHandler(self.rfile, output, self.get_stderr(), self.get_environ(), multithread=False)
        handler.request_handler = self
        handler.run(self.server.get_app())  # type: ignore[attr-defined]

    def header_values(self, name: str) -> list[str]:
        """Every value of the header ``name`` (:func:`field_values`)."""
        return field_values(self.headers.items(), name)

    def get_environ(self) -> dict[str, Any]:
        """``wsgiref``'s environ, the header fields handed over by :func:`add_header_fields`
        (``Content-Type`` and ``Content-Length`` under either spelling, duplicate Content-Length
        headers visible, no Content-Type where none was sent), and a POST without a length marked."""
        environ: dict[str, Any] = super().get_environ()
        for key in [key for key in environ if key.startswith("HTTP_")]:
            del environ[key]
        add_header_fields(environ, self.headers.items())
        lengths = self.header_values("Content-Length")
        coded = any(value.strip(" \t") for value in self.header_values("Transfer-Encoding"))  # empty is none
        if self.command == "POST" and not lengths and not coded:
            # a POST that does not say how long its body is: whether bytes came with its head, come
            # later (HTTP/1.0 reads a body to the connection's end) or never, the application
            # refuses it (LengthRequired) rather than answer it without a body it may have sent
            environ[BODY_WITHOUT_LENGTH] = self._after_head
        return environ

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors of the HTTP layer itself, in the service's JSON error shape (``http_layer_error``)."""
        host = header_text(self.headers.get("Host", "localhost")) if getattr(self, "headers", None) else "localhost"
        # the command is unset when the request line itself is refused (HTTP/2.0 and later)
        method = self.command or next(iter(getattr(self, "requestline", "").split()), "")
        status, headers, payload = http_layer_error(code, message, host, method)
        # A malformed request line leaves the version at HTTP/0.9, which would drop the status
        # line and headers; answer such a client as HTTP/1.0 so it still gets a full response.
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"
        self.close_connection = True
        self.send_response(status, HTTPStatus(status).phrase)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def version_string(self) -> str:
        """The ``Server`` header of the answers the HTTP layer sends itself (``head.SERVER``)."""
        return SERVER

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        log.debug("%s - %s", self.address_string(), format % args)


class ThreadingWsgiServer(socketserver.ThreadingMixIn, WSGIServer):
    """``wsgiref``'s server: requests gathered as they arrive (:class:`Gatherer`), then a daemon
    thread per whole request, at most ``limits.max_connections`` of them at once, and no
    reverse-DNS at bind time."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog of 5 makes a 6th simultaneous connect wait for a SYN
    # retry (about 1 s); benchmarks/RESULTS.md measured p99 1.2 s at 16 clients with it.
    request_queue_size = 128

    def __init__(
        self,
        host: str,
        port: int,
        app: WsgiApp,
        socket_timeout: float = SOCKET_TIMEOUT,
        limits: Limits | None = None,
    ) -> None:
        limits = limits or Limits()
        if ":" in host:
            self.address_family = socket.AF_INET6
        handler = type(
            "_TimedHandler", (_Handler,),
            {"timeout": socket_timeout, "request_timeout": limits.request_timeout},
        )
        self.max_connections = limits.max_connections
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        #: requests given a thread and not yet answered; notified as each ends
        self._serving = 0
        self._served = threading.Condition()
        self._arrivals: Gatherer | None = None  # server_close runs if binding fails
        super().__init__((host, port), handler)
        self.set_app(app)
        self._arrivals = Gatherer(
            self._start,
            self._take_slot,
            request_timeout=limits.request_timeout,
            idle=socket_timeout,
            max_body=limits.max_body_bytes,
        )
        self._departures = Sender(idle=socket_timeout)

    def send_later(
        self,
        arrival: Arrival,
        data: bytes | bytearray,
        *,
        unread: bool = False,
        then: Callable[[], None] | None = None,
    ) -> bool:
        """Have the rest of an answer written by the :class:`Sender`, which then closes the
        connection (once its client has, if it sent bytes that were not read: ``unread``), or
        calls ``then`` to hand a kept one back; ``False`` once the server is stopping (the
        caller writes it)."""
        return self._departures.add(arrival.sock, arrival.address, data, unread=unread, then=then)

    def keeps_connections(self) -> bool:
        """Whether connections are kept after their answers: not once the server is stopping."""
        return self._arrivals is not None and not self._arrivals.closed

    def resume(self, sock: socket.socket, address: object, data: bytes) -> None:
        """Watch a kept connection for its client's next request, ``data`` what it sent already."""
        assert self._arrivals is not None
        self._arrivals.add(sock, address, data)

    def shutdown_request(self, request: Any) -> None:
        if isinstance(request, Arrival) and request.departed:
            return  # the sender closes it once its answer is written
        super().shutdown_request(request)

    def finish_sending(self, grace: float) -> None:
        """Let the answers being written end for at most ``grace`` seconds, then drop the rest."""
        self._departures.close(grace)

    def set_max_body(self, max_body: int) -> None:
        """Read bodies up to ``max_body`` bytes before a request is served (the application's
        ``limits.max_body_bytes``, which it may be given anew: ``TestServer.reset``)."""
        assert self._arrivals is not None
        self._arrivals.max_body = max_body

    def process_request(self, request: Any, client_address: Any) -> None:
        """Watch the new connection until its whole request has arrived (:class:`Gatherer`)."""
        assert self._arrivals is not None  # set once bound, before any connection is accepted
        if request.family in (socket.AF_INET, socket.AF_INET6):
            # an answer goes out in one send per flush; with Nagle's algorithm, a send made while
            # an earlier one is not yet acknowledged (the next part of a streamed answer, the next
            # answer of a kept connection) waits for the client's delayed ACK (~40 ms)
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._arrivals.add(request, client_address)

    def _take_slot(self) -> bool:
        if self._slots.acquire(blocking=False):
            return True
        log.info("all %d connection slots busy; the next request waits", self.max_connections)
        return False

    def _start(self, arrival: Arrival) -> None:
        """Serve a whole request in a thread of its own (the slot is taken)."""
        with self._served:
            self._serving += 1
        try:
            # An Arrival stands for the socket here: socketserver only hands it to the handler
            # (setup() unwraps it) and to shutdown_request (it has shutdown and close).
            super().process_request(arrival, arrival.address)  # type: ignore[arg-type]
        except RuntimeError:
            # no thread for it ("can't start new thread" when the process has no more): this
            # connection is dropped, and the gathering thread, which calls this, goes on with
            # the others; raising ended it, and no request was answered after
            log.exception("could not start a thread for the request from %s; connection dropped", arrival.address)
            self._ended()
            arrival.close()
        except BaseException:  # anything else is a fault: the connection is let go, and it goes on
            self._ended()
            arrival.close()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._ended()
            if self._arrivals is not None:
                self._arrivals.slot_freed()

    def _ended(self) -> None:
        self._slots.release()
        with self._served:
            self._serving -= 1
            self._served.notify_all()

    def wait_served(self, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for the requests being served to be answered; how many
        are still being served then."""
        with self._served:
            self._served.wait_for(lambda: self._serving == 0, timeout)
            return self._serving

    def server_close(self) -> None:
        if self._arrivals is not None:
            self._arrivals.close()
        super().server_close()

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()


class RunningServer:
    """A server answering in a background thread; ``stop()`` (or leaving ``with``) shuts it down.

    ``limits`` bounds connections and request time (``max_connections``, ``request_timeout``);
    by default those of the application's configuration when ``app`` is this package's
    :class:`~dsc_engine.server.app.Application` (what ``make_app`` returns), else the defaults.
    """

    def __init__(
        self,
        app: WsgiApp,
        host: str = "127.0.0.1",
        port: int = 0,
        socket_timeout: float = SOCKET_TIMEOUT,
        limits: Limits | None = None,
    ) -> None:
        if limits is None and isinstance(app, Application):
            limits = app.config.limits
        self._server = ThreadingWsgiServer(host, port, app, socket_timeout, limits)
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"dsc-engine-server:{self.port}", daemon=True,
        )
        self._thread.start()

    def set_max_body(self, max_body: int) -> None:
        """The application now refuses bodies above ``max_body`` bytes: the host reads up to as
        many before serving a request (``Expect: 100-continue`` answered, slow senders timed)."""
        self._server.set_max_body(max_body)

    @property
    def endpoint(self) -> str:
        """``host:port`` as an SDK ``Config(endpoint=...)`` wants it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}/"

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop accepting, close the connections not yet being served (still sending their
        requests, or waiting for a thread), and let the requests being served be answered,
        waiting for them at most ``grace`` seconds."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        until = time.monotonic() + grace
        left = self._server.wait_served(grace)
        if left:
            log.warning("stopped with %d request(s) still being served after %g s", left, grace)
        self._server.finish_sending(max(0.0, until - time.monotonic()))

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
