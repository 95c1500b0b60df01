"""Duplicates in an import: a file saved twice, records repeated from an earlier file or already
held, identical records within one file, snapshots, and ``keep_duplicates``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import attrs
import pytest

from dsc_engine import Engine, sample
from dsc_engine.errors import RecordError
from dsc_engine.io import duplicates, export, imports, loader, snapshot
from dsc_engine.io.stores import Stores
from dsc_engine.models import RecordKind, kinds
from dsc_engine.wire import catalog
from dsc_engine.wire.codec import to_wire

AUDIT, RUNS, DMS = RecordKind.AUDIT_LOG, RecordKind.MASKING_RUN, RecordKind.DMS_LOG


def pages(path: Path, kind: RecordKind, recs: list, page_size: int = 50) -> Path:
    with open(path, "w", encoding="utf-8") as out:
        export.write_pages(recs, kind, out, total=len(recs), page_size=page_size)
    return path


def jsonl(path: Path, recs: list) -> Path:
    path.write_text("".join(json.dumps(to_wire(r), ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    return path


def held(target: Stores, kind: RecordKind) -> list:
    return list(target.store(kind).records_in_load_order())


def test_io_a_page_saved_twice_is_skipped_whole_and_named(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    recs = sample.generate(AUDIT, 50, seed=3)
    page = pages(folder / "page-010.json", AUDIT, recs)
    copy = folder / "page-010 (1).json"  # sorts first: " " comes before "."
    shutil.copy(page, copy)
    target = Stores()
    report = imports.load_into(target, folder)
    assert held(target, AUDIT) == recs[::-1]  # a page is a listing: the first item listed loads last
    assert report.duplicate_files == (imports.DuplicateFile(str(page), str(copy)),)
    assert (report.files, report.read, report.loaded_total) == (2, 50, 50)
    assert f"1 duplicate file skipped: {page} (the same bytes as {copy})" in report.summary()
    assert report.to_json()["duplicate_files"] == [{"file": str(page), "same_as": str(copy)}]


def test_io_records_repeated_from_an_earlier_file_are_counted_as_duplicates(tmp_path):
    recs = sample.generate(AUDIT, 80, seed=4)
    first = pages(tmp_path / "a.json", AUDIT, recs[:50])
    second = jsonl(tmp_path / "b.jsonl", recs[30:])  # overlaps by 20, in another format
    target = Stores()
    report = imports.load_into(target, [first, second])
    assert held(target, AUDIT) == recs[:50][::-1] + recs[50:]  # the pages file is a listing
    assert (report.read, report.loaded_total, report.duplicates_skipped) == (100, 80, 20)
    assert "80 loaded (80 audit_log) + 0 rejected + 20 duplicates (skipped)" in report.summary()


def test_io_identical_records_within_one_file_all_load_but_repeat_in_the_next(tmp_path):
    record = sample.generate(AUDIT, 1, seed=1)[0]
    twice = jsonl(tmp_path / "a.jsonl", [record, record])
    again = jsonl(tmp_path / "b.jsonl", [record, record, record])
    target = Stores()
    report = imports.load_into(target, [twice, again])
    assert held(target, AUDIT) == [record, record]
    assert report.duplicates_skipped == 3


def test_io_records_already_held_are_duplicates_in_a_later_import(tmp_path):
    recs = sample.generate(DMS, 30, seed=5)
    target = Stores()
    imports.load_into(target, jsonl(tmp_path / "a.jsonl", recs))
    report = imports.load_into(target, pages(tmp_path / "b.json", DMS, recs, page_size=7))
    assert (report.loaded_total, report.duplicates_skipped) == (0, 30)
    assert held(target, DMS) == recs


def test_io_dms_logs_are_identical_only_with_the_same_entries(tmp_path):
    record = next(r for r in sample.generate(DMS, 20, seed=6) if r.sensitive_data_log)
    entry = record.sensitive_data_log[0]
    other = attrs.evolve(record, sensitive_data_log=(attrs.evolve(entry, column_name="other"),))
    target = Stores()
    report = imports.load_into(target, [jsonl(tmp_path / "a.jsonl", [record]), jsonl(tmp_path / "b.jsonl", [other, record])])
    assert held(target, DMS) == [record, other] and report.duplicates_skipped == 1


def test_io_keep_duplicates_loads_every_file_and_every_audit_and_dms_log(tmp_path):
    recs = sample.generate(AUDIT, 10, seed=7)
    first = jsonl(tmp_path / "a.jsonl", recs)
    shutil.copy(first, tmp_path / "b.jsonl")
    runs = jsonl(tmp_path / "c.jsonl", sample.generate(RUNS, 5, seed=7))
    shutil.copy(runs, tmp_path / "d.jsonl")
    target = Stores()
    report = imports.load_into(target, tmp_path, keep_duplicates=True)
    assert held(target, AUDIT) == recs + recs and not report.duplicate_files
    assert len(held(target, RUNS)) == 5 and report.duplicates_skipped == 5  # runs: the Id rule


def test_io_a_snapshot_is_compared_with_what_came_before_never_with_itself(tmp_path):
    record = sample.generate(AUDIT, 1, seed=8)[0]
    others = sample.generate(AUDIT, 5, seed=9)
    original = Stores()
    original.store(AUDIT).insert([record, record, *others])  # two identical events, kept
    snap = tmp_path / "engine.dscsnap"
    snapshot.save(original, snap)
    alone = Stores()
    report = imports.load_into(alone, snap)
    assert held(alone, AUDIT) == [record, record, *others] and report.duplicates_skipped == 0
    source = jsonl(tmp_path / "source.jsonl", others)
    after = Stores()
    report = imports.load_into(after, [source, snap])
    assert held(after, AUDIT) == [*others, record, record] and report.duplicates_skipped == 5
    before = Stores()
    report = imports.load_into(before, [snap, source])  # the snapshot's digests, made later
    assert held(before, AUDIT) == [record, record, *others] and report.duplicates_skipped == 5


def test_io_duplicates_in_strict_mode_count_the_same(tmp_path):
    recs = sample.generate(AUDIT, 10, seed=10)
    target = Stores()
    report = imports.load_into(target, [jsonl(tmp_path / "a.jsonl", recs), jsonl(tmp_path / "b.jsonl", recs[5:])], strict=True)
    assert held(target, AUDIT) == recs and report.duplicates_skipped == 5


def test_io_record_digest_tells_records_apart_by_every_field():
    recs = sample.generate(AUDIT, 200, seed=11) + sample.generate(DMS, 200, seed=11)
    digests = {(type(r), duplicates.record_digest(RecordKind.of(r))(r)) for r in recs}
    distinct = {(type(r), json.dumps(to_wire(r), sort_keys=True)) for r in recs}
    assert len(digests) == len(distinct)
    record = recs[0]
    digest = duplicates.record_digest(AUDIT)
    assert digest(attrs.evolve(record)) == digest(record)
    assert digest(attrs.evolve(record, effect_row=(record.effect_row or 0) + 1)) != digest(record)
    assert digest(attrs.evolve(record, user_name=None)) != digest(attrs.evolve(record, user_name=""))


@pytest.mark.parametrize("kind", list(RecordKind))
def test_io_struct_digest_of_the_fast_path_equals_the_record_digest(kind):
    from dsc_engine.wire.codec import line_decoder

    decoder = line_decoder(kind)
    digest, struct_digest = duplicates.record_digest(kind), duplicates.struct_digest(kind)
    recs = sample.generate(kind, 200, seed=11)
    optional = [f.name for f in attrs.fields(type(recs[0])) if f.default is None]
    recs.append(attrs.evolve(recs[0], **dict.fromkeys(optional[:2])))  # absent fields are among them
    for record in recs:
        struct = decoder.decode(json.dumps(to_wire(record)).encode())
        assert struct_digest(struct) == digest(record)


def test_io_dms_logs_read_by_the_fast_path_repeat_in_a_later_file(tmp_path):
    recs = sample.generate(DMS, 60, seed=15)
    first, second = jsonl(tmp_path / "a.jsonl", recs[:40]), jsonl(tmp_path / "b.jsonl", recs[20:])
    target = Stores()
    report = imports.load_into(target, [first, second])
    assert (report.read, report.loaded_total, report.duplicates_skipped) == (80, 60, 20)
    assert held(target, DMS) == recs


def test_io_records_read_by_the_fast_path_repeat_in_a_later_csv_and_the_other_way(tmp_path):
    recs = sample.generate(AUDIT, 60, seed=12)
    lines = jsonl(tmp_path / "a.jsonl", recs[:40])  # typed structs of the fast path
    table = tmp_path / "b.csv"
    with open(table, "w", encoding="utf-8", newline="") as out:
        export.write(recs[20:], AUDIT, "csv", out)
    for files, order in (([lines, table], recs[:40] + recs[40:]), ([table, lines], recs[20:] + recs[:20])):
        target = Stores()
        report = imports.load_into(target, files)
        assert (report.read, report.loaded_total, report.duplicates_skipped) == (80, 60, 20)
        assert held(target, AUDIT) == order


def test_io_identical_records_of_the_last_file_all_load_when_a_database_flushes_mid_file(tmp_path, monkeypatch):
    from dsc_engine import Engine

    monkeypatch.setattr(loader, "BATCH_SIZE", 2)  # records reach the database while the file is read
    rec = sample.generate(AUDIT, 1, seed=13)[0]
    path = jsonl(tmp_path / "same.jsonl", [rec] * 5)
    with Engine.connect(f"duckdb://{tmp_path}/logs.duckdb") as engine:
        report = imports.load_into(engine, path)
        assert (report.loaded_total, report.duplicates_skipped) == (5, 0)
        again = imports.load_into(engine, path)  # the same file again: every record is held
        assert (again.loaded_total, again.duplicates_skipped) == (0, 5)


def test_io_a_lenient_import_of_files_of_different_kinds_digests_no_record(tmp_path, monkeypatch):
    made: list[RecordKind] = []
    for name in ("record_digest", "struct_digest"):
        real = getattr(duplicates, name)
        monkeypatch.setattr(duplicates, name, lambda kind, real=real: _counted(real(kind), made, kind))
    files = [jsonl(tmp_path / f"{kind.value}.jsonl", sample.generate(kind, 20, seed=14)) for kind in (AUDIT, RUNS, DMS)]
    report = imports.load_into(Stores(), files)
    assert report.loaded_total == 60 and made == []
    strict = imports.load_into(Stores(), files, strict=True)  # held back: digested as read
    assert strict.loaded_total == 60 and AUDIT in made


def _counted(digest, made, kind):
    return lambda obj: made.append(kind) or digest(obj)


def test_io_records_of_an_earlier_file_are_digested_from_the_store_when_a_later_file_needs_them(tmp_path):
    recs = sample.generate(AUDIT, 120, seed=15)
    assert any(None in attrs.astuple(r) for r in recs)  # absent values among them
    first = jsonl(tmp_path / "a.jsonl", recs[:70])
    runs = jsonl(tmp_path / "b.jsonl", sample.generate(RUNS, 5, seed=15))
    table = tmp_path / "c.csv"
    with open(table, "w", encoding="utf-8", newline="") as out:
        export.write(recs[50:], AUDIT, "csv", out)
    target = Stores()
    report = imports.load_into(target, [first, runs, table])
    assert (report.loaded_total, report.duplicates_skipped) == (125, 20)
    assert held(target, AUDIT) == recs


def json_array(path: Path, recs: list) -> Path:
    """A JSON array of records: read one record at a time (not by the fast path)."""
    path.write_text("[\n" + ",\n".join(json.dumps(to_wire(r)) for r in recs) + "\n]\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", [AUDIT, DMS])
@pytest.mark.parametrize("write", [jsonl, json_array])
def test_io_an_import_reads_only_the_held_records_at_the_times_of_its_own(tmp_path, monkeypatch, kind, write):
    """Loading a few records into a store holding many looks the held ones up by the times of
    the few (it digested every held record: 10 DMS logs into 100,000 took 9.7 s), by the fast
    path and one record at a time, and still skips the held ones and loads the new."""
    recs = sample.generate(kind, 60, seed=17)
    target = Stores()
    imports.load_into(target, jsonl(tmp_path / "held.jsonl", recs[:50]))
    store = target.store(kind)
    asked: list = []
    query = store.query

    def spying(node, *args, **kwargs):
        asked.extend(node.values)
        return query(node, *args, **kwargs)

    def every_record():
        raise AssertionError("every held record was read")

    monkeypatch.setattr(store, "query", spying)
    monkeypatch.setattr(store, "records_in_load_order", every_record)
    monkeypatch.setattr(store, "segments", every_record)
    few = [recs[3], recs[40], recs[55], recs[58]]
    report = imports.load_into(target, write(tmp_path / "few.json", few))
    time = kind.facts.primary_time
    assert set(asked) == {getattr(r, time) for r in few} and len(asked) == len(set(asked))
    assert (report.loaded_total, report.duplicates_skipped) == (2, 2)
    monkeypatch.undo()
    assert held(target, kind)[50:] == [recs[55], recs[58]]


def test_io_identical_records_of_one_file_all_load_when_a_database_holding_others_flushes_mid_file(tmp_path, monkeypatch):
    """The held records are looked up by time as the file is read, while its first records are
    already in the database: a look-up never takes one of them for a held record."""
    from dsc_engine import Engine

    monkeypatch.setattr(loader, "BATCH_SIZE", 2)
    monkeypatch.setattr(loader, "LOOKUP_GROUP", 1)
    first, *recs = sample.generate(AUDIT, 3, seed=18)
    with Engine.connect(f"duckdb://{tmp_path}/logs.duckdb") as engine:
        imports.load_into(engine, jsonl(tmp_path / "first.jsonl", [first]))
        for write, rec in zip((jsonl, json_array), recs):
            report = imports.load_into(engine, write(tmp_path / f"same-{write.__name__}.json", [rec] * 5))
            assert (report.loaded_total, report.duplicates_skipped) == (5, 0)
        again = imports.load_into(engine, json_array(tmp_path / "again.json", [*recs, first]))
        assert (again.loaded_total, again.duplicates_skipped) == (0, 3)


def test_io_empty_files_are_each_a_file_error_not_copies_of_each_other(tmp_path):
    """Two empty files have the same (no) bytes, but neither holds data to repeat: each is the
    file error an empty file is, so the import is not ok, rather than one error and a file
    quietly 'skipped as a copy'."""
    jsonl(tmp_path / "a.jsonl", sample.generate(AUDIT, 3, seed=3))
    for name in ("b.jsonl", "c.jsonl", "d.csv"):
        (tmp_path / name).write_bytes(b"")
    target = Stores()
    report = imports.load_into(target, tmp_path)
    assert report.duplicate_files == ()
    assert [Path(e.file).name for e in report.file_errors] == ["b.jsonl", "c.jsonl", "d.csv"]
    assert all("empty" in e.reason for e in report.file_errors)


@pytest.mark.parametrize("kind", [AUDIT, DMS])
@pytest.mark.parametrize("database", [False, True])
def test_io_a_line_read_one_at_a_time_keeps_its_place_among_fast_path_lines(tmp_path, kind, database):
    """A JSON Lines file whose lines mostly take the fast path and one (a byte order mark left
    inside by ``cat``) the precise path loads in line order when its records are compared with
    held ones: the waiting line was decided after the fast lines that followed it, and loaded
    after them."""
    from dsc_engine import Engine

    before, *recs = sample.generate(kind, 5, seed=19)
    lines = [json.dumps(to_wire(r), ensure_ascii=False) for r in recs]
    path = tmp_path / "joined.jsonl"
    path.write_text(lines[0] + "\n\ufeff" + "\n".join(lines[1:]) + "\n", encoding="utf-8")
    if database:
        with Engine.connect(f"duckdb://{tmp_path}/logs.duckdb") as engine:
            imports.load_into(engine, jsonl(tmp_path / "before.jsonl", [before]))
            report = imports.load_into(engine, path)
            got = list(engine.store(kind).records_in_load_order())
    else:
        target = Stores()
        imports.load_into(target, jsonl(tmp_path / "before.jsonl", [before]))
        report = imports.load_into(target, path)
        got = held(target, kind)
    assert report.ok and report.loaded_total == 4
    assert got == [before, *recs]


def test_io_a_kind_that_declares_a_key_is_told_apart_by_it_in_every_load(tmp_path, monkeypatch):
    """Identity is a fact of the kind (``KindFacts.key``), not of masking runs: audit logs given
    a key (their CreationTime, here) keep the rule masking runs keep by ``Id``, in an import (the
    fast path and one line at a time), a snapshot appended, and records given to ``Engine.load``."""
    monkeypatch.setitem(kinds._FACTS, AUDIT, attrs.evolve(AUDIT.facts, key="creation_time"))
    monkeypatch.setattr(kinds, "_KEYED", (AUDIT, RUNS))
    monkeypatch.setitem(catalog.KEY, AUDIT, "CreationTime")
    first, later = sample.generate(AUDIT, 2, seed=6)
    other = attrs.evolve(later, creation_time=first.creation_time)
    assert first != other
    refusal = f"audit log CreationTime {first.creation_time} is already loaded with different content"

    target = Stores()
    report = imports.load_into(target, jsonl(tmp_path / "a.jsonl", [first, first, other]))
    assert held(target, AUDIT) == [first]
    assert (report.duplicates_skipped, report.rejected) == (1, 1) and report.rejects[0].reason == refusal
    lines = [json.dumps(to_wire(r)) for r in (later, other)]  # the second read one line at a time:
    (tmp_path / "b.jsonl").write_text(lines[0] + "\n\ufeff" + lines[1] + "\n", encoding="utf-8")  # a mark
    with pytest.raises(RecordError) as refused:
        imports.load_into(target, tmp_path / "b.jsonl", strict=True)
    assert (refused.value.kind, refused.value.key) == ("audit log", "CreationTime")

    engine = Engine()
    assert engine.load([first, first]).loaded_total == 1
    with pytest.raises(RecordError, match=refusal.removeprefix("audit log ")):
        engine.load([other])
    snapshot.save(engine, tmp_path / "one.dscsnap")
    assert snapshot.load(engine, tmp_path / "one.dscsnap")[AUDIT] == 0  # held, identical: left out
