"""Runs data-driven conformance cases (the jmespath compliance-suite shape).

A case file is a JSON list of suites. A suite has ``description``, ``action``, ``given`` (records
in wire form, loaded in order), ``label`` (an item key that names each record in ``labels``) and
``cases``. A case has ``name``, ``params`` (as the wire or Python would send them), optional
``request_id`` (default ``SPEC-REQ``) and ``expect``, any of:

- ``response``: the exact response body;
- ``total``: TotalCount; ``labels``: the ``label`` value of each item, in order;
- ``echo``: top-level keys that must have these values;
- ``column``: ``{"key": K, "values": [...]}``: each item's K, ``null`` where the key is absent;
- ``absent``: top-level keys that must not be there; ``fresh``: keys holding a fresh request id;
- ``error``: ``{"code", "status", "message" or "message_startswith"}``.

Every success is also parsed by the official SDK model: ``from_map(body).to_map() == body``.
Every case runs on each backend of ``backends.NAMES`` (the in-memory store, DuckDB, chDB ...),
with the same expectations.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import sys

from alibabacloud_dms_enterprise20181101 import models as dms_models
from alibabacloud_sddp20190103 import models as sddp_models

from dsc_engine import ApiError, Engine
from dsc_engine.api.router import OPERATIONS

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from backends import NAMES, open_backend  # noqa: E402  (tests/ holds the shared helpers)
REQUEST_ID = "SPEC-REQ"
_FRESH_ID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\Z")
SDK_BODIES = {
    "DescribeAuditLogs": sddp_models.DescribeAuditLogsResponseBody,
    "DescribeDataMaskingRunHistory": sddp_models.DescribeDataMaskingRunHistoryResponseBody,
    "ListSensitiveDataAuditLog": dms_models.ListSensitiveDataAuditLogResponseBody,
}
ITEMS_KEY = {
    "DescribeAuditLogs": "Items",
    "DescribeDataMaskingRunHistory": "Items",
    "ListSensitiveDataAuditLog": "SensitiveDataAuditLogList",
}


def load_cases(filename: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(suite, case)`` pairs of a case file, for ``pytest.mark.parametrize``."""
    suites = json.loads((HERE / filename).read_text(encoding="utf-8"))
    return [(suite, case) for suite in suites for case in suite["cases"]]


def case_id(pair: tuple[dict[str, Any], dict[str, Any]]) -> str:
    return f"{pair[0]['description']}: {pair[1]['name']}"


_ENGINES: dict[tuple[int, str], Engine] = {}


def engine_for(suite: dict[str, Any], backend: str = "memory") -> Engine:
    """One engine per suite and backend (suites are read-only once loaded)."""
    key = (id(suite), backend)
    if key not in _ENGINES:
        engine = open_backend(backend).engine
        kind = OPERATIONS[suite["action"]].kind
        engine.load(suite["given"], kind=kind)
        _ENGINES[key] = engine
    return _ENGINES[key]


def run(suite: dict[str, Any], case: dict[str, Any], backend: str = "memory") -> None:
    """Run one case on ``backend`` and assert every expectation it states."""
    action = suite["action"]
    expect = case["expect"]
    engine = engine_for(suite, backend)
    request_id = case.get("request_id", REQUEST_ID)
    try:
        body = engine.call(action, case["params"], request_id=request_id, host="spec.host")
    except ApiError as exc:
        assert "error" in expect, f"unexpected error {exc.code}: {exc.message}"
        check_error(exc, expect["error"], action, request_id)
        return
    assert "error" not in expect, f"expected {expect['error']['code']}, got a response"
    assert body["RequestId"] == request_id
    assert SDK_BODIES[action]().from_map(body).to_map() == body
    json.dumps(body)  # JSON-ready
    items = body[ITEMS_KEY[action]]
    if "response" in expect:
        assert body == expect["response"]
    if "total" in expect:
        assert body["TotalCount"] == expect["total"]
    if "labels" in expect:
        assert [item.get(suite["label"]) for item in items] == expect["labels"]
    for key, value in expect.get("echo", {}).items():
        assert body[key] == value, key
    if "column" in expect:
        key = expect["column"]["key"]
        assert [item.get(key) for item in items] == expect["column"]["values"]
        assert all(item[key] is not None for item in items if key in item)
    for key in expect.get("absent", []):
        assert key not in body
    for key in expect.get("fresh", []):
        assert _FRESH_ID.match(body[key]), body[key]


def check_error(exc: ApiError, want: dict[str, Any], action: str, request_id: str) -> None:
    assert (exc.code, exc.http_status) == (want["code"], want["status"]), exc.message
    if "message" in want:
        assert exc.message == want["message"]
    if "message_startswith" in want:
        assert exc.message.startswith(want["message_startswith"]), exc.message
    product = OPERATIONS[action].product if action in OPERATIONS else "Sddp"
    assert exc.body == {
        "RequestId": request_id,
        "HostId": "spec.host",
        "Code": want["code"],
        "Message": exc.message,
        "Recommend": (
            f"https://api.aliyun.com/troubleshoot?q={want['code']}"
            f"&product={product}&requestId={request_id}"
        ),
    }


__all__ = ["NAMES", "case_id", "engine_for", "load_cases", "run"]
