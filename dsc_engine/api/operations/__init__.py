"""Every operation the engine serves, each described once (``api/spec.py``).

To add an operation, describe it in a module here and list it in :data:`OPERATIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping

from dsc_engine.api.operations import (
    describe_audit_logs,
    describe_data_masking_run_history,
    list_sensitive_data_audit_log,
)
from dsc_engine.api.spec import Operation
from dsc_engine.models.kinds import RecordKind

#: Every operation, by Action name, in a fixed order.
OPERATIONS: Mapping[str, Operation] = {
    op.action: op
    for op in (
        describe_audit_logs.OPERATION,
        describe_data_masking_run_history.OPERATION,
        list_sensitive_data_audit_log.OPERATION,
    )
}
#: The operation a name no operation has falls back to (the first): the product of its error
#: links, the version a client signs it with, the example of a RAM action.
FALLBACK: Operation = next(iter(OPERATIONS.values()))
#: The operation answering with each record kind.
BY_KIND: Mapping[RecordKind, Operation] = {op.kind: op for op in OPERATIONS.values()}
#: The product of each API version (for error links of requests no operation matches).
PRODUCT_BY_VERSION: Mapping[str, str] = {op.version: op.product for op in OPERATIONS.values()}
#: The list key of each kind's pages, and the kinds a page with that key may hold.
LIST_KEYS: Mapping[str, tuple[RecordKind, ...]] = {
    key: tuple(op.kind for op in OPERATIONS.values() if op.list_key == key)
    for key in dict.fromkeys(op.list_key for op in OPERATIONS.values())
}


def operation_named(action: object) -> Operation | None:
    """The operation whose Action is ``action``, at whatever version; ``None`` for any other
    name, or a value that is no text (a list is no name)."""
    return OPERATIONS.get(action) if isinstance(action, str) else None


def product_of(action: str | None, version: str | None) -> str:
    """The product named in error links: by action, else by version, else the fallback's."""
    operation = operation_named(action)
    if operation is not None:
        return operation.product
    default = FALLBACK.product
    return PRODUCT_BY_VERSION.get(version, default) if isinstance(version, str) else default
