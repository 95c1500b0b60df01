"""The WSGI application: HTTP in, ``engine.call`` in the middle, the service's JSON out.

One request goes through these steps, and the first refusal answers (``server/errors.py``)::

    method (GET/POST) -> read & decode (limits, UTF-8, form body) -> path "/"
      -> route (Action/Version parameters, or x-acs-action/x-acs-version headers, signed values only)
      -> authenticate (v3 or v2 signature, key, token, time, nonce)
      -> x-acs-* headers (each one read, or one the SDK sends of itself; any other refused)
      -> authorize (RAM policy of the key) -> throttle (per key and operation)
      -> strip common and signature parameters -> engine.call(...) -> 200 JSON

The stripped parameters are the common ones of every RPC request (``Action``, ``Version``,
``Format`` (must be JSON), ``RegionId`` (accepted, regionless emulator)) and, for v2, the signature
parameters (``AccessKeyId``, ``Signature``, ``SignatureMethod``, ``SignatureVersion``,
``SignatureNonce``, ``SignatureType``, ``Timestamp``, ``SecurityToken``). Everything else reaches
the engine, which rejects what it does not know.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

from dsc_engine.api.common import COMMON_PARAMS, V2_SIGNATURE_PARAMS
from dsc_engine.api.errors import ApiError, new_request_id
from dsc_engine.api.operations import OPERATIONS, product_of
from dsc_engine.errors import RequestRejected
from dsc_engine.io.jsontext import utf8_text
from dsc_engine.server.auth import READ_HEADERS, SDK_NOTES, Authenticator, Principal, is_v2_signed
from dsc_engine.server.config import ServerConfig
from dsc_engine.server.errors import internal_error, invalid_parameter, to_api_error
from dsc_engine.server.request import HttpRequest, read_request, request_host
from dsc_engine.server.throttle import Throttle

if TYPE_CHECKING:  # the server reaches the engine only through this protocol
    from dsc_engine.api.router import Caller

log = logging.getLogger("dsc_engine.server")

CONTENT_TYPE = "application/json;charset=utf-8"
#: The methods served, as a 405 answer's ``Allow`` header lists them.
METHODS = ("GET", "POST")
ALLOW = ", ".join(METHODS)
#: The header of a throttled answer that says how soon to retry, in whole milliseconds (the SDK
#: raises such an answer as its ``ThrottlingException``, with this wait as ``retry_after``).
RETRY_AFTER = "x-acs-retry-after"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def json_payload(body: Mapping[str, Any]) -> bytes:
    """The UTF-8 JSON of an answer. Text holding half of a surrogate pair (a record object may
    hold one, semantics §1.4) has no UTF-8 form: it goes out as its JSON escape (``\\ud800``),
    as the service writes it, never as an ``InternalError``."""
    return utf8_text(body).encode("utf-8")


def served_method(environ: Mapping[str, Any]) -> str:
    """The request's method; any but GET and POST is ``UnsupportedHTTPMethod`` (a method is
    case-sensitive, RFC 9110 §9.1: ``get`` is not ``GET``)."""
    method = str(environ.get("REQUEST_METHOD", ""))
    if method not in METHODS:
        raise RequestRejected(
            "UnsupportedHTTPMethod", f"The HTTP method {method} is not supported; use GET or POST."
        )
    return method


def respond(
    start_response: StartResponse,
    environ: Mapping[str, Any],
    status: int,
    payload: bytes,
    request_id: str,
    content_type: str = CONTENT_TYPE,
    extra: Sequence[tuple[str, str]] = (),
) -> list[bytes]:
    """Start the answer and return its body: a 405 lists the methods served (``Allow``), and an
    answer to HEAD ends with its headers; ``extra`` headers follow the others."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # a status of a proxy's upstream that http knows no name for
        phrase = "Unknown"
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(payload))),
        ("x-acs-request-id", request_id),
    ]
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        headers.append(("Allow", ALLOW))
    headers.extend(extra)
    start_response(f"{status} {phrase}", headers)
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [payload]


def retry_after_ms(seconds: float) -> str:
    """The :data:`RETRY_AFTER` of a wait of ``seconds``: whole milliseconds, rounded up, at least 1
    (the SDK reads 0 as no wait); rounded to a nanosecond first, so that 0.05900000000000001 s is 59, not 60."""
    return str(max(1, math.ceil(round(seconds * 1000, 6))))


def _one(request: HttpRequest, header: str, param: str) -> str | None:
    """A routing value from its header or its parameter; both present must agree.

    Only signed values route a request. A v3 signature covers the query and the ``x-acs-*``
    headers (the authenticator refuses an unsigned one), so either source will do. A v2 signature
    covers the parameters only: there the header may at most repeat the parameter.
    """
    from_header = request.header(header) or None
    from_param = request.params.get(param) or None
    v2 = is_v2_signed(request)
    if from_header and v2 and from_param is None:
        raise invalid_parameter(
            header,
            f"A v2 (HMAC-SHA1) signature covers parameters, not the {header} header, so the "
            f"request is not routed by it; send {param} among the signed parameters.",
        )
    if from_header and from_param and from_header != from_param:
        signed = "signed " if v2 else ""
        raise invalid_parameter(
            header if v2 else param,
            f"The {header} header says {from_header!r} but the {signed}parameter {param} says "
            f"{from_param!r}.",
        )
    return from_param if v2 else from_header or from_param


def route(request: HttpRequest) -> tuple[str, str | None]:
    """``(action, version)`` of the request, from signed values only; no Action is ``MissingAction``."""
    if request.path != "/":
        raise RequestRejected("InvalidApi.NotFound", f"path {request.path!r}: RPC APIs live at /")
    action = _one(request, "x-acs-action", "Action")
    if action is None:
        raise RequestRejected("MissingAction", "Action is mandatory for this action.")
    fmt = request.params.get("Format") or None  # empty counts as absent, as Action's and Version's
    if fmt is not None and fmt.lower() != "json":
        raise invalid_parameter("Format", "Only JSON responses are served.")
    return action, _one(request, "x-acs-version", "Version")


def named_product(environ: Mapping[str, Any], max_query_bytes: int) -> str:
    """The product of the action (or version) a request names, for the link of an error answered
    before the request is routed (its reading or routing refused it), unchecked: nothing is routed
    by this. As :func:`route` reads them: a v2 request (a ``Signature`` parameter, no
    ``Authorization``) by its query parameters, any other by its ``x-acs-*`` headers first. A query
    above the limit is not read.
    """
    query = str(environ.get("QUERY_STRING", ""))
    params = dict(parse_qsl(query)) if len(query) <= max_query_bytes else {}
    v2 = "Signature" in params and not environ.get("HTTP_AUTHORIZATION")

    def named(header: str, param: str) -> str | None:
        from_header, from_param = environ.get(header), params.get(param)
        value = (from_param or from_header) if v2 else (from_header or from_param)
        return str(value) if value else None

    return product_of(named("HTTP_X_ACS_ACTION", "Action"), named("HTTP_X_ACS_VERSION", "Version"))


def refusal_product(
    environ: Mapping[str, Any], action: str | None, version: str | None, max_query_bytes: int
) -> str:
    """The product a refusal links: the routed action's, or, refused before routing, the one of
    the action the request names (:func:`named_product`)."""
    if action is None:
        return named_product(environ, max_query_bytes)
    return product_of(action, version)


def api_params(request: HttpRequest, principal: Principal) -> dict[str, str]:
    """The parameters meant for the API: everything but the common and signature ones."""
    consumed = COMMON_PARAMS | V2_SIGNATURE_PARAMS if principal.scheme == "v2" else COMMON_PARAMS
    return {k: v for k, v in request.params.items() if k not in consumed}


def gateway_headers(request: HttpRequest, principal: Principal) -> dict[str, str]:
    """The ``x-acs-*`` headers of a request that say what the SDK did (``auth.SDK_NOTES``), to
    log; one its scheme does not read (``auth.READ_HEADERS``) is ``InvalidParameter`` naming it,
    never passed over: an ``x-acs-*`` header asks the gateway something (``docs/server.md``, "On
    the wire")."""
    read = READ_HEADERS[principal.scheme]
    for name in request.headers:
        if name.startswith("x-acs-") and name not in read and name not in SDK_NOTES:
            raise invalid_parameter(
                name,
                f"The {name} header is not read by this server in a {principal.scheme} request; it reads"
                f" {', '.join(sorted(read))} and accepts {', '.join(sorted(SDK_NOTES))}.",
            )
    return {name: ",".join(values) for name, values in request.headers.items() if name in SDK_NOTES}


class Authenticates(Protocol):
    """Who signed a request: :class:`~dsc_engine.server.auth.Authenticator` checks signatures
    against the configured keys; ``dsc_engine.mock`` may pass ``AnyCredentials`` instead."""

    def authenticate(self, request: HttpRequest) -> Principal: ...


class Application:
    """A WSGI callable serving ``backend`` under ``config``; ``clock`` gives epoch seconds.

    ``authenticator`` replaces the signature checks against ``config.access_keys`` (the default).
    """

    def __init__(
        self,
        backend: Caller,
        config: ServerConfig,
        clock: Callable[[], float] = time.time,
        *,
        authenticator: Authenticates | None = None,
    ) -> None:
        self.backend = backend
        self.config = config
        self.authenticator = authenticator or Authenticator(
            config.access_keys, clock, max_nonces=config.limits.max_nonces
        )
        self.throttle = (
            Throttle(config.throttle.rate, clock) if config.throttle.enabled else None
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        request_id = new_request_id()
        host = request_host(environ)
        action: str | None = None
        version: str | None = None
        limits = self.config.limits
        extra: list[tuple[str, str]] = []
        try:
            try:
                served_method(environ)
                request = read_request(environ, limits)
                action, version = route(request)
                principal = self.authenticator.authenticate(request)
                notes = gateway_headers(request, principal)
                if notes:
                    log.debug("request %s: %s", request_id, ", ".join(f"{k}: {v}" for k, v in notes.items()))
                self._gate(principal, action)
                body = self.backend.call(
                    action, api_params(request, principal), version=version, host=host, request_id=request_id
                )
                status = 200
            except RequestRejected as exc:
                log.info("refused %s: %s", exc.code, exc.reason)
                product = refusal_product(environ, action, version, limits.max_query_bytes)
                error = to_api_error(exc, product=product, request_id=request_id, host=host)
                status, body = error.http_status, error.body
                if exc.retry_after is not None:  # the SDK makes such an answer a ThrottlingException
                    extra.append((RETRY_AFTER, retry_after_ms(exc.retry_after)))
            except ApiError as exc:
                status, body = exc.http_status, exc.body
            payload = json_payload(body)
        except Exception:  # the application's last resort (docs/semantics.md §7.4): no traceback on the wire
            log.exception("internal error answering %s (request %s)", action, request_id)
            error = internal_error(product=product_of(action, version), request_id=request_id, host=host)
            status, body = error.http_status, error.body
            payload = json_payload(body)
        log.info("%s %s -> %d", action, request_id, status)
        return respond(start_response, environ, status, payload, request_id, extra=extra)

    def _gate(self, principal: Principal, action: str) -> None:
        """Authorization, then flow control, for the operations this engine serves."""
        operation = OPERATIONS.get(action)
        if operation is None:
            return  # not an API of this engine: the engine answers InvalidApi.NotFound
        ram_action = operation.ram_action
        if not principal.access_key.policy.allows(ram_action):
            raise RequestRejected("Forbidden.RAM", f"{principal.access_key.id} may not call {ram_action}")
        wait = 0.0 if self.throttle is None else self.throttle.take(principal.access_key.id, action)
        if wait:
            raise RequestRejected(
                "Throttling.User", f"{principal.access_key.id} over the rate for {action}", retry_after=wait
            )


def make_app(
    backend: Caller,
    config: ServerConfig,
    clock: Callable[[], float] = time.time,
    *,
    authenticator: Authenticates | None = None,
) -> WsgiApp:
    """A WSGI application answering the three APIs from ``backend`` (usually an ``Engine``)."""
    return Application(backend, config, clock, authenticator=authenticator)
