"""Time literals: the accepted forms, UTC for naive Sddp times, naive DMS times, and errors."""

from __future__ import annotations

import datetime as dt

import pytest

from dsc_engine.errors import TimeLiteralError
from dsc_engine.wire.times import format_wall_clock, time_ms, wall_clock


@pytest.mark.parametrize(
    ("literal", "millis"),
    [
        ("1970-01-01", 0),
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01 00:00:00.001", 1),
        ("1970-01-01T08:00:00+08:00", 0),
        ("1969-12-31T19:00:00-05:00", 0),
        ("2024-05-01T10:00:00.5Z", 1714557600500),
        ("2024-02-29 23:59:59.999", 1709251199999),
    ],
)
def test_time_ms(literal: str, millis: int) -> None:
    assert time_ms(literal) == millis


@pytest.mark.parametrize(
    ("literal", "moment"),
    [
        ("2024-05-01", dt.datetime(2024, 5, 1)),
        ("2024-05-01 10:11:12", dt.datetime(2024, 5, 1, 10, 11, 12)),
        ("2024-05-01T10:11:12.123456", dt.datetime(2024, 5, 1, 10, 11, 12, 123456)),
        ("0001-01-01 00:00:00", dt.datetime(1, 1, 1)),
    ],
)
def test_wall_clock(literal: str, moment: dt.datetime) -> None:
    assert wall_clock(literal) == moment
    assert wall_clock(format_wall_clock(moment)) == moment


@pytest.mark.parametrize(
    ("convert", "literal", "reason"),
    [
        (time_ms, "yesterday", "not a time"),
        (time_ms, "2024-5-1", "not a time"),
        (time_ms, "2024-05-01T10:00", "not a time"),
        (time_ms, "2024-05-01Z", "not a time"),
        (time_ms, " 2024-05-01", "not a time"),
        (time_ms, "2024-05-01 10:00:00.0001", "at most 3 fraction digits"),
        (time_ms, "2024-13-01", "month must be in 1..12"),
        (time_ms, "2024-05-01T25:00:00", "hour must be in 0..23"),
        (time_ms, "2024-05-01T10:00:00+24:00", "offset must be a timedelta strictly between"),
        (time_ms, "2024-05-01T10:00:00+08:60", "minute of the offset +08:60 must be in 0..59"),
        (wall_clock, "2024-05-01T10:00:00Z", "drop the zone 'Z'"),
        (wall_clock, "2024-05-01 10:00:00-03:00", "drop the zone '-03:00'"),
    ],
)
def test_bad_literals(convert: object, literal: str, reason: str) -> None:
    with pytest.raises(TimeLiteralError) as info:
        convert(literal)  # type: ignore[operator]
    assert info.value.literal == literal
    assert reason in info.value.reason
