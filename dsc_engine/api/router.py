"""Routing an action to its operation and turning every outcome into a response or ``ApiError``.

``call`` is the one entry point of the API layer: unknown actions and versions, refused
parameters and unexpected failures all leave it as :class:`ApiError` (CONTRACT.md section 5).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dsc_engine.api import (
    describe_audit_logs,
    describe_data_masking_run_history,
    list_sensitive_data_audit_log,
)
from dsc_engine.api.coerce import LANG_SPELLINGS, Reader
from dsc_engine.api.errors import DMS, SDDP, ApiError, new_request_id
from dsc_engine.api.messages import internal_error, request_error
from dsc_engine.api.operation import Operation
from dsc_engine.errors import RequestError, UnknownActionError
from dsc_engine.models import Lang, RecordKind
from dsc_engine.store.store import Store

_log = logging.getLogger(__name__)

#: Every operation the engine serves, by Action name.
OPERATIONS: Mapping[str, Operation] = {
    op.action: op
    for op in (
        describe_audit_logs.OPERATION,
        describe_data_masking_run_history.OPERATION,
        list_sensitive_data_audit_log.OPERATION,
    )
}


def route(action: str, version: str | None = None) -> Operation:
    """The operation named ``action``; ``version=None`` means the action's own version."""
    operation = OPERATIONS.get(action)
    if operation is None or (version is not None and version != operation.version):
        raise UnknownActionError(action, version)
    return operation


def _product(action: str, version: str | None) -> str:
    operation = OPERATIONS.get(action)
    if operation is not None:
        return operation.product
    return DMS if version == list_sensitive_data_audit_log.VERSION else SDDP


def _asked_lang(operation: Operation | None, params: Mapping[str, object]) -> Lang:
    """The language errors use before the request is validated.

    Sddp operations: their ``Lang`` when it is a valid spelling, else the default ``zh_cn``.
    DMS (no ``Lang``) and unknown actions: English, unless a valid ``Lang`` was sent to an
    unknown action.
    """
    raw = params.get("Lang")
    asked = LANG_SPELLINGS.get(raw.lower()) if isinstance(raw, str) else None
    if operation is None:
        return asked or Lang.EN_US
    if not operation.has_lang:
        return Lang.EN_US
    return asked or Lang.ZH_CN


def call(
    stores: Mapping[RecordKind, Store],
    action: str,
    params: Mapping[str, object],
    *,
    version: str | None = None,
    host: str = "localhost",
    request_id: str | None = None,
) -> dict[str, Any]:
    """Answer one request: the JSON-ready response body, or raise :class:`ApiError`."""
    request_id = request_id or new_request_id()
    product = _product(action, version)
    operation: Operation | None = None
    lang = _asked_lang(None, params)
    try:
        operation = route(action, version)
        lang = _asked_lang(operation, params)
        reader = Reader(action, params)
        reader.check_names(operation.parameters)
        request = operation.read(reader)
        lang = operation.lang(request)
        return operation.answer(request, stores[operation.kind], request_id)
    except RequestError as exc:
        raise request_error(
            exc, lang=lang, product=product, request_id=request_id, host=host
        ) from exc
    except ApiError:
        raise
    except Exception as exc:  # last resort: no traceback ever reaches a caller (CONTRACT 5)
        _log.exception("%s failed unexpectedly (RequestId %s)", action, request_id)
        raise internal_error(
            lang=lang, product=product, request_id=request_id, host=host
        ) from exc
