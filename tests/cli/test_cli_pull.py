"""``dsc-engine pull`` in-process against the engine's own server: output, summary, exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clirun import run
from dsc_engine.cli import main
from dsc_engine.cli.cloud import PullBar, render
from dsc_engine.pull import default_checkpoint
from dsc_engine.pull.credentials import ENV_KEY_ID, ENV_KEY_SECRET
from dsc_engine.pull.slicing import Progress
from dsc_engine.pull.upstream import SdkUpstream
from dsc_engine.sample import generate
from dsc_engine.testing import TestServer

WINDOW = ["--since", "2000-01-01 00:00:00", "--until", "2099-01-01 00:00:00"]


@pytest.fixture(scope="module")
def cloud() -> Iterator[TestServer]:
    with TestServer({"audit": generate("audit", 30, seed=8), "dms": generate("dms", 20, seed=8)}) as server:
        yield server


@pytest.fixture
def keyed(cloud: TestServer, monkeypatch: pytest.MonkeyPatch) -> TestServer:
    """The user's credentials in the environment, as the pull reads them."""
    monkeypatch.setenv(ENV_KEY_ID, cloud.access_key.id)
    monkeypatch.setenv(ENV_KEY_SECRET, cloud.access_key.secret)
    return cloud


def _pull(server: TestServer, out: Path, *more: str, fmt: str = "table") -> tuple[int, str, str]:
    return run("--format", fmt, "pull", *more, *WINDOW, "--endpoint", server.url, "--out", str(out),
               "--page-size", "5", "--max-depth", "2", "--rate", "1000")


def test_cli_pull_writes_pages_that_load_imports_and_prints_the_reconciled_summary(keyed: TestServer, tmp_path: Path) -> None:
    out = tmp_path / "cloud.jsonl"
    code, text, err = _pull(keyed, out, "audit", "dms")
    assert code == 0, err
    assert f"pulled 50 records into {out}" in text and "every slice reconciles" in text
    assert "DescribeAuditLogs 2000-01-01T00:00:00.000Z .. 2099-01-01T00:00:00.000Z: TotalCount 30, 30 records written" in text
    assert "ListSensitiveDataAuditLog 2000-01-01 00:00:00 .. 2099-01-01 00:00:00: TotalCount 20" in text
    code, text, _ = run("--format", "json", "load", str(out))
    assert code == 0 and json.loads(text)["loaded"] == {"audit_log": 30, "masking_run": 0, "dms_log": 20}


def test_cli_pull_from_a_plain_http_endpoint_given_as_https_stops_at_once_saying_so(
    keyed: TestServer, tmp_path: Path
) -> None:
    """``--endpoint host:port`` is HTTPS; the TLS handshake with a server of plain HTTP fails the
    same way at every attempt, so it is not retried (eight backoffs, over a minute): the pull
    stops at the first call, exit status 3, saying to give ``http://``."""
    bare = keyed.url.removeprefix("http://")
    code, _, err = run("pull", "audit", *WINDOW, "--endpoint", bare, "--out", str(tmp_path / "a.jsonl"),
                       "--rate", "1000")
    assert code == 3
    assert "TlsFailure" in err and "http://HOST:PORT" in err
    # stopped at its first TLS failure (a loaded machine may first see another failure, retried),
    # not after the retries (8 by default: 9 attempts)
    assert "after 9 attempts" not in err


def test_cli_pull_json_summary_reconciles_each_slice(keyed: TestServer, tmp_path: Path) -> None:
    code, text, _ = _pull(keyed, tmp_path / "a.jsonl", "audit", fmt="json")
    report = json.loads(text)
    assert code == 0 and report["records"] == 30 and report["reconciled"] is True
    (job,) = report["jobs"]
    assert sum(s["records"] for s in job["slices"]) == job["total_count"] == 30
    assert all(s["records"] == s["total_count"] and s["reconciled"] for s in job["slices"])


def test_cli_pull_csv_summary_writes_values_as_the_other_csv_reports_do(keyed: TestServer, tmp_path: Path) -> None:
    import csv

    code, text, _ = _pull(keyed, tmp_path / "a.jsonl", "audit", fmt="csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert code == 0 and rows and all(row["reconciled"] == "true" for row in rows)
    assert sum(int(row["records"]) for row in rows) == 30


def test_cli_pull_wrong_key_exits_4_with_the_service_message(
    cloud: TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_KEY_ID, "LTAInobody")
    monkeypatch.setenv(ENV_KEY_SECRET, "secret")
    code, text, err = _pull(cloud, tmp_path / "a.jsonl", "audit")
    assert code == 4 and text == ""
    assert err == ("dsc-engine pull: DescribeAuditLogs refused (HTTP 404): InvalidAccessKeyId.NotFound: "
                   "Specified access key is not found.\n")


def test_cli_pull_interrupted_says_how_to_resume_and_resumes(
    keyed: TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = SdkUpstream.call

    def killed_at_the_fifth(self: SdkUpstream, operation: Any, params: Any) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real(self, operation, params)

    monkeypatch.setattr(SdkUpstream, "call", killed_at_the_fifth)
    out = tmp_path / "a.jsonl"
    code, _, err = _pull(keyed, out, "audit")
    checkpoint = default_checkpoint(out)
    assert code == 130 and checkpoint.exists()
    assert f"{checkpoint} keeps what is done; run the same command again to resume" in err
    code, text, _ = _pull(keyed, out, "audit")
    assert code == 0 and "(resumed)" in text and "30 records" in text


def test_cli_pull_interrupted_within_its_first_slice_says_it_starts_over(
    keyed: TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No slice done, no checkpoint: Ctrl-C said only "interrupted", where the docs promise how
    to resume; it says the same command starts over."""

    def killed(self: SdkUpstream, operation: Any, params: Any) -> dict[str, Any]:
        raise KeyboardInterrupt

    monkeypatch.setattr(SdkUpstream, "call", killed)
    out = tmp_path / "a.jsonl"
    code, _, err = _pull(keyed, out, "audit")
    assert code == 130 and not default_checkpoint(out).exists()
    assert "nothing to resume; the same command starts over" in err


def test_cli_pull_refuses_a_checkpoint_of_another_pull_with_status_2(keyed: TestServer, tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    default_checkpoint(out).write_text(json.dumps({
        "dsc-engine pull checkpoint": 1, "output": str(out),
        "jobs": [{"action": "DescribeAuditLogs", "since": 0, "until": 1, "params": {}, "expected": None,
                  "done": [], "todo": [[0, 1]]}],
    }), encoding="utf-8")
    code, _, err = _pull(keyed, out, "audit")
    assert code == 2 and "the checkpoint of another pull" in err and "delete it to start over" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--param", "UserName=a", "--param", "UserName=b"], "given twice"),
     (["--param", "PageSize=5"], "use --page-size"),
     (["--page-size", "51"], "1 to 50 records"),
     (["--out", "-"], "not standard output")],
)
def test_cli_pull_usage_errors_exit_2(keyed: TestServer, tmp_path: Path, argv: list[str], message: str) -> None:
    code, _, err = run("pull", "audit", *WINDOW, "--endpoint", keyed.url, "--out", str(tmp_path / "a.jsonl"), *argv)
    assert code == 2 and message in err


def test_cli_pull_out_naming_standard_output_itself_is_refused_as_dash(keyed: TestServer, tmp_path: Path) -> None:
    """``--out /dev/stdout`` with standard output redirected to a file is ``--out -`` under another
    name: the pull renamed its pages over the file the shell had opened, and the summary went to
    the file it replaced. Refused as ``-`` is, before any call."""
    target = tmp_path / "redirected.jsonl"
    with target.open("w", encoding="utf-8") as stdout:
        err = io.StringIO()
        code = main(["pull", "audit", *WINDOW, "--endpoint", keyed.url, "--out", str(target)], out=stdout, err=err)
    assert code == 2 and "not standard output" in err.getvalue(), err.getvalue()
    assert target.read_text(encoding="utf-8") == "" and not default_checkpoint(str(target)).exists()


@pytest.mark.parametrize(
    ("since", "message"),
    [("--5", "not a time"), ("\u00b2", "not a time"), ("\u0661\u0662\u0663", "not a time"),
     ("99999999999999999999", "64-bit"), ("-9223372036854775809", "64-bit")],
)
def test_cli_pull_unix_milliseconds_are_ascii_digits_within_64_bits(
    keyed: TestServer, tmp_path: Path, since: str, message: str
) -> None:
    code, _, err = run("pull", "audit", f"--since={since}", "--until", "1000", "--endpoint", keyed.url,
                       "--out", str(tmp_path / "a.jsonl"))
    assert code == 2 and "--since" in err and message in err and "internal error" not in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_cli_pull_reads_a_window_without_a_zone_in_the_tz_zone_as_filters_are(
    keyed: TestServer, tmp_path: Path, where: str
) -> None:
    """--tz is the zone an Sddp time without one is read in; a DMS window is naive, never converted."""
    zone = ["--tz", "Asia/Shanghai"]
    argv = ["pull", "audit", "dms", "--since", "2026-10-01 08:00:00", "--until", "2026-10-01 09:00:00",
            "--endpoint", keyed.url, "--out", str(tmp_path / "a.jsonl"), "--format", "json"]
    code, text, err = run(*zone, *argv) if where == "before" else run(*argv, *zone)
    assert code == 0, err
    audit, dms = json.loads(text)["jobs"]
    assert (audit["since"], audit["until"]) == ("2026-10-01T00:00:00.000Z", "2026-10-01T01:00:00.000Z")
    assert (dms["since"], dms["until"]) == ("2026-10-01 08:00:00", "2026-10-01 09:00:00")


def test_cli_pull_without_the_sdk_names_the_extra(keyed: TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "alibabacloud_tea_openapi.models", None)
    code, _, err = _pull(keyed, tmp_path / "a.jsonl", "audit")
    assert code == 3 and "pip install 'dsc-engine[pull]'" in err and "alibabacloud_tea_openapi" in err


def test_cli_pull_needs_a_region_or_an_endpoint(keyed: TestServer, tmp_path: Path) -> None:
    code, _, err = run("pull", "audit", *WINDOW, "--out", str(tmp_path / "a.jsonl"))
    assert code == 3 and "give a region (--region) or an endpoint (--endpoint)" in err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_records_and_eta_on_a_terminal_only() -> None:
    assert render(Progress("DescribeAuditLogs", 250, 1000, 3), elapsed=10.0, gained=250) == (
        "DescribeAuditLogs [#######.......................]  25% 250/1000 records, ETA 00:00:30"
    )
    assert render(Progress("DescribeAuditLogs", 0, None, 0), 0.0, 0) == "DescribeAuditLogs: 0 records"
    ticks = iter([0.0, 1.0, 2.0])
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        bar = PullBar(stream, clock=lambda: next(ticks, 3.0))
        bar(Progress("ListSensitiveDataAuditLog", 0, 100, 0))
        bar(Progress("ListSensitiveDataAuditLog", 50, 100, 1))
        bar.finish()
    assert "50/100 records, ETA 00:00:01" in terminal.getvalue() and terminal.getvalue().endswith("\r")
    assert pipe.getvalue() == ""


@pytest.mark.slow
def test_a_pull_process_killed_hard_resumes_with_no_gap_and_no_duplicate(keyed: TestServer, tmp_path: Path) -> None:
    """SIGKILL, not an exception: whatever was half-written (a part file, a checkpoint being
    replaced) must not leak into the resumed result."""
    out = tmp_path / "a.jsonl"
    argv = ["pull", "audit", *WINDOW, "--endpoint", keyed.url, "--out", str(out), "--page-size", "2",
            "--max-depth", "2", "--rate", "25"]
    log = tmp_path / "stderr.txt"
    with open(log, "w", encoding="utf-8") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "dsc_engine.cli", *argv],
                                   stdout=subprocess.DEVNULL, stderr=stderr)
    checkpoint = default_checkpoint(out)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            if checkpoint.exists() and _done_with_records(checkpoint) >= 2:
                break
            time.sleep(0.02)
        assert process.poll() is None, f"the pull ended before it could be killed: {log.read_text()}"
        process.kill()
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert not out.exists() and checkpoint.exists()
    code, text, err = run(*argv[:-2], "--rate", "1000")
    assert code == 0, err
    assert "(resumed)" in text
    items = [item for line in out.read_text(encoding="utf-8").splitlines() for item in json.loads(line)["Items"]]
    expected = keyed.engine.call("DescribeAuditLogs", {"PageSize": 50})["Items"]
    assert items == expected and len(items) == 30


def _done_with_records(checkpoint: Path) -> int:
    try:
        state = json.loads(checkpoint.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # being replaced this very moment
        return 0
    return sum(1 for job in state["jobs"] for done in job["done"] if done[2] > 0)


def test_cli_pull_takes_format_after_the_command_as_every_command_does(keyed: TestServer, tmp_path: Path) -> None:
    code, text, err = run("pull", "audit", *WINDOW, "--endpoint", keyed.url, "--out", str(tmp_path / "a.jsonl"),
                          "--rate", "1000", "--format", "json", "--tz", "+08:00")
    assert code == 0, err
    assert json.loads(text)["records"] == 30


def test_cli_pull_without_credentials_says_so_in_one_line_without_the_sdks_tracebacks(
    cloud: TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    import logging

    from dsc_engine.pull import credentials

    def chain_that_finds_nothing(self: credentials.DefaultChain) -> credentials.Credentials:
        try:  # what the credentials package does when its ECS provider finds no instance role
            raise RuntimeError("Failed to get RAM session credentials from ECS metadata service")
        except RuntimeError as exc:
            logging.getLogger("credentials").exception(exc)
            raise credentials.no_credentials(str(exc)) from None

    monkeypatch.delenv(ENV_KEY_ID, raising=False)
    monkeypatch.delenv(ENV_KEY_SECRET, raising=False)
    monkeypatch.setattr(credentials.DefaultChain, "__init__", lambda self: None)
    monkeypatch.setattr(credentials.DefaultChain, "current", chain_that_finds_nothing)
    code, text, err = _pull(cloud, tmp_path / "a.jsonl", "audit")
    assert code == 3 and "no Alibaba Cloud credentials" in err and err.count("\n") == 1
    assert "Traceback" not in capfd.readouterr().err  # the package logs through its own logger


@pytest.mark.parametrize(
    ("value", "reason"),
    [("١", "expected a whole number in digits 0-9, got '١'"), ("1_0", "expected a whole number in digits 0-9, got '1_0'"),
     (" 5", "expected a whole number in digits 0-9, got ' 5'"), ("-1", "must be 0 or more, got -1")],
)
def test_cli_pull_retries_are_a_count_in_ascii_digits_as_every_count_option(
    keyed: TestServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, reason: str
) -> None:
    code, _, err = run("pull", "audit", *WINDOW, "--endpoint", keyed.url, "--out", str(tmp_path / "a.jsonl"),
                       f"--retries={value}")
    assert code == 2 and f"argument --retries: {reason}" in err + capsys.readouterr().err


def test_cli_pull_that_gets_no_answer_exits_3_as_a_pull_that_cannot_go_on(keyed: TestServer, tmp_path: Path) -> None:
    # it exited 4, the status of a call the service refused, when no service answered at all
    import socket

    with socket.socket() as probe:  # a port nothing listens on: every connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, text, err = run("pull", "audit", *WINDOW, "--endpoint", f"http://127.0.0.1:{port}",
                          "--out", str(tmp_path / "a.jsonl"), "--retries", "0", "--rate", "1000")
    assert code == 3 and text == ""
    assert "(no answer)" in err and "NoResponse" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:99999", "http://gw.example/sddp", "ftp://h"])
def test_cli_pull_an_endpoint_that_is_no_host_and_port_is_a_usage_error(tmp_path: Path, endpoint: str) -> None:
    """A bad --endpoint is a bad argument (exit 2, naming the option), as a bad --since is; it was
    exit 3, as if the pull had been stopped on its way."""
    code, _, err = run("pull", "audit", *WINDOW, "--out", str(tmp_path / "a.jsonl"), "--endpoint", endpoint)
    assert code == 2 and "--endpoint" in err and "host[:port]" in err


@pytest.mark.parametrize("upstream", ["http://127.0.0.1:0", "http://gw.example/sddp?x=1"])
def test_cli_record_an_upstream_that_is_no_host_and_port_is_a_usage_error(tmp_path: Path, upstream: str) -> None:
    code, _, err = run("record", "--upstream", upstream, "--out", str(tmp_path / "capture.jsonl"))
    assert code == 2 and "--upstream" in err and "host[:port]" in err
