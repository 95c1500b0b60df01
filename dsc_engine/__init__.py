"""dsc-engine: an offline engine answering Alibaba Cloud's audit-log query APIs exactly.

Public API (``__all__``, see ``docs/api.md``): :class:`Engine` (load records, ``call`` an
operation, ``query`` the filter language), what its methods return (:class:`Page`,
:class:`ImportReport`), :class:`ApiError` (an error response as the service sends it) and the
other errors the docs name, the record classes and :class:`RecordKind`.
:func:`mock` answers the official SDK clients in-process (``docs/server.md``). Everything but the
errors is imported on first use, so ``import dsc_engine`` needs neither the SDK nor pytest and
costs next to nothing (the package's pytest plugin imports it in every pytest session).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from dsc_engine.api.errors import ApiError
    from dsc_engine.engine import Engine
    from dsc_engine.io.importreport import ImportReport
    from dsc_engine.mocking import mock
    from dsc_engine.models import AuditLog, MaskingRun, RecordKind, SensitiveDataAuditLog, SensitiveDataEntry
    from dsc_engine.query.source import Page

#: Where each public name beyond the errors is defined; imported on first use, so that
#: ``import dsc_engine`` (which the package's pytest plugin does in every pytest session) costs
#: next to nothing until the engine is used.
_DEFINED_IN = {
    "ApiError": "dsc_engine.api.errors",
    "AuditLog": "dsc_engine.models",
    "Engine": "dsc_engine.engine",
    "ImportReport": "dsc_engine.io.importreport",
    "MaskingRun": "dsc_engine.models",
    "Page": "dsc_engine.query.source",
    "RecordKind": "dsc_engine.models",
    "SensitiveDataAuditLog": "dsc_engine.models",
    "SensitiveDataEntry": "dsc_engine.models",
    "mock": "dsc_engine.mocking",
}


def __getattr__(name: str) -> Any:
    module = _DEFINED_IN.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    if not name.startswith("_"):  # a subpackage (dsc_engine.engine, .io, ...) as an attribute
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names (imported on first use, so not yet in the module's namespace) beside
    what is: what ``dir`` and tab completion offer."""
    return sorted(set(globals()) | set(__all__))


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
