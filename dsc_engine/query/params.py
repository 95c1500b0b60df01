"""The API-parameter front end of the filter language: range strings and LogQueryOpJson.

- :func:`range_filter` reads a range string (``ExecuteTimeRange``, ``EffectRowRange``:
  ``in[1000 2000]``, ``in (1 33]``) into an :class:`ast.Range`, using the ``range_string`` start
  rule of the filter grammar (``docs/semantics.md`` §3).
- :func:`parse_log_query_op` validates ``LogQueryOpJson`` and returns which query keys are kept
  (``isContain: true``) or negated (``false``) (§4).

Both raise :class:`InvalidParameterError` naming the parameter and the value, with the reason in
English and Chinese (a :class:`Reason` pair) and, for range strings, the offset of the fault.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedInput

from dsc_engine.errors import InvalidParameterError, Reason
from dsc_engine.models.records import INT64_MAX, INT64_MIN
from dsc_engine.query import ast, grammar
from dsc_engine.query.binding import at
from dsc_engine.query.parse import Fault, expected_terminals, fault_of
from dsc_engine.wire.strictjson import NotJson, RepeatedKey, no_constant, unique_keys
from dsc_engine.wire.types import read_integer

# ------------------------------------------------------------------------------ range strings


def range_filter(param: str, text: str, field: str) -> ast.Range:
    """The range of field ``field`` that the range string ``text`` of parameter ``param`` names.

    The form: lower-case ``in``, optional whitespace, ``[`` or ``(``, an integer, whitespace, an
    integer, ``]`` or ``)``; nothing before or after. Square brackets include their bound, round
    ones exclude it; integers may be negative and must fit a signed 64-bit integer. A lower bound
    above the upper bound is an error; equal bounds with an exclusive side (``in(1 1]``) are
    accepted and match nothing.
    """
    try:
        tree = grammar.parser().parse(text, start="range_string")
    except UnexpectedInput as exc:
        fault = fault_of(text, exc)
        expected = expected_terminals(exc)
        raise _invalid_range(
            param, text, fault.offset,
            f"{fault.english(name_tokens=False)} (expected {', '.join(expected)})",
            f"{_found_zh(fault)}（应为 {'、'.join(_TERMINALS_ZH.get(name, name) for name in expected)}）",
        ) from exc
    keyword, opening, low, high, closing = tree.scan_values(lambda v: isinstance(v, Token))
    _check_layout(param, text, keyword, opening, low, high, closing)
    low_value, high_value = _bound(param, text, low), _bound(param, text, high)
    if low_value > high_value:
        raise _invalid_range(
            param, text, at(low),
            f"the lower bound {low_value} is above the upper bound {high_value}",
            f"下界 {low_value} 大于上界 {high_value}",
        )
    return ast.Range(field, low_value, high_value, opening == "[", closing == "]")


def _invalid_range(param: str, text: str, offset: int, en: str, zh: str) -> InvalidParameterError:
    return InvalidParameterError(param, text, Reason(f"at offset {offset}: {en}", f"位置 {offset}：{zh}"))


#: The readable terminal names that are words (``grammar.terminal_names``), in Chinese; the others
#: are symbols (``'['``, ``'in'``) and read the same in both languages.
_TERMINALS_ZH = {"integer": "整数", "end of input": "输入结束", "whitespace": "空白", "string": "字符串",
                 "field name": "字段名"}


def _found_zh(fault: Fault) -> str:
    if fault.found == "end":
        return "输入意外结束"
    if fault.found == "character":
        return f"意外的字符 {fault.text!r}"
    if fault.found == "string":
        return "字符串未结束"
    return f"意外的 {fault.text!r}"


def _bound(param: str, text: str, token: Token) -> int:
    value = read_integer(str(token))
    if value is None:
        raise _invalid_range(
            param, text, at(token),
            f"the integer is outside the 64-bit range {INT64_MIN}..{INT64_MAX}",
            f"整数超出 64 位范围 {INT64_MIN}..{INT64_MAX}",
        )
    return value


def _check_layout(param: str, text: str, *tokens: Token) -> None:
    """What the grammar leaves open in the API form: the keyword's case and where spaces go."""
    keyword, opening, low, high, closing = tokens

    def end(token: Token) -> int:
        return token.end_pos or 0

    faults = (
        (at(keyword) != 0, 0, "unexpected whitespace before 'in'", "'in' 之前不应有空白"),
        (str(keyword) != "in", at(keyword), "the keyword is lower-case 'in'", "关键字应为小写的 'in'"),
        (at(low) != end(opening), end(opening),
         f"unexpected whitespace after {str(opening)!r}", f"{str(opening)!r} 之后不应有空白"),
        (at(high) == end(low), end(low),
         "expected whitespace between the two bounds", "两个边界之间应有空白"),
        (at(closing) != end(high), end(high),
         f"unexpected whitespace before {str(closing)!r}", f"{str(closing)!r} 之前不应有空白"),
        (end(closing) != len(text), end(closing),
         f"unexpected text after {str(closing)!r}", f"{str(closing)!r} 之后不应有其他内容"),
    )
    for fault, offset, en, zh in faults:
        if fault:
            raise _invalid_range(param, text, offset, en, zh)
    for start, stop in ((end(keyword), at(opening)), (end(low), at(high))):
        for offset in range(start, stop):
            if text[offset] not in _ASCII_SPACE:  # what the grammar's whitespace takes beyond ASCII
                raise _invalid_range(
                    param, text, offset,
                    f"unexpected character {text[offset]!r} (a range string takes ASCII whitespace only, as it takes ASCII digits only)",
                    f"意外的字符 {text[offset]!r}（范围字符串只接受 ASCII 空白，如同只接受 ASCII 数字）",
                )


#: The whitespace a range string may hold: ASCII's (the filter language's takes any).
_ASCII_SPACE = frozenset(" \t\n\r\f\v")


# ----------------------------------------------------------------------------- LogQueryOpJson

#: The time window is not a negatable filter (§4.3).
_TIME_KEYS = frozenset({"startTime", "endTime"})
_ELEMENT_KEYS = ("queryKey", "isContain")
_JSON_TYPES_ZH = {
    "null": "null", "a boolean": "布尔值", "a number": "数字", "a string": "字符串",
    "an array": "数组", "an object": "对象",
}


def parse_log_query_op(
    text: str, param: str, keys: Mapping[str, str], aliases: Mapping[str, str]
) -> dict[str, bool]:
    """``{canonical queryKey: isContain}`` from the LogQueryOpJson text of parameter ``param``.

    ``keys`` are the valid query keys (aliases included), ``aliases`` map an alias to its key.
    Rejects invalid JSON, a non-array, an element that is not an object with exactly a string
    ``queryKey`` and a boolean ``isContain``, an unknown key (the time window included), and the
    same key (or its alias) twice with different ``isContain`` values. The same key twice with the
    same value is accepted.
    """

    def invalid(en: str, zh: str) -> InvalidParameterError:
        return InvalidParameterError(param, text, Reason(en, zh))

    try:
        document = json.loads(text, object_pairs_hook=unique_keys, parse_int=_json_integer, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        # Python's words for a byte order mark name a codec the caller never chose
        message = "a byte order mark (U+FEFF) comes before it" if exc.msg.startswith("Unexpected UTF-8 BOM") else exc.msg
        raise invalid(f"at offset {exc.pos}: not valid JSON: {message}", f"位置 {exc.pos}：不是有效的 JSON") from None
    except NotJson as exc:  # Python's reader takes NaN and Infinity; JSON has neither
        at = _constant_offset(text)
        raise invalid(
            f"at offset {at}: not valid JSON: {exc.word} is not a JSON value",
            f"位置 {at}：不是有效的 JSON：{exc.word} 不是 JSON 的值",
        ) from None
    except RepeatedKey as exc:
        index = _element_naming_a_key_twice(text)
        if index is not None:
            raise invalid(f"element {index}: names {exc.key!r} twice", f"第 {index} 个元素：两次给出 {exc.key!r}") from None
        raise invalid(f"an object names {exc.key!r} twice", f"某个对象两次给出 {exc.key!r}") from None
    except _HugeNumber as exc:
        raise invalid(
            f"a number of {exc.digits} digits is beyond the signed 64-bit range",
            f"一个 {exc.digits} 位的数字超出了 64 位有符号整数的范围",
        ) from None
    except RecursionError:  # json's scanner recurses once per nested array or object
        raise invalid("arrays or objects nested too deeply", "数组或对象嵌套过深") from None
    if not isinstance(document, list):
        kind = _json_type(document)
        raise invalid(
            f'expected a JSON array of {{"queryKey", "isContain"}} objects, not {kind}',
            f'应为由 {{"queryKey", "isContain"}} 对象组成的 JSON 数组，而不是{_JSON_TYPES_ZH[kind]}',
        )
    result: dict[str, bool] = {}
    first_at: dict[str, int] = {}
    for index, element in enumerate(document):
        key, is_contain = _element(invalid, index, element, keys, aliases)
        if key in result and result[key] != is_contain:
            raise invalid(
                f"element {index}: queryKey {element['queryKey']!r} repeats element "
                f"{first_at[key]} with a different isContain",
                f"第 {index} 个元素：queryKey {element['queryKey']!r} 与第 {first_at[key]} 个元素重复，"
                "但 isContain 不同",
            )
        result.setdefault(key, is_contain)
        first_at.setdefault(key, index)
    return result


def _element(
    invalid: Any, index: int, element: Any, keys: Mapping[str, str], aliases: Mapping[str, str]
) -> tuple[str, bool]:
    en, zh = f"element {index}", f"第 {index} 个元素"
    if not isinstance(element, dict):
        kind = _json_type(element)
        raise invalid(f"{en}: expected an object, not {kind}", f"{zh}：应为对象，而不是{_JSON_TYPES_ZH[kind]}")
    for name in _ELEMENT_KEYS:
        if name not in element:
            raise invalid(f"{en}: missing {name!r}", f"{zh}：缺少 {name!r}")
    extra = sorted(set(element) - set(_ELEMENT_KEYS))
    if extra:
        raise invalid(
            f"{en}: unknown field {extra[0]!r} (an element has only queryKey and isContain)",
            f"{zh}：未知字段 {extra[0]!r}（元素只有 queryKey 和 isContain）",
        )
    key, is_contain = element["queryKey"], element["isContain"]
    if not isinstance(key, str):
        kind = _json_type(key)
        raise invalid(f"{en}: queryKey must be a string, not {kind}", f"{zh}：queryKey 必须是字符串，而不是{_JSON_TYPES_ZH[kind]}")
    if not isinstance(is_contain, bool):
        kind = _json_type(is_contain)
        raise invalid(
            f"{en}: isContain must be true or false, not {kind}",
            f"{zh}：isContain 必须是 true 或 false，而不是{_JSON_TYPES_ZH[kind]}",
        )
    if key in _TIME_KEYS:
        # said so whatever isContain is: with true, "cannot be negated" alone reads as if it had been
        raise invalid(
            f"{en}: the time window ({key!r}) is not a query key; it cannot be negated",
            f"{zh}：时间窗口（{key!r}）不是 queryKey，不能取反",
        )
    if key not in keys:
        close = difflib.get_close_matches(key, list(keys), n=1)
        listed = ", ".join(keys)
        raise invalid(
            f"{en}: unknown queryKey {key!r}{f'; did you mean {close[0]!r}?' if close else ''} (keys: {listed})",
            f"{zh}：未知的 queryKey {key!r}{f'；您是否想用 {close[0]!r}？' if close else ''}（可用的键：{listed}）",
        )
    return aliases.get(key, key), is_contain


class _HugeNumber(ValueError):
    """Internal: a JSON integer beyond 64 bits (Python refuses to convert 4,300+ digits)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits
        super().__init__(digits)


#: A JSON string (skipped whole) or one of the words Python's reader takes for a number.
_STRING_OR_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)')


def _constant_offset(text: str) -> int:
    """The offset of the first ``NaN``/``Infinity`` outside a string (the reader's hook is not told it)."""
    for match in _STRING_OR_CONSTANT.finditer(text):
        if match.group(1):
            return match.start(1)
    return 0  # not reached: the reader met one


#: What :func:`_element_naming_a_key_twice` reads an object naming a key twice as.
_REPEATS = object()


def _element_naming_a_key_twice(text: str) -> int | None:
    """The index of the array element that names a key twice (itself, or an object it holds), in
    a document the strict reader refused for it: read again, such objects as :data:`_REPEATS`."""
    def mark(pairs: list[tuple[str, Any]]) -> Any:
        return _REPEATS if len({key for key, _ in pairs}) < len(pairs) else dict(pairs)

    document = json.loads(text, object_pairs_hook=mark, parse_int=_json_integer, parse_constant=no_constant)
    if isinstance(document, list):
        for index, element in enumerate(document):
            if element is _REPEATS or (isinstance(element, dict) and _REPEATS in element.values()):
                return index
    return None


def _json_integer(text: str) -> int:
    value = read_integer(text)
    if value is None:
        raise _HugeNumber(len(text.lstrip("-")))
    return value


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
