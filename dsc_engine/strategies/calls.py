"""Hypothesis strategies of requests of the three operations, derived from their descriptions
(``api/operations/``): valid parameters (:func:`requests`), and one-fault changes labelled with
the error code each must produce (:func:`faults`, :func:`invalid_requests`). Filter values come
from the record pools of ``logs.py``. Public through :mod:`dsc_engine.strategies`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import strategies as st

from dsc_engine.api.operations import OPERATIONS
from dsc_engine.api.spec import Match, Operation, Parameter, Role, WireType
from dsc_engine.strategies.logs import (
    CLIENT_IPS,
    CLIENT_UAS,
    COLUMN_NAMES,
    DATABASE_NAMES,
    DMS_TIMES,
    INSTANCE_NAMES,
    IP_TYPES,
    LOG_SOURCES,
    MEMBER_ACCOUNTS,
    MESSAGES,
    OPERATE_TYPES,
    OSS_KEYS,
    PRODUCT_CODES,
    RULE_CATEGORIES,
    RULE_IDS,
    RULE_NAMES,
    SQL_TEXTS,
    TABLE_NAMES,
    TASK_IDS,
    TIDS,
    TIMES_MS,
    USER_NAMES,
)
from dsc_engine.wire.times import format_dms_time


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


def faults(operation: Operation | str) -> list[Fault]:
    """One-fault changes of a valid request of ``operation`` (its description, or its action's
    name) and the error code each must answer, derived from its description: bounds, types,
    documented values, formats, the window, aliases, an unknown name, a missing or empty required
    parameter. ``None`` removes the parameter."""
    if isinstance(operation, str):
        operation = _operation(operation)
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
