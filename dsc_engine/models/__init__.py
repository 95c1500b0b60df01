"""Domain models: the three record kinds and the value types they use."""

from dsc_engine.models.enums import (
    Lang,
    ModuleName,
    RunStatus,
    RunType,
    SecurityLevel,
    ServiceType,
    WarnLevel,
)
from dsc_engine.models.kinds import RecordKind
from dsc_engine.models.records import (
    AuditLog,
    MaskingRun,
    Record,
    SensitiveDataAuditLog,
    SensitiveDataEntry,
)

__all__ = [
    "AuditLog",
    "Lang",
    "MaskingRun",
    "ModuleName",
    "Record",
    "RecordKind",
    "RunStatus",
    "RunType",
    "SecurityLevel",
    "SensitiveDataAuditLog",
    "SensitiveDataEntry",
    "ServiceType",
    "WarnLevel",
]
