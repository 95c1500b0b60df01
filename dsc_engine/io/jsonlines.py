"""JSON Lines: one JSON value a line (a record, or one compact API page), each line read alone.

A bad line costs one record (docs/formats.md, "What can be imported"). :func:`read_lines` yields
the :class:`~dsc_engine.io.candidates.Candidate` objects of every line: each line is scanned by the
C scanner (``json.loads`` is the fallback that words the errors), and a value that is not a plain
record object (a page, an SDK response map, an error body, an object holding an integer too long
for Python) is expanded by :func:`pages.expand`. :func:`read_lines_fast` is the typed fast path of an import
(docs/formats.md, "Load speed and memory"): a line that is one complete record of one kind is
decoded straight into a checked struct, and such lines come in :class:`Decoded` batches, as do the
items of a compact API page on a line of its own (what ``pull`` writes, and the API answers), each
decoded as a record line would be; any other line goes the way of :func:`read_lines`, so a line is
read the same either way (``tests/property/test_io_fast_lines.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import msgspec

from dsc_engine.errors import ImportFailure
from dsc_engine.io import jsontext, pages, sources
from dsc_engine.io.candidates import KEYS, REQUIRED, Candidate, clip
from dsc_engine.io.pages import PAGE_LISTS
from dsc_engine.models import RecordKind
from dsc_engine.wire.codec import DECLINED, LineDecoder, line_decoder

#: Keys that make a line's object something other than a plain record (a page, a response map,
#: an error body): such objects go through :func:`pages.expand`.
_PAGE_MARKS = frozenset({*PAGE_LISTS, "body", "Code", "ErrorCode"})
_NOT_PLAIN: Any = object()
#: The decoder's own scanner: one value at an offset (typeshed does not declare the attribute).
_scan_once: Callable[[str, int], tuple[Any, int]] = getattr(json.JSONDecoder(), "scan_once")  # noqa: B009


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


def read_lines(
    path: str, raw_lines: Iterator[bytes | sources.LongLine], kind: RecordKind | None
) -> Iterator[Candidate]:
    """The candidates of every line, in file order. A fault that ends the file (a gzip stream cut
    short) is an :class:`ImportFailure` after the last line read."""
    number = 0
    kinds = () if kind is None else (kind,)
    try:
        for number, raw in enumerate(raw_lines, 1):  # noqa: B007 - number is read after the loop
            yield from _line(path, number, raw, kind, kinds)
    except ImportFailure as exc:
        raise ImportFailure(path, f"{exc.reason}, after line {number}", number + 1) from exc


def _line(
    path: str, number: int, raw: bytes | sources.LongLine, kind: RecordKind | None, kinds: tuple[RecordKind, ...]
) -> Iterator[Candidate]:
    """The candidates of one JSON Lines line (none for a blank line)."""
    if isinstance(raw, sources.LongLine):
        yield Candidate(path, number, "", clip(raw.head.decode("utf-8", "replace")), error=raw.reason)
        return
    unended = sources.UNENDED if isinstance(raw, sources.Unended) else ""
    raw = sources.strip_bom(raw)  # on any line: files joined with cat each start with theirs
    if not raw.strip():
        return
    try:
        text = sources.decode_line(raw)
    except ValueError as exc:
        yield Candidate(path, number, "", clip(raw.decode("utf-8", "replace")), error=f"{exc}{unended}")
        return
    value = _scan_line(text)
    huge = False
    if value is _NOT_PLAIN:
        try:
            value, huge = jsontext.loads(text)
        except ValueError as exc:
            yield Candidate(path, number, "", clip(text.rstrip("\r")), error=f"{exc}{unended}")
            return
    if type(value) is dict and _PAGE_MARKS.isdisjoint(value) and not huge:  # the usual line
        yield Candidate(path, number, "", clip(text.rstrip("\r")), value, kinds)
    else:
        yield from pages.expand(value, path, number, "", kind, text, huge)


# ---------------------------------------------------------------------------------------------
# The typed fast path
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class Decoded:
    """Consecutive JSON Lines records of one kind that the typed fast path read (``objects``:
    checked structs, which the store reads column by column; see ``wire.codec.LineDecoder``),
    in file order: records a line each, or every item of one API page (``page``: its list key)."""

    kind: RecordKind
    objects: list[Any]
    path: str
    first: int  # the line of the first object (the others follow, one a line; a page's share it)
    raws: list[bytes]  # the text of each object's line, or of each item of the page
    page: str = ""  # the list key of the page the objects are the items of ("": lines)

    @property
    def listed(self) -> bool:
        """Whether the objects are the items of an API page: a listing (docs/semantics.md §5.1)."""
        return bool(self.page)

    def candidate(self, index: int) -> Candidate:
        """The candidate the slow path would have made of object ``index`` (for a message)."""
        if self.page:
            return Candidate(self.path, self.first, f"{self.page}[{index}]", None, json.loads(self.raws[index]), (),
                             listed=True)
        text = self.raws[index].decode("utf-8").rstrip("\r")
        return Candidate(self.path, self.first + index, "", clip(text), {}, ())


def _kinds_told_apart() -> None:
    """A line the fast path reads as kind K has only K's keys and all of K's required keys;
    ``candidates.detect_kind`` tells such a line's kind as K exactly when no other kind's required
    key is one of K's keys. Checked once, here: the fast path relies on it."""
    for kind in RecordKind:
        for other in RecordKind:
            if other is not kind and not KEYS[kind].isdisjoint(REQUIRED[other]):
                raise RuntimeError(f"{other.value}'s required keys are keys of {kind.value}")


_kinds_told_apart()
#: Lines the fast path reads before handing a batch on.
_FAST_BATCH = 1024


def read_lines_fast(
    path: str, raw_lines: Iterator[bytes | sources.LongLine], kind: RecordKind | None,
    given: Mapping[RecordKind, LineDecoder],
) -> Iterator[Candidate | Decoded]:
    """JSON Lines with the typed fast path: each line is decoded on its own as a record of one
    kind (the forced one, else the kind of the last line read, else each kind in turn); a line
    the fast path declines goes through :func:`_line`, which decides and words any error. Only
    a line that is one complete record of one kind is read fast, and such a line is read the same
    either way (``tests/property/test_io_fast_lines.py``)."""
    decoders = [given.get(k) or line_decoder(k) for k in ((kind,) if kind is not None else RecordKind)]
    kinds = () if kind is None else (kind,)
    current = decoders[0]
    decode, check = current.decode, current.check
    objects: list[Any] = []
    raws: list[bytes] = []
    first = 1
    number = 0
    try:
        for number, raw in enumerate(raw_lines, 1):  # noqa: B007 - number is read after the loop
            if type(raw) is bytes:
                if number == 1:
                    raw = sources.strip_bom(raw)
                try:  # the usual line: a record of the kind of the line before
                    obj = decode(raw)
                    if check is not None and not check(obj):
                        raise _Declined
                except (DECLINED, _Declined):
                    if raw.isspace() or not raw:  # a blank line: no record (the batch ends: its
                        if objects:  # lines are consecutive), and no other kind to try
                            yield Decoded(current.kind, objects, path, first, raws)
                            objects, raws = [], []
                        continue
                    found = _decode_other(raw, current, decoders)
                    page = None if found is not None else _decode_page(raw, decoders, kind, path, number)
                    if page is not None:  # an API page whose every item was read fast
                        if objects:
                            yield Decoded(current.kind, objects, path, first, raws)
                            objects, raws = [], []
                        yield page
                        continue
                    if found is None:
                        obj = _NOT_PLAIN
                    else:  # another kind: the batch so far ends here
                        if objects:
                            yield Decoded(current.kind, objects, path, first, raws)
                            objects, raws = [], []
                        current, obj = found
                        decode, check = current.decode, current.check
                if obj is not _NOT_PLAIN:
                    if not objects:
                        first = number
                    objects.append(obj)
                    raws.append(raw)
                    if len(objects) >= _FAST_BATCH:
                        yield Decoded(current.kind, objects, path, first, raws)
                        objects, raws = [], []
                    continue
            if objects:
                yield Decoded(current.kind, objects, path, first, raws)
                objects, raws = [], []
            yield from _line(path, number, raw, kind, kinds)
        if objects:
            yield Decoded(current.kind, objects, path, first, raws)
    except ImportFailure as exc:
        if objects:  # the records before the fault still load
            yield Decoded(current.kind, objects, path, first, raws)
        raise ImportFailure(path, f"{exc.reason}, after line {number}", number + 1) from exc


#: What the fast path reads of a line that is an API page: each list of records as raw items,
#: and an SDK response map's ``body`` (whose page the precise path reads).
_PageLine = msgspec.defstruct(
    "_PageLine",
    [(key, list[msgspec.Raw] | msgspec.UnsetType, msgspec.UNSET) for key in PAGE_LISTS]
    + [("body", msgspec.Raw | msgspec.UnsetType, msgspec.UNSET)],
)
_read_page = msgspec.json.Decoder(_PageLine).decode
_PAGE_KEYS = tuple(f'"{key}"'.encode() for key in PAGE_LISTS)


def _decode_page(
    raw: bytes, decoders: list[LineDecoder], kind: RecordKind | None, path: str, number: int
) -> Decoded | None:
    """The items of a line that is one API page, when the fast path reads every one of them as a
    record of one kind its list allows (``kind``, when forced); ``None`` sends the whole line the
    precise way (:func:`pages.expand`), which then decides and words any error: an SDK response
    map, a page with two lists or none, an item of no allowed kind or that the fast path declines."""
    if not any(key in raw for key in _PAGE_KEYS):
        return None
    try:
        page = _read_page(raw)
    except DECLINED:
        return None
    lists = [(key, getattr(page, key)) for key in PAGE_LISTS if getattr(page, key) is not msgspec.UNSET]
    if getattr(page, "body") is not msgspec.UNSET or len(lists) != 1 or not lists[0][1]:
        return None
    (list_key, items), = lists
    allowed = PAGE_LISTS[list_key] if kind is None else (kind,)
    for decoder in decoders:
        if decoder.kind not in allowed:
            continue
        objects = _decode_all(decoder, items)
        if objects is not None:
            return Decoded(decoder.kind, objects, path, number, [bytes(item) for item in items], list_key)
    return None


def _decode_all(decoder: LineDecoder, items: list[msgspec.Raw]) -> list[Any] | None:
    """Every item as a checked struct of the decoder's kind, or ``None`` when one is declined."""
    decode, check = decoder.decode, decoder.check
    objects = []
    try:
        for item in items:
            obj = decode(item)
            if check is not None and not check(obj):
                return None
            objects.append(obj)
    except DECLINED:
        return None
    return objects


class _Declined(Exception):
    """A line the typed decoder read but whose check declined (a DMS time out of range)."""


def _decode_other(raw: bytes, current: LineDecoder, decoders: list[LineDecoder]) -> tuple[LineDecoder, Any] | None:
    """The line as a record of another kind than the current one, if the fast path reads it."""
    for decoder in decoders:
        if decoder is current:
            continue
        try:
            obj = decoder.decode(raw)
        except DECLINED:
            continue
        if decoder.check is not None and not decoder.check(obj):
            return None
        return decoder, obj
    return None
