"""The sqlite3 runner: what a careful user would build with the standard library.

One in-memory table per kind (a column per scalar wire key, ``seq`` = load order as the rowid, the
record's JSON line kept in ``item``), DMS entries in a child table, and composite indexes that
serve "equality + time window, newest first". Semantics match the contract: a case-insensitive
substring is ``instr(lower(x), ?)``, a negated condition is ``NOT IFNULL(cond, 0)`` (so a record
lacking the field matches it), order is time desc then ``Id`` desc / load order desc, paging is
``LIMIT``/``OFFSET`` and the total is ``COUNT(*)``. (``lower`` folds ASCII only; the generated
data is ASCII where it is compared case-insensitively.)
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from benchmarks import semantics
from benchmarks.runner_base import Answer
from benchmarks.semantics import CONTAINS, ENTRY, EQ, IEQ, IN, RANGE, Cond, Plan
from benchmarks.workload import Query
from dsc_engine.models import RecordKind
from dsc_engine.wire.catalog import entry_catalog
from dsc_engine.wire.codec import wire_keys

_ENTRY_KEYS = tuple(entry_catalog(RecordKind.DMS_LOG) or ())

TABLES = {RecordKind.AUDIT_LOG: "audit", RecordKind.MASKING_RUN: "masking", RecordKind.DMS_LOG: "dms"}
ORDER = {
    RecordKind.AUDIT_LOG: '"CreationTime" DESC, seq DESC',
    RecordKind.MASKING_RUN: '"StartTime" DESC, "Id" DESC, seq DESC',
    RecordKind.DMS_LOG: '"OpTime" DESC, seq DESC',
}
_LISTS = {"SensitiveDataLog"}
#: Index column lists per kind; every filtered column leads one, followed by the sort key.
INDEXES = {
    RecordKind.AUDIT_LOG: [
        ('"CreationTime"', "seq"), ('"UserName"', '"CreationTime"', "seq"),
        ('"ClientIp"', '"CreationTime"', "seq"), ('"RuleId"', '"CreationTime"', "seq"),
        ('"InstanceName"', '"CreationTime"', "seq"), ('lower("OperateType")', '"CreationTime"', "seq"),
        ('"OperateType"', '"CreationTime"', "seq"), ('"EffectRow"',), ('"ExecuteTime"',),
    ],
    RecordKind.MASKING_RUN: [
        ('"StartTime"', '"Id"', "seq"), ('"TaskId"', '"StartTime"', '"Id"', "seq"),
        ('"Status"', '"StartTime"', '"Id"', "seq"), ('"MainProcessId"', '"StartTime"', '"Id"', "seq"),
        ('"SrcTableName"', '"StartTime"', '"Id"', "seq"),
        ('"SrcType"', '"DstType"', '"StartTime"', '"Id"', "seq"),
    ],
    RecordKind.DMS_LOG: [
        ('"OpTime"', "seq"), ('"UserName"', '"OpTime"', "seq"), ('"DbName"', '"OpTime"', "seq"),
        ('"ModuleName"', '"OpTime"', "seq"), ('"Tid"', '"OpTime"', "seq"),
    ],
}


def _columns(kind: RecordKind) -> list[str]:
    columns = [key for key in wire_keys(kind) if key not in _LISTS]
    return columns + (["DbName"] if kind is RecordKind.DMS_LOG else [])


def statements(
    plan: Plan, select: str, *, inner: str, null_false: str = "IFNULL(({}), 0)"
) -> tuple[str, str, list[Any]]:
    """The count and page statements of a plan, and their arguments (before LIMIT/OFFSET):
    ``select`` is what a page returns, ``inner`` what the numbered subquery of a RuleAggQuery
    (newest record per value) carries, ``null_false`` how a condition's NULL reads as false."""
    table, order = TABLES[plan.kind], ORDER[plan.kind]
    parts, args = [], []
    for cond in plan.conds:
        sql, cond_args = condition_sql(cond, table, null_false=null_false)
        parts.append(sql)
        args.extend(cond_args)
    where = (" WHERE " + " AND ".join(parts)) if parts else ""
    if plan.distinct is None:
        count = f"SELECT COUNT(*) FROM {table}{where}"
        page = f"SELECT {select} FROM {table}{where} ORDER BY {order} LIMIT ? OFFSET ?"
        return count, page, args
    key = f'"{plan.distinct}"'
    count = f"SELECT COUNT(*) FROM (SELECT 1 FROM {table}{where} GROUP BY {key})"
    page = (f"SELECT {select} FROM (SELECT {inner}, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {order}) "
            f"AS rn FROM {table}{where}) WHERE rn = 1 ORDER BY {order} LIMIT ? OFFSET ?")
    return count, page, args


def condition_sql(cond: Cond, table: str, *, null_false: str = "IFNULL(({}), 0)") -> tuple[str, list[Any]]:
    """One condition as SQL and its arguments; ``null_false`` spells "NULL counts as false" in the
    dialect (a negated condition on an absent key matches, as the contract reads it)."""
    column = f'"{cond.field}"'
    if cond.op == EQ:
        sql, args = f"{column} = ?", [cond.value]
    elif cond.op == IEQ:
        sql, args = f"lower({column}) = ?", [cond.value.lower()]
    elif cond.op == CONTAINS:
        sql, args = f"instr(lower({column}), ?) > 0", [cond.value.lower()]
    elif cond.op == IN:
        sql, args = f"{column} IN ({', '.join('?' * len(cond.value))})", list(cond.value)
    elif cond.op == RANGE:
        low, high, low_in, high_in = cond.value
        parts, args = [], []
        if low is not None:
            parts.append(f"{column} {'>=' if low_in else '>'} ?")
            args.append(low)
        if high is not None:
            parts.append(f"{column} {'<=' if high_in else '<'} ?")
            args.append(high)
        sql = " AND ".join(parts) or f"{column} IS NOT NULL"
    elif cond.op == ENTRY:
        where = " AND ".join(f'"{key}" = ?' for key, _ in cond.value)
        sql = f"{table}.seq IN (SELECT log_seq FROM {table}_entries WHERE {where})"
        args = [value for _, value in cond.value]
    else:
        raise ValueError(f"unknown condition op {cond.op}")
    if cond.negate:
        sql = "NOT " + null_false.format(sql)
    return f"({sql})", args


class SqliteRunner:
    name = "sqlite3"

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:")
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")

    def _create(self, kind: RecordKind) -> None:
        table = TABLES[kind]
        columns = ", ".join(f'"{c}"' for c in _columns(kind))
        self.db.execute(f"CREATE TABLE {table} (seq INTEGER PRIMARY KEY, {columns}, item TEXT NOT NULL)")
        if kind is RecordKind.DMS_LOG:
            entry_columns = ", ".join(f'"{c}"' for c in _ENTRY_KEYS)
            self.db.execute(f"CREATE TABLE {table}_entries (log_seq INTEGER NOT NULL, {entry_columns})")

    def _index(self, kind: RecordKind) -> None:
        table = TABLES[kind]
        for number, columns in enumerate(INDEXES[kind]):
            self.db.execute(f"CREATE INDEX {table}_i{number} ON {table} ({', '.join(columns)})")
        if kind is RecordKind.DMS_LOG:
            self.db.execute(f'CREATE INDEX {table}_e0 ON {table}_entries ("TableName", "ColumnName", log_seq)')
            self.db.execute(f'CREATE INDEX {table}_e1 ON {table}_entries ("ColumnName", log_seq)')
        self.db.execute(f"ANALYZE {table}")

    def load(self, paths: dict[RecordKind, Path]) -> dict[RecordKind, float]:
        seconds = {}
        for kind, path in paths.items():
            start = time.perf_counter()
            self._create(kind)
            table, columns = TABLES[kind], _columns(kind)
            insert = (f"INSERT INTO {table} VALUES (?, {', '.join('?' * len(columns))}, ?)")
            entries = f"INSERT INTO {table}_entries VALUES ({', '.join('?' * (len(_ENTRY_KEYS) + 1))})"
            with self.db, path.open(encoding="utf-8") as lines:
                rows, children = [], []
                for seq, line in enumerate(lines):
                    item = json.loads(line)
                    if kind is RecordKind.DMS_LOG and "DbDisplayName" in item:
                        item["DbName"] = item["DbDisplayName"].split("@", 1)[0]
                    rows.append((seq, *(item.get(c) for c in columns), line))
                    for entry in item.get("SensitiveDataLog", ()):
                        children.append((seq, *(entry.get(k) for k in _ENTRY_KEYS)))
                    if len(rows) >= 10_000:
                        self._flush(insert, rows, entries, children)
                        rows, children = [], []
                self._flush(insert, rows, entries, children)
            self._index(kind)
            seconds[kind] = time.perf_counter() - start
        return seconds

    def _flush(self, insert: str, rows: list[Any], entries: str, children: list[Any]) -> None:
        self.db.executemany(insert, rows)
        if children:
            self.db.executemany(entries, children)

    def sql(self, plan: Plan) -> tuple[str, str, list[Any]]:
        """The count and page statements of a plan, and their arguments (before LIMIT/OFFSET)."""
        return statements(plan, "item", inner='item, seq, "CreationTime"')

    def run(self, query: Query) -> Answer:
        plan = semantics.plan(query)
        count, page, args = self.sql(plan)
        (total,) = self.db.execute(count, args).fetchone()
        if plan.offset >= total:
            return Answer(total, [])
        rows = self.db.execute(page, [*args, plan.limit, plan.offset]).fetchall()
        return Answer(total, [semantics.shape(json.loads(item), plan) for (item,) in rows])

    def explain(self, query: Query) -> str:
        """sqlite's query plan of the page statement."""
        count, page, args = self.sql(semantics.plan(query))
        rows = self.db.execute(f"EXPLAIN QUERY PLAN {page}", [*args, 10, 0]).fetchall()
        return "; ".join(row[-1] for row in rows)
