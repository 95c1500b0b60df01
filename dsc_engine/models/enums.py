"""The documented values of the closed sets the API pages list, and what the engine derives from them.

These are vocabularies, not the types of record fields: a loaded record keeps whatever value of
the field's JSON type it carries (exports of other product versions hold values beyond the pages'
lists; ``docs/decisions.md``, "Open values"). The engine uses the documented values where it must
interpret one: ``WarnLevelName`` is derived from a documented ``WarnLevel``, and the request
parameters the pages list "valid values" for (``ProductId``, ``IpType``, ``Status``, ``SrcType``,
``DstType``, ``ModuleName``, ``Lang``) take only these.

Each member's ``value`` is exactly what the wire carries (``WarnLevel`` is a JSON string, the
others keep their documented JSON type).
"""

from __future__ import annotations

import enum


class WarnLevel(enum.Enum):
    """Risk level of an audit alert log; a JSON string on the wire."""

    LOW = "1"
    MEDIUM = "2"
    IMPORTANT = "3"

    def display_name(self, lang: Lang) -> str:
        """``WarnLevelName`` as the service derives it from the level and the request's Lang."""
        return _WARN_LEVEL_NAMES[lang][self]


class Lang(enum.Enum):
    """Response language of the Sddp operations."""

    ZH_CN = "zh_cn"
    EN_US = "en_us"


_WARN_LEVEL_NAMES = {
    Lang.ZH_CN: {WarnLevel.LOW: "低危", WarnLevel.MEDIUM: "中危", WarnLevel.IMPORTANT: "高危"},
    Lang.EN_US: {WarnLevel.LOW: "Low", WarnLevel.MEDIUM: "Medium", WarnLevel.IMPORTANT: "Important"},
}
#: ``WarnLevelName`` by language and level as written on the wire (one lookup per answered item).
_NAMES_BY_VALUE = {lang: {level.value: name for level, name in names.items()} for lang, names in _WARN_LEVEL_NAMES.items()}


def warn_level_name(level: str, lang: Lang) -> str | None:
    """The ``WarnLevelName`` of a documented level in ``lang``; ``None`` for any other level."""
    return _NAMES_BY_VALUE[lang].get(level)


class AssetProduct(enum.Enum):
    """The service of an audited data asset (DescribeAuditLogs ``ProductId``)."""

    MAX_COMPUTE = 1
    OSS = 2
    ADB_MYSQL = 3
    TABLE_STORE = 4
    RDS = 5
    SELF_DB = 6
    POLARDB_X = 7
    POLARDB = 8
    ADB_PG = 9
    OCEANBASE = 10
    MONGODB = 11
    REDIS = 25


class IpType(enum.Enum):
    """The network type of an audit alert log's client (DescribeAuditLogs ``IpType``)."""

    DEFAULT = "default"  # a service that is not an Alibaba Cloud service
    ALIYUN = "aliyun"  # an Alibaba Cloud service


class RunStatus(enum.Enum):
    """Execution status of a masking run."""

    PENDING = -1
    RUNNING = 0
    SUCCEEDED = 1
    FAILED = 2
    STOPPED = 3
    PARTIALLY_FAILED = 4


class RunType(enum.Enum):
    """How a masking run was started."""

    MANUAL = 1
    SCHEDULED = 2


class ServiceType(enum.Enum):
    """Source or destination service of a masking task (``SrcType``/``DstType``)."""

    MAX_COMPUTE = 1
    OSS = 2
    ADS = 3
    OTS = 4
    RDS = 5

    @property
    def code(self) -> str:
        """The service code sent beside the type (``SrcTypeCode``/``DstTypeCode``)."""
        return _SERVICE_CODES[self]


_SERVICE_CODES = {
    ServiceType.MAX_COMPUTE: "MaxCompute",
    ServiceType.OSS: "OSS",
    ServiceType.ADS: "ADS",
    ServiceType.OTS: "OTS",
    ServiceType.RDS: "RDS",
}


class ModuleName(enum.Enum):
    """DMS function module of a sensitive-data audit log."""

    SQL_CONSOLE = "SQL_CONSOLE"
    SQL_CONSOLE_EXPORT = "SQL_CONSOLE_EXPORT"
    DATA_CHANGE = "DATA_CHANGE"
    DATA_EXPORT = "DATA_EXPORT"


class SecurityLevel(enum.Enum):
    """Sensitivity level of a column in a DMS sensitive-data entry."""

    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
