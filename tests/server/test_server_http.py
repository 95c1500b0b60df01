"""The HTTP layer: GET and POST, query and form parameters, hand-signed requests, robustness."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs
import pytest

from dsc_engine.engine import Engine
from dsc_engine.sample import generate
from dsc_engine.server import signing
from dsc_engine.server.app import CONTENT_TYPE, make_app
from dsc_engine.server.client import PreparedRequest, SignedClient, utc_timestamp
from dsc_engine.server.config import AccessKey, Limits, ServerConfig, ThrottleConfig
from dsc_engine.server.head import MAX_HEADERS
from dsc_engine.server.host import RunningServer

KEY = AccessKey(id="LTAIhttp", secret="http-secret")
SCHEMES = pytest.mark.parametrize("scheme", ["v3", "v2"])


@pytest.fixture(scope="module")
def engine() -> Engine:
    engine = Engine()
    for kind in ("audit", "masking", "dms"):
        engine.load(generate(kind, 40, seed=11))
    return engine


@pytest.fixture(scope="module")
def server(engine: Engine) -> Iterator[RunningServer]:
    config = ServerConfig(
        access_keys={KEY.id: KEY},
        throttle=ThrottleConfig(enabled=False),
        limits=Limits(max_query_bytes=2048, max_body_bytes=4096),
    )
    with RunningServer(make_app(engine, config), socket_timeout=0.5) as running:
        yield running


def client(server: RunningServer, scheme: str = "v3") -> SignedClient:
    return SignedClient(server.endpoint, KEY.id, KEY.secret, scheme=scheme)


def exchange(server: RunningServer, data: bytes, *, read_timeout: float = 5.0, half_close: bool = False) -> bytes:
    """Send raw bytes (then end the sending side, with ``half_close``); every byte answered."""
    with socket.create_connection((server.host, server.port), timeout=read_timeout) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def raw(
    server: RunningServer, data: bytes, *, read_timeout: float = 5.0, half_close: bool = False
) -> tuple[int, dict[str, str], Any]:
    """Send raw bytes; parse the status line, headers and JSON body of the answer."""
    answer = exchange(server, data, read_timeout=read_timeout, half_close=half_close)
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def strip_ids(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("RequestId", "AsyncRequestId")}


@SCHEMES
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_get_and_post_answer_alike(server: RunningServer, engine: Engine, scheme: str, method: str) -> None:
    params = {"PageSize": "4", "CurrentPage": "2", "Lang": "en_us"}
    status, body = client(server, scheme).call("DescribeAuditLogs", params, method=method)
    assert status == 200
    assert strip_ids(body) == strip_ids(engine.call("DescribeAuditLogs", params))


@SCHEMES
def test_form_body_parameters_are_read_and_signed(server: RunningServer, engine: Engine, scheme: str) -> None:
    form = {"PageNumber": "1", "PageSize": "3", "StartTime": "2000-01-01 00:00:00",
            "EndTime": "2099-01-01 00:00:00"}
    status, body = client(server, scheme).call("ListSensitiveDataAuditLog", {}, form=form)
    assert status == 200, body
    assert strip_ids(body) == strip_ids(engine.call("ListSensitiveDataAuditLog", form))


def test_plus_in_the_query_is_a_space(server: RunningServer, engine: Engine) -> None:
    params = {"SqlText": "select *", "PageSize": "50"}
    request = client(server).prepare("DescribeAuditLogs", params)
    assert "SqlText=select+%2A" in request.url
    status, body = client(server).send(request)
    assert status == 200
    assert body["TotalCount"] == engine.call("DescribeAuditLogs", params)["TotalCount"] > 0


def test_response_headers(server: RunningServer) -> None:
    request = client(server).prepare("DescribeDataMaskingRunHistory", {}, method="GET")
    path = request.url.split(server.endpoint, 1)[1]
    head = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    status, headers, body = raw(server, f"GET {path} HTTP/1.1\r\n{head}\r\n".encode())
    assert status == 200
    assert headers["Content-Type"] == CONTENT_TYPE
    assert headers["x-acs-request-id"] == body["RequestId"]


def test_headers_named_in_signed_headers_are_verified(server: RunningServer) -> None:
    request = client(server).prepare("DescribeAuditLogs", {})
    headers = {k: v for k, v in request.headers.items() if k != "Authorization"}
    headers["x-custom-tag"] = "tag-1"  # a header outside any fixed list, signed by the client
    auth = signing.v3_authorization("POST", "/", {}, headers, b"", KEY.id, KEY.secret)
    signed = attrs.evolve(request, headers={**headers, "Authorization": auth})
    assert client(server).send(signed)[0] == 200
    tampered = attrs.evolve(
        signed, headers={**signed.headers, "x-custom-tag": "changed",
                         "x-acs-signature-nonce": "fresh-nonce"},
    )
    assert client(server).send(tampered)[1]["Code"] == "SignatureDoesNotMatch"


def _with_headers(request: PreparedRequest, **changes: str | None) -> PreparedRequest:
    headers = {k: v for k, v in request.headers.items() if changes.get(k.replace("-", "_"), "") is not None}
    for key, value in changes.items():
        if value is not None:
            headers[key.replace("_", "-")] = value
    return attrs.evolve(request, headers=headers)


@pytest.mark.parametrize(
    "change",
    [
        {"x_acs_date": None},
        {"x_acs_signature_nonce": None},
        {"Authorization": "ACS3-HMAC-SHA256 Credential=LTAIhttp"},
        {"Authorization": "ACS3-RSA-SHA256 Credential=LTAIhttp,SignedHeaders=host,Signature=00"},
        {"Authorization": None},
        {"x_acs_date": "yesterday"},
        {"x_acs_unsigned": "1"},
    ],
    ids=["no-date", "no-nonce", "truncated", "other-algorithm", "unsigned", "bad-date", "unsigned-acs-header"],
)
def test_incomplete_v3_signatures(server: RunningServer, change: dict[str, str | None]) -> None:
    request = _with_headers(client(server).prepare("DescribeAuditLogs", {}), **change)
    status, body = client(server).send(request)
    assert (status, body["Code"]) == (400, "IncompleteSignature")
    assert body["Message"] == "The request signature does not conform to Aliyun standards."


def _signed_with_empty_nonce(server: RunningServer, scheme: str) -> PreparedRequest:
    """A correctly signed request whose nonce (header in v3, parameter in v2) is empty."""
    if scheme == "v2":
        return client(server, "v2").prepare("DescribeAuditLogs", {"SignatureNonce": ""})
    request = client(server).prepare("DescribeAuditLogs", {})
    headers = {k: v for k, v in request.headers.items() if k != "Authorization"}
    headers["x-acs-signature-nonce"] = ""
    auth = signing.v3_authorization("POST", "/", {}, headers, b"", KEY.id, KEY.secret)
    return attrs.evolve(request, headers={**headers, "Authorization": auth})


@SCHEMES
def test_an_empty_signature_nonce_is_an_incomplete_signature(server: RunningServer, scheme: str) -> None:
    # docs/server.md: signature parts present and well-formed first; an empty nonce is none at all,
    # and taking it would let one request burn "" for every later one
    status, body = client(server).send(_signed_with_empty_nonce(server, scheme))
    assert (status, body["Code"]) == (400, "IncompleteSignature"), body


def test_tampered_body_does_not_match(server: RunningServer) -> None:
    request = client(server).prepare("DescribeAuditLogs", {}, form={"PageSize": "5"})
    tampered = attrs.evolve(request, body=b"PageSize=6")
    status, body = client(server).send(tampered)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")


def test_v2_missing_parts_and_both_schemes(server: RunningServer) -> None:
    request = client(server, "v2").prepare("DescribeAuditLogs", {})
    no_method = attrs.evolve(request, url=request.url.replace("SignatureMethod=HMAC-SHA1&", ""))
    assert client(server).send(no_method)[1]["Code"] == "IncompleteSignature"
    v3 = client(server).prepare("DescribeAuditLogs", {})
    both = attrs.evolve(request, headers={**request.headers, "Authorization": v3.headers["Authorization"]})
    assert client(server).send(both)[1]["Code"] == "IncompleteSignature"


def test_replayed_hand_signed_request(server: RunningServer) -> None:
    request = client(server).prepare("DescribeAuditLogs", {}, nonce="once-only")
    assert client(server).send(request)[0] == 200
    assert client(server).send(request)[1]["Code"] == "SignatureNonceUsed"


def test_old_timestamp_hand_signed(server: RunningServer) -> None:
    stale = utc_timestamp(time.time() - 3600)
    for scheme in ("v3", "v2"):
        status, body = client(server, scheme).call("DescribeAuditLogs", {}, timestamp=stale)
        assert (status, body["Code"]) == (400, "InvalidTimeStamp.Expired")


_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    ("scheme", "shape"),
    [
        # a header cannot carry the full-width year from http.client (Latin-1 only): v2 alone
        ("v2", lambda t: t[:4].translate(_FULL_WIDTH) + t[4:]),
        ("v3", lambda t: t.replace(":05Z", ":5Z")),  # the seconds not zero-padded
        ("v2", lambda t: t.replace(":05Z", ":5Z")),
        ("v3", lambda t: t[:-1] + "+00:00"),  # an offset for the Z
        ("v2", lambda t: t[:-1] + "+00:00"),
    ],
    ids=["full-width-year-v2", "unpadded-v3", "unpadded-v2", "offset-v3", "offset-v2"],
)
def test_a_signed_time_not_written_yyyy_mm_ddThh_mm_ssZ_in_ascii_digits_is_refused(
    server: RunningServer, scheme: str, shape: Callable[[str], str]
) -> None:
    # the instant is fresh (5 s past the current minute), only its spelling is off: signed, it
    # still is no YYYY-MM-DDThh:mm:ssZ, which is written in ASCII digits as every time is
    written = shape(utc_timestamp(int(time.time()) // 60 * 60 + 5))
    status, body = client(server, scheme).call("DescribeAuditLogs", {}, timestamp=written)
    assert (status, body.get("Code")) == (400, "IncompleteSignature"), written


@SCHEMES
def test_a_signed_time_given_as_epoch_seconds_is_signed_as_that_utc_time(server: RunningServer, scheme: str) -> None:
    # timestamp=<a number> raised a bare TypeError (v2) or AttributeError (v3) from inside the
    # signing code; the number is epoch seconds, as utc_timestamp takes them
    request = client(server, scheme).prepare("DescribeAuditLogs", {}, timestamp=1_700_000_000.9)
    signed = request.headers.get("x-acs-date") or dict(parse_qsl(urlsplit(request.url).query))["Timestamp"]
    assert signed == "2023-11-14T22:13:20Z"
    status, body = client(server, scheme).call("DescribeAuditLogs", {"PageSize": "1"}, timestamp=int(time.time()))
    assert status == 200, body


@pytest.mark.parametrize(
    ("timestamp", "error", "says"),
    [
        (b"2023-11-14T22:13:20Z", TypeError, "not bytes"),
        (True, TypeError, "not bool"),
        (float("nan"), ValueError, "nan"),
        (1e20, ValueError, "1e+20"),
    ],
    ids=["bytes", "bool", "nan", "out-of-range"],
)
def test_a_signed_time_that_is_no_time_is_refused_naming_the_parameter(
    server: RunningServer, timestamp: object, error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match="timestamp") as caught:
        client(server).call("DescribeAuditLogs", {}, timestamp=timestamp)
    assert says in str(caught.value)


@pytest.mark.parametrize("option", ["nonce", "method", "version"])
def test_a_signed_part_that_is_no_text_is_refused_naming_it(server: RunningServer, option: str) -> None:
    with pytest.raises(TypeError, match=f"prepare takes {option} as a str, not int"):
        client(server).prepare("DescribeAuditLogs", {}, **{option: 5})


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /?Action=DescribeAuditLogs&UserName=%FF HTTP/1.1\r\nHost: x\r\n\r\n", 400, "InvalidParameter"),
        (b"GET /?PageSize=1&PageSize=2 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "InvalidParameter"),
        (b"GET /?" + b"A=" + b"x" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "RequestURITooLong"),
        (b"GET /?A=" + b"x" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "RequestURITooLong"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413, "RequestEntityTooLarge"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
         415, "UnsupportedMediaType"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
         b"Content-Length: 8\r\n\r\nA=%C3%28", 400, "InvalidParameter"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: nine\r\n\r\n", 400, "InvalidParameter"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411, "LengthRequired"),
        (b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", 405, "UnsupportedHTTPMethod"),
        (b"GET /other?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\n\r\n", 404, "InvalidApi.NotFound"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "MissingAction"),
        (b"GET /?Action=DescribeAuditLogs&Format=XML HTTP/1.1\r\nHost: x\r\n\r\n", 400, "InvalidParameter"),
        (b"GET /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\nx-acs-action: ListSensitiveDataAuditLog\r\n\r\n",
         400, "InvalidParameter"),
        (b"GET /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\n\r\n", 400, "IncompleteSignature"),
        (b"GET / NOT-HTTP\r\n\r\n", 400, "InvalidParameter"),
        # an HTTP/0.9 request line: was answered with the bare body, no status line or headers
        (b"GET /?Action=DescribeAuditLogs\r\n\r\n", 400, "InvalidParameter"),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HTTPVersionNotSupported"),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(101)) + b"\r\n",
         431, "RequestHeaderFieldsTooLarge"),
        # an empty Transfer-Encoding is none: the POST has no length (its body went unread)
        (b"POST /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\nA=1", 411,
         "LengthRequired"),
        # an HTTP/1.1 request without a Host (RFC 9112 3.2 asks a 400) was served
        (b"GET /?Action=DescribeAuditLogs HTTP/1.1\r\n\r\n", 400, "InvalidParameter"),
        # two Host headers name no one host (HTTP/1.1 asks a 400): the answer's HostId was "a,b"
        (b"GET /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "InvalidParameter"),
        # a method is case-sensitive (RFC 9110 9.1): "get" is no GET (it was served as one)
        (b"get /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\n\r\n", 405, "UnsupportedHTTPMethod"),
        # two Content-Types: the first was taken and the second dropped unseen
        (b"POST /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
         b"\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nA=1", 400, "InvalidParameter"),
    ],
    ids=[
        "bad-utf8-query", "repeated", "long-query", "huge-request-line", "big-body", "json-body",
        "bad-utf8-body", "bad-length", "chunked", "delete", "path", "no-action", "xml", "conflict",
        "unsigned", "garbage", "http-0.9", "http-2", "many-headers", "empty-transfer-encoding", "no-host", "two-hosts", "lower-case-method",
        "two-content-types",
    ],
)
def test_malformed_requests_get_json_errors_with_their_request_id(
    server: RunningServer, request_bytes: bytes, status: int, code: str
) -> None:
    # the HTTP host's own refusals (505, 431, a garbled line) had no x-acs-request-id header
    got_status, headers, body = raw(server, request_bytes)
    assert (got_status, body["Code"]) == (status, code), body
    assert headers["Content-Type"] == CONTENT_TYPE
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert headers.get("x-acs-request-id") == body["RequestId"]


@pytest.mark.parametrize(
    ("version", "shown"),
    [
        (b"HTTP/01.1", "'HTTP/01.1'"),
        (b"HTTP/1.10", "'HTTP/1.10'"),
        (b"HTTP/1.01", "'HTTP/1.01'"),
        (b"HTTP/02.0", "'HTTP/02.0'"),
        (b"HTTP/10.0", "'HTTP/10.0'"),
        (b"HTTP/\xef\xbc\x91.1", "'HTTP/"),  # a full-width digit one
        (b"http/1.1", "'http/1.1'"),
        (b"HTTP/ 1.1", "'1.1'"),
    ],
    ids=["leading-zero", "two-digit-minor", "two-digit-minor-zero", "leading-zero-2", "two-digit-major",
         "full-width-digit", "lower-case", "space"],
)
def test_a_version_not_written_http_digit_dot_digit_is_refused(server: RunningServer, version: bytes, shown: str) -> None:
    # RFC 9112 2.3: HTTP-version is "HTTP/" DIGIT "." DIGIT, case-sensitive. HTTP/01.1, HTTP/1.10
    # and HTTP/1.01 were served as HTTP/1.x; HTTP/02.0 and HTTP/10.0 answered 505, as versions
    # the server does not speak, though they are no version at all
    status, headers, body = raw(server, b"GET /?Action=DescribeAuditLogs " + version + b"\r\nHost: x\r\n\r\n")
    assert (status, body["Code"]) == (400, "InvalidParameter"), body
    assert f"Bad request version ({shown}" in body["Message"] and "HTTP/1.1" in body["Message"], body
    assert headers["x-acs-request-id"] == body["RequestId"]


#: The connection preface of an HTTP/2 client that knows the server speaks HTTP/2 (RFC 9113 3.4),
#: then that client's SETTINGS frame (empty) and the HEADERS frame of its first request (cut short).
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_CLIENT_FRAMES = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" + b"\x00\x00\x05\x01\x05\x00\x00\x00\x01\x82\x86\x84\x41\x00"


def h2_frames(data: bytes) -> list[tuple[int, int, int, bytes]]:
    """``(type, flags, stream, payload)`` of each HTTP/2 frame in ``data`` (RFC 9113 4.1)."""
    frames = []
    while data:
        assert len(data) >= 9, data
        length = int.from_bytes(data[:3], "big")
        kind, flags, stream = data[3], data[4], int.from_bytes(data[5:9], "big") & 0x7FFF_FFFF
        frames.append((kind, flags, stream, data[9 : 9 + length]))
        assert len(data) >= 9 + length, data
        data = data[9 + length :]
    return frames


@pytest.mark.parametrize("more", [b"", H2_CLIENT_FRAMES], ids=["preface", "preface-and-frames"])
def test_an_http2_client_is_told_in_http2_to_use_http_1_1(server: RunningServer, more: bytes) -> None:
    # RFC 9113 3.3/3.4: a client that knows no better opens with the HTTP/2 preface (curl
    # --http2-prior-knowledge) and reads HTTP/2 frames; it was answered an HTTP/1.0 505 page it
    # cannot read. The server's own preface (an empty SETTINGS frame), then a GOAWAY frame saying
    # HTTP_1_1_REQUIRED (0xd), with why in its debug data, then the connection's end.
    frames = h2_frames(exchange(server, H2_PREFACE + more))
    assert [(kind, flags, stream) for kind, flags, stream, _ in frames] == [(0x4, 0, 0), (0x7, 0, 0)], frames
    assert frames[0][3] == b""
    goaway = frames[1][3]
    assert int.from_bytes(goaway[:4], "big") == 0  # no stream of the client's was processed
    assert int.from_bytes(goaway[4:8], "big") == 0xD  # HTTP_1_1_REQUIRED
    assert b"HTTP/1.1" in goaway[8:], goaway


@pytest.mark.parametrize(
    "head",
    [
        b"GET /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\n",
        b"GET /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x",
        b"GET /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\n\r",
        b"GET /?Action=DescribeAuditLogs HTTP/1.1\r\n",
        b"GET /?Action=DescribeAuditLogs HTTP/1.1",
        b"GET /?Action=DescribeAuditLogs HTTP/1.0\r\n",
        b"GET /?Action=DescribeAuditLogs",
    ],
    ids=["no-blank-line", "header-line-cut", "blank-line-cut", "request-line-alone", "request-line-cut",
         "http-1.0", "http-0.9-line-cut"],
)
def test_a_head_the_client_ends_before_its_blank_line_is_refused(server: RunningServer, head: bytes) -> None:
    # a head is whole only at its blank line (RFC 9112 2.1): one whose client closed its sending
    # side before it (shutdown SHUT_WR) was served as if whole, with the headers sent so far
    status, headers, body = raw(server, head, half_close=True)
    assert (status, body["Code"]) == (400, "InvalidParameter"), body
    assert "ended before" in body["Message"], body
    assert headers["x-acs-request-id"] == body["RequestId"]


def test_a_whole_head_then_the_sending_side_closed_is_served(server: RunningServer) -> None:
    request = client(server).prepare("DescribeAuditLogs", {"PageSize": "2"}, method="GET")
    target = request.url.split(server.endpoint, 1)[1]
    head = f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    status, _, body = raw(server, head.encode("ascii") + b"\r\n", half_close=True)
    assert (status, len(body["Items"])) == (200, 2), body


@pytest.mark.parametrize("sent", [b"", b"\r\n\r\n"], ids=["nothing", "empty-lines"])
def test_a_connection_closed_before_any_request_line_is_closed_unanswered(server: RunningServer, sent: bytes) -> None:
    assert exchange(server, sent, half_close=True) == b""


_FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"


@pytest.mark.parametrize(
    ("head", "says"),
    [
        (b"Host: x\r\nno colon here\r\n" + _FORM + b"Content-Length: 3", "header line"),
        (b"Host: x\r\n" + _FORM + b"Content-Length : 3", "header line"),
        (b" Host: x\r\n" + _FORM + b"Content-Length: 3", "header line"),
        (b"Host: x\r\n" + _FORM + b"Content-Length:\r\n 3", "header value"),
        (b"Host: x\r\nUser-Agent: a\r\n\tb\r\n" + _FORM + b"Content-Length: 3", "header value"),
        (b"Host: x\x00y\r\n" + _FORM + b"Content-Length: 3", "header value"),
    ],
    ids=["line-without-colon", "space-before-colon", "first-line-folded", "folded-content-length",
         "folded-user-agent", "nul-in-host"],
)
def test_a_header_that_would_be_read_otherwise_than_sent_is_refused(server: RunningServer, head: bytes, says: str) -> None:
    # RFC 9112 5.1: http.client stopped at a line that is no field and dropped it with every
    # header after it (the body's Content-Length was lost and the request served without its
    # form parameters). RFC 9112 5.2: obs-fold was kept in the value (a Content-Length was read as
    # '\r\n 3', a folded header reached the signature check as 'a\r\n\tb'); a NUL was echoed in HostId
    status, headers, body = raw(server, b"POST /?Action=DescribeAuditLogs HTTP/1.1\r\n" + head + b"\r\n\r\nA=1")
    assert (status, body["Code"]) == (400, "InvalidParameter"), body
    assert says in body["Message"]
    assert headers["x-acs-request-id"] == body["RequestId"]


@pytest.mark.parametrize("more", [b"", b"no colon here\r\n"], ids=["application", "http-host"])
def test_the_host_id_is_the_host_as_sent_in_utf_8(server: RunningServer, more: bytes) -> None:
    # a UTF-8 Host was echoed as its Latin-1 reading ("ä¾\x8bã\x81\x88.jp"), by the application
    # and by the HTTP host's own refusals (here of a malformed header line), unlike every other
    # header value
    head = "GET /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: 例え.jp\r\n".encode()
    status, _, body = raw(server, head + more + b"\r\n")
    assert (status, body["HostId"]) == (400, "例え.jp")


def test_a_body_without_a_content_type_is_told_so(server: RunningServer) -> None:
    # the refusal said the body had content type 'text/plain', which the client never sent
    head = b"POST /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
    status, _, body = raw(server, head + b"\r\nA=1")
    assert (status, body["Code"]) == (415, "UnsupportedMediaType")
    assert "no Content-Type" in body["Message"] and "text/plain" not in body["Message"]


@pytest.mark.parametrize("blank", [b"\r\n", b"\n\r\n"])
def test_empty_lines_before_the_request_line_are_ignored(server: RunningServer, blank: bytes) -> None:
    # RFC 9112 2.2: the connection was closed without an answer
    request = client(server).prepare("DescribeAuditLogs", {"PageSize": "3"}, method="GET")
    target = request.url.split(server.endpoint, 1)[1]
    head = f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    status, _, body = raw(server, blank + head.encode("ascii") + b"\r\n")
    assert (status, len(body["Items"])) == (200, 3), body


def test_a_blank_request_line_is_answered(server: RunningServer) -> None:
    # http.server closed the connection without a word for a request line of spaces
    status, headers, body = raw(server, b"   \r\nHost: x\r\n\r\n")
    assert (status, body["Code"]) == (400, "InvalidParameter")
    assert headers["x-acs-request-id"] == body["RequestId"]


@pytest.mark.parametrize("coding", ["chunked", "gzip", "gzip, chunked"])
def test_a_transfer_coded_body_is_refused_naming_its_coding(server: RunningServer, coding: str) -> None:
    # every coding was refused as "Chunked request bodies are not accepted", gzip too
    head = f"POST /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {coding}\r\n"
    status, _, body = raw(server, head.encode() + b"\r\n0\r\n\r\n")
    assert (status, body["Code"]) == (411, "LengthRequired")
    assert f"Transfer-Encoding {coding!r}" in body["Message"] and "Content-Length" in body["Message"]


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/1.1"])
def test_a_post_body_sent_without_content_length_is_refused_not_left_unread(server: RunningServer, version: str) -> None:
    # an HTTP/1.0 client may send a body to the connection's end without a Content-Length: it
    # was never read, and the request was answered without its form parameters
    head = f"POST /?Action=DescribeAuditLogs {version}\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
    status, _, body = raw(server, head.encode() + b"PageSize=5&Lang=en_us")
    assert (status, body["Code"]) == (411, "LengthRequired")
    assert "21 bytes of a body followed the request's head without a Content-Length" in body["Message"]


@pytest.mark.parametrize("later", [b"", b"\r\n", b"PageSize=5&Lang=en_us"], ids=["nothing", "line-end", "body"])
def test_a_post_without_content_length_is_length_required_whenever_its_body_comes(
    server: RunningServer, later: bytes
) -> None:
    # a body sent after a pause was never waited for: the request was answered at once without its
    # form parameters (here SignatureDoesNotMatch, the signature covering them), while the same
    # body sent with the head was LengthRequired
    request = client(server).prepare("DescribeAuditLogs", {}, form={"PageSize": "5", "Lang": "en_us"})
    target = request.url.split(server.endpoint, 1)[1]
    head = f"POST {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items()) + "\r\n"
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(head.encode("ascii"))
        time.sleep(0.1)
        try:
            sock.sendall(later)
        except OSError:  # answered and closed already
            pass
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = answer.split(b"\r\n", 1)[0]
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert (status.split()[1], body["Code"]) == (b"411", "LengthRequired"), body
    assert "Content-Length" in body["Message"]


def _exchange(server: RunningServer, data: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes; the status line, the headers and the body bytes of the answer."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}, body


def _form_post(server: RunningServer, rename: dict[str, str], extra: str = "") -> tuple[int, dict[str, Any]]:
    """A signed v3 form POST (PageSize=2) sent with its headers renamed by ``rename``."""
    request = client(server).prepare("DescribeAuditLogs", {}, form={"PageSize": "2", "Lang": "en_us"})
    target = request.url.split(server.endpoint, 1)[1]
    headers = {**request.headers, "Content-Length": str(len(request.body))}
    lines = "".join(f"{rename.get(k.lower(), k)}: {v}\r\n" for k, v in headers.items())
    status, _, body = raw(server, f"POST {target} HTTP/1.1\r\n{lines}{extra}\r\n".encode() + request.body)
    return status, body


@pytest.mark.parametrize("rename", [{"content-type": "content_type"}, {"content-length": "content_length"}])
def test_content_headers_named_with_an_underscore_are_read_as_every_other_header(
    server: RunningServer, rename: dict[str, str]
) -> None:
    # a header is read with "_" and "-" alike (PEP 3333 hands both over as one), but wsgiref
    # dropped content_type: the form body was refused UnsupportedMediaType ("no Content-Type");
    # content_length was no body length, and the body went unread
    status, body = _form_post(server, rename)
    assert (status, body.get("PageSize")) == (200, 2), body


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ("content_type: text/plain\r\n", "more than one Content-Type header"),
        ("content_length: 7\r\n", "given more than once"),
    ],
)
def test_a_content_header_sent_under_both_spellings_is_refused(server: RunningServer, extra: str, says: str) -> None:
    # the underscore spelling was dropped unseen, as a second Content-Type or Content-Length
    # would have been; two of them are refused
    status, body = _form_post(server, {}, extra)
    assert (status, body["Code"]) == (400, "InvalidParameter"), body
    assert says in body["Message"]


def _read_answer(sock: socket.socket) -> tuple[str, dict[str, str], bytes]:
    """One answer read off a connection that may stay open: its status line, headers (lower-case
    names) and the body of its Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        assert chunk, body
        body += chunk
    assert len(body) == int(headers["content-length"]), body  # nothing of a next answer
    return status, headers, body


def _closed(sock: socket.socket) -> bool:
    sock.settimeout(2)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


_QUERY = b"GET /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\n"


@pytest.mark.parametrize(
    ("request_bytes", "kept"),
    [
        (_QUERY + b"\r\n", True),  # the application's refusal (unsigned): HTTP/1.1 keeps by default
        (_QUERY + b"Connection: keep-alive\r\n\r\n", True),
        (_QUERY + b"Connection: TE, Close\r\n\r\n", False),  # the client's last request
        (b"GET /?Action=DescribeAuditLogs HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", False),  # HTTP/1.0
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", False),  # the HTTP host's own refusal
        (b"POST /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\n\r\n", False),  # a body may follow unannounced
        (_QUERY + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", False),  # a body never read
        (_QUERY + b"Content-Length: 5000000\r\n\r\n", False),  # above the body limit: never read
    ],
    ids=["application", "keep-alive-asked", "close-asked", "http-1.0", "http-host", "post-without-length",
         "chunked", "body-too-large"],
)
def test_an_answer_says_whether_the_connection_is_kept(server: RunningServer, request_bytes: bytes, kept: bool) -> None:
    # the host answered one request per connection (HTTP/1.0), so every SDK call opened a new
    # one; now a connection is kept when the request asks it (HTTP/1.1) and where it ends is
    # known, and an answer after which it is closed says so (docs/server.md, "Connections")
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(request_bytes)
        status, headers, _ = _read_answer(sock)
        assert status.startswith("HTTP/1.1 "), status
        if not kept:
            assert headers.get("connection") == "close" and _closed(sock), headers
            return
        assert "connection" not in headers, headers
        sock.sendall(_QUERY + b"Connection: close\r\n\r\n")  # served on the same connection
        status, headers, _ = _read_answer(sock)
        assert status.split()[1] == "400" and headers.get("connection") == "close" and _closed(sock)


def _signed_get(server: RunningServer, params: dict[str, str], extra: str = "") -> bytes:
    request = client(server).prepare("DescribeAuditLogs", params, method="GET")
    target = request.url.split(server.endpoint, 1)[1]
    head = f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    return (head + extra + "\r\n").encode("ascii")


def test_two_requests_on_one_connection_are_both_served(server: RunningServer) -> None:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(_signed_get(server, {"PageSize": "1"}))
        first = _read_answer(sock)
        sock.sendall(_signed_get(server, {"PageSize": "2"}, "Connection: close\r\n"))
        second = _read_answer(sock)
        assert _closed(sock)
    assert [status.split()[1] for status, _, _ in (first, second)] == ["200", "200"]
    assert "connection" not in first[1] and second[1]["connection"] == "close"
    assert [json.loads(body)["PageSize"] for _, _, body in (first, second)] == [1, 2]


def test_requests_sent_at_once_on_one_connection_are_answered_in_order(server: RunningServer) -> None:
    # a form POST (its body read to its Content-Length), a GET, then a last one asking to close:
    # each answer is whole and the next request is read from where its body ended
    request = client(server).prepare("DescribeAuditLogs", {}, form={"PageSize": "3"})
    target = request.url.split(server.endpoint, 1)[1]
    headers = {**request.headers, "Content-Length": str(len(request.body))}
    post = (f"POST {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(post + request.body + _signed_get(server, {"PageSize": "1"})
                     + _signed_get(server, {"PageSize": "2"}, "Connection: close\r\n"))
        answers = [_read_answer(sock) for _ in range(3)]
        assert _closed(sock)
    assert [json.loads(body)["PageSize"] for _, _, body in answers] == [3, 1, 2]


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\n\r\n",  # the application's answer
        b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",  # the HTTP host's own
        b"GET /path\r\n\r\n",  # a request line refused
    ],
    ids=["application", "http-host", "request-line"],
)
def test_every_answer_names_the_server_and_no_python_version(server: RunningServer, request_bytes: bytes) -> None:
    # the Server header was wsgiref's "WSGIServer/0.2 CPython/3.11.7", telling any client the
    # Python version the server runs on
    _, headers, _ = _exchange(server, request_bytes)
    assert headers["server"] == "dsc-engine", headers


@pytest.mark.parametrize("method", ["OPTIONS", "PUT", "DELETE", "HEAD"])
def test_a_refused_method_is_told_the_allowed_ones(server: RunningServer, method: str) -> None:
    # RFC 9110: a 405 answer must carry an Allow header; it had none
    status, headers, _ = _exchange(server, f"{method} / HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status.split()[1] == "405"
    assert headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("request_bytes", "code"),
    [
        (b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", "405"),
        # refused by the HTTP host before the method was taken from the request line: had a body
        (b"HEAD / HTTP/2.0\r\nHost: x\r\n\r\n", "505"),
        (b"HEAD / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n", "400"),
    ],
)
def test_an_answer_to_head_has_no_body(server: RunningServer, request_bytes: bytes, code: str) -> None:
    # RFC 9110: a HEAD answer ends with its headers; the JSON error body was sent after them
    status, headers, body = _exchange(server, request_bytes)
    assert status.split()[1] == code and int(headers["content-length"]) > 0
    assert body == b""


def test_stalled_body_times_out_and_server_keeps_serving(server: RunningServer) -> None:
    status, _, body = raw(
        server, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 100\r\n\r\nA=1",
    )
    assert (status, body["Code"]) == (408, "RequestTimeout")
    with socket.create_connection((server.host, server.port)) as silent:
        silent.sendall(b"GET / HTTP/1.1\r\n")  # never finishes; the server drops it on its timeout
        assert client(server).call("DescribeAuditLogs", {})[0] == 200
        silent.settimeout(5)
        assert silent.recv(1) == b""


@pytest.mark.parametrize(
    "lengths",
    [[b"10", b"10"], [b"10", b"3"], [b"\xb2"], [b"5" * 5000]],
    ids=["duplicate-same", "duplicate-differing", "superscript-two", "5000-digits"],
)
def test_bad_content_length_headers_are_invalid_parameter(server: RunningServer, lengths: list[bytes]) -> None:
    request = client(server).prepare("DescribeAuditLogs", {}, form={"PageSize": "5"})
    path = request.url.split(server.endpoint, 1)[1]
    head = b"".join(f"{k}: {v}\r\n".encode() for k, v in request.headers.items())
    head += b"".join(b"Content-Length: " + length + b"\r\n" for length in lengths)
    status, _, body = raw(server, b"POST " + path.encode() + b" HTTP/1.1\r\n" + head + b"\r\n" + request.body)
    assert (status, body["Code"]) == (400, "InvalidParameter"), body
    assert '"Content-Length"' in body["Message"]


@pytest.mark.parametrize("length", [b"", b" \t"], ids=["empty", "blank"])
def test_an_empty_content_length_is_refused_not_read_as_no_body(server: RunningServer, length: bytes) -> None:
    # PEP 3333 hands an empty CONTENT_LENGTH over as no length at all: the body went unread and
    # the request was answered without its form parameters (here MissingAction)
    head = b"POST / HTTP/1.1\r\nHost: x\r\n" + _FORM + b"Content-Length:" + length + b"\r\n\r\n"
    status, _, body = raw(server, head + b"Action=DescribeAuditLogs")
    assert (status, body["Code"]) == (400, "InvalidParameter"), body
    assert "Content-Length" in body["Message"]


def _v2_without(server: RunningServer, *omit: str, **headers: str) -> PreparedRequest:
    """A correctly signed v2 DescribeAuditLogs request whose signed parameters lack ``omit``."""
    request = client(server, "v2").prepare("DescribeAuditLogs", {"PageSize": "3"})
    query = dict(parse_qsl(urlsplit(request.url).query))
    del query["Signature"]
    for name in omit:
        del query[name]
    query["Signature"] = signing.v2_signature("POST", query.items(), KEY.secret)
    return PreparedRequest(
        method="POST", url=f"http://{server.endpoint}/?{urlencode(query)}",
        headers={**request.headers, **headers},
    )


@pytest.mark.parametrize(
    ("omit", "headers", "named"),
    [
        (("Action",), {"x-acs-action": "DescribeDataMaskingRunHistory"}, "x-acs-action"),
        ((), {"x-acs-action": "DescribeDataMaskingRunHistory"}, "x-acs-action"),
        (("Version",), {"x-acs-version": "2018-11-01"}, "x-acs-version"),
        ((), {"x-acs-version": "2018-11-01"}, "x-acs-version"),
    ],
    ids=[
        "action-only-in-header", "action-header-disagrees",
        "version-only-in-header", "version-header-disagrees",
    ],
)
def test_v2_requests_are_routed_only_by_signed_parameters(
    server: RunningServer, omit: tuple[str, ...], headers: dict[str, str], named: str
) -> None:
    status, body = client(server).send(_v2_without(server, *omit, **headers))
    assert (status, body["Code"]) == (400, "InvalidParameter"), body
    assert named in body["Message"] and "signed" in body["Message"]


def test_v2_routing_headers_that_agree_with_the_signed_parameters_are_accepted(
    server: RunningServer, engine: Engine
) -> None:
    request = _v2_without(server, **{"x-acs-action": "DescribeAuditLogs", "x-acs-version": "2019-01-03"})
    status, body = client(server).send(request)
    assert status == 200, body
    assert body["TotalCount"] == engine.call("DescribeAuditLogs", {})["TotalCount"]


def test_v3_routing_headers_must_be_signed(server: RunningServer) -> None:
    request = client(server).prepare("DescribeAuditLogs", {})
    # x-acs-action left out of SignedHeaders: refused however the rest verifies
    headers = {k: v for k, v in request.headers.items() if k not in ("Authorization", "x-acs-action")}
    auth = signing.v3_authorization("POST", "/", {}, headers, b"", KEY.id, KEY.secret)
    unsigned = attrs.evolve(
        request, headers={**headers, "Authorization": auth, "x-acs-action": "DescribeDataMaskingRunHistory"}
    )
    status, body = client(server).send(unsigned)
    assert (status, body["Code"]) == (400, "IncompleteSignature"), body
    # x-acs-action signed, then changed: the signature no longer verifies
    changed = attrs.evolve(
        request, headers={**request.headers, "x-acs-action": "DescribeDataMaskingRunHistory"}
    )
    assert client(server).send(changed)[1]["Code"] == "SignatureDoesNotMatch"


def test_v3_action_in_the_signed_query_routes(server: RunningServer, engine: Engine) -> None:
    request = client(server).prepare("DescribeAuditLogs", {"Action": "DescribeDataMaskingRunHistory"})
    headers = {k: v for k, v in request.headers.items() if k not in ("Authorization", "x-acs-action")}
    params = {"Action": "DescribeDataMaskingRunHistory"}
    auth = signing.v3_authorization("POST", "/", params, headers, b"", KEY.id, KEY.secret)
    status, body = client(server).send(attrs.evolve(request, headers={**headers, "Authorization": auth}))
    assert status == 200, body
    assert body["TotalCount"] == engine.call("DescribeDataMaskingRunHistory", {})["TotalCount"]


@pytest.mark.parametrize("scheme", ["http", "HTTP"])
def test_a_request_target_in_absolute_form_is_served(server: RunningServer, engine: Engine, scheme: str) -> None:
    # RFC 9112 (3.2.2): a server must accept "POST http://host/?... HTTP/1.1", as a client sends
    # it to a proxy; it was answered InvalidApi.NotFound for the path "http://host/"
    request = client(server).prepare("DescribeAuditLogs", {"PageSize": "3"})
    target = request.url.replace("http://", f"{scheme}://", 1)
    head = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    status, _, body = raw(server, f"POST {target} HTTP/1.1\r\n{head}Content-Length: 0\r\n\r\n".encode())
    assert status == 200, body
    assert len(body["Items"]) == 3


class Clock:
    """A clock that stands still until told to move (seconds since the epoch)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@SCHEMES
def test_nonce_of_a_request_signed_in_the_future_is_kept_until_its_window_closes(
    engine: Engine, scheme: str
) -> None:
    start = float(int(time.time()))
    clock = Clock(start)
    config = ServerConfig(access_keys={KEY.id: KEY}, throttle=ThrottleConfig(enabled=False))
    with RunningServer(make_app(engine, config, clock)) as running:
        signer = SignedClient(running.endpoint, KEY.id, KEY.secret, scheme=scheme)
        ahead = utc_timestamp(start + 14 * 60)
        request = signer.prepare("DescribeAuditLogs", {}, nonce="future", timestamp=ahead)
        assert signer.send(request)[0] == 200
        clock.now = start + 16 * 60  # 15 minutes after first use: the request is still valid (2 min off)
        assert signer.send(request)[1]["Code"] == "SignatureNonceUsed"
        clock.now = start + 14 * 60 + 15 * 60  # the last second the signed time is accepted
        assert signer.send(request)[1]["Code"] == "SignatureNonceUsed"
        clock.now += 1
        assert signer.send(request)[1]["Code"] == "InvalidTimeStamp.Expired"


def test_the_header_limit_holds_when_another_library_raises_http_clients(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """clickhouse-connect (the ClickHouse backend's driver) sets ``http.client._MAXHEADERS`` to
    10,000 for the whole process when imported; the server keeps its own limit."""
    import http.client

    monkeypatch.setattr(http.client, "_MAXHEADERS", 10_000)
    request = b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(101)) + b"\r\n"
    status, _, body = raw(server, request)
    assert (status, body["Code"]) == (431, "RequestHeaderFieldsTooLarge")


@pytest.mark.parametrize("raised", [False, True], ids=["http.client's limit", "raised by another library"])
def test_the_header_limit_is_the_same_whatever_http_client_allows(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch, raised: bool
) -> None:
    """``http.client`` counts the blank line ending the head among its 100 lines, so 100 fields
    were refused, unless another library had raised its limit: then 100 passed."""
    import http.client

    if raised:
        monkeypatch.setattr(http.client, "_MAXHEADERS", 10_000)

    def status(fields: int) -> int:
        head = b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(fields)) + b"\r\n"
        return raw(server, head)[0]

    assert status(MAX_HEADERS) != 431
    assert status(MAX_HEADERS + 1) == 431


DMS = "ListSensitiveDataAuditLog"
DMS_PARAMS = {"StartTime": "2000-01-01 00:00:00", "EndTime": "2099-12-31 23:59:59", "PageSize": "5", "PageNumber": "1"}


def _header(request: PreparedRequest, name: str, value: str) -> PreparedRequest:
    return attrs.evolve(request, headers={**request.headers, name: value})


def _json_body(request: PreparedRequest) -> PreparedRequest:
    return _header(request, "content-type", "application/json")


@pytest.mark.parametrize(
    ("scheme", "prepare", "status", "code"),
    [
        ("v2", lambda c: c.prepare(DMS, {**DMS_PARAMS, "Format": "XML"}), 400, "InvalidParameter"),
        ("v3", lambda c: c.prepare(DMS, DMS_PARAMS, form={"PageSize": "5"}), 400, "InvalidParameter"),
        ("v2", lambda c: c.prepare(DMS, DMS_PARAMS, form={"PageSize": "5"}), 400, "InvalidParameter"),
        ("v3", lambda c: _json_body(c.prepare(DMS, DMS_PARAMS, form={"A": "1"})), 415, "UnsupportedMediaType"),
        # a v2 request is routed by its signed Action parameter, not by a header disagreeing with it
        ("v2", lambda c: _header(c.prepare(DMS, DMS_PARAMS), "x-acs-action", "DescribeAuditLogs"),
         400, "InvalidParameter"),
    ],
    ids=["format-xml", "repeated-v3", "repeated-v2", "json-body", "v2-header-disagrees"],
)
def test_refusals_before_routing_link_the_product_of_the_action_the_request_names(
    server: RunningServer, scheme: str, prepare: Any, status: int, code: str
) -> None:
    # docs/server.md: Recommend links the product of the action, whatever step refused it
    got, body = client(server).send(prepare(client(server, scheme)))
    assert (got, body["Code"]) == (status, code), body
    assert "&product=dms-enterprise&" in body["Recommend"]


@SCHEMES
@pytest.mark.parametrize("common", ["Format", "RegionId", "Version"])
def test_an_empty_common_parameter_counts_as_absent(
    server: RunningServer, engine: Engine, scheme: str, common: str
) -> None:
    # semantics §2.1: an empty-string parameter counts as absent, the common ones as the API's
    status, body = client(server, scheme).call("DescribeAuditLogs", {common: ""})
    assert status == 200, body
    assert body["TotalCount"] == engine.call("DescribeAuditLogs", {})["TotalCount"]
