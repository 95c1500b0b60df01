"""CSV cells <-> the documented JSON type of each field.

A CSV export has a header of API field names (``CreationTime``, ``UserName`` ...) and one record per
row. Cells are text, so each is converted to its field's documented JSON type, strictly:

- integers (times in ms, counts, integer enumerations such as ``Status``): an optional ``-`` and
  digits, nothing else (``1.5E+12`` or `` 42`` are refused, not coerced);
- booleans: ``true`` / ``false`` in any letter case;
- strings, string enumerations (``WarnLevel`` "1".."3", ``ModuleName``) and DMS times: as written;
- ``SensitiveDataLog``: the JSON array of entry objects, exactly as the API sends it;
- an empty cell means the field is absent (so an empty-string value cannot be told apart from an
  absent field in CSV; use JSON Lines to keep it).

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
        return text
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


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
