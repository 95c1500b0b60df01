"""Snapshots: round trip in load order, and every kind of damage detected with a clear message."""

from __future__ import annotations

import gzip
import hashlib
import json
import struct

import pytest

from dsc_engine import sample
from dsc_engine.errors import SnapshotError, UsageError
from dsc_engine.io import columns, imports, snapshot
from dsc_engine.io.stores import Stores
from dsc_engine.wire.codec import to_wire
from dsc_engine.models import AuditLog, RecordKind, WarnLevel


def filled() -> Stores:
    target = Stores()
    for kind in RecordKind:
        target.store(kind).insert(sample.generate(kind, 40, seed=11))
    return target


def test_io_snapshot_format_3_is_never_compressed(tmp_path):
    with pytest.raises(UsageError, match="version=2"):
        snapshot.save(filled(), tmp_path / "engine.dscsnap", compress=True)
    assert not (tmp_path / "engine.dscsnap").exists()


@pytest.mark.parametrize("version", [1, 4, "3", None, 3.0, True])
def test_io_snapshot_save_refuses_a_version_it_does_not_write_as_a_usage_error(tmp_path, version):
    """The version is an argument, not a file: one it does not write is a UsageError (as
    ``compress=True`` with version 3 is), never a SnapshotError that calls the text '3' the
    version 3 this engine writes."""
    with pytest.raises(UsageError, match=r"version: .* is not a format version this engine writes \(2 or 3\)"):
        snapshot.save(filled(), tmp_path / "engine.dscsnap", version=version)
    assert not (tmp_path / "engine.dscsnap").exists()


def contents(target: Stores) -> dict:
    return {k: list(target.store(k).records_in_load_order()) for k in RecordKind}


@pytest.mark.parametrize(("version", "compress"), [(2, True), (2, False), (3, None), (3, False)])
def test_io_snapshot_round_trip_keeps_load_order(tmp_path, version, compress):
    original = filled()
    path = tmp_path / "engine.dscsnap"
    counts = snapshot.save(original, path, version=version, compress=compress)
    assert counts == {k: 40 for k in RecordKind}
    assert snapshot.is_snapshot(path)
    restored = Stores()
    snapshot.load(restored, path)
    assert contents(restored) == contents(original)


def test_io_snapshot_loads_through_the_importer_and_skips_what_is_already_held(tmp_path):
    original = filled()
    path = tmp_path / "engine.snap"
    snapshot.save(original, path)
    target = Stores()
    report = imports.load_into(target, path)
    assert contents(target) == contents(original)
    assert report.read == 120 and report.loaded_total == 120
    again = imports.load_into(target, path)
    assert again.duplicates_skipped == 120 and contents(target) == contents(original)
    kept = imports.load_into(target, path, keep_duplicates=True)  # runs keep their Id rule
    assert kept.duplicates_skipped == 40 and len(target.store(RecordKind.AUDIT_LOG)) == 80


def test_io_snapshot_keeps_absent_fields_and_empty_entry_lists():
    recs = sample.generate(RecordKind.DMS_LOG, 5, seed=2)
    bare = type(recs[0])(op_time=recs[0].op_time)
    data = snapshot.encode({RecordKind.DMS_LOG: [bare, *recs]})
    got = snapshot.decode(data)[RecordKind.DMS_LOG]
    assert got == [bare, *recs] and got[0].sensitive_data_log == () and got[0].user_name is None


def _damaged(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def test_io_snapshot_damage_is_detected(tmp_path):
    data = snapshot.encode(contents(filled()))
    cases = {
        "truncated: payload": data[: len(data) - 10],
        "shorter than the 51-byte header": data[:20],
        "checksum": _damaged(data, len(data) // 2),
        "format version 4 is not supported": data[:8] + struct.pack(">H", 4) + data[10:],
        "format version 0 is not supported": data[:8] + struct.pack(">H", 0) + data[10:],
        "unknown snapshot flags 0x02": data[:10] + b"\x02" + data[11:],
        "truncated: 50 bytes": data[:50],
        "unexpected bytes after the payload": data + b"x",
        "not a dsc-engine snapshot": b"{" + data[1:],
    }
    for message, damaged in cases.items():
        path = tmp_path / "bad.snap"
        path.write_bytes(damaged)
        with pytest.raises(SnapshotError, match=message):
            snapshot.read(path)
    # in an import, a bad snapshot is a file error (lenient) or raises (strict)
    path = tmp_path / "bad.snap"
    path.write_bytes(cases["checksum"])
    report = imports.load_into(Stores(), path)
    assert "checksum" in report.file_errors[0].reason
    with pytest.raises(SnapshotError):
        imports.load_into(Stores(), path, strict=True)


def _forged(document: dict) -> bytes:
    """A snapshot with a valid checksum around a hostile or broken payload."""
    payload = json.dumps(document).encode()
    header = struct.pack(">8sHBQ32s", snapshot.MAGIC, 1, 0, len(payload), hashlib.sha256(payload).digest())
    return header + payload


def test_io_snapshot_with_a_valid_checksum_is_still_checked_record_by_record():
    table = columns.encode_table(RecordKind.AUDIT_LOG, sample.generate(RecordKind.AUDIT_LOG, 3, seed=1))
    good = {"format": "dsc-engine snapshot", "version": 1, "kinds": {"audit_log": table}}
    assert len(snapshot.decode(_forged(good))[RecordKind.AUDIT_LOG]) == 3
    bad_type = json.loads(json.dumps(good))
    column = next(c for c in bad_type["kinds"]["audit_log"]["columns"] if c["key"] == "EffectRow")
    column["values"][0] = "7"
    with pytest.raises(SnapshotError, match="column EffectRow: '7' is not a int"):
        snapshot.decode(_forged(bad_type))
    too_big = json.loads(json.dumps(good))
    column = next(c for c in too_big["kinds"]["audit_log"]["columns"] if c["key"] == "EffectRow")
    column["values"][0] = 2**70
    with pytest.raises(SnapshotError, match="column EffectRow: an integer beyond the signed 64-bit range"):
        snapshot.decode(_forged(too_big))
    no_time = json.loads(json.dumps(good))
    no_time["kinds"]["audit_log"]["columns"] = [
        c for c in no_time["kinds"]["audit_log"]["columns"] if c["key"] != "CreationTime"
    ]
    with pytest.raises(SnapshotError, match="CreationTime: a record lacks this required field"):
        snapshot.decode(_forged(no_time))
    with pytest.raises(SnapshotError, match="unknown record kind 'x'"):
        snapshot.decode(_forged({**good, "kinds": {"x": table}}))
    with pytest.raises(SnapshotError, match="unknown column 'Colour'"):
        snapshot.decode(_forged({**good, "kinds": {"audit_log": {"count": 0, "columns": [{"key": "Colour"}]}}}))


def test_io_snapshot_damage_anywhere_is_detected_before_anything_loads(tmp_path):
    data = snapshot.encode(contents(filled()))
    path = tmp_path / "bad.snap"
    for at in range(snapshot.HEADER_SIZE, len(data), max(1, len(data) // 60)):
        path.write_bytes(_damaged(data, at))
        target = Stores()
        with pytest.raises(SnapshotError, match="corrupt"):
            snapshot.load(target, path)
        assert all(len(target.store(k)) == 0 for k in RecordKind)
    for cut in (snapshot.HEADER_SIZE, snapshot.HEADER_SIZE + 1, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:cut])
        with pytest.raises(SnapshotError, match="truncated"):
            snapshot.load(Stores(), path)


def _section(data: bytes) -> bytes:
    return struct.pack(">Q", len(data)) + data


def _forged_v2(sections: list[object], compress: bool = False, tail: bytes = b"") -> bytes:
    """A version 2 snapshot with a valid checksum around hand-made sections (JSON or raw bytes)."""
    payload = b"".join(_section(s if isinstance(s, bytes) else json.dumps(s).encode()) for s in sections) + tail
    if compress:
        payload = gzip.compress(payload)
    header = struct.pack(">8sHBQ32s", snapshot.MAGIC, 2, int(compress), len(payload), hashlib.sha256(payload).digest())
    return header + payload


_MANIFEST = {"format": "dsc-engine snapshot", "version": 2, "kinds": ["audit_log"]}


def _audit(columns_: list[tuple[str, list[object], bytes]], count: int = 2) -> list[object]:
    header = {"kind": "audit_log", "count": count, "columns": [{"key": k, "width": 1} for k, _, _ in columns_]}
    out: list[object] = [_MANIFEST, header]
    for _, values, index in columns_:
        out += [{"values": values}, index]
    return out


def test_io_snapshot_version_2_with_a_valid_checksum_is_still_checked():
    good = _audit([("CreationTime", [5, 6], b"\x01\x02"), ("WarnLevel", ["1"], b"\x01\x00")])
    for compress in (False, True):
        records = snapshot.decode(_forged_v2(good, compress))[RecordKind.AUDIT_LOG]
        assert [(r.creation_time, r.warn_level) for r in records] == [(5, WarnLevel.LOW.value), (6, None)]
    cases = {
        "column EffectRow: '7' is not a int":
            _audit([("CreationTime", [5], b"\x01\x01"), ("EffectRow", ["7"], b"\x01\x01")]),
        "column WarnLevel: 9 is not a str": _audit([("CreationTime", [5], b"\x01\x01"), ("WarnLevel", [9], b"\x01\x01")]),
        "column EffectRow: an integer beyond":
            _audit([("CreationTime", [5], b"\x01\x01"), ("EffectRow", [2**64], b"\x01\x01")]),
        "CreationTime: a record lacks this required field": _audit([("CreationTime", [5], b"\x01\x00")]),
        "CreationTime: a record lacks": _audit([("UserName", ["a"], b"\x01\x01")]),
        "the index does not fit": _audit([("CreationTime", [5], b"\x01\x02")]),
        "the index does not fit its 2": _audit([("CreationTime", [5], b"\x01")]),
        "unknown column 'Colour'": _audit([("Colour", [5], b"\x01\x01")]),
        "column CreationTime appears twice":
            _audit([("CreationTime", [5], b"\x01\x01"), ("CreationTime", [5], b"\x01\x01")]),
        "unknown record kind 'x'": [{**_MANIFEST, "kinds": ["x"]}],
        "payload version 1 is not 2": [{**_MANIFEST, "version": 1}],
        "unexpected data after the last table": [*_audit([("CreationTime", [5], b"\x01\x01")]), b""],
        "is not UTF-8 JSON": [b"{nope"],
    }
    for message, sections in cases.items():
        with pytest.raises(SnapshotError, match=message):
            snapshot.decode(_forged_v2(sections))
    cut = _forged_v2(_audit([("CreationTime", [5], b"")])[:-1], tail=struct.pack(">Q", 2) + b"\x01")
    with pytest.raises(SnapshotError, match="ends inside the index of audit_log column CreationTime"):
        snapshot.decode(cut)


def test_io_snapshot_keeps_values_of_every_type_apart_and_many_distinct_values(tmp_path):
    # more records than one save chunk: mostly distinct columns are then listed undeduplicated
    logs = [AuditLog(creation_time=i, effect_row=i % 300, in_white_list=bool(i % 2),
                     user_name=str(i % 70000) if i < 66000 or i % 3 else None)
            for i in range(70001)]
    logs.append(AuditLog(creation_time=1, effect_row=True))  # a bool where an int belongs stays a bool
    data = snapshot.encode({RecordKind.AUDIT_LOG: logs})
    with pytest.raises(SnapshotError, match="EffectRow"):
        snapshot.decode(data)
    del logs[-1]
    assert snapshot.decode(snapshot.encode({RecordKind.AUDIT_LOG: logs}))[RecordKind.AUDIT_LOG] == logs


def _entry_code_columns(target: Stores) -> dict[str, list[tuple[int, ...]]]:
    (segment,) = target.store(RecordKind.DMS_LOG).segments()
    return {attr: list(column) for attr, column in segment.columns.items() if attr.startswith("entries.")}


def test_io_equal_entry_code_rows_are_one_tuple_after_an_import_and_after_an_open(tmp_path):
    # each DMS log's sorted codes of an entry attribute: logs with the same codes share one
    # tuple in memory, as imported and as read back from a snapshot
    lines = tmp_path / "dms.jsonl"
    lines.write_text("".join(json.dumps(to_wire(r)) + "\n" for r in sample.generate(RecordKind.DMS_LOG, 400, seed=31)))
    imported = Stores()
    imports.load_into(imported, lines)
    snapshot.save(imported, tmp_path / "dms.dscsnap")
    opened = Stores()
    snapshot.load(opened, tmp_path / "dms.dscsnap")
    assert _entry_code_columns(opened) == _entry_code_columns(imported)
    for target in (imported, opened):
        for attr, rows in _entry_code_columns(target).items():
            assert len(set(rows)) < len(rows), attr  # the sample repeats combinations
            assert len({id(row) for row in rows}) == len(set(rows)), attr


@pytest.mark.parametrize("version", [2, 3])
def test_io_snapshot_keeps_text_holding_half_a_surrogate_pair(tmp_path, version):
    # a "\ud800" escape read from JSON (a capture of the service keeps it) has no UTF-8 form:
    # the JSON sections (DMS entries; every column of version 2) raised UnicodeEncodeError
    import datetime as dt

    from dsc_engine.models import MaskingRun, SensitiveDataAuditLog, SensitiveDataEntry

    original = Stores()
    original.store(RecordKind.AUDIT_LOG).insert([AuditLog(creation_time=1, user_name="\ud800", sql_text="x\udc00")])
    original.store(RecordKind.MASKING_RUN).insert([MaskingRun(id=1, start_time=1, task_id="\ud800")])
    original.store(RecordKind.DMS_LOG).insert([SensitiveDataAuditLog(
        op_time=dt.datetime(2023, 1, 1), user_name="\udfff",
        sensitive_data_log=(SensitiveDataEntry(table_name="\ud800", column_name="列"),))])
    path = tmp_path / "engine.dscsnap"
    snapshot.save(original, path, version=version)
    restored = Stores()
    snapshot.load(restored, path)
    assert contents(restored) == contents(original)


@pytest.mark.parametrize("version", [2, 3])
def test_io_snapshot_load_keeps_masking_run_ids_unique(tmp_path, version):
    # snapshot.load appended runs whatever Ids the engine held: the same snapshot loaded twice
    # held every run twice, with no order between the two (docs/decisions.md: an Id is unique
    # however it was loaded)
    from dsc_engine.errors import RecordError
    from dsc_engine.models import MaskingRun

    original = filled()
    path = tmp_path / "engine.snap"
    snapshot.save(original, path, version=version)
    target = Stores()
    assert snapshot.load(target, path)[RecordKind.MASKING_RUN] == 40
    again = snapshot.load(target, path)
    assert again[RecordKind.MASKING_RUN] == 0 and again[RecordKind.AUDIT_LOG] == 40  # audit logs have no key
    assert contents(target)[RecordKind.MASKING_RUN] == contents(original)[RecordKind.MASKING_RUN]
    clashing = Stores()
    run = next(iter(original.store(RecordKind.MASKING_RUN).records_in_load_order()))
    assert isinstance(run, MaskingRun)
    clashing.store(RecordKind.MASKING_RUN).insert([MaskingRun(id=run.id, start_time=run.start_time + 1)])
    with pytest.raises(RecordError, match=f"Id {run.id} is already loaded with different content") as info:
        snapshot.load(clashing, path)
    assert str(path) in info.value.where and "masking run" in info.value.where
    assert [len(clashing.store(kind)) for kind in RecordKind] == [0, 1, 0]  # nothing of it loaded


@pytest.mark.parametrize("version", [2, 3])
def test_io_snapshot_read_as_one_kind_loads_that_kind_alone(tmp_path, version):
    # kind= ("--kind masking": every record read as that kind) was ignored for a snapshot, which
    # loaded all three kinds
    path = tmp_path / "engine.snap"
    snapshot.save(filled(), path, version=version)
    target = Stores()
    report = imports.load_into(target, path, kind="masking")
    assert [len(target.store(kind)) for kind in RecordKind] == [0, 40, 0]
    assert report.loaded_total == 40 and report.read == 120
    assert report.other_kinds == {RecordKind.AUDIT_LOG: 40, RecordKind.DMS_LOG: 40}
