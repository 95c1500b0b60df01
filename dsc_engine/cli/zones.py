"""``--tz``: the time zone the CLI shows Sddp times in and reads filter times without a zone in.

Sddp times (``CreationTime``, a masking run's ``StartTime`` ...) are instants, UNIX milliseconds:
a zone only changes how they are written. DMS ``OpTime`` is a naive wall-clock time, as the
service sends it; no zone applies to it, and it is never converted (docs/cli.md, "Times").

:func:`parse_zone` reads a ``--tz`` value. :func:`localize_filter` gives a filter text whose
time literals without a zone, compared with Sddp millisecond fields, carry the zone's offset,
so that ``CreationTime >= "2026-10-01 08:00"`` with ``--tz Asia/Shanghai`` means 00:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Iterator, Mapping

from lark import Token, Tree

from dsc_engine.errors import FilterFieldError
from dsc_engine.models import RecordKind
from dsc_engine.query import grammar
from dsc_engine.query.parse import parse_filter
from dsc_engine.wire import types
from dsc_engine.wire.catalog import FIELDS, NESTED, FieldSpec, UnknownField, lookup

UTC = dt.timezone.utc
_OFFSET = re.compile(r"(?:UTC)?([+-])(\d{2}):(\d{2})\Z", re.IGNORECASE)
#: A filter time literal (docs/filter-language.md, "Times"): date, time, fraction, zone.
_LITERAL = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<time>\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?))?(?P<zone>Z|[+-]\d{2}:\d{2})?"
)
#: The grammar's comparisons of a field with literals (``any_entry`` opens a nested scope).
_COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "ieq", "contains", "startswith", "in_range", "in_set"})


def parse_zone(text: str) -> dt.tzinfo:
    """A ``--tz`` value: ``UTC`` (or ``Z``), an offset ``+08:00`` / ``UTC-05:30`` (on a command
    line a negative offset alone is ``--tz=-05:30``: argparse takes ``-05:30`` for an option),
    or an IANA name (``Asia/Shanghai``, from the system's time zone database or the ``tzdata``
    package). ``ValueError`` says why it is not one."""
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
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {text!r}: give UTC, an offset such as +08:00, or an IANA name such as Asia/Shanghai"
        ) from None


def localize_filter(text: str, kind: RecordKind, zone: dt.tzinfo) -> str:
    """``text`` with each time literal that has no zone and is compared with an Sddp
    millisecond field given ``zone``'s offset at that wall-clock time (a time a daylight-saving
    change repeats is read as the first; one it skips, with the offset before the change, as
    Python's ``zoneinfo`` does). The text is checked first as typed, so that every error points
    into it; DMS times and literals that carry a zone are left as they are."""
    parse_filter(text, kind)  # raises with offsets into the text as typed
    if zone is UTC:  # what a literal without a zone means anyway
        return text
    tree = grammar.parser().parse(text, start="filter")
    edits: list[tuple[int, int, str]] = []
    for token in _time_strings(tree, FIELDS[kind], NESTED[kind]):
        start, end = token.start_pos or 0, token.end_pos or 0
        try:
            literal = _with_zone(json.loads(str(token)), zone)
        except OverflowError:
            raise FilterFieldError(
                f"the time {str(token)} in the zone {zone} falls outside the years 1 to 9999", text, start
            ) from None
        if literal is not None:
            edits.append((start, end, json.dumps(literal)))
    localized = text
    for start, end, literal in sorted(edits, reverse=True):
        localized = localized[:start] + literal + localized[end:]
    return localized


def _time_strings(tree: Tree[Token], catalog: Mapping[str, FieldSpec], nested: Mapping[str, Mapping[str, FieldSpec]]) -> Iterator[Token]:
    """The string literals compared with a millisecond-time field anywhere in ``tree``."""
    if tree.data == "any_entry":
        inner = _field(catalog, tree.children[0])
        entries = nested.get(inner.name, {}) if inner is not None else {}
        for group in tree.children[1:]:
            if isinstance(group, Tree):
                yield from _time_strings(group, entries, {})
        return
    if tree.data in _COMPARISONS:
        spec = _field(catalog, tree.children[0])
        if spec is not None and spec.type is types.TIME_MS:
            yield from _strings(tree)
        return
    for child in tree.children:
        if isinstance(child, Tree):
            yield from _time_strings(child, catalog, nested)


def _strings(tree: Tree[Token]) -> Iterator[Token]:
    """The tokens of the ``string`` literals in ``tree``."""
    for child in tree.children:
        if isinstance(child, Tree):
            if child.data == "string":
                yield from (token for token in child.children if isinstance(token, Token))
            else:
                yield from _strings(child)


def _field(catalog: Mapping[str, FieldSpec], token: object) -> FieldSpec | None:
    try:
        return lookup(catalog, str(token))
    except UnknownField:
        return None


def _with_zone(literal: str, zone: dt.tzinfo) -> str | None:
    """The literal with ``zone``'s offset appended, or ``None`` when it is not a time without a
    zone (left for the filter parser to judge)."""
    match = _LITERAL.fullmatch(literal)
    if match is None or match["zone"]:
        return None
    clock = match["time"] or "00:00:00"
    whole, _, fraction = clock.partition(".")
    try:
        wall = dt.datetime.fromisoformat(f"{match['date']}T{whole}")
    except ValueError:
        return None
    offset = wall.replace(tzinfo=zone).utcoffset() or dt.timedelta(0)
    if offset % dt.timedelta(minutes=1):  # a local mean time of the 1800s: +08:05:43
        moment = (wall - offset).isoformat()
        return f"{moment}{'.' + fraction if fraction else ''}Z"
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(offset) // dt.timedelta(minutes=1)
    return f"{match['date']}T{clock}{sign}{minutes // 60:02d}:{minutes % 60:02d}"
