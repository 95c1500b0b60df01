"""JSON text that Python cannot hold as is, read without failing the values around it.

- An integer with more digits than Python converts (``sys.get_int_max_str_digits()``, 4,300 by
  default) makes ``json.loads`` raise a plain ``ValueError`` for the whole document. Every integer
  of these APIs is a signed 64-bit one, so such a number can only be wrong: :data:`MARKING`
  decodes it as a :class:`HugeInteger` marker instead, and :func:`huge_integer` finds it, so that
  only the record holding it is rejected.
- A value nested deeper than Python's JSON reader goes (about 1,000 levels) raises
  ``RecursionError``; :func:`loads` words it as :data:`TOO_DEEP` instead.

:func:`compact` writes a value back (for a reject's raw text) whatever it holds.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dsc_engine.errors import RecordError
from dsc_engine.wire import types

#: Why a value nested deeper than Python's JSON reader goes (about 1,000 levels) is refused.
TOO_DEEP = "JSON nested too deeply to read (a record is at most 3 levels deep, a page 5)"


class HugeInteger:
    """A JSON integer with more digits than Python converts (``sys.get_int_max_str_digits()``,
    4,300 by default), read as this marker instead of failing the whole value: every integer of
    these APIs is a signed 64-bit one, so a record holding one is rejected, and only that record."""

    __slots__ = ("digits",)

    def __init__(self, text: str) -> None:
        self.digits = len(text.lstrip("-"))

    @property
    def reason(self) -> str:
        return f"an integer of {self.digits} digits, outside the signed 64-bit range of the API's integers"


def _parse_int(text: str) -> int | HugeInteger:
    try:
        return int(text)
    except ValueError:
        return HugeInteger(text)


#: Decodes like ``json.loads`` but reads too-long integers as :class:`HugeInteger`. Slower (a
#: Python call per integer): used only for a value the plain decoder refused for such an integer.
MARKING = json.JSONDecoder(parse_int=_parse_int)


def huge_integer(value: object) -> tuple[str, HugeInteger] | None:
    """The first :class:`HugeInteger` inside ``value`` and its path (``EffectRow``,
    ``SensitiveDataLog[0].X``), or ``None``; iterative, so no depth is too deep, and each
    container is looked into once (:func:`_first_visit`)."""
    stack: list[tuple[str, object]] = [("", value)]
    seen: set[int] = set()
    while stack:
        path, item = stack.pop()
        if isinstance(item, HugeInteger):
            return path, item
        if not _first_visit(item, seen):
            continue
        if isinstance(item, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(item))))
    return None


#: A UTF-16 surrogate code point: in a decoded string, always half of a pair written as a JSON
#: escape (``"\\ud800"``) without its other half (UTF-8 text cannot hold one).
_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(value: object) -> tuple[str, str] | None:
    """The path (``UserName``, ``SensitiveDataLog[0].TableName``) and the escape (``\\ud800``)
    of the first string inside ``value`` that holds a lone surrogate, or ``None``. Such text is
    not Unicode: it cannot be written as UTF-8, so no answer or export could carry it. Each
    container is looked into once (:func:`_first_visit`)."""
    stack: list[tuple[str, object]] = [("", value)]
    seen: set[int] = set()
    while stack:
        path, item = stack.pop()
        if type(item) is str:
            if not item.isascii() and (found := _SURROGATE.search(item)):
                return path, f"\\u{ord(found.group()):04x}"
        elif not _first_visit(item, seen):
            continue
        elif isinstance(item, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(item))))
    return None


def _first_visit(item: object, seen: set[int]) -> bool:
    """Whether ``item``, a dict or list, is met for the first time (anything else: always).

    Decoded JSON is a tree, but a value handed to ``Engine.load`` may hold itself (``d["k"] =
    d``), which a walk would follow forever, or one list many times over (``a = [a, a]`` sixty
    times is 60 lists and 2**60 paths); what was looked into once need not be again, and the
    record's decoder then refuses such a value for its shape."""
    if not isinstance(item, (dict, list)):
        return True
    if id(item) in seen:
        return False
    seen.add(id(item))
    return True


def refuse_lone_surrogate(label: str, value: object, where: str = "") -> None:
    """Raise :class:`RecordError` (of a record of ``label``, at ``where``) when a string inside
    ``value`` holds a lone surrogate (:func:`lone_surrogate`)."""
    found = lone_surrogate(value)
    if found is not None:
        key, escape = found
        reason = (f"the text holds {escape}, half of a UTF-16 surrogate pair without its other half:"
                  " not Unicode, so no answer or export could carry it")
        raise RecordError(label, key, reason, where)


def decode_error(exc: json.JSONDecodeError) -> str:
    """Why ``json`` could not read a line, as a sentence ending with its column: the reader's
    messages that end with their position (``Unterminated string starting at``) read whole."""
    return f"invalid JSON: {exc.msg.removesuffix(' at')} at column {exc.colno}"


def loads(text: str) -> tuple[Any, bool]:
    """The JSON value of a line and whether it may hold :class:`HugeInteger` markers;
    ``ValueError`` says why it cannot be read."""
    try:
        return json.loads(text), False
    except json.JSONDecodeError as exc:
        raise ValueError(decode_error(exc)) from None
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    except ValueError:  # an integer too long to convert
        pass
    try:
        return MARKING.decode(text), True
    except json.JSONDecodeError as exc:
        raise ValueError(decode_error(exc)) from None
    except RecursionError:
        raise ValueError(TOO_DEEP) from None


def utf8_text(value: object, **options: Any) -> str:
    """JSON text of ``value`` (``json.dumps`` ``options``) with non-ASCII characters as they are,
    unless it holds half of a surrogate pair, which has no UTF-8 form (a ``"\\ud800"`` escape
    read from JSON, a file name that is not UTF-8 as ``os.fsdecode`` gives it): then every
    non-ASCII character is escaped, so that the text can always be written as UTF-8."""
    text = json.dumps(value, ensure_ascii=False, **options)
    if not text.isascii() and _SURROGATE.search(text):
        text = json.dumps(value, **options)
    return text


def compact(value: object) -> str:
    """Compact UTF-8 JSON text of a decoded value: a :class:`HugeInteger` shows as
    ``"<an integer of N digits>"``, a value too deep to write here as a placeholder, and a value
    holding a lone surrogate with every non-ASCII character escaped (``\\ud800``)."""
    try:
        return utf8_text(value, separators=(",", ":"), default=_unwritable)
    except RecursionError:  # read at a shallower point of the stack than it is written here
        return "<a JSON value nested too deeply to show>"


def _unwritable(value: object) -> str:
    if isinstance(value, HugeInteger):
        return f"<an integer of {value.digits} digits>"
    raise TypeError(f"{type(value).__name__} is not JSON")


def json_name(value: object) -> str:
    """What a JSON value is, for a message (``an array``, ``null``, ``an integer``): the wire
    types' words, or a :class:`HugeInteger`'s reason."""
    if isinstance(value, HugeInteger):
        return value.reason
    return types.json_name(value)
