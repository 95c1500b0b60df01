"""The signing functions agree with the official SDK's own, byte for byte."""

from __future__ import annotations

import hashlib

from alibabacloud_tea_openapi.utils import Utils
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
