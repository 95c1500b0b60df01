"""The request-signing schemes of Alibaba Cloud's RPC APIs, as pure functions.

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
* **ACS3-HMAC-SM3** (``Config(signature_algorithm='ACS3-HMAC-SM3')``): the same with the SM3 hash
  (GB/T 32905) in place of SHA-256 everywhere: the payload hash (still sent as
  ``x-acs-content-sha256``), the hash of the canonical request, the HMAC, and the algorithm's name
  at the head of the string to sign. SM3 comes from OpenSSL when this Python's has it, else from
  :func:`sm3_pure`.
* **HMAC-SHA1** (signature v2, ``Config(signature_algorithm='v2')``). All parameters but
  ``Signature`` (query and form body together) are sorted by name and joined as
  ``enc(k)=enc(v)`` with ``&``; the string to sign is ``METHOD&%2F&`` + ``enc`` of that; the
  signature is the base64 HMAC-SHA1 under ``secret + "&"``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from collections.abc import Iterable, Mapping
from urllib.parse import quote

#: The v3 algorithms this server verifies: the SDK's default, and its SM3 variant.
ACS3_HMAC_SHA256 = "ACS3-HMAC-SHA256"
ACS3_HMAC_SM3 = "ACS3-HMAC-SM3"
V3_ALGORITHMS = (ACS3_HMAC_SHA256, ACS3_HMAC_SM3)

# ---------------------------------------------------------------------------------------------
# SM3 (GB/T 32905-2016)
# ---------------------------------------------------------------------------------------------

_WORD = 0xFFFFFFFF
_SM3_IV = (0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600, 0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E)
_SM3_BLOCK = 64
_OPENSSL_SM3 = "sm3" in hashlib.algorithms_available


def _rotl(x: int, n: int) -> int:
    n %= 32
    return ((x << n) | (x >> (32 - n))) & _WORD


#: The round constants T_j, already rotated left by j.
_SM3_T = tuple(_rotl(0x79CC4519 if j < 16 else 0x7A879D8A, j) for j in range(64))


def sm3_pure(data: bytes) -> bytes:
    """The SM3 digest of ``data`` in pure Python (for a Python whose OpenSSL lacks SM3)."""
    padded = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + (8 * len(data)).to_bytes(8, "big")
    v: tuple[int, ...] = _SM3_IV
    for offset in range(0, len(padded), _SM3_BLOCK):
        w = list(struct.unpack(">16I", padded[offset : offset + _SM3_BLOCK]))
        for j in range(16, 68):
            x = w[j - 16] ^ w[j - 9] ^ _rotl(w[j - 3], 15)
            w.append(x ^ _rotl(x, 15) ^ _rotl(x, 23) ^ _rotl(w[j - 13], 7) ^ w[j - 6])
        a, b, c, d, e, f, g, h = v
        for j in range(64):
            a12 = _rotl(a, 12)
            ss1 = _rotl((a12 + e + _SM3_T[j]) & _WORD, 7)
            if j < 16:
                ff, gg = a ^ b ^ c, e ^ f ^ g
            else:
                ff, gg = (a & b) | (a & c) | (b & c), (e & f) | (~e & g)
            tt1 = (ff + d + (ss1 ^ a12) + (w[j] ^ w[j + 4])) & _WORD
            tt2 = (gg + h + ss1 + w[j]) & _WORD
            a, b, c, d = tt1, a, _rotl(b, 9), c
            e, f, g, h = tt2 ^ _rotl(tt2, 9) ^ _rotl(tt2, 17), e, _rotl(f, 19), g
        v = tuple(x ^ y for x, y in zip(v, (a, b, c, d, e, f, g, h), strict=True))
    return struct.pack(">8I", *v)


def sm3(data: bytes) -> bytes:
    """The SM3 digest of ``data`` (OpenSSL's when there is one)."""
    return hashlib.new("sm3", data).digest() if _OPENSSL_SM3 else sm3_pure(data)


def _hmac_sm3(key: bytes, message: bytes) -> bytes:
    if _OPENSSL_SM3:
        return hmac.new(key, message, "sm3").digest()
    key = sm3_pure(key) if len(key) > _SM3_BLOCK else key
    key = key.ljust(_SM3_BLOCK, b"\x00")
    inner = sm3_pure(bytes(k ^ 0x36 for k in key) + message)
    return sm3_pure(bytes(k ^ 0x5C for k in key) + inner)


def _digest(data: bytes, algorithm: str) -> bytes:
    return sm3(data) if algorithm == ACS3_HMAC_SM3 else hashlib.sha256(data).digest()


def _keyed(secret: str, message: str, algorithm: str) -> bytes:
    key, text = secret.encode("utf-8"), message.encode("utf-8")
    if algorithm == ACS3_HMAC_SM3:
        return _hmac_sm3(key, text)
    return hmac.new(key, text, hashlib.sha256).digest()


# ---------------------------------------------------------------------------------------------
# The two schemes
# ---------------------------------------------------------------------------------------------


def percent_encode(text: str) -> str:
    """RFC 3986 encoding as both schemes use it: only unreserved characters stay bare."""
    return quote(text, safe="~", encoding="utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload_hash(data: bytes, algorithm: str = ACS3_HMAC_SHA256) -> str:
    """The hex hash of a body under v3 ``algorithm`` (the ``x-acs-content-sha256`` value)."""
    return _digest(data, algorithm).hex()


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


def v3_signature(canonical_request: str, secret: str, algorithm: str = ACS3_HMAC_SHA256) -> str:
    """Hex HMAC over ``<algorithm>\\n<hex hash of the canonical request>``: SHA-256 for
    ACS3-HMAC-SHA256, SM3 for ACS3-HMAC-SM3."""
    to_sign = f"{algorithm}\n{payload_hash(canonical_request.encode('utf-8'), algorithm)}"
    return _keyed(secret, to_sign, algorithm).hex()


def v3_authorization(
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    access_key_id: str,
    secret: str,
    algorithm: str = ACS3_HMAC_SHA256,
) -> str:
    """The ``Authorization`` header value for a request signing every header in ``headers``.

    ``headers`` must already hold what the server will see and verify (``host``,
    ``x-acs-action``, ``x-acs-version``, ``x-acs-date``, ``x-acs-signature-nonce``,
    ``x-acs-content-sha256``, ...).
    """
    lowered = {k.lower(): [v] for k, v in headers.items()}
    canonical = v3_canonical_request(
        method, path, params.items(), lowered, lowered, payload_hash(body, algorithm)
    )
    signed = ";".join(sorted(lowered))
    signature = v3_signature(canonical, secret, algorithm)
    return f"{algorithm} Credential={access_key_id},SignedHeaders={signed},Signature={signature}"


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
