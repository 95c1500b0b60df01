"""Reading a request from an operation's description: page order, roles, the window, entries."""

from __future__ import annotations

import pytest

from dsc_engine.api.operations import OPERATIONS
from dsc_engine.api.request import read_request
from dsc_engine.errors import InvalidParameterError, MissingParameterError
from dsc_engine.query import ast

AUDIT = OPERATIONS["DescribeAuditLogs"]
MASKING = OPERATIONS["DescribeDataMaskingRunHistory"]
DMS = OPERATIONS["ListSensitiveDataAuditLog"]
WINDOW = {"StartTime": "2023-01-01 00:00:00", "EndTime": "2023-01-02 00:00:00"}


def test_paging_defaults_bounds_and_required_page_parameters() -> None:
    request = read_request(AUDIT, {})
    assert (request.page, request.size, request.offset) == (1, 10, 0)
    request = read_request(MASKING, {"CurrentPage": "3", "PageSize": "7"})
    assert (request.page, request.size, request.offset) == (3, 7, 14)
    with pytest.raises(MissingParameterError) as info:  # the page lists PageSize first
        read_request(DMS, WINDOW)
    assert info.value.name == "PageSize"
    with pytest.raises(InvalidParameterError) as invalid:
        read_request(AUDIT, {"PageSize": "51"})
    assert invalid.value.reason.zh == "它必须是 1 到 50 之间的整数，实际为 51"


def test_the_window_is_one_range_on_the_primary_time_and_is_checked_last() -> None:
    request = read_request(AUDIT, {"EndTime": "9", "UserName": "a"})
    assert request.filter() == ast.And((ast.Range("CreationTime", None, 9), ast.Compare("UserName", ast.CompareOp.EQ, "a")))
    with pytest.raises(InvalidParameterError) as info:  # both faults: the window's comes last
        read_request(AUDIT, {"StartTime": "9", "EndTime": "1", "PageSize": "0"})
    assert info.value.name == "PageSize"


def test_the_pages_example_window_is_refused_as_start_after_end() -> None:
    """The page's example StartTime (1616068534877) is later than its example EndTime
    (1583856000000): a request copied from both is refused (docs/decisions.md)."""
    with pytest.raises(InvalidParameterError) as info:
        read_request(AUDIT, {"StartTime": "1616068534877", "EndTime": "1583856000000"})
    assert info.value.name == "StartTime" and "EndTime" in info.value.reason.en


def test_entry_filters_hold_in_one_entry_and_aliases_agree() -> None:
    request = read_request(DMS, {**WINDOW, "TableName": "t", "ColumnName": "c", "PageSize": "5", "PageNumber": "1"})
    entry = ast.And((ast.Compare("TableName", ast.CompareOp.EQ, "t"), ast.Compare("ColumnName", ast.CompareOp.EQ, "c")))
    assert ast.AnyEntry("SensitiveDataLog", entry) in request.filter().items  # type: ignore[attr-defined]
    assert read_request(AUDIT, {"RuleID": "7"}).filter() == ast.Compare("RuleId", ast.CompareOp.EQ, "7")
    with pytest.raises(InvalidParameterError, match="RuleId '7' and RuleID '8' disagree"):
        read_request(AUDIT, {"RuleId": "7", "RuleID": "8"})


def test_switches_echoes_and_negations() -> None:
    request = read_request(AUDIT, {
        "RuleAggQuery": "true", "LoadWhiteList": "False", "AsyncRequestId": "job-1", "UserName": "a",
        "LogQueryOpJson": '[{"queryKey": "userName", "isContain": false}]',
    })
    assert request.group_by == "RuleId" and not request.switched("LoadWhiteList")
    assert request.echoes == {"AsyncRequestId": "job-1"}
    assert request.filter() == ast.Not(ast.Compare("UserName", ast.CompareOp.EQ, "a"))


def test_documented_values_are_the_only_ones_a_request_takes() -> None:
    assert read_request(MASKING, {"Status": "-1"}).filter() == ast.Compare("Status", ast.CompareOp.EQ, -1)
    with pytest.raises(InvalidParameterError, match="5 is not one of -1, 0, 1, 2, 3, 4") as refused:
        read_request(MASKING, {"Status": "5"})
    # in Chinese a list of values is joined with 、 as Lang's and the filter grammar's are (it was ", ")
    assert refused.value.reason.zh == "5 不是 -1、0、1、2、3、4 之一"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"IpType": "internet"}, "'internet' is not one of default, aliyun"),
        ({"IpType": "Aliyun"}, "'Aliyun' is not one of default, aliyun"),
        ({"ProductId": "12"}, "12 is not one of 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 25"),
        ({"ProductId": "0"}, "0 is not one of 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 25"),
    ],
)
def test_audit_ip_type_and_product_id_take_only_the_values_their_page_lists(
    params: dict[str, str], reason: str
) -> None:
    """The DescribeAuditLogs page lists the valid values of IpType (an enumeration: default,
    aliyun) and ProductId (1 to 11 and 25), as the masking page lists Status's."""
    with pytest.raises(InvalidParameterError, match=reason):
        read_request(AUDIT, params)
    name, value = next(iter(params.items()))
    valid = {"IpType": "aliyun", "ProductId": "25"}[name]
    expected = int(valid) if name == "ProductId" else valid
    assert read_request(AUDIT, {name: valid}).filter() == ast.Compare(name, ast.CompareOp.EQ, expected)
