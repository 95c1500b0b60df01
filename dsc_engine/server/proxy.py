"""``dsc-engine record --upstream``: a local proxy that records what the real service answers.

The user's SDK code is pointed at the proxy (``Config(endpoint="127.0.0.1:PORT", protocol="http")``
with the proxy's own key pair). Each call goes through these steps::

    method (GET/POST) -> read & decode (limits) -> route (Action/Version, signed values only)
      -> authenticate (the proxy's key: signature, time, nonce)
      -> only the engine's three operations go on (any other is InvalidApi.NotFound)
      -> re-signed with the user's real credentials (ACS3-HMAC-SHA256) -> the upstream
      -> its answer sent back unchanged (status, body bytes, content type, request id)
      -> the call and the answer appended to the capture

**Two keys.** The proxy checks incoming signatures against a key of its own (generated and
printed at start, or given), so nothing else on the machine can spend the user's real key
through it; the code being recorded never holds the real key either. The real credentials
(the environment, or the SDK's default chain: ``pull/credentials.py``) sign each forwarded call.
``accept_any_key`` takes any well-formed signature instead (``AnyCredentials``), for code whose
key cannot be changed.

**Only the engine's operations** (DescribeAuditLogs, DescribeDataMaskingRunHistory,
ListSensitiveDataAuditLog) are forwarded: they only read, and they are what ``replay`` can
compare. With several upstreams, a call goes to the one whose host names its product
(``sddp...``, ``dms-enterprise...``); with one, every call goes there.

**The capture** is the replay format (``replay.py``): one line per call answered by the upstream,
``{"action", "params", "version", "status", "response"}``, written and flushed as the answer
arrives. ``params`` are the API parameters as the upstream received them (the signature and
routing parameters left out). An answer that is not a JSON object (a gateway's HTML page), or
not one replay reads (``NaN``, a key given twice, nested too deeply: ``replay.load_json``; a line
longer than ``sources.MAX_LINE``), is
returned to the caller but not captured, and counted; a call refused by the proxy itself, or that
never reached the upstream or got no whole HTTP answer, or one whose body is longer than a capture
line may be (read no further than that: ``ServiceUnavailable``, 503), is not captured either.
"""

from __future__ import annotations

import http.client
import io
import logging
import threading
import time
import urllib.error
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

import attrs

from dsc_engine.api.common import V2_SIGNATURE_PARAMS
from dsc_engine.api.errors import new_request_id
from dsc_engine.api.operations import OPERATIONS, product_of
from dsc_engine.errors import RequestRejected, ServerConfigError
from dsc_engine.io import sources
from dsc_engine.io.jsontext import compact
from dsc_engine.pull.credentials import CredentialSource
from dsc_engine.pull.upstream import host_and_port
from dsc_engine.replay import MAX_DEPTH, Call, Unreadable, load_json
from dsc_engine.server.app import (
    CONTENT_TYPE,
    Authenticates,
    StartResponse,
    json_payload,
    refusal_product,
    respond,
    route,
    served_method,
)
from dsc_engine.server.auth import AnyCredentials, Authenticator, is_v2_signed
from dsc_engine.server.client import AnswerTooLong, RawAnswer, SignedClient
from dsc_engine.server.config import ServerConfig
from dsc_engine.server.errors import internal_error, to_api_error
from dsc_engine.server.request import HttpRequest, read_request, request_host

log = logging.getLogger("dsc_engine.server.proxy")

#: Parameters that route or sign a request: the proxy sets its own upstream, never forwards these.
NOT_FORWARDED = frozenset({"Action", "Version", "Format"})
#: Seconds the proxy waits for the upstream to answer one call.
UPSTREAM_TIMEOUT = 60.0


@attrs.frozen
class Target:
    """An upstream: ``protocol`` and ``endpoint`` (``host[:port]``) of a real service endpoint."""

    protocol: str
    endpoint: str

    @classmethod
    def parse(cls, url: str) -> Target:
        scheme, sep, rest = url.strip().partition("://")
        host = host_and_port(rest)
        if not sep or scheme.lower() not in ("http", "https") or host is None:
            raise ServerConfigError("--upstream", url, "expected http(s)://host[:port], such as "
                                    "https://sddp.cn-zhangjiakou.aliyuncs.com")
        return cls(scheme.lower(), host)

    @property
    def url(self) -> str:
        return f"{self.protocol}://{self.endpoint}"

    def serves(self, product: str) -> bool:
        """Whether the host names ``product`` (``sddp.…``, ``dms-enterprise-….…``)."""
        host = self.endpoint.lower()
        prefix = product.lower()
        return host.startswith((f"{prefix}.", f"{prefix}-"))


def targets(urls: Sequence[str]) -> tuple[Target, ...]:
    """The upstreams of ``--upstream`` URLs; several must each name their product."""
    parsed = tuple(Target.parse(url) for url in urls)
    if not parsed:
        raise ServerConfigError("--upstream", "", "give the URL of the real endpoint")
    if len(parsed) > 1:
        products = dict.fromkeys(op.product for op in OPERATIONS.values())
        for target in parsed:
            if not any(target.serves(product) for product in products):
                raise ServerConfigError(
                    "--upstream", target.url,
                    f"with several upstreams each host must name its product ({', '.join(products)})",
                )
    return parsed


class RecordingProxy:
    """A WSGI application forwarding the engine's operations upstream and capturing each answer
    (see the module docstring). ``capture`` is written from the serving threads under a lock."""

    def __init__(
        self,
        upstreams: Sequence[Target],
        credentials: CredentialSource,
        capture: IO[str],
        config: ServerConfig,
        *,
        accept_any_key: bool = False,
        clock: Callable[[], float] = time.time,
        timeout: float = UPSTREAM_TIMEOUT,
    ) -> None:
        self.upstreams = tuple(upstreams)
        self.credentials = credentials
        self.capture = capture
        self.config = config
        self.timeout = timeout
        self.authenticator: Authenticates = (
            AnyCredentials() if accept_any_key
            else Authenticator(config.access_keys, clock, max_nonces=config.limits.max_nonces)
        )
        #: calls captured, and answers returned but not captured (not a JSON object)
        self.captured = 0
        self.not_captured = 0
        self._lock = threading.Lock()

    def capture_into(self, capture: IO[str]) -> None:
        """Capture into ``capture`` from now on, after the calls captured so far (``capture`` was a
        ``StringIO``): so the command line binds the proxy's port before it opens the capture file."""
        with self._lock:
            held = self.capture
            if not isinstance(held, io.StringIO):
                raise TypeError("capture_into moves calls captured in memory (a StringIO) to a file")
            if held.getvalue():
                capture.write(held.getvalue())
                capture.flush()
            self.capture = capture

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        request_id = new_request_id()
        host = request_host(environ)
        action: str | None = None
        version: str | None = None
        try:
            try:
                served_method(environ)
                request = read_request(environ, self.config.limits)
                action, version = route(request)
                self.authenticator.authenticate(request)
                target = self._target(action)
                params = forwarded_params(request)
                answer = self._forward(target, action, version, params)
            except RequestRejected as exc:
                log.info("refused %s: %s", exc.code, exc.reason)
                product = refusal_product(environ, action, version, self.config.limits.max_query_bytes)
                error = to_api_error(exc, product=product, request_id=request_id, host=host)
                return respond(start_response, environ, error.http_status, json_payload(error.body), request_id)
            self._record(action, version, params, answer)
            return respond(
                start_response, environ, answer.status, answer.body,
                answer.headers.get("x-acs-request-id", request_id),
                answer.headers.get("content-type") or CONTENT_TYPE,
                _gateway_headers(answer),
            )
        except Exception:  # the proxy's last resort (docs/semantics.md §7.4): no traceback on the wire
            log.exception("internal error forwarding %s (request %s)", action, request_id)
            error = internal_error(product=product_of(action, version), request_id=request_id, host=host)
            return respond(start_response, environ, error.http_status, json_payload(error.body), request_id)

    def _target(self, action: str) -> Target:
        operation = OPERATIONS.get(action)
        if operation is None:
            raise RequestRejected(
                "InvalidApi.NotFound", f"{action}: the record proxy forwards only {', '.join(OPERATIONS)}"
            )
        if len(self.upstreams) == 1:
            return self.upstreams[0]
        for target in self.upstreams:
            if target.serves(operation.product):
                return target
        raise RequestRejected("InvalidApi.NotFound", f"{action}: no --upstream for {operation.product}")

    def _forward(self, target: Target, action: str, version: str | None, params: Mapping[str, str]) -> RawAnswer:
        key = self.credentials.current()
        client = SignedClient(
            target.endpoint, key.access_key_id, key.access_key_secret,
            security_token=key.security_token, timeout=self.timeout, protocol=target.protocol,
        )
        try:  # a body longer than a capture line holds could not be captured: it is not held either
            return client.exchange(client.prepare(action, params, version=version), most=sources.MAX_LINE)
        except AnswerTooLong as exc:
            raise RequestRejected(
                "ServiceUnavailable", f"the upstream {target.url} answered a body longer than the {exc.most:,} bytes"
                " a capture line holds; not read further") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:  # the last: cut short, not HTTP
            reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
            raise RequestRejected("ServiceUnavailable", f"the upstream {target.url} did not answer: {reason}") from None

    def _record(self, action: str, version: str | None, params: Mapping[str, str], answer: RawAnswer) -> None:
        problem = None
        try:  # read as replay reads the capture, so that no line captured makes it unreadable
            body = load_json(answer.body.decode("utf-8-sig"), max_depth=MAX_DEPTH - 1, what="a response")
        except UnicodeDecodeError:
            body, problem = None, "not UTF-8"
        except Unreadable as exc:
            body, problem = None, str(exc)
        if problem is None and not isinstance(body, dict):
            problem = "not a JSON object"
        if problem is None and not 100 <= answer.status <= 599:  # http.client reads up to 999
            problem = f"its status {answer.status} is no HTTP status a capture holds (100 to 599)"
        line = "" if problem is not None else compact(Call(action, dict(params), body, version, answer.status).to_json())
        size = len(line.encode("utf-8")) if len(line) > sources.MAX_LINE // 4 else 0  # UTF-8: 4 bytes a character at most
        if size > sources.MAX_LINE:
            problem = f"its capture line would be {size:,} bytes, more than the {sources.MAX_LINE:,} replay reads"
        with self._lock:
            if problem is not None:
                self.not_captured += 1
                log.warning("%s: the upstream answered %d with no JSON object replay can read (%s); returned,"
                            " not captured", action, answer.status, problem)
                return
            if self.capture.closed:  # stopping, the proxy waited for this call no longer
                self.not_captured += 1
                log.warning("%s: the upstream answered %d after the capture was closed; returned, not captured",
                            action, answer.status)
                return
            self.capture.write(line + "\n")  # a lone surrogate stays escaped
            self.capture.flush()
            self.captured += 1


def _gateway_headers(answer: RawAnswer) -> list[tuple[str, str]]:
    """The upstream's ``x-acs-*`` headers but its request id (sent already): what the SDK reads
    of an answer besides its body, such as ``x-acs-retry-after``, which makes a throttled call's
    error a ``ThrottlingException`` carrying the wait."""
    return [(name, value) for name, value in answer.headers.items()
            if name.startswith("x-acs-") and name != "x-acs-request-id"]


def forwarded_params(request: HttpRequest) -> dict[str, str]:
    """The parameters to send upstream: all but routing, format and v2 signature ones."""
    dropped = NOT_FORWARDED | V2_SIGNATURE_PARAMS if is_v2_signed(request) else NOT_FORWARDED
    return {k: v for k, v in request.params.items() if k not in dropped}
