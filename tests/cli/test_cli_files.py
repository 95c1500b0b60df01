"""The CLI's output files: never one of its inputs; a clear error, not a traceback or a lost file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from clirun import run
from dsc_engine.cli.commands import SAMPLE_NOTE
from dsc_engine import sample
from dsc_engine.cli import main
from dsc_engine.wire.codec import to_wire
from dsc_engine.models import RecordKind


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    path = tmp_path / "x.jsonl"
    lines = [json.dumps(to_wire(r)) for r in sample.generate(RecordKind.AUDIT_LOG, 5, seed=3)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ("load", "{src}", "--rejects", "{src}"),
        ("load", "{src}", "--snapshot", "{alias}"),
        ("load", "{dir}", "--rejects", "{src}"),
        ("export", "audit", "--out", "{src}", "--data", "{src}"),
        ("snapshot", "{alias}", "--data", "{dir}"),
        ("record", "--out", "{src}", "--data", "{src}"),
    ],
    ids=["load-rejects", "load-snapshot", "load-folder", "export-out", "snapshot-out", "record-out"],
)
def test_output_path_that_is_a_data_source_is_refused_before_anything_is_opened(tmp_path, source, argv):
    alias = tmp_path / "alias.jsonl"
    alias.symlink_to(source)
    before = source.read_bytes()
    args = [a.format(src=source, alias=alias, dir=tmp_path) for a in argv]
    code, out, err = run(*args)
    assert code == 3, err
    assert "is one of the sources" in err and err.count("\n") == 1
    assert source.read_bytes() == before


def test_record_out_that_is_the_request_list_is_refused(tmp_path):
    requests = tmp_path / "calls.jsonl"
    requests.write_text('{"action": "DescribeAuditLogs", "params": {"PageSize": "1"}}\n')
    before = requests.read_bytes()
    code, _, err = run("record", "--requests", str(requests), "--out", str(requests))
    assert code == 3 and "is one of the sources" in err
    assert requests.read_bytes() == before


def test_load_rejects_and_snapshot_naming_the_same_file_is_refused(tmp_path, source):
    out = tmp_path / "out"
    code, _, err = run("load", str(source), "--rejects", str(out), "--snapshot", str(out))
    assert code == 3 and "same file" in err
    assert not out.exists()


def _formula_data(tmp_path: Path) -> Path:
    record = to_wire(sample.generate(RecordKind.AUDIT_LOG, 1, seed=3)[0])
    record.update(SqlText="=cmd|' /C calc'!A0", EffectRow=-5)
    path = tmp_path / "formula.jsonl"
    path.write_text(json.dumps(record) + "\n")
    return path


def test_export_to_csv_guards_formula_cells_unless_told_not_to(tmp_path):
    data = _formula_data(tmp_path)
    code, guarded, _ = run("export", "audit", "--to", "csv", "--data", str(data))
    assert code == 0 and ",'=cmd|" in guarded and ",-5," in guarded
    code, bare, _ = run("export", "audit", "--to", "csv", "--no-formula-guard", "--data", str(data))
    assert code == 0 and ",=cmd|" in bare and "'=cmd" not in bare
    for text in (guarded, bare):
        out = tmp_path / "again.csv"
        out.write_text(text)
        code, shown, _ = run("--format", "jsonl", "query", "audit", "--data", str(out))
        assert code == 0 and json.loads(shown)["SqlText"] == "=cmd|' /C calc'!A0"


def test_no_formula_guard_is_a_usage_error_outside_csv(tmp_path):
    code, _, err = run("export", "audit", "--to", "jsonl", "--no-formula-guard", "--data", str(_formula_data(tmp_path)))
    assert code == 2 and "--no-formula-guard" in err


def test_a_command_of_one_kind_reads_only_that_kind_of_a_snapshot(tmp_path, monkeypatch):
    """``call``, ``query`` and ``export`` read one kind: a snapshot's other stores are not read
    (a DMS call on a month's snapshot does not open its million audit logs); the answers are
    those of a whole load."""
    from dsc_engine import Engine
    from dsc_engine.io import snapopen, snapshot

    engine = Engine()
    for kind in RecordKind:
        engine.load(sample.generate(kind, 20, seed=4))
    path = tmp_path / "all.dsc"
    snapshot.save(engine, path)
    read: list[RecordKind] = []
    real = snapopen._read_kind
    monkeypatch.setattr(snapopen, "_read_kind", lambda file, kind, entry: read.append(kind) or real(file, kind, entry))
    params = {"PageNumber": "1", "PageSize": "5", "StartTime": "2000-01-01 00:00:00", "EndTime": "2099-12-31 23:59:59"}
    code, out, err = run("--format", "json", "call", "ListSensitiveDataAuditLog", "--data", str(path),
                         *(f"--param={name}={value}" for name, value in params.items()))
    assert (code, err, read) == (0, "", [RecordKind.DMS_LOG])
    answer = json.loads(out)
    expected = engine.call("ListSensitiveDataAuditLog", params)
    assert answer["TotalCount"] == expected["TotalCount"] == 20
    assert answer["SensitiveDataAuditLogList"] == expected["SensitiveDataAuditLogList"]
    code, out, _ = run("--format", "jsonl", "query", "masking", "", "--data", str(path))
    assert code == 0 and read == [RecordKind.DMS_LOG, RecordKind.MASKING_RUN] and len(out.splitlines()) == 10


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a disk that is always full)")
@pytest.mark.parametrize("argv", [
    ("export", "audit", "--out", "/dev/full"),
    ("record", "--out", "/dev/full"),
])
def test_an_output_file_that_cannot_be_written_is_named(argv):
    """A write that fails (a full disk) names the file it was writing, not an empty name."""
    code, _, err = run(*argv)
    assert code == 3
    assert err.strip().endswith("/dev/full: cannot write: No space left on device"), err


def test_a_failed_write_to_standard_output_shows_no_empty_file_name():
    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    err = io.StringIO()
    code = main(["export", "audit"], out=Full(), err=err)
    assert code == 3 and err.getvalue() == SAMPLE_NOTE + "dsc-engine export: No space left on device\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a disk that is always full)")
def test_a_rejects_file_that_cannot_be_written_is_named(tmp_path):
    # a full disk while writing the rejects printed "dsc-engine load: No space left on device"
    lines = tmp_path / "logs.jsonl"
    lines.write_text("not json\n" * 3, encoding="utf-8")
    code, _, err = run("load", str(lines), "--rejects", "/dev/full")
    assert code == 3
    assert err.strip().endswith("/dev/full: cannot write the rejects file: No space left on device"), err


@pytest.mark.parametrize("argv", [("query", "audit"), ("call", "DescribeAuditLogs"), ("export", "audit")])
def test_data_holding_only_other_kinds_is_told_not_answered_silently_with_nothing(tmp_path, argv):
    runs = tmp_path / "runs.jsonl"
    runs.write_text("".join(json.dumps(to_wire(r)) + "\n" for r in sample.generate(RecordKind.MASKING_RUN, 4, seed=2)))
    code, out, err = run("--format", "jsonl", *argv, "--data", str(runs))  # jsonl: a format export writes too
    assert code == 0, err
    assert err == (f"note: the --data holds no audit_log records, only 4 masking_run (not read);"
                   " is it the data you meant?\n")
    code, out, err = run("--format", "json", "query", "masking", "--data", str(runs))
    assert code == 0 and err == ""


def test_data_whose_records_of_the_kind_were_all_rejected_is_not_said_to_hold_none(tmp_path):
    # the audit log was there and was rejected (the warning says why): "holds no audit_log
    # records" beside it would send the reader looking for the wrong file
    data = tmp_path / "mixed.jsonl"
    runs = "".join(json.dumps(to_wire(r)) + "\n" for r in sample.generate(RecordKind.MASKING_RUN, 2, seed=2))
    data.write_text(runs + json.dumps({"CreationTime": "yesterday"}) + "\n")
    code, _, err = run("query", "audit", "--data", str(data))
    assert code == 0 and err.startswith("warning: "), err
    assert "note:" not in err, err


@pytest.mark.parametrize("to", ["jsonl", "csv", "pages"])
def test_an_export_to_standard_output_is_utf8_with_its_own_line_ends_whatever_the_locale(tmp_path, to):
    """Standard output in a GBK locale, or a Windows code page that turns \\n into \\r\\n: the
    export is the UTF-8 text it is to a file (it was written in that encoding, which the importer
    refuses, or failed on a character the code page lacks, and CSV cells gained \\r)."""
    record = sample.generate(RecordKind.AUDIT_LOG, 1, seed=3)[0]
    wire = {**to_wire(record), "UserName": "张三", "SqlText": "select 1\nfrom dual"}
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(wire, ensure_ascii=False) + "\n", encoding="utf-8")
    to_file = tmp_path / f"out.{to}"
    assert run("export", "audit", "--data", str(source), "--to", to, "--out", str(to_file))[0] == 0
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="gbk", newline="\r\n")  # what a GBK locale or Windows gives
    code = main(["export", "audit", "--data", str(source), "--to", to], out=out, err=io.StringIO())
    out.flush()
    assert code == 0 and raw.getvalue() == to_file.read_bytes()
    assert "张三".encode() in raw.getvalue()


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
@pytest.mark.parametrize("command", [["query", "audit"], ["call", "DescribeAuditLogs"]])
def test_results_for_a_program_are_utf8_whatever_the_locale(tmp_path, fmt, command):
    """``query``/``call --format json|jsonl|csv`` print what a program reads (and ``jsonl`` what
    ``load`` takes back) in UTF-8 with \\n line ends, as an export does: a GBK locale wrote GBK,
    which the importer refuses; a code page without the character failed with an internal error."""
    record = sample.generate(RecordKind.AUDIT_LOG, 1, seed=3)[0]
    wire = {**to_wire(record), "UserName": "张三", "SqlText": "select 1\nfrom dual"}
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(wire, ensure_ascii=False) + "\n", encoding="utf-8")
    args = [*command, "--data", str(source), "--format", fmt]
    expected = io.StringIO()
    assert main(args, out=expected, err=io.StringIO()) == 0
    for encoding in ("gbk", "ascii"):
        raw = io.BytesIO()
        out = io.TextIOWrapper(raw, encoding=encoding, newline="\r\n")
        err = io.StringIO()
        code = main(args, out=out, err=err)
        out.flush()
        assert (code, err.getvalue()) == (0, "")
        text = raw.getvalue().decode("utf-8")
        assert "张三" in text and "\r\n" not in text
        if command[0] == "query":  # a call's answer holds a new RequestId each time
            assert text == expected.getvalue()
    if fmt == "jsonl" and command[0] == "query":
        again = tmp_path / "again.jsonl"
        again.write_bytes(raw.getvalue())
        assert run("load", str(again))[0] == 0


@pytest.mark.parametrize("encoding", ["ascii", "gbk"])
def test_a_table_shows_what_the_locale_cannot_write_escaped_instead_of_failing(tmp_path, encoding):
    """A table goes to a person in the locale's encoding; a character it cannot write (any
    Chinese one in ASCII, an emoji in GBK) ended the command with an internal error (exit 5)."""
    record = sample.generate(RecordKind.AUDIT_LOG, 1, seed=3)[0]
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({**to_wire(record), "UserName": "张三😀"}, ensure_ascii=False) + "\n", encoding="utf-8")
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding=encoding)
    err = io.StringIO()
    code = main(["query", "audit", "--data", str(source)], out=out, err=err)
    out.flush()
    assert (code, err.getvalue()) == (0, "")
    shown = raw.getvalue().decode(encoding)
    assert ("\\u5f20\\u4e09\\U0001f600" if encoding == "ascii" else "张三\\U0001f600") in shown


def test_a_table_to_a_terminal_is_shown_line_by_line():
    """Standard output on a terminal shows each line as it is written (a proxy's banner, a
    shell's answers); the locale's stream written through keeps that."""
    from dsc_engine.cli.destination import shown_output

    raw = io.BytesIO()
    terminal = io.TextIOWrapper(io.BufferedWriter(raw, buffer_size=1 << 16), encoding="ascii", line_buffering=True)
    with shown_output(terminal) as shown:
        shown.write("recording at http://127.0.0.1:8081/ \u2192\n")
        assert raw.getvalue() == b"recording at http://127.0.0.1:8081/ \\u2192\n"


@pytest.mark.parametrize("to", ["jsonl", "csv", "pages"])
def test_an_export_of_text_with_no_utf8_form_is_a_clear_error_leaving_the_file(tmp_path, to):
    """A record given to Engine.load as an object may hold a lone surrogate, and its snapshot keeps
    it; exported, it was an internal error (exit 5, UnicodeEncodeError)."""
    from dsc_engine import Engine
    from dsc_engine.io import snapshot
    from dsc_engine.models import AuditLog

    engine = Engine()
    engine.load([AuditLog(creation_time=1, user_name="a\ud800b"), AuditLog(creation_time=2, user_name="ok")])
    data, target = tmp_path / "held.dscsnap", tmp_path / f"out.{to}"
    snapshot.save(engine, data)
    target.write_text("kept\n")
    code, _, err = run("export", "audit", "--to", to, "--out", str(target), "--data", str(data))
    assert code == 3 and "holds \\ud800, half of a UTF-16 surrogate pair" in err and err.count("\n") == 1
    assert target.read_text() == "kept\n"
