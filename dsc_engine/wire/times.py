"""Times: the DMS wall-clock form on the wire, and the time literals of the filter language.

On the wire (``docs/semantics.md`` §1.5) Sddp times are integers of UNIX milliseconds and DMS
``OpTime`` is a naive wall-clock time written exactly ``yyyy-MM-dd HH:mm:ss``, the year always
four digits. :func:`parse_dms_time` and :func:`format_dms_time` convert that form.

A filter's time literal is written as a string::

    2024-05-01                      a date: midnight
    2024-05-01T10:00:00             ISO-8601 date and time ("T" or one space between them)
    2024-05-01 10:00:00.250         fractional seconds (up to 3 digits for Sddp, 6 for DMS)
    2024-05-01T10:00:00Z            with a zone: "Z" or an offset such as "+08:00" (Sddp only)

Sddp times (:func:`time_ms`): a literal without a zone is read in the zone the caller gives
(:func:`parse_zone` reads one), UTC by default. DMS times (:func:`wall_clock`) are naive, so a
literal with a zone is an error there rather than silently converted, and no zone applies.

Sddp times in CSV cells (:func:`cell_time_ms`, :func:`readable_time`): UNIX milliseconds, or a
readable time that carries its zone (one without names no instant and is refused).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from dsc_engine.errors import TimeLiteralError

#: ASCII digits only: ``\d`` would also take ``２`` or ``٣``, a time no response spells that way.
DMS_TIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\Z")

#: A filter's time literal; ASCII digits only, as on the wire (``\d`` took ``２`` and read a
#: full-width offset as an offset).
_LITERAL = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?P<fraction>[0-9]+))?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
UTC = dt.timezone.utc
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = dt.timedelta(milliseconds=1)
FORMS = '"yyyy-MM-dd", "yyyy-MM-ddTHH:mm:ss[.fff][Z|+hh:mm]" or "yyyy-MM-dd HH:mm:ss"'
#: The forms of a DMS wall-clock literal: no zone, up to microseconds.
WALL_CLOCK_FORMS = '"yyyy-MM-dd" or "yyyy-MM-dd HH:mm:ss[.ffffff]" ("T" for the space if you like), without a zone'


# ------------------------------------------------------------------------------- the wire form


class NoSuchTime(ValueError):
    """A ``yyyy-MM-dd HH:mm:ss`` string of the right form naming no time (a 30th of February, a
    25th hour); ``reason`` says which part, in Python's words (``day is out of range for month``)."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"{text!r} is not a 'yyyy-MM-dd HH:mm:ss' time: no such date or time ({reason})")
        self.reason = reason


def parse_dms_time(text: object) -> dt.datetime:
    """Parse an exact ``yyyy-MM-dd HH:mm:ss`` string (ASCII digits); raise ``ValueError`` otherwise."""
    if isinstance(text, str) and DMS_TIME_SHAPE.match(text):
        try:
            return dt.datetime.fromisoformat(text)  # the same result as strptime, many times faster
        except ValueError as exc:  # the shape fits but a part is out of range (month 13, hour 25)
            raise NoSuchTime(text, str(exc)) from None
    shown = repr(text) if isinstance(text, str) else f"a {type(text).__name__}"  # any other repr may fail
    raise ValueError(f"{shown} is not a 'yyyy-MM-dd HH:mm:ss' time")


def format_dms_time(value: dt.datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss``, the year always four digits (``0001-01-01 00:00:00``, Go's zero
    time, is a common placeholder; ``strftime("%Y")`` would write ``1``)."""
    if type(value) is dt.datetime and not value.microsecond and value.tzinfo is None:
        return value.isoformat(" ")
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )


# ------------------------------------------------------------------------------ time literals


def time_ms(literal: str, zone: dt.tzinfo = UTC) -> int:
    """UNIX milliseconds of ``literal``; without a zone it is read in ``zone``.

    A wall-clock time a daylight-saving change repeats is read as the first of the two; one it
    skips, with the offset before the change (``fold=0``, as Python's ``zoneinfo`` does)."""
    moment, fraction, _ = _read(literal, FORMS)
    if len(fraction) > 3:
        raise TimeLiteralError(literal, "these times are whole milliseconds: at most 3 fraction digits")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return (moment - _EPOCH) // _MILLISECOND


def wall_clock(literal: str) -> dt.datetime:
    """The naive wall-clock ``datetime`` of ``literal``, which must not carry a zone."""
    moment, fraction, zone = _read(literal, WALL_CLOCK_FORMS)
    if zone:
        raise TimeLiteralError(
            literal, f"DMS times are naive wall-clock times; drop the zone {zone!r}"
        )
    if len(fraction) > 6:
        raise TimeLiteralError(literal, "at most 6 fraction digits (microseconds)")
    return moment


def _read(literal: str, forms: str) -> tuple[dt.datetime, str, str]:
    """The datetime (aware when a zone is given; to the microsecond), the fraction digits and
    the zone as written (the caller says how many digits its times hold); ``forms`` are those a
    literal that is no time is told to take."""
    match = _LITERAL.fullmatch(literal)
    if match is None:
        raise TimeLiteralError(literal, f"not a time; write {forms}")
    fraction = match["fraction"] or ""
    zone = match["zone"] or ""
    text = f"{match['date']}T{match['time'] or '00:00:00'}"
    if fraction:
        text += "." + fraction[:6].ljust(6, "0")
    try:
        moment = dt.datetime.fromisoformat(text)
        if zone:
            moment = moment.replace(tzinfo=_zone(zone))
    except ValueError as exc:  # a month 13, a day 31 in April, an offset of 24 hours ...
        raise TimeLiteralError(literal, str(exc)) from None
    return moment, fraction, zone


def _zone(zone: str) -> dt.timezone:
    if zone == "Z":
        return dt.timezone.utc
    sign = -1 if zone[0] == "-" else 1
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours >= 24:  # else datetime's own message, which names timedelta objects
        raise ValueError(f"hour of the offset {zone} must be in 0..23")
    if minutes >= 60:
        raise ValueError(f"minute of the offset {zone} must be in 0..59")
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def parse_zone(text: str) -> dt.tzinfo:
    """A time zone: ``UTC`` (or ``Z``), an offset ``+08:00`` / ``UTC-05:30``, or an IANA name
    (``Asia/Shanghai``, from the system's time zone database or the ``tzdata`` package).
    ``ValueError`` says why ``text`` is not one."""
    if text.upper() in ("UTC", "Z"):
        return UTC
    offset = _OFFSET.match(text)
    if offset:
        sign, hours, minutes = offset.groups()
        delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
        if int(minutes) >= 60 or delta >= dt.timedelta(hours=24):
            raise ValueError(f"time zone offset {text!r} is out of range (-23:59 to +23:59)")
        return dt.timezone(-delta if sign == "-" else delta)
    try:
        if not text or text.startswith(("+", "-")) or text[:1].isdigit():
            raise ValueError(text)
        return zoneinfo.ZoneInfo(text)
    # ZoneInfo opens the name as a file of the zone database: a folder of it ("Asia") or a name
    # longer than a file name may be is an OSError, a file that holds no zone a ValueError
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {text!r}: give UTC, an offset such as +08:00, or an IANA name such as Asia/Shanghai"
        ) from None


_OFFSET = re.compile(r"(?:UTC)?([+-])([0-9]{2}):([0-9]{2})\Z", re.IGNORECASE)


# ------------------------------------------------------------------------------- CSV cells

#: A cell's date and time of day, whatever follows them (``cell_time_ms`` words what does).
_LOCAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?")
_ZONED = re.compile(_LOCAL.pattern + r"(Z|[+-][0-9]{2}:[0-9]{2})\Z")


def cell_time_ms(text: str, zone: dt.tzinfo | None = None) -> int:
    """The UNIX milliseconds of a readable time cell, ``yyyy-MM-dd HH:mm:ss[.fff]`` with ``Z`` or
    an offset ``±hh:mm`` (``T`` may stand for the space), or without a zone when ``zone`` is
    given, read there as a filter's time is (:func:`time_ms`); ``ValueError`` says why it is
    not one."""
    if not _ZONED.match(text):
        local = _LOCAL.match(text)
        if zone is not None and local and local.end() == len(text):
            return _cell_ms(text, zone)
        if local and local.end() < len(text):  # a zone written otherwise: +0800, z, " UTC"
            raise ValueError(
                f"cannot read the time {text[:60]!r}: its zone {text[local.end():][:20]!r} is not written"
                " Z or +hh:mm; write it as yyyy-MM-dd HH:mm:ss[.fff]+hh:mm (or Z), or as UNIX milliseconds"
            )
        if text[:4].isdigit() and text[4:5] == "-":
            raise ValueError(
                f"a time in an epoch-millisecond column needs its zone: {text!r} names no instant;"
                " write it as yyyy-MM-dd HH:mm:ss[.fff]+hh:mm (or Z), or as UNIX milliseconds, or give"
                " the zone such times are in (--tz ZONE; load(..., csv_zone=ZONE))"
            )
        raise ValueError(f"cannot read {text[:60]!r} as UNIX milliseconds (digits) or a time with its zone")
    return _cell_ms(text, UTC)


def _cell_ms(text: str, zone: dt.tzinfo) -> int:
    try:
        return time_ms(text, zone)
    except TimeLiteralError as exc:
        raise ValueError(exc.reason) from None


def readable_time(ms: int, zone: dt.tzinfo, *, fraction: bool = True) -> str | None:
    """UNIX milliseconds as ``yyyy-MM-dd HH:mm:ss[.fff]±hh:mm`` in ``zone`` (the milliseconds
    only when not zero, and only with ``fraction``), which :func:`cell_time_ms` reads back
    exactly; ``None`` for a time outside the years 1 to 9999 in that zone (keep its digits). A
    time whose offset is not a whole minute there (a local mean time of the 1800s) is written in
    UTC."""
    try:
        moment = (_EPOCH + ms * _MILLISECOND).astimezone(zone)
    except OverflowError:
        return None
    offset = moment.utcoffset() or dt.timedelta(0)
    if offset % dt.timedelta(minutes=1):
        moment = moment.astimezone(UTC)
    timespec = "milliseconds" if fraction and moment.microsecond else "seconds"
    return moment.isoformat(" ", timespec)


def format_wall_clock(moment: dt.datetime) -> str:
    """``moment`` as the literal ``wall_clock`` reads back: ``yyyy-MM-dd HH:mm:ss[.ffffff]``."""
    return moment.isoformat(sep=" ")
