"""How the CLI shows things: readable tables, JSON, JSON Lines or CSV; and a progress bar.

Tables are for people: a few telling columns per kind, times as UTC wall-clock text (the raw
milliseconds when outside years 1-9999), long cells cut with ``…``. The other formats are for
programs and carry every field of the API item form.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import json
import sys
import time
import unicodedata
from collections.abc import Mapping, Sequence
from typing import IO, Any

from dsc_engine.io.csvformat import to_cell
from dsc_engine.models import RecordKind

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
_MS_COLUMNS = frozenset({"CreationTime", "LogTime", "StartTime", "EndTime"})


def dumps(value: Any, *, pretty: bool = True) -> str:
    if pretty:
        return json.dumps(value, ensure_ascii=False, indent=2)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column in _MS_COLUMNS and type(value) is int:
        return _wall_clock(value)
    if column == "SensitiveDataLog" and isinstance(value, list):
        return ", ".join(f"{e.get('TableName', '?')}.{e.get('ColumnName', '?')}" for e in value) or "-"
    text = to_cell(value).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return text


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _wall_clock(ms: int) -> str:
    """UNIX milliseconds as UTC wall-clock text; a time outside years 1-9999 (which a record may
    hold: the wire allows any integer) as its raw milliseconds."""
    try:
        stamp = _EPOCH + dt.timedelta(milliseconds=ms)
    except OverflowError:
        return str(ms)
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: wide (CJK) characters such as 高危 take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: str, width: int = CELL_WIDTH) -> str:
    if display_width(text) <= width:
        return text
    while display_width(text) > width - 1:
        text = text[:-1]
    return text + "…"


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """A plain-text table with a header rule; every cell clipped to :data:`CELL_WIDTH` columns."""
    cells = [[clip(c) for c in row] for row in rows]
    widths = [
        max([display_width(h), *(display_width(r[i]) for r in cells)]) for i, h in enumerate(header)
    ]
    lines = ["  ".join(_pad(h, w) for h, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(_pad(c, w) for c, w in zip(row, widths)).rstrip() for row in cells)
    return "\n".join(lines)


def items_table(kind: RecordKind, items: Sequence[Mapping[str, Any]]) -> str:
    """A table of API items of ``kind`` (empty: a note saying so)."""
    if not items:
        return "(no items on this page)"
    columns = [c for c in TABLE_COLUMNS[kind] if any(c in item for item in items)]
    if "WarnLevelName" in items[0] and "WarnLevel" in columns:
        columns[columns.index("WarnLevel")] = "WarnLevelName"
    return table([[_cell(c, item.get(c)) for c in columns] for item in items], columns)


def write_items(
    fmt: Format, kind: RecordKind, items: Sequence[Mapping[str, Any]], out: IO[str],
    envelope: Mapping[str, Any] | None = None,
) -> None:
    """Show API items (and, in table/json form, the page ``envelope`` around them)."""
    if fmt is Format.JSON:
        out.write(dumps({**(envelope or {}), "Items": list(items)}) + "\n")
    elif fmt is Format.JSONL:
        for item in items:
            out.write(dumps(item, pretty=False) + "\n")
    elif fmt is Format.CSV:
        from dsc_engine.wire.codec import wire_keys

        keys = [k for k in wire_keys(kind) if any(k in item for item in items)] or list(wire_keys(kind))
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(keys)
        for item in items:
            writer.writerow([to_cell(item.get(k)) for k in keys])
    else:
        if envelope:
            shown = (v if isinstance(v, str) else dumps(v, pretty=False) for v in envelope.values())
            out.write("  ".join(f"{k}: {v}" for k, v in zip(envelope, shown)) + "\n")
        out.write(items_table(kind, items) + "\n")


def write_mapping(fmt: Format, data: Mapping[str, Any], out: IO[str]) -> None:
    """Show a flat summary (a report): ``key: value`` lines, or one JSON object."""
    if fmt is Format.TABLE:
        width = max((len(k) for k in data), default=0)
        for key, value in data.items():
            shown = value if isinstance(value, str) else dumps(value, pretty=False)
            out.write(f"{key.ljust(width)}  {shown}\n")
    elif fmt is Format.CSV:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(list(data))
        writer.writerow([v if isinstance(v, str) else dumps(v, pretty=False) for v in data.values()])
    else:
        out.write(dumps(dict(data), pretty=fmt is Format.JSON) + "\n")


class Progress:
    """A progress bar on a terminal's stderr, shown only once a load has taken over ``delay`` s."""

    def __init__(self, total: int, stream: IO[str] | None = None, delay: float = 1.0, verb: str = "loading") -> None:
        self.total = max(total, 1)
        self.verb = verb
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.monotonic()
        self.delay = delay
        self.done = 0
        self.shown = False
        self._last = 0.0

    def __call__(self, nbytes: int) -> None:
        self.done += nbytes
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.delay or now - self._last < 0.1:
            return
        self._last = now
        self.shown = True
        share = min(self.done / self.total, 1.0)
        filled = int(share * 30)
        megabytes = self.done / 1e6
        self.stream.write(f"\r{self.verb} [{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} {megabytes:.1f} MB")
        self.stream.flush()

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()

