"""Snapshots: round trip in load order, and every kind of damage detected with a clear message."""

from __future__ import annotations

import hashlib
import json
import struct

import pytest

from dsc_engine import sample
from dsc_engine.errors import SnapshotError
from dsc_engine.io import columns, imports, snapshot
from dsc_engine.io.stores import Stores
from dsc_engine.io.wire import to_wire
from dsc_engine.models import RecordKind


def filled() -> Stores:
    target = Stores()
    for kind in RecordKind:
        target.store(kind).insert(sample.generate(kind, 40, seed=11))
    return target


def contents(target: Stores) -> dict:
    return {k: list(target.store(k).records_in_load_order()) for k in RecordKind}


@pytest.mark.parametrize("compress", [True, False])
def test_io_snapshot_round_trip_keeps_load_order(tmp_path, compress):
    original = filled()
    path = tmp_path / "engine.dscsnap"
    counts = snapshot.save(original, path, compress=compress)
    assert counts == {k: 40 for k in RecordKind}
    assert snapshot.is_snapshot(path)
    restored = Stores()
    snapshot.load(restored, path)
    assert contents(restored) == contents(original)


def test_io_snapshot_loads_through_the_importer_and_skips_known_runs(tmp_path):
    original = filled()
    path = tmp_path / "engine.snap"
    snapshot.save(original, path)
    target = Stores()
    report = imports.load_into(target, path)
    assert contents(target) == contents(original)
    assert report.read == 120 and report.loaded_total == 120
    again = imports.load_into(target, path)
    assert again.duplicates_skipped == 40 and len(target.store(RecordKind.AUDIT_LOG)) == 80


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
        "format version 2 is not supported": data[:8] + struct.pack(">H", 2) + data[10:],
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
    bad_enum = json.loads(json.dumps(good))
    column = next(c for c in bad_enum["kinds"]["audit_log"]["columns"] if c["key"] == "WarnLevel")
    column["values"][0] = "9"
    with pytest.raises(SnapshotError, match="column WarnLevel"):
        snapshot.decode(_forged(bad_enum))
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


def test_io_snapshot_checks_cross_field_rules_of_masking_runs():
    run = sample.generate(RecordKind.MASKING_RUN, 1, seed=1)[0]
    wire = to_wire(run)
    table = columns.encode_table(RecordKind.MASKING_RUN, [run])
    assert "SrcTypeCode" in wire
    column = next(c for c in table["columns"] if c["key"] == "SrcTypeCode")
    column["values"][0] = "OTS" if wire["SrcTypeCode"] != "OTS" else "RDS"
    document = {"format": "dsc-engine snapshot", "version": 1, "kinds": {"masking_run": table}}
    with pytest.raises(SnapshotError, match="record 0: src_type_code: .* does not match"):
        snapshot.decode(_forged(document))
