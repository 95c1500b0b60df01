"""A small standard-library client that signs requests the way the official SDKs do.

For scripts without the SDK, and for tests that need what the SDK will not send (GET, a chosen
nonce or time, a form body, a tampered signature)::

    client = SignedClient("127.0.0.1:8080", key_id, secret)
    status, body = client.call("DescribeAuditLogs", {"PageSize": "5"}, version="2019-01-03")

``protocol="https"`` sends to a real endpoint (``dsc-engine record --upstream`` forwards calls this
way); :meth:`SignedClient.exchange` gives the answer as it came, bytes and headers, whatever it is.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import attrs

from dsc_engine.api.operations import FALLBACK, OPERATIONS
from dsc_engine.server import signing


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other: following it would send the signed request, its
    security token with it, to wherever the ``Location`` says (``http://`` too)."""

    def redirect_request(self, *args: Any) -> None:
        return None


#: Sends requests and leaves a 3xx answer to the caller (an ``HTTPError``, read as any error is).
_OPENER = urllib.request.build_opener(_NoRedirects)


def utc_timestamp(epoch: float | None = None) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` for ``epoch`` (now by default), as both schemes sign it."""
    moment = datetime.now(UTC) if epoch is None else datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _signed_time(timestamp: object) -> str:
    """The time :meth:`SignedClient.prepare` signs for its ``timestamp``: a ``str`` as it is
    written (any shape, to test the server's check), a number as epoch seconds, none (or an empty
    one) now. Anything else is a ``TypeError``, a number no UTC time stands for a ``ValueError``."""
    if timestamp is None or timestamp == "":
        return utc_timestamp()
    if isinstance(timestamp, str):
        return timestamp
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
        raise TypeError(
            "prepare takes timestamp as a str (YYYY-MM-DDThh:mm:ssZ) or epoch seconds (a number),"
            f" not {type(timestamp).__name__}"
        )
    try:
        return utc_timestamp(timestamp)
    except (ValueError, OverflowError, OSError) as exc:  # NaN, or a year past 9999
        raise ValueError(f"timestamp: {timestamp!r} epoch seconds is no UTC time ({exc})") from None


@attrs.frozen(kw_only=True)
class PreparedRequest:
    """A signed request ready to send (or to tamper with first, with ``attrs.evolve``)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""


@attrs.frozen(kw_only=True)
class RawAnswer:
    """An HTTP answer as it came: status, reason, headers (lower-case names) and body bytes."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes


@attrs.frozen
class SignedClient:
    """Signs with ``access_key_id``/``secret`` (``scheme`` ``"v3"`` or ``"v2"``) and sends over
    ``protocol`` (``"http"`` or ``"https"``) to ``endpoint`` (``host[:port]``)."""

    endpoint: str
    access_key_id: str
    secret: str = attrs.field(repr=False)
    scheme: str = "v3"
    security_token: str | None = attrs.field(default=None, repr=False)
    timeout: float = 10.0
    protocol: str = "http"

    def prepare(
        self,
        action: str,
        params: Mapping[str, str],
        *,
        version: str | None = None,
        method: str = "POST",
        form: Mapping[str, str] | None = None,
        nonce: str | None = None,
        timestamp: str | float | None = None,
    ) -> PreparedRequest:
        """Sign ``params`` (query) and ``form`` (an urlencoded body) for ``action``, at
        ``timestamp``: ``YYYY-MM-DDThh:mm:ssZ`` (sent as written), epoch seconds, or now."""
        for name, value in (("action", action), ("version", version), ("method", method), ("nonce", nonce)):
            if value is not None and not isinstance(value, str):  # else a failure deep in the signing
                raise TypeError(f"prepare takes {name} as a str, not {type(value).__name__}")
        known = OPERATIONS.get(action)
        version = version or (known or FALLBACK).version
        nonce = nonce or uuid.uuid4().hex
        signed_at = _signed_time(timestamp)
        body = urlencode(dict(form)).encode("utf-8") if form else b""
        if self.scheme == "v2":
            return self._v2(action, version, dict(params), dict(form or {}), method, nonce, signed_at, body)
        headers = {
            "host": self.endpoint,
            "x-acs-action": action,
            "x-acs-version": version,
            "x-acs-date": signed_at,
            "x-acs-signature-nonce": nonce,
            "x-acs-content-sha256": signing.sha256_hex(body),
            "accept": "application/json",
        }
        if form:
            headers["content-type"] = "application/x-www-form-urlencoded"
        if self.security_token:
            headers["x-acs-security-token"] = self.security_token
        headers["Authorization"] = signing.v3_authorization(
            method, "/", params, headers, body, self.access_key_id, self.secret
        )
        return PreparedRequest(method=method, url=self._url(params), headers=headers, body=body)

    def _v2(
        self,
        action: str,
        version: str,
        params: dict[str, str],
        form: dict[str, str],
        method: str,
        nonce: str,
        timestamp: str,
        body: bytes,
    ) -> PreparedRequest:
        query = {
            "Action": action,
            "Version": version,
            "Format": "json",
            "Timestamp": timestamp,
            "SignatureNonce": nonce,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "AccessKeyId": self.access_key_id,
            **params,
        }
        if self.security_token:
            query["SecurityToken"] = self.security_token
        query["Signature"] = signing.v2_signature(method, {**query, **form}.items(), self.secret)
        headers = {"host": self.endpoint}
        if form:
            headers["content-type"] = "application/x-www-form-urlencoded"
        return PreparedRequest(method=method, url=self._url(query), headers=headers, body=body)

    def _url(self, query: Mapping[str, str]) -> str:
        return f"{self.protocol}://{self.endpoint}/" + (f"?{urlencode(dict(query))}" if query else "")

    def send(self, request: PreparedRequest) -> tuple[int, dict[str, Any]]:
        """Send ``request``; ``(HTTP status, decoded JSON body)`` for successes and errors alike."""
        answer = self.exchange(request)
        return answer.status, json.loads(answer.body)

    def exchange(self, request: PreparedRequest, *, most: int | None = None) -> RawAnswer:
        """Send ``request`` and return the answer as it came, an error status or a redirect too
        (never followed). A failure to connect or read raises ``OSError`` (``urllib.error.URLError``
        is one); a body of more than ``most`` bytes raises :class:`AnswerTooLong` once ``most + 1``
        are read (the rest is never read)."""
        http = urllib.request.Request(
            request.url, data=request.body or None, headers=dict(request.headers), method=request.method
        )
        try:
            with _OPENER.open(http, timeout=self.timeout) as response:
                return _raw(response.status, response.reason, response.headers.items(), _body(response, most))
        except urllib.error.HTTPError as exc:
            with exc:
                return _raw(exc.code, str(exc.reason), exc.headers.items(), _body(exc, most))

    def call(self, action: str, params: Mapping[str, str], **options: Any) -> tuple[int, dict[str, Any]]:
        """:meth:`prepare` and :meth:`send` in one step."""
        return self.send(self.prepare(action, params, **options))


class AnswerTooLong(Exception):
    """An answer's body was longer than the caller would hold (``SignedClient.exchange``'s ``most``)."""

    def __init__(self, most: int) -> None:
        super().__init__(f"its body is longer than {most:,} bytes")
        self.most = most


def _body(response: Any, most: int | None) -> bytes:
    """The body of ``response`` (an ``http.client.HTTPResponse``), at most ``most`` bytes. Read
    by a size, a body the connection cut short is no error by itself: what its ``Content-Length``
    promised and did not come is (``IncompleteRead``, as a whole read raises)."""
    if most is None:
        return response.read()  # type: ignore[no-any-return]
    parts: list[bytes] = []
    size = 0
    while size <= most:
        part = response.read(most + 1 - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    if size > most:
        raise AnswerTooLong(most)
    body = b"".join(parts)
    if getattr(response, "length", None):  # bytes promised that never came
        raise http.client.IncompleteRead(body, response.length)
    return body


def _raw(status: int, reason: str, headers: Iterable[tuple[str, str]], body: bytes) -> RawAnswer:
    return RawAnswer(status=status, reason=reason, headers={k.lower(): v for k, v in headers}, body=body)
