"""The in-memory store of one record kind (see ``store.py``)."""

from dsc_engine.store.store import Store

__all__ = ["Store"]
