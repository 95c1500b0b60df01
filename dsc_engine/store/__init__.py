"""The in-memory store of one record kind (see ``store.py``)."""

from dsc_engine.store.store import Page, Store

__all__ = ["Page", "Store"]
