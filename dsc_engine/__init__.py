"""dsc-engine: an offline engine answering Alibaba Cloud's audit-log query APIs exactly.

Public API: :class:`Engine` (load records, ``call`` an operation, ``query`` the filter language)
and :class:`ApiError` (an error response as the service sends it). See ``docs/api.md``.
"""

from dsc_engine.api.errors import ApiError
from dsc_engine.engine import Engine, QueryResult

__all__ = ["ApiError", "Engine", "QueryResult"]
