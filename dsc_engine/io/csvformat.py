"""CSV exports: rows read as candidate records, cells <-> the documented JSON type of each field.

A CSV export has a header of API field names (``CreationTime``, ``UserName`` ...) and one record per
row (:func:`read_rows`; quoted cells may span lines, a quote never closed is a file error). Cells
are text, so each is converted to its field's documented JSON type, strictly:

- integers (times in ms, counts, ``Status`` ...): an optional ``-`` and digits, within 64 bits,
  nothing else (``1.5E+12`` or `` 42`` are refused, not coerced);
- Sddp times (UNIX milliseconds) also as a readable time **with its zone**,
  ``yyyy-MM-dd HH:mm:ss[.fff]`` then ``Z`` or ``±hh:mm`` (``T`` instead of the space too), converted
  exactly (``wire/times.py``, ``cell_time_ms``); what an export with ``times="iso"`` writes
  (``readable_time``). A time without a zone is refused: it would name no instant;
- booleans: ``true`` / ``false`` in any letter case;
- strings (``WarnLevel``, ``ModuleName`` ...) and DMS times: as written;
- ``SensitiveDataLog``: the JSON array of entry objects, exactly as the API sends it;
- an empty cell means the field is absent (so an empty-string value cannot be told apart from an
  absent field in CSV; use JSON Lines to keep it);
- the formula guard: a text cell that starts with ``'`` followed by a formula character
  (``= + - @``, tab, carriage return), after any number of ``'``, loses its first ``'`` (see
  :func:`guard` for why this gives back exactly what the engine exported).

How a cell converts is its field type's (``dsc_engine/wire/types.py``, ``from_cell``). Whether
the converted value is valid for the field (a time in the right shape) is then decided by the
strict wire codec, like for every other format.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any

from dsc_engine.errors import ImportFailure
from dsc_engine.io import sources
from dsc_engine.io.candidates import REQUIRED, Candidate, clip, detect_kind
from dsc_engine.models import RecordKind
from dsc_engine.wire.catalog import FIELDS, nearest
from dsc_engine.wire.codec import wire_keys
from dsc_engine.wire.types import FieldType

#: The first characters that make a spreadsheet read a cell as a formula (CSV injection).
FORMULA_STARTS = frozenset("=+-@\t\r")
_MAY_NEED_GUARD = FORMULA_STARTS | {"'"}


def column_types(kind: RecordKind) -> Mapping[str, FieldType]:
    """The CSV columns a kind may have (its full wire keys) and the type of each."""
    return {key: FIELDS[kind][key].type for key in wire_keys(kind)}


def from_cell(field_type: FieldType, text: str, zone: dt.tzinfo | None = None) -> Any:
    """The JSON value of one non-empty cell (its field type converts it; a text cell loses its
    formula guard); ``ValueError`` says why it cannot be read. With ``zone``, an Sddp time
    written without its zone is read in it (without, such a cell names no instant, and is refused)."""
    value = field_type.from_cell(text, zone)
    return unguard(value) if isinstance(value, str) else value


def to_cell(value: Any) -> str:
    """The cell text of one JSON value of a record's wire form (``None``: an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def export_cell(value: Any, formula_guard: bool = True) -> str:
    """The cell text of one wire value in an export: :func:`to_cell`, then :func:`guard` for text."""
    text = to_cell(value)
    return guard(text, formula_guard) if type(value) is str else text


def row_writer(out: IO[str]) -> Callable[[Sequence[str]], object]:
    """A writer of rows that the importer reads back as written, lines ended by ``\n``: ``csv``
    quotes a cell holding a line terminator, and ``\n`` is ours, so a lone ``\r`` would be
    written bare and not read back; a row holding one is written with every cell quoted."""
    plain = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    return lambda row: (quoted if any("\r" in cell for cell in row) else plain).writerow(row)


def _quoted_formula(text: str) -> tuple[int, bool]:
    """How many ``'`` the text starts with, and whether a formula character follows them."""
    quotes = len(text) - len(text.lstrip("'"))
    return quotes, quotes < len(text) and text[quotes] in FORMULA_STARTS


def guard(text: str, formula_guard: bool = True) -> str:
    """A text cell as exported: ``'`` prefixed to text a spreadsheet would run as a formula.

    With ``formula_guard``, text starting with a formula character (``=cmd|...``, ``+1``, ``-2``,
    ``@SUM``, tab, carriage return) gets a leading ``'``, the usual guard: spreadsheets show it as
    text. Either way, text that already starts with ``'`` (one or more) then a formula character
    gets one more ``'``. The importer (:func:`unguard`) takes one ``'`` off exactly such cells,
    so an export re-imports to the same text with or without the guard (``'=x`` is written
    ``''=x``), and a cell guarded by a spreadsheet or another tool imports without its ``'``.
    Integers are not text: ``-5`` is never guarded.
    """
    if not text or text[0] not in _MAY_NEED_GUARD:
        return text
    quotes, formula = _quoted_formula(text)
    return "'" + text if formula and (quotes or formula_guard) else text


def unguard(text: str) -> str:
    """A text cell as imported: one leading ``'`` taken off when ``'`` (one or more) then a formula
    character start it (the inverse of :func:`guard`)."""
    if not text or text[0] != "'":
        return text
    return text[1:] if _quoted_formula(text)[1] else text


# ---------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------


def read_rows(
    path: str, raw_lines: Iterator[bytes | sources.LongLine], kind: RecordKind | None,
    zone: dt.tzinfo | None = None,
) -> Iterator[Candidate]:
    """The candidate records of a CSV file's lines: the header, then one per row, in file order;
    ``zone``: the zone of Sddp times written without one (:func:`from_cell`).

    A row with a line that is not UTF-8 or longer than the line limit, with the wrong number of
    cells or an unconvertible cell is a candidate with an error; a bad header, a quoted cell
    never closed, or a cell past the size limit raise :class:`ImportFailure` (with the line).
    """
    bad_lines: dict[int, str] = {}
    long_lines: dict[int, str] = {}  # the kept text of each line over the limit
    ended: list[bool] = []  # set once every line has been handed to the csv reader
    unended: list[int] = []  # the number of a last line without its line end
    fed: list[str] = []  # the lines of the row being read (the reader reads no further ahead)

    def text_lines() -> Iterator[str]:
        for line in decoded():
            fed.append(line)
            yield line
        ended.append(True)

    def decoded() -> Iterator[str]:
        leading = True  # blank lines so far: the header, when it comes, may begin with marks
        for number, raw in enumerate(raw_lines, 1):
            if isinstance(raw, sources.LongLine):  # the csv module sees an empty line instead
                bad_lines[number] = raw.reason
                long_lines[number] = clip(raw.head.decode("utf-8", "replace"))
                yield "\n"
                continue
            if isinstance(raw, sources.Unended):
                unended.append(number)
            if leading:
                raw = sources.strip_bom(raw)
                leading = not raw.strip()
            try:
                yield sources.decode_line(raw) + "\n"
            except ValueError as exc:
                bad_lines[number] = str(exc)
                yield raw.decode("utf-8", "replace") + "\n"

    cell_limit = sources.MAX_LINE
    if csv.field_size_limit() < cell_limit:  # process-wide; raised (never lowered) so that a cell
        csv.field_size_limit(cell_limit)  # the engine exports (up to a line's size) reads back
    # strict: a quoted cell with text after its closing quote ('"a"b') is an error, not read as 'ab'
    reader = csv.reader(text_lines(), strict=True)
    header: list[str] = []
    try:
        while not any(cell.strip() for cell in header):  # blank lines before it are skipped
            first = reader.line_num + 1
            fed.clear()
            header = next(reader)
            if first in long_lines:  # not blank, though the csv module was given it empty
                break
    except csv.Error as exc:
        reason = f"unreadable CSV header: {exc}"
        lone_cr = str(exc).startswith("new-line character seen in unquoted field")
        if lone_cr and "".join(fed).replace("\r", "").replace("\n", "").isprintable():  # text, not binary
            reason = ("the CSV header holds a carriage return (\\r) that ends no line: lines that end with \\r"
                      " alone (an old Mac format) are not read; save the file with \\n or \\r\\n line ends")
        raise ImportFailure(path, reason, reader.line_num) from None
    except StopIteration:
        raise ImportFailure(path, "file is empty (no records, no header)") from None
    if first in long_lines:
        raise ImportFailure(path, f"CSV header: {bad_lines[first]}", first)
    if first in bad_lines:
        raise ImportFailure(path, f"CSV header is {bad_lines[first]}", first)
    forced = kind
    kind, types = _header(path, header, kind, first)
    previous = reader.line_num
    while True:
        fed.clear()
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
            if not ended:  # one malformed row: the reader goes on at the next line
                start, previous = previous + 1, reader.line_num
                cut = sources.UNENDED if previous in unended else ""
                raw = clip("".join(fed).removesuffix("\n"))
                yield Candidate(path, start, "", raw, error=f"{_row_error(exc, reader.line_num)}{cut}")
                continue
            row = next(csv.reader(fed))  # the end of the file inside a quoted cell: read as it stands
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
        cut = sources.UNENDED if previous in unended else ""  # a last row that may be cut short
        broken = [n for n in range(start, previous + 1) if n in bad_lines] if bad_lines else []
        if broken:
            text = long_lines.get(broken[0])
            yield Candidate(path, start, "", text, row=None if text else row, error=bad_lines[broken[0]] + cut)
        elif not any(cell.strip() for cell in row):
            continue
        elif (again := _header_again(path, row, forced, start)) is not None:  # files joined with cat
            kind, types = again
            header = row
        elif len(row) != len(header):
            yield Candidate(path, start, "", row=row,
                            error=f"row has {len(row)} cells but the header has {len(header)} columns{cut}")
        else:
            candidate = _record(path, start, header, row, types, kind, zone)
            if cut and candidate.error:
                candidate.error += cut
            yield candidate


#: Every column name of any kind: a row whose cells all are may be a header (:func:`_header_again`).
_ANY_COLUMN = frozenset(key for kind in RecordKind for key in wire_keys(kind))


def _header_again(
    path: str, row: list[str], kind: RecordKind | None, line: int
) -> tuple[RecordKind, Mapping[str, FieldType]] | None:
    """The kind and columns of a row that is a header (a byte order mark before it): the header of
    the next file of CSV exports joined with ``cat``, whose rows it names; ``None`` for a row that
    is not. A header is never a record (its required columns hold their names, not values)."""
    first = row[0].strip().lstrip("\ufeff").strip()
    if first not in _ANY_COLUMN:  # (a record's row, at once)
        return None
    cells = [first, *(cell.strip() for cell in row[1:])]
    if not all(cell in _ANY_COLUMN for cell in cells):
        return None
    try:
        found = _header(path, cells, kind, line)
    except ImportFailure:  # no whole header (a column missing, repeated): read as the row it is
        return None
    row[:] = cells
    return found


def _header(
    path: str, header: list[str], kind: RecordKind | None, line: int
) -> tuple[RecordKind, Mapping[str, FieldType]]:
    columns = [name.strip() for name in header]
    header[:] = columns
    duplicates = sorted(c for c, count in collections.Counter(columns).items() if count > 1)
    if duplicates:
        raise ImportFailure(path, f"CSV header repeats the column(s) {_some(duplicates)}", line)
    if len(columns) == 1 and (separator := _other_separator(columns[0])):
        raise ImportFailure(path, f"the header is one column, {columns[0]!r}: columns are separated by commas,"
                                  f" this file seems to use {separator}", line)
    if kind is None:
        try:
            kind = detect_kind(columns)
        except ValueError as exc:
            reason = f"not a recognised export (JSON or CSV with API field names): {exc}"
            raise ImportFailure(path, reason, line) from None
    types = column_types(kind)
    unknown = [c for c in columns if c not in types]
    if unknown:
        near = [m for c in unknown[:_NAMED] if (m := nearest(c, types, cutoff=0.6))]
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        raise ImportFailure(
            path,
            f"CSV header has column(s) {_some(list(map(repr, unknown)))}, not fields of {_a(kind)} record{hint}",
            line,
        )
    missing = [c for c in REQUIRED[kind] if c not in columns]
    if missing:
        raise ImportFailure(
            path, f"CSV header lacks the required column(s) {', '.join(missing)} of {_a(kind)} record", line
        )
    return kind, types


def _row_error(exc: csv.Error, line: int) -> str:
    """Why the csv module could not split a row into cells, in words (it stopped on ``line``)."""
    message = str(exc)
    if message.startswith("',' expected after"):
        return (f"on line {line}, text follows the closing quote of a quoted cell (a quote inside a"
                ' quoted cell is written twice, "")')
    if message.startswith("new-line character seen in unquoted field"):
        return (f"on line {line}, a cell that is not quoted holds a carriage return (\\r); a cell"
                " holding one must be quoted")
    return f"unreadable CSV row (by line {line}): {message}"


def _a(kind: RecordKind) -> str:
    """``an audit_log``, ``a dms_log``."""
    return f"{'an' if kind.value[0] in 'aeiou' else 'a'} {kind.value}"


def _other_separator(cell: str) -> str | None:
    """The separator a one-column header seems to use instead of commas (a spreadsheet saving
    with the locale's ``;``, a tab-separated file), if any."""
    for separator, name in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
        if separator in cell:
            return name
    return None


#: Column names an error lists at most; a header of thousands of columns is named by its first ones.
_NAMED = 10


def _some(names: list[str]) -> str:
    """``a, b, c``; past :data:`_NAMED` names, the first ones and how many more."""
    if len(names) <= _NAMED:
        return ", ".join(names)
    return f"{', '.join(names[:_NAMED])} and {len(names) - _NAMED} more"


def _record(
    path: str,
    line: int,
    header: list[str],
    row: list[str],
    types: Mapping[str, FieldType],
    kind: RecordKind,
    zone: dt.tzinfo | None,
) -> Candidate:
    data: dict[str, Any] = {}
    for column, cell in zip(header, row):
        if cell == "":
            continue
        try:
            data[column] = from_cell(types[column], cell, zone)
        except ValueError as exc:
            return Candidate(path, line, "", row=row, error=f"column {column}: {exc}")
    return Candidate(path, line, "", data=data, kinds=(kind,), row=row)
