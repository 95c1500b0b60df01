"""Connections whose request is still arriving, gathered by one thread before any is given a slot.

A connection holds one of ``limits.max_connections`` threads only once its whole request has
arrived (the request line, the headers and, for a ``Content-Length`` the server accepts, the
body). Until then it is one of at most :data:`MAX_WAITING` sockets watched by a single thread
(:class:`Gatherer`), which reads what each has sent into memory. So clients that open connections
and send their requests slowly (slowloris) cost a socket and a buffer each, never a thread, and a
client that sends its request at once is answered as soon as a thread is free, however many slow
ones are waiting (``docs/server.md``, "Connections").
"""

from __future__ import annotations

import collections
import logging
import re
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import attrs

from dsc_engine.server.loop import SelectorLoop

log = logging.getLogger("dsc_engine.server")

#: Connections whose request is still arriving, at most; one more drops the one waiting longest.
MAX_WAITING = 1_000
#: Bytes of request line and headers read ahead at most; a longer head is handed on as it is,
#: and the HTTP layer answers it (``RequestHeaderFieldsTooLarge`` or ``RequestURITooLong``).
MAX_HEAD_BYTES = 256 * 1024
_READ = 64 * 1024
_HEAD_END = re.compile(rb"\r?\n\r?\n")
#: Empty lines a client may send before its request line, which are ignored (RFC 9112 section 2.2).
_BLANK_LINES = re.compile(rb"(?:\r?\n)*")
#: A Content-Length header, named with "-" or "_" (the HTTP layer reads both alike, as PEP 3333 does).
_CONTENT_LENGTH = re.compile(rb"^content[-_]length[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_EXPECT_CONTINUE = re.compile(rb"^expect[ \t]*:[ \t]*100-continue[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
#: The interim answer to a request that announced ``Expect: 100-continue`` (RFC 9110 §10.1.1).
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


@attrs.define(eq=False)
class Arrival:
    """An accepted connection, what it has sent so far and when it must have sent all of it.

    ``head_too_long``: the head went on past :data:`MAX_HEAD_BYTES`; nothing after ``data`` is
    read, and the HTTP layer answers ``RequestHeaderFieldsTooLarge``. A request whose body was
    still arriving at its deadline is handed on too: reading the rest times out, and it is
    answered ``RequestTimeout``.
    """

    sock: socket.socket
    address: object
    deadline: float
    idle_deadline: float
    data: bytearray = attrs.field(factory=bytearray)
    head_too_long: bool = False
    continued: bool = False  # whether ``100 Continue`` was sent
    #: whether the rest of its answer was handed to the sender, which closes the connection
    departed: bool = False

    def fileno(self) -> int:
        return self.sock.fileno()

    def shutdown(self, how: int) -> None:
        self.sock.shutdown(how)

    def close(self) -> None:
        self.sock.close()


def _head_start(data: bytes | bytearray) -> int:
    """Where the request line starts: past the empty lines before it, which are ignored."""
    match = _BLANK_LINES.match(data, 0, MAX_HEAD_BYTES)
    assert match is not None  # it matches the empty string too
    return match.end()


def bytes_after_head(data: bytes | bytearray) -> int:
    """How many bytes of ``data`` came after its head (blank lines after it left out): what a
    request without a ``Content-Length`` sent as a body its server would not read."""
    start = _head_start(data)
    end = _HEAD_END.search(data, start, MAX_HEAD_BYTES + 4)
    return 0 if end is None else len(bytes(data[end.end() :]).strip(b"\r\n"))


def _body_length(data: bytes | bytearray, head_end: int) -> int | None:
    """The body length of the head ending at ``head_end`` in ``data``: its one ``Content-Length``
    (1 to 19 ASCII digits), 0 without one; ``None`` when repeated or malformed."""
    lengths = _CONTENT_LENGTH.findall(data, 0, head_end)
    if not lengths:
        return 0
    if len(lengths) != 1 or not lengths[0].isdigit() or len(lengths[0]) > 19:
        return None
    return int(lengths[0])


def request_end(data: bytes | bytearray) -> tuple[int, int] | None:
    """``(head_end, end)``: where the head of the request in ``data`` ends and where the request
    does, its body of ``Content-Length`` bytes (none without one) all in ``data``; ``None`` when
    the head has not ended, its length is malformed or repeated, or its body is not all here.
    The bytes after ``end`` are the client's next request."""
    start = _head_start(data)
    end = _HEAD_END.search(data, start, MAX_HEAD_BYTES + 4)
    if end is None:
        return None
    length = _body_length(data, end.start())
    if length is None or len(data) - end.end() < length:
        return None
    return end.end(), end.end() + length


def request_arrived(data: bytes | bytearray, max_body: int) -> bool | None:
    """Whether ``data`` holds a whole request: ``True``; ``False`` while more must come; ``None``
    when the head is longer than :data:`MAX_HEAD_BYTES` without ending.

    A request whose head the HTTP layer will refuse anyway (a request line that is not three
    words, a missing, repeated, malformed or too large ``Content-Length``) counts as whole at the
    end of its head: it is answered without its body being read.
    """
    start = _head_start(data)
    end = _HEAD_END.search(data, start, MAX_HEAD_BYTES + 4)
    if end is None:
        first = data.find(b"\n", start, MAX_HEAD_BYTES)
        if first >= 0 and len(data[start:first].split()) != 3:
            return True  # not "METHOD target HTTP/x.y": answered from the line alone
        return None if len(data) > MAX_HEAD_BYTES else False
    length = _body_length(data, end.start())
    if length is None or not _CONTENT_LENGTH.search(data, 0, end.start()):
        return True
    return length > max_body or len(data) - end.end() >= length


def awaits_continue(data: bytes | bytearray) -> bool:
    """Whether the head in ``data`` (which has ended; its body has not all arrived) announces
    ``Expect: 100-continue`` from an HTTP/1.1 client: such a client waits for ``100 Continue``
    (or a final answer) before it sends the body."""
    start = _head_start(data)
    end = _HEAD_END.search(data, start, MAX_HEAD_BYTES + 4)
    if end is None:
        return False
    line = data[start : data.find(b"\n", start)].split()
    return len(line) == 3 and line[2] == b"HTTP/1.1" and _EXPECT_CONTINUE.search(data, 0, end.start()) is not None


class Gatherer(SelectorLoop):
    """The thread that reads requests as they arrive and hands each on once it is whole.

    ``dispatch(arrival)`` is called from this thread for each request in arrival order, whenever
    ``take_slot()`` grants one (a slot is given back with :meth:`slot_freed`). Connections past
    their deadline or silent past ``idle`` seconds are dropped (one whose body was arriving is
    handed on incomplete instead, to be answered ``RequestTimeout``).
    """

    def __init__(
        self,
        dispatch: Callable[[Arrival], None],
        take_slot: Callable[[], bool],
        *,
        request_timeout: float,
        idle: float | None,
        max_body: int,
    ) -> None:
        self._dispatch = dispatch
        self._take_slot = take_slot
        self._request_timeout = request_timeout
        self._idle = idle
        #: the largest body read here (a larger one is refused unread); a running server's
        #: application may be given another (``RunningServer.set_max_body``)
        self.max_body = max_body
        self._lock = threading.Lock()
        self._incoming: collections.deque[Arrival] = collections.deque()
        self._waiting: dict[int, Arrival] = {}  # by file number, oldest first
        self._ready: collections.deque[Arrival] = collections.deque()
        #: no more connections are taken (:meth:`add` closes them): the server is stopping
        self.closed = False
        super().__init__("dsc-engine-arrivals")
        self.start()

    def add(self, sock: socket.socket, address: object, data: bytes = b"") -> None:
        """Watch a newly accepted connection (called from the accepting thread), or one kept
        after its answer, ``data`` what its client sent after its last request; once closed, the
        connection is closed instead (its answer's end sent first)."""
        now = time.monotonic()
        idle = now + self._idle if self._idle is not None else float("inf")
        with self._lock:
            taken = not self.closed
            if taken:
                self._incoming.append(Arrival(sock, address, now + self._request_timeout, idle, bytearray(data)))
        if taken:
            self.wake()
            return
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        sock.close()

    def slot_freed(self) -> None:
        """A connection's thread finished: a waiting whole request may take its slot."""
        self.wake()

    def close(self) -> None:
        """Stop the thread and close every connection not handed on."""
        with self._lock:
            self.closed = True
        self.stop()

    def ready(self, selector: selectors.BaseSelector, data: Any) -> None:
        self._receive(selector, data)

    def round(self, selector: selectors.BaseSelector) -> None:
        self._admit(selector)
        self._expire(selector, time.monotonic())
        self._hand_on()

    def ended(self) -> None:
        with self._lock:
            self.closed = True
        for arrival in [*self._waiting.values(), *self._ready, *self._incoming]:
            arrival.close()

    def timeout(self) -> float | None:
        if not self._waiting:
            return None
        soonest = min(min(a.deadline, a.idle_deadline) for a in self._waiting.values())
        return max(0.0, soonest - time.monotonic())

    def _admit(self, selector: selectors.BaseSelector) -> None:
        with self._lock:
            incoming, self._incoming = self._incoming, collections.deque()
        for arrival in incoming:
            if len(self._waiting) + len(self._ready) >= MAX_WAITING:
                if not self._waiting:  # every place is taken by a whole request: refuse this one
                    log.warning("%d requests wait for a thread; dropping a new connection", MAX_WAITING)
                    arrival.close()
                    continue
                oldest = next(iter(self._waiting.values()))
                log.info("%d connections are sending their requests; dropping the oldest", MAX_WAITING)
                self._drop(selector, oldest)
            arrival.sock.setblocking(False)
            self._waiting[arrival.fileno()] = arrival
            selector.register(arrival.sock, selectors.EVENT_READ, arrival)
            arrived = request_arrived(arrival.data, self.max_body) if arrival.data else False
            if arrived is not False:  # a kept connection's next request came with its last
                arrival.head_too_long = arrived is None
                self._ready_up(selector, arrival)

    def _receive(self, selector: selectors.BaseSelector, arrival: Arrival) -> None:
        try:
            chunk = arrival.sock.recv(_READ)
        except BlockingIOError:
            return
        except OSError as exc:
            log.debug("connection from %s dropped: %s", arrival.address, exc)
            self._drop(selector, arrival)
            return
        if self._idle is not None:
            arrival.idle_deadline = time.monotonic() + self._idle
        arrival.data += chunk
        if not chunk and _head_start(arrival.data) == len(arrival.data):
            # closed before a request line (an idle kept connection its client let go): nothing
            # to answer, so no thread is taken for it
            log.debug("connection from %s closed by its client before a request", arrival.address)
            self._drop(selector, arrival)
            return
        arrived = request_arrived(arrival.data, self.max_body)
        if not chunk or arrived is not False:  # the client stopped sending, or all is here
            arrival.head_too_long = arrived is None
            self._ready_up(selector, arrival)
        elif not arrival.continued and awaits_continue(arrival.data):  # the body it will accept
            arrival.continued = True
            try:
                arrival.sock.send(CONTINUE)  # a few bytes into an empty send buffer
            except OSError as exc:
                log.debug("connection from %s dropped: %s", arrival.address, exc)
                self._drop(selector, arrival)

    def _expire(self, selector: selectors.BaseSelector, now: float) -> None:
        for arrival in [a for a in self._waiting.values() if now >= min(a.deadline, a.idle_deadline)]:
            if _HEAD_END.search(arrival.data, _head_start(arrival.data), MAX_HEAD_BYTES + 4):
                self._ready_up(selector, arrival)  # the head ended, the body is late: say so
            else:
                log.debug("connection from %s dropped: its request did not arrive in time", arrival.address)
                self._drop(selector, arrival)

    def _ready_up(self, selector: selectors.BaseSelector, arrival: Arrival) -> None:
        selector.unregister(arrival.sock)
        del self._waiting[arrival.fileno()]
        arrival.sock.setblocking(True)
        self._ready.append(arrival)

    def _drop(self, selector: selectors.BaseSelector, arrival: Arrival) -> None:
        selector.unregister(arrival.sock)
        del self._waiting[arrival.fileno()]
        arrival.close()

    def _hand_on(self) -> None:
        while self._ready and self._take_slot():
            self._dispatch(self._ready.popleft())
