"""Snapshots from someone else: damaged or hostile files give SnapshotError, cost little memory and
load nothing; saves are atomic even when two of them race for one path."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import random
import struct
import threading
import tracemalloc
from collections.abc import Iterator

import pytest

from dsc_engine import sample
from dsc_engine.errors import OutputError, SnapshotError
from dsc_engine.io import atomic, imports, snapshot, snapstore, snaptables
from dsc_engine.io.stores import Stores
from dsc_engine.models import AuditLog, RecordKind, SensitiveDataAuditLog

#: What refusing a hostile file may cost at most; the attacks below would take hundreds of MiB
#: (or raise MemoryError) if a declared size were believed before it was checked.
_FEW_BYTES = 8 << 20

_MANIFEST = {"format": "dsc-engine snapshot", "version": 2, "kinds": ["audit_log"]}


def _bytes(section: object) -> bytes:
    return section if isinstance(section, bytes) else json.dumps(section).encode()


def _payload(sections: list[object], tail: bytes = b"") -> bytes:
    return b"".join(struct.pack(">Q", len(_bytes(s))) + _bytes(s) for s in sections) + tail


def _wrap(payload: bytes, compress: bool, version: int = 2) -> bytes:
    """A snapshot with a valid header and checksum around ``payload``."""
    if compress:
        payload = gzip.compress(payload, compresslevel=9)
    digest = hashlib.sha256(payload).digest()
    return struct.pack(">8sHBQ32s", snapshot.MAGIC, version, int(compress), len(payload), digest) + payload


def _forged(sections: list[object], compress: bool = False, tail: bytes = b"") -> bytes:
    return _wrap(_payload(sections, tail), compress)


def _audit(count: int, index: bytes, values: list[object] | None = None) -> list[object]:
    header = {"kind": "audit_log", "count": count, "columns": [{"key": "CreationTime", "width": 1}]}
    return [_MANIFEST, header, {"values": values or [5]}, index]


def _contents(target: Stores) -> dict[RecordKind, list[object]]:
    return {k: list(target.store(k).records_in_load_order()) for k in RecordKind}


def _empty(target: Stores) -> bool:
    return all(len(target.store(k)) == 0 for k in RecordKind)


def _refused(tmp_path, data: bytes, match: str) -> SnapshotError:
    """Loading ``data`` raises SnapshotError matching ``match``, names the file, loads nothing
    (alone, and through the importer leniently and strictly), and allocates little."""
    path = tmp_path / "hostile.dscsnap"
    path.write_bytes(data)
    target = Stores()
    tracemalloc.start()
    try:
        with pytest.raises(SnapshotError, match=match) as caught:
            snapshot.load(target, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < _FEW_BYTES, f"refusing it took {peak:,} bytes"
    assert str(path) in str(caught.value)
    assert _empty(target)
    report = imports.load_into(target, path)
    assert report.loaded_total == 0 and not report.ok and _empty(target)
    with pytest.raises(SnapshotError, match=match):
        imports.load_into(target, path, strict=True)
    assert _empty(target)
    return caught.value


# --- declared lengths and counts ----------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("length", [2**40, 2**63 - 1, 2**64 - 1])
def test_io_snapshot_refuses_a_section_longer_than_the_payload_can_hold(tmp_path, compress, length):
    data = _forged([], compress, tail=struct.pack(">Q", length) + b'{"format": "dsc-engine snapshot"}')
    _refused(tmp_path, data, f"ends inside the manifest: it claims {length} bytes")


def test_io_snapshot_refuses_an_index_whose_length_disagrees_with_its_count(tmp_path):
    # checked from the section's length, before its bytes are read
    data = _forged(_audit(3, b"\x01\x01\x01")[:-1], tail=struct.pack(">Q", 2**40) + b"\x01\x01\x01")
    _refused(tmp_path, data, "column CreationTime: the index does not fit its 3 records: it holds 1099511627776 bytes, not 3")


@pytest.mark.parametrize("compress", [False, True])
def test_io_snapshot_refuses_a_tiny_file_claiming_millions_of_records(tmp_path, compress):
    claim = _forged(_audit(20_000_000, b"\x01" * 1000), compress)  # the index is not there
    _refused(tmp_path, claim, "'count' of 20000000 records is more than")


def test_io_snapshot_refuses_a_2_kb_file_that_expands_to_2_million_records(tmp_path):
    bomb = _forged(_audit(2_000_000, b"\x01" * 2_000_000), compress=True)
    assert len(bomb) < 4096
    _refused(tmp_path, bomb, "'count' of 2000000 records is more than")


def test_io_snapshot_refuses_a_payload_that_expands_beyond_the_cap(tmp_path):
    # a valid snapshot of one record, but its values section is padded to 40 MB of white space
    padded = b'{"values": [5]' + b" " * 40_000_000 + b"}"
    bomb = _forged(_audit(1, b"\x01")[:2] + [padded, b"\x01"], compress=True)
    assert len(bomb) < 100_000
    _refused(tmp_path, bomb, f"expands at most {snapshot.MAX_EXPANSION} times")


def test_io_snapshot_verifies_the_checksum_before_decompressing_anything(tmp_path):
    bomb = bytearray(_forged([], compress=True, tail=struct.pack(">Q", 2**40) + b"x" * 100))
    bomb[19] ^= 1  # the stored SHA-256 no longer matches
    _refused(tmp_path, bytes(bomb), "checksum")


# --- shapes and nesting of the JSON sections ----------------------------------------------------


def _audit_header(**column: object) -> list[object]:
    return [_MANIFEST, {"kind": "audit_log", "count": 1, "columns": [column]}]


@pytest.mark.parametrize(
    ("sections", "match"),
    [
        (_audit_header(key=["CreationTime"], width=1), r"audit_log: unknown column \['CreationTime'\]"),
        (_audit_header(key={"a": 1}, width=1), r"audit_log: unknown column \{'a': 1\}"),
        (_audit_header(key="CreationTime", width=[1]), r"column CreationTime: index width \[1\] is not"),
        (_audit_header(key="CreationTime", width=True), "column CreationTime: index width True is not"),
        ([{**_MANIFEST, "kinds": [["audit_log"]]}], r"unknown record kind \['audit_log'\]"),
        ([{**_MANIFEST, "version": [2]}], r"payload version \[2\] is not 2"),
        ([_MANIFEST, {"kind": ["audit_log"], "count": 1, "columns": []}], "does not name its kind"),
        ([_MANIFEST, {"kind": "audit_log", "count": [1], "columns": []}], "'count' is not a record count"),
        ([_MANIFEST, {"kind": "audit_log", "count": 1, "columns": {"a": 1}}], "lacks its 'columns'"),
        ([*_audit_header(key="CreationTime", width=1), {"values": {"a": 1}}], "'values' is not a list"),
        ([*_audit_header(key="CreationTime", width=1), [5]], "'values' is not a list"),
    ],
)
def test_io_snapshot_refuses_json_of_the_wrong_shape(tmp_path, sections, match):
    _refused(tmp_path, _forged(sections), match)


def _nested(depth: int, inside: bytes = b"") -> bytes:
    return b"[" * depth + inside + b"]" * depth


@pytest.mark.parametrize("compress", [False, True])
def test_io_snapshot_refuses_deeply_nested_json(tmp_path, compress):
    noise = b'"' + random.Random(5).randbytes(8000).hex().encode() + b'"'  # keeps gzip below its cap
    _refused(tmp_path, _forged([_nested(5000, noise)], compress), "the manifest is nested too deeply")
    values = b'{"values": ' + _nested(5000, noise) + b"}"
    deep = _forged([*_audit_header(key="CreationTime", width=1), values, b"\x01"], compress)
    _refused(tmp_path, deep, "the values of audit_log column CreationTime is nested too deeply")


def test_io_snapshot_error_shows_a_nested_value_briefly(tmp_path):
    # deep enough to parse, too deep to print whole: the message shows the value in brief
    values = b'{"values": [' + _nested(900) + b"]}"
    deep = _forged([*_audit_header(key="EffectRow", width=1), values, b"\x01"])
    error = _refused(tmp_path, deep, r"audit_log: column EffectRow: \[\[\[.*\.\.\..* is not a int")
    assert len(str(error)) < 300


def test_io_snapshot_version_1_refuses_wrong_shapes_deep_nesting_and_bombs(tmp_path):
    def v1(kinds: object, compress: bool = False, pad: int = 0) -> bytes:
        document = {"format": "dsc-engine snapshot", "version": 1, "kinds": kinds}
        return _wrap(json.dumps(document).encode() + b" " * pad, compress, version=1)

    table = {"count": 1, "columns": [{"key": ["CreationTime"], "values": [5], "index": "AQAAAA=="}]}
    _refused(tmp_path, v1({"audit_log": table}), r"audit_log: unknown column \['CreationTime'\]")
    document = b'{"format": "dsc-engine snapshot", "version": 1, "kinds": ' + _nested(5000) + b"}"
    _refused(tmp_path, _wrap(document, False, version=1), "nested too deeply")
    _refused(tmp_path, v1({}, compress=True, pad=40_000_000), f"expands at most {snapshot.MAX_EXPANSION} times")
    claim = {"count": 20_000_000, "columns": [{"key": "CreationTime", "values": [5], "index": "AQAAAA=="}]}
    _refused(tmp_path, v1({"audit_log": claim}), "'count' of 20000000 records is more than")


# --- a bad value anywhere loads nothing ----------------------------------------------------------


def test_io_snapshot_with_a_value_it_cannot_decode_names_the_column_and_loads_nothing(tmp_path):
    # a DMS time written unpadded (year 1 as "1-01-01 00:00:00"), after a table of good records
    _, audit, values, index = _audit(50, b"\x01" * 50)
    manifest = {**_MANIFEST, "kinds": ["audit_log", "dms_log"]}
    dms = {"kind": "dms_log", "count": 2, "columns": [{"key": "OpTime", "width": 1}]}
    times = {"values": ["2026-01-01 00:00:00", "1-01-01 00:00:00"]}
    data = _forged([manifest, audit, values, index, dms, times, b"\x01\x02"], compress=True)
    error = _refused(tmp_path, data, "dms_log: column OpTime: '1-01-01 00:00:00' is not a 'yyyy-MM-dd HH:mm:ss' time")
    assert "hostile.dscsnap" in str(error)


def test_io_snapshot_round_trips_a_dms_time_of_year_1():
    records = [SensitiveDataAuditLog(op_time=dt.datetime(1, 1, 1)), SensitiveDataAuditLog(op_time=dt.datetime(2026, 1, 1))]
    assert snapshot.decode(snapshot.encode({RecordKind.DMS_LOG: records}))[RecordKind.DMS_LOG] == records


# --- single-bit flips ---------------------------------------------------------------------------


def _small() -> dict[RecordKind, list[object]]:
    return {k: sample.generate(k, 3, seed=11) for k in RecordKind}


def _flipped(data: bytes, bits: Iterator[int] | list[int]) -> Iterator[bytes]:
    for bit in bits:
        damaged = bytearray(data)
        damaged[bit // 8] ^= 1 << (bit % 8)
        yield bytes(damaged)


def _outcome(tmp_path, data: bytes) -> dict[RecordKind, list[object]] | None:
    """The records ``data`` loads, or None after a SnapshotError that loaded nothing. Any other
    exception fails the test."""
    path = tmp_path / "flipped.dscsnap"
    path.write_bytes(data)
    target = Stores()
    try:
        snapshot.load(target, path)
    except SnapshotError:
        assert _empty(target)
        return None
    return _contents(target)


@pytest.mark.parametrize("compress", [True, False])
def test_io_snapshot_single_bit_flips_give_the_records_or_a_snapshot_error(tmp_path, compress):
    records = _small()
    data = snapshot.encode(records, compress=compress)
    header_bits = list(range(snapshot.HEADER_SIZE * 8))
    payload_bits = random.Random(251).sample(range(snapshot.HEADER_SIZE * 8, len(data) * 8), 250)
    for damaged in _flipped(data, header_bits + payload_bits):
        assert _outcome(tmp_path, damaged) in (None, records)


@pytest.mark.parametrize("compress", [True, False])
def test_io_snapshot_flips_under_a_valid_checksum_give_records_or_a_snapshot_error(tmp_path, compress):
    # the checksum catches accidents; a forger recomputes it, and the decoder must still hold
    payload = gzip.decompress(snapshot.encode(_small())[snapshot.HEADER_SIZE:])
    bits = random.Random(13).sample(range(len(payload) * 8), 300)
    loaded = 0
    for damaged in _flipped(payload, bits):
        loaded += _outcome(tmp_path, _wrap(damaged, compress)) is not None
    assert 0 < loaded < len(bits)  # some flips only change a value, most break the structure


# --- the writer keeps to the reader's caps ------------------------------------------------------


def test_io_snapshot_of_highly_repetitive_records_is_stored_uncompressed_and_loads(tmp_path):
    records = [AuditLog(creation_time=1, user_name="admin")] * 100_000
    path = tmp_path / "same.dscsnap"
    target = Stores()
    target.store(RecordKind.AUDIT_LOG).insert(records)
    snapshot.save(target, path)
    data = path.read_bytes()
    assert data[10] == 0  # gzip would have expanded beyond the reader's caps
    restored = Stores()
    snapshot.load(restored, path)
    assert _contents(restored)[RecordKind.AUDIT_LOG] == records


# --- atomic saves -------------------------------------------------------------------------------


def _engine(seed: int, n: int) -> Stores:
    target = Stores()
    for kind in RecordKind:
        target.store(kind).insert(sample.generate(kind, n, seed=seed))
    return target


def test_io_snapshot_concurrent_saves_to_one_path_leave_one_valid_snapshot(tmp_path):
    path = tmp_path / "engine.dscsnap"
    engines = [_engine(seed, 3000) for seed in (1, 2)]
    expected = [_contents(e) for e in engines]
    for _ in range(3):
        barrier = threading.Barrier(len(engines))
        errors: list[BaseException] = []

        def save(engine: Stores) -> None:
            barrier.wait()
            try:
                snapshot.save(engine, path, compress=False)
            except BaseException as exc:  # reported by the test, not lost in the thread
                errors.append(exc)

        threads = [threading.Thread(target=save, args=(e,)) for e in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        restored = Stores()
        snapshot.load(restored, path)
        assert _contents(restored) in expected
        assert os.listdir(tmp_path) == ["engine.dscsnap"]


def _failing_after(monkeypatch, written: int) -> None:
    """Make the snapshot file's writes fail, as on a full disk, once ``written`` bytes are in it."""

    class FullDisk(io.FileIO):
        room = written

        def write(self, data):  # type: ignore[no-untyped-def]
            if len(data) > self.room:
                raise OSError(28, "No space left on device")
            self.room -= len(data)
            return super().write(data)

    monkeypatch.setattr(atomic, "FileIO", FullDisk)


@pytest.mark.parametrize(("version", "compress"), [(2, True), (2, False), (3, False)])
def test_io_snapshot_failed_save_keeps_the_old_snapshot_and_leaves_no_temporary_file(
    tmp_path, monkeypatch, version, compress
):
    path = tmp_path / "engine.dscsnap"
    snapshot.save(_engine(1, 20), path, version=version)
    before = path.read_bytes()
    _failing_after(monkeypatch, 5000)
    with pytest.raises(OutputError, match="engine.dscsnap: cannot write: No space left"):
        snapshot.save(_engine(2, 20), path, compress=compress, version=version)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["engine.dscsnap"]
