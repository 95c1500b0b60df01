"""The wire codec: records to and from the exact JSON objects the APIs use.

Each kind's codec is built once from its field catalog (``catalog.py``): the wire keys in the
documented order and each field's type (``types.py``). Decoding is strict about shape
(``docs/semantics.md`` §1): an unknown key, a missing required key, ``null``, a value of the wrong
JSON type or an integer beyond the signed 64-bit range raises :class:`RecordError` naming the key
and the record; nothing is dropped or coerced. Values themselves are open: a string or integer
field keeps whatever value it has, documented or not.

The full wire form of a record includes its record-only keys (``MainProcessId`` on masking runs,
``Tid`` on DMS logs); API responses leave them out (:func:`response_item`).

For bulk imports, :func:`line_decoder` gives each kind's typed fast path: one JSON Lines line
decoded straight into a ``msgspec`` struct as strict as the precise decoder, which only ever
accepts (a line it declines goes to the precise decoder, which words the error).
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import msgspec

from dsc_engine.errors import RecordError
from dsc_engine.models.kinds import RecordKind
from dsc_engine.models.records import Record
from dsc_engine.wire import types
from dsc_engine.wire.catalog import NESTED, FieldSpec, entry_catalog, nearest, wire_fields
from dsc_engine.wire.generated import (
    ABSENT,
    FAIL,
    GenField,
    build_checker,
    build_converter,
    build_decoder,
    build_encoder,
    build_struct,
)

ENTRY_LABEL = "SensitiveDataLog entry"


class _Invalid(Exception):
    """A value failed its field; carries the reason and, for nested values, the key path."""

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


@attrs.frozen
class _Field:
    attr: str
    key: str
    required: bool
    decode: Callable[[Any], Any]
    encode: Callable[[Any], Any]


class _ClassCodec:
    """Decoder and encoder of one record class, built from its catalog once.

    :meth:`decode` runs the generated fast decoder (``generated.py``) and, only when it declines
    a value, the precise field-by-field :meth:`decode_precisely`, which names the bad key.
    """

    def __init__(
        self, cls: type, label: str, fields: tuple[FieldSpec, ...], nested: _ClassCodec | None,
        derived: Mapping[str, tuple[str, Callable[[Any], Any]]] | None = None,
    ) -> None:
        self.cls = cls
        #: the derived attributes of the class's records (``KindFacts.derived``)
        self.derived = derived or {}
        self.label = label
        self.nested = nested
        self.fields: list[_Field] = []
        generated: list[GenField] = []
        decode: Callable[[Any], Any]
        encode: Callable[[Any], Any]
        for spec in fields:
            default = attrs.fields_dict(cls)[spec.attr].default
            if spec.type.form == "entries":
                assert nested is not None, f"{spec.name} holds entries but no entry codec is given"
                decode, encode = nested.decode_list, nested.encode_list
                shape: tuple[Callable[[Any], Any], Callable[[Any], Any]] | None = (nested.fast, nested.encode)
            else:
                decode, encode, shape = _value_decoder(spec.type), spec.type.encode, None
            self.fields.append(_Field(spec.attr, spec.name, spec.required, decode, encode))
            generated.append(GenField(
                spec.attr, spec.name, spec.required, spec.type,
                None if default is attrs.NOTHING else default, shape,
            ))
        self.by_key = {f.key: f for f in self.fields}
        self.keys = tuple(f.key for f in self.fields)
        record_only = frozenset(spec.name for spec in fields if spec.record_only)
        self.fast: Callable[[Any], Any] = build_decoder(cls, generated)
        self.encode: Callable[[Any], dict[str, Any]] = build_encoder(generated)
        self.encode_response = build_encoder(generated, record_only)
        self.generated = tuple(generated)
        self.struct: type = build_struct(cls, generated, nested.struct if nested is not None else None)
        self.convert: Callable[[Any], Any] = build_converter(cls, generated, nested.convert if nested is not None else None)
        #: the fast path's check of a struct before the store reads it (``None``: nothing to check)
        self.check = build_checker(generated)
        #: whether a struct of this class holds its record's values as they are (no time, no entries)
        self.plain = all(spec.type.form == "exact" for spec in fields)
        if nested is not None and (not nested.plain or any(hasattr(nested.cls, n) for n in ("__bool__", "__len__"))):
            # ``_entry_runs`` converts entries a batch at a time and tells a remembered one by its truth
            raise ValueError(f"{label}: entries are read column by column: exact fields, every record true")

    def converter(self, memo: dict[Any, Any]) -> Callable[[Any], Any]:
        """``convert`` for one import: a class with entries converts equal entry structs once
        (remembered in ``memo``, :func:`_memo`), so that the records share their entry records."""
        if self.nested is None:
            return self.convert
        return build_converter(self.cls, self.generated, _memo(self.nested.convert, memo))

    def column_reader(self, memo: dict[Any, Any]) -> Callable[[Sequence[Any]], dict[str, Sequence[Any]]]:
        """``structs -> {attribute: values}`` for one import (a batch of checked structs, see
        :class:`LineDecoder`): the struct's values transposed in C, then DMS times parsed, entry
        lists made tuples of records (equal entries one record, remembered in ``memo``), absent
        ones the field's default, and each derived attribute computed once per distinct value of
        the attribute it comes from. The values equal those of the records ``convert`` makes."""
        times = [(f.attr, f.default) for f in self.generated if f.type.form == "time"]
        lists = [(f.attr, f.default) for f in self.generated if f.type.form == "entries"]
        derived = self.derived
        if not times and not lists and not derived:
            return struct_columns
        entries = _entry_runs(self.nested.convert, memo) if self.nested is not None else None

        def read(structs: Sequence[Any]) -> dict[str, Sequence[Any]]:
            columns = struct_columns(structs)
            for attr, default in times:  # each was checked well formed (``LineDecoder.check``)
                texts = columns[attr]
                columns[attr] = (
                    list(map(_from_iso, texts)) if ABSENT not in texts
                    else [default if v is ABSENT else _from_iso(v) for v in texts]
                )
            for attr, default in lists:
                assert entries is not None
                columns[attr] = entries([default if v is ABSENT else v for v in columns[attr]])
            for attr, (source, compute) in derived.items():
                values = columns[source]
                known = {v: compute(None if v is ABSENT else v) for v in set(values)}
                columns[attr] = list(map(known.__getitem__, values))
            return columns

        return read

    def decode(self, data: object) -> Any:
        record = self.fast(data)
        if record is FAIL:
            return self.decode_precisely(data)
        return record

    def decode_precisely(self, data: object) -> Any:
        if not isinstance(data, Mapping):
            raise RecordError(self.label, "", f"expected a JSON object, got {types.json_name(data)}")
        unknown = [key for key in data if key not in self.by_key]
        if unknown:
            near = nearest(str(unknown[0]), self.by_key)
            hint = f"; did you mean {near}?" if near else ""
            raise RecordError(
                self.label, str(unknown[0]), f"unknown key (not a documented field of this kind{hint})"
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

    def decode_list(self, value: object) -> tuple[Any, ...]:
        """A JSON array of this class's objects (a nested list field)."""
        if type(value) is not list:
            raise _Invalid(f"expected an array, got {types.json_name(value)}")
        entries = []
        for index, item in enumerate(value):
            try:
                entries.append(self.decode(item))
            except RecordError as exc:
                raise _Invalid(exc.reason, f"[{index}].{exc.key}" if exc.key else f"[{index}]") from None
        return tuple(entries)

    def encode_list(self, entries: tuple[Any, ...]) -> list[dict[str, Any]]:
        return [self.encode(entry) for entry in entries]


def _value_decoder(field_type: types.FieldType) -> Callable[[Any], Any]:
    def decode(value: object) -> Any:
        try:
            return field_type.decode(value)
        except types.BadValue as exc:
            raise _Invalid(str(exc)) from None

    return decode


def _codec(kind: RecordKind) -> _ClassCodec:
    facts = kind.facts
    entries = entry_catalog(kind)
    nested = None
    if entries is not None and facts.entry_class is not None:
        nested = _ClassCodec(facts.entry_class, ENTRY_LABEL, tuple(entries.values()), None)
    return _ClassCodec(kind.record_class, facts.label, wire_fields(kind), nested, facts.derived)


_CODECS = {kind: _codec(kind) for kind in RecordKind}
#: A record's response encoder by its class: a page encodes every item, and a kind's enum
#: member hashes in Python (``RecordKind.of`` then ``_CODECS``: ~0.5 µs an item).
_RESPONSE_ENCODERS = {codec.cls: codec.encode_response for codec in _CODECS.values()}
assert all(len(NESTED[kind]) <= 1 for kind in RecordKind), "one list field per kind at most"


def wire_keys(kind: RecordKind) -> tuple[str, ...]:
    """Every wire key of a kind's full record form, in the documented response order."""
    return _CODECS[kind].keys


def value_encoders(kind: RecordKind) -> list[tuple[str, str, Callable[[Any], Any]]]:
    """``(attribute, wire key, encode)`` of every field of a kind, in documented order; ``encode``
    turns one present (not ``None``) attribute value into its wire value."""
    return [(f.attr, f.key, f.encode) for f in _CODECS[kind].fields]


def absent_defaults(kind: RecordKind) -> dict[str, Any]:
    """``{attribute: default}`` of each optional exact field of ``kind``: what a record holds
    where its line lacks the key, and a struct's column :data:`ABSENT` (``LineDecoder.columns``;
    the other forms' absent values are their defaults there already)."""
    return {f.attr: f.default for f in _CODECS[kind].generated if not f.required and f.type.form == "exact"}


def from_wire(kind: RecordKind, data: object, where: str = "") -> Record:
    """Decode one record of ``kind`` from its JSON object; ``where`` locates it in errors."""
    try:
        return _CODECS[kind].decode(data)  # type: ignore[no-any-return]
    except RecordError as exc:
        raise exc.located(where) if where else exc from None


def entries_from_wire(kind: RecordKind, data: object) -> tuple[Any, ...]:
    """Decode the value of ``kind``'s list field (a JSON array of entry objects); a fault is a
    :class:`RecordError` whose key is the entry's (``[1].TableName``)."""
    nested = _CODECS[kind].nested
    if nested is None:
        raise RecordError(kind.facts.label, "", "this kind has no list of entries")
    try:
        return nested.decode_list(data)
    except _Invalid as exc:
        raise RecordError(ENTRY_LABEL, exc.path, exc.reason) from None


def to_wire(record: Record) -> dict[str, Any]:
    """The full JSON object of a record, record-only keys included (the export form)."""
    return _CODECS[RecordKind.of(record)].encode(record)


def response_item(record: Record) -> dict[str, Any]:
    """The JSON object of a record as an API response item: record-only keys left out.

    ``SensitiveDataLog`` is always present in a DMS item, as ``[]`` when the record has none.
    """
    return _RESPONSE_ENCODERS[type(record)](record)


@attrs.frozen
class LineDecoder:
    """The bulk-import fast path of one kind, for one import (``generated.build_struct``):
    ``decode`` turns one JSON Lines line (bytes) into a struct, or raises
    ``msgspec.MsgspecError`` for anything the precise decoder might word differently (the caller
    then takes the precise path); ``check``, when the kind has one, says whether the store may
    read the struct (``False``: a DMS time out of range, take the precise path). ``columns``
    reads a batch of checked structs column by column as the store takes them (absent values
    :data:`ABSENT`, see ``_ClassCodec.column_reader``); ``convert`` makes one struct's record.
    Both remember equal entries as one record for the whole import."""

    kind: RecordKind
    decode: Callable[[bytes], Any]
    check: Callable[[Any], bool] | None
    columns: Callable[[Sequence[Any]], dict[str, Sequence[Any]]]
    convert: Callable[[Any], Any]


def line_decoder(kind: RecordKind, narrowing: Narrowing | None = None) -> LineDecoder:
    """The typed line decoder of ``kind`` for one import (see :class:`LineDecoder`); with
    ``narrowing``, the one it keeps narrowed."""
    codec = _CODECS[kind]
    memo: dict[Any, Any] = {}
    decode = narrowing.decode if narrowing is not None else msgspec.json.Decoder(codec.struct).decode
    return LineDecoder(kind, decode, codec.check, codec.column_reader(memo), codec.converter(memo))


#: The most distinct entries an import remembers (``_entry_runs``, ``_memo``).
ENTRY_MEMO = 1 << 16


def _memo(convert: Callable[[Any], Any], cache: dict[Any, Any]) -> Callable[[Any], Any]:
    """``convert`` of entry structs, remembering the record of each distinct struct in ``cache``
    (up to :data:`ENTRY_MEMO`): an export repeats the same few entries (a table, a column, a
    level, a rule) across its logs, and one shared record each instead of one per log spares the
    conversions, the memory, and the cyclic collector a pass over every entry ever loaded (at
    100,000 DMS logs of ~2.5 entries, a full collection took ~0.5 s before, ~0.17 s after). Equal
    structs (every field equal, each of its exact JSON type) convert to equal records."""
    get = cache.get

    def memo(struct: Any) -> Any:
        record = get(struct)
        if record is None:
            record = convert(struct)
            if record is not FAIL and len(cache) < ENTRY_MEMO:
                cache[struct] = record
        return record

    return memo


def _entry_runs(convert: Callable[[Any], Any], cache: dict[Any, Any]) -> Callable[[list[Any]], list[tuple[Any, ...]]]:
    """``lists of entry structs -> a tuple of entry records per list``, converting each distinct
    struct once (remembered in ``cache`` as :func:`_memo` does, up to :data:`ENTRY_MEMO`) and
    the rest in C: the lists flattened, looked up, and cut back into one tuple each."""

    def records(lists: list[Any]) -> list[tuple[Any, ...]]:
        flat = list(itertools.chain.from_iterable(lists))
        found = tuple(map(cache.get, flat))
        if not all(found):  # some not remembered (``None``; a record itself is always true)
            fresh = dict.fromkeys(itertools.compress(flat, map(operator.not_, found)))
            made = dict(zip(fresh, map(convert, fresh)))  # exact fields only: never FAIL
            if len(cache) + len(made) <= ENTRY_MEMO:
                cache.update(made)
                table = cache
            else:  # remembered no longer: this batch's new entries are its own (a table the batch's size)
                table = dict(zip(flat, found))
                table.update(made)
            found = tuple(map(table.__getitem__, flat))
        return runs(found, [0, *itertools.accumulate(map(len, lists))])

    return records


def runs(items: Sequence[Any], starts: Sequence[int]) -> list[tuple[Any, ...]]:
    """``items[starts[r]:starts[r + 1]]`` of each row ``r``, as tuples (in C: slices of one tuple
    of every item, so no row makes a list on its way to its tuple)."""
    whole = items if isinstance(items, tuple) else tuple(items)
    return list(map(whole.__getitem__, map(slice, starts, itertools.islice(starts, 1, None))))


_from_iso = dt.datetime.fromisoformat


#: The most values a text field may have to be narrowed (``Narrowing``).
NARROW_VALUES = 1024
#: Batches between two rebuilds of a narrowed decoder, at most (the gap doubles up to this).
_NARROW_GAP = 64


class Narrowing:
    """The typed line decoder of one kind, narrowed as an import learns the values of its text
    fields (:meth:`learn`, after each batch): a text field with at most :data:`NARROW_VALUES`
    values so far is decoded as one of them (a ``Literal`` type), so that ``msgspec`` hands back
    the very string object already known instead of a new one (and the store's intern table
    finds it by identity, without hashing a fresh string). A line with any other value fails the
    narrowed struct and is decoded again by the plain one: the two read the same lines into
    equal values, only faster when the values are known."""

    def __init__(self, kind: RecordKind) -> None:
        codec = _CODECS[kind]
        self._codec = codec
        self._plain: Callable[[bytes], Any] = msgspec.json.Decoder(codec.struct).decode
        self._first: Callable[[bytes], Any] = self._plain
        self._text = frozenset(
            f.attr for f in codec.generated if f.type.form == "exact" and f.type.json is str
        )
        self._sizes: dict[str, int] = {}
        self._batches = 0
        self._next = 0
        self._gap = 1

    def decode(self, raw: bytes) -> Any:
        """One line as a struct (narrowed when its values are known), or ``DECLINED``."""
        try:
            return self._first(raw)
        except msgspec.ValidationError:
            if self._first is self._plain:
                raise
            return self._plain(raw)

    def learn(self, known: Mapping[str, Sequence[Any]]) -> None:
        """Take the values known so far of some attributes (``attr -> values``, a store's intern
        tables): the decoder is rebuilt when those of a text field have changed, at most once per
        batch early on and then, with a doubling gap, at most every :data:`_NARROW_GAP` batches."""
        self._batches += 1
        if self._batches < self._next:
            return
        sizes = {attr: len(values) for attr, values in known.items()
                 if attr in self._text and len(values) <= NARROW_VALUES}
        if sizes == self._sizes:  # a field past the limit stays plain: its growth is not a change
            return
        self._sizes = sizes
        narrowed = {}
        for attr in sizes:
            texts = tuple(value for value in known[attr] if type(value) is str and _utf8(value))
            if texts:
                narrowed[attr] = texts
        codec = self._codec
        nested = codec.nested.struct if codec.nested is not None else None
        struct = build_struct(codec.cls, codec.generated, nested, narrowed)
        self._first = msgspec.json.Decoder(struct).decode if narrowed else self._plain
        self._next = self._batches + self._gap
        self._gap = min(2 * self._gap, _NARROW_GAP)


def _utf8(text: str) -> bool:
    """Whether ``text`` has a UTF-8 form (a lone surrogate has none: it cannot be a literal)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: What the fast path raises for a line it leaves to the precise decoder.
DECLINED = msgspec.MsgspecError
#: The values of a struct of :func:`line_decoder`, in its kind's wire field order (one C call;
#: absent values are :data:`ABSENT`).
struct_values: Callable[[Any], tuple[Any, ...]] = msgspec.structs.astuple


def struct_columns(structs: Sequence[Any]) -> dict[str, Sequence[Any]]:
    """The values of structs of one type (a batch of :func:`line_decoder`), attribute by
    attribute: ``{attr: (value of each struct, in order)}``, transposed in C."""
    fields: tuple[str, ...] = type(structs[0]).__struct_fields__
    return dict(zip(fields, zip(*map(struct_values, structs))))


__all__ = ["ABSENT", "DECLINED", "FAIL", "LineDecoder", "absent_defaults", "Narrowing", "line_decoder", "runs", "struct_columns", "struct_values"]
