"""What every load shares, imports and snapshots alike: its target (anything that hands out the
store of a kind: :class:`HasStores`, a plain :class:`Stores`), the kinds it asks for
(:func:`wanted_kinds`), the targets' load locks (:func:`loading`), and how it runs (the garbage
collector paused, :func:`gc_paused`; the filter parser built aside, :func:`warm_filter_parser`)."""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
from collections.abc import Iterable, Iterator
from typing import Protocol

from dsc_engine.errors import InvalidParameterError, Reason
from dsc_engine.models import RecordKind
from dsc_engine.query import grammar
from dsc_engine.query.source import RecordSource
from dsc_engine.store.store import Store

log = logging.getLogger(__name__)


class HasStores(Protocol):
    """An import or snapshot target: ``Engine``, or a plain :class:`Stores`."""

    def store(self, kind: RecordKind) -> RecordSource: ...


class Stores:
    """A fresh store per kind: an import target that is not an engine."""

    def __init__(self) -> None:
        self.stores = {kind: Store(kind) for kind in RecordKind}

    def store(self, kind: RecordKind) -> RecordSource:
        return self.stores[kind]


def wanted_kinds(kinds: str | RecordKind | Iterable[str | RecordKind] | None) -> frozenset[RecordKind] | None:
    """The kinds a load's ``kinds`` argument names (``None``: every kind); a name that is no kind
    is an :class:`InvalidParameterError` on ``kinds``, as ``Engine.load`` refuses it."""
    if kinds is None:
        return None
    try:
        return RecordKind.parse_all(kinds)
    except ValueError as exc:
        raise InvalidParameterError("kinds", kinds, Reason(str(exc), f"未知的记录类型 {kinds!r}")) from None


@contextlib.contextmanager
def loading(target: HasStores) -> Iterator[None]:
    """Hold the load lock of each of ``target``'s stores, in kind order (``RecordSource.loading``):
    a load looks its records up among the held ones and then inserts them, and two loads into one
    target (or one database) at once would both find the same records new. Reentrant: an engine's
    load holds it around the importer and the snapshot loader, which take it too."""
    with contextlib.ExitStack() as held:
        for kind in RecordKind:
            held.enter_context(target.store(kind).loading())
        yield


def warm_filter_parser() -> None:
    """Build the filter language's parser (once per process, ``query.grammar.parser``) in a
    daemon thread while data loads, so that the first query needing it (filter text, an API range
    string) does not wait for its LALR tables; a query that comes first builds it itself."""
    if grammar.parser.cache_info().currsize:
        return
    threading.Thread(target=_build_parser, daemon=True, name="dsc-engine filter parser").start()


def _build_parser() -> None:
    """The warm-up thread's work: best effort. A failure here is logged and left for the first
    query needing the parser, which builds it again and reports what stops it in its own thread."""
    try:
        grammar.parser()
    except Exception:  # the deliberate catch-all of a best-effort warm-up
        log.debug("the filter parser was not built ahead of the first query", exc_info=True)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during a bulk load, then restore it as it was.

    A load allocates millions of short-lived, acyclic objects (decoded JSON, records): they are
    freed by reference counting, but each allocation burst triggers collections that traverse
    the young objects and, as the stores grow, the old ones (measured: a 1M-record import took
    59 s with the collector on and 49 s without, with a lower peak). Nothing a load builds is
    cyclic, and the collector runs again afterwards for whatever else the process made meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
