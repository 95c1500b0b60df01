"""``dsc-engine record --upstream``: the recording proxy between the SDK and the real service, the
service played by the engine's own server."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from alibabacloud_dms_enterprise20181101 import models as dms_models
from alibabacloud_dms_enterprise20181101.client import Client as DmsClient
from alibabacloud_sddp20190103 import models as sddp_models
from alibabacloud_sddp20190103.client import Client as SddpClient
from alibabacloud_tea_openapi.models import Config
from Tea.exceptions import TeaException

from dsc_engine import replay
from dsc_engine.engine import Engine
from dsc_engine.errors import ServerConfigError
from dsc_engine.pull.credentials import Credentials, Fixed
from dsc_engine.sample import generate
from dsc_engine.server.client import SignedClient
from dsc_engine.server.config import AccessKey, ServerConfig, generate_access_key
from dsc_engine.server.host import RunningServer
from dsc_engine.server.proxy import RecordingProxy, Target, targets
from dsc_engine.testing import TestServer

DATA = {"audit": generate("audit", 30, seed=21), "masking": generate("masking", 20, seed=21),
        "dms": generate("dms", 25, seed=21)}
WINDOW = {"StartTime": "2000-01-01 00:00:00", "EndTime": "2099-01-01 00:00:00"}


@pytest.fixture(scope="module")
def cloud() -> Iterator[TestServer]:
    """The real service: it knows only the user's real key."""
    with TestServer(DATA) as server:
        yield server


class Recording:
    """A proxy in front of ``cloud``, its capture in memory, and SDK Configs for it."""

    def __init__(self, cloud: TestServer, **options: Any) -> None:
        self.cloud = cloud
        self.local = generate_access_key()  # the proxy's own key: not the cloud's
        self.capture = io.StringIO()
        real = Fixed(Credentials(cloud.access_key.id, cloud.access_key.secret))
        upstreams = options.pop("upstreams", [Target.parse(cloud.url)])
        self.proxy = RecordingProxy(upstreams, real, self.capture, ServerConfig().with_keys([self.local], "test"),
                                    **options)
        self.server = RunningServer(self.proxy)

    def config(self, key: AccessKey | None = None, **overrides: Any) -> Config:
        key = key or self.local
        return Config(access_key_id=key.id, access_key_secret=key.secret, endpoint=self.server.endpoint,
                      protocol="http", connect_timeout=5000, read_timeout=15000, **overrides)

    def calls(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.capture.getvalue().splitlines()]


@pytest.fixture
def recording(cloud: TestServer) -> Iterator[Recording]:
    rec = Recording(cloud)
    yield rec
    rec.server.stop()


def _make_calls(config: Config) -> int:
    """The calls of a small report: pages of each operation, and refused ones; how many were made."""
    sddp, dms = SddpClient(config), DmsClient(config)
    sddp.describe_audit_logs(sddp_models.DescribeAuditLogsRequest(page_size=7, current_page=2, lang="en_us"))
    sddp.describe_audit_logs(sddp_models.DescribeAuditLogsRequest(
        user_name="admin", log_query_op_json='[{"queryKey": "userName", "isContain": false}]'))
    sddp.describe_data_masking_run_history(sddp_models.DescribeDataMaskingRunHistoryRequest(page_size=100, status=1))
    dms.list_sensitive_data_audit_log(dms_models.ListSensitiveDataAuditLogRequest(
        page_number=1, page_size=10, module_name="SQL_CONSOLE", **_snake(WINDOW)))
    for refused in (
        lambda: sddp.describe_audit_logs(sddp_models.DescribeAuditLogsRequest(page_size=500)),
        lambda: dms.list_sensitive_data_audit_log(dms_models.ListSensitiveDataAuditLogRequest(page_size=10)),
    ):
        with pytest.raises(TeaException):
            refused()
    return 6


def _snake(window: dict[str, str]) -> dict[str, str]:
    return {"start_time": window["StartTime"], "end_time": window["EndTime"]}


def _loaded() -> Engine:
    engine = Engine()
    for records in DATA.values():
        engine.load(records)
    return engine


def test_the_proxy_capture_replays_against_the_same_data_with_no_difference(recording: Recording, tmp_path: Path) -> None:
    made = _make_calls(recording.config())
    made += _make_calls(recording.config(signature_algorithm="v2"))
    capture = tmp_path / "capture.jsonl"
    capture.write_text(recording.capture.getvalue(), encoding="utf-8")
    calls = replay.read_calls(capture)
    assert len(calls) == made == recording.proxy.captured
    assert [c.status for c in calls[:6]] == [200, 200, 200, 200, 400, 400]
    report = replay.replay(_loaded(), calls)
    assert report.ok, "\n".join(report.lines())


def test_the_proxy_capture_is_the_upstreams_answer_to_the_calls_params(recording: Recording) -> None:
    body = SddpClient(recording.config()).describe_data_masking_run_history(
        sddp_models.DescribeDataMaskingRunHistoryRequest(page_size=3)).body.to_map()
    (call,) = recording.calls()
    assert call["action"] == "DescribeDataMaskingRunHistory" and call["version"] == "2019-01-03"
    assert call["params"] == {"PageSize": "3"} and call["status"] == 200
    assert call["response"] == body  # what the SDK got is what was captured
    assert len(call["response"]["Items"]) == 3


def test_the_proxy_signs_upstream_with_the_real_key_and_returns_errors_unchanged(recording: Recording) -> None:
    direct = SignedClient(recording.cloud.endpoint, recording.cloud.access_key.id, recording.cloud.access_key.secret)
    via = SignedClient(recording.server.endpoint, recording.local.id, recording.local.secret)
    params = {"PageSize": "0"}
    expected, got = direct.exchange(direct.prepare("DescribeAuditLogs", params)), via.exchange(
        via.prepare("DescribeAuditLogs", params))
    assert got.status == expected.status == 400
    assert got.headers["content-type"] == expected.headers["content-type"]
    mine, theirs = json.loads(got.body), json.loads(expected.body)
    assert mine["RequestId"] == got.headers["x-acs-request-id"]  # the upstream's id, passed on
    volatile = ("RequestId", "Recommend")
    assert {k: v for k, v in mine.items() if k not in volatile} == {k: v for k, v in theirs.items() if k not in volatile}


def test_the_proxy_refuses_a_key_not_its_own_without_calling_upstream(recording: Recording) -> None:
    with pytest.raises(TeaException) as refused:
        SddpClient(recording.config(key=AccessKey(id="LTAIstranger", secret="x"))).describe_audit_logs(
            sddp_models.DescribeAuditLogsRequest())
    assert refused.value.code == "InvalidAccessKeyId.NotFound"
    real = recording.cloud.access_key  # the user's real key is not the proxy's either
    with pytest.raises(TeaException, match="InvalidAccessKeyId.NotFound"):
        SddpClient(recording.config(key=real)).describe_audit_logs(sddp_models.DescribeAuditLogsRequest())
    assert recording.calls() == [] and recording.proxy.captured == 0


def test_the_proxy_takes_any_key_when_told_to(cloud: TestServer) -> None:
    rec = Recording(cloud, accept_any_key=True)
    try:
        config = rec.config(key=AccessKey(id="LTAIwhoever", secret="whatever"))
        assert SddpClient(config).describe_audit_logs(sddp_models.DescribeAuditLogsRequest()).body.total_count == 30
    finally:
        rec.server.stop()


def test_the_proxy_forwards_only_the_engines_operations(recording: Recording) -> None:
    client = SignedClient(recording.server.endpoint, recording.local.id, recording.local.secret)
    status, body = client.call("DescribeRules", {}, version="2019-01-03")
    assert (status, body["Code"]) == (404, "InvalidApi.NotFound")
    assert recording.calls() == []


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_the_proxy_refuses_the_methods_the_server_refuses_without_calling_upstream(
    recording: Recording, method: str
) -> None:
    # a signed PUT was forwarded upstream as a POST and its answer captured
    client = SignedClient(recording.server.endpoint, recording.local.id, recording.local.secret)
    answer = client.exchange(client.prepare("DescribeAuditLogs", {}, method=method))
    assert (answer.status, json.loads(answer.body)["Code"]) == (405, "UnsupportedHTTPMethod")
    assert answer.headers["allow"] == "GET, POST"
    assert recording.calls() == []


def test_the_proxys_refusals_before_routing_link_the_product_of_the_action_named(recording: Recording) -> None:
    # as the server's do: the proxy linked Sddp for every request refused before it was routed
    client = SignedClient(recording.server.endpoint, recording.local.id, recording.local.secret)
    request = client.prepare("ListSensitiveDataAuditLog", {"PageSize": "1"})
    answer = client.exchange(attrs.evolve(request, url=request.url + "&PageSize=2"))
    body = json.loads(answer.body)
    assert (answer.status, body["Code"]) == (400, "InvalidParameter")
    assert "product=dms-enterprise" in body["Recommend"]


def test_an_upstream_that_does_not_answer_is_service_unavailable_and_not_captured(cloud: TestServer) -> None:
    gone = RunningServer(lambda environ, start: [])  # a free port, then nobody on it
    url = gone.url
    gone.stop()
    rec = Recording(cloud, upstreams=[Target.parse(url)], timeout=2.0)
    try:
        client = SignedClient(rec.server.endpoint, rec.local.id, rec.local.secret)
        status, body = client.call("DescribeAuditLogs", {})
        assert (status, body["Code"]) == (503, "ServiceUnavailable")
        assert rec.calls() == []
    finally:
        rec.server.stop()


@pytest.mark.parametrize(
    ("sent", "reason"),
    [(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n{\"TotalCount\": 1",
      "IncompleteRead"),
     (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "BadStatusLine")],
)
def test_an_upstream_answer_cut_short_or_not_http_is_service_unavailable_and_not_captured(
    cloud: TestServer, sent: bytes, reason: str
) -> None:
    status, body, rec = _one_call_to_raw_upstream(cloud, sent)
    assert (status, body["Code"]) == (503, "ServiceUnavailable") and reason in body["Message"]
    assert rec.calls() == []


def _one_call_to_raw_upstream(cloud: TestServer, sent: bytes, *, holds: bool = False) -> tuple[int, Any, Recording]:
    """A call through a recording proxy to an upstream that answers ``sent`` as raw bytes (then,
    ``holds``, keeps the connection open, sending nothing more): its status, body, recording."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def answer_once() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(sent)
            if holds:
                done.wait(10)

    thread = threading.Thread(target=answer_once, daemon=True)
    thread.start()
    rec = Recording(cloud, upstreams=[Target.parse(f"http://127.0.0.1:{listener.getsockname()[1]}")], timeout=8.0)
    try:
        client = SignedClient(rec.server.endpoint, rec.local.id, rec.local.secret)
        status, body = client.call("DescribeAuditLogs", {})
    finally:
        done.set()
        rec.server.stop()
        thread.join(5)
        listener.close()
    return status, body, rec


def test_an_upstream_redirect_is_returned_not_followed(cloud: TestServer) -> None:
    """Followed, it would send the call signed with the real key (and its token) where the
    Location says, and capture that host's answer as the upstream's."""
    elsewhere: list[str] = []

    def other(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        elsewhere.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"TotalCount": 0, "Items": [], "RequestId": "ELSEWHERE"}']

    with RunningServer(other) as target:
        def moved(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            start_response("302 Found", [("Location", f"{target.url}/elsewhere"), ("Content-Length", "0")])
            return []

        with RunningServer(moved) as upstream:
            rec = Recording(cloud, upstreams=[Target.parse(upstream.url)], timeout=5.0)
            try:
                client = SignedClient(rec.server.endpoint, rec.local.id, rec.local.secret)
                answer = client.exchange(client.prepare("DescribeAuditLogs", {}))
            finally:
                rec.server.stop()
    assert answer.status == 302 and b"ELSEWHERE" not in answer.body
    assert elsewhere == [] and rec.calls() == [] and rec.proxy.not_captured == 1


def test_an_upstream_throttling_reaches_the_sdk_as_throttling_with_its_wait(cloud: TestServer) -> None:
    """The SDK makes an error carrying ``x-acs-retry-after`` a ThrottlingException with that
    wait; the proxy passed back only the body, so behind it the same answer was a plain
    ClientException."""
    from alibabacloud_tea_openapi.exceptions import ThrottlingException

    body = b'{"Code": "Throttling.User", "Message": "Request was denied due to user flow control.", "RequestId": "T1"}'

    def throttled(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("400 Bad Request", [("Content-Type", "application/json"), ("x-acs-request-id", "T1"),
                                           ("x-acs-retry-after", "1500")])
        return [body]

    with RunningServer(throttled) as upstream:
        rec = Recording(cloud, upstreams=[Target.parse(upstream.url)], timeout=5.0)
        try:
            with pytest.raises(ThrottlingException) as caught:
                SddpClient(rec.config()).describe_audit_logs(sddp_models.DescribeAuditLogsRequest())
        finally:
            rec.server.stop()
    assert caught.value.retry_after == 1500 and caught.value.code == "Throttling.User"
    assert rec.calls()[0]["status"] == 400


def test_several_upstreams_are_chosen_by_the_product_their_host_names() -> None:
    sddp = Target.parse("https://sddp.cn-zhangjiakou.aliyuncs.com")
    dms = Target.parse("https://dms-enterprise.cn-hangzhou.aliyuncs.com/")
    assert targets([sddp.url, dms.url]) == (sddp, dms)
    assert sddp.serves("Sddp") and not sddp.serves("dms-enterprise") and dms.serves("dms-enterprise")
    assert Target.parse("https://sddp-api.cn-hongkong.aliyuncs.com").serves("Sddp")
    with pytest.raises(ServerConfigError, match="each host must name its product"):
        targets([sddp.url, "http://127.0.0.1:9000"])
    with pytest.raises(ServerConfigError, match=r"expected http\(s\)://host"):
        targets(["sddp.cn-zhangjiakou.aliyuncs.com"])


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9000/some/path", "https://sddp.cn-zhangjiakou.aliyuncs.com?x=1",
            "http://127.0.0.1:99999", "http://127.0.0.1:0", "http://[::1", "http://user@host", "http://:80"]
)
def test_an_upstream_that_is_no_host_and_port_is_refused_not_cut_down(url: str) -> None:
    """A path or query would be dropped (calls go to the host), a port out of range or a broken
    address would only fail at the first call."""
    with pytest.raises(ServerConfigError, match=r"expected http\(s\)://host\[:port\]"):
        Target.parse(url)
    assert Target.parse("http://[::1]:9000/").endpoint == "[::1]:9000"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["capture.jsonl", "new/folder/capture.jsonl.gz"])
def test_cli_record_upstream_captures_until_sigterm_and_prints_the_summary(
    cloud: TestServer, tmp_path: Path, name: str
) -> None:
    """The capture's folder is made, and a name ending .gz is written gzip'd, as any --out is.
    In json the banner goes to stderr, so that stdout is the summary alone, one JSON document
    (it held the banner's text before it)."""
    capture = tmp_path / name
    env = {**os.environ, "ALIBABA_CLOUD_ACCESS_KEY_ID": cloud.access_key.id,
           "ALIBABA_CLOUD_ACCESS_KEY_SECRET": cloud.access_key.secret}
    as_json = name.endswith(".gz")
    process = subprocess.Popen(
        [sys.executable, "-m", "dsc_engine.cli", "record", "--upstream", cloud.url, "--port", "0",
         "--access-key", "LTAIlocal:local-secret", "--out", str(capture), *(["--format", "json"] if as_json else [])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    watchdog = threading.Timer(60, process.kill)  # a banner on the other stream: readline would wait forever
    watchdog.start()
    try:
        assert process.stdout is not None and process.stderr is not None
        banner = (process.stderr if as_json else process.stdout).readline()
        assert banner.startswith("dsc-engine recording at http://127.0.0.1:"), banner + (process.stderr.read() if process.poll() is not None else "")
        endpoint = banner.split("http://", 1)[1].split("/", 1)[0]
        config = Config(access_key_id="LTAIlocal", access_key_secret="local-secret", endpoint=endpoint, protocol="http")
        assert SddpClient(config).describe_audit_logs(sddp_models.DescribeAuditLogsRequest()).body.total_count == 30
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    if as_json:
        assert json.loads(out) == {"recorded": 1, "to": str(capture)}
    else:
        assert "recorded  1" in out and str(capture) in out
    (call,) = replay.read_calls(capture)
    assert call.action == "DescribeAuditLogs" and call.status == 200
    assert capture.read_bytes().startswith(b"\x1f\x8b") == name.endswith(".gz")


def _two_calls_through(cloud: TestServer, upstream_app: Any) -> tuple[Any, Recording]:
    """A recording proxy to ``upstream_app``: the answer to a call without parameters, after a
    second call with PageSize=5 went through too, and the recording."""
    with RunningServer(upstream_app) as upstream:
        rec = Recording(cloud, upstreams=[Target.parse(upstream.url)], timeout=5.0)
        try:
            client = SignedClient(rec.server.endpoint, rec.local.id, rec.local.secret)
            answer = client.exchange(client.prepare("DescribeAuditLogs", {}))
            client.exchange(client.prepare("DescribeAuditLogs", {"PageSize": "5"}))
        finally:
            rec.server.stop()
    return answer, rec


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (200, b'{"TotalCount": NaN, "Items": []}', "NaN is not JSON"),
        (200, b'{"TotalCount": 1, "TotalCount": 2, "Items": []}', "names 'TotalCount' twice"),
        (200, b'{"A": ' * 70 + b"1" + b"}" * 70, "nested too deeply"),
        (799, b'{"TotalCount": 0, "Items": []}', "status 799 is no HTTP status"),
    ],
    ids=["nan", "repeated-key", "too-deep", "status-799"],
)
def test_an_upstream_answer_replay_cannot_read_is_returned_not_captured(
    cloud: TestServer, status: int, body: bytes, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Captured, such an answer made the whole capture unreadable: replay refuses the line."""

    def odd(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(f"{status} Odd", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    answer, rec = _two_calls_through(cloud, odd)
    assert (answer.status, answer.body) == (status, body)
    assert rec.calls() == [] and rec.proxy.not_captured == 2
    assert problem in caplog.text


def test_cli_record_upstream_on_a_port_in_use_leaves_the_earlier_capture_whole(
    cloud: TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The capture was opened (emptied) before the port was bound: a second proxy started on the
    same port wiped the first one's capture, and said only "Address already in use" (exit 3)."""
    from dsc_engine.cli import main

    capture = tmp_path / "capture.jsonl"
    capture.write_text('{"action": "DescribeAuditLogs", "params": {}, "response": {}}\n', encoding="utf-8")
    before = capture.read_bytes()
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", cloud.access_key.id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", cloud.access_key.secret)
    out, err = io.StringIO(), io.StringIO()
    with socket.create_server(("127.0.0.1", 0)) as taken:
        busy = taken.getsockname()[1]
        status = main(["record", "--upstream", cloud.url, "--port", str(busy), "--out", str(capture)], out=out, err=err)
    assert status == 2, err.getvalue()
    assert f"cannot bind 127.0.0.1:{busy}" in err.getvalue() and "not touched" in err.getvalue()
    assert capture.read_bytes() == before


def test_the_calls_a_proxy_captured_in_memory_go_first_into_the_capture_it_is_given(recording: Recording) -> None:
    SignedClient(recording.server.endpoint, recording.local.id, recording.local.secret).call("DescribeAuditLogs", {})
    held = recording.calls()
    into = io.StringIO()
    recording.proxy.capture_into(into)
    SignedClient(recording.server.endpoint, recording.local.id, recording.local.secret).call(
        "DescribeAuditLogs", {"PageSize": "3"})
    lines = [json.loads(line) for line in into.getvalue().splitlines()]
    assert len(held) == 1 and lines[:1] == held and lines[1]["params"] == {"PageSize": "3"}


def test_cli_record_upstream_refuses_an_empty_host(capsys: pytest.CaptureFixture[str]) -> None:
    from dsc_engine.cli import main

    status = main(["record", "--upstream", "https://sddp.cn-zhangjiakou.aliyuncs.com", "--host", "", "--out", "c.jsonl"])
    assert status == 2 and "argument --host" in capsys.readouterr().err


def test_an_answer_arriving_after_the_capture_closed_still_reaches_the_caller(cloud: TestServer) -> None:
    """Stopping waits 10 s for the calls being forwarded, the upstream up to 60: a later answer
    was written to the closed capture, and the caller got InternalError instead of it."""
    arrived, release = threading.Event(), threading.Event()
    body = b'{"TotalCount": 0, "Items": [], "RequestId": "LATE"}'

    def slow(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        arrived.set()
        release.wait(10)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    answers: list[Any] = []
    with RunningServer(slow) as upstream:
        rec = Recording(cloud, upstreams=[Target.parse(upstream.url)], timeout=15.0)
        client = SignedClient(rec.server.endpoint, rec.local.id, rec.local.secret, timeout=15.0)
        caller = threading.Thread(target=lambda: answers.append(client.exchange(client.prepare("DescribeAuditLogs", {}))))
        caller.start()
        try:
            assert arrived.wait(10)
            rec.capture.close()
            release.set()
            caller.join(15)
        finally:
            release.set()
            rec.server.stop()
    (answer,) = answers
    assert (answer.status, answer.body) == (200, body)
    assert rec.proxy.captured == 0 and rec.proxy.not_captured == 1


def test_an_upstream_answer_longer_than_a_capture_line_may_be_is_returned_not_captured(
    cloud: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """replay reads capture lines up to MAX_LINE bytes (64 MiB): a longer one captured made the
    whole capture unreadable. The limit is lowered here, for the reader and the proxy alike."""
    from dsc_engine.io import sources

    monkeypatch.setattr(sources, "MAX_LINE", 4096)
    body = json.dumps({"TotalCount": 1, "Items": [{"SqlText": "x" * 4040}]}).encode()
    assert len(body) <= 4096  # a longer body is not even read whole (next test)

    def big(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body if "PageSize" not in environ["QUERY_STRING"] else b'{"TotalCount": 0, "Items": []}']

    answer, rec = _two_calls_through(cloud, big)
    assert answer.body == body
    assert [call["params"] for call in rec.calls()] == [{"PageSize": "5"}] and rec.proxy.not_captured == 1


def test_an_upstream_body_longer_than_a_capture_line_is_not_read_whole(
    cloud: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy read an upstream's body whole, whatever its size, before finding it too long to
    capture: it reads one byte past what a capture line holds (MAX_LINE, lowered here) and
    answers ServiceUnavailable. The upstream here promises 1 GiB, sends 10,000 bytes and waits."""
    from dsc_engine.io import sources

    monkeypatch.setattr(sources, "MAX_LINE", 4096)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n"
    status, body, rec = _one_call_to_raw_upstream(cloud, head + b"[" * 10_000, holds=True)  # the rest never comes
    assert (status, body["Code"]) == (503, "ServiceUnavailable")
    assert "answered a body longer than the 4,096 bytes a capture line holds" in body["Message"]
    assert rec.calls() == []


@pytest.mark.parametrize("option", [["--strict"], ["--kind", "audit"], ["--keep-duplicates"]])
def test_cli_record_upstream_refuses_the_options_of_data_files_it_reads_none_of(
    option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # taken and ignored, the proxy started as if they applied
    from dsc_engine.cli import main

    status = main(["record", "--upstream", "https://sddp.cn-zhangjiakou.aliyuncs.com", *option, "--out", "c.jsonl"])
    assert status == 2 and f"{option[0]}: applies only to --data files" in capsys.readouterr().err


def test_cli_record_upstream_refuses_an_access_key_beside_accept_any_key(capsys: pytest.CaptureFixture[str]) -> None:
    # the key was taken and checked nothing: any key went through
    from dsc_engine.cli import main

    status = main(["record", "--upstream", "https://sddp.cn-zhangjiakou.aliyuncs.com", "--accept-any-key",
                   "--access-key", "LTAIlocal:secret", "--out", "c.jsonl"])
    assert status == 2 and "--access-key: does nothing beside --accept-any-key" in capsys.readouterr().err


def test_cli_record_upstream_bad_access_key_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # it exited 3, the status of data that cannot be read, and only once credentials were found
    from dsc_engine.cli import main

    status = main(["record", "--upstream", "https://sddp.cn-zhangjiakou.aliyuncs.com", "--access-key", "nocolon",
                   "--out", "c.jsonl"])
    assert status == 2 and "--access-key: nocolon: expected ID:SECRET" in capsys.readouterr().err
