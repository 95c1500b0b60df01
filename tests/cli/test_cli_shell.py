"""``dsc-engine shell``: the data loads once, then commands from standard input are answered with
the same output formats as the one-shot commands; a bad command prints one error line and the
session goes on."""

from __future__ import annotations

import datetime as dt

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from pathlib import Path

import attrs
import pytest

from dsc_engine import Engine, sample
from dsc_engine.cli import main
from dsc_engine.io import snapshot
from dsc_engine.models import RecordKind
from dsc_engine.query.parse import parse_filter


def session(monkeypatch: pytest.MonkeyPatch, script: str, data: Path, fmt: str = "table") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    out, err = io.StringIO(), io.StringIO()
    code = main(["--format", fmt, "shell", "--data", str(data)], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def json_values(text: str) -> list[Any]:
    """The JSON values printed one after the other (``format json``: each pretty-printed)."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while at < len(text):
        value, at = decoder.raw_decode(text, at)
        values.append(value)
        at = len(text) - len(text[at:].lstrip())
    return values


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    engine = Engine()
    for kind in RecordKind:
        engine.load(sample.generate(kind, 120, seed=4))
    path = tmp_path / "engine.dscsnap"
    snapshot.save(engine, path)
    return path


def test_shell_counts_by_a_field_like_the_store(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    script = 'format json\ncount by UserName\nuse dms\ncount by ModuleName where UserName = "zz"\n'
    code, out, _ = session(monkeypatch, script, data)
    assert code == 0
    counts, *rest = json_values(out)
    engine = Engine()
    snapshot.load(engine, data)
    audit = [r.user_name for r in engine.store(RecordKind.AUDIT_LOG).records_in_load_order()]
    assert {c["UserName"]: c["count"] for c in counts} == {u: audit.count(u) for u in set(audit)}
    assert [c["count"] for c in counts] == sorted((c["count"] for c in counts), reverse=True)
    assert rest == [{"using": "dms_log", "records": 120}, []]


def test_tied_counts_order_by_value_numbers_as_numbers_and_absent_last(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Ties were ordered by the value's text: 1034573 before 103811, and absent (``None``)
    among the names (``Abc``, absent, ``zzz``)."""
    logs = sample.generate(RecordKind.AUDIT_LOG, 4, seed=4)
    engine = Engine()
    engine.load([attrs.evolve(log, effect_row=row, user_name=name)
                 for log, row, name in zip(logs, (1034573, 103811, 9, 103811), ("zzz", None, "Abc", "Abc"))])
    path = tmp_path / "ties.dscsnap"
    snapshot.save(engine, path)
    code, out, err = session(monkeypatch, "count by EffectRow\ncount by UserName where EffectRow > 5\n", path, "json")
    assert (code, err) == (0, "")
    assert json_values(out) == [
        [{"EffectRow": 103811, "count": 2}, {"EffectRow": 9, "count": 1}, {"EffectRow": 1034573, "count": 1}],
        [{"UserName": "Abc", "count": 2}, {"UserName": "zzz", "count": 1}, {"UserName": None, "count": 1}],
    ]


def test_shell_queries_and_calls_print_as_the_one_shot_commands(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    filter_text = 'EffectRow > 10 and not UserName = "admin"'
    _, shell_out, _ = session(monkeypatch, f"size 5\npage 2\nquery {filter_text}\n", data, "jsonl")
    one_shot = io.StringIO()
    main(["--format", "jsonl", "query", "audit", filter_text, "--page", "2", "--page-size", "5", "--data", str(data)],
         out=one_shot, err=io.StringIO())
    assert shell_out == one_shot.getvalue() and shell_out.count("\n") == 5
    _, out, _ = session(monkeypatch, "call DescribeDataMaskingRunHistory Status=2 PageSize=3\n", data, "csv")
    assert out.splitlines()[0].startswith("Id,") or "Status" in out.splitlines()[0]
    assert len(out.splitlines()) == 4


def test_page_and_size_after_a_query_show_that_query_again(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    """``page N`` after a query is the next page of that query, not a silent setting that a later
    bare ``query`` reads without the filter; another kind's ``use`` forgets it."""
    filter_text = 'UserName = "admin"'
    script = f"size 3\nquery {filter_text}\npage 2\nsize 2\nuse masking\npage 1\n"
    code, out, _ = session(monkeypatch, script, data, "json")
    assert code == 0
    first, second, smaller, using = json_values(out)  # nothing after "page 1": no masking query yet
    engine = Engine()
    snapshot.load(engine, data)
    pages = [engine.query(RecordKind.AUDIT_LOG, filter_text, page=p, page_size=s) for p, s in ((1, 3), (2, 3), (2, 2))]
    for shown, page in zip((first, second, smaller), pages):
        assert shown["TotalCount"] == page.total < 120 and (shown["Page"], shown["PageSize"]) == (page.page, page.page_size)
    assert [len(shown["Items"]) for shown in (first, second, smaller)] == [3, 3, 2]
    assert using == {"using": "masking_run", "records": 120}


def test_page_or_size_before_any_query_says_it_is_kept_for_the_next_one(
    monkeypatch: pytest.MonkeyPatch, data: Path
) -> None:
    """``page 2`` typed after ``count by UserName``, with no query yet, printed nothing: a count
    table is printed whole, and the page is kept for the next query, which a terminal is told.
    A script, which sets them before its query as the docs do, is told nothing."""
    from dsc_engine.cli import shell as shells
    from dsc_engine.cli.output import Format

    engine = Engine()
    snapshot.load(engine, data)
    out, err = io.StringIO(), io.StringIO()
    shell = shells.Shell(engine, Format.JSON, io.StringIO(), out, interactive=True, err=err)
    for line in ("count by UserName", "page 2", "size 5", "query", "page 3", "use dms", "page 1"):
        shell.onecmd(shell.precmd(line))
    kept = "(count tables are printed whole, not paged)"
    assert err.getvalue().splitlines() == [
        f"note: no query of audit_log yet: the next one shows page 2 {kept}",
        f"note: no query of audit_log yet: the next one shows pages of 5 records {kept}",
        f"note: no query of dms_log yet: the next one shows page 1 {kept}",
    ]
    assert shell.failures == 0
    _, first, second, _ = json_values(out.getvalue())
    assert (first["Page"], first["PageSize"], second["Page"], second["PageSize"]) == (2, 5, 3, 5)
    code, _, err_text = session(monkeypatch, "count by UserName\npage 2\nsize 5\n", data)
    assert (code, err_text) == (0, "")


def test_shell_goes_on_after_errors(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    script = "\n".join([
        "bogus", "use nothing", "query UserName =", "count by NoSuchField", "call DescribeAuditLogs PageSize=500",
        "call DescribeAuditLogs 'unclosed", "size zero", "format yaml", "count", "quit", "count",
    ]) + "\n"
    code, out, err = session(monkeypatch, script, data)
    assert code == 1  # a script in which a command failed
    assert "error" not in out  # the results alone: failures are told on standard error
    assert "error: unknown command 'bogus'" in err
    assert sum(line.startswith("error:") for line in err.splitlines()) == 8
    assert "^" in err  # the filter error's caret line
    assert "InvalidParameter" in err or "PageSize" in err
    assert out.count("count  120") == 1  # the count before quit ran, the one after did not


def test_a_script_that_failed_is_told_apart_from_its_results(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    # errors were lines of the results (inside a JSON or CSV output) and a script always exited 0,
    # so whatever ran it could not tell that a step had failed
    code, out, err = session(monkeypatch, "format csv\ncount\ncount by NoSuchField\nkinds\n", data)
    assert code == 1
    assert out.splitlines() == ["kind,count", "audit_log,120", "audit_log,masking_run,dms_log", "120,120,120"]
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    code, out, err = session(monkeypatch, "count\n", data)
    assert (code, err) == (0, "")


def test_shell_count_matches_the_store_and_explain_shows_the_plan(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    text = 'SqlText contains "select"'
    _, out, _ = session(monkeypatch, f"format json\ncount {text}\nformat table\nexplain {text}\n", data)
    engine = Engine()
    snapshot.load(engine, data)
    expected = engine.store(RecordKind.AUDIT_LOG).count(parse_filter(text, RecordKind.AUDIT_LOG))
    assert json.loads(out.split("}\n", 1)[0] + "}")["count"] == expected
    assert "audit_log store: 120 rows" in out


@pytest.mark.slow
def test_shell_as_a_process_reads_a_script_from_a_pipe(data: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dsc_engine.cli", "shell", "--data", str(data)],
        input="kinds\nuse masking\ncount by Status\n", capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "masking_run  120" in done.stdout and "Status" in done.stdout and "dsc>" not in done.stdout


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv"])
def test_shell_counts_by_fields_whose_values_are_not_plain_json(
    monkeypatch: pytest.MonkeyPatch, data: Path, fmt: str
) -> None:
    """A DMS ``OpTime`` (a naive time in the store) and its ``SensitiveDataLog`` (a list of
    entries) and a masking run's time: each value shows as the API writes it, never an internal
    error that ends the session."""
    script = "use dms\ncount by OpTime\ncount by SensitiveDataLog\nuse masking\ncount by StartTime\nkinds\n"
    code, out, err = session(monkeypatch, script, data, fmt)
    assert code == 0 and err == "", err
    assert "error" not in out
    assert "masking_run" in out  # the session went on to its last command
    engine = Engine()
    snapshot.load(engine, data)
    op_time = next(iter(engine.store(RecordKind.DMS_LOG).records_in_load_order())).op_time
    assert op_time.strftime("%Y-%m-%d %H:%M:%S") in out
    if fmt == "jsonl":
        rows = [json.loads(line) for line in out.splitlines() if line.startswith('{"OpTime"')]
        assert sum(row["count"] for row in rows) == 120
    if fmt == "csv":
        assert "[{" in out and "'TableName'" not in out  # entries as the API's JSON, not Python's repr


def test_a_count_table_shows_each_value_whole(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    """Values clipped to the table's 40 columns read as one (``[{"TableName":"accounts","ColumnName":"…``
    on many rows): a count's values are its keys, shown whole, one row each."""
    code, out, err = session(monkeypatch, "use dms\ncount by SensitiveDataLog\n", data)
    assert (code, err) == (0, "") and "…" not in out
    lines = out.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("---"))
    values = [line.rsplit(None, 1)[0] for line in lines[rule + 1:]]
    assert len(values) == len(set(values)) > 1 and all(v.startswith("[") for v in values)


def test_shell_counts_dms_logs_by_a_field_of_their_entries(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    """``count by TableName`` of DMS logs was an unknown field (only ``SensitiveDataLog`` whole
    could be counted); each log counts once under each distinct table its entries name, on a
    snapshot's store as on any, with a filter too."""
    script = 'format json\nuse dms\ncount by TableName\ncount by columnname where ModuleName = "DATA_EXPORT"\n'
    code, out, err = session(monkeypatch, script, data)
    assert (code, err) == (0, "")
    _, tables, columns = json_values(out)
    engine = Engine()
    snapshot.load(engine, data)
    logs = list(engine.store(RecordKind.DMS_LOG).records_in_load_order())
    expected: dict[Any, int] = {}
    for log in logs:
        for table in {e.table_name for e in log.sensitive_data_log if e.table_name is not None} or {None}:
            expected[table] = expected.get(table, 0) + 1
    assert {row["TableName"]: row["count"] for row in tables} == expected
    assert [row["count"] for row in tables] == sorted((row["count"] for row in tables), reverse=True)
    exported = [log for log in logs if log.module_name == "DATA_EXPORT"]
    assert sum(row["count"] for row in columns) >= len(exported) > 0 and list(columns[0]) == ["ColumnName", "count"]
    _, _, err = session(monkeypatch, "use dms\ncount by TableNam\n", data)
    assert "did you mean TableName?" in err and "SensitiveDataLog, Tid, DbName, TableName, ColumnName" in err


def test_shell_count_by_an_sddp_time_shows_it_as_query_tables_do(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    """A table of ``count by CreationTime`` showed raw milliseconds, where ``query`` shows the
    same times in the ``--tz`` zone; JSON keeps the API's number."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("count by CreationTime\nformat json\ncount by CreationTime\n"))
    out, err = io.StringIO(), io.StringIO()
    assert main(["--tz", "+08:00", "shell", "--data", str(data)], out=out, err=err) == 0, err.getvalue()
    shown, _, printed = out.getvalue().partition("[")
    ms = json.loads("[" + printed)[0]["CreationTime"]
    assert isinstance(ms, int)
    local = dt.datetime.fromtimestamp(ms / 1000, dt.timezone(dt.timedelta(hours=8)))
    assert local.strftime("%Y-%m-%d %H:%M:%S+08:00") in shown and str(ms) not in shown


@pytest.mark.parametrize(("kinds", "first"), [((RecordKind.DMS_LOG,), "dms_log"),
                                              ((RecordKind.DMS_LOG, RecordKind.MASKING_RUN), "masking_run"),
                                              ((), "audit_log")])
def test_shell_starts_on_a_kind_the_data_holds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kinds: tuple[RecordKind, ...], first: str
) -> None:
    """Data of DMS logs alone started the session on audit logs, so ``count by day(OpTime)``
    was an unknown field ("did you mean LogTime?"): it starts on the first kind held."""
    engine = Engine()
    for kind in kinds:
        engine.load(sample.generate(kind, 30, seed=4))
    path = tmp_path / "some.dscsnap"
    snapshot.save(engine, path)
    code, out, err = session(monkeypatch, "count\n", path, "json")
    assert (code, err) == (0, "") and json_values(out) == [{"kind": first, "count": 30 if kinds else 0}]


def test_shell_count_by_without_a_field_says_what_it_needs(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    code, out, err = session(monkeypatch, "count by\ncount by   \nhelp\n", data)
    assert code == 1
    assert err.count("error: expected 'count by FIELD' or 'count by FIELD where FILTER'") == 2
    assert "EOF" not in out  # the end of input is no command to list


def test_commands_in_any_case_and_count_where_is_told_its_form(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    """``COUNT BY ...`` was an unknown command while its ``BY`` took any case; ``count where F``
    was a filter error on its first word."""
    script = "FORMAT json\nCount By UserName where EffectRow > 999999999\ncount where EffectRow > 5\nKINDS\n"
    code, out, err = session(monkeypatch, script, data)
    assert code == 1 and err == "error: count takes the filter itself: 'count FILTER' (a 'where' only follows 'count by FIELD')\n"
    assert json_values(out) == [[], {"audit_log": 120, "masking_run": 120, "dms_log": 120}]


def test_shell_explain_takes_the_session_format(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    _, out, _ = session(monkeypatch, 'format json\nexplain UserName = "admin"\n', data)
    shown = json.loads(out)
    assert (shown["kind"], shown["filter"]) == ("audit_log", 'UserName = "admin"')
    assert shown["plan"].startswith("audit_log store: 120 rows")


def test_the_format_is_named_in_any_letter_case_as_the_kinds_are(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    # "format JSON" was refused while "use DMS" was taken
    code, out, err = session(monkeypatch, 'format JSON\nexplain UserName = "admin"\n', data)
    assert (code, err) == (0, "")
    assert json.loads(out)["kind"] == "audit_log"


def test_an_unknown_quoted_action_is_hinted_from_the_action_as_read(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    # the hint was looked up from the line's raw second word, '"x' here: no nearest name
    code, _, err = session(monkeypatch, 'call "x DescribeAuditLogs" PageSize=1\n', data)
    assert code == 1
    assert "did you mean DescribeAuditLogs?" in err, err


def test_a_query_naming_a_kind_as_the_one_shot_command_does_says_to_use_it(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    # 'query dms UserName = "x"' said only "unexpected field name 'UserName'" under the caret
    code, _, err = session(monkeypatch, 'query dms UserName = "admin"\ncount masking Status = 1\nquery Bogus = 1\n', data)
    assert code == 1
    assert "'query' takes no kind in the shell: 'use dms' first, then 'query FILTER' reads dms_log" in err, err
    assert "'count' takes no kind in the shell: 'use masking' first" in err, err
    assert err.count("takes no kind") == 2  # a filter that fails for another reason gets no such hint


@pytest.mark.parametrize(("line", "hint"), [
    ("query --page 2", "'page N' sets the page"),
    ('query UserName = "admin" --page-size 3', "'size N' sets the page size"),
    ("count --help", "'help' says what each command does"),
    ("explain -h", "'help' says what each command does"),
    ("count by UserName --format json", "'format table|json|jsonl|csv' sets how results print"),
    ("query --columns UserName", "'columns A,B,...' sets a table's columns"),
    ("call DescribeAuditLogs --param PageSize=1", "'call ACTION Name=Value ...' takes the parameters as they are"),
    ("query --tz +08:00", "the zone is given when the shell starts: dsc-engine shell --tz ZONE"),
])
def test_an_option_of_the_one_shot_commands_says_what_the_shell_takes_instead(
    monkeypatch: pytest.MonkeyPatch, data: Path, line: str, hint: str
) -> None:
    """``query --page 2``, as the one-shot command is written, was told only "unexpected
    character '-'" under a caret (``count by F --format json``: "expected 'count by FIELD' ...")."""
    code, out, err = session(monkeypatch, line + "\n", data)
    assert (code, out) == (1, "")
    assert err.endswith(f"\n(the shell's commands take no options: {hint})\n"), err


def test_a_filter_that_fails_elsewhere_gets_no_option_hint(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    code, _, err = session(monkeypatch, 'query SqlText contains "--page" and\nquery Bogus = "--format"\n', data)
    assert code == 1 and "take no options" not in err, err


def test_ctrl_c_on_a_terminal_abandons_the_command_and_the_session_goes_on(data: Path) -> None:
    # it ended the session (exit 130), losing what was loaded
    from dsc_engine.cli import shell as shells
    from dsc_engine.cli.output import Format

    engine = Engine()
    snapshot.load(engine, data)
    interrupted: list[str] = []

    def count(self: Any, arg: str) -> None:
        if not interrupted:
            interrupted.append(arg)
            raise KeyboardInterrupt
        self.out.write(f"counted {arg}\n")

    for interactive in (True, False):
        interrupted.clear()
        out = io.StringIO()
        session = shells.Shell(engine, Format.TABLE, io.StringIO("count a\ncount b\nquit\n"), out, interactive=False)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(shells.Shell, "do_count", count)
            if interactive:
                shells.serve(session, True, out)
                assert out.getvalue() == "\ninterrupted ('quit' leaves the session)\ncounted b\n"
            else:  # a script stops
                with pytest.raises(KeyboardInterrupt):
                    shells.serve(session, False, out)


def test_shell_page_and_size_take_what_a_query_takes(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    # a size past 2**31-1 was kept and refused only by the next query; "size ²" raised int()'s own message
    script = "size 2147483648\nsize ²\npage 0\nsize 3\nquery\n"
    _, out, err = session(monkeypatch, script, data, fmt="json")
    errors = err.splitlines()
    assert errors == [
        "error: expected a whole number from 1 to 2147483647, got '2147483648'",
        "error: expected a whole number from 1 to 2147483647, got '²'",
        "error: expected a whole number from 1 to 2147483647, got '0'",
    ]
    assert json.loads(out[out.index("{"):])["PageSize"] == 3


def test_shell_call_of_an_unknown_action_says_which_there_are(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    code, _, err = session(monkeypatch, "call DescribeAuditLog PageSize=1\n", data)
    assert code == 1 and err.endswith(
        "please check your url and method. (the actions: DescribeAuditLogs, DescribeDataMaskingRunHistory,"
        " ListSensitiveDataAuditLog; did you mean DescribeAuditLogs?)\n")


def test_shell_script_saved_with_a_byte_order_mark_runs(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    code, out, _ = session(monkeypatch, "\ufeffuse dms\r\ncount\r\n", data)
    assert code == 0 and "error" not in out and out.startswith("using dms_log")


def test_shell_page_of_thousands_of_digits_is_the_shells_own_error(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    # int() refused the 5,000 digits with Python's own message about its digit limit
    script = f"page {'9' * 5000}\nsize {'9' * 5000}\n"
    _, _, err = session(monkeypatch, script, data, fmt="json")
    assert err.splitlines() == ["error: expected a whole number from 1 to 2147483647, got '99999999999999999999... (5000 characters)'"] * 2


def test_shell_reads_and_shows_times_in_the_tz_zone_as_the_one_shot_commands(
    monkeypatch: pytest.MonkeyPatch, data: Path
) -> None:
    # the shell ignored --tz: filter times were read in UTC and tables showed UTC times
    window = 'CreationTime >= "2026-10-02" and CreationTime < "2026-10-09"'
    for fmt in ("table", "json"):
        script = f"size 3\nquery {window}\ncount {window}\nexplain {window}\ncall DescribeAuditLogs PageSize=2\n"
        monkeypatch.setattr(sys, "stdin", io.StringIO(script))
        shell_out = io.StringIO()
        assert main(["--format", fmt, "--tz", "Asia/Shanghai", "shell", "--data", str(data)],
                     out=shell_out, err=io.StringIO()) == 0
        one_shot = io.StringIO()
        common = ["--format", fmt, "--tz", "Asia/Shanghai"]
        main([*common, "query", "audit", window, "--page-size", "3", "--data", str(data)], out=one_shot, err=io.StringIO())
        main([*common, "query", "audit", window, "--explain", "--data", str(data)], out=one_shot, err=io.StringIO())
        shown = shell_out.getvalue()
        query_part, rest = one_shot.getvalue().split("audit_log store" if fmt == "table" else '{\n  "kind"', 1)
        assert shown.startswith(query_part)
        assert rest in shown
        engine = Engine()
        snapshot.load(engine, data)
        zone = __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
        expected = engine.store(RecordKind.AUDIT_LOG).count(parse_filter(window, RecordKind.AUDIT_LOG, zone=zone))
        assert expected != engine.store(RecordKind.AUDIT_LOG).count(parse_filter(window, RecordKind.AUDIT_LOG))
        assert (f"count  {expected}" if fmt == "table" else f'"count": {expected}') in shown
        if fmt == "table":  # the call's table shows its times in the zone too
            assert shown.rstrip().splitlines()[-1].split()[1].endswith("+08:00")


@pytest.fixture()
def history(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    """readline, emptied, and the history file of a HOME of the test's own."""
    readline = pytest.importorskip("readline")
    monkeypatch.setenv("HOME", str(tmp_path))
    readline.clear_history()
    try:
        yield readline, tmp_path / ".dsc_engine_history"
    finally:
        readline.parse_and_bind("set history-size -1")  # no limit, as readline starts
        readline.clear_history()


def test_two_sessions_at_once_both_keep_their_history(history: tuple[Any, Path]) -> None:
    # each session wrote its own whole history at its end: the one that ended last erased the
    # lines the other had added meanwhile
    from dsc_engine.cli import shell as shells

    readline, path = history
    path.write_text("kinds\n", encoding="utf-8")
    with shells._history(True, lambda: 1):
        readline.add_history("count by UserName")
        with path.open("a", encoding="utf-8") as other:  # another session ends meanwhile
            other.write("use dms\n")
    assert path.read_text(encoding="utf-8").splitlines() == ["kinds", "use dms", "count by UserName"]
    readline.clear_history()
    path.unlink()
    with shells._history(True, lambda: 1):  # the first session of all creates the file
        readline.add_history("query")
    assert path.read_text(encoding="utf-8").splitlines() == ["query"]


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_a_scripts_output_in_a_program_format_is_only_that_format(
    monkeypatch: pytest.MonkeyPatch, data: Path, fmt: str
) -> None:
    # 'use' printed "using dms_log (120 records)" whatever the format, a line no JSON or CSV reader takes
    _, out, _ = session(monkeypatch, "use dms\nuse masking\n", data, fmt)
    if fmt == "csv":
        assert out.splitlines() == ["using,records", "dms_log,120", "using,records", "masking_run,120"]
    else:
        values = [json.loads(line) for line in out.splitlines()] if fmt == "jsonl" else json_values(out)
        assert values == [{"using": "dms_log", "records": 120}, {"using": "masking_run", "records": 120}]
    _, out, _ = session(monkeypatch, "use dms\n", data, "table")
    assert out == "using dms_log (120 records)\n"


def test_help_on_an_unknown_command_is_an_error_line(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    # it printed cmd's own "*** No help on nothing", unlike every other failure
    _, out, err = session(monkeypatch, "help nothing\nhelp count\n", data)
    assert err.splitlines() == ["error: no help on 'nothing' (try 'help')"]
    assert out.splitlines()[0].startswith("count [FILTER]")


def test_help_alone_says_what_each_command_does(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    """``help`` listed the commands' names only ("Documented commands (type help <topic>):"), so
    that a new user had to ask for each in turn to learn what it does."""
    code, out, err = session(monkeypatch, "help\n?\n", data)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:len(lines) // 2] == lines[len(lines) // 2:]  # ? is help
    listing = lines[:len(lines) // 2]
    assert listing[0] == "commands ('help COMMAND' for one):"
    names = [line.split()[0].rstrip(":") for line in listing[1:]]
    assert names == ["use", "query", "page", "size", "count", "explain", "call", "format", "columns", "kinds",
                     "help", "quit", "exit"]
    assert "  count [FILTER] | count by FIELD|day(FIELD)|hour(FIELD) [where FILTER]: how many match (per value)." in listing


@pytest.mark.parametrize(("script", "errors"), [
    # a mistyped command was "unknown command 'quer' (try 'help')", as a word like no command
    ("quer\nCONT by UserName\nbogus\nexport audit\n", [
        "unknown command 'quer'; did you mean query? (try 'help')",
        "unknown command 'CONT'; did you mean count? (try 'help')",
        "unknown command 'bogus' (try 'help')",
        "unknown command 'export' (try 'help')",  # a command of dsc-engine, not 'exit'
    ]),
    # 'use' alone was "unknown record kind ''", as if an empty name had been given
    ("use\nuse   \n", ["expected 'use KIND': audit, masking or dms (in use: audit_log)"] * 2),
    # a call's unclosed quote was shlex's own "No closing quotation", naming neither the command nor the quote
    ("call DescribeAuditLogs 'UserName=a b\n", ["call: a quote is not closed: DescribeAuditLogs 'UserName=a b"]),
])
def test_a_command_written_wrong_is_told_what_was_meant(
    monkeypatch: pytest.MonkeyPatch, data: Path, script: str, errors: list[str]
) -> None:
    code, _, err = session(monkeypatch, script, data)
    assert code == 1
    assert err.splitlines() == [f"error: {error}" for error in errors]


def test_commands_that_take_no_argument_refuse_one(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    # 'kinds audit' and 'quit now' ignored what followed them
    code, out, err = session(monkeypatch, "kinds audit\nquit now\nexit 1\nkinds\n", data)
    assert code == 1
    assert err.splitlines() == [
        "error: 'kinds' takes no argument, got 'audit'",
        "error: 'quit' takes no argument, got 'now'",
        "error: 'exit' takes no argument, got '1'",
    ]
    assert "audit_log    120" in out  # the session went on


def test_count_by_takes_its_words_in_any_case_and_spacing(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    # a tab after 'where' (or 'WHERE', as the filter language's keywords may be written) was
    # "error: expected 'count by FIELD' or 'count by FIELD where FILTER'"
    lines = ['count by UserName where UserName = "admin"', 'count by UserName where\tUserName = "admin"',
             'count BY UserName WHERE UserName = "admin"', 'count\tby\tUserName\tWhere\tUserName = "admin"']
    _, out, _ = session(monkeypatch, "format jsonl\n" + "\n".join(lines) + "\n", data)
    answers = out.splitlines()
    assert len(answers) == 4 and len(set(answers)) == 1 and answers[0].startswith('{"UserName":"admin","count":')
    _, _, err = session(monkeypatch, "count by UserName where\ncount by UserName when x\n", data)
    assert err.splitlines() == ["error: expected 'count by FIELD' or 'count by FIELD where FILTER'"] * 2


def test_help_shows_plain_text(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    # 'help page' showed the docstring's markup: "the page ``query`` shows"
    commands = ["use", "query", "page", "size", "count", "explain", "call", "format", "columns", "kinds", "quit", "exit"]
    _, out, _ = session(monkeypatch, "".join(f"help {name}\n" for name in commands), data)
    assert len(out.splitlines()) == len(commands) and "``" not in out


def test_a_readline_without_append_still_keeps_the_history(
    history: tuple[Any, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the append that keeps two sessions' lines raised AttributeError where readline lacks it
    from dsc_engine.cli import shell as shells

    readline, path = history
    monkeypatch.delattr(readline, "append_history_file")
    with shells._history(True, lambda: 1):
        readline.add_history("kinds")
    assert path.read_text(encoding="utf-8").splitlines() == ["kinds"]


def test_a_history_kept_short_by_inputrc_still_keeps_the_lines_typed(history: tuple[Any, Path]) -> None:
    # the lines to append were counted as the history's growth, and a history that readline keeps
    # short ("set history-size 2" in ~/.inputrc) does not grow once full: nothing was kept, ever
    from dsc_engine.cli import shell as shells

    readline, path = history
    path.write_text("a\nb\nc\n", encoding="utf-8")
    readline.parse_and_bind("set history-size 2")
    with shells._history(True, lambda: 1):
        readline.add_history("kinds")
    assert path.read_text(encoding="utf-8").splitlines()[-1] == "kinds"


def test_the_shell_counts_the_lines_typed_at_the_terminal(data: Path) -> None:
    from dsc_engine.cli import shell as shells
    from dsc_engine.cli.output import Format

    engine = Engine()
    session = shells.Shell(engine, Format.TABLE, io.StringIO(), io.StringIO(), interactive=True)
    for line in ("kinds", "", "count", "EOF"):
        session.precmd(line)
    assert session.typed == 2  # not the empty line, nor the end of input


def test_shell_count_by_in_csv_quotes_a_value_holding_a_lone_carriage_return(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A value holding a carriage return alone was written bare, and a CSV reader split its row
    in two (``a``, then ``b,1``)."""
    import csv

    runs = [{"Id": n, "Status": 1, "StartTime": n, "SrcTableName": text} for n, text in enumerate(["a\rb", "\r", "c"], 1)]
    path = tmp_path / "runs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in runs), encoding="utf-8")
    code, out, err = session(monkeypatch, "use masking\ncount by SrcTableName\n", path, fmt="csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[2:] == [["SrcTableName", "count"], ["\r", "1"], ["a\rb", "1"], ["c", "1"]]


def _script_in(monkeypatch: pytest.MonkeyPatch, script: bytes, encoding: str) -> None:
    """Standard input as a locale of ``encoding`` would decode ``script``."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(script), encoding=encoding))


@pytest.mark.parametrize("encoding", ["gbk", "ascii"])
def test_a_script_is_read_as_utf8_and_answered_in_utf8_whatever_the_locale(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, encoding: str
) -> None:
    """A script (with its byte order mark) was decoded in the locale's encoding: in GBK its mark
    was no longer one (the first command was 'unknown') and a filter on '张三' compared other
    text and matched nothing, without a word; in ASCII the session died with an internal error."""
    runs = [{"Id": 1, "Status": 1, "StartTime": 1, "SrcTableName": "张三"}, {"Id": 2, "Status": 1, "StartTime": 2}]
    path = tmp_path / "runs.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in runs), encoding="utf-8")
    script = '\ufeffformat jsonl\r\nuse masking\r\nquery SrcTableName = "张三"\r\ncount SrcTableName = "\xe9"\r\ncount\r\n'
    _script_in(monkeypatch, script.encode("utf-8").replace("\xe9".encode(), b"\xe9"), encoding)
    raw = io.BytesIO()
    out, err = io.TextIOWrapper(raw, encoding=encoding), io.StringIO()
    code = main(["shell", "--data", str(path)], out=out, err=err)
    out.flush()
    using, found, count = map(json.loads, raw.getvalue().decode("utf-8").splitlines())
    assert (using["using"], found, count["count"]) == ("masking_run", runs[0], 2)
    assert err.getvalue() == 'error: not valid UTF-8 (a script is read as UTF-8): count SrcTableName = "\\xe9"\n'
    assert code == 1



def test_a_line_typed_at_a_terminal_that_is_not_utf8_is_not_called_a_script(data: Path) -> None:
    """A line recalled from a history file holding other bytes, or typed in a terminal sending
    them, was refused as "a script is read as UTF-8", though no script was read."""
    from dsc_engine.cli import shell as shells
    from dsc_engine.cli.output import Format

    engine = Engine()
    snapshot.load(engine, data)
    out, err = io.StringIO(), io.StringIO()
    session = shells.Shell(engine, Format.TABLE, io.StringIO(), out, interactive=True, err=err)
    assert session.precmd("kinds \udcff") == ""
    assert err.getvalue() == "error: not valid UTF-8 (bytes the terminal sent): kinds \\xff\n" and out.getvalue() == ""


def test_a_shell_without_standard_input_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    """Started with standard input closed (``dsc-engine shell <&-``, where Python's ``sys.stdin``
    is None), the session died with an internal error (exit 5, AttributeError)."""
    monkeypatch.setattr(sys, "stdin", None)
    out, err = io.StringIO(), io.StringIO()
    code = main(["shell", "--data", str(data)], out=out, err=err)
    assert (code, out.getvalue()) == (2, "")
    assert "standard input: there is none (it is closed)" in err.getvalue() and err.getvalue().count("\n") == 1


def test_a_result_with_no_utf8_form_fails_the_command_not_the_session(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Text holding a lone surrogate (a record given to Engine.load as an object, kept by its
    snapshot) ended the session with an internal error at the first result holding it."""
    from dsc_engine.models import AuditLog

    engine = Engine()
    engine.load([AuditLog(creation_time=1, user_name="a\ud800b")])
    held = tmp_path / "held.dscsnap"
    snapshot.save(engine, held)
    monkeypatch.setattr(sys, "stdin", io.StringIO("count by UserName\nkinds\n"))
    raw, err_stream = io.BytesIO(), io.StringIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")  # standard output: bytes below, written as UTF-8
    code = main(["--format", "json", "shell", "--data", str(held)], out=out, err=err_stream)
    out.flush()
    err = err_stream.getvalue()
    assert code == 1 and json.loads(raw.getvalue()) == {"audit_log": 1, "masking_run": 0, "dms_log": 0}
    assert err.startswith("error: a result holds \\ud800, half of a UTF-16 surrogate pair") and err.count("\n") == 1

def test_a_script_line_reading_eof_is_an_unknown_command_not_the_end(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    """``cmd`` reads the end of input as the word EOF, so a line of the script reading EOF ended
    the session: the commands after it were not run, and the script exited 0."""
    _script_in(monkeypatch, b"format jsonl\nEOF\nkinds\n", "utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main(["shell", "--data", str(data)], out=out, err=err)
    assert json.loads(out.getvalue()) == {"audit_log": 120, "masking_run": 120, "dms_log": 120}
    assert err.getvalue() == "error: unknown command 'EOF' (try 'help'; quit or exit ends the session)\n"
    assert code == 1


def test_shell_columns_choose_the_columns_of_a_kind_s_tables(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    """``columns A,B`` sets the columns of the tables of the kind in use (its queries and calls),
    kept per kind; ``columns`` alone goes back to the default ones; an unknown name is an error
    line listing the kind's columns, and the session goes on."""
    script = ("columns sqltext,UserName\nsize 1\nquery\ncall DescribeAuditLogs PageSize=1\nuse dms\ncolumns Xyzzy\n"
              "query\ncolumns OpTime\nquery\nuse audit\nquery\ncolumns\nquery\n")
    code, out, err = session(monkeypatch, script, data)
    assert code == 1  # the one failed command of the script
    assert err.startswith("error: columns: dms_log items have no column 'Xyzzy' (columns: UserName, UserId,")
    headers = [lines[i - 1].split() for lines in [out.splitlines()] for i, line in enumerate(lines) if line.startswith("--")]
    assert headers[:2] == [["SqlText", "UserName"]] * 2
    assert "SensitiveDataLog" in headers[2] and headers[3] == ["OpTime"]  # dms: the default ones until chosen
    assert headers[4] == ["SqlText", "UserName"]  # audit's choice is kept
    assert "CreationTime" in headers[5] and len(headers) == 6
    code, _, err = session(monkeypatch, "columns UserName,\n", data)  # its error named the command as the others
    assert (code, err) == (1, "error: columns: expected column names separated by commas (UserName,SqlText), got 'UserName,'\n")
