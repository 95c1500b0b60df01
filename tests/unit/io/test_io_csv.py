"""CSV import and export: cut files, big cells, formula cells."""

from __future__ import annotations

import csv
import io
import time

import attrs
import pytest

from dsc_engine import sample
from dsc_engine.errors import ImportFailure
from dsc_engine.io import export, imports, sources
from dsc_engine.models import RecordKind

AUDIT = RecordKind.AUDIT_LOG


def _csv(records, **kwargs) -> str:
    out = io.StringIO()
    export.write_csv(records, AUDIT, out, **kwargs)
    return out.getvalue()


def _load(path, **kwargs):
    target = imports.Stores()
    return target, imports.load_into(target, path, **kwargs)


def _loaded(target):
    return list(target.store(AUDIT).records_in_load_order())


# --- cut files and big cells -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cut", "opened"),
    [
        ('3,"cut here\nand never,u\n4,closed,u\n', 5),
        ('3,"first\ncell","cut\nhere,u\n4,x,u\n', 6),
        ('3,"cut at the very end', 5),
    ],
    ids=["one-cell", "after-a-multiline-cell", "no-newline"],
)
def test_unterminated_quote_at_the_end_is_a_file_error_naming_the_line_where_it_opened(tmp_path, cut, opened):
    path = tmp_path / "cut.csv"
    path.write_text('CreationTime,SqlText,UserName\n1,"a",u\n2,"multi\nline",u\n' + cut)
    target, report = _load(path)
    assert [(r.creation_time, r.sql_text) for r in _loaded(target)] == [(1, "a"), (2, "multi\nline")]
    assert report.read == 2
    (error,) = report.file_errors
    assert error.line == opened
    assert f"quoted cell opened on line {opened} is never closed" in error.reason
    with pytest.raises(ImportFailure) as caught:
        _load(path, strict=True)
    assert caught.value.line == opened


@pytest.mark.parametrize(
    ("last", "why"),
    [("3,sel", "row has 2 cells but the header has 3 columns"),
     ("17934", "row has 1 cells but the header has 3 columns"),
     ("3,x,u\n17934", "row has 1 cells but the header has 3 columns")],
)
def test_a_last_csv_row_cut_short_says_the_file_may_still_be_being_written(tmp_path, last, why):
    path = tmp_path / "growing.csv"
    path.write_text("CreationTime,SqlText,UserName\n1,a,u\n" + last)
    _, report = _load(path)
    assert report.rejects[-1].reason == why + sources.UNENDED
    path.write_text("CreationTime,SqlText,UserName\n1,a,u\n" + last + "\n")  # ended: nothing to suspect
    _, report = _load(path)
    assert report.rejects[-1].reason == why


def test_a_bad_cell_in_a_last_csv_row_without_its_line_end_says_so(tmp_path):
    path = tmp_path / "growing.csv"
    path.write_text("CreationTime,SqlText,UserName\n1,a,u\n17,x,")  # CreationTime whole, the rest cut
    target, report = _load(path)
    assert len(_loaded(target)) == 2 and report.ok  # cut where a row may end: nothing to tell
    path.write_text("UserName,SqlText,CreationTime\nu,a,1\nu,a,2026-10-0")
    _, report = _load(path)
    assert report.rejects[-1].reason.startswith("column CreationTime: ")
    assert report.rejects[-1].reason.endswith(sources.UNENDED)


def test_an_export_cut_inside_a_quoted_cell_loads_the_rows_before_it(tmp_path):
    records = sample.generate(AUDIT, 4, seed=4)
    records[3] = attrs.evolve(records[3], sql_text="select 1\nfrom dual")
    text = _csv(records)
    path = tmp_path / "cut.csv"
    path.write_text(text[: text.index("select 1\n") + len("select 1\n")])  # cut inside the cell
    target, report = _load(path)
    assert _loaded(target) == records[:3]
    assert report.read == 3 and [e.line for e in report.file_errors] == [5]


def test_a_200_kib_cell_exports_and_reimports_exactly(tmp_path):
    records = sample.generate(AUDIT, 3, seed=4)
    records[1] = attrs.evolve(records[1], sql_text="select '" + "x\n" * (100 * 1024) + "'")
    records[2] = attrs.evolve(records[2], sql_text="y" * (200 * 1024))
    path = tmp_path / "big.csv"
    path.write_text(_csv(records), encoding="utf-8")
    target, report = _load(path)
    assert report.ok and _loaded(target) == records


def test_an_unclosed_quote_before_more_than_the_cell_limit_names_the_row(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_LINE", 1000)
    previous = csv.field_size_limit(1000)
    try:
        path = tmp_path / "open.csv"
        path.write_text('CreationTime,SqlText\n1,a\n2,"open\n' + "3,b\n" * 500)
        target, report = _load(path)
    finally:
        csv.field_size_limit(previous)
    assert [r.creation_time for r in _loaded(target)] == [1]
    (error,) = report.file_errors
    assert error.line == 3 and "longer than 1000 characters" in error.reason



@pytest.mark.parametrize(
    ("header", "named"),
    [
        (["CreationTime"] + [f"C{i}" for i in range(100_000)], "'C0', 'C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7', 'C8', 'C9' and 99990 more"),
        (["CreationTime"] * 100_000, "repeats the column(s) CreationTime"),
    ],
    ids=["unknown", "repeated"],
)
def test_a_header_of_100_000_columns_is_refused_at_once_naming_the_first_few(tmp_path, header, named):
    # Repeated columns were found by counting each column in the whole header (quadratic: a
    # 100,000-column header took minutes), and unknown ones were all listed in the message.
    path = tmp_path / "wide.csv"
    path.write_text(",".join(header) + "\n1\n")
    started = time.monotonic()
    _, report = _load(path)
    assert time.monotonic() - started < 2
    (error,) = report.file_errors
    assert error.line == 1 and named in error.reason and len(error.reason) < 300


# --- formula cells -----------------------------------------------------------------------------

FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "\r=1", "'=already", "''+two", "'", "'plain", "-"]


@pytest.mark.parametrize("guard", [True, False], ids=["guard", "no-guard"])
def test_csv_export_reimports_formula_looking_text_exactly(tmp_path, guard):
    base = sample.generate(AUDIT, len(FORMULAS), seed=4)
    records = [attrs.evolve(r, sql_text=f, user_name=f, effect_row=-5) for r, f in zip(base, FORMULAS)]
    path = tmp_path / "formulas.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        export.write(records, AUDIT, "csv", out, formula_guard=guard)
    target, report = _load(path)
    assert report.ok and _loaded(target) == records


def test_an_empty_string_comes_back_from_csv_absent_and_from_jsonl_kept(tmp_path):
    # the one value CSV cannot keep apart (docs/formats.md: an empty cell means absent)
    record = attrs.evolve(sample.generate(AUDIT, 1, seed=4)[0], user_name="")
    for fmt, expected in (("csv", None), ("jsonl", "")):
        path = tmp_path / f"empty.{fmt}"
        with open(path, "w", encoding="utf-8", newline="") as out:
            export.write([record], AUDIT, fmt, out)
        target, report = _load(path)
        assert report.ok and _loaded(target) == [attrs.evolve(record, user_name=expected)]


def test_csv_export_guards_formula_cells_by_default_but_not_integers():
    record = attrs.evolve(sample.generate(AUDIT, 1, seed=4)[0], sql_text="=HYPERLINK(1)", user_name="@x",
                          client_ip="+1", effect_row=-5, execute_time=-7)
    header, row = list(csv.reader(io.StringIO(_csv([record]))))
    cells = dict(zip(header, row))
    assert cells["SqlText"] == "'=HYPERLINK(1)" and cells["UserName"] == "'@x" and cells["ClientIp"] == "'+1"
    assert cells["EffectRow"] == "-5" and cells["ExecuteTime"] == "-7"
    header, row = list(csv.reader(io.StringIO(_csv([record], formula_guard=False))))
    assert dict(zip(header, row))["SqlText"] == "=HYPERLINK(1)"


def test_csv_import_strips_the_guard_of_a_spreadsheet_guarded_cell(tmp_path):
    path = tmp_path / "guarded.csv"
    path.write_text("CreationTime,SqlText,UserName\n1,'=1+1,'plain\n")
    target, _ = _load(path)
    (record,) = _loaded(target)
    assert record.sql_text == "=1+1" and record.user_name == "'plain"


def test_csv_text_with_a_carriage_return_reimports(tmp_path):
    base = sample.generate(AUDIT, 3, seed=4)
    records = [attrs.evolve(base[0], sql_text="a\rb"), attrs.evolve(base[1], sql_text="c\r\nd\r"), base[2]]
    path = tmp_path / "cr.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        export.write_csv(records, AUDIT, out)
    target, report = _load(path)
    assert report.ok and _loaded(target) == records


# --- readable times in epoch-millisecond columns -----------------------------------------------


def _one_row(tmp_path, cell: str):
    path = tmp_path / "times.csv"
    path.write_text(f"CreationTime,UserName\n{cell},u\n", encoding="utf-8")
    return _load(path)


@pytest.mark.parametrize(
    ("cell", "ms"),
    [
        ("2026-10-01 10:00:00.123+08:00", 1790820000123),
        ("2026-10-01T02:00:00.123Z", 1790820000123),
        ("2026-10-01 02:00:00+00:00", 1790820000000),
        ("1969-12-31 23:59:59.999-00:00", -1),
        ("0001-01-01 00:00:00+00:00", -62135596800000),
        ("1790820000123", 1790820000123),
        ("-5", -5),
    ],
)
def test_csv_epoch_ms_column_reads_a_time_with_its_zone_exactly(tmp_path, cell, ms):
    target, report = _one_row(tmp_path, cell)
    assert report.ok and [r.creation_time for r in _loaded(target)] == [ms]


@pytest.mark.parametrize(
    ("zone", "cell", "ms"),
    [
        ("Asia/Shanghai", "2026-10-01 10:00:00", 1790820000000),
        ("+08:00", "2026-10-01T10:00:00.123", 1790820000123),
        ("UTC", "2026-10-01 02:00:00", 1790820000000),
        # a time that says its zone, or milliseconds, is read as before
        ("Asia/Shanghai", "2026-10-01 02:00:00Z", 1790820000000),
        ("Asia/Shanghai", "1790820000123", 1790820000123),
        # a wall-clock time a daylight-saving change repeats is the first of the two (EDT), as in a filter
        ("America/New_York", "2026-11-01 01:30:00", 1793511000000),
    ],
)
def test_csv_epoch_ms_column_reads_a_time_without_a_zone_in_the_zone_given(tmp_path, zone, cell, ms):
    """A CSV written by hand or by a tool in local time (``2026-10-01 10:00:00``) names no instant
    alone; given the zone it was written in (``csv_zone``, the CLI's ``--tz``), it loads, read as a
    filter reads such a time. Without it, such a cell is refused (below)."""
    path = tmp_path / "times.csv"
    path.write_text(f"CreationTime,UserName\n{cell},u\n", encoding="utf-8")
    target, report = _load(path, csv_zone=zone)
    assert report.ok and [r.creation_time for r in _loaded(target)] == [ms]
    _, refused = _load(path)
    assert refused.ok is (not cell[:4].isdigit() or "Z" in cell or cell.isdigit())


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("2026-10-01 10:00:00", "a time in an epoch-millisecond column needs its zone"),
        ("2026-10-01", "a time in an epoch-millisecond column needs its zone"),
        # a zone written otherwise is named as what it is not, not as missing
        ("2026-10-01 10:00:00+0800", "its zone '+0800' is not written Z or +hh:mm"),
        ("2026-10-01T10:00:00z", "its zone 'z' is not written Z or +hh:mm"),
        ("2026-10-01 10:00:00 UTC", "its zone ' UTC' is not written Z or +hh:mm"),
        ("2026-10-01 10:00:00.1234Z", "at most 3 fraction digits"),
        ("2026-13-01 10:00:00Z", "month must be in 1..12"),
        ("2026-10-01 10:00:00+24:00", "hour of the offset +24:00 must be in 0..23"),
        # a number a spreadsheet or a data frame rewrote: said so, with what to do
        ("1.58225E+12", "'1.58225E+12' as UNIX milliseconds (digits) or a time with its zone; it is in"
                        " scientific notation, as a spreadsheet shows a large number, and may have lost digits"),
        ("1582251233000.0", "a whole number with a decimal point, as a data frame writes an integer column"),
        ("tomorrow", "cannot read 'tomorrow' as UNIX milliseconds (digits) or a time with its zone"),
        # ASCII digits only: a full-width offset was read as +08:00
        ("2026-10-01 10:00:00+\uff10\uff18:00", "write it as yyyy-MM-dd HH:mm:ss[.fff]+hh:mm (or Z)"),
    ],
)
def test_csv_epoch_ms_column_refuses_a_time_it_cannot_read_exactly(tmp_path, cell, reason):
    _, report = _one_row(tmp_path, cell)
    (reject,) = report.rejects
    assert reject.reason.startswith("column CreationTime: ") and reason in reject.reason


def test_csv_integer_cells_a_tool_rewrote_are_refused_saying_how(tmp_path):
    path = tmp_path / "ints.csv"
    path.write_text("CreationTime,EffectRow,UserName\n1,5.0,a\n1,2E+3,b\n1,5.5,c\n", encoding="utf-8")
    _, report = _load(path)
    assert [r.reason for r in report.rejects] == [
        "column EffectRow: cannot read '5.0' as an integer; a whole number with a decimal point, as a data"
        " frame writes an integer column with empty cells: write it without the point",
        "column EffectRow: cannot read '2E+3' as an integer; it is in scientific notation, as a spreadsheet"
        " shows a large number, and may have lost digits: export again, or save the column as a whole number"
        " or as text",
        "column EffectRow: cannot read '5.5' as an integer",
    ]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/New_York", "+05:45", "-09:30"])
def test_csv_export_with_readable_times_reimports_every_millisecond(tmp_path, zone):
    from dsc_engine.wire.times import parse_zone

    base = sample.generate(AUDIT, 1, seed=1)[0]
    moments = [0, -1, 1, 1790820000123, 1793404667999, -2208988800001, -62135596800000,
               253402300799999, 253402300800000, -62135596800001, 2**63 - 1, -(2**63)]
    recs = [attrs.evolve(base, creation_time=ms) for ms in moments]
    path = tmp_path / "iso.csv"
    path.write_text(_csv(recs, times="iso", zone=parse_zone(zone)), encoding="utf-8")
    target, report = _load(path)
    assert report.ok and [r.creation_time for r in _loaded(target)] == moments
    cells = [row["CreationTime"] for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))]
    assert cells[3][:10] in ("2026-09-30", "2026-10-01") and cells[3][-6] in "+-"
    assert cells[-1] == str(-(2**63))  # outside the years 1 to 9999: the digits


@pytest.mark.parametrize("before", ["\n", "\r\n\r\n", "   \n", "\ufeff\n", ",,,\n"])
def test_csv_blank_lines_before_the_header_are_skipped(tmp_path, before):
    """JSON may start after blank lines; so may a CSV header (a tool that writes an empty line
    first, files joined with one between): the first line with content is the header."""
    recs = sample.generate(AUDIT, 4, seed=2)
    path = tmp_path / "logs.csv"
    path.write_text(before + _csv(recs), encoding="utf-8", newline="")
    target, report = _load(path)
    assert report.ok and _loaded(target) == recs
    bad = tmp_path / "bad.csv"
    bad.write_text(before + "Nope,CreationTime\n1,2\n", encoding="utf-8", newline="")
    _, report = _load(bad)
    (error,) = report.file_errors
    assert error.line == 1 + before.count("\n") and "'Nope'" in error.reason


# --- rows the csv module cannot split ------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("2,a\rb,u", "on line 3, a cell that is not quoted holds a carriage return (\\r)"),
        ('2,"a"b,u', "on line 3, text follows the closing quote of a quoted cell"),
        ('2,"multi\nline"b,u', "on line 4, text follows the closing quote of a quoted cell"),
    ],
    ids=["bare-carriage-return", "text-after-the-quote", "text-after-a-multiline-quote"],
)
def test_a_row_the_csv_module_cannot_split_is_one_rejected_record(tmp_path, row, reason):
    """One malformed row costs that row: it was a file error for the rest of the file (a bare
    carriage return), or was read with its quotes dropped ('"a"b' as 'ab')."""
    path = tmp_path / "rows.csv"
    path.write_bytes(("CreationTime,SqlText,UserName\n1,a,u\n" + row + "\n5,c,u\n").encode())
    target, report = _load(path)
    assert [r.creation_time for r in _loaded(target)] == [1, 5]
    assert report.read == 3 and not report.file_errors
    (reject,) = report.rejects
    assert reject.line == 3 and reject.reason.startswith(reason) and reject.raw == row
    with pytest.raises(ImportFailure) as caught:
        _load(path, strict=True)
    assert caught.value.line == 3


def test_a_quoted_cell_never_closed_is_still_a_file_error_after_a_malformed_row(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text('CreationTime,SqlText,UserName\n1,"a"b,u\n2,x,u\n3,"cut\nhere')
    target, report = _load(path)
    assert [r.creation_time for r in _loaded(target)] == [2]
    assert [r.line for r in report.rejects] == [2, 4]
    (error,) = report.file_errors
    assert error.line == 4 and "quoted cell opened on line 4 is never closed" in error.reason


def test_a_csv_with_lines_ending_in_a_lone_carriage_return_says_so(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(b"CreationTime,UserName\r1,u\r2,v\r")
    _, report = _load(path)
    (error,) = report.file_errors
    assert error.line == 1 and "lines that end with \\r alone" in error.reason


# --- files joined with cat ---------------------------------------------------------------------


def _columns_reversed(text: str) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(row[::-1] for row in rows)
    return out.getvalue()


@pytest.mark.parametrize("mark", ["", "\ufeff"])
def test_csv_files_joined_with_cat_read_each_rows_by_its_own_header(tmp_path, mark):
    """``cat a.csv b.csv``: the second file's header (with its byte order mark, if saved with one)
    was read as a record and rejected, and its rows were read by the first header: with columns
    in another order, a cell landed in another column, loaded unsaid when both were integers."""
    first, second = sample.generate(AUDIT, 4, seed=1), sample.generate(AUDIT, 3, seed=2)
    runs = sample.generate(RecordKind.MASKING_RUN, 2, seed=3)
    out = io.StringIO()
    export.write_csv(runs, RecordKind.MASKING_RUN, out)
    joined = _csv(first) + mark + _columns_reversed(_csv(second)) + mark + out.getvalue()
    path = tmp_path / "joined.csv"
    path.write_text(joined, encoding="utf-8")
    target, report = _load(path)
    assert report.ok, report.rejects
    assert _loaded(target) == first + second
    assert list(target.store(RecordKind.MASKING_RUN).records_in_load_order()) == runs
    assert report.read == 9
