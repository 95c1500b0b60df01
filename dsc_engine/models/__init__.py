"""Domain models: the three record kinds and the value types they use."""

from dsc_engine.models.enums import (
    AssetProduct,
    IpType,
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
    "AssetProduct",
    "AuditLog",
    "IpType",
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
