"""``ApiError``: an error as the Alibaba Cloud service answers it (``docs/semantics.md`` §7.1).

Only the catalogue of service errors (``catalogue.py``) builds these, for the API layer and the
server; the rest of the engine raises the typed errors of ``dsc_engine.errors``.
"""

from __future__ import annotations

import os
from typing import Any

from dsc_engine.api.spec import SDDP
from dsc_engine.errors import DscError


def new_request_id() -> str:
    """A fresh request id in the service's upper-case UUID form (a random version 4 UUID).

    Spelled from 16 random bytes directly rather than through ``uuid.UUID``: every response
    carries one or two of these, and the class's checks cost a request ~3 µs warm and ~25 µs
    each when the caches are cold after other work (docs/store.md, "First queries, measured")."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
    digits = raw.hex().upper()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


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
