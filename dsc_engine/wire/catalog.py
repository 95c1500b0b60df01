"""The field catalog: every field of each record kind by its wire name, with its type and getter.

Names are the API's PascalCase wire names, generated once from the models' ``attrs`` fields
(snake_case -> PascalCase, with the exception table :data:`KEY_EXCEPTIONS`), and looked up
case-insensitively by the filter language. Each :class:`FieldSpec` has the field's
:class:`~dsc_engine.wire.types.FieldType` (from ``types.py``, the one place that dispatches on
types), the values its page documents (any value of the type still loads and matches,
``docs/semantics.md`` §1.3), and whether it is record-only (loaded and exported, never in a
response) or derived (a read-only property the filters use: DMS ``DbName``). A kind's list field
(``SensitiveDataLog``) has a catalog of its own for its entries (:data:`NESTED`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import operator
from collections.abc import Callable, Collection, Mapping
from typing import Any

import attrs

from dsc_engine.errors import RecordError
from dsc_engine.models.kinds import KindFacts, RecordKind
from dsc_engine.models.records import INT64_MAX, INT64_MIN, documented_values
from dsc_engine.wire import types
from dsc_engine.wire.generated import compile_function, identifier
from dsc_engine.wire.types import FieldType, Storage

#: snake_case attribute names whose wire key is not their plain PascalCase form.
KEY_EXCEPTIONS: Mapping[str, str] = {}


def wire_key(attr_name: str) -> str:
    """The PascalCase wire key of a snake_case attribute."""
    if attr_name in KEY_EXCEPTIONS:
        return KEY_EXCEPTIONS[attr_name]
    return "".join(part[:1].upper() + part[1:] for part in attr_name.split("_"))


@attrs.frozen
class FieldSpec:
    """One field: its wire name, model attribute, type and how to read it from a record."""

    name: str
    type: FieldType
    get: Callable[[Any], Any] = attrs.field(eq=False, repr=False)
    attr: str = ""
    #: the values the page lists for this field (any value of the type still matches)
    documented: tuple[Any, ...] | None = None
    required: bool = False
    record_only: bool = False
    derived: bool = False

    @property
    def storage(self) -> Storage:
        """How the store keeps this field: a type's own storage, except that integers with
        documented values (``Status``, ``SrcType`` ...) are categories, kept coded."""
        if self.documented is not None and self.type.storage is Storage.INT:
            return Storage.CODED
        return self.type.storage


Catalog = Mapping[str, FieldSpec]


def _fields_of(cls: type, facts: KindFacts | None) -> dict[str, FieldSpec]:
    fields: dict[str, FieldSpec] = {}
    for field in attrs.fields(attrs.resolve_types(cls)):
        name = wire_key(field.name)
        fields[name] = FieldSpec(
            name,
            types.type_of(field),
            operator.attrgetter(field.name),
            field.name,
            documented_values(cls, field.name),
            required=field.default is attrs.NOTHING,
            record_only=facts is not None and field.name in facts.record_only,
        )
    for attr in facts.derived if facts is not None else ():
        name = wire_key(attr)
        fields[name] = FieldSpec(name, types.STRING, operator.attrgetter(attr), attr, derived=True)
    return fields


FIELDS: Mapping[RecordKind, Catalog] = {kind: _fields_of(kind.record_class, kind.facts) for kind in RecordKind}

#: Which list field of each kind holds which entry catalog.
NESTED: Mapping[RecordKind, Mapping[str, Catalog]] = {
    kind: (
        {wire_key(kind.facts.entries): _fields_of(kind.facts.entry_class, None)}
        if kind.facts.entries is not None and kind.facts.entry_class is not None
        else {}
    )
    for kind in RecordKind
}

#: The primary time field of each kind (wire name), which orders its records (newest first).
PRIMARY_TIME: Mapping[RecordKind, str] = {kind: wire_key(kind.facts.primary_time) for kind in RecordKind}

#: The key of each kind whose records have an identity (wire name; ``KindFacts.key``).
KEY: Mapping[RecordKind, str] = {kind: wire_key(kind.facts.key) for kind in RecordKind if kind.facts.key is not None}


def check_record(kind: RecordKind, record: Any, where: str = "") -> None:
    """Refuse a record object of ``kind`` (built in Python, not decoded) whose values do not fit
    their fields as a wire object's must (``docs/semantics.md`` §1.3, §1.4): a required field
    absent, a value of another type (a ``bool`` is not an integer), an integer beyond 64 bits, an
    entry that is not an entry of the kind. :class:`RecordError` names the key.

    A record passes a function written out once per kind first (:func:`_fits_function`: one
    exact type test per field, ~1 µs); only one it does not pass is checked field by field,
    which says why (the walk costs ~10-15 µs a record, 2-5 times a whole ``Engine.load``)."""
    if not _FITS[kind](record):
        _explain(kind, record, where)


def _explain(kind: RecordKind, record: Any, where: str) -> None:
    label = kind.facts.label
    for spec in FIELDS[kind].values():
        if spec.derived:
            continue
        value = spec.get(record)
        if value is None and spec.type is not types.ENTRIES:  # a list field is never None
            if spec.required:
                raise RecordError(label, spec.name, "a required key is absent", where)
            continue
        _check(label, spec, spec.name, value, where)
        if spec.type is types.ENTRIES:
            entry_class, nested = kind.facts.entry_class, NESTED[kind][spec.name]
            for index, entry in enumerate(value):
                key = f"{spec.name}[{index}]"
                if type(entry) is not entry_class:
                    reason = f"expected a {getattr(entry_class, '__name__', 'entry')}, got {types.json_name(entry)}"
                    raise RecordError(label, key, reason, where)
                for inner in nested.values():
                    if (inner_value := inner.get(entry)) is not None:
                        _check(label, inner, f"{key}.{inner.name}", inner_value, where)


def _check(label: str, spec: FieldSpec, key: str, value: object, where: str) -> None:
    try:
        spec.type.check(value)
    except types.BadValue as exc:
        raise RecordError(label, key, str(exc), where) from None


def _fits_function(name: str, catalog: Catalog, entry_fits: str | None) -> str:
    """The source of ``name(record) -> bool``: whether every value of ``catalog`` has its type's
    exact model type (and range), stricter than :meth:`FieldType.check`, never looser."""
    lines = [f"def {name}(r):"]
    for spec in catalog.values():
        if spec.derived:
            continue
        lines.append(f"    v = r.{identifier(spec.attr)}")
        test = f"type(v) is not {spec.type.model.__name__}"
        if spec.type.bounded:
            test += f" or not {INT64_MIN} <= v <= {INT64_MAX}"
        if spec.type.model is dt.datetime:
            test += " or v.tzinfo is not None"
        if spec.required or spec.type is types.ENTRIES:  # a list field is never None: () is empty
            lines.append(f"    if {test}: return False")
        else:
            lines.append(f"    if v is not None and ({test}): return False")
        if spec.type is types.ENTRIES:
            lines.append(f"    for e in v:\n        if type(e) is not E or not {entry_fits}(e): return False")
    lines.append("    return True")
    return "\n".join(lines) + "\n"


def _fits(kind: RecordKind) -> Callable[[Any], bool]:
    namespace: dict[str, Any] = {"datetime": dt.datetime, "E": kind.facts.entry_class}
    source = ""
    entry_fits = None
    for nested in NESTED[kind].values():
        entry_fits = "fits_entry"
        source += _fits_function(entry_fits, nested, None)
    source += _fits_function("fits", FIELDS[kind], entry_fits)
    return compile_function(source, "fits", namespace)


#: Whether a record object of each kind fits its fields (the fast test of :func:`check_record`).
_FITS: Mapping[RecordKind, Callable[[Any], bool]] = {kind: _fits(kind) for kind in RecordKind}


def wire_fields(kind: RecordKind) -> tuple[FieldSpec, ...]:
    """The fields a record of ``kind`` has on the wire (record-only ones included), in the
    documented response order."""
    return tuple(spec for spec in FIELDS[kind].values() if not spec.derived)


def required_keys(kind: RecordKind) -> tuple[str, ...]:
    """The wire keys a record of ``kind`` cannot do without (what ordering needs, §1.1)."""
    return tuple(spec.name for spec in wire_fields(kind) if spec.required)


def attr_for_key(kind: RecordKind) -> dict[str, str]:
    """Wire key -> model attribute of every wire field of ``kind``."""
    return {spec.name: spec.attr for spec in wire_fields(kind)}


def entry_catalog(kind: RecordKind) -> Catalog | None:
    """The catalog of ``kind``'s nested entries, or ``None`` when the kind has no list field."""
    return next(iter(NESTED[kind].values()), None)


#: The fields ``count_by`` takes for each kind: its own, then its entries' (a DMS log's
#: ``TableName``, ``ColumnName`` ...), which it counts once per distinct value a record's entries
#: hold (``docs/cli.md``, the shell's ``count by``).
COUNTABLE: Mapping[RecordKind, Catalog] = {
    kind: {**FIELDS[kind], **{k: v for k, v in (entry_catalog(kind) or {}).items() if k not in FIELDS[kind]}}
    for kind in RecordKind
}


def nearest(name: str, known: Collection[str], cutoff: float = 0.8) -> str | None:
    """The name of ``known`` a mistyped ``name`` most likely meant, for an error's "did you mean":
    the same name in another letter case, else the closest spelling (``difflib`` at ``cutoff``),
    else none. Parameter names (``api/read.py``), record keys (``codec.py``), filter fields
    (:func:`lookup`), CSV columns and CLI actions are suggested with it."""
    folded = {k.lower(): k for k in known}
    if name.lower() in folded:
        return folded[name.lower()]
    close = difflib.get_close_matches(name.lower(), folded, n=1, cutoff=cutoff)
    return folded[close[0]] if close else None


class UnknownField(LookupError):
    """A field name that is not in a catalog; ``suggestion`` is the closest known name, if any."""

    def __init__(self, name: str, known: tuple[str, ...], suggestion: str | None) -> None:
        self.name = name
        self.known = known
        self.suggestion = suggestion
        hint = f"; did you mean {suggestion}?" if suggestion else ""
        super().__init__(f"unknown field {name!r}{hint} (fields: {', '.join(known)})")


def entry_field(nested: Mapping[str, Catalog], name: str) -> tuple[str, str] | None:
    """``(list field, entry field)`` when ``name`` names, in any case of its ASCII letters, a
    field of the entries of one of ``nested``'s list fields (a DMS log's ``TableName``), else
    ``None``: what an error about a name missing at the top says to reach it."""
    for list_field, entries in nested.items():
        try:
            return list_field, lookup(entries, name).name
        except UnknownField:
            continue
    return None


def lookup(catalog: Catalog, name: str) -> FieldSpec:
    """Find a field by name, its ASCII letters in any case; raise :class:`UnknownField` with a
    suggestion. Only ASCII letters fold: ``ſqltext`` (a long s) or ``SqlTeKt`` (a Kelvin sign)
    name no field, although Unicode case folding would make them ``sqltext``."""
    spec = catalog.get(name)
    if spec is not None:
        return spec
    if name.isascii():
        folded = name.lower()
        for key, spec in catalog.items():
            if key.lower() == folded:
                return spec
    raise UnknownField(name, tuple(catalog), nearest(name, catalog, cutoff=0.6))
