"""Routing an action to its operation and turning every outcome into a response or ``ApiError``.

:func:`call` is the one entry point of the API layer: unknown actions and versions, refused
parameters and unexpected failures all leave it as :class:`ApiError` (``docs/semantics.md`` §7),
built from the one catalogue of service errors (``catalogue.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from dsc_engine.api.catalogue import MISSING, api_error
from dsc_engine.api.common import endpoint_product
from dsc_engine.api.errors import ApiError, new_request_id
from dsc_engine.api.operations import OPERATIONS, operation_named, product_of
from dsc_engine.api.read import LANG_SPELLINGS
from dsc_engine.api.request import prepare, read_request
from dsc_engine.api.respond import respond
from dsc_engine.api.spec import Operation
from dsc_engine.errors import MissingParameterError, RequestError, UnknownActionError
from dsc_engine.models import Lang, RecordKind
from dsc_engine.query.source import RecordSource

_log = logging.getLogger(__name__)


class Caller(Protocol):
    """What answers API calls as :func:`call` does, over some records: ``Engine.call``. The
    server and replay reach the engine only through it."""

    def call(
        self,
        action: str,
        params: Mapping[str, object],
        *,
        version: str | None = None,
        host: str = "localhost",
        request_id: str | None = None,
    ) -> dict[str, Any]: ...


for _operation in OPERATIONS.values():
    prepare(_operation)


def route(action: str, version: str | None = None) -> Operation:
    """The operation named ``action``; ``version=None`` (or ``""``: an empty parameter is absent,
    as the server reads an empty ``Version``) means the action's own version."""
    operation = operation_named(action)
    if operation is None or (version is not None and version != "" and version != operation.version):
        raise UnknownActionError(action, version)
    return operation


def asked_lang(operation: Operation | None, params: Mapping[str, object]) -> Lang:
    """The language errors use before the request is validated (§6.4).

    Operations with ``Lang``: their ``Lang`` when it is a valid spelling, else the default
    ``zh_cn``. Operations without (DMS) and unknown actions: English, unless a valid ``Lang`` was
    sent to an unknown action. A known action asked at another version is its operation here
    (``InvalidApi.NotFound`` in that operation's language).
    """
    raw = params.get("Lang")
    asked = LANG_SPELLINGS.get(raw.lower()) if isinstance(raw, str) else None
    if operation is None:
        return asked or Lang.EN_US
    if not operation.has_lang:
        return Lang.EN_US
    return asked or Lang.ZH_CN


def call(
    sources: Mapping[RecordKind, RecordSource],
    action: str,
    params: Mapping[str, object],
    *,
    version: str | None = None,
    host: str = "localhost",
    request_id: str | None = None,
) -> dict[str, Any]:
    """Answer one request: the JSON-ready response body, or raise :class:`ApiError`.

    ``params`` that are no mapping, a ``host`` or ``request_id`` that is no text (they become
    the body's ``HostId`` and ``RequestId``), are the caller's slip, not a request: a ``TypeError``."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"call takes the request parameters as a mapping of names to values, not {type(params).__name__}"
        )
    for name, value, absent in (("host", host, False), ("request_id", request_id, True)):
        if not isinstance(value, str) and not (absent and value is None):
            raise TypeError(f"call takes {name} as a str, not {type(value).__name__}")
    request_id = request_id or new_request_id()
    product = product_of(action, version)
    lang = asked_lang(None, params)
    at = endpoint_product(host)  # at an Sddp or DMS endpoint, the other product's actions do not exist
    if at is not None and action in OPERATIONS and OPERATIONS[action].product != at:
        raise api_error("InvalidApi.NotFound", lang, product=at, request_id=request_id, host=host)
    try:
        lang = asked_lang(operation_named(action), params)  # a wrong Version too: semantics §6.4
        operation = route(action, version)
        request = read_request(operation, params)
        lang = request.lang
        return respond(request, sources[operation.kind], request_id)
    except RequestError as exc:
        if isinstance(exc, MissingParameterError):
            code = MISSING.code
        elif isinstance(exc, UnknownActionError):
            code = "InvalidApi.NotFound"
        else:
            code = "InvalidParameter"
        raise api_error(
            code, lang, product=product, request_id=request_id, host=host, name=exc.name, reason=exc.reason
        ) from exc
    except ApiError:
        raise
    except Exception as exc:  # last resort: no traceback ever reaches a caller (§7.4)
        _log.exception("%s failed unexpectedly (RequestId %s)", action, request_id)
        raise api_error("InternalError", lang, product=product, request_id=request_id, host=host) from exc
