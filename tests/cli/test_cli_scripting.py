"""The CLI in scripts: --format anywhere, refused calls as data on stdout, --version, output
folders created."""

from __future__ import annotations

import csv
import io
import sys
import json
from importlib.metadata import version

import pytest

from clirun import run
from dsc_engine.cli import main
from dsc_engine.io import imports, snapshot
from dsc_engine.models import RecordKind


@pytest.mark.parametrize("position", ["before", "after"])
def test_cli_format_is_accepted_before_or_after_the_subcommand(position):
    command = ("query", "masking", "Status = 2", "--page-size", "3")
    argv = ("--format", "jsonl", *command) if position == "before" else (*command, "--format", "jsonl")
    code, out, err = run(*argv)
    assert (code, err) == (0, "")
    assert [json.loads(line)["Status"] for line in out.splitlines()] == [2, 2, 2]


def test_cli_format_after_the_subcommand_wins_over_the_one_before():
    code, out, _ = run("--format", "table", "call", "DescribeAuditLogs", "--param", "PageSize=1", "--format", "json")
    assert code == 0 and json.loads(out)["PageSize"] == 1


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_cli_refused_call_prints_the_error_body_on_stdout_and_exits_4(fmt):
    code, out, err = run("--format", fmt, "call", "DescribeAuditLogs", "--param", "PageSize=500")
    assert code == 4
    body = json.loads(out)
    assert body["Code"] == "InvalidParameter" and set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert (fmt == "jsonl") == (out.count("\n") == 1)
    assert err.startswith("dsc-engine call: 400 InvalidParameter:")


def test_cli_refused_call_in_csv_is_one_row_under_a_header():
    code, out, _ = run("call", "ListSensitiveDataAuditLog", "--format", "csv")
    header, row = csv.reader(io.StringIO(out))
    assert code == 4 and row[header.index("Code")] == "MissingStartTime"


def test_cli_refused_call_in_a_table_is_a_message_on_stderr_only():
    code, out, err = run("call", "DescribeAuditLogs", "--param", "PageSize=500")
    assert (code, out) == (4, "") and "400 InvalidParameter" in err


def test_cli_version_prints_the_package_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"dsc-engine {version('dsc-engine')}\n"


def test_cli_output_files_get_their_parent_folders(tmp_path):
    source = tmp_path / "in" / "audit.jsonl"
    assert run("export", "audit", "--out", str(source))[0] == 0
    assert source.read_text().count("\n") == 3000
    snap, rejects = tmp_path / "s" / "t" / "e.dscsnap", tmp_path / "r" / "rejects.jsonl"
    assert run("load", str(source), "--snapshot", str(snap), "--rejects", str(rejects))[0] == 0
    assert snapshot.is_snapshot(snap) and imports.rejects_of(rejects) == []
    other = tmp_path / "u" / "e.dscsnap"
    assert run("snapshot", str(other), "--data", str(snap))[0] == 0 and snapshot.is_snapshot(other)
    capture = tmp_path / "c" / "capture.jsonl"
    assert run("record", "--out", str(capture))[0] == 0 and capture.exists()


def test_cli_an_output_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, out, err = run("export", "audit", "--out", str(blocker / "x.csv"))
    assert code == 3 and out == "" and f"{blocker}" in err and "Traceback" not in err
    # the file in the way is named, not "File exists" (it is the folder that cannot be)
    for target in (blocker / "x.csv", blocker / "deeper" / "x.csv"):
        code, out, err = run("export", "audit", "--out", str(target))
        assert code == 3 and err.endswith(f"cannot create its folder: {blocker} is a file, not a folder\n")


def test_cli_rejects_are_grouped_by_reason_on_stderr(tmp_path):
    rows = [f"{n} ms,{n}" for n in range(3040)]
    rows += ["1792000000000,1,extra", "1792000000000,2,more"]
    bad = tmp_path / "bad.csv"
    bad.write_text("CreationTime,EffectRow\n" + "\n".join(rows) + "\n")
    code, _, err = run("load", str(bad))
    lines = err.splitlines()
    assert code == 3 and len(lines) <= 12, err
    assert lines[0] == "rejected 3042 records for 2 reasons (--rejects FILE writes every one):"
    reason = "column CreationTime: cannot read '{}' as UNIX milliseconds (digits) or a time with its zone"
    assert lines[1] == "  3040 × " + reason.format("…")
    assert lines[2] == f"      {bad}:2: " + reason.format("0 ms")
    assert lines[5] == "      … and 3037 more"
    assert lines[6] == "  2 × row has … cells but the header has … columns"
    code, _, err = run("query", "audit", "--data", str(bad))
    assert code == 0 and err.startswith("warning: 1 file: read 3042 records = 0 loaded")
    assert "  3040 × column CreationTime" in err and len(err.splitlines()) <= 13


def test_cli_grouped_rejects_of_times_without_a_zone_keep_the_form_to_write(tmp_path):
    """The usual CSV mistake, readable times without their zone: the grouped line on stderr (all a
    load without --rejects shows) still says how to write them, not "write it as '…'"."""
    bad = tmp_path / "naive.csv"
    bad.write_text("CreationTime,UserName\n" + "".join(f"2026-10-0{n} 10:00,x\n" for n in range(1, 6)))
    code, _, err = run("load", str(bad))
    assert code == 3
    grouped = err.splitlines()[1]
    assert grouped.startswith("  5 × column CreationTime: a time in an epoch-millisecond column needs its zone")
    assert "yyyy-MM-dd HH:mm:ss[.fff]+hh:mm (or Z)" in grouped, grouped


def test_cli_reason_shapes_keep_key_names_and_lone_punctuation():
    from dsc_engine.io.imports import reason_shape

    assert reason_shape("audit log record: key 'EffectRow': expected an integer, got a string") == (
        "audit log record: key 'EffectRow': expected an integer, got a string"
    )
    assert reason_shape("invalid JSON: Expecting ',' delimiter: line 1 column 35 (char 34)") == (
        "invalid JSON: Expecting ',' delimiter: line … column … (char …)"
    )
    assert reason_shape("masking run Id 12 is already loaded with different content") == (
        "masking run Id … is already loaded with different content"
    )
    assert reason_shape("the integer is outside the signed 64-bit range") == "the integer is outside the signed 64-bit range"


def test_cli_load_lists_a_file_error_once(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    code, _, err = run("load", str(tmp_path / "empty.jsonl"))
    assert code == 3 and err == f"file error: {tmp_path / 'empty.jsonl'}: file is empty (no records, no header)\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run_on_a_terminal(*argv: str) -> tuple[int, str]:
    err = _Terminal()
    code = main(list(argv), out=io.StringIO(), err=err)
    return code, err.getvalue()


def test_cli_snapshot_and_export_show_progress_on_a_terminal(tmp_path, monkeypatch):
    from dsc_engine.cli import output

    monkeypatch.setattr(output, "PROGRESS_DELAY", 0.0)
    monkeypatch.setattr(output, "PROGRESS_INTERVAL", 0.0)
    code, err = _run_on_a_terminal("snapshot", str(tmp_path / "e.dscsnap"))  # format 3: bytes
    assert code == 0 and "\rsaving [" in err and "100% " in err and " MB" in err and err.endswith("\r")
    code, err = _run_on_a_terminal("snapshot", str(tmp_path / "c.dscsnap"), "--compact")  # format 2: records
    assert code == 0 and "\rsaving [" in err and "6,000 records" in err and err.endswith("\r")
    code, err = _run_on_a_terminal("export", "audit", "--out", str(tmp_path / "a.jsonl"))
    assert code == 0 and "\rexporting [" in err and "3,000 records" in err and err.endswith("\r")
    code, err = _run_on_a_terminal("load", str(tmp_path / "a.jsonl"), "--snapshot", str(tmp_path / "f.dscsnap"))
    assert code == 0 and "\rloading [" in err and "\rsaving [" in err


def test_cli_progress_stays_off_the_output_when_not_a_terminal(tmp_path, monkeypatch):
    from dsc_engine.cli import output

    monkeypatch.setattr(output, "PROGRESS_DELAY", 0.0)
    code, out, err = run("snapshot", str(tmp_path / "e.dscsnap"))
    assert code == 0 and err == ""


def test_snapshot_save_reports_its_progress_in_bytes_or_records(tmp_path):
    from dsc_engine.engine import Engine

    engine = Engine.from_sample()
    seen: list[int] = []
    snapshot.save(engine, tmp_path / "e.dscsnap", progress=seen.append)  # format 3: the bytes written
    assert sum(seen) <= (tmp_path / "e.dscsnap").stat().st_size and sum(seen) > 0.9 * (tmp_path / "e.dscsnap").stat().st_size
    seen.clear()
    snapshot.save(engine, tmp_path / "c.dscsnap", version=2, progress=seen.append)  # format 2: the records
    assert sum(seen) == 6000 and all(n > 0 for n in seen)


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
@pytest.mark.parametrize("kind", ["audit", "masking", "dms"])
def test_cli_query_output_in_every_data_format_loads_back(tmp_path, kind, fmt):
    code, shown, err = run("query", kind, "--format", fmt, "--page-size", "3")
    assert code == 0, err
    path = tmp_path / f"page.{fmt}"
    path.write_text(shown, encoding="utf-8")
    code, summary, err = run("--format", "json", "load", str(path))
    assert code == 0, err
    assert json.loads(summary)["loaded_total"] == 3


@pytest.mark.parametrize("command", [("query", "masking"), ("call", "DescribeDataMaskingRunHistory")])
def test_cli_csv_output_loads_back_to_the_same_text(tmp_path, command):
    """A page printed as CSV loads back to the very values shown: a row holding a lone carriage
    return is quoted (it was written bare, and the importer rejects a bare \\r), and text starting
    with ``'`` then a formula character keeps its ``'`` (the importer takes one off such a cell)."""
    texts = ["a\rb", "'=1+1", "''@x", "'plain", "=cmd", "\r", "a\r\nb"]
    runs = [{"Id": n, "Status": 1, "StartTime": 1000 + n, "SrcTableName": text, "FailMsg": text}
            for n, text in enumerate(texts, 1)]
    data = tmp_path / "runs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in runs), encoding="utf-8")
    code, shown, err = run(*command, "--data", str(data), "--format", "csv")
    assert code == 0, err
    page = tmp_path / "page.csv"
    page.write_text(shown, encoding="utf-8", newline="")
    target = imports.Stores()
    report = imports.load_into(target, page)
    assert report.ok, report.rejects
    back = {r.id: (r.src_table_name, r.fail_msg) for r in target.store(RecordKind.MASKING_RUN).records_in_load_order()}
    assert back == {r["Id"]: (r["SrcTableName"], r["FailMsg"]) for r in runs}


@pytest.mark.parametrize("argv", [("query", "masking"), ("export", "masking", "--out", "{tmp}/x.jsonl"), ("shell",)])
def test_cli_with_standard_output_closed_says_so_and_does_nothing(tmp_path, monkeypatch, argv):
    """Started with standard output closed (``>&-``, where ``sys.stdout`` is None), a command died
    with an internal error (exit 5, AttributeError), after doing its work (an export written)."""
    monkeypatch.setattr(sys, "stdout", None)
    err = io.StringIO()
    code = main([a.format(tmp=tmp_path) for a in argv], err=err)
    assert code == 3 and "standard output is closed" in err.getvalue() and err.getvalue().count("\n") == 1
    assert not (tmp_path / "x.jsonl").exists()


def test_cli_with_standard_error_closed_writes_no_message_among_the_results(monkeypatch):
    """Started with standard error closed (``2>&-``), a failure's message went to standard output
    (``print(file=None)``), into the data a program reads there."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", None)
    assert main(["--format", "json", "query", "audit", "UserName = = 1"]) == 2
    assert out.getvalue() == ""


def test_cli_serve_with_standard_output_closed_serves_as_a_daemon_may(monkeypatch):
    """A server started with standard output closed (a daemon) died with an internal error."""
    monkeypatch.setattr("dsc_engine.server.cli.wait_for_stop", lambda stop=None: None)  # serving ends at once
    monkeypatch.setattr(sys, "stdout", None)
    err = io.StringIO()
    assert main(["serve", "--sample", "--port", "0", "--access-key", "ID:SECRET"], err=err) == 0, err.getvalue()
