"""Helpers of the pull tests: the SDK pointed at a test server, the service's order, fake time."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from dsc_engine.api.operations import OPERATIONS
from dsc_engine.api.spec import Operation
from dsc_engine.engine import Engine
from dsc_engine.pull import Credentials, SdkUpstream
from dsc_engine.pull.credentials import Fixed
from dsc_engine.pull.upstream import Endpoint
from dsc_engine.testing import TestServer

ACTIONS = {
    "audit": "DescribeAuditLogs",
    "masking": "DescribeDataMaskingRunHistory",
    "dms": "ListSensitiveDataAuditLog",
}
#: A window holding every generated record, in the form every operation takes.
SINCE, UNTIL = "2000-01-01 00:00:00", "2099-01-01 00:00:00"
SIZES = {"audit": 60, "masking": 45, "dms": 50}


def upstream(server: TestServer, credentials: Credentials | None = None) -> SdkUpstream:
    """The official SDK, signing with the server's key (or ``credentials``), sending to it over HTTP."""
    key = credentials or Credentials(server.access_key.id, server.access_key.secret)
    return SdkUpstream(Fixed(key), endpoint=Endpoint.parse(server.url))


def served(engine: Engine, kind: str, **filters: object) -> list[dict[str, Any]]:
    """Every item the engine answers over the whole window, page after page: the service's order."""
    operation: Operation = OPERATIONS[ACTIONS[kind]]
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        if kind == "dms":
            params = {"StartTime": SINCE, "EndTime": UNTIL, "PageSize": 100, "PageNumber": page}
        else:
            params = {"PageSize": operation.max_page_size, "CurrentPage": page}
        body = engine.call(operation.action, {**params, **filters})
        if not body[operation.list_key]:
            return items
        items.extend(body[operation.list_key])
        page += 1


def pulled(path: Path) -> list[dict[str, Any]]:
    """Every item of every page line of a pull's output, in file order."""
    items: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            page = json.loads(line)
            items.extend(page.get("Items", []) + page.get("SensitiveDataAuditLogList", []))
    return items


class FakeTime:
    """Time that sleeping moves forward at once: the pull's sleeps and the server's clock agree."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.offset += seconds
