"""The naive runner: what a user writes in an afternoon. A list of dicts per kind (``json.loads``
of each line), and for every query: filter with a Python predicate, sort, slice."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import semantics
from benchmarks.runner_base import Answer
from benchmarks.semantics import CONTAINS, ENTRY, EQ, IEQ, IN, RANGE, Cond, Plan
from benchmarks.workload import Query
from dsc_engine.models import RecordKind

Row = dict[str, Any]


def _value(field: str) -> Callable[[Row], Any]:
    if field == "DbName":
        def db_name(row: Row) -> Any:
            shown = row.get("DbDisplayName")
            return None if shown is None else shown.split("@", 1)[0]
        return db_name
    return lambda row: row.get(field)


def _test(cond: Cond) -> Callable[[Row], bool]:
    get = _value(cond.field)
    if cond.op == EQ:
        return lambda row: get(row) == cond.value
    if cond.op == IEQ:
        folded = cond.value.casefold()
        return lambda row: (v := get(row)) is not None and v.casefold() == folded
    if cond.op == CONTAINS:
        needle = cond.value.casefold()
        return lambda row: (v := get(row)) is not None and needle in v.casefold()
    if cond.op == IN:
        members = set(cond.value)
        return lambda row: get(row) in members
    if cond.op == RANGE:
        low, high, low_in, high_in = cond.value

        def in_range(row: Row) -> bool:
            v = get(row)
            if v is None:
                return False
            if low is not None and (v < low if low_in else v <= low):
                return False
            return high is None or (v <= high if high_in else v < high)
        return in_range
    if cond.op == ENTRY:
        pairs = cond.value
        return lambda row: any(all(e.get(k) == want for k, want in pairs)
                               for e in row.get("SensitiveDataLog", ()))
    raise ValueError(f"unknown condition op {cond.op}")


def _predicate(plan: Plan) -> Callable[[Row], bool]:
    tests = []
    for cond in plan.conds:
        test = _test(cond)
        tests.append((lambda t: lambda row: not t(row))(test) if cond.negate else test)
    return lambda row: all(t(row) for t in tests)


_SORT_KEYS: dict[RecordKind, Callable[[Row, int], tuple[Any, ...]]] = {
    RecordKind.AUDIT_LOG: lambda row, seq: (row["CreationTime"], seq),
    RecordKind.MASKING_RUN: lambda row, seq: (row["StartTime"], row["Id"], seq),
    RecordKind.DMS_LOG: lambda row, seq: (row["OpTime"], seq),
}


class NaiveRunner:
    name = "naive"

    def __init__(self) -> None:
        self.rows: dict[RecordKind, list[Row]] = {}

    def load(self, paths: dict[RecordKind, Path]) -> dict[RecordKind, float]:
        seconds = {}
        for kind, path in paths.items():
            start = time.perf_counter()
            with path.open(encoding="utf-8") as lines:
                self.rows[kind] = [json.loads(line) for line in lines]
            seconds[kind] = time.perf_counter() - start
        return seconds

    def run(self, query: Query) -> Answer:
        plan = semantics.plan(query)
        rows = self.rows[plan.kind]
        matches = _predicate(plan)
        key = _SORT_KEYS[plan.kind]
        hits = [(key(row, seq), row) for seq, row in enumerate(rows) if matches(row)]
        hits.sort(key=lambda pair: pair[0], reverse=True)
        ordered = [row for _, row in hits]
        if plan.distinct is not None:
            seen: set[Any] = set()
            unique = []
            for row in ordered:
                value = row.get(plan.distinct)
                if value not in seen:
                    seen.add(value)
                    unique.append(row)
            ordered = unique
        page = ordered[plan.offset:plan.offset + plan.limit]
        return Answer(len(ordered), [semantics.shape(row, plan) for row in page])
