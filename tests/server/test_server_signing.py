"""The signing functions agree with the official SDK's own, byte for byte."""

from __future__ import annotations

import hashlib
import hmac

from alibabacloud_tea_openapi.sm3 import Sm3, hash_sm3
from alibabacloud_tea_openapi.utils import Utils
import pytest
from darabonba.request import DaraRequest
from hypothesis import given
from hypothesis import strategies as st

from dsc_engine.server import signing

# Parameter names as the APIs use them; values anything printable, spaces and CJK included.
names = st.from_regex(r"[A-Z][A-Za-z]{0,12}", fullmatch=True)
values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
param_maps = st.dictionaries(names, values, max_size=6)


@given(params=param_maps, method=st.sampled_from(["GET", "POST"]))
def test_v3_authorization_equals_sdk(params: dict[str, str], method: str) -> None:
    headers = {
        "host": "127.0.0.1:8080",
        "x-acs-action": "DescribeAuditLogs",
        "x-acs-version": "2019-01-03",
        "x-acs-date": "2024-01-02T03:04:05Z",
        "x-acs-signature-nonce": "n0nce",
        "accept": "application/json",
        "user-agent": "AlibabaCloud (Linux; x86_64) Python/3.11",
    }
    payload = hashlib.sha256(b"").hexdigest()
    headers["x-acs-content-sha256"] = payload
    request = DaraRequest()
    request.method, request.pathname, request.query, request.headers = method, "/", params, headers
    expected = Utils.get_authorization(request, "ACS3-HMAC-SHA256", payload, "AK", "s3cret")
    ours = signing.v3_authorization(method, "/", params, headers, b"", "AK", "s3cret")
    assert ours == expected


@given(params=param_maps, method=st.sampled_from(["GET", "POST"]), body=st.binary(max_size=200))
def test_v3_sm3_authorization_equals_sdk(params: dict[str, str], method: str, body: bytes) -> None:
    headers = {
        "host": "sddp.cn-zhangjiakou.aliyuncs.com",
        "x-acs-action": "DescribeAuditLogs",
        "x-acs-version": "2019-01-03",
        "x-acs-date": "2024-01-02T03:04:05Z",
        "x-acs-signature-nonce": "n0nce",
    }
    payload = Utils.hash(body, "ACS3-HMAC-SM3").hex()
    assert signing.payload_hash(body, signing.ACS3_HMAC_SM3) == payload
    headers["x-acs-content-sha256"] = payload
    request = DaraRequest()
    request.method, request.pathname, request.query, request.headers = method, "/", params, headers
    expected = Utils.get_authorization(request, "ACS3-HMAC-SM3", payload, "AK", "s3cret")
    ours = signing.v3_authorization(method, "/", params, headers, body, "AK", "s3cret", signing.ACS3_HMAC_SM3)
    assert ours == expected


@given(data=st.binary(max_size=300))
def test_sm3_digest_equals_the_standard_and_openssl(data: bytes) -> None:
    assert signing.sm3(data) == signing.sm3_pure(data) == hash_sm3(data)
    if "sm3" in hashlib.algorithms_available:
        assert signing.sm3(data) == hashlib.new("sm3", data).digest()


def test_sm3_signatures_without_openssls_sm3_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    canonical = "POST\n/\nPageSize=5\nhost:h\nhost\n" + signing.payload_hash(b"", signing.ACS3_HMAC_SM3)
    with_openssl = signing.v3_signature(canonical, "s3cret" * 20, signing.ACS3_HMAC_SM3)  # a key above a block
    monkeypatch.setattr(signing, "_OPENSSL_SM3", False)
    assert signing.v3_signature(canonical, "s3cret" * 20, signing.ACS3_HMAC_SM3) == with_openssl
    assert signing.v3_signature(canonical, "short", signing.ACS3_HMAC_SM3) == hmac.new(
        b"short", f"ACS3-HMAC-SM3\n{hash_sm3(canonical.encode()).hex()}".encode(), Sm3
    ).hexdigest()


def test_sm3_digest_of_the_standards_examples() -> None:
    # GB/T 32905-2016, appendix A: "abc", and "abcd" 16 times
    assert signing.sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert signing.sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


@given(params=param_maps, method=st.sampled_from(["GET", "POST"]))
def test_v2_signature_equals_sdk(params: dict[str, str], method: str) -> None:
    params = {**params, "AccessKeyId": "AK", "SignatureNonce": "x y+z"}
    expected = Utils.get_rpcsignature(params, method, "s3cret")
    assert signing.v2_signature(method, params.items(), "s3cret") == expected


def test_canonical_headers_sort_and_join_repeated_values() -> None:
    headers = {"x-acs-b": [" 2 ", "1"], "host": ["h"], "x-unsigned": ["no"]}
    assert signing.canonical_headers(headers, ["x-acs-b", "host"]) == "host:h\nx-acs-b:1,2\n"


def test_percent_encoding_is_rfc3986() -> None:
    assert signing.percent_encode("a b*~/=") == "a%20b%2A~%2F%3D"


def test_same_signature_rejects_a_one_character_change() -> None:
    assert signing.same_signature("abc", "abc")
    assert not signing.same_signature("abc", "abd")
