"""Answering a typed request from a record source: the response body, in the page's key order.

The body's keys are the operation's ``response`` list (``api/spec.py``): ``RequestId``,
``TotalCount``, the list of items, ``Success`` (always ``true``), and the echoed parameters (the
page number and size used, defaults included; ``AsyncRequestId`` or a fresh id). Items are the
records' wire form without record-only fields (``docs/semantics.md`` §6.6), shaped per request
where the operation says so (``shape_item``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dsc_engine.api.errors import new_request_id
from dsc_engine.api.request import Request
from dsc_engine.api.spec import Operation
from dsc_engine.query.source import RecordSource
from dsc_engine.wire.codec import response_item


def respond(request: Request, source: RecordSource, request_id: str) -> dict[str, Any]:
    """The response body of ``request``, answered from ``source``."""
    operation = request.operation
    page = source.query(request.filter(), request.offset, request.size, distinct=request.group_by)
    items = [response_item(record) for record in page.records]
    shape = operation.shape_item
    if shape is not None:  # each item kept in wire order by the shaping
        items = [shape(item, record, request) for item, record in zip(items, page.records)]
    per_call = {"RequestId": request_id}
    for parameter in operation.echoed:
        per_call[parameter.name] = request.echoes.get(parameter.name) or new_request_id()
    return page_body(operation, items, page.total, request.page, request.size, per_call)


def page_body(
    operation: Operation,
    items: list[dict[str, Any]],
    total: int,
    page: int,
    size: int,
    per_call: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A page of ``operation``'s answer, its keys in the ``response`` order: ``TotalCount``, the
    ``items`` under the list key, ``Success``, the page number and size used. ``per_call`` are
    the keys of one call (``RequestId``, echoed parameters such as ``AsyncRequestId``); without
    them (an export's pages, ``io/export.py``) the page leaves those keys out."""
    values: dict[str, Any] = {"TotalCount": total, operation.list_key: items, "Success": True}
    number, size_parameter = operation.paging
    if number is not None:
        values[number.name] = page
    if size_parameter is not None:
        values[size_parameter.name] = size
    if per_call is None:
        left_out = {"RequestId", *(parameter.name for parameter in operation.echoed)}
        return {key: values[key] for key in operation.response if key not in left_out}
    values.update(per_call)
    return {key: values[key] for key in operation.response}
