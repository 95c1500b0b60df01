"""Import of exported logs: every format, kind detection, gzip, folders, globs, rejects, strict."""

from __future__ import annotations

import gzip
import io
import os
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest

from dsc_engine import sample
from dsc_engine.errors import ImportFailure, RecordError, UsageError
from dsc_engine.io import export, imports, loader, sources
from dsc_engine.wire.codec import to_wire
from dsc_engine.models import MaskingRun, RecordKind

AUDIT, RUNS, DMS = RecordKind.AUDIT_LOG, RecordKind.MASKING_RUN, RecordKind.DMS_LOG


def records(kind: RecordKind, n: int = 30, seed: int = 7) -> list:
    return sample.generate(kind, n, seed=seed)


def jsonl(path: Path, items: list) -> Path:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return path


def load(source, **kwargs) -> tuple[imports.Stores, imports.ImportReport]:
    target = imports.Stores()
    return target, imports.load_into(target, source, **kwargs)


def loaded(target: imports.Stores, kind: RecordKind) -> list:
    return list(target.store(kind).records_in_load_order())


def reconciles(report: imports.ImportReport) -> bool:
    return report.read == report.loaded_total + report.rejected + report.duplicates_skipped


# --- formats and kinds -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(RecordKind))
@pytest.mark.parametrize("fmt", list(export.ExportFormat))
def test_io_every_export_format_reimports_the_same_records(tmp_path, kind, fmt):
    recs = records(kind)
    path = tmp_path / f"out.{fmt.value}"
    with open(path, "w", encoding="utf-8") as out:
        export.write(recs, kind, fmt, out, page_size=7)
    target, report = load(path)
    # API pages are a listing: the first item listed is the last load (docs/semantics.md 5.1)
    assert loaded(target, kind) == (recs[::-1] if fmt is export.ExportFormat.PAGES else recs)
    assert report.loaded == {k: (len(recs) if k is kind else 0) for k in RecordKind}
    assert report.ok and reconciles(report)


@pytest.mark.parametrize("kind", list(RecordKind))
def test_io_an_exported_page_is_the_answer_without_the_keys_of_one_call(kind):
    """An export's pages and the API's answers are built by one function (api/respond.py page_body):
    the same keys in the same order, but RequestId and echoed parameters (AsyncRequestId)."""
    from dsc_engine import Engine
    from dsc_engine.api.operations import BY_KIND

    operation = BY_KIND[kind]
    engine = Engine()
    engine.load(records(kind, 3))
    number, size = operation.paging
    answer = engine.call(operation.action, {"StartTime": "2000-01-01 00:00:00", "EndTime": "2100-01-01 00:00:00",
                                            number.name: "2", size.name: "2"} if kind is DMS
                         else {number.name: "2", size.name: "2"})
    out = io.StringIO()
    export.write(list(engine.store(kind).records_in_load_order())[2:], kind, "pages", out, total=3, page_size=2,
                 first_page=2)
    (page,) = map(json.loads, out.getvalue().splitlines())
    per_call = {"RequestId", *(parameter.name for parameter in operation.echoed)}
    assert list(page) == [key for key in answer if key not in per_call]
    assert {key: value for key, value in page.items() if key != operation.list_key} == {
        key: answer[key] for key in page if key != operation.list_key
    }


@pytest.mark.parametrize("fmt", list(export.ExportFormat))
def test_io_an_export_of_text_with_a_lone_surrogate_fails_rather_than_writing_an_escape(tmp_path, fmt):
    """Such text has no UTF-8 form (docs/backends.md): written as its escape (as a message's
    ``jsontext.compact`` writes it), the export would hold a record the importer rejects."""
    from dsc_engine.models import AuditLog

    path = tmp_path / f"out.{fmt.value}"
    with open(path, "w", encoding="utf-8") as out, pytest.raises(UnicodeEncodeError):
        export.write([AuditLog(creation_time=1, user_name="a\ud800b")], AUDIT, fmt, out)
        out.flush()
    assert "ud800" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"fmt": "xml"}, "fmt"),
        ({"fmt": "csv", "times": "isox"}, "times"),
        ({"page_size": -1}, "page_size"),  # a ValueError of islice
        ({"page_size": 0}, "page_size"),  # taken for the operation's largest page
        ({"page_size": True}, "page_size"),  # written as "PageSize": true
        ({"first_page": 0}, "first_page"),  # written as "CurrentPage": 0
        ({"total": -3}, "total"),
    ],
)
def test_io_an_export_refuses_arguments_it_cannot_use(options, name):
    options = {"fmt": "pages", **options}
    out = io.StringIO()
    with pytest.raises(UsageError) as caught:
        export.write(records(AUDIT, 3), AUDIT, options.pop("fmt"), out, **options)
    assert caught.value.name == name and out.getvalue() == ""


def test_io_pretty_pages_concatenated_and_in_an_array(tmp_path):
    recs = records(AUDIT, 10)
    pages = [
        {"RequestId": "X", "CurrentPage": p + 1, "PageSize": 5, "TotalCount": 10,
         "Items": [to_wire(r) for r in recs[p * 5 : p * 5 + 5]]}
        for p in range(2)
    ]
    concatenated = tmp_path / "pages.json"
    concatenated.write_text("\n\n".join(json.dumps(p, indent=2) for p in pages))
    array = tmp_path / "array.json"
    array.write_text(json.dumps(pages, indent=1))
    for path in (concatenated, array):
        target, report = load(path)
        assert loaded(target, AUDIT) == recs[::-1]  # a listing: the first item listed loads last
        assert report.read == 10


def test_io_items_tell_audit_logs_from_masking_runs(tmp_path):
    audit, runs = records(AUDIT, 3), records(RUNS, 4)
    path = tmp_path / "mixed.json"
    path.write_text(
        json.dumps({"Items": [to_wire(r) for r in audit]})
        + json.dumps({"Items": [to_wire(r) for r in runs], "TotalCount": 4})
    )
    target, _ = load(path)
    assert loaded(target, AUDIT) == audit[::-1]  # a listing: the first item listed loads last
    assert loaded(target, RUNS) == runs[::-1]


def test_io_sdk_response_map_and_dms_page(tmp_path):
    recs = records(DMS, 5)
    body = {"RequestId": "R", "TotalCount": 5, "Success": True,
            "SensitiveDataAuditLogList": [to_wire(r) for r in recs]}
    path = tmp_path / "sdk.json"
    path.write_text(json.dumps({"headers": {}, "statusCode": 200, "body": body}, indent=2))
    target, _ = load(path)
    assert loaded(target, DMS) == recs[::-1]  # a listing: the first item listed loads last


def test_io_json_array_of_records(tmp_path):
    recs = records(RUNS, 6)
    path = tmp_path / "runs.json"
    path.write_text(json.dumps([to_wire(r) for r in recs], indent=2))
    target, _ = load(path)
    assert loaded(target, RUNS) == recs  # an array of records (not a page): a later item is a later load


def test_io_gzip_is_detected_by_magic_bytes_not_name(tmp_path):
    recs = records(AUDIT, 12)
    path = tmp_path / "logs.jsonl"  # no .gz suffix
    path.write_bytes(gzip.compress("".join(json.dumps(to_wire(r)) + "\n" for r in recs).encode()))
    target, _ = load(path)
    assert loaded(target, AUDIT) == recs


def test_io_a_file_gzipd_over_and_over_is_a_file_error_not_a_recursion_error(tmp_path):
    """Each gzip layer is a few calls deeper a read: 8 are read, more are refused (300 layers,
    six kilobytes, raised RecursionError)."""
    recs = records(AUDIT, 3)
    data = "".join(json.dumps(to_wire(r)) + "\n" for r in recs).encode()
    for layers in range(1, 301):
        data = gzip.compress(data)
        if layers in (sources.GZIP_LAYERS, sources.GZIP_LAYERS + 1, 300):
            path = tmp_path / f"{layers}.gz"
            path.write_bytes(data)
    target, report = load(tmp_path / f"{sources.GZIP_LAYERS}.gz")
    assert report.ok and loaded(target, AUDIT) == recs
    for layers in (sources.GZIP_LAYERS + 1, 300):
        _, report = load(tmp_path / f"{layers}.gz")
        (error,) = report.file_errors
        assert error.reason == f"gzip'd more than {sources.GZIP_LAYERS} times over: gunzip it first"


@pytest.mark.parametrize("layout", ["jsonl", "pretty"])
def test_io_files_joined_with_cat_each_with_a_byte_order_mark_load_whole(tmp_path, layout):
    """``cat a.jsonl b.jsonl`` of files a Windows tool wrote puts a byte order mark at the start
    of a line (or a value) inside the file: it is dropped there too, as at the start of a file
    (the line's record was rejected, the document's rest was a file error)."""
    recs = records(AUDIT, 6)
    halves = [[to_wire(r) for r in recs[:3]], [to_wire(r) for r in recs[3:]]]
    if layout == "jsonl":
        texts = ["".join(json.dumps(w) + "\n" for w in half) for half in halves]
    else:
        texts = [json.dumps(half, indent=1) + "\n" for half in halves]
    path = tmp_path / "joined.json"
    path.write_text("".join("\ufeff" + text for text in texts), encoding="utf-8")
    target, report = load(path)
    assert report.ok and loaded(target, AUDIT) == recs


@pytest.mark.parametrize("layout", ["jsonl", "json", "csv"])
@pytest.mark.parametrize("opening", ["\ufeff\ufeff", "\n\ufeff", "\r\n\ufeff\ufeff"])
def test_io_a_file_opening_with_marks_after_marks_or_blank_lines_is_told_and_loads(tmp_path, layout, opening):
    """An empty file saved with its mark, joined by ``cat`` before another (two marks in a row),
    or a blank line before the mark: the format was told from the mark (a CSV header of JSON,
    records rejected) or the header read with the mark in its first column name."""
    recs = records(AUDIT, 4)
    path = tmp_path / f"marked.{layout}"
    if layout == "csv":
        with path.open("w", encoding="utf-8", newline="") as out:
            export.write_csv(recs, AUDIT, out)
        text = path.read_text(encoding="utf-8")
    elif layout == "json":
        text = json.dumps([to_wire(r) for r in recs], indent=1) + "\n"
    else:
        text = "".join(json.dumps(to_wire(r)) + "\n" for r in recs)
    path.write_text(opening + text, encoding="utf-8")
    target, report = load(path)
    assert report.ok and loaded(target, AUDIT) == recs


def test_io_a_gzip_of_a_gzip_is_gunzipped_twice(tmp_path):
    """A gzip'd export gzip'd again (by a transfer, or ``gzip -f`` run twice) loads; its inner
    layer was read as a CSV header of binary bytes. A fault in the inner layer is the file error
    of a fault in one layer, after the lines before it."""
    import zlib

    recs = records(AUDIT, 3) * 200
    text = "".join(json.dumps(to_wire(r)) + "\n" for r in recs).encode()
    path = tmp_path / "logs.jsonl.gz.gz"
    path.write_bytes(gzip.compress(gzip.compress(text)))
    target, report = load(path, keep_duplicates=True)
    assert report.ok and loaded(target, AUDIT) == recs
    inner = gzip.compress(text)
    inner = inner[: len(inner) // 2]
    path.write_bytes(gzip.compress(inner))
    whole = zlib.decompressobj(31).decompress(inner).count(b"\n")
    _, report = load(path, keep_duplicates=True)
    (error,) = report.file_errors
    assert "gzip data is truncated" in error.reason
    assert report.loaded_total == whole and error.line == whole + 1


def test_io_folders_recurse_in_sorted_path_order_and_globs(tmp_path):
    recs = records(AUDIT, 9)
    (tmp_path / "b").mkdir()
    jsonl(tmp_path / "b" / "2.jsonl", [to_wire(r) for r in recs[3:6]])
    jsonl(tmp_path / "a.jsonl", [to_wire(r) for r in recs[:3]])
    jsonl(tmp_path / "c.jsonl", [to_wire(r) for r in recs[6:]])
    (tmp_path / ".hidden").write_text("not a log")
    target, report = load(tmp_path)
    assert loaded(target, AUDIT) == recs
    assert report.files == 3
    target, report = load(str(tmp_path / "*.jsonl"))
    assert loaded(target, AUDIT) == recs[:3] + recs[6:]


def test_io_utf8_bom_is_accepted(tmp_path):
    recs = records(AUDIT, 3)
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(to_wire(r)) + "\n" for r in recs).encode())
    csv_path = tmp_path / "bom.csv"
    with open(csv_path, "w", encoding="utf-8-sig") as out:
        export.write_csv(recs, AUDIT, out)
    for source in (path, csv_path):
        target, report = load(source)
        assert loaded(target, AUDIT) == recs and report.ok


def test_io_forced_kind_reads_every_record_as_that_kind(tmp_path):
    path = jsonl(tmp_path / "x.jsonl", [{"CreationTime": 1, "UserName": "u"}])
    target, report = load(path, kind="dms")
    assert report.rejected == 1 and loaded(target, AUDIT) == []


# --- lenient mode: rejects and reconciliation --------------------------------------------------


def test_io_a_json_error_reads_as_a_sentence_with_its_column(tmp_path):
    path = tmp_path / "cut.jsonl"
    path.write_text('{"CreationTime": 1, "UserName": "adm\n{"CreationTime": 2}\n')
    _, report = load(path)
    assert report.rejects[0].reason == "invalid JSON: Unterminated string starting at column 33"


def test_io_a_json_document_error_reads_as_a_sentence(tmp_path):
    """In stream mode too, the reader's message that ends with its position ('Invalid control
    character at') is not left hanging: it read 'Invalid control character at; the rest ...'."""
    recs = [to_wire(r) for r in records(AUDIT, 2)]
    recs[1]["UserName"] = "a\tb"  # a raw tab in a string is not JSON
    path = tmp_path / "pretty.json"
    path.write_text(json.dumps(recs[:1], indent=1)[:-1] + "," + json.dumps(recs[1]).replace("\\t", "\t") + "]")
    target, report = load(path)
    assert len(loaded(target, AUDIT)) == 1
    (error,) = report.file_errors
    assert error.reason.startswith("invalid JSON: Invalid control character; the rest of the file (")
    assert error.line == path.read_text().count("\n") + 1


@pytest.mark.parametrize(
    ("end", "why"),
    [
        ("]", "invalid JSON: Expecting value; the rest of the file (1 characters) is not read"),
        ("x]", "invalid JSON: Expecting value; the rest of the file (2 characters) is not read"),
        ("", "the JSON value starting at line 2 is cut off at the end of the file (truncated)"),
        ('{"UserName": "a\\u00', "the JSON value starting at line 2 is cut off at the end of the file (truncated)"),
        ('{"CreationTime": -', "the JSON value starting at line 2 is cut off at the end of the file (truncated)"),
        ('{"InWhiteList": tr', "the JSON value starting at line 2 is cut off at the end of the file (truncated)"),
    ],
    ids=["trailing-comma", "garbage", "cut-after-comma", "cut-escape", "cut-number", "cut-literal"],
)
def test_io_a_json_document_ending_in_an_error_is_called_truncated_only_when_cut_short(tmp_path, end, why):
    """A document whose last characters are invalid JSON (a comma before the closing bracket, as
    hand edits leave) was called cut off at the end of the file because the error was near it."""
    rec = to_wire(records(AUDIT, 1)[0])
    path = tmp_path / "doc.json"
    path.write_text("[" + json.dumps(rec) + ",\n" + end)
    target, report = load(path)
    assert len(loaded(target, AUDIT)) == 1
    (error,) = report.file_errors
    assert error.reason == why and error.line == 2


def test_io_a_last_line_cut_short_says_the_file_may_still_be_being_written(tmp_path):
    good = [json.dumps(to_wire(r)) for r in records(AUDIT, 3)]
    path = tmp_path / "growing.jsonl"
    path.write_text("\n".join(good)[:-25])  # a writer is in the middle of the last line
    target, report = load(path)
    assert len(loaded(target, AUDIT)) == 2 and report.rejected == 1
    reason = report.rejects[0].reason
    assert reason.startswith("invalid JSON") and reason.endswith(
        "; the last line has no line end: the file is cut short, or still being written")
    path.write_text("\n".join(good))  # a complete last line without its line end loads
    target, report = load(path)
    assert len(loaded(target, AUDIT)) == 3 and report.ok
    path.write_text("\n".join(good[:2]) + "\n" + good[2][:-25] + "\n")  # a line ended but bad
    _, report = load(path)
    assert "line end" not in report.rejects[0].reason



def test_io_bad_records_are_rejected_with_file_line_reason_and_raw(tmp_path):
    good = [to_wire(r) for r in records(AUDIT, 4)]
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps(good[0]),
        '{"CreationTime": 1, "UserName": ',  # invalid JSON
        json.dumps({**good[1], "WarnLevel": 2}),  # wrong type
        json.dumps({**good[2], "Colour": "red"}),  # unknown key
        json.dumps({"Nothing": 1}),  # no kind
        json.dumps(good[3]),
    ]
    path.write_text("\n".join(lines) + "\n")
    rejects = tmp_path / "rejects.jsonl"
    target, report = load(path, rejects_path=rejects)
    assert [to_wire(r) for r in loaded(target, AUDIT)] == [good[0], good[3]]
    assert (report.read, report.rejected) == (6, 4) and reconciles(report)
    entries = imports.rejects_of(rejects)
    assert [e["line"] for e in entries] == [2, 3, 4, 5]
    assert entries[0]["raw"] == lines[1] and "invalid JSON" in entries[0]["reason"]
    assert "'WarnLevel'" in entries[1]["reason"] and "expected a string" in entries[1]["reason"]
    assert "'Colour'" in entries[2]["reason"] and "unknown key" in entries[2]["reason"]
    assert "cannot tell the record kind" in entries[3]["reason"]
    assert all(e["file"] == str(path) for e in entries)
    assert report.rejects == ()  # written to the file, not kept


def test_io_rejects_without_a_file_are_kept_in_the_report(tmp_path):
    path = jsonl(tmp_path / "x.jsonl", [{"CreationTime": "soon"}])
    _, report = load(path)
    assert len(report.rejects) == 1 and str(report.rejects[0]).startswith(f"{path}:1:")


def test_io_page_items_are_located_inside_the_page(tmp_path):
    items = [to_wire(r) for r in records(RUNS, 3)]
    items[1]["Status"] = "99"
    path = tmp_path / "page.json"
    path.write_text("\n" + json.dumps({"Items": items}, indent=2))
    _, report = load(path)
    (reject,) = report.rejects
    assert (reject.line, reject.item) == (2, "Items[1]")
    assert "'Status': expected an integer, got a string" in reject.reason


@pytest.mark.parametrize("indent", [None, 1])
def test_io_an_array_element_is_located_at_the_line_it_starts_on(tmp_path, indent):
    """A reject of a JSON array's element names the line where the element starts, not the line
    of the comma before it (every element after the first was one line early)."""
    items = [to_wire(r) for r in records(RUNS, 4)]
    items[1]["Status"] = "x"
    items[3] = {"Items": [items[3], {**items[3], "Bogus": 1}]}
    path = tmp_path / "array.json"
    path.write_text("[\n" + ",\n".join(json.dumps(i, indent=indent) for i in items) + "\n]\n")
    text = path.read_text().splitlines()
    starts = [n for n, line in enumerate(text, 1) if line.startswith("{")]
    _, report = load(path)
    assert [(r.item, r.line) for r in report.rejects] == [("[1]", starts[1]), ("[3].Items[1]", starts[3])]


def test_io_duplicate_masking_runs_skipped_and_conflicts_rejected(tmp_path):
    runs = records(RUNS, 5)
    first = jsonl(tmp_path / "a.jsonl", [to_wire(r) for r in runs])
    changed = {**to_wire(runs[0]), "FailMsg": "changed"}
    second = jsonl(tmp_path / "b.jsonl", [to_wire(r) for r in runs[1:3]] + [changed])
    target, report = load([first, second])
    assert loaded(target, RUNS) == runs
    assert (report.read, report.duplicates_skipped, report.rejected) == (8, 2, 1)
    assert "already loaded with different content" in report.rejects[0].reason
    assert reconciles(report)
    # against what the store already holds
    report = imports.load_into(target, first)
    assert report.duplicates_skipped == 5 and len(target.store(RUNS)) == 5
    # strict: the error names the Id, as the lenient reject, Engine.load and a snapshot's do
    with pytest.raises(RecordError) as caught:
        imports.load_into(imports.Stores(), [first, second], strict=True)
    assert caught.value.key == "Id" and caught.value.where == f"{second}:3"
    assert f"Id {runs[0].id} is already loaded with different content" in str(caught.value)


def _asked_ids(store, monkeypatch) -> list[set]:
    """The Ids each query of ``store`` asks about; reading every held record at once fails."""
    asked: list[set] = []
    query = store.query

    def spying(node, *args, **kwargs):
        asked.append(set(node.values))
        return query(node, *args, **kwargs)

    def every_record():
        raise AssertionError("every held masking run was read")

    monkeypatch.setattr(store, "query", spying)
    monkeypatch.setattr(store, "records_in_load_order", every_record)
    return asked


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_io_masking_runs_of_an_import_are_looked_up_among_the_held_ones_by_id(tmp_path, monkeypatch, fmt):
    """Loading a few runs into a store holding many reads only the held runs with their Ids (it
    read every held run, seconds at a hundred thousand), by the fast path (JSON Lines) and one
    at a time (a JSON array)."""
    held = records(RUNS, 40)
    target, _ = load(jsonl(tmp_path / "held.jsonl", [to_wire(r) for r in held]))
    new = [attrs.evolve(r, id=1000 + i) for i, r in enumerate(records(RUNS, 2, seed=8))]
    changed = {**to_wire(held[3]), "FailMsg": "changed"}
    items = [to_wire(held[1]), changed, *(to_wire(r) for r in new)]
    path = json_array(tmp_path / "few.json", items) if fmt == "json" else jsonl(tmp_path / "few.jsonl", items)
    asked = _asked_ids(target.store(RUNS), monkeypatch)
    report = imports.load_into(target, path)
    assert set().union(*asked) == {held[1].id, held[3].id, *(r.id for r in new)}
    assert (report.loaded[RUNS], report.duplicates_skipped, report.rejected) == (2, 1, 1)
    assert (report.rejects[0].item, report.rejects[0].line) == (("[1]", 3) if fmt == "json" else ("", 2))


def json_array(path: Path, items: list) -> Path:
    """A JSON array of records: read one record at a time, each located by its index."""
    path.write_text("[\n" + ",\n".join(json.dumps(i) for i in items) + "\n]\n", encoding="utf-8")
    return path


def test_io_masking_runs_read_one_at_a_time_are_decided_in_file_order(tmp_path, monkeypatch):
    """Runs that wait for their Ids to be looked up in groups are still skipped, rejected and
    loaded as if decided one by one, across groups, and their rejects come in line order among
    the others; in strict mode the first problem in the file is the one raised."""
    monkeypatch.setattr(loader, "LOOKUP_GROUP", 3)
    runs = records(RUNS, 6)
    items = [to_wire(r) for r in runs]
    items.insert(4, to_wire(runs[0]))  # item 5: repeats item 1, in the second group
    items.insert(5, {**to_wire(runs[1]), "FailMsg": "changed"})  # item 6: conflicts with item 2
    items.insert(6, {**to_wire(runs[2]), "Status": "99"})  # item 7: no valid run at all
    path = json_array(tmp_path / "runs.json", items)
    target, report = load(path)
    assert loaded(target, RUNS) == runs
    assert (report.duplicates_skipped, report.rejected) == (1, 2)
    assert [r.item for r in report.rejects] == ["[5]", "[6]"]
    assert "already loaded with different content" in report.rejects[0].reason
    with pytest.raises(RecordError) as caught:
        imports.load_into(imports.Stores(), path, strict=True)
    assert "[5]" in caught.value.where and caught.value.key == "Id"


def test_io_identical_audit_logs_all_load(tmp_path):
    item = to_wire(records(AUDIT, 1)[0])
    target, report = load(jsonl(tmp_path / "x.jsonl", [item, item]))
    assert len(loaded(target, AUDIT)) == 2 and report.duplicates_skipped == 0


# --- strict mode -------------------------------------------------------------------------------


def test_io_strict_stops_at_the_first_bad_record_and_loads_nothing(tmp_path):
    good = [to_wire(r) for r in records(AUDIT, 3)]
    path = jsonl(tmp_path / "x.jsonl", [good[0], {**good[1], "EffectRow": "7"}, good[2]])
    target = imports.Stores()
    with pytest.raises(RecordError) as caught:
        imports.load_into(target, path, strict=True)
    assert caught.value.where == f"{path}:2" and caught.value.key == "EffectRow"
    assert len(target.store(AUDIT)) == 0


def test_io_strict_invalid_json_is_an_import_failure_with_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(to_wire(records(AUDIT, 1)[0])) + "\n{oops}\n")
    with pytest.raises(ImportFailure) as caught:
        imports.load_into(imports.Stores(), path, strict=True)
    assert (caught.value.path, caught.value.line) == (str(path), 2)


# --- broken files ------------------------------------------------------------------------------


def test_io_truncated_gzip_keeps_what_came_before_and_says_so(tmp_path):
    recs = records(AUDIT, 400)
    data = gzip.compress("".join(json.dumps(to_wire(r)) + "\n" for r in recs).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    target, report = load(path)
    (error,) = report.file_errors
    assert "gzip data is truncated" in error.reason and error.line is not None
    assert 0 < len(loaded(target, AUDIT)) < 400
    assert loaded(target, AUDIT) == recs[: len(loaded(target, AUDIT))]
    with pytest.raises(ImportFailure, match="truncated"):
        imports.load_into(imports.Stores(), path, strict=True)


def test_io_page_cut_in_the_middle(tmp_path):
    text = json.dumps({"Items": [to_wire(r) for r in records(AUDIT, 5)]}, indent=2)
    path = tmp_path / "cut.json"
    cut = text[: len(text) // 2]
    path.write_text(cut)
    _, report = load(path)
    (error,) = report.file_errors
    assert "starting at line 1 is cut off at the end of the file" in error.reason
    assert error.line == cut.count("\n") + 1


def test_io_non_utf8_line_is_rejected_and_non_utf8_document_is_a_file_error(tmp_path):
    good = json.dumps(to_wire(records(AUDIT, 1)[0])).encode()
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(good + b"\n" + '{"CreationTime": 1, "UserName": "José"}'.encode("latin-1") + b"\n")
    target, report = load(path)
    assert len(loaded(target, AUDIT)) == 1
    assert report.rejects[0].line == 2 and "not valid UTF-8" in report.rejects[0].reason
    pretty = tmp_path / "latin1.json"
    pretty.write_bytes(b'{\n "Items": [\n  {"CreationTime": 1, "UserName": "Jos\xe9"}]}')
    _, report = load(pretty)
    assert "not valid UTF-8" in report.file_errors[0].reason and report.file_errors[0].line == 3


def test_io_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text("  \n")
    _, report = load(path)
    assert report.file_errors[0].reason.startswith("file is empty")
    with pytest.raises(ImportFailure, match="file is empty"):
        imports.load_into(imports.Stores(), path, strict=True)


def test_io_missing_source_is_an_import_failure(tmp_path):
    with pytest.raises(ImportFailure, match="no such file"):
        load(tmp_path / "nope.jsonl")
    with pytest.raises(ImportFailure, match="matches no files"):
        load(str(tmp_path / "*.csv"))
    (tmp_path / "sub").mkdir()  # a pattern matching only a folder said "matches no files"
    with pytest.raises(ImportFailure, match="pattern matches only folders"):
        load(str(tmp_path / "s*"))


@pytest.mark.parametrize("sdk", [False, True], ids=["body", "sdk-response-map"])
def test_io_error_body_is_not_a_page(tmp_path, sdk):
    # in an SDK response map it was "cannot tell the record kind: expected one of the keys ..."
    body = {"RequestId": "R", "HostId": "h", "Code": "InvalidParameter", "Message": "m", "Recommend": "r"}
    path = tmp_path / "error.json"
    path.write_text(json.dumps({"headers": {}, "statusCode": 400, "body": body} if sdk else body))
    _, report = load(path)
    assert [r.reason for r in report.rejects] == ["an API error response (InvalidParameter), not a page of records"]


@pytest.mark.parametrize("sdk", [False, True], ids=["body", "sdk-response-map"])
def test_io_a_dms_failure_answer_is_an_error_response_not_a_record(tmp_path, sdk):
    """ListSensitiveDataAuditLog fails with Success false and ErrorCode/ErrorMessage (no Code):
    such an answer saved with the pages was 'cannot tell the record kind', as if a record."""
    body = {"RequestId": "R", "Success": False, "ErrorCode": "UnknownError", "ErrorMessage": "m"}
    path = tmp_path / "error.json"
    path.write_text(json.dumps({"headers": {}, "statusCode": 200, "body": body} if sdk else body))
    _, report = load(path)
    assert [r.reason for r in report.rejects] == ["an API error response (UnknownError), not a page of records"]


# --- CSV ---------------------------------------------------------------------------------------


def test_io_csv_cells_convert_strictly(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(
        "CreationTime,EffectRow,InWhiteList,WarnLevel,UserName\n"
        "1536751124000,5,TRUE,2,alice\n"
        "1.536751124E+12,5,true,2,bob\n"
        "1536751124001,,,,\n"
        "1536751124002,five,false,1,carol\n"
        "1536751124003,5,yes,1,dave\n"
    )
    target, report = load(path)
    first, empty = loaded(target, AUDIT)
    assert (first.effect_row, first.in_white_list, first.warn_level) == (5, True, "2")
    assert (empty.effect_row, empty.user_name, empty.in_white_list) == (None, None, None)
    reasons = {r.line: r.reason for r in report.rejects}
    assert set(reasons) == {3, 5, 6}
    assert "column CreationTime: cannot read '1.536751124E+12' as UNIX milliseconds (digits)" in reasons[3]
    assert "column EffectRow" in reasons[5] and "column InWhiteList" in reasons[6]


def test_io_csv_values_beyond_the_documented_lists_load_and_types_are_checked(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("Id,StartTime,Status\n1,5,7\n2,5,seven\n")
    target, report = load(path)
    assert [run.status for run in loaded(target, RUNS)] == [7]
    assert "column Status" in report.rejects[0].reason


def test_io_csv_missing_required_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("UserName,SqlText\nalice,select 1\n")
    _, report = load(path)
    (error,) = report.file_errors
    assert error.line == 1
    assert "lacks the required column(s) CreationTime of an audit_log record" in error.reason


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("CreationTime;UserName;SqlText", "the header is one column, 'CreationTime;UserName;SqlText': columns are"
         " separated by commas, this file seems to use ';'"),
        ("CreationTime\tUserName", "the header is one column, 'CreationTime\\tUserName': columns are separated"
         " by commas, this file seems to use tabs"),
        ("creationtime,username", "cannot tell the record kind: expected one of the keys CreationTime (audit_log),"
         " StartTime/Id (masking_run), OpTime (dms_log); key names are case-sensitive: creationtime is"
         " CreationTime, username is UserName"),
        ("CreationTime,UserNam", "CSV header has column(s) 'UserNam', not fields of an audit_log record"
         " (did you mean UserName?)"),
    ],
)
def test_io_csv_header_mistakes_say_how_to_mend_them(tmp_path, header, reason):
    path = tmp_path / "x.csv"
    path.write_text(header + "\n1,a\n")
    _, report = load(path)
    (error,) = report.file_errors
    assert error.reason.endswith(reason)


def test_io_a_record_with_its_kinds_required_keys_and_a_field_of_another_kind_names_that_field(tmp_path):
    """``{"CreationTime", "Status"}`` shares one key with audit logs and one with masking runs, but
    only the audit log's required key is there: it is an audit log with an unknown key ``Status``.
    It was "cannot tell the record kind: expected one of the keys CreationTime ...", of a record
    holding CreationTime (a run holding its Id and StartTime and a stray audit key was told)."""
    path = jsonl(tmp_path / "x.jsonl", [
        {"CreationTime": 1, "Status": 1},
        {"Id": 1, "StartTime": 5, "UserName": "b"},
        {"CreationTime": 1, "OpTime": "2026-01-01 00:00:00"},
    ])
    _, report = load(path)
    audit, run, both = (r.reason for r in report.rejects)
    assert audit == "audit log record: key 'Status': unknown key (not a documented field of this kind)"
    assert run == "masking run record: key 'UserName': unknown key (not a documented field of this kind)"
    # the required keys of two kinds: which one is meant cannot be told, and the reason says why
    assert both == ("cannot tell the record kind: it holds the required keys of several kinds,"
                    " CreationTime (audit_log), OpTime (dms_log)")
    csv_path = tmp_path / "x.csv"
    csv_path.write_text("CreationTime,Status\n1,2\n")
    _, report = load(csv_path)
    (error,) = report.file_errors
    assert "CSV header has column(s) 'Status', not fields of an audit_log record" in error.reason, error.reason


def test_io_json_key_mistakes_say_how_to_mend_them(tmp_path):
    path = jsonl(tmp_path / "x.jsonl", [{"creationTime": 1, "userName": "a"}, {"CreationTime": 1, "UserNam": "a"}])
    _, report = load(path)
    first, second = (r.reason for r in report.rejects)
    assert first.endswith("; key names are case-sensitive: creationTime is CreationTime, userName is UserName")
    assert second == ("audit log record: key 'UserNam': unknown key (not a documented field of this kind;"
                      " did you mean UserName?)")


def test_io_csv_unknown_column_and_ragged_row(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("CreationTime,Colour\n1,red\n")
    _, report = load(path)
    assert "'Colour'" in report.file_errors[0].reason
    path.write_text("CreationTime,UserName\n1,a,extra\n2,b\n")
    target, report = load(path)
    assert len(loaded(target, AUDIT)) == 1
    assert "row has 3 cells but the header has 2" in report.rejects[0].reason


def test_io_csv_nested_entries_column_and_multiline_cells(tmp_path):
    recs = records(DMS, 4)
    recs[0] = sample.generate(DMS, 1, seed=3)[0]
    path = tmp_path / "dms.csv"
    with open(path, "w", encoding="utf-8") as out:
        export.write_csv(recs, DMS, out)
    assert '"[{""TableName""' in path.read_text()
    target, _ = load(path)
    assert loaded(target, DMS) == recs
    runs = tmp_path / "runs.csv"
    runs.write_text('Id,StartTime,FailMsg\n1,5,"line one\nline two"\n2,6,ok\n')
    target, report = load(runs)
    assert [r.fail_msg for r in loaded(target, RUNS)] == ["line one\nline two", "ok"]
    assert isinstance(loaded(target, RUNS)[0], MaskingRun) and report.ok


def test_io_read_records_is_strict(tmp_path):
    path = jsonl(tmp_path / "x.jsonl", [{"OpTime": "2023-01-01 00:00:00"}, {"OpTime": "yesterday"}])
    with pytest.raises(RecordError, match="OpTime"):
        imports.read_records(path)


# --- order: files of records, and API pages as listings (docs/semantics.md 5.1) ---------------


def _tied(kind: RecordKind, n: int) -> list:
    """``n`` records in the kind's order, newest first, in runs of three of one time."""
    import attrs

    time = kind.facts.primary_time
    recs = records(kind, n, seed=21)
    stamps = sorted({getattr(r, time) for r in recs}, reverse=True)
    return [attrs.evolve(r, **{time: stamps[i // 3]}) for i, r in enumerate(recs)]


def _answers(engine, kind: RecordKind) -> list:
    from dsc_engine.query.parse import parse_filter

    return list(engine.store(kind).iter_ordered(parse_filter("", kind)))


@pytest.mark.parametrize("backend", ["memory", "duckdb"])
@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("kind", [AUDIT, DMS])
def test_io_api_pages_reload_in_the_order_the_service_listed_them(tmp_path, monkeypatch, backend, strict, kind):
    from dsc_engine import Engine

    monkeypatch.setattr(loader, "BATCH_SIZE", 4)  # a database gets the listing in several batches
    listed = _tied(kind, 30)
    path = tmp_path / "pages.jsonl"
    with open(path, "w", encoding="utf-8") as out:  # ties straddle the pages of 7
        export.write_pages(listed, kind, out, total=len(listed), page_size=7)
    engine = Engine() if backend == "memory" else Engine.connect(f"duckdb://{tmp_path}/db.duckdb")
    with engine:
        engine.load(str(path), strict=strict)
        assert _answers(engine, kind) == listed
        engine.load(str(path), keep_duplicates=True)  # a later import is a later load: its ties first
        runs = [listed[i : i + 3] for i in range(0, len(listed), 3)]
        assert _answers(engine, kind) == [r for run in runs for r in run + run]


def test_io_a_file_of_records_keeps_later_line_later_load_and_a_page_after_them_is_a_listing(tmp_path):
    recs = _tied(AUDIT, 6)  # two runs of three
    path = tmp_path / "mixed.jsonl"
    lines = [json.dumps(to_wire(r)) for r in recs[:3]]
    lines.append(json.dumps({"Items": [to_wire(r) for r in recs[3:]]}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target, _ = load(path)
    # plain lines: a later line is a later load; the page's items from its first on: reversed
    assert loaded(target, AUDIT) == recs[:3] + recs[3:][::-1]


# --- text that is not Unicode ----------------------------------------------------------------


def test_io_a_lone_surrogate_is_rejected_with_its_key_and_the_rest_loads(tmp_path):
    lines = [
        r'{"CreationTime": 5, "UserName": "a\ud800b"}',  # half of a pair: not Unicode
        r'{"CreationTime": 6, "UserName": "ok \ud83d\ude00"}',  # a whole pair: one character
        r'{"SensitiveDataAuditLogList": [{"OpTime": "2024-01-01 00:00:00",'
        r' "SensitiveDataLog": [{"TableName": "t\udc00"}]}]}',
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    target, report = load(path, rejects_path=rejects)
    assert [r.user_name for r in loaded(target, AUDIT)] == ["ok \U0001f600"]
    assert (report.read, report.loaded_total, report.rejected) == (3, 1, 2)
    written = imports.rejects_of(rejects)  # the rejects file is UTF-8: the halves stay escaped
    assert "key 'UserName': the text holds \\ud800" in written[0]["reason"]
    assert "key 'SensitiveDataLog[0].TableName': the text holds \\udc00" in written[1]["reason"]
    assert "\\udc00" in written[1]["raw"]
    out = tmp_path / "out.jsonl"  # what loaded exports (this crashed when a half was loaded)
    with open(out, "w", encoding="utf-8") as handle:
        export.write(loaded(target, AUDIT), AUDIT, "jsonl", handle)
    with pytest.raises(RecordError, match="surrogate"):
        load(path, strict=True)


def test_io_engine_load_refuses_a_wire_object_holding_a_lone_surrogate():
    from dsc_engine import Engine

    with pytest.raises(RecordError, match=r"\(item 0\): key 'UserName': the text holds \\ud800"):
        Engine().load([{"CreationTime": 5, "UserName": "a\ud800"}])


def test_io_rejects_of_a_file_whose_name_is_not_utf8_are_written(tmp_path):
    """A file name that is not UTF-8 (an archive unpacked from another system) reaches Python as
    text with lone surrogates (``os.fsdecode``): its rejects are still written, the name escaped
    in JSON so that it reads back to the same path, and the good records load."""
    name = tmp_path / os.fsdecode(b"logs-\xff.jsonl")
    lines = [json.dumps(to_wire(r)) for r in records(AUDIT, 3)]
    name.write_text("\n".join([lines[0], "{broken", lines[1], lines[2]]) + "\n", encoding="utf-8")
    empty = tmp_path / os.fsdecode(b"empty-\xfe.jsonl")
    empty.write_bytes(b"")
    rejects = tmp_path / "rejects.jsonl"
    target, report = load([name, empty], rejects_path=rejects)
    assert report.loaded_total == 3 and report.rejected == 1 and len(report.file_errors) == 1
    written = imports.rejects_of(rejects)
    assert [(r["file"], r["scope"]) for r in written] == [(str(name), "record"), (str(empty), "file")]
    assert Path(written[0]["file"]).exists()


@pytest.mark.parametrize("layout", ["pretty", "line"])
def test_io_a_page_with_two_record_lists_is_rejected_not_read_in_part(tmp_path, layout):
    """No API page holds both ``Items`` and ``SensitiveDataAuditLogList``: such a value is
    rejected whole, with both lists named, rather than one list loading and the other vanishing
    from the count."""
    page = {"Items": [to_wire(r) for r in records(AUDIT, 2)],
            "SensitiveDataAuditLogList": [to_wire(r) for r in records(DMS, 3)]}
    good = to_wire(records(RUNS, 1)[0])
    path = tmp_path / "mixed.json"
    if layout == "pretty":
        path.write_text(json.dumps([page, good], indent=2))
    else:
        path.write_text(json.dumps(page) + "\n" + json.dumps(good) + "\n")
    target, report = load(path)
    assert report.loaded_total == 1 and report.rejected == 1 and reconciles(report)
    (reject,) = report.rejects
    assert "Items" in reject.reason and "SensitiveDataAuditLogList" in reject.reason
    with pytest.raises(ImportFailure, match="SensitiveDataAuditLogList"):
        load(path, strict=True)


def test_io_an_array_element_that_is_not_an_object_is_named_in_json_terms(tmp_path):
    path = tmp_path / "values.json"
    path.write_text('[1, "x", true, 2.5, {"CreationTime": 1}]')
    _, report = load(path)
    reasons = [r.reason for r in report.rejects[:4]]
    assert reasons == [f"expected a JSON object, got {name}"
                       for name in ("an integer", "a string", "a boolean", "a number with a decimal point or an exponent")]


def test_io_json_lines_split_by_size_load_every_whole_line(tmp_path):
    """A JSON Lines export cut into parts by size (``split -b``, a log's tail) has parts whose
    first line is the end of a record: the part is still JSON Lines, that fragment is one reject,
    and every whole line after it loads (it used to be taken for CSV or a JSON document, and the
    whole part was a file error)."""
    recs = records(AUDIT, 40)
    data = "".join(json.dumps(to_wire(r)) + "\n" for r in recs).encode()
    cuts = [data.index(b"\n", len(data) * k // 4) - 25 for k in (1, 2, 3)]  # inside a line each
    for start, end, name in zip([0, *cuts], [*cuts, len(data)], "abcd"):
        (tmp_path / f"part-{name}").write_bytes(data[start:end])
    target, report = load(sorted(tmp_path.glob("part-*")))
    assert report.file_errors == () and report.rejected == 2 * len(cuts) and reconciles(report)
    spans, at = [], 0
    for r in recs:
        size = len(json.dumps(to_wire(r))) + 1
        spans.append((r, at, at + size))
        at += size
    whole = [r for r, begin, end in spans if not any(begin < cut < end for cut in cuts)]
    assert len(whole) == len(recs) - len(cuts)
    assert sorted(map(repr, loaded(target, AUDIT))) == sorted(map(repr, whole))


@pytest.mark.parametrize("first", [
    '{"CreationTime": 17934',  # cut inside a number: could go on, but not with a record next
    '{"CreationTime": 1793491114000, "UserName": "ad',  # cut inside a string
    '{"CreationTime": 1793491114000},',  # a stray comma
    'Name": "admin", "EffectRow": 3}',  # the end of a record
])
def test_io_json_lines_whose_first_line_is_damaged_keep_the_rest(tmp_path, first):
    recs = records(AUDIT, 5)
    path = tmp_path / "logs.jsonl"
    path.write_text(first + "\n" + "".join(json.dumps(to_wire(r)) + "\n" for r in recs))
    target, report = load(path)
    assert report.file_errors == () and report.rejected == 1 and report.rejects[0].line == 1
    assert loaded(target, AUDIT) == recs


def test_io_a_page_written_over_a_few_lines_is_still_a_page(tmp_path):
    """The other side of the rule above: a value that starts on the first line and goes on over
    the next ones (one item per line) is read as the one JSON value it is."""
    recs = records(AUDIT, 3)
    items = ",\n".join(json.dumps(to_wire(r)) for r in recs)
    path = tmp_path / "page.json"
    path.write_text('{"TotalCount": 3, "Items": [\n' + items + "\n]}\n")
    one = tmp_path / "one.json"
    one.write_text('{"Items": [\n' + json.dumps(to_wire(records(AUDIT, 1, seed=99)[0])) + "\n]}\n")
    target, report = load([path, one])
    assert report.rejected == 0 and report.file_errors == () and report.loaded_total == 4


@pytest.mark.parametrize("damage", ["cut", "garbage after it"])
def test_io_gzip_damage_loses_no_line_that_decompresses_whole(tmp_path, damage):
    """Every whole line that decompresses before a gzip fault loads (not those up to 64 KiB
    before it, lost with the read that met the fault), and the fault is placed after the last."""
    import zlib

    recs = records(AUDIT, 3) * 200 if damage == "cut" else records(AUDIT, 20)
    text = "".join(json.dumps(to_wire(r)) + "\n" for r in recs).encode()
    data = gzip.compress(text)
    data = data[: len(data) // 2] if damage == "cut" else data + b"not gzip"
    path = tmp_path / "logs.jsonl.gz"
    path.write_bytes(data)
    readable = zlib.decompressobj(31).decompress(data)
    whole = readable.count(b"\n")
    _, report = load(path, keep_duplicates=True)
    (error,) = report.file_errors
    assert report.loaded_total == whole and error.line == whole + 1, (report.loaded_total, whole)


@pytest.mark.parametrize("at", [0, 1, 57, 150, 299])
def test_io_bytes_not_utf8_in_a_json_document_keep_every_record_before_them(tmp_path, at):
    """A pretty-printed array whose record ``at`` holds a byte that is not UTF-8: the ``at``
    records before it load (not only those before the 64 KiB chunk holding the byte), and the
    file error names the byte's line."""
    recs = records(AUDIT, 300)
    text = json.dumps([to_wire(r) for r in recs], indent=1).encode()
    mark = json.dumps(to_wire(recs[at])["UserName"]).encode()
    pos = text.index(b'"CreationTime": %d' % recs[at].creation_time)
    pos = text.index(mark, pos) + 2
    path = tmp_path / "logs.json"
    path.write_bytes(text[:pos] + b"\xff" + text[pos:])
    target, report = load(path, keep_duplicates=True)
    (error,) = report.file_errors
    assert "not valid UTF-8" in error.reason and error.line == text[:pos].count(b"\n") + 1
    assert loaded(target, AUDIT) == recs[:at]


def test_io_a_gzipd_json_document_cut_short_keeps_every_record_before_the_cut(tmp_path):
    import zlib

    recs = records(AUDIT, 300)
    data = gzip.compress(json.dumps([to_wire(r) for r in recs], indent=1).encode())
    cut = data[: len(data) * 2 // 3]
    path = tmp_path / "logs.json.gz"
    path.write_bytes(cut)
    readable = zlib.decompressobj(31).decompress(cut).decode("utf-8", "ignore")
    whole = readable.count('"CreationTime"') - 1  # the last one is cut, or may be
    target, report = load(path, keep_duplicates=True)
    (error,) = report.file_errors
    assert "gzip data is truncated" in error.reason
    assert len(loaded(target, AUDIT)) >= whole and loaded(target, AUDIT) == recs[: len(loaded(target, AUDIT))]


@pytest.mark.parametrize("kind", list(RecordKind))
def test_a_key_repeated_in_one_object_keeps_its_last_value_on_every_path(tmp_path, kind):
    # docs/decisions.md: a repeat is not looked for; each path reads the object as JSON parsers do
    from dsc_engine.io.stores import Stores

    record = sample.generate(kind, 1, seed=41)[0]
    wire = to_wire(record)
    key = next(k for k, v in wire.items() if isinstance(v, str) and k not in ("OpTime",))
    text = json.dumps(wire)
    repeated = text[:-1] + f", {json.dumps(key)}: \"the last\"}}"
    (tmp_path / "lines.jsonl").write_text(repeated + "\n", encoding="utf-8")
    (tmp_path / "array.json").write_text(f"[\n{repeated}\n]\n", encoding="utf-8")
    fast_slow = {}
    for name, fast in (("lines.jsonl", True), ("lines.jsonl", False), ("array.json", True)):
        target = Stores()
        report = imports.load_into(target, tmp_path / name) if fast else _loaded_slowly(target, tmp_path / name)
        assert report.loaded_total == 1 and report.rejected == 0
        (held,) = target.store(kind).records_in_load_order()
        fast_slow[(name, fast)] = held
        assert to_wire(held) == {**wire, key: "the last"}
    assert len(set(map(repr, fast_slow.values()))) == 1


def _loaded_slowly(target, path):
    from dsc_engine.io import formats

    read_file = formats.read_file
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(formats, "read_file", lambda *a, **k: read_file(*a, **{**k, "fast": False}))
        return imports.load_into(target, path)


def test_io_a_json_document_ending_in_a_cut_utf8_character_is_a_file_error(tmp_path):
    # the incremental decoder reports a character cut at the very end only on its final call,
    # which also marks the end of the file: that fault was held and never raised (the file
    # loaded with no error at all)
    recs = records(AUDIT, 3)
    text = json.dumps([to_wire(r) for r in recs], indent=1).encode() + b"\n"
    path = tmp_path / "logs.json"
    path.write_bytes(text + b"\xe4\xb8")
    target, report = load(path, keep_duplicates=True)
    (error,) = report.file_errors
    assert "not valid UTF-8" in error.reason and error.line == text.count(b"\n") + 1
    assert loaded(target, AUDIT) == recs


def test_objects_of_thousands_of_keys_are_rejected_without_being_remembered(tmp_path):
    # Each rejected object's key sequence was remembered to tell kinds faster (4,096 of them):
    # a 100 MB file of such objects kept some 400 MB of keys alive after loading.
    from dsc_engine.io import candidates

    candidates._KIND_MEMO.clear()
    path = tmp_path / "wide.jsonl"
    with path.open("w") as out:
        for line in range(20):
            out.write(json.dumps({"CreationTime": 1, **{f"k{line}_{i}": 1 for i in range(1000)}}) + "\n")
            out.write(json.dumps({"CreationTime": 1, f"{'x' * 5000}{line}": 1}) + "\n")
    target = imports.Stores()
    report = imports.load_into(target, path)
    assert report.rejected == 40 and "unknown key" in report.rejects[0].reason
    assert all(len(keys) <= 64 and sum(map(len, keys)) <= 2048 for keys, _ in candidates._KIND_MEMO)


def test_the_parser_warm_up_of_an_import_fails_quietly_and_the_first_query_says_why(tmp_path, monkeypatch):
    """The warm-up thread's failure was an unhandled exception in a thread (a test failure under
    pytest, a traceback on stderr for a user); it is logged, and the query needing the parser
    builds it again and raises in its own thread."""
    import threading

    from dsc_engine import Engine
    from dsc_engine.io import stores
    from dsc_engine.query import grammar, parse

    def broken(**options):
        raise RuntimeError("no grammar today")

    grammar.parser.cache_clear()
    parse._parsed.cache_clear()  # a filter an earlier test parsed would be answered without the parser
    try:
        monkeypatch.setattr(grammar, "build", broken)
        stores.warm_filter_parser()
        for thread in threading.enumerate():
            if thread.name == "dsc-engine filter parser":
                thread.join(10)
        with pytest.raises(RuntimeError, match="no grammar today"):
            Engine().query("audit", 'UserName = "a"')
    finally:
        monkeypatch.undo()
        grammar.parser.cache_clear()
    assert Engine().query("audit", 'UserName = "a"').total == 0


def test_io_an_export_takes_the_kind_and_zone_by_name_as_the_engine_does():
    """``write(records, "masking", ..., zone="Asia/Shanghai")`` failed with a bare ``KeyError``
    (or ``TypeError``) though the engine takes both names everywhere else."""
    recs = records(RecordKind.MASKING_RUN, 3)
    by_name, by_value = io.StringIO(), io.StringIO()
    export.write(recs, "masking", "csv", by_name, times="iso", zone="Asia/Shanghai")
    export.write(recs, RecordKind.MASKING_RUN, "csv", by_value, times="iso", zone=ZoneInfo("Asia/Shanghai"))
    assert by_name.getvalue() == by_value.getvalue() and "+08:00" in by_name.getvalue()


@pytest.mark.parametrize(
    ("options", "name"),
    [({"kind": "bogus"}, "kind"), ({"kind": None}, "kind"), ({"zone": "Mars/Base"}, "zone"), ({"zone": 8}, "zone")],
)
def test_io_an_export_refuses_a_kind_or_zone_it_does_not_know(options, name):
    options = {"kind": AUDIT, **options}
    with pytest.raises(UsageError) as caught:
        export.write(records(AUDIT, 3), options.pop("kind"), "csv", io.StringIO(), **options)
    assert caught.value.name == name


@pytest.mark.parametrize("fmt", list(export.ExportFormat))
def test_io_an_export_refuses_records_of_another_kind_rather_than_write_them_empty(fmt):
    """Audit logs written as masking runs were CSV rows of empty cells, counted as exported."""
    with pytest.raises(UsageError, match="item 0 is not a masking_run record") as caught:
        export.write(records(AUDIT, 3), RecordKind.MASKING_RUN, fmt, io.StringIO())
    assert caught.value.name == "records"
