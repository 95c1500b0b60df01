"""Answering a typed request from a record source: the response body, in the page's key order.

The body's keys are the operation's ``response`` list (``api/spec.py``): ``RequestId``,
``TotalCount``, the list of items, ``Success`` (always ``true``), and the echoed parameters (the
page number and size used, defaults included; ``AsyncRequestId`` or a fresh id). Items are the
records' wire form without record-only fields (``docs/semantics.md`` §6.6), shaped per request
where the operation says so (``shape_item``).
"""

from __future__ import annotations

from typing import Any

from dsc_engine.api.errors import new_request_id
from dsc_engine.api.request import Request
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
    number, size = operation.paging
    echoed: dict[str, Any] = {}
    if number is not None:
        echoed[number.name] = request.page
    if size is not None:
        echoed[size.name] = request.size
    for parameter in operation.echoed:
        echoed[parameter.name] = request.echoes.get(parameter.name) or new_request_id()
    fixed: dict[str, Any] = {
        "RequestId": request_id,
        "TotalCount": page.total,
        operation.list_key: items,
        "Success": True,
    }
    return {key: echoed[key] if key in echoed else fixed[key] for key in operation.response}
