"""The ``duckdb-plain`` runner (DuckDB used directly, not through dsc-engine; ``pip install
'dsc-engine[duckdb]'``): what a user gets
from an analytical engine with no setup. One thread (``SET threads = 1``), each file loaded with
``read_json`` (newline-delimited, the columns and their types given from the field catalog), the
load number as ``seq``, DMS entries unnested into a child table; no index (DuckDB scans with its
zone maps). The SQL is the sqlite3 runner's reading of the contract (``semantics.py``); page items
are rebuilt from the row's columns, absent (NULL) keys left out, so they can be cross-checked.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchmarks import semantics
from benchmarks.runner_base import Answer
from benchmarks.runner_sqlite import TABLES, statements
from benchmarks.semantics import Plan
from benchmarks.workload import Query
from dsc_engine.models import RecordKind
from dsc_engine.wire import types
from dsc_engine.wire.catalog import entry_catalog, wire_fields

_ENTRY_KEYS = tuple(entry_catalog(RecordKind.DMS_LOG) or ())
_SQL_TYPES = {str: "VARCHAR", int: "BIGINT", bool: "BOOLEAN"}


def _sql_type(field_type: types.FieldType) -> str:
    if field_type.form == "entries":
        members = ", ".join(f'"{key}" VARCHAR' for key in _ENTRY_KEYS)
        return f"STRUCT({members})[]"
    return _SQL_TYPES[field_type.json]


def _keys(kind: RecordKind) -> list[str]:
    return [spec.name for spec in wire_fields(kind)]


class DuckdbRunner:
    name = "duckdb-plain"

    def __init__(self) -> None:
        import duckdb

        self.db = duckdb.connect(":memory:")
        self.db.execute("SET threads = 1")

    def load(self, paths: dict[RecordKind, Path]) -> dict[RecordKind, float]:
        seconds = {}
        for kind, path in paths.items():
            start = time.perf_counter()
            table = TABLES[kind]
            columns = ", ".join(f"'{spec.name}': '{_sql_type(spec.type)}'" for spec in wire_fields(kind))
            extra = ', split_part("DbDisplayName", \'@\', 1) AS "DbName"' if kind is RecordKind.DMS_LOG else ""
            self.db.execute(
                f"CREATE TABLE {table} AS SELECT row_number() OVER () - 1 AS seq, *{extra} FROM read_json("
                f"'{path}', format = 'newline_delimited', columns = {{{columns}}})"
            )
            if kind is RecordKind.DMS_LOG:
                keys = ", ".join(f'e."{key}" AS "{key}"' for key in _ENTRY_KEYS)
                self.db.execute(
                    f"CREATE TABLE {table}_entries AS SELECT seq AS log_seq, {keys} FROM "
                    f'(SELECT seq, unnest("SensitiveDataLog") AS e FROM {table})'
                )
            seconds[kind] = time.perf_counter() - start
        return seconds

    def _sql(self, plan: Plan) -> tuple[str, str, list[Any]]:
        keys = ", ".join(f'"{key}"' for key in _keys(plan.kind))
        return statements(plan, keys, inner="*", null_false="coalesce(({}), false)")

    def run(self, query: Query) -> Answer:
        plan = semantics.plan(query)
        count, page, args = self._sql(plan)
        (total,) = self.db.execute(count, args).fetchone()  # type: ignore[misc]
        if plan.offset >= total:
            return Answer(total, [])
        rows = self.db.execute(page, [*args, plan.limit, plan.offset]).fetchall()
        keys = _keys(plan.kind)
        return Answer(total, [semantics.shape(_item(keys, row), plan) for row in rows])


def _item(keys: list[str], row: tuple[Any, ...]) -> dict[str, Any]:
    item = {}
    for key, value in zip(keys, row):
        if value is None:
            continue
        if key == "SensitiveDataLog":
            value = [{k: v for k, v in entry.items() if v is not None} for entry in value]
        item[key] = value
    return item
