"""Every error of docs/semantics.md §7 and docs/server.md, as the official SDK raises it."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from alibabacloud_sddp20190103 import models as sddp_models
from alibabacloud_sddp20190103.client import Client as SddpClient
from alibabacloud_dms_enterprise20181101 import models as dms_models
from alibabacloud_dms_enterprise20181101.client import Client as DmsClient
from alibabacloud_tea_openapi import utils_models
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException
from alibabacloud_tea_openapi.utils import Utils
from darabonba.runtime import ExtendsParameters, RuntimeOptions
from Tea.exceptions import TeaException

from dsc_engine.api.errors import ApiError
from dsc_engine.engine import Engine
from dsc_engine.sample import generate
from dsc_engine.server import signing
from dsc_engine.server.app import make_app
from dsc_engine.server.client import SignedClient
from dsc_engine.server.config import AccessKey, ServerConfig, ThrottleConfig
from dsc_engine.server.host import RunningServer
from dsc_engine.server.policy import Policy
from dsc_engine.testing import TestServer

ALGORITHMS = pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "v2"])


class Clock:
    """A clock that stands still until told to move (seconds since the epoch)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.now = time.time() + offset

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def engine() -> Engine:
    engine = Engine()
    for kind in ("audit", "masking", "dms"):
        engine.load(generate(kind, 30, seed=3))
    return engine


@pytest.fixture(scope="module")
def server(engine: Engine) -> Iterator[TestServer]:
    with TestServer(engine, config=ServerConfig(throttle=ThrottleConfig(enabled=False))) as running:
        yield running


def audit_logs(config: Any, **params: Any) -> Any:
    return SddpClient(config).describe_audit_logs(sddp_models.DescribeAuditLogsRequest(**params))


def expect_error(call: Any, code: str, status: int) -> TeaException:
    with pytest.raises(TeaException) as caught:
        call()
    error = caught.value
    assert (error.code, error.status_code) == (code, status), error.data
    # a throttled answer carries its wait (x-acs-retry-after), which the SDK raises apart
    assert isinstance(error, ThrottlingException if code.startswith("Throttling") else
                      ClientException if status < 500 else ServerException)
    assert set(error.data) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert error.data["Recommend"].startswith(f"https://api.aliyun.com/troubleshoot?q={code}&product=")
    return error


@ALGORITHMS
def test_wrong_secret_is_signature_does_not_match(server: TestServer, algorithm: str | None) -> None:
    wrong = attrs.evolve(server.access_key, secret="not-the-secret")
    config = server.sdk_config(wrong, signature_algorithm=algorithm)
    error = expect_error(lambda: audit_logs(config), "SignatureDoesNotMatch", 400)
    assert error.data["Message"] == "Specified signature is not matched with our calculation."
    assert error.data["HostId"] == server.endpoint


@ALGORITHMS
def test_unknown_key_is_not_found(server: TestServer, algorithm: str | None) -> None:
    stranger = AccessKey(id="LTAIunknown", secret="whatever")
    config = server.sdk_config(stranger, signature_algorithm=algorithm)
    error = expect_error(lambda: audit_logs(config), "InvalidAccessKeyId.NotFound", 404)
    assert error.data["Message"] == "Specified access key is not found."


@ALGORITHMS
@pytest.mark.parametrize("skew_minutes", [16, -16])
def test_time_more_than_15_minutes_off_is_expired(
    engine: Engine, algorithm: str | None, skew_minutes: int
) -> None:
    with TestServer(engine, clock=Clock(skew_minutes * 60)) as skewed:
        config = skewed.sdk_config(signature_algorithm=algorithm)
        error = expect_error(lambda: audit_logs(config), "InvalidTimeStamp.Expired", 400)
        assert error.data["Message"] == "Specified time stamp or date value is expired."


@ALGORITHMS
def test_time_14_minutes_off_is_still_accepted(engine: Engine, algorithm: str | None) -> None:
    with TestServer(engine, clock=Clock(-14 * 60)) as skewed:
        assert audit_logs(skewed.sdk_config(signature_algorithm=algorithm)).status_code == 200


@ALGORITHMS
def test_replayed_nonce_is_refused(
    server: TestServer, algorithm: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    nonce = f"fixed-nonce-{algorithm}"
    monkeypatch.setattr(Utils, "get_nonce", staticmethod(lambda: nonce))
    config = server.sdk_config(signature_algorithm=algorithm)
    assert audit_logs(config).status_code == 200
    error = expect_error(lambda: audit_logs(config), "SignatureNonceUsed", 400)
    assert error.data["Message"] == "Specified signature nonce was used already."
    # the same nonce from another key is that key's own first use
    other = AccessKey(id="LTAIother", secret="other-secret")
    with TestServer(server.engine, access_key=other) as second:
        assert audit_logs(second.sdk_config(signature_algorithm=algorithm)).status_code == 200


@ALGORITHMS
def test_policy_deny_overrides_allow(engine: Engine, algorithm: str | None) -> None:
    policy = Policy.from_document(
        {
            "Statement": [
                {"Effect": "Allow", "Action": ["yundun-sddp:Describe*"], "Resource": "*"},
                {"Effect": "Deny", "Action": "yundun-sddp:describeauditlogs"},
            ]
        },
        "test", "policy",
    )
    key = AccessKey(id="LTAIlimited", secret="limited-secret", policy=policy)
    with TestServer(engine, access_key=key) as limited:
        config = limited.sdk_config(signature_algorithm=algorithm)
        error = expect_error(lambda: audit_logs(config), "Forbidden.RAM", 403)
        assert "User not authorized" in error.data["Message"]
        runs = SddpClient(limited.sdk_config(signature_algorithm=algorithm)).describe_data_masking_run_history(
            sddp_models.DescribeDataMaskingRunHistoryRequest()
        )
        assert runs.status_code == 200
        dms = DmsClient(limited.sdk_config(signature_algorithm=algorithm))
        error = expect_error(
            lambda: dms.list_sensitive_data_audit_log(
                dms_models.ListSensitiveDataAuditLogRequest(page_number=1, page_size=10)
            ),
            "Forbidden.RAM", 403,
        )
        assert "product=dms-enterprise" in error.data["Recommend"]


@ALGORITHMS
def test_more_than_10_calls_a_second_are_throttled(engine: Engine, algorithm: str | None) -> None:
    clock = Clock()
    with TestServer(engine, config=ServerConfig(), clock=clock) as throttled:  # the server's default rate
        config = throttled.sdk_config(signature_algorithm=algorithm)
        client = SddpClient(config)
        for _ in range(10):
            client.describe_audit_logs(sddp_models.DescribeAuditLogsRequest())
        error = expect_error(lambda: audit_logs(config), "Throttling.User", 400)
        assert error.data["Message"] == "Request was denied due to user flow control."
        assert error.retry_after == 100  # milliseconds until the next token, at 10 a second
        # another operation has its own bucket
        client.describe_data_masking_run_history(sddp_models.DescribeDataMaskingRunHistoryRequest())
        clock.now += 0.25  # 2.5 tokens back
        client.describe_audit_logs(sddp_models.DescribeAuditLogsRequest())
        client.describe_audit_logs(sddp_models.DescribeAuditLogsRequest())
        assert expect_error(lambda: audit_logs(config), "Throttling.User", 400).retry_after == 50


def _engine_error(engine: Engine, action: str, params: dict[str, str]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        engine.call(action, params)
    return caught.value


@ALGORITHMS
@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"page_size": 500}, "InvalidParameter"),
        ({"current_page": 0}, "InvalidParameter"),
        ({"execute_time_range": "in[5 1]"}, "InvalidParameter"),
        ({"start_time": 10, "end_time": 5}, "InvalidParameter"),
    ],
)
def test_invalid_parameters_reach_the_sdk_as_the_engine_words_them(
    server: TestServer, algorithm: str | None, params: dict[str, Any], code: str
) -> None:
    config = server.sdk_config(signature_algorithm=algorithm)
    error = expect_error(lambda: audit_logs(config, **params), code, 400)
    wire = sddp_models.DescribeAuditLogsRequest(**params).to_map()
    expected = _engine_error(server.engine, "DescribeAuditLogs", {k: str(v) for k, v in wire.items()})
    assert error.data["Message"] == expected.message
    assert error.data["Code"] == expected.code


@ALGORITHMS
def test_missing_required_parameters(server: TestServer, algorithm: str | None) -> None:
    dms = DmsClient(server.sdk_config(signature_algorithm=algorithm))
    request = dms_models.ListSensitiveDataAuditLogRequest(page_size=10, start_time="2024-01-01 00:00:00",
                                                           end_time="2024-01-02 00:00:00")
    error = expect_error(lambda: dms.list_sensitive_data_audit_log(request), "MissingPageNumber", 400)
    assert error.data["Message"].startswith("PageNumber")
    assert "product=dms-enterprise" in error.data["Recommend"]


def _generic_call(config: Any, action: str, version: str) -> Any:
    params = utils_models.Params(
        action=action, version=version, protocol="HTTPS", pathname="/", method="POST",
        auth_type="AK", style="RPC", req_body_type="formData", body_type="json",
    )
    request = utils_models.OpenApiRequest(query={"PageSize": "5"})
    return OpenApiClient(config).call_api(params, request, RuntimeOptions())


@ALGORITHMS
@pytest.mark.parametrize(
    ("action", "version", "message"),
    [
        ("DescribeNothing", "2019-01-03", "Specified api is not found"),
        # a known Sddp action answers in its Lang, Chinese by default (semantics §6.4)
        ("DescribeAuditLogs", "2018-11-01", "找不到指定的 API"),
        ("DescribeAuditLogs", "1999-01-01", "找不到指定的 API"),
    ],
)
def test_unknown_action_or_version_is_api_not_found(
    server: TestServer, algorithm: str | None, action: str, version: str, message: str
) -> None:
    config = server.sdk_config(signature_algorithm=algorithm)
    error = expect_error(lambda: _generic_call(config, action, version), "InvalidApi.NotFound", 404)
    assert error.data["Message"].startswith(message)


@ALGORITHMS
def test_security_tokens_only_where_configured(engine: Engine, algorithm: str | None) -> None:
    sts = AccessKey(id="STS.example", secret="sts-secret", security_tokens=frozenset({"tok-1"}))
    with TestServer(engine, access_key=sts) as running:
        good = running.sdk_config(signature_algorithm=algorithm, security_token="tok-1")
        assert audit_logs(good).status_code == 200
        for token in ("tok-2", None):
            config = running.sdk_config(signature_algorithm=algorithm, security_token=token)
            expect_error(lambda: audit_logs(config), "InvalidSecurityToken.MismatchWithAccessKey", 400)
    with TestServer(engine) as plain:
        config = plain.sdk_config(signature_algorithm=algorithm, security_token="tok-1")
        expect_error(lambda: audit_logs(config), "InvalidSecurityToken.MismatchWithAccessKey", 400)


def _with_headers(config: Any, headers: dict[str, str]) -> Any:
    """DescribeAuditLogs sent by the SDK with ``headers`` added (its ``extends_parameters``)."""
    runtime = RuntimeOptions(extends_parameters=ExtendsParameters(headers=headers))
    return SddpClient(config).describe_audit_logs_with_options(sddp_models.DescribeAuditLogsRequest(), runtime)


@ALGORITHMS
def test_the_headers_the_sdk_sends_of_itself_are_accepted(server: TestServer, algorithm: str | None) -> None:
    # x-acs-credentials-provider is on every call; the retry headers on a retried one
    config = server.sdk_config(signature_algorithm=algorithm)
    sent = {"x-acs-credentials-provider": "static_ak", "x-acs-retry-attempts": "1", "x-acs-retry-delay": "100"}
    assert _with_headers(config, sent).status_code == 200


def test_an_sts_call_naming_another_access_key_is_refused(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    # the SDK names an STS key in x-acs-accesskey-id beside the signature's Credential; the server
    # did not read it, so a request naming one key there and signed by another was served
    sts = AccessKey(id="STS.example", secret="sts-secret", security_tokens=frozenset({"tok-1"}))
    with TestServer(engine, access_key=sts) as running:
        config = running.sdk_config(security_token="tok-1")
        assert audit_logs(config).status_code == 200  # the SDK's own x-acs-accesskey-id: the signing key
        config = running.sdk_config()  # no token: the SDK does not set the header itself
        headers = {"x-acs-accesskey-id": "LTAIsomeoneelse", "x-acs-security-token": "tok-1"}
        with caplog.at_level(logging.INFO, logger="dsc_engine.server"):
            expect_error(lambda: _with_headers(config, headers), "IncompleteSignature", 400)
        assert "x-acs-accesskey-id 'LTAIsomeoneelse' is not the access key" in caplog.text


@pytest.mark.parametrize(
    ("algorithm", "header"),
    [
        (None, "x-acs-ws-session-id"),
        (None, "x-acs-signature-version"),
        ("v2", "x-acs-security-token"),  # a v2 request's token is its SecurityToken parameter
        ("v2", "x-acs-date"),
    ],
)
def test_an_x_acs_header_the_server_does_not_read_is_refused_naming_it(
    server: TestServer, algorithm: str | None, header: str
) -> None:
    # an x-acs-* header names something the gateway is to do; one the server does not read was
    # passed over unseen (a v2 request's x-acs-security-token was never checked)
    config = server.sdk_config(signature_algorithm=algorithm)
    error = expect_error(lambda: _with_headers(config, {header: "1"}), "InvalidParameter", 400)
    assert header in error.data["Message"]


@pytest.mark.parametrize("scheme", ["v2", "v3"])
def test_an_empty_security_token_is_no_token(engine: Engine, scheme: str) -> None:
    """An empty parameter counts as absent, the token's too: a key without tokens is served, and
    an STS key is refused as without one."""
    sts = AccessKey(id="STS.example", secret="sts-secret", security_tokens=frozenset({"tok-1"}))
    plain = AccessKey(id="LTAIplain", secret="plain-secret")
    for key, status in ((plain, 200), (sts, 400)):
        with TestServer(engine, access_key=key) as running:
            client = SignedClient(running.endpoint, key.id, key.secret, scheme=scheme)
            request = client.prepare("DescribeAuditLogs", {"SecurityToken": ""} if scheme == "v2" else {})
            if scheme == "v3":  # an empty x-acs-security-token header, signed with the others
                headers = {k: v for k, v in request.headers.items() if k != "Authorization"}
                headers["x-acs-security-token"] = ""
                headers["Authorization"] = signing.v3_authorization("POST", "/", {}, headers, b"", key.id, key.secret)
                request = attrs.evolve(request, headers=headers)
            got, body = client.send(request)
        assert got == status, body
        assert status == 200 or body["Code"] == "InvalidSecurityToken.MismatchWithAccessKey", body


class Exploding:
    def call(self, action: str, params: Any, **kw: Any) -> dict[str, Any]:
        raise RuntimeError("secret internals /etc/passwd")


def test_unexpected_failure_is_internal_error_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    key = AccessKey(id="LTAIboom", secret="boom")
    app = make_app(Exploding(), ServerConfig(access_keys={key.id: key}))
    with RunningServer(app) as running:
        config = utils_models.Config(
            access_key_id=key.id, access_key_secret=key.secret, endpoint=running.endpoint,
            protocol="http", connect_timeout=5000, read_timeout=10000,
        )
        error = expect_error(lambda: audit_logs(config), "InternalError", 500)
    assert error.data["Message"] == (
        "The request processing has failed due to some unknown error, exception or failure."
    )
    assert "passwd" not in str(error.data) and "Traceback" not in str(error.data)
    assert any("secret internals" in r.exc_text for r in caplog.records if r.exc_text)
