"""CSV cells <-> the documented JSON type of each field.

A CSV export has a header of API field names (``CreationTime``, ``UserName`` ...) and one record per
row. Cells are text, so each is converted to its field's documented JSON type, strictly:

- integers (times in ms, counts, ``Status`` ...): an optional ``-`` and digits, within 64 bits,
  nothing else (``1.5E+12`` or `` 42`` are refused, not coerced);
- booleans: ``true`` / ``false`` in any letter case;
- strings (``WarnLevel``, ``ModuleName`` ...) and DMS times: as written;
- ``SensitiveDataLog``: the JSON array of entry objects, exactly as the API sends it;
- an empty cell means the field is absent (so an empty-string value cannot be told apart from an
  absent field in CSV; use JSON Lines to keep it).

How a cell converts is its field type's (``dsc_engine/wire/types.py``, ``from_cell``). Whether
the converted value is valid for the field (a time in the right shape) is then decided by the
strict wire codec, like for every other format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dsc_engine.models import RecordKind
from dsc_engine.wire.catalog import FIELDS
from dsc_engine.wire.codec import wire_keys
from dsc_engine.wire.types import FieldType


def column_types(kind: RecordKind) -> Mapping[str, FieldType]:
    """The CSV columns a kind may have (its full wire keys) and the type of each."""
    return {key: FIELDS[kind][key].type for key in wire_keys(kind)}


def from_cell(field_type: FieldType, text: str) -> Any:
    """The JSON value of one non-empty cell; ``ValueError`` says why it cannot be read."""
    return field_type.from_cell(text)


def to_cell(value: Any) -> str:
    """The cell text of one JSON value of a record's wire form (``None``: an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)
