"""Sddp ``DescribeAuditLogs`` (2019-01-03): audit alert logs, filtered and paged.

wire params -> :class:`DescribeAuditLogsRequest` -> filter AST -> ``store.query`` -> response.
Filters (CONTRACT.md section 2): ``SqlText``/``Message`` are case-insensitive substrings,
``OperateType`` case-insensitive equality, the ranges follow section 3, every other filter is
exact equality on the same-named field; ``StartTime``/``EndTime`` bound ``CreationTime``
inclusively. ``LogQueryOpJson`` negates the filters it names with ``isContain: false``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from dsc_engine.api.coerce import Paging, Reader, check_window, invalid, read_lang, read_paging
from dsc_engine.api.errors import SDDP, new_request_id
from dsc_engine.api.operation import Operation
from dsc_engine.wire.codec import response_item, wire_keys
from dsc_engine.models import AuditLog, Lang, RecordKind
from dsc_engine.models.enums import warn_level_name
from dsc_engine.query import ast
from dsc_engine.query.params import QUERY_KEY_PARAMETERS, parse_log_query_op, range_filter
from dsc_engine.store.store import Store

ACTION = "DescribeAuditLogs"
VERSION = "2019-01-03"
MAX_PAGE_SIZE = 50

#: String parameters matched by exact equality on the same-named field, in the page's order.
_EXACT_BEFORE_TIME = ("UserName", "ClientIp", "ClientUa", "InstanceName", "DatabaseName")
_EXACT_LATE = ("RuleCategory", "MemberAccount", "IpType")
#: The filter parameters, in the page's order (LogQueryOpJson can negate each of them).
NEGATABLE = tuple(dict.fromkeys(QUERY_KEY_PARAMETERS.values()))
PARAMETERS = frozenset(
    {
        *NEGATABLE,
        "Lang",
        "StartTime",
        "EndTime",
        "RuleID",
        "AsyncRequestId",
        "PageSize",
        "CurrentPage",
        "LoadWhiteList",
        "LogQueryOpJson",
        "RuleAggQuery",
        "RegionId",  # a common RPC parameter some clients send; one region offline: no effect
    }
)
_ITEM_KEYS = wire_keys(RecordKind.AUDIT_LOG)


@attrs.frozen(kw_only=True)
class DescribeAuditLogsRequest:
    """A valid DescribeAuditLogs request.

    ``conditions`` holds each given filter parameter's AST node by parameter name (in the page's
    order); ``negated`` names those LogQueryOpJson negates.
    """

    lang: Lang = Lang.ZH_CN
    paging: Paging = Paging(1, 10)
    start_time: int | None = None
    end_time: int | None = None
    conditions: Mapping[str, ast.Node] = attrs.field(factory=dict)
    negated: frozenset[str] = frozenset()
    load_white_list: bool = False
    rule_agg_query: bool = False
    async_request_id: str | None = None

    def filter(self) -> ast.Node:
        """The AST of this request: the time window AND every (possibly negated) condition."""
        parts: list[ast.Node] = []
        if self.start_time is not None or self.end_time is not None:
            parts.append(ast.Range("CreationTime", self.start_time, self.end_time))
        for name, node in self.conditions.items():
            parts.append(ast.Not(node) if name in self.negated else node)
        return ast.conjunction(parts)


def _rule_id(reader: Reader) -> str | None:
    """``RuleId`` or its older spelling ``RuleID``; both with different values is invalid."""
    current, older = reader.string("RuleId"), reader.string("RuleID")
    if current is not None and older is not None and current != older:
        raise invalid(
            "RuleId",
            current,
            f"RuleId {current!r} and RuleID {older!r} disagree; send one of them",
            f"RuleId {current!r} 与 RuleID {older!r} 不一致；只需传其中一个",
        )
    return current if current is not None else older


def _negations(reader: Reader) -> frozenset[str]:
    """The parameter names LogQueryOpJson marks ``isContain: false``."""
    raw = reader.value("LogQueryOpJson")
    if raw is None:
        return frozenset()
    if isinstance(raw, list):  # the Python form: the array itself
        try:
            raw = json.dumps(raw)
        except (TypeError, ValueError):  # a value JSON cannot hold (a set, a datetime, a cycle)
            raw = None
    if not isinstance(raw, str):
        raise invalid(
            "LogQueryOpJson",
            reader.raw["LogQueryOpJson"],
            "it must be a JSON array text (or a list of JSON objects)",
            "它必须是 JSON 数组文本（或对象列表）",
        )
    return frozenset(
        QUERY_KEY_PARAMETERS[key] for key, keep in parse_log_query_op(raw).items() if not keep
    )


def read(reader: Reader) -> DescribeAuditLogsRequest:
    """Validate every parameter, in the page's order."""
    lang = read_lang(reader)
    conditions: dict[str, ast.Node] = {}

    def exact(name: str) -> None:
        value = reader.string(name)
        if value is not None:
            conditions[name] = ast.Compare(name, ast.CompareOp.EQ, value)

    def text(name: str, node: type[ast.Contains] | type[ast.EqualsIgnoreCase]) -> None:
        value = reader.string(name)
        if value is not None:
            conditions[name] = node(name, value)

    def value_range(name: str, field: str) -> None:
        value = reader.string(name)
        if value is not None:
            conditions[name] = range_filter(name, value, field)

    for name in _EXACT_BEFORE_TIME:
        exact(name)
    start, end = reader.integer("StartTime"), reader.integer("EndTime")
    exact("ProductCode")
    product_id = reader.integer("ProductId")
    if product_id is not None:
        conditions["ProductId"] = ast.Compare("ProductId", ast.CompareOp.EQ, product_id)
    text("SqlText", ast.Contains)
    value_range("ExecuteTimeRange", "ExecuteTime")
    value_range("EffectRowRange", "EffectRow")
    rule_id = _rule_id(reader)
    if rule_id is not None:
        conditions["RuleId"] = ast.Compare("RuleId", ast.CompareOp.EQ, rule_id)
    exact("RuleName")
    text("OperateType", ast.EqualsIgnoreCase)
    exact("OssObjectKey")
    async_request_id = reader.string("AsyncRequestId")
    paging = read_paging(reader, "CurrentPage", "PageSize", max_size=MAX_PAGE_SIZE)
    for name in _EXACT_LATE:
        exact(name)
    load_white_list = reader.boolean("LoadWhiteList")
    negated = _negations(reader)
    text("Message", ast.Contains)
    exact("LogSource")
    rule_agg_query = reader.boolean("RuleAggQuery")
    reader.string("RegionId")
    check_window("StartTime", start, "EndTime", end)
    return DescribeAuditLogsRequest(
        lang=lang,
        paging=paging,
        start_time=start,
        end_time=end,
        conditions=conditions,
        negated=negated,
        load_white_list=bool(load_white_list),
        rule_agg_query=bool(rule_agg_query),
        async_request_id=async_request_id,
    )


def item(record: AuditLog, lang: Lang, load_white_list: bool) -> dict[str, Any]:
    """One response item: WarnLevelName derived from a documented WarnLevel and Lang (a level
    the page does not list keeps the name it was loaded with), InWhiteList on request."""
    wire = response_item(record)
    if record.warn_level is not None:
        derived = warn_level_name(record.warn_level, lang)
        if derived is not None:
            wire["WarnLevelName"] = derived
    else:
        wire.pop("WarnLevelName", None)
    if not load_white_list:
        wire.pop("InWhiteList", None)
    return {key: wire[key] for key in _ITEM_KEYS if key in wire}


def answer(request: DescribeAuditLogsRequest, store: Store, request_id: str) -> dict[str, Any]:
    paging = request.paging
    page = store.query(
        request.filter(),
        paging.offset,
        paging.size,
        distinct="RuleId" if request.rule_agg_query else None,
    )
    return {
        "AsyncRequestId": request.async_request_id or new_request_id(),
        "CurrentPage": paging.page,
        "PageSize": paging.size,
        "RequestId": request_id,
        "TotalCount": page.total,
        "Items": [item(r, request.lang, request.load_white_list) for r in page.records],  # type: ignore[arg-type]
    }


OPERATION = Operation(
    action=ACTION,
    version=VERSION,
    product=SDDP,
    kind=RecordKind.AUDIT_LOG,
    parameters=PARAMETERS,
    read=read,
    answer=answer,
    lang=lambda request: request.lang,
    has_lang=True,
)
