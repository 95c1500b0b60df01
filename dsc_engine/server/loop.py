"""One thread watching many connections with a selector, woken by the threads that hand it work.

The host's two such threads, the one gathering requests (``arrivals.Gatherer``) and the one
writing the rest of answers (``departures.Sender``), are this loop: each round it handles the
connections the selector says are ready, then does its own round's work (take what was handed to
it, drop what is past its deadline). Another thread hands it work and wakes it with a byte on a
socket pair, so that it never waits out its selector's timeout for news.
"""

from __future__ import annotations

import abc
import logging
import selectors
import socket
import threading
from typing import Any

log = logging.getLogger("dsc_engine.server")


class SelectorLoop(abc.ABC):
    """The loop's thread (started by :meth:`start`, stopped by :meth:`stop`); a subclass says
    what a ready connection and a round are, how long the selector may wait, and what is left to
    close when the thread ends."""

    def __init__(self, name: str) -> None:
        self._stopping = threading.Event()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """End the loop (its :meth:`ended` closes what it held) and wait for its thread."""
        self._stopping.set()
        self.wake()
        self._thread.join()
        self._wake_read.close()
        self._wake_write.close()

    def wake(self) -> None:
        """Have the loop run a round now (from any thread)."""
        try:
            self._wake_write.send(b"\0")
        except (BlockingIOError, OSError):  # already woken (buffer full), or closed at shutdown
            pass

    def _loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._wake_read, selectors.EVENT_READ)
            try:
                while not self._stopping.is_set():
                    for key, _ in selector.select(self.timeout()):
                        if key.fileobj is self._wake_read:
                            self._drain_wake()
                        else:
                            self.ready(selector, key.data)
                    self.round(selector)
            except Exception:  # the last resort: the thread's end must still close what it holds
                log.exception("the server's %s thread failed", self._thread.name)
            finally:
                self.ended()

    def _drain_wake(self) -> None:
        try:
            while self._wake_read.recv(4096):
                pass
        except BlockingIOError:
            pass

    @abc.abstractmethod
    def timeout(self) -> float | None:
        """Seconds the selector may wait for a connection (``None``: until woken)."""

    @abc.abstractmethod
    def ready(self, selector: selectors.BaseSelector, data: Any) -> None:
        """A registered connection is ready (``data``: what it was registered with)."""

    @abc.abstractmethod
    def round(self, selector: selectors.BaseSelector) -> None:
        """The loop's own work once the ready connections are handled."""

    @abc.abstractmethod
    def ended(self) -> None:
        """The loop ended (stopped, or failed): close what it holds."""
