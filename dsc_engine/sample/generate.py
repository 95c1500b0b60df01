"""A deterministic, seeded generator of realistic records of all three kinds.

The same ``(kind, n, seed)`` always gives the same records, on every machine: only
``random.Random(seed)`` is used, and time is counted from a fixed epoch, not the clock.

What makes the data realistic enough to test and benchmark with:

- users, client IPs and instances follow Zipf-like popularity (a few are very common);
- ``EffectRow`` and ``ExecuteTime`` are heavily skewed (most statements are fast and touch few rows);
- SQL texts come from templates over realistic tables, with a few injection-looking ones;
- timestamps spread over 30 days, at whole seconds, so equal timestamps occur;
- masking runs belong to tasks, some main tasks with subtask runs (``MainProcessId``);
- DMS logs carry 1 to 4 nested sensitive-data entries.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

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

T = TypeVar("T")

#: The end of the generated 30-day window: 2026-11-01 00:00:00 UTC.
EPOCH_END = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
WINDOW_SECONDS = 30 * 24 * 3600
DEFAULT_SEED = 20261101


class _Zipf(Generic[T]):
    """Draw from a pool with weights 1/rank**s (rank 1 the most popular)."""

    def __init__(self, pool: Sequence[T], s: float = 1.1) -> None:
        self.pool = list(pool)
        self.cum = list(itertools.accumulate(1.0 / (rank**s) for rank in range(1, len(pool) + 1)))

    def draw(self, rng: random.Random) -> T:
        return rng.choices(self.pool, cum_weights=self.cum)[0]


_FIRST = ["li", "wang", "zhang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu", "xu", "sun"]
_ROLE = ["admin", "dev", "ops", "etl", "bi", "app", "audit", "dba", "report", "svc"]
_TABLES = [
    "orders", "customers", "payments", "users", "accounts", "invoices", "refunds", "addresses",
    "it_table", "audit_trail", "products", "shipments", "employees", "salaries", "cards",
]
_COLUMNS = [
    "id", "name", "phone", "email", "id_card", "address", "amount", "card_no", "birthday",
    "salary", "status", "created_at", "bank_account", "passport_no",
]
_DATABASES = [
    "bose_o2o_data", "chngc_b2b_migration_sh", "crm_prod", "billing", "hr_core", "dw_ods",
    "risk_ctrl", "app_main",
]
_OPERATIONS = ["Select", "Select", "Select", "Select", "Insert", "Update", "Delete", "Drop", "Create"]
_CLIENTS = ["mysql", "mysql", "JDBC", "navicat", "DataGrip", "python-pymysql", "dms", "odpscmd"]
_PRODUCTS = [(5, "RDS"), (5, "RDS"), (5, "RDS"), (1, "MaxCompute"), (2, "OSS"), (3, "ADS"), (8, "PolarDB")]
_DB_TYPES = {"RDS": "MySQL", "MaxCompute": "MaxCompute", "OSS": "OSS", "ADS": "ADB-MySQL", "PolarDB": "PolarDB"}
_RULES = [
    ("994007", "bulk_export_sensitive", "10"),
    ("9952275", "drop_table_prod", "10"),
    ("994011", "sql_injection_pattern", "20"),
    ("994015", "off_hours_access", "10"),
    ("994020", "high_risk_delete", "30"),
    ("994031", "plaintext_id_card_read", "20"),
    ("994042", "privileged_account_login", "30"),
    ("994057", "large_result_set", "10"),
]
_MODELS = ["Identity Card", "Mobile Phone", "Bank Card", "Email", "Address", "Name", "Passport"]
_INJECTIONS = [
    "select * from users where name = '' or '1'='1'",
    "select * from accounts where id = 1; drop table accounts; --",
    "select name from customers where id = 1 union select password from admin_users",
    "select * from orders where id = 1 and sleep(5)",
    "SELECT * FROM users WHERE email LIKE '%' OR 1=1 -- '",
]
_PERMISSIONS = ["No permission", "Partial redaction", "Plaintext", "Change"]
_MASK_RULES = ["Default - Full redaction", "Partial - Keep first 3", "Hash - SHA256", "None"]


def _users(n: int) -> list[str]:
    names = [f"{a}_{b}" for a, b in itertools.product(_FIRST, _ROLE)]
    return (["admin", "root"] + names)[:n]


class _Pools:
    """Zipf-distributed pools shared by the generators of one seed."""

    def __init__(self, rng: random.Random) -> None:
        users = _users(120)
        self.users = _Zipf(users)
        self.user_ids = {user: f"19{rng.randrange(10**12):012d}" for user in users}
        ips = [f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(400)]
        self.ips = _Zipf(ips)
        instances = [f"rm-{rng.getrandbits(48):012x}" for _ in range(40)]
        self.instances = _Zipf(instances, s=0.9)
        self.tables = _Zipf(_TABLES)
        self.databases = _Zipf(_DATABASES)
        self.rules = _Zipf(_RULES, s=0.8)


def _seconds_ago(rng: random.Random) -> int:
    """Whole seconds back from the window's end; recent times a little more likely."""
    return int(WINDOW_SECONDS * (rng.random() ** 1.3))


def _sql(rng: random.Random, op: str, table: str, column: str) -> str:
    if rng.random() < 0.02:
        return rng.choice(_INJECTIONS)
    limit = rng.choice([10, 100, 1000, 5000])
    key = rng.randrange(1, 10**6)
    if op == "Select":
        return rng.choice([
            f"select * from {table} where id = {key}",
            f"select {column}, id from {table} where created_at > '2026-10-0{rng.randrange(1, 10)}' limit {limit}",
            f"SELECT count(*) FROM {table} GROUP BY {column}",
            f"select * from {table} order by id desc limit {limit}",
        ])
    if op == "Insert":
        return f"insert into {table} ({column}) values ('v{key}')"
    if op == "Update":
        return f"update {table} set {column} = 'v{key}' where id = {key}"
    if op == "Delete":
        return f"delete from {table} where id < {key}"
    if op == "Drop":
        return f"drop table {table}_bak{rng.randrange(10)}"
    return f"create table {table}_tmp{rng.randrange(100)} as select * from {table}"


def _audit_log(rng: random.Random, pools: _Pools, index: int) -> AuditLog:
    created = int((EPOCH_END.timestamp() - _seconds_ago(rng)) * 1000)
    op = rng.choice(_OPERATIONS)
    table, column = pools.tables.draw(rng), rng.choice(_COLUMNS)
    rule_id, rule_name, category = pools.rules.draw(rng)
    product_id, product_code = rng.choice(_PRODUCTS)
    effect = int(rng.paretovariate(1.2)) - 1 if rng.random() < 0.9 else rng.randrange(10_000, 2_000_000)
    execute = int(rng.lognormvariate(3.0, 1.6))
    level = rng.choices(list(WarnLevel), weights=[6, 3, 1])[0]
    user = pools.users.draw(rng)
    return AuditLog(
        creation_time=created,
        warn_level=level.value,
        client_port=str(rng.randrange(1024, 65536)),
        table_name=table,
        effect_row=effect,
        package_name=f"pkg_{table}" if product_code == "MaxCompute" else None,
        user_id=pools.user_ids[user],
        message=rng.choices(["success", "failed", "timeout"], weights=[90, 8, 2])[0],
        rule_id=rule_id,
        operate_type=op,
        log_time=created - rng.randrange(0, 5000),
        instance_name=pools.instances.draw(rng),
        database_name=pools.databases.draw(rng),
        oss_object_key=f"exports/{table}/{index}.csv" if product_code == "OSS" else None,
        execute_status=1 if rng.random() < 0.95 else 0,
        product_id=product_id,
        execute_time=execute,
        user_name=user,
        instance_description=f"{product_code} instance for {table}",
        rule_name=rule_name,
        column_name=column,
        client_ip=pools.ips.draw(rng),
        client_ua=rng.choice(_CLIENTS),
        product_code=product_code,
        sql_text=_sql(rng, op, table, column),
        in_white_list=rng.random() < 0.05,
        member_account=f"**********{rng.randrange(10000):04d}" if rng.random() < 0.3 else None,
        rule_category=category,
        ip_type="aliyun" if rng.random() < 0.2 else "default",
        model_name=rng.choice(_MODELS),
        data_set=f"{column} ~ id ~ {table}_id" if rng.random() < 0.4 else None,
        log_source=rng.choice(["SLOW_SQL", "AUDIT", "AUDIT", "AUDIT"]),
        instance_audit_status=rng.choice(["1", "2", "2"]),
        db_type=_DB_TYPES[product_code],
        ram_console_link=None,
    )


def _masking_runs(rng: random.Random, pools: _Pools, n: int) -> list[MaskingRun]:
    runs: list[MaskingRun] = []
    next_id = 1
    while len(runs) < n:
        task_id = f"mt{rng.getrandbits(40):010x}"
        src, dst = rng.choice(list(ServiceType)), rng.choice(list(ServiceType))
        table = pools.tables.draw(rng)
        start = int((EPOCH_END.timestamp() - _seconds_ago(rng) * 0.9 - 60) * 1000)
        subtasks = rng.choice([0, 0, 0, 2, 3, 4])
        main_id = next_id
        for run_index in range(1, rng.randrange(1, 4) + 1):
            for sub in range(subtasks + 1):
                if len(runs) >= n:
                    break
                status = rng.choices(list(RunStatus), weights=[2, 3, 30, 4, 1, 2])[0]
                failed = status in (RunStatus.FAILED, RunStatus.PARTIALLY_FAILED)
                duration = int(rng.lognormvariate(10, 1.2))
                masked = int(rng.paretovariate(1.1) * 100)
                # later runs of a task come a day apart, all inside the 30-day window
                run_start = start - (3 - run_index) * 86_400_000 + sub * 1000
                runs.append(MaskingRun(
                    id=next_id,
                    start_time=run_start,
                    status=status.value,
                    type=(RunType.SCHEDULED if rng.random() < 0.6 else RunType.MANUAL).value,
                    src_type=src.value,
                    src_type_code=src.code,
                    src_table_name=table if sub == 0 else f"{table}_part{sub}",
                    masking_count=masked,
                    percentage=100 if status is RunStatus.SUCCEEDED else rng.randrange(0, 100),
                    dst_type=dst.value,
                    dst_type_code=dst.code,
                    fail_msg="column type mismatch" if failed else None,
                    fail_code="masking_task_not_found" if failed else None,
                    conflict_count=rng.choice([0, 0, 0, rng.randrange(1, 50)]),
                    end_time=None if status in (RunStatus.PENDING, RunStatus.RUNNING) else run_start + duration,
                    run_index=run_index,
                    has_sub_process=subtasks if sub == 0 else 0,
                    has_download_file=1 if dst is ServiceType.OSS else 0,
                    task_id=task_id,
                    main_process_id=main_id if sub > 0 else None,
                ))
                next_id += 1
    rng.shuffle(runs)  # exports are not in Id order; the store orders them
    return runs


def _dms_log(rng: random.Random, pools: _Pools, index: int) -> SensitiveDataAuditLog:
    when = EPOCH_END.replace(tzinfo=None) - dt.timedelta(seconds=_seconds_ago(rng))
    database = pools.databases.draw(rng)
    table = pools.tables.draw(rng)
    entries = tuple(
        SensitiveDataEntry(
            table_name=table if i == 0 or rng.random() < 0.5 else pools.tables.draw(rng),
            column_name=column,
            security_level=rng.choices(list(SecurityLevel), weights=[5, 3, 2])[0].value,
            column_permission_type=rng.choice(_PERMISSIONS),
            desensitization_rule=rng.choice(_MASK_RULES),
        )
        for i, column in enumerate(rng.sample(_COLUMNS, rng.randrange(1, 5)))
    )
    module = rng.choices(list(ModuleName), weights=[6, 2, 1, 1])[0]
    ticket = rng.randrange(10**6, 10**7)
    return SensitiveDataAuditLog(
        user_name=pools.users.draw(rng),
        user_id=rng.randrange(100, 10_000),
        module_name=module.value,
        db_display_name=f"{database}@{pools.ips.draw(rng)}:3306",
        op_time=when,
        instance_id=rng.randrange(100_000, 100_050),
        target_name=f"Ticket - {ticket}" if module is not ModuleName.SQL_CONSOLE else f"{table} ({ticket})",
        sensitive_data_log=entries,
        tid=rng.choice([3000, 3000, 3000, 3001, 3002]),
    )


def generate(kind: RecordKind | str, n: int, seed: int = DEFAULT_SEED) -> list[Record]:
    """``n`` realistic records of ``kind``, the same for the same ``(kind, n, seed)``."""
    return list(iterate(kind, n, seed))


def iterate(kind: RecordKind | str, n: int, seed: int = DEFAULT_SEED) -> Iterator[Record]:
    """The records of :func:`generate`, one at a time (audit and DMS logs are never all in memory
    at once, for data sets larger than memory). A bad ``kind`` or ``n`` (not an ``int`` of 0 or
    more) is a ``ValueError`` at the call."""
    kind = RecordKind.parse(kind)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n: the number of records is an integer of 0 or more, not {n!r}")
    return _records(kind, n, seed)


def _records(kind: RecordKind, n: int, seed: int) -> Iterator[Record]:
    rng = random.Random(f"{kind.value}:{seed}")
    pools = _Pools(random.Random(seed))
    if kind is RecordKind.MASKING_RUN:
        yield from _masking_runs(rng, pools, n)
        return
    make: Callable[[random.Random, _Pools, int], Record] = (
        _audit_log if kind is RecordKind.AUDIT_LOG else _dms_log
    )
    for i in range(n):
        yield make(rng, pools, i)
