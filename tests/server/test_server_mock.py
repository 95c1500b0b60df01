"""``dsc_engine.mock``: the official SDKs, built the usual way, answered in-process without a socket."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import unittest
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from alibabacloud_dms_enterprise20181101.client import Client as DmsClient
from alibabacloud_dms_enterprise20181101.models import ListSensitiveDataAuditLogRequest
from alibabacloud_sddp20190103.client import Client as SddpClient
from alibabacloud_sddp20190103.models import (
    DescribeAuditLogsRequest,
    DescribeConfigsRequest,
    DescribeDataMaskingRunHistoryRequest,
)
from alibabacloud_tea_openapi import utils_models
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import ThrottlingException
from alibabacloud_tea_openapi.models import Config
from darabonba.core import DaraCore
from darabonba.runtime import ExtendsParameters, RuntimeOptions
from Tea.core import TeaCore
from Tea.exceptions import TeaException
from hypothesis import given, settings
from Tea.request import TeaRequest
from inpytest import run_pytest

import dsc_engine

from dsc_engine.strategies import record_lists, requests
from dsc_engine.engine import Engine
from dsc_engine.errors import ServerConfigError
from dsc_engine.mocking import UNTHROTTLED, EngineMock, intercepts
from dsc_engine.models.records import Record
from dsc_engine.sample import generate
from dsc_engine.server.config import AccessKey, ServerConfig, ThrottleConfig
from dsc_engine.server.policy import Policy
from dsc_engine.testing import TestServer

SDDP_ENDPOINT = "sddp.cn-zhangjiakou.aliyuncs.com"
_ORIGINAL_SEND = DaraCore.__dict__["do_action"]
DMS_WINDOW = {"start_time": "2000-01-01 00:00:00", "end_time": "2099-12-31 23:59:59"}
ECHOED = ("RequestId", "AsyncRequestId", "HostId", "Recommend")  # differ per request, per host


def _records() -> list[Record]:
    return [*generate("audit", 30, seed=5), *generate("masking", 20, seed=5), *generate("dms", 25, seed=5)]


@pytest.fixture
def records() -> list[Record]:
    return _records()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connect or name lookup fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a socket was used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def _config(**fields: Any) -> Config:
    fields.setdefault("access_key_id", "LTAIanything")
    fields.setdefault("access_key_secret", "any-secret")
    return Config(**fields)


# (action, SDK method, request, the wire parameters the request sends)
OPERATIONS: dict[str, tuple[str, str, Any, dict[str, str]]] = {
    "audit": (
        "DescribeAuditLogs", "describe_audit_logs",
        DescribeAuditLogsRequest(page_size=7, current_page=2), {"PageSize": "7", "CurrentPage": "2"},
    ),
    "masking": (
        "DescribeDataMaskingRunHistory", "describe_data_masking_run_history",
        DescribeDataMaskingRunHistoryRequest(page_size=4), {"PageSize": "4"},
    ),
    "dms": (
        "ListSensitiveDataAuditLog", "list_sensitive_data_audit_log",
        ListSensitiveDataAuditLogRequest(page_number=2, page_size=5, **DMS_WINDOW),
        {"PageNumber": "2", "PageSize": "5",
         "StartTime": DMS_WINDOW["start_time"], "EndTime": DMS_WINDOW["end_time"]},
    ),
}


def _client(kind: str, config: Config) -> Any:
    return DmsClient(config) if kind == "dms" else SddpClient(config)


def _send(kind: str, config: Config, asynchronous: bool = False) -> Any:
    _, method, request, _ = OPERATIONS[kind]
    client = _client(kind, config)
    if asynchronous:
        return asyncio.run(getattr(client, f"{method}_async")(request))
    return getattr(client, method)(request)


def _without_echoes(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ECHOED}


# -- the user's view ----------------------------------------------------------------------------


def my_report() -> int:
    """Production code: builds its own client for the cloud endpoint, knows nothing of tests."""
    client = SddpClient(
        Config(access_key_id="LTAI5tProduction", access_key_secret="secret", endpoint=SDDP_ENDPOINT)
    )
    return int(client.describe_audit_logs(DescribeAuditLogsRequest(page_size=5)).body.total_count)


def test_unchanged_production_code_is_answered_by_the_mock(records: list[Record], no_network: None) -> None:
    with dsc_engine.mock(records) as cloud:
        assert my_report() == 30
        assert len(cloud.engine.store("audit")) == 30


def test_mock_without_data_serves_the_bundled_sample(no_network: None) -> None:
    with dsc_engine.mock():
        assert my_report() == 3000


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "v2"])
@pytest.mark.parametrize("kind", sorted(OPERATIONS))
def test_both_sdks_get_the_engines_answer_without_a_socket(
    records: list[Record], no_network: None, kind: str, algorithm: str | None, asynchronous: bool
) -> None:
    action, _, _, wire = OPERATIONS[kind]
    config = _config(region_id="cn-hangzhou", signature_algorithm=algorithm)
    with dsc_engine.mock(records) as cloud:
        response = _send(kind, config, asynchronous)
        expected = cloud.engine.call(action, wire)
    assert response.status_code == 200
    assert _without_echoes(response.body.to_map()) == _without_echoes(expected)
    assert response.headers["x-acs-request-id"] == response.body.request_id


@pytest.mark.parametrize(
    ("kind", "place"),
    [
        ("audit", {"region_id": "cn-zhangjiakou"}),
        ("audit", {"region_id": "cn-hongkong"}),  # sddp-api.cn-hongkong.aliyuncs.com
        ("audit", {"region_id": "ap-southeast-1"}),
        ("audit", {"region_id": "cn-beijing"}),  # no map entry: the regional rule
        ("audit", {"endpoint": "sddp-vpc.cn-shanghai.aliyuncs.com"}),
        ("dms", {"region_id": "cn-hangzhou"}),  # central: dms-enterprise.aliyuncs.com
        ("dms", {"endpoint": "dms-enterprise.ap-southeast-1.aliyuncs.com"}),
        ("masking", {"endpoint": "audit-gateway.example.internal:8443"}),  # a custom endpoint
    ],
)
def test_every_endpoint_and_region_is_answered(
    records: list[Record], no_network: None, kind: str, place: dict[str, str]
) -> None:
    with dsc_engine.mock(records):
        assert _send(kind, _config(**place)).body.total_count > 0


# -- which requests are the mock's --------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "action", "version", "answered"),
    [
        ("sddp.cn-zhangjiakou.aliyuncs.com", "DescribeAuditLogs", "2019-01-03", True),
        ("SDDP.CN-HANGZHOU.ALIYUNCS.COM:443", "DescribeAuditLogs", "2019-01-03", True),
        ("https://sddp.cn-hangzhou.aliyuncs.com", "DescribeAuditLogs", "2019-01-03", True),
        ("sddp.cn-hangzhou.aliyuncs.com", "DescribeConfigs", "2019-01-03", True),  # -> NotFound
        ("dms-enterprise.aliyuncs.com", "ListSensitiveDataAuditLog", "2018-11-01", True),
        ("dms-enterprise-vpc.cn-hangzhou.aliyuncs.com", "ListUsers", "2018-11-01", True),
        ("gateway.example.com", "DescribeAuditLogs", "2019-01-03", True),
        ("gateway.example.com", "DescribeAuditLogs", None, True),
        ("polardb.aliyuncs.com", "DescribeAuditLogs", "2017-08-01", False),  # another product's
        ("ecs.aliyuncs.com", "DescribeRegions", "2014-05-26", False),
        ("sddp.cn-hangzhou.aliyuncs.com.example.com", "DescribeRegions", "2014-05-26", False),
        ("notsddp.cn-hangzhou.aliyuncs.com", "DescribeRegions", "2014-05-26", False),
        ("127.0.0.1:8080", "DescribeAuditLogs", "2019-01-03", False),  # a local server
        ("localhost:8080", "DescribeAuditLogs", "2019-01-03", False),
        ("[::1]:8080", "DescribeAuditLogs", "2019-01-03", False),
    ],
)
def test_requests_answered_are_the_products_and_the_engines_actions(
    host: str, action: str, version: str | None, answered: bool
) -> None:
    assert intercepts(host, action, version) is answered


def test_other_actions_of_the_products_fail_clearly_without_reaching_the_cloud(no_network: None) -> None:
    with dsc_engine.mock([]):
        with pytest.raises(TeaException) as caught:
            SddpClient(_config(endpoint=SDDP_ENDPOINT)).describe_configs(DescribeConfigsRequest())
    assert caught.value.code == "InvalidApi.NotFound"
    assert caught.value.data["statusCode"] == 404


@pytest.mark.parametrize(
    ("kind", "endpoint", "product"),
    [("dms", SDDP_ENDPOINT, "Sddp"), ("audit", "dms-enterprise.aliyuncs.com", "dms-enterprise"),
     ("masking", "dms-enterprise.ap-southeast-1.aliyuncs.com", "dms-enterprise"),
     ("audit", "DMS-Enterprise.aliyuncs.com.:443", "dms-enterprise")],  # a fully qualified name is the same host
)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_an_action_at_the_other_products_endpoint_is_not_found_as_in_the_cloud(
    kind: str, endpoint: str, product: str, asynchronous: bool, records: list[Record], no_network: None
) -> None:
    # A DMS client given the Sddp endpoint got the engine's DMS answer from the mock, where the
    # cloud has no such API there: the misconfigured client passed its tests.
    with dsc_engine.mock(records), pytest.raises(TeaException) as caught:
        _send(kind, _config(endpoint=endpoint), asynchronous)
    assert (caught.value.code, caught.value.data["statusCode"]) == ("InvalidApi.NotFound", 404)
    assert caught.value.data["HostId"] == endpoint
    assert f"&product={product}&" in caught.value.data["Recommend"]
    own = "dms-enterprise.aliyuncs.com" if kind == "dms" else SDDP_ENDPOINT
    with dsc_engine.mock(records):  # at its own product's endpoint, and at a custom one, answered
        for answering in (own, "gateway.example.com"):
            assert _send(kind, _config(endpoint=answering), asynchronous).status_code == 200


def test_an_action_at_the_other_products_endpoint_is_refused_in_the_language_asked() -> None:
    # an action the engine does not serve is refused in the Lang the request gives; one of the
    # other product at an endpoint was refused in English whatever it asked
    from dsc_engine.api.errors import ApiError

    engine = Engine()
    with pytest.raises(ApiError) as unserved:
        engine.call("DescribeConfigs", {"Lang": "zh_cn"})
    with pytest.raises(ApiError) as elsewhere:
        engine.call("DescribeAuditLogs", {"Lang": "zh_cn"}, host="dms-enterprise.aliyuncs.com")
    assert elsewhere.value.body["Code"] == unserved.value.body["Code"] == "InvalidApi.NotFound"
    assert elsewhere.value.body["Message"] == unserved.value.body["Message"] != "Specified api is not found, please check your url and method."


@pytest.mark.parametrize("form", [staticmethod, lambda f: f], ids=["staticmethod", "function"])
def test_other_hosts_go_to_the_sdks_own_http_layer(monkeypatch: pytest.MonkeyPatch, form: Any) -> None:
    # a test's own patch of the send function (monkeypatch.setattr sets a plain function) was
    # called as a staticmethod: AttributeError "'function' object has no attribute '__func__'"
    sent: list[str] = []

    def network(request: Any, runtime_option: Any = None) -> Any:
        sent.append(request.headers["host"])
        raise ConnectionAbortedError("stands for the network")

    installed = form(network)
    monkeypatch.setattr(DaraCore, "do_action", installed)
    params = utils_models.Params(
        action="DescribeRegions", version="2014-05-26", protocol="HTTPS", pathname="/", method="POST",
        auth_type="AK", style="RPC", req_body_type="formData", body_type="json",
    )
    with dsc_engine.mock([]):
        client = OpenApiClient(_config(endpoint="ecs.aliyuncs.com"))
        with pytest.raises(Exception, match="stands for the network"):
            client.call_api(params, utils_models.OpenApiRequest(), RuntimeOptions(autoretry=False))
    assert sent == ["ecs.aliyuncs.com"]
    assert DaraCore.__dict__["do_action"] is installed  # put back as it was found


def test_a_local_server_answers_its_own_requests_inside_a_mock(records: list[Record]) -> None:
    with TestServer(generate("masking", 12, seed=1)) as server, dsc_engine.mock(records):
        body = SddpClient(server.sdk_config()).describe_data_masking_run_history(
            DescribeDataMaskingRunHistoryRequest()
        ).body
    assert body.total_count == 12  # the server's 12 runs, not the mock's 20


def test_the_no_network_guard_catches_a_request_that_is_not_mocked(no_network: None) -> None:
    with pytest.raises(Exception, match="a socket was used"):
        my_report()


# -- credentials --------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "v2"])
def test_any_credentials_are_accepted_by_default(no_network: None, algorithm: str | None) -> None:
    config = _config(
        access_key_id="STS.whoever", access_key_secret="x", security_token="tok",
        endpoint=SDDP_ENDPOINT, signature_algorithm=algorithm,
    )
    with dsc_engine.mock(generate("audit", 3, seed=1)):
        assert SddpClient(config).describe_audit_logs(DescribeAuditLogsRequest()).body.total_count == 3


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "v2"])
def test_a_bearer_token_is_refused_as_unsigned_as_by_the_server(algorithm: str | None) -> None:
    # The SDK sends a bearer token (a credential Sddp and DMS do not take) unsigned: no
    # Authorization header, no Signature parameter; the mock must not take it for an access key
    # and pass its SignatureType on to the API as if the caller had sent that parameter.
    bearer = {"bearer_token": "bearer-1", "signature_algorithm": algorithm}
    with TestServer([], access_key=KEY) as server:
        from_server = _refused(server.sdk_config(access_key_id=None, access_key_secret=None, **bearer), None, False)
    with dsc_engine.mock([]):
        from_mock = _refused(Config(endpoint=SDDP_ENDPOINT, **bearer), None, False)
    assert from_mock.code == from_server.code == "IncompleteSignature"
    assert _without_echoes(from_mock.data) == _without_echoes(from_server.data)


@pytest.mark.slow
def test_credentials_from_the_environment_are_used(tmp_path: Any) -> None:
    script = textwrap.dedent(
        """
        import os
        import socket
        from alibabacloud_credentials.client import Client as CredentialClient
        from alibabacloud_sddp20190103.client import Client
        from alibabacloud_sddp20190103.models import DescribeAuditLogsRequest
        from alibabacloud_tea_openapi.models import Config
        import dsc_engine
        from dsc_engine.server.config import AccessKey

        def refuse(*args, **kwargs):
            raise AssertionError("a socket was used")
        socket.socket.connect = socket.getaddrinfo = refuse

        key = AccessKey(id="LTAI5tFromEnv", secret="env-secret")
        with dsc_engine.mock([], access_keys=[key]):
            # the SDK's two usual ways: its default credential chain, and the variables read by hand
            chain = Client(Config(credential=CredentialClient(), region_id="cn-zhangjiakou"))
            by_hand = Client(Config(
                access_key_id=os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
                access_key_secret=os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
                region_id="cn-zhangjiakou",
            ))
            for client in (chain, by_hand):
                print(client.describe_audit_logs(DescribeAuditLogsRequest()).body.total_count)
        """
    )
    env = {
        **os.environ,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tFromEnv",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret",
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        "HOME": str(tmp_path),  # no CLI profile of the machine's user
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "0"]


KEY = AccessKey(id="LTAI5tReporting", secret="reporting-secret")
NO_AUDIT = AccessKey(
    id="LTAI5tNoAudit", secret="no-audit-secret",
    policy=Policy.from_document(
        {"Statement": [
            {"Effect": "Allow", "Action": "yundun-sddp:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "yundun-sddp:DescribeAuditLogs", "Resource": "*"},
        ]},
        "test", "policy",
    ),
)
STS = AccessKey(id="STS.Temporary", secret="sts-secret", security_tokens=frozenset({"token-1"}))
REFUSALS = [
    ("wrong secret", KEY, {"access_key_secret": "not-the-secret"}, "SignatureDoesNotMatch"),
    ("unknown key", KEY, {"access_key_id": "LTAI5tUnknown"}, "InvalidAccessKeyId.NotFound"),
    ("policy denies", NO_AUDIT, {}, "Forbidden.RAM"),
    ("token missing", STS, {}, "InvalidSecurityToken.MismatchWithAccessKey"),
    ("token wrong", STS, {"security_token": "token-2"}, "InvalidSecurityToken.MismatchWithAccessKey"),
    ("bad parameter", KEY, {"lang": "fr"}, "InvalidParameter"),
]


def _refused(config: Config, lang: str | None, asynchronous: bool) -> TeaException:
    client = SddpClient(config)
    request = DescribeAuditLogsRequest(page_size=5, lang=lang)
    with pytest.raises(TeaException) as caught:
        if asynchronous:
            asyncio.run(client.describe_audit_logs_async(request))
        else:
            client.describe_audit_logs(request)
    return caught.value


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "v2"])
@pytest.mark.parametrize(("case", "key", "change", "code"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_configured_keys_are_checked_and_refused_exactly_as_by_the_server(
    case: str, key: AccessKey, change: dict[str, str], code: str, algorithm: str | None, asynchronous: bool
) -> None:
    lang = change.get("lang")
    fields = {"access_key_id": key.id, "access_key_secret": key.secret, "signature_algorithm": algorithm}
    fields.update({k: v for k, v in change.items() if k != "lang"})
    keys = [KEY, NO_AUDIT, STS]
    with TestServer([], access_key=KEY, config=UNTHROTTLED.with_keys(keys, "test")) as server:
        from_server = _refused(server.sdk_config(**fields), lang, asynchronous)
    with dsc_engine.mock([], access_keys=keys):
        from_mock = _refused(_config(endpoint=SDDP_ENDPOINT, **fields), lang, asynchronous)
    assert type(from_mock) is type(from_server)
    assert from_mock.code == from_server.code == code
    assert _without_echoes(from_mock.data) == _without_echoes(from_server.data)
    assert from_mock.data["HostId"] == SDDP_ENDPOINT


@pytest.mark.parametrize("algorithm", [None, "ACS3-HMAC-SM3", "v2"], ids=["v3", "v3-sm3", "v2"])
def test_configured_keys_pass_when_signed_right(no_network: None, algorithm: str | None) -> None:
    with dsc_engine.mock(generate("audit", 4, seed=2), access_keys=[KEY, STS]):
        for key, token in ((KEY, None), (STS, "token-1")):
            config = _config(
                access_key_id=key.id, access_key_secret=key.secret, security_token=token,
                region_id="cn-shanghai", signature_algorithm=algorithm,
            )
            assert SddpClient(config).describe_audit_logs(DescribeAuditLogsRequest()).body.total_count == 4


def test_keys_given_to_the_mock_stay_checked_after_a_reset_to_another_config(no_network: None) -> None:
    # reset(config=...) dropped the access_keys given at creation: from then on any credentials
    # were accepted, and the test that relied on the signature checks went on passing
    stranger = _config(access_key_id="LTAIstranger", access_key_secret="x", endpoint=SDDP_ENDPOINT)
    owner = _config(access_key_id=KEY.id, access_key_secret=KEY.secret, endpoint=SDDP_ENDPOINT)
    with dsc_engine.mock(generate("audit", 4, seed=2), access_keys=iter([KEY])) as cloud:
        cloud.reset(config=ServerConfig(throttle=ThrottleConfig(rate=100)))
        assert cloud.config.throttle.rate == 100
        with pytest.raises(TeaException) as caught:
            SddpClient(stranger).describe_audit_logs(DescribeAuditLogsRequest())
        assert caught.value.code == "InvalidAccessKeyId.NotFound"
        assert SddpClient(owner).describe_audit_logs(DescribeAuditLogsRequest()).body.total_count == 4


def test_a_header_the_http_layer_cannot_send_fails_in_the_mock_as_in_production() -> None:
    # The synchronous SDK sends with requests (http.client), which encodes header values as
    # Latin-1: a user agent in Chinese never leaves the process. The mock must not answer it.
    ua = {"user_agent": "报表工具"}
    with TestServer([]) as server, pytest.raises(TeaException) as real:
        SddpClient(server.sdk_config(**ua)).describe_audit_logs(DescribeAuditLogsRequest())
    with dsc_engine.mock([]), pytest.raises(TeaException) as mocked:
        SddpClient(_config(endpoint=SDDP_ENDPOINT, **ua)).describe_audit_logs(DescribeAuditLogsRequest())
    assert type(mocked.value) is type(real.value)
    assert isinstance(real.value.inner_exception, UnicodeEncodeError)
    assert str(mocked.value.inner_exception) == str(real.value.inner_exception)


def test_a_signed_header_named_with_an_underscore_verifies_in_the_mock() -> None:
    # the environ names it my-trace-id, as a WSGI server does: the signature check with keys
    # configured refused the request as IncompleteSignature
    runtime = RuntimeOptions(extends_parameters=ExtendsParameters(headers={"my_trace_id": "1"}))
    key = AccessKey(id="LTAIunderscore", secret="underscore-secret")
    with dsc_engine.mock(generate("audit", 3, seed=1), access_keys=[key]):
        config = _config(endpoint=SDDP_ENDPOINT, access_key_id=key.id, access_key_secret=key.secret)
        answer = SddpClient(config).describe_audit_logs_with_options(DescribeAuditLogsRequest(), runtime)
    assert answer.body.total_count == 3


@pytest.mark.parametrize("value", [123, None, "a\r\nX-Injected: 1", " leading", "trailing\n"])
def test_a_header_requests_refuses_fails_in_the_mock_as_in_production(value: object) -> None:
    # requests checks every header before sending (check_header_validity): a value that is not
    # text, or holds a line break or leading whitespace, never leaves the process. The mock
    # answered such a request.
    runtime = RuntimeOptions(extends_parameters=ExtendsParameters(headers={"x-trace-id": value}))
    with TestServer([]) as server, pytest.raises(TeaException) as real:
        SddpClient(server.sdk_config()).describe_audit_logs_with_options(DescribeAuditLogsRequest(), runtime)
    with dsc_engine.mock([]), pytest.raises(TeaException) as mocked:
        SddpClient(_config(endpoint=SDDP_ENDPOINT)).describe_audit_logs_with_options(
            DescribeAuditLogsRequest(), runtime
        )
    assert type(mocked.value) is type(real.value)
    assert type(mocked.value.inner_exception) is type(real.value.inner_exception)
    assert str(mocked.value.inner_exception) == str(real.value.inner_exception)


@pytest.mark.parametrize("value", [123, None, b"bytes", "a\r\nX-Injected: 1", "bell\x07", "报表"])
def test_a_header_aiohttp_refuses_fails_in_the_mock_as_in_production(value: object) -> None:
    # the asynchronous layer, aiohttp, serializes headers its own way: a value that is not a str
    # (bytes too) or holds a control character is refused before anything is sent, where UTF-8
    # text goes out. The mock answered every one of them.
    runtime = RuntimeOptions(extends_parameters=ExtendsParameters(headers={"x-trace-id": value}))

    def outcome(client: SddpClient) -> tuple[type, type | None, str]:
        try:
            asyncio.run(client.describe_audit_logs_with_options_async(DescribeAuditLogsRequest(), runtime))
        except TeaException as exc:
            inner = getattr(exc, "inner_exception", None)
            return type(exc), type(inner), str(inner)
        return type(None), None, "answered"

    with TestServer([]) as server:
        real = outcome(SddpClient(server.sdk_config()))
    with dsc_engine.mock([]):
        assert outcome(SddpClient(_config(endpoint=SDDP_ENDPOINT))) == real


# -- what the server would see -------------------------------------------------------------------


def _answered(client: SddpClient, runtime: RuntimeOptions, asynchronous: bool) -> tuple[Any, ...]:
    """What a call came to: the SDK's error (type, code, inner error) or the page answered."""
    request = DescribeAuditLogsRequest(page_size=2, current_page=2)
    try:
        if asynchronous:
            response = asyncio.run(client.describe_audit_logs_with_options_async(request, runtime))
        else:
            response = client.describe_audit_logs_with_options(request, runtime)
    except TeaException as exc:
        inner = getattr(exc, "inner_exception", None)
        return type(exc), exc.code, type(inner), str(inner) if inner is not None else None
    body = response.body
    return "answered", response.status_code, body.total_count, body.current_page, body.page_size


def _against_server_and_mock(
    tail: str = "", runtime: RuntimeOptions | None = None, asynchronous: bool = False, before: str = ""
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The same call, signed with the same key, to a TestServer and to the mock at the Sddp
    endpoint; ``before`` and ``tail`` surround the endpoint in both."""
    runtime = runtime or RuntimeOptions()
    records = generate("audit", 5, seed=3)
    with TestServer(records, access_key=KEY) as server:
        config = server.sdk_config(endpoint=before + server.endpoint + tail)
        real = _answered(SddpClient(config), runtime, asynchronous)
    with dsc_engine.mock(records, access_keys=[KEY]):
        config = _config(endpoint=before + SDDP_ENDPOINT + tail, access_key_id=KEY.id, access_key_secret=KEY.secret)
        mocked = _answered(SddpClient(config), runtime, asynchronous)
    return real, mocked


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("tail", ["/", "/api", "/api/", "/a%20b", "/a?b=c", "?b=c", "#part"])
def test_an_endpoint_with_a_path_reaches_the_mock_as_it_reaches_a_server(tail: str, asynchronous: bool) -> None:
    # The SDK's core puts the endpoint before the request's pathname in the URL it sends
    # (compose_url): "host/api" is a request for /api/, which the service does not serve. The
    # mock answered it as a request for /, so code with such an endpoint passed its tests.
    real, mocked = _against_server_and_mock(tail, asynchronous=asynchronous)
    assert mocked == real
    if tail not in ("/", "#part"):
        assert real[0] != "answered"


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_credentials_in_the_endpoint_reach_the_mock_as_they_reach_a_server(asynchronous: bool) -> None:
    # requests turns user:password@ in the URL into HTTP Basic authentication, which replaces
    # the signature; aiohttp refuses them beside the signature's Authorization header. The mock
    # answered both as if the endpoint had none.
    real, mocked = _against_server_and_mock(asynchronous=asynchronous, before="user:secret@")
    assert mocked == real
    assert real[0] != "answered"


@pytest.mark.parametrize(
    "headers",
    [{"x-trace-id": b"abc"}, {"x-acs-trace": b"\xe6\x8a\xa5"}, {"x-acs-action": b"DescribeConfigs"}],
)
def test_a_bytes_header_value_reaches_the_mock_as_it_reaches_a_server(headers: dict[str, bytes]) -> None:
    # requests sends a header value given as bytes as those bytes. The mock handed the server
    # its repr ("b'abc'"), which no signature matches.
    runtime = RuntimeOptions(extends_parameters=ExtendsParameters(headers=headers))
    real, mocked = _against_server_and_mock(runtime=runtime)
    assert mocked == real


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    "headers",
    [
        {"x_acs_version": "2019-01-03"},
        {"content_type": "text/plain"},
        {"HOST": "sddp.cn-zhangjiakou.aliyuncs.com"},  # one Host field on the wire (each layer folds them)
    ],
    ids=["x-acs-version", "content-type", "host"],
)
def test_a_header_sent_twice_reaches_the_mock_as_it_reaches_a_server(headers: dict[str, str], asynchronous: bool) -> None:
    # Both HTTP layers send x_acs_version beside the SDK's x-acs-version as two fields, which the
    # server reads as one header (PEP 3333 names both HTTP_X_ACS_VERSION), their values joined
    # with ","; the mock kept the last one alone, and answered what the server refuses. So with
    # content_type beside the Content-Type aiohttp adds: two, which the server refuses
    runtime = RuntimeOptions(extends_parameters=ExtendsParameters(headers=headers))
    real, mocked = _against_server_and_mock(runtime=runtime, asynchronous=asynchronous)
    assert mocked == real


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_the_response_headers_the_sdk_hands_back_are_those_of_a_server(asynchronous: bool) -> None:
    # The server's HTTP layer adds Date and Server to every answer (code reads response.headers,
    # a Date to measure clock skew, say); the mock's responses had neither.
    records = generate("audit", 3, seed=3)
    request = DescribeAuditLogsRequest(page_size=2)

    def headers(client: SddpClient) -> dict[str, str]:
        if asynchronous:
            return dict(asyncio.run(client.describe_audit_logs_async(request)).headers)
        return dict(client.describe_audit_logs(request).headers)

    with TestServer(records) as server:
        real = headers(SddpClient(server.sdk_config()))
    with dsc_engine.mock(records, clock=lambda: 1_700_000_000.0):
        mocked = headers(SddpClient(_config(endpoint=SDDP_ENDPOINT)))
    assert sorted(mocked) == sorted(real)
    assert mocked["server"] == real["server"] == "dsc-engine"  # docs/server.md, "On the wire"
    assert mocked["date"] == "Tue, 14 Nov 2023 22:13:20 GMT"  # the mock's clock, as HTTP writes dates


def test_debug_sdk_logs_the_exchange_under_the_mock_as_with_a_server(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # DEBUG=sdk makes the synchronous send log the request and the response it got (logger
    # darabonba-core); under the mock nothing was logged, so a user debugging a test saw nothing.
    monkeypatch.setenv("DEBUG", "sdk")
    records = generate("audit", 3, seed=3)

    def logged(client: SddpClient) -> list[list[str]]:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="darabonba-core"):
            client.describe_audit_logs(DescribeAuditLogsRequest(page_size=2))
        # each record: its first line (the request or status line), then the header names
        return [
            [lines[0].split("?")[0], *sorted(line.split(" : ")[0].lower() for line in lines[1:])]
            for lines in (record.getMessage().strip().splitlines() for record in caplog.records)
        ]

    with TestServer(records) as server:
        real = logged(SddpClient(server.sdk_config()))
    with dsc_engine.mock(records):
        mocked = logged(SddpClient(_config(endpoint=SDDP_ENDPOINT, protocol="http")))
    assert len(real) == 2 and real[1][0] == "< HTTP/1.1 200 OK"
    assert mocked == real


HEADS_REFUSED = {  # a head the server's HTTP layer refuses before the application reads it
    "a request line above 64 KiB": ({"user_name": "x" * 70_000}, {}),
    "too many header fields": ({}, {f"x-field-{i}": "1" for i in range(100)}),
    "a header line above 64 KiB": ({}, {"x-big": "y" * 70_000}),
    "a head above 256 KiB": ({}, {f"x-big-{i}": "y" * 60_000 for i in range(5)}),
}


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("case", list(HEADS_REFUSED))
def test_a_head_the_servers_http_layer_refuses_is_refused_by_the_mock_alike(case: str, asynchronous: bool) -> None:
    # The server's HTTP layer answers RequestURITooLong or RequestHeaderFieldsTooLarge before the
    # application runs; the mock handed such requests to the application, which answered them.
    fields, headers = HEADS_REFUSED[case]
    runtime = RuntimeOptions(extends_parameters=ExtendsParameters(headers=headers))
    request = DescribeAuditLogsRequest(**fields)

    def refused(client: SddpClient) -> tuple[str, int, str, dict[str, Any]]:
        with pytest.raises(TeaException) as caught:
            if asynchronous:
                asyncio.run(client.describe_audit_logs_with_options_async(request, runtime))
            else:
                client.describe_audit_logs_with_options(request, runtime)
        data = caught.value.data
        return caught.value.code, data["statusCode"], data["Message"], _without_echoes(data)

    with TestServer([], access_key=KEY) as server:
        real = refused(SddpClient(server.sdk_config()))
    with dsc_engine.mock([], access_keys=[KEY]):
        mocked = refused(SddpClient(_config(endpoint=SDDP_ENDPOINT, access_key_id=KEY.id, access_key_secret=KEY.secret)))
    assert real[0] in ("RequestURITooLong", "RequestHeaderFieldsTooLarge")
    assert mocked[:3] == real[:3]
    assert mocked[3].keys() == real[3].keys()


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_the_mock_refuses_from_the_same_number_of_header_fields_as_the_server(asynchronous: bool) -> None:
    """The count of fields includes those the HTTP layer adds as it writes the request (its own
    differ between the sync and async layers): a mock off by a few would pass a test sending 100
    fields, so each count around the server's limit is compared."""

    def refused(client: SddpClient, extra: int) -> bool:
        headers = {f"x-field-{i}": "1" for i in range(extra)}
        runtime = RuntimeOptions(extends_parameters=ExtendsParameters(headers=headers))
        request = DescribeAuditLogsRequest(page_size=1)
        try:
            if asynchronous:
                asyncio.run(client.describe_audit_logs_with_options_async(request, runtime))
            else:
                client.describe_audit_logs_with_options(request, runtime)
        except TeaException as exc:
            assert exc.code == "RequestHeaderFieldsTooLarge"
            return True
        return False

    counts = range(80, 96)
    with TestServer([], access_key=KEY) as server:
        client = SddpClient(server.sdk_config())
        real = [refused(client, extra) for extra in counts]
    with dsc_engine.mock([], access_keys=[KEY]):
        client = SddpClient(_config(endpoint=SDDP_ENDPOINT, access_key_id=KEY.id, access_key_secret=KEY.secret))
        mocked = [refused(client, extra) for extra in counts]
    assert not real[0] and real[-1]  # the limit lies among these counts
    assert mocked == real


BAD_PROXIES = ["http://:80", "http://[bad", "http://proxy:port", "proxy.example:3128", "::::", " "]


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("protocol", ["http", "https"])
@pytest.mark.parametrize("given", ["environment", "runtime"])
@pytest.mark.parametrize("proxy", BAD_PROXIES)
def test_a_proxy_the_http_layer_cannot_parse_fails_in_the_mock_as_in_production(
    proxy: str, given: str, protocol: str, asynchronous: bool, no_network: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK hands the proxy of the runtime options, or else of HTTP_PROXY/HTTPS_PROXY, to its
    # HTTP layer, which parses it before it connects: one it cannot parse fails the call. The mock
    # answered such calls, so a misconfigured proxy was found only in production.
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    runtime = RuntimeOptions()
    if given == "environment":
        monkeypatch.setenv(f"{protocol.upper()}_PROXY", proxy)
    else:
        setattr(runtime, f"{protocol}_proxy", proxy)
    client = SddpClient(_config(endpoint=SDDP_ENDPOINT, protocol=protocol))
    real = _answered(client, runtime, asynchronous)
    with dsc_engine.mock([]):
        mocked = _answered(client, runtime, asynchronous)
    if "a socket was used" in str(real):  # a proxy it takes: the mock answers before any proxy
        assert mocked[0] == "answered"
    else:
        assert mocked == real


UNSENDABLE = {  # (Config fields, runtime options): the HTTP layer refuses them before any socket
    "no endpoint (an unset variable)": ({"endpoint": "", "region_id": "cn-hangzhou"}, {}),
    "a port that is no number": ({"endpoint": SDDP_ENDPOINT + ":443x"}, {}),
    "a scheme that is not http": ({"endpoint": SDDP_ENDPOINT, "protocol": "ftp"}, {}),
    "no CA bundle at the path given": ({"endpoint": SDDP_ENDPOINT}, {"ca": "/nonexistent/ca.pem"}),
    "no client certificate at the path given": ({"endpoint": SDDP_ENDPOINT}, {"cert": "/nonexistent/cert.pem"}),
}
UNSENDABLE_SYNC = {  # aiohttp sends these (it takes a space in a host name, a timeout below 0)
    "a space in the endpoint": ({"endpoint": SDDP_ENDPOINT + " "}, {}),
    "a negative read timeout": ({"endpoint": SDDP_ENDPOINT}, {"read_timeout": -5}),
}


@pytest.mark.parametrize(
    ("case", "asynchronous"),
    [(case, False) for case in {**UNSENDABLE, **UNSENDABLE_SYNC}] + [(case, True) for case in UNSENDABLE],
)
def test_a_request_the_http_layer_cannot_send_fails_in_the_mock_as_in_production(
    case: str, asynchronous: bool, no_network: None
) -> None:
    # The mock answered these, where production code fails before it opens a socket: an endpoint
    # read from an unset environment variable passed its tests and failed in production.
    fields, options = {**UNSENDABLE, **UNSENDABLE_SYNC}[case]

    def outcome() -> tuple[type, type | None, str]:
        client, runtime = SddpClient(_config(**fields)), RuntimeOptions(**options)
        try:
            if asynchronous:
                asyncio.run(client.describe_audit_logs_with_options_async(DescribeAuditLogsRequest(), runtime))
            else:
                client.describe_audit_logs_with_options(DescribeAuditLogsRequest(), runtime)
        except TeaException as exc:
            inner = getattr(exc, "inner_exception", None)
            return type(exc), type(inner), str(inner)
        return type(None), None, "answered"

    real = outcome()  # the SDK's own HTTP layer, no mock
    assert real[0] is not type(None) and "a socket was used" not in real[2]
    with dsc_engine.mock([]):
        assert outcome() == real


# -- the public strategies through the SDK --------------------------------------------------------

SDK_REQUESTS = {
    "DescribeAuditLogs": ("audit", DescribeAuditLogsRequest),
    "DescribeDataMaskingRunHistory": ("masking", DescribeDataMaskingRunHistoryRequest),
    "ListSensitiveDataAuditLog": ("dms", ListSensitiveDataAuditLogRequest),
}


@pytest.mark.parametrize("action", list(SDK_REQUESTS))
def test_drawn_requests_through_the_sdk_get_the_engines_answer(action: str) -> None:
    # docs/api.md: the wire form goes through a request model's from_map unchanged, but for RuleID
    kind, model = SDK_REQUESTS[action]
    method = OPERATIONS[kind][1]

    @settings(max_examples=25, deadline=None)
    @given(records=record_lists(kind, max_size=12), params=requests(action))
    def check(records: list[Record], params: dict[str, Any]) -> None:
        if "RuleID" in params:
            params["RuleId"] = params.pop("RuleID")
        with dsc_engine.mock({kind: records}) as cloud:
            body = getattr(_client(kind, _config(region_id="cn-hangzhou")), method)(
                model().from_map(params)
            ).body.to_map()
            expected = cloud.engine.call(action, {k: str(v) for k, v in params.items()})
        assert _without_echoes(body) == _without_echoes(expected)

    check()


# -- throttling, reset, lifecycle ---------------------------------------------------------------


def test_nothing_is_throttled_unless_asked(no_network: None) -> None:
    with dsc_engine.mock([]) as cloud:
        client = SddpClient(_config(endpoint=SDDP_ENDPOINT))
        for _ in range(25):
            client.describe_audit_logs(DescribeAuditLogsRequest())
        cloud.throttle(rate=0.001)  # one call, then none for 1000 s
        client.describe_audit_logs(DescribeAuditLogsRequest())
        with pytest.raises(ThrottlingException) as caught:
            client.describe_audit_logs(DescribeAuditLogsRequest())
        assert caught.value.code == "Throttling.User"
        assert 999_000 <= caught.value.retry_after <= 1_000_000  # milliseconds until its next token
        cloud.reset()
        client.describe_audit_logs(DescribeAuditLogsRequest())


def test_reset_serves_the_data_afresh(records: list[Record]) -> None:
    with dsc_engine.mock(records) as cloud:
        first = cloud.engine
        first.load(generate("audit", 5, seed=9))
        assert my_report() == 35
        cloud.reset()
        assert cloud.engine is not first and my_report() == 30
        cloud.reset(generate("audit", 2, seed=3))
        assert my_report() == 2


def test_each_start_serves_the_data_afresh(records: list[Record]) -> None:
    cloud = dsc_engine.mock(iter(records))  # an iterator is read once, at creation
    for _ in range(2):
        with cloud:
            assert my_report() == 30
            cloud.engine.load(generate("audit", 5, seed=9))
    assert len(cloud.engine.store("audit")) == 35  # still there after stop


def test_a_throttle_ends_with_the_run_that_asked_for_it(no_network: None) -> None:
    cloud = dsc_engine.mock([])

    @cloud
    def test_one_throttles() -> None:
        cloud.throttle(rate=0.001)  # one call, then none for 1000 s
        my_report()

    @cloud
    def test_two_pages_freely() -> None:  # the next test decorated with the same mock
        for _ in range(3):
            my_report()

    test_one_throttles()
    test_two_pages_freely()


def test_an_engine_given_is_served_as_is(no_network: None) -> None:
    engine = Engine()
    with dsc_engine.mock(engine) as cloud:
        engine.load(generate("audit", 6, seed=4))
        assert cloud.engine is engine and my_report() == 6


def test_mocks_nest_and_the_last_started_answers() -> None:
    with dsc_engine.mock(generate("audit", 1, seed=1)):
        with dsc_engine.mock(generate("audit", 2, seed=1)):
            assert my_report() == 2
        assert my_report() == 1


def test_the_sdk_is_unpatched_when_the_last_mock_stops() -> None:
    originals = {
        (core, name): core.__dict__[name]
        for core in (DaraCore, TeaCore)
        for name in ("do_action", "async_do_action")
    }
    with dsc_engine.mock([]):
        assert DaraCore.__dict__["do_action"] is not originals[DaraCore, "do_action"]
        with dsc_engine.mock([]):
            pass
        assert TeaCore.__dict__["async_do_action"] is not originals[TeaCore, "async_do_action"]
    assert {key: key[0].__dict__[key[1]] for key in originals} == originals


def test_misuse_of_the_lifecycle_is_refused() -> None:
    cloud = dsc_engine.mock([])
    with pytest.raises(RuntimeError, match="not started"):
        cloud.engine  # noqa: B018
    with pytest.raises(RuntimeError, match="not started"):
        cloud.stop()
    with cloud, pytest.raises(RuntimeError, match="already started"):
        cloud.start()
    # between two runs a throttle was taken without a word, and undone by the next start
    with pytest.raises(RuntimeError, match="not started"):
        cloud.throttle(rate=1)


@pytest.mark.parametrize(
    ("make", "arguments", "key", "reason"),
    [
        (dsc_engine.mock, {"access_keys": [("LTAI1", "secret")]}, "access_keys[0]", "an AccessKey, not tuple"),
        (dsc_engine.mock, {"access_keys": AccessKey(id="LTAI1", secret="secret")}, "access_keys",
         "a list of AccessKeys, not one AccessKey"),
        (dsc_engine.mock, {"access_keys": "LTAI1:secret"}, "access_keys", "a list of AccessKeys, not str"),
        (dsc_engine.mock, {"config": {"throttle": False}}, "config", "a ServerConfig, not dict"),
        (dsc_engine.mock([]).reset, {"config": {"throttle": False}}, "config", "a ServerConfig, not dict"),
        (TestServer, {"config": {"throttle": False}}, "config", "a ServerConfig, not dict"),
        (TestServer, {"access_key": ("LTAI1", "secret")}, "access_key", "an AccessKey, not tuple"),
    ],
)
def test_keys_or_a_config_of_the_wrong_type_are_refused_naming_them(
    make: Any, arguments: dict[str, Any], key: str, reason: str
) -> None:
    # they failed deep inside with an AttributeError ('tuple' object has no attribute 'id'), or
    # iterated a key's text letter by letter
    with pytest.raises(ServerConfigError, match=rf": {re.escape(key)}: .*{re.escape(reason)}"):
        make(**arguments).stop()


def test_decorated_function_runs_in_a_fresh_mock_each_call(records: list[Record]) -> None:
    cloud = dsc_engine.mock(records)

    @cloud
    def report_then_add() -> int:
        total = my_report()
        cloud.engine.load(generate("audit", 5, seed=9))
        return total

    assert report_then_add() == report_then_add() == 30
    assert report_then_add.__name__ == "report_then_add"


def test_decorated_coroutine_function_runs_in_the_mock(no_network: None) -> None:
    @dsc_engine.mock(generate("audit", 3, seed=1))
    async def report() -> int:
        client = SddpClient(_config(endpoint=SDDP_ENDPOINT))
        return int((await client.describe_audit_logs_async(DescribeAuditLogsRequest())).body.total_count)

    assert asyncio.run(report()) == 3


@dsc_engine.mock(generate("audit", 8, seed=1))
def test_a_decorated_test_keeps_its_fixtures(tmp_path: Any) -> None:
    assert tmp_path.exists() and my_report() == 8


def test_a_decorated_class_keeps_its_tests_and_runs_each_in_the_mock(no_network: None) -> None:
    cloud = dsc_engine.mock(generate("audit", 4, seed=1))

    @cloud
    class TestReports:
        total = 0

        def test_report(self) -> None:
            assert my_report() == 4

        @staticmethod
        def test_static() -> int:
            return my_report()

        def helper(self) -> str:  # not a test: left as it is, outside the mock
            return "helper"

    assert inspect.isclass(TestReports), "the class became a function: pytest would collect nothing"
    TestReports().test_report()
    assert TestReports.test_static() == 4
    assert TestReports().helper() == "helper"
    assert DaraCore.__dict__["do_action"] is _ORIGINAL_SEND  # each test stopped its mock


XUNIT_CLASS_TESTS = """
import socket

from alibabacloud_sddp20190103.client import Client
from alibabacloud_sddp20190103.models import DescribeAuditLogsRequest
from alibabacloud_tea_openapi.models import Config

import dsc_engine
from dsc_engine.sample import generate


def refuse(*args, **kwargs):
    raise AssertionError("a socket was used")


socket.socket.connect = socket.getaddrinfo = refuse


def total():
    config = Config(access_key_id="a", access_key_secret="b", endpoint="sddp.cn-zhangjiakou.aliyuncs.com")
    return Client(config).describe_audit_logs(DescribeAuditLogsRequest()).body.total_count


@dsc_engine.mock(generate("audit", 4, seed=1))
class TestWithTheTest:
    def setup_method(self, method):
        self.seen = [method.__name__, total()]

    def teardown_method(self, method):
        assert total() == 4

    def test_one(self):
        assert self.seen == ["test_one", 4] and total() == 4


@dsc_engine.mock(generate("audit", 5, seed=1))
class TestWithout:
    def setup_method(self):
        self.before = total()

    def teardown_method(self):
        assert total() == 5

    def test_one(self):
        assert self.before == total() == 5
"""


def test_a_decorated_class_runs_its_setup_and_teardown_methods_in_the_mock(tmp_path: Any) -> None:
    # only test* methods were decorated: a setup_method calling the SDK went to the network
    # (to the real cloud, with the credentials the code found)
    output = run_pytest(tmp_path, {"test_xunit.py": XUNIT_CLASS_TESTS})
    assert "2 passed" in output and "error" not in output


def test_a_decorated_unittest_case_runs_setup_test_and_teardown_in_the_mock(no_network: None) -> None:
    seen: list[int] = []

    @dsc_engine.mock(generate("audit", 6, seed=1))
    class ReportCase(unittest.TestCase):
        def setUp(self) -> None:
            seen.append(my_report())

        def test_report(self) -> None:
            seen.append(my_report())

        def tearDown(self) -> None:
            seen.append(my_report())

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(ReportCase).run(result)
    assert result.testsRun == 1 and result.wasSuccessful(), result.errors + result.failures
    assert seen == [6, 6, 6]
    assert DaraCore.__dict__["do_action"] is _ORIGINAL_SEND


def test_a_subclass_of_a_class_decorated_with_the_same_mock_runs_each_test_once_in_it(no_network: None) -> None:
    # one module-level mock on a base class and on its subclass: the inherited test (and, on a
    # TestCase, the inherited setUp) was wrapped twice, and the inner start failed "already started"
    cloud = dsc_engine.mock(generate("audit", 3, seed=1))
    seen: list[int] = []

    @cloud
    class TestBase:
        def test_report(self) -> None:
            seen.append(my_report())

    @cloud
    class TestMore(TestBase):
        pass

    @cloud
    class BaseCase(unittest.TestCase):
        def test_report(self) -> None:
            seen.append(my_report())

    @cloud
    class MoreCase(BaseCase):
        pass

    TestMore().test_report()
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(MoreCase).run(result)
    assert result.testsRun == 1 and result.wasSuccessful(), result.errors + result.failures
    assert seen == [3, 3]
    assert DaraCore.__dict__["do_action"] is _ORIGINAL_SEND


def test_a_decorated_generator_runs_in_the_mock_until_it_finishes(no_network: None) -> None:
    @dsc_engine.mock(generate("audit", 5, seed=1))
    def reports() -> Iterator[int]:  # a pytest fixture that yields, say
        yield my_report()
        yield my_report()

    assert list(reports()) == [5, 5]
    assert DaraCore.__dict__["do_action"] is _ORIGINAL_SEND


def test_overlapping_decorated_calls_from_threads_share_one_run_until_the_last_ends(no_network: None) -> None:
    # a decorated helper called from a thread pool: each call started the mock only if it saw it
    # stopped, so two calls could both start it ("already started"), and the first to end
    # stopped it under the other, whose requests then went to the network
    cloud = dsc_engine.mock(generate("audit", 4, seed=1))
    inside = {name: threading.Event() for name in ("first", "last")}
    first_left = threading.Event()

    @cloud
    def report(name: str) -> int:
        inside[name].set()
        assert inside["last"].wait(5)  # the first call (it started the mock) waits for the last
        if name == "last":
            assert first_left.wait(5)
        return my_report()

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(report, "first")
        assert inside["first"].wait(5)
        last = pool.submit(report, "last")
        assert first.result(10) == 4
        first_left.set()
        assert last.result(10) == 4
    assert DaraCore.__dict__["do_action"] is _ORIGINAL_SEND


def test_overlapping_decorated_coroutines_share_one_run_until_the_last_ends(no_network: None) -> None:
    cloud = dsc_engine.mock(generate("audit", 4, seed=1))

    @cloud
    async def report(pause: float) -> int:
        await asyncio.sleep(pause)
        client = SddpClient(_config(endpoint=SDDP_ENDPOINT))
        return int((await client.describe_audit_logs_async(DescribeAuditLogsRequest())).body.total_count)

    async def both() -> list[int]:
        return list(await asyncio.gather(report(0.0), report(0.05)))

    assert asyncio.run(both()) == [4, 4]
    assert DaraCore.__dict__["do_action"] is _ORIGINAL_SEND


def test_decorating_an_async_generator_is_refused_clearly() -> None:
    async def pages() -> Any:
        yield 1

    with pytest.raises(TypeError, match="async generator"):
        dsc_engine.mock([])(pages)


# -- the Tea core of older SDKs ---------------------------------------------------------------


def _tea_request(action: str) -> TeaRequest:
    request = TeaRequest()
    request.protocol = "https"
    request.method = "POST"
    request.pathname = "/"
    request.headers = {"host": SDDP_ENDPOINT, "x-acs-action": action, "x-acs-version": "2019-01-03",
                       "authorization": "ACS3-HMAC-SHA256 Credential=LTAIold,SignedHeaders=host,Signature=0"}
    request.query = {"PageSize": "2"}
    return request


def test_requests_of_the_older_tea_core_are_answered_too(no_network: None) -> None:
    with dsc_engine.mock(generate("audit", 3, seed=1)):
        sync = TeaCore.do_action(_tea_request("DescribeAuditLogs"))
        asynchronous = asyncio.run(TeaCore.async_do_action(_tea_request("DescribeAuditLogs")))
    for response in (sync, asynchronous):
        assert type(response).__name__ == "TeaResponse" and response.status_code == 200
        body = json.loads(response.body)
        assert body["TotalCount"] == 3 and len(body["Items"]) == 2


def test_the_older_tea_cores_asynchronous_send_ignores_ca_and_cert_under_the_mock_too(no_network: None) -> None:
    # TeaCore.async_do_action never reads the runtime options' ca and cert (darabonba's loads
    # them): under the mock, paths with no file there raised FileNotFoundError, where the call
    # goes to the network in production
    options = {"ca": "/nonexistent/ca.pem", "cert": "/nonexistent/cert.pem"}
    with pytest.raises(AssertionError, match="a socket was used"):  # production: sent
        asyncio.run(TeaCore.async_do_action(_tea_request("DescribeAuditLogs"), options))
    with dsc_engine.mock(generate("audit", 3, seed=1)):
        answered = asyncio.run(TeaCore.async_do_action(_tea_request("DescribeAuditLogs"), options))
    assert answered.status_code == 200


# -- the fixture, and importing -----------------------------------------------------------------


@pytest.fixture
def dsc_records() -> list[Record]:
    return generate("audit", 11, seed=6)


def test_mock_fixture_serves_the_records_fixture(dsc_mock: EngineMock, no_network: None) -> None:
    assert my_report() == 11
    assert len(dsc_mock.engine.store("audit")) == 11


def test_import_dsc_engine_needs_neither_the_sdk_nor_pytest() -> None:
    script = textwrap.dedent(
        """
        import sys
        import dsc_engine
        heavy = ("pytest", "alibabacloud_tea_openapi", "darabonba", "Tea", "dsc_engine.mocking")
        assert not [m for m in sys.modules if m.split(".")[0] in heavy or m in heavy], sorted(sys.modules)
        from dsc_engine import mock
        assert mock is dsc_engine.mock and callable(mock)
        assert not [m for m in sys.modules if m.split(".")[0] in heavy[:4]], "mock imported the SDK"
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr


def test_starting_a_mock_without_the_sdk_names_the_extra_to_install() -> None:
    script = textwrap.dedent(
        """
        import sys
        class NoSdk:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("darabonba", "Tea"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        sys.meta_path.insert(0, NoSdk())
        import dsc_engine
        cloud = dsc_engine.mock([])
        try:
            cloud.start()
        except ModuleNotFoundError as exc:
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'dsc-engine[test]'" in result.stdout


@pytest.fixture(autouse=True)
def _no_mock_left_behind() -> Iterator[None]:
    yield
    assert DaraCore.__dict__["do_action"].__func__.__module__ != "dsc_engine.mocking"


def test_calls_captured_as_the_sdk_hands_them_back_replay_as_the_service_answered(
    records: list[Record], no_network: None, tmp_path: Any
) -> None:
    """A capture written from SDK results holds ``response.to_map()`` (headers, statusCode, body)
    or a refusal's ``TeaException.data`` (the error body plus statusCode): replay compared those
    shapes with the body and reported every key as a difference."""
    from dsc_engine.replay import read_calls, replay

    lines = []
    with dsc_engine.mock(records):
        client = SddpClient(Config(access_key_id="LTAI5tProduction", access_key_secret="s", endpoint=SDDP_ENDPOINT))
        answered = client.describe_audit_logs(DescribeAuditLogsRequest(page_size=5, lang="en_us"))
        lines.append({"action": "DescribeAuditLogs", "params": {"PageSize": "5", "Lang": "en_us"},
                      "response": answered.to_map()})
        with pytest.raises(TeaException) as refused:
            client.describe_audit_logs(DescribeAuditLogsRequest(page_size=500, lang="en_us"))
        lines.append({"action": "DescribeAuditLogs", "params": {"PageSize": "500", "Lang": "en_us"},
                      "response": refused.value.data})
    assert set(lines[0]["response"]) == {"headers", "statusCode", "body"} and "statusCode" in lines[1]["response"]
    capture = tmp_path / "capture.jsonl"
    capture.write_text("".join(json.dumps(line) + "\n" for line in lines))
    calls = read_calls(capture)
    assert [call.status for call in calls] == [200, 400]
    assert calls[1].response is not None and "statusCode" not in calls[1].response
    engine = Engine()
    engine.load(records)
    report = replay(engine, calls)
    assert report.ok, "\n".join(report.lines())
    lines[1]["status"] = 200  # a status beside it that says otherwise is named
    capture.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(dsc_engine.errors.ImportFailure, match="disagrees with the response's statusCode 400"):
        read_calls(capture)
