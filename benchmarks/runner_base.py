"""What every runner returns, and how runners are found by name."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol

import attrs

from benchmarks.workload import Query
from dsc_engine.models import RecordKind


@attrs.frozen
class Answer:
    """A runner's answer to one query: the true total and the page's items (wire JSON)."""

    total: int
    items: list[dict[str, Any]]


class Runner(Protocol):
    name: str

    def load(self, paths: dict[RecordKind, Path]) -> dict[RecordKind, float]:
        """Load every kind's file; return the seconds each kind took."""

    def run(self, query: Query) -> Answer:
        """Answer one workload query."""


#: Runner name -> "module:class"; imported lazily so each subprocess imports only its own.
RUNNERS = {
    "dsc-engine": "benchmarks.runner_engine:EngineRunner",
    "sqlite3": "benchmarks.runner_sqlite:SqliteRunner",
    "naive": "benchmarks.runner_naive:NaiveRunner",
    "duckdb-plain": "benchmarks.runner_duckdb:DuckdbRunner",  # DuckDB used directly, hand-written SQL
    "duckdb": "benchmarks.runner_backends:DuckDBRunner",  # dsc-engine on its DuckDB backend
    "chdb": "benchmarks.runner_backends:ChdbRunner",
}


def make_runner(name: str) -> Runner:
    module, cls = RUNNERS[name].split(":")
    return getattr(importlib.import_module(module), cls)()  # type: ignore[no-any-return]
