"""Reading a WSGI ``environ`` into a checked, decoded :class:`HttpRequest`.

Limits are enforced before anything is decoded: a query string above ``max_query_bytes`` is a 414,
a body above ``max_body_bytes`` a 413 (refused from its ``Content-Length``, never read). The
``Content-Length`` must be 1 to 19 ASCII digits and given once: a WSGI server hands duplicate
headers over joined by ``,``, and any other shape (Unicode digits, a sign, thousands of digits) is
an ``InvalidParameter``, never a guess at the length. Parameter
names and values are form-decoded (``+`` is a space, ``%XX`` a byte) and must be UTF-8. A non-empty
body must be ``application/x-www-form-urlencoded`` (UTF-8); its parameters join the query's. A name
given twice (in the query, the body, or both) is an ``InvalidParameter``: the API has no repeated
parameters, and taking either copy would silently drop the other. A header value is read as
UTF-8 when its bytes are UTF-8, else as Latin-1 (:func:`header_text`), so a signed user agent
verifies whichever of the two the client sent it in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

import attrs

from dsc_engine.errors import RequestRejected
from dsc_engine.server.config import Limits
from dsc_engine.server.errors import invalid_parameter

FORM = "application/x-www-form-urlencoded"
#: A Content-Length: ASCII digits only (``str.isdigit`` also takes ``²`` and ``٣``), at most 19 of
#: them (any longer number is far above every body limit, and ``int`` refuses above 4300 digits).
_CONTENT_LENGTH = re.compile(r"[0-9]{1,19}")


def content_length(text: str) -> int | None:
    """The byte count a ``Content-Length`` value says (spaces and tabs around it dropped), or
    ``None`` when it is not 1 to 19 ASCII digits."""
    text = text.strip(" \t")
    return int(text) if _CONTENT_LENGTH.fullmatch(text) else None


@attrs.frozen(kw_only=True)
class HttpRequest:
    """What the server needs from one HTTP request, decoded and size-checked."""

    method: str
    path: str
    #: decoded ``(name, value)`` pairs of the query string, in order
    query: tuple[tuple[str, str], ...]
    #: decoded ``(name, value)`` pairs of a form body, in order (empty without a body)
    form: tuple[tuple[str, str], ...]
    #: lower-case header name -> every value received under it
    headers: Mapping[str, tuple[str, ...]]
    body: bytes
    host: str

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (several values joined by ``,``), or ``None``."""
        values = self.headers.get(name.lower())
        return None if values is None else ",".join(values)

    @property
    def params(self) -> dict[str, str]:
        """Query and body parameters together (names are unique, see the module docstring)."""
        return dict(self.query + self.form)


def header_text(value: str) -> str:
    """A header value as its sender wrote it.

    PEP 3333 hands header bytes over decoded as Latin-1. Clients differ in how they encode text:
    ``http.client`` (the SDK's synchronous layer) as Latin-1, aiohttp (its asynchronous layer) as
    UTF-8, and the SDK signs the text either way (a v3 signature covers ``user-agent``). So bytes
    that are valid UTF-8 are read as UTF-8 (a Latin-1 text with a non-ASCII character is almost
    never valid UTF-8), any other as Latin-1. A value holding characters beyond Latin-1 was
    decoded otherwise already (as by ``dsc_engine.mock``) and is kept.
    """
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def request_host(environ: Mapping[str, Any]) -> str:
    """The ``Host`` a request names, read as every header value is (:func:`header_text`), else
    the server's name: what an answer's ``HostId`` echoes."""
    return header_text(str(environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "localhost"))


def _headers(environ: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    headers: dict[str, tuple[str, ...]] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key
        else:
            continue
        # A WSGI server joins repeated headers with ","; the signature canonicalization splits
        # nothing back, so the joined value stands for the header as received.
        headers[name.replace("_", "-").lower()] = (header_text(str(value)),)
    return headers


def _decode_pairs(raw: bytes, where: str) -> tuple[tuple[str, str], ...]:
    """Form-decode ``a=1&b=x+y`` bytes (``+`` a space, ``%XX`` a byte), each part strict UTF-8."""
    pairs = []
    for field in raw.split(b"&"):
        if not field:
            continue
        name, _, value = field.partition(b"=")
        decoded = []
        for part in (name, value):
            try:
                decoded.append(unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8"))
            except UnicodeDecodeError as exc:
                shown = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")
                raise invalid_parameter(
                    shown, f"The {where} is not valid UTF-8 (byte {exc.start} of this parameter)."
                ) from exc
        pairs.append((decoded[0], decoded[1]))
    return tuple(pairs)


#: The WSGI environ key under which the built-in host marks a POST without ``Content-Length`` (nor
#: ``Transfer-Encoding``), refused ``LengthRequired``: its value is how many bytes followed the
#: head when it was read (a body the request did not announce, which is never read), 0 if none.
BODY_WITHOUT_LENGTH = "dsc_engine.body_without_length"


def _content_length(environ: Mapping[str, Any], limits: Limits) -> int:
    coding = str(environ.get("HTTP_TRANSFER_ENCODING") or "").strip()
    if coding:  # chunked, or any other coding: a body's length must be told by Content-Length
        raise RequestRejected(
            "LengthRequired",
            f"A request body sent with Transfer-Encoding {coding[:40]!r} is not accepted; send Content-Length.",
        )
    text = str(environ.get("CONTENT_LENGTH") or "").strip(" \t")
    if not text:
        unannounced = environ.get(BODY_WITHOUT_LENGTH)
        if unannounced:  # its parameters would be left out without a word
            raise RequestRejected(
                "LengthRequired",
                f"{unannounced} bytes of a body followed the request's head without a Content-Length;"
                " send Content-Length with a body.",
            )
        if unannounced is not None:  # a body may still be on its way: it would never be read
            raise RequestRejected(
                "LengthRequired", "A POST request must say how long its body is; send Content-Length (0 for none)."
            )
        return 0
    if "," in text:
        raise invalid_parameter(
            "Content-Length", "It is given more than once; send exactly one Content-Length header."
        )
    if not _CONTENT_LENGTH.fullmatch(text):
        raise invalid_parameter(
            "Content-Length",
            f"It must be a byte count of 1 to 19 ASCII digits (0-9), not {text[:40]!r}.",
        )
    length = int(text)
    if length > limits.max_body_bytes:
        raise RequestRejected(
            "RequestEntityTooLarge",
            f"The request body of {length} bytes exceeds the limit of {limits.max_body_bytes} bytes.",
        )
    return length


def _read_body(environ: Mapping[str, Any], length: int) -> bytes:
    stream = environ["wsgi.input"]
    chunks: list[bytes] = []
    remaining = length
    try:
        while remaining > 0:
            chunk = stream.read(min(remaining, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:  # a socket timeout while the client stalls
        raise RequestRejected(
            "RequestTimeout", "The request body did not arrive before the read timeout."
        ) from exc
    if remaining:
        raise invalid_parameter(
            "Content-Length", f"The body ended {remaining} bytes short of the declared length."
        )
    return b"".join(chunks)


def _form(body: bytes, content_type: str) -> tuple[tuple[str, str], ...]:
    if not body:
        return ()
    media, _, rest = content_type.partition(";")
    charset = ""
    for part in rest.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media.strip().lower() != FORM or charset not in ("", "utf-8", "utf8"):
        given = f"content type {content_type!r}" if content_type.strip() else "no Content-Type"
        raise RequestRejected(
            "UnsupportedMediaType",
            f"The request body has {given}; only {FORM} "
            "(UTF-8) is accepted, or send every parameter in the query string.",
        )
    return _decode_pairs(body, "request body")


def _no_repeats(pairs: tuple[tuple[str, str], ...]) -> None:
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise invalid_parameter(name, "It is given more than once.")
        seen.add(name)


def read_request(environ: Mapping[str, Any], limits: Limits) -> HttpRequest:
    """Decode ``environ`` (PEP 3333) into an :class:`HttpRequest`, enforcing ``limits``.

    Raises :class:`RequestRejected` for every request that cannot be read (see module docstring).
    """
    text = str(environ.get("QUERY_STRING", ""))
    try:
        raw_query = text.encode("latin-1")  # PEP 3333: the raw bytes, decoded as latin-1
    except UnicodeEncodeError:
        raw_query = text.encode("utf-8")  # a WSGI server that decoded them otherwise
    if len(raw_query) > limits.max_query_bytes:
        raise RequestRejected(
            "RequestURITooLong",
            f"The query string of {len(raw_query)} bytes exceeds the limit of "
            f"{limits.max_query_bytes} bytes.",
        )
    query = _decode_pairs(raw_query, "query string")
    body = _read_body(environ, _content_length(environ, limits))
    form = _form(body, str(environ.get("CONTENT_TYPE") or ""))
    _no_repeats(query + form)
    headers = _headers(environ)
    host = headers.get("host", (f"{environ.get('SERVER_NAME', 'localhost')}",))[0]
    return HttpRequest(
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        path=str(environ.get("PATH_INFO", "")) or "/",
        query=query,
        form=form,
        headers=headers,
        body=body,
        host=host,
    )
