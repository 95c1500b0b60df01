"""Reading exported files: the format and the record kind, both told from the content.

One file yields :class:`Candidate` objects in file order: each is one thing that should be a record
(a JSON Lines line, an item of an API page, a CSV row), with where it came from and its raw text.
What cannot even be read as a candidate (an empty file, a page cut in the middle, bytes that are not
UTF-8 inside a JSON document, a CSV header naming unknown columns) raises :class:`ImportFailure`
with the file and line.

Formats (after gunzipping and dropping a UTF-8 byte order mark):

- **JSON**, when the first non-blank character is ``{`` or ``[``:
  - *line mode* when the first non-blank line is a complete JSON object (or looks like one,
    ``{...}``): every line is read alone, so one bad line costs one record;
  - *stream mode* otherwise (pretty-printed pages, a JSON array of pages or records, objects
    separated by whitespace): values are decoded one at a time with ``raw_decode`` over chunks.
  A value is an API page (``{"Items": [...]}`` of either Sddp kind, ``{"SensitiveDataAuditLogList":
  [...]}`` for DMS, or an SDK response map ``{"body": <page>, ...}``), or one record.
- **CSV** otherwise: a header of API field names, one record per row (:mod:`csvformat`).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from dsc_engine.errors import ImportFailure
from dsc_engine.io import csvformat, sources
from dsc_engine.io.snapshot import MAGIC as SNAPSHOT_MAGIC
from dsc_engine.io.wire import wire_keys
from dsc_engine.models import RecordKind

#: How much of a bad value's raw text a reject keeps.
RAW_LIMIT = 1 << 20
#: The largest single JSON value (one page, or one element of a top-level array) read in stream mode.
MAX_VALUE = 1 << 26
#: Why a value nested deeper than Python's JSON reader goes (about 1,000 levels) is refused.
TOO_DEEP = "JSON nested too deeply to read (a record is at most 3 levels deep, a page 5)"

SDDP_KINDS = (RecordKind.AUDIT_LOG, RecordKind.MASKING_RUN)
#: The list key of an API page, and the kinds its items may be.
PAGE_LISTS: Mapping[str, tuple[RecordKind, ...]] = {
    "Items": SDDP_KINDS,
    "SensitiveDataAuditLogList": (RecordKind.DMS_LOG,),
}
_ERROR_BODY = frozenset({"Code", "Message", "RequestId"})


@attrs.define
class Candidate:
    """One would-be record: ``data`` (a JSON object) or ``error`` (why it is unreadable)."""

    path: str
    line: int
    item: str  # position inside the line's value: "" or e.g. "Items[3]", "[2].Items[0]"
    text: str | None = None  # the raw text, when it is not rebuilt from ``data`` or ``row``
    data: Any = None
    kinds: tuple[RecordKind, ...] = ()  # the kinds its envelope allows; () means any
    error: str | None = None
    row: Sequence[str] | None = None  # the cells, for a CSV row

    @property
    def raw(self) -> str:
        """The text it was read from (a page item or CSV row is written back compactly)."""
        if self.text is not None:
            return self.text
        if self.row is not None:
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow(self.row)
            return _clip(out.getvalue())
        return _raw(self.data)

    @property
    def where(self) -> str:
        place = f"{self.path}:{self.line}"
        return f"{place} {self.item}" if self.item else place


# ---------------------------------------------------------------------------------------------
# Record kinds
# ---------------------------------------------------------------------------------------------

_KEYS = {kind: frozenset(wire_keys(kind)) for kind in RecordKind}
#: The keys each kind cannot do without (CONTRACT.md section 1b); none is shared between kinds.
REQUIRED: Mapping[RecordKind, tuple[str, ...]] = {
    RecordKind.AUDIT_LOG: ("CreationTime",),
    RecordKind.MASKING_RUN: ("Id", "StartTime"),
    RecordKind.DMS_LOG: ("OpTime",),
}


def detect_kind(keys: Iterable[str], allowed: Sequence[RecordKind] = ()) -> RecordKind:
    """The record kind a set of keys (a record's, or a CSV header's) belongs to.

    The kind whose keys include them all; when several do (``UserName`` alone), the one whose
    required keys are present. When none includes them all, the kind sharing the most keys, so
    that the strict decoding then names the unknown key. ``ValueError`` when it cannot be told.
    """
    key_tuple = tuple(keys)
    memo = (key_tuple, tuple(allowed))
    known = _KIND_MEMO.get(memo)
    if known is not None:
        return known
    kind = _detect_kind(frozenset(key_tuple), tuple(allowed) or tuple(RecordKind))
    if len(_KIND_MEMO) >= _KIND_MEMO_SIZE:
        _KIND_MEMO.clear()
    _KIND_MEMO[memo] = kind
    return kind


#: The kind told for each key sequence seen (records of one export share a handful of them).
_KIND_MEMO: dict[tuple[tuple[str, ...], tuple[RecordKind, ...]], RecordKind] = {}
_KIND_MEMO_SIZE = 4096


def _detect_kind(present: frozenset[str], kinds: tuple[RecordKind, ...]) -> RecordKind:
    fitting = [k for k in kinds if present <= _KEYS[k]]
    if len(fitting) > 1:
        fitting = [k for k in fitting if any(key in present for key in REQUIRED[k])]
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        overlap = {k: len(present & _KEYS[k]) for k in kinds}
        best = max(overlap.values())
        winners = [k for k, n in overlap.items() if n == best]
        if best and len(winners) == 1:
            return winners[0]
    marks = ", ".join(f"{'/'.join(REQUIRED[k])} ({k.value})" for k in kinds)
    raise ValueError(f"cannot tell the record kind: expected one of the keys {marks}")


# ---------------------------------------------------------------------------------------------
# One file
# ---------------------------------------------------------------------------------------------


def read_file(
    path: Path, kind: RecordKind | None = None, progress: sources.ProgressFn | None = None
) -> Iterator[Candidate]:
    """Every candidate record of one file, in file order (see the module docstring)."""
    name = str(path)
    parts = sources.chunks(path, progress)
    blank: list[bytes] = []  # whitespace before the first chunk with content (its lines count)
    head = b""
    for part in parts:
        if not blank:
            part = sources.strip_bom(part)
        if part.strip():
            head = part
            break
        blank.append(part)
    if not head:
        raise ImportFailure(name, "file is empty (no records, no header)")
    if not blank and head.startswith(SNAPSHOT_MAGIC):  # only a pipe or device gets here
        raise ImportFailure(name, "a snapshot cannot be read from a pipe or device; save it to a file first")
    start = len(head) - len(head.lstrip())
    first = head[start : start + 1]
    opening = [head]  # with "{", the chunks up to the end of that first line (within the limit)
    size = len(head)
    if first == b"{":
        while opening[-1].find(b"\n", start if len(opening) == 1 else 0) < 0 and size <= sources.MAX_LINE:
            more = next(parts, None)
            if more is None:
                break
            opening.append(more)
            size += len(more)
    stream = itertools.chain(blank, opening, parts)
    if first in (b"{", b"["):
        if first == b"{" and (size > sources.MAX_LINE or _looks_like_line(_first_line(opening, start))):
            yield from _json_lines(name, sources.lines(stream), kind)
        else:
            yield from _json_stream(name, stream, kind)
    else:
        yield from _csv_rows(name, sources.lines(stream), kind)


def _first_line(opening: list[bytes], start: int) -> bytes:
    text = opening[0][start:] if len(opening) == 1 else b"".join(opening)[start:]
    return text.split(b"\n", 1)[0].strip()


def _looks_like_line(line: bytes) -> bool:
    if not line.endswith(b"}"):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError as exc:  # a bad record line, unless objects follow each other
        return exc.msg != "Extra data"
    except (ValueError, RecursionError):  # not UTF-8, an integer too long, nested too deeply:
        return True  # a record line to reject


def _expand(
    value: object,
    path: str,
    line: int,
    item: str,
    kind: RecordKind | None,
    text: str | None = None,
    huge: bool = False,
) -> Iterator[Candidate]:
    """The candidates in one JSON value: a page's items, or the value itself as a record
    (``text``: the line it was read from, kept as the raw text of a record; ``huge``: whether the
    value may hold :class:`HugeInteger` markers)."""
    prefix = f"{item}." if item else ""
    if isinstance(value, dict):
        body = value.get("body")
        if isinstance(body, dict) and any(key in body for key in PAGE_LISTS):
            value, prefix = body, f"{prefix}body."
        for list_key, kinds in PAGE_LISTS.items():
            if list_key in value:
                items = value[list_key]
                if not isinstance(items, list):
                    yield Candidate(path, line, prefix + list_key, data=items,
                                    error=f"{list_key} is not a JSON array")
                    return
                allowed = kinds if kind is None else (kind,)
                for index, record in enumerate(items):
                    where = f"{prefix}{list_key}[{index}]"
                    yield _record(path, line, where, record, allowed, huge=huge)
                return
        if _ERROR_BODY <= value.keys() and not _KEYS_ANY & value.keys():
            yield Candidate(path, line, item, data=value,
                            error=f"an API error response ({value.get('Code')}), not a page of records")
            return
    raw = None if text is None else _clip(text.rstrip("\r"))
    yield _record(path, line, item, value, () if kind is None else (kind,), raw, huge)


_KEYS_ANY = frozenset().union(*_KEYS.values()) - _ERROR_BODY


def _record(
    path: str,
    line: int,
    item: str,
    value: object,
    kinds: tuple[RecordKind, ...],
    text: str | None = None,
    huge: bool = False,
) -> Candidate:
    if not isinstance(value, dict):
        return Candidate(path, line, item, text, value, error=f"expected a JSON object, got {_json_name(value)}")
    if huge and (found := _huge_integer(value)) is not None:
        key, number = found
        return Candidate(path, line, item, text, value, error=f"key {key!r}: {number.reason}")
    return Candidate(path, line, item, text, value, kinds)


def _raw(value: object) -> str:
    try:
        return _clip(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_unwritable))
    except RecursionError:  # read at a shallower point of the stack than it is written here
        return "<a JSON value nested too deeply to show>"


def _unwritable(value: object) -> str:
    if isinstance(value, HugeInteger):
        return f"<an integer of {value.digits} digits>"
    raise TypeError(f"{type(value).__name__} is not JSON")


def _clip(text: str) -> str:
    return text if len(text) <= RAW_LIMIT else text[:RAW_LIMIT]


def _json_name(value: object) -> str:
    if isinstance(value, HugeInteger):
        return value.reason
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    return f"a {type(value).__name__} value"


# ---------------------------------------------------------------------------------------------
# Integers Python will not convert
# ---------------------------------------------------------------------------------------------


class HugeInteger:
    """A JSON integer with more digits than Python converts (``sys.get_int_max_str_digits()``,
    4,300 by default), read as this marker instead of failing the whole value: every integer of
    these APIs is a signed 64-bit one, so a record holding one is rejected, and only that record."""

    __slots__ = ("digits",)

    def __init__(self, text: str) -> None:
        self.digits = len(text.lstrip("-"))

    @property
    def reason(self) -> str:
        return f"an integer of {self.digits} digits, outside the signed 64-bit range of the API's integers"


def _parse_int(text: str) -> int | HugeInteger:
    try:
        return int(text)
    except ValueError:
        return HugeInteger(text)


#: Decodes like ``json.loads`` but reads too-long integers as :class:`HugeInteger`. Slower (a
#: Python call per integer): used only for a value the plain decoder refused for such an integer.
_MARKING = json.JSONDecoder(parse_int=_parse_int)


def _huge_integer(value: object) -> tuple[str, HugeInteger] | None:
    """The first :class:`HugeInteger` inside ``value`` and its path (``EffectRow``,
    ``SensitiveDataLog[0].X``), or ``None``; iterative, so no depth is too deep."""
    stack: list[tuple[str, object]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, HugeInteger):
            return path, item
        if isinstance(item, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(item))))
    return None


def _loads(text: str) -> tuple[Any, bool]:
    """The JSON value of a line and whether it may hold :class:`HugeInteger` markers;
    ``ValueError`` says why it cannot be read."""
    try:
        return json.loads(text), False
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON at column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    except ValueError:  # an integer too long to convert
        pass
    try:
        return _MARKING.decode(text), True
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON at column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ValueError(TOO_DEEP) from None


# ---------------------------------------------------------------------------------------------
# JSON Lines (and one compact page per line)
# ---------------------------------------------------------------------------------------------


#: Keys that make a line's object something other than a plain record (a page, a response map,
#: an error body): such objects go through :func:`_expand`.
_PAGE_MARKS = frozenset({*PAGE_LISTS, "body", "Code"})
_NOT_PLAIN: Any = object()
_scan_once = json.JSONDecoder().scan_once


def _scan_line(text: str) -> Any:
    """The JSON value of a line that is exactly one value with at most trailing JSON whitespace,
    or :data:`_NOT_PLAIN` (then ``json.loads`` decides, and words any error)."""
    try:
        value, end = _scan_once(text, 0)
    except (StopIteration, ValueError, RecursionError):
        return _NOT_PLAIN
    if end != len(text) and text[end:].strip(" \t\n\r"):
        return _NOT_PLAIN
    return value


def _json_lines(
    path: str, raw_lines: Iterator[bytes | sources.LongLine], kind: RecordKind | None
) -> Iterator[Candidate]:
    number = 0
    kinds = () if kind is None else (kind,)
    try:
        for number, raw in enumerate(raw_lines, 1):  # noqa: B007 - number is read after the loop
            if isinstance(raw, sources.LongLine):
                yield Candidate(path, number, "", _clip(raw.head.decode("utf-8", "replace")), error=raw.reason)
                continue
            if number == 1:
                raw = sources.strip_bom(raw)
            if not raw.strip():
                continue
            try:
                text = sources.decode_line(raw)
            except ValueError as exc:
                yield Candidate(path, number, "", _clip(raw.decode("utf-8", "replace")), error=str(exc))
                continue
            value = _scan_line(text)
            huge = False
            if value is _NOT_PLAIN:
                try:
                    value, huge = _loads(text)
                except ValueError as exc:
                    yield Candidate(path, number, "", _clip(text.rstrip("\r")), error=str(exc))
                    continue
            if type(value) is dict and _PAGE_MARKS.isdisjoint(value) and not huge:  # the usual line
                yield Candidate(path, number, "", _clip(text.rstrip("\r")), value, kinds)
            else:
                yield from _expand(value, path, number, "", kind, text, huge)
    except ImportFailure as exc:
        raise ImportFailure(path, f"{exc.reason}, after line {number}", number + 1) from exc


# ---------------------------------------------------------------------------------------------
# Stream mode: pretty-printed pages, arrays, concatenated objects
# ---------------------------------------------------------------------------------------------


class _TextStream:
    """Decoded text over byte chunks, with a read position and the line number of that position."""

    def __init__(self, path: str, parts: Iterator[bytes]) -> None:
        self.path = path
        self._parts = parts
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._json = json.JSONDecoder()
        self.buf = ""
        self.pos = 0
        self.line = 1
        self.eof = False
        self.huge = False  # whether the last value may hold HugeInteger markers
        self._first = True

    def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            part = next(self._parts, None)
        except ImportFailure as exc:
            line = self.line + self.buf.count("\n", self.pos)
            raise ImportFailure(self.path, exc.reason, line) from None
        try:
            text = self._decoder.decode(part or b"", final=part is None)
        except UnicodeDecodeError as exc:
            line = self.line + self.buf.count("\n", self.pos) + (part or b"")[: exc.start].count(b"\n")
            raise ImportFailure(self.path, "not valid UTF-8; exports must be UTF-8 encoded", line) from None
        if self._first:
            text, self._first = text.removeprefix("\ufeff"), False
        if part is None:
            self.eof = True
        if self.pos > sources.CHUNK_SIZE:
            self.buf, self.pos = self.buf[self.pos :], 0
        self.buf += text
        return True

    def peek(self) -> str | None:
        """The next non-whitespace character (consumed whitespace counts its lines)."""
        while True:
            start = self.pos
            end = len(self.buf)
            while self.pos < end and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            self.line += self.buf.count("\n", start, self.pos)
            if self.pos < end:
                return self.buf[self.pos]
            if not self._fill():
                return None

    def take(self) -> None:
        self.pos += 1

    def value(self) -> object:
        """Decode the JSON value at the next non-blank position, reading more chunks while it is
        incomplete."""
        self.peek()
        decoder = self._json
        while True:
            try:
                value, end = decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                pending = len(self.buf) - self.pos
                may_continue = exc.pos >= len(self.buf) - 6 or exc.msg.startswith("Unterminated")
                if may_continue and not self.eof and pending <= MAX_VALUE:
                    target = len(self.buf) + max(pending, sources.CHUNK_SIZE)
                    while len(self.buf) < target and self._fill():
                        pass
                    continue
                raise self._failure(exc, may_continue) from None
            except RecursionError:
                reason = f"the JSON value starting at line {self.line}: {TOO_DEEP}; the rest of the file is not read"
                raise ImportFailure(self.path, reason, self.line) from None
            except ValueError:  # an integer too long to convert: read it as a marker
                if decoder is _MARKING:
                    raise
                decoder = _MARKING
                continue
            self.line += self.buf.count("\n", self.pos, end)
            self.pos = end
            self.huge = decoder is _MARKING
            return value

    def _failure(self, exc: json.JSONDecodeError, truncated: bool) -> ImportFailure:
        line = self.line + self.buf.count("\n", self.pos, exc.pos)
        rest = len(self.buf) - self.pos
        if truncated and self.eof:
            reason = f"the JSON value starting at line {self.line} is cut off at the end of the file (truncated)"
        elif truncated:
            reason = f"the JSON value starting at line {self.line} is larger than {MAX_VALUE} characters"
        else:
            reason = f"invalid JSON: {exc.msg}; the rest of the file ({rest} characters) is not read"
        return ImportFailure(self.path, reason, line)


def _json_stream(path: str, parts: Iterator[bytes], kind: RecordKind | None) -> Iterator[Candidate]:
    text = _TextStream(path, parts)
    arrays = 0
    while (char := text.peek()) is not None:
        if char != "[":
            line = text.line
            value = text.value()
            yield from _expand(value, path, line, "", kind, huge=text.huge)
            continue
        text.take()
        arrays += 1
        index = 0
        label = "" if arrays == 1 else f"array {arrays} "
        if text.peek() == "]":
            text.take()
            continue
        while True:
            line = text.line
            value = text.value()
            yield from _expand(value, path, line, f"{label}[{index}]", kind, huge=text.huge)
            index += 1
            char = text.peek()
            if char == ",":
                text.take()
                continue
            if char == "]":
                text.take()
                break
            what = "the end of the file" if char is None else repr(char)
            raise ImportFailure(path, f"expected ',' or ']' after array element, found {what}", text.line)


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------


def _csv_rows(
    path: str, raw_lines: Iterator[bytes | sources.LongLine], kind: RecordKind | None
) -> Iterator[Candidate]:
    bad_lines: dict[int, str] = {}
    long_lines: dict[int, str] = {}  # the kept text of each line over the limit
    ended: list[bool] = []  # set once every line has been handed to the csv reader

    def text_lines() -> Iterator[str]:
        yield from _text_lines()
        ended.append(True)

    def _text_lines() -> Iterator[str]:
        for number, raw in enumerate(raw_lines, 1):
            if isinstance(raw, sources.LongLine):  # the csv module sees an empty line instead
                bad_lines[number] = raw.reason
                long_lines[number] = _clip(raw.head.decode("utf-8", "replace"))
                yield "\n"
                continue
            if number == 1:
                raw = sources.strip_bom(raw)
            try:
                yield sources.decode_line(raw) + "\n"
            except ValueError as exc:
                bad_lines[number] = str(exc)
                yield raw.decode("utf-8", "replace") + "\n"

    cell_limit = sources.MAX_LINE
    if csv.field_size_limit() < cell_limit:  # process-wide; raised (never lowered) so that a cell
        csv.field_size_limit(cell_limit)  # the engine exports (up to a line's size) reads back
    reader = csv.reader(text_lines())
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ImportFailure(path, f"unreadable CSV header: {exc}", 1) from None
    if 1 in long_lines:
        raise ImportFailure(path, f"CSV header: {bad_lines[1]}", 1)
    if 1 in bad_lines:
        raise ImportFailure(path, f"CSV header is {bad_lines[1]}", 1)
    kind, types = _csv_header(path, header, kind)
    previous = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise ImportFailure(
                    path,
                    f"the row starting on line {previous + 1} has a cell longer than {csv.field_size_limit()}"
                    f" characters (by line {reader.line_num}); a quote that is never closed makes the"
                    " rest of the file one cell",
                    previous + 1,
                ) from None
            raise ImportFailure(path, f"unreadable CSV: {exc}", reader.line_num) from None
        except ImportFailure as exc:
            raise ImportFailure(path, exc.reason, reader.line_num + 1) from None
        start, previous = previous + 1, reader.line_num
        if ended:  # the reader met the end of the file inside a quoted cell: the row's last one
            opened = start + sum(cell.count("\n") for cell in row[:-1])
            raise ImportFailure(
                path,
                f"a quoted cell opened on line {opened} is never closed (the file may be cut short);"
                f" the {previous - opened + 1} line(s) from there to the end are not read",
                opened,
            )
        broken = [n for n in range(start, previous + 1) if n in bad_lines] if bad_lines else []
        if broken:
            text = long_lines.get(broken[0])
            yield Candidate(path, start, "", text, row=None if text else row, error=bad_lines[broken[0]])
        elif not any(cell.strip() for cell in row):
            continue
        elif len(row) != len(header):
            yield Candidate(path, start, "", row=row,
                            error=f"row has {len(row)} cells but the header has {len(header)} columns")
        else:
            yield _csv_record(path, start, header, row, types, kind)


def _csv_header(
    path: str, header: list[str], kind: RecordKind | None
) -> tuple[RecordKind, Mapping[str, csvformat.FieldType]]:
    columns = [name.strip() for name in header]
    header[:] = columns
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise ImportFailure(path, f"CSV header repeats the column(s) {', '.join(duplicates)}", 1)
    if kind is None:
        try:
            kind = detect_kind(columns)
        except ValueError as exc:
            raise ImportFailure(path, f"not a recognised export (JSON or CSV with API field names): {exc}", 1) from None
    types = csvformat.column_types(kind)
    unknown = [c for c in columns if c not in types]
    if unknown:
        raise ImportFailure(
            path, f"CSV header has column(s) {', '.join(map(repr, unknown))}, not fields of a {kind.value} record", 1
        )
    missing = [c for c in REQUIRED[kind] if c not in columns]
    if missing:
        raise ImportFailure(
            path, f"CSV header lacks the required column(s) {', '.join(missing)} of a {kind.value} record", 1
        )
    return kind, types


def _csv_record(
    path: str,
    line: int,
    header: list[str],
    row: list[str],
    types: Mapping[str, csvformat.FieldType],
    kind: RecordKind,
) -> Candidate:
    data: dict[str, Any] = {}
    for column, cell in zip(header, row):
        if cell == "":
            continue
        try:
            data[column] = csvformat.from_cell(types[column], cell)
        except ValueError as exc:
            return Candidate(path, line, "", row=row, error=f"column {column}: {exc}")
    return Candidate(path, line, "", data=data, kinds=(kind,), row=row)
