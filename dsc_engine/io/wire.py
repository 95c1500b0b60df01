"""The wire mapping: records to and from the exact JSON objects the APIs use.

This is the only module that knows PascalCase keys. The key of each field is generated once from
``attrs.fields`` (snake_case -> PascalCase, with the explicit exception table below) and each
field's codec is chosen from its annotation. Decoding is strict about shape: an unknown key, a
missing required key, ``null``, a value of the wrong JSON type or an integer beyond the signed
64-bit range raises :class:`RecordError` naming the key and the record; nothing is dropped or
coerced. Values themselves are open: a string or integer field keeps whatever value it has, the
documented ones or not (``docs/decisions.md``, "Open values").

The full wire form of a record includes its record-only keys (``MainProcessId`` on masking runs,
``Tid`` on DMS logs); API responses leave them out (:func:`response_item`).
"""

from __future__ import annotations

import datetime as dt
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from dsc_engine.errors import RecordError
from dsc_engine.io.wirecode import FAIL, FieldSpec, Shape, build_decoder, build_encoder, format_time
from dsc_engine.models import RecordKind, SensitiveDataEntry
from dsc_engine.models.records import INT64_MAX, INT64_MIN, Record

#: snake_case attribute names whose wire key is not their plain PascalCase form.
KEY_EXCEPTIONS: Mapping[str, str] = {}

#: Keys a record may carry on load and in exports, but which no API response contains.
RECORD_ONLY_KEYS: Mapping[RecordKind, frozenset[str]] = {
    RecordKind.AUDIT_LOG: frozenset(),
    RecordKind.MASKING_RUN: frozenset({"MainProcessId"}),
    RecordKind.DMS_LOG: frozenset({"Tid"}),
}

#: The DMS wall-clock time format, ``yyyy-MM-dd HH:mm:ss``.
DMS_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_DMS_TIME_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\Z")

_KIND_LABEL = {
    RecordKind.AUDIT_LOG: "audit log",
    RecordKind.MASKING_RUN: "masking run",
    RecordKind.DMS_LOG: "sensitive-data audit log",
    None: "SensitiveDataLog entry",
}


def wire_key(attr_name: str) -> str:
    """The PascalCase wire key of a snake_case attribute."""
    if attr_name in KEY_EXCEPTIONS:
        return KEY_EXCEPTIONS[attr_name]
    return "".join(part[:1].upper() + part[1:] for part in attr_name.split("_"))


def parse_dms_time(text: object) -> dt.datetime:
    """Parse an exact ``yyyy-MM-dd HH:mm:ss`` string; raise ``ValueError`` otherwise."""
    if isinstance(text, str) and _DMS_TIME_SHAPE.match(text):
        try:
            if text.isascii():  # the same result as strptime, many times faster
                return dt.datetime.fromisoformat(text)
            return dt.datetime.strptime(text, DMS_TIME_FORMAT)
        except ValueError:  # the shape fits but a part is out of range (month 13, hour 25)
            pass
    raise ValueError(f"{text!r} is not a 'yyyy-MM-dd HH:mm:ss' time")


def format_dms_time(value: dt.datetime) -> str:
    return format_time(value)


class _Invalid(Exception):
    """A value failed its codec; carries the reason and, for nested values, the key path."""

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


_JSON_NAMES = {str: "a string", int: "an integer", bool: "a boolean"}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _exact(py_type: type) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    def decode(value: object) -> object:
        if type(value) is not py_type:
            raise _Invalid(f"expected {_JSON_NAMES[py_type]}, got {_json_type(value)}")
        if py_type is int and not INT64_MIN <= value <= INT64_MAX:  # type: ignore[operator]
            raise _Invalid(
                f"the integer is outside the signed 64-bit range {INT64_MIN}..{INT64_MAX} "
                "that the API's clients can read"
            )
        return value

    return decode, lambda value: value


def _dms_time() -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    def decode(value: object) -> dt.datetime:
        try:
            return parse_dms_time(value)
        except ValueError as exc:
            raise _Invalid(str(exc)) from None

    return decode, format_dms_time


def _entries() -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    def decode(value: object) -> tuple[SensitiveDataEntry, ...]:
        if type(value) is not list:
            raise _Invalid(f"expected an array, got {_json_type(value)}")
        entries = []
        for index, item in enumerate(value):
            try:
                entries.append(_ENTRY.decode(item))
            except RecordError as exc:
                raise _Invalid(exc.reason, f"[{index}].{exc.key}") from None
        return tuple(entries)

    return decode, lambda entries: [_ENTRY.encode(e) for e in entries]


def _codec_for(annotation: object) -> tuple[Callable[[Any], Any], Callable[[Any], Any], Shape]:
    if typing.get_origin(annotation) is tuple:
        return (*_entries(), Shape("entries", (_ENTRY_FAST, _ENTRY_ENCODE)))
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = args[0] if args else annotation
    if base is dt.datetime:
        return (*_dms_time(), Shape("time"))
    if base in (str, int, bool):
        return (*_exact(base), Shape("exact", base))  # type: ignore[arg-type]
    raise TypeError(f"no wire codec for {annotation!r}")


@attrs.frozen
class _FieldCodec:
    attr: str
    key: str
    required: bool
    decode: Callable[[Any], Any]
    encode: Callable[[Any], Any]
    default: Any


class _ClassCodec:
    """Decoder and encoder of one attrs class, generated from its fields once.

    :meth:`decode` runs the generated fast decoder (:mod:`wirecode`) and, only when it declines
    a value, the precise field-by-field :meth:`decode_precisely`, which names the bad key.
    """

    def __init__(self, cls: type, kind: RecordKind | None) -> None:
        self.cls = cls
        self.label = _KIND_LABEL[kind]
        self.fields: list[_FieldCodec] = []
        specs: list[FieldSpec] = []
        for field in attrs.fields(attrs.resolve_types(cls)):
            decode, encode, shape = _codec_for(field.type)
            required = field.default is attrs.NOTHING
            default = None if required else field.default
            key = wire_key(field.name)
            self.fields.append(_FieldCodec(field.name, key, required, decode, encode, default))
            specs.append(FieldSpec(field.name, key, required, default, shape))
        self.by_key = {f.key: f for f in self.fields}
        self.keys = tuple(f.key for f in self.fields)
        self.fast = build_decoder(cls, specs)
        self.encode = build_encoder(specs)
        self.encode_response = build_encoder(specs, RECORD_ONLY_KEYS.get(kind, frozenset()))  # type: ignore[arg-type]

    def decode(self, data: object) -> Any:
        record = self.fast(data)
        if record is FAIL:
            return self.decode_precisely(data)
        return record

    def decode_precisely(self, data: object) -> Any:
        if not isinstance(data, Mapping):
            raise RecordError(self.label, "", f"expected a JSON object, got {_json_type(data)}")
        unknown = [key for key in data if key not in self.by_key]
        if unknown:
            raise RecordError(
                self.label, str(unknown[0]), "unknown key (not a documented field of this kind)"
            )
        values = {}
        for field in self.fields:
            if field.key not in data:
                if field.required:
                    raise RecordError(self.label, field.key, "required key is missing")
                continue
            try:
                values[field.attr] = field.decode(data[field.key])
            except _Invalid as exc:
                raise RecordError(self.label, field.key + exc.path, exc.reason) from None
        return self.cls(**values)

    def encode_precisely(self, record: Any) -> dict[str, Any]:
        """The field-by-field encoder the generated :attr:`encode` must agree with (tests)."""
        out: dict[str, Any] = {}
        for field in self.fields:
            value = getattr(record, field.attr)
            if value is None:
                continue
            out[field.key] = field.encode(value)
        return out


_ENTRY = _ClassCodec(SensitiveDataEntry, None)
_ENTRY_FAST, _ENTRY_ENCODE = _ENTRY.fast, _ENTRY.encode
_CODECS = {kind: _ClassCodec(kind.record_class, kind) for kind in RecordKind}


def wire_keys(kind: RecordKind) -> tuple[str, ...]:
    """Every wire key of a kind's full record form, in the documented response order."""
    return _CODECS[kind].keys


def entry_keys() -> tuple[str, ...]:
    """The wire keys of a nested ``SensitiveDataLog`` entry."""
    return _ENTRY.keys


def attr_for_key(kind: RecordKind) -> dict[str, str]:
    """Map of wire key -> attribute name for a kind (used by the filter field catalog)."""
    return {f.key: f.attr for f in _CODECS[kind].fields}


def value_encoders(kind: RecordKind) -> list[tuple[str, str, Callable[[Any], Any]]]:
    """``(attribute, wire key, encode)`` of every field of a kind, in documented order; ``encode``
    turns one present (not ``None``) attribute value into its wire value."""
    return [(f.attr, f.key, f.encode) for f in _CODECS[kind].fields]


def from_wire(kind: RecordKind, data: object, where: str = "") -> Record:
    """Decode one record of ``kind`` from its JSON object; ``where`` locates it in errors."""
    try:
        return _CODECS[kind].decode(data)  # type: ignore[no-any-return]
    except RecordError as exc:
        raise exc.located(where) if where else exc from None


def to_wire(record: Record) -> dict[str, Any]:
    """The full JSON object of a record, record-only keys included (the export form)."""
    return _CODECS[RecordKind.of(record)].encode(record)


def response_item(record: Record) -> dict[str, Any]:
    """The JSON object of a record as an API response item: record-only keys left out.

    ``SensitiveDataLog`` is always present in a DMS item, as ``[]`` when the record has none.
    """
    return _CODECS[RecordKind.of(record)].encode_response(record)  # type: ignore[no-any-return]
