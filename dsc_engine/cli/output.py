"""How the CLI shows things: readable tables, JSON, JSON Lines or CSV; and a progress bar.

Tables are for people: a few telling columns per kind, Sddp times as readable text in the
``--tz`` zone with its offset (``2026-10-01 10:00:00+00:00``; the raw milliseconds when outside
years 1-9999), DMS times as the naive wall-clock text they are, long cells cut with ``…``. The
other formats are for programs and carry every field of the API item form.
"""

from __future__ import annotations

import codecs
import datetime as dt
import enum
import json
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from dsc_engine.api.operations import BY_KIND, OPERATIONS
from dsc_engine.errors import UsageError
from dsc_engine.io.csvformat import export_cell, row_writer, to_cell
from dsc_engine.io.importreport import Reject, group_rejects, reject_lines
from dsc_engine.models import RecordKind
from dsc_engine.wire import types
from dsc_engine.wire.catalog import NESTED, Catalog, UnknownField, entry_field, lookup, nearest, wire_fields
from dsc_engine.wire.times import readable_time

#: The widest a table cell gets before it is cut.
CELL_WIDTH = 40


class Format(enum.Enum):
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"


#: The columns a table shows for each kind's items.
TABLE_COLUMNS: Mapping[RecordKind, tuple[str, ...]] = {
    RecordKind.AUDIT_LOG: (
        "CreationTime", "WarnLevel", "UserName", "ClientIp", "InstanceName", "DatabaseName",
        "OperateType", "RuleName", "EffectRow", "SqlText",
    ),
    RecordKind.MASKING_RUN: (
        "Id", "TaskId", "StartTime", "EndTime", "Status", "Type", "SrcTypeCode", "SrcTableName",
        "DstTypeCode", "Percentage", "FailCode",
    ),
    RecordKind.DMS_LOG: (
        "OpTime", "UserName", "ModuleName", "DbDisplayName", "TargetName", "SensitiveDataLog",
    ),
}
#: The keys of each kind's API items (record-only fields are never in them), which a table's
#: columns may be chosen from (``--columns``).
ITEM_KEYS: Mapping[RecordKind, Catalog] = {
    kind: {spec.name: spec for spec in wire_fields(kind) if not spec.record_only} for kind in RecordKind
}


def table_columns(kind: RecordKind, names: Sequence[str], option: str = "--columns") -> tuple[str, ...]:
    """The columns ``names`` choose for a table of ``kind``'s items, each as its item key (ASCII
    letters in any case, as a filter's field names): a :class:`UsageError` of ``option`` for a
    name that is no key of them, with the nearest and every one, or for a name given twice."""
    keys = ITEM_KEYS[kind]
    chosen: list[str] = []
    for name in names:
        try:
            key = lookup(keys, name).name
        except UnknownField as exc:
            hint = f"; did you mean {exc.suggestion}?" if exc.suggestion else ""
            found = entry_field(NESTED[kind], name)
            if found is not None:
                hint = f"; {found[1]} is a field of the {found[0]} entries, which the {found[0]} column shows"
            raise UsageError(option, name, f"{kind.value} items have no column {name!r}{hint} (columns:"
                                           f" {', '.join(keys)})") from None
        if key in chosen:
            raise UsageError(option, name, f"the column {key} is named twice")
        chosen.append(key)
    return tuple(chosen)


#: The columns holding Sddp times (UNIX milliseconds), of any kind.
_MS_COLUMNS = frozenset(spec.name for kind in RecordKind for spec in wire_fields(kind) if spec.type is types.TIME_MS)
UTC = dt.timezone.utc


def dumps(value: Any, *, pretty: bool = True) -> str:
    if pretty:
        return json.dumps(value, ensure_ascii=False, indent=2)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def unwritable(exc: UnicodeEncodeError) -> str:
    """Why results could not be written as UTF-8: text holding a surrogate, which only a record
    given to ``Engine.load`` as an object can hold (the importer rejects it), and which a snapshot
    of such an engine keeps; ``\ud800`` names the character."""
    character = exc.object[exc.start : exc.start + 1] if isinstance(exc.object, str) else ""
    escape = character.encode("unicode_escape").decode("ascii") if character else "a character"
    return (f"a result holds {escape}, half of a UTF-16 surrogate pair without its other half, which has no"
            " UTF-8 form: a record loaded as an object with such text (files that hold it are rejected)")


def time_cell(column: str, value: Any, zone: dt.tzinfo = UTC) -> str | None:
    """An Sddp time (UNIX milliseconds) of ``column`` as tables show it, in ``zone`` (the raw
    number when out of range); ``None`` for any other value."""
    if column in _MS_COLUMNS and type(value) is int:
        return readable_time(value, zone, fraction=False) or str(value)
    return None


def _cell(column: str, value: Any, zone: dt.tzinfo = UTC) -> str:
    if value is None:
        return ""
    if (shown := time_cell(column, value, zone)) is not None:
        return shown
    if column == "SensitiveDataLog" and isinstance(value, list):
        return ", ".join(f"{e.get('TableName', '?')}.{e.get('ColumnName', '?')}" for e in value) or "-"
    text = to_cell(value).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return text


#: Characters a terminal acts on instead of showing: C0 and C1 controls (escape sequences that
#: clear the screen, set its title, move the cursor) and the bidirectional formatting marks that
#: reorder the text around them. The data shown is others' text (``SqlText`` is what was run).
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on shown as its escape (``\\x1b``)."""
    if text.isascii() and text.isprintable():
        return text
    return _UNSHOWABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: wide (CJK) characters such as 高危 take two."""
    return sum(map(_char_width, text))


def _char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def clip(text: str, width: int = CELL_WIDTH) -> str:
    """``text`` if it fits in ``width`` columns, else its longest start that fits in one column
    less, and ``…``. One pass, stopping just past ``width``: a cell may hold a whole SQL text."""
    used = 0
    cut = len(text)
    for index, ch in enumerate(text):
        used += _char_width(ch)
        if used > width - 1 and cut == len(text):
            cut = index  # text[:index] is the longest start that leaves room for the ellipsis
        if used > width:
            return text[:cut] + "…"
    return text


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def table(
    rows: Sequence[Sequence[str]], header: Sequence[str], encoding: str | None = None, *, whole: bool = False
) -> str:
    """A plain-text table with a header rule; every cell clipped to :data:`CELL_WIDTH` columns,
    unless ``whole`` (a count's values, where two values clipped alike would read as one).
    With the ``encoding`` of the output, each character it cannot write is laid out as the escape
    the output will show (``\u9ad8`` takes six columns, not two)."""
    writable = _writable(encoding)
    shown = _same if whole else clip
    cells = [[shown(writable(printable(c))) for c in row] for row in rows]
    header = [writable(printable(h)) for h in header]
    widths = [
        max([display_width(h), *(display_width(r[i]) for r in cells)]) for i, h in enumerate(header)
    ]
    lines = ["  ".join(_pad(h, w) for h, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(_pad(c, w) for c, w in zip(row, widths)).rstrip() for row in cells)
    return "\n".join(lines)


def _writable(encoding: str | None) -> Callable[[str], str]:
    """A text as an output of ``encoding`` shows it (:func:`~dsc_engine.cli.destination.shown_output`
    writes what it cannot encode as its escape); the text itself for UTF-8 or no encoding."""
    if encoding is None or codecs.lookup(encoding).name == "utf-8":
        return _same
    return lambda text: text if text.isascii() else text.encode(encoding, "backslashreplace").decode(encoding)


def _same(text: str) -> str:
    return text


def output_encoding(out: IO[str]) -> str | None:
    """The encoding ``out`` writes in, when it says (a text stream of bytes below)."""
    encoding = getattr(out, "encoding", None)
    return encoding if isinstance(encoding, str) else None


def items_table(
    kind: RecordKind, items: Sequence[Mapping[str, Any]], zone: dt.tzinfo = UTC, encoding: str | None = None,
    columns: Sequence[str] | None = None, envelope: Mapping[str, Any] | None = None,
) -> str:
    """A table of API items of ``kind`` (empty: a note saying so, and which page is the last when
    the page of ``envelope`` is past it), Sddp times in ``zone``, laid out for an output of
    ``encoding`` (:func:`table`); its ``columns`` (item keys, checked by :func:`table_columns`)
    as given, else :data:`TABLE_COLUMNS` that some item holds."""
    if not items:
        return f"(no items on this page{_last_page(envelope)})"
    if columns is None:
        columns = [c for c in TABLE_COLUMNS[kind] if any(c in item for item in items)]
        if "WarnLevelName" in items[0] and "WarnLevel" in columns:
            columns[columns.index("WarnLevel")] = "WarnLevelName"
    return table([[_cell(c, item.get(c), zone) for c in columns] for item in items], columns, encoding)


def write_items(
    fmt: Format, kind: RecordKind, items: Sequence[Mapping[str, Any]], out: IO[str],
    envelope: Mapping[str, Any] | None = None, zone: dt.tzinfo = UTC, columns: Sequence[str] | None = None,
) -> None:
    """Show API items (and, in table/json form, the page ``envelope`` around them); a table
    shows Sddp times in ``zone``, and ``columns`` when given (:func:`items_table`). A JSON page
    lists them under the key the kind's operation uses (``Items``, ``SensitiveDataAuditLogList``),
    so that the importer reads it back."""
    if fmt is Format.JSON:
        out.write(dumps({**(envelope or {}), BY_KIND[kind].list_key: list(items)}) + "\n")
    elif fmt is Format.JSONL:
        for item in items:
            out.write(dumps(item, pretty=False) + "\n")
    elif fmt is Format.CSV:
        from dsc_engine.wire.codec import wire_keys

        keys = [k for k in wire_keys(kind) if any(k in item for item in items)] or list(wire_keys(kind))
        write_row = row_writer(out)  # read back as shown: a lone \r quoted, a text's leading ' kept
        write_row(keys)
        for item in items:
            write_row([export_cell(item.get(k), formula_guard=False) for k in keys])
    else:
        if envelope:
            shown = (v if isinstance(v, str) else dumps(v, pretty=False) for v in envelope.values())
            out.write(printable("  ".join(f"{k}: {v}" for k, v in zip(envelope, shown))) + "\n")
        out.write(items_table(kind, items, zone, output_encoding(out), columns, envelope) + "\n")


def _last_page(envelope: Mapping[str, Any] | None) -> str:
    """For a page with no items past the last (an envelope with its page number, PageSize and
    TotalCount; a DMS answer holds no page number): which page is the last; else nothing."""
    envelope = envelope or {}
    page, size, total = (envelope.get(key) for key in ("Page" if "Page" in envelope else "CurrentPage",
                                                        "PageSize", "TotalCount"))
    if not (isinstance(page, int) and isinstance(size, int) and isinstance(total, int) and size > 0 and total > 0):
        return ""
    last = -(-total // size)
    return f": the last page is {last}, at {size} records a page" if page > last else ""


def write_mapping(fmt: Format, data: Mapping[str, Any], out: IO[str]) -> None:
    """Show a flat summary (a report): ``key: value`` lines, or one JSON object."""
    if fmt is Format.TABLE:
        width = max((len(k) for k in data), default=0)
        for key, value in data.items():
            shown = value if isinstance(value, str) else dumps(value, pretty=False)
            out.write(printable(f"{key.ljust(width)}  {shown}") + "\n")
    elif fmt is Format.CSV:
        write_rows(fmt, [data], out)
    else:
        out.write(dumps(dict(data), pretty=fmt is Format.JSON) + "\n")


def write_rows(fmt: Format, rows: Sequence[Mapping[str, Any]], out: IO[str]) -> None:
    """Rows of one shape in ``jsonl`` (one compact object a line) or ``csv`` (a header of their
    keys, then one line a row; a value that is not text as its compact JSON; a summary of
    :func:`write_mapping` is one such row)."""
    if fmt is Format.CSV:
        write_row = row_writer(out)  # a value holding a lone \r is quoted, as the CSV reader needs
        if rows:
            write_row(list(rows[0]))
        for row in rows:
            write_row([v if isinstance(v, str) else dumps(v, pretty=False) for v in row.values()])
    else:
        for row in rows:
            out.write(dumps(row, pretty=False) + "\n")


def write_plan(fmt: Format, kind: RecordKind, filter_text: str, plan: str, out: IO[str]) -> None:
    """How a filter is answered (``explain``): the plan's text, or, in another format than a
    table, one record of the kind, the filter and the plan."""
    if fmt is Format.TABLE:
        out.write(plan + "\n")
    else:
        write_mapping(fmt, {"kind": kind.value, "filter": filter_text, "plan": plan}, out)


def write_rejects(rejects: Sequence[Reject], err: IO[str], *, heading: bool = True) -> None:
    """Rejected records grouped by reason (:func:`importreport.reject_lines`), under a heading that
    counts them."""
    lines = reject_lines(rejects)
    if not lines:
        return
    if heading:
        records = "record" if len(rejects) == 1 else "records"
        reasons = len(group_rejects(rejects, 0))
        err.write(f"rejected {len(rejects)} {records} for {reasons} {'reason' if reasons == 1 else 'reasons'}"
                  " (--rejects FILE writes every one):\n")
    err.write("".join(line + "\n" for line in lines))


#: Seconds a task runs before its progress bar shows, and between two updates of the bar.
PROGRESS_DELAY = 1.0
PROGRESS_INTERVAL = 0.1


class Progress:
    """A progress bar on a terminal's stderr, shown only once a task has taken over ``delay``
    seconds: ``loading [####....]  45% 12.3 MB`` (``unit="bytes"``) or ``saving [####....]  45%
    450,000 records`` (``unit="records"``). Called with how much was done since the last call."""

    def __init__(
        self, total: int, stream: IO[str] | None = None, delay: float | None = None,
        *, label: str = "loading", unit: str = "bytes",
    ) -> None:
        self.total = max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.monotonic()
        self.delay = PROGRESS_DELAY if delay is None else delay
        self.label = label
        self.unit = unit
        self.done = 0
        self.shown = False
        self._last = -1.0

    def __call__(self, amount: int) -> None:
        self.done += amount
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.delay or now - self._last < PROGRESS_INTERVAL:
            return
        self._last = now
        self.shown = True
        share = min(self.done / self.total, 1.0)
        filled = int(share * 30)
        amount_text = f"{self.done / 1e6:.1f} MB" if self.unit == "bytes" else f"{self.done:,} {self.unit}"
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} {amount_text}")
        self.stream.flush()

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()
            self.shown = False


#: The code of a call to an action (or version) the engine does not answer.
NOT_FOUND = "InvalidApi.NotFound"


def not_found_hint(action: str) -> str:
    """What the person should know of a call the service answers ``InvalidApi.NotFound`` (its
    message only says to check the URL): the actions there are and the nearest one, or the
    version of the action."""
    operation = OPERATIONS.get(action)
    if operation is not None:
        return f"({action} is of version {operation.version})"
    near = nearest(action, OPERATIONS, cutoff=0.6)
    return f"(the actions: {', '.join(OPERATIONS)}" + (f"; did you mean {near}?)" if near else ")")
