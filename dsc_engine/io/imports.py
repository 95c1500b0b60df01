"""Import of exported logs into an engine's stores: streaming, lenient or strict, reconciled.

:func:`load_into` reads files, folders and globs in any of the formats of :mod:`formats` (gzip'd
or not), tells each record's kind from its content, decodes it strictly with the wire mapping and
inserts it into ``engine.store(kind)`` in file order (``docs/semantics.md`` §5.1: files load in the
order given, a folder's files in sorted path order, and within a file a later line is a later
load, except that the items of API response pages are the service's listing, newest first: from a
file's first page item on, the first listed loads last).

A snapshot file (:mod:`snapshot`, told by its magic bytes) loads as a whole, records in its load
order; ``kind`` does not apply to it.

Nothing is lost:

- **lenient** (the default): good records load; every bad one is a :class:`Reject` (file, line,
  position in the page, reason, raw text), written to ``rejects_path`` as JSON Lines or, without
  one, kept in the report. A file that cannot be read on (empty, cut, not UTF-8, a bad CSV header)
  is a *file error*: reported, written to the rejects file too, and the other files still load.
  The report reconciles ``read == loaded + rejected + duplicates_skipped + other kinds``.
- **strict**: the first bad record or file raises (:class:`RecordError` or :class:`ImportFailure`,
  located by file and line) and nothing of this import is loaded (records are held back and
  inserted only when every file has been read).

Duplicates (:mod:`duplicates`; docs/formats.md, "Duplicates"), unless ``keep_duplicates``: a file
with the bytes of one read earlier in the import is skipped whole; an audit alert log or DMS log
identical to one from an earlier file, or already held, is skipped and counted (identical records
within one file all load). Masking runs carry an ``Id``: a run whose ``Id`` is already loaded (or
seen earlier in the same import) is skipped when it is identical, and rejected when its content
differs, with or without ``keep_duplicates``.

``kinds`` loads only records of those kinds (a command that reads one kind asks for it alone):
every line is still read and checked as a record, so a line that is no valid record is rejected
whatever its kind, and a valid record of another kind is then counted in the report's
``other_kinds`` instead of being loaded. What compares a record with others (duplicates, a masking
run's ``Id`` met before with other content) applies to the kinds loaded only: it is about what
the stores would hold. A version 3 snapshot's stores of other kinds are not read at all (their
checksums are still verified, and their records counted from its directory).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path

from dsc_engine.errors import ImportFailure, SnapshotError
from dsc_engine.io import duplicates, formats, jsonlines, snapshot, sources
from dsc_engine.io.importreport import (
    DuplicateFile, ImportReport, Reject, RejectGroup, RejectsFile, group_rejects, reason_shape, reject_lines,
    rejects_of,
)
from dsc_engine.io.loader import BATCH_SIZE, Loader
from dsc_engine.io.stores import HasStores, Stores, gc_paused, loading, wanted_kinds, warm_filter_parser
from dsc_engine.store.store import Store
from dsc_engine.models import RecordKind
from dsc_engine.models.records import Record
from dsc_engine.wire import times

Source = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


def load_into(
    engine: HasStores,
    source: Source,
    *,
    kind: RecordKind | str | None = None,
    strict: bool = False,
    rejects_path: str | os.PathLike[str] | None = None,
    progress: sources.ProgressFn | None = None,
    keep_duplicates: bool = False,
    kinds: str | RecordKind | Iterable[str | RecordKind] | None = None,
    csv_zone: dt.tzinfo | str | None = None,
) -> ImportReport:
    """Import every record of ``source`` into ``engine.store(kind)`` for each kind found.

    ``kind`` forces every record to be read as that kind (otherwise it is told from the content);
    ``kinds`` loads only records of those kinds (the others are counted, see the module docstring);
    ``progress`` is called with the raw bytes consumed as files are read. See the module docstring
    for lenient and strict mode, and for duplicates (``keep_duplicates`` loads every file and
    every audit and DMS log, identical or not). ``csv_zone`` (a zone or its name, as ``--tz``
    takes it) is the zone of CSV Sddp times written without one, which are otherwise refused
    (``docs/formats.md``, "CSV"). A source naming no file raises
    :class:`ImportFailure` in both;
    a ``rejects_path`` that is one of the sources, or cannot be written, raises
    :class:`OutputError` before any file is opened.
    """
    forced = None if kind is None else RecordKind.parse(kind)
    zone = times.parse_zone(csv_zone) if isinstance(csv_zone, str) else csv_zone
    wanted = wanted_kinds(kinds)
    files = sources.expand(source)
    sources.refuse_overwrite(rejects_path, files, "the rejects file")
    rejects_file = None if rejects_path is None else RejectsFile(rejects_path)
    warm_filter_parser()
    try:
        with loading(engine), gc_paused():  # what is held is read, then added to: one load at a time
            loader = Loader(engine, strict, rejects_file, keep_duplicates, wanted)
            _load_files(loader, files, forced, progress, zone)
    finally:
        if rejects_file is not None:
            rejects_file.close()
    for kind, count in loader.loaded.items():  # the indexes the APIs use, built meanwhile
        store = engine.store(kind)
        if count and isinstance(store, Store):
            store.index_in_background(snapshot.index_attrs(store))
    return loader.report(len(files), None if rejects_path is None else os.fspath(rejects_path))



def _load_files(
    loader: Loader, files: list[Path], forced: RecordKind | None, progress: sources.ProgressFn | None,
    csv_zone: dt.tzinfo | None,
) -> None:
    strict = loader.strict
    same_files = None if loader.identical is None else duplicates.SameFiles(files)
    for number, path in enumerate(files, 1):
        first = None if same_files is None else same_files.earlier_copy(path)
        if first is not None:
            loader.duplicate_files.append(DuplicateFile(str(path), str(first)))
            if progress is not None:
                progress(path.stat().st_size)
            continue
        loader.begin_file(last=number == len(files))
        loader.file = str(path)
        try:
            if not sources.is_stream(path) and snapshot.is_snapshot(path):  # a pipe is read once
                loader.take_snapshot(path, alone=len(files) == 1, forced=forced)
            else:
                # the typed decoder refuses a lone surrogate: such a line takes the precise path,
                # which loads it into memory and rejects it for a database (it cannot store one)
                for item in formats.read_file(path, forced, progress, fast=True, decoders=loader.decoders,
                                              csv_zone=csv_zone):
                    if type(item) is jsonlines.Decoded:
                        loader.take_decoded(item)
                    else:
                        loader.take(item)  # type: ignore[arg-type]
        except ImportFailure as exc:
            if strict:
                loader.settle()  # a run read before the failure may be the first problem
                raise
            loader.reject(Reject(exc.path, exc.line, exc.reason, "", scope="file"))
        except SnapshotError as exc:
            if strict:
                loader.settle()
                raise
            loader.reject(Reject(str(path), None, exc.reason, "", scope="file"))
        loader.end_file()
        if not strict:
            for each in RecordKind:
                loader.flush(each)
            loader.end_listings()
    if strict:  # every kind's batch is checked before any is inserted: a refusal loads nothing
        loader.check_pending()
    for each in RecordKind:
        loader.flush(each)


def read_records(
    source: Source, *, kind: RecordKind | str | None = None
) -> dict[RecordKind, list[Record]]:
    """Every record of ``source`` by kind, in load order, strictly (the first bad record raises)."""
    target = Stores()
    load_into(target, source, kind=kind, strict=True)
    return {k: list(s.records_in_load_order()) for k, s in target.stores.items()}


#: The report and its rejects (:mod:`importreport`) are named from here too, beside the import
#: that makes them.
__all__ = [
    "BATCH_SIZE", "DuplicateFile", "ImportReport", "Reject", "RejectGroup", "Source", "group_rejects",
    "load_into", "read_records", "reason_shape", "reject_lines", "rejects_of",
]
