"""The API-parameter front end of the filter language (CONTRACT.md section 3).

- :func:`range_filter` reads a DescribeAuditLogs range string (``ExecuteTimeRange``,
  ``EffectRowRange``: ``in[1000 2000]``, ``in (1 33]``) into an :class:`ast.Range`, using the
  ``range_string`` start rule of the filter grammar.
- :func:`parse_log_query_op` validates ``LogQueryOpJson`` and returns which query keys are kept
  (``isContain: true``) or negated (``false``).

Both raise :class:`InvalidParameterError` naming the parameter, the value and, for range strings,
the offset of the fault.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedInput

from dsc_engine.errors import InvalidParameterError
from dsc_engine.query import ast, grammar
from dsc_engine.models.records import INT64_MAX, INT64_MIN
from dsc_engine.query.parse import error_offset, expected_terminals
from dsc_engine.wire.types import read_integer

# ------------------------------------------------------------------------------ range strings


def range_filter(param: str, text: str, field: str) -> ast.Range:
    """The range of field ``field`` that the range string ``text`` of parameter ``param`` names.

    The form (CONTRACT.md section 3): lower-case ``in``, optional whitespace, ``[`` or ``(``, an
    integer, whitespace, an integer, ``]`` or ``)``; nothing before or after. Square brackets
    include their bound, round ones exclude it; integers may be negative and must fit a signed
    64-bit integer (every integer of these APIs is a Java long). A lower bound above the
    upper bound is an error; equal bounds with an exclusive side (``in(1 1]``) are accepted and
    match nothing.
    """
    try:
        tree = grammar.parser().parse(text, start="range_string")
    except UnexpectedInput as exc:
        offset, found = error_offset(text, exc, name_tokens=False)
        expected = ", ".join(expected_terminals(exc))
        raise InvalidParameterError(
            param, text, f"at offset {offset}: {found} (expected {expected})"
        ) from exc
    keyword, opening, low, high, closing = tree.scan_values(lambda v: isinstance(v, Token))
    _check_layout(param, text, keyword, opening, low, high, closing)
    low_value, high_value = _bound(param, text, low), _bound(param, text, high)
    if low_value > high_value:
        raise InvalidParameterError(
            param,
            text,
            f"at offset {low.start_pos}: the lower bound {low_value} is above the upper bound "
            f"{high_value}",
        )
    return ast.Range(field, low_value, high_value, opening == "[", closing == "]")


def _bound(param: str, text: str, token: Token) -> int:
    value = read_integer(str(token))
    if value is None:
        raise InvalidParameterError(
            param,
            text,
            f"at offset {token.start_pos}: the integer is outside the 64-bit range "
            f"{INT64_MIN}..{INT64_MAX}",
        )
    return value


def _check_layout(param: str, text: str, *tokens: Token) -> None:
    """What the grammar leaves open in the API form: the keyword's case and where spaces go."""
    keyword, opening, low, high, closing = tokens
    faults = (
        (keyword.start_pos != 0, 0, "unexpected whitespace before 'in'"),
        (str(keyword) != "in", keyword.start_pos, "the keyword is lower-case 'in'"),
        (low.start_pos != opening.end_pos, opening.end_pos, f"unexpected whitespace after {str(opening)!r}"),
        (high.start_pos == low.end_pos, low.end_pos, "expected whitespace between the two bounds"),
        (closing.start_pos != high.end_pos, high.end_pos, f"unexpected whitespace before {str(closing)!r}"),
        (closing.end_pos != len(text), closing.end_pos, f"unexpected text after {str(closing)!r}"),
    )
    for fault, offset, reason in faults:
        if fault:
            raise InvalidParameterError(param, text, f"at offset {offset}: {reason}")


# ----------------------------------------------------------------------------- LogQueryOpJson

LOG_QUERY_OP = "LogQueryOpJson"

#: Each ``queryKey`` (canonical camelCase, and the documented alias) -> the DescribeAuditLogs
#: parameter whose filter it keeps or negates.
QUERY_KEY_PARAMETERS: Mapping[str, str] = {
    key[0].lower() + key[1:]: key
    for key in (
        "UserName",
        "ClientIp",
        "ClientUa",
        "InstanceName",
        "DatabaseName",
        "ProductCode",
        "ProductId",
        "SqlText",
        "ExecuteTimeRange",
        "EffectRowRange",
        "RuleId",
        "RuleName",
        "OperateType",
        "OssObjectKey",
        "RuleCategory",
        "MemberAccount",
        "IpType",
        "Message",
        "LogSource",
    )
} | {"remoteClientIp": "ClientIp"}

#: Alias -> canonical query key. ``remoteClientIp`` is the page's own example of ``clientIp``.
QUERY_KEY_ALIASES: Mapping[str, str] = {"remoteClientIp": "clientIp"}

#: The time window is not a negatable filter (CONTRACT.md section 3).
_TIME_KEYS = frozenset({"startTime", "endTime"})
_ELEMENT_KEYS = ("queryKey", "isContain")


def parse_log_query_op(text: str) -> dict[str, bool]:
    """``{canonical queryKey: isContain}`` from a LogQueryOpJson text.

    Rejects invalid JSON, a non-array, an element that is not an object with exactly a string
    ``queryKey`` and a boolean ``isContain``, an unknown key (the time window included), and the
    same key (or its alias) twice with different ``isContain`` values. The same key twice with the
    same value is accepted.
    """
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_json_integer)
    except json.JSONDecodeError as exc:
        raise _invalid(text, f"at offset {exc.pos}: not valid JSON: {exc.msg}") from None
    except _DuplicateKey as exc:
        raise _invalid(text, f"an element names {exc.key!r} twice") from None
    except _HugeNumber as exc:
        raise _invalid(text, f"a number of {exc.digits} digits is beyond the signed 64-bit range") from None
    except RecursionError:  # json's scanner recurses once per nested array or object
        raise _invalid(text, "arrays or objects nested too deeply") from None
    if not isinstance(document, list):
        raise _invalid(
            text, f"expected a JSON array of {{\"queryKey\", \"isContain\"}} objects, not {_json_type(document)}"
        )
    result: dict[str, bool] = {}
    first_at: dict[str, int] = {}
    for index, element in enumerate(document):
        key, is_contain = _element(text, index, element)
        if key in result and result[key] != is_contain:
            raise _invalid(
                text,
                f"element {index}: queryKey {element['queryKey']!r} repeats element "
                f"{first_at[key]} with a different isContain",
            )
        result.setdefault(key, is_contain)
        first_at.setdefault(key, index)
    return result


def _element(text: str, index: int, element: Any) -> tuple[str, bool]:
    where = f"element {index}"
    if not isinstance(element, dict):
        raise _invalid(text, f"{where}: expected an object, not {_json_type(element)}")
    for name in _ELEMENT_KEYS:
        if name not in element:
            raise _invalid(text, f"{where}: missing {name!r}")
    extra = sorted(set(element) - set(_ELEMENT_KEYS))
    if extra:
        raise _invalid(
            text, f"{where}: unknown field {extra[0]!r} (an element has only queryKey and isContain)"
        )
    key, is_contain = element["queryKey"], element["isContain"]
    if not isinstance(key, str):
        raise _invalid(text, f"{where}: queryKey must be a string, not {_json_type(key)}")
    if not isinstance(is_contain, bool):
        raise _invalid(text, f"{where}: isContain must be true or false, not {_json_type(is_contain)}")
    if key in _TIME_KEYS:
        raise _invalid(text, f"{where}: the time window ({key!r}) cannot be negated")
    if key not in QUERY_KEY_PARAMETERS:
        close = difflib.get_close_matches(key, list(QUERY_KEY_PARAMETERS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _invalid(
            text,
            f"{where}: unknown queryKey {key!r}{hint} (keys: {', '.join(QUERY_KEY_PARAMETERS)})",
        )
    return QUERY_KEY_ALIASES.get(key, key), is_contain


class _DuplicateKey(ValueError):
    """Internal: a JSON object with a repeated member name (turned into InvalidParameterError)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


class _HugeNumber(ValueError):
    """Internal: a JSON integer beyond 64 bits (Python refuses to convert 4,300+ digits)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits
        super().__init__(digits)


def _json_integer(text: str) -> int:
    value = read_integer(text)
    if value is None:
        raise _HugeNumber(len(text.lstrip("-")))
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _invalid(text: str, reason: str) -> InvalidParameterError:
    return InvalidParameterError(LOG_QUERY_OP, text, reason)
