"""Integers of any length, as any integer parameter, filter literal or range bound: a valid answer
or InvalidParameter, never a 500 (Python refuses to convert strings of 4,300+ digits)."""

from __future__ import annotations

import functools
from collections.abc import Collection

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


LONG = range(-(2**63), 2**63)
PAGE = range(1, 2**31)
#: Which values each integer parameter takes, written out again from the pages and the rules
#: (docs/semantics.md §2.5, §5.3, §6.1): documented values, page bounds, a Java Long otherwise.
ACCEPTED: dict[tuple[str, str], Collection[int]] = {
    ("DescribeAuditLogs", "StartTime"): LONG,
    ("DescribeAuditLogs", "EndTime"): LONG,
    ("DescribeAuditLogs", "ProductId"): (*range(1, 12), 25),
    ("DescribeAuditLogs", "PageSize"): range(1, 51),
    ("DescribeAuditLogs", "CurrentPage"): PAGE,
    ("DescribeDataMaskingRunHistory", "StartTime"): LONG,
    ("DescribeDataMaskingRunHistory", "EndTime"): LONG,
    ("DescribeDataMaskingRunHistory", "Status"): range(-1, 5),
    ("DescribeDataMaskingRunHistory", "SrcType"): range(1, 6),
    ("DescribeDataMaskingRunHistory", "DstType"): range(1, 6),
    ("DescribeDataMaskingRunHistory", "PageSize"): range(1, 101),
    ("DescribeDataMaskingRunHistory", "CurrentPage"): PAGE,
    ("DescribeDataMaskingRunHistory", "MainProcessId"): LONG,
    ("ListSensitiveDataAuditLog", "PageSize"): range(1, 101),
    ("ListSensitiveDataAuditLog", "PageNumber"): PAGE,
    ("ListSensitiveDataAuditLog", "Tid"): LONG,
}
EDGES = (0, 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63)


def test_every_integer_parameter_has_its_accepted_values_written_out() -> None:
    assert sorted(ACCEPTED) == sorted(CASES)


@pytest.mark.parametrize(("action", "name"), CASES)
@given(
    number=st.one_of(st.integers(-3, 130), st.sampled_from(EDGES), st.sampled_from(EDGES).map(lambda n: -n - 1)),
    spelling=st.sampled_from(("{}", "+{}", "0{}", "{!r}")),
    lang=st.sampled_from(("en_us", "zh_cn")),
)
def test_an_integer_parameter_is_answered_exactly_when_its_value_is_accepted(
    action: str, name: str, number: int, spelling: str, lang: str
) -> None:
    """Bounds are exact, never clamped: a value is answered, echoed as it was used where the
    response echoes it, exactly when the pages accept it, and refused otherwise with
    InvalidParameter naming the parameter, in the request's language (DMS: English)."""
    text = spelling.format(number) if number >= 0 or spelling in ("{}", "{!r}") else f"-0{-number}"
    value: object = number if spelling == "{!r}" else text
    params = {**REQUIRED.get(action, {"Lang": lang}), name: value}
    if name in ("StartTime", "EndTime") and action != "ListSensitiveDataAuditLog":
        params.pop("EndTime" if name == "StartTime" else "StartTime", None)
    try:
        body = _engine().call(action, params)
    except ApiError as error:
        assert number not in ACCEPTED[action, name], error.message
        english = action == "ListSensitiveDataAuditLog" or lang == "en_us"
        start = f'The specified parameter "{name}" is not valid. ' if english else f'指定的参数 "{name}" 无效。'
        assert (error.http_status, error.code) == (400, "InvalidParameter")
        assert error.message.startswith(start), error.message
    else:
        assert number in ACCEPTED[action, name], body
        if name in body:
            assert body[name] == number
