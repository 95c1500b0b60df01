"""The shell's ``count by day(FIELD)`` and ``count by hour(FIELD)``: the counts of a time field's
values (``count_by``, whatever the source) added up per day or hour of the time.

An Sddp time (UNIX milliseconds) falls in a day or hour of the ``--tz`` zone, as tables show it:
a day as ``2026-10-31``, an hour with its offset, ``2026-10-31 08:00+08:00``, which tells apart
the two hours a daylight-saving change repeats; a time outside the years 1 to 9999 keeps its
digits, as a table shows it. A DMS ``OpTime`` is a naive wall-clock time that ``--tz`` never
converts: its own day or hour, ``2026-10-31 08:00``. The buckets are listed newest first, as
records are, and records without the field last, as ``None`` (``docs/cli.md``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dsc_engine.wire import types
from dsc_engine.wire.catalog import Catalog, FieldSpec, UnknownField, lookup
from dsc_engine.wire.times import format_dms_time, readable_time

#: ``day(FIELD)`` or ``hour(FIELD)``: the unit in any case, blanks inside the parentheses.
_BUCKET = re.compile(r"(?P<unit>day|hour)\s*\(\s*(?P<field>[^\s()]*)\s*\)", re.IGNORECASE)
#: How long a prefix of ``yyyy-MM-dd HH:mm:ss`` each unit keeps.
_PREFIX: Mapping[str, int] = {"day": len("yyyy-MM-dd"), "hour": len("yyyy-MM-dd HH")}
#: The types a bucket counts by: Sddp times and DMS wall-clock times.
_TIME_TYPES = (types.TIME_MS, types.WALL_CLOCK)


#: What looks like a function of a field (``minute(CreationTime``): a word and a parenthesis.
_CALL = re.compile(r"\w+\s*\(")


def bucketed(text: str) -> tuple[str, str] | None:
    """``(unit, field)`` of ``day(FIELD)`` or ``hour(FIELD)`` (the unit in lower case), else
    ``None``; a ``ValueError`` for another function of a field or one not closed, which no field
    is named (``minute(CreationTime)``, ``day(CreationTime``)."""
    match = _BUCKET.fullmatch(text)
    if match is not None:
        return match.group("unit").lower(), match.group("field")
    if _CALL.match(text):
        raise ValueError(f"{text!r}: counts by time are day(FIELD) and hour(FIELD), FIELD a time field")
    return None


def time_field(unit: str, name: str, catalog: Catalog) -> FieldSpec:
    """The time field ``name`` of ``catalog`` (named as any field is, ``lookup``), for ``unit``;
    a ``ValueError`` naming the catalog's time fields when ``name`` is none of them."""
    try:
        spec: FieldSpec | None = lookup(catalog, name)
    except UnknownField:
        spec = None
    if spec is None or spec.type not in _TIME_TYPES:
        times = ", ".join(s.name for s in catalog.values() if s.type in _TIME_TYPES)
        raise ValueError(f"{unit}() counts by a time field: {times} ({name or 'nothing'} is not one)")
    return spec


def bucket_of(unit: str, spec: FieldSpec, zone: dt.tzinfo) -> Callable[[Any], str]:
    """The ``unit`` (``day`` or ``hour``) of a value of the time field ``spec``, as text."""
    cut = _PREFIX[unit]
    suffix = ":00" if unit == "hour" else ""
    if spec.type is types.WALL_CLOCK:
        return lambda value: format_dms_time(value)[:cut] + suffix

    def sddp(ms: int) -> str:
        shown = readable_time(ms, zone, fraction=False)
        if shown is None:  # outside the years 1 to 9999 there: its digits, as a table shows it
            return str(ms)
        return shown[:cut] + suffix + (shown[len("yyyy-MM-dd HH:mm:ss"):] if unit == "hour" else "")

    return sddp


def regroup(counts: Iterable[tuple[Any, int]], bucket: Callable[[Any], str]) -> list[tuple[str | None, int]]:
    """The ``(value, count)`` pairs of a field added up per ``bucket`` of the value, the newest
    bucket first (ordered by the newest value in each, not by its text: an offset changes at a
    daylight-saving change), the records without the value (``None``) last."""
    totals: dict[str | None, int] = {}
    newest: dict[str, Any] = {}
    for value, count in counts:
        key = None if value is None else bucket(value)
        totals[key] = totals.get(key, 0) + count
        if key is not None and (key not in newest or value > newest[key]):
            newest[key] = value
    ordered: list[str | None] = [*sorted(newest, key=newest.__getitem__, reverse=True)]
    if None in totals:
        ordered.append(None)
    return [(key, totals[key]) for key in ordered]
