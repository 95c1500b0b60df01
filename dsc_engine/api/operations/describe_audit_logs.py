"""Sddp ``DescribeAuditLogs`` (2019-01-03): audit alert logs, filtered and paged.

Filters (``docs/semantics.md`` §2-4): ``SqlText``/``Message`` are case-insensitive substrings,
``OperateType`` case-insensitive equality, the two ranges are range strings, every other filter
is exact (``ProductId`` and ``IpType`` take only the values their page lists);
``StartTime``/``EndTime`` bound ``CreationTime`` inclusively. ``LogQueryOpJson``
negates the filters it names with ``isContain: false``. ``RuleAggQuery`` keeps the newest hit of
each rule; ``LoadWhiteList`` adds ``InWhiteList`` to the items.
"""

from __future__ import annotations

from typing import Any

from dsc_engine.api.spec import SDDP, Match, Operation, Parameter, Role, WireType
from dsc_engine.models import AssetProduct, IpType, Lang, RecordKind
from dsc_engine.models.enums import warn_level_name
from dsc_engine.wire.codec import wire_keys

S, L, I, B = WireType.STRING, WireType.LONG, WireType.INTEGER, WireType.BOOLEAN  # noqa: E741


def _exact(name: str, doc: str, key: str) -> Parameter:
    return Parameter(name=name, wire=S, match=Match.EXACT, field=name, query_key=key, doc=doc)


#: The order of an item's keys on the wire.
_WIRE_ORDER = wire_keys(RecordKind.AUDIT_LOG)


def shape_item(item: dict[str, Any], record: Any, request: Any) -> dict[str, Any]:
    """``WarnLevelName`` derived from a documented ``WarnLevel`` and ``Lang`` (an undocumented
    level keeps the name it was loaded with, §1.6); ``InWhiteList`` only with LoadWhiteList.
    The item stays in wire order: a name set where the record had none is put in its place."""
    if record.warn_level is not None:
        derived = warn_level_name(record.warn_level, request.lang)
        if derived is not None:
            had = "WarnLevelName" in item
            item["WarnLevelName"] = derived
            if not had:  # appended last: the item is put back in wire order (rare: loaded without it)
                item = {key: item[key] for key in _WIRE_ORDER if key in item}
    else:
        item.pop("WarnLevelName", None)
    if not request.switched("LoadWhiteList"):
        item.pop("InWhiteList", None)
    return item


OPERATION = Operation(
    action="DescribeAuditLogs",
    version="2019-01-03",
    product=SDDP,
    ram_action="yundun-sddp:DescribeAuditLogs",
    kind=RecordKind.AUDIT_LOG,
    list_key="Items",
    page_doc="Data Security Center: DescribeAuditLogs, retrieves a list of audit alert logs.",
    parameters=(
        Parameter(name="Lang", wire=S, role=Role.LANG, values=Lang,
                  doc="Language of WarnLevelName and error messages: zh_cn (default), en_us; zh and en too."),
        _exact("UserName", "The username.", "userName"),
        _exact("ClientIp", "The IP address of the client.", "clientIp"),
        _exact("ClientUa", "The client type.", "clientUa"),
        _exact("InstanceName", "The name of the data asset instance.", "instanceName"),
        _exact("DatabaseName", "The name of the database.", "databaseName"),
        Parameter(name="StartTime", wire=L, match=Match.WINDOW_START, field="CreationTime",
                  doc="The start time of the alert log, UNIX milliseconds."),
        Parameter(name="EndTime", wire=L, match=Match.WINDOW_END, field="CreationTime",
                  doc="The end time of the alert log, UNIX milliseconds."),
        _exact("ProductCode", "The service of the data asset (MaxCompute, OSS, ADS, OTS, RDS ...).", "productCode"),
        Parameter(name="ProductId", wire=L, match=Match.EXACT, field="ProductId", query_key="productId",
                  values=AssetProduct, doc="The ID of the service of the data object: 1 to 11, 25."),
        Parameter(name="SqlText", wire=S, match=Match.SUBSTRING, field="SqlText", query_key="sqlText",
                  doc="The content of the SQL statement."),
        Parameter(name="ExecuteTimeRange", wire=S, match=Match.RANGE_STRING, field="ExecuteTime",
                  query_key="executeTimeRange", doc="The range of the running time, such as in[1000 2000]."),
        Parameter(name="EffectRowRange", wire=S, match=Match.RANGE_STRING, field="EffectRow",
                  query_key="effectRowRange", doc="The range of the number of affected rows."),
        Parameter(name="RuleId", wire=S, match=Match.EXACT, field="RuleId", query_key="ruleId",
                  aliases=("RuleID",), doc="The ID of the audit policy (RuleID on the page)."),
        _exact("RuleName", "The name of the audit policy.", "ruleName"),
        Parameter(name="OperateType", wire=S, match=Match.IEQUAL, field="OperateType",
                  query_key="operateType", doc="The operation type."),
        _exact("OssObjectKey", "The key of the OSS object.", "ossObjectKey"),
        Parameter(name="AsyncRequestId", wire=S, role=Role.ECHO,
                  doc="The request ID: echoed, or a fresh one when absent."),
        Parameter(name="PageSize", wire=I, role=Role.PAGE_SIZE, bounds=(1, 50), default=10,
                  doc="Entries per page: at most 50, 10 by default."),
        Parameter(name="CurrentPage", wire=I, role=Role.PAGE_NUMBER, bounds=(1, 2**31 - 1), default=1,
                  doc="The page number, 1 by default."),
        _exact("RuleCategory", "The rule type.", "ruleCategory"),
        Parameter(name="LoadWhiteList", wire=B, role=Role.SHOW_FIELD, field="InWhiteList",
                  doc="Whether items carry their whitelist status (InWhiteList)."),
        _exact("MemberAccount", "The UID of the member account.", "memberAccount"),
        Parameter(name="IpType", wire=S, match=Match.EXACT, field="IpType", query_key="ipType", values=IpType,
                  doc="The network type: default (not an Alibaba Cloud service) or aliyun."),
        Parameter(name="LogQueryOpJson", wire=WireType.JSON, role=Role.NEGATIONS,
                  doc="Which filters to negate: [{\"queryKey\": \"userName\", \"isContain\": false}]."),
        Parameter(name="Message", wire=S, match=Match.SUBSTRING, field="Message", query_key="message",
                  doc="The content of the message."),
        _exact("LogSource", "The log source (SLOW_SQL ...).", "logSource"),
        Parameter(name="RuleAggQuery", wire=B, role=Role.GROUP_BY, field="RuleId",
                  doc="Whether to return only the newest hit of each rule."),
        Parameter(name="RegionId", wire=S, role=Role.NO_EFFECT,
                  doc="A common parameter of RPC calls; one region offline, so it selects nothing."),
    ),
    response=("AsyncRequestId", "CurrentPage", "PageSize", "RequestId", "TotalCount", "Items"),
    shape_item=shape_item,
    query_key_aliases={"remoteClientIp": "clientIp"},
    field_notes={
        "WarnLevelName": "derived from a documented WarnLevel and Lang; an undocumented level keeps its loaded name",
        "InWhiteList": "sent only with LoadWhiteList=true",
        "RamConsoleLink": "not on the page, in the API metadata: sent as loaded",
    },
)
