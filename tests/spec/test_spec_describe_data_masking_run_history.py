"""Conformance cases of the operation in ``describe_data_masking_run_history.json``."""

from __future__ import annotations

from typing import Any

import pytest
from spec_runner import NAMES, case_id, load_cases, run

CASES = load_cases("describe_data_masking_run_history.json")


@pytest.mark.parametrize("backend", NAMES)
@pytest.mark.parametrize("pair", CASES, ids=[case_id(p) for p in CASES])
def test_describe_data_masking_run_history(pair: tuple[dict[str, Any], dict[str, Any]], backend: str) -> None:
    run(*pair, backend)
