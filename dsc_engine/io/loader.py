"""The state of one import (:func:`imports.load_into` drives it file by file): what was read,
loaded, rejected and skipped, the batches waiting for each kind's source, the listing of the API
page items being read, and what decides duplicates (:mod:`duplicates`). The rules it keeps are
:mod:`imports`' (lenient and strict mode, duplicates, listings, kinds)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any

from dsc_engine.errors import ImportFailure, RecordError, StoreError
from dsc_engine.io import candidates, duplicates, jsonlines, jsontext, snapshot
from dsc_engine.io.importreport import DuplicateFile, ImportReport, Reject, RejectsFile
from dsc_engine.io.stores import HasStores
from dsc_engine.query.source import Listing
from dsc_engine.store.store import BulkLoad, Store
from dsc_engine.wire.batch import DecodedBatch
from dsc_engine.wire.codec import ABSENT, Narrowing, from_wire, line_decoder, to_wire
from dsc_engine.models import RecordKind
from dsc_engine.models.kinds import keyed_kinds
from dsc_engine.models.records import Record

#: Records inserted per ``Store.insert`` call in lenient mode. Larger batches mean fewer segment
#: merges in the store; a batch of freshly decoded records takes ~2 KiB each until it is inserted.
#: Measured on 1M audit logs: 5,000 -> 47.7 s, 588 MiB peak; 20,000 -> 45.5 s; 50,000 -> 41.1 s,
#: 612 MiB; 100,000 -> 42.4 s, 726 MiB. Again after the store began splicing every batch of
#: 1,000+ rows into one segment: 50,000 -> 43.2 s, 617 MiB; 100,000 -> 42.4 s, 712 MiB.
BATCH_SIZE = 50_000
#: Records read one at a time (not by the fast path) that are compared with what the store holds
#: (masking runs by ``Id``, audit and DMS logs by content) wait in groups of this many: one look-up
#: of the store per group (``duplicates.KnownKeys``, ``duplicates.HeldRecords``).
LOOKUP_GROUP = 1_000

class Loader:
    """The state of one import: counters, pending batches, the keys seen (masking-run Ids), rejects."""

    def __init__(
        self, target: HasStores, strict: bool, rejects: RejectsFile | None, keep_duplicates: bool,
        wanted: frozenset[RecordKind] | None = None,
    ) -> None:
        self.target = target
        #: the kinds to load (``None``: every kind); the others' records are counted in ``other``
        self.wanted = wanted
        self.other = dict.fromkeys(RecordKind, 0)
        self.strict = strict
        self.rejects_out = rejects
        self.kept: list[Reject] = []
        self.file_errors: list[Reject] = []
        self.read = 0
        self.rejected = 0
        self.duplicates = 0
        self.loaded = dict.fromkeys(RecordKind, 0)
        self.pending: dict[RecordKind, list[Any]] = {k: [] for k in RecordKind}  # records, structs
        #: the file being read (rejects found when a batch is stored name it)
        self.file = ""
        #: of each kind with a key (``KindFacts.key``), the records met so far, by key
        self.known = {kind: duplicates.KnownKeys(kind, target.store(kind)) for kind in keyed_kinds()}
        #: records read one at a time that wait for the store to be looked up (:meth:`settle`,
        #: before anything else is decided)
        self.waiting: list[tuple[RecordKind, Record, candidates.Candidate]] = []
        self.identical = None if keep_duplicates else duplicates.IdenticalRecords(target)
        self.duplicate_files: list[DuplicateFile] = []
        #: the kinds whose records of the file being read are compared with earlier ones
        self.compared: frozenset[RecordKind] = frozenset()
        #: where the file's API page items began, per kind (rows of the bulk loads, or places in
        #: ``pending``), and the listing their batches continue (docs/semantics.md §5.1)
        self.listing_marks: dict[RecordKind, int] | None = None
        self.listings: dict[RecordKind, Listing] = {}
        # An in-memory store takes whole files as one sorted bulk load, records or typed structs
        # from the fast path alike; any other record source takes batches (``DecodedBatch``: the
        # fast path's structs read column by column, not made records), and only Unicode text.
        stores = {kind: target.store(kind) for kind in RecordKind}
        self.bulks: dict[RecordKind, BulkLoad] | None = None
        #: the fast path's decoders, narrowed to the text values the stores know (``Narrowing``)
        self.narrowing: dict[RecordKind, Narrowing] = {}
        if all(isinstance(store, Store) for store in stores.values()):
            self.bulks = {kind: store.bulk() for kind, store in stores.items()}  # type: ignore[attr-defined]
            self.narrowing = {kind: Narrowing(kind) for kind in RecordKind}
        self.decoders = {kind: line_decoder(kind, self.narrowing.get(kind)) for kind in RecordKind}

    def reject(self, reject: Reject) -> None:
        self.settle()  # the records read before it are decided first: rejects stay in file order
        if reject.scope == "file":
            self.file_errors.append(reject)
        else:
            self.rejected += 1
        if self.rejects_out is not None:
            self.rejects_out.write(jsontext.utf8_text(reject.to_json()) + "\n")  # a file name not UTF-8 too
        else:
            self.kept.append(reject)

    def take(self, candidate: candidates.Candidate) -> None:
        self.read += 1
        if candidate.listed and self.listing_marks is None:
            self._begin_listing()
        if candidate.error is not None:
            if self.strict:
                self.settle()
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
            jsontext.refuse_lone_surrogate(kind.facts.label, candidate.data, candidate.where)
            record = from_wire(kind, candidate.data)
        except RecordError as exc:  # located only now: most records need no ``where`` text
            self._bad(candidate, exc.located(candidate.where))
            return
        if self.wanted is not None and kind not in self.wanted:
            self.other[kind] += 1
            return
        self.add(kind, record, candidate)

    def take_decoded(self, decoded: jsonlines.Decoded) -> None:
        """A batch the fast path read: structs, which an in-memory store reads column by column,
        and another source too (``DecodedBatch``). The records read one at a time before it are
        decided first (:meth:`settle`): they come earlier in the file."""
        if decoded.listed and self.listing_marks is None:
            self._begin_listing()
        self.settle()
        self.read += len(decoded.objects)
        objects = decoded.objects
        if self.wanted is not None and decoded.kind not in self.wanted:
            self.other[decoded.kind] += len(objects)
            return
        known = self.known.get(decoded.kind)
        if known is not None:  # records with an identity: skip or reject known ones
            known.look_up(objects)
            objects = [obj for index, obj in enumerate(objects)
                       if not self._duplicate(known, obj, functools.partial(decoded.candidate, index))]
        else:
            objects = self._fresh(decoded.kind, objects, structs=True)
        if self.bulks is None:
            self._pend(decoded.kind, objects)
            return
        self.bulks[decoded.kind].add(objects, ABSENT, self.decoders[decoded.kind].columns)
        tables = self.target.store(decoded.kind).schema.tables  # type: ignore[attr-defined]
        self.narrowing[decoded.kind].learn({attr: table.values for attr, table in tables.items()})

    def add(self, kind: RecordKind, record: Record, candidate: candidates.Candidate) -> None:
        if kind in self.known or kind in self.compared:
            self.waiting.append((kind, record, candidate))
            if len(self.waiting) >= LOOKUP_GROUP:
                self.settle()
            return
        self._keep(kind, record)

    def settle(self) -> None:
        """Decide the records waiting (:meth:`add`) in order, the store looked up once for the
        group: each record with a key (masking run) is skipped, rejected or kept, each other
        (audit or DMS log) skipped or kept. Called before anything else is decided (another record, a reject, a failure, a
        listing's start, a flush), so that every outcome comes in file order."""
        waiting, self.waiting = self.waiting, []
        if not waiting:
            return
        for kind, keys in self.known.items():
            keys.look_up(record for each, record, _ in waiting if each is kind)
        kept: set[int] = set()
        for kind in self.compared - self.known.keys():
            group = [record for each, record, _ in waiting if each is kind]
            kept.update(map(id, self._fresh(kind, group)))
        for kind, record, candidate in waiting:
            known = self.known.get(kind)
            if known is not None:
                if not self._duplicate(known, record, candidate):
                    self._keep(kind, record)
            elif kind not in self.compared or id(record) in kept:
                self._keep(kind, record)

    def _keep(self, kind: RecordKind, record: Record) -> None:
        if self.bulks is not None:
            self.bulks[kind].add([record])
            return
        self._pend(kind, (record,))

    def _pend(self, kind: RecordKind, records: Iterable[Any]) -> None:
        """Add records to the batch waiting for the source, which takes it once it is full (a
        strict import holds every batch to the end)."""
        batch = self.pending[kind]
        batch.extend(records)
        if len(batch) >= BATCH_SIZE and not self.strict:
            self.flush(kind)

    def take_snapshot(self, path: Path, alone: bool, forced: RecordKind | None = None) -> None:
        """Every record of a snapshot file (checked as a whole before the first is taken). A
        version 3 store becomes the target's store as it is, indexes included, when that store
        is an empty in-memory one and nothing of this import waits for it (``alone``: this is
        the import's only file, or the import is lenient), nothing came before it to compare its
        records with and, of a kind with a key (masking runs), no two records of the snapshot
        share a key (an ``Id``); otherwise its records are added one by one, as any file's. Its
        audit and DMS logs are compared only with what came before it, never with each other. A
        ``forced`` kind (every record read as that kind) takes the snapshot's records of that kind
        alone: its others are not of it, and are counted as of other kinds, as ``kinds`` counts
        them. Its records with a key are taken first: a strict import that refuses one (an ``Id``
        held with other content) raises before any other store is taken whole, and so loads
        nothing."""
        wanted = self.wanted if forced is None else {forced} & set(self.wanted or RecordKind)
        contents, unread = snapshot.open_stores(path, wanted)
        for kind, count in unread.items():  # a version 3 file's stores of kinds not asked for
            self.read += count
            self.other[kind] += count
        if isinstance(contents, dict):
            for kind in self.known:
                keyed = contents.pop(kind, None)
                if keyed is not None and not (isinstance(keyed, Store) and self._adopt(kind, keyed, alone)):
                    records = list(keyed.records_in_load_order()) if isinstance(keyed, Store) else keyed
                    self._take_chunks(path, [(kind, records)], wanted)
                    self.settle()  # each record decided (refused, in strict mode) before a store is taken
            for kind, opened in list(contents.items()):
                if isinstance(opened, Store) and self._adopt(kind, opened, alone):
                    del contents[kind]
        self._take_chunks(path, snapshot.chunks(contents), wanted)

    def _take_chunks(
        self, path: Path, chunks: Iterable[tuple[RecordKind, list[Record]]], wanted: Collection[RecordKind] | None
    ) -> None:
        """The records of a snapshot's kinds not taken whole, added as any file's."""
        seen = dict.fromkeys(RecordKind, 0)
        for kind, records in chunks:
            self.read += len(records)
            if wanted is not None and kind not in wanted:  # an older format's
                self.other[kind] += len(records)
                continue
            if kind in self.known:  # records with an identity: skip or reject known ones
                for index, record in enumerate(records, seen[kind]):
                    self.add(kind, record, candidates.Candidate(str(path), 0, f"{kind.value}[{index}]", data={}))
            else:
                kept = self._fresh(kind, records)
                if self.bulks is not None:
                    self.bulks[kind].add(kept)
                else:
                    self.pending[kind].extend(kept)
                    if not self.strict:
                        self.flush(kind)
            seen[kind] += len(records)

    def _adopt(self, kind: RecordKind, opened: Store, alone: bool) -> bool:
        if self.bulks is None or self.bulks[kind].pending or not (alone or not self.strict):
            return False
        if self.identical is not None and not self.identical.nothing_before(kind):
            return False  # its records are to be compared with what came before
        key = kind.facts.key
        if key is not None:
            keys = opened.records_column(key)
            if len(set(keys)) != len(keys):
                return False
        if not snapshot.adopt(self.target, kind, opened):
            return False
        self.read += len(opened)
        self.loaded[kind] += len(opened)
        if kind in self.known:  # the store now holds these records: they are looked up there
            self.known[kind] = duplicates.KnownKeys(kind, self.target.store(kind))
        return True

    def begin_file(self, last: bool) -> None:
        """Decide, before a file's first record, which kinds its records are compared for (none
        with ``keep_duplicates``). A kind nothing came before has nothing to compare with; its
        records need digests only if a later file holds that kind too. In lenient mode each file
        is in the stores before the next one is read, so a later file digests them there, and only
        then; in strict mode (nothing is in the stores before the end) they are digested as they
        are read, unless this is the ``last`` file."""
        identical = self.identical
        self.compared = frozenset(
            () if identical is None
            else (kind for kind in RecordKind
                  if not ((last or not self.strict) and identical.nothing_before(kind)))
        )
        self.listing_marks, self.listings = None, {}

    def _begin_listing(self) -> None:
        """The file's first API page item: from here to the file's end, its records are a
        listing in the service's order, newest first, so the first listed loads last
        (docs/semantics.md §5.1)."""
        self.settle()
        if self.bulks is not None:
            self.listing_marks = {kind: bulk.mark() for kind, bulk in self.bulks.items()}
        else:
            if not self.strict:  # batches reach the source while the file is read: those before
                for kind in RecordKind:  # the listing go in as they are
                    self.flush(kind)
                self.listings = {kind: Listing() for kind in RecordKind}
            self.listing_marks = {kind: len(batch) for kind, batch in self.pending.items()}

    def end_file(self) -> None:
        """After a file: its records count as earlier ones for the next file's duplicates, and
        the listing it held (from its first API page item on) loads in reverse."""
        self.settle()
        if self.identical is not None:
            self.identical.end_file()
        marks = self.listing_marks
        if marks is None:
            return
        if self.bulks is not None:
            for kind, bulk in self.bulks.items():
                bulk.reverse_since(marks[kind])
        elif self.strict:  # nothing was inserted yet: the listing is still in ``pending``
            for kind, batch in self.pending.items():
                batch[marks[kind]:] = batch[marks[kind]:][::-1]
        # else each batch went to the source as part of its kind's listing (``flush``)

    def end_listings(self) -> None:
        """After a lenient file's last batch: the listings it continued are complete."""
        for kind, listing in self.listings.items():
            if listing.count:
                self.target.store(kind).end_listing(listing)
        self.listings = {}

    def _fresh(self, kind: RecordKind, objects: list[Any], *, structs: bool = False) -> list[Any]:
        """The audit or DMS logs of ``objects`` (records, or the fast path's ``structs``) that
        repeat none from before the current file; the others are counted as duplicates."""
        if kind not in self.compared or self.identical is None:
            return objects
        kept = self.identical.fresh(kind, objects, structs=structs)
        self.duplicates += len(objects) - len(kept)
        return kept

    def _bad(self, candidate: candidates.Candidate, error: RecordError) -> None:
        if self.strict:
            self.settle()
            raise error
        reason = f"{error.kind} record: key {error.key!r}: {error.reason}" if error.key else str(error.reason)
        self.reject(Reject(candidate.path, candidate.line, reason, candidate.raw, candidate.item))

    def _duplicate(
        self, known: duplicates.KnownKeys, obj: Any, where: candidates.Candidate | Callable[[], candidates.Candidate]
    ) -> bool:
        """Whether ``obj`` (a record, or a struct of the fast path) repeats the key of one already
        seen: skipped when identical, rejected when not (``where``: its candidate, or what makes
        it, only then). Its key was looked up (``known.look_up``)."""
        first = known.first(obj)
        if first is None:
            return False
        if self._as_record(known.kind, first) == self._as_record(known.kind, obj):
            self.duplicates += 1
            return True
        candidate = where if isinstance(where, candidates.Candidate) else where()
        error = known.clash(obj, candidate.where)
        if self.strict:
            raise error
        self.reject(Reject(candidate.path, candidate.line, f"{error.kind} {error.reason}", candidate.raw, candidate.item))
        return True

    def _as_record(self, kind: RecordKind, obj: Any) -> Any:
        """A record of ``kind`` (a struct of the fast path is converted; for comparing)."""
        return obj if isinstance(obj, kind.record_class) else self.decoders[kind].convert(obj)

    def check_pending(self) -> None:
        """Have each kind's source check its waiting batch (``RecordSource.check``); bulk loads
        into memory hold no batch here, and memory stores any text."""
        for kind, batch in self.pending.items():
            if batch:
                self.target.store(kind).check(self._batch(kind, batch))

    def flush(self, kind: RecordKind) -> None:
        self.settle()
        if self.bulks is not None:
            self.loaded[kind] += self.bulks[kind].finish()
            return
        batch = self.pending[kind]
        if batch:
            listing = None if self.strict else self.listings.get(kind)
            store = self.target.store(kind)
            try:
                self.loaded[kind] += store.insert(self._batch(kind, batch), listing=listing)
            except StoreError:
                if self.strict:
                    raise
                self.loaded[kind] += store.insert(self._batch(kind, self._storable(kind, batch)), listing=listing)
            self.pending[kind] = []

    def _batch(self, kind: RecordKind, items: list[Any]) -> DecodedBatch:
        return DecodedBatch(kind, items, self.decoders[kind])

    def _storable(self, kind: RecordKind, batch: list[Any]) -> list[Any]:
        """The records of a batch its source refused that the source can store; each other one
        is rejected with the source's reason (lenient mode: the rest of the batch still loads)."""
        store = self.target.store(kind)
        kept = []
        for record in batch:
            try:  # a struct of the fast path passes: it holds only text a source stores
                store.check(self._batch(kind, [record]))
            except StoreError as exc:
                reason = f"{kind.facts.label} record: {exc.reason.removeprefix('record 0 of the batch: ')}"
                self.reject(Reject(self.file, None, reason, jsontext.compact(to_wire(record))))
            else:
                kept.append(record)
        return kept

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
            duplicate_files=tuple(self.duplicate_files),
            other_kinds={kind: n for kind, n in self.other.items() if n},
        )


def _with_item(candidate: candidates.Candidate, reason: str) -> str:
    return f"{candidate.item}: {reason}" if candidate.item else reason
