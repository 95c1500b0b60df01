"""dsc-engine: an offline engine answering Alibaba Cloud's audit-log query APIs exactly.

Public API: :class:`Engine` (load records, ``call`` an operation, ``query`` the filter language)
and :class:`ApiError` (an error response as the service sends it). See ``docs/api.md``.
:func:`mock` answers the official SDK clients in-process (``docs/server.md``); it is imported on
first use, so ``import dsc_engine`` needs neither the SDK nor pytest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dsc_engine.api.errors import ApiError
from dsc_engine.engine import Engine, QueryResult

if TYPE_CHECKING:
    from dsc_engine.mocking import mock


def __getattr__(name: str) -> Any:
    if name == "mock":
        from dsc_engine.mocking import mock

        return mock
    raise AttributeError(f"module 'dsc_engine' has no attribute {name!r}")


__all__ = ["ApiError", "Engine", "QueryResult", "mock"]
