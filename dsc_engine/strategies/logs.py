"""Hypothesis strategies of valid records of the three kinds, and the small realistic pools of
values they draw from (the request strategies of ``calls.py`` filter with the same pools, so that
requests often match). Public through :mod:`dsc_engine.strategies`.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from typing import Any

from hypothesis import strategies as st

from dsc_engine.models import (
    AuditLog,
    MaskingRun,
    ModuleName,
    RecordKind,
    RunStatus,
    RunType,
    SecurityLevel,
    SensitiveDataAuditLog,
    SensitiveDataEntry,
    ServiceType,
    WarnLevel,
)
from dsc_engine.models.records import Record

# ---------------------------------------------------------------------------------------------
# Value pools
# ---------------------------------------------------------------------------------------------

#: Audit CreationTime values: a few exact instants (ties likely) around September 2018.
_BASE_MS = 1_536_751_124_000
TIMES_MS = tuple(_BASE_MS + step * 60_000 for step in range(12))
USER_NAMES = ("admin", "dev01", "app_user", "readonly")
CLIENT_IPS = ("139.*.*.57", "10.*.*.94", "192.*.*.8")
CLIENT_UAS = ("mysql", "JDBC", "navicat")
INSTANCE_NAMES = ("rm-1234", "i-2zeftaaq4gqcqb9kfkzg", "rm-uf6abc")
DATABASE_NAMES = ("chngc_b2b_migration_sh", "orders", "crm")
TABLE_NAMES = ("it_table", "users", "orders", "payments")
COLUMN_NAMES = ("hide14", "phone", "id_card", "email")
PRODUCT_CODES = ("RDS", "OSS", "MaxCompute", "PolarDB")
RULE_IDS = ("9952275", "1001", "1002", "1003", "1004")
RULE_NAMES = ("name", "Drop table", "Mass export", "Sensitive read")
OPERATE_TYPES = ("Drop", "SELECT", "select", "Update", "DELETE")
SQL_TEXTS = (
    "select * from test03\n",
    "SELECT phone FROM users WHERE id = 1",
    "drop table it_table",
    "update orders set amount = 0",
    "SELECT * FROM kunden_straße",  # case folding is not lower-casing: "STRASSE" matches "straße"
)
MESSAGES = ("success", "Permission denied", "SUCCESS: 10 rows", "Größe überschritten")
OSS_KEYS = ("oss-key1", "exports/2018/users.csv")
MEMBER_ACCOUNTS = ("**********8103", "**********2201")
RULE_CATEGORIES = ("10", "11", "12")
IP_TYPES = ("default", "aliyun", "vpc")  # the two documented values and one beyond them
LOG_SOURCES = ("SLOW_SQL", "RDS_AUDIT", "OSS_ACCESS")
DB_TYPES = ("MySQL", "PostgreSQL", "SQLServer")
MODEL_NAMES = ("Identity Card", "Mobile Phone Number", "Email")
TASK_IDS = ("SDM-1001", "SDM-1002", "SDM-1003")
DMS_TIMES = tuple(
    dt.datetime(2023, 5, 17, 10, 0, 0) + dt.timedelta(minutes=7 * step) for step in range(12)
)
DB_DISPLAY_NAMES = ("crm@rm-uf6abc:3306", "orders@rm-1234:3306", "dms_test@pc-bp1:5432", "crm")
TARGET_NAMES = ("users", "orders", "SELECT * FROM users")
PERMISSION_TYPES = ("SELECT", "EXPORT", "UPDATE")
MASK_RULES = ("hash", "mask-middle", "none")
TIDS = (3000, 3001, 3002)


def _opt(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Absent (``None``) about a third of the time."""
    return st.one_of(st.none(), values, values)


def _pick(pool: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """A value of ``pool``, absent (``None``) a third of the time: ``_opt(st.sampled_from(pool))``
    in one draw instead of two (each value listed twice for every ``None``), which halves what
    drawing a record costs; ``None`` comes first, so that a failing example shrinks to absent."""
    return st.sampled_from((None,) * len(pool) + pool + pool)


def _listed(values: type[enum.Enum], beyond: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """A field whose page lists its values: a documented one mostly (4/9), now and then one
    ``beyond`` the list (2/9; records keep any value of the field's type), absent a third of the
    time; in one draw, each value listed as often as its share."""
    documented = tuple(member.value for member in values)
    d, b = len(documented), len(beyond)
    return st.sampled_from((None,) * (3 * d * b) + documented * (4 * b) + beyond * (2 * d))


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@functools.cache
def audit_logs() -> st.SearchStrategy[AuditLog]:
    """Valid DescribeAuditLogs records."""
    small = st.integers(min_value=0, max_value=5_000)
    return st.builds(
        AuditLog,
        creation_time=st.sampled_from(TIMES_MS),
        warn_level=_listed(WarnLevel, ("0", "4")),
        client_port=_pick(("35756", "3306", "50123")),
        table_name=_pick(TABLE_NAMES),
        effect_row=_opt(st.integers(min_value=0, max_value=50)),
        package_name=_pick(("test01", "pkg_prod")),
        user_id=_pick(("19********94", "28********11")),
        message=_pick(MESSAGES),
        rule_id=_pick(RULE_IDS),
        operate_type=_pick(OPERATE_TYPES),
        log_time=_pick(TIMES_MS),
        warn_level_name=st.none(),
        instance_name=_pick(INSTANCE_NAMES),
        database_name=_pick(DATABASE_NAMES),
        oss_object_key=_pick(OSS_KEYS),
        execute_status=_pick((0, 1)),
        product_id=_pick((1, 2, 5)),
        execute_time=_opt(small),
        user_name=_pick(USER_NAMES),
        instance_description=_pick(("instance dscription", "prod db")),
        rule_name=_pick(RULE_NAMES),
        column_name=_pick(COLUMN_NAMES),
        client_ip=_pick(CLIENT_IPS),
        client_ua=_pick(CLIENT_UAS),
        product_code=_pick(PRODUCT_CODES),
        sql_text=_pick(SQL_TEXTS),
        in_white_list=_pick((False, True)),
        member_account=_pick(MEMBER_ACCOUNTS),
        rule_category=_pick(RULE_CATEGORIES),
        ip_type=_pick(IP_TYPES),
        model_name=_pick(MODEL_NAMES),
        data_set=_pick(("plan_id ~ application_id", "phone ~ email")),
        log_source=_pick(LOG_SOURCES),
        instance_audit_status=_pick(("1", "2")),
        db_type=_pick(DB_TYPES),
        ram_console_link=_pick(("https://ram.console.aliyun.com/users/admin",)),
    )


# The strategies of a masking run's fields, built once: a strategy built inside a draw is built
# (and validated) again at every draw, which costs more than the draw itself.
_RUN_IDS = st.integers(min_value=1, max_value=10**6)
_RUN_SRC = _pick((*ServiceType, 6))
_RUN_DST = _pick((*ServiceType, 7))
_RUN_START = st.sampled_from(TIMES_MS)
_RUN_LENGTH = st.integers(0, 3_600_000)
_RUN_STATUS = _listed(RunStatus, (5, -2))
_RUN_TYPE = _listed(RunType, (3,))
_RUN_TABLE = _pick(TABLE_NAMES)
_RUN_MASKING_COUNT = _opt(st.integers(0, 10_000))
_RUN_PERCENTAGE = _opt(st.integers(0, 100))
_RUN_FAIL_MSG = _pick(("table not found", "timeout"))
_RUN_FAIL_CODE = _pick(("TableNotExist", "Timeout"))
_RUN_CONFLICT_COUNT = _opt(st.integers(0, 20))
_RUN_INDEX = _opt(st.integers(1, 30))
_RUN_FLAG = _pick((0, 1))
_RUN_TASK_ID = _pick(TASK_IDS)
_RUN_MAIN_PROCESS_ID = _pick((11, 12, 13))


@st.composite
def masking_runs(draw: st.DrawFn, ids: st.SearchStrategy[int] | None = None) -> MaskingRun:
    """Valid DescribeDataMaskingRunHistory records; a documented ``SrcType``/``DstType`` mostly
    comes with its code. Use :func:`record_lists` for lists with unique ``Id``s."""
    src = draw(_RUN_SRC)
    dst = draw(_RUN_DST)
    start = draw(_RUN_START)
    has_end = draw(st.booleans())
    return MaskingRun(
        id=draw(ids if ids is not None else _RUN_IDS),
        start_time=start,
        end_time=start + draw(_RUN_LENGTH) if has_end else None,
        status=draw(_RUN_STATUS),
        type=draw(_RUN_TYPE),
        src_type=_service(src),
        src_type_code=None if src is None or draw(st.booleans()) else _code(src),
        dst_type=_service(dst),
        dst_type_code=None if dst is None or draw(st.booleans()) else _code(dst),
        src_table_name=draw(_RUN_TABLE),
        masking_count=draw(_RUN_MASKING_COUNT),
        percentage=draw(_RUN_PERCENTAGE),
        fail_msg=draw(_RUN_FAIL_MSG),
        fail_code=draw(_RUN_FAIL_CODE),
        conflict_count=draw(_RUN_CONFLICT_COUNT),
        run_index=draw(_RUN_INDEX),
        has_sub_process=draw(_RUN_FLAG),
        has_download_file=draw(_RUN_FLAG),
        task_id=draw(_RUN_TASK_ID),
        main_process_id=draw(_RUN_MAIN_PROCESS_ID),
    )


def _service(drawn: ServiceType | int | None) -> int | None:
    return drawn.value if isinstance(drawn, ServiceType) else drawn


def _code(drawn: ServiceType | int) -> str:
    return drawn.code if isinstance(drawn, ServiceType) else f"Service{drawn}"


@functools.cache
def sensitive_data_entries() -> st.SearchStrategy[SensitiveDataEntry]:
    """Valid nested ``SensitiveDataLog`` entries of a DMS log."""
    return st.builds(
        SensitiveDataEntry,
        table_name=_pick(TABLE_NAMES),
        column_name=_pick(COLUMN_NAMES),
        security_level=_listed(SecurityLevel, ("Low\n", "低敏感")),
        column_permission_type=_pick(PERMISSION_TYPES),
        desensitization_rule=_pick(MASK_RULES),
    )


@functools.cache
def dms_logs() -> st.SearchStrategy[SensitiveDataAuditLog]:
    """Valid ListSensitiveDataAuditLog records with 0 to 4 nested entries."""
    return st.builds(
        SensitiveDataAuditLog,
        op_time=st.sampled_from(DMS_TIMES),
        user_name=_pick(USER_NAMES),
        user_id=_pick((51, 52, 53)),
        module_name=_listed(ModuleName, ("SQL_REVIEW",)),
        db_display_name=_pick(DB_DISPLAY_NAMES),
        instance_id=_pick((1860000, 1860001)),
        target_name=_pick(TARGET_NAMES),
        sensitive_data_log=st.lists(sensitive_data_entries(), max_size=4).map(tuple),
        tid=_pick(TIDS),
    )


def records(kind: RecordKind | str) -> st.SearchStrategy[Record]:
    """Valid records of one kind (``kind`` as a :class:`RecordKind` or its name)."""
    kind = RecordKind.parse(kind)
    if kind is RecordKind.AUDIT_LOG:
        return audit_logs()
    if kind is RecordKind.MASKING_RUN:
        return masking_runs()
    return dms_logs()


@st.composite
def record_lists(
    draw: st.DrawFn, kind: RecordKind | str, min_size: int = 0, max_size: int = 30
) -> list[Record]:
    """Lists of valid records of one kind, loadable together (masking run Ids are unique)."""
    kind = RecordKind.parse(kind)
    if kind is not RecordKind.MASKING_RUN:
        return draw(st.lists(records(kind), min_size=min_size, max_size=max_size))
    ids = draw(
        st.lists(
            _RUN_IDS,
            min_size=min_size,
            max_size=max_size,
            unique=True,
        )
    )
    return [draw(masking_runs(ids=st.just(i))) for i in ids]
