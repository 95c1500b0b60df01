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
import functools
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
from dsc_engine.api.operations import OPERATIONS
from dsc_engine.api.spec import Match, Operation, Parameter, Role, WireType

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
    "SELECT * FROM kunden_straße",  # case folding is not lower-casing: "STRASSE" matches "straße"
)
MESSAGES = ("success", "Permission denied", "SUCCESS: 10 rows", "Größe überschritten")
OSS_KEYS = ("oss-key1", "exports/2018/users.csv")
MEMBER_ACCOUNTS = ("**********8103", "**********2201")
RULE_CATEGORIES = ("10", "11", "12")
IP_TYPES = ("default", "aliyun", "vpc")  # the two documented values and one beyond them
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
    """A value of ``pool``, absent (``None``) a third of the time: ``_opt(st.sampled_from(pool))``
    in one draw instead of two (each value listed twice for every ``None``), which halves what
    drawing a record costs; ``None`` comes first, so that a failing example shrinks to absent."""
    return st.sampled_from((None,) * len(pool) + pool + pool)


def _listed(values: type[enum.Enum], beyond: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """A field whose page lists its values: a documented one mostly (4/9), now and then one
    ``beyond`` the list (2/9; records keep any value of the field's type), absent a third of the
    time; in one draw, each value listed as often as its share."""
    documented = tuple(member.value for member in values)
    d, b = len(documented), len(beyond)
    return st.sampled_from((None,) * (3 * d * b) + documented * (4 * b) + beyond * (2 * d))


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@functools.cache
def audit_logs() -> st.SearchStrategy[AuditLog]:
    """Valid DescribeAuditLogs records."""
    small = st.integers(min_value=0, max_value=5_000)
    return st.builds(
        AuditLog,
        creation_time=st.sampled_from(TIMES_MS),
        warn_level=_listed(WarnLevel, ("0", "4")),
        client_port=_pick(("35756", "3306", "50123")),
        table_name=_pick(TABLE_NAMES),
        effect_row=_opt(st.integers(min_value=0, max_value=50)),
        package_name=_pick(("test01", "pkg_prod")),
        user_id=_pick(("19********94", "28********11")),
        message=_pick(MESSAGES),
        rule_id=_pick(RULE_IDS),
        operate_type=_pick(OPERATE_TYPES),
        log_time=_pick(TIMES_MS),
        warn_level_name=st.none(),
        instance_name=_pick(INSTANCE_NAMES),
        database_name=_pick(DATABASE_NAMES),
        oss_object_key=_pick(OSS_KEYS),
        execute_status=_pick((0, 1)),
        product_id=_pick((1, 2, 5)),
        execute_time=_opt(small),
        user_name=_pick(USER_NAMES),
        instance_description=_pick(("instance dscription", "prod db")),
        rule_name=_pick(RULE_NAMES),
        column_name=_pick(COLUMN_NAMES),
        client_ip=_pick(CLIENT_IPS),
        client_ua=_pick(CLIENT_UAS),
        product_code=_pick(PRODUCT_CODES),
        sql_text=_pick(SQL_TEXTS),
        in_white_list=_pick((False, True)),
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


# The strategies of a masking run's fields, built once: a strategy built inside a draw is built
# (and validated) again at every draw, which costs more than the draw itself.
_RUN_IDS = st.integers(min_value=1, max_value=10**6)
_RUN_SRC = _pick((*ServiceType, 6))
_RUN_DST = _pick((*ServiceType, 7))
_RUN_START = st.sampled_from(TIMES_MS)
_RUN_LENGTH = st.integers(0, 3_600_000)
_RUN_STATUS = _listed(RunStatus, (5, -2))
_RUN_TYPE = _listed(RunType, (3,))
_RUN_TABLE = _pick(TABLE_NAMES)
_RUN_MASKING_COUNT = _opt(st.integers(0, 10_000))
_RUN_PERCENTAGE = _opt(st.integers(0, 100))
_RUN_FAIL_MSG = _pick(("table not found", "timeout"))
_RUN_FAIL_CODE = _pick(("TableNotExist", "Timeout"))
_RUN_CONFLICT_COUNT = _opt(st.integers(0, 20))
_RUN_INDEX = _opt(st.integers(1, 30))
_RUN_FLAG = _pick((0, 1))
_RUN_TASK_ID = _pick(TASK_IDS)
_RUN_MAIN_PROCESS_ID = _pick((11, 12, 13))


@st.composite
def masking_runs(draw: st.DrawFn, ids: st.SearchStrategy[int] | None = None) -> MaskingRun:
    """Valid DescribeDataMaskingRunHistory records; a documented ``SrcType``/``DstType`` mostly
    comes with its code. Use :func:`record_lists` for lists with unique ``Id``s."""
    src = draw(_RUN_SRC)
    dst = draw(_RUN_DST)
    start = draw(_RUN_START)
    has_end = draw(st.booleans())
    return MaskingRun(
        id=draw(ids if ids is not None else _RUN_IDS),
        start_time=start,
        end_time=start + draw(_RUN_LENGTH) if has_end else None,
        status=draw(_RUN_STATUS),
        type=draw(_RUN_TYPE),
        src_type=_service(src),
        src_type_code=None if src is None or draw(st.booleans()) else _code(src),
        dst_type=_service(dst),
        dst_type_code=None if dst is None or draw(st.booleans()) else _code(dst),
        src_table_name=draw(_RUN_TABLE),
        masking_count=draw(_RUN_MASKING_COUNT),
        percentage=draw(_RUN_PERCENTAGE),
        fail_msg=draw(_RUN_FAIL_MSG),
        fail_code=draw(_RUN_FAIL_CODE),
        conflict_count=draw(_RUN_CONFLICT_COUNT),
        run_index=draw(_RUN_INDEX),
        has_sub_process=draw(_RUN_FLAG),
        has_download_file=draw(_RUN_FLAG),
        task_id=draw(_RUN_TASK_ID),
        main_process_id=draw(_RUN_MAIN_PROCESS_ID),
    )


def _service(drawn: ServiceType | int | None) -> int | None:
    return drawn.value if isinstance(drawn, ServiceType) else drawn


def _code(drawn: ServiceType | int) -> str:
    return drawn.code if isinstance(drawn, ServiceType) else f"Service{drawn}"


@functools.cache
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


@functools.cache
def dms_logs() -> st.SearchStrategy[SensitiveDataAuditLog]:
    """Valid ListSensitiveDataAuditLog records with 0 to 4 nested entries."""
    return st.builds(
        SensitiveDataAuditLog,
        op_time=st.sampled_from(DMS_TIMES),
        user_name=_pick(USER_NAMES),
        user_id=_pick((51, 52, 53)),
        module_name=_listed(ModuleName, ("SQL_REVIEW",)),
        db_display_name=_pick(DB_DISPLAY_NAMES),
        instance_id=_pick((1860000, 1860001)),
        target_name=_pick(TARGET_NAMES),
        sensitive_data_log=st.lists(sensitive_data_entries(), max_size=4).map(tuple),
        tid=_pick(TIDS),
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
            _RUN_IDS,
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
ACTIONS = tuple(OPERATIONS)

#: The pool of values a filter on each record field draws from (a field without one draws text).
FIELD_POOLS: dict[str, tuple[Any, ...]] = {
    "UserName": USER_NAMES,
    "ClientIp": CLIENT_IPS,
    "ClientUa": CLIENT_UAS,
    "InstanceName": INSTANCE_NAMES,
    "DatabaseName": DATABASE_NAMES,
    "ProductCode": PRODUCT_CODES,
    "ProductId": (1, 2, 5),
    "SqlText": SQL_TEXTS,
    "RuleId": RULE_IDS,
    "RuleName": RULE_NAMES,
    "OperateType": OPERATE_TYPES,
    "OssObjectKey": OSS_KEYS,
    "RuleCategory": RULE_CATEGORIES,
    "MemberAccount": MEMBER_ACCOUNTS,
    "IpType": IP_TYPES,
    "Message": MESSAGES,
    "LogSource": LOG_SOURCES,
    "TaskId": TASK_IDS,
    "SrcTableName": TABLE_NAMES,
    "MainProcessId": (11, 12, 13),
    "TableName": TABLE_NAMES,
    "ColumnName": COLUMN_NAMES,
    "DbName": ("crm", "orders", "dms_test"),
    "Tid": TIDS,
    "ExecuteTime": (0, 10, 100, 1_000, 5_000),
    "EffectRow": (-2, 0, 1, 10, 50),
}
#: Window bounds by wire type: Sddp UNIX milliseconds, DMS wall-clock times.
_WINDOW_POOLS: dict[WireType, tuple[Any, ...]] = {WireType.LONG: TIMES_MS, WireType.WALL_CLOCK: DMS_TIMES}
#: LogQueryOpJson query keys -> the DescribeAuditLogs parameter each names (alias included).
LOG_QUERY_KEYS = OPERATIONS[AUDIT].query_keys


def _wire(value: object, wire: bool) -> object:
    """A Python value as the wire sends it (SDK spelling ``True``/``False`` for booleans)."""
    if not wire:
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dt.datetime):
        return format_dms_time(value)
    return str(value)


@st.composite
def _spelled(draw: st.DrawFn, value: object, wire: bool) -> object:
    """``value`` as :func:`_wire` sends it, or in another spelling the wire accepts for the same
    value (``docs/semantics.md`` §6.1): a boolean in any letter case (``true``, ``FALSE``), an
    integer with leading zeros or a ``+`` (``007``, ``+7``)."""
    sent = _wire(value, wire)
    if not isinstance(sent, str) or draw(st.booleans()):
        return sent
    if isinstance(value, bool):
        return draw(st.sampled_from((sent.lower(), sent.upper())))
    if isinstance(value, int):
        return draw(st.sampled_from((f"0{sent}", f"+{sent}", f"00{sent}"))) if value >= 0 else f"-0{-value}"
    return sent


def _operation(action: str) -> Operation:
    try:
        return OPERATIONS[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}") from None


@st.composite
def _range_text(draw: st.DrawFn, values: st.SearchStrategy[int]) -> str:
    """A valid range string (``docs/semantics.md`` §3): optional whitespace after ``in``, any run
    of whitespace between the bounds, bounds that may be negative or carry leading zeros."""
    low, high = sorted((draw(values), draw(values)))
    opening, closing = draw(st.sampled_from("[(")), draw(st.sampled_from("])"))
    space = draw(st.sampled_from(("", " ", "  ", "\t")))
    between = draw(st.sampled_from((" ", " ", "  ", "\t", " \t ")))
    pads = [draw(st.sampled_from(("", "", "", "0", "00"))) for _ in range(2)]
    spelled = [f"-{pad}{-n}" if n < 0 else f"{pad}{n}" for pad, n in zip(pads, (low, high))]
    return f"in{space}{opening}{spelled[0]}{between}{spelled[1]}{closing}"


def _text_value(parameter: Parameter) -> st.SearchStrategy[Any]:
    """A value of a text filter: from the field's pool, cut and re-cased for substrings and
    case-insensitive equality, so that such filters still hit."""
    pool = FIELD_POOLS.get(parameter.field or "")
    base = st.sampled_from(pool) if pool else st.text(max_size=8)
    if parameter.match is Match.IEQUAL:
        return base.flatmap(lambda v: st.sampled_from((v, v.lower(), v.upper())))
    if parameter.match is Match.SUBSTRING:
        return base.flatmap(
            lambda v: st.integers(0, max(len(v) - 1, 0)).flatmap(
                lambda i: st.integers(i + 1, max(len(v), i + 1)).map(lambda j: v[i:j])
            )
        ).flatmap(lambda v: st.sampled_from((v, v.upper())))
    return base


def _filter_value(parameter: Parameter) -> st.SearchStrategy[Any]:
    if parameter.values is not None:
        return st.sampled_from([member.value for member in parameter.values])
    if parameter.match is Match.RANGE_STRING:
        pool = FIELD_POOLS.get(parameter.field or "", (0, 100))
        return _range_text(st.one_of(st.sampled_from(pool), st.integers(min(pool), max(pool))))
    if parameter.wire in (WireType.LONG, WireType.INTEGER):
        numbers = FIELD_POOLS.get(parameter.field or "")
        return st.sampled_from(numbers) if numbers else st.integers(-5, 5)
    return _text_value(parameter)


@st.composite
def _request(draw: st.DrawFn, operation: Operation, wire: bool) -> dict[str, object]:
    """Valid parameters of ``operation``, drawn parameter by parameter from its description.

    Besides the plain forms, each parameter is now and then drawn in another form the pages or
    ``docs/semantics.md`` accept for the same request: an empty string (absent, §2.1), ``Lang``
    in any letter case (§6.4), booleans and integers in every accepted spelling (§6.1),
    ``RuleId`` under both its names at once, a LogQueryOpJson key repeated (or given with its
    alias) with the same ``isContain`` (§4.4), and ``RegionId`` (§6.2)."""
    params: dict[str, object] = {}
    sometimes = st.integers(0, 3).map(lambda n: n == 0)
    window = [p for p in operation.parameters if p.match in (Match.WINDOW_START, Match.WINDOW_END)]
    if window:
        pool = _WINDOW_POOLS[window[0].wire]
        bounds = sorted(draw(st.sampled_from(pool)) for _ in window)
        if draw(st.booleans()) and window[0].required:  # often the whole range
            bounds = [min(pool), max(pool)]
        for parameter, value in zip(window, bounds):
            if parameter.required or draw(st.booleans()):
                as_text = wire or parameter.wire is not WireType.WALL_CLOCK or draw(st.booleans())
                params[parameter.name] = draw(_spelled(value, as_text))
    for parameter in operation.parameters:
        role, name = parameter.role, parameter.name
        if parameter in window:
            continue
        if role is Role.NO_EFFECT:
            if draw(sometimes):
                params[name] = draw(st.sampled_from(("cn-hangzhou", "ap-southeast-1")))
        elif role in (Role.PAGE_NUMBER, Role.PAGE_SIZE):
            if parameter.required or draw(st.booleans()):
                high = min(parameter.bounds[1], 6) if role is Role.PAGE_NUMBER and parameter.bounds else None
                low, top = parameter.bounds or (1, 10)
                params[name] = draw(_spelled(draw(st.integers(low, high or top)), wire))
        elif role is Role.LANG:
            if draw(st.booleans()):
                spelling = draw(st.sampled_from(("zh_cn", "en_us", "zh", "en")))
                params[name] = draw(st.sampled_from((spelling, spelling, spelling.upper(), spelling.title())))
        elif role in (Role.GROUP_BY, Role.SHOW_FIELD):
            if draw(st.booleans()):
                params[name] = draw(_spelled(draw(st.booleans()), wire))
        elif role is Role.ECHO:
            if draw(sometimes):
                params[name] = draw(st.sampled_from(("ASYNC-1", "job-2")))
        elif role is Role.NEGATIONS:
            if draw(st.booleans()):
                keys = draw(st.sets(st.sampled_from(sorted(operation.query_keys)), max_size=3))
                if draw(sometimes) and operation.query_key_aliases:  # the alias (else one key in twenty)
                    keys.add(draw(st.sampled_from(sorted(operation.query_key_aliases))))
                chosen = {key: draw(st.booleans()) for key in sorted(keys)}
                for alias, key in operation.query_key_aliases.items():
                    if alias in chosen and key in chosen:
                        chosen[alias] = chosen[key]  # a key and its alias must agree
                ops = [{"queryKey": key, "isContain": keep} for key, keep in chosen.items()]
                if draw(sometimes) and ops:  # a key twice with the same isContain is accepted
                    ops.append(dict(draw(st.sampled_from(ops))))
                params[name] = json.dumps(ops) if wire or draw(st.booleans()) else ops
        elif draw(sometimes) or parameter.required:
            value = draw(_spelled(draw(_filter_value(parameter)), wire))
            spellings = draw(st.sampled_from(((name,), *((a,) for a in parameter.aliases),
                                              *(((name, *parameter.aliases),) if parameter.aliases else ()))))
            params.update((spelling, value) for spelling in spellings)
    for parameter in operation.parameters:  # an empty string counts as absent (§2.1)
        if not parameter.required and parameter.name not in params and not parameter.aliases and draw(sometimes):
            params[parameter.name] = ""
    return params


def requests(action: str, *, wire: bool = True) -> st.SearchStrategy[dict[str, object]]:
    """Valid request parameters of ``action``: as the wire sends them (all strings) or, with
    ``wire=False``, as Python values (ints, bools, datetimes, a list for LogQueryOpJson).

    Every parameter of the operation's description may be drawn; filter values come from the
    same pools as :func:`records` (:data:`FIELD_POOLS`), so requests often match.
    """
    return _request(_operation(action), wire)


Fault = tuple[dict[str, object | None], str]


def faults(operation: Operation) -> list[Fault]:
    """One-fault changes of a valid request of ``operation`` and the error code each must answer,
    derived from its description: bounds, types, documented values, formats, the window, aliases,
    an unknown name, a missing or empty required parameter. ``None`` removes the parameter."""
    out: list[Fault] = [({"Foo": "1"}, "InvalidParameter")]
    if operation.one(Role.LANG) is None:
        out.append(({"Lang": "en_us"}, "InvalidParameter"))
    window: dict[Match, Parameter] = {}
    for parameter in operation.parameters:
        name, kind = parameter.name, parameter.wire
        if parameter.required:
            out += [({name: None}, f"Missing{name}"), ({name: ""}, f"Missing{name}")]
        if parameter.role is Role.LANG:
            out.append(({name: "fr"}, "InvalidParameter"))
        elif parameter.role in (Role.GROUP_BY, Role.SHOW_FIELD):
            out.append(({name: "yes"}, "InvalidParameter"))
        elif parameter.role is Role.NEGATIONS:
            out += [({name: "[{"}, "InvalidParameter"),
                    ({name: '[{"queryKey": "nope", "isContain": false}]'}, "InvalidParameter")]
        elif parameter.bounds is not None:
            low, high = parameter.bounds
            out += [({name: str(high + 1)}, "InvalidParameter"), ({name: str(low - 1)}, "InvalidParameter"),
                    ({name: "1.5"}, "InvalidParameter")]
        elif parameter.values is not None:
            values = [member.value for member in parameter.values]
            wrong = str(max(values) + 1) if isinstance(values[0], int) else str(values[0]).lower() + "_x"
            out.append(({name: wrong}, "InvalidParameter"))
        elif parameter.match is Match.RANGE_STRING:
            out += [({name: "[1 33]"}, "InvalidParameter"), ({name: "in[9 1]"}, "InvalidParameter")]
        elif parameter.match in (Match.WINDOW_START, Match.WINDOW_END):
            window[parameter.match] = parameter
            bad = "yesterday" if kind is WireType.LONG else "2023-05-17T10:00:00"
            out.append(({name: bad}, "InvalidParameter"))
        elif kind in (WireType.LONG, WireType.INTEGER):
            out.append(({name: "x"}, "InvalidParameter"))
        if parameter.aliases:
            pool = FIELD_POOLS.get(parameter.field or "", ("a", "b"))
            out.append(({name: str(pool[0]), parameter.aliases[0]: str(pool[1])}, "InvalidParameter"))
    start, end = window.get(Match.WINDOW_START), window.get(Match.WINDOW_END)
    if start is not None and end is not None:
        late, early = (
            ("2000", "1999") if start.wire is WireType.LONG else ("2023-05-18 00:00:00", "2023-05-17 00:00:00")
        )
        out.append(({start.name: late, end.name: early}, "InvalidParameter"))
    return out


@st.composite
def invalid_requests(draw: st.DrawFn, action: str) -> tuple[dict[str, object], str]:
    """``(params, expected_code)``: a valid request of ``action`` with exactly one fault added
    (a bad bound, type, documented value, format, window, an unknown name, or a missing required
    parameter; :func:`faults`), labelled with the error code the service must answer (HTTP 400
    for all of them)."""
    operation = _operation(action)
    params = draw(requests(action))
    changes, code = draw(st.sampled_from(faults(operation)))
    for name in changes:  # the parameter is given only as the fault says, under any spelling
        for spelling in (name, *_aliases_of(operation, name)):
            params.pop(spelling, None)
    params.update((name, value) for name, value in changes.items() if value is not None)
    return params, code


def _aliases_of(operation: Operation, name: str) -> tuple[str, ...]:
    try:
        parameter = operation.parameter(name)
    except KeyError:
        return ()
    return tuple(n for n in (parameter.name, *parameter.aliases) if n != name)
