"""The official SDK clients, unchanged, get from the server exactly what the engine answers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from alibabacloud_dms_enterprise20181101 import models as dms_models
from alibabacloud_dms_enterprise20181101.client import Client as DmsClient
from alibabacloud_sddp20190103 import models as sddp_models
from alibabacloud_sddp20190103.client import Client as SddpClient
from alibabacloud_tea_openapi.models import Config
from darabonba.runtime import ExtendsParameters, RuntimeOptions
from Tea.exceptions import TeaException

import dsc_engine
from dsc_engine.engine import Engine
from dsc_engine.sample import generate
from dsc_engine.server.client import SignedClient
from dsc_engine.server.config import ServerConfig, ThrottleConfig
from dsc_engine.server.host import ThreadingWsgiServer
from dsc_engine.testing import TestServer

ECHOED_IDS = ("RequestId", "AsyncRequestId")


@pytest.fixture(scope="module")
def server() -> Iterator[TestServer]:
    engine = Engine()
    for kind in ("audit", "masking", "dms"):
        engine.load(generate(kind, 120, seed=7))
    unthrottled = ServerConfig(throttle=ThrottleConfig(enabled=False))
    with TestServer(engine, config=unthrottled) as running:
        yield running


def _without_ids(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ECHOED_IDS}


def _sdk_call(server: TestServer, action: str, params: dict[str, Any], algorithm: str | None) -> Any:
    config = server.sdk_config(signature_algorithm=algorithm)
    if action == "ListSensitiveDataAuditLog":
        request = dms_models.ListSensitiveDataAuditLogRequest().from_map(params)
        return DmsClient(config).list_sensitive_data_audit_log(request)
    client = SddpClient(config)
    if action == "DescribeAuditLogs":
        return client.describe_audit_logs(sddp_models.DescribeAuditLogsRequest().from_map(params))
    return client.describe_data_masking_run_history(
        sddp_models.DescribeDataMaskingRunHistoryRequest().from_map(params)
    )


def _first(server: TestServer, kind: str, attr: str) -> Any:
    return getattr(server.engine.store(kind).records_in_load_order()[0], attr)


DMS_WINDOW = {"StartTime": "2000-01-01 00:00:00", "EndTime": "2099-12-31 23:59:59"}
CASES: list[tuple[str, dict[str, Any]]] = [
    ("DescribeAuditLogs", {}),
    ("DescribeAuditLogs", {"PageSize": 50, "CurrentPage": 2, "Lang": "en_us"}),
    ("DescribeAuditLogs", {"PageSize": 7, "CurrentPage": 10_000}),
    ("DescribeAuditLogs", {"SqlText": "select *", "LoadWhiteList": True}),
    ("DescribeAuditLogs", {"RuleAggQuery": True, "PageSize": 3, "Lang": "en"}),
    ("DescribeAuditLogs", {"ExecuteTimeRange": "in[0 500]", "EffectRowRange": "in (1 33]"}),
    ("DescribeAuditLogs", {"UserName": "张三 李四", "Message": "a+b&c=d%"}),
    (
        "DescribeAuditLogs",
        {
            "UserName": "admin",
            "LogQueryOpJson": '[{"queryKey": "userName", "isContain": false}]',
            "AsyncRequestId": "my-async-id",
        },
    ),
    ("DescribeAuditLogs", {"StartTime": 0, "EndTime": 4_102_444_800_000, "OperateType": "select"}),
    ("DescribeDataMaskingRunHistory", {}),
    ("DescribeDataMaskingRunHistory", {"PageSize": 100, "Status": 1}),
    ("DescribeDataMaskingRunHistory", {"CurrentPage": 3, "PageSize": 5, "SrcType": 1}),
    ("ListSensitiveDataAuditLog", {**DMS_WINDOW, "PageNumber": 1, "PageSize": 100}),
    ("ListSensitiveDataAuditLog", {**DMS_WINDOW, "PageNumber": 999, "PageSize": 10}),
    (
        "ListSensitiveDataAuditLog",
        {**DMS_WINDOW, "PageNumber": 1, "PageSize": 5, "ModuleName": "SQL_CONSOLE", "TableName": "orders"},
    ),
]


#: Every signature the SDK makes with an access key secret: v3 (its default, HMAC-SHA256), v3
#: with the SM3 hash (``Config(signature_algorithm="ACS3-HMAC-SM3")``), and v2 (HMAC-SHA1).
ALGORITHMS = {"v3": None, "v3-sm3": "ACS3-HMAC-SM3", "v2": "v2"}


@pytest.mark.parametrize("algorithm", list(ALGORITHMS.values()), ids=list(ALGORITHMS))
@pytest.mark.parametrize(("action", "params"), CASES, ids=[f"{a}-{i}" for i, (a, _) in enumerate(CASES)])
def test_sdk_answer_equals_engine_answer(
    server: TestServer, action: str, params: dict[str, Any], algorithm: str | None
) -> None:
    response = _sdk_call(server, action, params, algorithm)
    assert response.status_code == 200
    wire = {k: str(v) for k, v in params.items()}  # what the SDK puts on the wire
    expected = server.engine.call(action, wire)
    assert _without_ids(response.body.to_map()) == _without_ids(expected)
    assert response.body.request_id
    if "AsyncRequestId" in params:
        assert response.body.to_map()["AsyncRequestId"] == params["AsyncRequestId"]


@pytest.mark.parametrize("algorithm", list(ALGORITHMS.values()), ids=list(ALGORITHMS))
def test_a_wrong_secret_does_not_verify_under_any_algorithm(server: TestServer, algorithm: str | None) -> None:
    config = server.sdk_config(access_key_secret="not-the-secret", signature_algorithm=algorithm)
    with pytest.raises(TeaException) as refused:
        SddpClient(config).describe_audit_logs(sddp_models.DescribeAuditLogsRequest())
    assert refused.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("user_agent", ["café", "报表工具"])
@pytest.mark.parametrize("algorithm", list(ALGORITHMS.values()), ids=list(ALGORITHMS))
def test_a_non_ascii_user_agent_from_the_async_client_verifies(
    server: TestServer, user_agent: str, algorithm: str | None
) -> None:
    # aiohttp sends header values as UTF-8, and the SDK signs the user agent as text (v3): the
    # server must read the bytes as the UTF-8 they are, not as Latin-1 (http.client's encoding)
    config = server.sdk_config(user_agent=user_agent, signature_algorithm=algorithm)
    request = sddp_models.DescribeAuditLogsRequest(page_size=1)
    assert asyncio.run(SddpClient(config).describe_audit_logs_async(request)).status_code == 200


# (x-acs-* names the server reads or accepts: another one is refused, docs/server.md "On the wire")
@pytest.mark.parametrize("header", ["my_trace_id", "x-acs-retry_delay", "x_acs_retry_attempts"])
@pytest.mark.parametrize("algorithm", list(ALGORITHMS.values()), ids=list(ALGORITHMS))
def test_a_signed_header_named_with_an_underscore_verifies(
    server: TestServer, header: str, algorithm: str | None
) -> None:
    # the SDK signs an extra header under its own name; a WSGI server hands my_trace_id over as
    # my-trace-id, and the request was refused IncompleteSignature (signed header not in the request)
    runtime = RuntimeOptions(extends_parameters=ExtendsParameters(headers={header: "trace-1"}))
    client = SddpClient(server.sdk_config(signature_algorithm=algorithm))
    request = sddp_models.DescribeAuditLogsRequest(page_size=1)
    assert client.describe_audit_logs_with_options(request, runtime).status_code == 200
    assert asyncio.run(client.describe_audit_logs_with_options_async(request, runtime)).status_code == 200


@pytest.mark.parametrize("algorithm", list(ALGORITHMS.values()), ids=list(ALGORITHMS))
def test_a_latin1_user_agent_from_the_sync_client_verifies(server: TestServer, algorithm: str | None) -> None:
    # http.client sends it as Latin-1 (one byte é, not UTF-8): that must keep verifying
    config = server.sdk_config(user_agent="café", signature_algorithm=algorithm)
    request = sddp_models.DescribeAuditLogsRequest(page_size=1)
    assert SddpClient(config).describe_audit_logs(request).status_code == 200


def test_filters_select_records_through_the_wire(server: TestServer) -> None:
    user = _first(server, "audit_log", "user_name")
    response = _sdk_call(server, "DescribeAuditLogs", {"UserName": user, "PageSize": 50}, None)
    items = response.body.items
    assert items and all(item.user_name == user for item in items)
    total = _sdk_call(server, "DescribeAuditLogs", {}, None).body.total_count
    assert 0 < response.body.total_count < total


def test_every_record_pages_through_the_sdk(server: TestServer) -> None:
    seen = []
    for page in range(1, 5):
        body = _sdk_call(server, "DescribeDataMaskingRunHistory", {"PageSize": 40, "CurrentPage": page}, None).body
        seen.extend(item.id for item in body.items)
    assert len(seen) == len(set(seen)) == len(server.engine.store("masking_run"))


def test_concurrent_clients_get_their_own_answers(server: TestServer) -> None:
    jobs = [
        ("DescribeAuditLogs", {"PageSize": size, "CurrentPage": page})
        for size in (3, 11) for page in (1, 2, 3)
    ] + [
        ("DescribeDataMaskingRunHistory", {"PageSize": 9, "CurrentPage": 2}),
        ("ListSensitiveDataAuditLog", {**DMS_WINDOW, "PageNumber": 2, "PageSize": 4}),
    ]
    results: dict[int, Any] = {}
    failures: list[BaseException] = []

    def work(index: int, algorithm: str | None) -> None:
        action, params = jobs[index % len(jobs)]
        try:
            for _ in range(3):
                body = _sdk_call(server, action, params, algorithm).body.to_map()
                results[index] = _without_ids(body)
        except BaseException as exc:  # collected and re-raised in the test thread
            failures.append(exc)

    threads = [
        threading.Thread(target=work, args=(i, None if i % 2 else "v2")) for i in range(2 * len(jobs))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    for index, result in results.items():
        action, params = jobs[index % len(jobs)]
        assert result == _without_ids(server.engine.call(action, {k: str(v) for k, v in params.items()}))
    assert len(results) == 2 * len(jobs)


def test_text_with_a_lone_surrogate_is_served_escaped_through_server_and_mock() -> None:
    # A record object may hold text a JSON escape can make and UTF-8 cannot (semantics §1.4):
    # the answer carries it as the \ud800 escape, as the service's JSON does, not InternalError.
    held = "adm\ud800in"
    record = attrs.evolve(generate("audit", 1, seed=7)[0], user_name=held, ram_console_link="\udfff")
    engine = Engine()
    engine.load([record])
    request = sddp_models.DescribeAuditLogsRequest()
    with TestServer(engine) as running:
        response = SddpClient(running.sdk_config()).describe_audit_logs(request)
        assert response.status_code == 200
        assert (response.body.items[0].user_name, response.body.items[0].ram_console_link) == (held, "\udfff")
        client = SignedClient(running.endpoint, running.access_key.id, running.access_key.secret)
        raw = client.exchange(client.prepare("DescribeAuditLogs", {}))
        assert raw.status == 200 and b'"adm\\ud800in"' in raw.body
    config = Config(access_key_id="LTAI5tAny", access_key_secret="any", endpoint="sddp.cn-zhangjiakou.aliyuncs.com")
    with dsc_engine.mock(engine):
        mocked = SddpClient(config).describe_audit_logs(request)
    assert mocked.body.items[0].user_name == held
    assert _without_ids(mocked.body.to_map()) == _without_ids(engine.call("DescribeAuditLogs", {}))


@pytest.mark.parametrize("algorithm", list(ALGORITHMS.values()), ids=list(ALGORITHMS))
def test_a_list_given_for_log_query_op_json_is_refused_naming_the_parameter_it_was_for(
    server: TestServer, algorithm: str | None
) -> None:
    # The SDK flattens a list given for the text parameter into LogQueryOpJson.1.queryKey=...:
    # the refusal says which parameter that was and what it takes, not only "no such name".
    given = [{"queryKey": "userName", "isContain": False}]
    request = sddp_models.DescribeAuditLogsRequest(lang="en_us", log_query_op_json=given)
    with pytest.raises(TeaException) as refused:
        SddpClient(server.sdk_config(signature_algorithm=algorithm)).describe_audit_logs(request)
    assert refused.value.code == "InvalidParameter"
    message = refused.value.data["Message"]
    assert message.startswith('The specified parameter "LogQueryOpJson.1.')
    assert "given for LogQueryOpJson" in message and "its JSON text" in message


@pytest.mark.parametrize("algorithm", list(ALGORITHMS.values()), ids=list(ALGORITHMS))
def test_the_sdks_calls_share_one_connection(algorithm: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    # the SDK pools its connections, but the server closed each after one answer (HTTP/1.0), so
    # every call connected anew; a kept connection carries them all (docs/server.md, "Connections")
    accepted = []
    process_request = ThreadingWsgiServer.process_request

    def counted(self: ThreadingWsgiServer, request: Any, client_address: Any) -> None:
        accepted.append(client_address)
        process_request(self, request, client_address)

    monkeypatch.setattr(ThreadingWsgiServer, "process_request", counted)
    with TestServer(generate("audit", 5, seed=1)) as running:
        client = SddpClient(running.sdk_config(signature_algorithm=algorithm))
        for size in (1, 2, 3):
            body = client.describe_audit_logs(sddp_models.DescribeAuditLogsRequest(page_size=size)).body
            assert len(body.items) == size
    assert len(accepted) == 1, accepted
