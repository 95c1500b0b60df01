"""The real service, as a pull calls it: one page per call, through the official SDK.

:class:`Upstream` is what the pull needs: ``call(operation, params)`` returns the page body or
raises :class:`~dsc_engine.errors.UpstreamError`. :class:`SdkUpstream` is the real one: the
generated client of the operation's product (``alibabacloud_sddp20190103`` for Sddp,
``alibabacloud_dms_enterprise20181101`` for DMS: the SDK names its packages
``alibabacloud_<product>_<version>``), the operation's typed request model built from the wire
parameters, and each page kept as ``response.body.to_map()``: the body as the SDK read it.

SDK failures become ``UpstreamError`` with the service's code and message (from the error body the
SDK attaches to its exception); a call that got no answer (connection refused or reset, timeout) is
``NoResponse`` with no HTTP status, which the pull retries like throttling; a TLS handshake that
no retry would get past (an endpoint speaking plain HTTP, an untrusted certificate) is
``TlsFailure``, not retried.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from dsc_engine.api.spec import Operation
from dsc_engine.errors import NO_RESPONSE, TLS_FAILURE, UNREADABLE_ANSWER, PullError, UpstreamError
from dsc_engine.pull.credentials import CredentialSource, DefaultChain, Fixed, import_sdk

#: Milliseconds the SDK waits to connect, and to read one page.
CONNECT_TIMEOUT_MS = 10_000
READ_TIMEOUT_MS = 60_000


class Upstream(Protocol):
    """Where pages come from: the real service (:class:`SdkUpstream`), or a test's stand-in."""

    def call(self, operation: Operation, params: Mapping[str, object]) -> dict[str, Any]:
        """The body of ``operation``'s answer to ``params`` (wire names, typed values)."""
        ...


@attrs.frozen
class Endpoint:
    """Where to send calls: ``host[:port]`` and ``https`` or ``http``.

    ``Endpoint.parse("http://127.0.0.1:8080")`` reads a URL or a bare host (https then).
    """

    host: str
    protocol: str = "https"

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        scheme, sep, rest = text.strip().partition("://")
        if not sep:
            scheme, rest = "https", scheme
        host = host_and_port(rest)
        if scheme.lower() not in ("http", "https") or host is None:
            raise PullError(f"endpoint {text!r}: expected host[:port] or http(s)://host[:port]")
        return cls(host, scheme.lower())


def host_and_port(rest: str) -> str | None:
    """``host[:port]`` of what follows a URL's ``scheme://`` (a ``/`` after it is let be), or
    ``None`` when it is not just that: the calls go to the host, so a path, query or user would be
    dropped unsaid, and a port outside 1 to 65535 or a broken address would fail only at the first
    call."""
    host = rest.removesuffix("/")
    if not host or any(c in host for c in "/?#@") or any(c.isspace() for c in host):
        return None
    try:
        parts = urllib.parse.urlsplit(f"//{host}")
        port = parts.port  # a ValueError when it is no number or out of range
    except ValueError:
        return None
    if not parts.hostname or port == 0:
        return None
    return host


def sdk_package(operation: Operation) -> str:
    """The official SDK package of ``operation``: ``alibabacloud_<product>_<version digits>``."""
    product = operation.product.lower().replace("-", "_")
    return f"alibabacloud_{product}{operation.version.replace('-', '')}"


def method_name(action: str) -> str:
    """The generated client's method for ``action``: ``DescribeAuditLogs`` -> ``describe_audit_logs``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()


class SdkUpstream:
    """The real service through the official SDK clients (one per product, made on first use).

    ``credentials`` sign every call; ``region`` lets the SDK pick each product's endpoint (its
    own endpoint table), ``endpoint`` overrides it for every product.
    """

    def __init__(
        self,
        credentials: CredentialSource,
        *,
        region: str | None = None,
        endpoint: Endpoint | None = None,
    ) -> None:
        self._credentials = credentials
        self._region = region
        self._endpoint = endpoint
        self._openapi = import_sdk("alibabacloud_tea_openapi.models", "pulling from the cloud")
        self._tea = import_sdk("Tea.exceptions", "pulling from the cloud")
        self._clients: dict[str, Any] = {}

    def call(self, operation: Operation, params: Mapping[str, object]) -> dict[str, Any]:
        client = self._client(operation)
        models = import_sdk(f"{sdk_package(operation)}.models", f"pulling {operation.action}")
        request = getattr(models, f"{operation.action}Request")().from_map(dict(params))
        dropped = sorted(set(params) - set(request.to_map()))
        if dropped:
            raise PullError(
                f"{operation.action}: the installed SDK ({sdk_package(operation)}) does not send "
                f"{', '.join(dropped)}; upgrade it or leave the parameter out"
            )
        try:
            response = getattr(client, method_name(operation.action))(request)
        except self._tea.TeaException as exc:
            raise from_sdk_exception(exc, operation.action) from None
        if response.body is None:  # the SDK could not read the answer as a page (not an object, a list not of records)
            raise PullError(
                f"{operation.action} answered with a body the SDK ({sdk_package(operation)}) cannot read as a "
                f"page: not a JSON object with its {operation.list_key} list of records"
            )
        body: dict[str, Any] = response.body.to_map()
        return body

    def _client(self, operation: Operation) -> Any:
        client = self._clients.get(operation.product)
        if client is None:
            package = import_sdk(f"{sdk_package(operation)}.client", f"pulling {operation.action}")
            client = self._clients[operation.product] = package.Client(self._config())
        return client

    def _config(self) -> Any:
        fields: dict[str, Any] = {
            "connect_timeout": CONNECT_TIMEOUT_MS,
            "read_timeout": READ_TIMEOUT_MS,
        }
        if self._region:
            fields["region_id"] = self._region
        if self._endpoint is not None:
            fields["endpoint"] = self._endpoint.host
            fields["protocol"] = self._endpoint.protocol
        if isinstance(self._credentials, Fixed):
            key = self._credentials.credentials
            fields["access_key_id"] = key.access_key_id
            fields["access_key_secret"] = key.access_key_secret
            if key.security_token:
                fields["security_token"] = key.security_token
        elif isinstance(self._credentials, DefaultChain):
            self._credentials.current()  # no credentials at all: say so before the first call
            fields["credential"] = self._credentials.client
        else:
            raise PullError(f"the SDK cannot sign with {type(self._credentials).__name__}")
        if not self._region and self._endpoint is None:
            raise PullError("give a region (--region) or an endpoint (--endpoint) to pull from")
        return self._openapi.Config(**fields)


#: How the SDK's reader begins the error of an answer body that is not JSON (``darabonba``,
#: ``alibabacloud_tea_util``: ``Failed to parse the value as json format, Value: "<html>..."``).
_NOT_JSON = "Failed to parse the value as json format"


#: How the SDK's HTTP layer (``requests``, through ``ssl``) words a TLS handshake that no later
#: call would get past, and what it means for the pull.
_TLS_FAILURES = (
    ("WRONG_VERSION_NUMBER", "the endpoint answered without TLS: if it serves plain HTTP, give the"
                             " endpoint as http://HOST:PORT"),
    ("CERTIFICATE_VERIFY_FAILED", "the endpoint's TLS certificate is not trusted"),
)


def from_sdk_exception(exc: Any, action: str) -> UpstreamError:
    """The service's refusal carried by an SDK exception (``TeaException`` and its subclasses)."""
    inner = getattr(exc, "inner_exception", None)
    data = getattr(exc, "data", None)
    if inner is not None and not isinstance(data, dict):
        text = str(inner)
        if isinstance(inner, RuntimeError) and text.startswith(_NOT_JSON):  # an answer, but no API error
            return UpstreamError(UNREADABLE_ANSWER, text.removeprefix(_NOT_JSON).strip(" ,:"), None, action=action)
        told = f"{type(inner).__name__}: {inner}"
        for sign, hint in _TLS_FAILURES:  # the same at every attempt: a retry would only wait
            if sign in text:
                return UpstreamError(TLS_FAILURE, f"{hint} ({told})", None, action=action)
        return UpstreamError(NO_RESPONSE, told, None, action=action)  # none at all
    body = data if isinstance(data, dict) else {}
    status = getattr(exc, "status_code", None) or getattr(exc, "statusCode", None) or body.get("statusCode")
    code = str(body.get("Code") or getattr(exc, "code", None) or "Unknown")
    message = str(body.get("Message") or getattr(exc, "message", None) or exc)
    request_id = body.get("RequestId")
    wait = getattr(exc, "retry_after", None)  # milliseconds: the SDK's ThrottlingException
    return UpstreamError(
        code,
        message,
        int(status) if isinstance(status, int) or (isinstance(status, str) and status.isdigit()) else None,
        action=action,
        request_id=str(request_id) if request_id else None,
        retry_after=wait / 1000 if isinstance(wait, int) and not isinstance(wait, bool) and wait > 0 else None,
    )
