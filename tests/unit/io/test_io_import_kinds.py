"""Importing only some kinds (``load_into(kinds=...)``, what a one-kind CLI command asks for):
the other kinds' records are counted, not loaded; a version 3 snapshot's other stores are not
read; the rejects are those of a whole import."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from dsc_engine import Engine, sample
from dsc_engine.errors import ImportFailure, InvalidParameterError, RecordError, SnapshotError
from dsc_engine.io import imports, loader, snapopen, snapshot, snapstore
from dsc_engine.models import RecordKind
from dsc_engine.wire.codec import to_wire

AUDIT, RUNS, DMS = RecordKind.AUDIT_LOG, RecordKind.MASKING_RUN, RecordKind.DMS_LOG
COUNTS = {AUDIT: 40, RUNS: 12, DMS: 9}


def _records(kind: RecordKind) -> list:
    return sample.generate(kind, COUNTS[kind], seed=3)


def _folder(tmp_path: Path, *, bad_line: bool = False) -> Path:
    """One JSON Lines file per kind; with ``bad_line``, a broken line in the masking runs' file."""
    folder = tmp_path / "logs"
    folder.mkdir()
    for kind in RecordKind:
        lines = [json.dumps(to_wire(r), ensure_ascii=False) for r in _records(kind)]
        if bad_line and kind is RUNS:
            lines.insert(3, '{"Id": 1, "StartTime": ')
        (folder / f"{kind.value}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _reconciles(report: imports.ImportReport) -> bool:
    return report.read == (report.loaded_total + report.rejected + report.duplicates_skipped
                           + sum(report.other_kinds.values()))


def _load(source: Path, **options: object) -> tuple[imports.Stores, imports.ImportReport]:
    target = imports.Stores()
    return target, imports.load_into(target, source, **options)  # type: ignore[arg-type]


def _wire(target: imports.Stores, kind: RecordKind) -> list:
    return [to_wire(r) for r in target.store(kind).records_in_load_order()]  # type: ignore[attr-defined]


@pytest.mark.parametrize("fast", [True, False], ids=["columnar-path", "record-path"])
def test_only_the_asked_kinds_load_and_the_others_are_counted(tmp_path: Path, fast: bool,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _folder(tmp_path, bad_line=True)
    whole_target, whole = _load(folder)
    if not fast:  # an import target other than in-memory stores reads record by record
        monkeypatch.setattr(loader.Loader, "take_decoded", _refuse)
        monkeypatch.setattr(imports.formats, "read_file", _slow(imports.formats.read_file))
    target, report = _load(folder, kinds=["dms", AUDIT])
    assert _wire(target, AUDIT) == _wire(whole_target, AUDIT) and _wire(target, DMS) == _wire(whole_target, DMS)
    assert _wire(target, RUNS) == []
    assert report.loaded == {AUDIT: COUNTS[AUDIT], RUNS: 0, DMS: COUNTS[DMS]}
    assert report.other_kinds == {RUNS: COUNTS[RUNS]}
    assert (report.read, report.rejected) == (whole.read, whole.rejected) == (sum(COUNTS.values()) + 1, 1)
    assert [r.line for r in report.rejects] == [r.line for r in whole.rejects] == [4]  # checked all the same
    assert _reconciles(report) and _reconciles(whole) and whole.other_kinds == {}
    assert report.summary().endswith(f"+ {COUNTS[RUNS]} of other kinds (not asked for: {COUNTS[RUNS]} masking_run)")
    assert report.to_json()["other_kinds"] == {"masking_run": COUNTS[RUNS]}


def _refuse(*_: object) -> None:
    raise AssertionError("the columnar path was taken")


def _slow(read_file):  # type: ignore[no-untyped-def]
    def read(*args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["fast"] = False
        return read_file(*args, **kwargs)
    return read


def _saved(tmp_path: Path, version: int) -> Path:
    engine = Engine()
    for kind in RecordKind:
        engine.load(_records(kind))
    path = tmp_path / f"all-v{version}.dsc"
    snapshot.save(engine, path, version=version)
    return path


def test_a_version_3_snapshot_reads_only_the_asked_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _saved(tmp_path, 3)
    read: list[RecordKind] = []
    real = snapopen._read_kind
    monkeypatch.setattr(snapopen, "_read_kind", lambda file, kind, entry: read.append(kind) or real(file, kind, entry))
    target, report = _load(path, kinds="masking")
    assert read == [RUNS]
    assert len(_wire(target, RUNS)) == COUNTS[RUNS] and _wire(target, AUDIT) == _wire(target, DMS) == []
    assert report.other_kinds == {AUDIT: COUNTS[AUDIT], DMS: COUNTS[DMS]}  # from the directory
    assert report.read == sum(COUNTS.values()) and _reconciles(report)
    engine = Engine()
    assert snapshot.load(engine, path, kinds=[DMS]) == {AUDIT: 0, RUNS: 0, DMS: COUNTS[DMS]}
    assert len(engine.store(AUDIT)) == 0 and read == [RUNS, DMS]


def test_a_version_3_snapshot_damaged_in_a_kind_not_asked_for_is_still_refused(tmp_path: Path) -> None:
    """Every section's checksum is verified, whichever kinds are read: a bad file loads nothing."""
    path = _saved(tmp_path, 3)
    data = bytearray(path.read_bytes())
    with open(path, "rb") as raw:
        directory, _ = snapopen.read_directory(raw, len(data), bytes(data[: snapstore.HEADER.size]))
    audit = next(e for e in directory["kinds"] if e["kind"] == AUDIT.value)
    section = directory["sections"][audit["segments"][0]["seq"]]
    data[section["offset"]] ^= 0xFF
    path.write_bytes(data)
    with pytest.raises(SnapshotError, match="checksum of section"):
        _load(path, kinds=[DMS], strict=True)
    target, report = _load(path, kinds=[DMS])
    assert report.file_errors and report.loaded_total == 0 and _wire(target, DMS) == []


def test_an_older_snapshot_reads_every_kind_and_counts_the_others(tmp_path: Path) -> None:
    path = _saved(tmp_path, 2)
    target, report = _load(path, kinds=AUDIT)
    assert len(_wire(target, AUDIT)) == COUNTS[AUDIT] and _wire(target, DMS) == []
    assert report.other_kinds == {RUNS: COUNTS[RUNS], DMS: COUNTS[DMS]} and _reconciles(report)
    engine = Engine()
    assert snapshot.load(engine, path, kinds="dms") == {AUDIT: 0, RUNS: 0, DMS: COUNTS[DMS]}


def test_an_unknown_kind_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="kinds: unknown record kind 'audits_and_more'"):
        _load(_folder(tmp_path), kinds=["audit", "audits_and_more"])


def test_checks_comparing_records_apply_to_the_kinds_loaded_only(tmp_path: Path) -> None:
    """A masking run whose ``Id`` came before with other content is rejected by a whole import,
    strict or not; an import of audit logs alone counts it with the other runs (what compares
    records is about what the stores would hold), while a broken line is rejected either way."""
    runs = sample.generate(RUNS, 5, seed=1)
    clash = attrs.evolve(sample.generate(RUNS, 1, seed=2)[0], id=runs[0].id)
    folder = tmp_path / "logs"
    folder.mkdir()
    lines = [json.dumps(to_wire(r), ensure_ascii=False) for r in [*runs, clash]] + ['{"Id": 9, "StartTime": ']
    (folder / "runs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "audit.jsonl").write_text(
        "".join(json.dumps(to_wire(r), ensure_ascii=False) + "\n" for r in sample.generate(AUDIT, 4, seed=1)),
        encoding="utf-8",
    )
    _, whole = _load(folder)
    _, some = _load(folder, kinds=AUDIT)
    assert (whole.rejected, some.rejected) == (2, 1)  # whole: the clash and the broken line; audit: the line
    assert some.other_kinds == {RUNS: 6} and some.loaded[AUDIT] == 4 and _reconciles(some)
    with pytest.raises(RecordError):
        _load(folder, strict=True)
    with pytest.raises(ImportFailure):  # the broken line still stops a strict one-kind import
        _load(folder, kinds=AUDIT, strict=True)


@pytest.mark.parametrize(
    ("kinds", "message"),
    [(5, "not int 5"), (None, "not NoneType None"), (b"audit", "not bytes b'audit'"), ([], "no record kind given"),
     (["audit", 3], "not int 3")],
)
def test_kinds_that_name_no_kind_are_refused_with_what_was_given(kinds: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RecordKind.parse_all(kinds)  # type: ignore[arg-type]
    assert RecordKind.parse_all("dms") == RecordKind.parse_all([DMS]) == {DMS}


def test_a_whole_record_of_a_kind_its_place_does_not_allow_is_named_for_what_it_is(tmp_path: Path) -> None:
    """A DMS log in an ``Items`` page, or read with another kind forced, was refused as a record
    of an allowed kind with an unknown key (``ModuleName ... did you mean ModelName?``)."""
    dms = to_wire(sample.generate(RecordKind.DMS_LOG, 1, seed=31)[0])
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"Items": [dms]}), encoding="utf-8")
    (reject,) = imports.load_into(imports.Stores(), page).rejects
    assert reject.item == "Items[0]"
    assert reject.reason == "its keys are those of a sensitive-data audit log, not of an audit log or masking run"
    line = tmp_path / "dms.jsonl"
    line.write_text(json.dumps(dms) + "\n", encoding="utf-8")
    (forced,) = imports.load_into(imports.Stores(), line, kind="audit").rejects
    assert forced.reason == "its keys are those of a sensitive-data audit log, not of an audit log"


def test_a_snapshot_load_of_an_unknown_kind_is_refused_as_a_load_of_files_is(tmp_path: Path) -> None:
    """``snapshot.load`` and ``imports.load_into`` refuse a ``kinds`` that names no kind with the
    error ``Engine.load`` gives (an ``InvalidParameterError`` on ``kinds``; it was a ValueError)."""
    path = tmp_path / "s.dscsnap"
    snapshot.save(Engine.from_sample("masking"), path)
    with pytest.raises(InvalidParameterError, match="kinds: unknown record kind 'bogus'"):
        snapshot.load(Engine(), path, kinds="bogus")
