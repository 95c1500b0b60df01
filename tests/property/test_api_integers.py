"""Integers of any length, as any integer parameter, filter literal or range bound: a valid answer
or InvalidParameter, never a 500 (Python refuses to convert strings of 4,300+ digits)."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc_engine import ApiError, Engine
from dsc_engine.errors import FilterFieldError

#: Every integer parameter of each operation, and what else a valid request needs.
INTEGER_PARAMETERS = {
    "DescribeAuditLogs": ("StartTime", "EndTime", "ProductId", "PageSize", "CurrentPage"),
    "DescribeDataMaskingRunHistory": (
        "StartTime", "EndTime", "Status", "SrcType", "DstType", "PageSize", "CurrentPage", "MainProcessId",
    ),
    "ListSensitiveDataAuditLog": ("PageSize", "PageNumber", "Tid"),
}
REQUIRED = {
    "ListSensitiveDataAuditLog": {
        "StartTime": "2026-01-01 00:00:00", "EndTime": "2026-12-31 00:00:00", "PageSize": "5", "PageNumber": "1",
    },
}
CASES = [(action, name) for action, names in INTEGER_PARAMETERS.items() for name in names]


@functools.cache
def _engine() -> Engine:
    return Engine.from_sample()


def decimal_texts() -> st.SearchStrategy[str]:
    """Decimal strings of any length: signs, leading zeros, thousands of digits."""
    digits = st.one_of(
        st.text("0123456789", min_size=1, max_size=30),
        st.integers(1, 20_000).map(lambda n: "9" * n),
        st.integers(1, 20_000).map(lambda n: "0" * n + "7"),
    )
    return st.tuples(st.sampled_from(("", "-", "+")), digits).map("".join)


@pytest.mark.parametrize(("action", "name"), CASES)
@given(text=decimal_texts())
def test_any_decimal_string_as_an_integer_parameter_is_answered_or_invalid(action: str, name: str, text: str) -> None:
    params = {**REQUIRED.get(action, {}), name: text}
    try:
        _engine().call(action, params)
    except ApiError as error:
        assert (error.http_status, error.code) == (400, "InvalidParameter"), error.message
        assert name in error.message


@given(text=decimal_texts(), where=st.sampled_from(("low", "high", "json")))
def test_huge_numbers_in_ranges_and_log_query_op_json_are_invalid_parameters(text: str, where: str) -> None:
    if where == "json":
        params = {"LogQueryOpJson": f'[{{"queryKey": {text.lstrip("+")}, "isContain": true}}]'}
    else:
        params = {"EffectRowRange": f"in[{text} 5]" if where == "low" else f"in[-5 {text}]"}
    try:
        _engine().call("DescribeAuditLogs", params)
    except ApiError as error:
        assert (error.http_status, error.code) == (400, "InvalidParameter"), error.message


@given(text=decimal_texts())
def test_huge_integer_literals_in_filter_text_are_field_errors(text: str) -> None:
    try:
        _engine().query("audit", f"EffectRow = {text.lstrip('+')}")
    except FilterFieldError as error:
        assert "64-bit range" in str(error)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"PageSize": "9" * 5000}, "PageSize"),
        ({"PageSize": "0" * 5000 + "5"}, None),
        ({"LogQueryOpJson": "[" + "9" * 5000 + "]"}, "LogQueryOpJson"),
        ({"ExecuteTimeRange": "in[" + "0" * 5000 + "1 2]"}, None),
        ({"StartTime": 10**5000}, "StartTime"),
    ],
)
def test_integers_over_4300_digits_never_answer_500(params: dict[str, object], fragment: str | None) -> None:
    try:
        body = _engine().call("DescribeAuditLogs", {**params, "Lang": "en_us"})
    except ApiError as error:
        assert fragment is not None, error.message
        assert (error.code, fragment in error.message) == ("InvalidParameter", True)
    else:
        assert fragment is None and body["TotalCount"] >= 0
