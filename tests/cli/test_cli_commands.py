"""End-to-end CLI: every subcommand in-process (exit codes and output), two via a subprocess."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from clirun import run, run_with_note
from dsc_engine.cli.commands import SAMPLE_NOTE
from dsc_engine import sample
from dsc_engine.cli import main
from dsc_engine.io import export, imports
from dsc_engine.wire.codec import to_wire
from dsc_engine.models import RecordKind
from dsc_engine.query.parse import parse_filter
from dsc_engine.replay import read_calls

AUDIT, RUNS, DMS = RecordKind.AUDIT_LOG, RecordKind.MASKING_RUN, RecordKind.DMS_LOG


@pytest.fixture()
def exports(tmp_path: Path) -> Path:
    """A folder of exports in three formats: audit JSON Lines (gzip'd), runs CSV, DMS pages."""
    folder = tmp_path / "exports"
    (folder / "dms").mkdir(parents=True)
    lines = "".join(json.dumps(to_wire(r)) + "\n" for r in sample.generate(AUDIT, 50, seed=5))
    (folder / "audit.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    with open(folder / "runs.csv", "w", encoding="utf-8") as out:
        export.write_csv(sample.generate(RUNS, 20, seed=5), RUNS, out)
    with open(folder / "dms" / "pages.json", "w", encoding="utf-8") as out:
        export.write_pages(sample.generate(DMS, 30, seed=5), DMS, out, total=30, page_size=7)
    return folder


def test_cli_load_prints_the_reconciled_summary_and_saves_a_snapshot(tmp_path, exports):
    snap = tmp_path / "engine.dscsnap"
    code, out, _ = run("--format", "json", "load", str(exports), "--snapshot", str(snap))
    summary = json.loads(out)
    assert code == 0
    assert summary["loaded"] == {"audit_log": 50, "masking_run": 20, "dms_log": 30}
    assert summary["read"] == 100 and summary["snapshot"] == str(snap)
    code, out, _ = run("--format", "json", "query", "masking", "", "--data", str(snap), "--page-size", "100")
    assert code == 0 and json.loads(out)["TotalCount"] == 20


def test_cli_import_alias_and_glob(exports):
    code, out, _ = run("--format", "json", "import", str(exports / "*.csv"))
    assert code == 0 and json.loads(out)["loaded_total"] == 20


def test_cli_load_rejects_are_written_and_exit_3(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = json.dumps(to_wire(sample.generate(AUDIT, 1, seed=1)[0]))
    path.write_text(good + "\n{broken\n")
    rejects = tmp_path / "rejects.jsonl"
    code, out, _ = run("load", str(path), "--rejects", str(rejects))
    assert code == 3 and "1 rejected" in out
    (entry,) = imports.rejects_of(rejects)
    assert (entry["line"], entry["raw"]) == (2, "{broken")
    code, _, err = run("load", str(path))
    assert code == 3 and f"      {path}:2: invalid JSON" in err and "rejected 1 record for 1 reason" in err


def test_cli_load_strict_stops_with_file_and_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("CreationTime,EffectRow\n1,2\n3,x\n")
    code, _, err = run("load", str(path), "--strict")
    assert code == 3
    assert err.startswith(f"dsc-engine load: {path}:3: column EffectRow: cannot read 'x'")
    assert err.count("\n") == 1


def test_cli_missing_data_is_a_data_error(tmp_path):
    code, _, err = run("query", "audit", "", "--data", str(tmp_path / "nope.json"))
    assert code == 3 and "no such file or folder" in err


def test_cli_query_table_and_paging(exports):
    code, out, _ = run("query", "audit", 'EffectRow >= 0', "--data", str(exports), "--page-size", "3")
    assert code == 0
    header, rule, *rows = out.splitlines()[1:]
    assert header.startswith("CreationTime") and set(rule) <= {"-", " "} and len(rows) == 3
    code, out, _ = run("--format", "jsonl", "query", "audit", "", "--data", str(exports),
                       "--page", "2", "--page-size", "20")
    assert code == 0 and len(out.splitlines()) == 20


def test_cli_query_bad_filter_is_a_usage_error_with_a_caret():
    code, out, err = run("query", "audit", "UserName = ")
    assert code == 2 and out == "" and "^" in err and "Traceback" not in err
    code, _, err = run("query", "audit", "Colour = 'red'")
    assert code == 2 and "Colour" in err


def test_cli_usage_errors_exit_2():
    assert run("query", "nokind", "")[0] == 2
    assert run("call")[0] == 2
    assert run("query", "audit", "", "--page", "0")[0] == 2
    assert run("--help")[0] == 0


def test_cli_help_lists_exit_codes_and_examples(capsys):
    for argv in (["--help"], ["query", "--help"], ["load", "--help"], ["replay", "--help"]):
        assert main(argv) == 0
        text = capsys.readouterr().out
        assert "examples:" in text and "exit status:" in text
    assert main(["--help"]) == 0
    whole = capsys.readouterr().out
    assert "1  replay: some call" in whole and "4  call: the API refused" in whole and "pull: a checkpoint" in whole


def _statuses(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(argv) == 0
    text = capsys.readouterr().out
    return text[text.index("exit status:"):].splitlines()[1:]


def test_a_command_help_lists_the_exit_statuses_that_concern_it(capsys: pytest.CaptureFixture[str]) -> None:
    """Every subcommand's --help printed the program's whole table (replay's differences, the
    shell's scripts, pull's checkpoints under query); it lists the statuses of that command, what
    they mean for it, and points to the whole table."""
    query = _statuses(["query", "--help"], capsys)
    assert [line.split()[0] for line in query if line.startswith("  ") and line.split()[0].isdigit()] == [
        "0", "2", "3", "5", "130", "141"]
    assert not any(word in "\n".join(query) for word in ("replay", "shell", "pull", "call"))
    assert query[-1] == "  (dsc-engine --help lists the statuses of every command)"
    assert "  1  some call answered differently from the capture" in _statuses(["replay", "--help"], capsys)
    assert any(line.startswith("  4  the API refused the call") for line in _statuses(["call", "--help"], capsys))
    pull = "\n".join(_statuses(["pull", "--help"], capsys))
    assert "a checkpoint of another pull" in pull and "run the same command again to resume" in pull
    assert "replay" not in pull
    # a rejected record makes load's status 3; query answers from what loaded (3 only with --strict)
    load, asked = (" ".join(line.strip() for line in lines) for lines in (_statuses(["load", "--help"], capsys), query))
    assert "records were rejected" in load
    assert "records were rejected" not in asked and "with --strict" in asked
    assert "a database that cannot be used" in asked


@pytest.mark.parametrize("argv", [("call", "DescribeAuditLogs"), ("query", "dms"), ("export", "masking")])
def test_a_command_without_data_says_it_answers_from_the_sample(tmp_path: Path, argv: tuple[str, ...]) -> None:
    """Answers from the bundled sample look like data: a script that left ``--data`` out is told
    so on stderr (stdout unchanged); with ``--data`` nothing is said."""
    code, out, err = run_with_note(*argv)
    assert code == 0 and out and err == SAMPLE_NOTE
    data = tmp_path / "sample.jsonl"
    assert run("export", argv[1] if argv[0] != "call" else "audit", "--out", str(data))[0] == 0
    code, again, err = run_with_note(*argv, "--data", str(data))
    assert (code, err) == (0, "")
    assert again.splitlines()[1:] == out.splitlines()[1:]  # (a call's first line holds fresh request ids)


def test_cli_call_answers_and_api_errors_exit_4():
    code, out, _ = run("--format", "json", "call", "DescribeAuditLogs", "--param", "PageSize=2",
                       "--param", "Lang=en_us")
    body = json.loads(out)
    assert code == 0 and body["PageSize"] == 2 and len(body["Items"]) == 2
    code, out, err = run("call", "DescribeAuditLogs", "--param", "PageSize=500", "--param", "Lang=en_us")
    assert code == 4 and out == ""
    assert err == 'dsc-engine call: 400 InvalidParameter: The specified parameter "PageSize" is not valid.' \
        + err.split("is not valid.", 1)[1]
    assert run("call", "NoSuchAction")[0] == 4
    assert run("call", "DescribeAuditLogs", "--param", "novalue")[0] == 2


def test_cli_call_table_shows_the_page(exports):
    code, out, _ = run("call", "DescribeDataMaskingRunHistory", "--param", "PageSize=4", "--data", str(exports))
    assert code == 0 and "TotalCount: 20" in out and len(out.splitlines()) == 1 + 2 + 4


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "pages"])
@pytest.mark.parametrize("kind", [AUDIT, DMS])
def test_cli_export_reimports_to_the_same_records_in_the_same_order(tmp_path, fmt, kind):
    from dsc_engine import Engine

    records = sample.generate(kind, 40, seed=6)
    time = kind.facts.primary_time
    tied = [attrs.evolve(r, **{time: getattr(records[i - i % 4], time)}) for i, r in enumerate(records)]
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(to_wire(r)) + "\n" for r in tied), encoding="utf-8")
    target = tmp_path / f"out.{fmt}"
    code, _, err = run("export", kind.value, "", "--to", fmt, "--out", str(target), "--data", str(data))
    assert code == 0, err
    engine, reloaded = Engine(), Engine()
    engine.load(str(data))
    reloaded.load(str(target))
    expected = list(engine.store(kind).iter_ordered(parse_filter("", kind)))
    assert len({getattr(r, time) for r in expected}) == 10  # runs of four records of one time
    assert list(reloaded.store(kind).iter_ordered(parse_filter("", kind))) == expected



@pytest.mark.parametrize("fmt", ["jsonl", "csv", "pages"])
def test_cli_export_of_no_record_says_when_its_file_will_not_load(tmp_path, fmt):
    """JSON Lines of no record is an empty file, which load refuses as a file error: the export
    says so (and which formats load as none) instead of leaving the next load to fail."""
    target = tmp_path / f"none.{fmt}"
    code, out, err = run("export", "audit", 'UserName = "nobody at all"', "--to", fmt, "--out", str(target))
    assert code == 0 and "exported  0" in out
    loaded, _, load_err = run("load", str(target))
    if fmt == "jsonl":
        assert loaded == 3 and "file is empty" in load_err
        assert err.count("\n") == 1 and "note: no record was exported" in err and "--to pages" in err
    else:
        assert (loaded, load_err, err) == (0, "", "")

def test_cli_export_one_page_to_stdout():
    code, out, _ = run("export", "audit", 'UserName = "admin"', "--to", "pages", "--page", "2", "--page-size", "4")
    (page,) = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and page["CurrentPage"] == 2 and len(page["Items"]) == 4
    assert page["TotalCount"] > 8


@pytest.mark.parametrize(("kind", "size"), [("audit", 50), ("masking", 100), ("dms", 100)])
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "pages"])
def test_cli_export_page_without_page_size_uses_the_apis_largest_page(kind, size, fmt):
    """``--page-size`` defaults to the operation's largest page for ``--page`` too (its help says
    so), not only for ``--to pages``: ``--page 2`` alone is the second page of that size."""
    code, out, err = run("export", kind, "--to", fmt, "--page", "2")
    assert code == 0, err
    rows = out.splitlines()
    if fmt == "pages":
        (page,) = [json.loads(line) for line in rows]
        assert page.get("PageSize", size) == size and page.get("CurrentPage", 2) == 2
        assert len(page.get("Items", page.get("SensitiveDataAuditLogList"))) == size
    else:
        assert len(rows) == size + (fmt == "csv")
    _, whole, _ = run("export", kind, "--to", fmt, "--page", "2", "--page-size", str(size))
    assert out == whole


def test_cli_snapshot_round_trip_and_corruption(tmp_path, exports):
    snap = tmp_path / "s.dscsnap"
    code, out, _ = run("--format", "json", "snapshot", str(snap), "--data", str(exports))
    assert code == 0 and json.loads(out)["audit_log"] == 50
    query = ("--format", "jsonl", "query", "audit", "", "--page-size", "50")
    assert run(*query, "--data", str(snap))[1] == run(*query, "--data", str(exports))[1]
    data = snap.read_bytes()
    snap.write_bytes(data[:-5])
    code, _, err = run(*query, "--data", str(snap), "--strict")
    assert code == 3 and "truncated" in err


def test_cli_record_then_replay_matches(tmp_path):
    capture = tmp_path / "capture.jsonl"
    assert run("record", "--out", str(capture))[0] == 0
    code, out, _ = run("replay", str(capture))
    assert code == 0 and out.splitlines()[-1] == "5 of 5 call(s) matched"


def test_cli_replay_and_record_read_their_calls_from_standard_input_as_dash(tmp_path):
    # "-" was opened as a file named -: "cannot open: No such file or directory"
    capture = tmp_path / "capture.jsonl.gz"
    assert run("record", "--out", str(capture))[0] == 0

    def piped(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dsc_engine.cli", *argv], input=gzip.decompress(capture.read_bytes()),
                              capture_output=True, timeout=120, check=False)

    replayed = piped("replay", "-")
    assert replayed.returncode == 0 and replayed.stdout.decode().splitlines()[-1] == "5 of 5 call(s) matched"
    again = tmp_path / "again.jsonl"
    recorded = piped("record", "--requests", "-", "--out", str(again))
    assert recorded.returncode == 0, recorded.stderr
    assert [c.params for c in read_calls(again)] == [c.params for c in read_calls(capture)]
    both = piped("replay", "-", "--data", "-")
    assert both.returncode == 2 and b"standard input can be read once" in both.stderr


def test_cli_replay_reports_every_differing_field_and_exits_1(tmp_path):
    capture = tmp_path / "capture.jsonl"
    run("record", "--out", str(capture))
    calls = [json.loads(line) for line in capture.read_text().splitlines()]
    calls[0]["response"]["Items"][3]["UserName"] = "someone_else"
    calls[0]["response"]["RequestId"] = "ANY-ID"  # volatile: ignored
    total = calls[2]["response"]["TotalCount"]
    calls[2]["response"]["TotalCount"] = str(total)  # same number, wrong JSON type
    calls[4]["response"]["HostId"] = "other.host"  # volatile in an error body
    capture.write_text("".join(json.dumps(c) + "\n" for c in calls))
    code, out, _ = run("replay", str(capture))
    assert code == 1
    assert "     Items[3].UserName: expected 'someone_else', got '" in out
    assert f"TotalCount: expected '{total}', got {total}" in out
    assert out.splitlines()[-1] == "3 of 5 call(s) matched"
    code, out, _ = run("--format", "json", "replay", str(capture))
    report = json.loads(out)
    assert [r["matched"] for r in report["results"]] == [False, True, False, True, True]


def test_cli_replay_table_shows_characters_a_terminal_acts_on_as_escapes(tmp_path):
    capture = tmp_path / "capture.jsonl"
    run("record", "--out", str(capture))
    calls = [json.loads(line) for line in capture.read_text().splitlines()]
    hostile = "a\x9b31m\u202eb\x7fc\x85"  # a capture of the real service holds others' text
    calls[0]["params"]["UserName"] = hostile  # shown in the call's line
    calls[0]["response"]["Items"][0]["SensitiveWords"] = [hostile]  # shown as JSON in a difference
    calls[1]["response"]["Items"][0]["UserName"] = hostile  # shown as text in a difference
    capture.write_text("".join(json.dumps(c) + "\n" for c in calls))
    code, out, _ = run("replay", str(capture))
    assert code == 1
    assert not any(ch in out for ch in "\x9b\u202e\x7f\x85"), out
    assert "\\x9b31m\\u202eb\\x7fc\\x85" in out


def test_cli_replay_skips_a_throttled_call_of_the_capture_and_exits_0(tmp_path):
    capture = tmp_path / "capture.jsonl"
    run("record", "--out", str(capture))
    calls = [json.loads(line) for line in capture.read_text().splitlines()]
    calls[1]["status"] = 400  # the service throttled this one: its answer says nothing of the API
    calls[1]["response"] = {"RequestId": "R", "HostId": "sddp.cn-zhangjiakou.aliyuncs.com",
                            "Code": "Throttling.User", "Message": "Request was denied due to user flow control.",
                            "Recommend": "https://api.aliyun.com/troubleshoot?q=Throttling.User"}
    capture.write_text("".join(json.dumps(c) + "\n" for c in calls))
    code, out, _ = run("replay", str(capture))
    assert code == 0, out
    assert out.splitlines()[-1] == "4 of 5 call(s) matched, 1 skipped (refused by the service's gateway)"
    code, out, _ = run("--format", "json", "replay", str(capture))
    report = json.loads(out)
    assert (report["matched"], report["skipped"], report["calls"]) == (4, 1, 5)
    assert "Throttling.User" in report["results"][1]["skipped"] and report["results"][0]["skipped"] is None


def test_cli_replay_in_csv_is_a_csv_table_of_the_calls(tmp_path):
    import csv

    capture = tmp_path / "capture.jsonl"
    run("record", "--out", str(capture))
    calls = [json.loads(line) for line in capture.read_text().splitlines()]
    calls[0]["response"]["TotalCount"] = -1
    capture.write_text("".join(json.dumps(c) + "\n" for c in calls))
    code, out, _ = run("--format", "csv", "replay", str(capture))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 1 and len(rows) == 5
    assert (rows[0]["line"], rows[0]["action"], rows[0]["matched"]) == ("1", "DescribeAuditLogs", "false")
    assert json.loads(rows[0]["differences"])[0].startswith("TotalCount: expected -1, got ")
    assert [json.loads(r["differences"]) for r in rows[1:]] == [[]] * 4


def test_cli_replay_bad_capture_is_a_data_error(tmp_path):
    capture = tmp_path / "capture.jsonl"
    capture.write_text('{"action": "DescribeAuditLogs", "params": {}}\n')
    code, _, err = run("replay", str(capture))
    assert code == 3 and f"{capture}:1: 'response' must be" in err


def test_cli_demo_shows_each_operation():
    code, out, err = run_with_note("demo")
    assert code == 0 and err == ""  # the sample is what it shows: no note that it is used
    for text in ("DescribeAuditLogs", "DescribeDataMaskingRunHistory", "ListSensitiveDataAuditLog",
                 "HTTP 400 InvalidParameter", "Loaded records: 3000 audit_log"):
        assert text in out
    code, out, _ = run("--format", "json", "demo")
    document = json.loads(out)
    assert [c["status"] for c in document["calls"]] == [200, 200, 200, 200, 400]


def test_cli_demo_in_csv_is_a_csv_table_of_the_calls():
    import csv

    code, out, _ = run("--format", "csv", "demo")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["status"] for r in rows] == ["200", "200", "200", "200", "400"]
    assert json.loads(rows[4]["response"])["Code"] == "InvalidParameter"
    code, out, _ = run("--format", "jsonl", "demo")
    assert [json.loads(line)["status"] for line in out.splitlines()] == [200, 200, 200, 200, 400]


def test_cli_export_to_a_csv_file_writes_csv_unless_told_otherwise(tmp_path):
    out = tmp_path / "runs.csv"
    code, summary, err = run("--format", "json", "export", "masking", "--out", str(out))
    assert code == 0, err
    assert json.loads(summary)["as"] == "csv" and out.read_text().startswith("Status,Type,")
    code, _, err = run("export", "masking", "--times", "iso", "--out", str(out))
    assert code == 0, err
    code, summary, _ = run("--format", "json", "export", "masking", "--to", "jsonl", "--out", str(out))
    assert json.loads(summary)["as"] == "jsonl" and out.read_text().startswith("{")
    code, summary, _ = run("--format", "json", "export", "masking", "--out", str(tmp_path / "runs.txt"))
    assert json.loads(summary)["as"] == "jsonl"


@pytest.mark.parametrize(("argv", "hint"), [
    (("call", "DescribeAuditLog"), "(the actions: DescribeAuditLogs, DescribeDataMaskingRunHistory,"
     " ListSensitiveDataAuditLog; did you mean DescribeAuditLogs?)"),
    (("call", "Nothing"), "(the actions: DescribeAuditLogs, DescribeDataMaskingRunHistory, ListSensitiveDataAuditLog)"),
    (("call", "DescribeAuditLogs", "--version", "2018-11-01", "--param", "Lang=en"),  # Chinese without
     "(DescribeAuditLogs is of version 2019-01-03)"),
])
def test_cli_call_of_an_action_not_found_says_which_there_are(argv, hint):
    code, out, err = run("--format", "json", *argv)
    assert code == 4 and json.loads(out)["Code"] == "InvalidApi.NotFound"  # the body is the service's
    assert err == ("dsc-engine call: 404 InvalidApi.NotFound: Specified api is not found, please check your"
                   f" url and method. {hint}\n")


def test_cli_serve_is_registered(capsys):
    assert main(["serve", "--help"]) == 0
    assert "--port" in capsys.readouterr().out


@pytest.mark.slow
def test_cli_runs_as_a_module_in_a_subprocess(tmp_path, exports):
    result = subprocess.run(
        [sys.executable, "-m", "dsc_engine.cli", "--format", "json", "load", str(exports)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0 and json.loads(result.stdout)["loaded_total"] == 100
    result = subprocess.run(
        [sys.executable, "-m", "dsc_engine.cli", "query", "audit", "UserName ="],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_cli_commands_of_one_kind_decode_only_that_kind_of_the_sample(monkeypatch):
    """A command that reads one kind (query, export, call) and runs without --data loads only that
    kind of the bundled sample; the others load all three."""
    asked: list[RecordKind] = []
    bundled = sample.bundled

    def counted(kind):
        asked.append(RecordKind.parse(kind))
        return bundled(kind)

    monkeypatch.setattr(sample, "bundled", counted)
    for argv, kinds in [
        (("query", "audit", 'UserName = "admin"'), [AUDIT]),
        (("export", "dms", "--to", "jsonl"), [DMS]),
        (("call", "DescribeDataMaskingRunHistory", "--param", "PageSize=3"), [RUNS]),
        (("call", "NoSuchAction"), [AUDIT, RUNS, DMS]),
        (("demo",), [AUDIT, RUNS, DMS]),
    ]:
        asked.clear()
        assert run(*argv)[0] in (0, 4), argv
        assert asked == kinds, argv


#: Modules only some commands need, which starting any command must not import (docs/architecture.md,
#: "Start-up"): the HTTP server and the recording proxy (with http.server, ssl, email), the
#: installed metadata (--version), the SQL backends' packages, the official SDK.
NOT_AT_START = (
    "dsc_engine.server.app", "dsc_engine.server.host", "dsc_engine.server.proxy", "http.server", "ssl",
    "importlib.metadata", "duckdb", "sqlglot", "pyarrow", "chdb", "clickhouse_connect", "alibabacloud_tea_openapi",
)


def test_cli_start_imports_only_what_every_command_needs():
    script = "import sys; import dsc_engine.cli; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    loaded = set(done.stdout.split())
    assert "dsc_engine.cli.commands" in loaded
    assert sorted(loaded.intersection(NOT_AT_START)) == []


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_progress_bar_only_on_a_terminal_after_the_delay():
    from dsc_engine.cli.output import Progress

    quiet = io.StringIO()
    bar = Progress(100, quiet, delay=0.0)
    bar(50)
    assert quiet.getvalue() == ""
    terminal = _Terminal()
    bar = Progress(100, terminal, delay=0.0)
    bar(50)
    assert "50%" in terminal.getvalue()
    bar.finish()
    assert terminal.getvalue().endswith("\r")
    slow = _Terminal()
    Progress(100, slow, delay=60.0)(50)
    assert slow.getvalue() == ""


def test_cli_replay_lists_missing_and_extra_keys():
    from dsc_engine.replay import Call, compare

    call = Call("DescribeAuditLogs", {}, {"RequestId": "a", "Items": [{"A": 1}], "TotalCount": 1})
    got = {"RequestId": "b", "Items": [{"A": 1, "B": True}, {"A": 2}], "AsyncRequestId": "x"}
    assert [str(d) for d in compare(call, got)] == [
        "Items: 1 extra record (Items[1])",
        "Items[0].B: expected <absent>, got true",
        "TotalCount: expected 1, got <absent>",
    ]
    echoed = Call("DescribeAuditLogs", {"AsyncRequestId": "mine"}, {"AsyncRequestId": "mine"})
    assert [str(d) for d in compare(echoed, {"AsyncRequestId": "other"})] == [
        "AsyncRequestId: expected 'mine', got 'other'"
    ]


def test_cli_tables_align_wide_characters():
    from dsc_engine.cli.output import display_width, table

    lines = table([["低危", "a"], ["Low", "b"]], ["WarnLevelName", "X"]).splitlines()
    # the second column starts at the same terminal column on every line (高危 takes two columns)
    assert display_width(lines[2]) == display_width(lines[3])
    assert display_width(lines[2][: lines[2].index("a")]) == display_width(lines[3][: lines[3].index("b")])


def test_cli_data_that_cannot_be_read_at_all_fails_the_command_naming_the_file_once(tmp_path, exports):
    """A --data snapshot that does not open used to leave an empty engine and exit 0."""
    snap = tmp_path / "s.dscsnap"
    assert run("snapshot", str(snap), "--data", str(exports))[0] == 0
    snap.write_bytes(snap.read_bytes()[:-5])
    code, out, err = run("query", "audit", "", "--data", str(snap))
    assert (code, out) == (3, "")
    assert "truncated" in err and err.count(str(snap)) == 1, err


def test_cli_data_with_rejected_records_still_answers_with_a_warning(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"CreationTime": 5, "UserName": "a"}\n{"CreationTime": "soon"}\n')
    code, out, err = run("--format", "json", "query", "audit", "", "--data", str(path))
    assert code == 0 and json.loads(out)["TotalCount"] == 1
    assert "warning:" in err and "1 rejected" in err


def test_cli_the_kind_queried_does_not_force_the_kind_of_the_data(exports):
    """`export dms --data exports/` once read every file of the folder as DMS logs."""
    code, out, err = run("--format", "json", "query", "dms", "", "--data", str(exports))
    assert code == 0 and json.loads(out)["TotalCount"] == 30, err
    code, out, err = run("--format", "json", "query", "dms", "", "--data", str(exports / "dms"), "--kind", "dms")
    assert code == 0 and json.loads(out)["TotalCount"] == 30, err


def test_cli_load_skips_a_page_saved_twice_and_says_so(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    with open(folder / "page-010.json", "w", encoding="utf-8") as out:
        export.write_pages(sample.generate(AUDIT, 50, seed=5), AUDIT, out, total=50)
    (folder / "page-010 (1).json").write_bytes((folder / "page-010.json").read_bytes())
    code, out, _ = run("--format", "json", "load", str(folder))
    summary = json.loads(out)
    assert code == 0 and summary["loaded_total"] == 50 and len(summary["duplicate_files"]) == 1
    assert "1 duplicate file skipped" in summary["summary"]
    code, out, _ = run("--format", "json", "load", str(folder), "--keep-duplicates")
    assert code == 0 and json.loads(out)["loaded_total"] == 100


def test_cli_data_counts_records_repeated_across_files_as_duplicates(tmp_path):
    recs = sample.generate(AUDIT, 30, seed=6)
    for name, part in (("a.jsonl", recs[:20]), ("b.jsonl", recs[10:])):
        (tmp_path / name).write_text("".join(json.dumps(to_wire(r)) + "\n" for r in part))
    code, out, _ = run("--format", "json", "query", "audit", "--data", str(tmp_path))
    assert code == 0 and json.loads(out)["TotalCount"] == 30
    code, out, _ = run("--format", "json", "query", "audit", "--data", str(tmp_path), "--keep-duplicates")
    assert code == 0 and json.loads(out)["TotalCount"] == 40


def test_cli_call_refuses_a_parameter_given_twice_as_pull_and_the_server_do():
    """``--param PageSize=1 --param PageSize=2`` is no request the service takes (the server
    answers InvalidParameter, ``pull`` refuses it): ``call`` must not quietly keep the last."""
    code, out, err = run("call", "DescribeAuditLogs", "--param", "PageSize=1", "--param", "UserName=a",
                         "--param", "PageSize=2")
    assert code == 2 and out == ""
    assert "--param" in err and "PageSize" in err and "given twice" in err


def test_shell_call_refuses_a_parameter_given_twice(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("call DescribeAuditLogs PageSize=1 PageSize=2\nkinds\n"))
    out, err = io.StringIO(), io.StringIO()
    assert main(["shell"], out=out, err=err) == 1
    told = err.getvalue().removeprefix(SAMPLE_NOTE)
    assert told.startswith("error: ") and "PageSize" in told.splitlines()[0]
    assert "given twice" in told.splitlines()[0] and "audit_log" in out.getvalue()


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_cli_query_explain_takes_the_output_format(exports, fmt):
    # --explain printed the plan's text whatever --format said
    text = 'UserName = "admin"'
    code, out, err = run("--format", fmt, "query", "audit", text, "--data", str(exports), "--explain")
    _, plain, _ = run("query", "audit", text, "--data", str(exports), "--explain")
    assert code == 0, err
    if fmt == "csv":
        import csv

        header, row = list(csv.reader(io.StringIO(out)))
        shown = dict(zip(header, row))
    else:
        shown = json.loads(out)
    assert shown == {"kind": "audit_log", "filter": text, "plan": plain.rstrip("\n")}
    assert "hash index UserName" in shown["plan"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("١", "expected a whole number in digits 0-9, got '١'"),
        ("1_0", "expected a whole number in digits 0-9, got '1_0'"),
        (" 5", "expected a whole number in digits 0-9, got ' 5'"),
        ("9" * 5000, "must be at most 18 digits, got 5000"),
        ("-3", "must be 1 or more, got -3"),
    ],
)
def test_cli_page_takes_ascii_digits_only(value, reason, capsys):
    # int() read Arabic-Indic digits and underscores as a page, and refused 5,000 digits with
    # its own message about Python's digit limit
    code, _, err = run("query", "audit", f"--page={value}")
    assert code == 2 and f"argument --page: {reason}" in err + capsys.readouterr().err


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError(28, "No space left on device")], ids=["ctrl-c", "full-disk"])
def test_cli_export_that_fails_midway_leaves_the_file_that_was_there(exports, tmp_path, monkeypatch, failure):
    # export --out wrote straight into the file: a failure midway left half an export in place
    # of the file that was there
    from dsc_engine.io import export

    target = tmp_path / "audit.jsonl"
    target.write_text("the previous export\n")
    real = export.write_jsonl

    def failing(records, out):
        real(list(records)[:3], out)
        out.flush()
        raise failure

    monkeypatch.setattr(export, "write_jsonl", failing)
    code, _, _ = run("export", "audit", "--data", str(exports), "--out", str(target))
    assert code != 0
    assert target.read_text() == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.jsonl", "exports"]  # no temporary file left
    monkeypatch.setattr(export, "write_jsonl", real)
    assert run("export", "audit", "--data", str(exports), "--out", str(target))[0] == 0
    assert len(target.read_text().splitlines()) == 50
