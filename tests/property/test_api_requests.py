"""Generated requests against a naive oracle written here in plain Python over the loaded records.

The oracle reads the (valid) generated parameters itself, filters with plain comparisons, sorts
by the contract's order and slices; the engine must agree on TotalCount, page contents and order.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from alibabacloud_dms_enterprise20181101 import models as dms_models
from alibabacloud_sddp20190103 import models as sddp_models
from hypothesis import HealthCheck, Phase, given, settings
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
    # the contract's form: "in", optional whitespace, a bracket, an integer, whitespace, an
    # integer, a bracket (ASCII digits; leading zeros and a minus sign allowed)
    match = re.fullmatch(r"in\s*([\[(])(-?[0-9]+)\s+(-?[0-9]+)([\])])", text)
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


def present(params: dict[str, object]) -> dict[str, object]:
    """The parameters that count: an empty string counts as absent."""
    return {name: value for name, value in params.items() if value != ""}


def oracle(action: str, records: Sequence[Any], params: dict[str, object]) -> tuple[int, list[Any]]:
    """(TotalCount, the page's records) by scanning, sorting and slicing."""
    params = present(params)
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
    params = present(params)
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
    envelope = expected_envelope(action, params, body)
    assert body == envelope and list(body) == list(envelope)
    assert SDK_BODY[action]().from_map(body).to_map() == body


UUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}")


def expected_envelope(action: str, params: dict[str, object], body: dict[str, Any]) -> dict[str, Any]:
    """The response's keys in the page's order, with the echoes the contract asks for: the page
    number and size actually used (defaults included) on the Sddp operations, AsyncRequestId as
    given or a fresh id; the DMS response echoes no paging and carries Success true and no
    ErrorCode/ErrorMessage. (TotalCount and the items are checked against the oracle.)"""
    params = present(params)
    items = body[ITEMS[action]]
    if action == DMS:
        return {"RequestId": "P-1", "TotalCount": body["TotalCount"], "Success": True,
                "SensitiveDataAuditLogList": items}
    page, size = _int(params.get("CurrentPage", 1)), _int(params.get("PageSize", 10))
    if action == MASKING:
        return {"CurrentPage": page, "RequestId": "P-1", "PageSize": size, "TotalCount": body["TotalCount"],
                "Items": items}
    async_id = params.get("AsyncRequestId")
    if async_id is None:
        assert UUID.fullmatch(body["AsyncRequestId"]), body["AsyncRequestId"]
        async_id = body["AsyncRequestId"]
    return {"AsyncRequestId": async_id, "CurrentPage": page, "PageSize": size, "RequestId": "P-1",
            "TotalCount": body["TotalCount"], "Items": items}


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


#: Each operation's request parameters in the order of its page, written out again from the
#: pages (not read from the operation descriptions): with several faults, the first in this
#: order is reported (docs/semantics.md §6.3). DescribeAuditLogs lists RuleID, taken as RuleId.
PAGE_ORDER: dict[str, tuple[str, ...]] = {
    AUDIT: ("Lang", "UserName", "ClientIp", "ClientUa", "InstanceName", "DatabaseName", "StartTime",
            "EndTime", "ProductCode", "ProductId", "SqlText", "ExecuteTimeRange", "EffectRowRange", "RuleId",
            "RuleName", "OperateType", "OssObjectKey", "AsyncRequestId", "PageSize", "CurrentPage",
            "RuleCategory", "LoadWhiteList", "MemberAccount", "IpType", "LogQueryOpJson", "Message",
            "LogSource", "RuleAggQuery"),
    MASKING: ("Lang", "TaskId", "StartTime", "EndTime", "Status", "SrcType", "DstType", "PageSize",
              "CurrentPage", "MainProcessId", "SrcTableName"),
    DMS: ("StartTime", "EndTime", "ModuleName", "OpUserName", "DbName", "TableName", "ColumnName",
          "PageSize", "PageNumber", "Tid"),
}
PRODUCT = {AUDIT: "Sddp", MASKING: "Sddp", DMS: "dms-enterprise"}


@pytest.mark.parametrize("action", ACTIONS)
def test_the_descriptions_list_the_pages_parameters_in_the_pages_order(action: str) -> None:
    described = [p.name for p in OPERATIONS[action].parameters if p.role is not Role.NO_EFFECT]
    assert described == list(PAGE_ORDER[action])
    assert ("RuleID" in OPERATIONS[action].names) is (action == AUDIT)


def _faulty(action: str, changes: dict[str, object | None]) -> tuple[int, str]:
    """Where a fault sits in the order of reporting, and the parameter the error names: an
    unknown name first, then the page's order, the window's two bounds together last."""
    order = PAGE_ORDER[action]
    names = ["RuleId" if name == "RuleID" else name for name in changes]
    if len(set(names)) == 2 and set(names) <= {"StartTime", "EndTime"}:
        return len(order), "StartTime"  # StartTime later than EndTime: a cross-parameter check
    name = names[0]
    return (order.index(name) if name in order else -1), name


def _expected_message(action: str, code: str, name: str, lang: str) -> tuple[str, str]:
    """The message's fixed start and its last character, in the request's language."""
    if code.startswith("Missing"):
        return (f"{name} is mandatory for this action.", ".") if lang == "en" else (f"{name} 是该操作的必填参数。", "。")
    if lang == "en":
        return f'The specified parameter "{name}" is not valid. ', "."
    return f'指定的参数 "{name}" 无效。', "。"


@pytest.mark.parametrize("action", ACTIONS)
@given(data=st.data())
def test_with_one_or_two_faults_the_first_in_page_order_is_answered_exactly(
    action: str, data: st.DataObject
) -> None:
    """The whole error body (code, status, message in the request's language, RequestId, HostId,
    Recommend) of a valid request with one or two faults: the fault reported is the one first in
    the page's order (unknown names before it, StartTime > EndTime after it)."""
    operation = OPERATIONS[action]
    params = data.draw(requests(action))
    candidates = pools.faults(operation)
    chosen = data.draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=2, unique_by=lambda f: repr(f)))
    keys = [{"RuleId" if n == "RuleID" else n for n in changes} for changes, _ in chosen]
    ranked = [(_faulty(action, changes), code) for changes, code in chosen]
    if len(chosen) == 2 and (keys[0] & keys[1] or ranked[0][0][0] == ranked[1][0][0]):
        return  # two faults of one parameter, or two unknown names: no order to test
    for changes, _ in chosen:
        for name in changes:
            for spelling in {name, "RuleId", "RuleID"} if name in ("RuleId", "RuleID") else {name}:
                params.pop(spelling, None)
    for changes, _ in chosen:
        params.update((name, value) for name, value in changes.items() if value is not None)
    (_, name), code = min(ranked)
    lang_given = params.get("Lang")
    spelled = lang_given.lower() if isinstance(lang_given, str) else None
    if action == DMS:
        lang = "en"
    else:
        lang = "en" if spelled in ("en", "en_us") else "zh"
    expected_code = f"Missing{name}" if code.startswith("Missing") else code
    with pytest.raises(ApiError) as info:
        Engine().call(action, params, request_id="P-3", host="h.example")
    body = info.value.body
    start, stop = _expected_message(action, expected_code, name, lang)
    assert (info.value.code, info.value.http_status) == (expected_code, 400), body
    assert body["Message"].startswith(start) and body["Message"].endswith(stop), body
    if lang == "zh" and not expected_code.startswith("Missing"):
        assert re.search(r"[\u4e00-\u9fff]", body["Message"][len(start):]), body  # the reason in Chinese too
    assert body == {
        "RequestId": "P-3", "HostId": "h.example", "Code": expected_code, "Message": body["Message"],
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={expected_code}&product={PRODUCT[action]}&requestId=P-3",
    }



@functools.cache
def _draws(action: str) -> tuple[dict[str, object], ...]:
    """200 requests drawn by ``requests(action)``, once a session (derandomized: the same 200
    every run, so that a form drawn rarely cannot make the tests below flaky)."""
    drawn: list[dict[str, object]] = []

    @settings(max_examples=200, database=None, phases=[Phase.generate], deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(requests(action))
    def collect(params: dict[str, object]) -> None:
        drawn.append(params)

    collect()
    return tuple(drawn)


def _drawn(action: str, condition: Callable[[dict[str, object]], bool]) -> bool:
    """Whether ``requests(action)`` draws a request meeting ``condition`` (in 200 draws)."""
    return any(condition(params) for params in _draws(action))


@pytest.mark.parametrize("action", ACTIONS)
def test_requests_draw_every_parameter_given_and_empty(action: str) -> None:
    """Every parameter of the operation (aliases and RegionId included) is drawn with a value,
    and every optional one as an empty string (which counts as absent), so that the oracle tests
    can find a disagreement on any of them."""
    operation = OPERATIONS[action]
    missing = [name for name in sorted(operation.names) if not _drawn(action, lambda p, n=name: p.get(n, "") != "")]
    empty = [p.name for p in operation.parameters if not p.required and not p.aliases
             and not _drawn(action, lambda r, n=p.name: r.get(n) == "")]
    assert (missing, empty) == ([], [])


SPELLINGS: dict[str, Callable[[dict[str, object]], bool]] = {
    "Lang in upper case": lambda p: str(p.get("Lang", "")).upper() == p.get("Lang", "") != "",
    "a boolean in lower case": lambda p: any(v in ("true", "false") for v in p.values()),
    "a boolean in upper case": lambda p: any(v in ("TRUE", "FALSE") for v in p.values()),
    "an integer with a plus sign": lambda p: any(isinstance(v, str) and re.fullmatch(r"\+[0-9]+", v) for v in p.values()),
    "an integer with a leading zero": lambda p: any(isinstance(v, str) and re.fullmatch(r"0[0-9]+", v) for v in p.values()),
    "a range with a tab between the bounds": lambda p: "\t" in str(p.get("ExecuteTimeRange", "")),
    "a range with a negative bound": lambda p: "-" in str(p.get("EffectRowRange", "")),
    "a range with a leading zero": lambda p: bool(re.search(r"[\[( ]0[0-9]", str(p.get("EffectRowRange", "")))),
    "RuleId under both names": lambda p: p.get("RuleId", "") == p.get("RuleID") is not None,
    "a LogQueryOpJson key twice": lambda p: bool(re.search(r'("queryKey": "\w+").*\1', str(p.get("LogQueryOpJson")))),
    "remoteClientIp": lambda p: "remoteClientIp" in str(p.get("LogQueryOpJson")),
    "a page past the first": lambda p: str(p.get("CurrentPage", "1")).lstrip("+0") not in ("", "1"),
}


@pytest.mark.parametrize("form", sorted(SPELLINGS))
def test_audit_requests_draw_every_accepted_spelling(form: str) -> None:
    assert _drawn(AUDIT, SPELLINGS[form])


DMS_REQUIRED = {"StartTime": "2023-05-17 10:00:00", "EndTime": "2023-05-17 12:00:00", "PageSize": "5", "PageNumber": "1"}
#: Which texts each enumerated or boolean parameter takes, written out again from the pages and
#: the rules: Lang and booleans in any letter case (§6.4, §6.1), documented values exactly (§2.5).
TEXT_VALUES: dict[tuple[str, str], Callable[[str], bool]] = {
    (AUDIT, "Lang"): lambda v: v.lower() in ("zh_cn", "en_us", "zh", "en"),
    (MASKING, "Lang"): lambda v: v.lower() in ("zh_cn", "en_us", "zh", "en"),
    (AUDIT, "IpType"): lambda v: v in ("default", "aliyun"),
    (DMS, "ModuleName"): lambda v: v in ("SQL_CONSOLE", "SQL_CONSOLE_EXPORT", "DATA_CHANGE", "DATA_EXPORT"),
    (AUDIT, "LoadWhiteList"): lambda v: v.lower() in ("true", "false"),
    (AUDIT, "RuleAggQuery"): lambda v: v.lower() in ("true", "false"),
}
BASES = ("zh_cn", "en_us", "zh", "en", "default", "aliyun", "SQL_CONSOLE", "SQL_CONSOLE_EXPORT", "DATA_CHANGE",
         "DATA_EXPORT", "true", "false", "yes", "1")


@pytest.mark.parametrize(("action", "name"), sorted(TEXT_VALUES))
@given(
    base=st.sampled_from(BASES),
    change=st.sampled_from(("same", "upper", "title", "swapcase", "space", "dash")),
)
def test_an_enumerated_or_boolean_parameter_is_answered_exactly_when_its_text_is_accepted(
    action: str, name: str, base: str, change: str
) -> None:
    text = {"same": base, "upper": base.upper(), "title": base.title(), "swapcase": base.swapcase(),
            "space": f" {base}", "dash": base.replace("_", "-")}[change]
    params = {**(DMS_REQUIRED if action == DMS else {}), name: text}
    try:
        Engine().call(action, params)
    except ApiError as error:
        assert not TEXT_VALUES[action, name](text), error.message
        assert (error.http_status, error.code) == (400, "InvalidParameter")
        assert f'"{name}"' in error.message
    else:
        assert TEXT_VALUES[action, name](text)


def test_faults_take_an_action_name_as_the_other_strategies_do() -> None:
    """``faults("DescribeAuditLogs")`` failed with ``'str' object has no attribute 'one'``: every
    other public strategy takes the action's name."""
    for action, operation in OPERATIONS.items():
        assert pools.faults(action) == pools.faults(operation)
    with pytest.raises(ValueError, match="unknown action 'Nope'; expected one of DescribeAuditLogs"):
        pools.faults("Nope")
