"""Stream mode: JSON values one after another, read in chunks however they are laid out.

A JSON file that is not JSON Lines (pretty-printed pages, a JSON array of pages or records,
objects separated by whitespace) is decoded one value at a time with ``raw_decode`` over its
chunks (:class:`_TextStream`), at most :data:`MAX_VALUE` characters a value, and each value is
made candidates by :func:`pages.expand`. A value cut off at the end of the file or too large,
invalid JSON, nesting too deep, bytes that are not UTF-8 and a gzip stream cut short end the file
with an :class:`ImportFailure` at their line; the values before the fault are read.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator

from dsc_engine.errors import ImportFailure
from dsc_engine.io import jsontext, pages, sources
from dsc_engine.io.candidates import Candidate
from dsc_engine.models import RecordKind

#: The largest single JSON value (one page, or one element of a top-level array) read in stream mode.
MAX_VALUE = 1 << 26


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
        self._fault: ImportFailure | None = None  # met while reading: raised once the text before it is used

    def _fill(self) -> bool:
        if self._fault is not None:  # before the end: a character cut at the end is met with it
            raise self._fault
        if self.eof:
            return False
        try:
            part = next(self._parts, None)
        except ImportFailure as exc:  # (a gzip stream cut short) raised once the text before is used
            line = self.line + self.buf.count("\n", self.pos)
            self._fault = ImportFailure(self.path, exc.reason, line)
            return True
        try:
            text = self._decoder.decode(part or b"", final=part is None)
        except UnicodeDecodeError as exc:  # the text before the byte is still read, values and all
            valid = exc.object[: exc.start]
            line = self.line + self.buf.count("\n", self.pos) + valid.count(b"\n")
            self._fault = ImportFailure(self.path, "not valid UTF-8; exports must be UTF-8 encoded", line)
            text = bytes(valid).decode("utf-8")
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
                    while len(self.buf) < target and self._fill() and self._fault is None:
                        pass  # (a fault met: the text before it is tried first, the next fill raises it)
                    continue
                raise self._failure(exc, may_continue) from None
            except RecursionError:
                reason = (f"the JSON value starting at line {self.line}: {jsontext.TOO_DEEP};"
                          " the rest of the file is not read")
                raise ImportFailure(self.path, reason, self.line) from None
            except ValueError:  # an integer too long to convert: read it as a marker
                if decoder is jsontext.MARKING:
                    raise
                decoder = jsontext.MARKING
                continue
            self.line += self.buf.count("\n", self.pos, end)
            self.pos = end
            self.huge = decoder is jsontext.MARKING
            return value

    def _failure(self, exc: json.JSONDecodeError, truncated: bool) -> ImportFailure:
        line = self.line + self.buf.count("\n", self.pos, exc.pos)
        rest = len(self.buf) - self.pos
        if truncated and self.eof and _runs_out(self.buf, exc):
            reason = f"the JSON value starting at line {self.line} is cut off at the end of the file (truncated)"
        elif truncated and not self.eof:
            reason = f"the JSON value starting at line {self.line} is larger than {MAX_VALUE} characters"
        else:
            why = exc.msg.removesuffix(" at")  # "Invalid control character at" (a position follows)
            reason = f"invalid JSON: {why}; the rest of the file ({rest} characters) is not read"
        return ImportFailure(self.path, reason, line)


#: Characters a number cut short may end with (``-``, ``1.``, ``1e+``), left unread by the decoder.
_NUMBER_TAIL = frozenset("0123456789.eE+-")


def _runs_out(text: str, exc: json.JSONDecodeError) -> bool:
    """Whether the decoder failed at the end of the file because the text ran out (a value cut
    short: nothing left, a string, escape, literal or number unfinished), not at a character no
    JSON value goes on with (``[{...},]``: a comma before the closing bracket is invalid JSON)."""
    if exc.msg.startswith(("Unterminated", "Invalid \\uXXXX escape")):
        return True
    rest = text[exc.pos :].strip()
    return not rest or set(rest) <= _NUMBER_TAIL or any(word.startswith(rest) for word in ("true", "false", "null"))


def read_values(path: str, parts: Iterator[bytes], kind: RecordKind | None) -> Iterator[Candidate]:
    """The candidates of every value, in file order: a top-level array's elements one by one
    (``[2]``, or ``array 2 [0]`` in a file's second array), any other value whole."""
    text = _TextStream(path, parts)
    arrays = 0
    while (char := text.peek()) is not None:
        if char == "\ufeff":  # the byte order mark of a file joined to the one before (cat a.json b.json)
            text.take()
            continue
        if char != "[":
            line = text.line
            value = text.value()
            yield from pages.expand(value, path, line, "", kind, huge=text.huge)
            continue
        text.take()
        arrays += 1
        index = 0
        label = "" if arrays == 1 else f"array {arrays} "
        if text.peek() == "]":
            text.take()
            continue
        while True:
            text.peek()  # past the blanks after the comma: the element starts on the line it is on
            line = text.line
            value = text.value()
            yield from pages.expand(value, path, line, f"{label}[{index}]", kind, huge=text.huge)
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
