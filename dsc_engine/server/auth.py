"""Authentication: who signed a request, and whether the signature, time and nonce hold.

A request carrying an ``Authorization`` header is checked as ACS3-HMAC-SHA256 or ACS3-HMAC-SM3
(signature v3); one carrying a ``Signature`` parameter as HMAC-SHA1 (signature v2); both, or
neither, is an ``IncompleteSignature``. The checks run in this order, and the first failure answers:

1. the signature parts are present and well-formed (``IncompleteSignature``);
2. the access key is configured (``InvalidAccessKeyId.NotFound``);
3. a security token is given exactly when the key has tokens, and is one of them
   (``InvalidSecurityToken.MismatchWithAccessKey``);
4. the signed time is within 15 minutes of the server clock (``InvalidTimeStamp.Expired``);
5. the signature (and, for v3, the body hash) verifies (``SignatureDoesNotMatch``);
6. the nonce was not used by this key for a request that is still valid (``SignatureNonceUsed``):
   a nonce is kept until 15 minutes after its request's signed time or its first use, whichever
   is later (see :class:`NonceCache`). It is recorded only once everything above has passed, so
   a forged request cannot burn a nonce.

For v3 the canonical request is rebuilt from exactly the headers the client lists in
``SignedHeaders``; that list must include ``host`` and every ``x-acs-*`` header sent, and the
request must carry ``x-acs-date``, ``x-acs-signature-nonce`` and ``x-acs-content-sha256``, none
of them empty.

:class:`AnyCredentials` checks none of this but step 1's first part (a request signed in one of the
two schemes): it takes every such request as signed by the key it names. It is what
``dsc_engine.mock`` uses until access keys are configured, as moto accepts any credentials; a
server never uses it.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import attrs

from dsc_engine.errors import RequestRejected, ServerConfigError
from dsc_engine.server import signing
from dsc_engine.server.config import DEFAULT_MAX_NONCES, TIME_WINDOW_SECONDS, AccessKey
from dsc_engine.server.request import HttpRequest

_V2_REQUIRED = ("AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp", "SignatureNonce")
_V3_REQUIRED_HEADERS = ("x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256")
#: The ``x-acs-*`` headers each scheme reads (``docs/server.md``, "On the wire"): a v3 signature's
#: parts, its STS token and the key the SDK names beside it; a v2 request's routing headers,
#: which may only repeat its signed parameters.
READ_HEADERS = {
    "v3": frozenset({"x-acs-action", "x-acs-version", *_V3_REQUIRED_HEADERS, "x-acs-security-token", "x-acs-accesskey-id"}),
    "v2": frozenset({"x-acs-action", "x-acs-version"}),
}
#: What the SDK says of itself, on every call (where its credentials came from) or on a retry
#: (which attempt, after how long): accepted in either scheme and logged, asking nothing.
SDK_NOTES = frozenset({"x-acs-credentials-provider", "x-acs-retry-attempts", "x-acs-retry-delay"})
_AUTH_FIELD = re.compile(r"\s*([A-Za-z]+)=([^,]*)\s*")
_CREDENTIAL = re.compile(r"Credential=([^,\s]*)")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z")


@attrs.frozen(kw_only=True)
class Principal:
    """Who signed a request (the RAM principal whose policy decides): the access key and the
    scheme (``"v3"`` or ``"v2"``) it signed with."""

    access_key: AccessKey
    scheme: str


def _incomplete(reason: str) -> RequestRejected:
    return RequestRejected("IncompleteSignature", reason)


def parse_timestamp(text: str, where: str) -> float:
    """``YYYY-MM-DDThh:mm:ssZ`` (fractional seconds allowed) in UTC -> epoch seconds.

    Every field has its full width in ASCII digits, as every time the engine reads
    (``strptime`` alone would take ``2026-1-2T3:4:5Z`` and full-width digits)."""
    if _TIMESTAMP.fullmatch(text):
        fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if "." in text else "%Y-%m-%dT%H:%M:%SZ"
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:  # no such date or time (a 30th of February, a 25th hour)
            pass
    raise _incomplete(f"{where} {text!r} is not a UTC time of the form YYYY-MM-DDThh:mm:ssZ")


def received_name(name: str) -> str:
    """The lower-case name a header signed as ``name`` has in an :class:`HttpRequest`: a WSGI
    server (PEP 3333) hands ``my_header`` and ``my-header`` over alike, as ``my-header``."""
    return name.replace("_", "-")


def is_v2_signed(request: HttpRequest) -> bool:
    """Whether ``request`` is signed with HMAC-SHA1 (v2): a ``Signature`` parameter, no ``Authorization``."""
    return request.header("authorization") is None and _has_signature_param(request)


def _has_signature_param(request: HttpRequest) -> bool:
    return any(name == "Signature" for name, _ in request.query + request.form)


def nonce_digest(access_key_id: str, nonce: str) -> bytes:
    """16 bytes standing for ``(access_key_id, nonce)``, whatever their length.

    BLAKE2b over both, the key id length-prefixed so no two pairs share an input; a collision
    (about one in 2**64 among billions of nonces) would only refuse a fresh nonce as used.
    """
    key = access_key_id.encode("utf-8", "surrogatepass")
    data = len(key).to_bytes(4, "big") + key + nonce.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).digest()


class NonceCache:
    """Nonces each access key used, each kept until its request can no longer be accepted.

    A request is accepted while its signed time is within ``window`` seconds of the clock, so a
    request signed ``t`` seconds ahead stays valid for ``window + t`` seconds after its first
    use. Its nonce is therefore kept until ``max(signed_at, first use) + window`` (rounded up to
    the second), never just ``window`` past first use, which would let the request be replayed
    once in between. Entries expire in whole-second buckets; thread-safe and self-pruning.

    Each nonce is remembered as its 16-byte :func:`nonce_digest` (about 100 bytes an entry with
    the set and bucket slots, however long the nonce). At most ``capacity`` are remembered: when
    full, a new nonce is refused (``Throttling``, 503) until old ones expire. Forgetting a nonce
    early instead would reopen its request to replay.
    """

    def __init__(
        self, window: float, clock: Callable[[], float], capacity: int = DEFAULT_MAX_NONCES
    ) -> None:
        if capacity < 1:
            raise ServerConfigError("limits", "max_nonces", f"must be at least 1, not {capacity}")
        self._window = window
        self._clock = clock
        self._capacity = capacity
        self._seen: set[bytes] = set()
        #: expiry second -> the digests that expire then; ``_heap`` holds the seconds, soonest first
        self._buckets: dict[int, list[bytes]] = {}
        self._heap: list[int] = []
        self._lock = threading.Lock()

    def use(self, access_key_id: str, nonce: str, signed_at: float) -> bool:
        """Record the nonce; ``False`` when this key used it for a request that is still valid.

        Raises :class:`RequestRejected` (``Throttling``) when ``capacity`` nonces are remembered.
        """
        now = self._clock()
        digest = nonce_digest(access_key_id, nonce)
        expiry = math.ceil(max(now, signed_at) + self._window)
        with self._lock:
            self._prune(now)
            if digest in self._seen:
                return False
            if len(self._seen) >= self._capacity:
                soonest = max(1, math.ceil(self._heap[0] - now)) if self._heap else 1
                raise RequestRejected(
                    "Throttling",
                    f"The server remembers at most {self._capacity} signature nonces "
                    f"(limits.max_nonces) and all are still in use; retry in {soonest} s or later.",
                    retry_after=soonest,
                )
            self._seen.add(digest)
            bucket = self._buckets.get(expiry)
            if bucket is None:
                bucket = self._buckets[expiry] = []
                heapq.heappush(self._heap, expiry)
            bucket.append(digest)
            return True

    def _prune(self, now: float) -> None:
        """Forget the entries whose window closed before ``now`` (a request signed at the edge is
        still accepted at ``signed_at + window`` itself, so its nonce is kept through that second)."""
        while self._heap and self._heap[0] < now:
            self._seen.difference_update(self._buckets.pop(heapq.heappop(self._heap)))

    def __len__(self) -> int:
        return len(self._seen)


class Authenticator:
    """Verifies signatures against the configured keys; ``clock`` returns epoch seconds."""

    def __init__(
        self,
        keys: Mapping[str, AccessKey],
        clock: Callable[[], float],
        window: float = TIME_WINDOW_SECONDS,
        max_nonces: int = DEFAULT_MAX_NONCES,
    ) -> None:
        self._keys = dict(keys)
        self._clock = clock
        self._window = window
        self._nonces = NonceCache(window, clock, max_nonces)

    def authenticate(self, request: HttpRequest) -> Principal:
        """The principal who signed ``request``; raises :class:`RequestRejected` otherwise."""
        authorization = request.header("authorization")
        has_v2 = _has_signature_param(request)
        if authorization is not None and has_v2:
            raise _incomplete("both an Authorization header and a Signature parameter were sent")
        if authorization is not None:
            return self._v3(request, authorization)
        if has_v2:
            return self._v2(request)
        raise _incomplete("the request is not signed (no Authorization header, no Signature parameter)")

    # -- shared steps -------------------------------------------------------------------------

    def _key(self, access_key_id: str) -> AccessKey:
        key = self._keys.get(access_key_id)
        if key is None:
            raise RequestRejected("InvalidAccessKeyId.NotFound", f"access key {access_key_id!r} is not configured")
        return key

    @staticmethod
    def _token(key: AccessKey, token: str | None) -> None:
        token = token or None  # an empty token is none, as any empty parameter is absent
        if token is None and not key.security_tokens:
            return
        if token is None:
            reason = f"access key {key.id!r} requires a security token"
        elif token not in key.security_tokens:
            reason = f"the security token is not configured for access key {key.id!r}"
        else:
            return
        raise RequestRejected("InvalidSecurityToken.MismatchWithAccessKey", reason)

    def _fresh(self, signed_at: float) -> None:
        skew = abs(self._clock() - signed_at)
        if skew > self._window:
            raise RequestRejected(
                "InvalidTimeStamp.Expired", f"signed {skew:.0f} s away from the server clock"
            )

    def _nonce(self, key: AccessKey, nonce: str, signed_at: float) -> None:
        if not self._nonces.use(key.id, nonce, signed_at):
            raise RequestRejected("SignatureNonceUsed", f"nonce {nonce!r} was used already")

    # -- ACS3-HMAC-SHA256 and ACS3-HMAC-SM3 -------------------------------------------------

    def _v3(self, request: HttpRequest, authorization: str) -> Principal:
        algorithm, _, rest = authorization.strip().partition(" ")
        if algorithm not in signing.V3_ALGORITHMS:
            raise _incomplete(
                f"unsupported signature algorithm {algorithm!r}; this server verifies "
                f"{', '.join(signing.V3_ALGORITHMS)} and HMAC-SHA1 (v2)"
            )
        fields: dict[str, str] = {}
        for part in rest.split(","):
            match = _AUTH_FIELD.fullmatch(part)
            if match is None or match.group(1) in fields:
                raise _incomplete(f"malformed Authorization field {part.strip()!r}")
            fields[match.group(1)] = match.group(2)
        if set(fields) != {"Credential", "SignedHeaders", "Signature"} or not all(fields.values()):
            raise _incomplete("Authorization needs exactly Credential, SignedHeaders and Signature")
        signed = fields["SignedHeaders"].split(";")
        if any(name != name.lower() or not name for name in signed) or len(set(signed)) != len(signed):
            raise _incomplete("SignedHeaders must list distinct lower-case header names")
        # PEP 3333 hands a header over as HTTP_<NAME> with "-" and "_" alike, so a header the
        # client sent and signed as my_header is here as my-header: signed under its own name.
        received = {name: received_name(name) for name in signed}
        for name in signed:
            if received[name] not in request.headers:
                raise _incomplete(f"signed header {name!r} is not in the request")
        covered = set(received.values())
        unsigned = [n for n in request.headers if (n.startswith("x-acs-") or n == "host") and n not in covered]
        if unsigned:
            raise _incomplete(f"headers {', '.join(sorted(unsigned))} must be signed")
        for name in _V3_REQUIRED_HEADERS:
            if not request.header(name):  # an empty one is missing too, as v2's empty parameters
                raise _incomplete(f"header {name} is missing or empty")

        named = request.header("x-acs-accesskey-id")  # the SDK sends it with an STS token
        if named and named != fields["Credential"]:
            raise _incomplete(
                f"x-acs-accesskey-id {named!r} is not the access key of the signature's Credential"
                f" {fields['Credential']!r}"
            )
        key = self._key(fields["Credential"])
        self._token(key, request.header("x-acs-security-token"))
        signed_at = parse_timestamp(request.header("x-acs-date") or "", "x-acs-date")
        self._fresh(signed_at)
        payload_hash = signing.payload_hash(request.body, algorithm)
        declared = request.header("x-acs-content-sha256") or ""
        if not _HEX64.fullmatch(declared):
            raise _incomplete("x-acs-content-sha256 must be a lower-case hex hash (SHA-256, or SM3)")
        if declared != payload_hash:
            raise RequestRejected("SignatureDoesNotMatch", "x-acs-content-sha256 is not the body's hash")
        values = {name: request.headers[received[name]] for name in signed}
        canonical = signing.v3_canonical_request(
            request.method, request.path, request.query, values, signed, payload_hash
        )
        expected = signing.v3_signature(canonical, key.secret, algorithm)
        if not signing.same_signature(fields["Signature"], expected):
            raise RequestRejected("SignatureDoesNotMatch", f"canonical request was:\n{canonical}")
        self._nonce(key, request.header("x-acs-signature-nonce") or "", signed_at)
        return Principal(access_key=key, scheme="v3")

    # -- HMAC-SHA1 (v2) ---------------------------------------------------------------------

    def _v2(self, request: HttpRequest) -> Principal:
        params = request.params
        for name in _V2_REQUIRED:
            if not params.get(name):
                raise _incomplete(f"parameter {name} is missing")
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            raise _incomplete("v2 signatures must use SignatureMethod=HMAC-SHA1, SignatureVersion=1.0")
        if "SignatureType" in params:
            raise _incomplete(f"SignatureType {params['SignatureType']!r} is not supported")
        key = self._key(params["AccessKeyId"])
        self._token(key, params.get("SecurityToken"))
        signed_at = parse_timestamp(params["Timestamp"], "Timestamp")
        self._fresh(signed_at)
        signed = [(k, v) for k, v in request.query + request.form if k != "Signature"]
        expected = signing.v2_signature(request.method, signed, key.secret)
        if not signing.same_signature(params["Signature"], expected):
            raise RequestRejected(
                "SignatureDoesNotMatch",
                f"string to sign was {signing.v2_string_to_sign(request.method, signed)}",
            )
        self._nonce(key, params["SignatureNonce"], signed_at)
        return Principal(access_key=key, scheme="v2")


class AnyCredentials:
    """Takes every signed request as signed by the access key it names (``Credential`` of a v3
    ``Authorization`` header, or the v2 ``AccessKeyId`` parameter), verifying nothing: no
    signature, time, nonce or token check, and the key may call every action.

    What it does check is that the request is signed with an access key at all, in one of the two
    schemes, as :class:`Authenticator` does first: a request with neither an ``Authorization``
    header nor a ``Signature`` parameter (or with both) is an ``IncompleteSignature``. That is
    what the SDK sends for credentials that are no access key, such as a bearer token
    (``SignatureType=BEARERTOKEN``), which these APIs do not take.
    """

    def authenticate(self, request: HttpRequest) -> Principal:
        authorization = request.header("authorization")
        has_v2 = _has_signature_param(request)
        if authorization is not None and has_v2:
            raise _incomplete("both an Authorization header and a Signature parameter were sent")
        if authorization is None and not has_v2:
            raise _incomplete(
                "the request is not signed with an access key (no Authorization header, no "
                "Signature parameter); a bearer token is not accepted by these APIs"
            )
        if is_v2_signed(request):
            scheme, key_id = "v2", request.params.get("AccessKeyId", "")
        else:
            match = _CREDENTIAL.search(request.header("authorization") or "")
            scheme, key_id = "v3", match.group(1) if match else ""
        return Principal(access_key=AccessKey(id=key_id, secret=""), scheme=scheme)
