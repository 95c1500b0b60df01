"""How the CLI shows results: values a table cannot show as dates, a reader that goes away."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from clirun import run
from dsc_engine.cli.commands import SAMPLE_NOTE
from dsc_engine import sample
from dsc_engine.cli import main
from dsc_engine.wire.codec import to_wire
from dsc_engine.models import RecordKind


@pytest.mark.parametrize("ms", [253402300800000, -62135596800001, 2**63 - 1, -(2**63)])
def test_table_shows_a_time_outside_years_1_to_9999_as_raw_milliseconds(tmp_path, ms):
    record = to_wire(sample.generate(RecordKind.AUDIT_LOG, 1, seed=3)[0])
    record["CreationTime"] = ms
    path = tmp_path / "far.jsonl"
    path.write_text(json.dumps(record) + "\n")
    code, out, err = run("query", "audit", "--data", str(path))
    assert code == 0, err
    assert str(ms) in out


class _ClosedPipe(io.StringIO):
    """Standard output whose reader has gone away after the first write."""

    def write(self, text: str) -> int:
        if self.tell():
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_a_reader_that_goes_away_ends_the_command_quietly():
    err = io.StringIO()
    code = main(["demo"], out=_ClosedPipe(), err=err)
    assert code == 141 and err.getvalue() == ""


def test_export_piped_into_head_exits_quietly_in_a_real_process():
    process = subprocess.Popen(
        [sys.executable, "-m", "dsc_engine.cli", "export", "audit", "--to", "jsonl"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.read(100)
    process.stdout.close()
    errors = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) == 141
    assert first and errors == SAMPLE_NOTE.encode()


def test_a_table_shows_control_characters_of_the_data_escaped_never_raw(tmp_path, monkeypatch):
    """Audit logs hold text others wrote (``SqlText`` is whatever SQL was run): an escape sequence
    in it must not reach the terminal as one (clearing it, retitling it, hiding or reordering
    text). A table shows such characters as escapes; JSON keeps the exact value."""
    record = to_wire(sample.generate(RecordKind.AUDIT_LOG, 1, seed=3)[0])
    record["SqlText"] = "select 1 \x1b[2J\x1b]0;pwned\x07\x08\x9b\u202eevil"
    record["UserName"] = "adm\x1b[8min"
    path = tmp_path / "esc.jsonl"
    path.write_text(json.dumps(record) + "\n")
    code, out, err = run("query", "audit", "--data", str(path))
    assert code == 0, err
    assert not any(ch in out for ch in "\x1b\x07\x08\x9b\u202e")
    assert "adm\\x1b[8min" in out and "\\x1b[2J" in out
    _, shown, _ = run("--format", "json", "query", "audit", "--data", str(path))
    assert json.loads(shown)["Items"][0]["SqlText"] == record["SqlText"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("count by UserName\n"))
    counted = io.StringIO()
    main(["shell", "--data", str(path)], out=counted, err=io.StringIO())
    assert "\x1b" not in counted.getvalue() and "adm\\x1b[8min" in counted.getvalue()


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "utf-8"])
def test_a_table_written_in_an_encoding_without_a_character_keeps_its_columns(encoding: str) -> None:
    """An output that cannot write 张三 shows it as ``\u5f20\u4e09`` (an ASCII locale): the columns
    are laid out for what is shown, so every row's next column starts where the header's does."""
    from dsc_engine.cli.output import Format, display_width, write_items

    items = [{"CreationTime": 1793491114000, "UserName": "张三", "RuleName": "r1"},
             {"CreationTime": 1793491113000, "UserName": "li", "RuleName": "r2"}]
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding=encoding, errors="backslashreplace", newline="")
    write_items(Format.TABLE, RecordKind.AUDIT_LOG, items, out)
    out.flush()
    header, _, *rows = raw.getvalue().decode(encoding).splitlines()
    at = display_width(header[: header.index("RuleName")])  # terminal columns: 张 takes two
    assert [display_width(row[: row.index(name)]) for row, name in zip(rows, ("r1", "r2"))] == [at, at], rows
    assert ("\\u5f20\\u4e09" in rows[0]) is (encoding != "utf-8")


def test_a_long_cell_is_clipped_in_one_pass() -> None:
    # clip() took one character off the end at a time and measured the whole rest again: a
    # table of 50,000 SqlText values of 250 characters (a shell's 'count by SqlText') took minutes
    import time

    from dsc_engine.cli.output import CELL_WIDTH, clip, display_width

    started = time.perf_counter()
    clipped = clip("x" * 30_000)
    assert time.perf_counter() - started < 1.0
    assert clipped == "x" * (CELL_WIDTH - 1) + "…"
    for text in ("高危" * 30, "a高" * 30, "a" * 39 + "高", "a" * 40, "a" * 41, "高" * 20, "高" * 21, ""):
        shown = clip(text)
        if display_width(text) <= CELL_WIDTH:
            assert shown == text
        else:  # the longest start that fits beside the ellipsis
            start = shown.removesuffix("…")
            assert text.startswith(start) and display_width(start) <= CELL_WIDTH - 1
            assert display_width(text[: len(start) + 1]) > CELL_WIDTH - 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/dev/stdout names the process's own standard output")
@pytest.mark.parametrize("command", [["export", "masking"], ["record"]])
def test_out_naming_standard_output_itself_gets_the_records_alone(tmp_path, command):
    """``--out /dev/stdout`` (docs/cli.md) is standard output under another name: the records (or
    the capture) are all it gets, as with ``--out -``. Before, the summary of an export to a file
    was printed after them on the same stream, so a pipe got four lines that are no record; and
    with standard output a file, the file was replaced by renaming, the summary lost."""
    argv = [sys.executable, "-m", "dsc_engine.cli", *command, "--out", "/dev/stdout"]
    piped = subprocess.run(argv, capture_output=True, timeout=120, check=True)
    lines = piped.stdout.decode().splitlines()
    assert lines and all(json.loads(line) for line in lines), lines[-4:]
    assert piped.stderr == SAMPLE_NOTE.encode()
    redirected = tmp_path / "records.jsonl"
    with redirected.open("wb") as handle:
        subprocess.run(argv, stdout=handle, stderr=subprocess.PIPE, timeout=120, check=True)
    assert redirected.read_bytes() == piped.stdout or command == ["record"]  # a capture's RequestIds are fresh
    assert len(redirected.read_text().splitlines()) == len(lines)


def _header(out: str) -> list[str]:
    """The column names of the table a command printed (the line above its rule)."""
    lines = out.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("--"))
    return lines[rule - 1].split()


def test_columns_choose_a_table_s_columns_in_their_order() -> None:
    """A table showed a kind's few fixed columns, with no way to choose; ``--columns`` names them,
    in order, by item key in any letter case, for ``query`` and ``call``."""
    code, out, err = run("query", "audit", "--columns", "sqltext, UserName,ExecuteTime", "--page-size", "3")
    assert (code, err) == (0, "")
    assert _header(out) == ["SqlText", "UserName", "ExecuteTime"] and len(out.splitlines()) == 6
    code, out, err = run("call", "ListSensitiveDataAuditLog", "--param", "PageSize=2", "--param", "PageNumber=1",
                         "--param", "StartTime=2026-10-01 00:00:00",
                         "--param", "EndTime=2026-10-31 23:59:59", "--columns", "OpTime,SensitiveDataLog")
    assert (code, err) == (0, "") and _header(out) == ["OpTime", "SensitiveDataLog"]
    code, out, _ = run("query", "dms", "--page-size", "2")
    assert code == 0 and len(_header(out)) > 2  # without it, the default ones
    code, out, err = run("query", "audit", "--columns", "UserName", "--columns", "effectrow,SqlText")
    assert (code, err) == (0, "") and _header(out) == ["UserName", "EffectRow", "SqlText"]  # the last one won


@pytest.mark.parametrize(("argv", "said"), [
    (("query", "dms", "--columns", "OpTime,TableNam"),
     "--columns: dms_log items have no column 'TableNam'; did you mean TargetName? (columns: UserName, UserId,"),
    (("query", "dms", "--columns", "tablename"),  # an entry field: where it shows, not "did you mean TargetName?"
     "no column 'tablename'; TableName is a field of the SensitiveDataLog entries, which the SensitiveDataLog column"),
    (("query", "masking", "--columns", "Tid"), "masking_run items have no column 'Tid'"),  # record-only: in no item
    (("query", "audit", "--columns", "UserName,username"), "--columns: the column UserName is named twice"),
    (("query", "audit", "--columns", "UserName,"), "--columns: expected column names separated by commas"),
    (("query", "audit", "--columns", "UserName", "--format", "json"),
     "--columns: chooses the columns of a table; --format json prints every field of each item"),
    (("query", "audit", "--columns", "UserName", "--explain"), "--explain shows how the filter is answered"),
    (("call", "DescribeAuditLogs", "--columns", "OpTime"), "audit_log items have no column 'OpTime'"),
])
def test_columns_a_table_cannot_show_are_a_usage_error(
    argv: tuple[str, ...], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(*argv)
    err += capsys.readouterr().err  # argparse's own errors go to the process's stderr
    assert (code, out) == (2, "") and said in err, err


@pytest.mark.parametrize(("argv", "given"), [
    (("query", "audit", "--columns", ","), ","),
    (("query", "audit", "--columns", "UserName,,SqlText"), "UserName,,SqlText"),
    (("query", "audit", "--columns", ""), ""),
    (("call", "DescribeAuditLogs", "--columns", "UserName", "--columns", " , "), " , "),
])
def test_a_columns_list_that_is_no_list_is_told_as_the_other_columns_errors(
    argv: tuple[str, ...], given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--columns ,`` was refused by argparse, its message under the whole usage text, where a
    name that is no column is one line naming the command and the option (the same exit status)."""
    code, out, err = run(*argv)
    err += capsys.readouterr().err
    assert (code, out) == (2, "")
    assert err == (f"dsc-engine {argv[0]}: --columns: expected column names separated by commas (UserName,SqlText),"
                   f" got {given!r}\n")


def test_a_page_past_the_end_says_which_page_is_the_last() -> None:
    """A page past the last printed "(no items on this page)" alone: the shell's ``page N`` and
    ``query --page`` left the last page to be worked out from TotalCount."""
    code, out, _ = run("query", "audit", "--page", "301", "--page-size", "10")
    assert code == 0 and out.endswith("\n(no items on this page: the last page is 300, at 10 records a page)\n"), out
    code, out, _ = run("call", "DescribeAuditLogs", "--param", "CurrentPage=99", "--param", "PageSize=50")
    assert code == 0 and out.endswith("\n(no items on this page: the last page is 60, at 50 records a page)\n"), out
    code, out, _ = run("query", "audit", 'UserName = "nobody"', "--page", "2")
    assert code == 0 and out.endswith("\n(no items on this page)\n"), out  # no record at all: no last page
