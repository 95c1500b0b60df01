"""Public hypothesis strategies for code that calls the three APIs (or this engine).

- :func:`records` draws valid records of a kind. Values come from small realistic pools, so that
  equality filters hit, timestamps repeat (ties exercise the tie-break order) and optional fields
  are often absent. Masking runs drawn in one list have unique ``Id``s (:func:`record_lists`).
- :func:`requests` draws valid request parameters of an operation, in wire form (strings) or as
  Python values.
- :func:`invalid_requests` draws ``(params, expected_code)``: a request the service must refuse,
  labelled with the error code it must produce.

Hypothesis is imported here and only here; ``import dsc_engine`` does not need it.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Any

from hypothesis import strategies as st

from dsc_engine.wire.times import format_dms_time
from dsc_engine.models import (
    AuditLog,
    MaskingRun,
    ModuleName,
    RecordKind,
    RunStatus,
    RunType,
    SecurityLevel,
    SensitiveDataAuditLog,
    SensitiveDataEntry,
    ServiceType,
    WarnLevel,
)
from dsc_engine.models.records import Record
from dsc_engine.query.params import QUERY_KEY_PARAMETERS

# ---------------------------------------------------------------------------------------------
# Value pools
# ---------------------------------------------------------------------------------------------

#: Audit CreationTime values: a few exact instants (ties likely) around September 2018.
_BASE_MS = 1_536_751_124_000
TIMES_MS = tuple(_BASE_MS + step * 60_000 for step in range(12))
USER_NAMES = ("admin", "dev01", "app_user", "readonly")
CLIENT_IPS = ("139.*.*.57", "10.*.*.94", "192.*.*.8")
CLIENT_UAS = ("mysql", "JDBC", "navicat")
INSTANCE_NAMES = ("rm-1234", "i-2zeftaaq4gqcqb9kfkzg", "rm-uf6abc")
DATABASE_NAMES = ("chngc_b2b_migration_sh", "orders", "crm")
TABLE_NAMES = ("it_table", "users", "orders", "payments")
COLUMN_NAMES = ("hide14", "phone", "id_card", "email")
PRODUCT_CODES = ("RDS", "OSS", "MaxCompute", "PolarDB")
RULE_IDS = ("9952275", "1001", "1002", "1003", "1004")
RULE_NAMES = ("name", "Drop table", "Mass export", "Sensitive read")
OPERATE_TYPES = ("Drop", "SELECT", "select", "Update", "DELETE")
SQL_TEXTS = (
    "select * from test03\n",
    "SELECT phone FROM users WHERE id = 1",
    "drop table it_table",
    "update orders set amount = 0",
)
MESSAGES = ("success", "Permission denied", "SUCCESS: 10 rows")
OSS_KEYS = ("oss-key1", "exports/2018/users.csv")
MEMBER_ACCOUNTS = ("**********8103", "**********2201")
RULE_CATEGORIES = ("10", "11", "12")
IP_TYPES = ("aliyun", "internet", "vpc")
LOG_SOURCES = ("SLOW_SQL", "RDS_AUDIT", "OSS_ACCESS")
DB_TYPES = ("MySQL", "PostgreSQL", "SQLServer")
MODEL_NAMES = ("Identity Card", "Mobile Phone Number", "Email")
TASK_IDS = ("SDM-1001", "SDM-1002", "SDM-1003")
DMS_TIMES = tuple(
    dt.datetime(2023, 5, 17, 10, 0, 0) + dt.timedelta(minutes=7 * step) for step in range(12)
)
DB_DISPLAY_NAMES = ("crm@rm-uf6abc:3306", "orders@rm-1234:3306", "dms_test@pc-bp1:5432", "crm")
TARGET_NAMES = ("users", "orders", "SELECT * FROM users")
PERMISSION_TYPES = ("SELECT", "EXPORT", "UPDATE")
MASK_RULES = ("hash", "mask-middle", "none")
TIDS = (3000, 3001, 3002)


def _opt(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Absent (``None``) about a third of the time."""
    return st.one_of(st.none(), values, values)


def _pick(pool: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return _opt(st.sampled_from(pool))


def _listed(values: type[enum.Enum], beyond: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """A field whose page lists its values: a documented one mostly, now and then one ``beyond``
    the list (records keep any value of the field's type), absent a third of the time."""
    documented = [member.value for member in values]
    return _opt(st.one_of(st.sampled_from(documented), st.sampled_from(documented), st.sampled_from(beyond)))


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


def audit_logs() -> st.SearchStrategy[AuditLog]:
    """Valid DescribeAuditLogs records."""
    small = st.integers(min_value=0, max_value=5_000)
    return st.builds(
        AuditLog,
        creation_time=st.sampled_from(TIMES_MS),
        warn_level=_listed(WarnLevel, ("0", "4")),
        client_port=_opt(st.sampled_from(("35756", "3306", "50123"))),
        table_name=_pick(TABLE_NAMES),
        effect_row=_opt(st.integers(min_value=0, max_value=50)),
        package_name=_pick(("test01", "pkg_prod")),
        user_id=_pick(("19********94", "28********11")),
        message=_pick(MESSAGES),
        rule_id=_pick(RULE_IDS),
        operate_type=_pick(OPERATE_TYPES),
        log_time=_opt(st.sampled_from(TIMES_MS)),
        warn_level_name=st.none(),
        instance_name=_pick(INSTANCE_NAMES),
        database_name=_pick(DATABASE_NAMES),
        oss_object_key=_pick(OSS_KEYS),
        execute_status=_opt(st.sampled_from((0, 1))),
        product_id=_opt(st.sampled_from((1, 2, 5))),
        execute_time=_opt(small),
        user_name=_pick(USER_NAMES),
        instance_description=_pick(("instance dscription", "prod db")),
        rule_name=_pick(RULE_NAMES),
        column_name=_pick(COLUMN_NAMES),
        client_ip=_pick(CLIENT_IPS),
        client_ua=_pick(CLIENT_UAS),
        product_code=_pick(PRODUCT_CODES),
        sql_text=_pick(SQL_TEXTS),
        in_white_list=_opt(st.booleans()),
        member_account=_pick(MEMBER_ACCOUNTS),
        rule_category=_pick(RULE_CATEGORIES),
        ip_type=_pick(IP_TYPES),
        model_name=_pick(MODEL_NAMES),
        data_set=_pick(("plan_id ~ application_id", "phone ~ email")),
        log_source=_pick(LOG_SOURCES),
        instance_audit_status=_pick(("1", "2")),
        db_type=_pick(DB_TYPES),
        ram_console_link=_pick(("https://ram.console.aliyun.com/users/admin",)),
    )


@st.composite
def masking_runs(draw: st.DrawFn, ids: st.SearchStrategy[int] | None = None) -> MaskingRun:
    """Valid DescribeDataMaskingRunHistory records; a documented ``SrcType``/``DstType`` mostly
    comes with its code. Use :func:`record_lists` for lists with unique ``Id``s."""
    src = draw(_opt(st.sampled_from([*ServiceType, 6])))
    dst = draw(_opt(st.sampled_from([*ServiceType, 7])))
    start = draw(st.sampled_from(TIMES_MS))
    has_end = draw(st.booleans())
    return MaskingRun(
        id=draw(ids if ids is not None else st.integers(min_value=1, max_value=10**6)),
        start_time=start,
        end_time=start + draw(st.integers(0, 3_600_000)) if has_end else None,
        status=draw(_listed(RunStatus, (5, -2))),
        type=draw(_listed(RunType, (3,))),
        src_type=_service(src),
        src_type_code=None if src is None or draw(st.booleans()) else _code(src),
        dst_type=_service(dst),
        dst_type_code=None if dst is None or draw(st.booleans()) else _code(dst),
        src_table_name=draw(_pick(TABLE_NAMES)),
        masking_count=draw(_opt(st.integers(0, 10_000))),
        percentage=draw(_opt(st.integers(0, 100))),
        fail_msg=draw(_pick(("table not found", "timeout"))),
        fail_code=draw(_pick(("TableNotExist", "Timeout"))),
        conflict_count=draw(_opt(st.integers(0, 20))),
        run_index=draw(_opt(st.integers(1, 30))),
        has_sub_process=draw(_opt(st.sampled_from((0, 1)))),
        has_download_file=draw(_opt(st.sampled_from((0, 1)))),
        task_id=draw(_pick(TASK_IDS)),
        main_process_id=draw(_opt(st.sampled_from((11, 12, 13)))),
    )


def _service(drawn: ServiceType | int | None) -> int | None:
    return drawn.value if isinstance(drawn, ServiceType) else drawn


def _code(drawn: ServiceType | int) -> str:
    return drawn.code if isinstance(drawn, ServiceType) else f"Service{drawn}"


def sensitive_data_entries() -> st.SearchStrategy[SensitiveDataEntry]:
    """Valid nested ``SensitiveDataLog`` entries of a DMS log."""
    return st.builds(
        SensitiveDataEntry,
        table_name=_pick(TABLE_NAMES),
        column_name=_pick(COLUMN_NAMES),
        security_level=_listed(SecurityLevel, ("Low\n", "低敏感")),
        column_permission_type=_pick(PERMISSION_TYPES),
        desensitization_rule=_pick(MASK_RULES),
    )


def dms_logs() -> st.SearchStrategy[SensitiveDataAuditLog]:
    """Valid ListSensitiveDataAuditLog records with 0 to 4 nested entries."""
    return st.builds(
        SensitiveDataAuditLog,
        op_time=st.sampled_from(DMS_TIMES),
        user_name=_pick(USER_NAMES),
        user_id=_opt(st.sampled_from((51, 52, 53))),
        module_name=_listed(ModuleName, ("SQL_REVIEW",)),
        db_display_name=_pick(DB_DISPLAY_NAMES),
        instance_id=_opt(st.sampled_from((1860000, 1860001))),
        target_name=_pick(TARGET_NAMES),
        sensitive_data_log=st.lists(sensitive_data_entries(), max_size=4).map(tuple),
        tid=_opt(st.sampled_from(TIDS)),
    )


def records(kind: RecordKind | str) -> st.SearchStrategy[Record]:
    """Valid records of one kind (``kind`` as a :class:`RecordKind` or its name)."""
    kind = RecordKind.parse(kind)
    if kind is RecordKind.AUDIT_LOG:
        return audit_logs()
    if kind is RecordKind.MASKING_RUN:
        return masking_runs()
    return dms_logs()


@st.composite
def record_lists(
    draw: st.DrawFn, kind: RecordKind | str, min_size: int = 0, max_size: int = 30
) -> list[Record]:
    """Lists of valid records of one kind, loadable together (masking run Ids are unique)."""
    kind = RecordKind.parse(kind)
    if kind is not RecordKind.MASKING_RUN:
        return draw(st.lists(records(kind), min_size=min_size, max_size=max_size))
    ids = draw(
        st.lists(
            st.integers(min_value=1, max_value=10**6),
            min_size=min_size,
            max_size=max_size,
            unique=True,
        )
    )
    return [draw(masking_runs(ids=st.just(i))) for i in ids]


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------

AUDIT = "DescribeAuditLogs"
MASKING = "DescribeDataMaskingRunHistory"
DMS = "ListSensitiveDataAuditLog"
ACTIONS = (AUDIT, MASKING, DMS)

#: DescribeAuditLogs exact-equality string parameters and the pools their values come from.
_AUDIT_EXACT: dict[str, tuple[str, ...]] = {
    "UserName": USER_NAMES,
    "ClientIp": CLIENT_IPS,
    "ClientUa": CLIENT_UAS,
    "InstanceName": INSTANCE_NAMES,
    "DatabaseName": DATABASE_NAMES,
    "ProductCode": PRODUCT_CODES,
    "RuleName": RULE_NAMES,
    "OssObjectKey": OSS_KEYS,
    "RuleCategory": RULE_CATEGORIES,
    "MemberAccount": MEMBER_ACCOUNTS,
    "IpType": IP_TYPES,
    "LogSource": LOG_SOURCES,
}
_AUDIT_TEXT: dict[str, tuple[str, ...]] = {
    "SqlText": ("select", "FROM users", "drop", "orders", "test03"),
    "Message": ("success", "DENIED", "rows"),
    "OperateType": ("select", "DROP", "update", "delete"),
}
#: LogQueryOpJson query keys -> the DescribeAuditLogs parameter each names (alias included).
LOG_QUERY_KEYS = QUERY_KEY_PARAMETERS


def _wire(value: object, wire: bool) -> object:
    """A Python value as the wire sends it (SDK spelling ``True``/``False`` for booleans)."""
    if not wire:
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


@st.composite
def _range_text(draw: st.DrawFn, values: st.SearchStrategy[int]) -> str:
    low, high = sorted((draw(values), draw(values)))
    opening, closing = draw(st.sampled_from("[(")), draw(st.sampled_from("])"))
    space = draw(st.sampled_from(("", " ")))
    return f"in{space}{opening}{low} {high}{closing}"


@st.composite
def _window(draw: st.DrawFn, pool: tuple[Any, ...]) -> tuple[Any, Any]:
    start, end = draw(_opt(st.sampled_from(pool))), draw(_opt(st.sampled_from(pool)))
    if start is not None and end is not None and start > end:
        start, end = end, start
    return start, end


def _maybe(params: dict[str, object], name: str, value: object, wire: bool) -> None:
    if value is not None:
        params[name] = _wire(value, wire)


@st.composite
def _audit_request(draw: st.DrawFn, wire: bool) -> dict[str, object]:
    params: dict[str, object] = {}
    for name in draw(st.sets(st.sampled_from(sorted(_AUDIT_EXACT)), max_size=3)):
        params[name] = draw(st.sampled_from(_AUDIT_EXACT[name]))
    for name in draw(st.sets(st.sampled_from(sorted(_AUDIT_TEXT)), max_size=2)):
        params[name] = draw(st.sampled_from(_AUDIT_TEXT[name]))
    if draw(st.booleans()):
        params[draw(st.sampled_from(("RuleId", "RuleID")))] = draw(st.sampled_from(RULE_IDS))
    _maybe(params, "ProductId", draw(_opt(st.sampled_from((1, 2, 5)))), wire)
    start, end = draw(_window(TIMES_MS))
    _maybe(params, "StartTime", start, wire)
    _maybe(params, "EndTime", end, wire)
    if draw(st.booleans()):
        params["ExecuteTimeRange"] = draw(_range_text(st.integers(0, 5_000)))
    if draw(st.booleans()):
        params["EffectRowRange"] = draw(_range_text(st.integers(-2, 50)))
    if draw(st.booleans()):
        keys = draw(st.sets(st.sampled_from(sorted(LOG_QUERY_KEYS)), max_size=3))
        if "clientIp" in keys and "remoteClientIp" in keys:
            keys.discard("remoteClientIp")
        ops = [{"queryKey": key, "isContain": draw(st.booleans())} for key in sorted(keys)]
        params["LogQueryOpJson"] = json.dumps(ops) if wire or draw(st.booleans()) else ops
    for name in ("LoadWhiteList", "RuleAggQuery"):
        _maybe(params, name, draw(_opt(st.booleans())), wire)
    _maybe(params, "Lang", draw(_opt(st.sampled_from(("zh_cn", "en_us", "zh", "en")))), wire)
    _maybe(params, "AsyncRequestId", draw(_opt(st.sampled_from(("ASYNC-1", "job-2")))), wire)
    _maybe(params, "PageSize", draw(_opt(st.integers(1, 50))), wire)
    _maybe(params, "CurrentPage", draw(_opt(st.integers(1, 6))), wire)
    return params


@st.composite
def _masking_request(draw: st.DrawFn, wire: bool) -> dict[str, object]:
    params: dict[str, object] = {}
    start, end = draw(_window(TIMES_MS))
    _maybe(params, "StartTime", start, wire)
    _maybe(params, "EndTime", end, wire)
    _maybe(params, "TaskId", draw(_pick(TASK_IDS)), wire)
    _maybe(params, "Status", draw(_opt(st.sampled_from([s.value for s in RunStatus]))), wire)
    _maybe(params, "SrcType", draw(_opt(st.sampled_from([s.value for s in ServiceType]))), wire)
    _maybe(params, "DstType", draw(_opt(st.sampled_from([s.value for s in ServiceType]))), wire)
    _maybe(params, "MainProcessId", draw(_opt(st.sampled_from((11, 12, 13)))), wire)
    _maybe(params, "SrcTableName", draw(_pick(TABLE_NAMES)), wire)
    _maybe(params, "Lang", draw(_opt(st.sampled_from(("zh_cn", "en_us")))), wire)
    _maybe(params, "PageSize", draw(_opt(st.integers(1, 100))), wire)
    _maybe(params, "CurrentPage", draw(_opt(st.integers(1, 6))), wire)
    return params


@st.composite
def _dms_request(draw: st.DrawFn, wire: bool) -> dict[str, object]:
    start, end = draw(st.sampled_from(DMS_TIMES)), draw(st.sampled_from(DMS_TIMES))
    start, end = min(start, end), max(start, end)
    if draw(st.booleans()):  # often the whole range
        start, end = DMS_TIMES[0], DMS_TIMES[-1]
    as_text = wire or draw(st.booleans())
    params: dict[str, object] = {
        "StartTime": format_dms_time(start) if as_text else start,
        "EndTime": format_dms_time(end) if as_text else end,
        "PageSize": _wire(draw(st.integers(1, 100)), wire),
        "PageNumber": _wire(draw(st.integers(1, 6)), wire),
    }
    _maybe(params, "ModuleName", draw(_opt(st.sampled_from([m.value for m in ModuleName]))), wire)
    _maybe(params, "OpUserName", draw(_pick(USER_NAMES)), wire)
    _maybe(params, "DbName", draw(_pick(("crm", "orders", "dms_test"))), wire)
    _maybe(params, "TableName", draw(_pick(TABLE_NAMES)), wire)
    _maybe(params, "ColumnName", draw(_pick(COLUMN_NAMES)), wire)
    _maybe(params, "Tid", draw(_opt(st.sampled_from(TIDS))), wire)
    return params


def requests(action: str, *, wire: bool = True) -> st.SearchStrategy[dict[str, object]]:
    """Valid request parameters of ``action``: as the wire sends them (all strings) or, with
    ``wire=False``, as Python values (ints, bools, datetimes, a list for LogQueryOpJson).

    Filter values come from the same pools as :func:`records`, so requests often match.
    """
    builders = {AUDIT: _audit_request, MASKING: _masking_request, DMS: _dms_request}
    if action not in builders:
        raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    return builders[action](wire)


#: One-fault mutations per action: (parameter updates, expected error code).
#: ``None`` as a value removes the parameter.
_FAULTS: dict[str, tuple[tuple[dict[str, object | None], str], ...]] = {
    AUDIT: (
        ({"PageSize": "51"}, "InvalidParameter"),
        ({"PageSize": "0"}, "InvalidParameter"),
        ({"PageSize": "ten"}, "InvalidParameter"),
        ({"CurrentPage": "0"}, "InvalidParameter"),
        ({"CurrentPage": "1.5"}, "InvalidParameter"),
        ({"StartTime": "2000", "EndTime": "1999"}, "InvalidParameter"),
        ({"StartTime": "yesterday"}, "InvalidParameter"),
        ({"ProductId": "RDS"}, "InvalidParameter"),
        ({"LoadWhiteList": "yes"}, "InvalidParameter"),
        ({"RuleAggQuery": "1"}, "InvalidParameter"),
        ({"Lang": "fr"}, "InvalidParameter"),
        ({"RuleId": "1001", "RuleID": "1002"}, "InvalidParameter"),
        ({"EffectRowRange": "[1 33]"}, "InvalidParameter"),
        ({"ExecuteTimeRange": "in[9 1]"}, "InvalidParameter"),
        ({"LogQueryOpJson": "[{"}, "InvalidParameter"),
        ({"LogQueryOpJson": '[{"queryKey": "nope", "isContain": false}]'}, "InvalidParameter"),
        ({"Foo": "1"}, "InvalidParameter"),
    ),
    MASKING: (
        ({"PageSize": "101"}, "InvalidParameter"),
        ({"PageSize": "-1"}, "InvalidParameter"),
        ({"CurrentPage": "0"}, "InvalidParameter"),
        ({"Status": "5"}, "InvalidParameter"),
        ({"SrcType": "0"}, "InvalidParameter"),
        ({"DstType": "OSS"}, "InvalidParameter"),
        ({"MainProcessId": "x"}, "InvalidParameter"),
        ({"StartTime": "5", "EndTime": "4"}, "InvalidParameter"),
        ({"Lang": "de"}, "InvalidParameter"),
        ({"UserName": "admin"}, "InvalidParameter"),
    ),
    DMS: (
        ({"StartTime": None}, "MissingStartTime"),
        ({"EndTime": None}, "MissingEndTime"),
        ({"PageSize": None}, "MissingPageSize"),
        ({"PageNumber": None}, "MissingPageNumber"),
        ({"StartTime": ""}, "MissingStartTime"),
        ({"StartTime": "2023-05-17T10:00:00"}, "InvalidParameter"),
        ({"StartTime": "2023-05-18 00:00:00", "EndTime": "2023-05-17 00:00:00"}, "InvalidParameter"),
        ({"PageSize": "101"}, "InvalidParameter"),
        ({"PageNumber": "0"}, "InvalidParameter"),
        ({"ModuleName": "sql_console"}, "InvalidParameter"),
        ({"Tid": "3***"}, "InvalidParameter"),
        ({"Lang": "en_us"}, "InvalidParameter"),
    ),
}


@st.composite
def invalid_requests(draw: st.DrawFn, action: str) -> tuple[dict[str, object], str]:
    """``(params, expected_code)``: a valid request of ``action`` with exactly one fault added
    (a bad bound, type, enum, format, window, an unknown name, or a missing required parameter),
    labelled with the error code the service must answer (HTTP 400 for all of them)."""
    if action not in _FAULTS:
        raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    params = draw(requests(action))
    changes, code = draw(st.sampled_from(_FAULTS[action]))
    if "RuleId" in changes:
        params.pop("RuleID", None)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params, code
