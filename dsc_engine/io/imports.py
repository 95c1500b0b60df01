"""Import of exported logs into an engine's stores: streaming, lenient or strict, reconciled.

:func:`load_into` reads files, folders and globs in any of the formats of :mod:`formats` (gzip'd
or not), tells each record's kind from its content, decodes it strictly with the wire mapping and
inserts it into ``engine.store(kind)`` in file order, in batches (CONTRACT.md section 4: files load
in the order given, a folder's files in sorted path order, and within a file a later line is a
later load).

A snapshot file (:mod:`snapshot`, told by its magic bytes) loads as a whole, records in its load
order; ``kind`` does not apply to it.

Nothing is lost:

- **lenient** (the default): good records load; every bad one is a :class:`Reject` (file, line,
  position in the page, reason, raw text), written to ``rejects_path`` as JSON Lines or, without
  one, kept in the report. A file that cannot be read on (empty, cut, not UTF-8, a bad CSV header)
  is a *file error*: reported, written to the rejects file too, and the other files still load.
  The report reconciles ``read == loaded + rejected + duplicates_skipped``.
- **strict**: the first bad record or file raises (:class:`RecordError` or :class:`ImportFailure`,
  located by file and line) and nothing of this import is loaded (records are held back and
  inserted only when every file has been read).

Duplicates: masking runs carry an ``Id``; a run whose ``Id`` is already loaded (or seen earlier in
the same import) is skipped when it is identical, and rejected when its content differs. Audit
alert logs and DMS logs have no identifying key, and two identical events are possible, so every
one of them is loaded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import attrs

from dsc_engine.errors import ImportFailure, OutputError, RecordError, SnapshotError
from dsc_engine.io import candidates, formats, snapshot, sources
from dsc_engine.io.stores import HasStores, Stores, gc_paused, warm_filter_parser
from dsc_engine.store.store import BulkLoad, Store
from dsc_engine.wire.codec import ABSENT, from_wire, line_decoder
from dsc_engine.models import MaskingRun, RecordKind
from dsc_engine.models.records import Record

#: Records inserted per ``Store.insert`` call in lenient mode. Larger batches mean fewer segment
#: merges in the store; a batch of freshly decoded records takes ~2 KiB each until it is inserted.
#: Measured on 1M audit logs: 5,000 -> 47.7 s, 588 MiB peak; 20,000 -> 45.5 s; 50,000 -> 41.1 s,
#: 612 MiB; 100,000 -> 42.4 s, 726 MiB. Again after the store began splicing every batch of
#: 1,000+ rows into one segment: 50,000 -> 43.2 s, 617 MiB; 100,000 -> 42.4 s, 712 MiB.
BATCH_SIZE = 50_000

Source = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


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


@attrs.frozen
class ImportReport:
    """What an import did. ``read == loaded + rejected + duplicates_skipped`` always holds."""

    files: int
    read: int
    loaded: Mapping[RecordKind, int]
    rejected: int
    duplicates_skipped: int
    file_errors: tuple[Reject, ...]
    rejects: tuple[Reject, ...]  # kept here only when no rejects file was asked for
    rejects_path: str | None

    @property
    def loaded_total(self) -> int:
        return sum(self.loaded.values())

    @property
    def ok(self) -> bool:
        """Whether everything read was loaded (duplicates aside) and every file was readable."""
        return self.rejected == 0 and not self.file_errors

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {k.value}" for k, n in self.loaded.items() if n) or "nothing"
        text = (
            f"{self.files} file(s): read {self.read} = loaded {self.loaded_total} ({kinds})"
            f" + rejected {self.rejected} + duplicates skipped {self.duplicates_skipped}"
        )
        if self.file_errors:
            text += f"; {len(self.file_errors)} file error(s)"
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
            "file_errors": [str(e) for e in self.file_errors],
            "rejects_path": self.rejects_path,
        }


class _Loader:
    """The state of one import: counters, pending batches, the masking-run Ids seen, rejects."""

    def __init__(self, target: HasStores, strict: bool, rejects: IO[str] | None) -> None:
        self.target = target
        self.strict = strict
        self.rejects_out = rejects
        self.kept: list[Reject] = []
        self.file_errors: list[Reject] = []
        self.read = 0
        self.rejected = 0
        self.duplicates = 0
        self.loaded = dict.fromkeys(RecordKind, 0)
        self.pending: dict[RecordKind, list[Record]] = {k: [] for k in RecordKind}
        self.run_ids: dict[int, Any] | None = None
        # An in-memory store takes whole files as one sorted bulk load, records or typed structs
        # from the fast path alike; any other record source takes records in batches.
        stores = {kind: target.store(kind) for kind in RecordKind}
        self.bulks: dict[RecordKind, BulkLoad] | None = None
        if all(isinstance(store, Store) for store in stores.values()):
            self.bulks = {kind: store.bulk() for kind, store in stores.items()}  # type: ignore[attr-defined]

    def reject(self, reject: Reject) -> None:
        if reject.scope == "file":
            self.file_errors.append(reject)
        else:
            self.rejected += 1
        if self.rejects_out is not None:
            self.rejects_out.write(json.dumps(reject.to_json(), ensure_ascii=False) + "\n")
        else:
            self.kept.append(reject)

    def take(self, candidate: candidates.Candidate) -> None:
        self.read += 1
        if candidate.error is not None:
            if self.strict:
                raise ImportFailure(candidate.path, _with_item(candidate, candidate.error), candidate.line)
            self.reject(Reject(candidate.path, candidate.line, candidate.error, candidate.raw, candidate.item))
            return
        assert candidate.data is not None
        try:
            kind = candidates.detect_kind(candidate.data.keys(), candidate.kinds)
        except ValueError as exc:
            kind_error = RecordError("record", "", str(exc), candidate.where)
            self._bad(candidate, kind_error)
            return
        try:
            record = from_wire(kind, candidate.data)
        except RecordError as exc:  # located only now: most records need no ``where`` text
            self._bad(candidate, exc.located(candidate.where))
            return
        self.add(kind, record, candidate)

    def take_decoded(self, decoded: formats.Decoded) -> None:
        """A batch the fast path read: records, or structs the store reads as they are."""
        self.read += len(decoded.objects)
        objects = decoded.objects
        if decoded.kind is RecordKind.MASKING_RUN:  # runs have an identity: skip or reject known ones
            objects = [obj for index, obj in enumerate(objects)
                       if not self._duplicate(obj, decoded.candidate(index))]
        assert self.bulks is not None  # the fast path is asked for only then
        self.bulks[decoded.kind].add(objects, ABSENT if decoded.columnar else None)

    def add(self, kind: RecordKind, record: Record, candidate: candidates.Candidate) -> None:
        if isinstance(record, MaskingRun) and self._duplicate(record, candidate):
            return
        if self.bulks is not None:
            self.bulks[kind].add([record])
            return
        batch = self.pending[kind]
        batch.append(record)
        if len(batch) >= BATCH_SIZE and not self.strict:
            self.flush(kind)

    def take_snapshot(self, path: Path, alone: bool) -> None:
        """Every record of a snapshot file (checked as a whole before the first is taken). A
        version 3 store becomes the target's store as it is, indexes included, when that store
        is an empty in-memory one and nothing of this import waits for it (``alone``: this is
        the import's only file, or the import is lenient) and, for masking runs, no two runs of
        the snapshot share an ``Id``; otherwise its records are added one by one, as any file's."""
        contents = snapshot.open_stores(path)
        if isinstance(contents, dict):
            for kind, opened in list(contents.items()):
                if isinstance(opened, Store) and self._adopt(kind, opened, alone):
                    del contents[kind]
        seen = dict.fromkeys(RecordKind, 0)
        for kind, records in snapshot.chunks(contents):
            self.read += len(records)
            if kind is RecordKind.MASKING_RUN:  # runs have an identity: skip or reject known ones
                for index, record in enumerate(records, seen[kind]):
                    self.add(kind, record, candidates.Candidate(str(path), 0, f"{kind.value}[{index}]", data={}))
            elif self.bulks is not None:
                self.bulks[kind].add(records)
            else:
                self.pending[kind].extend(records)
                if not self.strict:
                    self.flush(kind)
            seen[kind] += len(records)

    def _adopt(self, kind: RecordKind, opened: Store, alone: bool) -> bool:
        if self.bulks is None or self.bulks[kind].pending or not (alone or not self.strict):
            return False
        if kind is RecordKind.MASKING_RUN:
            ids = opened.records_column("id")
            if len(set(ids)) != len(ids):
                return False
        if not snapshot.adopt(self.target, kind, opened):
            return False
        self.read += len(opened)
        self.loaded[kind] += len(opened)
        if kind is RecordKind.MASKING_RUN:
            self.run_ids = None  # read again from the store, which now holds these runs
        return True

    def _bad(self, candidate: candidates.Candidate, error: RecordError) -> None:
        if self.strict:
            raise error
        reason = f"{error.kind} record: key {error.key!r}: {error.reason}" if error.key else str(error.reason)
        self.reject(Reject(candidate.path, candidate.line, reason, candidate.raw, candidate.item))

    def _duplicate(self, run: Any, candidate: candidates.Candidate) -> bool:
        """Whether ``run`` (a record, or a struct of the fast path) repeats a run already seen:
        skipped when identical, rejected when not."""
        if self.run_ids is None:
            existing = self.target.store(RecordKind.MASKING_RUN).records_in_load_order()
            self.run_ids = {r.id: r for r in existing if isinstance(r, MaskingRun)}
        first = self.run_ids.get(run.id)
        if first is None:
            self.run_ids[run.id] = run
            return False
        if _as_record(first) == _as_record(run):
            self.duplicates += 1
            return True
        reason = f"masking run Id {run.id} is already loaded with different content"
        if self.strict:
            raise RecordError("masking run", "Id", reason.removeprefix(f"masking run Id {run.id} "), candidate.where)
        self.reject(Reject(candidate.path, candidate.line, reason, candidate.raw, candidate.item))
        return True

    def flush(self, kind: RecordKind) -> None:
        if self.bulks is not None:
            self.loaded[kind] += self.bulks[kind].finish()
            return
        batch = self.pending[kind]
        if batch:
            self.loaded[kind] += self.target.store(kind).insert(batch)
            self.pending[kind] = []

    def report(self, files: int, rejects_path: str | None) -> ImportReport:
        return ImportReport(
            files=files,
            read=self.read,
            loaded=dict(self.loaded),
            rejected=self.rejected,
            duplicates_skipped=self.duplicates,
            file_errors=tuple(self.file_errors),
            rejects=tuple(self.kept),
            rejects_path=rejects_path,
        )


_RUN_STRUCT = line_decoder(RecordKind.MASKING_RUN)


def _as_record(run: Any) -> Any:
    """A masking run as a record (a struct of the fast path is converted; for comparing)."""
    return run if isinstance(run, MaskingRun) else _RUN_STRUCT.convert(run)


def _with_item(candidate: candidates.Candidate, reason: str) -> str:
    return f"{candidate.item}: {reason}" if candidate.item else reason


def load_into(
    engine: HasStores,
    source: Source,
    *,
    kind: RecordKind | str | None = None,
    strict: bool = False,
    rejects_path: str | os.PathLike[str] | None = None,
    progress: sources.ProgressFn | None = None,
) -> ImportReport:
    """Import every record of ``source`` into ``engine.store(kind)`` for each kind found.

    ``kind`` forces every record to be read as that kind (otherwise it is told from the content);
    ``progress`` is called with the raw bytes consumed as files are read. See the module docstring
    for lenient and strict mode. A source naming no file raises :class:`ImportFailure` in both;
    a ``rejects_path`` that is one of the sources, or cannot be written, raises
    :class:`OutputError` before any file is opened.
    """
    forced = None if kind is None else RecordKind.parse(kind)
    files = sources.expand(source)
    sources.refuse_overwrite(rejects_path, files, "the rejects file")
    rejects_file = None if rejects_path is None else _open_rejects(rejects_path)
    loader = _Loader(engine, strict, rejects_file)
    warm_filter_parser()
    try:
        with gc_paused():
            _load_files(loader, files, forced, progress)
    finally:
        if rejects_file is not None:
            rejects_file.close()
    for kind, count in loader.loaded.items():  # the indexes the APIs use, built meanwhile
        store = engine.store(kind)
        if count and isinstance(store, Store):
            store.index_in_background(snapshot.index_attrs(store))
    return loader.report(len(files), None if rejects_path is None else os.fspath(rejects_path))


def _open_rejects(path: str | os.PathLike[str]) -> IO[str]:
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise OutputError(os.fspath(path), f"cannot write the rejects file: {exc.strerror or exc}") from None


def _load_files(
    loader: _Loader, files: list[Path], forced: RecordKind | None, progress: sources.ProgressFn | None
) -> None:
    strict = loader.strict
    for path in files:
        try:
            if not sources.is_stream(path) and snapshot.is_snapshot(path):  # a pipe is read once
                loader.take_snapshot(path, alone=len(files) == 1)
            else:
                for item in formats.read_file(path, forced, progress, fast=loader.bulks is not None):
                    if type(item) is formats.Decoded:
                        loader.take_decoded(item)
                    else:
                        loader.take(item)  # type: ignore[arg-type]
        except ImportFailure as exc:
            if strict:
                raise
            loader.reject(Reject(exc.path, exc.line, exc.reason, "", scope="file"))
        except SnapshotError as exc:
            if strict:
                raise
            loader.reject(Reject(str(path), None, exc.reason, "", scope="file"))
        if not strict:
            for each in RecordKind:
                loader.flush(each)
    for each in RecordKind:
        loader.flush(each)


def read_records(
    source: Source, *, kind: RecordKind | str | None = None
) -> dict[RecordKind, list[Record]]:
    """Every record of ``source`` by kind, in load order, strictly (the first bad record raises)."""
    target = Stores()
    load_into(target, source, kind=kind, strict=True)
    return {k: list(s.records_in_load_order()) for k, s in target.stores.items()}


def rejects_of(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The entries of a rejects file, in the order written."""
    with open(Path(path), encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]
