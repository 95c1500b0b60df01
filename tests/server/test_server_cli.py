"""``dsc-engine serve``: flags, exit codes, the generated key, a real SDK call, clean shutdown."""

from __future__ import annotations

import argparse
import io
import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest
from alibabacloud_sddp20190103 import models as sddp_models
from alibabacloud_sddp20190103.client import Client as SddpClient
from alibabacloud_tea_openapi.models import Config

from dsc_engine.sample import generate
from dsc_engine.server import cli


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dsc-engine")
    cli.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["serve", *argv])


def write_records(path: Path) -> Path:
    from dsc_engine.wire.codec import to_wire

    records = generate("audit", 25, seed=5)
    path.write_text("".join(json.dumps(to_wire(r)) + "\n" for r in records), encoding="utf-8")
    return path


class Served:
    """``run`` in a thread; ``url``/``out`` once it prints its address."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.out, self.err = io.StringIO(), io.StringIO()
        self.stop = threading.Event()
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, args=(args,))
        self.thread.start()
        deadline = time.monotonic() + 20
        while "serving at" not in self.out.getvalue():
            assert self.thread.is_alive() and time.monotonic() < deadline, self.err.getvalue()
            time.sleep(0.02)
        self.endpoint = re.search(r"http://([^/]+)/", self.out.getvalue()).group(1)

    def _run(self, args: argparse.Namespace) -> None:
        self.code = cli.run(args, out=self.out, err=self.err, stop=self.stop)

    def finish(self) -> int | None:
        self.stop.set()
        self.thread.join(timeout=10)
        return self.code


def test_help_documents_examples_and_exit_codes() -> None:
    parser = argparse.ArgumentParser(prog="dsc-engine")
    sub = cli.register(parser.add_subparsers(dest="command"))
    text = sub.format_help()
    assert "dsc-engine serve --data" in text and "exit status" in text
    for code in ("0 ", "2 ", "3 ", "4 "):
        assert f"\n  {code}" in text


def test_serves_data_with_a_generated_key(tmp_path: Path) -> None:
    served = Served(parse("--data", str(write_records(tmp_path / "audit.jsonl")), "--port", "0"))
    try:
        text = served.out.getvalue()
        key_id = re.search(r"AccessKeyId:\s+(\S+)", text).group(1)
        secret = re.search(r"AccessKeySecret:\s+(\S+)", text).group(1)
        config = Config(access_key_id=key_id, access_key_secret=secret, endpoint=served.endpoint,
                        protocol="http", connect_timeout=5000, read_timeout=10000)
        body = SddpClient(config).describe_audit_logs(sddp_models.DescribeAuditLogsRequest()).body
        assert body.total_count == 25
        assert served.endpoint.startswith("127.0.0.1:")
        assert "loaded" in served.err.getvalue()
    finally:
        assert served.finish() == cli.EXIT_OK


def test_rejected_records_are_shown_by_reason_while_the_rest_is_served(tmp_path: Path) -> None:
    data = write_records(tmp_path / "audit.jsonl")
    with data.open("a", encoding="utf-8") as out:
        out.write('{"CreationTime": "soon"}\n{"CreationTime": "later"}\nnot json\n')
    served = Served(parse("--data", str(data), "--port", "0", "--access-key", "LTAIr:r-secret"))
    try:
        err = served.err.getvalue()
        assert "read 28 records = 25 loaded" in err and "3 rejected" in err
        assert "2 × " in err and "CreationTime" in err  # one reason, counted, with its examples
        assert f"{data}:26" in err and f"{data}:28" in err  # where each one is
    finally:
        assert served.finish() == cli.EXIT_OK


def test_serves_a_database_url(tmp_path: Path) -> None:
    from dsc_engine import Engine

    url = f"duckdb://{tmp_path}/logs.duckdb"
    with Engine.connect(url) as engine:
        engine.load(write_records(tmp_path / "audit.jsonl"))
    served = Served(parse("--data", url, "--port", "0", "--access-key", "LTAIdb:db-secret"))
    try:
        config = Config(access_key_id="LTAIdb", access_key_secret="db-secret", endpoint=served.endpoint,
                        protocol="http", connect_timeout=5000, read_timeout=10000)
        body = SddpClient(config).describe_audit_logs(sddp_models.DescribeAuditLogsRequest()).body
        assert body.total_count == 25
    finally:
        assert served.finish() == cli.EXIT_OK
    with Engine.connect(url) as engine:  # closed when the server stopped: the file is free again
        assert len(engine.store("audit")) == 25


def test_configured_keys_are_used_and_nothing_is_generated(tmp_path: Path) -> None:
    config_file = tmp_path / "server.json"
    config_file.write_text(json.dumps({"throttle": {"enabled": False}}), encoding="utf-8")
    args = parse("--data", str(write_records(tmp_path / "a.jsonl")), "--port", "0",
                 "--config", str(config_file), "--access-key", "LTAIcli:cli-secret")
    served = Served(args)
    try:
        assert "AccessKeyId" not in served.out.getvalue()
        config = Config(access_key_id="LTAIcli", access_key_secret="cli-secret",
                        endpoint=served.endpoint, protocol="http", connect_timeout=5000, read_timeout=10000)
        client = SddpClient(config)
        for _ in range(12):  # throttling is off in the file
            client.describe_audit_logs(sddp_models.DescribeAuditLogsRequest())
    finally:
        served.finish()


def test_flags_override_the_file(tmp_path: Path) -> None:
    config_file = tmp_path / "s.toml"
    config_file.write_text('host = "0.0.0.0"\nport = 1234\n[throttle]\nrate = 3\n', encoding="utf-8")
    config = cli.build_config(parse("--config", str(config_file), "--host", "127.0.0.1",
                                    "--throttle-rate", "7"))
    assert (config.host, config.port, config.throttle.rate) == ("127.0.0.1", 1234, 7.0)
    assert not cli.build_config(parse("--no-throttle")).throttle.enabled


@pytest.mark.parametrize(
    "argv",
    [["--sample", "--access-key", "nocolon"], ["--sample", "--config", "/nonexistent.toml"],
     ["--sample", "--throttle-rate", "0"], ["--sample", "--throttle-rate", "0.0"], []],
    ids=["bad-key", "no-config", "zero-rate", "zero-point-rate", "no-data"],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    err = io.StringIO()
    assert cli.run(parse(*argv), out=io.StringIO(), err=err) == cli.EXIT_USAGE
    assert err.getvalue().startswith("dsc-engine serve: ")


@pytest.mark.parametrize("port", ["99999", "-1", "١", " 80", "1" * 5000])
def test_a_port_that_is_none_is_a_usage_error(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse("--sample", "--port", port)
    assert exit_.value.code == 2 and "argument --port" in capsys.readouterr().err


@pytest.mark.parametrize("rate", ["1_000", " 5", "1e3", "٣", "-2", "0x10", "", "inf", "nan"])
def test_a_throttle_rate_not_written_in_decimal_digits_is_a_usage_error(rate: str, capsys: pytest.CaptureFixture[str]) -> None:
    # float() read "1_000", " 5", "1e3" and "٣" as rates; a rate is written as 10 or 2.5
    with pytest.raises(SystemExit) as exit_:
        parse("--sample", "--throttle-rate", rate)
    assert exit_.value.code == 2 and "argument --throttle-rate: expected calls per second in digits 0-9" in capsys.readouterr().err


def test_a_throttle_rate_in_decimal_digits_is_read() -> None:
    for text, value in (("7", 7.0), ("2.5", 2.5), (".5", 0.5), ("10.", 10.0)):
        assert cli.build_config(parse("--throttle-rate", text)).throttle.rate == value


@pytest.mark.parametrize("host", ["", "  "])
def test_an_empty_host_is_a_usage_error_not_every_interface(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    # a socket bound to "" listens on every interface: `--host "$UNSET"` exposed the server and
    # printed http://:PORT/
    with pytest.raises(SystemExit) as exit_:
        parse("--sample", "--host", host)
    assert exit_.value.code == 2 and "argument --host" in capsys.readouterr().err


def test_unloadable_data_exits_3(tmp_path: Path) -> None:
    err = io.StringIO()
    assert cli.run(parse("--data", str(tmp_path / "none.jsonl")), out=io.StringIO(), err=err) == cli.EXIT_DATA
    assert "cannot load data" in err.getvalue()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"CreationTime": 1, "Bogus": 2}\n', encoding="utf-8")
    code = cli.run(parse("--data", str(bad), "--kind", "audit", "--strict"), out=io.StringIO(), err=err)
    assert code == cli.EXIT_DATA


def test_port_in_use_exits_4(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = io.StringIO()
        args = parse("--data", str(write_records(tmp_path / "a.jsonl")), "--port", str(port))
        assert cli.run(args, out=io.StringIO(), err=err) == cli.EXIT_BIND
    assert f"cannot bind 127.0.0.1:{port}" in err.getvalue()


def test_serving_a_database_url_that_names_no_database_is_refused(tmp_path: Path) -> None:
    from dsc_engine.errors import BackendError

    typo = tmp_path / "logs.duckbd"
    with pytest.raises(BackendError, match="no database at"):
        cli._load(parse("--data", f"duckdb://{typo}"), io.StringIO())
    assert not typo.exists()
