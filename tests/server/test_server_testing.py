"""``dsc_engine.testing`` as a user meets it: the fixtures, the shared server, ``serve``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import attrs
import pytest
from alibabacloud_sddp20190103.client import Client
from alibabacloud_sddp20190103.models import DescribeAuditLogsRequest, DescribeDataMaskingRunHistoryRequest
from alibabacloud_tea_openapi.models import Config
from Tea.exceptions import TeaException, UnretryableException
from inpytest import run_pytest

from dsc_engine.errors import InvalidParameterError, RecordError, ServerConfigError
from dsc_engine.wire.codec import response_item, to_wire
from dsc_engine.mocking import UNTHROTTLED, EngineMock
from dsc_engine.models.records import Record
from dsc_engine.sample import generate
from dsc_engine.server.config import AccessKey, Limits, ServerConfig, ThrottleConfig
from dsc_engine.server.policy import Policy
from dsc_engine.testdata import engine_for
from dsc_engine.testing import Session, TestServer, dsc_config, dsc_server, serve  # noqa: F401  (fixtures)

SDDP_ENDPOINT = "sddp.cn-zhangjiakou.aliyuncs.com"


@pytest.fixture
def dsc_records() -> list[Record]:
    return generate("masking", 12, seed=1)


def _runs(config: Config) -> int:
    body = Client(config).describe_data_masking_run_history(DescribeDataMaskingRunHistoryRequest()).body
    return int(body.total_count)


def test_three_line_usage(dsc_config: Config) -> None:
    assert _runs(dsc_config) == 12


def test_config_is_ready_and_fails_fast(dsc_config: Config) -> None:
    assert dsc_config.protocol == "http" and dsc_config.endpoint.startswith("127.0.0.1:")
    assert 0 < dsc_config.connect_timeout <= 10_000 and 0 < dsc_config.read_timeout <= 30_000


def test_server_object_gives_fresh_configs(dsc_server: TestServer) -> None:
    first, second = dsc_server.sdk_config(), dsc_server.sdk_config(signature_algorithm="v2")
    assert first is not second and second.signature_algorithm == "v2"
    assert Client(second).describe_audit_logs(DescribeAuditLogsRequest()).body.total_count == 0


def test_serve_context_manager_stops_the_server() -> None:
    with serve(generate("audit", 4, seed=2), signature_algorithm="v2") as config:
        assert Client(config).describe_audit_logs(DescribeAuditLogsRequest()).body.total_count == 4
    with pytest.raises(UnretryableException, match="Failed to establish a new connection"):
        Client(config).describe_audit_logs(DescribeAuditLogsRequest())


def test_config_fixture_shares_the_server_fixture(dsc_config: Config, dsc_server: TestServer) -> None:
    assert dsc_config.endpoint == dsc_server.endpoint
    assert dsc_config.access_key_id == dsc_server.access_key.id


# -- throttling is the test's choice ------------------------------------------------------------


def test_fixture_serves_a_pager_of_25_calls_unthrottled(dsc_config: Config) -> None:
    client = Client(dsc_config)
    pages = [
        client.describe_data_masking_run_history(
            DescribeDataMaskingRunHistoryRequest(page_size=1, current_page=n)
        )
        for n in range(1, 26)
    ]
    assert [len(p.body.items) for p in pages] == [1] * 12 + [0] * 13


def _throttled_on_second_call(config: Config) -> bool:
    client = Client(config)
    client.describe_audit_logs(DescribeAuditLogsRequest())
    try:
        client.describe_audit_logs(DescribeAuditLogsRequest())
    except TeaException as exc:
        assert exc.code == "Throttling.User"
        return True
    return False


def test_throttling_is_turned_on_by_the_test_and_off_by_reset(dsc_server: TestServer) -> None:
    dsc_server.throttle(rate=0.001)  # one call, then none for 1000 s
    assert _throttled_on_second_call(dsc_server.sdk_config())
    dsc_server.reset()
    assert not _throttled_on_second_call(dsc_server.sdk_config())


def test_a_test_server_does_not_throttle_unless_configured_to() -> None:
    strict_config = ServerConfig(throttle=ThrottleConfig(rate=0.001))
    with TestServer([]) as quiet, TestServer([], config=strict_config) as strict:
        assert not _throttled_on_second_call(quiet.sdk_config())
        assert _throttled_on_second_call(strict.sdk_config())


DENY_AUDIT = AccessKey(
    id="LTAI5tNoAudit", secret="no-audit-secret",
    policy=Policy.from_document(
        {"Statement": [{"Effect": "Deny", "Action": "yundun-sddp:DescribeAuditLogs", "Resource": "*"},
                       {"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        "test", "policy",
    ),
)


class TestServerConfigFixture:
    """A ``dsc_server_config`` override applies to ``dsc_server``, ``dsc_config`` and ``dsc_mock``."""

    @pytest.fixture
    def dsc_server_config(self) -> ServerConfig:
        return ServerConfig(throttle=ThrottleConfig(rate=0.001)).with_keys([DENY_AUDIT], "test")

    def test_it_applies_to_the_server(self, dsc_server: TestServer, dsc_config: Config) -> None:
        assert dsc_server.server_config.throttle == ThrottleConfig(rate=0.001)
        assert _throttled_on_second_call(dsc_config)
        with pytest.raises(TeaException) as caught:
            Client(dsc_server.sdk_config(access_key=DENY_AUDIT)).describe_audit_logs(
                DescribeAuditLogsRequest()
            )
        assert caught.value.code == "Forbidden.RAM"

    def test_it_applies_to_the_mock(self, dsc_mock: EngineMock) -> None:
        config = Config(
            access_key_id=DENY_AUDIT.id, access_key_secret=DENY_AUDIT.secret, endpoint=SDDP_ENDPOINT
        )
        client = Client(config)
        with pytest.raises(TeaException) as caught:
            client.describe_audit_logs(DescribeAuditLogsRequest())
        assert caught.value.code == "Forbidden.RAM"
        client.describe_data_masking_run_history(DescribeDataMaskingRunHistoryRequest())
        with pytest.raises(TeaException) as caught:
            client.describe_data_masking_run_history(DescribeDataMaskingRunHistoryRequest())
        assert caught.value.code == "Throttling.User"
        other = Config(access_key_id="LTAIother", access_key_secret="x", endpoint=SDDP_ENDPOINT)
        with pytest.raises(TeaException) as caught:  # keys configured: others are not accepted
            Client(other).describe_audit_logs(DescribeAuditLogsRequest())
        assert caught.value.code == "InvalidAccessKeyId.NotFound"


# -- one server, reset per test -----------------------------------------------------------------


def test_reset_serves_the_data_afresh(dsc_server: TestServer, dsc_config: Config) -> None:
    more = [attrs.evolve(run, id=run.id + 1000) for run in generate("masking", 3, seed=8)]  # Ids not served
    dsc_server.engine.load(more)
    assert _runs(dsc_config) == 15
    dsc_server.reset()
    assert _runs(dsc_config) == 12
    dsc_server.reset(generate("masking", 2, seed=8))
    assert _runs(dsc_config) == 2


def test_reset_reuses_the_sample_engine_only_while_unchanged() -> None:
    with TestServer() as server:
        sample = server.engine
        server.reset()
        assert server.engine is sample
        sample.load(generate("audit", 1, seed=1))
        server.reset()
        assert server.engine is not sample
        assert len(server.engine.store("audit")) == 3000


def test_reset_refuses_connection_limits_a_running_server_cannot_change() -> None:
    with TestServer([]) as server:
        server.reset(config=ServerConfig(limits=Limits(max_body_bytes=10)))  # the application's: fine
        with pytest.raises(ServerConfigError, match="limits.max_connections"):
            server.reset(config=ServerConfig(limits=Limits(max_connections=2)))


def test_reset_to_a_larger_body_limit_reads_such_bodies_before_serving_them() -> None:
    """The host reads a body (answering ``Expect: 100-continue``, timing a slow sender) up to
    the limit it started with: after a reset to a larger one, a body between the two was served
    unread, and a client waiting for ``100 Continue`` got nothing until it gave up waiting."""
    import socket

    from dsc_engine.server.client import SignedClient

    with TestServer([], config=ServerConfig(limits=Limits(max_body_bytes=16))) as server:
        server.reset(config=ServerConfig(limits=Limits(max_body_bytes=65536)))
        client = SignedClient(server.endpoint, server.access_key.id, server.access_key.secret)
        request = client.prepare("DescribeAuditLogs", {}, form={"PageSize": "1", "Lang": "en_us", "UserName": "u" * 100})
        target = request.url.split(server.endpoint, 1)[1]
        headers = {**request.headers, "Content-Length": str(len(request.body)), "Expect": "100-continue",
                   "Connection": "close"}
        head = f"POST {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        with socket.create_connection(("127.0.0.1", server._server.port), timeout=5) as sock:
            sock.sendall(head.encode("ascii"))
            interim = b"HTTP/1.1 100 Continue\r\n\r\n"
            assert sock.recv(len(interim)) == interim
            sock.sendall(request.body)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]


def test_reset_without_a_config_keeps_the_last_one_given_and_undoes_throttle() -> None:
    session = Session()
    strict = ServerConfig(throttle=ThrottleConfig(rate=5))
    try:
        session.server([], UNTHROTTLED)  # the first test's configuration
        server = session.server([], strict)  # this test's
        server.throttle(rate=0.001)
        server.reset()
        assert server.server_config.throttle == strict.throttle
    finally:
        session.close()
    cloud = EngineMock([])
    cloud.reset(config=strict)
    with cloud:
        cloud.throttle(rate=0.001)
        cloud.reset()
        assert cloud.config.throttle == strict.throttle


def test_a_reset_to_records_refused_changes_nothing() -> None:
    # A reset to data that fails to load (a JSON object of no known kind) had already taken the
    # new configuration and data: the server or mock went on answering the old data under a
    # config it did not apply, and the mock's next start failed on the refused data.
    kept, strict = generate("audit", 3, seed=4), ServerConfig(throttle=ThrottleConfig(rate=5))
    refused = [{"NoSuchField": 1}]
    with TestServer(kept) as server:
        before = (server.engine, server.server_config)
        with pytest.raises(RecordError):
            server.reset(refused, config=strict)
        assert (server.engine, server.server_config) == before
        assert Client(server.sdk_config()).describe_audit_logs(DescribeAuditLogsRequest()).body.total_count == 3
    cloud = EngineMock(kept)
    with cloud:
        engine = cloud.engine
        with pytest.raises(RecordError):
            cloud.reset(refused, config=strict)
        assert cloud.engine is engine and cloud.config == UNTHROTTLED
    with cloud:  # the next start serves the data kept, afresh
        assert len(cloud.engine.store("audit")) == 3 and cloud.config == UNTHROTTLED


def test_a_reset_to_a_config_the_application_refuses_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # A configuration the application refuses: the server had already taken it, so each later
    # reset (which returns to the last one given) failed too, while the old application went on
    # answering. (A throttle rate of 0 was such a configuration; ThrottleConfig refuses it now.)
    from dsc_engine.testing import servers

    def refusing(engine: object, config: ServerConfig, clock: object) -> object:
        raise ServerConfigError("throttle", "rate", "refused by the application")

    kept, refused = generate("audit", 3, seed=4), ServerConfig(throttle=ThrottleConfig(rate=3))
    with TestServer(kept) as server:
        before = server.server_config
        with monkeypatch.context() as patch:
            patch.setattr(servers, "make_app", refusing)
            with pytest.raises(ServerConfigError, match="rate"):
                server.reset(config=refused)
        assert server.server_config == before
        server.reset()
        assert server.server_config == before
        assert Client(server.sdk_config()).describe_audit_logs(DescribeAuditLogsRequest()).body.total_count == 3


@pytest.mark.parametrize("rate", [0, -1, float("inf"), float("nan"), True, "10"])
def test_a_throttle_rate_that_is_none_is_refused_when_built(rate: object) -> None:
    # refused only when a server or mock was made from it: a stopped mock's reset to it was
    # taken, and every later start of that mock failed
    with pytest.raises(ServerConfigError, match="ThrottleConfig: rate"):
        ThrottleConfig(rate=rate)  # type: ignore[arg-type]
    cloud = EngineMock([])
    with pytest.raises(ServerConfigError):
        cloud.reset(config=ServerConfig(throttle=ThrottleConfig(rate=rate)))  # type: ignore[arg-type]
    with cloud:
        assert cloud.engine.call("DescribeDataMaskingRunHistory", {})["TotalCount"] == 0


def test_a_stopped_mocks_reset_to_records_refused_changes_nothing() -> None:
    # a stopped mock took the records and failed on them at every later start
    cloud = EngineMock(generate("masking", 2, seed=1))
    with pytest.raises(RecordError):
        cloud.reset([{"Id": "not a number"}])
    with cloud:
        assert cloud.engine.call("DescribeDataMaskingRunHistory", {})["TotalCount"] == 2


def test_session_runs_one_server_per_set_of_connection_limits() -> None:
    session = Session()
    try:
        first = session.server([], UNTHROTTLED)
        assert session.server(None, ServerConfig(limits=Limits(max_body_bytes=10))) is first
        other = session.server([], ServerConfig(limits=Limits(request_timeout=5)))
        assert other is not first and other.endpoint != first.endpoint
    finally:
        session.close()


# -- what dsc_records may return ----------------------------------------------------------------


def _mixed() -> list[Record]:
    return [*generate("audit", 5, seed=2), *generate("masking", 4, seed=2), *generate("dms", 3, seed=2)]


class TestPlainApiDicts:
    """API JSON objects, as a response's items or an export's records, each one's kind told from its keys."""

    @pytest.fixture
    def dsc_records(self) -> list[dict[str, Any]]:
        records = _mixed()
        return [response_item(r) for r in records[:8]] + [to_wire(r) for r in records[8:]]

    def test_their_kinds_are_told_from_their_keys(self, dsc_server: TestServer, dsc_config: Config) -> None:
        assert Client(dsc_config).describe_audit_logs(DescribeAuditLogsRequest()).body.total_count == 5
        assert _runs(dsc_config) == 4
        assert len(dsc_server.engine.store("dms")) == 3
        assert list(dsc_server.engine.store("audit").records_in_load_order()) == _mixed()[:5]


class TestKindMapping:
    """``{kind: items}`` says the kind outright; items may be records or API JSON objects."""

    @pytest.fixture
    def dsc_records(self) -> dict[str, list[Any]]:
        return {
            "audit": [to_wire(r) for r in generate("audit", 6, seed=4)],
            "masking_run": generate("masking", 2, seed=4),
        }

    def test_each_kind_is_loaded(self, dsc_server: TestServer, dsc_config: Config) -> None:
        assert Client(dsc_config).describe_audit_logs(DescribeAuditLogsRequest()).body.total_count == 6
        assert _runs(dsc_config) == 2


def test_an_object_of_no_kind_is_a_record_error_naming_it() -> None:
    with pytest.raises(RecordError, match=r"item 1.*cannot tell the record kind.*CreationTime") as caught:
        engine_for([to_wire(generate("audit", 1)[0]), {"Foo": 1}])
    assert caught.value.where == "item 1"


def test_a_bad_value_is_a_record_error_naming_the_item() -> None:
    bad = {**to_wire(generate("audit", 1)[0]), "EffectRow": "many"}
    with pytest.raises(RecordError, match=r"item 0.*EffectRow"):
        engine_for([bad])


def test_a_kind_mapping_names_an_unknown_kind() -> None:
    with pytest.raises(InvalidParameterError, match="UserName"):
        engine_for({"UserName": []})


def test_a_path_is_not_data() -> None:
    with pytest.raises(RecordError, match=r"Engine\(\)\.load\(path\)"):
        engine_for("audit.jsonl")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "where"), [(3, "data"), ({"audit": 3}, "data['audit']"), ({"dms": None}, "data['dms']")]
)
def test_data_that_is_no_records_is_a_record_error_saying_so(data: Any, where: str) -> None:
    # what the mock, TestServer and reset take is records or a {kind: records} mapping: anything
    # else is refused as the data's fault, when it is given, never as "'int' object is not iterable"
    for give in (EngineMock, TestServer, EngineMock().reset, engine_for):
        with pytest.raises(RecordError, match=r"records, a \{kind: records\} mapping") as caught:
            give(data)
        assert caught.value.where == where


# -- across tests: a pytest run of its own ------------------------------------------------------

SESSION_TESTS = '''
import time

import attrs
import pytest
from alibabacloud_sddp20190103.client import Client
from alibabacloud_sddp20190103.models import DescribeAuditLogsRequest
from alibabacloud_tea_openapi.models import Config
from darabonba.core import DaraCore

from dsc_engine.sample import generate

SEEN = {"endpoints": set(), "starts": []}


def _total(config):
    return Client(config).describe_audit_logs(DescribeAuditLogsRequest(page_size=5)).body.total_count


def test_a_test_adds_records_and_throttles(dsc_server):
    dsc_server.engine.load(generate("audit", 5, seed=3))
    dsc_server.throttle(rate=0.001)
    SEEN["endpoints"].add(dsc_server.endpoint)


def test_the_next_test_gets_the_sample_unthrottled(dsc_config):
    assert [_total(dsc_config) for _ in range(12)] == [3000] * 12


def test_the_mock_fixture_needs_no_import(dsc_mock):
    anywhere = Config(access_key_id="a", access_key_secret="b", endpoint="sddp.cn-hangzhou.aliyuncs.com")
    assert _total(anywhere) == 3000


def test_the_sdk_is_unpatched_after_the_mock_fixture():
    assert DaraCore.__dict__["do_action"].__func__.__module__ == "darabonba.core"


@pytest.mark.parametrize("n", range(30))
def test_one_call(dsc_config, dsc_server, n):
    SEEN["starts"].append(time.perf_counter())
    SEEN["endpoints"].add(dsc_server.endpoint)
    assert _total(dsc_config) == 3000


def test_report():
    starts = SEEN["starts"]
    per_test = (starts[-1] - starts[0]) / (len(starts) - 1)
    print(f"PER-TEST-MS {per_test * 1000:.1f}")
    assert len(SEEN["endpoints"]) == 1
'''


@pytest.mark.slow
def test_one_server_serves_the_session_and_each_test_starts_clean(tmp_path: Path) -> None:
    output = run_pytest(tmp_path, {"test_session.py": SESSION_TESTS}, "-s", timeout=300)
    assert "35 passed" in output
    per_test_ms = float(output.split("PER-TEST-MS ", 1)[1].split()[0])
    # a server started (and the sample loaded) per test took about 600 ms a test, one call on a
    # reset server ~5 ms: the bound sits between, clear of a loaded machine's noise
    assert per_test_ms < 250, f"a one-call test took {per_test_ms} ms"


PROXIED_TESTS = """
import asyncio
import os

from alibabacloud_sddp20190103.client import Client
from alibabacloud_sddp20190103.models import DescribeAuditLogsRequest


def test_the_local_server_is_reached_past_the_proxy(dsc_config):
    client = Client(dsc_config)
    assert client.describe_audit_logs(DescribeAuditLogsRequest()).status_code == 200
    assert asyncio.run(client.describe_audit_logs_async(DescribeAuditLogsRequest())).status_code == 200


def test_the_proxy_settings_are_back_after_the_test():
    assert os.environ["HTTP_PROXY"] == os.environ["https_proxy"] == "http://127.0.0.1:9"
"""


def test_the_config_fixture_works_where_a_proxy_is_set(tmp_path: Path) -> None:
    # CI machines often set HTTP(S)_PROXY; the SDK sends every request through it, loopback too
    # (it ignores no_proxy), so the local server was unreachable from dsc_config's Config
    proxy = "http://127.0.0.1:9"  # nothing listens: a request sent to the proxy fails
    env = {**os.environ, "HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "http_proxy": proxy, "https_proxy": proxy}
    assert "2 passed" in run_pytest(tmp_path, {"test_proxied.py": PROXIED_TESTS}, env=env)


STOPPING_TESTS = """
from alibabacloud_sddp20190103.client import Client
from alibabacloud_sddp20190103.models import DescribeAuditLogsRequest
from alibabacloud_tea_openapi.models import Config


def _total(config):
    return Client(config).describe_audit_logs(DescribeAuditLogsRequest()).body.total_count


def test_my_code_without_the_server(dsc_server):
    dsc_server.stop()


def test_the_next_test_is_served(dsc_config):
    assert _total(dsc_config) == 3000


def test_my_code_without_the_mock(dsc_mock):
    dsc_mock.stop()


def test_the_next_test_is_mocked(dsc_mock):
    assert _total(Config(access_key_id="a", access_key_secret="b", endpoint="sddp.cn-hangzhou.aliyuncs.com")) == 3000
"""


def test_a_test_stopping_the_server_or_mock_of_its_fixture_leaves_the_next_tests_served(tmp_path: Path) -> None:
    # dsc_server.stop() in one test left the session's stopped server to every later test
    # (connection refused); dsc_mock.stop() in a test failed its teardown ("not started")
    output = run_pytest(tmp_path, {"test_stopping.py": STOPPING_TESTS})
    assert "4 passed" in output and "error" not in output


def test_loading_the_plugin_imports_neither_the_engine_nor_the_server() -> None:
    """Every pytest session where dsc-engine is installed loads the plugin: it must cost nothing
    until a test asks for a fixture (it cost a third of a second at each pytest start)."""
    script = textwrap.dedent(
        """
        import sys
        import pytest
        import dsc_engine.testing
        print(" ".join(sorted(m for m in sys.modules if m.startswith("dsc_engine"))))
        import dsc_engine
        assert dsc_engine.Engine is dsc_engine.engine.Engine  # names and subpackages on first use
        assert dsc_engine.testing.TestServer.__module__ == "dsc_engine.testing.servers"
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    loaded = result.stdout.splitlines()[0].split() if result.stdout else []
    assert loaded == ["dsc_engine", "dsc_engine.errors", "dsc_engine.testing"]
    assert result.returncode == 0, result.stderr


def test_importing_the_plugin_without_pytest_names_the_extra_to_install() -> None:
    script = textwrap.dedent(
        """
        import sys
        class NoPytest:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("pytest", "_pytest"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        sys.meta_path.insert(0, NoPytest())
        try:
            import dsc_engine.testing
        except ModuleNotFoundError as exc:
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'dsc-engine[test]'" in result.stdout


@pytest.mark.parametrize("rate", [float("inf"), 0.0, -1.0])
def test_throttle_refuses_a_rate_that_is_no_number_of_calls_per_second(rate: float) -> None:
    # an infinite rate was taken, and worked as "no limit" only through float arithmetic
    cloud = EngineMock([])
    with cloud:
        cloud.throttle(rate=5)
        with pytest.raises(ServerConfigError, match="must be a finite number of calls per second above 0"):
            cloud.throttle(rate=rate)
        # refused, it changed nothing: the configuration still says what the mock throttles at
        assert cloud.config.throttle == ThrottleConfig(rate=5)
    with TestServer([]) as server:
        server.throttle(rate=5)
        with pytest.raises(ServerConfigError, match="must be a finite number of calls per second above 0"):
            server.throttle(rate=rate)
        assert server.server_config.throttle == ThrottleConfig(rate=5)
