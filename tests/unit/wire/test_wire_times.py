"""Time literals: the accepted forms, UTC for naive Sddp times, naive DMS times, and errors."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from dsc_engine.errors import TimeLiteralError
from dsc_engine.wire import times
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
        (time_ms, "2024-05-01T10:00:00+24:00", "hour of the offset +24:00 must be in 0..23"),
        (time_ms, "2024-05-01T10:00:00+08:60", "minute of the offset +08:60 must be in 0..59"),
        # digits are ASCII, as on the wire: a full-width offset was read as +08:00, full-width
        # date digits were refused with Python's words about a text the user had not written
        (time_ms, "2024-05-01T10:00:00+\uff10\uff18:\uff10\uff10", "not a time"),
        (time_ms, "\uff12\uff10\uff12\uff14-05-01", "not a time"),
        (wall_clock, "2024-05-01 10:00:00.\u0661", "not a time"),
        (wall_clock, "2024-05-01T10:00:00Z", "drop the zone 'Z'"),
        (wall_clock, "2024-05-01 10:00:00-03:00", "drop the zone '-03:00'"),
        # more fraction digits than the field holds say so, whatever their number
        (time_ms, "2024-05-01 10:00:00.1234567", "at most 3 fraction digits"),
        (wall_clock, "2024-05-01 10:00:00.1234567", "at most 6 fraction digits"),
    ],
)
def test_bad_literals(convert: object, literal: str, reason: str) -> None:
    with pytest.raises(TimeLiteralError) as info:
        convert(literal)  # type: ignore[operator]
    assert info.value.literal == literal
    assert reason in info.value.reason


def test_a_wall_clock_time_that_is_not_one_is_told_the_forms_without_a_zone() -> None:
    # the forms named were those of Sddp times, "[Z|+hh:mm]" and "[.fff]" among them: the
    # reader was told to write a zone that is then refused
    with pytest.raises(TimeLiteralError) as info:
        wall_clock("yesterday")
    assert "yyyy-MM-dd HH:mm:ss[.ffffff]" in info.value.reason
    assert "Z" not in info.value.reason and "+hh:mm" not in info.value.reason


# ------------------------------------------------------------------------ zones of literals

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("literal", "zone", "utc"),
    [
        ("2026-10-01 08:00:00", SHANGHAI, "2026-10-01T00:00:00Z"),
        ("2026-10-01", SHANGHAI, "2026-09-30T16:00:00Z"),
        ("2026-10-01T08:00:00.250", dt.timezone(dt.timedelta(hours=8)), "2026-10-01T00:00:00.250Z"),
        # a literal that carries its zone keeps it, whatever the caller's zone
        ("2026-10-01T08:00:00+08:00", NEW_YORK, "2026-10-01T00:00:00Z"),
        # New York falls back on 2026-11-01: 01:30 happens twice and is read as the first (EDT)
        ("2026-11-01 01:30:00", NEW_YORK, "2026-11-01T05:30:00Z"),
        # and springs forward on 2026-03-08: 02:30 never happens; read with the offset before (EST)
        ("2026-03-08 02:30:00", NEW_YORK, "2026-03-08T07:30:00Z"),
    ],
)
def test_time_ms_reads_a_literal_without_a_zone_in_the_zone_given(literal: str, zone: dt.tzinfo, utc: str) -> None:
    assert times.time_ms(literal, zone) == times.time_ms(utc)


def test_time_ms_in_a_zone_of_the_1800s_keeps_its_sub_minute_offset() -> None:
    # Shanghai's local mean time before 1901 is +08:05:43
    assert times.time_ms("1890-01-01 08:05:43", SHANGHAI) == times.time_ms("1890-01-01T00:00:00Z")


@pytest.mark.parametrize(
    ("text", "offset"),
    [("UTC", 0), ("z", 0), ("+08:00", 480), ("UTC-05:30", -330), ("-23:59", -1439)],
)
def test_parse_zone_reads_names_and_offsets(text: str, offset: int) -> None:
    zone = times.parse_zone(text)
    assert zone.utcoffset(dt.datetime(2026, 1, 1)) == dt.timedelta(minutes=offset)


#: Names the zone database cannot open as a zone: a folder of it (``Asia``), a name longer than a
#: file name may be, a file of it that holds no zone (``zone.tab``).
NOT_ZONE_FILES = ["Asia", "Etc", "Asia/" + "x" * 300, "zone.tab"]
#: Offsets in other digits than ASCII (full-width, Arabic-Indic) were read as offsets.
NOT_ASCII_OFFSETS = ["+\uff10\uff18:\uff10\uff10", "UTC-\u0660\u0665:00"]


@pytest.mark.parametrize(
    "text", ["", "Mars/Olympus", "+24:00", "+08:60", "8", "../etc/passwd", *NOT_ZONE_FILES, *NOT_ASCII_OFFSETS]
)
def test_parse_zone_says_why_a_text_is_not_a_zone(text: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        times.parse_zone(text)


@pytest.mark.parametrize("ms", [0, 1, -1, 1_790_000_000_123, times.time_ms("0001-01-01T00:00:00Z")])
@pytest.mark.parametrize("zone", [times.UTC, SHANGHAI, NEW_YORK, dt.timezone(dt.timedelta(hours=-9, minutes=-30))])
def test_readable_time_reads_back_exactly_as_a_cell(ms: int, zone: dt.tzinfo) -> None:
    text = times.readable_time(ms, zone)
    if text is None:  # the first instant of the year 1 is still in the year 0 west of Greenwich
        assert ms == times.time_ms("0001-01-01T00:00:00Z")
        assert (zone.utcoffset(dt.datetime(1, 1, 2)) or dt.timedelta(0)) < dt.timedelta(0)
        return
    assert times.cell_time_ms(text) == ms
