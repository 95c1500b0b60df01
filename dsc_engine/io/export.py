"""Export of records (a query result, all pages or one) in the formats the importer reads back.

- ``jsonl``: one record per line, its full wire form (record-only keys ``MainProcessId``/``Tid``
  included), compact UTF-8 JSON.
- ``csv``: a header of every wire key of the kind in documented order, one record per row, cells
  as :mod:`csvformat` describes (absent: empty cell; ``SensitiveDataLog``: its JSON array); text
  that a spreadsheet would run as a formula is guarded with a leading ``'`` unless
  ``formula_guard=False`` (:func:`csvformat.guard`; the importer takes the guard off again).
  Sddp times are UNIX milliseconds, or with ``times=Times.ISO`` readable times with their offset
  in ``zone`` (``2026-10-01 10:00:00.123+08:00``), which the importer converts back exactly.
- ``pages``: API response pages, one compact JSON object per line, shaped as the service answers
  (``CurrentPage``/``PageSize``/``TotalCount``/``Items`` for the Sddp kinds,
  ``TotalCount``/``Success``/``SensitiveDataAuditLogList`` for DMS) but with the full wire form of
  each record, so that re-importing gives the same records.

Every format re-imports to the same records in the same order (an empty string is the one value
CSV cannot keep apart from an absent field), ties included: ``jsonl`` and ``csv`` list records newest
first, but the records of one time (audit alert logs and DMS logs, which no key orders) oldest load
first, since a later line is a later load (:func:`lines_order`); ``pages`` lists them as the
service does, which the importer reads as a listing (``docs/semantics.md`` §5.1).
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import json
import operator
from collections.abc import Iterable, Iterator
from typing import IO, Any, TypeVar

from dsc_engine.api.operations import BY_KIND
from dsc_engine.api.respond import page_body
from dsc_engine.errors import UsageError
from dsc_engine.io import csvformat
from dsc_engine.models import RecordKind
from dsc_engine.models.records import Record
from dsc_engine.wire import types
from dsc_engine.wire.times import parse_zone, readable_time
from dsc_engine.wire.catalog import wire_fields
from dsc_engine.wire.codec import to_wire, wire_keys



_Choice = TypeVar("_Choice", bound=enum.Enum)


class ExportFormat(enum.Enum):
    JSONL = "jsonl"
    CSV = "csv"
    PAGES = "pages"


class Times(enum.Enum):
    """How a CSV export writes Sddp times (UNIX milliseconds)."""

    MS = "ms"  # the integers, as the API sends them
    ISO = "iso"  # readable, with the zone's offset: 2026-10-01 10:00:00.123+08:00


def _line(value: Any) -> str:
    """One export line's compact JSON, non-ASCII text as itself. Unlike ``jsontext.compact`` (a
    value shown in a message) it leaves text holding half of a surrogate pair unescaped, so that
    writing it as UTF-8 fails (``docs/backends.md``, "Text with a lone surrogate") instead of
    exporting an escape the importer rejects."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def lines_order(records: Iterable[Record], kind: RecordKind) -> Iterator[Record]:
    """``records`` (in the kind's order, newest first) as a JSON Lines or CSV export lists them:
    each run of records of one primary time reversed when load order is what orders them (a kind
    without a tie-break key), so that re-importing them, a later line being a later load, gives
    the same order back. Only one run is held at a time."""
    facts = kind.facts
    if facts.tie_break is not None:
        yield from records
        return
    for _, run in itertools.groupby(records, key=operator.attrgetter(facts.primary_time)):
        tied = list(run)
        yield from reversed(tied)


def write_jsonl(records: Iterable[Record], out: IO[str]) -> int:
    count = 0
    for record in records:
        out.write(_line(to_wire(record)) + "\n")
        count += 1
    return count


def write_csv(
    records: Iterable[Record],
    kind: RecordKind,
    out: IO[str],
    *,
    formula_guard: bool = True,
    times: Times | str = Times.MS,
    zone: dt.tzinfo = dt.timezone.utc,
) -> int:
    keys = wire_keys(kind)
    readable = set()
    if Times(times) is Times.ISO:
        readable = {spec.name for spec in wire_fields(kind) if spec.type is types.TIME_MS}
    write_row = csvformat.row_writer(out)
    write_row(keys)
    count = 0
    cell = csvformat.export_cell
    for record in records:
        wire = to_wire(record)
        for key in readable & wire.keys():
            text = readable_time(wire[key], zone)
            if text is not None:  # else the digits: outside the years 1 to 9999 in the zone
                wire[key] = text
        row = [cell(wire.get(key), formula_guard) for key in keys]
        write_row(row)
        count += 1
    return count


def write_pages(
    records: Iterable[Record],
    kind: RecordKind,
    out: IO[str],
    *,
    total: int,
    page_size: int | None = None,
    first_page: int = 1,
) -> int:
    """Write ``records`` as consecutive pages numbered from ``first_page``; ``total`` is the
    query's TotalCount. An empty result is one empty page (as the service answers)."""
    operation = BY_KIND[kind]
    size = page_size or operation.max_page_size  # the largest page the operation serves
    count = 0
    page = first_page
    chunks: Iterator[list[Record]] = _chunked(records, size)
    first = next(chunks, [])
    for chunk in itertools.chain([first], chunks):
        out.write(_line(page_body(operation, [to_wire(r) for r in chunk], total, page, size)) + "\n")
        count += len(chunk)
        page += 1
    return count


def _choice(choices: type[_Choice], name: str, value: object) -> _Choice:
    """``value`` as a member of the enumeration ``choices`` (given as one, or by its value)."""
    try:
        return choices(value)
    except ValueError:
        names = ", ".join(repr(choice.value) for choice in choices)
        raise UsageError(name, value, f"{value!r} is not one of {names}") from None


def _kind(kind: object) -> RecordKind:
    """``kind`` as a :class:`RecordKind`: given as one, or by any of its names (``"masking"``), as
    the engine takes it."""
    try:
        return RecordKind.parse(kind)  # type: ignore[arg-type]  # parse words the refusal of a non-name
    except ValueError as exc:
        raise UsageError("kind", kind, str(exc)) from None


def _zone(zone: object) -> dt.tzinfo:
    """``zone`` as a ``tzinfo``: given as one, or by its name (``"Asia/Shanghai"``, ``"+08:00"``)."""
    if isinstance(zone, str):
        try:
            return parse_zone(zone)
        except ValueError as exc:
            raise UsageError("zone", zone, str(exc)) from None
    if not isinstance(zone, dt.tzinfo):
        raise UsageError("zone", zone, f"{zone!r} is not a time zone (a tzinfo or its name)")
    return zone


def _of_kind(records: Iterable[Record], kind: RecordKind) -> Iterator[Record]:
    """``records``, each checked to be of ``kind``: a record of another kind would be written
    under the kind's CSV header as a row of empty cells, or into its pages, and lost unsaid."""
    wanted = kind.record_class
    for index, record in enumerate(records):
        if type(record) is not wanted:
            what = f"{RecordKind.of(record).value} record" if type(record) in _RECORD_CLASSES else type(record).__name__
            raise UsageError("records", record, f"item {index} is not a {kind.value} record (it is: {what})")
        yield record


_RECORD_CLASSES = frozenset(k.record_class for k in RecordKind)


def _chunked(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    iterator = iter(records)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def write(
    records: Iterable[Record],
    kind: RecordKind | str,
    fmt: ExportFormat | str,
    out: IO[str],
    *,
    total: int | None = None,
    page_size: int | None = None,
    first_page: int = 1,
    formula_guard: bool = True,
    times: Times | str = Times.MS,
    zone: dt.tzinfo | str = dt.timezone.utc,
) -> int:
    """Write records in ``fmt``; return how many. ``kind`` and ``zone`` may be given by their
    names too (``"masking"``, ``"Asia/Shanghai"``), as the engine takes them. ``total`` (pages
    only) defaults to that count; ``formula_guard`` (CSV only: the other formats are not opened
    by spreadsheets) guards cells that a spreadsheet would run as formulas; ``times`` and
    ``zone`` (CSV only: the JSON formats keep the API's integers) choose how Sddp times are
    written."""
    kind = _kind(kind)
    fmt = _choice(ExportFormat, "fmt", fmt)
    times = _choice(Times, "times", times)
    zone = _zone(zone)
    for name, value, least in (("page_size", page_size, 1), ("first_page", first_page, 1), ("total", total, 0)):
        if value is not None and (type(value) is not int or value < least):  # 0 was the default size
            raise UsageError(name, value, f"{value!r} is not an integer of at least {least}")
    records = _of_kind(records, kind)
    if fmt is ExportFormat.JSONL:
        return write_jsonl(lines_order(records, kind), out)
    if fmt is ExportFormat.CSV:
        return write_csv(lines_order(records, kind), kind, out, formula_guard=formula_guard, times=times, zone=zone)
    if total is None:
        records = list(records)
        total = len(records)
    return write_pages(records, kind, out, total=total, page_size=page_size, first_page=first_page)
