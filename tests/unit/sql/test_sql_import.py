"""Importing into a SQL backend is the memory import: the same validation, rejects file,
duplicate handling and ``read == loaded + rejected + duplicates`` reconciliation; strict loads
nothing on a fault; exports and snapshots read the database back."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from backends import SQL_NAMES, Opened, open_backend

from dsc_engine import Engine, sample
from dsc_engine.errors import RecordError, StoreError
from dsc_engine.io import export, imports, snapshot
from dsc_engine.models import MaskingRun, RecordKind
from dsc_engine.query.ast import MatchAll
from dsc_engine.wire.codec import to_wire

AUDIT, RUNS, DMS = RecordKind.AUDIT_LOG, RecordKind.MASKING_RUN, RecordKind.DMS_LOG


@pytest.fixture(scope="module", params=SQL_NAMES)
def backend(request: pytest.FixtureRequest) -> Iterator[Opened]:
    opened = open_backend(request.param)
    yield opened
    opened.close()


def _exports(folder: Path) -> Path:
    """Audit logs with bad lines, masking runs with an identical and a conflicting repeat, DMS pages."""
    folder.mkdir()
    audits = [to_wire(r) for r in sample.generate(AUDIT, 40, seed=3)]
    lines = [json.dumps(a) for a in audits]
    lines.insert(5, json.dumps({"CreationTime": 1, "Colour": "red"}))  # an unknown key
    lines.insert(9, json.dumps({"CreationTime": None}))  # null
    lines.insert(12, "{not json")
    (folder / "a_audit.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    runs = [to_wire(r) for r in sample.generate(RUNS, 20, seed=3)]
    conflicting = dict(runs[3], FailMsg="different")
    (folder / "b_runs.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in [*runs, runs[2], conflicting]), encoding="utf-8")
    with open(folder / "c_dms.json", "w", encoding="utf-8") as out:
        export.write_pages(sample.generate(DMS, 25, seed=3), DMS, out, total=25, page_size=10)
    return folder


def test_an_import_reconciles_and_rejects_exactly_as_in_memory(backend: Opened, tmp_path: Path) -> None:
    backend.clear()
    folder = _exports(tmp_path / "exports")
    earlier = [MaskingRun(id=10_000, start_time=1)]
    memory = Engine()
    for engine in (memory, backend.engine):
        engine.load(earlier)
    reports = {}
    for name, engine in (("memory", memory), ("sql", backend.engine)):
        reports[name] = engine.load(folder, rejects_path=tmp_path / f"{name}.rejects.jsonl")
    sql, mem = reports["sql"], reports["memory"]
    assert sql.to_json() | {"rejects_path": None} == mem.to_json() | {"rejects_path": None}
    assert sql.read == sql.loaded_total + sql.rejected + sql.duplicates_skipped
    assert (sql.rejected, sql.duplicates_skipped) == (4, 1)
    assert imports.rejects_of(tmp_path / "sql.rejects.jsonl") == imports.rejects_of(tmp_path / "memory.rejects.jsonl")
    for kind in RecordKind:
        assert list(backend.engine.store(kind).records_in_load_order()) == list(memory.store(kind).records_in_load_order())
    again = backend.engine.load(folder / "b_runs.jsonl")  # every run is now a duplicate of the database's
    assert (again.loaded_total, again.duplicates_skipped, again.rejected) == (0, 21, 1)


def test_a_strict_import_with_a_bad_record_loads_nothing(backend: Opened, tmp_path: Path) -> None:
    backend.clear()
    folder = _exports(tmp_path / "exports")
    with pytest.raises(RecordError):
        backend.engine.load(folder, strict=True)
    assert all(len(backend.engine.store(kind)) == 0 for kind in RecordKind)


def test_exports_and_snapshots_read_the_database_back(backend: Opened, tmp_path: Path) -> None:
    backend.clear()
    for kind in RecordKind:
        backend.engine.load(sample.bundled(kind)[:50])
    for fmt in export.ExportFormat:
        out = io.StringIO()
        export.write(backend.engine.store(AUDIT).iter_ordered(MatchAll()), AUDIT, fmt, out, page_size=7)
        path = tmp_path / f"audit.{fmt.value}"
        path.write_text(out.getvalue(), encoding="utf-8")
        again = Engine()
        again.load(path)
        assert list(again.store(AUDIT).iter_ordered(MatchAll())) == list(backend.engine.store(AUDIT).iter_ordered(MatchAll()))
    snapshot.save(backend.engine, tmp_path / "engine.dscsnap")
    restored = Engine()
    restored.load(tmp_path / "engine.dscsnap")
    for kind in RecordKind:
        assert list(restored.store(kind).records_in_load_order()) == list(backend.engine.store(kind).records_in_load_order())


def test_a_strict_load_refused_by_one_kinds_table_loads_no_kind(tmp_path: Path, backend: Opened) -> None:
    """The memory engine holds text with a lone surrogate (from records given as objects); a SQL
    table cannot. A strict import of its snapshot, and a load of the records themselves, are
    refused whole: the audit log that the database could store is not loaded either."""
    memory = Engine()
    audit = sample.generate(AUDIT, 1, seed=2)[0]
    dms = attrs.evolve(sample.generate(DMS, 1, seed=2)[0], user_name="b\ud800")
    memory.load([audit, dms])
    snapshot.save(memory, tmp_path / "held.snap")
    backend.clear()
    engine = backend.engine
    with pytest.raises(StoreError, match="UserName holds text with a lone surrogate"):
        engine.load(str(tmp_path / "held.snap"), strict=True)
    with pytest.raises(StoreError, match="UserName holds text with a lone surrogate"):
        engine.load([audit, dms])
    assert {kind: len(engine.store(kind)) for kind in RecordKind} == dict.fromkeys(RecordKind, 0)
    report = engine.load(str(tmp_path / "held.snap"))  # lenient: what fits loads, the rest is rejected
    assert (report.loaded[AUDIT], report.loaded[DMS], report.rejected) == (1, 0, 1)
    assert report.rejects[0].file == str(tmp_path / "held.snap")
    assert "UserName holds text with a lone surrogate" in report.rejects[0].reason
    assert "\\ud800" in report.rejects[0].raw
    assert [len(engine.store(kind)) for kind in (AUDIT, RUNS, DMS)] == [1, 0, 0]


def test_lines_read_by_the_typed_fast_path_load_as_in_memory_and_a_lone_surrogate_is_rejected_alone(
    backend: Opened, tmp_path: Path,
) -> None:
    """A database's import reads plain lines through the typed decoder, as memory's does; a line
    that may hold a lone surrogate (a ``\\udXXX`` escape) goes through the precise reader, which
    rejects the record that holds one (the database cannot store it) and loads the rest,
    escaped pairs (an emoji) included."""
    backend.clear()
    logs = [to_wire(r) for r in sample.generate(AUDIT, 30, seed=4)]
    lines = [json.dumps(log) for log in logs]
    lines[7] = json.dumps(dict(logs[7], UserName="emoji \U0001f600"))  # written \ud83d\ude00: a pair
    lines[11] = json.dumps(dict(logs[11], UserName="half \ud800"))  # a lone surrogate
    lines[12] = json.dumps(dict(logs[12], UserName="caf\u00e9"))  # written \u00e9
    path = tmp_path / "audit.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = backend.engine.load(path)
    assert (report.loaded_total, report.rejected) == (29, 1)
    (reject,) = report.rejects
    assert reject.line == 12 and "key 'UserName'" in reject.reason and "\\ud800" in reject.reason
    memory = Engine()
    memory.load(path)  # memory holds any text: the lone surrogate's record too
    held = [r for r in memory.store(AUDIT).records_in_load_order() if r.user_name != "half \ud800"]  # type: ignore[attr-defined]
    assert list(backend.engine.store(AUDIT).records_in_load_order()) == held


def test_a_strict_import_of_lines_read_fast_and_lines_read_precisely_loads_as_in_memory(
    backend: Opened, tmp_path: Path,
) -> None:
    """A strict import holds every file's records for one batch per kind: JSON Lines read by the
    typed fast path (structs, which the table reads column by column) and CSV read by the precise
    reader (records), in file order. The database holds what memory holds; a record the table
    refuses (a lone surrogate, from a snapshot) is named by its place in that whole batch."""
    backend.clear()
    folder = tmp_path / "files"
    folder.mkdir()
    for kind in (AUDIT, DMS):
        records = sample.generate(kind, 24, seed=5)
        for name, fmt, part in (("a", "jsonl", records[:10]), ("b", "csv", records[10:17]), ("c", "jsonl", records[17:])):
            with open(folder / f"{name}_{kind.value}.{fmt}", "w", encoding="utf-8", newline="") as out:
                export.write(part, kind, fmt, out)
    report = backend.engine.load(folder, strict=True)
    memory = Engine()
    assert report.to_json() == memory.load(folder, strict=True).to_json()
    assert report.loaded[AUDIT] == report.loaded[DMS] == 24
    for kind in RecordKind:
        assert list(backend.engine.store(kind).records_in_load_order()) == list(memory.store(kind).records_in_load_order())
    held = Engine()
    held.load([attrs.evolve(sample.generate(DMS, 1, seed=6)[0], user_name="b\ud800")])
    snapshot.save(held, folder / "d_held.snap")
    backend.clear()
    with pytest.raises(StoreError, match="record 24 of the batch: UserName holds text with a lone surrogate"):
        backend.engine.load(folder, strict=True)
    assert {kind: len(backend.engine.store(kind)) for kind in RecordKind} == dict.fromkeys(RecordKind, 0)


def test_a_lenient_import_rejects_a_record_the_table_refuses_without_saying_nothing_was_loaded(
    backend: Opened, tmp_path: Path,
) -> None:
    """A snapshot of the memory engine may hold a lone surrogate, which a table cannot store: a
    lenient import rejects that record and loads the rest, so its reason must not say that
    "nothing of the batch was loaded" (it did, as the batch's refusal); a strict one refuses the
    whole batch, saying so."""
    backend.clear()
    held = Engine()
    logs = sample.generate(DMS, 3, seed=7)
    held.load([logs[0], attrs.evolve(logs[1], user_name="b\ud800"), logs[2]])
    snapshot.save(held, tmp_path / "held.snap")
    report = backend.engine.load(tmp_path / "held.snap")
    assert (report.loaded_total, report.rejected) == (2, 1)
    (reject,) = report.rejects
    assert reject.file == str(tmp_path / "held.snap")
    assert reject.reason.startswith("sensitive-data audit log record: UserName holds text with a lone surrogate")
    assert "nothing" not in reject.reason and "batch" not in reject.reason, reject.reason
    backend.clear()
    with pytest.raises(StoreError, match=r"record 1 of the batch: UserName .*; nothing of the batch was loaded"):
        backend.engine.load(tmp_path / "held.snap", strict=True)
