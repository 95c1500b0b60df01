"""Answers their clients read slowly, written by one thread so that none holds a serving thread.

A request's thread writes its answer as far as the connection takes it at once (what fits in the
socket's send buffer); what is left once the application has answered is handed to a single
thread (:class:`Sender`) that writes it as the client reads, and the request's thread and its
connection slot are free at once. So clients that stop reading large answers (or read them
slowly) cost memory for what they have not read, never a thread, and never delay other clients
(``docs/server.md``, "Connections"). A client that reads nothing for ``idle`` seconds (the socket
timeout) is dropped, as one that hangs up. A client that sent bytes after its request that were
not read (a pipelined request) is sent the answer's end and its connection closed only once it
closes its side (or after ``idle`` seconds): closing with unread bytes would reset the connection
and lose the answer's unread end. Past :data:`MAX_DEPARTING` answers or
:data:`MAX_DEPARTING_BYTES` unsent bytes, the answer handed over longest ago is dropped.
"""

from __future__ import annotations

import collections
import logging
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import attrs

from dsc_engine.server.loop import SelectorLoop

log = logging.getLogger("dsc_engine.server")

#: Answers being written at most; one more drops the one handed over longest ago.
MAX_DEPARTING = 1_000
#: Unsent bytes held at most, all answers together (the newest answer is kept, even alone above it).
MAX_DEPARTING_BYTES = 256 * 1024 * 1024
_WRITE = 256 * 1024
#: The deadline of an answer when there is no socket timeout.
_NEVER = float("inf")
#: ``SO_LINGER`` on, 0 seconds: closing resets the connection.
_RESET = struct.pack("ii", 1, 0)


@attrs.define(eq=False)
class _Departure:
    sock: socket.socket
    address: object
    data: bytes | bytearray
    idle_deadline: float
    sent: int = 0
    #: the client sent bytes after its request that were not read (a pipelined request): the
    #: connection is closed only once the client has closed its side, or closing would reset it
    unread: bool = False
    #: the whole answer is written and its end sent; waiting for the client to close
    lingering: bool = False
    #: the connection is kept for the client's next request: once the answer is written, this
    #: hands it back (nothing is read from it here: what the client sends next is its request)
    then: Callable[[], None] | None = None

    @property
    def left(self) -> int:
        return len(self.data) - self.sent


class Sender(SelectorLoop):
    """The thread writing the rest of answers handed to it (:meth:`add`), then closing their
    connections (``shutdown(SHUT_WR)`` first, as ``socketserver`` does)."""

    def __init__(self, *, idle: float | None) -> None:
        self._idle = idle
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._incoming: collections.deque[_Departure] = collections.deque()
        self._departing: dict[int, _Departure] = {}  # by file number, oldest first
        self._closed = False
        super().__init__("dsc-engine-departures")
        self.start()

    def add(
        self,
        sock: socket.socket,
        address: object,
        data: bytes | bytearray,
        *,
        unread: bool = False,
        then: Callable[[], None] | None = None,
    ) -> bool:
        """Write ``data`` to ``sock`` from this thread, then close it (``unread``: the client has
        sent bytes that were not read, so wait for it to close first), or, with ``then``, call
        ``then()`` to hand the kept connection back; ``False`` (and nothing taken) once the
        sender is closed: the caller writes it itself."""
        idle = time.monotonic() + self._idle if self._idle is not None else _NEVER
        with self._lock:
            if self._closed:
                return False
            self._incoming.append(_Departure(sock, address, data, idle, unread=unread, then=then))
        self.wake()
        return True

    def close(self, grace: float = 0.0) -> None:
        """Take no more answers, let those being written end for at most ``grace`` seconds, then
        drop the rest (and close the connections waiting for their client to close) and stop
        the thread."""
        with self._changed:
            self._closed = True
            self._changed.wait_for(
                lambda: not self._incoming and all(d.lingering for d in self._departing.values()), grace
            )
        self.stop()

    def ready(self, selector: selectors.BaseSelector, data: Any) -> None:
        if data.sock.fileno() in self._departing:  # not ended this round
            self._ready(selector, data)

    def round(self, selector: selectors.BaseSelector) -> None:
        self._admit(selector)
        self._expire(selector, time.monotonic())
        with self._changed:
            self._changed.notify_all()

    def ended(self) -> None:
        """Closed (also when the thread failed): :meth:`add` refuses, and the request threads
        write their answers themselves."""
        with self._changed:
            self._closed = True
            left = [*self._departing.values(), *self._incoming]
            self._departing.clear()
            self._incoming.clear()
            self._changed.notify_all()
        for departure in left:
            departure.sock.close()

    def timeout(self) -> float | None:
        """Seconds until the soonest deadline of an answer being written; ``None`` (wait for a
        wake-up) when none has one (no socket timeout: a client may read as slowly as it likes)."""
        deadlines = [d.idle_deadline for d in self._departing.values() if d.idle_deadline != _NEVER]
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - time.monotonic())

    def _admit(self, selector: selectors.BaseSelector) -> None:
        with self._lock:  # moved at once, so close() never sees an answer in neither place
            incoming, self._incoming = self._incoming, collections.deque()
            for departure in incoming:
                self._departing[departure.sock.fileno()] = departure
        for departure in incoming:
            departure.sock.setblocking(False)
            events = selectors.EVENT_WRITE if departure.then else selectors.EVENT_READ | selectors.EVENT_WRITE
            selector.register(departure.sock, events, departure)
        while len(self._departing) > max(1, MAX_DEPARTING):
            self._drop(selector, next(iter(self._departing.values())))
        unsent = sum(d.left for d in self._departing.values())
        # past the bytes held, the oldest answers with bytes left are dropped (one written whole and
        # waiting for its client to close frees none), the newest kept even alone above the limit
        for departure in list(self._departing.values())[:-1]:
            if unsent <= MAX_DEPARTING_BYTES:
                break
            if departure.left:
                unsent -= departure.left
                self._drop(selector, departure)

    def _drop(self, selector: selectors.BaseSelector, departure: _Departure) -> None:
        log.info("too many answers are being written; dropping the one handed over longest ago")
        self._end(selector, departure, sent=False)

    def _ready(self, selector: selectors.BaseSelector, departure: _Departure) -> None:
        """Read what the client sent (and drop it), then write what it can take; a kept
        connection's client is not read (it sends its next request)."""
        if departure.then is not None:
            self._send(selector, departure)
            return
        try:
            received = departure.sock.recv(_WRITE)
        except BlockingIOError:
            received = None
        except OSError as exc:  # the client hung up
            log.debug("connection from %s dropped: %s", departure.address, exc)
            self._end(selector, departure, sent=False)
            return
        if received is not None and not received:  # the client closed its side
            if departure.lingering:
                self._end(selector, departure, sent=True)
                return
            selector.modify(departure.sock, selectors.EVENT_WRITE, departure)
        elif received:
            departure.unread = True
        if not departure.lingering:
            self._send(selector, departure)

    def _send(self, selector: selectors.BaseSelector, departure: _Departure) -> None:
        if not departure.left:
            self._sent(selector, departure)
            return
        try:
            with memoryview(departure.data) as view:
                sent = departure.sock.send(view[departure.sent : departure.sent + _WRITE])
        except BlockingIOError:
            return
        except OSError as exc:  # the client hung up
            log.debug("connection from %s dropped: %s", departure.address, exc)
            self._end(selector, departure, sent=False)
            return
        departure.sent += sent
        if self._idle is not None:
            departure.idle_deadline = time.monotonic() + self._idle
        if not departure.left:
            self._sent(selector, departure)

    def _sent(self, selector: selectors.BaseSelector, departure: _Departure) -> None:
        """The whole answer is written: close, or, when the client sent bytes that were not read,
        send the answer's end and wait (the socket timeout at most) for the client to close:
        closing with bytes unread resets the connection, and the client loses what of the
        answer it had not read yet."""
        if departure.then is not None:  # kept: handed back, not closed
            selector.unregister(departure.sock)
            with self._lock:
                del self._departing[departure.sock.fileno()]
            departure.sock.setblocking(True)
            departure.then()
            return
        if not departure.unread:
            self._end(selector, departure, sent=True)
            return
        try:
            departure.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._end(selector, departure, sent=False)
            return
        departure.lingering = True
        if self._idle is not None:
            departure.idle_deadline = time.monotonic() + self._idle
        selector.modify(departure.sock, selectors.EVENT_READ, departure)

    def _expire(self, selector: selectors.BaseSelector, now: float) -> None:
        for departure in [d for d in self._departing.values() if now >= d.idle_deadline]:
            if departure.lingering:
                log.debug("connection from %s closed: its client kept it open past its answer", departure.address)
            else:
                log.debug("connection dropped: its client read no more of the answer for %s s", self._idle)
            self._end(selector, departure, sent=False)

    def _end(self, selector: selectors.BaseSelector, departure: _Departure, *, sent: bool) -> None:
        selector.unregister(departure.sock)
        with self._lock:
            del self._departing[departure.sock.fileno()]
        try:
            if sent:
                departure.sock.shutdown(socket.SHUT_WR)
            else:  # reset, rather than leave the kernel trying to deliver the rest to no reader
                departure.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
        except OSError:
            pass
        departure.sock.close()
