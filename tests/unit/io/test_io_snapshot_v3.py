"""Version 3 snapshots: the store's own layout with its indexes, opened without decoding records;
every section checksummed and bounds-checked, a bad file a ``SnapshotError`` that loads nothing."""

from __future__ import annotations

import json
import random
import struct
import zlib
from array import array
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc_engine import Engine, sample
from dsc_engine.errors import RecordError, SnapshotError
from dsc_engine.io import imports, snapopen, snapshot, snapstore
from dsc_engine.io.stores import Stores
from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query.parse import parse_filter
from dsc_engine.query.plan import IndexKind
from dsc_engine.store import Store

QUERIES = {
    RecordKind.AUDIT_LOG: ['UserName = "admin"', 'SqlText contains "SELECT"', "EffectRow in [1 40]",
                           'not ClientIp startswith "10.1"', 'Message contains "time"'],
    RecordKind.MASKING_RUN: ["Status = 2", "SrcType = 1 and DstType = 2", 'TaskId startswith "mt0"'],
    RecordKind.DMS_LOG: ['SensitiveDataLog any (TableName = "orders")', 'DbName = "billing"', 'ModuleName = "SQL_CONSOLE"',
                         'SensitiveDataLog any (TableName = "orders" and ColumnName = "email")'],
}


def filled(size: int = 300) -> Stores:
    target = Stores()
    for kind in RecordKind:
        records = sample.generate(kind, size + size // 10, seed=5)  # runs: Ids all distinct
        target.store(kind).insert(records[:size])
        target.store(kind).insert(records[size:])  # two segments
    return target


def contents(target: Stores | Engine) -> dict[RecordKind, list[object]]:
    return {k: list(target.store(k).records_in_load_order()) for k in RecordKind}


def answers(target: Stores | Engine) -> dict[str, tuple[int, list[object]]]:
    out = {}
    for kind, texts in QUERIES.items():
        for text in texts:
            page = target.store(kind).query(parse_filter(text, kind), 3, 20)
            out[text] = (page.total, list(page.records))
    return out


def test_v3_round_trip_keeps_records_order_indexes_and_answers(tmp_path: Path) -> None:
    original = filled()
    path = tmp_path / "engine.dscsnap"
    assert snapshot.save(original, path) == {k: 330 for k in RecordKind}
    assert path.read_bytes()[8:10] == struct.pack(">H", 3)
    opened = Stores()
    assert snapshot.load(opened, path) == {k: 330 for k in RecordKind}
    assert contents(opened) == contents(original)
    audit = opened.store(RecordKind.AUDIT_LOG)
    assert isinstance(audit, Store)
    assert [s.n for s in audit.segments()] == [s.n for s in original.store(RecordKind.AUDIT_LOG).segments()]
    built = audit.segments()[0].indexes()
    for attr in snapshot.index_attrs(audit):  # every index the API parameters use came along
        assert attr == "creation_time" or any(name == attr for _, name in built), attr
    assert (IndexKind.SORTED, "effect_row") in built and (IndexKind.TEXT, "sql_text") in built
    dms = opened.store(RecordKind.DMS_LOG).segments()[0].indexes()  # type: ignore[attr-defined]
    assert (IndexKind.ENTRY, "table_name") in dms and (IndexKind.ENTRY_PAIR, "table_name|column_name") in dms
    runs = opened.store(RecordKind.MASKING_RUN).segments()[0].indexes()  # type: ignore[attr-defined]
    assert (IndexKind.PAIR, "src_type|dst_type") in runs and (IndexKind.PAIR, "dst_type|src_type") in runs
    assert answers(opened) == answers(original)


def test_v3_opened_into_a_store_that_holds_records_appends_them_in_load_order(tmp_path: Path) -> None:
    source = Stores()
    snapshot_records = sample.generate(RecordKind.AUDIT_LOG, 50, seed=1)
    source.store(RecordKind.AUDIT_LOG).insert(snapshot_records)
    path = tmp_path / "a.snap"
    snapshot.save(source, path)
    first = sample.generate(RecordKind.AUDIT_LOG, 30, seed=2)
    target, expected = Stores(), Stores()
    target.store(RecordKind.AUDIT_LOG).insert(first)
    expected.store(RecordKind.AUDIT_LOG).insert(first)
    expected.store(RecordKind.AUDIT_LOG).insert(snapshot_records)
    snapshot.load(target, path)
    assert contents(target) == contents(expected)
    everything = ast.MatchAll()
    assert list(target.store(RecordKind.AUDIT_LOG).iter_ordered(everything)) == list(
        expected.store(RecordKind.AUDIT_LOG).iter_ordered(everything)
    )


def test_v3_through_the_importer_becomes_the_store_or_appends(tmp_path: Path) -> None:
    original = filled(100)
    path = tmp_path / "engine.snap"
    snapshot.save(original, path)
    target = Stores()
    report = imports.load_into(target, path)
    assert report.read == report.loaded_total == 330 and contents(target) == contents(original)
    again = imports.load_into(target, path)  # everything is already there: skipped, counted
    assert again.duplicates_skipped == 330 and len(target.store(RecordKind.AUDIT_LOG)) == 110
    kept = imports.load_into(target, path, keep_duplicates=True)  # appended; runs keep their Id rule
    assert kept.duplicates_skipped == 110 and len(target.store(RecordKind.AUDIT_LOG)) == 220


def test_v3_save_reports_its_progress_in_bytes_written(tmp_path: Path) -> None:
    written: list[int] = []
    path = tmp_path / "engine.dscsnap"
    snapshot.save(filled(50), path, progress=written.append)
    directory_length = snapstore.HEADER.unpack(path.read_bytes()[: snapstore.HEADER.size])[4]
    assert len(written) > 10 and sum(written) <= path.stat().st_size - directory_length - snapstore.HEADER.size
    assert sum(written) > 0.9 * (path.stat().st_size - directory_length - snapstore.HEADER.size)


def test_older_versions_still_open(tmp_path: Path) -> None:
    original = filled(60)
    for version, compress in ((2, True), (2, False)):
        path = tmp_path / f"v{version}{compress}.snap"
        snapshot.save(original, path, version=version, compress=compress)
        assert path.read_bytes()[8:10] == struct.pack(">H", version)
        opened = Engine()
        snapshot.load(opened, path)
        assert contents(opened) == contents(original)


# ---------------------------------------------------------------------------------------------
# Damage: checksums, sizes, and hostile contents under recomputed checksums
# ---------------------------------------------------------------------------------------------


def _parts(data: bytes) -> tuple[dict, int]:
    _, _, _, offset, length, _ = snapstore.HEADER.unpack(data[: snapstore.HEADER.size])
    return json.loads(data[offset : offset + length]), offset


def _rebuilt(data: bytes, directory: dict, sections: dict[int, bytes]) -> bytes:
    """The file with some sections' bytes replaced (same length) and every checksum recomputed:
    what someone who means harm can write."""
    body = bytearray(data[: _parts(data)[1]])
    for number, new in sections.items():
        section = directory["sections"][number]
        assert len(new) == section["length"]
        body[section["offset"] : section["offset"] + len(new)] = new
        section["crc32"] = zlib.crc32(new)
    text = json.dumps(directory).encode()
    head = snapstore.HEADER.pack(b"DSCSNAP\n", 3, 0, len(body), len(text), zlib.crc32(text))
    return head + bytes(body[snapstore.HEADER.size :]) + text


def _saved(tmp_path: Path) -> bytes:
    path = tmp_path / "good.snap"
    snapshot.save(filled(80), path)
    return path.read_bytes()


def _refused(tmp_path: Path, data: bytes, match: str) -> None:
    path = tmp_path / "bad.snap"
    path.write_bytes(data)
    target = Stores()
    with pytest.raises(SnapshotError, match=match):
        snapshot.load(target, path)
    assert all(len(target.store(k)) == 0 for k in RecordKind)  # nothing loaded


def _find(directory: dict, kind: str, key: str, attr: str) -> int:
    entry = next(k for k in directory["kinds"] if k["kind"] == kind)
    if key == "table":
        return next(t for t in entry["tables"] if t["attr"] == attr)["offsets"]  # type: ignore[no-any-return]
    if key == "column":
        return next(c for c in entry["segments"][0]["columns"] if c["attr"] == attr)["data"]  # type: ignore[no-any-return]
    return next(i for i in entry["segments"][0]["indexes"] if i["attr"] == attr and i["kind"] == key)["sections"][1]  # type: ignore[no-any-return]


def test_v3_a_flipped_byte_in_any_section_is_named_and_loads_nothing(tmp_path: Path) -> None:
    data = _saved(tmp_path)
    directory, end = _parts(data)
    step = max(1, len(directory["sections"]) // 25)
    for number in range(0, len(directory["sections"]), step):
        section = directory["sections"][number]
        if not section["length"]:
            continue
        at = section["offset"] + section["length"] // 2
        damaged = data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1 :]
        _refused(tmp_path, damaged, rf"section {number} does not match")


def test_v3_damaged_header_directory_or_length(tmp_path: Path) -> None:
    data = _saved(tmp_path)
    _, end = _parts(data)
    _refused(tmp_path, data[:-1], "does not end the")
    _refused(tmp_path, data + b"x", "does not end the")
    _refused(tmp_path, data[:20], "shorter than the 31-byte header")
    _refused(tmp_path, data[:-3] + bytes([data[-3] ^ 1]) + data[-2:], "checksum of the directory")
    _refused(tmp_path, data[:10] + b"\x04" + data[11:], "unknown snapshot flags")


def test_v3_hostile_contents_under_valid_checksums_are_refused(tmp_path: Path) -> None:
    data = _saved(tmp_path)

    def hostile(edit, match: str) -> None:  # type: ignore[no-untyped-def]
        directory, _ = _parts(data)
        replaced = edit(directory)
        _refused(tmp_path, _rebuilt(data, directory, replaced or {}), match)

    def section_of(directory: dict, number: int) -> array:
        s = directory["sections"][number]
        kind = s["type"]
        items = array(kind)
        items.frombytes(data[s["offset"] : s["offset"] + s["length"]])
        return items

    def big_code(d: dict) -> dict[int, bytes]:  # a code past the end of its table
        n = _find(d, "audit_log", "column", "user_name")
        codes = section_of(d, n)
        codes[3] = 10**6
        return {n: codes.tobytes()}

    def far_row(d: dict) -> dict[int, bytes]:  # a posting list pointing past the segment
        n = _find(d, "audit_log", "hash", "operate_type")
        rows = section_of(d, n)
        rows[0] = 10**6
        return {n: rows.tobytes()}

    def negative_row(d: dict) -> dict[int, bytes]:
        n = _find(d, "audit_log", "sorted", "effect_row")
        rows = section_of(d, n)
        rows[-1] = 2**32 - 5  # -5 as the unsigned item the file holds
        return {n: rows.tobytes()}

    def shuffled_times(d: dict) -> dict[int, bytes]:  # rows out of contract order
        n = _find(d, "audit_log", "column", "creation_time")
        times = section_of(d, n)
        times[0], times[-1] = times[-1], times[0]
        return {n: times.tobytes()}

    def offsets_backwards(d: dict) -> dict[int, bytes]:
        n = _find(d, "audit_log", "table", "sql_text")
        offsets = section_of(d, n)
        offsets[1], offsets[2] = offsets[2], offsets[1]
        return {n: offsets.tobytes()}

    def missing_column(d: dict) -> None:
        d["kinds"][0]["segments"][0]["columns"].pop()

    def wrong_length(d: dict) -> None:  # a column four bytes short, its checksum made to fit
        section = d["sections"][_find(d, "audit_log", "column", "user_name")]
        section["length"] -= 4
        section["crc32"] = zlib.crc32(data[section["offset"] : section["offset"] + section["length"]])

    def outside(d: dict) -> None:
        d["sections"][0]["offset"] = 10**12

    def overlapping(d: dict) -> None:
        d["sections"][1]["offset"] = d["sections"][0]["offset"]

    def unknown_kind(d: dict) -> None:
        d["kinds"][0]["kind"] = "nonsense"

    def deep(d: dict) -> None:
        d["kinds"][0]["tables"] = [[[]] * 3] * 3

    hostile(big_code, "points outside its")
    hostile(far_row, "points outside its")
    hostile(negative_row, "points outside its")
    hostile(shuffled_times, "not in order of time")
    hostile(offsets_backwards, "do not run from 0")
    hostile(missing_column, "lacks the column")
    hostile(wrong_length, "holds .* bytes, not")
    hostile(outside, "lies outside the sections")
    hostile(overlapping, "overlap")
    hostile(unknown_kind, "unknown record kind 'nonsense'")
    hostile(deep, "unknown or repeated table")


@pytest.mark.parametrize(("kind", "time_attr"), [("audit_log", "creation_time"), ("masking_run", "start_time")])
def test_v3_rows_of_one_time_out_of_order_are_refused(tmp_path: Path, kind: str, time_attr: str) -> None:
    """Every row given one time: the rows then break the tie-break / load-number order."""
    data = _saved(tmp_path)
    directory, _ = _parts(data)
    n = _find(directory, kind, "column", time_attr)
    section = directory["sections"][n]
    times = array("q")
    times.frombytes(data[section["offset"] : section["offset"] + section["length"]])
    same = array("q", [times[0]]) * len(times)
    _refused(tmp_path, _rebuilt(data, directory, {n: same.tobytes()}), "of one time are out of order")


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from([1, 2, 255, 256, 257, 65_535, 65_536, 65_537, 100_000, 1_000_000, 2**24, 2**32 - 1, 2**32])
    | st.integers(1, 2**32),
    st.lists(st.integers(0, 2**32 - 1), max_size=40),
    st.data(),
)
def test_the_bound_check_agrees_with_max(limit: int, items: list[int], data: st.DataObject) -> None:
    near = data.draw(st.lists(st.integers(max(0, limit - 3), min(limit + 2, 2**32 - 1)), max_size=6))
    values = array("I", items + near)
    assert snapopen._below(values, limit) == all(v < limit for v in values)


@pytest.mark.parametrize("limit", [3, 401, 65_537, 142_455, 1_000_000, 2**31 + 5])
@pytest.mark.parametrize("tied", [1, 50, 5_000])
def test_the_bound_check_finds_one_item_at_the_limit_among_many(limit: int, tied: int) -> None:
    """Both ways of following the items tied with the limit's leading digits (few: one by one;
    many: as a mask) find the one item equal to the limit, wherever it stands."""
    rng = random.Random(limit * 7 + tied)
    top = (limit - 1) >> 8 << 8  # items sharing every digit of limit - 1 but the last
    values = [rng.randrange(min(limit, top or limit)) for _ in range(10_000 - tied)]
    values += [rng.randrange(top, limit) for _ in range(tied)]
    rng.shuffle(values)
    assert snapopen._below(array("I", values), limit)
    for at in (0, rng.randrange(len(values)), len(values) - 1):
        bad = array("I", values)
        bad[at] = limit
        assert not snapopen._below(bad, limit)


@pytest.mark.parametrize("number", [None, "3", 1.5, [], {}, -1, 10**12, 2**64])
def test_v3_a_sorted_index_naming_no_values_section_is_refused(tmp_path: Path, number: object) -> None:
    """The section of a sorted index's values is looked up like every other section reference:
    a number that names no section (or is no number) is a SnapshotError, not an IndexError."""
    data = _saved(tmp_path)
    directory, _ = _parts(data)
    entry = next(k for k in directory["kinds"] if k["kind"] == "audit_log")
    index = next(i for i in entry["segments"][0]["indexes"] if i["kind"] == "sorted")
    index["sections"][0] = number
    _refused(tmp_path, _rebuilt(data, directory, {}), "names no section")


@pytest.mark.parametrize("flag", [[], {}, None, 1, "true"])
def test_v3_a_table_whose_entry_flag_is_not_a_boolean_is_refused(tmp_path: Path, flag: object) -> None:
    """A table's ``entry`` is true or false: anything else (an unhashable list made a TypeError,
    ``None`` let a table be read twice) is a SnapshotError."""
    data = _saved(tmp_path)
    directory, _ = _parts(data)
    directory["kinds"][0]["tables"][0]["entry"] = flag
    _refused(tmp_path, _rebuilt(data, directory, {}), "unknown or repeated table")


@pytest.mark.parametrize("at", [1, 10, 30])
def test_v3_a_save_while_records_are_inserted_writes_a_snapshot_that_opens(tmp_path: Path, at: int) -> None:
    """An insert while a save writes (another thread loading; here the save's own progress
    callback, so that it lands between the intern tables and the segments every time) must not
    make the file hold segments coded past the tables written before them, or a row count that
    is not theirs: the snapshot is the store as it was when its kind began, and it opens
    (``at``: the section after which the insert lands)."""
    records = sample.generate(RecordKind.AUDIT_LOG, 400, seed=9)
    engine = Engine()
    engine.store(RecordKind.AUDIT_LOG).insert(records[:200])
    before = contents(engine)
    inserted: list[int] = []
    calls = iter(range(1, 10**6))

    def insert_once(_: int) -> None:
        if next(calls) == at:
            inserted.append(engine.store(RecordKind.AUDIT_LOG).insert(records[200:]))

    path = tmp_path / "busy.snap"
    assert snapshot.save(engine, path, progress=insert_once)[RecordKind.AUDIT_LOG] == 200
    assert inserted == [200] and len(engine.store(RecordKind.AUDIT_LOG)) == 400
    opened = Engine()
    assert snapshot.load(opened, path)[RecordKind.AUDIT_LOG] == 200
    assert contents(opened) == before


@pytest.mark.parametrize("version", [2, 3])
def test_a_strict_import_refusing_a_snapshots_masking_run_loads_none_of_its_other_kinds(
    tmp_path: Path, version: int
) -> None:
    """A strict import loads nothing when it raises: a version 3 snapshot whose stores could be
    taken whole is refused for a masking run held with other content before any store is taken."""
    path = tmp_path / "all.dscsnap"
    source = filled(50)
    snapshot.save(source, path, version=version)
    run = source.store(RecordKind.MASKING_RUN).records_in_load_order()[7]
    engine = Engine()
    engine.load([attrs.evolve(run, masking_count=(run.masking_count or 0) + 1)])
    with pytest.raises(RecordError, match="already loaded with different content"):
        engine.load(path, strict=True)
    assert [len(engine.store(kind)) for kind in RecordKind] == [0, 1, 0]


def test_every_index_kind_has_one_name_and_one_reader() -> None:
    """A new kind of index cannot be saved without a name, nor opened with another kind's layout."""
    assert set(snapstore.INDEX_NAMES) == set(IndexKind)
    assert set(snapopen._INDEX_READERS) == set(IndexKind)
    assert len(set(snapstore.INDEX_NAMES.values())) == len(IndexKind)
