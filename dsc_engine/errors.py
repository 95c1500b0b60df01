"""The one error hierarchy of dsc-engine.

Every failure the engine reports is a :class:`DscError`; nothing else escapes the public API::

    DscError
    ├── RecordError              a record does not fit its kind's wire shape (key, reason, where)
    ├── FilterError              a filter cannot be used
    │   ├── FilterSyntaxError    the text does not parse (text, offset, line, column, expected)
    │   └── FilterFieldError     unknown field, or a literal of the wrong type (text, offset)
    ├── TimeLiteralError         a time literal is malformed or of the wrong form (literal, reason)
    ├── UsageError               an option or argument outside the API cannot be used (name, reason)
    ├── RequestError             an API request is not acceptable (name, Reason(en, zh); mapped to
    │   │                        Alibaba codes by api/catalogue.py)
    │   ├── MissingParameterError   a required parameter is absent          -> Missing<Name>
    │   ├── InvalidParameterError   bad type, format, enum value or bound   -> InvalidParameter
    │   └── UnknownActionError      unknown Action or Version               -> InvalidApi.NotFound
    ├── ImportFailure            an exported file cannot be read at all (file, line, reason)
    ├── OutputError              a file to write is one of the inputs, or cannot be written (path, reason)
    ├── SnapshotError            a snapshot is truncated, corrupt or of an unknown version
    ├── ServerConfigError        server keys, policies or limits cannot be used (source, key, reason)
    ├── RequestRejected          the server refuses a request before the engine sees it (code, reason)
    ├── StoreError               a store call it cannot serve (record of another kind, bad slice)
    ├── UpstreamError            the real service refused a call of a pull (code, message, status)
    ├── PullError                a pull cannot go on (a slice too large, answers that keep changing)
    │   └── CheckpointError      a pull's checkpoint cannot be used (path, reason)
    └── BackendError             a database backend cannot be used (bad URL, missing package,
                                 the database refused or failed) (url, reason)

Only ``dsc_engine.api`` maps these to Alibaba error codes and HTTP statuses (``ApiError``, in
``api/errors.py``: the service's error response belongs to the API layer; docs/architecture.md,
"One place for each fact", says which errors live where).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

import attrs


class DscError(Exception):
    """Base class of every error dsc-engine raises on purpose.

    Pickled and copied whole (``args`` and every attribute), not by calling the class again
    with its message, as ``Exception`` does: the subclasses' constructors take their fields, so
    an error raised in a worker process reaches the caller as raised.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(cls: type[DscError], args: tuple[Any, ...], fields: dict[str, Any]) -> DscError:
    """A :class:`DscError` of ``cls`` with ``args`` and ``fields``, its ``__init__`` not run."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(fields)
    return error


class RecordError(DscError):
    """A record does not match the documented wire shape of its kind.

    ``key`` is the offending wire key (PascalCase, dotted for nested entries such as
    ``SensitiveDataLog[0].SecurityLevel``), ``where`` says which record (file and line, or index).
    ``kind`` is ``"record"`` when the record's kind cannot be told, and ``key`` empty when the
    fault is the whole record's; the message then names neither.
    """

    def __init__(self, kind: str, key: str, reason: str, where: str = "") -> None:
        self.kind = kind
        self.key = key
        self.reason = reason
        self.where = where
        subject = "record" if kind in ("", "record") else f"{kind} record"
        place = f" ({where})" if where else ""
        detail = f"key {key!r}: {reason}" if key else reason
        super().__init__(f"{subject}{place}: {detail}")

    def located(self, where: str) -> RecordError:
        """The same error, said of a record at ``where`` (e.g. ``logs.jsonl:12``)."""
        return RecordError(self.kind, self.key, self.reason, where)


#: Of a line longer than their sum, the characters shown before and after the fault (``…`` marks
#: what is left out): a filter of a thousand conditions on one line is not printed whole.
SHOWN_BEFORE, SHOWN_AFTER = 60, 40


def caret_line(text: str, offset: int) -> tuple[int, int, str]:
    """Return ``(line, column, rendered)`` for ``offset`` in ``text``: the line and a caret under it.

    Lines and columns are 1-based (lines end at ``\n``; columns count characters); an offset at
    the end of the text points just past its last character. The rendering is for a terminal:
    the caret stands under the fault however the characters before it show (see :func:`_shown`);
    of a long line, only :data:`SHOWN_BEFORE` characters before the fault and
    :data:`SHOWN_AFTER` from it are shown, ``…`` where the line goes on.
    """
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    if line_end == -1:
        line_end = len(text)
    elif line_end > line_start and text[line_end - 1] == "\r":
        line_end -= 1  # a Windows line end is not part of the line shown
    line = text.count("\n", 0, offset) + 1
    column = offset - line_start + 1
    source = text[line_start:line_end]
    before = column - 1  # characters of the line before the fault
    lead = trail = ""
    if len(source) > SHOWN_BEFORE + SHOWN_AFTER:
        start, end = max(0, before - SHOWN_BEFORE), min(len(source), before + SHOWN_AFTER)
        lead, trail = ("…" if start else ""), ("…" if end < len(source) else "")
        source, before = source[start:end], before - start
    if source.isascii() and source.isprintable():
        return line, column, f"{lead}{source}{trail}\n{' ' * (len(lead) + before)}^"
    shown = [_shown(char) for char in source]
    padding = " " * len(lead) + "".join(pad for _, pad in shown[:before])
    return line, column, f"{lead}{''.join(char for char, _ in shown)}{trail}\n{padding}^"


def _shown(char: str) -> tuple[str, str]:
    """How ``char`` is shown in a caret line, and the padding as wide as it shows: a tab as a tab;
    a character that moves the cursor or shows nothing (control, format such as a bidi mark, line
    separator, lone surrogate, which cannot even be printed) escaped (``\\r``, ``\\u200f``); a
    wide East Asian character over two columns, a combining mark over none."""
    if char == "\t":
        return char, char
    category = unicodedata.category(char)
    if category in ("Cc", "Cf", "Cs", "Zl", "Zp"):
        escaped = char.encode("unicode_escape").decode("ascii")
        return escaped, " " * len(escaped)
    if category in ("Mn", "Me"):
        return char, ""
    return char, "  " if unicodedata.east_asian_width(char) in ("W", "F") else " "


class FilterError(DscError):
    """A filter (text or API parameters) cannot be turned into a query."""

    def __init__(self, message: str, text: str = "", offset: int = 0) -> None:
        self.message = message
        self.text = text
        self.offset = max(0, min(offset, len(text)))
        self.line, self.column, self.caret = caret_line(text, self.offset)
        super().__init__(message)

    def __str__(self) -> str:
        if not self.text:
            return self.message
        return f"{self.message} at line {self.line}, column {self.column}:\n{self.caret}"


class FilterSyntaxError(FilterError):
    """The filter text does not parse. ``expected`` names the tokens that would have fit."""

    def __init__(
        self, message: str, text: str, offset: int, expected: Sequence[str] = ()
    ) -> None:
        self.expected = tuple(sorted(set(expected)))
        super().__init__(message, text, offset)

    def __str__(self) -> str:
        base = super().__str__()
        if self.expected:
            return f"{base}\nexpected one of: {', '.join(self.expected)}"
        return base


class FilterFieldError(FilterError):
    """The filter names a field the record kind lacks, or compares it with a wrong-typed literal."""


@attrs.frozen
class Reason:
    """Why a request is refused, as one sentence in each language the API answers in.

    A localised reason is always this explicit pair; the API layer picks one by the request's
    ``Lang`` (``docs/semantics.md`` §7.3), never mixing the two. ``str()`` is the English one.
    """

    en: str
    zh: str

    def __str__(self) -> str:
        return self.en


class RequestError(DscError):
    """An API request that the service would refuse; ``name`` is the parameter at fault."""

    def __init__(self, name: str, reason: Reason) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason.en}")


class MissingParameterError(RequestError):
    """A required parameter is absent (or empty)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, Reason("is mandatory for this action", "是该操作的必填参数"))


class InvalidParameterError(RequestError):
    """A parameter has a bad type, format, value or bound (``reason`` in both languages)."""

    def __init__(self, name: str, value: object, reason: Reason) -> None:
        self.value = value
        super().__init__(name, reason)


class UsageError(DscError):
    """A library function or command-line option is given what it cannot use (not an API request:
    the reason is English only). ``name`` is the argument or option, ``value`` what it was given."""

    def __init__(self, name: str, value: object, reason: str) -> None:
        self.name = name
        self.value = value
        self.reason = reason
        super().__init__(f"{name}: {reason}")


class UnknownActionError(RequestError):
    """The Action (or its Version) is not one this engine serves."""

    def __init__(self, action: str, version: str | None = None) -> None:
        self.action = action
        self.version = version
        what = action if version is None else f"{action} (version {version})"
        super().__init__("Action", Reason(f"unknown api {what}", f"未知的 API {what}"))


class ImportFailure(DscError):
    """An exported file cannot be read: wrong encoding, truncated, empty or malformed as a whole."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {reason}")


class OutputError(DscError):
    """A file the engine was asked to write (rejects, export, snapshot, capture) cannot be used.

    Raised before anything is read or written when the file is one of the inputs (writing it
    would destroy them), is not a regular file where one is saved by renaming over it, or cannot
    be opened for writing; and when a write to it fails on the way (a full disk). ``path`` is the
    file as it was given.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class SnapshotError(DscError):
    """A snapshot file is truncated, corrupt, or written by an unknown format version.

    ``reason`` says what is wrong; ``path`` names the file, once it is known.
    """

    def __init__(self, reason: str, path: str = "") -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path}: {reason}" if path else reason)

    def located(self, path: str) -> SnapshotError:
        """The same error, said of the file ``path``."""
        return SnapshotError(self.reason, path)


class ServerConfigError(DscError):
    """The server configuration (a file, or a flag such as ``--access-key``) cannot be used.

    ``source`` names the file or flag, ``key`` the setting at fault (dotted, e.g.
    ``access_keys[0].policy.Statement[1].Effect``).
    """

    def __init__(self, source: str, key: str, reason: str) -> None:
        self.source = source
        self.key = key
        self.reason = reason
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {reason}")


class RequestRejected(DscError):
    """The server refuses a request (signature, time, nonce, policy, limits) before the engine sees it.

    ``code`` is the service error code the server answers with (the catalogue of service errors,
    ``dsc_engine.api.catalogue``, gives its HTTP status and message); ``reason`` says why, for the
    message where the code has no fixed one, and for logs and tests; ``name`` is the parameter at
    fault, for ``InvalidParameter``; ``retry_after`` is the seconds a throttled caller should wait
    before its next try, when the server knows it (answered as ``x-acs-retry-after``).
    """

    def __init__(self, code: str, reason: str, name: str = "", *, retry_after: float | None = None) -> None:
        self.code = code
        self.reason = reason
        self.name = name
        self.retry_after = retry_after
        super().__init__(f"{code}: {reason}")


class TimeLiteralError(DscError):
    """A time literal (``"2024-05-01T10:00:00Z"``, ``"2024-05-01 10:00:00"``) cannot be used.

    Raised by ``dsc_engine.wire.times``; the filter parser reports it as a
    :class:`FilterFieldError` at the literal's offset.
    """

    def __init__(self, literal: str, reason: str) -> None:
        self.literal = literal
        self.reason = reason
        super().__init__(f"time {literal!r}: {reason}")


class StoreError(DscError):
    """A store was asked something it cannot do: ``operation`` says what, ``reason`` why."""

    def __init__(self, kind: str, operation: str, reason: str) -> None:
        self.kind = kind
        self.operation = operation
        self.reason = reason
        super().__init__(f"{kind} store {operation}: {reason}")


#: The code of an :class:`UpstreamError` for a call that got no answer at all.
NO_RESPONSE = "NoResponse"
#: The code of a call whose TLS handshake failed in a way a later call would repeat: the endpoint
#: answered without TLS (it serves plain HTTP), or its certificate is not trusted.
TLS_FAILURE = "TlsFailure"
#: The code of a call whose answer was not JSON (a gateway's or a proxy's error page): its status
#: is lost with it (the SDK keeps neither).
UNREADABLE_ANSWER = "UnreadableAnswer"


class UpstreamError(DscError):
    """The real service refused a call of ``dsc-engine pull`` (``dsc_engine.pull``).

    ``code`` and ``message`` are the service's own (``Code`` and ``Message`` of its error body),
    ``http_status`` its HTTP status (``None`` when not known). A call that got no answer at all
    (the connection failed) has the code :data:`NO_RESPONSE` and no status, one whose answer was
    not JSON :data:`UNREADABLE_ANSWER`, one whose TLS handshake cannot succeed :data:`TLS_FAILURE`
    (no status either). ``attempts`` counts the calls made, retries included.
    ``retry_after`` is the wait in seconds the service asked for (its ``x-acs-retry-after``
    header, in milliseconds), when it did. :attr:`retryable` tells throttling, server errors,
    unreadable answers and lost connections, which a later call may get past, from refusals that
    will not change (credentials, permissions, parameters).
    """

    def __init__(
        self,
        code: str,
        message: str,
        http_status: int | None,
        *,
        action: str = "",
        request_id: str | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.http_status = http_status
        self.action = action
        self.request_id = request_id
        self.attempts = attempts
        self.retry_after = retry_after
        verb, status = ("failed", "no answer") if http_status is None else ("refused", f"HTTP {http_status}")
        if code == UNREADABLE_ANSWER:
            verb, status = "failed", "an answer that is not JSON"
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        what = f"{action} " if action else ""
        super().__init__(f"{what}{verb}{tries} ({status}): {code}: {message}")

    @property
    def retryable(self) -> bool:
        """Throttling (any ``Throttling*`` code), a server error (5xx), an answer that is not
        JSON, or no answer at all."""
        return (
            self.code.startswith("Throttling")
            or self.code in (NO_RESPONSE, UNREADABLE_ANSWER)
            or (self.http_status is not None and self.http_status >= 500)
        )


class PullError(DscError):
    """A pull cannot go on: a single instant holds more records than ``max_depth`` pages, a slice
    kept changing while it was paged, an answer without its TotalCount or list, the official SDK
    missing. The message says what to do."""


class CheckpointError(PullError):
    """A pull's checkpoint file cannot be used: unreadable, corrupt, or the checkpoint of another
    pull (another action, window or filter). ``path`` names the file."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class BackendError(DscError):
    """A database backend (``docs/backends.md``) cannot be used: its URL is malformed, the package
    it needs is not installed, or the database refused or failed a statement. ``url`` is the
    backend's URL with any password left out; ``reason`` says what went wrong."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")
