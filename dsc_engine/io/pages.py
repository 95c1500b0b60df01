"""What one JSON value of an export holds: the items of an API page, or one record.

Both JSON readers (:mod:`jsonlines` for a value on a line of its own, :mod:`jsonstream` for values
read one after another) hand each value they decode to :func:`expand`, which makes it
:class:`~dsc_engine.io.candidates.Candidate` objects. A page (``{"Items": [...]}`` of either Sddp
kind, ``{"SensitiveDataAuditLogList": [...]}`` for DMS, or an SDK response map ``{"body": <page>,
...}``) gives its items in order, each marked as an item of a listing (docs/semantics.md §5.1); an
API error body, or a page holding two lists of records, is one candidate in error; any other value
is one record (an error when it is no JSON object).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dsc_engine.api.operations import LIST_KEYS
from dsc_engine.io import jsontext
from dsc_engine.io.candidates import KEYS, Candidate, clip
from dsc_engine.models import RecordKind

#: The list key of an API page, and the kinds its items may be (from the operations' descriptions).
PAGE_LISTS: Mapping[str, tuple[RecordKind, ...]] = LIST_KEYS
_ERROR_BODY = frozenset({"Code", "Message", "RequestId"})
_KEYS_ANY = frozenset().union(*KEYS.values()) - _ERROR_BODY


def _code_key(value: dict[str, Any]) -> str | None:
    """The key of the code of an API error body (``Code`` beside ``Message`` and ``RequestId``;
    ``ErrorCode`` beside ``Success`` false, how DMS answers when it fails), ``None`` for any
    other object (one with a record key among them)."""
    if _KEYS_ANY & value.keys():
        return None
    if _ERROR_BODY <= value.keys():
        return "Code"
    if value.get("Success") is False and "ErrorCode" in value:
        return "ErrorCode"
    return None


def _is_error_body(value: dict[str, Any]) -> bool:
    """Whether a JSON object is an API error body (:func:`_code_key`)."""
    return _code_key(value) is not None


def expand(
    value: object,
    path: str,
    line: int,
    item: str,
    kind: RecordKind | None,
    text: str | None = None,
    huge: bool = False,
) -> Iterator[Candidate]:
    """The candidates in one JSON value: a page's items, or the value itself as a record
    (``text``: the line it was read from, kept as the raw text of a record; ``huge``: whether the
    value may hold :class:`jsontext.HugeInteger` markers)."""
    prefix = f"{item}." if item else ""
    if isinstance(value, dict):
        body = value.get("body")
        if isinstance(body, dict) and (any(key in body for key in PAGE_LISTS) or _is_error_body(body)):
            value, prefix = body, f"{prefix}body."  # an SDK response map: its body is the page
        lists = [list_key for list_key in PAGE_LISTS if list_key in value]
        if len(lists) > 1:  # no operation answers with two: neither is taken for the page's records
            yield Candidate(path, line, prefix.rstrip(".") or item, data=value,
                            error=f"a page holds one list of records, this one has {' and '.join(lists)}")
            return
        for list_key, kinds in PAGE_LISTS.items():
            if list_key in value:
                items = value[list_key]
                if not isinstance(items, list):
                    yield Candidate(path, line, prefix + list_key, data=items,
                                    error=f"{list_key} is not a JSON array")
                    return
                allowed = kinds if kind is None else (kind,)
                for index, record in enumerate(items):
                    where = f"{prefix}{list_key}[{index}]"
                    candidate = _record(path, line, where, record, allowed, huge=huge)
                    candidate.listed = True
                    yield candidate
                return
        if (code := _code_key(value)) is not None:
            yield Candidate(path, line, item, data=value,
                            error=f"an API error response ({value.get(code)}), not a page of records")
            return
    raw = None if text is None else clip(text.rstrip("\r"))
    yield _record(path, line, item, value, () if kind is None else (kind,), raw, huge)



def _record(
    path: str,
    line: int,
    item: str,
    value: object,
    kinds: tuple[RecordKind, ...],
    text: str | None = None,
    huge: bool = False,
) -> Candidate:
    if not isinstance(value, dict):
        reason = f"expected a JSON object, got {jsontext.json_name(value)}"
        return Candidate(path, line, item, text, value, error=reason)
    if huge and (found := jsontext.huge_integer(value)) is not None:
        key, number = found
        return Candidate(path, line, item, text, value, error=f"key {key!r}: {number.reason}")
    return Candidate(path, line, item, text, value, kinds)
