"""An independent reading of the API pages and docs/semantics.md for the reference runners
(sqlite3 and the naive scan).

:func:`plan` turns a workload query (API action + wire params, or the ``Filter`` pseudo-action)
into a :class:`Plan`: plain conditions on wire keys, the page slice, the distinct key of a
RuleAggQuery and how to shape response items. It deliberately shares nothing with
``dsc_engine.query`` or ``dsc_engine.api``, so that agreement between runners means something.
A parameter it does not model raises :class:`WorkloadError` instead of being ignored.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs

from benchmarks.errors import WorkloadError
from benchmarks.workload import DMS_AUDIT, FILTER_ACTION, SDDP_AUDIT, SDDP_MASKING, Query
from dsc_engine.models import RecordKind

EQ, IEQ, CONTAINS, RANGE, IN, ENTRY = "eq", "ieq", "contains", "range", "in", "entry"


@attrs.frozen
class Cond:
    """One condition. ``field`` is a record wire key, ``DbName`` (the part of ``DbDisplayName``
    before ``@``) or ``SensitiveDataLog`` (for ``entry``). ``value`` is: the literal (eq, ieq,
    contains); ``(low, high, low_inclusive, high_inclusive)`` (range); a tuple (in); a tuple of
    ``(entry key, literal)`` pairs that one entry must all match (entry). A negated condition
    matches every record the plain one does not, records lacking the field included."""

    field: str
    op: str
    value: Any
    negate: bool = False


@attrs.frozen
class Plan:
    kind: RecordKind
    conds: tuple[Cond, ...]
    offset: int
    limit: int
    #: ``RuleAggQuery``: keep only the first (newest) record of each value of this key.
    distinct: str | None = None
    #: ``api`` shapes items as the action's response does; ``record`` is the record's own form.
    shape: str = "api"
    lang: str = "zh_cn"
    white_list: bool = False


TIME_KEYS = {
    RecordKind.AUDIT_LOG: "CreationTime",
    RecordKind.MASKING_RUN: "StartTime",
    RecordKind.DMS_LOG: "OpTime",
}
RECORD_ONLY = {RecordKind.AUDIT_LOG: (), RecordKind.MASKING_RUN: ("MainProcessId",),
               RecordKind.DMS_LOG: ("Tid",)}
WARN_LEVEL_NAMES = {
    "zh_cn": {"1": "低危", "2": "中危", "3": "高危"},
    "en_us": {"1": "Low", "2": "Medium", "3": "Important"},
}
_LANGS = {"zh_cn": "zh_cn", "zh": "zh_cn", "en_us": "en_us", "en": "en_us"}

# DescribeAuditLogs: parameter -> (record key, op, literal type, LogQueryOpJson key)
_AUDIT = {
    "UserName": ("UserName", EQ, str, "userName"),
    "ClientIp": ("ClientIp", EQ, str, "clientIp"),
    "ClientUa": ("ClientUa", EQ, str, "clientUa"),
    "InstanceName": ("InstanceName", EQ, str, "instanceName"),
    "DatabaseName": ("DatabaseName", EQ, str, "databaseName"),
    "ProductCode": ("ProductCode", EQ, str, "productCode"),
    "ProductId": ("ProductId", EQ, int, "productId"),
    "SqlText": ("SqlText", CONTAINS, str, "sqlText"),
    "ExecuteTimeRange": ("ExecuteTime", RANGE, str, "executeTimeRange"),
    "EffectRowRange": ("EffectRow", RANGE, str, "effectRowRange"),
    "RuleId": ("RuleId", EQ, str, "ruleId"),
    "RuleName": ("RuleName", EQ, str, "ruleName"),
    "OperateType": ("OperateType", IEQ, str, "operateType"),
    "OssObjectKey": ("OssObjectKey", EQ, str, "ossObjectKey"),
    "RuleCategory": ("RuleCategory", EQ, str, "ruleCategory"),
    "MemberAccount": ("MemberAccount", EQ, str, "memberAccount"),
    "IpType": ("IpType", EQ, str, "ipType"),
    "Message": ("Message", CONTAINS, str, "message"),
    "LogSource": ("LogSource", EQ, str, "logSource"),
}
_QUERY_KEY_ALIASES = {"remoteClientIp": "clientIp"}
_MASKING = {
    "TaskId": str, "Status": int, "SrcType": int, "DstType": int, "MainProcessId": int,
    "SrcTableName": str,
}
_DMS = {"OpUserName": ("UserName", str), "DbName": ("DbName", str), "ModuleName": ("ModuleName", str),
        "Tid": ("Tid", int)}
_RANGE_STRING = re.compile(r"in\s*([\[(])(-?\d+)\s+(-?\d+)([\])])\Z")


def parse_range(name: str, text: str) -> tuple[int, int, bool, bool]:
    match = _RANGE_STRING.match(text)
    if match is None:
        raise WorkloadError(name, f"range string {text!r} is not in the modelled form")
    return int(match[2]), int(match[3]), match[1] == "[", match[4] == "]"


def _page(params: dict[str, Any], page_key: str, default_size: int) -> tuple[int, int]:
    page = int(params.get(page_key, 1))
    size = int(params.get("PageSize", default_size))
    return (page - 1) * size, size


def _window(kind: RecordKind, params: dict[str, Any], convert: type) -> list[Cond]:
    low, high = params.get("StartTime"), params.get("EndTime")
    if low is None and high is None:
        return []
    low = None if low is None else convert(low)
    high = None if high is None else convert(high)
    return [Cond(TIME_KEYS[kind], RANGE, (low, high, True, True))]


def _audit(query: Query) -> Plan:
    params = dict(query.params)
    if "RuleID" in params:
        params["RuleId"] = params.pop("RuleID")
    negated = {
        _QUERY_KEY_ALIASES.get(op["queryKey"], op["queryKey"])
        for op in json.loads(params.get("LogQueryOpJson", "[]"))
        if op["isContain"] is False
    }
    conds = _window(RecordKind.AUDIT_LOG, params, int)
    for name, value in params.items():
        if name in _AUDIT:
            key, op, convert, query_key = _AUDIT[name]
            literal = parse_range(name, value) if op == RANGE else convert(value)
            conds.append(Cond(key, op, literal, negate=query_key in negated))
        elif name not in {"StartTime", "EndTime", "LogQueryOpJson", "CurrentPage", "PageSize",
                          "Lang", "LoadWhiteList", "RuleAggQuery"}:
            raise WorkloadError(query.name, f"parameter {name} is not modelled")
    offset, limit = _page(params, "CurrentPage", 10)
    return Plan(
        RecordKind.AUDIT_LOG, tuple(conds), offset, limit,
        distinct="RuleId" if params.get("RuleAggQuery", "").lower() == "true" else None,
        lang=_LANGS[params.get("Lang", "zh_cn")],
        white_list=params.get("LoadWhiteList", "").lower() == "true",
    )


def _masking(query: Query) -> Plan:
    conds = _window(RecordKind.MASKING_RUN, query.params, int)
    for name, value in query.params.items():
        if name in _MASKING:
            conds.append(Cond(name, EQ, _MASKING[name](value)))
        elif name not in {"StartTime", "EndTime", "CurrentPage", "PageSize", "Lang"}:
            raise WorkloadError(query.name, f"parameter {name} is not modelled")
    offset, limit = _page(query.params, "CurrentPage", 10)
    return Plan(RecordKind.MASKING_RUN, tuple(conds), offset, limit)


def _dms(query: Query) -> Plan:
    conds = _window(RecordKind.DMS_LOG, query.params, str)
    entry = tuple((name, value) for name, value in query.params.items()
                  if name in ("TableName", "ColumnName"))
    if entry:
        conds.append(Cond("SensitiveDataLog", ENTRY, entry))
    for name, value in query.params.items():
        if name in _DMS:
            key, convert = _DMS[name]
            conds.append(Cond(key, EQ, convert(value)))
        elif name not in {"StartTime", "EndTime", "TableName", "ColumnName", "PageNumber",
                          "PageSize"}:
            raise WorkloadError(query.name, f"parameter {name} is not modelled")
    offset, limit = _page(query.params, "PageNumber", 10)
    return Plan(RecordKind.DMS_LOG, tuple(conds), offset, limit)


def _filter(query: Query) -> Plan:
    conds = []
    for field, op, value in query.params["Where"]:
        if op == "in":
            conds.append(Cond(field, IN, tuple(value)))
        elif op == "between":
            conds.append(Cond(field, RANGE, (value[0], value[1], True, True)))
        elif op == "=":
            conds.append(Cond(field, EQ, value))
        else:
            raise WorkloadError(query.name, f"clause operator {op!r} is not modelled")
    size = int(query.params["PageSize"])
    return Plan(RecordKind(query.params["Kind"]), tuple(conds),
                (int(query.params["Page"]) - 1) * size, size, shape="record")


_PLANNERS = {SDDP_AUDIT: _audit, SDDP_MASKING: _masking, DMS_AUDIT: _dms, FILTER_ACTION: _filter}


def plan(query: Query) -> Plan:
    """The plan of a workload query (raises :class:`WorkloadError` for what is not modelled)."""
    try:
        planner = _PLANNERS[query.action]
    except KeyError:
        raise WorkloadError(query.name, f"action {query.action} is not modelled") from None
    return planner(query)


def shape(item: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """A stored record's wire form, shaped as the response item of ``plan``."""
    out = dict(item)
    for key in RECORD_ONLY[plan.kind]:
        out.pop(key, None)
    if plan.kind is RecordKind.DMS_LOG:
        out.setdefault("SensitiveDataLog", [])
    if plan.shape == "api" and plan.kind is RecordKind.AUDIT_LOG:
        if not plan.white_list:
            out.pop("InWhiteList", None)
        out.pop("WarnLevelName", None)  # derived from WarnLevel and Lang, never sent as loaded
        if "WarnLevel" in out:
            out["WarnLevelName"] = WARN_LEVEL_NAMES[plan.lang][out["WarnLevel"]]
    return out


def filter_text(plan: Plan) -> str:
    """The conditions of a ``Filter`` plan in dsc-engine's filter language."""
    parts = []
    for cond in plan.conds:
        if cond.op == IN:
            parts.append(f"{cond.field} in {{{', '.join(json.dumps(v) for v in cond.value)}}}")
        elif cond.op == RANGE:
            low, high, low_in, high_in = cond.value
            parts.append(f"{cond.field} in {'[' if low_in else '('}{json.dumps(low)} "
                         f"{json.dumps(high)}{']' if high_in else ')'}")
        elif cond.op == EQ:
            parts.append(f"{cond.field} = {json.dumps(cond.value)}")
        else:
            raise WorkloadError(cond.field, f"no filter-language form for {cond.op}")
    return " and ".join(parts)
