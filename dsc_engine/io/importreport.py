"""What an import reports: its counts, the records and files that did not load, and the rejects file.

:func:`imports.load_into` returns an :class:`ImportReport`, which reconciles what was read with what
was loaded, rejected, skipped as a duplicate or left for being of another kind. A :class:`Reject` is
one record (or the rest of one file) that did not load, and why; :func:`reject_lines` sums rejects
up for a terminal by the shape of their reason. The rejects file holds one reject a line, as JSON
(:class:`RejectsFile` writes it during an import, :func:`rejects_of` reads it back; docs/formats.md,
"Lenient and strict imports, rejects").
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from dsc_engine.errors import OutputError
from dsc_engine.models import RecordKind


@attrs.frozen
class Reject:
    """A record (or, with ``line_is_file``, a whole file's rest) that did not load, and why."""

    file: str
    line: int | None
    reason: str
    raw: str
    item: str = ""
    scope: str = "record"  # "record", "duplicate" or "file"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "item": self.item or None,
            "scope": self.scope,
            "reason": self.reason,
            "raw": self.raw,
        }

    def __str__(self) -> str:
        place = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.item:
            place = f"{place} {self.item}"
        return f"{place}: {self.reason}"


#: A quoted value in a reason (Python's repr quotes with ' unless the text holds one).
_QUOTED = re.compile(r"""(key )?('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")
#: A number standing alone (not "64-bit", not inside a name).
_NUMBER = re.compile(r"(?<![\w.-])-?\d+(?![\w-])")


def reason_shape(reason: str) -> str:
    """A reject's reason with what varies from record to record left out, so that rejects for
    one cause group together: quoted values (a key name and a lone punctuation mark stay) and
    numbers standing alone become ``…``."""

    def elide(match: re.Match[str]) -> str:
        key, quoted = match.group(1), match.group(2)
        if key or (len(quoted) == 3 and not quoted[1].isalnum()):
            return match.group(0)
        return f"{quoted[0]}…{quoted[0]}"

    return _NUMBER.sub("…", _QUOTED.sub(elide, reason))


@attrs.frozen
class RejectGroup:
    """Rejects with one :func:`reason_shape`: how many, and the first few."""

    reason: str
    count: int
    examples: tuple[Reject, ...]


def group_rejects(rejects: Iterable[Reject], examples: int = 3) -> list[RejectGroup]:
    """Rejects grouped by the shape of their reason, in order of first appearance, each with its
    first ``examples``."""
    counts: dict[str, int] = {}
    kept: dict[str, list[Reject]] = {}
    for reject in rejects:
        shape = reason_shape(reject.reason)
        counts[shape] = counts.get(shape, 0) + 1
        first = kept.setdefault(shape, [])
        if len(first) < examples:
            first.append(reject)
    return [RejectGroup(shape, counts[shape], tuple(kept[shape])) for shape in counts]


def reject_lines(rejects: Iterable[Reject], reasons: int = 10, examples: int = 3) -> list[str]:
    """Rejects summed up for a terminal (:func:`group_rejects`): the first ``reasons`` reasons,
    each with its count and its first ``examples`` records, so that one bad column is a few
    lines, not thousands."""
    groups = group_rejects(rejects, examples)
    lines: list[str] = []
    for group in groups[:reasons]:
        lines.append(f"  {group.count} × {group.reason}")
        lines.extend(f"      {reject}" for reject in group.examples)
        if group.count > len(group.examples):
            lines.append(f"      … and {group.count - len(group.examples)} more")
    if len(groups) > reasons:
        lines.append(f"  … and {len(groups) - reasons} more reasons")
    return lines


@attrs.frozen
class DuplicateFile:
    """A file skipped whole: its bytes are those of ``same_as``, read earlier in the import."""

    file: str
    same_as: str

    def __str__(self) -> str:
        return f"{self.file} (the same bytes as {self.same_as})"


@attrs.frozen
class ImportReport:
    """What an import did. ``read == loaded + rejected + duplicates_skipped + sum(other_kinds)``
    always holds (the records of a skipped duplicate file are not read; ``other_kinds`` counts
    the records of kinds the import was not asked for, by kind)."""

    files: int
    read: int
    loaded: Mapping[RecordKind, int]
    rejected: int
    duplicates_skipped: int
    file_errors: tuple[Reject, ...]
    rejects: tuple[Reject, ...]  # kept here only when no rejects file was asked for
    rejects_path: str | None
    duplicate_files: tuple[DuplicateFile, ...] = ()
    other_kinds: Mapping[RecordKind, int] = attrs.field(factory=dict)

    @property
    def loaded_total(self) -> int:
        return sum(self.loaded.values())

    @property
    def ok(self) -> bool:
        """Whether everything read was loaded (duplicates aside) and every file was readable."""
        return self.rejected == 0 and not self.file_errors

    def summary(self) -> str:
        """One line that reconciles the counts, in words: ``3 files: read 150 records = 100
        loaded (100 audit_log) + 0 rejected + 50 duplicates (skipped)``."""
        kinds = ", ".join(f"{n} {k.value}" for k, n in self.loaded.items() if n) or "nothing"
        text = (
            f"{_count(self.files, 'file')}: read {_count(self.read, 'record')}"
            f" = {self.loaded_total} loaded ({kinds}) + {self.rejected} rejected"
            f" + {_count(self.duplicates_skipped, 'duplicate')} (skipped)"
        )
        other = {k: n for k, n in self.other_kinds.items() if n}
        if other:
            listed = ", ".join(f"{n} {k.value}" for k, n in other.items())
            text += f" + {sum(other.values())} of other kinds (not asked for: {listed})"
        if self.duplicate_files:
            shown = "; ".join(map(str, self.duplicate_files[:3]))
            more = f"; and {len(self.duplicate_files) - 3} more" if len(self.duplicate_files) > 3 else ""
            text += f"; {_count(len(self.duplicate_files), 'duplicate file')} skipped: {shown}{more}"
        if self.file_errors:
            text += f"; {_count(len(self.file_errors), 'file error')}"
        if self.rejects_path and (self.rejected or self.file_errors):
            text += f"; rejects written to {self.rejects_path}"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "read": self.read,
            "loaded": {k.value: n for k, n in self.loaded.items()},
            "loaded_total": self.loaded_total,
            "rejected": self.rejected,
            "duplicates_skipped": self.duplicates_skipped,
            "duplicate_files": [{"file": d.file, "same_as": d.same_as} for d in self.duplicate_files],
            "other_kinds": {k.value: n for k, n in self.other_kinds.items() if n},
            "file_errors": [str(e) for e in self.file_errors],
            "rejects_path": self.rejects_path,
        }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class RejectsFile:
    """The rejects file of an import: one that cannot be opened, written or closed (a full disk)
    is an :class:`OutputError` naming it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        try:
            self._file = open(path, "w", encoding="utf-8")
        except OSError as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: OSError) -> OutputError:
        return OutputError(self.path, f"cannot write the rejects file: {exc.strerror or exc}")

    def write(self, text: str) -> None:
        try:
            self._file.write(text)
        except OSError as exc:
            raise self._failed(exc) from exc

    def close(self) -> None:
        try:
            self._file.close()
        except OSError as exc:
            raise self._failed(exc) from exc


def rejects_of(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The entries of a rejects file, in the order written."""
    with open(Path(path), encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]
