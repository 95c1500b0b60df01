"""What a reader of exported files yields: would-be records, and the record kind of a set of keys.

Every format (:mod:`formats` for JSON, :mod:`csvformat` for CSV) turns a file into
:class:`Candidate` objects in file order: each is one thing that should be a record (a JSON Lines
line, an item of an API page, a CSV row), with where it came from and its raw text, and either its
JSON object or why it cannot be read. :func:`detect_kind` tells the kind of a record (or of a CSV
header) from its keys.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from dsc_engine.io import jsontext
from dsc_engine.wire.catalog import required_keys
from dsc_engine.wire.codec import wire_keys
from dsc_engine.models import RecordKind

#: How much of a bad value's raw text a reject keeps.
RAW_LIMIT = 1 << 20


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
    listed: bool = False  # an item of an API response page (docs/semantics.md §5.1)

    @property
    def raw(self) -> str:
        """The text it was read from (a page item or CSV row is written back compactly)."""
        if self.text is not None:
            return self.text
        if self.row is not None:
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow(self.row)
            return clip(out.getvalue())
        return clip(jsontext.compact(self.data))

    @property
    def where(self) -> str:
        place = f"{self.path}:{self.line}"
        return f"{place} {self.item}" if self.item else place


def clip(text: str) -> str:
    """``text`` cut to :data:`RAW_LIMIT` characters."""
    return text if len(text) <= RAW_LIMIT else text[:RAW_LIMIT]


# ---------------------------------------------------------------------------------------------
# Record kinds
# ---------------------------------------------------------------------------------------------

KEYS = {kind: frozenset(wire_keys(kind)) for kind in RecordKind}
#: The keys each kind cannot do without (docs/formats.md, "Record kind"); none is shared between kinds.
REQUIRED: Mapping[RecordKind, tuple[str, ...]] = {kind: required_keys(kind) for kind in RecordKind}


def detect_kind(keys: Iterable[str], allowed: Sequence[RecordKind] = ()) -> RecordKind:
    """The record kind a set of keys (a record's, or a CSV header's) belongs to.

    The kind whose keys include them all; when several do (``UserName`` alone), the one whose
    required keys are present. When none includes them all, the kind sharing the most keys (of
    those tied, the one whose required keys are all there), so that the strict decoding then
    names the unknown key. ``ValueError`` when it cannot be told.
    """
    key_tuple = tuple(keys)
    memo = (key_tuple, tuple(allowed))
    known = _KIND_MEMO.get(memo)
    if known is not None:
        return known
    kind = _detect_kind(frozenset(key_tuple), tuple(allowed) or tuple(RecordKind))
    if len(key_tuple) <= _KIND_MEMO_KEYS and _characters(key_tuple) <= _KIND_MEMO_CHARACTERS:
        if len(_KIND_MEMO) >= _KIND_MEMO_SIZE:
            _KIND_MEMO.clear()
        _KIND_MEMO[memo] = kind
    return kind


#: The kind told for each key sequence seen (records of one export share a handful of them).
_KIND_MEMO: dict[tuple[tuple[str, ...], tuple[RecordKind, ...]], RecordKind] = {}
_KIND_MEMO_SIZE = 4096
#: Only key sequences a record could have are remembered (a kind has at most 36 keys, each a
#: short name): rejected objects of thousands of keys, or of long ones, each a different
#: sequence, once kept 4,096 of them alive (some 400 MB for a 100 MB file).
_KIND_MEMO_KEYS = 64
_KIND_MEMO_CHARACTERS = 2048


def _characters(keys: tuple[object, ...]) -> int:
    """The characters of the string keys (``Engine.load`` may be given others, refused later)."""
    return sum(len(key) for key in keys if type(key) is str)


def _detect_kind(present: frozenset[str], kinds: tuple[RecordKind, ...]) -> RecordKind:
    fitting = [k for k in kinds if present <= KEYS[k]]
    if not fitting:  # a whole record of a kind not allowed here (an API page's list, a forced kind)
        others = [k for k in RecordKind if k not in kinds and present <= KEYS[k]
                  and all(key in present for key in REQUIRED[k])]
        if len(others) == 1:
            allowed = " or ".join(k.facts.label for k in kinds)
            raise ValueError(f"its keys are those of {_a(others[0].facts.label)}, not of {_a(allowed)}")
    if len(fitting) > 1:
        fitting = [k for k in fitting if any(key in present for key in REQUIRED[k])]
    if len(fitting) == 1:
        return fitting[0]
    complete = [k for k in kinds if all(key in present for key in REQUIRED[k])]
    if not fitting:
        overlap = {k: len(present & KEYS[k]) for k in kinds}
        best = max(overlap.values())
        winners = [k for k, n in overlap.items() if n == best]
        if best and len(winners) > 1:  # a tie: the one kind whose required keys are all there
            winners = [k for k in winners if k in complete]
        if best and len(winners) == 1:
            return winners[0]
    if len(complete) > 1:  # "expected one of the keys" would be wrong: it has them
        held = ", ".join(f"{'/'.join(REQUIRED[k])} ({k.value})" for k in complete)
        raise ValueError(f"cannot tell the record kind: it holds the required keys of several kinds, {held}")
    marks = ", ".join(f"{'/'.join(REQUIRED[k])} ({k.value})" for k in kinds)
    raise ValueError(f"cannot tell the record kind: expected one of the keys {marks}{_case_hint(present, kinds)}")


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _case_hint(present: frozenset[str], kinds: tuple[RecordKind, ...]) -> str:
    """Keys that are API field names in another letter case (``creationTime``), said as such."""
    known = {key.lower(): key for kind in kinds for key in sorted(KEYS[kind])}
    fixed = sorted(f"{key} is {known[key.lower()]}" for key in present
                   if isinstance(key, str) and key not in known.values() and key.lower() in known)
    return f"; key names are case-sensitive: {', '.join(fixed)}" if fixed else ""
