"""parse_filter: each construct's AST, precedence, case rules, and located errors."""

from __future__ import annotations

import datetime as dt
import functools
import json
import tracemalloc
from collections.abc import Callable

import pytest
from hypothesis import given
from lark import Lark
from hypothesis import strategies as st

from dsc_engine.errors import FilterFieldError, FilterSyntaxError, InvalidParameterError
from dsc_engine.models import RecordKind
from dsc_engine.query import ast, grammar
from dsc_engine.query import parse as parse_module
from dsc_engine.query.parse import MAX_DEPTH, parse_filter

AUDIT, RUNS, DMS = RecordKind.AUDIT_LOG, RecordKind.MASKING_RUN, RecordKind.DMS_LOG
EQ, NE, LT, LE, GT, GE = (
    ast.CompareOp.EQ,
    ast.CompareOp.NE,
    ast.CompareOp.LT,
    ast.CompareOp.LE,
    ast.CompareOp.GT,
    ast.CompareOp.GE,
)


def user(name: str) -> ast.Node:
    return ast.Compare("UserName", EQ, name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('UserName = "bob"', user("bob")),
        ('UserName != "bob"', ast.Compare("UserName", NE, "bob")),
        ("EffectRow < 5", ast.Compare("EffectRow", LT, 5)),
        ("EffectRow <= -5", ast.Compare("EffectRow", LE, -5)),
        ("EffectRow > 0", ast.Compare("EffectRow", GT, 0)),
        ("EffectRow>=12", ast.Compare("EffectRow", GE, 12)),
        ("EffectRow = 9223372036854775807", ast.Compare("EffectRow", EQ, 2**63 - 1)),
        ("InWhiteList = true", ast.Compare("InWhiteList", EQ, True)),
        ("InWhiteList != FALSE", ast.Compare("InWhiteList", NE, False)),
        ('OperateType ieq "drop"', ast.EqualsIgnoreCase("OperateType", "drop")),
        ('SqlText contains "select"', ast.Contains("SqlText", "select")),
        ('SqlText startswith "sel"', ast.StartsWith("SqlText", "sel")),
        ("ExecuteTime in[1000 2000]", ast.Range("ExecuteTime", 1000, 2000, True, True)),
        ("EffectRow in (1 33]", ast.Range("EffectRow", 1, 33, False, True)),
        ("EffectRow in [-3 -1)", ast.Range("EffectRow", -3, -1, True, False)),
        ("EffectRow in (* 10]", ast.Range("EffectRow", None, 10, False, True)),
        ("EffectRow in [10 *]", ast.Range("EffectRow", 10, None, True, True)),
        ("EffectRow in (1 1]", ast.Range("EffectRow", 1, 1, False, True)),
        (
            'OperateType in {"Drop", "Delete", "Drop"}',
            ast.InSet("OperateType", ("Drop", "Delete")),
        ),
        ("EffectRow in {3}", ast.InSet("EffectRow", (3,))),
        ("", ast.MatchAll()),
        ("  \t\n ", ast.MatchAll()),
        ("()", ast.MatchAll()),
        ("not ()", ast.Not(ast.MatchAll())),
        ('((UserName = "bob"))', user("bob")),
    ],
)
def test_each_construct_builds_its_node(text: str, expected: ast.Node) -> None:
    assert parse_filter(text, AUDIT) == expected


@pytest.mark.parametrize("text", ["", "  \t\n ", "\u00a0\u2003\u3000"])
def test_blank_filters_are_match_all_without_the_parser(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command or call without a filter does not pay for building the grammar's parser."""

    def no_parser() -> None:
        raise AssertionError("the parser was built for a blank filter")

    monkeypatch.setattr(grammar, "parser", no_parser)
    parse_module._parsed.cache_clear()  # "()" below may have been parsed (and kept) before
    assert parse_filter(text, AUDIT) == ast.MatchAll(pos=0)
    with pytest.raises(AssertionError, match="parser was built"):
        parse_filter("()", AUDIT)


def test_any_entry_binds_entry_fields() -> None:
    node = parse_filter('SensitiveDataLog any (TableName = "t" and ColumnName = "c")', DMS)
    assert node == ast.AnyEntry(
        "SensitiveDataLog",
        ast.And((ast.Compare("TableName", EQ, "t"), ast.Compare("ColumnName", EQ, "c"))),
    )
    assert parse_filter("sensitivedatalog ANY ()", DMS) == ast.AnyEntry(
        "SensitiveDataLog", ast.MatchAll()
    )


def test_precedence_not_binds_tighter_than_and_tighter_than_or() -> None:
    node = parse_filter('not UserName = "a" and UserName = "b" or UserName = "c"', AUDIT)
    assert node == ast.Or((ast.And((ast.Not(user("a")), user("b"))), user("c")))
    grouped = parse_filter('not (UserName = "a" or UserName = "b") and UserName = "c"', AUDIT)
    assert grouped == ast.And((ast.Not(ast.Or((user("a"), user("b")))), user("c")))


def test_and_and_or_are_n_ary_and_flattened() -> None:
    three = ast.And((user("a"), user("b"), user("c")))
    assert parse_filter('UserName = "a" and UserName = "b" and UserName = "c"', AUDIT) == three
    assert parse_filter('(UserName = "a" and UserName = "b") and UserName = "c"', AUDIT) == three
    assert parse_filter('UserName = "a" or (UserName = "b" or UserName = "c")', AUDIT) == ast.Or(
        (user("a"), user("b"), user("c"))
    )


@pytest.mark.parametrize(
    "text",
    [
        'username = "x" AND username = "y" Or NOT username = "z"',
        'USERNAME = "x" and UserName = "y" OR not userName = "z"',
    ],
)
def test_keywords_and_field_names_are_case_insensitive(text: str) -> None:
    expected = ast.Or((ast.And((user("x"), user("y"))), ast.Not(user("z"))))
    assert parse_filter(text, AUDIT) == expected


def test_keywords_inside_field_names_do_not_split_them() -> None:
    # "ANDroid" and "ORder" start with keywords; the lexer reads them as (unknown) field names.
    with pytest.raises(FilterFieldError, match="'ANDroid'"):
        parse_filter('ANDroid = "x"', AUDIT)
    assert parse_filter("InstanceName startswith \"rm\"", AUDIT) == ast.StartsWith(
        "InstanceName", "rm"
    )


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r'"a\"b"', 'a"b'),
        (r'"back\\slash"', "back\\slash"),
        (r'"line\nbreak\ttab"', "line\nbreak\ttab"),
        (r'"\u00e9\/"', "é/"),
        ('"raw é 中文"', "raw é 中文"),
        ('""', ""),
    ],
)
def test_string_escapes(literal: str, value: str) -> None:
    assert parse_filter(f"UserName = {literal}", AUDIT) == user(value)


def test_positions_come_from_tokens() -> None:
    node = parse_filter('not UserName = "a" and  EffectRow > 1', AUDIT)
    assert isinstance(node, ast.And)
    negation, compare = node.items
    assert (node.pos, negation.pos, negation.item.pos, compare.pos) == (0, 0, 4, 24)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------- time literals


@pytest.mark.parametrize(
    ("literal", "millis"),
    [
        ("1714557600000", 1714557600000),
        ('"2024-05-01T10:00:00Z"', 1714557600000),
        ('"2024-05-01T18:00:00+08:00"', 1714557600000),
        ('"2024-05-01T10:00:00"', 1714557600000),  # naive means UTC
        ('"2024-05-01 10:00:00"', 1714557600000),
        ('"2024-05-01 10:00:00.250"', 1714557600250),
        ('"2024-05-01"', 1714521600000),
        ('"1969-12-31T23:59:59.999Z"', -1),
    ],
)
def test_sddp_time_literals_become_utc_milliseconds(literal: str, millis: int) -> None:
    assert parse_filter(f"CreationTime >= {literal}", AUDIT) == ast.Compare(
        "CreationTime", GE, millis
    )


def test_dms_time_literals_are_naive_wall_clock() -> None:
    node = parse_filter('OpTime in ["2024-05-01 10:00:00" "2024-05-01T12:30:00.5")', DMS)
    assert node == ast.Range(
        "OpTime",
        dt.datetime(2024, 5, 1, 10, 0, 0),
        dt.datetime(2024, 5, 1, 12, 30, 0, 500_000),
        True,
        False,
    )


def test_time_literals_in_ranges_of_sddp_fields() -> None:
    node = parse_filter('StartTime in ["2024-05-01" 1714557600000]', RUNS)
    assert node == ast.Range("StartTime", 1714521600000, 1714557600000)


# ---------------------------------------------------------------------------------------- errors


def _error(text: str, kind: RecordKind = AUDIT) -> FilterSyntaxError | FilterFieldError:
    with pytest.raises((FilterSyntaxError, FilterFieldError)) as info:
        parse_filter(text, kind)
    return info.value  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("text", "offset", "message", "expected"),
    [
        ("UserName = ", 11, "unexpected end of input", ("'false'", "'true'", "integer", "string")),
        ('UserName = "a" UserName', 15, "unexpected field name 'UserName'", ("'and'", "'or'", "end of input")),
        ('"abc', 0, "unterminated string", ("'('", "'not'", "end of input", "field name")),
        ("EffectRow in [1, 2]", 15, "unexpected ','", ("'*'", "'false'", "'true'", "integer", "string")),
        ("EffectRow in (1 2", 17, "unexpected end of input", ("')'", "']'")),
        ("EffectRow in {}", 14, "unexpected '}'", ("'false'", "'true'", "integer", "string")),
        ("EffectRow = 1.5", 13, "unexpected character '.'", ("'and'", "'or'", "end of input")),
        ('UserName = "a" and', 18, "unexpected end of input", ("'('", "'not'", "field name")),
        ("(", 1, "unexpected end of input", ("'('", "')'", "'not'", "field name")),
        ('UserName = "a\\q"', 13, "invalid escape in string", ()),
        # a ')' or the end is read ahead by LALR reductions: what fits is named before them
        ('UserName = "a")', 14, "unexpected ')'", ("'and'", "'or'", "end of input")),
        ('(UserName = "a"))', 16, "unexpected ')'", ("'and'", "'or'", "end of input")),
        ('(UserName = "a"', 15, "unexpected end of input", ("')'", "'and'", "'or'")),
        ('(not (EffectRow in [1 2]', 24, "unexpected end of input", ("')'", "'and'", "'or'")),
    ],
)
def test_syntax_errors_are_located(
    text: str, offset: int, message: str, expected: tuple[str, ...]
) -> None:
    error = _error(text)
    assert isinstance(error, FilterSyntaxError)
    assert (error.offset, error.expected) == (offset, expected)
    assert error.message.startswith(message)


@pytest.mark.parametrize(
    ("text", "offset"),
    [("EffectRow in [-10-5]", 17), ("EffectRow in [1-2]", 15), ('CreationTime in [*"2024-05-01")', 18)],
)
def test_the_bounds_of_a_range_are_separated_by_whitespace(text: str, offset: int) -> None:
    # "[-10-5]" lexes as the integers -10 and -5: read as they touch, it was the range -10..-5,
    # not the -10..5 its writer may have meant
    error = _error(text)
    assert isinstance(error, FilterSyntaxError) and error.offset == offset
    assert error.message.startswith("the two bounds of a range are separated by whitespace")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("UserName = 'admin'", "unexpected character \"'\"; strings are written in double quotes: \"admin\""),
        ("UserName = admin", "unexpected field name 'admin'; strings are written in double quotes: \"admin\""),
        ('UserName == "admin"', "unexpected '='; equality is one '='"),
        ("OperateType in {'Drop'}", "unexpected character \"'\"; strings are written in double quotes: \"Drop\""),
        # SQL's set "in (a, b)" opens a range here: the comma says how both are written
        ('OperateType in ("Drop", "Delete")', "unexpected ','; a set is written in braces, in {a, b}; "
         "a range with whitespace between its bounds, in [a b]"),
        ("EffectRow in [1, 2]", "unexpected ','; a set is written in braces, in {a, b}; "
         "a range with whitespace between its bounds, in [a b]"),
    ],
)
def test_a_value_written_as_in_another_language_says_how_to_write_it(text: str, message: str) -> None:
    error = _error(text)
    assert isinstance(error, FilterSyntaxError) and error.message == message


@pytest.mark.parametrize("text", ["ExecuteTime >== 1", "ExecuteTime <== 1", 'UserName !== "a"'])
def test_an_equals_sign_after_another_operator_is_not_called_a_double_equals(text: str) -> None:
    # '>==' is '>=' and a stray '=': saying "equality is one '='" would send the reader to fix
    # an equality they never wrote
    error = _error(text)
    assert isinstance(error, FilterSyntaxError) and error.message == "unexpected '='"


def test_syntax_error_renders_a_caret_line() -> None:
    error = _error('UserName = "a"\n  and = 3')
    assert (error.offset, error.line, error.column) == (21, 2, 7)
    assert str(error) == (
        "unexpected '=' at line 2, column 7:\n"
        "  and = 3\n"
        "      ^\n"
        "expected one of: '(', 'not', field name"
    )


def test_end_of_input_maps_to_the_text_length() -> None:
    text = "EffectRow >   "
    error = _error(text)
    assert error.offset == len(text)


def test_unknown_field_names_the_fields_and_suggests_the_closest() -> None:
    error = _error('  UserNme = "x"')
    assert isinstance(error, FilterFieldError)
    assert error.offset == 2
    assert "unknown field 'UserNme' in audit_log filters; did you mean UserName?" in error.message
    assert "(fields: CreationTime, WarnLevel," in error.message


def test_an_entry_field_named_at_the_top_says_how_to_reach_it() -> None:
    """``TableName = "x"`` over DMS logs was told "did you mean TargetName?"."""
    with pytest.raises(FilterFieldError) as caught:
        parse_filter('tablename = "orders"', RecordKind.DMS_LOG)
    assert "'tablename' in dms_log filters; TableName is a field of its SensitiveDataLog entries: " \
        "SensitiveDataLog any (TableName = ...)" in caught.value.message


@pytest.mark.parametrize("name", ["\u017fqltext", "SqlTe\u212at", "U\u017fERNAME"])
def test_only_ascii_letters_fold_in_field_names(name: str) -> None:
    """Unicode case folding makes a long s an s and a Kelvin sign a k; a field name is matched
    in any case of its ASCII letters only, so such a word names no field."""
    error = _error(f'{name} contains "x"')
    assert isinstance(error, FilterFieldError)
    assert error.message.startswith(f"unknown field {name!r} in audit_log filters; did you mean ")


@pytest.mark.parametrize(("text", "column", "keyword"), [
    ('UserName = "a" and and', 20, "and"),
    ('UserName = "a" or or UserName = "b"', 19, "or"),
    ('UserName = "a" and OR', 20, "OR"),
    ('not and UserName = "a"', 5, "and"),
])
def test_a_keyword_where_a_field_name_is_due_is_named_where_it_stands(text: str, column: int, keyword: str) -> None:
    """Keywords are reserved: one where a field name is due is the error, at its own column, not
    read as a field name that then misses its operator at the end of the text."""
    error = _error(text)
    assert isinstance(error, FilterSyntaxError)
    assert str(error).startswith(f"unexpected {keyword!r} at line 1, column {column}:")
    assert error.offset == column - 1


def test_entry_fields_are_checked_against_the_entry_catalog() -> None:
    error = _error('SensitiveDataLog any (UserName = "x")', DMS)
    assert isinstance(error, FilterFieldError)
    assert error.offset == 22
    assert "in SensitiveDataLog entry filters" in error.message
    assert "TableName, ColumnName" in error.message


@pytest.mark.parametrize(
    ("text", "kind", "offset", "fragment"),
    [
        ('EffectRow = "5"', AUDIT, 12, "EffectRow is an integer field; it cannot be compared with string"),
        ("UserName = 5", AUDIT, 11, "UserName is a string field"),
        # a boolean literal was named twice ("cannot be compared with true true")
        ("UserName = true", AUDIT, 11, "UserName is a string field; it cannot be compared with the boolean true ("),
        ("EffectRow in {1, FALSE}", AUDIT, 17, "it cannot be compared with the boolean FALSE ("),
        ("SqlText contains true", AUDIT, 17, "'contains' takes a string, not the boolean true"),
        ("InWhiteList = 1", AUDIT, 14, "expected true or false"),
        ('WarnLevel = 4', AUDIT, 12, "WarnLevel is a string field"),
        ('Status = "7"', RUNS, 9, "Status is an integer field"),
        ("EffectRow contains \"1\"", AUDIT, 19, "'contains' needs a string field"),
        ("SqlText startswith 1", AUDIT, 19, "'startswith' takes a string, not integer 1"),
        ('UserName < "m"', AUDIT, 11, "'<' needs an integer or time field"),
        ('UserName in ["a" "b"]', AUDIT, 13, "a range needs an integer or time field"),
        ("InWhiteList in [true true]", AUDIT, 16, "a range needs an integer or time field"),
        ("EffectRow in [5 1]", AUDIT, 14, "the lower bound 5 is above the upper bound 1"),
        ("EffectRow = -9223372036854775809", AUDIT, 12, "outside the 64-bit range"),
        ("CreationTime in [0 " + "9" * 5000 + "]", AUDIT, 19, "outside the 64-bit range"),
        ('CreationTime in ["2024-05-02" "2024-05-01"]', AUDIT, 17, "lower bound"),
        ('CreationTime > "yesterday"', AUDIT, 15, "not a time"),
        ('CreationTime > "2024-02-30"', AUDIT, 15, "day is out of range for month"),
        ('CreationTime > "2024-05-01 10:00:00.1234"', AUDIT, 15, "at most 3 fraction digits"),
        ('OpTime > "2024-05-01T10:00:00+08:00"', DMS, 9, "naive wall-clock times; drop the zone '+08:00'"),
        ("OpTime > 1714557600000", DMS, 9, 'expected a time such as "2024-05-01 10:00:00"'),
        ("SensitiveDataLog = 1", DMS, 0, "SensitiveDataLog is a list of entries"),
        ("UserName any (TableName = \"t\")", DMS, 0, "'any' needs a list field (here: SensitiveDataLog)"),
        ("UserName any ()", AUDIT, 0, "'any' needs a list field (here: none in these records)"),
    ],
)
def test_field_and_type_errors_point_at_the_fault(
    text: str, kind: RecordKind, offset: int, fragment: str
) -> None:
    error = _error(text, kind)
    assert isinstance(error, FilterFieldError)
    assert error.offset == offset
    assert fragment in error.message


def test_enum_ieq_accepts_any_case_of_a_member() -> None:
    assert parse_filter('ModuleName ieq "sql_console"', DMS) == ast.EqualsIgnoreCase(
        "ModuleName", "sql_console"
    )


def test_nesting_is_bounded_with_a_located_error() -> None:
    deep = "not " * (MAX_DEPTH + 5) + 'UserName = "x"'
    error = _error(deep)
    assert isinstance(error, FilterSyntaxError)
    assert f"more than {MAX_DEPTH} levels" in error.message
    assert 0 < error.offset < len(deep)
    shallow = "not " * MAX_DEPTH + 'UserName = "x"'
    assert isinstance(parse_filter(shallow, AUDIT), ast.Not)
    # Parentheses alone add no level.
    assert parse_filter("(" * 3000 + 'UserName = "x"' + ")" * 3000, AUDIT) == user("x")


@pytest.mark.parametrize("junction", ["and", "or"])
def test_parenthesised_operands_of_one_junction_add_no_level(junction: str) -> None:
    # a filter built up one condition at a time, f"({text}) {junction} {condition}", is one
    # And (Or) of all its conditions, as "(a and b) and c" is: only alternation nests
    conditions = [f"EffectRow != {i}" for i in range(3 * MAX_DEPTH)]
    flat = parse_filter(f" {junction} ".join(conditions), AUDIT)
    left = conditions[0]
    for condition in conditions[1:]:
        left = f"({left}) {junction} {condition}"
    right = conditions[-1]
    for condition in reversed(conditions[:-1]):
        right = f"{condition} {junction} ({right})"
    assert parse_filter(left, AUDIT) == flat
    assert parse_filter(right, AUDIT) == flat
    entry = f'TableName = "{MAX_DEPTH}"'
    for i in reversed(range(MAX_DEPTH)):
        entry = f'TableName = "{i}" {junction} ({entry})'
    inside = parse_filter(f"SensitiveDataLog any ({entry})", DMS)
    assert isinstance(inside, ast.AnyEntry) and len(inside.condition.items) == MAX_DEPTH + 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "kind"),
    [('WarnLevel = "4"', AUDIT), ('WarnLevel in {"1", "9"}', AUDIT), ("Status = 7", RUNS),
     ('ModuleName ieq "sql_review"', DMS), ('SensitiveDataLog any (SecurityLevel = "Low\\n")', DMS)],
)
def test_fields_with_documented_values_take_any_value_of_their_type(text: str, kind: RecordKind) -> None:
    """Records keep values beyond the pages' lists (docs/decisions.md, "Open values"), so filters
    can name them too."""
    parse_filter(text, kind)


# ------------------------------------------------------------------------ zones of time literals


def test_parse_filter_reads_sddp_times_without_a_zone_in_the_zone_given() -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    at_midnight_utc = parse_filter('CreationTime >= "2026-10-01T00:00:00Z"', AUDIT)
    assert parse_filter('CreationTime >= "2026-10-01 08:00:00"', AUDIT, zone=shanghai) == at_midnight_utc
    # in every construct that takes a time: ranges, sets, not; and a masking run's StartTime
    ranged = parse_filter('not CreationTime in ["2026-10-01" "2026-10-02"]', AUDIT, zone=shanghai)
    assert ranged == parse_filter(
        'not CreationTime in ["2026-09-30T16:00:00Z" "2026-10-01T16:00:00Z"]', AUDIT
    )
    assert parse_filter('StartTime = "2026-10-01 08:00:00"', RUNS, zone=shanghai) == parse_filter(
        'StartTime = "2026-10-01T00:00:00Z"', RUNS
    )
    # integers are instants already, and a literal with its zone keeps it
    assert parse_filter("CreationTime >= 5", AUDIT, zone=shanghai) == parse_filter("CreationTime >= 5", AUDIT)
    assert parse_filter('CreationTime >= "2026-10-01T00:00:00Z"', AUDIT, zone=shanghai) == at_midnight_utc


def test_parse_filter_takes_a_zone_by_name_as_engine_query_does() -> None:
    """``zone="Asia/Shanghai"`` (docs/filter-language.md names ``parse_filter(..., zone=...)``
    beside ``Engine.query(..., zone="Asia/Shanghai")``) was handed to ``datetime`` as it was and
    escaped as a bare ``TypeError``; a zone that is no zone is an ``InvalidParameterError``."""
    text = 'CreationTime >= "2026-10-01 08:00:00"'
    at_midnight_utc = parse_filter('CreationTime >= "2026-10-01T00:00:00Z"', AUDIT)
    assert parse_filter(text, AUDIT, zone="Asia/Shanghai") == at_midnight_utc
    assert parse_filter(text, AUDIT, zone="+08:00") == at_midnight_utc
    with pytest.raises(InvalidParameterError, match="zone: unknown time zone 'Mars/Olympus'"):
        parse_filter(text, AUDIT, zone="Mars/Olympus")
    with pytest.raises(InvalidParameterError, match="zone: a zone is a tzinfo or its name"):
        parse_filter(text, AUDIT, zone=8)  # type: ignore[arg-type]


def test_parse_filter_leaves_dms_wall_clock_times_and_text_alone_in_any_zone() -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    for text, kind in (
        ('OpTime >= "2026-10-01 08:00:00"', DMS),
        ('SensitiveDataLog any (ColumnName = "2026-10-01")', DMS),
        ('UserName = "2026-10-01"', AUDIT),
    ):
        assert parse_filter(text, kind, zone=shanghai) == parse_filter(text, kind)


def test_a_filter_is_parsed_once_per_process_and_its_errors_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A filter text is parsed once (the AST is immutable and shared); a zone or a kind makes it
    another filter; a text that fails is refused each time it comes; a text longer than
    ``_CACHED_TEXT`` is parsed each time (not kept)."""
    parsed: list[str] = []
    real = parse_module._parse
    monkeypatch.setattr(parse_module, "_parse", lambda text, kind, zone: parsed.append(text) or real(text, kind, zone))
    parse_module._parsed.cache_clear()
    text = 'UserName = "cached" and ExecuteTime > 5'
    first = parse_filter(text, AUDIT)
    assert parse_filter(text, AUDIT) is first and parsed == [text]
    shanghai = dt.timezone(dt.timedelta(hours=8))
    time_text = 'CreationTime > "2026-11-30 00:00:00"'
    assert parse_filter(time_text, AUDIT, zone=shanghai) != parse_filter(time_text, AUDIT)
    assert parse_filter('UserName = "cached"', DMS) is not parse_filter('UserName = "cached"', AUDIT)
    for _ in range(2):
        with pytest.raises(FilterFieldError):
            parse_filter('Nope = "x"', AUDIT)
    assert parsed.count('Nope = "x"') == 2
    long_text = " or ".join(f'UserName = "u{i}"' for i in range(300))
    assert len(long_text) > parse_module._CACHED_TEXT
    assert parse_filter(long_text, AUDIT) == parse_filter(long_text, AUDIT) and parsed.count(long_text) == 2


class _Offset(dt.tzinfo):
    """A fixed-offset zone that, like ``dateutil``'s zones, defines ``==`` and so is unhashable;
    its ``==`` looks only at the class (a third-party zone's equality need not mean same rules)."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, hours: int) -> None:
        self.hours = hours

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Offset)

    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(hours=self.hours)

    def dst(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)


class _HashableOffset(_Offset):
    def __hash__(self) -> int:
        return 0


def test_a_filter_in_any_tzinfo_parses_by_that_zones_own_rules() -> None:
    """Only the zones the engine makes itself (``datetime.timezone``, ``ZoneInfo``: equal means
    the same rules) share a parsed filter; another ``tzinfo`` (an unhashable ``dateutil`` zone,
    one whose ``==`` is loose) is parsed each time, never a ``TypeError``, never another zone's AST."""
    text = 'CreationTime > "2026-11-30 00:00:00"'
    expected = {hours: parse_filter(text, AUDIT, zone=dt.timezone(dt.timedelta(hours=hours))) for hours in (8, -5)}
    for zone_class in (_Offset, _HashableOffset):
        for hours in (8, -5, 8):
            assert parse_filter(text, AUDIT, zone=zone_class(hours)) == expected[hours], (zone_class, hours)


class _PytzLike(dt.tzinfo):
    """A zone as ``pytz.timezone("Asia/Shanghai")`` is: set on a time with ``replace`` it gives
    the zone's first offset, local mean time (+08:06); ``localize`` is how pytz means it used."""

    zone = "Asia/Shanghai"

    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(hours=8, minutes=6)

    def dst(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)

    def tzname(self, when: dt.datetime | None) -> str:
        return "LMT"

    def localize(self, when: dt.datetime, is_dst: bool | None = False) -> dt.datetime:
        return when.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_a_pytz_zone_is_read_by_its_name_not_its_local_mean_time() -> None:
    # a time read in a pytz zone was 6 minutes off in Shanghai (56 in New York): replace() puts
    # on the zone's local mean time offset, not the offset in force at that time
    text = 'CreationTime >= "2024-05-01"'
    assert parse_filter(text, AUDIT, zone=_PytzLike()) == parse_filter(text, AUDIT, zone="Asia/Shanghai")


def test_a_real_pytz_zone_gives_the_offset_in_force() -> None:
    pytz = pytest.importorskip("pytz")
    text = 'CreationTime >= "2024-07-01" and CreationTime < "2024-12-01"'
    for name in ("Asia/Shanghai", "America/New_York", "UTC"):
        assert parse_filter(text, AUDIT, zone=pytz.timezone(name)) == parse_filter(text, AUDIT, zone=name)
    assert parse_filter(text, AUDIT, zone=pytz.FixedOffset(330)) == parse_filter(text, AUDIT, zone="+05:30")


def _parsed_with_peak(text: str) -> tuple[ast.Node, int]:
    """The audit-log filter ``text`` parsed, and the most memory the parse held at once."""
    parse_filter('SqlText contains "warm"', AUDIT)  # build the parser outside the measurement
    tracemalloc.start()
    try:
        node = parse_module._parse(text, AUDIT, dt.timezone.utc)
        return node, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("body", ["a" * 200_000, "\\\\" * 100_000, "é\\n" * 60_000], ids=["plain", "escapes", "mixed"])
def test_a_long_string_literal_is_lexed_in_memory_proportional_to_its_length(body: str) -> None:
    # The STRING terminal's regular expression once kept a backtracking mark per character:
    # some 160 bytes for each, so a 10 MB needle took 1.5 GB to lex.
    text = f'SqlText contains "{body}"'
    node, peak = _parsed_with_peak(text)
    assert isinstance(node, ast.Contains)
    assert peak < 20 * len(text)


@pytest.mark.parametrize(
    ("field", "write"), [("EffectRow", str), ("UserName", lambda i: f'"user-{i}"')], ids=["integers", "strings"]
)
def test_a_set_of_many_values_is_parsed_in_a_few_hundred_bytes_a_value(field: str, write: Callable[[int], str]) -> None:
    # Parsed token by token, a set took some 800 bytes (and 20-40 µs) for each value: a set of a
    # million values, 917 MB and 38 s. A set of strings and integers is now one token.
    text = f"{field} in {{" + ", ".join(write(i) for i in range(50_000)) + "}"
    node, peak = _parsed_with_peak(text)
    assert isinstance(node, ast.InSet) and len(node.values) == 50_000
    assert peak < 450 * 50_000


@given(
    values=st.lists(st.one_of(st.text(), st.integers(-(2**70), 2**70)), min_size=1, max_size=12),
    spaces=st.lists(st.sampled_from(["", " ", "\t", "\n ", "\u3000"]), min_size=4, max_size=4),
)
def test_a_set_read_as_one_token_has_the_values_and_offsets_of_one_read_value_by_value(
    values: list[str | int], spaces: list[str]
) -> None:
    """A set of strings and integers is lexed whole (the grammar's LITERAL_SET); its values, and
    the error of a value of the wrong type (message and offset), are those of the same text read
    value by value by a parser whose LITERAL_SET never matches."""
    items = [json.dumps(v) if isinstance(v, str) else str(v) for v in values]
    a, b, c, d = spaces
    body = f",{b}".join(f"{a}{item}{c}" for item in items)
    text = f"UserName in {{{body}{d}}}"
    whole = _parsed_or_error(text)
    assert [t.type for t in grammar.parser().lex(text)] == ["FIELD", "IN", "LITERAL_SET"]
    assert "LITERAL_SET" not in [t.type for t in _value_by_value_parser().lex(text)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grammar, "parser", _value_by_value_parser)
        assert _parsed_or_error(text) == whole
    strings = [v for v in values if isinstance(v, str)]
    if len(strings) == len(values):
        assert whole == ast.InSet("UserName", tuple(dict.fromkeys(strings)))
    else:  # the first integer, where it is written
        first = next(i for i, v in enumerate(values) if not isinstance(v, str))
        offset = text.index("{") + 1 + sum(len(f"{a}{item}{c},{b}") for item in items[:first]) + len(a)
        assert whole == ("FilterFieldError", offset, whole[2]) and f"integer {items[first]}" in str(whole[2])


def _parsed_or_error(text: str) -> object:
    """The AST of an audit-log filter, or its error's type, offset and message (never cached)."""
    try:
        return parse_module._parse(text, AUDIT, dt.timezone.utc)
    except (FilterFieldError, FilterSyntaxError) as exc:
        return (type(exc).__name__, exc.offset, str(exc))


@functools.cache
def _value_by_value_parser() -> Lark:
    """The filter grammar with a LITERAL_SET that never matches: every set is read by in_set."""
    text = grammar.grammar_text()
    start = text.index("LITERAL_SET:")
    end = text.index("\n", start)
    return Lark(text[:start] + "LITERAL_SET: /(?!)x/" + text[end:], parser="lalr", lexer="basic", start=list(grammar.STARTS))


def test_a_set_where_no_set_may_stand_is_an_unexpected_brace() -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter('UserName = {"a", "b"}', AUDIT)
    assert caught.value.offset == 11 and "unexpected '{'" in str(caught.value)
    assert caught.value.expected == ("'false'", "'true'", "integer", "string")


class _NoOffset(dt.tzinfo):
    def utcoffset(self, when: dt.datetime | None) -> None:
        return None


class _DayLong(dt.tzinfo):
    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(hours=30)


@pytest.mark.parametrize("zone", [dt.tzinfo(), _NoOffset(), _DayLong()], ids=["bare", "no-offset", "30-hours"])
def test_a_tzinfo_that_gives_no_usable_offset_is_an_invalid_zone(zone: dt.tzinfo) -> None:
    """A caller's tzinfo whose ``utcoffset`` fails, gives none or gives one of a day or more is
    refused as the zone, whether or not the filter holds a time (it raised NotImplementedError,
    TypeError or ValueError from inside the time's conversion, or passed unseen)."""
    for text in ('CreationTime >= "2024-05-01"', 'UserName = "a"'):
        with pytest.raises(InvalidParameterError) as caught:
            parse_filter(text, AUDIT, zone=zone)
        assert caught.value.name == "zone" and "offset" in str(caught.value)
