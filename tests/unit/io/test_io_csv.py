"""CSV import and export: cut files, big cells, formula cells."""

from __future__ import annotations

import csv
import io

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
