"""Conformance cases of DescribeAuditLogs (``describe_audit_logs.json``)."""

from __future__ import annotations

from typing import Any

import pytest
from spec_runner import NAMES, case_id, load_cases, run

CASES = load_cases("describe_audit_logs.json")


@pytest.mark.parametrize("backend", NAMES)
@pytest.mark.parametrize("pair", CASES, ids=[case_id(p) for p in CASES])
def test_describe_audit_logs(pair: tuple[dict[str, Any], dict[str, Any]], backend: str) -> None:
    run(*pair, backend)
