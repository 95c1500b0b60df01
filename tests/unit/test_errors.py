"""The error hierarchy: caret lines, located errors, localised reasons."""

from __future__ import annotations

from dsc_engine.errors import (
    FilterSyntaxError,
    InvalidParameterError,
    Reason,
    RecordError,
    SnapshotError,
    caret_line,
)


def test_caret_lines_point_at_the_offset_and_past_the_end() -> None:
    assert caret_line("ab\ncd", 4) == (2, 2, "cd\n ^")
    assert caret_line("ab", 99) == (1, 3, "ab\n  ^")
    error = FilterSyntaxError("unexpected 'x'", "a = x", 4, ["string", "integer", "string"])
    assert error.expected == ("integer", "string") and str(error).endswith("expected one of: integer, string")


def test_errors_are_located_once() -> None:
    assert str(RecordError("audit log", "UserName", "expected a string").located("f.jsonl:3")) == (
        "audit log record (f.jsonl:3): key 'UserName': expected a string")
    located = SnapshotError("corrupt: bad checksum").located("x.snap")
    assert (located.path, located.reason, str(located)) == ("x.snap", "corrupt: bad checksum", "x.snap: corrupt: bad checksum")


def test_a_record_error_of_no_kind_or_key_does_not_name_them_empty() -> None:
    """An item whose kind cannot be told read "record record (item 0): key '': cannot tell ..."."""
    assert str(RecordError("record", "", "cannot tell the record kind", "item 0")) == (
        "record (item 0): cannot tell the record kind")
    assert str(RecordError("audit_log", "", "a dms_log record where audit_log was asked", "item 2")) == (
        "audit_log record (item 2): a dms_log record where audit_log was asked")


def test_a_reason_is_a_pair_whose_string_is_the_english_one() -> None:
    error = InvalidParameterError("PageSize", "51", Reason("too big", "太大"))
    assert (str(error), error.reason.zh) == ("PageSize: too big", "太大")


def test_the_caret_stands_under_the_fault_as_a_terminal_shows_the_line() -> None:
    """The caret's padding takes the width each character before it shows with: a tab stays a
    tab, a Chinese character (two columns) two spaces, a combining mark none; characters that
    move the cursor or show nothing (a carriage return, a vertical tab, a bidi mark, a lone
    surrogate, which no terminal can print) are shown escaped, the padding as wide as the
    escape."""
    assert caret_line('a\tb = x', 6)[2] == 'a\tb = x\n \t    ^'
    assert caret_line('名 = "张三" and = 3', 13)[2] == '名 = "张三" and = 3\n' + " " * 16 + "^"
    assert caret_line('e\u0301 = 1 and = 3', 11)[2] == 'e\u0301 = 1 and = 3\n' + " " * 10 + "^"
    assert caret_line('a = "x"\rand = 3', 12)[2] == 'a = "x"\\rand = 3\n' + " " * 13 + "^"
    assert caret_line('a = "\u200f\udc80" x', 9)[2] == 'a = "\\u200f\\udc80" x\n' + " " * 19 + "^"
    assert caret_line('a\x0bb\x85c\u2028d', 7) == (1, 8, 'a\\x0bb\\x85c\\u2028d\n' + " " * 18 + "^")
    assert caret_line('a = 1\r\nand', 7) == (2, 1, "and\n^")  # a Windows line end is no part of a line
    assert caret_line('a = 1\r\nand', 5) == (1, 6, "a = 1\n     ^")
