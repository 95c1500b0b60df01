"""The field types: one registry of everything that depends on a field's type.

Each record field has one :class:`FieldType`, told once from its model annotation
(:func:`type_of`). The type says, in one place:

- the wire: its JSON type, how a wire value is checked and decoded (:meth:`FieldType.decode`) and
  encoded back, and the *form* the generated fast codec (``generated.py``) uses for it;
- CSV: how a cell's text becomes the wire value (:meth:`FieldType.from_cell`);
- storage: how the in-memory store keeps a column of it (:class:`Storage`);
- the filter language: which operators it takes (``ordered``, ``textual``), how a literal becomes a
  value of the type (:meth:`FieldType.from_literal`), and what a literal should look like
  (``expected``, for error messages).

A new field type is one new subclass here; nothing else dispatches on field types.
"""

from __future__ import annotations

import math

import datetime as dt
import enum
import json
import re
import typing
from typing import Any, ClassVar

import attrs

from dsc_engine.errors import TimeLiteralError
from dsc_engine.models.records import EPOCH_MS, INT64_MAX, INT64_MIN
from dsc_engine.wire import times


class Storage(enum.Enum):
    """How the in-memory store keeps a column (``dsc_engine/store/columns.py``)."""

    CODED = "coded"  # codes into a table of distinct values (hash-indexed)
    INT = "int"  # packed 64-bit integers (sorted-indexed)
    OBJECT = "object"  # a list of Python objects


class BadValue(ValueError):
    """A value does not fit its type; the message is the reason, in English."""


_JSON_NAMES = {str: "a string", int: "an integer", bool: "a boolean", list: "an array"}


class LiteralKind(enum.Enum):
    """The grammar's literal kinds (``grammar/filter.lark``)."""

    STRING = "string"
    INTEGER = "integer"
    TRUE = "true"
    FALSE = "false"


_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+\Z")
#: A number as spreadsheets and data frames write an integer column: 1.58225E+12, 1582251233000.0.
_SCIENTIFIC = re.compile(r"-?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+\Z")
_POINT_ZERO = re.compile(r"-?[0-9]+\.0+\Z")


def _number_hint(text: str) -> str:
    """Why a cell that is no integer looks like one a tool rewrote, and what to do."""
    if _SCIENTIFIC.match(text):
        return ("; it is in scientific notation, as a spreadsheet shows a large number, and may have lost"
                " digits: export again, or save the column as a whole number or as text")
    if _POINT_ZERO.match(text):
        return ("; a whole number with a decimal point, as a data frame writes an integer column with"
                " empty cells: write it without the point")
    return ""


def read_integer(text: str) -> int | None:
    """The value of an integer text (``[+-]?[0-9]+``, ASCII digits), ``None`` outside 64 bits.

    Leading zeros do not count and the length is checked before converting: Python refuses to
    convert a string of more than 4,300 digits, and ``000...0001`` is a small number.
    """
    if len(text) < 19 and text.isascii() and text.isdigit():  # the usual case, quickly
        return int(text)
    if not _INTEGER_TEXT.match(text):
        return None
    sign = text[:1] if text[:1] in ("-", "+") else ""
    digits = text[len(sign):].lstrip("0") or "0"
    if len(digits) > len(str(INT64_MAX)):
        return None
    value = int(sign + digits)
    return value if INT64_MIN <= value <= INT64_MAX else None


def json_name(value: object) -> str:
    """How an error names a JSON value's type: ``a string``, ``null``, ``an array`` ..."""
    if value is None:
        return "null"
    base = next((b for b in (int, float, str, list, dict) if isinstance(value, b)), None)
    if base is not None and type(value) is not base and not isinstance(value, bool):  # an IntEnum, a StrEnum
        return f"{type(value).__name__}, a subclass of {base.__name__} (give a plain {base.__name__})"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        if math.isnan(value):  # Python's json reads NaN, which JSON does not have
            return "NaN, which is not JSON"
        if not math.isfinite(value):  # the word Infinity, or a number past a float's range (1e400)
            word = "Infinity" if value > 0 else "-Infinity"
            return f"{word} (a word that is not JSON, or a number too large for a float)"
        # 1.5, and also 1.0 and 1e3: JSON's reader gives a float for any point or exponent
        return "a number with a decimal point or an exponent"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class FieldType:
    """A field type; the subclasses below are the registry, one instance each (compared by
    identity)."""

    name: ClassVar[str]  # readable, for messages: "string", "time (UNIX ms)"
    json: ClassVar[type]  # the JSON type of a wire value
    model: ClassVar[type]  # the exact type of a present model value (a record object's)
    bounded: ClassVar[bool] = False  # a model value must lie in the signed 64-bit range
    on_wire: ClassVar[str]  # how the docs name the wire value: "integer (UNIX ms)"
    form: ClassVar[str] = "exact"  # the generated codec's handling: exact, time or entries
    storage: ClassVar[Storage]
    ordered: ClassVar[bool] = False  # takes <, <=, >, >= and ranges
    textual: ClassVar[bool] = False  # takes ieq, contains, startswith
    expected: ClassVar[str]  # what a filter literal of this type looks like

    def decode(self, value: object) -> Any:
        """The model value of a wire value; :class:`BadValue` says why it does not fit."""
        if type(value) is not self.json:
            raise BadValue(f"expected {_JSON_NAMES[self.json]}, got {json_name(value)}")
        return value

    def encode(self, value: Any) -> Any:
        """The wire value of a (present) model value."""
        return value

    def check(self, value: object) -> None:
        """Whether a present value of a record *object* (one built in Python, not decoded from
        the wire) is a model value of this type; :class:`BadValue` says why not. The wire types
        are the model's own here, so a value fits when it decodes as a wire value would."""
        self.decode(value)

    def from_cell(self, text: str, zone: dt.tzinfo | None = None) -> Any:
        """The wire value of a non-empty CSV cell; :class:`BadValue` says why it cannot be.
        ``zone``: the zone of a time cell written without one (an instant's type reads it)."""
        return text

    #: the literal kinds a filter may compare this type with
    literals: ClassVar[frozenset[LiteralKind]] = frozenset()

    def from_literal(self, kind: LiteralKind, text: str, zone: dt.tzinfo = times.UTC) -> Any:
        """The value of a filter literal of one of :attr:`literals` (``text``: a string's decoded
        text, else the token; ``zone``: the one a time written without a zone is in, for the
        types that are instants); :class:`BadValue` says why the literal does not fit."""
        return text

    def __repr__(self) -> str:
        return f"<field type {self.name}>"


class Text(FieldType):
    name = "string"
    on_wire = "string"
    json = str
    model = str
    storage = Storage.CODED
    textual = True
    expected = 'a string such as "text"'
    literals = frozenset({LiteralKind.STRING})


class Integer(FieldType):
    name = "integer"
    on_wire = "integer"
    json = int
    model = int
    bounded = True
    storage = Storage.INT
    ordered = True
    expected = "an integer"
    literals = frozenset({LiteralKind.INTEGER})
    in_cells = "an integer"

    def decode(self, value: object) -> Any:
        number: int = super().decode(value)
        if not INT64_MIN <= number <= INT64_MAX:
            raise BadValue(
                f"the integer is outside the signed 64-bit range {INT64_MIN}..{INT64_MAX} "
                "that the API's clients can read"
            )
        return number

    def from_cell(self, text: str, zone: dt.tzinfo | None = None) -> Any:
        if text.startswith("+") or not _INTEGER_TEXT.match(text):
            raise BadValue(f"cannot read {_clip(text)!r} as {self.in_cells}{_number_hint(text)}")
        value = read_integer(text)
        if value is None:
            digits = len(text.lstrip("-"))
            raise BadValue(f"an integer of {digits} digits, outside the signed 64-bit range of the API's integers")
        return value

    def from_literal(self, kind: LiteralKind, text: str, zone: dt.tzinfo = times.UTC) -> Any:
        value = read_integer(text)
        if value is None:
            raise BadValue(f"the integer is outside the 64-bit range {INT64_MIN}..{INT64_MAX}")
        return value


class EpochMillis(Integer):
    name = "time (UNIX ms)"
    on_wire = "integer (UNIX ms)"
    expected = 'UNIX milliseconds or a time such as "2024-05-01T10:00:00Z"'
    literals = frozenset({LiteralKind.INTEGER, LiteralKind.STRING})
    in_cells = "UNIX milliseconds (digits) or a time with its zone"

    def from_cell(self, text: str, zone: dt.tzinfo | None = None) -> Any:
        if _INTEGER_TEXT.match(text) or not text[:1].isdigit() or _number_hint(text):
            return super().from_cell(text)
        try:
            return times.cell_time_ms(text, zone)
        except ValueError as exc:
            raise BadValue(str(exc)) from None

    def from_literal(self, kind: LiteralKind, text: str, zone: dt.tzinfo = times.UTC) -> Any:
        if kind is LiteralKind.INTEGER:
            return super().from_literal(kind, text)
        try:
            return times.time_ms(text, zone)
        except TimeLiteralError as exc:
            raise BadValue(str(exc)) from None


class Boolean(FieldType):
    name = "boolean"
    on_wire = "boolean"
    json = bool
    model = bool
    storage = Storage.CODED
    expected = "true or false"
    literals = frozenset({LiteralKind.TRUE, LiteralKind.FALSE})

    def from_cell(self, text: str, zone: dt.tzinfo | None = None) -> Any:
        folded = text.lower()
        if folded not in ("true", "false"):
            raise BadValue(f"cannot read {_clip(text)!r} as a boolean (true or false)")
        return folded == "true"

    def from_literal(self, kind: LiteralKind, text: str, zone: dt.tzinfo = times.UTC) -> Any:
        return kind is LiteralKind.TRUE


class WallClock(FieldType):
    name = "time (yyyy-MM-dd HH:mm:ss)"
    on_wire = "string (yyyy-MM-dd HH:mm:ss)"
    json = str
    model = dt.datetime
    form = "time"
    storage = Storage.OBJECT
    ordered = True
    expected = 'a time such as "2024-05-01 10:00:00"'
    literals = frozenset({LiteralKind.STRING})

    def decode(self, value: object) -> Any:
        try:
            return times.parse_dms_time(value)
        except ValueError as exc:
            raise BadValue(str(exc)) from None

    def encode(self, value: Any) -> Any:
        return times.format_dms_time(value)

    def check(self, value: object) -> None:
        if not isinstance(value, dt.datetime) or value.tzinfo is not None:
            got = "an aware datetime" if isinstance(value, dt.datetime) else json_name(value)
            raise BadValue(f"expected a naive datetime (a wall-clock time, no zone), got {got}")

    def from_literal(self, kind: LiteralKind, text: str, zone: dt.tzinfo = times.UTC) -> Any:
        try:
            return times.wall_clock(text)
        except TimeLiteralError as exc:
            raise BadValue(str(exc)) from None


class Entries(FieldType):
    """A list of nested records; the codec decodes each with its own class codec."""

    name = "list of entries"
    on_wire = "array of objects"
    json = list
    model = tuple
    form = "entries"
    storage = Storage.OBJECT
    expected = "a condition on its entries"

    def check(self, value: object) -> None:
        """A tuple (the record class's own form); each entry is checked against its catalog."""
        if type(value) is not tuple:
            raise BadValue(f"expected a tuple of entries, got {json_name(value)}")

    def from_cell(self, text: str, zone: dt.tzinfo | None = None) -> Any:
        what = f"cannot read {_clip(text)!r} as a JSON array of entries"
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadValue(f"{what}: {exc.msg}") from None
        except ValueError:  # more digits than Python converts (4,300 by default)
            raise BadValue(
                f"{what}: it holds an integer of more digits than the signed 64-bit range of the"
                " API's integers allows"
            ) from None
        except RecursionError:
            raise BadValue(f"{what}: JSON nested too deeply to read") from None
        if not isinstance(value, list):
            raise BadValue(what)
        return value


STRING = Text()
INTEGER = Integer()
TIME_MS = EpochMillis()
BOOLEAN = Boolean()
WALL_CLOCK = WallClock()
ENTRIES = Entries()


def type_of(field: attrs.Attribute[Any]) -> FieldType:
    """The type of a model field, from its (resolved) annotation and metadata."""
    annotation = field.type
    if typing.get_origin(annotation) is tuple:
        return ENTRIES
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = args[0] if args else annotation
    if base is dt.datetime:
        return WALL_CLOCK
    if base is bool:
        return BOOLEAN
    if base is int:
        return TIME_MS if field.metadata.get(EPOCH_MS) else INTEGER
    if base is str:
        return STRING
    raise TypeError(f"field {field.name}: no field type for {annotation!r}")


def render_value(value: object) -> str:
    """A value as the filter language writes it (Sddp times as integers of milliseconds)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return json.dumps(times.format_wall_clock(value))
    return json.dumps(value, ensure_ascii=False)
