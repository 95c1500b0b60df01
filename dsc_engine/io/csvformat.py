"""CSV cells <-> the documented JSON type of each field.

A CSV export has a header of API field names (``CreationTime``, ``UserName`` ...) and one record per
row. Cells are text, so each is converted to its field's documented JSON type, strictly:

- integers (times in ms, counts, integer enumerations such as ``Status``): an optional ``-`` and
  digits, nothing else (``1.5E+12`` or `` 42`` are refused, not coerced);
- booleans: ``true`` / ``false`` in any letter case;
- strings, string enumerations (``WarnLevel`` "1".."3", ``ModuleName``) and DMS times: as written;
- ``SensitiveDataLog``: the JSON array of entry objects, exactly as the API sends it;
- an empty cell means the field is absent (so an empty-string value cannot be told apart from an
  absent field in CSV; use JSON Lines to keep it);
- the formula guard: a text cell that starts with ``'`` followed by a formula character
  (``= + - @``, tab, carriage return), after any number of ``'``, loses its first ``'`` (see
  :func:`guard` for why this gives back exactly what the engine exported).

Whether the converted value is valid for the field (an enum member, a time in the right shape) is
then decided by the strict wire mapping, like for every other format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from dsc_engine.io.wire import wire_keys
from dsc_engine.models import RecordKind
from dsc_engine.query.fields import FIELDS, FieldType

_INTEGER = re.compile(r"-?[0-9]+\Z")
#: The first characters that make a spreadsheet read a cell as a formula (CSV injection).
FORMULA_STARTS = frozenset("=+-@\t\r")
_MAY_NEED_GUARD = FORMULA_STARTS | {"'"}
_TYPE_NAMES = {
    FieldType.INTEGER: "an integer",
    FieldType.TIME_MS: "an integer (UNIX milliseconds)",
    FieldType.BOOLEAN: "a boolean (true or false)",
    FieldType.ENTRIES: "a JSON array of entries",
}


def column_types(kind: RecordKind) -> Mapping[str, FieldType]:
    """The CSV columns a kind may have (its full wire keys) and the type of each."""
    return {key: FIELDS[kind][key].type for key in wire_keys(kind)}


def from_cell(field_type: FieldType, text: str) -> Any:
    """The JSON value of one non-empty cell; ``ValueError`` says why it cannot be read."""
    if field_type in (FieldType.INTEGER, FieldType.TIME_MS):
        if _INTEGER.match(text):
            try:
                return int(text)
            except ValueError:  # more digits than Python converts (4,300 by default)
                digits = len(text.lstrip("-"))
                raise ValueError(
                    f"an integer of {digits} digits, outside the signed 64-bit range of the API's integers"
                ) from None
    elif field_type is FieldType.BOOLEAN:
        folded = text.lower()
        if folded in ("true", "false"):
            return folded == "true"
    elif field_type is FieldType.ENTRIES:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"cannot read {_clip(text)!r} as {_TYPE_NAMES[field_type]}: {exc.msg}") from None
        except ValueError:
            raise ValueError(
                f"cannot read {_clip(text)!r} as {_TYPE_NAMES[field_type]}: it holds an integer of more"
                " digits than the signed 64-bit range of the API's integers allows"
            ) from None
        except RecursionError:
            raise ValueError(
                f"cannot read {_clip(text)!r} as {_TYPE_NAMES[field_type]}: JSON nested too deeply to read"
            ) from None
        if isinstance(value, list):
            return value
    else:
        return unguard(text)
    raise ValueError(f"cannot read {_clip(text)!r} as {_TYPE_NAMES[field_type]}")


def to_cell(value: Any) -> str:
    """The cell text of one JSON value of a record's wire form (``None``: an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def export_cell(value: Any, formula_guard: bool = True) -> str:
    """The cell text of one wire value in an export: :func:`to_cell`, then :func:`guard` for text."""
    text = to_cell(value)
    return guard(text, formula_guard) if type(value) is str else text


def _quoted_formula(text: str) -> tuple[int, bool]:
    """How many ``'`` the text starts with, and whether a formula character follows them."""
    quotes = len(text) - len(text.lstrip("'"))
    return quotes, quotes < len(text) and text[quotes] in FORMULA_STARTS


def guard(text: str, formula_guard: bool = True) -> str:
    """A text cell as exported: ``'`` prefixed to text a spreadsheet would run as a formula.

    With ``formula_guard``, text starting with a formula character (``=cmd|...``, ``+1``, ``-2``,
    ``@SUM``, tab, carriage return) gets a leading ``'``, the usual guard: spreadsheets show it as
    text. Either way, text that already starts with ``'`` (one or more) then a formula character
    gets one more ``'``. The importer (:func:`unguard`) takes one ``'`` off exactly such cells,
    so an export re-imports to the same text with or without the guard (``'=x`` is written
    ``''=x``), and a cell guarded by a spreadsheet or another tool imports without its ``'``.
    Integers are not text: ``-5`` is never guarded.
    """
    if not text or text[0] not in _MAY_NEED_GUARD:
        return text
    quotes, formula = _quoted_formula(text)
    return "'" + text if formula and (quotes or formula_guard) else text


def unguard(text: str) -> str:
    """A text cell as imported: one leading ``'`` taken off when ``'`` (one or more) then a formula
    character start it (the inverse of :func:`guard`)."""
    if not text or text[0] != "'":
        return text
    return text[1:] if _quoted_formula(text)[1] else text


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
