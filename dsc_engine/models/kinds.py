"""The record kinds and the facts that belong to each: class, ordering keys, identity, list field,
the fields a record carries but no response sends.

Everything generic (the wire codec, the field catalog, the store, imports and snapshots) reads
these facts instead of testing ``if kind is ...`` (``docs/architecture.md``).
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from dsc_engine.models.records import (
    AuditLog,
    MaskingRun,
    Record,
    SensitiveDataAuditLog,
    SensitiveDataEntry,
    database_name,
)


@attrs.frozen(kw_only=True)
class KindFacts:
    """What distinguishes one record kind (attribute names are the models' snake_case names).

    ``primary_time`` orders records newest first and ``tie_break`` (if any) breaks ties,
    descending, before load order does (``docs/semantics.md`` §5.1). ``key``, of a kind whose
    records have an identity (masking runs: ``id``), is the attribute holding it: no two records
    the engine holds share one, and a load skips a record whose key is held when identical and
    refuses it when not (``docs/formats.md``, "Duplicates"); a kind without (``None``) is told
    apart by its records' whole content instead. ``entries`` names the list
    field of nested ``entry_class`` records. ``record_only`` fields load, filter and export but
    are never sent in a response; ``derived`` are read-only properties the filters use, each
    with the attribute it is computed from and how (``value -> derived value``), so that a bulk
    load computes a column of them once per distinct value.
    """

    record_class: type
    label: str
    primary_time: str
    tie_break: str | None = None
    key: str | None = None
    entries: str | None = None
    entry_class: type | None = None
    record_only: frozenset[str] = frozenset()
    derived: Mapping[str, tuple[str, Callable[[Any], Any]]] = attrs.field(factory=lambda: MappingProxyType({}), hash=False)
    aliases: tuple[str, ...] = ()

    @property
    def short_name(self) -> str:
        """The kind's name in the CLI and in messages (``audit``, ``masking``, ``dms``): its first alias."""
        return self.aliases[0]

    @property
    def required(self) -> tuple[str, ...]:
        """The fields a record cannot do without (those without a default), in field order."""
        return tuple(f.name for f in attrs.fields(self.record_class) if f.default is attrs.NOTHING)


class RecordKind(enum.Enum):
    """A record kind, named by the ``kind=`` argument of the public API and the CLI."""

    AUDIT_LOG = "audit_log"
    MASKING_RUN = "masking_run"
    DMS_LOG = "dms_log"

    @property
    def facts(self) -> KindFacts:
        return _FACTS[self]

    @property
    def record_class(self) -> type:
        return _FACTS[self].record_class

    @classmethod
    def parse(cls, name: str | RecordKind) -> RecordKind:
        """Accept a kind, its value, or a friendly alias (``audit``, ``masking``, ``dms``)."""
        if isinstance(name, RecordKind):
            return name
        choices = (f"{short_names()} "
                   f"(or {', '.join(k.value for k in cls)})")
        if not isinstance(name, str):
            raise ValueError(
                f"a record kind is named by a string, not {type(name).__name__} {name!r}; "
                f"expected one of {choices}"
            )
        key = name.strip().lower().replace("-", "_")
        try:
            return _ALIASES[key]
        except KeyError:
            near = difflib.get_close_matches(key, _ALIASES, n=1)
            hint = f"; did you mean {_ALIASES[near[0]].facts.short_name}?" if near else ""
            raise ValueError(f"unknown record kind {name!r}; expected one of {choices}{hint}") from None

    @classmethod
    def parse_all(cls, names: str | RecordKind | Iterable[str | RecordKind]) -> frozenset[RecordKind]:
        """The kinds of ``names``, each as :meth:`parse` takes it (one name alone is one kind);
        ``ValueError`` for a bad name, anything that is neither a name nor names, or no name."""
        if isinstance(names, str | RecordKind | bytes) or not isinstance(names, Iterable):
            return frozenset((cls.parse(names),))  # parse words the refusal of a non-name
        kinds = frozenset(map(cls.parse, names))
        if not kinds:
            raise ValueError(f"no record kind given; expected some of {', '.join(k.value for k in cls)}")
        return kinds

    @classmethod
    def of(cls, record: object) -> RecordKind:
        """The kind of a record instance (``KeyError`` for anything that is not a record)."""
        return _BY_CLASS[type(record)]


_FACTS: Mapping[RecordKind, KindFacts] = {
    RecordKind.AUDIT_LOG: KindFacts(
        record_class=AuditLog,
        label="audit log",
        primary_time="creation_time",
        aliases=("audit", "audit_logs"),
    ),
    RecordKind.MASKING_RUN: KindFacts(
        record_class=MaskingRun,
        label="masking run",
        primary_time="start_time",
        tie_break="id",
        key="id",
        record_only=frozenset({"main_process_id"}),
        aliases=("masking", "masking_runs"),
    ),
    RecordKind.DMS_LOG: KindFacts(
        record_class=SensitiveDataAuditLog,
        label="sensitive-data audit log",
        primary_time="op_time",
        entries="sensitive_data_log",
        entry_class=SensitiveDataEntry,
        record_only=frozenset({"tid"}),
        derived=MappingProxyType({"db_name": ("db_display_name", database_name)}),
        aliases=("dms", "dms_logs", "sensitive"),
    ),
}
_BY_CLASS: Mapping[type, RecordKind] = {facts.record_class: kind for kind, facts in _FACTS.items()}
_KEYED = tuple(kind for kind in RecordKind if _FACTS[kind].key is not None)
_ALIASES: Mapping[str, RecordKind] = {
    **{kind.value: kind for kind in RecordKind},
    **{alias: kind for kind, facts in _FACTS.items() for alias in facts.aliases},
}


def keyed_kinds() -> tuple[RecordKind, ...]:
    """The kinds whose records have an identity (``KindFacts.key``), in kind order."""
    return _KEYED


def short_names() -> str:
    """Every kind's short name, in kind order: ``audit, masking, dms``."""
    return ", ".join(kind.facts.short_name for kind in RecordKind)


__all__ = ["KindFacts", "Record", "RecordKind"]
