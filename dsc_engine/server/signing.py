"""The two request-signing schemes of Alibaba Cloud's RPC APIs, as pure functions.

Both sides use them: the server verifies by recomputing a signature, and tests (or any client
without the SDK) sign hand-built requests with the same code.

* **ACS3-HMAC-SHA256** (signature v3, the SDK default). The canonical request is::

      METHOD \\n /path \\n canonical-query \\n canonical-headers \\n signed-header-names \\n payload-hash

  where the canonical query is ``key=value`` pairs sorted by key, each percent-encoded (RFC 3986,
  only ``A-Za-z0-9-_.~`` left bare), the canonical headers are ``name:value\\n`` for each header
  named in ``SignedHeaders`` (lower-case names, trimmed values, several values of one name sorted
  and joined by ``,``), and the payload hash is the hex SHA-256 of the body. The string to sign is
  ``ACS3-HMAC-SHA256\\n`` + hex SHA-256 of the canonical request; the signature is the hex
  HMAC-SHA256 of that under the access key secret.
* **HMAC-SHA1** (signature v2, ``Config(signature_algorithm='v2')``). All parameters but
  ``Signature`` (query and form body together) are sorted by name and joined as
  ``enc(k)=enc(v)`` with ``&``; the string to sign is ``METHOD&%2F&`` + ``enc`` of that; the
  signature is the base64 HMAC-SHA1 under ``secret + "&"``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import quote

#: The one v3 algorithm this server verifies.
ACS3_HMAC_SHA256 = "ACS3-HMAC-SHA256"


def percent_encode(text: str) -> str:
    """RFC 3986 encoding as both schemes use it: only unreserved characters stay bare."""
    return quote(text, safe="~", encoding="utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    """The v3 canonical query string of decoded ``(name, value)`` pairs."""
    pairs = sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_headers(
    headers: Mapping[str, Iterable[str]], signed: Iterable[str]
) -> str:
    """``name:value\\n`` lines for the headers named in ``signed`` (names lower-case, sorted).

    ``headers`` maps lower-case names to every value received under that name.
    """
    lines = []
    for name in sorted(signed):
        values = sorted(v.strip() for v in headers.get(name, ()))
        lines.append(f"{name}:{','.join(values)}\n")
    return "".join(lines)


def v3_canonical_request(
    method: str,
    path: str,
    params: Iterable[tuple[str, str]],
    headers: Mapping[str, Iterable[str]],
    signed_headers: Iterable[str],
    payload_hash: str,
) -> str:
    signed = sorted(signed_headers)
    return "\n".join(
        (
            method.upper(),
            path or "/",
            canonical_query(params),
            canonical_headers(headers, signed),
            ";".join(signed),
            payload_hash,
        )
    )


def v3_signature(canonical_request: str, secret: str) -> str:
    """Hex HMAC-SHA256 over ``ACS3-HMAC-SHA256\\n<hex sha256 of the canonical request>``."""
    to_sign = f"{ACS3_HMAC_SHA256}\n{sha256_hex(canonical_request.encode('utf-8'))}"
    return hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def v3_authorization(
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    access_key_id: str,
    secret: str,
) -> str:
    """The ``Authorization`` header value for a request signing every header in ``headers``.

    ``headers`` must already hold what the server will see and verify (``host``,
    ``x-acs-action``, ``x-acs-version``, ``x-acs-date``, ``x-acs-signature-nonce``,
    ``x-acs-content-sha256``, ...).
    """
    lowered = {k.lower(): [v] for k, v in headers.items()}
    canonical = v3_canonical_request(
        method, path, params.items(), lowered, lowered, sha256_hex(body)
    )
    signed = ";".join(sorted(lowered))
    signature = v3_signature(canonical, secret)
    return f"{ACS3_HMAC_SHA256} Credential={access_key_id},SignedHeaders={signed},Signature={signature}"


def v2_string_to_sign(method: str, params: Iterable[tuple[str, str]]) -> str:
    """``METHOD&%2F&enc(sorted k=v pairs)``; ``params`` must not include ``Signature``."""
    pairs = sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    joined = "&".join(f"{k}={v}" for k, v in pairs)
    return f"{method.upper()}&%2F&{percent_encode(joined)}"


def v2_signature(method: str, params: Iterable[tuple[str, str]], secret: str) -> str:
    """Base64 HMAC-SHA1 of the v2 string to sign, keyed by ``secret + '&'``."""
    to_sign = v2_string_to_sign(method, params)
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def same_signature(given: str, expected: str) -> bool:
    """Constant-time comparison of two signatures."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
