"""docs/semantics.md §3-4: range strings and LogQueryOpJson, rule by rule and error by error."""

from __future__ import annotations

import json

import pytest

from dsc_engine.errors import InvalidParameterError
from dsc_engine.query import ast
from dsc_engine.api.operations import OPERATIONS
from dsc_engine.query import params
from dsc_engine.query.params import range_filter

AUDIT = OPERATIONS["DescribeAuditLogs"]
QUERY_KEY_PARAMETERS = AUDIT.query_keys
QUERY_KEY_ALIASES = AUDIT.query_key_aliases


def parse_log_query_op(text: str) -> dict[str, bool]:
    return params.parse_log_query_op(text, "LogQueryOpJson", QUERY_KEY_PARAMETERS, QUERY_KEY_ALIASES)

# -------------------------------------------------------------------------------- range strings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in[1000 2000]", ast.Range("ExecuteTime", 1000, 2000, True, True)),
        ("in (1 33]", ast.Range("ExecuteTime", 1, 33, False, True)),
        ("in(1 33)", ast.Range("ExecuteTime", 1, 33, False, False)),
        ("in   [0 0]", ast.Range("ExecuteTime", 0, 0, True, True)),
        ("in[-5 -1]", ast.Range("ExecuteTime", -5, -1, True, True)),
        ("in[-5\t\n 7)", ast.Range("ExecuteTime", -5, 7, True, False)),
        # Equal bounds with an exclusive side: accepted, matches nothing (not "above").
        ("in(1 1]", ast.Range("ExecuteTime", 1, 1, False, True)),
        ("in[-9223372036854775808 9223372036854775807]",
         ast.Range("ExecuteTime", -(2**63), 2**63 - 1)),
        ("in[-0000000000000000000000001 0000000000000000000000002]", ast.Range("ExecuteTime", -1, 2)),
    ],
)
def test_range_strings(text: str, expected: ast.Range) -> None:
    node = range_filter("ExecuteTimeRange", text, "ExecuteTime")
    assert node == expected
    assert node.pos == -1  # built from a parameter, not from filter text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("in[2 1]", "at offset 3: the lower bound 2 is above the upper bound 1"),
        ("in[1.5 2]", "at offset 4: unexpected character '.' (expected integer)"),
        ("in[0 9223372036854775808]", "at offset 5: the integer is outside the 64-bit range -9223372036854775808..9223372036854775807"),
        ("in[-" + "1" * 5000 + " 0]", "at offset 3: the integer is outside the 64-bit range -9223372036854775808..9223372036854775807"),
        ("IN[1 2]", "at offset 0: the keyword is lower-case 'in'"),
        ("In[1 2]", "at offset 0: the keyword is lower-case 'in'"),
        (" in[1 2]", "at offset 0: unexpected whitespace before 'in'"),
        ("in[ 1 2]", "at offset 3: unexpected whitespace after '['"),
        ("in[1 2 ]", "at offset 6: unexpected whitespace before ']'"),
        ("in[1 2] ", "at offset 7: unexpected text after ']'"),
        ("in[1-2]", "at offset 4: expected whitespace between the two bounds"),
        ("in [1,2]", "at offset 5: unexpected ',' (expected integer)"),
        ("in[1 2", "at offset 6: unexpected end of input (expected ')', ']')"),
        ("in[1]", "at offset 4: unexpected ']' (expected integer)"),
        ("in[1 2 3]", "at offset 7: unexpected '3' (expected ')', ']')"),
        ("in[* 2]", "at offset 3: unexpected '*' (expected integer)"),
        ("in[+1 2]", "at offset 3: unexpected character '+' (expected integer)"),  # no sign but '-'
        ('in["a" "b"]', "at offset 3: unexpected '\"a\"' (expected integer)"),
        ("in{1 2}", "at offset 2: unexpected '{' (expected '(', '[')"),
        ("[1 2]", "at offset 0: unexpected '[' (expected 'in')"),
        ("", "at offset 0: unexpected end of input (expected 'in')"),
        ("1000-2000", "at offset 0: unexpected '1000' (expected 'in')"),
        ("in[1 2]x", "at offset 7: unexpected 'x' (expected end of input)"),
        ("in[1\u30002]", "at offset 4: unexpected character '\\u3000' (a range string takes ASCII whitespace only,"
                          " as it takes ASCII digits only)"),
        ("in[1\x1c2]", "at offset 4: unexpected character '\\x1c' (a range string takes ASCII whitespace only,"
                        " as it takes ASCII digits only)"),
        ("in\xa0[1 2]", "at offset 2: unexpected character '\\xa0' (a range string takes ASCII whitespace only,"
                         " as it takes ASCII digits only)"),
    ],
)
def test_range_string_errors_name_the_parameter_and_offset(text: str, reason: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        range_filter("EffectRowRange", text, "EffectRow")
    error = info.value
    assert (error.name, error.value, error.reason.en) == ("EffectRowRange", text, reason)
    assert error.reason.zh.startswith("位置 ")
    assert str(error) == f"EffectRowRange: {reason}"


@pytest.mark.parametrize(
    ("text", "zh"),
    [
        ("in[1,2]", "位置 4：意外的 ','（应为 整数）"),
        ("in[1 2]x", "位置 7：意外的 'x'（应为 输入结束）"),
        ("in", "位置 2：输入意外结束（应为 '('、'['）"),
    ],
)
def test_range_string_reasons_in_chinese_name_what_was_expected_in_chinese(text: str, zh: str) -> None:
    # docs/api.md: a Chinese message is Chinese throughout, the range-string reasons included
    with pytest.raises(InvalidParameterError) as info:
        range_filter("EffectRowRange", text, "EffectRow")
    assert info.value.reason.zh == zh


# ------------------------------------------------------------------------------- LogQueryOpJson

PAGE_EXAMPLE = (
    '[ { "isContain" : false, "queryKey" : "effectRowRange" },'
    ' { "isContain" : false, "queryKey" : "remoteClientIp" } ]'
)


def ops(*pairs: tuple[str, bool]) -> str:
    return json.dumps([{"queryKey": key, "isContain": keep} for key, keep in pairs])


def test_the_pages_example_with_the_remote_client_ip_alias() -> None:
    assert parse_log_query_op(PAGE_EXAMPLE) == {"effectRowRange": False, "clientIp": False}


def test_every_documented_key_is_accepted_and_mapped_to_its_parameter() -> None:
    keys = [k for k in QUERY_KEY_PARAMETERS if k not in QUERY_KEY_ALIASES]
    assert len(keys) == 19
    assert parse_log_query_op(ops(*((k, True) for k in keys))) == dict.fromkeys(keys, True)
    assert QUERY_KEY_PARAMETERS["userName"] == "UserName"
    assert QUERY_KEY_PARAMETERS["executeTimeRange"] == "ExecuteTimeRange"
    assert QUERY_KEY_PARAMETERS["ruleId"] == "RuleId"
    assert QUERY_KEY_PARAMETERS["remoteClientIp"] == "ClientIp"
    assert all(param[0].isupper() and param[1:] == key[1:] for key, param in QUERY_KEY_PARAMETERS.items() if key not in QUERY_KEY_ALIASES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[]", {}),
        (ops(("userName", True), ("userName", True)), {"userName": True}),
        (ops(("clientIp", False), ("remoteClientIp", False)), {"clientIp": False}),
        (ops(("sqlText", True), ("message", False)), {"sqlText": True, "message": False}),
    ],
)
def test_valid_documents(text: str, expected: dict[str, bool]) -> None:
    assert parse_log_query_op(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[", "at offset 1: not valid JSON: Expecting value"),
        ("", "at offset 0: not valid JSON: Expecting value"),
        ("\ufeff[]", "at offset 0: not valid JSON: a byte order mark (U+FEFF) comes before it"),
        # with its offset, as every other JSON fault (it was said without one)
        ("[NaN]", "at offset 1: not valid JSON: NaN is not a JSON value"),  # was "element 0: expected an object, not a number"
        ('[{"queryKey": "userName", "isContain": -Infinity}]', "at offset 39: not valid JSON: -Infinity is not a JSON value"),
        ('[{"queryKey": "NaN", "isContain": Infinity}]', "at offset 34: not valid JSON: Infinity is not a JSON value"),
        ("[{'queryKey': 'userName'}]", "at offset 2: not valid JSON: Expecting property name enclosed in double quotes"),
        ('{"queryKey": "userName", "isContain": false}', 'expected a JSON array of {"queryKey", "isContain"} objects, not an object'),
        ('"userName"', 'expected a JSON array of {"queryKey", "isContain"} objects, not a string'),
        ("[1]", "element 0: expected an object, not a number"),
        ("[null]", "element 0: expected an object, not null"),
        ('[{"isContain": true}]', "element 0: missing 'queryKey'"),
        ('[{"queryKey": "userName"}]', "element 0: missing 'isContain'"),
        ('[{"queryKey": 3, "isContain": true}]', "element 0: queryKey must be a string, not a number"),
        ('[{"queryKey": "userName", "isContain": "false"}]', "element 0: isContain must be true or false, not a string"),
        ('[{"queryKey": "userName", "isContain": 0}]', "element 0: isContain must be true or false, not a number"),
        ('[{"queryKey": "userName", "isContain": true, "op": "and"}]', "element 0: unknown field 'op' (an element has only queryKey and isContain)"),
        ('[{"queryKey": "userName", "queryKey": "ruleId", "isContain": true}]', "element 0: names 'queryKey' twice"),
        # which element: it named none
        ('[{"queryKey": "userName", "isContain": true}, {"queryKey": "ruleId", "isContain": true, "isContain": false}]',
         "element 1: names 'isContain' twice"),
        ('{"queryKey": "userName", "queryKey": "ruleId"}', "an object names 'queryKey' twice"),
        (ops(("startTime", False)), "element 0: the time window ('startTime') is not a query key; it cannot be negated"),
        (ops(("userName", True), ("endTime", False)),
         "element 1: the time window ('endTime') is not a query key; it cannot be negated"),
        # isContain true negates nothing: the refusal says the key is none, not only that it cannot be negated
        (ops(("startTime", True)), "element 0: the time window ('startTime') is not a query key; it cannot be negated"),
        (ops(("userName", True), ("userName", False)), "element 1: queryKey 'userName' repeats element 0 with a different isContain"),
        (ops(("remoteClientIp", False), ("clientIp", True)), "element 1: queryKey 'clientIp' repeats element 0 with a different isContain"),
        ("[" * 100_000, "arrays or objects nested too deeply"),
    ],
)
def test_invalid_documents(text: str, reason: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse_log_query_op(text)
    assert (info.value.name, info.value.value, info.value.reason.en) == ("LogQueryOpJson", text, reason)
    assert info.value.reason.zh and info.value.reason.zh != reason  # a Chinese sentence of its own


def test_unknown_key_lists_the_keys_and_suggests_the_closest() -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse_log_query_op(ops(("userNme", True)))
    reason = info.value.reason.en
    assert reason.startswith("element 0: unknown queryKey 'userNme'; did you mean 'userName'? (keys: ")
    assert "remoteClientIp" in reason and "logSource" in reason
    with pytest.raises(InvalidParameterError, match="unknown queryKey 'UserName'"):
        parse_log_query_op(ops(("UserName", True)))  # keys are camelCase, case-sensitive
