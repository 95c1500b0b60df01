"""A version 3 snapshot file (:mod:`snapstore`), checked before anything is allocated.

:func:`read_directory` checks the header against the file (the directory must end it) and the
directory's checksum, shape and types, and every section's place (inside the file, before the
directory, not overlapping another); :func:`verify` compares the CRC-32 of every section, read a
megabyte at a time. :class:`SnapshotFile` then hands out each section once, after checking its
type and declared length (a whole number of items, the count the caller expects). A fault is a
:class:`SnapshotError` naming the section. :mod:`snapopen` builds the stores from these sections.
"""

from __future__ import annotations

import json
import sys
import zlib
from array import array
from collections.abc import Iterable
from typing import Any, BinaryIO

import attrs

from dsc_engine.errors import SnapshotError
from dsc_engine.io.snapstore import FORMAT_NAME, HEADER, ITEM_SIZES, MAX_DIRECTORY, VERSION

#: Bytes checksummed at a time.
_PIECE = 1 << 20


@attrs.frozen
class Section:
    offset: int
    length: int
    type: str
    crc32: int


class SnapshotFile:
    """The sections of one snapshot file, each checked before it is read."""

    def __init__(self, raw: BinaryIO, sections: list[Section]) -> None:
        self.raw = raw
        self.sections = sections
        self.used: set[int] = set()

    def type_of(self, number: object, where: str) -> str:
        """The type of the section ``number`` names (for a part stored in one of two forms)."""
        return self.sections[self._number(number, where)].type

    def _number(self, number: object, where: str) -> int:
        """``number``, when it names a section."""
        if type(number) is not int or not 0 <= number < len(self.sections):
            raise SnapshotError(f"corrupt: {where} names no section ({brief(number)})")
        return number

    def section(self, listed: object, kind: str, where: str, count: int | None = None) -> Section:
        number = self._number(listed, where)
        section = self.sections[number]
        if section.type != kind:
            raise SnapshotError(f"corrupt: {where} is a section of type {section.type!r}, not {kind!r}")
        if count is not None and section.length != count * ITEM_SIZES[kind]:
            raise SnapshotError(
                f"corrupt: {where} holds {section.length} bytes, not {count} items of {ITEM_SIZES[kind]} bytes"
            )
        if number in self.used:
            raise SnapshotError(f"corrupt: {where} reuses section {number}")
        self.used.add(number)
        return section

    def array(self, section: Section, kind: str) -> array:  # type: ignore[type-arg]
        """The section's items, read straight into a new array (no temporary copy)."""
        items = array(kind, [0]) * (section.length // ITEM_SIZES[kind])
        self.raw.seek(section.offset)
        view = memoryview(items).cast("B")
        if self.raw.readinto(view) != section.length:  # type: ignore[attr-defined]
            raise SnapshotError("truncated: the file shrank while it was read")
        if sys.byteorder == "big":
            items.byteswap()
        return items

    def bytes(self, section: Section) -> bytes:
        self.raw.seek(section.offset)
        data = self.raw.read(section.length)
        if len(data) != section.length:
            raise SnapshotError("truncated: the file shrank while it was read")
        return data

    def json(self, section: Section, where: str) -> Any:
        try:
            return json.loads(self.bytes(section).decode("utf-8"))
        except ValueError as exc:
            raise SnapshotError(f"corrupt: {where} is not UTF-8 JSON: {exc}") from None
        except RecursionError:
            raise SnapshotError(f"corrupt: {where} is nested too deeply") from None


def read_directory(raw: BinaryIO, size: int, head: bytes) -> tuple[dict[str, Any], list[Section]]:
    """The checked directory of a version 3 file (``head``: its first :data:`HEADER` bytes)."""
    if len(head) < HEADER.size:
        raise SnapshotError(f"truncated: {len(head)} bytes, shorter than the {HEADER.size}-byte header")
    _, _, flags, offset, length, crc = HEADER.unpack(head)
    if flags:
        raise SnapshotError(f"unknown snapshot flags 0x{flags:02x}")
    if length > MAX_DIRECTORY:
        raise SnapshotError(f"corrupt: the directory claims {length} bytes, more than {MAX_DIRECTORY}")
    if offset < HEADER.size or offset + length != size:
        raise SnapshotError(
            f"truncated or corrupt: the directory ({length} bytes at {offset}) does not end the"
            f" {size}-byte file"
        )
    raw.seek(offset)
    data = raw.read(length)
    if len(data) != length or zlib.crc32(data) != crc:
        raise SnapshotError("corrupt: the CRC-32 checksum of the directory does not match")
    try:
        directory = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        raise SnapshotError(f"corrupt: the directory is not UTF-8 JSON: {exc}") from None
    except RecursionError:
        raise SnapshotError("corrupt: the directory is nested too deeply") from None
    if not isinstance(directory, dict) or directory.get("format") != FORMAT_NAME or directory.get("version") != VERSION:
        raise SnapshotError(f"corrupt: the directory is not that of a version {VERSION} {FORMAT_NAME}")
    listed = directory.get("sections")
    if not isinstance(listed, list) or not isinstance(directory.get("kinds"), list):
        raise SnapshotError("corrupt: the directory lacks its 'sections' or 'kinds'")
    sections = [_section(item, number, offset) for number, item in enumerate(listed)]
    ends = sorted((s.offset, s.offset + s.length, n) for n, s in enumerate(sections))
    for (_, end, number), (start, _, following) in zip(ends, ends[1:]):
        if start < end:
            raise SnapshotError(f"corrupt: sections {number} and {following} overlap")
    return directory, sections


def _section(item: object, number: int, limit: int) -> Section:
    where = f"section {number}"
    if not isinstance(item, dict):
        raise SnapshotError(f"corrupt: {where} is not an object")
    offset, length, kind, crc = (item.get(k) for k in ("offset", "length", "type", "crc32"))
    if not all(type(v) is int and v >= 0 for v in (offset, length, crc)):
        raise SnapshotError(f"corrupt: {where} has no whole offset, length and crc32")
    if kind not in (*ITEM_SIZES, "bytes", "json"):
        raise SnapshotError(f"corrupt: {where} has an unknown type {brief(kind)}")
    assert isinstance(offset, int) and isinstance(length, int) and isinstance(kind, str)
    if offset < HEADER.size or offset + length > limit:
        raise SnapshotError(f"truncated or corrupt: {where} ({length} bytes at {offset}) lies outside the sections")
    if kind in ITEM_SIZES and length % ITEM_SIZES[kind]:
        raise SnapshotError(f"corrupt: {where} holds {length} bytes, not whole items of {ITEM_SIZES[kind]} bytes")
    return Section(offset, length, kind, int(crc))  # type: ignore[arg-type]


def verify(raw: BinaryIO, sections: Iterable[Section]) -> None:
    """Compare every section's CRC-32, reading a megabyte at a time into one buffer."""
    buffer = bytearray(_PIECE)
    view = memoryview(buffer)
    for number, section in enumerate(sections):
        raw.seek(section.offset)
        left, crc = section.length, 0
        while left:
            got = raw.readinto(view[: min(left, _PIECE)])  # type: ignore[attr-defined]
            if not got:
                raise SnapshotError(f"truncated: section {number} is cut short")
            crc = zlib.crc32(view[:got], crc)
            left -= got
        if crc != section.crc32:
            raise SnapshotError(f"corrupt: the CRC-32 checksum of section {number} does not match")


def brief(value: object) -> str:
    """``repr(value)``, cut to 60 characters, for a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
