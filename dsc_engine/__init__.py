"""dsc-engine: an offline engine answering Alibaba Cloud's audit-log query APIs exactly.

Public API (``__all__``, see ``docs/api.md``): :class:`Engine` (load records, ``call`` an
operation, ``query`` the filter language), what its methods return (:class:`Page`,
:class:`ImportReport`), :class:`ApiError` (an error response as the service sends it) and the
other errors the docs name, the record classes and :class:`RecordKind`.
:func:`mock` answers the official SDK clients in-process (``docs/server.md``); it is imported on
first use, so ``import dsc_engine`` needs neither the SDK nor pytest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dsc_engine.api.errors import ApiError
from dsc_engine.engine import Engine
from dsc_engine.errors import (
    DscError,
    FilterError,
    FilterFieldError,
    FilterSyntaxError,
    ImportFailure,
    InvalidParameterError,
    OutputError,
    RecordError,
    SnapshotError,
)
from dsc_engine.io.imports import ImportReport
from dsc_engine.models import AuditLog, MaskingRun, RecordKind, SensitiveDataAuditLog, SensitiveDataEntry
from dsc_engine.query.source import Page

if TYPE_CHECKING:
    from dsc_engine.mocking import mock


def __getattr__(name: str) -> Any:
    if name == "mock":
        from dsc_engine.mocking import mock

        return mock
    raise AttributeError(f"module 'dsc_engine' has no attribute {name!r}")


__all__ = [
    "ApiError",
    "AuditLog",
    "DscError",
    "Engine",
    "FilterError",
    "FilterFieldError",
    "FilterSyntaxError",
    "ImportFailure",
    "ImportReport",
    "InvalidParameterError",
    "MaskingRun",
    "OutputError",
    "Page",
    "RecordError",
    "RecordKind",
    "SensitiveDataAuditLog",
    "SensitiveDataEntry",
    "SnapshotError",
    "mock",
]
