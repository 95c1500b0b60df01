"""What every operation module provides to the router: an :class:`Operation` description."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from dsc_engine.api.coerce import Reader
from dsc_engine.models import Lang, RecordKind
from dsc_engine.store.store import Store


@attrs.frozen
class Operation:
    """One API operation: its name, version, product, record kind and request handling.

    ``read`` turns the raw parameters into the operation's typed request (raising the typed
    request errors), ``lang`` says which language a request asks for, and ``answer`` runs a typed
    request against the store and returns the response body (``RequestId`` included).
    """

    action: str
    version: str
    product: str
    kind: RecordKind
    parameters: frozenset[str]
    read: Callable[[Reader], Any]
    answer: Callable[[Any, Store, str], dict[str, Any]]
    lang: Callable[[Any], Lang]
    has_lang: bool

