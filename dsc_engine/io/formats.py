"""Reading exported files: the format and the record kind, both told from the content.

One file yields :class:`~dsc_engine.io.candidates.Candidate` objects in file order: each is one
thing that should be a record (a JSON Lines line, an item of an API page, a CSV row), with where it
came from and its raw text. What cannot even be read as a candidate (an empty file, a page cut in
the middle, bytes that are not UTF-8 inside a JSON document, a CSV header naming unknown columns)
raises :class:`ImportFailure` with the file and line.

Formats (after gunzipping and dropping a UTF-8 byte order mark):

- **JSON**, when the first non-blank character is ``{`` or ``[``:
  - *line mode* when the first non-blank line is a complete JSON object (or looks like one,
    ``{...}``, or is longer than :data:`sources.MAX_LINE`): every line is read alone
    (:mod:`jsonlines`), so one bad line costs one record; also when that line is damaged,
    whatever it starts with (the end of a record in a file split by size), and the next line is a
    whole object (:func:`_cut_short`);
  - *stream mode* otherwise (pretty-printed pages, a JSON array of pages or records, objects
    separated by whitespace): values are decoded one at a time with ``raw_decode`` over chunks
    (:mod:`jsonstream`).
  A value is an API page (``{"Items": [...]}`` of either Sddp kind, ``{"SensitiveDataAuditLogList":
  [...]}`` for DMS, or an SDK response map ``{"body": <page>, ...}``), or one record
  (:mod:`pages`). An integer too long for Python, or nesting too deep for it, costs one record
  (:mod:`jsontext`).
- **CSV** otherwise: a header of API field names, one record per row (:func:`csvformat.read_rows`)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from dsc_engine.errors import ImportFailure
from dsc_engine.io import csvformat, jsonlines, jsonstream, sources
from dsc_engine.io.candidates import Candidate
from dsc_engine.io.jsonlines import Decoded
from dsc_engine.io.jsonstream import MAX_VALUE
from dsc_engine.io.pages import PAGE_LISTS
from dsc_engine.io.snapshot import MAGIC as SNAPSHOT_MAGIC
from dsc_engine.models import RecordKind
from dsc_engine.wire.codec import LineDecoder


def read_file(
    path: Path, kind: RecordKind | None = None, progress: sources.ProgressFn | None = None,
    *, fast: bool = False, decoders: Mapping[RecordKind, LineDecoder] | None = None,
    csv_zone: dt.tzinfo | None = None,
) -> Iterator[Candidate | Decoded]:
    """Every candidate record of one file, in file order (see the module docstring). With
    ``fast``, JSON Lines records that the typed fast path reads come as :class:`Decoded`
    batches instead (what they hold is exactly what the candidates would have decoded to), read
    by ``decoders`` (the caller's, say narrowed ones) or new ones. ``csv_zone``: the zone of a
    CSV file's Sddp times written without one (none: such a time is refused)."""
    name = str(path)
    parts = sources.chunks(path, progress)
    blank = _Blank()  # whitespace before the first chunk with content (its lines count)
    head = b""
    for part in parts:
        if not blank.size:
            part = sources.strip_bom(part)
        if part.strip():
            head = part
            break
        blank.add(part)
    if not head:
        raise ImportFailure(name, "file is empty (no records, no header)")
    if not blank.size and head.startswith(SNAPSHOT_MAGIC):  # a snapshot file itself is opened before
        if sources.is_stream(path):
            raise ImportFailure(name, "a snapshot cannot be read from a pipe or device; save it to a file first")
        raise ImportFailure(name, "a gzip'd snapshot: a snapshot is opened in place from its own file;"
                            f" gunzip it first (gunzip {name})")
    start = _content_start(head)
    if (utf16 := _utf16(head, start, at_start=not blank.size)) is not None:
        raise ImportFailure(name, f"the file is UTF-16 ({utf16}), not UTF-8 as every export must be;"
                                  f" convert it first (iconv -f UTF-16 -t UTF-8 {name})")
    if not blank.size and (other := _other_format(head)) is not None:
        raise ImportFailure(name, other)
    first = head[start : start + 1]
    opening = [head]  # the chunks up to the end of the first line, or two (within the limit)
    size = _read_lines(opening, parts, start, 1) if first == b"{" else len(head)
    lines_mode = first == b"{" and (size > sources.MAX_LINE or _looks_like_line(_first_line(opening, start)))
    if not lines_mode:  # the first line may be the end of a record cut short
        size = _read_lines(opening, parts, start, 2)
        lines_mode = size <= sources.MAX_LINE and _cut_short(*_two_lines(opening, start))
    del head  # the chunks read so far are let go of as the reader takes them (:func:`_taking`)
    stream = itertools.chain(blank.chunks(), _taking(opening), parts)
    if lines_mode or first in (b"{", b"["):
        if lines_mode:
            if fast:
                yield from jsonlines.read_lines_fast(name, sources.lines(stream), kind, decoders or {})
            else:
                yield from jsonlines.read_lines(name, sources.lines(stream), kind)
        else:
            yield from jsonstream.read_values(name, stream, kind)
    else:
        yield from csvformat.read_rows(name, sources.lines(stream), kind, csv_zone)


def _content_start(head: bytes) -> int:
    """Where the first chunk with content has its first character: past blanks and byte order
    marks (a blank line before a file joined with ``cat``, whose mark then leads its first line)."""
    start = len(head) - len(head.lstrip())
    while head.startswith(sources.UTF8_BOM, start):
        start += len(sources.UTF8_BOM)
        start = len(head) - len(head[start:].lstrip())
    return start


def _utf16(head: bytes, start: int, at_start: bool) -> str | None:
    """How a file's first bytes say it is UTF-16 (PowerShell 5 writes its ``>`` redirections so),
    or ``None``: its byte order mark, or a NUL byte beside its first character, which UTF-8 JSON
    or CSV never has there (UTF-8 was read as a CSV header of other bytes, or as broken JSON)."""
    if at_start and head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f"its byte order mark is {head[:2].hex(' ')}"
    if head[start : start + 2].count(b"\0") == 1:  # (both: zeros, no text at all)
        return "without a byte order mark: a NUL byte beside its first character"
    return None


#: The magic bytes of files taken for exports by mistake: what each is, and what to do with it.
_OTHER_FORMATS = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)", "save the sheet as CSV UTF-8, or unzip it"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel .xls workbook (or another OLE2 file)",
     "save the sheet as CSV UTF-8"),
    (b"BZh", "bzip2-compressed", "decompress it first (bunzip2 -k)"),
    (b"\xfd7zXZ\x00", "xz-compressed", "decompress it first (unxz -k)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", "decompress it first (unzstd)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract it first"),
)


def _other_format(head: bytes) -> str | None:
    """Why a file that is no export cannot be read, told by its magic bytes (``None``: no such)."""
    for magic, what, advice in _OTHER_FORMATS:
        # bzip2's BZh is followed by its block size, 1-9 (a file of "BZh" alone is not bzip2)
        if head.startswith(magic) and (magic != b"BZh" or (len(head) > 3 and head[3] in b"123456789")):
            return f"the file is {what}, not an export (JSON or CSV, gzip'd or not): {advice}"
    return None


class _Blank:
    """The whitespace chunks a file starts with, held as what its lines need: how many line ends
    there are and the whitespace after the last one (the start of the first line with content),
    never more than a line's limit of it. A file of gigabytes of blank lines (a gzip of newlines
    is a thousandth of that) is read past in constant memory."""

    def __init__(self) -> None:
        self.size = 0
        self._ends = 0
        self._tail = bytearray()  # up to MAX_LINE + 1 bytes of whitespace after the last line end
        self._tail_size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        last = chunk.rfind(b"\n")
        if last >= 0:
            self._ends += chunk.count(b"\n")
            self._tail.clear()
            self._tail_size = 0
            chunk = chunk[last + 1 :]
        self._tail += chunk[: sources.MAX_LINE + 1 - len(self._tail)]
        self._tail_size += len(chunk)

    def chunks(self) -> Iterator[bytes]:
        """Chunks that split into the same lines: the line ends, then the tail (beyond the limit,
        where only its length still matters, as spaces)."""
        for _ in range(self._ends // sources.CHUNK_SIZE):
            yield b"\n" * sources.CHUNK_SIZE
        yield b"\n" * (self._ends % sources.CHUNK_SIZE) + bytes(self._tail)
        extra = self._tail_size - len(self._tail)
        for at in range(0, extra, sources.CHUNK_SIZE):
            yield b" " * min(sources.CHUNK_SIZE, extra - at)


def _taking(chunks: list[bytes]) -> Iterator[bytes]:
    """The chunks, each removed from the list as it is taken: the opening of a file read whole
    before its kind is known (up to :data:`~dsc_engine.io.sources.MAX_LINE` of a one-line JSON
    array) is not held until the file ends."""
    chunks.reverse()
    while chunks:
        yield chunks.pop()


def _read_lines(opening: list[bytes], parts: Iterator[bytes], start: int, count: int) -> int:
    """Read chunks into ``opening`` until it holds ``count`` whole lines from ``start`` (or the
    file ends, or the limit is passed); the size read. Linear: each chunk is searched once."""
    size = sum(map(len, opening))
    ends = sum(chunk.count(b"\n", start if i == 0 else 0) for i, chunk in enumerate(opening))
    while ends < count and size <= sources.MAX_LINE:
        more = next(parts, None)
        if more is None:
            break
        opening.append(more)
        size += len(more)
        ends += more.count(b"\n")
    return size


def _first_line(opening: list[bytes], start: int) -> bytes:
    text = opening[0][start:] if len(opening) == 1 else b"".join(opening)[start:]
    return text.split(b"\n", 1)[0].strip()


def _two_lines(opening: list[bytes], start: int) -> tuple[bytes, bytes | None]:
    """The first line and the second (``None`` when the file has no whole second line)."""
    text = b"".join(opening)[start:].split(b"\n", 2)
    return text[0].strip(), text[1].strip() if len(text) > 2 else None


def _cut_short(line: bytes, following: bytes | None) -> bool:
    """Whether a file whose first line is ``line`` is JSON Lines with that line damaged (the end of
    a record when a file was split by size, a record cut short): the next line is a whole JSON
    object, and the two cannot begin one JSON value (a page written over several lines, a CSV
    header and row never do both)."""
    if following is None or not _whole_object(following):
        return False
    try:
        text = (line + b"\n" + following).decode("utf-8")
        _, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        return exc.pos < len(text)  # an error before the end: no JSON value goes on like this
    except (ValueError, RecursionError):  # not UTF-8, an integer too long, nested too deeply
        return True
    return not text[end:].lstrip().startswith(("{", "["))  # a value, then no value: a stray ","


def _whole_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


def _looks_like_line(line: bytes) -> bool:
    if not line.endswith(b"}"):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError as exc:  # a bad record line, unless objects follow each other
        return exc.msg != "Extra data"
    except (ValueError, RecursionError):  # not UTF-8, an integer too long, nested too deeply:
        return True  # a record line to reject


#: Also named from here: the fast path's batches (:mod:`jsonlines`), the largest value of stream
#: mode (:mod:`jsonstream`) and the page lists (:mod:`pages`).
__all__ = ["MAX_VALUE", "PAGE_LISTS", "Decoded", "read_file"]
