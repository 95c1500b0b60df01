"""What imports and snapshots load into: anything that hands out the store of a kind."""

from __future__ import annotations

from typing import Protocol

from dsc_engine.models import RecordKind
from dsc_engine.store.store import Store


class HasStores(Protocol):
    """An import or snapshot target: ``Engine``, or a plain :class:`Stores`."""

    def store(self, kind: RecordKind) -> Store: ...


class Stores:
    """A fresh store per kind: an import target that is not an engine."""

    def __init__(self) -> None:
        self.stores = {kind: Store(kind) for kind in RecordKind}

    def store(self, kind: RecordKind) -> Store:
        return self.stores[kind]
