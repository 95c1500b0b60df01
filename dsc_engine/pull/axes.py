"""The time axis of each operation's window, and the slices a pull cuts it into.

A pull works on whole units of the operation's window parameters (``StartTime``/``EndTime``,
both inclusive): UNIX milliseconds for the Sddp operations (``WireType.LONG``), whole seconds of
a naive wall clock for DMS (``WireType.WALL_CLOCK``, ``yyyy-MM-dd HH:mm:ss``, counted from
``1970-01-01 00:00:00`` with no zone). A :class:`Slice` is a closed range of such units; splitting
one gives two that share no unit, so no record can fall in both.

:data:`AXES` holds one :class:`Axis` per wire type; an operation's axis is that of its window
parameters (:func:`axis_of`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping

import attrs

from dsc_engine.api.spec import Match, Operation, Parameter, WireType
from dsc_engine.errors import TimeLiteralError, UsageError
from dsc_engine.models.records import INT64_MAX, INT64_MIN
from dsc_engine.wire import times


@attrs.frozen
class Slice:
    """The closed range ``[lo, hi]`` of window units (``lo <= hi``)."""

    lo: int
    hi: int

    def __attrs_post_init__(self) -> None:
        if self.lo > self.hi:
            raise ValueError(f"a slice needs lo <= hi, not [{self.lo}, {self.hi}]")

    def halves(self) -> tuple[Slice, Slice]:
        """``(newer, older)``: the upper half first, as results are ordered newest first."""
        middle = (self.lo + self.hi) // 2
        return Slice(middle + 1, self.hi), Slice(self.lo, middle)

    @property
    def instant(self) -> bool:
        """Whether the slice is one unit (it cannot be split)."""
        return self.lo == self.hi


@attrs.frozen
class Axis:
    """How one kind of window is read from the command line, sent, shown and bounded by now.

    ``parse`` reads a ``--since``/``--until`` text (a time without a zone in the zone given, where
    the axis has zones); ``wire`` gives the parameter value the SDK
    request takes; ``show`` is the text of a unit for people; ``last_complete`` is the last whole
    unit before an epoch time (the newest unit no record can still be added to, as the clock sees
    it).
    """

    unit: str
    parse: Callable[[str, dt.tzinfo], int]
    wire: Callable[[int], object]
    show: Callable[[int], str]
    last_complete: Callable[[float], int]


# --------------------------------------------------------------------------- UNIX milliseconds

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)


_UNIX_MS = re.compile(r"-?[0-9]+\Z")


def _parse_ms(text: str, zone: dt.tzinfo) -> int:
    """Digits 0-9: UNIX milliseconds (the 64 bits the parameter holds); else a time literal, in
    ``zone`` unless it names its own. Other digits (``"١٢"``, ``"²"``), which ``int()`` reads or trips on,
    are no time."""
    stripped = text.strip()
    if _UNIX_MS.match(stripped):
        ms = int(stripped)
        if not INT64_MIN <= ms <= INT64_MAX:
            raise TimeLiteralError(stripped, "UNIX milliseconds are a 64-bit integer; this is out of its range")
        return ms
    return times.time_ms(stripped, zone)


def _show_ms(ms: int) -> str:
    try:
        moment = _EPOCH + dt.timedelta(milliseconds=ms)
    except OverflowError:
        return str(ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _last_ms(epoch: float) -> int:
    return math.floor(epoch * 1000) - 1


MILLISECONDS = Axis(
    unit="UNIX milliseconds", parse=_parse_ms, wire=lambda ms: ms, show=_show_ms, last_complete=_last_ms
)


# ------------------------------------------------------------------ naive wall-clock seconds


def _parse_wall_clock(text: str, zone: dt.tzinfo) -> int:
    """A naive wall-clock time in whole seconds; ``zone`` is not used: DMS times are never converted."""
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        raise TimeLiteralError(
            stripped, "DMS windows are naive wall-clock times, not UNIX times; write yyyy-MM-dd HH:mm:ss"
        )
    moment = times.wall_clock(stripped)
    if moment.microsecond:
        raise TimeLiteralError(stripped, "DMS windows are whole seconds; drop the fraction")
    return _seconds(moment)


def _seconds(moment: dt.datetime) -> int:
    return (moment - _NAIVE_EPOCH) // dt.timedelta(seconds=1)


def _wall_clock(seconds: int) -> dt.datetime:
    return _NAIVE_EPOCH + dt.timedelta(seconds=seconds)


def _show_wall_clock(seconds: int) -> str:
    try:
        return times.format_dms_time(_wall_clock(seconds))
    except OverflowError:
        return str(seconds)


def _last_wall_clock(epoch: float) -> int:
    """This machine's wall clock (its local time zone), the last whole second before ``epoch``."""
    return _seconds(dt.datetime.fromtimestamp(math.floor(epoch))) - 1


WALL_CLOCK_SECONDS = Axis(
    unit="wall-clock seconds",
    parse=_parse_wall_clock,
    wire=lambda seconds: times.format_dms_time(_wall_clock(seconds)),
    show=_show_wall_clock,
    last_complete=_last_wall_clock,
)

#: The axis of each wire type a window parameter may have.
AXES: Mapping[WireType, Axis] = {
    WireType.LONG: MILLISECONDS,
    WireType.WALL_CLOCK: WALL_CLOCK_SECONDS,
}


def window_parameters(operation: Operation) -> tuple[Parameter, Parameter]:
    """``(start, end)``: the operation's inclusive window parameters on its primary time."""
    start = next(p for p in operation.parameters if p.match is Match.WINDOW_START)
    end = next(p for p in operation.parameters if p.match is Match.WINDOW_END)
    return start, end


def axis_of(operation: Operation) -> Axis:
    """The axis of ``operation``'s window (``KeyError`` for a wire type without one)."""
    return AXES[window_parameters(operation)[0].wire]


def read_bound(operation: Operation, option: str, text: str, zone: dt.tzinfo = times.UTC) -> int:
    """``--since``/``--until`` text as a unit of ``operation``'s axis (an Sddp time without a zone
    read in ``zone``), or a typed error naming it."""
    try:
        return axis_of(operation).parse(text, zone)
    except TimeLiteralError as exc:
        raise UsageError(option, text, f"{operation.action}: {exc.reason}") from None
