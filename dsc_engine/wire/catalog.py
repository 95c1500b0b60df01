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

import difflib
import operator
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from dsc_engine.models.kinds import KindFacts, RecordKind
from dsc_engine.models.records import documented_values
from dsc_engine.wire import types
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


class UnknownField(LookupError):
    """A field name that is not in a catalog; ``suggestion`` is the closest known name, if any."""

    def __init__(self, name: str, known: tuple[str, ...], suggestion: str | None) -> None:
        self.name = name
        self.known = known
        self.suggestion = suggestion
        hint = f"; did you mean {suggestion}?" if suggestion else ""
        super().__init__(f"unknown field {name!r}{hint} (fields: {', '.join(known)})")


def lookup(catalog: Catalog, name: str) -> FieldSpec:
    """Find a field by name, case-insensitively; raise :class:`UnknownField` with a suggestion."""
    spec = catalog.get(name)
    if spec is not None:
        return spec
    folded = name.casefold()
    for key, spec in catalog.items():
        if key.casefold() == folded:
            return spec
    known = tuple(catalog)
    by_fold = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=0.6)
    raise UnknownField(name, known, by_fold[close[0]] if close else None)
