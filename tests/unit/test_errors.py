"""The error hierarchy: caret lines, located errors, localised reasons."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import pytest

from dsc_engine import ApiError, Engine
from dsc_engine.server.config import load_config
from dsc_engine.errors import (
    DscError,
    FilterSyntaxError,
    InvalidParameterError,
    Reason,
    RecordError,
    SnapshotError,
    caret_line,
)


def test_a_long_line_is_shown_around_the_fault_with_the_caret_under_it() -> None:
    # a syntax error in a filter of thousands of conditions on one line printed the whole line
    # (a megabyte); the line is cut to SHOWN_BEFORE characters before the fault, SHOWN_AFTER from it
    from dsc_engine.errors import SHOWN_AFTER, SHOWN_BEFORE

    text = " or ".join(f'UserName = "u{i}"' for i in range(1000))
    offset = text.index('"u500"')
    line, column, rendered = caret_line(text, offset)
    shown, caret = rendered.split("\n")
    assert (line, column) == (1, offset + 1)
    assert shown == "…" + text[offset - SHOWN_BEFORE : offset + SHOWN_AFTER] + "…"
    assert shown[caret.index("^")] == '"'
    assert caret_line(text, 3)[2].split("\n")[0] == text[: 3 + SHOWN_AFTER] + "…"  # nothing cut before
    end = caret_line(text, len(text))[2].split("\n")
    assert end[0] == "…" + text[-SHOWN_BEFORE:] and len(end[1]) == len(end[0]) + 1
    wide = "名" * 200 + " = 1"
    shown, caret = caret_line(wide, 150)[2].split("\n")
    assert shown == "…" + "名" * (SHOWN_BEFORE + SHOWN_AFTER) + "…" and caret == " " * (1 + 2 * SHOWN_BEFORE) + "^"


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


def _raised(call: Callable[[], object]) -> DscError:
    try:
        call()
    except DscError as exc:
        return exc
    raise AssertionError("nothing was raised")


RAISING: dict[str, Callable[[], object]] = {
    "ApiError": lambda: Engine().describe_audit_logs(PageSize=500),
    "RecordError": lambda: Engine().load([None]),
    "FilterSyntaxError": lambda: Engine().query("audit", "UserName =="),
    "FilterFieldError": lambda: Engine().query("audit", "Nope = 1"),
    "InvalidParameterError": lambda: Engine().query("audits", ""),
    "BackendError": lambda: Engine.connect("foo://x"),
    "ImportFailure": lambda: Engine().load("/nonexistent/logs.jsonl"),
    "ServerConfigError": lambda: load_config("/nonexistent/server.toml"),
}


@pytest.mark.parametrize("name", list(RAISING))
@pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy"])
def test_an_error_survives_pickling_and_copying(name: str, how: str) -> None:
    """Errors cross process boundaries (a ProcessPoolExecutor's worker, multiprocessing) by
    pickle, and copy.copy uses the same protocol: each was rebuilt by calling its class with
    its message alone (``__init__() missing 2 required positional arguments``), so a worker's
    error broke the pool instead of reaching the caller."""
    error = _raised(RAISING[name])
    assert type(error).__name__ == name
    again = {"pickle": lambda e: pickle.loads(pickle.dumps(e)), "copy": copy.copy, "deepcopy": copy.deepcopy}[how](
        error
    )
    assert type(again) is type(error)
    assert (str(again), again.args, vars(again)) == (str(error), error.args, vars(error))
    if isinstance(error, ApiError):
        assert isinstance(again, ApiError) and again.body == error.body
