"""The three record kinds, as frozen attrs classes with snake_case typed fields.

A record carries only what was loaded: every field but the ones ordering needs is optional and
``None`` means "absent" (it stays absent in responses). Fields hold the wire's own JSON types:
a field whose documented values form a closed list (``WarnLevel``, ``Status``, ``ModuleName`` ...)
is a plain ``str`` or ``int`` here and keeps any value it was loaded with (``enums.py`` lists the
documented ones). No I/O and no JSON key names live here; ``dsc_engine.wire.codec`` maps records to
and from the exact API JSON.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs

from dsc_engine.models.enums import (
    ModuleName,
    RunStatus,
    RunType,
    SecurityLevel,
    ServiceType,
    WarnLevel,
)

#: Every integer the three APIs carry is a Java ``long``: a signed 64-bit integer. Values beyond it
#: are refused on load and in requests (Java and Go clients cannot parse them).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

#: ``attrs`` metadata key of a field whose values the page lists: the enum of those values.
DOCUMENTED = "documented"
#: ``attrs`` metadata key of an integer field holding a point in time in UNIX milliseconds.
EPOCH_MS = "epoch_ms"


def epoch_ms(*, required: bool = False) -> Any:
    """An integer field holding UNIX milliseconds (filters take time literals for it)."""
    if required:
        return attrs.field(metadata={EPOCH_MS: True})
    return attrs.field(default=None, metadata={EPOCH_MS: True})


def documented(values: type[enum.Enum]) -> Any:
    """An optional field whose page lists its values (kept open: any value of the type loads)."""
    return attrs.field(default=None, metadata={DOCUMENTED: values})


def documented_values(cls: type, attr: str) -> tuple[Any, ...] | None:
    """The documented wire values of ``cls``'s field ``attr``, or ``None`` if the page lists none."""
    values = attrs.fields_dict(cls)[attr].metadata.get(DOCUMENTED)
    return None if values is None else tuple(member.value for member in values)


@attrs.frozen(kw_only=True)
class AuditLog:
    """One DescribeAuditLogs item: a Data Security Center audit alert log (36 fields).

    ``creation_time`` and the other times are UNIX milliseconds. ``warn_level_name`` is kept as
    loaded; responses derive it from a documented ``warn_level`` and the request's Lang.
    """

    creation_time: int = epoch_ms(required=True)
    warn_level: str | None = documented(WarnLevel)
    client_port: str | None = None
    table_name: str | None = None
    effect_row: int | None = None
    package_name: str | None = None
    user_id: str | None = None
    message: str | None = None
    rule_id: str | None = None
    operate_type: str | None = None
    log_time: int | None = epoch_ms()
    warn_level_name: str | None = None
    instance_name: str | None = None
    database_name: str | None = None
    oss_object_key: str | None = None
    execute_status: int | None = None
    product_id: int | None = None
    execute_time: int | None = None
    user_name: str | None = None
    instance_description: str | None = None
    rule_name: str | None = None
    column_name: str | None = None
    client_ip: str | None = None
    client_ua: str | None = None
    product_code: str | None = None
    sql_text: str | None = None
    in_white_list: bool | None = None
    member_account: str | None = None
    rule_category: str | None = None
    ip_type: str | None = None
    model_name: str | None = None
    data_set: str | None = None
    log_source: str | None = None
    instance_audit_status: str | None = None
    db_type: str | None = None
    ram_console_link: str | None = None


@attrs.frozen(kw_only=True)
class MaskingRun:
    """One DescribeDataMaskingRunHistory item: a run of a static data masking task.

    ``main_process_id`` is the main task the run belongs to (a record-only field: it is filterable
    but never sent back). Times are UNIX milliseconds. ``src_type_code``/``dst_type_code`` are
    kept as loaded, not checked against the types (they only describe).
    """

    status: int | None = documented(RunStatus)
    type: int | None = documented(RunType)
    src_type: int | None = documented(ServiceType)
    src_table_name: str | None = None
    masking_count: int | None = None
    percentage: int | None = None
    dst_type: int | None = documented(ServiceType)
    fail_msg: str | None = None
    fail_code: str | None = None
    conflict_count: int | None = None
    dst_type_code: str | None = None
    end_time: int | None = epoch_ms()
    run_index: int | None = None
    start_time: int = epoch_ms(required=True)
    has_sub_process: int | None = None
    has_download_file: int | None = None
    task_id: str | None = None
    src_type_code: str | None = None
    id: int
    main_process_id: int | None = None


@attrs.frozen(kw_only=True)
class SensitiveDataEntry:
    """One nested ``SensitiveDataLog`` entry of a DMS sensitive-data audit log."""

    table_name: str | None = None
    column_name: str | None = None
    security_level: str | None = documented(SecurityLevel)
    column_permission_type: str | None = None
    desensitization_rule: str | None = None


@attrs.frozen(kw_only=True)
class SensitiveDataAuditLog:
    """One ListSensitiveDataAuditLog item with its nested entries.

    ``op_time`` is a naive wall-clock time (the API sends ``yyyy-MM-dd HH:mm:ss`` with no zone).
    ``tid`` is the tenant the log belongs to: filterable, never sent back.
    """

    user_name: str | None = None
    user_id: int | None = None
    module_name: str | None = documented(ModuleName)
    db_display_name: str | None = None
    op_time: dt.datetime
    instance_id: int | None = None
    target_name: str | None = None
    sensitive_data_log: tuple[SensitiveDataEntry, ...] = ()
    tid: int | None = None

    @property
    def db_name(self) -> str | None:
        """The database part of ``db_display_name`` (before ``@``), which the DbName filter uses."""
        return database_name(self.db_display_name)


def database_name(display_name: str | None) -> str | None:
    """The database part of a DMS ``DbDisplayName`` (``name@host:port``): the text before the
    first ``@`` (all of it when there is none)."""
    if display_name is None:
        return None
    return display_name.split("@", 1)[0]


Record = AuditLog | MaskingRun | SensitiveDataAuditLog
