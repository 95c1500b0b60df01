"""The workload: every query expressed once, as an API call (action + wire params).

All runners answer exactly these queries. Values are picked from the profile of the generated data
(``datafiles.py``), so each query keeps its character at any size: a *selective* filter hits about
0.1-0.5 % of the records, a *broad* window most of them.

Set membership has no API parameter, so those queries use the pseudo-action ``Filter``
(:data:`FILTER_ACTION`): ``engine.query(kind, filter_text)`` in the filter language for dsc-engine,
``IN (...)`` for sqlite3. Its params are ``Kind``, ``Where`` (a list of clauses, see
``semantics.py``), ``Page`` and ``PageSize``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs

from dsc_engine.models import RecordKind

FILTER_ACTION = "Filter"

SDDP_AUDIT = "DescribeAuditLogs"
SDDP_MASKING = "DescribeDataMaskingRunHistory"
DMS_AUDIT = "ListSensitiveDataAuditLog"

ACTIONS = {
    RecordKind.AUDIT_LOG: SDDP_AUDIT,
    RecordKind.MASKING_RUN: SDDP_MASKING,
    RecordKind.DMS_LOG: DMS_AUDIT,
}

#: Query categories, as RESULTS.md groups them.
SELECTIVE, PAGE1, DEEP, RANGE, SUBSTRING, NEGATION, SET, COUNT, NESTED, AGG, WINDOW = (
    "selective", "page 1", "page 1000", "range", "substring", "negation", "set", "count only",
    "nested entry", "rule aggregation", "time window",
)

DMS_TIME = "%Y-%m-%d %H:%M:%S"
#: A page far past the end of any result: a count-only request.
PAST_THE_END = "100000"


@attrs.frozen
class Query:
    """One workload query: a name unique in the workload, its record kind, category and call."""

    name: str
    kind: RecordKind
    category: str
    action: str
    params: dict[str, Any] = attrs.field(eq=False)
    #: For a page-1000 query, the name of its page-1 twin (same filter).
    page1_twin: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind.value, "category": self.category,
                "action": self.action, "params": self.params, "page1_twin": self.page1_twin}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Query:
        return cls(name=data["name"], kind=RecordKind(data["kind"]), category=data["category"],
                   action=data["action"], params=data["params"], page1_twin=data["page1_twin"])


def _pick(profile: dict[str, Any], key: str, fraction: float, rank: int | None = None) -> Any:
    """The value of ``key`` whose share of records is closest to ``fraction`` (or the ``rank``-th
    most common one, 0 = most common)."""
    values = profile["values"][key]
    if rank is not None:
        return values[min(rank, len(values) - 1)][0]
    target = fraction * profile["count"]
    return min(values, key=lambda vc: (abs(vc[1] - target), str(vc[0])))[0]


class _Clock:
    """Windows over a kind's time span, in the kind's wire type (ms integers or DMS strings)."""

    def __init__(self, profile: dict[str, Any], dms: bool) -> None:
        self.dms = dms
        low, high = profile["time_min"], profile["time_max"]
        if dms:
            low = dt.datetime.strptime(low, DMS_TIME).replace(tzinfo=dt.timezone.utc).timestamp()
            high = dt.datetime.strptime(high, DMS_TIME).replace(tzinfo=dt.timezone.utc).timestamp()
        self.low, self.span = low, high - low

    def at(self, fraction: float) -> str:
        t = self.low + fraction * self.span
        if self.dms:
            return dt.datetime.fromtimestamp(int(t), dt.timezone.utc).strftime(DMS_TIME)
        return str(int(t))

    def window(self, start: float, end: float) -> dict[str, str]:
        return {"StartTime": self.at(start), "EndTime": self.at(end)}


def _negate(*keys: str) -> str:
    return json.dumps([{"queryKey": key, "isContain": False} for key in keys])


def _filter(kind: RecordKind, where: list[list[Any]], page: int = 1, size: int = 10) -> dict[str, Any]:
    return {"Kind": kind.value, "Where": where, "Page": page, "PageSize": size}


def audit_queries(profile: dict[str, Any]) -> list[Query]:
    kind, a = RecordKind.AUDIT_LOG, SDDP_AUDIT
    clock = _Clock(profile, dms=False)
    rare_user = _pick(profile, "UserName", 0.002)
    top_user = _pick(profile, "UserName", 0, rank=0)
    rare_ip = _pick(profile, "ClientIp", 0.001)
    top_ip = _pick(profile, "ClientIp", 0, rank=0)
    rule = _pick(profile, "RuleId", 0, rank=1)
    rules = [_pick(profile, "RuleId", 0, rank=r) for r in (2, 4)]
    instance = _pick(profile, "InstanceName", 0.005)
    broad = clock.window(0.05, 0.95)
    q = [
        Query("a01_user_window", kind, SELECTIVE, a, {"UserName": rare_user, **clock.window(0.25, 0.75)}),
        Query("a02_rule_instance", kind, SELECTIVE, a,
              {"RuleId": rule, "InstanceName": instance, **clock.window(0.5, 1)}),
        Query("a03_client_ip", kind, SELECTIVE, a, {"ClientIp": rare_ip, "Lang": "en_us"}),
        Query("a04_broad_p1", kind, PAGE1, a, {**broad, "PageSize": "50", "CurrentPage": "1"}),
        Query("a05_broad_p1000", kind, DEEP, a, {**broad, "PageSize": "50", "CurrentPage": "1000"},
              page1_twin="a04_broad_p1"),
        Query("a06_all_p1", kind, PAGE1, a, {}),
        Query("a07_execute_range", kind, RANGE, a,
              {"ExecuteTimeRange": "in[1000 2000]", **clock.window(0.5, 1)}),
        Query("a08_effect_range", kind, RANGE, a, {"EffectRowRange": "in (10000 2000000]"}),
        Query("a09_sql_union", kind, SUBSTRING, a, {"SqlText": "UNION Select"}),
        Query("a10_sql_from_orders", kind, SUBSTRING, a,
              {"SqlText": "From Orders", **clock.window(0.9, 1)}),
        Query("a11_not_user", kind, NEGATION, a,
              {"UserName": top_user, "LogQueryOpJson": _negate("userName"), **clock.window(0.25, 0.75)}),
        Query("a12_not_rows_not_ip", kind, NEGATION, a,
              {"EffectRowRange": "in[1 33]", "ClientIp": top_ip,
               "LogQueryOpJson": _negate("effectRowRange", "remoteClientIp")}),
        Query("a13_operate_type_ieq", kind, SELECTIVE, a,
              {"OperateType": "drop", **clock.window(0.75, 1)}),
        Query("a14_in_sets", kind, SET, FILTER_ACTION, _filter(kind, [
            ["OperateType", "in", ["Drop", "Delete"]],
            ["RuleId", "in", rules],
            ["CreationTime", "between", [int(clock.at(0.5)), int(clock.at(1))]],
        ])),
        Query("a15_count_only", kind, COUNT, a,
              {"UserName": top_user, "PageSize": "50", "CurrentPage": PAST_THE_END}),
        Query("a16_rule_agg", kind, AGG, a,
              {"RuleAggQuery": "true", "LoadWhiteList": "true", **clock.window(0.25, 1)}),
        Query("a17_message_timeout", kind, SUBSTRING, a, {"Message": "TIME", "LoadWhiteList": "true"}),
    ]
    return q


def masking_queries(profile: dict[str, Any]) -> list[Query]:
    kind, a = RecordKind.MASKING_RUN, SDDP_MASKING
    clock = _Clock(profile, dms=False)
    broad = clock.window(0.05, 0.95)
    tasks = [_pick(profile, "TaskId", 0, rank=r) for r in (0, 1, 2)]
    return [
        Query("m01_task", kind, SELECTIVE, a, {"TaskId": _pick(profile, "TaskId", 0.001), **clock.window(0, 1)}),
        Query("m02_status_window", kind, SELECTIVE, a, {"Status": "3", **clock.window(0.5, 1)}),
        Query("m03_src_dst", kind, SELECTIVE, a, {"SrcType": "1", "DstType": "2"}),
        Query("m04_main_process", kind, SELECTIVE, a,
              {"MainProcessId": str(_pick(profile, "MainProcessId", 0, rank=0))}),
        Query("m05_src_table", kind, SELECTIVE, a,
              {"SrcTableName": _pick(profile, "SrcTableName", 0.002), "Lang": "en_us"}),
        Query("m06_broad_p1", kind, PAGE1, a, {**broad, "PageSize": "5", "CurrentPage": "1"}),
        Query("m07_broad_p1000", kind, DEEP, a, {**broad, "PageSize": "5", "CurrentPage": "1000"},
              page1_twin="m06_broad_p1"),
        Query("m08_all_p1", kind, PAGE1, a, {}),
        Query("m09_count_only", kind, COUNT, a,
              {"Status": "1", "PageSize": "100", "CurrentPage": PAST_THE_END}),
        Query("m10_in_status", kind, SET, FILTER_ACTION, _filter(kind, [
            ["Status", "in", [2, 4]],
            ["StartTime", "between", [int(clock.at(0.5)), int(clock.at(1))]],
        ])),
        Query("m11_in_tasks", kind, SET, FILTER_ACTION, _filter(kind, [["TaskId", "in", tasks]], size=50)),
        Query("m12_last_day", kind, WINDOW, a, {**clock.window(0.99, 1), "PageSize": "100"}),
        Query("m13_combo", kind, SELECTIVE, a,
              {"Status": "1", "SrcType": "5", "DstType": "4", **clock.window(0.25, 0.75)}),
    ]


def dms_queries(profile: dict[str, Any]) -> list[Query]:
    kind, a = RecordKind.DMS_LOG, DMS_AUDIT
    clock = _Clock(profile, dms=True)
    full = clock.window(0, 1)
    page = {"PageNumber": "1", "PageSize": "10"}
    rare_table, rare_column = _pick(profile, "Entry", 0.003).split("|")
    top_table, top_column = _pick(profile, "Entry", 0, rank=0).split("|")
    top_user = _pick(profile, "UserName", 0, rank=0)
    users = [_pick(profile, "UserName", 0, rank=r) for r in (1, 3, 5)]
    return [
        Query("d01_user_window", kind, SELECTIVE, a,
              {"OpUserName": _pick(profile, "UserName", 0.002), **clock.window(0.25, 0.75), **page}),
        Query("d02_db_name", kind, SELECTIVE, a,
              {"DbName": _pick(profile, "DbName", 0, rank=6), **full, **page}),
        Query("d03_table_column", kind, NESTED, a,
              {"TableName": rare_table, "ColumnName": rare_column, **full, **page}),
        Query("d04_table", kind, NESTED, a, {"TableName": top_table, **clock.window(0.5, 1), **page}),
        Query("d05_column", kind, NESTED, a, {"ColumnName": "passport_no", **clock.window(0.9, 1), **page}),
        Query("d06_module", kind, SELECTIVE, a, {"ModuleName": "DATA_CHANGE", **clock.window(0.5, 1), **page}),
        Query("d07_tid", kind, SELECTIVE, a, {"Tid": "3002", **clock.window(0.25, 0.5), **page}),
        Query("d08_broad_p1", kind, PAGE1, a,
              {**clock.window(0.05, 0.95), "PageNumber": "1", "PageSize": "5"}),
        Query("d09_broad_p1000", kind, DEEP, a,
              {**clock.window(0.05, 0.95), "PageNumber": "1000", "PageSize": "5"},
              page1_twin="d08_broad_p1"),
        Query("d10_count_only", kind, COUNT, a,
              {"OpUserName": top_user, **full, "PageNumber": PAST_THE_END, "PageSize": "100"}),
        Query("d11_in_module_user", kind, SET, FILTER_ACTION, _filter(kind, [
            ["ModuleName", "in", ["DATA_CHANGE", "DATA_EXPORT"]],
            ["UserName", "in", users],
            ["OpTime", "between", [clock.at(0.25), clock.at(1)]],
        ])),
        Query("d12_combo", kind, NESTED, a,
              {"OpUserName": top_user, "ModuleName": "SQL_CONSOLE", "TableName": top_table,
               "ColumnName": top_column, **clock.window(0.25, 1), **page}),
        Query("d13_last_day", kind, WINDOW, a, {**clock.window(0.99, 1), "PageNumber": "1", "PageSize": "100"}),
    ]


def build(profiles: dict[RecordKind, dict[str, Any]]) -> list[Query]:
    """The whole workload for data with these profiles."""
    return (audit_queries(profiles[RecordKind.AUDIT_LOG])
            + masking_queries(profiles[RecordKind.MASKING_RUN])
            + dms_queries(profiles[RecordKind.DMS_LOG]))
