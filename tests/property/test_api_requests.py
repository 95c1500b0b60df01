"""Generated requests against a naive oracle written here in plain Python over the loaded records.

The oracle reads the (valid) generated parameters itself, filters with plain comparisons, sorts
by the contract's order and slices; the engine must agree on TotalCount, page contents and order.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from alibabacloud_dms_enterprise20181101 import models as dms_models
from alibabacloud_sddp20190103 import models as sddp_models
from hypothesis import given
from hypothesis import strategies as st

from dsc_engine import ApiError, Engine
from dsc_engine import strategies as pools
from dsc_engine.api.operations import OPERATIONS
from dsc_engine.api.spec import Role
from dsc_engine.models import RecordKind
from dsc_engine.wire.codec import response_item, wire_keys
from dsc_engine.strategies import (
    ACTIONS,
    AUDIT,
    DMS,
    LOG_QUERY_KEYS,
    MASKING,
    invalid_requests,
    record_lists,
    requests,
)

KIND = {AUDIT: RecordKind.AUDIT_LOG, MASKING: RecordKind.MASKING_RUN, DMS: RecordKind.DMS_LOG}
ITEMS = {AUDIT: "Items", MASKING: "Items", DMS: "SensitiveDataAuditLogList"}
SDK_BODY = {
    AUDIT: sddp_models.DescribeAuditLogsResponseBody,
    MASKING: sddp_models.DescribeDataMaskingRunHistoryResponseBody,
    DMS: dms_models.ListSensitiveDataAuditLogResponseBody,
}
Test = Callable[[Any], bool]
#: Values that often match generated records, per negatable DescribeAuditLogs parameter.
FILTER_VALUES: dict[str, tuple[str, ...]] = {
    "UserName": pools.USER_NAMES,
    "ClientIp": pools.CLIENT_IPS,
    "ClientUa": pools.CLIENT_UAS,
    "InstanceName": pools.INSTANCE_NAMES,
    "DatabaseName": pools.DATABASE_NAMES,
    "ProductCode": pools.PRODUCT_CODES,
    "ProductId": ("1", "2", "5"),
    "SqlText": ("select", "FROM users", "drop"),
    "ExecuteTimeRange": ("in[0 2500]", "in(100 5000)"),
    "EffectRowRange": ("in(3 40]", "in[0 0]"),
    "RuleId": pools.RULE_IDS,
    "RuleName": pools.RULE_NAMES,
    "OperateType": pools.OPERATE_TYPES,
    "OssObjectKey": pools.OSS_KEYS,
    "RuleCategory": pools.RULE_CATEGORIES,
    "MemberAccount": pools.MEMBER_ACCOUNTS,
    "IpType": ("default", "aliyun"),  # a request takes the documented values only
    "Message": ("success", "denied"),
    "LogSource": pools.LOG_SOURCES,
}


def _int(value: object) -> int:
    return int(value)  # type: ignore[call-overload,no-any-return]


def _bool(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _time(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _in_range(text: str) -> Test:
    match = re.fullmatch(r"in\s*([\[(])(-?\d+) (-?\d+)([\])])", text)
    assert match, text
    opening, low, high, closing = match.groups()
    lo, hi = int(low), int(high)
    return lambda v: v is not None and (lo <= v if opening == "[" else lo < v) and (
        v <= hi if closing == "]" else v < hi
    )


def _audit_tests(params: dict[str, object]) -> dict[str, Callable[[Any], bool]]:
    """Parameter name -> test on a record, for every filter parameter present."""
    tests: dict[str, Callable[[Any], bool]] = {}
    for name, value in params.items():
        attr = _snake(name)
        if name in ("UserName", "ClientIp", "ClientUa", "InstanceName", "DatabaseName",
                    "ProductCode", "RuleName", "OssObjectKey", "RuleCategory", "MemberAccount",
                    "IpType", "LogSource"):
            tests[name] = lambda r, a=attr, v=value: getattr(r, a) == v
        elif name in ("RuleId", "RuleID"):
            tests["RuleId"] = lambda r, v=value: r.rule_id == v
        elif name == "ProductId":
            tests[name] = lambda r, v=_int(value): r.product_id == v
        elif name in ("SqlText", "Message"):
            tests[name] = lambda r, a=attr, v=str(value).casefold(): (
                getattr(r, a) is not None and v in getattr(r, a).casefold()
            )
        elif name == "OperateType":
            tests[name] = lambda r, v=str(value).casefold(): (
                r.operate_type is not None and r.operate_type.casefold() == v
            )
        elif name == "ExecuteTimeRange":
            test = _in_range(str(value))
            tests[name] = lambda r, t=test: t(r.execute_time)
        elif name == "EffectRowRange":
            test = _in_range(str(value))
            tests[name] = lambda r, t=test: t(r.effect_row)
    return tests


def oracle(action: str, records: Sequence[Any], params: dict[str, object]) -> tuple[int, list[Any]]:
    """(TotalCount, the page's records) by scanning, sorting and slicing."""
    conditions: list[Test] = []
    if action == AUDIT:
        tests = _audit_tests(params)
        ops = params.get("LogQueryOpJson", "[]")
        ops = json.loads(ops) if isinstance(ops, str) else ops
        negated = {LOG_QUERY_KEYS[o["queryKey"]] for o in ops if not o["isContain"]}
        for name, test in tests.items():
            conditions.append((lambda r, t=test: not t(r)) if name in negated else test)
        time: Callable[[Any], Any] = lambda r: r.creation_time
        low, high = params.get("StartTime"), params.get("EndTime")
        bounds = (None if low is None else _int(low), None if high is None else _int(high))
        size, page = _int(params.get("PageSize", 10)), _int(params.get("CurrentPage", 1))
    elif action == MASKING:
        for name in ("TaskId", "SrcTableName"):
            if name in params:
                conditions.append(lambda r, a=_snake(name), v=params[name]: getattr(r, a) == v)
        for name in ("Status", "SrcType", "DstType", "MainProcessId"):
            if name in params:
                conditions.append(lambda r, a=_snake(name), v=_int(params[name]): getattr(r, a) == v)
        time = lambda r: r.start_time
        low, high = params.get("StartTime"), params.get("EndTime")
        bounds = (None if low is None else _int(low), None if high is None else _int(high))
        size, page = _int(params.get("PageSize", 10)), _int(params.get("CurrentPage", 1))
    else:
        if "ModuleName" in params:
            conditions.append(lambda r: r.module_name == params["ModuleName"])
        if "OpUserName" in params:
            conditions.append(lambda r: r.user_name == params["OpUserName"])
        if "DbName" in params:
            conditions.append(lambda r: r.db_display_name is not None
                              and r.db_display_name.split("@")[0] == params["DbName"])
        if "Tid" in params:
            conditions.append(lambda r: r.tid == _int(params["Tid"]))
        table, column = params.get("TableName"), params.get("ColumnName")
        if table is not None or column is not None:
            conditions.append(lambda r: any(
                (table is None or e.table_name == table) and (column is None or e.column_name == column)
                for e in r.sensitive_data_log))
        time = lambda r: r.op_time
        bounds = (_time(params["StartTime"]), _time(params["EndTime"]))
        size, page = _int(params["PageSize"]), _int(params["PageNumber"])
    hits = [
        (seq, r) for seq, r in enumerate(records)
        if (bounds[0] is None or time(r) >= bounds[0]) and (bounds[1] is None or time(r) <= bounds[1])
        and all(c(r) for c in conditions)
    ]
    hits.sort(key=lambda h: (time(h[1]), getattr(h[1], "id", 0), h[0]), reverse=True)
    ordered = [r for _, r in hits]
    if action == AUDIT and _bool(params.get("RuleAggQuery", False)):
        seen: set[Any] = set()
        ordered = [r for r in ordered if not (r.rule_id in seen or seen.add(r.rule_id))]
    return len(ordered), ordered[(page - 1) * size: page * size]


@pytest.mark.parametrize(("params", "total"), [
    ({"SqlText": "STRASSE"}, 1), ({"Message": "GRÖSSE"}, 1), ({"OperateType": "SS"}, 1), ({"SqlText": "strase"}, 0),
])
def test_the_oracle_folds_case_as_the_rules_do(params: dict[str, object], total: int) -> None:
    """"Case-insensitive" is Unicode case folding (docs/semantics.md §2.2), not lower-casing:
    "STRASSE" occurs in "straße". The oracle must say so too, or a generated request with such a
    value would fail on the oracle's reading, not the engine's."""
    from dsc_engine.models import AuditLog

    records = [AuditLog(creation_time=1, sql_text="SELECT * FROM kunden_straße", message="Größe überschritten",
                        operate_type="ß")]
    assert oracle(AUDIT, records, params)[0] == total
    assert loaded(AUDIT, records).call(AUDIT, params)["TotalCount"] == total


#: WarnLevelName by language and documented level, written out again here.
WARN_LEVEL_NAMES = {"zh": {"1": "低危", "2": "中危", "3": "高危"}, "en": {"1": "Low", "2": "Medium", "3": "Important"}}


def expected_items(action: str, records: list[Any], params: dict[str, object]) -> list[dict[str, Any]]:
    if action != AUDIT:
        return [response_item(r) for r in records]
    lang = "en" if str(params.get("Lang", "zh")).lower().startswith("en") else "zh"
    items = []
    for record in records:
        item = response_item(record)
        if record.warn_level is None:
            item.pop("WarnLevelName", None)
        elif record.warn_level in WARN_LEVEL_NAMES[lang]:
            item["WarnLevelName"] = WARN_LEVEL_NAMES[lang][record.warn_level]
        if not _bool(params.get("LoadWhiteList", False)):
            item.pop("InWhiteList", None)
        items.append({key: item[key] for key in wire_keys(RecordKind.AUDIT_LOG) if key in item})
    return items


#: The filter parameters this oracle reads, per operation (its own reading of the pages).
ORACLE_FILTERS = {
    AUDIT: {"UserName", "ClientIp", "ClientUa", "InstanceName", "DatabaseName", "ProductCode", "RuleName",
            "OssObjectKey", "RuleCategory", "MemberAccount", "IpType", "LogSource", "RuleId", "ProductId",
            "SqlText", "Message", "OperateType", "ExecuteTimeRange", "EffectRowRange", "StartTime", "EndTime"},
    MASKING: {"TaskId", "SrcTableName", "Status", "SrcType", "DstType", "MainProcessId", "StartTime", "EndTime"},
    DMS: {"ModuleName", "OpUserName", "DbName", "Tid", "TableName", "ColumnName", "StartTime", "EndTime"},
}


@pytest.mark.parametrize("action", ACTIONS)
def test_the_oracle_models_every_described_filter(action: str) -> None:
    """A filter parameter added to an operation's description must be read here too, so that
    the generated requests that use it are checked (the oracle would otherwise ignore it)."""
    described = {p.name for p in OPERATIONS[action].parameters if p.role is Role.FILTER}
    assert ORACLE_FILTERS[action] == described


def loaded(action: str, records: list[Any]) -> Engine:
    engine = Engine()
    engine.load(records)
    return engine


@pytest.mark.parametrize("action", ACTIONS)
@given(data=st.data())
def test_responses_match_the_oracle(action: str, data: st.DataObject) -> None:
    records = data.draw(record_lists(KIND[action], max_size=25))
    params = data.draw(requests(action, wire=data.draw(st.booleans())))
    body = loaded(action, records).call(action, params, request_id="P-1")
    total, page = oracle(action, records, params)
    assert body["TotalCount"] == total
    assert body[ITEMS[action]] == expected_items(action, page, params)
    assert SDK_BODY[action]().from_map(body).to_map() == body


@pytest.mark.parametrize("action", ACTIONS)
@given(data=st.data())
def test_concatenated_pages_are_the_full_result(action: str, data: st.DataObject) -> None:
    records = data.draw(record_lists(KIND[action], max_size=25))
    params = data.draw(requests(action))
    engine = loaded(action, records)
    size_name, page_name = "PageSize", "PageNumber" if action == DMS else "CurrentPage"
    size = data.draw(st.integers(1, 7))
    full = engine.call(action, {**params, size_name: "50", page_name: "1"})
    pages: list[Any] = []
    for number in range(1, full["TotalCount"] // size + 3):
        body = engine.call(action, {**params, size_name: str(size), page_name: str(number)})
        assert body["TotalCount"] == full["TotalCount"]
        pages.extend(body[ITEMS[action]])
    assert pages == full[ITEMS[action]][: len(pages)] and len(pages) == min(full["TotalCount"], 50)


@given(records=record_lists(RecordKind.AUDIT_LOG, max_size=25), data=st.data())
def test_is_contain_false_is_the_complement_within_the_other_filters(
    records: list[Any], data: st.DataObject
) -> None:
    params = data.draw(requests(AUDIT))
    params.pop("LogQueryOpJson", None)
    params.pop("RuleAggQuery", None)
    key = data.draw(st.sampled_from(sorted(k for k in LOG_QUERY_KEYS if k != "remoteClientIp")))
    name = LOG_QUERY_KEYS[key]
    value = data.draw(st.sampled_from(FILTER_VALUES[name]))
    others = {k: v for k, v in params.items() if k not in (name, "RuleID")}
    base = {**others, "PageSize": "50", "CurrentPage": "1", "LoadWhiteList": "true"}
    engine = loaded(AUDIT, records)

    def items(extra: dict[str, object]) -> list[str]:
        body = engine.call(AUDIT, {**base, **extra})
        return [json.dumps(i, sort_keys=True) for i in body["Items"]]

    everything = items({})
    positive = items({name: value})
    negative = items({name: value, "LogQueryOpJson": json.dumps([{"queryKey": key, "isContain": False}])})
    assert sorted(positive + negative) == sorted(everything)
    assert items({name: value, "LogQueryOpJson": [{"queryKey": key, "isContain": True}]}) == positive


@pytest.mark.parametrize("action", ACTIONS)
@given(data=st.data())
def test_invalid_requests_answer_their_labelled_code(action: str, data: st.DataObject) -> None:
    params, code = data.draw(invalid_requests(action))
    with pytest.raises(ApiError) as info:
        Engine().call(action, params, request_id="P-2", host="h")
    assert (info.value.code, info.value.http_status) == (code, 400)
    assert info.value.body["RequestId"] == "P-2"
