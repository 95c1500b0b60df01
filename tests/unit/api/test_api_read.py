"""Reading parameters by wire type: integers, booleans, strings, documented values, times, names."""

from __future__ import annotations

import datetime as dt

import pytest

from dsc_engine.api.read import Reader, check_window, read_lang
from dsc_engine.errors import InvalidParameterError, MissingParameterError
from dsc_engine.models import Lang, ModuleName, RunStatus


def reader(**params: object) -> Reader:
    return Reader("Op", params)


@pytest.mark.parametrize(
    ("raw", "expected"), [("10", 10), ("+7", 7), ("-3", -3), ("010", 10), (12, 12), ("", None)]
)
def test_integer_accepts_wire_text_and_ints(raw: object, expected: int | None) -> None:
    assert reader(N=raw).integer("N") == expected


@pytest.mark.parametrize("raw", ["1.0", "1e3", " 1", "ten", True, 1.0, "٣", "9" * 30])
def test_integer_rejects_everything_else(raw: object) -> None:
    with pytest.raises(InvalidParameterError) as info:
        reader(N=raw).integer("N")
    assert info.value.name == "N"
    assert info.value.reason.zh


def test_integer_bounds_are_inclusive_and_never_clamped() -> None:
    assert reader(N="50").integer("N", low=1, high=50) == 50
    with pytest.raises(InvalidParameterError, match="from 1 to 50, got 51"):
        reader(N="51").integer("N", low=1, high=50)
    with pytest.raises(InvalidParameterError):
        reader(N=0).integer("N", low=1, high=50)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("True", True), ("true", True), ("TRUE", True), ("False", False), ("false", False),
     (True, True), (False, False), ("", None), (None, None)],
)
def test_boolean_spellings(raw: object, expected: bool | None) -> None:
    assert reader(B=raw).boolean("B") is expected


@pytest.mark.parametrize("raw", ["1", "0", "yes", "t", 1])
def test_boolean_rejects_other_values(raw: object) -> None:
    with pytest.raises(InvalidParameterError):
        reader(B=raw).boolean("B")


def test_string_is_a_string_only() -> None:
    assert reader(S="admin").string("S") == "admin"
    assert reader(S="").string("S") is None
    with pytest.raises(InvalidParameterError):
        reader(S=5).string("S")


def test_required_empty_is_missing() -> None:
    with pytest.raises(MissingParameterError) as info:
        reader(S="").string("S", required=True)
    assert info.value.name == "S"


def test_choice_by_wire_value() -> None:
    assert reader(Status="-1").choice("Status", RunStatus) is RunStatus.PENDING
    assert reader(M="DATA_EXPORT").choice("M", ModuleName) is ModuleName.DATA_EXPORT
    with pytest.raises(InvalidParameterError):
        reader(Status="5").choice("Status", RunStatus)
    with pytest.raises(InvalidParameterError):
        reader(M="sql_console").choice("M", ModuleName)


def test_wall_clock() -> None:
    assert reader(T="2022-11-18 10:00:00").wall_clock("T") == dt.datetime(2022, 11, 18, 10)
    assert reader(T=dt.datetime(2022, 1, 1)).wall_clock("T") == dt.datetime(2022, 1, 1)
    for bad in ("2022-11-18T10:00:00", "2022-11-18", "2022-13-01 00:00:00"):
        with pytest.raises(InvalidParameterError):
            reader(T=bad).wall_clock("T")
    assert reader().wall_clock("T") is None
    with pytest.raises(MissingParameterError):
        reader().wall_clock("T", required=True)


@pytest.mark.parametrize(("text", "why"), [("2022-02-30 10:00:00", "day"), ("2022-11-18 25:00:00", "hour")])
def test_wall_clock_of_the_right_form_but_no_real_time_says_so(text: str, why: str) -> None:
    # "it must be a time in the form yyyy-MM-dd HH:mm:ss" would send the caller looking at a form
    # that is right; the fault is the date or time itself
    with pytest.raises(InvalidParameterError) as caught:
        reader(T=text).wall_clock("T")
    reason = caught.value.reason
    assert "must be a time in the form" not in reason.en and "no such date or time" in reason.en, reason.en
    assert why in reason.en
    assert "不存在" in reason.zh and "must" not in reason.zh, reason.zh


@pytest.mark.parametrize("text", ["２０２２-11-18 10:00:00", "2022-11-18 1٠:00:00", "2022-11-18 10:00:0\u0969"])
def test_wall_clock_digits_are_ascii_only(text: str) -> None:
    # semantics §6.1: exactly yyyy-MM-dd HH:mm:ss; a time the response would spell otherwise is refused
    with pytest.raises(InvalidParameterError) as caught:
        reader(T=text).wall_clock("T")
    assert caught.value.name == "T"


@pytest.mark.parametrize(
    ("raw", "lang"),
    [(None, Lang.ZH_CN), ("zh_cn", Lang.ZH_CN), ("zh", Lang.ZH_CN), ("en_us", Lang.EN_US),
     ("en", Lang.EN_US), ("EN_US", Lang.EN_US)],
)
def test_lang(raw: str | None, lang: Lang) -> None:
    assert read_lang(reader(Lang=raw)) is lang


def test_lang_rejects_unknown() -> None:
    with pytest.raises(InvalidParameterError):
        read_lang(reader(Lang="fr"))


def test_unknown_names_are_rejected() -> None:
    reader(A="1").check_names({"A"})
    with pytest.raises(InvalidParameterError) as info:
        reader(A="1", pagesize="2").check_names({"A"})
    assert info.value.name == "pagesize"


@pytest.mark.parametrize("value", ["", None])
def test_an_unknown_name_given_empty_is_still_rejected(value: str | None) -> None:
    """Empty counts as absent for the operation's own parameters; a misspelt name is named
    whatever its value (docs/decisions.md, "An unknown name given empty")."""
    with pytest.raises(InvalidParameterError) as info:
        Reader("DescribeAuditLogs", {"PageSze": value}).check_names({"PageSize"})
    assert info.value.name == "PageSze"


@pytest.mark.parametrize(("name", "near"), [("PageSze", "PageSize"), ("pagesize", "PageSize"), ("Usernme", "UserName")])
def test_an_unknown_name_suggests_the_nearest_one(name: str, near: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        Reader("DescribeAuditLogs", {name: "5"}).check_names({"PageSize", "UserName", "Lang"})
    assert info.value.reason.en.endswith(f"has no parameter named {name!r}; did you mean {near}?")
    assert info.value.reason.zh.endswith(f"没有名为 {name!r} 的参数；是否想写 {near}？")


def test_an_unknown_name_far_from_any_suggests_nothing() -> None:
    with pytest.raises(InvalidParameterError) as info:
        reader(Foo="1").check_names({"PageSize", "UserName"})
    assert info.value.reason.en == "Op has no parameter named 'Foo'"


def test_window() -> None:
    check_window("StartTime", 5, "EndTime", 5)
    with pytest.raises(InvalidParameterError):
        check_window("StartTime", 6, "EndTime", 5)


@pytest.mark.parametrize(
    "read",
    [
        lambda r: r.integer("P", low=1, high=50),
        lambda r: r.string("P"),
        lambda r: r.boolean("P"),
        lambda r: r.choice("P", RunStatus),
    ],
    ids=["integer", "string", "boolean", "choice"],
)
def test_a_huge_int_is_shown_in_the_language_of_each_reason(read: object) -> None:
    # docs/api.md: a reason is a pair of sentences, never a mixture; 10**50 has no short repr
    with pytest.raises(InvalidParameterError) as caught:
        read(reader(P=10**50))  # type: ignore[operator]
    reason = caught.value.reason
    assert "an integer of 167 bits" in reason.en
    assert "167 位二进制的整数" in reason.zh and "integer" not in reason.zh


class _Array:
    """A value that compares element-wise, as a NumPy array or a pandas Series does: ``==`` gives
    another array, whose truth is an error."""

    def __eq__(self, other: object) -> _Array:  # type: ignore[override]
        return self

    def __bool__(self) -> bool:
        raise ValueError("The truth value of an array with more than one element is ambiguous.")

    __hash__ = object.__hash__


@pytest.mark.parametrize("read", ["string", "integer", "boolean", "wall_clock"])
def test_a_value_that_compares_element_wise_is_invalid_not_a_crash(read: str) -> None:
    """An array passed as a parameter (a DataFrame column's ``.values``) is refused as any other
    value of the wrong type: telling an empty string asked ``array == ""`` for a truth."""
    with pytest.raises(InvalidParameterError) as info:
        getattr(reader(A=_Array()), read)("A")
    assert info.value.name == "A"


class _Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.parametrize("read", ["string", "integer", "boolean", "wall_clock"])
def test_a_value_whose_repr_fails_is_invalid_and_named_by_its_type(read: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        getattr(reader(A=_Unprintable()), read)("A")
    assert "_Unprintable" in info.value.reason.en
