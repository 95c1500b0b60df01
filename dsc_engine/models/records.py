"""The three record kinds, as frozen attrs classes with snake_case typed fields.

A record carries only what was loaded: every field but the ones ordering needs is optional and
``None`` means "absent" (it stays absent in responses). No I/O and no JSON key names live here;
``dsc_engine.io.wire`` maps records to and from the exact API JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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


@attrs.frozen(kw_only=True)
class AuditLog:
    """One DescribeAuditLogs item: a Data Security Center audit alert log (36 fields).

    ``creation_time`` and the other times are UNIX milliseconds. ``warn_level_name`` is kept as
    loaded, but responses derive it from ``warn_level`` and the request's Lang.
    """

    creation_time: int
    warn_level: WarnLevel | None = None
    client_port: str | None = None
    table_name: str | None = None
    effect_row: int | None = None
    package_name: str | None = None
    user_id: str | None = None
    message: str | None = None
    rule_id: str | None = None
    operate_type: str | None = None
    log_time: int | None = None
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


class InvariantError(ValueError):
    """A record's fields contradict each other; ``attr`` is the field found at fault."""

    def __init__(self, attr: str, reason: str) -> None:
        self.attr = attr
        self.reason = reason
        super().__init__(f"{attr}: {reason}")


def _code_matches(type_field: str) -> Callable[[Any, Any, str | None], None]:
    """Validator: a service code sent beside its type must be that type's code."""

    def check(instance: Any, attribute: Any, value: str | None) -> None:
        service = getattr(instance, type_field)
        if value is not None and service is not None and value != service.code:
            raise InvariantError(
                attribute.name,
                f"{value!r} does not match the service type {service.value} "
                f"(whose code is {service.code!r})",
            )

    return check


@attrs.frozen(kw_only=True)
class MaskingRun:
    """One DescribeDataMaskingRunHistory item: a run of a static data masking task.

    ``main_process_id`` is the main task the run belongs to (a record-only field: it is filterable
    but never sent back). Times are UNIX milliseconds.
    """

    status: RunStatus | None = None
    type: RunType | None = None
    src_type: ServiceType | None = None
    src_table_name: str | None = None
    masking_count: int | None = None
    percentage: int | None = None
    dst_type: ServiceType | None = None
    fail_msg: str | None = None
    fail_code: str | None = None
    conflict_count: int | None = None
    dst_type_code: str | None = attrs.field(
        default=None, validator=_code_matches("dst_type")
    )
    end_time: int | None = None
    run_index: int | None = None
    start_time: int
    has_sub_process: int | None = None
    has_download_file: int | None = None
    task_id: str | None = None
    src_type_code: str | None = attrs.field(
        default=None, validator=_code_matches("src_type")
    )
    id: int
    main_process_id: int | None = None


@attrs.frozen(kw_only=True)
class SensitiveDataEntry:
    """One nested ``SensitiveDataLog`` entry of a DMS sensitive-data audit log."""

    table_name: str | None = None
    column_name: str | None = None
    security_level: SecurityLevel | None = None
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
    module_name: ModuleName | None = None
    db_display_name: str | None = None
    op_time: dt.datetime
    instance_id: int | None = None
    target_name: str | None = None
    sensitive_data_log: tuple[SensitiveDataEntry, ...] = ()
    tid: int | None = None

    @property
    def db_name(self) -> str | None:
        """The database part of ``db_display_name`` (before ``@``), which the DbName filter uses."""
        if self.db_display_name is None:
            return None
        return self.db_display_name.split("@", 1)[0]


Record = AuditLog | MaskingRun | SensitiveDataAuditLog
