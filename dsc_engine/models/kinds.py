"""The record kinds and what distinguishes them: their class and their ordering keys."""

from __future__ import annotations

import enum

from dsc_engine.models.records import AuditLog, MaskingRun, SensitiveDataAuditLog


class RecordKind(enum.Enum):
    """A record kind, named by the ``kind=`` argument of the public API and the CLI."""

    AUDIT_LOG = "audit_log"
    MASKING_RUN = "masking_run"
    DMS_LOG = "dms_log"

    @property
    def record_class(self) -> type:
        return _CLASSES[self]

    @classmethod
    def parse(cls, name: str | RecordKind) -> RecordKind:
        """Accept a kind, its value, or a friendly alias (``audit``, ``masking``, ``dms``)."""
        if isinstance(name, RecordKind):
            return name
        choices = ", ".join(k.value for k in cls)
        if not isinstance(name, str):
            raise ValueError(f"a record kind is named by a string, not {type(name).__name__} {name!r}; expected one of {choices}")
        key = name.strip().lower().replace("-", "_")
        try:
            return _ALIASES[key]
        except KeyError:
            raise ValueError(f"unknown record kind {name!r}; expected one of {choices}") from None

    @classmethod
    def of(cls, record: object) -> RecordKind:
        """The kind of a record instance."""
        return _BY_CLASS[type(record)]


_CLASSES = {
    RecordKind.AUDIT_LOG: AuditLog,
    RecordKind.MASKING_RUN: MaskingRun,
    RecordKind.DMS_LOG: SensitiveDataAuditLog,
}
_BY_CLASS = {cls: kind for kind, cls in _CLASSES.items()}
_ALIASES = {
    **{k.value: k for k in RecordKind},
    "audit": RecordKind.AUDIT_LOG,
    "audit_logs": RecordKind.AUDIT_LOG,
    "masking": RecordKind.MASKING_RUN,
    "masking_runs": RecordKind.MASKING_RUN,
    "dms": RecordKind.DMS_LOG,
    "dms_logs": RecordKind.DMS_LOG,
    "sensitive": RecordKind.DMS_LOG,
}
