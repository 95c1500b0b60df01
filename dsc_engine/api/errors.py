"""``ApiError``: an error as the Alibaba Cloud service answers it (``docs/semantics.md`` §7.1).

Only the catalogue of service errors (``catalogue.py``) builds these, for the API layer and the
server; the rest of the engine raises the typed errors of ``dsc_engine.errors``.
"""

from __future__ import annotations

import uuid
from typing import Any

from dsc_engine.api.spec import SDDP
from dsc_engine.errors import DscError


def new_request_id() -> str:
    """A fresh request id in the service's upper-case UUID form."""
    return str(uuid.uuid4()).upper()


class ApiError(DscError):
    """An error response: ``code``, ``message``, ``http_status``, ``request_id`` and ``body``.

    ``body`` is the exact error JSON: ``RequestId``, ``HostId`` (the request's host), ``Code``,
    ``Message`` and ``Recommend``.
    """

    def __init__(
        self,
        code: str,
        message: str,
        http_status: int,
        *,
        product: str = SDDP,
        request_id: str | None = None,
        host: str = "localhost",
    ) -> None:
        self.code = code
        self.message = message
        self.http_status = http_status
        self.product = product
        self.request_id = request_id or new_request_id()
        self.host = host
        super().__init__(f"{code}: {message}")

    @property
    def body(self) -> dict[str, Any]:
        return {
            "RequestId": self.request_id,
            "HostId": self.host,
            "Code": self.code,
            "Message": self.message,
            "Recommend": (
                f"https://api.aliyun.com/troubleshoot?q={self.code}"
                f"&product={self.product}&requestId={self.request_id}"
            ),
        }
